/* Concurrency: register/unregister/call from several threads, and
 * unregister, unload and close while calls are in flight. Runs under
 * ThreadSanitizer (suite concurrency). */
#include "bridge_test.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

static int64_t times_two(int64_t x) { return 2 * x; }
static int64_t times_three(int64_t x) { return 3 * x; }

typedef struct stress {
  brt_runtime *rt;
  _Atomic int stop;
  _Atomic long calls, misses;
} stress;

static void *caller(void *arg) {
  stress *s = arg;
  while (!atomic_load(&s->stop)) {
    brt_prepared *p = brt_prepare(s->rt, "flip");
    if (!p) {
      if (brt_error_code(brt_last_error()) != BRT_E_NOT_FOUND) return BRT_NATIVE_FN(1);
      atomic_fetch_add(&s->misses, 1);
      continue;
    }
    for (int i = 0; i < 50; i++) {
      int64_t x = i, out = -1;
      void *args[] = {&x};
      brt_status status = brt_invoke(p, &out, args);
      if (status == BRT_E_NOT_FOUND) break; /* unregistered meanwhile */
      if (status != BRT_OK || (out != 2 * x && out != 3 * x)) return BRT_NATIVE_FN(2);
      atomic_fetch_add(&s->calls, 1);
    }
    brt_prepared_free(p);
    /* The stable algorithm must never go missing. */
    brt_prepared *stable = brt_prepare(s->rt, "stable");
    if (!stable) return BRT_NATIVE_FN(3);
    brt_prepared_free(stable);
  }
  return NULL;
}

static void *registrar(void *arg) {
  stress *s = arg;
  brt_algorithm two = {.struct_size = sizeof two, .name = "flip", .version = "1.0.0",
                       .native_fn = BRT_NATIVE_FN(times_two), .signature = "i64(i64)"};
  brt_algorithm three = two;
  three.version = "2.0.0";
  three.native_fn = BRT_NATIVE_FN(times_three);
  for (int round = 0; round < 400; round++) {
    long calls_before = atomic_load(&s->calls);
    if (brt_register(s->rt, round % 2 ? &two : &three) != BRT_OK) return BRT_NATIVE_FN(1);
    /* The first rounds wait until a caller has really called the new
     * registration, so the stress overlaps calls with the flips however the
     * threads are scheduled (a loaded machine may otherwise run all 400
     * rounds before a caller gets a slice). */
    for (int waited = 0; round < 4 && atomic_load(&s->calls) == calls_before; waited++) {
      if (waited > 200000) return BRT_NATIVE_FN(3);
      sched_yield();
    }
    if (brt_unregister(s->rt, "flip") != BRT_OK) return BRT_NATIVE_FN(2);
  }
  return NULL;
}

static void test_register_unregister_call_stress(void **state) {
  (void)state;
  stress s = {.rt = brt_runtime_open(NULL)};
  brt_algorithm stable = {.struct_size = sizeof stable, .name = "stable", .version = "1.0.0",
                          .native_fn = BRT_NATIVE_FN(times_two), .signature = "i64(i64)"};
  assert_ok(brt_register(s.rt, &stable));
  pthread_t callers[2], writers[2];
  for (int i = 0; i < 2; i++) assert_int_equal(pthread_create(&callers[i], NULL, caller, &s), 0);
  /* Two registrars race on the same name: each of their steps may fail
   * with EXISTS/NOT_FOUND against the other, so run them one after the
   * other while the callers keep going, then one more pair at once. */
  assert_int_equal(pthread_create(&writers[0], NULL, registrar, &s), 0);
  void *result;
  assert_int_equal(pthread_join(writers[0], &result), 0);
  assert_null(result);
  atomic_store(&s.stop, 1);
  for (int i = 0; i < 2; i++) {
    assert_int_equal(pthread_join(callers[i], &result), 0);
    if (result) fail_msg("caller thread failed at check %ld", (long)(intptr_t)result);
  }
  assert_true(atomic_load(&s.calls) >= 4); /* the registrar's first rounds waited for calls */
  brt_runtime_close(s.rt);
}

