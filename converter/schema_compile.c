/* JSON Schema (the supported subset) -> an immutable tree of schema_node.
 *
 * The schema text is parsed with the strict JSON reader (so a schema with a
 * duplicate keyword is rejected, not silently resolved) and the document
 * is kept: nodes borrow property names, enum and const values from it.
 * Every keyword is checked here, once, so that brt_validate never meets a
 * malformed schema; unknown keywords are errors (a typo such as
 * "maxItem" would otherwise silently validate nothing). */
#include "internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct compiler {
  char path[512]; /* JSON Pointer of the keyword being compiled */
  size_t path_len;
} compiler;

static const char *const type_names[] = {"null", "boolean", "integer", "number", "string", "array", "object"};
enum { TYPE_NAME_COUNT = sizeof type_names / sizeof type_names[0] };

/* Keywords that only annotate: accepted and ignored. */
static const char *const annotations[] = {"$schema", "$id", "$comment", "title", "description", "default", "examples"};

static bool compile_error(compiler *c, const char *fmt, ...) BRT_PRINTF(2, 3);
static bool compile_error(compiler *c, const char *fmt, ...) {
  char what[400];
  va_list args;
  va_start(args, fmt);
  vsnprintf(what, sizeof what, fmt, args);
  va_end(args);
  brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_schema_compile: %s: %s",
                c->path_len ? c->path : "(root)", what);
  return false;
}

/* Appends "/segment" (escaped as JSON Pointer) and returns the old length. */
static size_t path_push(compiler *c, const char *segment, size_t len) {
  size_t mark = c->path_len;
  if (c->path_len + 2 < sizeof c->path) c->path[c->path_len++] = '/';
  for (size_t i = 0; i < len && c->path_len + 3 < sizeof c->path; i++) {
    if (segment[i] == '~' || segment[i] == '/') {
      c->path[c->path_len++] = '~';
      c->path[c->path_len++] = segment[i] == '~' ? '0' : '1';
    } else {
      c->path[c->path_len++] = segment[i] ? segment[i] : '?';
    }
  }
  c->path[c->path_len] = '\0';
  return mark;
}

static void path_pop(compiler *c, size_t mark) {
  c->path_len = mark;
  c->path[mark] = '\0';
}

static const char *json_kind(const brt_value *value) {
  switch ((brt_kind)value->kind) {
  case BRT_KIND_BOOL: return "boolean";
  case BRT_KIND_INT: return "integer";
  case BRT_KIND_FLOAT: return "number";
  default: return brt_kind_name((brt_kind)value->kind);
  }
}

static bool key_is(const object_entry *entry, const char *name) {
  size_t len = strlen(name);
  return entry->key->as.string.length == len && memcmp(entry->key->as.string.data, name, len) == 0;
}

static bool read_count(compiler *c, const brt_value *value, size_t *out) {
  if (value->kind == BRT_KIND_INT && value->as.integer >= 0) {
    *out = (size_t)value->as.integer;
    return true;
  }
  if (value->kind == BRT_KIND_FLOAT && value->as.number >= 0 && value->as.number < 9007199254740992.0 &&
      value->as.number == trunc(value->as.number)) {
    *out = (size_t)value->as.number;
    return true;
  }
  char shown[40] = "a non-integer";
  if (value->kind == BRT_KIND_INT) snprintf(shown, sizeof shown, "%lld", (long long)value->as.integer);
  else if (value->kind == BRT_KIND_FLOAT) _brt_format_double(value->as.number, shown);
  else snprintf(shown, sizeof shown, "%s", json_kind(value));
  return compile_error(c, "expected a non-negative integer, got %s", shown);
}

static bool read_bound(compiler *c, const brt_value *value, long double *out) {
  if (value->kind == BRT_KIND_INT) *out = (long double)value->as.integer;
  else if (value->kind == BRT_KIND_FLOAT) *out = (long double)value->as.number;
  else return compile_error(c, "expected a number, got %s", json_kind(value));
  return true;
}

