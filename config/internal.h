/* config/ internals shared between its files. */
#ifndef BRT_CONFIG_INTERNAL_H
#define BRT_CONFIG_INTERNAL_H

#include "bridgert/status.h"

#include <stdbool.h>
#include <stddef.h>

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
