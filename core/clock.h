/* core/clock.h: the library's clocks. Private.
 *
 * Inline on purpose: both are a vDSO read, no system call, and the call
 * path (deadlines, the monitor's latencies) reads the clock twice per call;
 * an out-of-line hop would be a measurable share of that. */
#ifndef BRT_CORE_CLOCK_H
#define BRT_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Nanoseconds on CLOCK_MONOTONIC: deadlines, latencies, timeouts, ages.
 * Never goes back; unrelated to the wall clock, meaningful only as a
 * difference within one boot. */
static inline uint64_t _brt_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Nanoseconds on CLOCK_MONOTONIC_COARSE (the last tick: a few ms of
 * resolution) for stamps taken too often to afford the precise clock,
 * such as the allocator's per-block tracking. Comparable with _brt_now_ns
 * only to within that resolution. */
static inline uint64_t _brt_coarse_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif /* BRT_CORE_CLOCK_H */
