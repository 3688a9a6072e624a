/* JSON arrays read straight into tensor storage (the parse fast path).
 *
 * One pass over nested arrays: numbers are converted as they are met and
 * appended to a growing managed block of the target dtype, so a 1000x1000
 * matrix costs one number conversion per element and a logarithmic number
 * of block growths, with no value object per element. The shape is learned
 * from the first array closed at each level; every later array at that
 * level must match it, and every number must sit at the same depth, which
 * is what "rectangular" means. The first violation is reported with the
 * JSON Pointer of the offending element. */
#include "internal.h"

#include <float.h>
#include <stdio.h>
#include <string.h>

typedef struct tensor_reader {
  brt_dtype dtype;
  size_t element_size;
  unsigned char *data; /* managed block, or NULL before the first element */
  size_t count, capacity; /* in elements */
  size_t ndim;            /* 0 until the leaf depth is known */
  size_t shape[BRT_TENSOR_MAX_DIMS];
  bool shape_known[BRT_TENSOR_MAX_DIMS];
  size_t index[BRT_TENSOR_MAX_DIMS]; /* position at each open level */
  size_t level;                      /* arrays currently open */
} tensor_reader;

bool _brt_json_tensor_requested(const json_parser *p) {
  const unsigned char *s = p->cur;
  while (s < p->end && (*s == '[' || *s == ' ' || *s == '\n' || *s == '\r' || *s == '\t')) s++;
  if (s >= p->end) return false;
  if (*s == '-' || (*s >= '0' && *s <= '9')) return true;
  return p->tensor_dtype == BRT_DTYPE_BOOL && (*s == 't' || *s == 'f');
}

static brt_value *reader_fail(json_parser *p, const tensor_reader *r, size_t levels,
                              const unsigned char *at, brt_status status, const char *what) {
  char pointer[256];
  _brt_json_pointer(p, r->index, levels, pointer, sizeof pointer);
  return _brt_json_fail(p, at, status, "%s: %s (tensor of %s requested)", pointer, what,
                        brt_dtype_name(r->dtype));
}

static bool reader_grow(tensor_reader *r) {
  size_t capacity = r->capacity ? r->capacity * 2 : 4096 / r->element_size;
  if (capacity > SIZE_MAX / 2 / r->element_size) {
    brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL, "JSON: tensor of %zu elements is too large", r->count);
    return false;
  }
  void *grown = r->data ? brt_realloc(r->data, capacity * r->element_size, 64)
                        : brt_alloc(capacity * r->element_size, 64, BRT_MEM_C_HEAP, 0);
  if (!grown) return false;
  r->data = grown;
  r->capacity = capacity;
  return true;
}

/* Converts one leaf at p->cur into the dtype and appends it. */
static bool read_leaf(json_parser *p, tensor_reader *r) {
  const unsigned char *at = p->cur;
  unsigned char *slot;
  if (BRT_UNLIKELY(r->count == r->capacity) && !reader_grow(r)) return false;
  slot = r->data + r->count * r->element_size;
  if (r->dtype == BRT_DTYPE_BOOL) {
    if ((size_t)(p->end - at) >= 4 && memcmp(at, "true", 4) == 0) {
      *slot = 1;
      p->cur += 4;
    } else if ((size_t)(p->end - at) >= 5 && memcmp(at, "false", 5) == 0) {
      *slot = 0;
      p->cur += 5;
    } else {
      return reader_fail(p, r, r->level, at, BRT_E_CONVERSION, "expected true or false"), false;
    }
    r->count++;
    return true;
  }
  if (*at != '-' && (*at < '0' || *at > '9'))
    return reader_fail(p, r, r->level, at, BRT_E_CONVERSION,
                       *at == '[' ? "expected a number, got an array (the nesting is ragged)"
                                  : "expected a number"), false;
  bool is_integer;
  int64_t integer;
  double number;
  if (!_brt_json_read_number(p, &is_integer, &integer, &number)) return false;
  switch (r->dtype) {
  case BRT_DTYPE_F64:
    if (is_integer) {
      if (integer > (INT64_C(1) << 53) || integer < -(INT64_C(1) << 53))
        return reader_fail(p, r, r->level, at, BRT_E_OUT_OF_RANGE,
                           "integer beyond 2^53 cannot be stored exactly in f64"), false;
      number = (double)integer;
    }
    memcpy(slot, &number, 8);
    break;
  case BRT_DTYPE_F32: {
    if (is_integer) {
      if (integer > (1 << 24) || integer < -(1 << 24))
        return reader_fail(p, r, r->level, at, BRT_E_OUT_OF_RANGE,
                           "integer beyond 2^24 cannot be stored exactly in f32"), false;
      number = (double)integer;
    }
    if (number > FLT_MAX || number < -FLT_MAX)
      return reader_fail(p, r, r->level, at, BRT_E_OUT_OF_RANGE, "number beyond the range of f32"), false;
    float narrow = (float)number;
    memcpy(slot, &narrow, 4);
    break;
  }
  default: {
    if (!is_integer)
      return reader_fail(p, r, r->level, at, BRT_E_CONVERSION, "expected an integer"), false;
    int64_t lo = r->dtype == BRT_DTYPE_I64 ? INT64_MIN : r->dtype == BRT_DTYPE_I32 ? INT32_MIN : 0;
    int64_t hi = r->dtype == BRT_DTYPE_I64 ? INT64_MAX : r->dtype == BRT_DTYPE_I32 ? INT32_MAX : 255;
    if (integer < lo || integer > hi)
      return reader_fail(p, r, r->level, at, BRT_E_OUT_OF_RANGE, "integer out of the dtype's range"), false;
    if (r->dtype == BRT_DTYPE_I64) {
      memcpy(slot, &integer, 8);
    } else if (r->dtype == BRT_DTYPE_I32) {
      int32_t narrow = (int32_t)integer;
      memcpy(slot, &narrow, 4);
    } else {
      *slot = (unsigned char)integer;
    }
  }
  }
  r->count++;
  return true;
}

