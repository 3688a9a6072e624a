/* The monitor object: lifecycle, the list of algorithms, gauges, and the
 * readers of one algorithm's statistics. */
#include "internal.h"

#include "core/text.h"
#include "core/utf8.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static brt_status invalid(const char *format, const char *function, const char *detail) {
  return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, format, function, detail);
}

brt_monitor *brt_monitor_new(const brt_config *cfg) {
  brt_config defaults;
  if (!cfg) {
    if (brt_config_default(&defaults) != BRT_OK) return NULL;
    cfg = &defaults;
  } else if (brt_config_validate(cfg) != BRT_OK) {
    brt_error_wrap(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                   "brt_monitor_new: the configuration is not valid");
    return NULL;
  }
  brt_monitor *monitor = calloc(1, sizeof *monitor);
  if (!monitor) {
    brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                  "brt_monitor_new: no memory for a monitor (%zu bytes)", sizeof *monitor);
    return NULL;
  }
  monitor->error_rate_threshold = cfg->error_rate_threshold;
  monitor->error_window = cfg->error_window;
  double allowed = floor(cfg->error_rate_threshold * (double)cfg->error_window);
  monitor->failures_to_trip = (uint32_t)allowed + 1;
  monitor->cooldown_ms = cfg->cooldown_ms;
  monitor->max_memory = cfg->max_memory;
  monitor->health_memory_degraded = cfg->health_memory_degraded;
  monitor->health_memory_unhealthy = cfg->health_memory_unhealthy;
  atomic_store_explicit(&monitor->sample_every, BRT_MONITOR_SAMPLING_DEFAULT, memory_order_relaxed);
  pthread_mutex_init(&monitor->lock, NULL);
  atomic_store_explicit(&monitor->started_ns, _brt_monitor_now(monitor), memory_order_relaxed);
  _brt_monitor_fork_track(monitor);
  return monitor;
}

static void algo_free(brt_algo_stats *stats) {
  _brt_monitor_shards_free(stats);
  _brt_breaker_free(stats);
  pthread_mutex_destroy(&stats->lock);
  free(stats);
}

void brt_monitor_free(brt_monitor *monitor) {
  if (!monitor) return;
  _brt_monitor_fork_forget(monitor);
  for (size_t i = 0; i < monitor->algorithm_count; i++) algo_free(monitor->algorithms[i]);
  free(monitor->algorithms);
  pthread_mutex_destroy(&monitor->lock);
  free(monitor);
}

/* Valid UTF-8 without control characters (core/utf8.h): safe in every
 * exporter, and what the strict JSON reader accepts back. */
static bool printable_utf8(const char *text, size_t length) {
  const unsigned char *p = (const unsigned char *)text;
  for (size_t i = 0; i < length;) {
    size_t k = _brt_utf8_printable(p + i, length - i);
    if (!k) return false;
    i += k;
  }
  return true;
}

static brt_status check_label(const char *function, const char *what, const char *text,
                              size_t min, size_t max) {
  size_t length = strlen(text);
  if (length < min || length > max)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: %s \"%.40s%s\" is %zu bytes long; expected %zu to %zu", function,
                         what, text, length > 40 ? "..." : "", length, min, max);
  if (!printable_utf8(text, length))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: %s contains a control character or invalid UTF-8; expected "
                         "printable UTF-8",
                         function, what);
  return BRT_OK;
}

static brt_algo_stats *algo_new(brt_monitor *monitor, const char *name, const char *version) {
  brt_algo_stats *stats = calloc(1, sizeof *stats);
  if (!stats) return NULL;
  stats->monitor = monitor;
  memcpy(stats->name, name, strlen(name) + 1);
  memcpy(stats->version, version, strlen(version) + 1);
  pthread_mutex_init(&stats->lock, NULL);
  return stats;
}

brt_algo_stats *brt_monitor_algorithm(brt_monitor *monitor, const char *name, const char *version) {
  static const char function[] = "brt_monitor_algorithm";
  if (!monitor || !name) {
    invalid("%s: %s is NULL", function, monitor ? "name" : "monitor");
    return NULL;
  }
  if (!version) version = "";
  if (check_label(function, "name", name, 1, ALGO_NAME_MAX) != BRT_OK ||
      check_label(function, "version", version, 0, ALGO_VERSION_MAX) != BRT_OK)
    return NULL;
  pthread_mutex_lock(&monitor->lock);
  brt_algo_stats *found = NULL;
  for (size_t i = 0; i < monitor->algorithm_count && !found; i++) {
    brt_algo_stats *stats = monitor->algorithms[i];
    if (strcmp(stats->name, name) == 0 && strcmp(stats->version, version) == 0) found = stats;
  }
  if (!found && monitor->algorithm_count == monitor->algorithm_capacity) {
    size_t capacity = monitor->algorithm_capacity ? monitor->algorithm_capacity * 2 : 8;
    brt_algo_stats **grown = realloc(monitor->algorithms, capacity * sizeof *grown);
    if (grown) {
      monitor->algorithms = grown;
      monitor->algorithm_capacity = capacity;
    }
  }
  if (!found && monitor->algorithm_count < monitor->algorithm_capacity) {
    found = algo_new(monitor, name, version);
    if (found) monitor->algorithms[monitor->algorithm_count++] = found;
  }
  pthread_mutex_unlock(&monitor->lock);
  if (!found)
    brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                  "%s: no memory for the statistics of algorithm '%s'", function, name);
  return found;
}

