/* Monitor unit tests: argument checks of every function, exact counters,
 * histogram edges and quantiles, gauges, exports and health. */
#include "brt_test.h"
#include "fake_clock.h"

#include <cjson/cJSON.h>
#include <math.h>

static brt_monitor *monitor_with_clock(fake_clock *clock) {
  brt_monitor *monitor = brt_monitor_new(NULL);
  assert_non_null(monitor);
  fake_clock_set(clock, 1000000000u);
  assert_ok(brt_monitor_set_clock(monitor, fake_clock_read, clock));
  assert_ok(brt_monitor_set_sampling(monitor, 1)); /* exact histograms */
  return monitor;
}

/* One call of exactly `ns` nanoseconds ending with `result`. */
static void timed_call(brt_algo_stats *stats, fake_clock *clock, uint64_t ns, brt_status result) {
  uint64_t start = 0;
  assert_ok(brt_monitor_call_begin(stats, &start));
  atomic_fetch_add(&clock->now_ns, ns);
  brt_monitor_call_end(stats, start, result);
}

static void test_new_rejects_bad_config(void **state) {
  (void)state;
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.error_window = 0;
  assert_null_with(brt_monitor_new(&cfg), BRT_E_INVALID_ARGUMENT);
  assert_non_null(brt_error_cause(brt_last_error()));
  assert_ok(brt_config_default(&cfg));
  cfg.struct_size = 4;
  assert_null_with(brt_monitor_new(&cfg), BRT_E_INVALID_ARGUMENT);
  assert_ok(brt_config_default(&cfg));
  cfg.error_rate_threshold = 2.0;
  assert_null_with(brt_monitor_new(&cfg), BRT_E_INVALID_ARGUMENT);
  brt_monitor_free(NULL); /* ignored */
}

static void test_algorithm_names(void **state) {
  (void)state;
  brt_monitor *monitor = brt_monitor_new(NULL);
  assert_non_null(monitor);
  assert_null_with(brt_monitor_algorithm(NULL, "a", "1"), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "monitor is NULL");
  assert_null_with(brt_monitor_algorithm(monitor, NULL, "1"), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "name is NULL");
  assert_null_with(brt_monitor_algorithm(monitor, "", "1"), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "expected 1 to 128");
  char long_name[200];
  memset(long_name, 'a', sizeof long_name - 1);
  long_name[sizeof long_name - 1] = '\0';
  assert_null_with(brt_monitor_algorithm(monitor, long_name, "1"), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "199 bytes long");
  assert_null_with(brt_monitor_algorithm(monitor, "tab\there", "1"), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "control character");
  assert_null_with(brt_monitor_algorithm(monitor, "bad\xC3", "1"), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_monitor_algorithm(monitor, "overlong\xC0\xAF", "1"), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_monitor_algorithm(monitor, "ok", long_name), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "version");

  /* The limits exactly: 128 bytes of name and 64 of version are fine. */
  char edge_name[130], edge_version[66];
  memset(edge_name, 'n', 128);
  edge_name[128] = '\0';
  memset(edge_version, 'v', 64);
  edge_version[64] = '\0';
  assert_non_null(brt_monitor_algorithm(monitor, edge_name, edge_version));
  edge_name[128] = 'n';
  edge_name[129] = '\0';
  assert_null_with(brt_monitor_algorithm(monitor, edge_name, "1"), BRT_E_INVALID_ARGUMENT);
  edge_version[64] = 'v';
  edge_version[65] = '\0';
  assert_null_with(brt_monitor_algorithm(monitor, "ok", edge_version), BRT_E_INVALID_ARGUMENT);

  brt_algo_stats *a = brt_monitor_algorithm(monitor, "matrix_multiplication", "1.0.0");
  brt_algo_stats *b = brt_monitor_algorithm(monitor, "matrix_multiplication", "1.1.0");
  brt_algo_stats *c = brt_monitor_algorithm(monitor, "caf\xC3\xA9 \"quoted\"\\", NULL);
  assert_non_null(a);
  assert_non_null(b);
  assert_non_null(c);
  assert_ptr_not_equal(a, b);
  assert_ptr_equal(a, brt_monitor_algorithm(monitor, "matrix_multiplication", "1.0.0"));
  assert_ptr_equal(c, brt_monitor_algorithm(monitor, "caf\xC3\xA9 \"quoted\"\\", ""));
  /* Many algorithms: pointers stay stable while the list grows. */
  char name[32];
  for (int i = 0; i < 100; i++) {
    snprintf(name, sizeof name, "algo_%d", i);
    assert_non_null(brt_monitor_algorithm(monitor, name, "1"));
  }
  assert_ptr_equal(a, brt_monitor_algorithm(monitor, "matrix_multiplication", "1.0.0"));
  brt_monitor_free(monitor);
}

