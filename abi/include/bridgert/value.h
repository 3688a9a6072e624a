/* bridgert — the value model (docs/values.md).
 *
 * A brt_value is an opaque, reference-counted value that lives in blocks of
 * the bridgert allocator: null, bool, int (i64), float (f64), string (UTF-8,
 * validated, with a length, may contain NUL), bytes, array, object (keys in
 * insertion order, hashed lookup) and tensor (dtype, up to
 * BRT_TENSOR_MAX_DIMS dimensions, shape, strides, data in a managed block).
 *
 * Ownership: every function that returns `brt_value *` hands the caller one
 * reference, given back with brt_value_release(). Functions that return
 * `const brt_value *` lend a value owned by its container (retain it to keep
 * it longer). Putting a value into a container retains it: the caller keeps
 * its own reference.
 *
 * Sealing: a container placed into another container becomes sealed (read
 * only): builders refuse to change it afterwards. This makes cycles
 * impossible and lets any number of threads read a built tree without locks.
 * Builders on one unsealed container are not thread-safe; everything else
 * is. Nesting is limited to BRT_VALUE_MAX_DEPTH levels so that every
 * recursive walk (release, equality, printing, validation) is bounded.
 *
 * Tensor data is plain memory: brt_tensor_data() gives a pointer that C,
 * C++ and Rust use directly; writes through it are the caller's to
 * synchronise. It is writable unless the tensor wraps a read-only block (a
 * MAPPED block of brt_map_file, or of brt_map_fd without BRT_MAP_WRITABLE:
 * brt_block_info.flags has BRT_BLOCK_READ_ONLY), where a write through it
 * faults (SIGSEGV) and brt_tensor_set_* fail with BRT_E_PERMISSION. */
#ifndef BRIDGERT_VALUE_H
#define BRIDGERT_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "bridgert/export.h"
#include "bridgert/status.h"

typedef struct brt_value brt_value; /* opaque */

typedef enum brt_kind {
  BRT_KIND_NULL = 0,
  BRT_KIND_BOOL = 1,
  BRT_KIND_INT = 2,
  BRT_KIND_FLOAT = 3,
  BRT_KIND_STRING = 4,
  BRT_KIND_BYTES = 5,
  BRT_KIND_ARRAY = 6,
  BRT_KIND_OBJECT = 7,
  BRT_KIND_TENSOR = 8,
  BRT_KIND_INVALID = 255 /* returned by brt_value_kind() for a bad pointer */
} brt_kind;

typedef enum brt_dtype {
  BRT_DTYPE_F64 = 0,
  BRT_DTYPE_F32 = 1,
  BRT_DTYPE_I64 = 2,
  BRT_DTYPE_I32 = 3,
  BRT_DTYPE_U8 = 4,
  BRT_DTYPE_BOOL = 5 /* one byte per element, 0 or 1 */
} brt_dtype;

#define BRT_TENSOR_MAX_DIMS 8
/* How deep containers may nest (also the ceiling of brt_json_options.max_depth). */
#define BRT_VALUE_MAX_DEPTH 1024

BRT_BEGIN_DECLS

/* --- Kinds and references ------------------------------------------------- */

/* The value's kind, or BRT_KIND_INVALID (INVALID_ARGUMENT / INVALID_POINTER
 * recorded) when `value` is NULL or not a live value. Since 0.1.0. */
BRT_API brt_kind brt_value_kind(const brt_value *value);
/* "null", "bool", "int", "float", "string", "bytes", "array", "object",
 * "tensor", or "invalid". Never NULL. Since 0.1.0. */
BRT_API const char *brt_kind_name(brt_kind kind);
/* Adds a reference (atomic). A bad pointer records INVALID_POINTER and
 * changes nothing. Since 0.1.0. */
BRT_API void brt_value_retain(const brt_value *value);
/* Drops a reference; the last one frees the value and releases what it holds
 * (children, tensor block). NULL is ignored; a bad pointer records
 * INVALID_POINTER and changes nothing. Since 0.1.0. */
BRT_API void brt_value_release(const brt_value *value);
/* Current reference count (for diagnostics and tests), 0 for a bad pointer. Since 0.1.0. */
BRT_API uint32_t brt_value_refcount(const brt_value *value);

/* --- Scalars --------------------------------------------------------------
 * Constructors return a new value with one reference, or NULL with
 * OUT_OF_MEMORY / LIMIT_EXCEEDED (allocator) or INVALID_ARGUMENT recorded. */

