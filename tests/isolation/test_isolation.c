/* Isolated plugins through the public ABI: a plugin that crashes, aborts,
 * exits, hangs, exhausts its memory or throws runs in worker processes, and
 * the host gets a typed error and carries on. The plugin is
 * tests/isolation/plugins/faulty.cpp. */
#include "brt_test.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

static char faulty_path[4096];

static int setup_paths(void **state) {
  (void)state;
  const char *root = getenv("BRT_BUILD_ROOT");
  if (!root) root = ".";
  snprintf(faulty_path, sizeof faulty_path, "%s/tests/isolation/faulty.so", root);
  /* Under AddressSanitizer the worker would turn a SIGSEGV or an abort into
   * a report and an exit status; the tests check the signal itself. */
  setenv("ASAN_OPTIONS", "handle_segv=0:handle_abort=0:handle_sigbus=0:detect_leaks=0", 1);
  setenv("TSAN_OPTIONS", "handle_segv=0:handle_abort=0:handle_sigbus=0", 1);
  return 0;
}

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Processes whose parent is this process (from /proc). */
static int child_count(void) {
  DIR *dir = opendir("/proc");
  int count = 0;
  pid_t me = getpid();
  for (struct dirent *item; dir && (item = readdir(dir));) {
    if (item->d_name[0] < '0' || item->d_name[0] > '9') continue;
    char path[300], line[256];
    snprintf(path, sizeof path, "/proc/%s/status", item->d_name);
    FILE *file = fopen(path, "re");
    if (!file) continue;
    while (fgets(line, sizeof line, file))
      if (strncmp(line, "PPid:", 5) == 0 && atoi(line + 5) == me) count++;
    fclose(file);
  }
  if (dir) closedir(dir);
  return count;
}

static brt_runtime *open_with(brt_isolation isolation, uint32_t workers, uint64_t memory_limit,
                              uint32_t timeout_ms) {
  /* The circuit breaker would isolate an algorithm that fails on purpose
   * at every call; these tests want every failure to reach the worker. */
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.error_rate_threshold = 1.0;
  brt_runtime *rt = brt_runtime_open(&cfg);
  assert_non_null(rt);
  brt_plugin_options options = {.struct_size = sizeof options,
                                .isolation = isolation,
                                .workers = workers,
                                .memory_limit = memory_limit,
                                .timeout_ms = timeout_ms};
  assert_ok(brt_plugin_load_ex(rt, faulty_path, &options));
  return rt;
}

static int64_t call_int(brt_runtime *rt, const char *name) {
  brt_value *params = brt_value_object(0), *result = NULL;
  assert_ok(brt_call(rt, name, params, &result));
  int64_t out = 0;
  assert_ok(brt_value_get_int(result, &out));
  brt_value_release(result);
  brt_value_release(params);
  return out;
}

/* Calls `name` with {} and expects `code` with `needle` in the message. */
static void expect_failure(brt_runtime *rt, const char *name, brt_status code, const char *needle) {
  brt_value *params = brt_value_object(0), *result = NULL;
  assert_status(brt_call(rt, name, params, &result), code);
  assert_null(result);
  assert_last_error(code, needle);
  brt_value_release(params);
}

static void test_calls_cross_the_process_boundary(void **state) {
  (void)state;
  brt_runtime *rt = open_with(BRT_ISOLATION_PROCESS, 1, 0, 0);
  assert_true(call_int(rt, "pid") != getpid());
  char *out = NULL;
  assert_ok(brt_call_json(rt, "echo", "{\"a\": [1, 2.5, \"\\u00e9\", null, true], \"b\": {}}", &out));
  assert_string_equal(out, "{\"a\":[1,2.5,\"\xc3\xa9\",null,true],\"b\":{}}");
  brt_release(out);
  brt_prepared *add = brt_prepare(rt, "add");
  assert_non_null(add);
  assert_string_equal(brt_prepared_signature(add), "i64(i64,i64)");
  int64_t a = 40, b = 2, sum = 0;
  void *args[] = {&a, &b};
  assert_ok(brt_invoke(add, &sum, args));
  assert_int_equal(sum, 42);
  brt_prepared_free(add);
  brt_prepared *length = brt_prepare(rt, "length");
  const char *text = "isolated";
  uint64_t n = 0;
  void *length_args[] = {&text};
  assert_ok(brt_invoke(length, &n, length_args));
  assert_int_equal(n, 8);
  brt_prepared_free(length);
  /* Params are validated in the host before anything is sent. */
  assert_status(brt_call_json(rt, "sum", "{}", &out), BRT_E_VALIDATION);
  brt_runtime_close(rt);
}