static void test_begin_end_arguments(void **state) {
  (void)state;
  brt_monitor *monitor = brt_monitor_new(NULL);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "x", "1");
  uint64_t start;
  assert_status(brt_monitor_call_begin(NULL, &start), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "stats is NULL");
  assert_status(brt_monitor_call_begin(stats, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "start_ns is NULL");
  brt_monitor_call_end(NULL, 0, BRT_OK); /* ignored */
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.calls, 0);
  assert_int_equal(snap.in_flight, 0);
  assert_status(brt_algo_stats_get(NULL, &snap), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_get(stats, NULL), BRT_E_INVALID_ARGUMENT);
  snap.struct_size = 0;
  assert_status(brt_algo_stats_get(stats, &snap), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "struct_size");
  uint64_t value;
  assert_status(brt_algo_stats_status_count(stats, (brt_status)999, &value), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_status_count(stats, (brt_status)-1, &value), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_status_count(NULL, BRT_OK, &value), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_status_count(stats, BRT_OK, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_quantile(stats, 1.5, &value), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_quantile(stats, NAN, &value), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_quantile(stats, -0.1, &value), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_quantile(NULL, 0.5, &value), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_quantile(stats, 0.5, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_count_at_most(NULL, 1, &value), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_algo_stats_count_at_most(stats, 1, NULL), BRT_E_INVALID_ARGUMENT);
  assert_ok(brt_algo_stats_quantile(stats, 0.5, &value));
  assert_int_equal(value, 0);
  char buf[16] = "garbage";
  assert_int_equal(brt_algo_stats_last_error(stats, buf, sizeof buf), 0);
  assert_string_equal(buf, "");
  assert_int_equal(brt_algo_stats_last_error(NULL, buf, sizeof buf), 0);
  assert_status(brt_monitor_set_clock(NULL, fake_clock_read, NULL), BRT_E_INVALID_ARGUMENT);
  brt_monitor_free(monitor);
}

static void test_counts_and_histogram_exact(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = monitor_with_clock(&clock);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "sum", "1.0.0");
  /* Latencies at and around bucket edges. */
  static const uint64_t latencies[] = {0, 1, 2, 16, 17, 18, 19, 64, 65, 1000, 1024, 1025, 4096,
                                       1000000, (UINT64_C(1) << 40) + 5};
  const size_t n = sizeof latencies / sizeof *latencies;
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++) {
    timed_call(stats, &clock, latencies[i], BRT_OK);
    sum += latencies[i];
  }
  timed_call(stats, &clock, 500, BRT_E_CPP_EXCEPTION);
  timed_call(stats, &clock, 500, BRT_E_VALIDATION);
  timed_call(stats, &clock, 500, (brt_status)12345); /* unknown: counted, not lost */
  sum += 1500;
  uint64_t open_start;
  assert_ok(brt_monitor_call_begin(stats, &open_start)); /* stays in flight */

  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.calls, n + 3);
  assert_int_equal(snap.errors, 3);
  assert_int_equal(snap.in_flight, 1);
  assert_int_equal(snap.rejected, 0);
  assert_int_equal(snap.latency_sum_ns, sum);
  assert_int_equal(snap.max_ns, (UINT64_C(1) << 40) + 5);
  assert_int_equal(snap.state, BRT_CIRCUIT_CLOSED);
  uint64_t count;
  assert_ok(brt_algo_stats_status_count(stats, BRT_OK, &count));
  assert_int_equal(count, n);
  assert_ok(brt_algo_stats_status_count(stats, BRT_E_CPP_EXCEPTION, &count));
  assert_int_equal(count, 1);
  assert_ok(brt_algo_stats_status_count(stats, BRT_E_VALIDATION, &count));
  assert_int_equal(count, 1);
  /* Upper-inclusive edges: exact counts at 0..16 and at powers of two. */
  struct { uint64_t le, expected; } edges[] = {
      {0, 0}, {1, 2}, {2, 3}, {15, 3}, {16, 4}, {18, 6}, {19, 6}, {20, 7}, {64, 8}, {72, 9},
      {512, 12}, {1024, 14}, {1152, 15}, {4096, 16}, {UINT64_C(1) << 30, 17},
      {UINT64_MAX - 1, n + 3 - 1}, {UINT64_MAX, n + 3}};
  for (size_t i = 0; i < sizeof edges / sizeof *edges; i++) {
    assert_ok(brt_algo_stats_count_at_most(stats, edges[i].le, &count));
    if (count != edges[i].expected)
      fail_msg("count_at_most(%llu) = %llu, expected %llu", (unsigned long long)edges[i].le,
               (unsigned long long)count, (unsigned long long)edges[i].expected);
  }
  brt_monitor_call_end(stats, open_start, BRT_OK);
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.in_flight, 0);
  brt_monitor_free(monitor);
}

