/* Circuit-breaker transitions, driven by a fake clock: closed -> open when
 * the window's error rate passes the threshold, refusals naming the reason
 * and the retry time, one probe after the cool-down, closing on success and
 * re-opening on failure. */
#include "brt_test.h"
#include "fake_clock.h"

#include <cjson/cJSON.h>

/* threshold 0.5 over 10 calls: 6 failures within 10 calls isolate. */
static brt_monitor *breaker_monitor(fake_clock *clock, double threshold, uint32_t window,
                                    uint32_t cooldown_ms) {
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.error_rate_threshold = threshold;
  cfg.error_window = window;
  cfg.cooldown_ms = cooldown_ms;
  brt_monitor *monitor = brt_monitor_new(&cfg);
  assert_non_null(monitor);
  fake_clock_set(clock, 5000000000u);
  assert_ok(brt_monitor_set_clock(monitor, fake_clock_read, clock));
  return monitor;
}

static void call(brt_algo_stats *stats, brt_status result) {
  uint64_t start;
  assert_ok(brt_monitor_call_begin(stats, &start));
  if (result != BRT_OK) brt_error_set(result, BRT_ORIGIN_CPP, "std::runtime_error", "it broke");
  brt_monitor_call_end(stats, start, result);
}

static brt_circuit_state state_of(brt_algo_stats *stats) {
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  return snap.state;
}

static void assert_isolated(brt_algo_stats *stats, const char *needle) {
  uint64_t start = 12345;
  assert_status(brt_monitor_call_begin(stats, &start), BRT_E_ISOLATED);
  assert_last_error(BRT_E_ISOLATED, needle);
  assert_int_equal(start, 12345); /* untouched */
}

static void test_trip_probe_close(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = breaker_monitor(&clock, 0.5, 10, 1000);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "flaky", "1.0.0");
  for (int i = 0; i < 4; i++) call(stats, BRT_OK);
  for (int i = 0; i < 5; i++) call(stats, BRT_E_CPP_EXCEPTION);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_CLOSED); /* 5 of 9: not more than half of 10 */
  call(stats, BRT_E_CPP_EXCEPTION);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_OPEN);
  assert_isolated(stats, "algorithm 'flaky' (version '1.0.0') is isolated");
  assert_last_error(BRT_E_ISOLATED, "6 of its last 10 calls failed (threshold 50% of 10 calls)");
  assert_last_error(BRT_E_ISOLATED, "probed again in 1000 ms");
  fake_clock_advance_ms(&clock, 999);
  assert_isolated(stats, "probed again in 1 ms");
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.rejected, 2);
  assert_int_equal(snap.calls, 10);
  assert_int_equal(snap.window_calls, 10);
  assert_int_equal(snap.window_errors, 6);
  uint64_t count;
  assert_ok(brt_algo_stats_status_count(stats, BRT_E_ISOLATED, &count));
  assert_int_equal(count, 2);

  /* Health and export show the isolation. */
  char *text;
  brt_health_level level;
  assert_ok(brt_monitor_health_level(monitor, &level, &text));
  assert_int_equal(level, BRT_DEGRADED);
  assert_non_null(strstr(text, "isolated: 6 of its last 10 calls failed"));
  brt_monitor_text_free(text);
  assert_ok(brt_monitor_export(monitor, BRT_FORMAT_PROMETHEUS, &text));
  assert_non_null(strstr(text, "bridgert_algorithm_state{algorithm=\"flaky\",version=\"1.0.0\"} 1\n"));
  assert_non_null(strstr(text, "bridgert_algorithm_isolations_total{algorithm=\"flaky\",version=\"1.0.0\"} 1\n"));
  assert_non_null(strstr(text, "status=\"BRT_E_ISOLATED\"} 2\n"));
  brt_monitor_text_free(text);

  /* After the cool-down one probe goes through; others still fail fast. */
  fake_clock_advance_ms(&clock, 1);
  uint64_t probe;
  assert_ok(brt_monitor_call_begin(stats, &probe));
  assert_int_equal(state_of(stats), BRT_CIRCUIT_HALF_OPEN);
  fake_clock_advance_ms(&clock, 7);
  assert_isolated(stats, "a probe call has been running for 7 ms");
  /* The probe fails: isolated for another cool-down. */
  brt_error_set(BRT_E_TIMEOUT, BRT_ORIGIN_C, NULL, "too slow");
  brt_monitor_call_end(stats, probe, BRT_E_TIMEOUT);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_OPEN);
  assert_isolated(stats, "the probe call failed with BRT_E_TIMEOUT");
  assert_last_error(BRT_E_ISOLATED, "probed again in 1000 ms");
  /* The next probe succeeds: closed, with a fresh window. */
  fake_clock_advance_ms(&clock, 1000);
  assert_ok(brt_monitor_call_begin(stats, &probe));
  brt_monitor_call_end(stats, probe, BRT_OK);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_CLOSED);
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.window_calls, 0);
  assert_int_equal(snap.window_errors, 0);
  call(stats, BRT_OK);
  assert_ok(brt_monitor_health_level(monitor, &level, &text));
  assert_int_equal(level, BRT_HEALTHY);
  brt_monitor_text_free(text);
  /* It takes a full 6 new failures to trip again. */
  for (int i = 0; i < 5; i++) call(stats, BRT_E_CPP_EXCEPTION);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_CLOSED);
  call(stats, BRT_E_CPP_EXCEPTION);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_OPEN);
  brt_monitor_free(monitor);
}

