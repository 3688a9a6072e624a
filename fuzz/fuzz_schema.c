/* libFuzzer target: the schema compiler. Any text either compiles or is
 * refused with a recorded INVALID_ARGUMENT. A compiled schema must validate
 * a few fixed values (and the schema document itself) with BRT_OK or
 * VALIDATION, never anything else, and free cleanly. */
#include <bridgert.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const probes[] = {
    "null", "true", "0", "-1.5", "9223372036854775807", "\"\"", "\"text\"", "[]", "[1,[2,\"x\"]]",
    "{}", "{\"a\":1,\"b\":[null,{}],\"c\":\"s\"}",
};

static void check(const brt_schema *schema, const brt_value *value) {
  brt_status status = brt_validate(schema, value);
  if (status != BRT_OK && status != BRT_E_VALIDATION) abort();
  if (status == BRT_E_VALIDATION && brt_error_message(brt_last_error())[0] == '\0') abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  brt_schema *schema = brt_schema_compile_n((const char *)data, size);
  if (!schema) {
    const brt_error *error = brt_last_error();
    if (!error || brt_error_code(error) != BRT_E_INVALID_ARGUMENT || brt_error_message(error)[0] == '\0')
      abort();
    brt_error_clear();
    return 0;
  }
  for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
    brt_value *value = brt_value_from_json(probes[i], strlen(probes[i]), 0);
    if (!value) abort();
    check(schema, value);
    brt_value_release(value);
  }
  brt_value *document = brt_value_from_json((const char *)data, size, 0);
  if (!document) abort(); /* it compiled, so it is JSON */
  check(schema, document);
  brt_value_release(document);
  brt_schema_free(schema);
  brt_error_clear();
  return 0;
}