brt_algo_stats **_brt_monitor_algorithms_copy(brt_monitor *monitor, size_t *count) {
  pthread_mutex_lock(&monitor->lock);
  size_t n = monitor->algorithm_count;
  brt_algo_stats **copy = malloc((n ? n : 1) * sizeof *copy);
  if (copy && n) memcpy(copy, monitor->algorithms, n * sizeof *copy);
  pthread_mutex_unlock(&monitor->lock);
  *count = copy ? n : 0;
  return copy;
}

/* --- Gauges ------------------------------------------------------------------- */

/* Prefixes of the families the exporters write themselves; a gauge must not
 * shadow them (bridgert_algorithms_loaded is fine, bridgert_algorithm_x not). */
static const char *const reserved_prefixes[] = {"build_info", "uptime_seconds", "call_", "calls_",
                                                "algorithm_", "errors_", "memory_"};

brt_status brt_monitor_set_gauge(brt_monitor *monitor, const char *name, double value) {
  static const char function[] = "brt_monitor_set_gauge";
  if (!monitor || !name) return invalid("%s: %s is NULL", function, monitor ? "name" : "monitor");
  size_t length = strlen(name);
  bool valid = length >= 1 && length <= GAUGE_NAME_MAX && name[0] >= 'a' && name[0] <= 'z';
  for (size_t i = 0; valid && i < length; i++)
    valid = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_';
  if (!valid)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: gauge name \"%.64s\" is not 1 to %d characters of [a-z0-9_] "
                         "starting with a letter",
                         function, name, GAUGE_NAME_MAX);
  for (size_t i = 0; i < sizeof reserved_prefixes / sizeof *reserved_prefixes; i++)
    if (strncmp(name, reserved_prefixes[i], strlen(reserved_prefixes[i])) == 0)
      return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "%s: gauge name \"%s\" would clash with the monitor's own metrics "
                           "(bridgert_%s...); choose another name",
                           function, name, reserved_prefixes[i]);
  if (!isfinite(value))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: gauge \"%s\": value %g is not a finite number", function, name, value);
  brt_status status = BRT_OK;
  pthread_mutex_lock(&monitor->lock);
  size_t i = 0;
  while (i < monitor->gauge_count && strcmp(monitor->gauges[i].name, name) != 0) i++;
  if (i == monitor->gauge_count) {
    if (i == GAUGE_COUNT_MAX) {
      status = brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                             "%s: gauge \"%s\" would be the %d-th; a monitor holds at most %d",
                             function, name, GAUGE_COUNT_MAX + 1, GAUGE_COUNT_MAX);
    } else {
      memcpy(monitor->gauges[i].name, name, length + 1);
      monitor->gauge_count++;
    }
  }
  if (status == BRT_OK) monitor->gauges[i].value = value;
  pthread_mutex_unlock(&monitor->lock);
  return status;
}

size_t _brt_monitor_gauges_copy(brt_monitor *monitor, monitor_gauge *out) {
  pthread_mutex_lock(&monitor->lock);
  size_t count = monitor->gauge_count;
  memcpy(out, monitor->gauges, count * sizeof *out);
  pthread_mutex_unlock(&monitor->lock);
  return count;
}

/* --- Reading one algorithm ------------------------------------------------------- */