BRT_API brt_value *brt_value_null(void);              /* Since 0.1.0. */
BRT_API brt_value *brt_value_bool(int truth);         /* any non-zero is true. Since 0.1.0. */
BRT_API brt_value *brt_value_int(int64_t number);     /* Since 0.1.0. */
BRT_API brt_value *brt_value_float(double number);    /* NaN and infinities allowed. Since 0.1.0. */
/* A copy of `len` bytes of UTF-8 (NUL allowed). Invalid UTF-8 (overlong
 * forms, surrogates, code points above U+10FFFF, truncated sequences) is
 * INVALID_ARGUMENT naming the byte offset. `text` may be NULL when len is 0. Since 0.1.0. */
BRT_API brt_value *brt_value_string(const char *text, size_t len);
/* brt_value_string(text, strlen(text)). Since 0.1.0. */
BRT_API brt_value *brt_value_cstring(const char *text);
/* A copy of `len` arbitrary bytes. Since 0.1.0. */
BRT_API brt_value *brt_value_bytes(const void *data, size_t len);

/* Typed accessors: BRT_OK and *out set, or TYPE_MISMATCH naming the expected
 * and the actual kind ("expected int, got string"), INVALID_ARGUMENT for a
 * NULL out, INVALID_POINTER for a bad value; *out is untouched on failure. */
BRT_API brt_status brt_value_get_bool(const brt_value *value, int *out);      /* Since 0.1.0. */
BRT_API brt_status brt_value_get_int(const brt_value *value, int64_t *out);   /* Since 0.1.0. */
/* float only (an int is TYPE_MISMATCH: use brt_value_get_number). Since 0.1.0. */
BRT_API brt_status brt_value_get_float(const brt_value *value, double *out);
/* int or float as a double (ints beyond 2^53 round to nearest). Since 0.1.0. */
BRT_API brt_status brt_value_get_number(const brt_value *value, double *out);
/* The string's bytes (NUL-terminated after `*len` bytes, valid while the
 * value lives) and length; `len` may be NULL. Since 0.1.0. */
BRT_API brt_status brt_value_get_string(const brt_value *value, const char **data, size_t *len);
BRT_API brt_status brt_value_get_bytes(const brt_value *value, const void **data, size_t *len); /* Since 0.1.0. */

/* --- Arrays -------------------------------------------------------------- */

/* A new empty array with room for `capacity` items. Since 0.1.0. */
BRT_API brt_value *brt_value_array(size_t capacity);
/* Appends `item` (retained). TYPE_MISMATCH when `array` is not an array,
 * PERMISSION when it is sealed, INVALID_ARGUMENT when item == array,
 * LIMIT_EXCEEDED beyond BRT_VALUE_MAX_DEPTH. On failure nothing changes. Since 0.1.0. */
BRT_API brt_status brt_value_array_push(brt_value *array, const brt_value *item);
/* Number of items. Since 0.1.0. */
BRT_API brt_status brt_value_array_length(const brt_value *array, size_t *out);
/* The item at `index` (borrowed), or NULL with OUT_OF_RANGE naming the index
 * and the length. Since 0.1.0. */
BRT_API const brt_value *brt_value_array_get(const brt_value *array, size_t index);

/* --- Objects -------------------------------------------------------------
 * Keys are UTF-8 strings with a length (NUL allowed); keys keep insertion
 * order; lookup is a linear scan up to 8 keys and a hash index above. */

BRT_API brt_value *brt_value_object(size_t capacity); /* Since 0.1.0. */
/* Sets key -> value (retained). A new key is appended; an existing key keeps
 * its position and its value is replaced. Errors as brt_value_array_push,
 * plus INVALID_ARGUMENT for a key that is not valid UTF-8. Since 0.1.0. */
BRT_API brt_status brt_value_object_set(brt_value *object, const char *key, size_t key_len,
                                        const brt_value *value);
/* The value under `key` (borrowed), or NULL with NOT_FOUND naming the key. Since 0.1.0. */
BRT_API const brt_value *brt_value_object_get(const brt_value *object, const char *key,
                                              size_t key_len);
BRT_API brt_status brt_value_object_length(const brt_value *object, size_t *out); /* Since 0.1.0. */
/* The entry at insertion position `index`: key bytes (NUL-terminated), key
 * length and value, all borrowed. Any out pointer may be NULL. Since 0.1.0. */
BRT_API brt_status brt_value_object_entry(const brt_value *object, size_t index, const char **key,
                                          size_t *key_len, const brt_value **value);

/* --- Whole values ---------------------------------------------------------- */

