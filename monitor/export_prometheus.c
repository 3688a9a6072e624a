/* The Prometheus text exposition format, version 0.0.4.
 *
 * Every family gets HELP and TYPE lines and its samples right after them;
 * counters end in _total; the latency histogram has cumulative _bucket
 * samples with `le` at exact bucket edges (powers of two of nanoseconds,
 * written as exact decimal seconds), then _sum and _count. Label values are
 * escaped (\\, \", \n). Families without samples are left out. */
#include "internal.h"

#include "bridgert/version.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static void family(text_buffer *out, const char *name, const char *type, const char *help) {
  _brt_text_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `{algorithm="...",version="..."` without the closing brace. */
static void algorithm_labels(text_buffer *out, const brt_algo_stats *stats) {
  _brt_text_append(out, "{algorithm=\"", 12);
  _brt_text_label_value(out, stats->name);
  _brt_text_append(out, "\",version=\"", 11);
  _brt_text_label_value(out, stats->version);
  _brt_text_append(out, "\"", 1);
}

static void algorithm_sample(text_buffer *out, const char *name, const brt_algo_stats *stats,
                             const char *value_format, double value) {
  _brt_text_printf(out, "%s", name);
  algorithm_labels(out, stats);
  _brt_text_append(out, "} ", 2);
  _brt_text_printf(out, value_format, value);
  _brt_text_append(out, "\n", 1);
}

static const char *status_label(unsigned slot) {
  return slot < BRT_STATUS_COUNT ? brt_status_name((brt_status)slot) : "unknown";
}

static void write_calls(text_buffer *out, brt_algo_stats **algorithms, algo_view *views,
                        size_t count) {
  family(out, "bridgert_calls_total", "counter",
         "Completed calls by algorithm and result status; BRT_E_ISOLATED also counts the calls "
         "refused while the algorithm was isolated.");
  for (size_t i = 0; i < count; i++) {
    const algo_totals *totals = &views[i].totals;
    for (unsigned slot = 0; slot < STATUS_SLOTS; slot++) {
      uint64_t value = totals->by_status[slot];
      if (slot == BRT_E_ISOLATED) value += totals->rejected;
      if (value == 0 && slot != BRT_OK) continue; /* BRT_OK always: the series exists */
      _brt_text_append(out, "bridgert_calls_total", 20);
      algorithm_labels(out, algorithms[i]);
      _brt_text_printf(out, ",status=\"%s\"} %llu\n", status_label(slot), (unsigned long long)value);
    }
  }
  family(out, "bridgert_calls_in_flight", "gauge", "Calls begun and not yet ended.");
  for (size_t i = 0; i < count; i++) {
    const algo_totals *totals = &views[i].totals;
    uint64_t in_flight = totals->begun > totals->completed ? totals->begun - totals->completed : 0;
    algorithm_sample(out, "bridgert_calls_in_flight", algorithms[i], "%.0f", (double)in_flight);
  }
}

static void write_durations(text_buffer *out, brt_algo_stats **algorithms, algo_view *views,
                            size_t count) {
  family(out, "bridgert_call_duration_seconds", "histogram",
         "Latency of the sampled (timed) calls, from brt_monitor_call_begin to "
         "brt_monitor_call_end.");
  for (size_t i = 0; i < count; i++) {
    const algo_totals *totals = &views[i].totals;
    unsigned bucket = 0;
    uint64_t cumulative = 0;
    for (unsigned exponent = EXPORT_LE_MIN_EXPONENT; exponent <= EXPORT_LE_MAX_EXPONENT; exponent++) {
      uint64_t edge = UINT64_C(1) << exponent;
      _brt_hist_cumulative_to(totals, edge, &bucket, &cumulative);
      _brt_text_append(out, "bridgert_call_duration_seconds_bucket", 37);
      algorithm_labels(out, algorithms[i]);
      _brt_text_append(out, ",le=\"", 5);
      _brt_text_seconds(out, edge);
      _brt_text_printf(out, "\"} %llu\n", (unsigned long long)cumulative);
    }
    _brt_text_append(out, "bridgert_call_duration_seconds_bucket", 37);
    algorithm_labels(out, algorithms[i]);
    _brt_text_printf(out, ",le=\"+Inf\"} %llu\n", (unsigned long long)totals->timed);
    _brt_text_append(out, "bridgert_call_duration_seconds_sum", 34);
    algorithm_labels(out, algorithms[i]);
    _brt_text_append(out, "} ", 2);
    _brt_text_seconds(out, totals->sum_ns);
    _brt_text_append(out, "\n", 1);
    _brt_text_append(out, "bridgert_call_duration_seconds_count", 36);
    algorithm_labels(out, algorithms[i]);
    _brt_text_printf(out, "} %llu\n", (unsigned long long)totals->timed);
  }
}

