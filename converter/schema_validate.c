/* brt_validate / brt_validate_all: a compiled schema against a value.
 *
 * Validation reads the schema and the value only (both immutable), so any
 * number of threads may validate with one schema at once. On success it
 * allocates nothing: the JSON Pointer of the current position is a stack
 * of borrowed key pointers and indices, formatted only when a violation is
 * reported. Cost per array element of a typed array: one call, a type-mask
 * test and a few untaken branches. Tensors are checked as the nested
 * arrays they print as; when the element schema can only accept every
 * element of the dtype (e.g. "number" for f64 without bounds), the element
 * loop is skipped altogether. */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct pointer_step {
  const char *key; /* NULL: an array index */
  size_t n;        /* key length or index */
} pointer_step;

enum { VALIDATION_MAX_STEPS = BRT_VALUE_MAX_DEPTH + BRT_TENSOR_MAX_DIMS + 2 };

typedef struct validation {
  size_t depth;
  bool collect;
  size_t max_errors, error_count;
  brt_value *errors; /* collect mode: array of {pointer, message} */
  brt_status failure; /* OUT_OF_MEMORY while collecting, else VALIDATION */
  char first[BRT_ERROR_MESSAGE_MAX];
  pointer_step steps[VALIDATION_MAX_STEPS]; /* left uninitialised: only [0, depth) is read */
} validation;

static const char *const type_names[] = {"null", "boolean", "integer", "number", "string", "array", "object"};

static size_t format_pointer(const validation *v, char *out, size_t cap) {
  size_t len = 0;
  for (size_t i = 0; i < v->depth && len + 24 < cap; i++) {
    const pointer_step *step = &v->steps[i];
    if (!step->key) {
      len += (size_t)snprintf(out + len, cap - len, "/%zu", step->n);
      continue;
    }
    len = _brt_pointer_append_key(out, len, cap, step->key, step->n);
  }
  out[len] = '\0';
  return len;
}

/* Appends {"pointer": ..., "message": ...} to brt_validate_all's list. */
static brt_status store_report(brt_value *errors, const char *pointer, const char *message) {
  brt_value *entry = NULL, *pointer_value = NULL, *message_value = NULL;
  brt_status status = _brt_value_new(&entry, BRT_KIND_OBJECT, 0);
  if (status != BRT_OK) return status;
  if ((status = _brt_value_string_new(&pointer_value, pointer, strlen(pointer),
                                      "brt_validate_all")) == BRT_OK &&
      (status = _brt_value_string_new(&message_value, message, strlen(message),
                                      "brt_validate_all")) == BRT_OK &&
      (status = brt_value_object_set(entry, "pointer", 7, pointer_value)) == BRT_OK &&
      (status = brt_value_object_set(entry, "message", 7, message_value)) == BRT_OK)
    status = brt_value_array_push(errors, entry);
  brt_value_release(entry);
  brt_value_release(pointer_value);
  brt_value_release(message_value);
  return status;
}

/* Records a violation; returns whether validation should go on. */
static bool report(validation *v, const char *fmt, ...) BRT_PRINTF(2, 3);
static bool report(validation *v, const char *fmt, ...) {
  char pointer[512], message[400];
  format_pointer(v, pointer, sizeof pointer);
  va_list args;
  va_start(args, fmt);
  vsnprintf(message, sizeof message, fmt, args);
  va_end(args);
  /* The root's JSON Pointer is the empty string; the message says "(root)". */
  if (v->error_count++ == 0)
    snprintf(v->first, sizeof v->first, "%s: %s", pointer[0] ? pointer : "(root)", message);
  if (!v->collect) return false;
  if (v->errors) {
    brt_status status = store_report(v->errors, pointer, message);
    if (status != BRT_OK) {
      v->failure = status;
      return false;
    }
  }
  return v->error_count < v->max_errors;
}

static const char *got_name(const brt_value *value) {
  switch ((brt_kind)value->kind) {
  case BRT_KIND_BOOL: return "boolean";
  case BRT_KIND_INT: return "integer";
  case BRT_KIND_FLOAT: return "number";
  default: return brt_kind_name((brt_kind)value->kind);
  }
}

static void expected_types(unsigned types, char *out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  for (unsigned t = 0; t < 7; t++)
    if (types & (1u << t))
      len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " or " : "", type_names[t]);
}