static void test_quantiles(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = monitor_with_clock(&clock);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "q", "1");
  /* 1..1000 µs: the true p50 is 500 µs, p95 950 µs, p99 990 µs. */
  for (uint64_t us = 1; us <= 1000; us++) timed_call(stats, &clock, us * 1000, BRT_OK);
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  struct { uint64_t got, truth; } q[] = {{snap.p50_ns, 500000}, {snap.p95_ns, 950000},
                                         {snap.p99_ns, 990000}};
  for (int i = 0; i < 3; i++) {
    assert_true(q[i].got >= q[i].truth);
    assert_true(q[i].got <= q[i].truth + q[i].truth / 8); /* at most 12.5 % above */
  }
  assert_int_equal(snap.max_ns, 1000000);
  uint64_t value;
  assert_ok(brt_algo_stats_quantile(stats, 1.0, &value));
  assert_int_equal(value, 1000000); /* clamped to the maximum */
  assert_ok(brt_algo_stats_quantile(stats, 0.0, &value));
  assert_true(value >= 1000 && value <= 1125);
  brt_monitor_free(monitor);
}

static void test_sampling(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = brt_monitor_new(NULL);
  fake_clock_set(&clock, 1);
  assert_ok(brt_monitor_set_clock(monitor, fake_clock_read, &clock));
  assert_status(brt_monitor_set_sampling(NULL, 4), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_set_sampling(monitor, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "every is 0");
  assert_status(brt_monitor_set_sampling(monitor, BRT_MONITOR_SAMPLING_MAX + 1), BRT_E_INVALID_ARGUMENT);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "sampled", "1");
  /* The default: the first call is timed, then about one in
   * BRT_MONITOR_SAMPLING_DEFAULT (64): 250 of 16000 expected. */
  uint64_t start;
  assert_ok(brt_monitor_call_begin(stats, &start));
  assert_int_not_equal(start, BRT_MONITOR_UNTIMED);
  brt_monitor_call_end(stats, start, BRT_OK);
  int untimed = 0;
  for (int i = 0; i < 16000; i++) {
    assert_ok(brt_monitor_call_begin(stats, &start));
    untimed += start == BRT_MONITOR_UNTIMED;
    atomic_fetch_add(&clock.now_ns, 100);
    brt_monitor_call_end(stats, start, i % 100 ? BRT_OK : BRT_E_VALIDATION);
  }
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.calls, 16001); /* every call counted */
  assert_int_equal(snap.errors, 160);
  assert_int_equal(snap.latency_count, 16001 - (uint64_t)untimed);
  assert_true(snap.latency_count > 150 && snap.latency_count < 350);
  assert_int_equal(snap.max_ns, 100);
  assert_int_equal(snap.latency_sum_ns, (snap.latency_count - 1) * 100); /* the first took 0 */
  assert_int_equal(snap.in_flight, 0);
  /* Every call timed. */
  assert_ok(brt_monitor_set_sampling(monitor, 1));
  brt_algo_stats *exact = brt_monitor_algorithm(monitor, "exact", "1");
  for (int i = 0; i < 100; i++) {
    assert_ok(brt_monitor_call_begin(exact, &start));
    assert_int_not_equal(start, BRT_MONITOR_UNTIMED);
    brt_monitor_call_end(exact, start, BRT_OK);
  }
  assert_ok(brt_algo_stats_get(exact, &snap));
  assert_int_equal(snap.latency_count, 100);
  brt_monitor_free(monitor);
}

