/* bridgert — schema validation (docs/values.md).
 *
 * brt_schema_compile() turns a JSON Schema of the supported subset into an
 * immutable tree once; brt_validate() then checks any number of values,
 * from any number of threads at once, without allocating on success.
 *
 * Keywords: type (a name or an array of names: null, boolean, integer,
 * number, string, array, object), properties, required,
 * additionalProperties (boolean or schema), items (one schema), minItems,
 * maxItems, minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers),
 * enum, const, minLength, maxLength (in code points); boolean schemas
 * (true / false); the annotations $schema, $id, $comment, title,
 * description, default, examples; and "x-tensor": "<dtype>" which asks
 * brt_value_from_json_schema() to build a tensor there. Any other keyword
 * (including pattern and $ref) is a compile error unless it starts with "x-".
 *
 * A tensor value satisfies "array" and is validated as the nested arrays it
 * prints as (minItems/maxItems against its shape, items against its
 * elements). */
#ifndef BRIDGERT_SCHEMA_H
#define BRIDGERT_SCHEMA_H

#include <stddef.h>

#include "bridgert/export.h"
#include "bridgert/status.h"
#include "bridgert/value.h"

typedef struct brt_schema brt_schema; /* opaque, immutable once compiled */

BRT_BEGIN_DECLS

/* Compiles a NUL-terminated JSON Schema. NULL on failure with
 * INVALID_ARGUMENT naming the JSON Pointer of the offending keyword inside
 * the schema and what was expected ("/properties/a/minItems: expected a
 * non-negative integer, got -1"), or the JSON parse error. Since 0.1.0. */
BRT_API brt_schema *brt_schema_compile(const char *json_schema);
/* Same for `len` bytes of text. Since 0.1.0. */
BRT_API brt_schema *brt_schema_compile_n(const char *json_schema, size_t len);
/* Frees a compiled schema. NULL is ignored. Not while other threads still
 * validate with it. Since 0.1.0. */
BRT_API void brt_schema_free(brt_schema *schema);
/* BRT_OK when `value` satisfies `schema`; otherwise VALIDATION with the
 * first violation found: "<JSON Pointer>: <what was expected>, got <what>"
 * (e.g. "/matrix_a/1/0: expected number, got string"); INVALID_ARGUMENT /
 * INVALID_POINTER for bad arguments. Thread-safe. Since 0.1.0. */
BRT_API brt_status brt_validate(const brt_schema *schema, const brt_value *value);
/* Like brt_validate but keeps going and collects up to `max_errors` (>= 1)
 * violations. On VALIDATION, when `errors` is not NULL, *errors receives a
 * new array value of objects {"pointer": "/a/0", "message": "expected ..."}
 * in document order (release it); on BRT_OK *errors is set to NULL. The
 * recorded error names the count and the first violation. Since 0.1.0. */
BRT_API brt_status brt_validate_all(const brt_schema *schema, const brt_value *value,
                                    size_t max_errors, brt_value **errors);
/* Parses JSON text guided by the schema: where the schema says
 * "x-tensor": "<dtype>", the array is read straight into a tensor of that
 * dtype (CONVERSION naming the first offending index for ragged or
 * non-numeric data); the result is then validated (VALIDATION as above).
 * `flags` are the BRT_JSON_* parse flags. Since 0.1.0. */
BRT_API brt_value *brt_value_from_json_schema(const char *text, size_t len,
                                              const brt_schema *schema, unsigned flags);

BRT_END_DECLS

#endif /* BRIDGERT_SCHEMA_H */
