/* Arrays and objects: builders, lookup, sealing.
 *
 * Objects keep entries in insertion order in one managed array. Up to
 * OBJECT_LINEAR_MAX keys, lookup compares hashes linearly (fits in two cache
 * lines); above, an open-addressing index of entry numbers (load <= 1/2) is
 * kept beside the entries, so lookup stays O(1) for large objects. Key
 * hashes are seeded per process so that crafted keys cannot force the
 * index into its worst case. */
#include "internal.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

__extension__ typedef unsigned __int128 u128;

static uint64_t hash_seed;
static pthread_once_t hash_seed_once = PTHREAD_ONCE_INIT;

static void hash_seed_init(void) {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* entropy pool not ready: still varies per run */
    seed = (uint64_t)now.tv_nsec * UINT64_C(0x9E3779B97F4A7C15) ^ (uint64_t)(uintptr_t)&seed;
  }
  hash_seed = seed | 1;
}

static inline uint64_t mix(uint64_t a, uint64_t b) {
  u128 product = (u128)a * b;
  return (uint64_t)product ^ (uint64_t)(product >> 64);
}

uint64_t _brt_key_hash(const char *key, size_t len) {
  pthread_once(&hash_seed_once, hash_seed_init);
  uint64_t h = hash_seed ^ (len * UINT64_C(0xA0761D6478BD642F));
  size_t i = 0;
  for (; i + 8 <= len; i += 8) {
    uint64_t word;
    memcpy(&word, key + i, 8);
    h = mix(h ^ word, UINT64_C(0xE7037ED1A0B428DB));
  }
  uint64_t tail = 0;
  memcpy(&tail, key + i, len - i);
  return mix(h ^ tail, UINT64_C(0x8EBC6AF09C88C6E3));
}

/* --- Shared insertion rules --------------------------------------------------- */

/* Records why insertion_allowed turned an insertion down, checking in the
 * order below; `child` is read only once the parent passed. */
BRT_COLD static brt_status insertion_refused(const brt_value *parent, brt_kind kind,
                                    const brt_value *child, const char *function) {
  if (parent->kind != kind) return _brt_type_mismatch(function, kind, parent);
  if (atomic_load_explicit(&parent->sealed, memory_order_relaxed))
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "%s: the %s is sealed (it was placed inside another container) and read "
                         "only",
                         function, brt_kind_name(kind));
  if (child == parent)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: a %s cannot contain itself", function, brt_kind_name(kind));
  return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                       "%s: nesting would exceed %d levels", function, BRT_VALUE_MAX_DEPTH);
}

/* Checks parent/child for an insertion; the caller then stores the child.
 * Every push and set passes here: the tests are inline and the messages
 * out of line (insertion_refused). */
static inline brt_status insertion_allowed(brt_value *parent, brt_kind kind,
                                           const brt_value *child, const char *function) {
  brt_status status =
      _brt_value_check(parent, function, kind == BRT_KIND_ARRAY ? "array" : "object");
  if (BRT_UNLIKELY(status != BRT_OK)) return status;
  if (BRT_UNLIKELY(parent->kind != kind ||
                   atomic_load_explicit(&parent->sealed, memory_order_relaxed)))
    return insertion_refused(parent, kind, child, function);
  status = _brt_value_check(child, function, kind == BRT_KIND_ARRAY ? "item" : "value");
  if (BRT_UNLIKELY(status != BRT_OK)) return status;
  if (BRT_UNLIKELY(child == parent || child->depth + 1u > BRT_VALUE_MAX_DEPTH))
    return insertion_refused(parent, kind, child, function);
  return BRT_OK;
}

/* Takes over a reference: seal the child (so it can no longer change and no
 * cycle can form) and update the parent's depth. */
static void adopt_child(brt_value *parent, brt_value *child) {
  atomic_store_explicit(&child->sealed, 1, memory_order_relaxed);
  if (child->depth + 1u > parent->depth) parent->depth = (uint16_t)(child->depth + 1u);
}

