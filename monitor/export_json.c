/* The JSON export: the same content as the Prometheus text, as one object
 * (its shape is documented in docs/monitor.md and kept stable). Counters are
 * JSON numbers (exact up to 2^53), latencies integer nanoseconds. */
#include "internal.h"

#include "bridgert/version.h"

#include <cjson/cJSON.h>
#include <stdlib.h>

/* cJSON's adders return NULL when out of memory; the objects they were given
 * are then freed with the tree, and the tree is printed only if nothing
 * failed (tracked in *ok). */
static void add_number(cJSON *object, const char *key, double value, bool *ok) {
  if (!cJSON_AddNumberToObject(object, key, value)) *ok = false;
}

static void add_string(cJSON *object, const char *key, const char *value, bool *ok) {
  if (!cJSON_AddStringToObject(object, key, value)) *ok = false;
}

static cJSON *add_child(cJSON *parent, const char *key, cJSON *child, bool *ok) {
  if (!child) {
    *ok = false;
    return NULL;
  }
  if (key ? !cJSON_AddItemToObject(parent, key, child) : !cJSON_AddItemToArray(parent, child)) {
    cJSON_Delete(child);
    *ok = false;
    return NULL;
  }
  return child;
}

static double seconds(uint64_t ns) { return (double)ns / 1e9; }

static void latency_json(cJSON *algorithm, const algo_totals *totals, bool *ok) {
  cJSON *latency = add_child(algorithm, "latency", cJSON_CreateObject(), ok);
  if (!latency) return;
  add_number(latency, "count", (double)totals->timed, ok);
  add_number(latency, "sum_ns", (double)totals->sum_ns, ok);
  add_number(latency, "p50_ns", (double)_brt_hist_quantile(totals, 0.50), ok);
  add_number(latency, "p95_ns", (double)_brt_hist_quantile(totals, 0.95), ok);
  add_number(latency, "p99_ns", (double)_brt_hist_quantile(totals, 0.99), ok);
  add_number(latency, "max_ns", (double)totals->max_ns, ok);
  cJSON *buckets = add_child(latency, "buckets", cJSON_CreateArray(), ok);
  if (!buckets) return;
  unsigned bucket = 0;
  uint64_t cumulative = 0;
  for (unsigned exponent = EXPORT_LE_MIN_EXPONENT; exponent <= EXPORT_LE_MAX_EXPONENT; exponent++) {
    uint64_t edge = UINT64_C(1) << exponent;
    _brt_hist_cumulative_to(totals, edge, &bucket, &cumulative);
    cJSON *entry = add_child(buckets, NULL, cJSON_CreateObject(), ok);
    if (!entry) return;
    add_number(entry, "le_ns", (double)edge, ok);
    add_number(entry, "count", (double)cumulative, ok);
  }
}

static void algorithm_json(cJSON *array, const brt_algo_stats *stats, const algo_view *view,
                           uint64_t now, bool *ok) {
  cJSON *algorithm = add_child(array, NULL, cJSON_CreateObject(), ok);
  if (!algorithm) return;
  const algo_totals *totals = &view->totals;
  add_string(algorithm, "name", stats->name, ok);
  add_string(algorithm, "version", stats->version, ok);
  add_string(algorithm, "state", brt_circuit_state_name(view->state), ok);
  add_number(algorithm, "calls", (double)totals->completed, ok);
  add_number(algorithm, "errors", (double)totals->errors, ok);
  add_number(algorithm, "rejected", (double)totals->rejected, ok);
  add_number(algorithm, "in_flight",
             (double)(totals->begun > totals->completed ? totals->begun - totals->completed : 0), ok);
  cJSON *by_status = add_child(algorithm, "calls_by_status", cJSON_CreateObject(), ok);
  for (unsigned slot = 0; by_status && slot < STATUS_SLOTS; slot++) {
    uint64_t value = totals->by_status[slot] + (slot == BRT_E_ISOLATED ? totals->rejected : 0);
    if (value == 0 && slot != BRT_OK) continue;
    add_number(by_status, slot < BRT_STATUS_COUNT ? brt_status_name((brt_status)slot) : "unknown",
               (double)value, ok);
  }
  latency_json(algorithm, totals, ok);
  cJSON *window = add_child(algorithm, "window", cJSON_CreateObject(), ok);
  if (window) {
    add_number(window, "calls", view->window_calls, ok);
    add_number(window, "errors", view->window_errors, ok);
    add_number(window, "error_rate",
               view->window_calls ? (double)view->window_errors / view->window_calls : 0.0, ok);
  }
  add_number(algorithm, "isolations", (double)view->trips, ok);
  if (view->state != BRT_CIRCUIT_CLOSED) {
    add_string(algorithm, "isolation_reason", view->reason, ok);
    add_number(algorithm, "retry_in_seconds", seconds(view->retry_in_ns), ok);
  }
  if (view->last_error[0]) {
    cJSON *last = add_child(algorithm, "last_error", cJSON_CreateObject(), ok);
    if (last) {
      add_string(last, "message", view->last_error, ok);
      add_number(last, "age_seconds",
                 seconds(now > view->last_error_at_ns ? now - view->last_error_at_ns : 0), ok);
    }
  } else {
    add_child(algorithm, "last_error", cJSON_CreateNull(), ok);
  }
}

