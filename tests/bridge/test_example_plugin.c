/* The example plugin (examples/matrix_plugin) through the runtime: its
 * native calls and the error model end to end — each standard exception
 * `fail` throws arrives as its documented status, type and OS code. */
#include "bridge_test.h"

#include <errno.h>
#include <string.h>

static brt_runtime *open_examples(void) {
  const char *root = getenv("BRT_BUILD_ROOT");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/examples/matrix_plugin", root ? root : ".");
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_ok(brt_plugin_load_dir(rt, dir));
  return rt;
}

static void expect_json(brt_runtime *rt, const char *params, const char *expected) {
  char *out = NULL;
  assert_ok(brt_call_json(rt, "matrix_multiplication", params, &out));
  assert_string_equal(out, expected);
  assert_ok(brt_release(out));
}

static void test_matrix_multiplication(void **state) {
  (void)state;
  brt_runtime *rt = open_examples();
  expect_json(rt, "{\"matrix_a\": [[1,2],[3,4]], \"matrix_b\": [[5,6],[7,8]]}",
              "[[19,22],[43,50]]");
  expect_json(rt, "{\"matrix_a\": [[1,2,3]], \"matrix_b\": [[1],[2],[3]]}", "[[14]]");
  expect_json(rt, "{\"matrix_a\": [[0.5]], \"matrix_b\": [[3, 1]]}", "[[1.5,0.5]]");
  char *out = NULL;
  assert_status(brt_call_json(rt, "matrix_multiplication",
                              "{\"matrix_a\": [[1,2,3],[4,5,6]], \"matrix_b\": [[1,2],[3,4]]}",
                              &out),
                BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "matrix_a is 2x3 and matrix_b is 2x2");
  assert_status(brt_call_json(rt, "matrix_multiplication",
                              "{\"matrix_a\": [[1,2],[3]], \"matrix_b\": [[1,2],[3,4]]}", &out),
                BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "matrix_a is not rectangular: row 1 has 1 columns");
  assert_status(brt_call_json(rt, "matrix_multiplication",
                              "{\"matrix_a\": [[1,2],[3,\"x\"]], \"matrix_b\": [[5,6],[7,8]]}",
                              &out),
                BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "/matrix_a/1/1: expected number, got string");
  assert_status(brt_call_json(rt, "matrix_multiplication", "{\"matrix_a\": [[1]]}", &out),
                BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "matrix_b");
  assert_status(brt_call_json(rt, "matrix_multiplicaton", "{}", &out), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "did you mean \"matrix_multiplication\"?");
  assert_null(out);
  brt_runtime_close(rt);
}

static void test_dot(void **state) {
  (void)state;
  brt_runtime *rt = open_examples();
  brt_prepared *dot = brt_prepare(rt, "dot");
  double a[4] = {1, -2, 3.5, 0}, b[4] = {2, 2, 2, 9}, out = -1;
  const double *pa = a, *pb = b;
  uint64_t n = 4;
  void *args[] = {&pa, &pb, &n};
  assert_ok(brt_invoke(dot, &out, args));
  assert_true(out == 5.0);
  n = 0;
  assert_ok(brt_invoke(dot, &out, args));
  assert_true(out == 0.0);
  n = 2;
  pa = NULL;
  assert_status(brt_invoke(dot, &out, args), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "NULL");
  brt_prepared_free(dot);
  brt_runtime_close(rt);
}

static void test_fail_maps_every_standard_exception(void **state) {
  (void)state;
  brt_runtime *rt = open_examples();
  brt_prepared *fail = brt_prepare(rt, "fail");
  const struct {
    const char *which;
    brt_status status;
    const char *type;
  } cases[] = {
      {"std::invalid_argument", BRT_E_INVALID_ARGUMENT, "std::invalid_argument"},
      {"std::domain_error", BRT_E_INVALID_ARGUMENT, "std::domain_error"},
      {"std::out_of_range", BRT_E_OUT_OF_RANGE, "std::out_of_range"},
      {"std::length_error", BRT_E_OUT_OF_RANGE, "std::length_error"},
      {"std::runtime_error", BRT_E_CPP_EXCEPTION, "std::runtime_error"},
      {"std::bad_alloc", BRT_E_OUT_OF_MEMORY, "std::bad_alloc"},
      {"std::bad_cast", BRT_E_TYPE_MISMATCH, "std::bad_cast"},
      {"std::system_error", BRT_E_IO, "std::system_error"},
      {"int", BRT_E_CPP_EXCEPTION, "int"},
      {"no_such_exception", BRT_E_INVALID_ARGUMENT, "std::invalid_argument"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const char *which = cases[i].which;
    void *args[] = {&which};
    brt_error_clear();
    brt_status status = brt_invoke(fail, NULL, args);
    if (status != cases[i].status)
      fail_msg("fail(%s) returned %s, expected %s", which, brt_status_name(status),
               brt_status_name(cases[i].status));
    assert_last_error(cases[i].status, "fail@1.0.0");
    const brt_error *cause = brt_error_cause(brt_last_error());
    assert_non_null(cause);
    assert_int_equal(brt_error_origin(cause), BRT_ORIGIN_CPP);
    assert_string_equal(brt_error_type(cause), cases[i].type);
    if (strcmp(which, "std::system_error") == 0) assert_int_equal(brt_error_os_code(cause), ENOENT);
  }
  brt_prepared_free(fail);
  brt_runtime_close(rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matrix_multiplication),
      cmocka_unit_test(test_dot),
      cmocka_unit_test(test_fail_maps_every_standard_exception),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
