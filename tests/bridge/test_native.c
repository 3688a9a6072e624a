/* Native calls: the signature grammar, every type through libffi, compiled
 * thunks, failures and deadlines. */
#include "bridge_test.h"

#include <stdbool.h>
#include <string.h>
#include <time.h>

static int8_t neg_i8(int8_t x) { return (int8_t)-x; }
static int16_t neg_i16(int16_t x) { return (int16_t)-x; }
static int32_t neg_i32(int32_t x) { return -x; }
static int64_t neg_i64(int64_t x) { return -x; }
static uint8_t inc_u8(uint8_t x) { return (uint8_t)(x + 1); }
static uint16_t inc_u16(uint16_t x) { return (uint16_t)(x + 1); }
static uint32_t inc_u32(uint32_t x) { return x + 1; }
static uint64_t inc_u64(uint64_t x) { return x + 1; }
static float half_f32(float x) { return x / 2; }
static double half_f64(double x) { return x / 2; }
static bool not_bool(bool x) { return !x; }
static void *same_ptr(void *p) { return p; }
static uint64_t str_len(const char *s) { return strlen(s); }
static int calls_to_touch;
static void touch(void) { calls_to_touch++; }
static double mix(int8_t a, uint16_t b, int32_t c, uint64_t d, float e, double f, bool g,
                  const char *h) {
  return a + b + c + (double)d + e + f + (g ? 1000 : 0) + (double)strlen(h);
}

typedef void *ptr_t;

static brt_runtime *rt_with(const char *name, void *fn, const char *signature) {
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = {.struct_size = sizeof a, .name = name, .version = "1.0.0",
                     .native_fn = fn, .signature = signature};
  assert_ok(brt_register(rt, &a));
  return rt;
}

#define CHECK_UNARY(name, fn, sig, type, input, expected)            \
  do {                                                               \
    brt_runtime *rt = rt_with(name, BRT_NATIVE_FN(fn), sig);                \
    brt_prepared *p = brt_prepare(rt, name);                         \
    assert_non_null(p);                                              \
    type in = (input);                                               \
    type out;                                          \
    memset(&out, 0x5a, sizeof out);                                  \
    void *args[] = {&in};                                            \
    assert_ok(brt_invoke(p, &out, args));                            \
    assert_true(out == (expected));                                  \
    brt_prepared_free(p);                                            \
    brt_runtime_close(rt);                                           \
  } while (0)

static void test_every_type_through_libffi(void **state) {
  (void)state;
  CHECK_UNARY("i8", neg_i8, "i8(i8)", int8_t, -100, 100);
  CHECK_UNARY("i16", neg_i16, "i16(i16)", int16_t, 3000, -3000);
  CHECK_UNARY("i32", neg_i32, "i32(i32)", int32_t, -70000, 70000);
  CHECK_UNARY("i64", neg_i64, "i64(i64)", int64_t, INT64_C(1) << 40, -(INT64_C(1) << 40));
  CHECK_UNARY("u8", inc_u8, "u8(u8)", uint8_t, 254, 255);
  CHECK_UNARY("u16", inc_u16, "u16(u16)", uint16_t, 65534, 65535);
  CHECK_UNARY("u32", inc_u32, "u32(u32)", uint32_t, 4000000000u, 4000000001u);
  CHECK_UNARY("u64", inc_u64, "u64(u64)", uint64_t, UINT64_C(1) << 63, (UINT64_C(1) << 63) + 1);
  CHECK_UNARY("f32", half_f32, "f32(f32)", float, 3.0f, 1.5f);
  CHECK_UNARY("f64", half_f64, "f64(f64)", double, 5.0, 2.5);
  CHECK_UNARY("bool", not_bool, "bool(bool)", bool, true, false);
  int target;
  CHECK_UNARY("ptr", same_ptr, "ptr(ptr)", ptr_t, &target, &target);
  brt_runtime *rt = rt_with("str", BRT_NATIVE_FN(str_len), "u64(str)");
  brt_prepared *p = brt_prepare(rt, "str");
  const char *text = "hello";
  uint64_t length = 0;
  void *args[] = {&text};
  assert_ok(brt_invoke(p, &length, args));
  assert_int_equal(length, 5);
  brt_prepared_free(p);
  brt_runtime_close(rt);
}

static void test_void_and_many_arguments(void **state) {
  (void)state;
  brt_runtime *rt = rt_with("touch", BRT_NATIVE_FN(touch), "void(void)");
  brt_prepared *p = brt_prepare(rt, "touch");
  assert_string_equal(brt_prepared_signature(p), "void()");
  assert_ok(brt_invoke(p, NULL, NULL));
  assert_ok(brt_invoke(p, NULL, NULL));
  assert_int_equal(calls_to_touch, 2);
  brt_prepared_free(p);
  brt_runtime_close(rt);

  rt = rt_with("mix", BRT_NATIVE_FN(mix), " f64 ( i8 , u16,i32,u64, f32,f64,bool,str ) ");
  p = brt_prepare(rt, "mix");
  assert_string_equal(brt_prepared_signature(p), "f64(i8,u16,i32,u64,f32,f64,bool,str)");
  int8_t a = -1;
  uint16_t b = 2;
  int32_t c = 3;
  uint64_t d = 4;
  float e = 0.5f;
  double f = 0.25, out = 0;
  bool g = true;
  const char *h = "abc";
  void *args[] = {&a, &b, &c, &d, &e, &f, &g, &h};
  assert_ok(brt_invoke(p, &out, args));
  assert_true(out == -1 + 2 + 3 + 4 + 0.5 + 0.25 + 1000 + 3);
  brt_prepared_free(p);
  brt_runtime_close(rt);
}

