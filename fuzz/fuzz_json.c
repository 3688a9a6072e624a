/* libFuzzer target: the strict JSON reader and the printer.
 * The first byte picks the parse options (duplicate keys, tensors and their
 * dtype, max_depth); the rest is the text. Any input is either accepted or
 * refused with a recorded error. An accepted value must print, and the
 * printed text must parse back (same options) to an equal value. */
#include <bridgert.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  brt_json_options options;
  brt_json_options_default(&options);
  uint8_t selector = data[0];
  if (selector & 1) options.flags |= BRT_JSON_DUPLICATE_LAST_WINS;
  if (selector & 2) options.flags |= BRT_JSON_TENSORS;
  options.tensor_dtype = (brt_dtype)((selector >> 2) % 6);
  if (selector & 0x20) options.max_depth = 8;
  const char *text = (const char *)data + 1;
  size_t len = size - 1;
  brt_json_location where = {.struct_size = sizeof where};
  brt_value *value = brt_value_from_json_ex(text, len, &options, &where);
  if (!value) {
    const brt_error *error = brt_last_error();
    if (!error || brt_error_message(error)[0] == '\0' || where.offset > len) abort();
    brt_error_clear();
    return 0;
  }
  char *printed = brt_value_to_json(value, 0);
  if (!printed) abort(); /* parsed values are finite and never bytes */
  brt_value *again = brt_value_from_json_ex(printed, strlen(printed), &options, NULL);
  if (!again || !brt_value_equal(value, again)) abort();
  char *debug = brt_value_debug_string(value, 4);
  if (!debug) abort();
  brt_release(debug);
  brt_value_release(again);
  brt_release(printed);
  brt_value_release(value);
  return 0;
}
