/* bench/run exception — the cost of the C++ exception boundary.
 *
 *   exception.translate        a throw caught by brt::guard (translation +
 *                              recording) vs a bare catch (const std::exception&);
 *                              goal: bridgert/bare <= 1.2
 *   exception.translate_with_translator
 *                              the same with one (non-matching) user
 *                              translator registered: each consulted
 *                              translator rethrows once to test its type
 *   exception.guard_nothrow    a call through brt::guard that does not throw
 *                              vs the bare call; goal: <= 2 ns added */
#include "bench.h"

double bench_translate_bridgert(void *arg, uint64_t ops);
double bench_translate_bare(void *arg, uint64_t ops);
double bench_nothrow_bridgert(void *arg, uint64_t ops);
double bench_nothrow_bare(void *arg, uint64_t ops);
int bench_translator_add(void);

typedef double (*subject_fn)(void *arg, uint64_t ops);

/* Runs the two subjects' repetitions alternately (bridgert, bare, bridgert,
 * ...) instead of one after the other, so a change in the machine's load
 * during the run hits both alike: the machine is shared and busy. */
static void run_pair(bench_state *state, subject_fn bridgert, subject_fn bare, uint64_t ops,
                     const char *extra) {
  double ours[BENCH_MAX_REPS], theirs[BENCH_MAX_REPS];
  int reps = bench_reps();
  bridgert(NULL, ops / 10 ? ops / 10 : 1); /* warm-up */
  bare(NULL, ops / 10 ? ops / 10 : 1);
  for (int i = 0; i < reps; i++) {
    ours[i] = bridgert(NULL, ops) / (double)ops;
    theirs[i] = bare(NULL, ops) / (double)ops;
  }
  bench_report(state, "bridgert", ours, reps, extra);
  bench_report(state, "bare", theirs, reps, extra);
  bench_ratios(state, "bridgert");
}

static void added_ns_line(const bench_state *state) {
  if (state->count < 2) return;
  printf("{\"bench\":\"%s\",\"added_ns_per_op\":{\"bridgert-bare\":%.3f}}\n", state->bench,
         state->results[0].value - state->results[1].value);
  fflush(stdout);
}

int main(void) {
  bench_state state;

  bench_begin(&state, "exception.translate", NULL);
  run_pair(&state, bench_translate_bridgert, bench_translate_bare, 200000, "\"ops\":200000");

  bench_begin(&state, "exception.guard_nothrow", NULL);
  run_pair(&state, bench_nothrow_bridgert, bench_nothrow_bare, 50000000, "\"ops\":50000000");
  added_ns_line(&state);

  if (bench_translator_add() != 0) return 1;
  bench_begin(&state, "exception.translate_with_translator", NULL);
  run_pair(&state, bench_translate_bridgert, bench_translate_bare, 200000, "\"ops\":200000");
  return 0;
}