static void test_caller_errors_do_not_trip(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = breaker_monitor(&clock, 0.5, 10, 1000);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "strict", "1");
  for (int i = 0; i < 50; i++) call(stats, i % 2 ? BRT_E_VALIDATION : BRT_E_INVALID_ARGUMENT);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_CLOSED);
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.errors, 50);
  assert_int_equal(snap.window_errors, 0);
  brt_monitor_free(monitor);
}

static void test_rate_at_threshold_does_not_trip(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = breaker_monitor(&clock, 0.5, 10, 1000);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "half", "1");
  /* Exactly 50 % failing, forever: the rate must pass the threshold. */
  for (int i = 0; i < 100; i++) call(stats, i % 2 ? BRT_E_CPP_EXCEPTION : BRT_OK);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_CLOSED);
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.window_calls, 10);
  assert_int_equal(snap.window_errors, 5);
  /* Two failures in a row make it 6 of the last 10. */
  call(stats, BRT_E_CPP_EXCEPTION);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_OPEN);
  brt_monitor_free(monitor);

  monitor = breaker_monitor(&clock, 1.0, 5, 1000);
  stats = brt_monitor_algorithm(monitor, "never", "1");
  for (int i = 0; i < 100; i++) call(stats, BRT_E_CRASHED);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_CLOSED); /* a rate cannot pass 100 % */
  brt_monitor_free(monitor);
}

static void test_old_failures_leave_the_window(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = breaker_monitor(&clock, 0.2, 10, 1000); /* 3 failures in 10 trip */
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "slow_burn", "1");
  for (int round = 0; round < 20; round++) {
    call(stats, BRT_E_IO);
    call(stats, BRT_E_IO);
    for (int i = 0; i < 9; i++) call(stats, BRT_OK); /* the pair leaves the window */
  }
  assert_int_equal(state_of(stats), BRT_CIRCUIT_CLOSED);
  call(stats, BRT_E_IO);
  call(stats, BRT_E_IO);
  call(stats, BRT_E_IO);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_OPEN);
  brt_monitor_free(monitor);
}

static void test_lost_probe_and_stragglers(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = breaker_monitor(&clock, 0.5, 4, 100);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "lost", "1");
  uint64_t straggler;
  assert_ok(brt_monitor_call_begin(stats, &straggler)); /* in flight across the trip */
  for (int i = 0; i < 3; i++) call(stats, BRT_E_CPP_EXCEPTION);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_OPEN);
  /* A call that began before the trip and succeeds does not close it. */
  brt_monitor_call_end(stats, straggler, BRT_OK);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_OPEN);
  fake_clock_advance_ms(&clock, 100);
  uint64_t probe;
  assert_ok(brt_monitor_call_begin(stats, &probe)); /* and never ended */
  fake_clock_advance_ms(&clock, 999);
  assert_isolated(stats, "probe call has been running for 999 ms");
  /* After max(cooldown, 1 s) another call becomes the probe. */
  fake_clock_advance_ms(&clock, 1);
  uint64_t second;
  assert_ok(brt_monitor_call_begin(stats, &second));
  brt_monitor_call_end(stats, second, BRT_OK);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_CLOSED);
  brt_monitor_call_end(stats, probe, BRT_OK); /* the lost probe's late end changes nothing */
  assert_int_equal(state_of(stats), BRT_CIRCUIT_CLOSED);
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.in_flight, 0);
  assert_int_equal(snap.calls, 6);
  brt_monitor_free(monitor);
}

static void test_zero_cooldown_probes_at_once(void **state) {
  (void)state;
  fake_clock clock;
  brt_monitor *monitor = breaker_monitor(&clock, 0.5, 2, 0);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "eager", "1");
  call(stats, BRT_E_CPP_EXCEPTION);
  call(stats, BRT_E_CPP_EXCEPTION);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_OPEN);
  uint64_t probe;
  assert_ok(brt_monitor_call_begin(stats, &probe));
  assert_int_equal(state_of(stats), BRT_CIRCUIT_HALF_OPEN);
  brt_monitor_call_end(stats, probe, BRT_OK);
  assert_int_equal(state_of(stats), BRT_CIRCUIT_CLOSED);
  brt_monitor_free(monitor);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_trip_probe_close),
      cmocka_unit_test(test_caller_errors_do_not_trip),
      cmocka_unit_test(test_rate_at_threshold_does_not_trip),
      cmocka_unit_test(test_old_failures_leave_the_window),
      cmocka_unit_test(test_lost_probe_and_stragglers),
      cmocka_unit_test(test_zero_cooldown_probes_at_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