/* Closes the innermost open array (p->cur on ']'), checking its length
 * against the shape learned so far. */
static bool close_level(json_parser *p, tensor_reader *r) {
  size_t axis = r->level - 1, length = r->index[axis];
  if (length == 0) { /* an empty array: its elements would be leaves */
    if (!r->ndim) r->ndim = r->level;
    if (r->level != r->ndim)
      return reader_fail(p, r, axis, p->cur, BRT_E_CONVERSION,
                         "empty array where a nested array was expected (ragged)"), false;
  }
  if (r->shape_known[axis] && r->shape[axis] != length) {
    char what[128];
    snprintf(what, sizeof what, "ragged: this array has %zu element%s, the first one at this depth had %zu",
             length, length == 1 ? "" : "s", r->shape[axis]);
    return reader_fail(p, r, axis, p->cur, BRT_E_CONVERSION, what), false;
  }
  r->shape[axis] = length;
  r->shape_known[axis] = true;
  p->cur++;
  r->level--;
  if (r->level) r->index[r->level - 1]++;
  return true;
}

brt_value *_brt_json_parse_tensor(json_parser *p, brt_dtype dtype) {
  tensor_reader r = {.dtype = dtype, .element_size = brt_dtype_size(dtype)};
  /* Invariant at the top of the loop: p->cur is at the start of an element
   * (or of the first element after '['). */
  for (;;) {
    _brt_json_skip_whitespace(p);
    if (p->cur >= p->end) {
      _brt_json_fail(p, p->cur, BRT_E_CONVERSION, "unexpected end of input inside an array");
      goto failed;
    }
    if (*p->cur == '[' && (!r.ndim || r.level < r.ndim)) {
      if (r.level == BRT_TENSOR_MAX_DIMS) {
        reader_fail(p, &r, r.level, p->cur, BRT_E_LIMIT_EXCEEDED, "more than 8 dimensions");
        goto failed;
      }
      if (p->depth + r.level >= p->max_depth) { /* the same nesting limit as plain arrays */
        _brt_json_fail(p, p->cur, BRT_E_LIMIT_EXCEEDED, "nesting deeper than max_depth (%u)", p->max_depth);
        goto failed;
      }
      r.index[r.level++] = 0;
      p->cur++;
      _brt_json_skip_whitespace(p);
      if (p->cur < p->end && *p->cur == ']') {
        if (!close_level(p, &r)) goto failed;
        if (!r.level) break;
      } else {
        continue;
      }
    } else {
      if (!r.ndim) r.ndim = r.level;
      if (r.level != r.ndim) {
        reader_fail(p, &r, r.level, p->cur, BRT_E_CONVERSION, "expected an array (the nesting is ragged)");
        goto failed;
      }
      if (!read_leaf(p, &r)) goto failed;
      r.index[r.level - 1]++;
    }
    /* After an element: ',' continues this array; ']' closes it (and
     * possibly the enclosing ones). */
    for (;;) {
      _brt_json_skip_whitespace(p);
      if (p->cur < p->end && *p->cur == ',') {
        p->cur++;
        _brt_json_skip_whitespace(p);
        if (p->cur < p->end && *p->cur == ']') {
          _brt_json_fail(p, p->cur, BRT_E_CONVERSION, "expected a value after ','");
          goto failed;
        }
        break;
      }
      if (p->cur < p->end && *p->cur == ']') {
        if (!close_level(p, &r)) goto failed;
        if (!r.level) goto done;
        continue;
      }
      _brt_json_fail(p, p->cur, BRT_E_CONVERSION,
                     p->cur >= p->end ? "unexpected end of input inside an array"
                                      : "expected ',' or ']' after an array element");
      goto failed;
    }
  }
done:
  if (!r.data && !reader_grow(&r)) return NULL;
  brt_value *tensor = _brt_tensor_adopt(r.data, dtype, r.ndim, r.shape);
  if (!tensor) brt_release(r.data);
  return tensor;
failed:
  if (r.data) brt_release(r.data);
  return NULL;
}
