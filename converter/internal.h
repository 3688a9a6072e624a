/* converter/ internals shared between its files. Other components use the
 * public ABI (bridgert/value.h, bridgert/schema.h) only. */
#ifndef BRT_CONVERTER_INTERNAL_H
#define BRT_CONVERTER_INTERNAL_H

#include "bridgert/error.h"
#include "bridgert/memory.h"
#include "bridgert/schema.h"
#include "bridgert/value.h"
#include "core/compiler.h"
#include "core/utf8.h"
#include "exception/null_status.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct schema_node;

/* A live value starts with this; a released one has it cleared, so a stale
 * pointer is caught while its block is not yet reused. */
#define VALUE_MAGIC 0x42525456u /* "BRTV" */
/* Objects up to this many keys are searched linearly; above, a hash index. */
#define OBJECT_LINEAR_MAX 8

typedef struct object_entry {
  brt_value *key; /* a string value */
  brt_value *value;
  uint64_t hash;
} object_entry;

typedef struct tensor_meta {
  brt_dtype dtype;
  size_t ndim;
  size_t shape[BRT_TENSOR_MAX_DIMS];
  ptrdiff_t strides[BRT_TENSOR_MAX_DIMS]; /* elements */
  size_t count;
  unsigned char *data;
  void *block; /* retained managed block */
  bool read_only; /* the block's bytes cannot be written (BRT_BLOCK_READ_ONLY) */
} tensor_meta;

/* One header for every kind; strings and tensors keep their payload in the
 * same managed block, right after the header. */
struct brt_value {
  uint32_t magic;
  uint8_t kind;          /* brt_kind */
  _Atomic uint8_t sealed; /* set when placed in a container; never cleared */
  uint16_t depth;        /* 0 for scalars, 1 + deepest child for containers */
  _Atomic uint32_t refs;
  union {
    int boolean;
    int64_t integer;
    double number;
    struct {
      size_t length;
      char *data; /* NUL-terminated, inside this block */
    } string;     /* also bytes */
    struct {
      brt_value **items; /* managed block, or NULL */
      size_t length, capacity;
    } array;
    struct {
      object_entry *entries; /* managed block, or NULL */
      uint32_t *index;       /* open addressing, slot = entry index + 1; NULL while small */
      /* 32-bit counts (objects hold at most UINT32_MAX / 2 keys) keep the
       * header at 48 bytes, one allocator class below 64: a large array of
       * scalars is walked with a quarter less memory traffic. */
      uint32_t length, capacity, index_mask;
    } object;
    tensor_meta *tensor;
  } as;
};

/* value.c
 * Internal functions that can fail return a brt_status and fill their out
 * parameter only on BRT_OK; every failure status they return has been
 * recorded. A status is never read back from the thread's last error,
 * except once, in value.c, after the allocator returned NULL. */
/* Checks that `value` is a live value (records INVALID_ARGUMENT for NULL,
 * INVALID_POINTER otherwise, naming `function` and `name`). */
brt_status _brt_value_check(const brt_value *value, const char *function, const char *name);
/* A block of the allocator (C heap) in *out / *block resized in place of the
 * old one (which stays valid on failure). */
brt_status _brt_block_alloc(void **out, size_t size, size_t align, unsigned flags);
brt_status _brt_block_resize(void **block, size_t size, size_t align);
/* A new value of `kind` with `extra` payload bytes after the header. */
brt_status _brt_value_new(brt_value **out, brt_kind kind, size_t extra);
/* A string value of `text` after checking it (errors name `function`). */
brt_status _brt_value_string_new(brt_value **out, const char *text, size_t len,
                                 const char *function);
/* A string value over already validated UTF-8 (no check); NULL with the
 * error recorded (the parser's pointer-returning style). */
brt_value *_brt_value_string_trusted(const char *text, size_t len);
brt_status _brt_type_mismatch(const char *function, brt_kind expected, const brt_value *actual);
/* Frees the value and drops its children; called when refs reaches 0. */
void _brt_value_destroy(brt_value *value);

/* container.c */
uint64_t _brt_key_hash(const char *key, size_t len);
/* The entry index of `key`, or SIZE_MAX. */
size_t _brt_object_find(const brt_value *object, const char *key, size_t len, uint64_t hash);
/* The appenders check nothing but memory and ADOPT the caller's reference
 * to `key`, `value` and `item` on success (on failure the caller keeps it):
 * the parser hands over fresh values without an extra retain/release pair. */