static void test_last_error_is_recorded(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = monitor_with_clock(&clock);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "fail", "1");
  brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_CPP, "std::out_of_range", "index 7 is past 3");
  timed_call(stats, &clock, 10, BRT_E_OUT_OF_RANGE);
  /* The thread's last error is left alone. */
  assert_last_error(BRT_E_OUT_OF_RANGE, "index 7 is past 3");
  char buf[256];
  size_t length = brt_algo_stats_last_error(stats, buf, sizeof buf);
  assert_int_equal(length, strlen(buf));
  assert_non_null(strstr(buf, "std::out_of_range"));
  assert_non_null(strstr(buf, "index 7 is past 3"));
  /* A result that does not match the thread's error: the code is described. */
  brt_error_clear();
  timed_call(stats, &clock, 10, BRT_E_TIMEOUT);
  brt_algo_stats_last_error(stats, buf, sizeof buf);
  assert_non_null(strstr(buf, "BRT_E_TIMEOUT"));
  char tiny[4];
  assert_true(brt_algo_stats_last_error(stats, tiny, sizeof tiny) > 3);
  assert_int_equal(strlen(tiny), 3);
  brt_monitor_free(monitor);
}

static void test_gauges(void **state) {
  (void)state;
  brt_monitor *monitor = brt_monitor_new(NULL);
  assert_status(brt_monitor_set_gauge(NULL, "x", 1), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_set_gauge(monitor, NULL, 1), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_set_gauge(monitor, "", 1), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_set_gauge(monitor, "Upper", 1), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_set_gauge(monitor, "9lives", 1), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_set_gauge(monitor, "has-dash", 1), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "[a-z0-9_]");
  assert_status(brt_monitor_set_gauge(monitor, "calls_total", 1), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "clash");
  assert_status(brt_monitor_set_gauge(monitor, "algorithm_state", 1), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_set_gauge(monitor, "memory_live_bytes", 1), BRT_E_INVALID_ARGUMENT);
  assert_ok(brt_monitor_set_gauge(monitor, "algorithms_loaded", 1));
  assert_status(brt_monitor_set_gauge(monitor, "plugins_loaded", NAN), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_set_gauge(monitor, "plugins_loaded", INFINITY), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "finite");
  char long_gauge[66];
  memset(long_gauge, 'g', 65);
  long_gauge[65] = '\0';
  assert_status(brt_monitor_set_gauge(monitor, long_gauge, 1), BRT_E_INVALID_ARGUMENT);
  long_gauge[64] = '\0'; /* 64 characters: the longest name */
  assert_ok(brt_monitor_set_gauge(monitor, long_gauge, 1));
  assert_ok(brt_monitor_set_gauge(monitor, "plugins_loaded", 2));
  assert_ok(brt_monitor_set_gauge(monitor, "plugins_loaded", 3)); /* replaces */
  char name[32];
  for (int i = 3; i < 64; i++) {
    snprintf(name, sizeof name, "g%d", i);
    assert_ok(brt_monitor_set_gauge(monitor, name, i));
  }
  assert_status(brt_monitor_set_gauge(monitor, "one_too_many", 1), BRT_E_LIMIT_EXCEEDED);
  assert_ok(brt_monitor_set_gauge(monitor, "g5", -5.5)); /* existing names still update */
  char *text = NULL;
  assert_ok(brt_monitor_export(monitor, BRT_FORMAT_PROMETHEUS, &text));
  assert_non_null(strstr(text, "\nbridgert_plugins_loaded 3\n"));
  assert_non_null(strstr(text, "\nbridgert_g5 -5.5\n"));
  assert_null(strstr(text, "one_too_many"));
  brt_monitor_text_free(text);
  brt_monitor_free(monitor);
}

