/* Whole-value operations: deep equality and the debug printer. Both recurse
 * at most BRT_VALUE_MAX_DEPTH levels (containers enforce it on insertion). */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool is_number(const brt_value *value) {
  return value->kind == BRT_KIND_INT || value->kind == BRT_KIND_FLOAT;
}

/* JSON numeric equality: 1 == 1.0; long double holds every i64 exactly. */
static bool numbers_equal(const brt_value *a, const brt_value *b) {
  if (a->kind == BRT_KIND_INT && b->kind == BRT_KIND_INT) return a->as.integer == b->as.integer;
  long double x = a->kind == BRT_KIND_INT ? (long double)a->as.integer : (long double)a->as.number;
  long double y = b->kind == BRT_KIND_INT ? (long double)b->as.integer : (long double)b->as.number;
  return x == y;
}

static bool tensors_equal(const tensor_meta *a, const tensor_meta *b) {
  if (a->dtype != b->dtype || a->ndim != b->ndim) return false;
  for (size_t i = 0; i < a->ndim; i++)
    if (a->shape[i] != b->shape[i]) return false;
  size_t element = brt_dtype_size(a->dtype);
  for (size_t i = 0; i < a->count; i++)
    if (memcmp(_brt_tensor_element(a, i), _brt_tensor_element(b, i), element) != 0) return false;
  return true;
}

bool _brt_value_equal(const brt_value *a, const brt_value *b, bool json_numbers) {
  if (a == b) return true;
  if (json_numbers && is_number(a) && is_number(b)) return numbers_equal(a, b);
  if (a->kind != b->kind) return false;
  switch ((brt_kind)a->kind) {
  case BRT_KIND_NULL: return true;
  case BRT_KIND_BOOL: return a->as.boolean == b->as.boolean;
  case BRT_KIND_INT: return a->as.integer == b->as.integer;
  case BRT_KIND_FLOAT: return memcmp(&a->as.number, &b->as.number, sizeof(double)) == 0;
  case BRT_KIND_STRING:
  case BRT_KIND_BYTES:
    return a->as.string.length == b->as.string.length &&
           memcmp(a->as.string.data, b->as.string.data, a->as.string.length) == 0;
  case BRT_KIND_ARRAY:
    if (a->as.array.length != b->as.array.length) return false;
    for (size_t i = 0; i < a->as.array.length; i++)
      if (!_brt_value_equal(a->as.array.items[i], b->as.array.items[i], json_numbers)) return false;
    return true;
  case BRT_KIND_OBJECT:
    if (a->as.object.length != b->as.object.length) return false;
    for (size_t i = 0; i < a->as.object.length; i++) {
      const object_entry *entry = &a->as.object.entries[i];
      size_t found = _brt_object_find(b, entry->key->as.string.data, entry->key->as.string.length, entry->hash);
      if (found == SIZE_MAX || !_brt_value_equal(entry->value, b->as.object.entries[found].value, json_numbers))
        return false;
    }
    return true;
  case BRT_KIND_TENSOR: return tensors_equal(a->as.tensor, b->as.tensor);
  default: return false;
  }
}

int brt_value_equal(const brt_value *a, const brt_value *b) {
  if (_brt_value_check(a, "brt_value_equal", "a") != BRT_OK ||
      _brt_value_check(b, "brt_value_equal", "b") != BRT_OK)
    return 0;
  return _brt_value_equal(a, b, false);
}

/* --- Debug printer ------------------------------------------------------------- */

typedef struct debug_text {
  char *data; /* managed block */
  size_t len, cap;
  size_t max_items;
  bool failed;
} debug_text;

static void append(debug_text *t, const char *fmt, ...) BRT_PRINTF(2, 3);
static void append(debug_text *t, const char *fmt, ...) {
  if (t->failed) return;
  for (;;) {
    va_list args;
    va_start(args, fmt);
    int written = vsnprintf(t->data + t->len, t->cap - t->len, fmt, args);
    va_end(args);
    if (written < 0) {
      t->failed = true;
      return;
    }
    if ((size_t)written < t->cap - t->len) {
      t->len += (size_t)written;
      return;
    }
    size_t cap = t->cap * 2 + (size_t)written;
    char *grown = brt_realloc(t->data, cap, 16);
    if (!grown) {
      t->failed = true;
      return;
    }
    t->data = grown;
    t->cap = cap;
  }
}