static void test_bad_signatures(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  const char *bad[] = {"", "f64", "f64(", "f64(i64", "f64(i64,)", "f64(,i64)", "f64(void,i64)",
                       "f64(i64,void)", "int(i64)", "f64(i64))", "f64(i64) x", "(i64)",
                       "f64(i128)", "F64(i64)", "f64[i64]"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    brt_algorithm a = {.struct_size = sizeof a, .name = "s", .version = "1.0.0",
                       .native_fn = BRT_NATIVE_FN(half_f64), .signature = bad[i]};
    brt_error_clear();
    if (brt_register(rt, &a) != BRT_E_INVALID_ARGUMENT)
      fail_msg("signature \"%s\" was accepted", bad[i]);
    assert_last_error(BRT_E_INVALID_ARGUMENT, "signature");
  }
  char many[512] = "void(";
  for (int i = 0; i < BRT_SIGNATURE_MAX_ARGS + 1; i++) strcat(many, i ? ",i8" : "i8");
  strcat(many, ")");
  brt_algorithm a = {.struct_size = sizeof a, .name = "s", .version = "1.0.0",
                     .native_fn = BRT_NATIVE_FN(touch), .signature = many};
  assert_status(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "more than 32 arguments");
  a.signature = "f64(f64)";
  a.native_fn = NULL;
  a.value_fn = NULL;
  assert_status(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT);
  brt_runtime_close(rt);
}

static void test_invoke_checks_arguments(void **state) {
  (void)state;
  brt_runtime *rt = rt_with("h", BRT_NATIVE_FN(half_f64), "f64(f64)");
  brt_prepared *p = brt_prepare(rt, "h");
  double x = 1, out;
  void *args[] = {&x};
  void *null_args[] = {NULL};
  assert_status(brt_invoke(p, NULL, args), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "ret is NULL");
  assert_status(brt_invoke(p, &out, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "args is NULL");
  assert_status(brt_invoke(p, &out, null_args), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "args[0] is NULL");
  brt_prepared_free(p);
  brt_runtime_close(rt);
}

/* A compiled thunk, as the C++ shim generates from a function's type. */
static int thunk_calls;
static brt_status half_thunk(void *fn, void *ret, void **args) {
  thunk_calls++;
  *(double *)ret = BRT_NATIVE_AS(double (*)(double), fn)(*(double *)args[0]);
  return BRT_OK;
}

static brt_status refusing_thunk(void *fn, void *ret, void **args) {
  (void)fn;
  (void)ret;
  return brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_CPP, "std::out_of_range",
                       "index %d is past the end", *(int *)args[0]);
}

static void test_thunks(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = {.struct_size = sizeof a, .name = "half", .version = "1.0.0",
                     .native_fn = BRT_NATIVE_FN(half_f64), .signature = "f64(f64)",
                     .native_thunk = half_thunk};
  assert_ok(brt_register(rt, &a));
  brt_prepared *p = brt_prepare(rt, "half");
  double x = 9, out = 0;
  void *args[] = {&x};
  assert_ok(brt_invoke(p, &out, args));
  assert_true(out == 4.5);
  assert_int_equal(thunk_calls, 1);
  brt_prepared_free(p);

  brt_algorithm b = {.struct_size = sizeof b, .name = "at", .version = "1.0.0",
                     .native_fn = BRT_NATIVE_FN(touch), .signature = "void(i32)",
                     .native_thunk = refusing_thunk};
  assert_ok(brt_register(rt, &b));
  p = brt_prepare(rt, "at");
  int index = 12;
  void *at_args[] = {&index};
  assert_status(brt_invoke(p, NULL, at_args), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "algorithm \"at@1.0.0\" failed: index 12 is past the end");
  const brt_error *cause = brt_error_cause(brt_last_error());
  assert_non_null(cause);
  assert_string_equal(brt_error_type(cause), "std::out_of_range");
  brt_prepared_free(p);
  brt_runtime_close(rt);
}

/* Every call is recorded by the runtime's monitor: an algorithm that keeps
 * failing is isolated and then fails fast without running. */
static int refusals;
static brt_status counting_refusal(void *fn, void *ret, void **args) {
  (void)fn;
  (void)ret;
  (void)args;
  refusals++;
  return brt_error_set(BRT_E_IO, BRT_ORIGIN_C, NULL, "disk unplugged");
}