static bool type_error(validation *v, unsigned types, const char *got) {
  char expected[80];
  expected_types(types, expected, sizeof expected);
  return report(v, "expected %s, got %s", expected, got);
}

/* Integral numbers print as integers (a bound of 10 reads "10", not
 * "10.0"); others in their shortest round-trip form. */
static void describe_number(long double x, char *out) {
  if (x == truncl(x) && fabsl(x) < 9.2e18L) snprintf(out, 32, "%lld", (long long)x);
  else _brt_format_double((double)x, out);
}

/* Numeric bounds; `x` is exact for every i64 and f64. */
static bool check_bounds(validation *v, const schema_node *node, long double x) {
  char got[40], bound[40];
  if (BRT_UNLIKELY(isnan(x))) /* NaN compares false with everything: no bound holds */
    return report(v, "expected a number within the bounds, got NaN");
  if (node->has_minimum && x < node->minimum) {
    describe_number(x, got), describe_number(node->minimum, bound);
    return report(v, "expected a number >= %s, got %s", bound, got);
  }
  if (node->has_maximum && x > node->maximum) {
    describe_number(x, got), describe_number(node->maximum, bound);
    return report(v, "expected a number <= %s, got %s", bound, got);
  }
  if (node->has_exclusive_minimum && x <= node->exclusive_minimum) {
    describe_number(x, got), describe_number(node->exclusive_minimum, bound);
    return report(v, "expected a number > %s, got %s", bound, got);
  }
  if (node->has_exclusive_maximum && x >= node->exclusive_maximum) {
    describe_number(x, got), describe_number(node->exclusive_maximum, bound);
    return report(v, "expected a number < %s, got %s", bound, got);
  }
  return true;
}

static bool check_value(validation *v, const schema_node *node, const brt_value *value);

/* --- Tensors -------------------------------------------------------------------------- */

static unsigned dtype_types(brt_dtype dtype) {
  if (dtype == BRT_DTYPE_BOOL) return TYPE_BOOLEAN;
  if (dtype == BRT_DTYPE_F64 || dtype == BRT_DTYPE_F32) return TYPE_NUMBER;
  return TYPE_INTEGER | TYPE_NUMBER;
}

/* Whether every element of `dtype` satisfies `node` (no loop needed). */
static bool accepts_every_element(const schema_node *node, brt_dtype dtype) {
  if (node->reject_all || node->enum_values || node->const_value) return false;
  if (node->types && !(node->types & dtype_types(dtype))) return false;
  return dtype == BRT_DTYPE_BOOL || !node->has_bounds;
}

static bool check_element(validation *v, const schema_node *node, brt_dtype dtype, const unsigned char *at) {
  if (node->reject_all) return report(v, "no value is allowed here (the schema is false)");
  if (node->enum_values || node->const_value)
    return report(v, "enum and const are not checked against tensor elements; convert the tensor to an array");
  bool is_bool = dtype == BRT_DTYPE_BOOL;
  bool is_float = dtype == BRT_DTYPE_F64 || dtype == BRT_DTYPE_F32;
  long double x;
  if (dtype == BRT_DTYPE_I64) {
    int64_t exact;
    memcpy(&exact, at, 8);
    x = (long double)exact;
  } else {
    x = (long double)_brt_tensor_load_f64(dtype, at);
  }
  unsigned have = dtype_types(dtype);
  if (is_float && x == truncl(x)) have |= TYPE_INTEGER; /* JSON Schema: 1.0 is an integer */
  if (node->types && !(node->types & have))
    return type_error(v, node->types, is_bool ? "boolean" : is_float ? "number" : "integer");
  return is_bool || !node->has_bounds || check_bounds(v, node, x);
}

static bool check_tensor_axis(validation *v, const schema_node *node, const tensor_meta *meta, size_t axis,
                              const unsigned char *at) {
  if (node->reject_all) return report(v, "no value is allowed here (the schema is false)");
  if (node->types && !(node->types & TYPE_ARRAY)) return type_error(v, node->types, "array (tensor)");
  size_t length = meta->shape[axis];
  if (node->has_min_items && length < node->min_items)
    return report(v, "expected at least %zu items, got %zu", node->min_items, length);
  if (node->has_max_items && length > node->max_items)
    return report(v, "expected at most %zu items, got %zu", node->max_items, length);
  if (node->enum_values || node->const_value)
    return report(v, "expected one of the enum/const values, got a tensor");
  const schema_node *items = node->items;
  bool leaf = axis + 1 == meta->ndim;
  if (!items || (leaf && accepts_every_element(items, meta->dtype))) return true;
  ptrdiff_t step = meta->strides[axis] * (ptrdiff_t)brt_dtype_size(meta->dtype);
  bool go_on = true;
  v->depth++;
  for (size_t i = 0; i < length && go_on; i++, at += step) {
    v->steps[v->depth - 1] = (pointer_step){NULL, i};
    go_on = leaf ? check_element(v, items, meta->dtype, at) : check_tensor_axis(v, items, meta, axis + 1, at);
  }
  v->depth--;
  return go_on;
}