static bool read_types(compiler *c, const brt_value *value, unsigned *types) {
  const brt_value *const *names = &value;
  size_t count = 1;
  if (value->kind == BRT_KIND_ARRAY) {
    names = (const brt_value *const *)value->as.array.items;
    count = value->as.array.length;
    if (!count) return compile_error(c, "expected at least one type name, got an empty array");
  }
  for (size_t i = 0; i < count; i++) {
    if (names[i]->kind != BRT_KIND_STRING)
      return compile_error(c, "expected a type name (or an array of them), got %s", json_kind(names[i]));
    unsigned bit = 0;
    for (unsigned t = 0; t < TYPE_NAME_COUNT; t++)
      if (strcmp(names[i]->as.string.data, type_names[t]) == 0 && strlen(type_names[t]) == names[i]->as.string.length)
        bit = 1u << t;
    if (!bit)
      return compile_error(c, "unknown type \"%s\" (expected null, boolean, integer, number, string, array or object)",
                           names[i]->as.string.data);
    if (*types & bit) return compile_error(c, "type \"%s\" is listed twice", names[i]->as.string.data);
    *types |= bit;
  }
  return true;
}

static schema_node *compile_node(compiler *c, const brt_value *document);

static void free_node(schema_node *node) {
  if (!node) return;
  free_node(node->items);
  free_node(node->additional_schema);
  for (size_t i = 0; i < node->property_count; i++) free_node(node->properties[i].schema);
  if (node->properties) brt_release(node->properties);
  if (node->required) brt_release(node->required);
  brt_release(node);
}

static bool compile_properties(compiler *c, schema_node *node, const brt_value *value) {
  if (value->kind != BRT_KIND_OBJECT) return compile_error(c, "expected an object of schemas, got %s", json_kind(value));
  size_t count = value->as.object.length, slots = 4;
  while (slots < count * 2) slots *= 2;
  size_t bytes = count * sizeof(schema_property) + slots * sizeof(uint32_t);
  node->properties = brt_alloc(bytes ? bytes : 1, 16, BRT_MEM_C_HEAP, BRT_ALLOC_ZERO);
  if (!node->properties) return false;
  node->property_index = (uint32_t *)(node->properties + count);
  node->property_mask = slots - 1;
  for (size_t i = 0; i < count; i++) {
    const object_entry *entry = &value->as.object.entries[i];
    size_t mark = path_push(c, entry->key->as.string.data, entry->key->as.string.length);
    schema_node *child = compile_node(c, entry->value);
    path_pop(c, mark);
    if (!child) return false;
    node->properties[i] = (schema_property){entry->key->as.string.data, entry->key->as.string.length, entry->hash, child};
    node->property_count = i + 1;
    size_t slot = entry->hash & node->property_mask;
    while (node->property_index[slot]) slot = (slot + 1) & node->property_mask;
    node->property_index[slot] = (uint32_t)(i + 1);
  }
  return true;
}

static bool compile_required(compiler *c, schema_node *node, const brt_value *value) {
  if (value->kind != BRT_KIND_ARRAY) return compile_error(c, "expected an array of property names, got %s", json_kind(value));
  size_t count = value->as.array.length;
  node->required = brt_alloc(count ? count * sizeof(schema_property) : 1, 16, BRT_MEM_C_HEAP, BRT_ALLOC_ZERO);
  if (!node->required) return false;
  for (size_t i = 0; i < count; i++) {
    const brt_value *name = value->as.array.items[i];
    if (name->kind != BRT_KIND_STRING)
      return compile_error(c, "item %zu: expected a property name (string), got %s", i, json_kind(name));
    for (size_t k = 0; k < i; k++)
      if (_brt_value_equal(value->as.array.items[k], name, false))
        return compile_error(c, "property \"%s\" is listed twice", name->as.string.data);
    node->required[i] = (schema_property){name->as.string.data, name->as.string.length,
                                          _brt_key_hash(name->as.string.data, name->as.string.length), NULL};
  }
  node->required_count = count;
  return true;
}