static void test_failing_algorithm_is_isolated(void **state) {
  (void)state;
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.error_window = 10;
  cfg.error_rate_threshold = 0.5;
  cfg.cooldown_ms = 60000;
  brt_runtime *rt = brt_runtime_open(&cfg);
  brt_algorithm a = {.struct_size = sizeof a, .name = "flaky", .version = "1.0.0",
                     .native_fn = BRT_NATIVE_FN(touch), .signature = "void()",
                     .native_thunk = counting_refusal};
  assert_ok(brt_register(rt, &a));
  brt_prepared *p = brt_prepare(rt, "flaky");
  int isolated = 0;
  for (int i = 0; i < 40; i++) {
    brt_status status = brt_invoke(p, NULL, NULL);
    assert_true(status == BRT_E_IO || status == BRT_E_ISOLATED);
    if (status == BRT_E_ISOLATED) {
      isolated++;
      assert_last_error(BRT_E_ISOLATED, "flaky");
    }
  }
  assert_true(isolated > 0);
  assert_int_equal(refusals + isolated, 40); /* isolated calls never ran */
  brt_prepared_free(p);

  char *text = NULL;
  assert_ok(brt_metrics_export(rt, BRT_FORMAT_PROMETHEUS, &text));
  assert_non_null(strstr(text, "flaky"));
  assert_non_null(strstr(text, "bridgert_algorithms_registered 1"));
  assert_ok(brt_release(text));
  assert_ok(brt_metrics_export(rt, BRT_FORMAT_JSON, &text));
  assert_true(text[0] == '{');
  assert_ok(brt_release(text));
  assert_status(brt_metrics_export(rt, 77, &text), BRT_E_INVALID_ARGUMENT);
  assert_null(text);
  assert_status(brt_metrics_export(rt, BRT_FORMAT_JSON, NULL), BRT_E_INVALID_ARGUMENT);
  brt_health_level level = BRT_HEALTHY;
  assert_ok(brt_health_check_level(rt, &level, &text));
  assert_non_null(strstr(text, "\"status\""));
  assert_int_not_equal(level, BRT_HEALTHY); /* an isolated algorithm degrades health */
  assert_ok(brt_release(text));
  assert_ok(brt_health_check(rt, &text));
  assert_ok(brt_release(text));
  assert_status(brt_health_check(rt, NULL), BRT_E_INVALID_ARGUMENT);
  brt_runtime_close(rt);
}

static void test_prepare_value_only_is_unsupported(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = {.struct_size = sizeof a, .name = "v", .version = "1.0.0",
                     .value_fn = BRT_NATIVE_AS(brt_value_fn, BRT_NATIVE_FN(touch))};
  assert_ok(brt_register(rt, &a));
  assert_null_with(brt_prepare(rt, "v"), BRT_E_UNSUPPORTED);
  assert_last_error(BRT_E_UNSUPPORTED, "no native function");
  brt_runtime_close(rt);
}

static uint64_t seen_deadline;
static int seen_cancelled_before, seen_cancelled_after;
static void sleep_ms(uint32_t ms) {
  seen_deadline = brt_call_deadline();
  seen_cancelled_before = brt_call_cancelled();
  struct timespec t = {0, (long)ms * 1000000L};
  nanosleep(&t, NULL);
  seen_cancelled_after = brt_call_cancelled();
}

static void test_deadlines(void **state) {
  (void)state;
  assert_int_equal(brt_call_deadline(), 0);
  assert_int_equal(brt_call_cancelled(), 0);
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = {.struct_size = sizeof a, .name = "sleep", .version = "1.0.0",
                     .native_fn = BRT_NATIVE_FN(sleep_ms), .signature = "void(u32)", .timeout_ms = 20};
  assert_ok(brt_register(rt, &a));
  brt_prepared *p = brt_prepare(rt, "sleep");
  uint32_t ms = 1;
  void *args[] = {&ms};
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  uint64_t before = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
  assert_ok(brt_invoke(p, NULL, args));
  assert_true(seen_deadline > before && seen_deadline <= before + 25000000u);
  assert_int_equal(seen_cancelled_before, 0);
  ms = 40;
  assert_status(brt_invoke(p, NULL, args), BRT_E_TIMEOUT);
  assert_last_error(BRT_E_TIMEOUT, "past its deadline of 20.000 ms");
  assert_int_equal(seen_cancelled_after, 1);
  assert_int_equal(brt_call_deadline(), 0); /* the frame is gone */
  brt_prepared_free(p);

  /* Without timeout_ms a native call has no deadline at all. */
  a.name = "sleep_free";
  a.timeout_ms = 0;
  assert_ok(brt_register(rt, &a));
  p = brt_prepare(rt, "sleep_free");
  ms = 1;
  assert_ok(brt_invoke(p, NULL, args));
  assert_int_equal(seen_deadline, 0);
  brt_prepared_free(p);
  brt_runtime_close(rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_type_through_libffi),
      cmocka_unit_test(test_void_and_many_arguments),
      cmocka_unit_test(test_bad_signatures),
      cmocka_unit_test(test_invoke_checks_arguments),
      cmocka_unit_test(test_thunks),
      cmocka_unit_test(test_failing_algorithm_is_isolated),
      cmocka_unit_test(test_prepare_value_only_is_unsupported),
      cmocka_unit_test(test_deadlines),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
