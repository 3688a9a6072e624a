/* Values: the header every kind shares, references, scalars, strings, bytes
 * and the typed accessors.
 *
 * Every value is one block of the bridgert allocator (brt_alloc) holding
 * the header and, for strings, bytes and tensors, their payload. The value
 * keeps its own atomic reference count instead of the block's: releasing
 * the last reference must first release the children, which the
 * allocator's count cannot do. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = {"null",  "bool",  "int",    "float", "string",
                                         "bytes", "array", "object", "tensor"};

const char *brt_kind_name(brt_kind kind) {
  return (unsigned)kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "invalid";
}

/* The status of a brt_alloc or brt_realloc that returned NULL. */
BRT_COLD static brt_status allocation_failed(const char *callee) { return _brt_null_status(callee); }

brt_status _brt_value_check(const brt_value *value, const char *function, const char *name) {
  if (BRT_UNLIKELY(!value))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: %s is NULL", function,
                         name);
  /* brt_owns answers from the segment map without touching the pointer, so
   * the magic is only read from memory that belongs to the allocator. */
  if (BRT_UNLIKELY(!brt_owns(value) || value->magic != VALUE_MAGIC))
    return brt_error_set(BRT_E_INVALID_POINTER, BRT_ORIGIN_C, NULL,
                         "%s: %s (%p) is not a live brt_value (freed, or not made by bridgert)",
                         function, name, (const void *)value);
  return BRT_OK;
}

brt_status _brt_block_alloc(void **out, size_t size, size_t align, unsigned flags) {
  void *block = brt_alloc(size, align, BRT_MEM_C_HEAP, flags);
  if (BRT_UNLIKELY(!block)) return allocation_failed("brt_alloc");
  *out = block;
  return BRT_OK;
}

brt_status _brt_block_resize(void **block, size_t size, size_t align) {
  void *grown = brt_realloc(*block, size, align);
  if (BRT_UNLIKELY(!grown)) return allocation_failed("brt_realloc");
  *block = grown;
  return BRT_OK;
}

brt_status _brt_type_mismatch(const char *function, brt_kind expected, const brt_value *actual) {
  return brt_error_set(BRT_E_TYPE_MISMATCH, BRT_ORIGIN_C, NULL, "%s: expected %s, got %s",
                       function, brt_kind_name(expected), brt_kind_name((brt_kind)actual->kind));
}

brt_status _brt_value_new(brt_value **out, brt_kind kind, size_t extra) {
  if (extra > SIZE_MAX - sizeof(brt_value) - 1)
    return brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                         "brt_value: a payload of %zu bytes does not fit in memory", extra);
  /* brt_alloc directly, not _brt_block_alloc: this is every value's path. */
  brt_value *value = brt_alloc(sizeof(brt_value) + extra, 16, BRT_MEM_C_HEAP, 0);
  if (BRT_UNLIKELY(!value)) return allocation_failed("brt_alloc");
  memset(value, 0, sizeof *value);
  value->magic = VALUE_MAGIC;
  value->kind = (uint8_t)kind;
  atomic_init(&value->refs, 1);
  *out = value;
  return BRT_OK;
}

brt_kind brt_value_kind(const brt_value *value) {
  if (_brt_value_check(value, "brt_value_kind", "value") != BRT_OK) return BRT_KIND_INVALID;
  return (brt_kind)value->kind;
}

uint32_t brt_value_refcount(const brt_value *value) {
  if (_brt_value_check(value, "brt_value_refcount", "value") != BRT_OK) return 0;
  return atomic_load_explicit(&value->refs, memory_order_relaxed);
}

void brt_value_retain(const brt_value *value) {
  if (_brt_value_check(value, "brt_value_retain", "value") != BRT_OK) return;
  brt_value *mutable_value = (brt_value *)value;
  uint32_t refs = atomic_load_explicit(&mutable_value->refs, memory_order_relaxed);
  do {
    if (refs == UINT32_MAX) {
      brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                    "brt_value_retain: value %p already has %u references", (const void *)value,
                    refs);
      return;
    }
  } while (!atomic_compare_exchange_weak_explicit(&mutable_value->refs, &refs, refs + 1,
                                                  memory_order_relaxed, memory_order_relaxed));
}