static void test_signals_are_crashes_and_the_worker_comes_back(void **state) {
  (void)state;
  brt_runtime *rt = open_with(BRT_ISOLATION_PROCESS, 1, 0, 0);
  int64_t before = call_int(rt, "pid");
  expect_failure(rt, "segv", BRT_E_CRASHED, "SIGSEGV");
  assert_last_error(BRT_E_CRASHED, "segv@1.0.0");
  int64_t after = call_int(rt, "pid");
  assert_true(after != before && after != getpid());
  expect_failure(rt, "abort", BRT_E_CRASHED, "SIGABRT");
  expect_failure(rt, "exit", BRT_E_CRASHED, "exited with status 3");
  assert_true(call_int(rt, "pid") > 0);
  char *metrics = NULL;
  assert_ok(brt_metrics_export(rt, BRT_FORMAT_PROMETHEUS, &metrics));
  assert_non_null(strstr(metrics, "bridgert_worker_crashes_total"));
  assert_non_null(strstr(metrics, "signal=\"SIGSEGV\""));
  brt_release(metrics);
  char *health = NULL;
  assert_ok(brt_health_check(rt, &health));
  assert_non_null(strstr(health, "\"worker\""));
  brt_release(health);
  brt_runtime_close(rt);
}

static void test_hard_deadline_kills_the_worker(void **state) {
  (void)state;
  brt_runtime *rt = open_with(BRT_ISOLATION_PROCESS, 1, 0, 300);
  uint64_t start = now_ms();
  expect_failure(rt, "hang", BRT_E_TIMEOUT, "hard deadline");
  uint64_t took = now_ms() - start;
  assert_true(took >= 300);
  assert_true(took < 300 + 100 + 400); /* + 100 ms promised; slack for sanitizer builds */
  assert_true(call_int(rt, "pid") > 0);
  brt_runtime_close(rt);
}