/* --- Values ----------------------------------------------------------------------------- */

static bool check_object(validation *v, const schema_node *node, const brt_value *object) {
  for (size_t i = 0; i < node->required_count; i++) {
    const schema_property *name = &node->required[i];
    if (_brt_object_find(object, name->name, name->len, name->hash) == SIZE_MAX &&
        !report(v, "missing required property \"%.*s\"", name->len > 64 ? 64 : (int)name->len, name->name))
      return false;
  }
  if (!node->property_count && node->additional == ADDITIONAL_ANY) return true;
  bool go_on = true;
  v->depth++;
  for (size_t i = 0; i < object->as.object.length && go_on; i++) {
    const object_entry *entry = &object->as.object.entries[i];
    v->steps[v->depth - 1] = (pointer_step){entry->key->as.string.data, entry->key->as.string.length};
    const schema_property *property =
        _brt_schema_find_property(node, entry->key->as.string.data, entry->key->as.string.length, entry->hash);
    if (property) go_on = check_value(v, property->schema, entry->value);
    else if (node->additional == ADDITIONAL_SCHEMA) go_on = check_value(v, node->additional_schema, entry->value);
    else if (node->additional == ADDITIONAL_NONE) go_on = report(v, "property not allowed (additionalProperties is false)");
  }
  v->depth--;
  return go_on;
}

/* The JSON Schema types a value of each brt_kind satisfies (bytes: none). */
static const unsigned kind_types[] = {TYPE_NULL,   TYPE_BOOLEAN, TYPE_INTEGER | TYPE_NUMBER,
                                      TYPE_NUMBER, TYPE_STRING,  0,
                                      TYPE_ARRAY,  TYPE_OBJECT,  TYPE_ARRAY};

/* Whether `value` has one of the `types` (0: any). A float with an integral
 * value is also an "integer", as JSON Schema says. Cost: one table load and
 * one test; the float case only on a miss. */
static inline bool type_accepts(unsigned types, const brt_value *value) {
  if (!types || (types & kind_types[value->kind])) return true;
  return value->kind == BRT_KIND_FLOAT && (types & TYPE_INTEGER) && value->as.number == trunc(value->as.number);
}

static bool check_array(validation *v, const schema_node *node, const brt_value *array) {
  size_t length = array->as.array.length;
  if (node->has_min_items && length < node->min_items && !report(v, "expected at least %zu items, got %zu", node->min_items, length))
    return false;
  if (node->has_max_items && length > node->max_items && !report(v, "expected at most %zu items, got %zu", node->max_items, length))
    return false;
  const schema_node *items = node->items;
  if (!items) return true;
  brt_value *const *elements = array->as.array.items;
  size_t i = 0;
  /* Hot path for typed arrays ("items": {"type": "number"}): while the
   * items schema only constrains the type, an element costs one inlined
   * type test; the first miss falls through to the full check below. */
  if (items->type_only)
    while (i < length && type_accepts(items->types, elements[i])) i++;
  bool go_on = true;
  v->depth++;
  pointer_step *step = &v->steps[v->depth - 1];
  for (; i < length && go_on; i++) {
    *step = (pointer_step){NULL, i};
    go_on = check_value(v, items, elements[i]);
  }
  v->depth--;
  return go_on;
}