void brt_value_release(const brt_value *value) {
  if (!value) return;
  if (_brt_value_check(value, "brt_value_release", "value") != BRT_OK) return;
  brt_value *mutable_value = (brt_value *)value;
  /* acq_rel: the thread that frees must see every other thread's writes
   * (the acquire load sees those of every earlier release). A count of 1
   * is the caller's own reference: nobody else can retain the value. */
  if (atomic_load_explicit(&mutable_value->refs, memory_order_acquire) == 1 ||
      atomic_fetch_sub_explicit(&mutable_value->refs, 1, memory_order_acq_rel) == 1)
    _brt_value_destroy(mutable_value);
}

/* Drops one reference to an element, key or entry of a container being
 * destroyed: a live value by the containers' invariant, so without the
 * public function's pointer check. A count of 1 read with acquire is ours
 * alone (no other thread holds a reference to take another), so the value
 * is freed without the atomic read-modify-write, which dominates freeing a
 * tree of fresh values (a parsed text) otherwise. */
static void release_child(brt_value *value) {
  if (!value) return;
  if (atomic_load_explicit(&value->refs, memory_order_acquire) == 1 ||
      atomic_fetch_sub_explicit(&value->refs, 1, memory_order_acq_rel) == 1)
    _brt_value_destroy(value);
}

void _brt_value_destroy(brt_value *value) {
  switch ((brt_kind)value->kind) {
  case BRT_KIND_ARRAY:
    for (size_t i = 0; i < value->as.array.length; i++) release_child(value->as.array.items[i]);
    if (value->as.array.items) brt_release(value->as.array.items);
    break;
  case BRT_KIND_OBJECT:
    for (size_t i = 0; i < value->as.object.length; i++) {
      release_child(value->as.object.entries[i].key);
      release_child(value->as.object.entries[i].value);
    }
    if (value->as.object.entries) brt_release(value->as.object.entries);
    if (value->as.object.index) brt_release(value->as.object.index);
    break;
  case BRT_KIND_TENSOR:
    brt_release(value->as.tensor->block);
    break;
  default:
    break;
  }
  value->magic = 0;
  brt_release(value);
}

/* --- Scalars ---------------------------------------------------------------- */

brt_value *brt_value_null(void) {
  brt_value *value = NULL;
  return _brt_value_new(&value, BRT_KIND_NULL, 0) == BRT_OK ? value : NULL;
}

brt_value *brt_value_bool(int truth) {
  brt_value *value = NULL;
  if (_brt_value_new(&value, BRT_KIND_BOOL, 0) != BRT_OK) return NULL;
  value->as.boolean = truth != 0;
  return value;
}

brt_value *brt_value_int(int64_t number) {
  brt_value *value = NULL;
  if (_brt_value_new(&value, BRT_KIND_INT, 0) != BRT_OK) return NULL;
  value->as.integer = number;
  return value;
}

brt_value *brt_value_float(double number) {
  brt_value *value = NULL;
  if (_brt_value_new(&value, BRT_KIND_FLOAT, 0) != BRT_OK) return NULL;
  value->as.number = number;
  return value;
}

static brt_status byte_string_new(brt_value **out, brt_kind kind, const void *data, size_t len) {
  brt_value *value = NULL;
  brt_status status = _brt_value_new(&value, kind, len + 1);
  if (status != BRT_OK) return status;
  char *payload = (char *)(value + 1);
  if (len) memcpy(payload, data, len);
  payload[len] = '\0';
  value->as.string.data = payload;
  value->as.string.length = len;
  *out = value;
  return BRT_OK;
}

brt_value *_brt_value_string_trusted(const char *text, size_t len) {
  brt_value *value = NULL;
  return byte_string_new(&value, BRT_KIND_STRING, text, len) == BRT_OK ? value : NULL;
}