/* Register and unregister distinct names from two threads at once. */
static void *own_names(void *arg) {
  brt_runtime *rt = ((void **)arg)[0];
  const char *prefix = ((void **)arg)[1];
  for (int i = 0; i < 300; i++) {
    char name[64];
    snprintf(name, sizeof name, "%s%d", prefix, i % 7);
    brt_algorithm a = {.struct_size = sizeof a, .name = name, .version = "1.0.0",
                       .native_fn = BRT_NATIVE_FN(times_two), .signature = "i64(i64)"};
    if (brt_register(rt, &a) != BRT_OK) return BRT_NATIVE_FN(1);
    brt_prepared *p = brt_prepare(rt, name);
    if (!p) return BRT_NATIVE_FN(2);
    int64_t x = i, out = 0;
    void *args[] = {&x};
    if (brt_invoke(p, &out, args) != BRT_OK || out != 2 * i) return BRT_NATIVE_FN(3);
    brt_prepared_free(p);
    if (brt_unregister(rt, name) != BRT_OK) return BRT_NATIVE_FN(4);
  }
  return NULL;
}

static void test_parallel_writers(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  void *a[] = {rt, "left_"}, *b[] = {rt, "right_"};
  pthread_t ta, tb;
  assert_int_equal(pthread_create(&ta, NULL, own_names, a), 0);
  assert_int_equal(pthread_create(&tb, NULL, own_names, b), 0);
  void *ra, *rb;
  pthread_join(ta, &ra);
  pthread_join(tb, &rb);
  assert_null(ra);
  assert_null(rb);
  brt_runtime_close(rt);
}

typedef struct nap_call {
  brt_prepared *prepared;
  uint32_t ms, slept;
  brt_status status;
  _Atomic int started;
} nap_call;

static void *napper(void *arg) {
  nap_call *c = arg;
  void *args[] = {&c->ms};
  atomic_store(&c->started, 1);
  c->status = brt_invoke(c->prepared, &c->slept, args);
  return NULL;
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* `how`: 0 unregister, 1 unload the plugin, 2 close the runtime. */
static void interrupt_in_flight_call(int how) {
  char path[4096];
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_ok(brt_plugin_load(rt, test_plugin("good", path, sizeof path)));
  nap_call call = {.prepared = brt_prepare(rt, "nap"), .ms = 5000};
  assert_non_null(call.prepared);
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, napper, &call), 0);
  while (!atomic_load(&call.started)) sleep_ms(1);
  sleep_ms(30); /* let the call get into the plugin */
  if (how == 0) assert_ok(brt_unregister(rt, "nap"));
  if (how == 1) assert_ok(brt_plugin_unload(rt, path));
  if (how == 2) brt_runtime_close(rt);
  /* The call notices (brt_call_cancelled) and returns; the plugin's code
   * stays mapped until then because the handle holds it. */
  pthread_join(thread, NULL);
  assert_ok(call.status);
  assert_true(call.slept < 5000);
  brt_prepared_free(call.prepared); /* dlclose happens here */
  if (how != 2) {
    assert_null_with(brt_prepare(rt, "nap"), BRT_E_NOT_FOUND);
    brt_runtime_close(rt);
  }
}

static void test_unregister_during_call(void **state) {
  (void)state;
  interrupt_in_flight_call(0);
}

static void test_unload_during_call(void **state) {
  (void)state;
  interrupt_in_flight_call(1);
}

static void test_close_during_call(void **state) {
  (void)state;
  interrupt_in_flight_call(2);
}

/* Many runtimes opened and closed from two threads at once. */
static void *open_close_loop(void *arg) {
  (void)arg;
  for (int i = 0; i < 200; i++) {
    brt_runtime *rt = brt_runtime_open(NULL);
    if (!rt) return BRT_NATIVE_FN(1);
    brt_algorithm a = {.struct_size = sizeof a, .name = "x", .version = "1.0.0",
                       .native_fn = BRT_NATIVE_FN(times_two), .signature = "i64(i64)"};
    if (brt_register(rt, &a) != BRT_OK) return BRT_NATIVE_FN(2);
    brt_runtime_close(rt);
  }
  return NULL;
}

static void test_open_close_in_parallel(void **state) {
  (void)state;
  pthread_t a, b;
  pthread_create(&a, NULL, open_close_loop, NULL);
  pthread_create(&b, NULL, open_close_loop, NULL);
  void *ra, *rb;
  pthread_join(a, &ra);
  pthread_join(b, &rb);
  assert_null(ra);
  assert_null(rb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_register_unregister_call_stress),
      cmocka_unit_test(test_parallel_writers),
      cmocka_unit_test(test_unregister_during_call),
      cmocka_unit_test(test_unload_during_call),
      cmocka_unit_test(test_close_during_call),
      cmocka_unit_test(test_open_close_in_parallel),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
