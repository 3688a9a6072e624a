/* brt_value -> compact JSON text, in a managed block.
 *
 * The text grows in one managed block (doubling), so the result is handed
 * over without a copy. Floats print so that they parse back to the same
 * bits (number.c) and always read as floats; integers print exactly;
 * strings escape only what RFC 8259 requires (", \ and control characters)
 * and keep UTF-8 as is; tensors print as nested arrays, walked by strides. */
#include "internal.h"

#include <math.h>
#include <string.h>

typedef struct printer {
  char *data; /* managed block */
  size_t len, cap;
  unsigned flags;
} printer;

static bool reserve(printer *w, size_t more) {
  if (BRT_LIKELY(w->cap - w->len > more)) return true;
  size_t cap = w->cap ? w->cap : 256;
  while (cap - w->len <= more) {
    if (cap > SIZE_MAX / 4) {
      brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL, "brt_value_to_json: the text would exceed the address space");
      return false;
    }
    cap *= 2;
  }
  char *grown = w->data ? brt_realloc(w->data, cap, 16) : brt_alloc(cap, 16, BRT_MEM_C_HEAP, 0);
  if (!grown) return false;
  w->data = grown;
  w->cap = cap;
  return true;
}

static inline void put(printer *w, const char *text, size_t len) {
  memcpy(w->data + w->len, text, len);
  w->len += len;
}

static bool put_checked(printer *w, const char *text, size_t len) {
  if (!reserve(w, len)) return false;
  put(w, text, len);
  return true;
}

static bool print_double(printer *w, double number) {
  if (BRT_UNLIKELY(!isfinite(number))) {
    if (w->flags & BRT_JSON_NONFINITE_AS_NULL) return put_checked(w, "null", 4);
    brt_error_set(BRT_E_CONVERSION, BRT_ORIGIN_C, NULL,
                  "brt_value_to_json: %s has no JSON form; pass BRT_JSON_NONFINITE_AS_NULL to print null",
                  isnan(number) ? "NaN" : number > 0 ? "+infinity" : "-infinity");
    return false;
  }
  if (!reserve(w, 32)) return false;
  w->len += _brt_format_double(number, w->data + w->len);
  return true;
}

static bool print_string(printer *w, const char *text, size_t len) {
  static const char hex[] = "0123456789abcdef";
  /* Worst case: every byte becomes \u00XX. */
  if (len > (SIZE_MAX - 2) / 6 || !reserve(w, len * 6 + 2)) {
    if (len > (SIZE_MAX - 2) / 6)
      brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL, "brt_value_to_json: string too long");
    return false;
  }
  char *out = w->data + w->len;
  *out++ = '"';
  size_t run = 0; /* bytes copied as they are, flushed in one memcpy */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)text[i];
    if (BRT_LIKELY(c >= 0x20 && c != '"' && c != '\\')) {
      run++;
      continue;
    }
    memcpy(out, text + i - run, run);
    out += run;
    run = 0;
    *out++ = '\\';
    switch (c) {
    case '"': *out++ = '"'; break;
    case '\\': *out++ = '\\'; break;
    case '\n': *out++ = 'n'; break;
    case '\r': *out++ = 'r'; break;
    case '\t': *out++ = 't'; break;
    case '\b': *out++ = 'b'; break;
    case '\f': *out++ = 'f'; break;
    default:
      memcpy(out, "u00", 3);
      out[3] = hex[c >> 4];
      out[4] = hex[c & 15];
      out += 5;
    }
  }
  memcpy(out, text + len - run, run);
  out += run;
  *out++ = '"';
  w->len = (size_t)(out - w->data);
  return true;
}

static bool print_base64(printer *w, const unsigned char *bytes, size_t len) {
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  if (len > SIZE_MAX / 2 || !reserve(w, (len + 2) / 3 * 4 + 2)) return false;
  char *out = w->data + w->len;
  *out++ = '"';
  size_t i = 0;
  for (; i + 3 <= len; i += 3) {
    uint32_t group = (uint32_t)bytes[i] << 16 | (uint32_t)bytes[i + 1] << 8 | bytes[i + 2];
    for (int k = 3; k >= 0; k--) *out++ = alphabet[(group >> (6 * k)) & 63];
  }
  if (i < len) {
    uint32_t group = (uint32_t)bytes[i] << 16 | (i + 1 < len ? (uint32_t)bytes[i + 1] << 8 : 0);
    *out++ = alphabet[(group >> 18) & 63];
    *out++ = alphabet[(group >> 12) & 63];
    *out++ = i + 1 < len ? alphabet[(group >> 6) & 63] : '=';
    *out++ = '=';
  }
  *out++ = '"';
  w->len = (size_t)(out - w->data);
  return true;
}

/* Prints the sub-tensor at `axis` starting at `at`. Per element: one
 * formatting call and a bounded append (the reserve check rarely grows). */
