/* libFuzzer target: validation. The input is a schema and a value
 * separated by the first NUL byte (no NUL: the value is checked against a
 * fixed matrix schema). brt_validate and brt_validate_all must agree, the
 * collected errors must be at most max_errors and each carry a pointer and
 * a message, and the schema-guided reader must accept exactly what parses
 * and validates (up to x-tensor conversion). */
#include <bridgert.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fixed_schema[] =
    "{\"type\":\"object\",\"required\":[\"m\"],\"properties\":{\"m\":{\"type\":\"array\",\"maxItems\":4,"
    "\"items\":{\"type\":\"array\",\"items\":{\"type\":[\"number\",\"null\"],\"minimum\":-10,"
    "\"exclusiveMaximum\":10}}},\"s\":{\"type\":\"string\",\"maxLength\":3},\"e\":{\"enum\":[1,\"a\",null]}},"
    "\"additionalProperties\":{\"const\":true}}";

static void check_errors(const brt_value *errors, size_t max_errors) {
  size_t count = 0;
  if (brt_value_array_length(errors, &count) != BRT_OK || count == 0 || count > max_errors) abort();
  for (size_t i = 0; i < count; i++) {
    const brt_value *entry = brt_value_array_get(errors, i);
    const char *text;
    if (brt_value_get_string(brt_value_object_get(entry, "pointer", 7), &text, NULL) != BRT_OK) abort();
    if (brt_value_get_string(brt_value_object_get(entry, "message", 7), &text, NULL) != BRT_OK || !text[0])
      abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = memchr(data, 0, size);
  brt_schema *schema = nul ? brt_schema_compile_n((const char *)data, (size_t)(nul - data))
                           : brt_schema_compile(fixed_schema);
  if (!schema) {
    if (!nul) abort();
    brt_error_clear();
    return 0;
  }
  const char *text = nul ? (const char *)nul + 1 : (const char *)data;
  size_t len = nul ? size - (size_t)(nul - data) - 1 : size;
  brt_value *value = brt_value_from_json(text, len, 0);
  if (value) {
    brt_status first = brt_validate(schema, value);
    if (first != BRT_OK && first != BRT_E_VALIDATION) abort();
    size_t max_errors = 1 + len % 5;
    brt_value *errors = NULL;
    brt_status all = brt_validate_all(schema, value, max_errors, &errors);
    if (all != first) abort();
    if (all == BRT_OK && errors) abort();
    if (all == BRT_E_VALIDATION) check_errors(errors, max_errors);
    brt_value_release(errors);
    brt_value_release(value);
  }
  brt_value *guided = brt_value_from_json_schema(text, len, schema, 0);
  if (guided) {
    if (brt_validate(schema, guided) != BRT_OK) abort();
    brt_value_release(guided);
  }
  brt_schema_free(schema);
  brt_error_clear();
  return 0;
}