static void test_memory_limit_is_an_error_in_the_worker(void **state) {
  (void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  /* A sanitizer's own mappings count against RLIMIT_DATA: an instrumented
   * worker cannot run under a memory limit at all. */
  skip();
#endif
  brt_runtime *rt = open_with(BRT_ISOLATION_PROCESS, 1, 256u << 20, 20000);
  brt_value *params = brt_value_object(0), *result = NULL;
  brt_status status = brt_call(rt, "oom", params, &result);
  /* new[] fails (bad_alloc -> OUT_OF_MEMORY); a worker that dies of it
   * instead is CRASHED naming the limit. */
  assert_true(status == BRT_E_OUT_OF_MEMORY || status == BRT_E_CRASHED);
  if (status == BRT_E_OUT_OF_MEMORY) {
    const brt_error *cause = brt_error_cause(brt_last_error());
    assert_non_null(cause);
    assert_string_equal(brt_error_type(cause), "std::bad_alloc");
  } else {
    assert_last_error(BRT_E_CRASHED, "memory limit");
  }
  brt_value_release(params);
  assert_true(call_int(rt, "pid") > 0);
  brt_runtime_close(rt);
}

static void test_exceptions_arrive_as_in_process(void **state) {
  (void)state;
  brt_runtime *rt = open_with(BRT_ISOLATION_PROCESS, 1, 0, 0);
  expect_failure(rt, "throws", BRT_E_CPP_EXCEPTION, "faulty: the lookup failed");
  const brt_error *top = brt_last_error();
  assert_non_null(strstr(brt_error_message(top), "algorithm \"throws@1.0.0\" failed"));
  const brt_error *own = brt_error_cause(top);
  assert_non_null(own);
  assert_int_equal(brt_error_origin(own), BRT_ORIGIN_CPP);
  assert_string_equal(brt_error_type(own), "std::runtime_error");
  const brt_error *nested = brt_error_cause(own);
  assert_non_null(nested);
  assert_string_equal(brt_error_type(nested), "std::out_of_range");
  assert_int_equal(brt_error_code(nested), BRT_E_OUT_OF_RANGE);
  brt_runtime_close(rt);
}

static void test_shared_tensors_and_pointers_are_not_copied(void **state) {
  (void)state;
  brt_runtime *rt = open_with(BRT_ISOLATION_PROCESS, 1, 0, 0);
  size_t n = 1u << 17; /* 1 MiB of f64 */
  double *data = brt_alloc_shared(n * sizeof(double));
  assert_non_null(data);
  for (size_t i = 0; i < n; i++) data[i] = 2.0;
  brt_value *tensor = brt_tensor_wrap(data, BRT_DTYPE_F64, 1, &n, NULL);
  assert_non_null(tensor);
  brt_value *params = brt_value_object(1), *result = NULL;
  assert_ok(brt_value_object_set(params, "t", 1, tensor));
  assert_ok(brt_call(rt, "sum", params, &result));
  double total = 0;
  assert_ok(brt_value_get_float(result, &total));
  assert_true(total == 2.0 * (double)n);
  brt_value_release(result);
  /* The worker keeps its mapping of the block between calls: it still sees
   * what the host writes in between. */
  data[0] = 102.0;
  assert_ok(brt_call(rt, "sum", params, &result));
  assert_ok(brt_value_get_float(result, &total));
  assert_true(total == 2.0 * (double)n + 100.0);
  brt_value_release(result);
  data[0] = 2.0;
  brt_value_release(params);
  brt_value_release(tensor);

  /* A native ptr argument: the worker scales the host's block in place. */
  brt_prepared *scale = brt_prepare(rt, "scale");
  uint64_t count = n;
  double by = 3.0;
  void *pointer = data;
  void *args[] = {&pointer, &count, &by};
  assert_ok(brt_invoke(scale, NULL, args));
  assert_true(data[0] == 6.0 && data[n - 1] == 6.0);
  /* A small SHARED block (in the shared arena, whose memfd the worker must
   * not get) is copied there and back: the effect is the same. */
  double *small = brt_alloc_shared(4 * sizeof(double));
  for (int i = 0; i < 4; i++) small[i] = i;
  pointer = small;
  count = 4;
  assert_ok(brt_invoke(scale, NULL, args));
  assert_true(small[0] == 0.0 && small[1] == 3.0 && small[3] == 9.0);
  brt_release(small);
  count = n;
  /* Memory the worker cannot see is refused, naming the argument. */
  double *private_block = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  pointer = private_block;
  assert_status(brt_invoke(scale, NULL, args), BRT_E_UNSUPPORTED);
  assert_last_error(BRT_E_UNSUPPORTED, "argument 0");
  brt_release(private_block);
  brt_prepared_free(scale);
  brt_release(data);

  /* A large SHARED result comes back by reference. */
  char *out = NULL;
  brt_value *fill_params = brt_value_from_json("{\"n\": 200000}", 13, 0);
  assert_ok(brt_call(rt, "fill", fill_params, &result));
  brt_tensor_info info = {.struct_size = sizeof info};
  assert_ok(brt_tensor_info_get(result, &info));
  assert_int_equal(info.count, 200000);
  assert_true(((double *)info.data)[0] == 1.5 && ((double *)info.data)[199999] == 1.5);
  brt_value_release(result);
  brt_value_release(fill_params);
  (void)out;
  brt_runtime_close(rt);
}

/* A worker start under a sanitizer takes a good part of a second. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CRASH_CYCLES 100
#else
#define CRASH_CYCLES 1000
#endif

static void test_a_thousand_crashes_leak_nothing(void **state) {
  (void)state;
  brt_runtime *rt = open_with(BRT_ISOLATION_PROCESS, 1, 0, 0);
  assert_true(call_int(rt, "pid") > 0);
  int fds = brt_test_open_fds(), children = child_count();
  for (int i = 0; i < CRASH_CYCLES; i++) {
    brt_value *params = brt_value_object(0), *result = NULL;
    assert_status(brt_call(rt, i % 2 ? "segv" : "abort", params, &result), BRT_E_CRASHED);
    brt_value_release(params);
  }
  assert_true(call_int(rt, "pid") > 0);
  assert_int_equal(brt_test_open_fds(), fds);
  assert_int_equal(child_count(), children);
  brt_runtime_close(rt);
  assert_int_equal(child_count(), 0);
}

typedef struct caller {
  brt_runtime *rt;
  int calls, failures;
  bool crasher;
} caller;

static void *call_loop(void *arg) {
  caller *c = arg;
  for (int i = 0; i < 200; i++) {
    brt_value *params = brt_value_object(0), *result = NULL;
    brt_status status = brt_call(c->rt, c->crasher && i % 20 == 0 ? "segv" : "echo", params, &result);
    if (result) brt_value_release(result);
    brt_value_release(params);
    c->calls++;
    if (status != BRT_OK && !(c->crasher && i % 20 == 0)) c->failures++;
  }
  return NULL;
}

static void test_threads_share_workers_while_one_crashes(void **state) {
  (void)state;
  brt_runtime *rt = open_with(BRT_ISOLATION_PROCESS, 2, 0, 0);
  caller callers[4] = {{rt, 0, 0, false}, {rt, 0, 0, false}, {rt, 0, 0, false}, {rt, 0, 0, true}};
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, call_loop, &callers[i]);
  for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
  for (int i = 0; i < 4; i++) {
    assert_int_equal(callers[i].calls, 200);
    assert_int_equal(callers[i].failures, 0);
  }
  brt_runtime_close(rt);
}

static void test_options_are_checked(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_plugin_options options = {.struct_size = sizeof options, .isolation = BRT_ISOLATION_PROCESS};
  options.struct_size = 4;
  assert_status(brt_plugin_load_ex(rt, faulty_path, &options), BRT_E_INVALID_ARGUMENT);
  options.struct_size = sizeof options;
  options.isolation = (brt_isolation)7;
  assert_status(brt_plugin_load_ex(rt, faulty_path, &options), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "isolation");
  options.isolation = BRT_ISOLATION_PROCESS;
  options.flags = 1;
  assert_status(brt_plugin_load_ex(rt, faulty_path, &options), BRT_E_INVALID_ARGUMENT);
  options.flags = 0;
  options.workers = 100000;
  assert_status(brt_plugin_load_ex(rt, faulty_path, &options), BRT_E_INVALID_ARGUMENT);
  options.workers = 0;
  options.isolation = BRT_ISOLATION_NONE;
  options.memory_limit = 1 << 20;
  assert_status(brt_plugin_load_ex(rt, faulty_path, &options), BRT_E_INVALID_ARGUMENT);
  /* Nothing was loaded by the refusals. */
  assert_status(brt_plugin_unload(rt, faulty_path), BRT_E_NOT_FOUND);
  brt_runtime_close(rt);
}