/* Applies one keyword to `node`; false with the error recorded. */
static bool compile_keyword(compiler *c, schema_node *node, const object_entry *entry, const brt_value **exclusive_flags) {
  const brt_value *value = entry->value;
  if (key_is(entry, "type")) return read_types(c, value, &node->types);
  if (key_is(entry, "properties")) return compile_properties(c, node, value);
  if (key_is(entry, "required")) return compile_required(c, node, value);
  if (key_is(entry, "additionalProperties")) {
    if (value->kind == BRT_KIND_BOOL) {
      node->additional = value->as.boolean ? ADDITIONAL_ANY : ADDITIONAL_NONE;
      return true;
    }
    node->additional = ADDITIONAL_SCHEMA;
    return (node->additional_schema = compile_node(c, value)) != NULL;
  }
  if (key_is(entry, "items")) {
    if (value->kind == BRT_KIND_ARRAY)
      return compile_error(c, "the tuple form of items (an array of schemas) is not in the supported subset; use one schema");
    return (node->items = compile_node(c, value)) != NULL;
  }
  if (key_is(entry, "minItems")) return node->has_min_items = true, read_count(c, value, &node->min_items);
  if (key_is(entry, "maxItems")) return node->has_max_items = true, read_count(c, value, &node->max_items);
  if (key_is(entry, "minLength")) return node->has_min_length = true, read_count(c, value, &node->min_length);
  if (key_is(entry, "maxLength")) return node->has_max_length = true, read_count(c, value, &node->max_length);
  if (key_is(entry, "minimum")) return node->has_minimum = true, read_bound(c, value, &node->minimum);
  if (key_is(entry, "maximum")) return node->has_maximum = true, read_bound(c, value, &node->maximum);
  if (key_is(entry, "exclusiveMinimum") || key_is(entry, "exclusiveMaximum")) {
    bool lower = key_is(entry, "exclusiveMinimum");
    if (value->kind == BRT_KIND_BOOL) { /* draft 4: a modifier of minimum/maximum */
      exclusive_flags[lower ? 0 : 1] = value;
      return true;
    }
    if (lower) return node->has_exclusive_minimum = true, read_bound(c, value, &node->exclusive_minimum);
    return node->has_exclusive_maximum = true, read_bound(c, value, &node->exclusive_maximum);
  }
  if (key_is(entry, "enum")) {
    if (value->kind != BRT_KIND_ARRAY || !value->as.array.length)
      return compile_error(c, "expected a non-empty array of allowed values, got %s%s", json_kind(value),
                           value->kind == BRT_KIND_ARRAY ? " (empty)" : "");
    node->enum_values = value;
    return true;
  }
  if (key_is(entry, "const")) {
    node->const_value = value;
    return true;
  }
  if (key_is(entry, "x-tensor")) {
    for (int dtype = BRT_DTYPE_F64; dtype <= BRT_DTYPE_BOOL; dtype++)
      if (value->kind == BRT_KIND_STRING && strcmp(value->as.string.data, brt_dtype_name((brt_dtype)dtype)) == 0 &&
          value->as.string.length == strlen(brt_dtype_name((brt_dtype)dtype))) {
        node->tensor_dtype = dtype;
        return true;
      }
    return compile_error(c, "expected a dtype name (\"f64\", \"f32\", \"i64\", \"i32\", \"u8\" or \"bool\")");
  }
  if (key_is(entry, "pattern") || key_is(entry, "patternProperties"))
    return compile_error(c, "regular expressions are not in the supported subset; remove the keyword or check "
                            "the string in code");
  if (key_is(entry, "$ref"))
    return compile_error(c, "$ref is not in the supported subset (schemas cannot refer to themselves or to "
                            "others); write the referenced schema inline");
  for (size_t i = 0; i < sizeof annotations / sizeof annotations[0]; i++)
    if (key_is(entry, annotations[i])) return true;
  if (entry->key->as.string.length >= 2 && memcmp(entry->key->as.string.data, "x-", 2) == 0) return true;
  return compile_error(c, "unknown keyword (not in the supported subset; prefix it with \"x-\" to keep it as an annotation)");
}

/* Draft-4 boolean exclusiveMinimum/Maximum turn minimum/maximum exclusive. */
static bool apply_exclusive_flags(compiler *c, schema_node *node, const brt_value **flags) {
  if (flags[0] && flags[0]->as.boolean) {
    if (!node->has_minimum) return compile_error(c, "exclusiveMinimum: true needs a minimum beside it");
    node->has_minimum = false;
    node->has_exclusive_minimum = true;
    node->exclusive_minimum = node->minimum;
  }
  if (flags[1] && flags[1]->as.boolean) {
    if (!node->has_maximum) return compile_error(c, "exclusiveMaximum: true needs a maximum beside it");
    node->has_maximum = false;
    node->has_exclusive_maximum = true;
    node->exclusive_maximum = node->maximum;
  }
  return true;
}

