/* Runtimes and the registry: open/close, names, versions, duplicates,
 * lookups with suggestions, unregister, listing, calls after close. */
#include "bridge_test.h"

#include <string.h>

static int64_t identity(int64_t x) { return x; }
static int64_t plus_one(int64_t x) { return x + 1; }
static int64_t plus_two(int64_t x) { return x + 2; }

static brt_algorithm native(const char *name, const char *version, int64_t (*fn)(int64_t)) {
  brt_algorithm a = {.struct_size = sizeof a, .name = name, .version = version,
                     .native_fn = BRT_NATIVE_FN(fn), .signature = "i64(i64)"};
  return a;
}

static int64_t call_i64(brt_runtime *rt, const char *name, int64_t x) {
  brt_prepared *p = brt_prepare(rt, name);
  if (!p) fail_msg("brt_prepare(%s): %s", name, brt_error_message(brt_last_error()));
  int64_t out = 0;
  void *args[] = {&x};
  assert_ok(brt_invoke(p, &out, args));
  brt_prepared_free(p);
  return out;
}

static void test_open_close(void **state) {
  (void)state;
  brt_runtime *a = brt_runtime_open(NULL);
  brt_runtime *b = brt_runtime_open(NULL);
  assert_non_null(a);
  assert_non_null(b);
  brt_algorithm one = native("f", "1.0.0", plus_one);
  brt_algorithm two = native("f", "1.0.0", plus_two);
  assert_ok(brt_register(a, &one));
  assert_ok(brt_register(b, &two)); /* runtimes are independent */
  assert_int_equal(call_i64(a, "f", 1), 2);
  assert_int_equal(call_i64(b, "f", 1), 3);
  brt_runtime_close(a);
  assert_int_equal(call_i64(b, "f", 1), 3);
  brt_runtime_close(b);
  brt_runtime_close(NULL);
}

static void test_open_rejects_bad_config(void **state) {
  (void)state;
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.error_rate_threshold = 7.0;
  assert_null_with(brt_runtime_open(&cfg), BRT_E_INVALID_ARGUMENT);
  brt_config_dispose(&cfg);
}