static void test_export_arguments(void **state) {
  (void)state;
  brt_monitor *monitor = brt_monitor_new(NULL);
  char *text = (char *)"untouched";
  assert_status(brt_monitor_export(NULL, BRT_FORMAT_JSON, &text), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_export(monitor, BRT_FORMAT_JSON, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_export(monitor, 0, &text), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_export(monitor, 3, &text), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "format 3");
  assert_string_equal(text, "untouched");
  assert_status(brt_monitor_health(NULL, &text), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_health(monitor, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_monitor_health_level(monitor, NULL, NULL), BRT_E_INVALID_ARGUMENT);
  brt_monitor_text_free(NULL);
  assert_string_equal(brt_health_level_name((brt_health_level)7), "unknown");
  assert_string_equal(brt_circuit_state_name(BRT_CIRCUIT_HALF_OPEN), "half_open");
  brt_monitor_free(monitor);
}

static void test_prometheus_content(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = monitor_with_clock(&clock);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "we\"ird\\name", "2.0");
  timed_call(stats, &clock, 100, BRT_OK);
  timed_call(stats, &clock, 3000, BRT_OK);
  brt_error_set(BRT_E_CPP_EXCEPTION, BRT_ORIGIN_CPP, "std::runtime_error", "boom");
  timed_call(stats, &clock, 1500000000, BRT_E_CPP_EXCEPTION);
  fake_clock_advance_ms(&clock, 2500);
  char *text = NULL;
  assert_ok(brt_monitor_export(monitor, BRT_FORMAT_PROMETHEUS, &text));
  const char *labels = "{algorithm=\"we\\\"ird\\\\name\",version=\"2.0\"";
  char line[512];
  snprintf(line, sizeof line, "bridgert_calls_total%s,status=\"BRT_OK\"} 2\n", labels);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof line, "bridgert_calls_total%s,status=\"BRT_E_CPP_EXCEPTION\"} 1\n", labels);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof line, "bridgert_call_duration_seconds_bucket%s,le=\"0.000000128\"} 1\n", labels);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof line, "bridgert_call_duration_seconds_bucket%s,le=\"0.000004096\"} 2\n", labels);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof line, "bridgert_call_duration_seconds_bucket%s,le=\"+Inf\"} 3\n", labels);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof line, "bridgert_call_duration_seconds_sum%s} 1.5000031\n", labels);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof line, "bridgert_call_duration_seconds_count%s} 3\n", labels);
  assert_non_null(strstr(text, line));
  snprintf(line, sizeof line, "bridgert_algorithm_state%s} 0\n", labels);
  assert_non_null(strstr(text, line));
  assert_non_null(strstr(text, "# TYPE bridgert_call_duration_seconds histogram\n"));
  assert_non_null(strstr(text, "# TYPE bridgert_calls_total counter\n"));
  assert_non_null(strstr(text, "bridgert_errors_total{code=\"BRT_E_CPP_EXCEPTION\",origin=\"cpp\"} "));
  assert_non_null(strstr(text, "bridgert_uptime_seconds 4.0000031\n"));
  snprintf(line, sizeof line, "bridgert_build_info{version=\"%s\"} 1\n", brt_version_string());
  assert_non_null(strstr(text, line));
  brt_monitor_text_free(text);
  brt_monitor_free(monitor);
}

static void test_json_content(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = monitor_with_clock(&clock);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "dot", "1.2.3");
  timed_call(stats, &clock, 100, BRT_OK);
  timed_call(stats, &clock, 200, BRT_OK);
  brt_error_set(BRT_E_TIMEOUT, BRT_ORIGIN_C, NULL, "deadline of 5 ms passed");
  timed_call(stats, &clock, 5000000, BRT_E_TIMEOUT);
  assert_ok(brt_monitor_set_gauge(monitor, "algorithms_loaded", 3));
  char *text = NULL;
  assert_ok(brt_monitor_export(monitor, BRT_FORMAT_JSON, &text));
  cJSON *root = cJSON_Parse(text);
  assert_non_null(root);
  assert_string_equal(cJSON_GetObjectItem(root, "bridgert_version")->valuestring, brt_version_string());
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "gauges"), "algorithms_loaded")->valueint, 3);
  cJSON *algorithm = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "algorithms"), 0);
  assert_string_equal(cJSON_GetObjectItem(algorithm, "name")->valuestring, "dot");
  assert_string_equal(cJSON_GetObjectItem(algorithm, "version")->valuestring, "1.2.3");
  assert_string_equal(cJSON_GetObjectItem(algorithm, "state")->valuestring, "closed");
  assert_int_equal(cJSON_GetObjectItem(algorithm, "calls")->valueint, 3);
  assert_int_equal(cJSON_GetObjectItem(algorithm, "errors")->valueint, 1);
  cJSON *by_status = cJSON_GetObjectItem(algorithm, "calls_by_status");
  assert_int_equal(cJSON_GetObjectItem(by_status, "BRT_OK")->valueint, 2);
  assert_int_equal(cJSON_GetObjectItem(by_status, "BRT_E_TIMEOUT")->valueint, 1);
  cJSON *latency = cJSON_GetObjectItem(algorithm, "latency");
  assert_int_equal(cJSON_GetObjectItem(latency, "sum_ns")->valueint, 5000300);
  assert_int_equal(cJSON_GetObjectItem(latency, "max_ns")->valueint, 5000000);
  cJSON *buckets = cJSON_GetObjectItem(latency, "buckets");
  assert_int_equal(cJSON_GetArraySize(buckets), 34 - 6 + 1);
  cJSON *b128 = cJSON_GetArrayItem(buckets, 1);
  assert_int_equal(cJSON_GetObjectItem(b128, "le_ns")->valueint, 128);
  assert_int_equal(cJSON_GetObjectItem(b128, "count")->valueint, 1);
  cJSON *window = cJSON_GetObjectItem(algorithm, "window");
  assert_int_equal(cJSON_GetObjectItem(window, "calls")->valueint, 3);
  assert_int_equal(cJSON_GetObjectItem(window, "errors")->valueint, 1);
  cJSON *last = cJSON_GetObjectItem(algorithm, "last_error");
  assert_non_null(strstr(cJSON_GetObjectItem(last, "message")->valuestring, "deadline of 5 ms"));
  bool found = false;
  cJSON *entry;
  cJSON_ArrayForEach(entry, cJSON_GetObjectItem(root, "errors")) {
    if (strcmp(cJSON_GetObjectItem(entry, "code")->valuestring, "BRT_E_TIMEOUT") == 0 &&
        strcmp(cJSON_GetObjectItem(entry, "origin")->valuestring, "c") == 0)
      found = cJSON_GetObjectItem(entry, "count")->valueint >= 1;
  }
  assert_true(found);
  cJSON_Delete(root);
  brt_monitor_text_free(text);
  brt_monitor_free(monitor);
}