static schema_node *compile_node(compiler *c, const brt_value *document) {
  if (document->kind != BRT_KIND_OBJECT && document->kind != BRT_KIND_BOOL) {
    compile_error(c, "expected a schema (an object or a boolean), got %s", json_kind(document));
    return NULL;
  }
  schema_node *node = brt_alloc(sizeof *node, 16, BRT_MEM_C_HEAP, BRT_ALLOC_ZERO);
  if (!node) return NULL;
  node->tensor_dtype = -1;
  if (document->kind == BRT_KIND_BOOL) {
    node->reject_all = !document->as.boolean;
    node->type_only = !node->reject_all; /* `true`: no constraint at all */
    return node;
  }
  const brt_value *exclusive_flags[2] = {NULL, NULL};
  for (size_t i = 0; i < document->as.object.length; i++) {
    const object_entry *entry = &document->as.object.entries[i];
    size_t mark = path_push(c, entry->key->as.string.data, entry->key->as.string.length);
    bool compiled = compile_keyword(c, node, entry, exclusive_flags);
    path_pop(c, mark);
    if (!compiled) {
      free_node(node);
      return NULL;
    }
  }
  if (!apply_exclusive_flags(c, node, exclusive_flags)) {
    free_node(node);
    return NULL;
  }
  node->has_bounds = node->has_minimum || node->has_maximum || node->has_exclusive_minimum || node->has_exclusive_maximum;
  node->type_only = !node->has_bounds && !node->has_min_length && !node->has_max_length && !node->has_min_items &&
                    !node->has_max_items && !node->items && !node->property_count && !node->required_count &&
                    node->additional == ADDITIONAL_ANY && !node->enum_values && !node->const_value;
  return node;
}

brt_schema *brt_schema_compile_n(const char *json_schema, size_t len) {
  if (!json_schema) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_schema_compile: json_schema is NULL");
    return NULL;
  }
  brt_value *document = _brt_json_parse(json_schema, len, NULL, NULL, NULL);
  if (!document) {
    char cause[BRT_ERROR_MESSAGE_MAX];
    snprintf(cause, sizeof cause, "%s", brt_error_message(brt_last_error()));
    brt_error_wrap(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_schema_compile: the schema is not valid JSON: %s",
                   cause);
    return NULL;
  }
  compiler c = {.path_len = 0};
  c.path[0] = '\0';
  schema_node *root = compile_node(&c, document);
  brt_schema *schema = root ? brt_alloc(sizeof *schema, 16, BRT_MEM_C_HEAP, 0) : NULL;
  if (!schema) {
    free_node(root);
    brt_value_release(document);
    return NULL;
  }
  *schema = (brt_schema){SCHEMA_MAGIC, document, root};
  return schema;
}

brt_schema *brt_schema_compile(const char *json_schema) {
  if (!json_schema) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_schema_compile: json_schema is NULL");
    return NULL;
  }
  return brt_schema_compile_n(json_schema, strlen(json_schema));
}

brt_status _brt_schema_check(const brt_schema *schema, const char *function) {
  if (!schema)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: schema is NULL",
                         function);
  if (!brt_owns(schema) || schema->magic != SCHEMA_MAGIC)
    return brt_error_set(BRT_E_INVALID_POINTER, BRT_ORIGIN_C, NULL,
                         "%s: schema %p is not a live compiled schema (freed, or not from "
                         "brt_schema_compile)",
                         function, (const void *)schema);
  return BRT_OK;
}

void brt_schema_free(brt_schema *schema) {
  if (!schema) return;
  if (_brt_schema_check(schema, "brt_schema_free") != BRT_OK) return;
  schema->magic = 0;
  free_node(schema->root);
  brt_value_release(schema->document);
  brt_release(schema);
}

/* --- Lookups (validation and the schema-guided parser) ----------------------------- */

const schema_property *_brt_schema_find_property(const schema_node *node, const char *key, size_t len, uint64_t hash) {
  if (!node->property_count) return NULL;
  for (size_t slot = hash & node->property_mask;; slot = (slot + 1) & node->property_mask) {
    uint32_t stored = node->property_index[slot];
    if (!stored) return NULL;
    const schema_property *property = &node->properties[stored - 1];
    if (property->hash == hash && property->len == len && memcmp(property->name, key, len) == 0) return property;
  }
}

int _brt_schema_tensor_dtype(const struct schema_node *node) { return node->tensor_dtype; }

const struct schema_node *_brt_schema_items(const struct schema_node *node) { return node->items; }

const struct schema_node *_brt_schema_property(const struct schema_node *node, const char *key, size_t len) {
  const schema_property *property = _brt_schema_find_property(node, key, len, _brt_key_hash(key, len));
  if (property) return property->schema;
  return node->additional == ADDITIONAL_SCHEMA ? node->additional_schema : NULL;
}
