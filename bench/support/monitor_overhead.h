/* bench call.monitor_overhead: what recording a call in the monitor costs.
 *
 * Include after bench.h in the call suite (bench/call/) and call
 * bench_monitor_overhead(). Two subjects run the same trivial native call
 * through a function pointer:
 *   monitor_off  the bare call
 *   monitor_on   the call between brt_monitor_call_begin and
 *                brt_monitor_call_end, as the runtime records every call
 *                (two clock reads, thread-local counters, the histogram)
 * and the ratio line monitor_on/monitor_off follows. The difference of the
 * two ns_per_op figures is the recording cost per call (issue 7's goal:
 * <= 10 ns); it is printed as "overhead_ns" on the monitor_on line. */
#ifndef BRT_BENCH_MONITOR_OVERHEAD_H
#define BRT_BENCH_MONITOR_OVERHEAD_H

#include <bridgert.h>

#include "bench.h"

typedef struct monitor_overhead_subject {
  double (*fn)(double, double); /* called through a pointer, as a prepared call does */
  brt_algo_stats *stats;        /* NULL: monitor off */
} monitor_overhead_subject;

static inline double monitor_overhead_add(double a, double b) { return a + b; }

static inline double monitor_overhead_run(void *arg, uint64_t ops) {
  monitor_overhead_subject *subject = arg;
  double (*volatile fn)(double, double) = subject->fn; /* no inlining of the call */
  double acc = 0;
  uint64_t t0 = bench_now_ns();
  if (subject->stats) {
    for (uint64_t i = 0; i < ops; i++) {
      uint64_t start;
      if (brt_monitor_call_begin(subject->stats, &start) != BRT_OK) break;
      acc = fn(acc, 1.0);
      brt_monitor_call_end(subject->stats, start, BRT_OK);
    }
  } else {
    for (uint64_t i = 0; i < ops; i++) acc = fn(acc, 1.0);
  }
  uint64_t t1 = bench_now_ns();
  BENCH_USE(acc);
  return (double)(t1 - t0);
}

/* Runs both subjects with `ops` calls per repetition (e.g. 10000000).
 * Returns 0, or 1 when the monitor could not be created (error printed). */
static inline int bench_monitor_overhead(uint64_t ops) {
  brt_monitor *monitor = brt_monitor_new(NULL);
  brt_algo_stats *stats = monitor ? brt_monitor_algorithm(monitor, "bench_add", "1.0.0") : NULL;
  if (!stats) {
    fprintf(stderr, "call.monitor_overhead: %s\n", brt_error_message(brt_last_error()));
    brt_monitor_free(monitor);
    return 1;
  }
  bench_state state;
  bench_begin(&state, "call.monitor_overhead", "ns_per_op");
  monitor_overhead_subject off = {monitor_overhead_add, NULL};
  monitor_overhead_subject on = {monitor_overhead_add, stats};
  bench_run_subject(&state, "monitor_off", monitor_overhead_run, &off, ops, NULL);
  double samples[BENCH_MAX_REPS];
  int reps = bench_reps();
  monitor_overhead_run(&on, ops / 10 ? ops / 10 : 1); /* warm-up */
  for (int i = 0; i < reps; i++) samples[i] = monitor_overhead_run(&on, ops) / (double)ops;
  char extra[64];
  double sorted[BENCH_MAX_REPS];
  memcpy(sorted, samples, sizeof(double) * (size_t)reps);
  double overhead = bench_median(sorted, reps) - state.results[0].value;
  snprintf(extra, sizeof extra, "\"overhead_ns\":%.3f", overhead);
  bench_report(&state, "monitor_on", samples, reps, extra);
  bench_ratios(&state, "monitor_on");
  brt_monitor_free(monitor);
  return 0;
}

#endif /* BRT_BENCH_MONITOR_OVERHEAD_H */