static brt_value *retained(const brt_value *value) {
  brt_value *mutable_value = (brt_value *)value;
  atomic_fetch_add_explicit(&mutable_value->refs, 1, memory_order_relaxed);
  return mutable_value;
}

/* Gives back a reference taken by retained() when the insertion failed; the
 * caller still holds its own, so the count cannot reach zero here. */
static void unretain(brt_value *value) {
  atomic_fetch_sub_explicit(&value->refs, 1, memory_order_relaxed);
}

static brt_status grow(void **items, size_t *capacity, size_t length, size_t item_size) {
  if (length < *capacity) return BRT_OK;
  size_t wanted = *capacity ? *capacity * 2 : 4;
  if (wanted > SIZE_MAX / item_size / 2)
    return brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                         "container of %zu items is too large", length);
  brt_status status = *items ? _brt_block_resize(items, wanted * item_size, 16)
                             : _brt_block_alloc(items, wanted * item_size, 16, 0);
  if (status != BRT_OK) return status;
  *capacity = wanted;
  return BRT_OK;
}

/* --- Arrays ------------------------------------------------------------------- */

brt_value *brt_value_array(size_t capacity) {
  brt_value *array = NULL;
  if (_brt_value_new(&array, BRT_KIND_ARRAY, 0) != BRT_OK) return NULL;
  if (!capacity) return array;
  if (capacity > SIZE_MAX / sizeof(brt_value *) / 2) {
    brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                  "brt_value_array: capacity %zu is too large", capacity);
    brt_value_release(array);
    return NULL;
  }
  array->as.array.items = brt_alloc(capacity * sizeof(brt_value *), 16, BRT_MEM_C_HEAP, 0);
  if (!array->as.array.items) {
    brt_value_release(array);
    return NULL;
  }
  array->as.array.capacity = capacity;
  return array;
}

brt_status _brt_array_append(brt_value *array, brt_value *item) {
  brt_status status = grow((void **)&array->as.array.items, &array->as.array.capacity,
                           array->as.array.length, sizeof(brt_value *));
  if (status != BRT_OK) return status;
  adopt_child(array, item);
  array->as.array.items[array->as.array.length++] = item;
  return BRT_OK;
}

brt_status brt_value_array_push(brt_value *array, const brt_value *item) {
  brt_status status = insertion_allowed(array, BRT_KIND_ARRAY, item, "brt_value_array_push");
  if (status != BRT_OK) return status;
  brt_value *reference = retained(item);
  status = _brt_array_append(array, reference);
  if (status != BRT_OK) unretain(reference);
  return status;
}

brt_status brt_value_array_length(const brt_value *array, size_t *out) {
  brt_status status = _brt_value_check(array, "brt_value_array_length", "array");
  if (status != BRT_OK) return status;
  if (!out)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_value_array_length: out is NULL");
  if (array->kind != BRT_KIND_ARRAY)
    return _brt_type_mismatch("brt_value_array_length", BRT_KIND_ARRAY, array);
  *out = array->as.array.length;
  return BRT_OK;
}

const brt_value *brt_value_array_get(const brt_value *array, size_t index) {
  if (_brt_value_check(array, "brt_value_array_get", "array") != BRT_OK) return NULL;
  if (array->kind != BRT_KIND_ARRAY) {
    _brt_type_mismatch("brt_value_array_get", BRT_KIND_ARRAY, array);
    return NULL;
  }
  if (index >= array->as.array.length) {
    brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                  "brt_value_array_get: index %zu is out of range for an array of length %zu",
                  index, array->as.array.length);
    return NULL;
  }
  return array->as.array.items[index];
}

/* --- Objects ------------------------------------------------------------------ */