brt_status _brt_object_append(brt_value *object, brt_value *key, uint64_t hash, brt_value *value);
/* Replaces the value at entry `index`, adopting `value`. */
void _brt_object_replace(brt_value *object, size_t index, brt_value *value);
brt_status _brt_array_append(brt_value *array, brt_value *item);

/* tensor.c */
/* A tensor over `block` (adopted, not retained) with checked geometry. */
brt_value *_brt_tensor_adopt(void *block, brt_dtype dtype, size_t ndim, const size_t *shape);
/* Reads element at byte address `at` of `dtype` as double. */
double _brt_tensor_load_f64(brt_dtype dtype, const unsigned char *at);
/* The address of the element at row-major position `linear` (< count). */
const unsigned char *_brt_tensor_element(const tensor_meta *meta, size_t linear);

/* number.c */
/* Parses a JSON number already checked against the grammar (`text` spans
 * exactly the number). Integers (no '.', no exponent) that fit go to
 * *integer with *is_integer = true; others to *number. Returns false when an
 * integer does not fit in i64 or a float overflows to infinity. */
bool _brt_number_parse(const char *text, size_t len, bool *is_integer, int64_t *integer,
                       double *number);
/* The float a JSON number with a fraction or an exponent (grammar already
 * checked) denotes, correctly rounded; false when it overflows to
 * infinity. */
bool _brt_number_parse_float(const char *text, size_t len, double *number);
/* The same from the number's parts: (-1)^negative * significand *
 * 10^exponent, the significand of at most 19 digits; `text` is the number
 * itself, read again in the rare cases the parts cannot decide. */
bool _brt_number_from_parts(bool negative, uint64_t significand, int64_t exponent, const char *text,
                            size_t len, double *number);
/* Writes `number` with the fewest significant digits that parse back to
 * the same bits (std::to_chars), positional between 1e-5 and 1e17 and
 * scientific outside, with ".0" appended when it would read as an integer; NaN and infinities as "NaN", "Infinity", "-Infinity" (messages
 * only, never JSON). `out` holds at least 32 bytes; returns the length.
 * Defined in decimal.cpp (one to_chars call for the common values), with
 * the rest in number.c. */
size_t _brt_format_double(double number, char *out);
/* decimal.cpp: a tensor row's finite run (json_print.c). */
size_t _brt_format_double_run(const unsigned char *at, ptrdiff_t step, size_t count, bool comma, char **out);
/* Same for a float (%.7g to %.9g). */
size_t _brt_format_float(float number, char *out);
size_t _brt_format_int(int64_t number, char *out);

/* value_debug.c: equality and the debug printer */
/* Deep equality; `json_numbers` makes int and float compare by numeric
 * value (JSON Schema enum/const), otherwise kinds must match. */
bool _brt_value_equal(const brt_value *a, const brt_value *b, bool json_numbers);

/* json_parse.c: the reader's state, shared with json_tensor.c. */
typedef struct path_step {
  const char *key; /* NULL: an array index */
  size_t key_len, index;
} path_step;

typedef struct json_parser {
  const unsigned char *begin, *cur, *end;
  unsigned flags;
  uint32_t max_depth, depth;
  size_t max_string;
  brt_dtype tensor_dtype;
  brt_json_location *error_at;
  path_step *path; /* one step per enclosing container */
  char *scratch;   /* unescaped string bytes */
  size_t scratch_cap;
} json_parser;

static inline void _brt_json_skip_whitespace(json_parser *p) {
  while (p->cur < p->end &&
         (*p->cur == ' ' || *p->cur == '\n' || *p->cur == '\r' || *p->cur == '\t'))
    p->cur++;
}
/* Records a parse error at `at` (message with line, column, excerpt) and
 * returns NULL. */
brt_value *_brt_json_fail(json_parser *p, const unsigned char *at, brt_status status,
                          const char *fmt, ...) BRT_PRINTF(4, 5);
/* Writes the JSON Pointer of the current position plus `extra` indices. */
void _brt_json_pointer(const json_parser *p, const size_t *extra, size_t extra_count, char *out,
                       size_t cap);
/* Reads a number at p->cur, advancing it; false with the error recorded. */
bool _brt_json_read_number(json_parser *p, bool *is_integer, int64_t *integer, double *number);

