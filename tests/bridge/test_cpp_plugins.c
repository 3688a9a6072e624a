/* Plugins written with the C++ shim (<bridgert/plugin.hpp>): derived
 * signatures, compiled thunks, exceptions as typed errors, BRT_PLUGIN's
 * guard. Driven from C through the public ABI. */
#include "bridge_test.h"

#include <stdbool.h>
#include <string.h>

static brt_runtime *load(const char *name) {
  char path[4096];
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_ok(brt_plugin_load(rt, test_plugin(name, path, sizeof path)));
  return rt;
}

static void test_signatures_derived(void **state) {
  (void)state;
  brt_runtime *rt = load("cpp_native");
  const struct {
    const char *name, *signature;
  } expected[] = {{"dot", "f64(ptr,ptr,u64)"}, {"clamp16", "i16(i32)"},
                  {"checked_index", "u32(u32,u32)"}, {"starts_with_a", "bool(str)"},
                  {"throw_int", "void()"}, {"half", "f32(f32)"}};
  for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++) {
    brt_prepared *p = brt_prepare(rt, expected[i].name);
    assert_non_null(p);
    assert_string_equal(brt_prepared_signature(p), expected[i].signature);
    brt_prepared_free(p);
  }
  brt_runtime_close(rt);
}

static void test_thunk_calls(void **state) {
  (void)state;
  brt_runtime *rt = load("cpp_native");
  brt_prepared *dot = brt_prepare(rt, "dot");
  double a[] = {1, 2, 3}, b[] = {4, 5, 6}, out = 0;
  const double *pa = a, *pb = b;
  uint64_t n = 3;
  void *args[] = {&pa, &pb, &n};
  assert_ok(brt_invoke(dot, &out, args));
  assert_true(out == 32.0);
  brt_prepared_free(dot);

  brt_prepared *clamp = brt_prepare(rt, "clamp16");
  int32_t x = 100000;
  int16_t clamped = 0;
  void *clamp_args[] = {&x};
  assert_ok(brt_invoke(clamp, &clamped, clamp_args));
  assert_int_equal(clamped, 32767);
  brt_prepared_free(clamp);

  brt_prepared *starts = brt_prepare(rt, "starts_with_a");
  const char *text = "apple";
  bool yes = false;
  void *text_args[] = {&text};
  assert_ok(brt_invoke(starts, &yes, text_args));
  assert_true(yes);
  brt_prepared_free(starts);

  brt_prepared *half = brt_prepare(rt, "half");
  float f = 3.0f, h = 0;
  void *half_args[] = {&f};
  assert_ok(brt_invoke(half, &h, half_args));
  assert_true(h == 1.5f);
  brt_prepared_free(half);
  brt_runtime_close(rt);
}

static void test_exceptions_are_typed_errors(void **state) {
  (void)state;
  brt_runtime *rt = load("cpp_native");
  brt_prepared *p = brt_prepare(rt, "checked_index");
  uint32_t index = 9, size = 4, out = 0;
  void *args[] = {&index, &size};
  assert_status(brt_invoke(p, &out, args), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "checked_index@1.0.0");
  assert_last_error(BRT_E_OUT_OF_RANGE, "index 9 >= size 4");
  const brt_error *cause = brt_error_cause(brt_last_error());
  assert_non_null(cause);
  assert_int_equal(brt_error_origin(cause), BRT_ORIGIN_CPP);
  assert_string_equal(brt_error_type(cause), "std::out_of_range");
  index = 1;
  assert_ok(brt_invoke(p, &out, args));
  assert_int_equal(out, 1);
  brt_prepared_free(p);

  p = brt_prepare(rt, "throw_int");
  assert_status(brt_invoke(p, NULL, NULL), BRT_E_CPP_EXCEPTION);
  assert_string_equal(brt_error_type(brt_error_cause(brt_last_error())), "int");
  brt_prepared_free(p);
  brt_runtime_close(rt);
}

static void test_value_helper_with_cpp_values(void **state) {
  (void)state;
  brt_runtime *rt = load("cpp_native");
  char *out = NULL;
  assert_ok(brt_call_json(rt, "sum", "[1, 2.5, 3]", &out));
  assert_string_equal(out, "6.5");
  brt_release(out);
  assert_status(brt_call_json(rt, "sum", "[1, \"x\"]", &out), BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "/1");
  assert_status(brt_call_json(rt, "sum", "[-1]", &out), BRT_E_INVALID_ARGUMENT);
  assert_string_equal(brt_error_type(brt_error_cause(brt_last_error())), "std::domain_error");
  brt_runtime_close(rt);
}

/* True when some error of the chain has `code` and mentions `text`. */
static bool chain_has(const brt_error *e, brt_status code, const char *text) {
  for (; e; e = brt_error_cause(e))
    if (brt_error_code(e) == code && strstr(brt_error_message(e), text)) return true;
  return false;
}

/* "ones" has a memory limit of 1 MiB per call: a std::vector on
 * brt::allocator of 1000 doubles fits, one of 1 M doubles (8 MB) is
 * refused, and the refusal reaches the host as brt::bad_alloc whose cause
 * is the budget's LIMIT_EXCEEDED naming the algorithm. */
static void test_memory_limit_per_call(void **state) {
  (void)state;
  brt_runtime *rt = load("cpp_native");
  char *out = NULL;
  assert_ok(brt_call_json(rt, "ones", "[1000]", &out));
  assert_string_equal(out, "1000.0");
  brt_release(out);
  assert_status(brt_call_json(rt, "ones", "[1000000]", &out), BRT_E_OUT_OF_MEMORY);
  assert_true(chain_has(brt_last_error(), BRT_E_LIMIT_EXCEEDED,
                        "memory limit of 1048576 bytes of algorithm \"ones@1.0.0\""));
  assert_true(chain_has(brt_last_error(), BRT_E_OUT_OF_MEMORY, "ones@1.0.0"));
  /* The next call and the host's own allocations are not limited. */
  assert_ok(brt_call_json(rt, "ones", "[100000]", &out));
  assert_string_equal(out, "100000.0");
  brt_release(out);
  void *big = brt_alloc(16u << 20, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(big);
  brt_release(big);
  brt_runtime_close(rt);
}

static void test_body_failure_fails_the_load(void **state) {
  (void)state;
  char path[4096];
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_status(brt_plugin_load(rt, test_plugin("cpp_bad_name", path, sizeof path)), BRT_E_PLUGIN);
  assert_last_error(BRT_E_PLUGIN, "Not Valid");
  assert_int_equal(brt_error_code(brt_error_cause(brt_last_error())), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_prepare(rt, "fine"), BRT_E_NOT_FOUND);
  brt_runtime_close(rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_signatures_derived),
      cmocka_unit_test(test_thunk_calls),
      cmocka_unit_test(test_exceptions_are_typed_errors),
      cmocka_unit_test(test_value_helper_with_cpp_values),
      cmocka_unit_test(test_memory_limit_per_call),
      cmocka_unit_test(test_body_failure_fails_the_load),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