static void test_open_null_reads_environment(void **state) {
  (void)state;
  setenv("BRT_DEFAULT_TIMEOUT_MS", "not a number", 1);
  assert_null_with(brt_runtime_open(NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "BRT_CONFIG file / environment");
  setenv("BRT_DEFAULT_TIMEOUT_MS", "1500", 1);
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_non_null(rt);
  brt_runtime_close(rt);
  unsetenv("BRT_DEFAULT_TIMEOUT_MS");
}

static void test_calls_after_close_fail_cleanly(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = native("f", "1.0.0", identity);
  assert_ok(brt_register(rt, &a));
  brt_prepared *kept = brt_prepare(rt, "f");
  assert_non_null(kept);
  brt_runtime_close(rt);
  brt_runtime_close(rt); /* a second close is ignored */
  assert_status(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "closed");
  assert_null_with(brt_prepare(rt, "f"), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_unregister(rt, "f"), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_plugin_load(rt, "/nonexistent.so"), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_plugin_load_dir(rt, "/tmp"), BRT_E_INVALID_ARGUMENT);
  int64_t x = 5, out = 0;
  void *args[] = {&x};
  assert_status(brt_invoke(kept, &out, args), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "runtime closed");
  assert_string_equal(brt_prepared_signature(kept), "i64(i64)");
  brt_prepared_free(kept);
}

static void test_bad_handles(void **state) {
  (void)state;
  uint64_t garbage[8] = {0};
  brt_algorithm a = native("f", "1.0.0", identity);
  assert_status(brt_register(NULL, &a), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_register((brt_runtime *)garbage, &a), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "not a runtime handle");
  assert_null_with(brt_prepare(NULL, "f"), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_invoke(NULL, NULL, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_invoke((brt_prepared *)garbage, NULL, NULL), BRT_E_INVALID_ARGUMENT);
  brt_prepared_free(NULL);
  brt_prepared_free((brt_prepared *)garbage);
  assert_null(brt_prepared_signature(NULL));
}

static void test_names_validated(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  char long_name[200];
  memset(long_name, 'a', sizeof long_name);
  long_name[129] = '\0';
  const char *bad[] = {"", "Upper", "with space", "slash/", "at@", "ünï", long_name};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    brt_algorithm a = native(bad[i], "1.0.0", identity);
    assert_status(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT);
    assert_last_error(BRT_E_INVALID_ARGUMENT, "[a-z0-9_.-]");
  }
  long_name[128] = '\0';
  brt_algorithm edge = native(long_name, "1.0.0", identity);
  assert_ok(brt_register(rt, &edge));
  brt_algorithm dotted = native("a.b-c_9", "1.0.0", identity);
  assert_ok(brt_register(rt, &dotted));
  brt_algorithm null_name = native(NULL, "1.0.0", identity);
  assert_status(brt_register(rt, &null_name), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_register(rt, NULL), BRT_E_INVALID_ARGUMENT);
  brt_runtime_close(rt);
}

static void test_description_validated(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = native("f", "1.0.0", identity);
  a.struct_size = 8;
  assert_status(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "struct_size");
  a = native("f", "1.0.0", NULL);
  assert_status(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "neither value_fn nor native_fn");
  a = native("f", "1.0.0", identity);
  a.flags = 4;
  assert_status(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "flags");
  a = native("f", "1.0.0", identity);
  a.signature = NULL;
  assert_status(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "signature");
  /* An older caller whose struct ends before native_thunk still works. */
  a = native("old", "1.0.0", identity);
  a.struct_size = (uint32_t)offsetof(brt_algorithm, native_thunk);
  assert_ok(brt_register(rt, &a));
  assert_int_equal(call_i64(rt, "old", 4), 4);
  brt_runtime_close(rt);
}

static void test_versions(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  const char *bad[] = {"1", "1.0", "01.0.0", "1.0.0-", "1.0.0+", "1.0.0-a..b", "v1.0.0",
                       "1.0.0 ", "1.0.0-é", "99999999999999999999999.0.0"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    brt_algorithm a = native("v", bad[i], identity);
    assert_status(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT);
    assert_last_error(BRT_E_INVALID_ARGUMENT, "semantic version");
  }
  brt_algorithm a = native("v", NULL, identity);
  assert_status(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT);

  brt_algorithm v1 = native("v", "1.2.0", identity);
  brt_algorithm v2 = native("v", "1.10.0", plus_one);
  brt_algorithm pre = native("v", "2.0.0-rc.1", plus_two);
  assert_ok(brt_register(rt, &v1));
  assert_ok(brt_register(rt, &v2));
  assert_ok(brt_register(rt, &pre));
  /* The highest by semver precedence: 2.0.0-rc.1 > 1.10.0 > 1.2.0. */
  assert_int_equal(call_i64(rt, "v", 10), 12);
  assert_int_equal(call_i64(rt, "v@1.2.0", 10), 10);
  assert_int_equal(call_i64(rt, "v@1.10.0", 10), 11);
  assert_int_equal(call_i64(rt, "v@2.0.0-rc.1", 10), 12);
  brt_algorithm release = native("v", "2.0.0", identity);
  assert_ok(brt_register(rt, &release)); /* 2.0.0 > 2.0.0-rc.1 */
  assert_int_equal(call_i64(rt, "v", 10), 10);
  assert_null_with(brt_prepare(rt, "v@3.0.0"), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "registered versions: 2.0.0, 2.0.0-rc.1, 1.10.0, 1.2.0");
  assert_null_with(brt_prepare(rt, "v@x"), BRT_E_INVALID_ARGUMENT);
  brt_runtime_close(rt);
}

static void test_duplicates(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = native("dup", "1.0.0", identity);
  assert_ok(brt_register(rt, &a));
  brt_algorithm b = native("dup", "1.0.0", plus_one);
  assert_status(brt_register(rt, &b), BRT_E_EXISTS);
  assert_last_error(BRT_E_EXISTS, "\"dup@1.0.0\" is already registered");
  brt_algorithm build = native("dup", "1.0.0+build.5", plus_one); /* same precedence */
  assert_status(brt_register(rt, &build), BRT_E_EXISTS);
  assert_int_equal(call_i64(rt, "dup", 1), 1); /* unchanged */
  brt_runtime_close(rt);
}

static void test_unknown_names_suggest(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = native("matrix_multiplication", "1.0.0", identity);
  brt_algorithm b = native("dot", "1.0.0", identity);
  assert_ok(brt_register(rt, &a));
  assert_ok(brt_register(rt, &b));
  assert_null_with(brt_prepare(rt, "matrix_multiplcation"), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "did you mean \"matrix_multiplication\"?");
  assert_null_with(brt_prepare(rt, "dto"), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "did you mean \"dot\"?");
  assert_null_with(brt_prepare(rt, "completely_unrelated"), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "no algorithm named \"completely_unrelated\"");
  assert_null_with(brt_prepare(rt, NULL), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_prepare(rt, "Bad Name"), BRT_E_INVALID_ARGUMENT);
  brt_runtime_close(rt);
}

static void test_unregister(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm v1 = native("u", "1.0.0", identity);
  brt_algorithm v2 = native("u", "2.0.0", plus_one);
  brt_algorithm other = native("keep", "1.0.0", plus_two);
  assert_ok(brt_register(rt, &v1));
  assert_ok(brt_register(rt, &v2));
  assert_ok(brt_register(rt, &other));
  brt_prepared *held = brt_prepare(rt, "u@2.0.0");
  assert_ok(brt_unregister(rt, "u@2.0.0"));
  assert_int_equal(call_i64(rt, "u", 7), 7); /* 1.0.0 is now the highest */
  int64_t x = 1, out = 0;
  void *args[] = {&x};
  assert_status(brt_invoke(held, &out, args), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "was unregistered");
  brt_prepared_free(held);
  assert_ok(brt_register(rt, &v2)); /* the name is free again */
  assert_ok(brt_unregister(rt, "u")); /* every version */
  assert_null_with(brt_prepare(rt, "u"), BRT_E_NOT_FOUND);
  assert_status(brt_unregister(rt, "u"), BRT_E_NOT_FOUND);
  assert_status(brt_unregister(rt, NULL), BRT_E_INVALID_ARGUMENT);
  assert_int_equal(call_i64(rt, "keep", 1), 3);
  brt_runtime_close(rt);
}

typedef struct listing {
  char seen[8][64];
  int count, stop_after;
} listing;

static int collect(void *ctx, const brt_algorithm *a) {
  listing *l = ctx;
  snprintf(l->seen[l->count++], sizeof l->seen[0], "%s@%s %s", a->name, a->version,
           a->signature ? a->signature : "-");
  return l->count == l->stop_after;
}

static void test_list(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm b = native("b", "1.0.0", identity);
  brt_algorithm a1 = native("a", "1.0.0", identity);
  brt_algorithm a2 = native("a", "1.1.0", identity);
  assert_ok(brt_register(rt, &b));
  assert_ok(brt_register(rt, &a1));
  assert_ok(brt_register(rt, &a2));
  listing l = {.stop_after = 0};
  assert_ok(brt_algorithms_list(rt, collect, &l));
  assert_int_equal(l.count, 3);
  assert_string_equal(l.seen[0], "a@1.1.0 i64(i64)");
  assert_string_equal(l.seen[1], "a@1.0.0 i64(i64)");
  assert_string_equal(l.seen[2], "b@1.0.0 i64(i64)");
  listing first = {.stop_after = 1};
  assert_ok(brt_algorithms_list(rt, collect, &first));
  assert_int_equal(first.count, 1);
  assert_status(brt_algorithms_list(rt, NULL, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algorithms_list(NULL, collect, &l), BRT_E_INVALID_ARGUMENT);
  brt_runtime_close(rt);
}

/* A visitor may change the registry: it runs outside any read section. */
static int unregister_while_listing(void *ctx, const brt_algorithm *a) {
  brt_runtime *rt = ctx;
  char name[160];
  snprintf(name, sizeof name, "%s@%s", a->name, a->version);
  assert_ok(brt_unregister(rt, name));
  return 0;
}

static void test_list_visitor_may_unregister(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = native("a", "1.0.0", identity);
  brt_algorithm b = native("b", "1.0.0", identity);
  assert_ok(brt_register(rt, &a));
  assert_ok(brt_register(rt, &b));
  assert_ok(brt_algorithms_list(rt, unregister_while_listing, rt));
  listing l = {0};
  assert_ok(brt_algorithms_list(rt, collect, &l));
  assert_int_equal(l.count, 0);
  brt_runtime_close(rt);
}

/* Each refusal returns the status of its own failure and records it, even
 * with an unrelated error pending: the registry's internal lookups return a
 * status instead of leaving the caller to read the last error back. */
static void assert_own_failure(brt_status got, brt_status want, const char *needle) {
  assert_string_equal(brt_status_name(got), brt_status_name(want));
  assert_last_error(want, needle);
}
#define STALE() brt_error_set(BRT_E_TIMEOUT, BRT_ORIGIN_C, NULL, "stale")

static void test_status_is_the_failure(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm a = native("inc", "1.0.0", plus_one);
  assert_ok(brt_register(rt, &a));
  brt_value *params = brt_value_object(0);
  brt_value *result = NULL;
  STALE();
  assert_own_failure(brt_call(rt, "nope", params, &result), BRT_E_NOT_FOUND, "nope");
  STALE();
  assert_own_failure(brt_call(rt, "inc@2.0.0", params, &result), BRT_E_NOT_FOUND, "1.0.0");
  STALE();
  assert_own_failure(brt_unregister(rt, "Bad Name"), BRT_E_INVALID_ARGUMENT, "invalid");
  STALE();
  assert_own_failure(brt_unregister(rt, "inc@x"), BRT_E_INVALID_ARGUMENT, "x");
  brt_algorithm bad = native("inc", "1.0.1", plus_one);
  bad.signature = "i64(nope)";
  STALE();
  assert_own_failure(brt_register(rt, &bad), BRT_E_INVALID_ARGUMENT, "invalid signature");
  bad.signature = "i64(i64)";
  bad.input_schema = "{\"type\": 5}";
  STALE();
  assert_own_failure(brt_register(rt, &bad), BRT_E_INVALID_ARGUMENT, "input_schema");
  STALE();
  assert_own_failure(brt_algorithms_list(NULL, NULL, NULL), BRT_E_INVALID_ARGUMENT, "visitor");
  brt_runtime_close(rt);
  char *text = NULL;
  STALE();
  assert_own_failure(brt_register(rt, &a), BRT_E_INVALID_ARGUMENT, "closed");
  STALE();
  assert_own_failure(brt_metrics_export(rt, BRT_FORMAT_PROMETHEUS, &text), BRT_E_INVALID_ARGUMENT,
                     "closed");
  STALE();
  assert_own_failure(brt_plugin_load(rt, "/nonexistent.so"), BRT_E_INVALID_ARGUMENT, "closed");
  STALE();
  assert_own_failure(brt_call(rt, "inc", params, &result), BRT_E_INVALID_ARGUMENT, "closed");
  brt_error_clear();
  brt_value_release(params);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_open_close),
      cmocka_unit_test(test_open_rejects_bad_config),
      cmocka_unit_test(test_open_null_reads_environment),
      cmocka_unit_test(test_calls_after_close_fail_cleanly),
      cmocka_unit_test(test_bad_handles),
      cmocka_unit_test(test_names_validated),
      cmocka_unit_test(test_description_validated),
      cmocka_unit_test(test_versions),
      cmocka_unit_test(test_duplicates),
      cmocka_unit_test(test_unknown_names_suggest),
      cmocka_unit_test(test_unregister),
      cmocka_unit_test(test_list),
      cmocka_unit_test(test_list_visitor_may_unregister),
      cmocka_unit_test(test_status_is_the_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
