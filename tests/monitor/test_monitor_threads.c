/* The monitor under concurrent load: counters and histograms are exact
 * after the threads join, while a reader exports concurrently (run under
 * ThreadSanitizer too). Each thread has its own fake clock, so every
 * latency is known without sleeping. */
#include "brt_test.h"
#include "fake_clock.h"

#include <pthread.h>

enum { CALLS_PER_THREAD = 200000, EXPECTED_MAX = 1000000 };

/* Latency and result of call i of a thread: deterministic, spread over
 * many buckets; every 16th call fails as the caller's fault (slow path,
 * but the breaker stays closed). */
static uint64_t latency_of(uint64_t i) { return (i * 7919) % EXPECTED_MAX + 1; }
static brt_status result_of(uint64_t i) { return i % 16 == 0 ? BRT_E_VALIDATION : BRT_OK; }

typedef struct worker {
  brt_algo_stats *stats;
  uint64_t calls;
} worker;

static void *worker_main(void *arg) {
  worker *w = arg;
  thread_clock_now = 1000;
  for (uint64_t i = 0; i < w->calls; i++) {
    uint64_t start;
    if (brt_monitor_call_begin(w->stats, &start) != BRT_OK) return (void *)1;
    thread_clock_now += latency_of(i);
    brt_monitor_call_end(w->stats, start, result_of(i));
  }
  return NULL;
}

static _Atomic int readers_stop;

static void *reader_main(void *arg) {
  brt_monitor *monitor = arg;
  while (!atomic_load(&readers_stop)) {
    char *text = NULL;
    if (brt_monitor_export(monitor, BRT_FORMAT_PROMETHEUS, &text) == BRT_OK) brt_monitor_text_free(text);
    if (brt_monitor_health(monitor, &text) == BRT_OK) brt_monitor_text_free(text);
  }
  return NULL;
}

static void test_two_threads_exact(void **state) {
  (void)state;
  brt_monitor *monitor = brt_monitor_new(NULL);
  assert_ok(brt_monitor_set_clock(monitor, thread_clock_read, NULL));
  assert_ok(brt_monitor_set_sampling(monitor, 1));
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "shared", "1");
  worker workers[2] = {{stats, CALLS_PER_THREAD}, {stats, CALLS_PER_THREAD}};
  pthread_t threads[2], reader;
  atomic_store(&readers_stop, 0);
  assert_int_equal(pthread_create(&reader, NULL, reader_main, monitor), 0);
  for (int t = 0; t < 2; t++) assert_int_equal(pthread_create(&threads[t], NULL, worker_main, &workers[t]), 0);
  for (int t = 0; t < 2; t++) {
    void *result;
    pthread_join(threads[t], &result);
    assert_null(result);
  }
  atomic_store(&readers_stop, 1);
  pthread_join(reader, NULL);

  uint64_t sum = 0, max = 0, ok = 0, failed = 0;
  for (uint64_t i = 0; i < CALLS_PER_THREAD; i++) {
    sum += latency_of(i);
    if (latency_of(i) > max) max = latency_of(i);
    if (result_of(i) == BRT_OK) ok++; else failed++;
  }
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.calls, 2 * CALLS_PER_THREAD);
  assert_int_equal(snap.errors, 2 * failed);
  assert_int_equal(snap.in_flight, 0);
  assert_int_equal(snap.latency_sum_ns, 2 * sum);
  assert_int_equal(snap.max_ns, max);
  assert_int_equal(snap.state, BRT_CIRCUIT_CLOSED);
  uint64_t count;
  assert_ok(brt_algo_stats_status_count(stats, BRT_OK, &count));
  assert_int_equal(count, 2 * ok);
  assert_ok(brt_algo_stats_status_count(stats, BRT_E_VALIDATION, &count));
  assert_int_equal(count, 2 * failed);
  /* Every power-of-two edge is exact. */
  for (unsigned e = 0; e <= 21; e++) {
    uint64_t edge = UINT64_C(1) << e, expected = 0;
    for (uint64_t i = 0; i < CALLS_PER_THREAD; i++) expected += latency_of(i) <= edge;
    assert_ok(brt_algo_stats_count_at_most(stats, edge, &count));
    assert_int_equal(count, 2 * expected);
  }
  brt_monitor_free(monitor);
}

/* The default sampling under the same load: counters stay exact, and the
 * histogram holds exactly the timed calls. */
static void test_two_threads_sampled(void **state) {
  (void)state;
  brt_monitor *monitor = brt_monitor_new(NULL);
  assert_ok(brt_monitor_set_clock(monitor, thread_clock_read, NULL));
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "sampled", "1");
  worker workers[2] = {{stats, CALLS_PER_THREAD}, {stats, CALLS_PER_THREAD}};
  pthread_t threads[2];
  for (int t = 0; t < 2; t++) assert_int_equal(pthread_create(&threads[t], NULL, worker_main, &workers[t]), 0);
  for (int t = 0; t < 2; t++) pthread_join(threads[t], NULL);
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.calls, 2 * CALLS_PER_THREAD);
  assert_int_equal(snap.in_flight, 0);
  uint64_t count;
  assert_ok(brt_algo_stats_count_at_most(stats, UINT64_MAX, &count));
  assert_int_equal(count, snap.latency_count);
  uint64_t expected = 2 * CALLS_PER_THREAD / BRT_MONITOR_SAMPLING_DEFAULT;
  assert_true(snap.latency_count > expected * 8 / 10 && snap.latency_count < expected * 12 / 10);
  brt_monitor_free(monitor);
}

