/* Value calls: brt_call and brt_call_json with schemas (JSON Pointer in the
 * message), results and ownership, failures naming the algorithm, C++
 * exceptions, deadlines, unknown names, unregister during a value call. */
#include "bridge_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

static const char *sum_schema =
    "{\"type\":\"object\",\"required\":[\"values\"],\"additionalProperties\":false,"
    "\"properties\":{\"values\":{\"type\":\"array\",\"maxItems\":4,"
    "\"items\":{\"type\":\"number\"}}}}";

/* Sums params.values; fails with OUT_OF_RANGE for a negative sum. */
static brt_status sum_values(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  const brt_value *values = brt_value_object_get(params, "values", 6);
  size_t n = 0;
  brt_value_array_length(values, &n);
  double total = 0;
  for (size_t i = 0; i < n; i++) {
    double x = 0;
    brt_value_get_number(brt_value_array_get(values, i), &x);
    total += x;
  }
  if (total < 0)
    return brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL, "the sum %g is negative", total);
  *result = brt_value_float(total);
  return BRT_OK;
}

static brt_status forgets_result(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  (void)params;
  (void)result;
  return BRT_OK;
}

static brt_status fails_silently(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  (void)params;
  (void)result;
  return BRT_E_IO;
}

static uint64_t seen_deadline;
static brt_status slow_echo(void *ctx, const brt_value *params, brt_value **result) {
  long ms = (long)(intptr_t)ctx;
  seen_deadline = brt_call_deadline();
  for (long i = 0; i < ms && !brt_call_cancelled(); i++) {
    struct timespec t = {0, 1000000};
    nanosleep(&t, NULL);
  }
  brt_value_retain(params);
  *result = (brt_value *)params;
  return BRT_OK;
}

static brt_runtime *runtime_with_sum(void) {
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = {.struct_size = sizeof a, .name = "sum", .version = "1.0.0",
                     .input_schema = sum_schema, .value_fn = sum_values};
  assert_ok(brt_register(rt, &a));
  return rt;
}

static void test_call_json(void **state) {
  (void)state;
  brt_runtime *rt = runtime_with_sum();
  char *out = NULL;
  assert_ok(brt_call_json(rt, "sum", "{\"values\":[1,2,3.5]}", &out));
  assert_string_equal(out, "6.5");
  assert_ok(brt_release(out));
  assert_ok(brt_call_json(rt, "sum@1.0.0", "{\"values\":[]}", &out));
  assert_ok(brt_release(out));
  brt_runtime_close(rt);
}