static void test_health_report(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = monitor_with_clock(&clock);
  char *text = NULL;
  brt_health_level level = BRT_UNHEALTHY;
  assert_ok(brt_monitor_health_level(monitor, &level, &text));
  assert_int_equal(level, BRT_HEALTHY);
  cJSON *root = cJSON_Parse(text);
  assert_string_equal(cJSON_GetObjectItem(root, "status")->valuestring, "HEALTHY");
  assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(root, "checks")) >= 1);
  cJSON_Delete(root);
  brt_monitor_text_free(text);

  /* Defaults: threshold 0.5 over 20 calls: 11 failures isolate, 6 (at least
   * half of that) degrade, 5 do not. */
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "flaky", "1");
  brt_algo_stats *fine = brt_monitor_algorithm(monitor, "fine", "1");
  for (int i = 0; i < 5; i++) timed_call(stats, &clock, 10, BRT_E_CPP_EXCEPTION);
  timed_call(fine, &clock, 10, BRT_OK);
  assert_ok(brt_monitor_health_level(monitor, &level, &text));
  assert_int_equal(level, BRT_HEALTHY); /* 5 of 5 failed, but 5 < 11 / 2 */
  brt_monitor_text_free(text);
  for (int i = 0; i < 5; i++) timed_call(stats, &clock, 10, i < 1 ? BRT_E_CPP_EXCEPTION : BRT_OK);
  assert_ok(brt_monitor_health_level(monitor, &level, &text));
  assert_int_equal(level, BRT_DEGRADED);
  root = cJSON_Parse(text);
  assert_string_equal(cJSON_GetObjectItem(root, "status")->valuestring, "DEGRADED");
  cJSON *check;
  int seen = 0;
  cJSON_ArrayForEach(check, cJSON_GetObjectItem(root, "checks")) {
    if (!cJSON_GetObjectItem(check, "subject")) continue; /* process-wide checks */
    const char *subject = cJSON_GetObjectItem(check, "subject")->valuestring;
    const char *status = cJSON_GetObjectItem(check, "status")->valuestring;
    const char *reason = cJSON_GetObjectItem(check, "reason")->valuestring;
    if (strcmp(subject, "flaky@1") == 0) {
      assert_string_equal(status, "DEGRADED");
      assert_non_null(strstr(reason, "6 of the last 10 calls failed: at least half of the 11"));
      seen++;
    } else if (strcmp(subject, "fine@1") == 0) {
      assert_string_equal(status, "HEALTHY");
      seen++;
    }
  }
  assert_int_equal(seen, 2);
  cJSON_Delete(root);
  brt_monitor_text_free(text);
  assert_ok(brt_monitor_health(monitor, &text));
  brt_monitor_text_free(text);
  brt_monitor_free(monitor);
}

/* The status and reason of check `name` in a report. */
static const char *check_of(cJSON *root, const char *name, const char **reason) {
  cJSON *check;
  cJSON_ArrayForEach(check, cJSON_GetObjectItem(root, "checks")) {
    if (strcmp(cJSON_GetObjectItem(check, "name")->valuestring, name) == 0) {
      *reason = cJSON_GetObjectItem(check, "reason")->valuestring;
      return cJSON_GetObjectItem(check, "status")->valuestring;
    }
  }
  fail_msg("no check named %s", name);
  return NULL;
}