/* 1 when a and b are deeply equal, else 0. Kinds must match (int 1 is not
 * float 1.0); floats compare by bits (so -0.0 != 0.0 and a NaN equals the
 * same NaN); objects compare as key sets (order ignored); tensors compare
 * dtype, shape and elements (not strides). A bad pointer gives 0 with
 * INVALID_POINTER recorded. Since 0.1.0. */
BRT_API int brt_value_equal(const brt_value *a, const brt_value *b);
/* A readable one-line rendering for logs and debuggers, e.g.
 * `{"a": [1, 2.5], "t": tensor<f64>[2x3] [[0, 1, 2], ...]}`: strings are
 * escaped, bytes shown as b"\x00..", long arrays, strings and tensors are
 * elided after `max_items` items (0: 16). A managed block: brt_release() it.
 * Not JSON; use brt_value_to_json() for that. Since 0.1.0. */
BRT_API char *brt_value_debug_string(const brt_value *value, size_t max_items);

/* --- Tensors --------------------------------------------------------------- */

typedef struct brt_tensor_info {
  uint32_t struct_size; /* the caller sets sizeof(brt_tensor_info) */
  brt_dtype dtype;
  size_t ndim;
  size_t shape[BRT_TENSOR_MAX_DIMS];
  ptrdiff_t strides[BRT_TENSOR_MAX_DIMS]; /* in elements, not bytes */
  size_t count;                           /* product of shape */
  void *data;                             /* the first element */
  void *block;                            /* the managed block holding the data */
} brt_tensor_info;

/* Bytes per element (8, 4, 8, 4, 1, 1), or 0 for an unknown dtype. Since 0.1.0. */
BRT_API size_t brt_dtype_size(brt_dtype dtype);
/* "f64", "f32", "i64", "i32", "u8", "bool", or "invalid". Since 0.1.0. */
BRT_API const char *brt_dtype_name(brt_dtype dtype);
/* A contiguous (row-major) zero-filled tensor in a new managed block.
 * ndim 0 is a scalar of one element; a dimension may be 0. INVALID_ARGUMENT
 * for an unknown dtype, ndim > BRT_TENSOR_MAX_DIMS, NULL shape with
 * ndim > 0, or a shape whose extents, an extent of 0 counted as 1, times
 * the element size pass PTRDIFF_MAX (its strides would overflow: a shape
 * with no elements such as [2^40, 0, 2^40]; the message names the shape);
 * OUT_OF_RANGE when the byte size overflows. Since 0.1.0. */
BRT_API brt_value *brt_tensor_new(brt_dtype dtype, size_t ndim, const size_t *shape);
/* A tensor over an existing managed block, zero-copy: the block is retained
 * (brt_retain) and released with the tensor. `block` must be the start of a
 * live brt_alloc block (INVALID_POINTER otherwise, including memory that is
 * not the allocator's), aligned for the dtype; `strides` are in elements
 * (NULL: contiguous row-major) and must not be negative; every element the
 * shape and strides reach must lie inside the block's size (OUT_OF_RANGE
 * naming the bytes needed and the block size); the shape is refused as by
 * brt_tensor_new (INVALID_ARGUMENT when its strides would overflow). A
 * read-only block (BRT_BLOCK_READ_ONLY) makes a read-only tensor: the
 * setters refuse it with BRT_E_PERMISSION. Since 0.1.0. */
BRT_API brt_value *brt_tensor_wrap(void *block, brt_dtype dtype, size_t ndim, const size_t *shape,
                                   const ptrdiff_t *strides);
/* The first element of the tensor's data, or NULL with TYPE_MISMATCH /
 * INVALID_POINTER recorded. Not a new reference: valid while the tensor lives.
 * Writing through it is allowed unless the tensor's block is read-only
 * (brt_block_info_get(info.block).flags has BRT_BLOCK_READ_ONLY: a MAPPED
 * block of brt_map_file, or of brt_map_fd without BRT_MAP_WRITABLE); such
 * a write faults (SIGSEGV), it is not reported. Since 0.1.0. */
BRT_API void *brt_tensor_data(const brt_value *tensor);
/* Describes the tensor. Since 0.1.0. */
BRT_API brt_status brt_tensor_info_get(const brt_value *tensor, brt_tensor_info *out);
/* Element access by index (`ndim` indices, checked: OUT_OF_RANGE names the
 * axis, the index and the extent; INVALID_ARGUMENT when nindex != ndim).
 * get_f64 converts any dtype to double; get_i64 needs an integer or bool
 * dtype (TYPE_MISMATCH otherwise). set_f64 on an integer dtype needs an
 * integral value in the dtype's range (OUT_OF_RANGE), set_i64 on a float
 * dtype converts. The setters on a tensor over a read-only block
 * (BRT_BLOCK_READ_ONLY) fail with BRT_E_PERMISSION and write nothing.
 * Since 0.1.0. */
