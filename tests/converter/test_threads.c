/* Concurrency: one compiled schema and one value shared read-only by
 * several threads (validate, validate_all, print, equality), and
 * references taken and dropped from several threads at once. Also run
 * under ThreadSanitizer (suite "concurrency"). */
#include "brt_test.h"

#include <pthread.h>

enum { THREADS = 4, ROUNDS = 300 };

typedef struct shared_inputs {
  const brt_schema *schema;
  const brt_value *good, *bad;
  const char *good_text;
  int failures;
} shared_inputs;

static void *validate_worker(void *arg) {
  shared_inputs *in = arg;
  int failures = 0;
  for (int round = 0; round < ROUNDS; round++) {
    if (brt_validate(in->schema, in->good) != BRT_OK) failures++;
    if (brt_validate(in->schema, in->bad) != BRT_E_VALIDATION ||
        !strstr(brt_error_message(brt_last_error()), "/matrix_a/1/0: expected number, got string"))
      failures++;
    brt_value *errors = NULL;
    if (brt_validate_all(in->schema, in->bad, 8, &errors) != BRT_E_VALIDATION || !errors) failures++;
    brt_value_release(errors);
    char *text = brt_value_to_json(in->good, 0);
    if (!text || strcmp(text, in->good_text) != 0) failures++;
    brt_release(text);
    brt_value *copy = brt_value_from_json(in->good_text, strlen(in->good_text), 0);
    if (!brt_value_equal(copy, in->good)) failures++;
    brt_value_release(copy);
  }
  return (void *)(intptr_t)failures;
}

static void test_shared_schema_and_value(void **state) {
  (void)state;
  brt_schema *schema = brt_schema_compile(
      "{\"type\":\"object\",\"properties\":{\"matrix_a\":{\"type\":\"array\",\"items\":{\"type\":\"array\","
      "\"items\":{\"type\":\"number\"}}}}}");
  assert_non_null(schema);
  const char *good_text = "{\"matrix_a\":[[1,2.5],[3,4]],\"name\":\"m\"}";
  const char *bad_text = "{\"matrix_a\":[[1,2],[\"x\",4]]}";
  shared_inputs in = {schema, brt_value_from_json(good_text, strlen(good_text), 0),
                      brt_value_from_json(bad_text, strlen(bad_text), 0), good_text, 0};
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&threads[i], NULL, validate_worker, &in), 0);
  int failures = 0;
  for (int i = 0; i < THREADS; i++) {
    void *result;
    pthread_join(threads[i], &result);
    failures += (int)(intptr_t)result;
  }
  assert_int_equal(failures, 0);
  assert_int_equal(brt_value_refcount(in.good), 1);
  brt_value_release(in.good);
  brt_value_release(in.bad);
  brt_schema_free(schema);
}

typedef struct tensor_inputs {
  const brt_schema *schema;
  const brt_value *tensor;
} tensor_inputs;

static void *tensor_worker(void *arg) {
  tensor_inputs *in = arg;
  int failures = 0;
  for (int round = 0; round < ROUNDS; round++) {
    brt_value_retain(in->tensor);
    if (brt_validate(in->schema, in->tensor) != BRT_OK) failures++;
    double got = 0;
    size_t index[2] = {7, 9};
    if (brt_tensor_get_f64(in->tensor, index, 2, &got) != BRT_OK || got != 79) failures++;
    brt_value_release(in->tensor);
  }
  return (void *)(intptr_t)failures;
}

static void test_shared_tensor_references(void **state) {
  (void)state;
  brt_schema *schema = brt_schema_compile("{\"items\":{\"items\":{\"type\":\"number\",\"minimum\":0}}}");
  size_t shape[2] = {10, 10};
  brt_value *tensor = brt_tensor_new(BRT_DTYPE_F64, 2, shape);
  double *data = brt_tensor_data(tensor);
  for (int i = 0; i < 100; i++) data[i] = i;
  tensor_inputs in = {schema, tensor};
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; i++) assert_int_equal(pthread_create(&threads[i], NULL, tensor_worker, &in), 0);
  int failures = 0;
  for (int i = 0; i < THREADS; i++) {
    void *result;
    pthread_join(threads[i], &result);
    failures += (int)(intptr_t)result;
  }
  assert_int_equal(failures, 0);
  assert_int_equal(brt_value_refcount(tensor), 1);
  brt_value_release(tensor);
  brt_schema_free(schema);
}

/* The last reference may be dropped by any thread: a value built on one
 * thread and released on another frees cleanly. */
static void *release_worker(void *arg) {
  brt_value_release(arg);
  return NULL;
}

static void test_release_on_another_thread(void **state) {
  (void)state;
  brt_mem_stats before = {.struct_size = sizeof before}, after = {.struct_size = sizeof after};
  assert_ok(brt_mem_stats_get(&before));
  for (int i = 0; i < 50; i++) {
    brt_value *value = brt_value_from_json("{\"a\":[1,2,{\"b\":\"c\"}]}", 21, 0);
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, release_worker, value), 0);
    pthread_join(thread, NULL);
  }
  assert_ok(brt_mem_stats_get(&after));
  assert_int_equal(after.live_blocks, before.live_blocks);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shared_schema_and_value),
      cmocka_unit_test(test_shared_tensor_references),
      cmocka_unit_test(test_release_on_another_thread),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
