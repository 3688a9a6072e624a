/* A fake clock for monitor tests: a process-wide time that tests move by
 * hand, and a per-thread one for concurrent tests (each thread sets its own
 * "now" so latencies are exact without any sleeping). */
#ifndef BRT_TEST_FAKE_CLOCK_H
#define BRT_TEST_FAKE_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

typedef struct fake_clock {
  _Atomic uint64_t now_ns;
} fake_clock;

static inline uint64_t fake_clock_read(void *ctx) {
  return atomic_load(&((fake_clock *)ctx)->now_ns);
}

static inline void fake_clock_set(fake_clock *clock, uint64_t ns) { atomic_store(&clock->now_ns, ns); }

static inline void fake_clock_advance_ms(fake_clock *clock, uint64_t ms) {
  atomic_fetch_add(&clock->now_ns, ms * 1000000u);
}

static _Thread_local uint64_t thread_clock_now;
static inline uint64_t thread_clock_read(void *ctx) {
  (void)ctx;
  return thread_clock_now;
}

#endif /* BRT_TEST_FAKE_CLOCK_H */