/* json_tensor.c */
/* Whether the array at p->cur starts (through nested '[') with a number,
 * i.e. is a tensor request under BRT_JSON_TENSORS. */
bool _brt_json_tensor_requested(const json_parser *p);
/* Reads the array at p->cur straight into a tensor of `dtype`. */
brt_value *_brt_json_parse_tensor(json_parser *p, brt_dtype dtype);

/* The parser, optionally guided by a compiled schema node for x-tensor. */
brt_value *_brt_json_parse(const char *text, size_t len, const brt_json_options *options,
                           const struct schema_node *guide, brt_json_location *error_at);

/* schema_compile.c: the compiled form, shared with schema_validate.c. */
enum {
  TYPE_NULL = 1u << 0,
  TYPE_BOOLEAN = 1u << 1,
  TYPE_INTEGER = 1u << 2,
  TYPE_NUMBER = 1u << 3,
  TYPE_STRING = 1u << 4,
  TYPE_ARRAY = 1u << 5,
  TYPE_OBJECT = 1u << 6
};

typedef struct schema_property {
  const char *name; /* borrowed from the schema document */
  size_t len;
  uint64_t hash;
  struct schema_node *schema; /* NULL for a `required` entry */
} schema_property;

typedef enum additional_rule { ADDITIONAL_ANY, ADDITIONAL_NONE, ADDITIONAL_SCHEMA } additional_rule;

typedef struct schema_node {
  bool reject_all;  /* the `false` schema */
  unsigned types;   /* TYPE_* bits; 0 = any type */
  bool has_bounds;  /* any of the four numeric bounds */
  bool has_minimum, has_maximum, has_exclusive_minimum, has_exclusive_maximum;
  long double minimum, maximum, exclusive_minimum, exclusive_maximum; /* exact for every i64 */
  bool has_min_length, has_max_length;
  size_t min_length, max_length; /* code points */
  bool has_min_items, has_max_items;
  size_t min_items, max_items;
  struct schema_node *items;
  schema_property *properties; /* managed block; hashed through property_index */
  uint32_t *property_index;    /* slot = property + 1, inside the same block */
  size_t property_count, property_mask;
  schema_property *required;
  size_t required_count;
  additional_rule additional;
  struct schema_node *additional_schema;
  const brt_value *enum_values; /* an array inside the document, or NULL */
  const brt_value *const_value;
  int tensor_dtype; /* x-tensor, or -1 */
  bool type_only;   /* nothing but `types` constrains a value here (validation's fast path) */
} schema_node;

struct brt_schema {
  uint32_t magic;
  brt_value *document; /* the parsed schema text; nodes borrow names and values from it */
  schema_node *root;
};
#define SCHEMA_MAGIC 0x42525453u /* "BRTS" */

/* Checks a schema handle (INVALID_ARGUMENT / INVALID_POINTER recorded). */
brt_status _brt_schema_check(const brt_schema *schema, const char *function);
/* The property named `key`, or NULL. */
const schema_property *_brt_schema_find_property(const schema_node *node, const char *key, size_t len, uint64_t hash);

/* The guide interface used by the parser. */
/* The dtype the node asks for with x-tensor, or -1. */
int _brt_schema_tensor_dtype(const struct schema_node *node);
const struct schema_node *_brt_schema_items(const struct schema_node *node);
const struct schema_node *_brt_schema_property(const struct schema_node *node, const char *key,
                                               size_t len);

/* Appends "/" and `key` as a JSON Pointer token (RFC 6901: "~" becomes
 * "~0", "/" becomes "~1"; a NUL byte shows as "?") to out, whose length is
 * `len`, stopping 4 bytes short of `cap`; returns the new length. Shared by
 * the parser's and the validator's error messages. */
static inline size_t _brt_pointer_append_key(char *out, size_t len, size_t cap, const char *key,
                                             size_t key_len) {
  out[len++] = '/';
  for (size_t k = 0; k < key_len && len + 4 < cap; k++) {
    char c = key[k];
    if (c == '~' || c == '/') {
      out[len++] = '~';
      out[len++] = c == '~' ? '0' : '1';
    } else {
      out[len++] = c ? c : '?';
    }
  }
  return len;
}

#endif /* BRT_CONVERTER_INTERNAL_H */