BRT_API brt_status brt_tensor_get_f64(const brt_value *tensor, const size_t *index, size_t nindex,
                                      double *out);
BRT_API brt_status brt_tensor_set_f64(brt_value *tensor, const size_t *index, size_t nindex,
                                      double number);
BRT_API brt_status brt_tensor_get_i64(const brt_value *tensor, const size_t *index, size_t nindex,
                                      int64_t *out);
BRT_API brt_status brt_tensor_set_i64(brt_value *tensor, const size_t *index, size_t nindex,
                                      int64_t number);

/* --- JSON -------------------------------------------------------------------
 * Strict RFC 8259 (see docs/values.md for every rule and deviation). */

enum {
  /* parse: a repeated object key replaces the earlier value (last wins)
   * instead of failing with CONVERSION. */
  BRT_JSON_DUPLICATE_LAST_WINS = 1u << 0,
  /* parse: arrays of numbers (nested and rectangular) become tensors of
   * brt_json_options.tensor_dtype (F64 through brt_value_from_json). An
   * array whose first leaf is a number is a tensor request: a ragged or
   * mixed one is CONVERSION naming the JSON Pointer of the first offending
   * element. */
  BRT_JSON_TENSORS = 1u << 1,
  /* print: NaN and infinities become null instead of failing with CONVERSION. */
  BRT_JSON_NONFINITE_AS_NULL = 1u << 2,
  /* print: bytes become base64 strings instead of failing with CONVERSION. */
  BRT_JSON_BYTES_AS_BASE64 = 1u << 3
};

/* Defaults of brt_json_options. */
#define BRT_JSON_DEFAULT_MAX_DEPTH 128
#define BRT_JSON_DEFAULT_MAX_INPUT ((size_t)1 << 30)
#define BRT_JSON_DEFAULT_MAX_STRING ((size_t)256 << 20)

typedef struct brt_json_options {
  uint32_t struct_size;     /* sizeof(brt_json_options) */
  unsigned flags;           /* BRT_JSON_* */
  uint32_t max_depth;       /* nesting of arrays/objects, 1..BRT_VALUE_MAX_DEPTH */
  size_t max_input;         /* bytes of text accepted */
  size_t max_string;        /* bytes of one decoded string or key */
  brt_dtype tensor_dtype;   /* for BRT_JSON_TENSORS */
} brt_json_options;

/* Where a parse failed: 1-based line and column (in characters) and the
 * byte offset. */
typedef struct brt_json_location {
  uint32_t struct_size;
  size_t line, column, offset;
} brt_json_location;

/* Fills `options` with the defaults above (flags 0, dtype F64). Since 0.1.0. */
BRT_API void brt_json_options_default(brt_json_options *options);
/* Parses exactly `len` bytes of JSON text (a NUL inside is an error).
 * Errors: CONVERSION for malformed text, invalid UTF-8, lone surrogates,
 * duplicate keys, ragged tensors, with "line L, column C" and an excerpt;
 * OUT_OF_RANGE for an integer outside i64 or a number overflowing f64,
 * naming the number; LIMIT_EXCEEDED for depth, input or string size. Since 0.1.0. */
BRT_API brt_value *brt_value_from_json(const char *text, size_t len, unsigned flags);
/* Same with explicit options (NULL: defaults) and an optional location
 * filled on failure. Since 0.1.0. */
BRT_API brt_value *brt_value_from_json_ex(const char *text, size_t len,
                                          const brt_json_options *options,
                                          brt_json_location *error_at);
/* Compact JSON text (NUL-terminated) in a managed block: brt_release() it.
 * Floats print with the fewest of 15, 16 or 17 significant digits that
 * parse back to the same bits, always with a '.' or an exponent so they
 * stay floats; tensors print as nested arrays. CONVERSION for NaN/infinity
 * (unless BRT_JSON_NONFINITE_AS_NULL) and bytes (unless
 * BRT_JSON_BYTES_AS_BASE64). Since 0.1.0. */
BRT_API char *brt_value_to_json(const brt_value *value, unsigned flags);

BRT_END_DECLS

#endif /* BRIDGERT_VALUE_H */