static void write_breaker(text_buffer *out, brt_algo_stats **algorithms, algo_view *views,
                          size_t count) {
  family(out, "bridgert_algorithm_state", "gauge",
         "Circuit breaker state: 0 closed, 1 open (isolated), 2 half-open (probing).");
  for (size_t i = 0; i < count; i++)
    algorithm_sample(out, "bridgert_algorithm_state", algorithms[i], "%.0f", (double)views[i].state);
  family(out, "bridgert_algorithm_window_error_ratio", "gauge",
         "Failures counted by the circuit breaker among the calls of its sliding window.");
  for (size_t i = 0; i < count; i++) {
    double ratio = views[i].window_calls
                       ? (double)views[i].window_errors / (double)views[i].window_calls
                       : 0.0;
    algorithm_sample(out, "bridgert_algorithm_window_error_ratio", algorithms[i], "%.17g", ratio);
  }
  family(out, "bridgert_algorithm_isolations_total", "counter",
         "How many times the algorithm's circuit opened.");
  for (size_t i = 0; i < count; i++)
    algorithm_sample(out, "bridgert_algorithm_isolations_total", algorithms[i], "%.0f",
                     (double)views[i].trips);
}

static void write_counter_or_gauge(text_buffer *out, const char *name, const char *type,
                                   const char *help, uint64_t value) {
  family(out, name, type, help);
  _brt_text_printf(out, "%s %llu\n", name, (unsigned long long)value);
}

/* Per size class, when the allocator counts them (tracking >= counters):
 * the classes that have seen an allocation, labelled by block size
 * ("single" for blocks alone in a segment). */
static void class_label(text_buffer *out, const char *name, const brt_mem_class_stats *st) {
  if (st->block_size)
    _brt_text_printf(out, "%s{block_size=\"%zu\"} ", name, st->block_size);
  else
    _brt_text_printf(out, "%s{block_size=\"single\"} ", name);
}

static void write_class_family(text_buffer *out, const char *name, const char *type,
                               const char *help, const brt_mem_class_stats *classes, size_t count,
                               size_t field_offset) {
  family(out, name, type, help);
  for (size_t i = 0; i < count; i++) {
    uint64_t value;
    memcpy(&value, (const char *)&classes[i] + field_offset, sizeof value);
    class_label(out, name, &classes[i]);
    _brt_text_printf(out, "%llu\n", (unsigned long long)value);
  }
}

static void write_memory_classes(text_buffer *out) {
  brt_mem_class_stats classes[BRT_MEM_CLASS_COUNT];
  size_t count = _brt_monitor_mem_classes(classes);
  if (!count) return;
  write_class_family(out, "bridgert_memory_class_allocations_total", "counter",
                     "Blocks allocated, by size class (tracking >= counters).", classes, count,
                     offsetof(brt_mem_class_stats, allocs));
  write_class_family(out, "bridgert_memory_class_live_blocks", "gauge",
                     "Live blocks, by size class.", classes, count,
                     offsetof(brt_mem_class_stats, live_blocks));
  write_class_family(out, "bridgert_memory_class_live_bytes", "gauge",
                     "Usable bytes of live blocks, by size class.", classes, count,
                     offsetof(brt_mem_class_stats, live_bytes));
}

