/* The wire codec's error chains (isolation/wire.h): code, origin, type,
 * message, OS code and category, paths and every cause round trip; codes
 * and origins this library does not know, bad chain lengths and malformed
 * strings are CONVERSION; a truncated chain leaks nothing. */
#include "brt_test.h"
#include "wire.h"
#include "wire_messages.h"

static void test_error_chains(void **state) {
  (void)state;
  brt_error_set_os(BRT_E_IO, 2, "open \"/etc/x\" failed");
  brt_error_wrap(BRT_E_CPP_EXCEPTION, BRT_ORIGIN_CPP, "std::filesystem::filesystem_error",
                 "the plugin threw");
  brt_error_info info = {.struct_size = sizeof info, .code = BRT_E_PLUGIN,
                         .origin = BRT_ORIGIN_PLUGIN,
                         .message = "algorithm \"x\" failed \xE2\x9C\x93",
                         .os_code = -7, .os_category = "system", .path1 = "/a", .path2 = "/b",
                         .cause = brt_error_take()};
  brt_error_record(&info);
  brt_error *error = brt_error_take();
  brt_wire_buf buf = {0};
  _brt_isolation_wire_error_put(&buf, error);
  assert_false(buf.failed);
  brt_wire_reader r = {buf.data, buf.len, 0, false, BRT_OK};
  brt_error *copy = _brt_isolation_wire_error_get(&r);
  assert_non_null(copy);
  assert_int_equal(r.pos, buf.len);
  assert_null(brt_last_error()); /* taken, not left as the thread's error */
  const brt_error *a = error, *b = copy;
  int depth = 0;
  for (; a; a = brt_error_cause(a), b = brt_error_cause(b), depth++) {
    assert_non_null(b);
    assert_int_equal(brt_error_code(a), brt_error_code(b));
    assert_int_equal(brt_error_origin(a), brt_error_origin(b));
    assert_string_equal(brt_error_message(a), brt_error_message(b));
    assert_int_equal(brt_error_os_code(a), brt_error_os_code(b));
    for (int k = 0; k < 4; k++) {
      const char *x = k == 0 ? brt_error_type(a) : k == 1 ? brt_error_os_category(a)
                                                          : brt_error_path(a, (unsigned)k - 2);
      const char *y = k == 0 ? brt_error_type(b) : k == 1 ? brt_error_os_category(b)
                                                          : brt_error_path(b, (unsigned)k - 2);
      if (!x) assert_null(y);
      else assert_string_equal(x, y);
    }
  }
  assert_null(b);
  assert_int_equal(depth, 3);
  assert_null(brt_error_type(brt_error_cause(brt_error_cause(copy)))); /* absent stays absent */
  assert_int_equal(brt_error_os_code(brt_error_cause(brt_error_cause(copy))), 2);
  /* Truncated anywhere: CONVERSION, nothing leaked (ASan checks malloc). */
  for (size_t len = 0; len < buf.len; len++) {
    brt_wire_reader cut = {buf.data, len, 0, false, BRT_OK};
    assert_null_with(_brt_isolation_wire_error_get(&cut), BRT_E_CONVERSION);
  }
  brt_error_free(copy);
  brt_error_free(error);
  _brt_isolation_wire_buf_free(&buf);
  _brt_isolation_wire_error_put(&buf, NULL);
  assert_true(buf.failed);
  _brt_isolation_wire_buf_free(&buf);
}

static void error_refused(brt_wire_buf *m, const char *needle) {
  brt_wire_reader r = {m->data, m->len, 0, false, BRT_OK};
  assert_null_with(_brt_isolation_wire_error_get(&r), BRT_E_CONVERSION);
  assert_last_error(BRT_E_CONVERSION, needle);
  _brt_isolation_wire_buf_free(m);
}

/* One error of a chain: the code and origin given, message "m", nothing else. */
#define ERROR_BODY(code, origin) \
  U32(code), U32(origin), STR(NULL), STR("m"), U32(0), STR(NULL), STR(NULL), STR(NULL)

static void test_bad_errors(void **state) {
  (void)state;
  MESSAGE(ok, U32(1), ERROR_BODY(BRT_E_TIMEOUT, BRT_ORIGIN_C));
  brt_wire_reader r = {ok.data, ok.len, 0, false, BRT_OK};
  brt_error *fine = _brt_isolation_wire_error_get(&r);
  assert_int_equal(brt_error_code(fine), BRT_E_TIMEOUT);
  brt_error_free(fine);
  _brt_isolation_wire_buf_free(&ok);
  MESSAGE(zero_code, U32(1), ERROR_BODY(0, BRT_ORIGIN_C));
  error_refused(&zero_code, "code 0");
  MESSAGE(new_code, U32(2), ERROR_BODY(BRT_E_IO, 0), ERROR_BODY(BRT_STATUS_COUNT, 0));
  error_refused(&new_code, "status table");
  MESSAGE(bad_origin, U32(1), ERROR_BODY(BRT_E_IO, BRT_ORIGIN_COUNT));
  error_refused(&bad_origin, "origin 5");
  MESSAGE(no_errors, U32(0));
  error_refused(&no_errors, "chain of 0 errors");
  MESSAGE(too_many, U32(BRT_ERROR_CAUSE_DEPTH_MAX + 1));
  error_refused(&too_many, "chain of 17 errors");
  MESSAGE(nul_inside, U32(1), U32(BRT_E_IO), U32(0), BYTES("a\0b", 3));
  error_refused(&nul_inside, "NUL byte inside");
  assert_null_with(_brt_isolation_wire_error_get(NULL), BRT_E_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_error_chains),
      cmocka_unit_test(test_bad_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