static void expect_memory_check(brt_monitor *monitor, brt_health_level want_level,
                                const char *want_status, const char *needle) {
  char *text;
  brt_health_level level;
  assert_ok(brt_monitor_health_level(monitor, &level, &text));
  assert_int_equal(level, want_level);
  cJSON *root = cJSON_Parse(text);
  const char *reason;
  assert_string_equal(check_of(root, "memory_limit", &reason), want_status);
  if (!strstr(reason, needle)) fail_msg("reason \"%s\" lacks \"%s\"", reason, needle);
  assert_string_equal(check_of(root, "allocator_consistency", &reason), "HEALTHY");
  assert_non_null(strstr(reason, "metadata consistent"));
  cJSON_Delete(root);
  brt_monitor_text_free(text);
}

static void test_health_memory(void **state) {
  (void)state;
  brt_monitor *monitor = brt_monitor_new(NULL);
  void *blocks[64];
  for (int i = 0; i < 64; i++) {
    blocks[i] = brt_alloc(1000 + (size_t)i, 16, (brt_mem_type)(i % 3), 0);
    assert_non_null(blocks[i]);
  }
  expect_memory_check(monitor, BRT_HEALTHY, "HEALTHY", "no memory limit is set");
  brt_mem_stats stats = {.struct_size = sizeof stats};
  assert_ok(brt_mem_stats_get(&stats));
  /* 87 % of the limit: degraded; 99 %: unhealthy; 50 %: healthy. */
  assert_ok(brt_mem_set_limit((size_t)(stats.committed_bytes * 100 / 87)));
  expect_memory_check(monitor, BRT_DEGRADED, "DEGRADED", "degraded from 80%, unhealthy from 95%");
  assert_ok(brt_mem_set_limit((size_t)(stats.committed_bytes * 100 / 99)));
  expect_memory_check(monitor, BRT_UNHEALTHY, "UNHEALTHY", "committed of the");
  assert_ok(brt_mem_set_limit((size_t)stats.committed_bytes * 2));
  expect_memory_check(monitor, BRT_HEALTHY, "HEALTHY", "(50.0%;");
  assert_ok(brt_mem_set_limit(0));
  brt_monitor_free(monitor);

  /* Configurable thresholds. */
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.health_memory_degraded = 0.30;
  cfg.health_memory_unhealthy = 0.60;
  monitor = brt_monitor_new(&cfg);
  assert_non_null(monitor);
  assert_ok(brt_mem_set_limit((size_t)stats.committed_bytes * 2));
  expect_memory_check(monitor, BRT_DEGRADED, "DEGRADED", "degraded from 30%, unhealthy from 60%");
  assert_ok(brt_mem_set_limit(0));
  brt_monitor_free(monitor);
  for (int i = 0; i < 64; i++) assert_ok(brt_release(blocks[i]));
}

static void test_memory_export(void **state) {
  (void)state;
  brt_monitor *monitor = brt_monitor_new(NULL);
  void *block = brt_alloc(4096, 64, BRT_MEM_RUST_HEAP, 0);
  assert_non_null(block);
  brt_mem_stats stats = {.struct_size = sizeof stats};
  assert_ok(brt_mem_stats_get(&stats));
  char *text;
  assert_ok(brt_monitor_export(monitor, BRT_FORMAT_PROMETHEUS, &text));
  char line[128];
  snprintf(line, sizeof line, "bridgert_memory_live_bytes{type=\"rust_heap\"} %llu\n",
           (unsigned long long)stats.live_bytes_by_type[BRT_MEM_RUST_HEAP]);
  assert_non_null(strstr(text, line));
  assert_true(stats.live_bytes_by_type[BRT_MEM_RUST_HEAP] >= 4096);
  assert_non_null(strstr(text, "# TYPE bridgert_memory_allocations_total counter\n"));
  /* The text itself is a managed block. */
  assert_true(brt_owns(text));
  brt_monitor_text_free(text);
  assert_ok(brt_monitor_export(monitor, BRT_FORMAT_JSON, &text));
  cJSON *root = cJSON_Parse(text);
  cJSON *memory = cJSON_GetObjectItem(root, "memory");
  assert_non_null(memory);
  assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(memory, "live_bytes_by_type"), "rust_heap")->valuedouble >= 4096);
  cJSON_Delete(root);
  assert_ok(brt_release(text)); /* brt_release works as well */
  assert_ok(brt_release(block));
  /* Tracking is off here: no per-class families, and the exporter's probe
   * for them leaves the thread's last error alone. */
  brt_error_set(BRT_E_IO, BRT_ORIGIN_C, NULL, "the caller's own error");
  uint64_t unsupported_before = 0, unsupported_after = 0;
  assert_ok(brt_error_count_get(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, &unsupported_before));
  assert_ok(brt_monitor_export(monitor, BRT_FORMAT_PROMETHEUS, &text));
  assert_ok(brt_error_count_get(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, &unsupported_after));
  assert_int_equal(unsupported_after, unsupported_before); /* no refusal recorded */
  assert_null(strstr(text, "bridgert_memory_class_"));
  brt_monitor_text_free(text);
  assert_last_error(BRT_E_IO, "the caller's own error");
  brt_error_clear();
  assert_ok(brt_monitor_export(monitor, BRT_FORMAT_JSON, &text));
  assert_null(brt_last_error());
  brt_monitor_text_free(text);
  brt_monitor_free(monitor);
}

