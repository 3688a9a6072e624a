/* brt_algorithm.memory_limit: each call runs under a memory budget of that
 * many bytes (brt_mem_budget), for value calls (brt_call, brt_call_json)
 * and native calls (brt_invoke, thunk or libffi); a call that would pass
 * it gets LIMIT_EXCEEDED from the allocator; the caller is never limited. */
#include "bridge_test.h"

#include <string.h>

/* {"bytes": n}: allocates n bytes, writes them, returns n. */
static brt_status allocate_bytes(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  int64_t bytes = 0;
  brt_status status = brt_value_get_int(brt_value_object_get(params, "bytes", 5), &bytes);
  if (status != BRT_OK) return status;
  void *p = brt_alloc((size_t)bytes, 16, BRT_MEM_C_HEAP, 0);
  if (!p) return brt_error_code(brt_last_error());
  memset(p, 1, (size_t)bytes);
  brt_release(p);
  *result = brt_value_int(bytes);
  return BRT_OK;
}

/* Native: allocates n bytes and keeps them until the next call; 1 when the
 * allocator gave them, 0 when it refused. */
static void *kept;
static int32_t keep_bytes(uint64_t bytes) {
  if (kept) brt_release(kept);
  kept = brt_alloc(bytes, 16, BRT_MEM_C_HEAP, 0);
  return kept != NULL;
}

static const char *bytes_schema =
    "{\"type\":\"object\",\"required\":[\"bytes\"],"
    "\"properties\":{\"bytes\":{\"type\":\"integer\",\"minimum\":1}}}";

static void test_value_calls(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = {.struct_size = sizeof a, .name = "hog", .version = "1.2.0",
                     .input_schema = bytes_schema, .value_fn = allocate_bytes,
                     .memory_limit = 256 * 1024};
  assert_ok(brt_register(rt, &a));
  char *out = NULL;
  assert_ok(brt_call_json(rt, "hog", "{\"bytes\": 200000}", &out));
  assert_string_equal(out, "200000");
  brt_release(out);
  assert_status(brt_call_json(rt, "hog", "{\"bytes\": 300000}", &out), BRT_E_LIMIT_EXCEEDED);
  assert_null(out);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "hog@1.2.0");
  const brt_error *cause = brt_error_cause(brt_last_error());
  assert_non_null(cause);
  assert_non_null(strstr(brt_error_message(cause), "memory limit of 262144 bytes of algorithm "
                                                   "\"hog@1.2.0\""));
  assert_non_null(strstr(brt_error_message(cause), "allocating 300000 bytes"));
  /* The same algorithm without a limit, and the host itself, allocate freely. */
  brt_algorithm free_hog = a;
  free_hog.version = "2.0.0";
  free_hog.memory_limit = 0;
  assert_ok(brt_register(rt, &free_hog));
  assert_ok(brt_call_json(rt, "hog@2.0.0", "{\"bytes\": 4000000}", &out));
  brt_release(out);
  void *big = brt_alloc(8u << 20, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(big);
  brt_release(big);
  brt_runtime_close(rt);
}

static void test_native_calls(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = {.struct_size = sizeof a, .name = "keep", .version = "1.0.0",
                     .native_fn = BRT_NATIVE_FN(keep_bytes), .signature = "i32(u64)",
                     .memory_limit = 64 * 1024};
  assert_ok(brt_register(rt, &a));
  brt_prepared *p = brt_prepare(rt, "keep");
  assert_non_null(p);
  uint64_t bytes = 32 * 1024;
  int32_t got = -1;
  void *args[] = {&bytes};
  assert_ok(brt_invoke(p, &got, args)); /* through libffi: no thunk */
  assert_int_equal(got, 1);
  bytes = 1u << 20;
  assert_ok(brt_invoke(p, &got, args));
  assert_int_equal(got, 0); /* refused inside the call; the function coped */
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "keep@1.0.0");
  /* Each call has a budget of its own: 60 KiB fits again. */
  bytes = 60 * 1024;
  assert_ok(brt_invoke(p, &got, args));
  assert_int_equal(got, 1);
  brt_prepared_free(p);
  if (kept) brt_release(kept);
  kept = NULL;
  brt_runtime_close(rt);
}

/* The per-call limit belongs to the algorithm: the configuration has only
 * the process-wide max_memory, and a memory_limit key is refused as unknown
 * (docs/config.md) rather than silently ignored. */
static void test_not_a_config_key(void **state) {
  (void)state;
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  static const char text[] = "{\"memory_limit\": 1048576}";
  assert_status(brt_config_load_json_text(text, sizeof text - 1, "test", &cfg),
                BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "unknown key \"memory_limit\"");
  assert_non_null(strstr(brt_error_message(brt_last_error()), "max_memory"));
  brt_config_dispose(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_value_calls),
      cmocka_unit_test(test_native_calls),
      cmocka_unit_test(test_not_a_config_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