static void append_escaped(debug_text *t, const char *bytes, size_t len, bool binary) {
  size_t limit = t->max_items > SIZE_MAX / 4 ? SIZE_MAX : t->max_items * 4; /* bytes, not items */
  size_t shown = len > limit ? limit : len;
  append(t, "%s", binary ? "b\"" : "\"");
  for (size_t i = 0; i < shown; i++) {
    unsigned char c = (unsigned char)bytes[i];
    if (c == '"' || c == '\\') append(t, "\\%c", c);
    else if (c < 0x20 || c == 0x7F || (binary && c >= 0x80)) append(t, "\\x%02x", c);
    else append(t, "%c", c);
  }
  if (shown < len) append(t, "\"...(%zu bytes)", len);
  else append(t, "\"");
}

static void debug_number(debug_text *t, double number) {
  char text[40];
  if (!isfinite(number)) {
    append(t, "%s", isnan(number) ? "nan" : number > 0 ? "inf" : "-inf");
    return;
  }
  _brt_format_double(number, text);
  append(t, "%s", text);
}

static void debug_tensor(debug_text *t, const tensor_meta *meta) {
  append(t, "tensor<%s>[", brt_dtype_name(meta->dtype));
  for (size_t i = 0; i < meta->ndim; i++) append(t, "%s%zu", i ? "x" : "", meta->shape[i]);
  append(t, "] {");
  size_t shown = meta->count < t->max_items ? meta->count : t->max_items;
  for (size_t i = 0; i < shown; i++) {
    const unsigned char *at = _brt_tensor_element(meta, i);
    append(t, "%s", i ? ", " : "");
    if (meta->dtype == BRT_DTYPE_F64 || meta->dtype == BRT_DTYPE_F32) {
      debug_number(t, _brt_tensor_load_f64(meta->dtype, at));
    } else if (meta->dtype == BRT_DTYPE_I64) {
      int64_t integer;
      memcpy(&integer, at, 8);
      append(t, "%lld", (long long)integer);
    } else {
      append(t, "%.0f", _brt_tensor_load_f64(meta->dtype, at));
    }
  }
  append(t, "%s", shown < meta->count ? ", ...}" : "}");
}

static void debug_value(debug_text *t, const brt_value *value) {
  switch ((brt_kind)value->kind) {
  case BRT_KIND_NULL: append(t, "null"); break;
  case BRT_KIND_BOOL: append(t, "%s", value->as.boolean ? "true" : "false"); break;
  case BRT_KIND_INT: append(t, "%lld", (long long)value->as.integer); break;
  case BRT_KIND_FLOAT: debug_number(t, value->as.number); break;
  case BRT_KIND_STRING: append_escaped(t, value->as.string.data, value->as.string.length, false); break;
  case BRT_KIND_BYTES: append_escaped(t, value->as.string.data, value->as.string.length, true); break;
  case BRT_KIND_ARRAY: {
    size_t length = value->as.array.length, shown = length < t->max_items ? length : t->max_items;
    append(t, "[");
    for (size_t i = 0; i < shown; i++) {
      append(t, "%s", i ? ", " : "");
      debug_value(t, value->as.array.items[i]);
    }
    if (shown < length) append(t, ", ...(%zu items)]", length);
    else append(t, "]");
    break;
  }
  case BRT_KIND_OBJECT: {
    size_t length = value->as.object.length, shown = length < t->max_items ? length : t->max_items;
    append(t, "{");
    for (size_t i = 0; i < shown; i++) {
      const object_entry *entry = &value->as.object.entries[i];
      append(t, "%s", i ? ", " : "");
      append_escaped(t, entry->key->as.string.data, entry->key->as.string.length, false);
      append(t, ": ");
      debug_value(t, entry->value);
    }
    if (shown < length) append(t, ", ...(%zu keys)}", length);
    else append(t, "}");
    break;
  }
  case BRT_KIND_TENSOR: debug_tensor(t, value->as.tensor); break;
  default: append(t, "<kind %d>", value->kind); break;
  }
}

char *brt_value_debug_string(const brt_value *value, size_t max_items) {
  if (_brt_value_check(value, "brt_value_debug_string", "value") != BRT_OK) return NULL;
  debug_text t = {.max_items = max_items ? max_items : 16, .cap = 256};
  t.data = brt_alloc(t.cap, 16, BRT_MEM_C_HEAP, 0);
  if (!t.data) return NULL;
  debug_value(&t, value);
  if (t.failed) {
    brt_release(t.data);
    return NULL;
  }
  return t.data;
}
