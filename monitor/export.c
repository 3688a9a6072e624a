/* brt_monitor_export, and the per-algorithm view both exporters and the
 * health check are written from. */
#include "internal.h"

#include <string.h>

_Static_assert(BRT_MEM_TYPE_COUNT == 5, "name every brt_mem_type");
const char *const _brt_monitor_mem_type_names[BRT_MEM_TYPE_COUNT] = {
    [BRT_MEM_C_HEAP] = "c_heap", [BRT_MEM_RUST_HEAP] = "rust_heap", [BRT_MEM_CPP_HEAP] = "cpp_heap",
    [BRT_MEM_SHARED] = "shared", [BRT_MEM_MAPPED] = "mapped"};

static int keep_busy_class(void *ctx, const brt_mem_class_stats *st) {
  struct {
    brt_mem_class_stats *out;
    size_t count;
  } *busy = ctx;
  if (st->allocs || st->live_blocks) busy->out[busy->count++] = *st;
  return 0;
}

size_t _brt_monitor_mem_classes(brt_mem_class_stats *out) {
  struct {
    brt_mem_class_stats *out;
    size_t count;
  } busy = {out, 0};
  /* Ask only when the allocator counts classes: a refusal would be
   * recorded (and counted among the process's errors) on every export. */
  brt_mem_stats stats = {.struct_size = sizeof stats};
  if (brt_mem_stats_get(&stats) != BRT_OK || stats.tracking < BRT_TRACKING_COUNTERS) return 0;
  brt_error *saved = brt_error_take(); /* a failure below must not replace the caller's error */
  if (brt_mem_visit_classes(keep_busy_class, &busy) != BRT_OK) busy.count = 0;
  if (saved) brt_error_restore(saved);
  else brt_error_clear();
  return busy.count;
}

void _brt_algo_view(brt_algo_stats *stats, uint64_t now, algo_view *view) {
  _brt_monitor_totals(stats, &view->totals);
  pthread_mutex_lock(&stats->lock);
  view->state = (brt_circuit_state)atomic_load_explicit(&stats->state, memory_order_relaxed);
  _brt_breaker_window(stats, view->totals.completed, &view->window_calls, &view->window_errors);
  view->trips = stats->trips;
  view->retry_in_ns = view->state == BRT_CIRCUIT_OPEN && stats->open_until_ns > now
                          ? stats->open_until_ns - now
                          : 0;
  memcpy(view->reason, stats->reason, sizeof view->reason);
  memcpy(view->last_error, stats->last_error, sizeof view->last_error);
  view->last_error_at_ns = stats->last_error_at_ns;
  pthread_mutex_unlock(&stats->lock);
}

brt_status brt_monitor_export(brt_monitor *monitor, brt_format format, char **text) {
  static const char function[] = "brt_monitor_export";
  if (!monitor || !text)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: %s is NULL", function,
                         monitor ? "text" : "monitor");
  char *result = NULL;
  brt_status status;
  switch (format) {
    case BRT_FORMAT_PROMETHEUS: status = _brt_export_prometheus(monitor, &result); break;
    case BRT_FORMAT_JSON: status = _brt_export_json(monitor, &result); break;
    default:
      return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "%s: format %u is not BRT_FORMAT_PROMETHEUS (%d) or BRT_FORMAT_JSON (%d)",
                           function, (unsigned)format, BRT_FORMAT_PROMETHEUS, BRT_FORMAT_JSON);
  }
  if (status != BRT_OK) return status;
  *text = result;
  return BRT_OK;
}
