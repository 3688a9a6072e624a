/* libFuzzer target: the wire codec's decoders (isolation/wire.h), on
 * arbitrary bytes with no descriptors, as a value and as an error chain.
 * Any input is decoded or refused with CONVERSION, leaving no block live.
 * A decoded value re-encodes to exactly the bytes it was read from (the
 * encoding is canonical) and decodes again to an equal value; a decoded
 * error chain re-encodes and decodes to the same chain. */
#include "wire.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t live_blocks(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  if (brt_mem_stats_get(&st) != BRT_OK) abort();
  return st.live_blocks + st.mapped_files;
}

static void refused_with_conversion(void) {
  if (brt_error_code(brt_last_error()) != BRT_E_CONVERSION) abort();
  brt_error_clear();
}

static void check_value(const uint8_t *data, size_t size) {
  brt_wire_reader r = {data, size, 0, false, BRT_OK};
  brt_value *value = _brt_isolation_wire_value_get(&r, NULL, 0);
  if (!value) {
    refused_with_conversion();
    return;
  }
  brt_wire_buf buf = {0};
  brt_wire_fds fds = {.count = 0};
  if (_brt_isolation_wire_value_put(&buf, &fds, value, 0) != BRT_OK || fds.count != 0 ||
      buf.len != r.pos || memcmp(buf.data, data, buf.len) != 0)
    abort();
  brt_wire_reader again = {buf.data, buf.len, 0, false, BRT_OK};
  brt_value *copy = _brt_isolation_wire_value_get(&again, NULL, 0);
  if (!copy || again.pos != buf.len || !brt_value_equal(value, copy)) abort();
  brt_value_release(copy);
  brt_value_release(value);
  _brt_isolation_wire_buf_free(&buf);
}

static bool same_text(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_error(const uint8_t *data, size_t size) {
  brt_wire_reader r = {data, size, 0, false, BRT_OK};
  brt_error *error = _brt_isolation_wire_error_get(&r);
  if (!error) {
    refused_with_conversion();
    return;
  }
  brt_wire_buf buf = {0};
  _brt_isolation_wire_error_put(&buf, error);
  brt_wire_reader again = {buf.data, buf.len, 0, false, BRT_OK};
  brt_error *copy = buf.failed ? NULL : _brt_isolation_wire_error_get(&again);
  if (!copy) abort();
  const brt_error *a = error, *b = copy;
  for (; a && b; a = brt_error_cause(a), b = brt_error_cause(b))
    if (brt_error_code(a) != brt_error_code(b) || brt_error_origin(a) != brt_error_origin(b) ||
        brt_error_os_code(a) != brt_error_os_code(b) ||
        !same_text(brt_error_message(a), brt_error_message(b)) ||
        !same_text(brt_error_type(a), brt_error_type(b)) ||
        !same_text(brt_error_os_category(a), brt_error_os_category(b)) ||
        !same_text(brt_error_path(a, 0), brt_error_path(b, 0)) ||
        !same_text(brt_error_path(a, 1), brt_error_path(b, 1)))
      abort();
  if (a || b) abort();
  brt_error_free(copy);
  brt_error_free(error);
  _brt_isolation_wire_buf_free(&buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint64_t before = live_blocks();
  check_value(data, size);
  check_error(data, size);
  if (live_blocks() != before) abort();
  return 0;
}
