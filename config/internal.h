/* config/ internals shared between its files: the key table and a
 * config's life (config.c), the value readers (config_value.c), the
 * loaders (config_load.c) and the JSON reader (json.c). */
#ifndef BRT_CONFIG_INTERNAL_H
#define BRT_CONFIG_INTERNAL_H

#include "bridgert/config.h"
#include "bridgert/status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- config.c -------------------------------------------------------------------- */

/* KIND_NAMED: an enum field (stored as an int-sized enum) whose JSON and
 * environment form is one of `names`, the value being the name's index. */
typedef enum key_kind {
  KIND_SIZE,
  KIND_U32,
  KIND_BOOL,
  KIND_FRACTION,
  KIND_NAMED,
  KIND_PATHS
} key_kind;

typedef struct config_key {
  const char *name;
  key_kind kind;
  size_t offset;
  uint64_t min, max; /* KIND_SIZE and KIND_U32 */
  const char *meaning;
  const char *const *names; /* KIND_NAMED: the names, index = value */
  unsigned name_count;
} config_key;

/* Every key, in the order the messages list them. */
extern const config_key _brt_config_keys[];
extern const int _brt_config_key_count;
/* The key called `name` (len bytes: a name with a NUL in it is no key), or
 * NULL. */
const config_key *_brt_config_key_named(const char *name, size_t len);

/* Records INVALID_ARGUMENT with the formatted message; returns it. */
brt_status _brt_config_invalid(const char *fmt, ...) BRT_PRINTF(1, 2);
/* `cfg` is non-NULL and at least this library's size; else records
 * INVALID_ARGUMENT naming `function` and returns false. */
bool _brt_config_usable(const brt_config *cfg, const char *function);
void _brt_config_paths_free(char **paths, size_t count);
/* A directory path that is non-NULL, non-empty and shorter than PATH_MAX;
 * `where` names it in the error. */
brt_status _brt_config_check_path(const char *dir, const char *where);
/* Appends a copy of `dir` to plugin_dirs (at most
 * BRT_CONFIG_MAX_PLUGIN_DIRS); the caller validated cfg. */
brt_status _brt_config_paths_append(brt_config *cfg, const char *dir, const char *where);
/* The checks between keys (health_memory_degraded <= _unhealthy). */
brt_status _brt_config_validate_cross_fields(const brt_config *cfg, const char *source);
/* Runs `apply` on a private copy of cfg and commits it only on success. */
brt_status _brt_config_transaction(brt_config *cfg,
                                   brt_status (*apply)(brt_config *, const void *),
                                   const void *arg);

/* --- config_value.c -------------------------------------------------------------- */

typedef enum uint_read {
  UINT_OK,
  UINT_EMPTY,
  UINT_NOT_DIGITS,
  UINT_LEADING_ZERO,
  UINT_OVERFLOW
} uint_read;
typedef enum size_read { SIZE_OK, SIZE_BAD, SIZE_OVERFLOW } size_read;

/* What whole numbers and sizes look like, for messages. */
#define WHOLE_RULE \
  "decimal digits only, with no sign, white space, fraction, exponent or leading zero"
#define SIZE_RULE                                                                                \
  "a whole number of bytes such as 1048576, or digits with a unit such as 512MiB, 1.5GiB or "  \
  "2GB; no white space, sign or exponent"

/* The one reader of whole numbers (decimal digits, no sign, no leading
 * zero, exactly into 64 bits). */
uint_read _brt_config_read_uint(const char *text, size_t len, uint64_t *out);
/* A whole number of bytes, or digits with an optional fraction and a unit. */
size_read _brt_config_parse_size_text(const char *text, size_t len, uint64_t *out);
/* The JSON number syntax, read correctly rounded in the C locale. */
bool _brt_config_parse_fraction_text(const char *text, size_t len, double *out);
/* 1/0, true/false, yes/no, on/off, any case. */
bool _brt_config_parse_bool_text(const char *text, bool *out);
/* Stores the index of `text` among the key's names; false when none is it. */
bool _brt_config_parse_named_text(const config_key *key, const char *text, size_t len, void *field);
void *_brt_config_field_at(brt_config *cfg, const config_key *key);
/* `text` as it can be shown inside quotes in a message, in buf; returns
 * buf. SHOWN_MAX bytes hold any result. */
const char *_brt_config_shown(const char *text, size_t len, char *buf, size_t size);
#define SHOWN_MAX 128
/* Range checks shared by every source; `source` goes into messages. */
brt_status _brt_config_check_u64_range(const config_key *key, uint64_t value,
                                       const char *source);
/* A number too large for 64 bits, as written. */
brt_status _brt_config_out_of_range_text(const config_key *key, const char *text, size_t len,
                                         const char *source);
brt_status _brt_config_check_fraction(const config_key *key, double value, const char *source);
/* Range-checks a KIND_SIZE or KIND_U32 value and stores it. */
brt_status _brt_config_store_u64(brt_config *cfg, const config_key *key, uint64_t value,
                                 const char *source);
/* A whole-number or size key from text (a JSON string, an environment
 * variable). */
brt_status _brt_config_apply_number_text(brt_config *cfg, const config_key *key,
                                         const char *text, size_t len, const char *source);

/* --- json.c ---------------------------------------------------------------------
 * Configuration sits on the lowest floor (docs/abi.md), below the allocator
 * it configures, so it cannot use the converter's JSON reader (whose values
 * live in that allocator). cJSON, used before, reads every number through
 * a double (2^53 + 1 became 2^53, 2^62 - 1 was refused) and cuts keys and
 * strings at \u0000 ({"max_memory\u0000x": 1} was read as max_memory).
 * This reader gives the loader what it needs: strings decoded with their
 * length, numbers as the text they were written as (read_uint reads them
 * exactly), and where reading stopped. Strict RFC 8259: UTF-8 only, no
 * comments, no trailing commas, no leading zeros, nesting bounded. It
 * uses malloc, never the bridgert allocator. */

#define JSON_MAX_DEPTH 64

typedef enum jkind { J_NULL, J_FALSE, J_TRUE, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } jkind;

typedef struct jvalue {
  jkind kind;
  char *key; /* a member's key, decoded (NUL-terminated; it may hold NULs too) */
  size_t key_len;
  char *str; /* J_STRING: decoded, NUL-terminated, str_len bytes */
  size_t str_len;
  const char *num; /* J_NUMBER: the number as written, in the text */
  size_t num_len;
  struct jvalue *child, *next; /* J_ARRAY, J_OBJECT: elements or members, in order */
} jvalue;

/* Reads one JSON value filling the whole text (white space around it);
 * INVALID_ARGUMENT naming `source`, the line, the column and the problem,
 * or OUT_OF_MEMORY. */
brt_status _brt_config_json_read(const char *text, size_t len, const char *source, jvalue **out);
void _brt_config_jvalue_free(jvalue *v);
/* "a number", "a string", ... for messages. */
const char *_brt_config_json_kind(const jvalue *v);

#endif /* BRT_CONFIG_INTERNAL_H */