/* Whatever reaches the JSON export is valid UTF-8 (RFC 3629): names and
 * versions that are not are refused, and an error message that is not (or
 * that the export's bounded copy would cut inside a character) is repaired
 * before it is kept. The strict JSON reader must accept every export. */
static void assert_export_is_valid_json(brt_monitor *monitor) {
  char *text = NULL;
  assert_ok(brt_monitor_export(monitor, BRT_FORMAT_JSON, &text));
  brt_value *parsed = brt_value_from_json(text, strlen(text), 0);
  if (!parsed) fail_msg("the JSON export is not strict JSON: %s", brt_error_message(brt_last_error()));
  brt_value_release(parsed);
  brt_monitor_text_free(text);
}

static void test_export_is_valid_utf8(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = monitor_with_clock(&clock);
  static const char *const invalid[] = {
      "surrogate\xED\xA0\x80",      "low surrogate\xED\xBF\xBF", "overlong2\xC0\xAF",
      "overlong3\xE0\x80\xAF",      "overlong4\xF0\x80\x80\xAF", "above U+10FFFF\xF4\x90\x80\x80",
      "lead F5\xF5\x80\x80\x80",    "lead FF\xFF",               "lone continuation\x80",
      "truncated\xE2\x82",          "C1 control\xC2\x9B",
  };
  for (size_t i = 0; i < sizeof invalid / sizeof *invalid; i++) {
    assert_null_with(brt_monitor_algorithm(monitor, invalid[i], "1"), BRT_E_INVALID_ARGUMENT);
    assert_null_with(brt_monitor_algorithm(monitor, "ok", invalid[i]), BRT_E_INVALID_ARGUMENT);
  }
  /* Valid characters of every length, up to the last code point. */
  assert_non_null(brt_monitor_algorithm(monitor, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF", "\xE2\x82\xAC"));
  assert_export_is_valid_json(monitor);

  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "failing", "1");
  assert_non_null(stats);
  brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "bytes %s from a plugin", "\xED\xA0\x80\xC0\xAF\xF5\x80");
  timed_call(stats, &clock, 10, BRT_E_INTERNAL);
  assert_export_is_valid_json(monitor);

  /* Two-byte characters past the kept length, once at each parity. */
  char long_message[1001];
  for (int pad = 0; pad < 2; pad++) {
    size_t n = 0;
    if (pad) long_message[n++] = 'x';
    while (n + 2 < sizeof long_message) {
      long_message[n++] = '\xC3';
      long_message[n++] = '\xA9';
    }
    long_message[n] = '\0';
    brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "%s", long_message);
    brt_error_wrap(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "%s", long_message);
    brt_error_wrap(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "%s", long_message);
    timed_call(stats, &clock, 10, BRT_E_INTERNAL);
    assert_export_is_valid_json(monitor);
    /* The copy into a caller's buffer keeps whole characters too. */
    char small[32];
    for (size_t size = 24; size <= sizeof small; size++) {
      assert_true(brt_algo_stats_last_error(stats, small, size) > size);
      brt_value *checked = brt_value_string(small, strlen(small));
      assert_non_null(checked);
      brt_value_release(checked);
    }
  }
  brt_error_clear();
  brt_monitor_free(monitor);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_rejects_bad_config),
      cmocka_unit_test(test_algorithm_names),
      cmocka_unit_test(test_begin_end_arguments),
      cmocka_unit_test(test_counts_and_histogram_exact),
      cmocka_unit_test(test_quantiles),
      cmocka_unit_test(test_sampling),
      cmocka_unit_test(test_last_error_is_recorded),
      cmocka_unit_test(test_gauges),
      cmocka_unit_test(test_export_arguments),
      cmocka_unit_test(test_prometheus_content),
      cmocka_unit_test(test_json_content),
      cmocka_unit_test(test_health_report),
      cmocka_unit_test(test_health_memory),
      cmocka_unit_test(test_memory_export),
      cmocka_unit_test(test_export_is_valid_utf8),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