static void memory_json(cJSON *root, bool *ok) {
  brt_mem_stats stats = {.struct_size = sizeof stats};
  if (brt_mem_stats_get(&stats) != BRT_OK) return;
  cJSON *memory = add_child(root, "memory", cJSON_CreateObject(), ok);
  if (!memory) return;
  cJSON *by_type = add_child(memory, "live_bytes_by_type", cJSON_CreateObject(), ok);
  for (unsigned type = 0; by_type && type < BRT_MEM_TYPE_COUNT; type++)
    add_number(by_type, _brt_monitor_mem_type_names[type], (double)stats.live_bytes_by_type[type], ok);
  add_number(memory, "live_bytes", (double)stats.live_bytes, ok);
  add_number(memory, "live_blocks", (double)stats.live_blocks, ok);
  add_number(memory, "peak_bytes", (double)stats.peak_bytes, ok);
  add_number(memory, "committed_bytes", (double)stats.committed_bytes, ok);
  add_number(memory, "limit_bytes", (double)stats.limit_bytes, ok);
  add_number(memory, "allocations", (double)stats.total_allocs, ok);
  add_number(memory, "frees", (double)stats.total_frees, ok);
  add_number(memory, "shares", (double)stats.total_shares, ok);
  add_number(memory, "collections", (double)stats.collections, ok);
  cJSON *refusals = add_child(memory, "refusals", cJSON_CreateObject(), ok);
  if (!refusals) return;
  add_number(refusals, "invalid_pointer", (double)stats.errors_invalid_pointer, ok);
  add_number(refusals, "double_free", (double)stats.errors_double_free, ok);
  add_number(refusals, "layout_mismatch", (double)stats.errors_layout_mismatch, ok);
  add_number(refusals, "use_after_free", (double)stats.errors_use_after_free, ok);
  brt_mem_class_stats classes[BRT_MEM_CLASS_COUNT];
  size_t count = _brt_monitor_mem_classes(classes);
  if (!count) return;
  cJSON *by_class = add_child(memory, "classes", cJSON_CreateArray(), ok);
  for (size_t i = 0; by_class && i < count; i++) {
    cJSON *entry = add_child(by_class, NULL, cJSON_CreateObject(), ok);
    if (!entry) return;
    add_number(entry, "block_size", (double)classes[i].block_size, ok);
    add_number(entry, "allocations", (double)classes[i].allocs, ok);
    add_number(entry, "frees", (double)classes[i].frees, ok);
    add_number(entry, "live_blocks", (double)classes[i].live_blocks, ok);
    add_number(entry, "live_bytes", (double)classes[i].live_bytes, ok);
  }
}

static void errors_json(cJSON *root, bool *ok) {
  cJSON *errors = add_child(root, "errors", cJSON_CreateArray(), ok);
  for (unsigned code = 1; errors && code < BRT_STATUS_COUNT; code++) {
    for (unsigned origin = 0; origin < BRT_ORIGIN_COUNT; origin++) {
      uint64_t count = 0;
      if (brt_error_count_get((brt_status)code, (brt_origin)origin, &count) != BRT_OK || !count)
        continue;
      cJSON *entry = add_child(errors, NULL, cJSON_CreateObject(), ok);
      if (!entry) return;
      add_string(entry, "code", brt_status_name((brt_status)code), ok);
      add_string(entry, "origin", brt_origin_name((brt_origin)origin), ok);
      add_number(entry, "count", (double)count, ok);
    }
  }
}

brt_status _brt_export_json(brt_monitor *monitor, char **text) {
  static const char what[] = "brt_monitor_export (JSON)";
  uint64_t now = _brt_monitor_now(monitor);
  uint64_t started = atomic_load_explicit(&monitor->started_ns, memory_order_relaxed);
  bool ok = true;
  cJSON *root = cJSON_CreateObject();
  if (!root) ok = false;
  size_t count = 0;
  brt_algo_stats **algorithms = ok ? _brt_monitor_algorithms_copy(monitor, &count) : NULL;
  algo_view *view = algorithms ? malloc(sizeof *view) : NULL;
  if (!view) ok = false;
  if (ok) {
    add_string(root, "bridgert_version", brt_version_string(), &ok);
    add_number(root, "uptime_seconds", seconds(now > started ? now - started : 0), &ok);
    cJSON *gauges = add_child(root, "gauges", cJSON_CreateObject(), &ok);
    monitor_gauge copy[GAUGE_COUNT_MAX];
    size_t gauge_count = _brt_monitor_gauges_copy(monitor, copy);
    for (size_t i = 0; gauges && i < gauge_count; i++) add_number(gauges, copy[i].name, copy[i].value, &ok);
    cJSON *array = add_child(root, "algorithms", cJSON_CreateArray(), &ok);
    for (size_t i = 0; array && i < count; i++) {
      _brt_algo_view(algorithms[i], now, view);
      algorithm_json(array, algorithms[i], view, now, &ok);
    }
    memory_json(root, &ok);
    errors_json(root, &ok);
  }
  free(view);
  free(algorithms);
  brt_status status = ok ? _brt_text_from_json(root, what, text)
                        : brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                                        "%s: out of memory while building it", what);
  cJSON_Delete(root);
  return status;
}