static bool check_value(validation *v, const schema_node *node, const brt_value *value) {
  if (BRT_UNLIKELY(node->reject_all)) return report(v, "no value is allowed here (the schema is false)");
  brt_kind kind = (brt_kind)value->kind;
  if (!type_accepts(node->types, value)) return type_error(v, node->types, got_name(value));
  bool go_on = true;
  switch (kind) {
  case BRT_KIND_INT:
    if (node->has_bounds) go_on = check_bounds(v, node, (long double)value->as.integer);
    break;
  case BRT_KIND_FLOAT:
    if (node->has_bounds) go_on = check_bounds(v, node, (long double)value->as.number);
    break;
  case BRT_KIND_STRING:
    if (node->has_min_length || node->has_max_length) {
      size_t length = _brt_utf8_count(value->as.string.data, value->as.string.length);
      if (node->has_min_length && length < node->min_length)
        go_on = report(v, "expected a string of at least %zu characters, got %zu", node->min_length, length);
      else if (node->has_max_length && length > node->max_length)
        go_on = report(v, "expected a string of at most %zu characters, got %zu", node->max_length, length);
    }
    break;
  case BRT_KIND_ARRAY: go_on = check_array(v, node, value); break;
  case BRT_KIND_OBJECT: go_on = check_object(v, node, value); break;
  case BRT_KIND_TENSOR: {
    const tensor_meta *meta = value->as.tensor;
    if (meta->ndim) return check_tensor_axis(v, node, meta, 0, meta->data);
    return check_element(v, node, meta->dtype, meta->data);
  }
  default: break;
  }
  if (!go_on) return false;
  if (BRT_UNLIKELY(node->enum_values)) {
    const brt_value *options = node->enum_values;
    for (size_t i = 0; i < options->as.array.length; i++)
      if (_brt_value_equal(options->as.array.items[i], value, true)) return true;
    return report(v, "expected one of the %zu enum values, got a %s that is none of them", options->as.array.length,
                  got_name(value));
  }
  if (BRT_UNLIKELY(node->const_value) && !_brt_value_equal(node->const_value, value, true))
    return report(v, "expected the const value, got a different %s", got_name(value));
  return true;
}

/* --- Entry points ---------------------------------------------------------------------------- */

static brt_status arguments_valid(const brt_schema *schema, const brt_value *value,
                                  const char *function) {
  brt_status status = _brt_schema_check(schema, function);
  return status != BRT_OK ? status : _brt_value_check(value, function, "value");
}

brt_status brt_validate(const brt_schema *schema, const brt_value *value) {
  brt_status status = arguments_valid(schema, value, "brt_validate");
  if (status != BRT_OK) return status;
  validation v;
  v.depth = 0;
  v.collect = false;
  v.max_errors = 1;
  v.error_count = 0;
  v.errors = NULL;
  v.failure = BRT_E_VALIDATION;
  if (check_value(&v, schema->root, value)) return BRT_OK;
  return brt_error_set(BRT_E_VALIDATION, BRT_ORIGIN_C, NULL, "%s", v.first);
}

brt_status brt_validate_all(const brt_schema *schema, const brt_value *value, size_t max_errors, brt_value **errors) {
  brt_status status = arguments_valid(schema, value, "brt_validate_all");
  if (status != BRT_OK) return status;
  if (max_errors == 0)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_validate_all: max_errors is 0, expected >= 1");
  if (errors) *errors = NULL;
  validation v;
  v.depth = 0;
  v.collect = true;
  v.max_errors = max_errors;
  v.error_count = 0;
  v.failure = BRT_E_VALIDATION;
  v.errors = NULL;
  if (errors && (status = _brt_value_new(&v.errors, BRT_KIND_ARRAY, 0)) != BRT_OK) return status;
  check_value(&v, schema->root, value);
  if (v.failure != BRT_E_VALIDATION || !v.error_count) {
    brt_value_release(v.errors);
    return v.failure != BRT_E_VALIDATION ? v.failure : BRT_OK;
  }
  if (errors) *errors = v.errors;
  return brt_error_set(BRT_E_VALIDATION, BRT_ORIGIN_C, NULL, "%zu violation%s%s; first: %s", v.error_count,
                       v.error_count == 1 ? "" : "s", v.error_count >= max_errors ? " (max_errors reached)" : "", v.first);
}

brt_value *brt_value_from_json_schema(const char *text, size_t len, const brt_schema *schema, unsigned flags) {
  if (_brt_schema_check(schema, "brt_value_from_json_schema") != BRT_OK) return NULL;
  brt_json_options options;
  brt_json_options_default(&options);
  options.flags = flags;
  brt_value *value = _brt_json_parse(text, len, &options, schema->root, NULL);
  if (value && brt_validate(schema, value) != BRT_OK) {
    brt_value_release(value);
    return NULL;
  }
  return value;
}
