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

static void added_ns_line(const bench_state *state) {
  if (state->count < 2) return;
  printf("{\"bench\":\"%s\",\"added_ns_per_op\":{\"bridgert-bare\":%.3f}}\n", state->bench,
         state->results[0].value - state->results[1].value);
  fflush(stdout);
}

int main(void) {
  bench_state state;

  bench_begin(&state, "exception.translate", NULL);
  bench_run_subject(&state, "bridgert", bench_translate_bridgert, NULL, 200000, "\"ops\":200000");
  bench_run_subject(&state, "bare", bench_translate_bare, NULL, 200000, "\"ops\":200000");
  bench_ratios(&state, "bridgert");

  bench_begin(&state, "exception.guard_nothrow", NULL);
  bench_run_subject(&state, "bridgert", bench_nothrow_bridgert, NULL, 50000000, "\"ops\":50000000");
  bench_run_subject(&state, "bare", bench_nothrow_bare, NULL, 50000000, "\"ops\":50000000");
  bench_ratios(&state, "bridgert");
  added_ns_line(&state);

  if (bench_translator_add() != 0) return 1;
  bench_begin(&state, "exception.translate_with_translator", NULL);
  bench_run_subject(&state, "bridgert", bench_translate_bridgert, NULL, 200000, "\"ops\":200000");
  bench_run_subject(&state, "bare", bench_translate_bare, NULL, 200000, "\"ops\":200000");
  bench_ratios(&state, "bridgert");
  return 0;
}