brt_status _brt_value_string_new(brt_value **out, const char *text, size_t len,
                                 const char *function) {
  if (!text && len)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: text is NULL but len is %zu", function, len);
  size_t bad = text ? _brt_utf8_invalid_offset((const unsigned char *)text, len) : len;
  if (bad != len)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: text is not valid UTF-8: byte 0x%02X at offset %zu", function,
                         (unsigned char)text[bad], bad);
  return byte_string_new(out, BRT_KIND_STRING, text, len);
}

brt_value *brt_value_string(const char *text, size_t len) {
  brt_value *value = NULL;
  return _brt_value_string_new(&value, text, len, "brt_value_string") == BRT_OK ? value : NULL;
}

brt_value *brt_value_cstring(const char *text) {
  if (!text) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_value_cstring: text is NULL");
    return NULL;
  }
  return brt_value_string(text, strlen(text));
}

brt_value *brt_value_bytes(const void *data, size_t len) {
  if (!data && len) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "brt_value_bytes: data is NULL but len is %zu", len);
    return NULL;
  }
  brt_value *value = NULL;
  return byte_string_new(&value, BRT_KIND_BYTES, data, len) == BRT_OK ? value : NULL;
}

/* --- Accessors ---------------------------------------------------------------- */

static brt_status accessor_ready(const brt_value *value, const void *out, const char *function) {
  brt_status status = _brt_value_check(value, function, "value");
  if (status != BRT_OK) return status;
  if (!out)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: out is NULL", function);
  return BRT_OK;
}

brt_status brt_value_get_bool(const brt_value *value, int *out) {
  brt_status status = accessor_ready(value, out, "brt_value_get_bool");
  if (status != BRT_OK) return status;
  if (value->kind != BRT_KIND_BOOL) return _brt_type_mismatch("brt_value_get_bool", BRT_KIND_BOOL, value);
  *out = value->as.boolean;
  return BRT_OK;
}

brt_status brt_value_get_int(const brt_value *value, int64_t *out) {
  brt_status status = accessor_ready(value, out, "brt_value_get_int");
  if (status != BRT_OK) return status;
  if (value->kind != BRT_KIND_INT) return _brt_type_mismatch("brt_value_get_int", BRT_KIND_INT, value);
  *out = value->as.integer;
  return BRT_OK;
}

brt_status brt_value_get_float(const brt_value *value, double *out) {
  brt_status status = accessor_ready(value, out, "brt_value_get_float");
  if (status != BRT_OK) return status;
  if (value->kind != BRT_KIND_FLOAT)
    return _brt_type_mismatch("brt_value_get_float", BRT_KIND_FLOAT, value);
  *out = value->as.number;
  return BRT_OK;
}

brt_status brt_value_get_number(const brt_value *value, double *out) {
  brt_status status = accessor_ready(value, out, "brt_value_get_number");
  if (status != BRT_OK) return status;
  if (value->kind == BRT_KIND_INT) {
    *out = (double)value->as.integer;
    return BRT_OK;
  }
  if (value->kind != BRT_KIND_FLOAT)
    return brt_error_set(BRT_E_TYPE_MISMATCH, BRT_ORIGIN_C, NULL,
                         "brt_value_get_number: expected int or float, got %s",
                         brt_kind_name((brt_kind)value->kind));
  *out = value->as.number;
  return BRT_OK;
}

static brt_status get_byte_string(const brt_value *value, brt_kind kind, const void **data,
                                  size_t *len, const char *function) {
  brt_status status = accessor_ready(value, data, function);
  if (status != BRT_OK) return status;
  if (value->kind != kind) return _brt_type_mismatch(function, kind, value);
  *data = value->as.string.data;
  if (len) *len = value->as.string.length;
  return BRT_OK;
}

brt_status brt_value_get_string(const brt_value *value, const char **data, size_t *len) {
  return get_byte_string(value, BRT_KIND_STRING, (const void **)data, len, "brt_value_get_string");
}

brt_status brt_value_get_bytes(const brt_value *value, const void **data, size_t *len) {
  return get_byte_string(value, BRT_KIND_BYTES, data, len, "brt_value_get_bytes");
}