static bool print_tensor_axis(printer *w, const tensor_meta *meta, size_t axis, const unsigned char *at) {
  size_t element = brt_dtype_size(meta->dtype);
  ptrdiff_t step = meta->strides[axis] * (ptrdiff_t)element;
  if (axis + 1 == meta->ndim && meta->dtype == BRT_DTYPE_F64 && meta->shape[axis] < (SIZE_MAX - 2) / 33) {
    /* A row of doubles: one reserve for the row (a ',' and at most 32
     * bytes per element, the brackets), then no check per element. */
    size_t count = meta->shape[axis];
    if (!reserve(w, count * 33 + 2)) return false;
    char *out = w->data + w->len;
    *out++ = '[';
    for (size_t i = 0; i < count; i++, at += step) {
      /* the finite run from i, then the non-finite element that ended it */
      size_t done = _brt_format_double_run(at, step, count - i, i != 0, &out);
      i += done;
      at += (ptrdiff_t)done * step;
      if (i == count) break;
      double number;
      memcpy(&number, at, 8);
      if (i) *out++ = ',';
      w->len = (size_t)(out - w->data); /* null or an error, within the reserve */
      if (!print_double(w, number)) return false;
      out = w->data + w->len;
    }
    *out++ = ']';
    w->len = (size_t)(out - w->data);
    return true;
  }
  if (!put_checked(w, "[", 1)) return false;
  for (size_t i = 0; i < meta->shape[axis]; i++, at += step) {
    if (i && !put_checked(w, ",", 1)) return false;
    if (axis + 1 < meta->ndim) {
      if (!print_tensor_axis(w, meta, axis + 1, at)) return false;
      continue;
    }
    switch (meta->dtype) {
    case BRT_DTYPE_F64: {
      double number;
      memcpy(&number, at, 8);
      if (!print_double(w, number)) return false;
      break;
    }
    case BRT_DTYPE_F32: {
      float number;
      memcpy(&number, at, 4);
      if (!isfinite(number)) {
        if (!print_double(w, number)) return false;
        break;
      }
      if (!reserve(w, 32)) return false;
      w->len += _brt_format_float(number, w->data + w->len);
      break;
    }
    case BRT_DTYPE_BOOL:
      if (!put_checked(w, *at ? "true" : "false", *at ? 4 : 5)) return false;
      break;
    default: { /* integers print exactly, not through a double */
      int64_t integer;
      if (meta->dtype == BRT_DTYPE_I64) {
        memcpy(&integer, at, 8);
      } else if (meta->dtype == BRT_DTYPE_I32) {
        int32_t narrow;
        memcpy(&narrow, at, 4);
        integer = narrow;
      } else {
        integer = *at;
      }
      if (!reserve(w, 24)) return false;
      w->len += _brt_format_int(integer, w->data + w->len);
    }
    }
  }
  return put_checked(w, "]", 1);
}

static bool print_value(printer *w, const brt_value *value) {
  switch ((brt_kind)value->kind) {
  case BRT_KIND_NULL: return put_checked(w, "null", 4);
  case BRT_KIND_BOOL: return value->as.boolean ? put_checked(w, "true", 4) : put_checked(w, "false", 5);
  case BRT_KIND_INT:
    if (!reserve(w, 24)) return false;
    w->len += _brt_format_int(value->as.integer, w->data + w->len);
    return true;
  case BRT_KIND_FLOAT: return print_double(w, value->as.number);
  case BRT_KIND_STRING: return print_string(w, value->as.string.data, value->as.string.length);
  case BRT_KIND_BYTES:
    if (w->flags & BRT_JSON_BYTES_AS_BASE64)
      return print_base64(w, (const unsigned char *)value->as.string.data, value->as.string.length);
    brt_error_set(BRT_E_CONVERSION, BRT_ORIGIN_C, NULL,
                  "brt_value_to_json: a bytes value (%zu bytes) has no JSON form; pass "
                  "BRT_JSON_BYTES_AS_BASE64 to print it as a base64 string",
                  value->as.string.length);
    return false;
  case BRT_KIND_ARRAY:
    if (!put_checked(w, "[", 1)) return false;
    for (size_t i = 0; i < value->as.array.length; i++) {
      if (i && !put_checked(w, ",", 1)) return false;
      if (!print_value(w, value->as.array.items[i])) return false;
    }
    return put_checked(w, "]", 1);
  case BRT_KIND_OBJECT:
    if (!put_checked(w, "{", 1)) return false;
    for (size_t i = 0; i < value->as.object.length; i++) {
      const object_entry *entry = &value->as.object.entries[i];
      if (i && !put_checked(w, ",", 1)) return false;
      if (!print_string(w, entry->key->as.string.data, entry->key->as.string.length) ||
          !put_checked(w, ":", 1) || !print_value(w, entry->value))
        return false;
    }
    return put_checked(w, "}", 1);
  case BRT_KIND_TENSOR: {
    const tensor_meta *meta = value->as.tensor;
    if (meta->ndim == 0) { /* a scalar tensor prints as its one element */
      tensor_meta row = *meta;
      row.ndim = 1;
      row.shape[0] = 1;
      row.strides[0] = 1;
      size_t mark = w->len;
      if (!print_tensor_axis(w, &row, 0, meta->data)) return false;
      /* drop the brackets of the one-element row */
      memmove(w->data + mark, w->data + mark + 1, w->len - mark - 2);
      w->len -= 2;
      return true;
    }
    /* Numbers take ~20 bytes: reserving once avoids most growth steps. */
    if (meta->count <= SIZE_MAX / 32 && !reserve(w, meta->count * 20)) return false;
    return print_tensor_axis(w, meta, 0, meta->data);
  }
  default:
    brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "brt_value_to_json: unknown kind %d", value->kind);
    return false;
  }
}

char *brt_value_to_json(const brt_value *value, unsigned flags) {
  if (_brt_value_check(value, "brt_value_to_json", "value") != BRT_OK) return NULL;
  printer w = {.flags = flags};
  if (!print_value(&w, value) || !reserve(&w, 1)) {
    if (w.data) brt_release(w.data);
    return NULL;
  }
  w.data[w.len] = '\0';
  return w.data;
}