/* More threads alive at once than there are private slots: the extra ones
 * share one shard with atomic updates, and nothing is lost. */
enum { MANY_THREADS = 72, CALLS_EACH = 2000 };
static pthread_barrier_t all_started;

static void *crowd_main(void *arg) {
  worker *w = arg;
  pthread_barrier_wait(&all_started); /* every thread holds a slot before anyone records */
  return worker_main(w);
}

static void test_more_threads_than_slots(void **state) {
  (void)state;
  brt_monitor *monitor = brt_monitor_new(NULL);
  assert_ok(brt_monitor_set_clock(monitor, thread_clock_read, NULL));
  assert_ok(brt_monitor_set_sampling(monitor, 1));
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "crowd", "1");
  pthread_t threads[MANY_THREADS];
  worker w = {stats, CALLS_EACH};
  pthread_barrier_init(&all_started, NULL, MANY_THREADS);
  for (int t = 0; t < MANY_THREADS; t++) assert_int_equal(pthread_create(&threads[t], NULL, crowd_main, &w), 0);
  for (int t = 0; t < MANY_THREADS; t++) {
    void *result;
    pthread_join(threads[t], &result);
    assert_null(result);
  }
  pthread_barrier_destroy(&all_started);
  uint64_t sum = 0;
  for (uint64_t i = 0; i < CALLS_EACH; i++) sum += latency_of(i);
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.calls, (uint64_t)MANY_THREADS * CALLS_EACH);
  assert_int_equal(snap.latency_sum_ns, MANY_THREADS * sum);
  assert_int_equal(snap.in_flight, 0);

  /* Threads that come and go reuse slots: still exact. */
  for (int t = 0; t < 100; t++) {
    pthread_t thread;
    worker one = {stats, 10};
    assert_int_equal(pthread_create(&thread, NULL, worker_main, &one), 0);
    pthread_join(thread, NULL);
  }
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.calls, (uint64_t)MANY_THREADS * CALLS_EACH + 1000);
  brt_monitor_free(monitor);
}

/* Two threads failing at once trip the breaker exactly once, and calls
 * after that fail fast in both. */
static void *failing_main(void *arg) {
  brt_algo_stats *stats = arg;
  thread_clock_now = 1;
  int isolated = 0;
  for (int i = 0; i < 1000; i++) {
    uint64_t start;
    if (brt_monitor_call_begin(stats, &start) != BRT_OK) {
      isolated++;
      continue;
    }
    brt_monitor_call_end(stats, start, BRT_E_CPP_EXCEPTION);
  }
  return (void *)(intptr_t)isolated;
}

static void test_concurrent_trip(void **state) {
  (void)state;
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.cooldown_ms = 60000; /* the per-thread clocks never reach it */
  brt_monitor *monitor = brt_monitor_new(&cfg);
  assert_ok(brt_monitor_set_clock(monitor, thread_clock_read, NULL));
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "doomed", "1");
  pthread_t threads[2];
  for (int t = 0; t < 2; t++) assert_int_equal(pthread_create(&threads[t], NULL, failing_main, stats), 0);
  intptr_t isolated = 0;
  for (int t = 0; t < 2; t++) {
    void *result;
    pthread_join(threads[t], &result);
    isolated += (intptr_t)result;
  }
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.state, BRT_CIRCUIT_OPEN);
  assert_int_equal(snap.rejected, (uint64_t)isolated);
  assert_int_equal(snap.calls + snap.rejected, 2000);
  assert_true(snap.calls >= 11);
  brt_monitor_free(monitor);
}

/* A call may end on another thread than the one that began it (a callback
 * completing elsewhere): it is counted once and leaves nothing in flight. */
typedef struct handoff {
  brt_algo_stats *stats;
  uint64_t start;
} handoff;

static void *end_elsewhere(void *arg) {
  handoff *h = arg;
  thread_clock_now = 5000;
  brt_monitor_call_end(h->stats, h->start, BRT_OK);
  return NULL;
}

static void test_end_on_another_thread(void **state) {
  (void)state;
  brt_monitor *monitor = brt_monitor_new(NULL);
  assert_ok(brt_monitor_set_clock(monitor, thread_clock_read, NULL));
  assert_ok(brt_monitor_set_sampling(monitor, 1));
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "handoff", "1");
  handoff h = {stats, 0};
  thread_clock_now = 1000;
  assert_ok(brt_monitor_call_begin(stats, &h.start));
  brt_algo_snapshot snap = {.struct_size = sizeof snap};
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.in_flight, 1);
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, end_elsewhere, &h), 0);
  pthread_join(thread, NULL);
  assert_ok(brt_algo_stats_get(stats, &snap));
  assert_int_equal(snap.in_flight, 0);
  assert_int_equal(snap.calls, 1);
  assert_int_equal(snap.latency_sum_ns, 4000);
  brt_monitor_free(monitor);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_threads_exact),
      cmocka_unit_test(test_two_threads_sampled),
      cmocka_unit_test(test_more_threads_than_slots),
      cmocka_unit_test(test_concurrent_trip),
      cmocka_unit_test(test_end_on_another_thread),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