static void test_unload_and_config_isolation(void **state) {
  (void)state;
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.isolation = BRT_ISOLATION_PROCESS;
  brt_runtime *rt = brt_runtime_open(&cfg);
  assert_non_null(rt);
  assert_ok(brt_plugin_load(rt, faulty_path));
  assert_true(call_int(rt, "pid") != getpid());
  assert_int_equal(child_count(), 1);
  assert_ok(brt_plugin_unload(rt, faulty_path));
  assert_int_equal(child_count(), 0);
  brt_runtime_close(rt);
  brt_config_dispose(&cfg);
}

/* The same faults in a sandbox, and what the sandbox refuses. */
static void test_sandbox_contains_the_plugin(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_plugin_options options = {.struct_size = sizeof options,
                                .isolation = BRT_ISOLATION_SANDBOX,
                                .timeout_ms = 20000};
  brt_status loaded = brt_plugin_load_ex(rt, faulty_path, &options);
  if (loaded == BRT_E_UNSUPPORTED) {
    brt_runtime_close(rt);
    skip(); /* no user namespaces here: the error says why */
  }
  assert_ok(loaded);
  int64_t pid = call_int(rt, "pid");
  assert_true(pid > 0 && pid <= 4); /* its own pid namespace */
  expect_failure(rt, "segv", BRT_E_CRASHED, "SIGSEGV");
  expect_failure(rt, "abort", BRT_E_CRASHED, "SIGABRT");
  assert_true(call_int(rt, "pid") > 0);

  char dir[4096];
  snprintf(dir, sizeof dir, "%s", faulty_path);
  *strrchr(dir, '/') = '\0';
  char params[4200];
  snprintf(params, sizeof params, "{\"dir\": \"%s\"}", dir);
  brt_value *in = brt_value_from_json(params, strlen(params), 0), *out = NULL;
  assert_ok(brt_call(rt, "probe", in, &out));
  int64_t inet = 0, root = 0, plugin_dir = 0, tmp = -1;
  assert_ok(brt_value_get_int(brt_value_object_get(out, "inet", 4), &inet));
  assert_ok(brt_value_get_int(brt_value_object_get(out, "write_root", 10), &root));
  assert_ok(brt_value_get_int(brt_value_object_get(out, "write_plugin_dir", 16), &plugin_dir));
  assert_ok(brt_value_get_int(brt_value_object_get(out, "tmp", 3), &tmp));
  assert_true(inet != 0);       /* no AF_INET socket */
  assert_true(root != 0);       /* read-only root */
  assert_true(plugin_dir != 0); /* read-only plugin directory */
  assert_int_equal(tmp, 0);     /* a private, writable /tmp */
  brt_value_release(out);
  brt_value_release(in);

  /* A fork bomb stops at the bound, and the worker serves on. */
  int64_t made = call_int(rt, "fork_bomb");
  assert_true(made > 0 && made < 1024);
  assert_true(call_int(rt, "pid") > 0);
  brt_runtime_close(rt);

  /* The hard deadline kills the whole sandbox, and leaves no process. */
  int children = child_count();
  rt = open_with(BRT_ISOLATION_SANDBOX, 1, 0, 300);
  uint64_t start = now_ms();
  expect_failure(rt, "hang", BRT_E_TIMEOUT, "hard deadline");
  assert_true(now_ms() - start < 300 + 100 + 400);
  assert_true(call_int(rt, "pid") > 0);
  brt_runtime_close(rt);
  assert_int_equal(child_count(), children);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_calls_cross_the_process_boundary),
      cmocka_unit_test(test_signals_are_crashes_and_the_worker_comes_back),
      cmocka_unit_test(test_hard_deadline_kills_the_worker),
      cmocka_unit_test(test_memory_limit_is_an_error_in_the_worker),
      cmocka_unit_test(test_exceptions_arrive_as_in_process),
      cmocka_unit_test(test_shared_tensors_and_pointers_are_not_copied),
      cmocka_unit_test(test_a_thousand_crashes_leak_nothing),
      cmocka_unit_test(test_threads_share_workers_while_one_crashes),
      cmocka_unit_test(test_options_are_checked),
      cmocka_unit_test(test_unload_and_config_isolation),
      cmocka_unit_test(test_sandbox_contains_the_plugin),
  };
  return cmocka_run_group_tests(tests, setup_paths, NULL);
}