brt_value *brt_value_object(size_t capacity) {
  brt_value *object = NULL;
  if (_brt_value_new(&object, BRT_KIND_OBJECT, 0) != BRT_OK) return NULL;
  if (!capacity) return object;
  if (capacity > UINT32_MAX / 2) {
    brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                  "brt_value_object: capacity %zu is above the limit of %u keys", capacity,
                  UINT32_MAX / 2);
    brt_value_release(object);
    return NULL;
  }
  object->as.object.entries = brt_alloc(capacity * sizeof(object_entry), 16, BRT_MEM_C_HEAP, 0);
  if (!object->as.object.entries) {
    brt_value_release(object);
    return NULL;
  }
  object->as.object.capacity = (uint32_t)capacity;
  return object;
}

static inline bool entry_matches(const object_entry *entry, const char *key, size_t len,
                                 uint64_t hash) {
  return entry->hash == hash && entry->key->as.string.length == len &&
         memcmp(entry->key->as.string.data, key, len) == 0;
}

size_t _brt_object_find(const brt_value *object, const char *key, size_t len, uint64_t hash) {
  const object_entry *entries = object->as.object.entries;
  const uint32_t *index = object->as.object.index;
  if (!index) {
    for (size_t i = 0; i < object->as.object.length; i++)
      if (entry_matches(&entries[i], key, len, hash)) return i;
    return SIZE_MAX;
  }
  size_t mask = object->as.object.index_mask;
  for (size_t slot = hash & mask;; slot = (slot + 1) & mask) {
    uint32_t stored = index[slot];
    if (!stored) return SIZE_MAX;
    if (entry_matches(&entries[stored - 1], key, len, hash)) return stored - 1;
  }
}

static void index_insert(uint32_t *index, size_t mask, uint64_t hash, size_t entry) {
  size_t slot = hash & mask;
  while (index[slot]) slot = (slot + 1) & mask;
  index[slot] = (uint32_t)(entry + 1);
}

/* Makes sure the index (when the object is large) has room for one more key. */
static brt_status index_reserve(brt_value *object) {
  size_t wanted_keys = object->as.object.length + 1;
  if (wanted_keys <= OBJECT_LINEAR_MAX) return BRT_OK;
  if (object->as.object.index && wanted_keys * 2 <= object->as.object.index_mask + 1) return BRT_OK;
  size_t slots = 32;
  while (slots < wanted_keys * 2) slots *= 2;
  void *block = NULL;
  brt_status status = _brt_block_alloc(&block, slots * sizeof(uint32_t), 16, BRT_ALLOC_ZERO);
  if (status != BRT_OK) return status;
  uint32_t *index = block;
  for (size_t i = 0; i < object->as.object.length; i++)
    index_insert(index, slots - 1, object->as.object.entries[i].hash, i);
  if (object->as.object.index) brt_release(object->as.object.index);
  object->as.object.index = index;
  object->as.object.index_mask = (uint32_t)(slots - 1);
  return BRT_OK;
}

brt_status _brt_object_append(brt_value *object, brt_value *key, uint64_t hash, brt_value *value) {
  if (object->as.object.length >= UINT32_MAX / 2)
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                         "object: more than %u keys", UINT32_MAX / 2);
  size_t capacity = object->as.object.capacity;
  brt_status status = grow((void **)&object->as.object.entries, &capacity,
                           object->as.object.length, sizeof(object_entry));
  if (status != BRT_OK) return status;
  /* grow doubles from below UINT32_MAX / 2 keys, so the capacity fits */
  object->as.object.capacity = (uint32_t)(capacity < UINT32_MAX ? capacity : UINT32_MAX);
  status = index_reserve(object);
  if (status != BRT_OK) return status;
  adopt_child(object, key);
  adopt_child(object, value);
  size_t at = object->as.object.length++;
  object->as.object.entries[at] = (object_entry){key, value, hash};
  if (object->as.object.index)
    index_insert(object->as.object.index, object->as.object.index_mask, hash, at);
  return BRT_OK;
}