static void test_call_value(void **state) {
  (void)state;
  brt_runtime *rt = runtime_with_sum();
  brt_value *params = brt_value_from_json("{\"values\":[2,2]}", 16, 0);
  brt_value *result = NULL;
  assert_ok(brt_call(rt, "sum", params, &result));
  double x = 0;
  assert_ok(brt_value_get_float(result, &x));
  assert_true(x == 4.0);
  brt_value_release(result);
  assert_status(brt_call(rt, "sum", NULL, &result), BRT_E_INVALID_ARGUMENT);
  assert_null(result);
  assert_status(brt_call(rt, "sum", params, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_call(NULL, "sum", params, &result), BRT_E_INVALID_ARGUMENT);
  brt_value_release(params);
  brt_runtime_close(rt);
}

static void test_schema_failures_name_the_pointer(void **state) {
  (void)state;
  brt_runtime *rt = runtime_with_sum();
  char *out = (char *)"untouched";
  assert_status(brt_call_json(rt, "sum", "{\"values\":[1,\"two\"]}", &out), BRT_E_VALIDATION);
  assert_null(out);
  assert_last_error(BRT_E_VALIDATION, "sum@1.0.0");
  assert_last_error(BRT_E_VALIDATION, "/values/1");
  assert_status(brt_call_json(rt, "sum", "{\"values\":[1,2,3,4,5]}", &out), BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "/values");
  assert_status(brt_call_json(rt, "sum", "{\"other\":1}", &out), BRT_E_VALIDATION);
  assert_status(brt_call_json(rt, "sum", "[1]", &out), BRT_E_VALIDATION);
  brt_runtime_close(rt);
}

static void test_bad_json_and_arguments(void **state) {
  (void)state;
  brt_runtime *rt = runtime_with_sum();
  char *out = NULL;
  assert_status(brt_call_json(rt, "sum", "{\"values\":[1,", &out), BRT_E_CONVERSION);
  assert_last_error(BRT_E_CONVERSION, "not valid JSON");
  assert_last_error(BRT_E_CONVERSION, "line 1, column");
  assert_null(out);
  assert_status(brt_call_json(rt, "sum", NULL, &out), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_call_json(rt, "sum", "{}", NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_call_json(rt, NULL, "{}", &out), BRT_E_INVALID_ARGUMENT);
  brt_runtime_close(rt);
}

static void test_unknown_name_suggests(void **state) {
  (void)state;
  brt_runtime *rt = runtime_with_sum();
  char *out = NULL;
  assert_status(brt_call_json(rt, "summ", "{\"values\":[]}", &out), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "did you mean \"sum\"?");
  assert_status(brt_call_json(rt, "sum@2.0.0", "{\"values\":[]}", &out), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "registered versions: 1.0.0");
  brt_runtime_close(rt);
}

static void test_algorithm_failures(void **state) {
  (void)state;
  brt_runtime *rt = runtime_with_sum();
  char *out = NULL;
  assert_status(brt_call_json(rt, "sum", "{\"values\":[-3]}", &out), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "algorithm \"sum@1.0.0\" failed: the sum -3 is negative");
  assert_string_equal(brt_error_message(brt_error_cause(brt_last_error())), "the sum -3 is negative");

  brt_algorithm a = {.struct_size = sizeof a, .name = "forgets", .version = "1.0.0",
                     .value_fn = forgets_result};
  assert_ok(brt_register(rt, &a));
  assert_status(brt_call_json(rt, "forgets", "{}", &out), BRT_E_PLUGIN);
  assert_last_error(BRT_E_PLUGIN, "without a result");
  a.name = "silent";
  a.value_fn = fails_silently;
  assert_ok(brt_register(rt, &a));
  assert_status(brt_call_json(rt, "silent", "{}", &out), BRT_E_IO);
  assert_last_error(BRT_E_IO, "without recording an error");
  brt_runtime_close(rt);
}

static void test_native_only_and_bad_schema(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = {.struct_size = sizeof a, .name = "nat", .version = "1.0.0",
                     .native_fn = BRT_NATIVE_FN(sum_values), .signature = "void()"};
  assert_ok(brt_register(rt, &a));
  char *out = NULL;
  assert_status(brt_call_json(rt, "nat", "{}", &out), BRT_E_UNSUPPORTED);
  assert_last_error(BRT_E_UNSUPPORTED, "brt_prepare");
  brt_algorithm bad = {.struct_size = sizeof bad, .name = "bad", .version = "1.0.0",
                       .value_fn = sum_values, .input_schema = "{\"type\": 12}"};
  assert_status(brt_register(rt, &bad), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "input_schema does not compile");
  assert_last_error(BRT_E_INVALID_ARGUMENT, "/type");
  bad.input_schema = "not json";
  assert_status(brt_register(rt, &bad), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_prepare(rt, "bad"), BRT_E_NOT_FOUND);
  brt_runtime_close(rt);
}

static void test_deadlines(void **state) {
  (void)state;
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.default_timeout_ms = 20;
  brt_runtime *rt = brt_runtime_open(&cfg);
  brt_algorithm a = {.struct_size = sizeof a, .name = "slow", .version = "1.0.0",
                     .value_fn = slow_echo, .ctx = (void *)(intptr_t)60};
  assert_ok(brt_register(rt, &a));
  a.name = "quick";
  a.ctx = (void *)(intptr_t)1;
  assert_ok(brt_register(rt, &a));
  a.name = "patient";
  a.ctx = (void *)(intptr_t)30;
  a.timeout_ms = 5000;
  assert_ok(brt_register(rt, &a));
  char *out = NULL;
  assert_status(brt_call_json(rt, "slow", "[1]", &out), BRT_E_TIMEOUT);
  assert_last_error(BRT_E_TIMEOUT, "past its deadline of 20.000 ms");
  assert_null(out);
  assert_true(seen_deadline != 0);
  assert_ok(brt_call_json(rt, "quick", "[1]", &out));
  assert_string_equal(out, "[1]");
  brt_release(out);
  assert_ok(brt_call_json(rt, "patient", "[2]", &out)); /* its own timeout wins */
  brt_release(out);
  brt_runtime_close(rt);
}

typedef struct value_call {
  brt_runtime *rt;
  brt_status status;
  char *out;
  _Atomic int started;
} value_call;

static void *call_slow(void *arg) {
  value_call *c = arg;
  atomic_store(&c->started, 1);
  c->status = brt_call_json(c->rt, "slow", "{\"x\":1}", &c->out);
  return NULL;
}

static void test_unregister_during_value_call(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = {.struct_size = sizeof a, .name = "slow", .version = "1.0.0",
                     .value_fn = slow_echo, .ctx = (void *)(intptr_t)5000};
  assert_ok(brt_register(rt, &a));
  value_call c = {.rt = rt};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, call_slow, &c), 0);
  while (!atomic_load(&c.started)) {
    struct timespec t = {0, 1000000};
    nanosleep(&t, NULL);
  }
  struct timespec t = {0, 30000000};
  nanosleep(&t, NULL);
  assert_ok(brt_unregister(rt, "slow")); /* returns at once; the call notices */
  pthread_join(thread, NULL);
  assert_ok(c.status);
  assert_string_equal(c.out, "{\"x\":1}");
  brt_release(c.out);
  brt_runtime_close(rt);
}

static void test_metrics_count_value_calls(void **state) {
  (void)state;
  brt_runtime *rt = runtime_with_sum();
  char *out = NULL;
  for (int i = 0; i < 3; i++) {
    assert_ok(brt_call_json(rt, "sum", "{\"values\":[1]}", &out));
    brt_release(out);
  }
  assert_status(brt_call_json(rt, "sum", "{\"values\":[\"x\"]}", &out), BRT_E_VALIDATION);
  char *metrics = NULL;
  assert_ok(brt_metrics_export(rt, BRT_FORMAT_PROMETHEUS, &metrics));
  assert_non_null(strstr(metrics, "sum"));
  assert_non_null(strstr(metrics, "BRT_E_VALIDATION"));
  brt_release(metrics);
  brt_runtime_close(rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_call_json),
      cmocka_unit_test(test_call_value),
      cmocka_unit_test(test_schema_failures_name_the_pointer),
      cmocka_unit_test(test_bad_json_and_arguments),
      cmocka_unit_test(test_unknown_name_suggests),
      cmocka_unit_test(test_algorithm_failures),
      cmocka_unit_test(test_native_only_and_bad_schema),
      cmocka_unit_test(test_deadlines),
      cmocka_unit_test(test_unregister_during_value_call),
      cmocka_unit_test(test_metrics_count_value_calls),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