static void write_memory(text_buffer *out) {
  brt_mem_stats stats = {.struct_size = sizeof stats};
  if (brt_mem_stats_get(&stats) != BRT_OK) return; /* cannot fail with a valid struct */
  family(out, "bridgert_memory_live_bytes", "gauge",
         "Usable bytes of live blocks of bridgert's allocator, by type tag.");
  for (unsigned type = 0; type < BRT_MEM_TYPE_COUNT; type++)
    _brt_text_printf(out, "bridgert_memory_live_bytes{type=\"%s\"} %llu\n",
                     _brt_monitor_mem_type_names[type],
                     (unsigned long long)stats.live_bytes_by_type[type]);
  write_counter_or_gauge(out, "bridgert_memory_live_blocks", "gauge", "Live blocks.",
                         stats.live_blocks);
  write_counter_or_gauge(out, "bridgert_memory_peak_bytes", "gauge",
                         "The highest live byte count seen.", stats.peak_bytes);
  write_counter_or_gauge(out, "bridgert_memory_committed_bytes", "gauge",
                         "Bytes of pages committed from the OS (what the limit charges).",
                         stats.committed_bytes);
  write_counter_or_gauge(out, "bridgert_memory_limit_bytes", "gauge",
                         "The limit on committed bytes; 0 means none.", stats.limit_bytes);
  write_counter_or_gauge(out, "bridgert_memory_allocations_total", "counter",
                         "Blocks allocated.", stats.total_allocs);
  write_counter_or_gauge(out, "bridgert_memory_frees_total", "counter", "Blocks freed.",
                         stats.total_frees);
  write_counter_or_gauge(out, "bridgert_memory_shares_total", "counter",
                         "Zero-copy shares (brt_map_share).", stats.total_shares);
  write_counter_or_gauge(out, "bridgert_memory_collections_total", "counter",
                         "Collections (brt_mem_collect, explicit and automatic).",
                         stats.collections);
  family(out, "bridgert_memory_refusals_total", "counter",
         "Bad releases the allocator refused without harm, by kind.");
  const struct {
    const char *kind;
    uint64_t count;
  } refusals[] = {{"invalid_pointer", stats.errors_invalid_pointer},
                  {"double_free", stats.errors_double_free},
                  {"layout_mismatch", stats.errors_layout_mismatch},
                  {"use_after_free", stats.errors_use_after_free}};
  for (size_t i = 0; i < sizeof refusals / sizeof *refusals; i++)
    _brt_text_printf(out, "bridgert_memory_refusals_total{kind=\"%s\"} %llu\n", refusals[i].kind,
                     (unsigned long long)refusals[i].count);
  write_memory_classes(out);
}

static void write_errors(text_buffer *out) {
  bool any = false;
  for (unsigned code = 1; code < BRT_STATUS_COUNT; code++) {
    for (unsigned origin = 0; origin < BRT_ORIGIN_COUNT; origin++) {
      uint64_t count = 0;
      if (brt_error_count_get((brt_status)code, (brt_origin)origin, &count) != BRT_OK || !count)
        continue;
      if (!any)
        family(out, "bridgert_errors_total", "counter",
               "Errors recorded in the process by code and origin (every component).");
      any = true;
      _brt_text_printf(out, "bridgert_errors_total{code=\"%s\",origin=\"%s\"} %llu\n",
                       brt_status_name((brt_status)code), brt_origin_name((brt_origin)origin),
                       (unsigned long long)count);
    }
  }
}

static void write_process(text_buffer *out, brt_monitor *monitor, uint64_t now) {
  family(out, "bridgert_build_info", "gauge", "The bridgert library version; always 1.");
  _brt_text_printf(out, "bridgert_build_info{version=\"%s\"} 1\n", brt_version_string());
  family(out, "bridgert_uptime_seconds", "gauge", "Seconds since the runtime's monitor started.");
  uint64_t started = atomic_load_explicit(&monitor->started_ns, memory_order_relaxed);
  _brt_text_append(out, "bridgert_uptime_seconds ", 24);
  _brt_text_seconds(out, now > started ? now - started : 0);
  _brt_text_append(out, "\n", 1);
  monitor_gauge gauges[GAUGE_COUNT_MAX];
  size_t gauge_count = _brt_monitor_gauges_copy(monitor, gauges);
  for (size_t i = 0; i < gauge_count; i++) {
    const char *name = gauges[i].name;
    _brt_text_printf(out,
                     "# HELP bridgert_%s Set by the runtime with brt_monitor_set_gauge.\n"
                     "# TYPE bridgert_%s gauge\nbridgert_%s %.17g\n",
                     name, name, name, gauges[i].value);
  }
}

brt_status _brt_export_prometheus(brt_monitor *monitor, char **text) {
  static const char what[] = "brt_monitor_export (Prometheus)";
  text_buffer out = {0};
  uint64_t now = _brt_monitor_now(monitor);
  size_t count = 0;
  brt_algo_stats **algorithms = _brt_monitor_algorithms_copy(monitor, &count);
  algo_view *views = algorithms ? malloc((count ? count : 1) * sizeof *views) : NULL;
  if (!views) {
    free(algorithms);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "%s: no memory to read %zu algorithms", what, count);
  }
  for (size_t i = 0; i < count; i++) _brt_algo_view(algorithms[i], now, &views[i]);
  write_process(&out, monitor, now);
  if (count) {
    write_calls(&out, algorithms, views, count);
    write_durations(&out, algorithms, views, count);
    write_breaker(&out, algorithms, views, count);
  }
  write_memory(&out);
  write_errors(&out);
  free(views);
  free(algorithms);
  return _brt_text_finish(&out, what, text);
}