brt_status brt_algo_stats_get(const brt_algo_stats *stats, brt_algo_snapshot *out) {
  static const char function[] = "brt_algo_stats_get";
  if (!stats || !out) return invalid("%s: %s is NULL", function, stats ? "out" : "stats");
  if (out->struct_size < offsetof(brt_algo_snapshot, calls) + sizeof out->calls)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: out->struct_size is %u; set it to sizeof(brt_algo_snapshot) (%zu)",
                         function, out->struct_size, sizeof(brt_algo_snapshot));
  algo_totals *totals = malloc(sizeof *totals);
  if (!totals)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "%s: no memory to merge the statistics", function);
  _brt_monitor_totals(stats, totals);
  brt_algo_snapshot full = {.struct_size = out->struct_size};
  full.calls = totals->completed;
  full.errors = totals->errors;
  full.rejected = totals->rejected;
  full.in_flight = totals->begun > totals->completed ? totals->begun - totals->completed : 0;
  full.latency_sum_ns = totals->sum_ns;
  full.latency_count = totals->timed;
  full.p50_ns = _brt_hist_quantile(totals, 0.50);
  full.p95_ns = _brt_hist_quantile(totals, 0.95);
  full.p99_ns = _brt_hist_quantile(totals, 0.99);
  full.max_ns = totals->max_ns;
  brt_algo_stats *mutable_stats = (brt_algo_stats *)stats; /* the lock is not part of the value */
  pthread_mutex_lock(&mutable_stats->lock);
  full.state = (brt_circuit_state)atomic_load_explicit(&stats->state, memory_order_relaxed);
  _brt_breaker_window(mutable_stats, totals->completed, &full.window_calls, &full.window_errors);
  pthread_mutex_unlock(&mutable_stats->lock);
  free(totals);
  size_t size = out->struct_size < sizeof full ? out->struct_size : sizeof full;
  memcpy(out, &full, size);
  return BRT_OK;
}

brt_status brt_algo_stats_status_count(const brt_algo_stats *stats, brt_status status,
                                       uint64_t *count) {
  static const char function[] = "brt_algo_stats_status_count";
  if (!stats || !count) return invalid("%s: %s is NULL", function, stats ? "count" : "stats");
  if ((unsigned)status >= BRT_STATUS_COUNT)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: status %d is not a brt_status (0..%d)", function, (int)status,
                         BRT_STATUS_COUNT - 1);
  uint64_t total = 0;
  for (unsigned slot = 0; slot < MONITOR_SHARDS; slot++) {
    const monitor_shard *shard = atomic_load_explicit(&stats->shards[slot], memory_order_acquire);
    if (!shard) continue;
    total += atomic_load_explicit(&shard->by_status[status], memory_order_relaxed);
    if (status == BRT_E_ISOLATED)
      total += atomic_load_explicit(&shard->rejected, memory_order_relaxed);
  }
  *count = total;
  return BRT_OK;
}

static brt_status with_totals(const brt_algo_stats *stats, const char *function,
                              algo_totals **totals) {
  *totals = malloc(sizeof **totals);
  if (!*totals)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "%s: no memory to merge the statistics", function);
  _brt_monitor_totals(stats, *totals);
  return BRT_OK;
}

brt_status brt_algo_stats_quantile(const brt_algo_stats *stats, double q, uint64_t *ns) {
  static const char function[] = "brt_algo_stats_quantile";
  if (!stats || !ns) return invalid("%s: %s is NULL", function, stats ? "ns" : "stats");
  if (!(q >= 0.0 && q <= 1.0))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: q is %g; expected a number in [0, 1]", function, q);
  algo_totals *totals;
  brt_status status = with_totals(stats, function, &totals);
  if (status != BRT_OK) return status;
  *ns = _brt_hist_quantile(totals, q);
  free(totals);
  return BRT_OK;
}

brt_status brt_algo_stats_count_at_most(const brt_algo_stats *stats, uint64_t le_ns,
                                        uint64_t *count) {
  static const char function[] = "brt_algo_stats_count_at_most";
  if (!stats || !count) return invalid("%s: %s is NULL", function, stats ? "count" : "stats");
  algo_totals *totals;
  brt_status status = with_totals(stats, function, &totals);
  if (status != BRT_OK) return status;
  *count = _brt_hist_count_at_most(totals, le_ns);
  free(totals);
  return BRT_OK;
}

size_t brt_algo_stats_last_error(const brt_algo_stats *stats, char *buf, size_t size) {
  if (buf && size) buf[0] = '\0';
  if (!stats) return 0;
  brt_algo_stats *mutable_stats = (brt_algo_stats *)stats;
  pthread_mutex_lock(&mutable_stats->lock);
  size_t length = strlen(stats->last_error);
  if (buf && size) _brt_text_copy(buf, size, stats->last_error, NULL); /* whole characters */
  pthread_mutex_unlock(&mutable_stats->lock);
  return length;
}

const char *brt_health_level_name(brt_health_level level) {
  switch (level) {
    case BRT_HEALTHY: return "HEALTHY";
    case BRT_DEGRADED: return "DEGRADED";
    case BRT_UNHEALTHY: return "UNHEALTHY";
  }
  return "unknown";
}

const char *brt_circuit_state_name(brt_circuit_state state) {
  switch (state) {
    case BRT_CIRCUIT_CLOSED: return "closed";
    case BRT_CIRCUIT_OPEN: return "open";
    case BRT_CIRCUIT_HALF_OPEN: return "half_open";
  }
  return "unknown";
}
