/* The benchmark harness shared by every bench/ suite.
 *
 * A suite measures subjects (bridgert and its peers) on the same workload in
 * the same process run, and prints one JSON object per line:
 *   {"bench":"alloc.churn","subject":"mimalloc","ns_per_op":11.2,"reps":7,...}
 * ns_per_op is the median of the repetitions. After the subjects of a bench,
 * bench_ratios() prints {"bench":...,"ratio":{"bridgert/mimalloc":1.05,...}}.
 * Timings never decide a test: benchmarks are run with bench/run, not meson
 * test. */
#ifndef BRT_BENCH_H
#define BRT_BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BENCH_MAX_SUBJECTS 8
#define BENCH_MAX_REPS 31

typedef struct bench_result {
  const char *subject;
  double value; /* ns_per_op, or bytes for memory benches */
} bench_result;

typedef struct bench_state {
  const char *bench;
  const char *unit; /* "ns_per_op" or "bytes" */
  bench_result results[BENCH_MAX_SUBJECTS];
  int count;
} bench_state;

static inline uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline int bench_compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static inline double bench_median(double *values, int n) {
  qsort(values, (size_t)n, sizeof *values, bench_compare_double);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

/* Repetitions: BENCH_REPS from the environment (at least 5), default 7. */
static inline int bench_reps(void) {
  const char *text = getenv("BENCH_REPS");
  int reps = text ? atoi(text) : 7;
  if (reps < 5) reps = 5;
  if (reps > BENCH_MAX_REPS) reps = BENCH_MAX_REPS;
  return reps;
}

static inline void bench_begin(bench_state *state, const char *bench, const char *unit) {
  memset(state, 0, sizeof *state);
  state->bench = bench;
  state->unit = unit ? unit : "ns_per_op";
}

/* Records a subject's median and prints its line. `extra` is appended inside
 * the object (e.g. "\"ops\":10000000"), or NULL. */
static inline void bench_report(bench_state *state, const char *subject, double *samples, int reps,
                                const char *extra) {
  double median = bench_median(samples, reps);
  printf("{\"bench\":\"%s\",\"subject\":\"%s\",\"%s\":%.3f,\"reps\":%d,\"min\":%.3f,\"max\":%.3f%s%s}\n",
         state->bench, subject, state->unit, median, reps, samples[0], samples[reps - 1],
         extra ? "," : "", extra ? extra : "");
  fflush(stdout);
  if (state->count < BENCH_MAX_SUBJECTS) state->results[state->count++] = (bench_result){subject, median};
}

/* Runs fn(arg) `reps` times; fn returns the elapsed ns for `ops` operations. */
static inline void bench_run_subject(bench_state *state, const char *subject,
                                     double (*fn)(void *arg, uint64_t ops), void *arg, uint64_t ops,
                                     const char *extra) {
  double samples[BENCH_MAX_REPS];
  int reps = bench_reps();
  fn(arg, ops / 10 ? ops / 10 : 1); /* warm-up */
  for (int i = 0; i < reps; i++) samples[i] = fn(arg, ops) / (double)ops;
  bench_report(state, subject, samples, reps, extra);
}

/* Prints the ratio line: `subject` against every other subject measured. */
static inline void bench_ratios(const bench_state *state, const char *subject) {
  const bench_result *mine = NULL;
  for (int i = 0; i < state->count; i++)
    if (strcmp(state->results[i].subject, subject) == 0) mine = &state->results[i];
  if (!mine) return;
  printf("{\"bench\":\"%s\",\"ratio\":{", state->bench);
  int first = 1;
  for (int i = 0; i < state->count; i++) {
    if (&state->results[i] == mine || state->results[i].value <= 0) continue;
    printf("%s\"%s/%s\":%.3f", first ? "" : ",", subject, state->results[i].subject,
           mine->value / state->results[i].value);
    first = 0;
  }
  printf("}}\n");
  fflush(stdout);
}

/* Keeps the optimiser from deleting a computation. */
#define BENCH_USE(x) __asm__ __volatile__("" : : "r"(x) : "memory")

#endif /* BRT_BENCH_H */