void _brt_object_replace(brt_value *object, size_t index, brt_value *value) {
  brt_value *old = object->as.object.entries[index].value;
  adopt_child(object, value);
  object->as.object.entries[index].value = value;
  brt_value_release(old);
}

brt_status brt_value_object_set(brt_value *object, const char *key, size_t key_len,
                                const brt_value *value) {
  brt_status status = insertion_allowed(object, BRT_KIND_OBJECT, value, "brt_value_object_set");
  if (status != BRT_OK) return status;
  if (!key && key_len)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_value_object_set: key is NULL but key_len is %zu", key_len);
  uint64_t hash = _brt_key_hash(key ? key : "", key_len);
  size_t found = _brt_object_find(object, key ? key : "", key_len, hash);
  if (found != SIZE_MAX) {
    _brt_object_replace(object, found, retained(value));
    return BRT_OK;
  }
  brt_value *key_value = NULL;
  status = _brt_value_string_new(&key_value, key, key_len, "brt_value_string");
  if (status != BRT_OK) {
    char cause[BRT_ERROR_MESSAGE_MAX];
    snprintf(cause, sizeof cause, "%s", brt_error_message(brt_last_error()));
    return brt_error_wrap(status, BRT_ORIGIN_C, NULL,
                          "brt_value_object_set: the key could not be stored: %s", cause);
  }
  brt_value *reference = retained(value);
  status = _brt_object_append(object, key_value, hash, reference);
  if (status != BRT_OK) {
    unretain(reference);
    brt_value_release(key_value);
  }
  return status;
}

const brt_value *brt_value_object_get(const brt_value *object, const char *key, size_t key_len) {
  if (_brt_value_check(object, "brt_value_object_get", "object") != BRT_OK) return NULL;
  if (object->kind != BRT_KIND_OBJECT) {
    _brt_type_mismatch("brt_value_object_get", BRT_KIND_OBJECT, object);
    return NULL;
  }
  if (!key && key_len) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "brt_value_object_get: key is NULL but key_len is %zu", key_len);
    return NULL;
  }
  const char *bytes = key ? key : "";
  size_t found = _brt_object_find(object, bytes, key_len, _brt_key_hash(bytes, key_len));
  if (found == SIZE_MAX) {
    brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL,
                  "brt_value_object_get: no key \"%.*s\"%s in an object of %zu keys",
                  key_len > 64 ? 64 : (int)key_len, bytes, key_len > 64 ? "..." : "",
                  (size_t)object->as.object.length);
    return NULL;
  }
  return object->as.object.entries[found].value;
}

brt_status brt_value_object_length(const brt_value *object, size_t *out) {
  brt_status status = _brt_value_check(object, "brt_value_object_length", "object");
  if (status != BRT_OK) return status;
  if (!out)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_value_object_length: out is NULL");
  if (object->kind != BRT_KIND_OBJECT)
    return _brt_type_mismatch("brt_value_object_length", BRT_KIND_OBJECT, object);
  *out = object->as.object.length;
  return BRT_OK;
}

brt_status brt_value_object_entry(const brt_value *object, size_t index, const char **key,
                                  size_t *key_len, const brt_value **value) {
  brt_status status = _brt_value_check(object, "brt_value_object_entry", "object");
  if (status != BRT_OK) return status;
  if (object->kind != BRT_KIND_OBJECT)
    return _brt_type_mismatch("brt_value_object_entry", BRT_KIND_OBJECT, object);
  if (index >= object->as.object.length)
    return brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                         "brt_value_object_entry: index %zu is out of range for an object of "
                         "%zu keys",
                         index, (size_t)object->as.object.length);
  const object_entry *entry = &object->as.object.entries[index];
  if (key) *key = entry->key->as.string.data;
  if (key_len) *key_len = entry->key->as.string.length;
  if (value) *value = entry->value;
  return BRT_OK;
}
