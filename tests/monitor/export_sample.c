/* Prints the Prometheus export of a monitor with every kind of content
 * (algorithms in each circuit state, awkward label values, gauges, errors)
 * for promtool_check.sh. */
#include <bridgert.h>

#include <stdio.h>
#include <stdlib.h>

static uint64_t fake_now = 1000000000u;
static uint64_t fake_clock(void *ctx) {
  (void)ctx;
  return fake_now;
}

static void calls(brt_algo_stats *stats, int count, uint64_t ns, brt_status result) {
  if (!stats) exit(1);
  for (int i = 0; i < count; i++) {
    uint64_t start;
    if (brt_monitor_call_begin(stats, &start) != BRT_OK) continue;
    fake_now += ns;
    brt_monitor_call_end(stats, start, result);
  }
}

int main(int argc, char **argv) {
  brt_monitor *monitor = brt_monitor_new(NULL);
  if (!monitor || brt_monitor_set_clock(monitor, fake_clock, NULL) != BRT_OK) return 1;
  brt_algo_stats *matmul = brt_monitor_algorithm(monitor, "matrix_multiplication", "1.0.0");
  calls(matmul, 50, 1500, BRT_OK);
  calls(brt_monitor_algorithm(monitor, "quote\"back\\slash caf\xC3\xA9", "0.1"), 3, 70000000, BRT_E_VALIDATION);
  brt_algo_stats *failing = brt_monitor_algorithm(monitor, "fail", "");
  brt_error_set(BRT_E_CPP_EXCEPTION, BRT_ORIGIN_CPP, "std::logic_error", "on purpose");
  calls(failing, 30, 20, BRT_E_CPP_EXCEPTION); /* trips, then refusals */
  /* Live blocks of three size classes (one alone in its segment), so the
   * memory families have content; with BRT_TRACKING=counters the
   * per-class families appear too. */
  void *blocks[] = {brt_alloc(64, 16, BRT_MEM_C_HEAP, 0), brt_alloc(3000, 16, BRT_MEM_RUST_HEAP, 0),
                    brt_alloc(1u << 20, 16, BRT_MEM_CPP_HEAP, 0)};
  for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++)
    if (!blocks[i]) return 1;
  brt_monitor_set_gauge(monitor, "plugins_loaded", 1);
  brt_monitor_set_gauge(monitor, "algorithms_loaded", 3);
  char *text = NULL;
  unsigned format = argc > 1 && argv[1][0] == 'j' ? BRT_FORMAT_JSON : BRT_FORMAT_PROMETHEUS;
  if (brt_monitor_export(monitor, format, &text) != BRT_OK) return 1;
  fputs(text, stdout);
  brt_monitor_text_free(text);
  brt_monitor_free(monitor);
  for (size_t i = 0; i < sizeof blocks / sizeof *blocks; i++) brt_release(blocks[i]);
  return 0;
}
