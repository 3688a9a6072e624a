/* Health checks: every check has a name, an optional subject, a level and a
 * reason a person can act on; the report's level is the worst of them.
 *
 * memory_limit: committed bytes against the allocator's limit; DEGRADED at
 * health_memory_degraded (default 80 %) of it, UNHEALTHY at
 * health_memory_unhealthy (95 %).
 *
 * allocator_consistency: walks every live block's metadata (under the
 * allocator's segment lock) and checks each one (a refcount, a known type,
 * a power-of-two alignment, size <= usable); when no allocation or release
 * happened during the walk, the number of blocks must equal the counters'.
 * Damaged metadata, a count that does not match, or poison found damaged by
 * the hardened mode (a write after free) is UNHEALTHY.
 *
 * Per algorithm (check "algorithm_error_rate"): DEGRADED while its circuit
 * is open or half-open, or when its window holds at least half of the
 * failures that would isolate it (a warning before isolation: counted
 * against the whole window, so one failed call among the first few does
 * not degrade the runtime); HEALTHY otherwise. */
#include "internal.h"

#include "core/text.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct health_report {
  cJSON *checks;
  brt_health_level level;
  bool ok; /* false once cJSON ran out of memory */
} health_report;

static void add_check(health_report *report, const char *name, const char *subject,
                      brt_health_level level, const char *reason) {
  if (level > report->level) report->level = level;
  cJSON *check = cJSON_CreateObject();
  if (!check || !cJSON_AddItemToArray(report->checks, check)) {
    cJSON_Delete(check);
    report->ok = false;
    return;
  }
  if (!cJSON_AddStringToObject(check, "name", name) ||
      (subject && !cJSON_AddStringToObject(check, "subject", subject)) ||
      !cJSON_AddStringToObject(check, "status", brt_health_level_name(level)) ||
      !cJSON_AddStringToObject(check, "reason", reason))
    report->ok = false;
}

static void format_bytes(char *buf, size_t size, uint64_t bytes) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = (double)bytes;
  unsigned unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    unit++;
  }
  snprintf(buf, size, unit ? "%.1f %s" : "%.0f %s", value, units[unit]);
}

static void check_memory_limit(health_report *report, const brt_monitor *monitor,
                               const brt_mem_stats *stats) {
  char used[32], limit[32], reason[256];
  format_bytes(used, sizeof used, stats->committed_bytes);
  if (stats->limit_bytes == 0) {
    snprintf(reason, sizeof reason, "%s committed; no memory limit is set", used);
    add_check(report, "memory_limit", NULL, BRT_HEALTHY, reason);
    return;
  }
  format_bytes(limit, sizeof limit, stats->limit_bytes);
  double ratio = (double)stats->committed_bytes / (double)stats->limit_bytes;
  brt_health_level level = ratio >= monitor->health_memory_unhealthy ? BRT_UNHEALTHY
                           : ratio >= monitor->health_memory_degraded ? BRT_DEGRADED
                                                                      : BRT_HEALTHY;
  snprintf(reason, sizeof reason,
           "%s committed of the %s limit (%.1f%%; degraded from %g%%, unhealthy from %g%%)", used,
           limit, ratio * 100, monitor->health_memory_degraded * 100,
           monitor->health_memory_unhealthy * 100);
  add_check(report, "memory_limit", NULL, level, reason);
}

typedef struct block_walk {
  uint64_t blocks, damaged;
  const void *first_damaged;
  brt_block_info first_damaged_info;
} block_walk;

static int visit_block(void *ctx, const void *block, const brt_block_info *info) {
  block_walk *walk = ctx;
  walk->blocks++;
  bool sane = info->refcount >= 1 && info->refcount <= BRT_REFCOUNT_MAX &&
              (unsigned)info->type < BRT_MEM_TYPE_COUNT && info->size <= info->usable &&
              info->align && (info->align & (info->align - 1)) == 0;
  if (!sane && walk->damaged++ == 0) {
    walk->first_damaged = block;
    walk->first_damaged_info = *info;
  }
  return 0;
}

static void check_allocator(health_report *report, const brt_mem_stats *before) {
  char reason[512];
  block_walk walk = {0};
  brt_mem_stats after = {.struct_size = sizeof after};
  if (brt_mem_visit_live(0, visit_block, &walk) != BRT_OK ||
      brt_mem_stats_get(&after) != BRT_OK) {
    _brt_text_format(reason, sizeof reason, NULL, "the metadata walk failed: %s",
                     brt_error_message(brt_last_error()));
    add_check(report, "allocator_consistency", NULL, BRT_UNHEALTHY, reason);
    return;
  }
  bool quiet = before->total_allocs == after.total_allocs && before->total_frees == after.total_frees;
  brt_health_level level = BRT_HEALTHY;
  if (walk.damaged) {
    level = BRT_UNHEALTHY;
    snprintf(reason, sizeof reason,
             "%llu of %llu live blocks have inconsistent metadata; the first, %p, has refcount "
             "%u, type %d, size %zu of %zu usable, alignment %zu",
             (unsigned long long)walk.damaged, (unsigned long long)walk.blocks, walk.first_damaged,
             walk.first_damaged_info.refcount, (int)walk.first_damaged_info.type,
             walk.first_damaged_info.size, walk.first_damaged_info.usable,
             walk.first_damaged_info.align);
  } else if (after.errors_use_after_free) {
    level = BRT_UNHEALTHY;
    snprintf(reason, sizeof reason,
             "the hardened allocator found %llu freed blocks written after their release",
             (unsigned long long)after.errors_use_after_free);
  } else if (quiet && walk.blocks != after.live_blocks) {
    level = BRT_UNHEALTHY;
    snprintf(reason, sizeof reason,
             "the metadata walk found %llu live blocks but the counters say %llu",
             (unsigned long long)walk.blocks, (unsigned long long)after.live_blocks);
  } else {
    snprintf(reason, sizeof reason,
             "%llu live block%s walked, metadata consistent%s; refused bad releases: %llu invalid "
             "pointers, %llu double frees, %llu layout mismatches",
             (unsigned long long)walk.blocks, walk.blocks == 1 ? "" : "s",
             quiet ? " and matching the counters" : " (blocks changed during the walk: count not compared)",
             (unsigned long long)after.errors_invalid_pointer,
             (unsigned long long)after.errors_double_free,
             (unsigned long long)after.errors_layout_mismatch);
  }
  add_check(report, "allocator_consistency", NULL, level, reason);
}

static void check_algorithm(health_report *report, const brt_monitor *monitor,
                            const brt_algo_stats *stats, const algo_view *view) {
  char subject[ALGO_NAME_MAX + ALGO_VERSION_MAX + 2];
  snprintf(subject, sizeof subject, "%s%s%s", stats->name, stats->version[0] ? "@" : "",
           stats->version);
  char reason[REASON_MAX + 128];
  double threshold = monitor->error_rate_threshold;
  brt_health_level level = BRT_HEALTHY;
  if (view->state == BRT_CIRCUIT_OPEN) {
    level = BRT_DEGRADED;
    snprintf(reason, sizeof reason, "isolated: %s; probed again in %.0f ms", view->reason,
             (double)view->retry_in_ns / 1e6);
  } else if (view->state == BRT_CIRCUIT_HALF_OPEN) {
    level = BRT_DEGRADED;
    snprintf(reason, sizeof reason, "isolated (a probe call is running): %s", view->reason);
  } else if (view->window_errors * 2 >= monitor->failures_to_trip) {
    level = BRT_DEGRADED;
    snprintf(reason, sizeof reason,
             "%u of the last %u calls failed: at least half of the %u failures in %u calls that "
             "isolate it",
             view->window_errors, view->window_calls, monitor->failures_to_trip,
             monitor->error_window);
  } else if (view->window_calls == 0) {
    snprintf(reason, sizeof reason, "no calls in the window yet (isolation above %g%% of %u calls)",
             threshold * 100, monitor->error_window);
  } else {
    snprintf(reason, sizeof reason, "%u of the last %u calls failed (isolation above %g%% of %u)",
             view->window_errors, view->window_calls, threshold * 100, monitor->error_window);
  }
  add_check(report, "algorithm_error_rate", subject, level, reason);
}

brt_status brt_monitor_health_level(brt_monitor *monitor, brt_health_level *level,
                                    char **report_json) {
  static const char function[] = "brt_monitor_health";
  if (!monitor || !report_json)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: %s is NULL", function,
                         monitor ? "report_json" : "monitor");
  uint64_t now = _brt_monitor_now(monitor);
  uint64_t started = atomic_load_explicit(&monitor->started_ns, memory_order_relaxed);
  health_report report = {.level = BRT_HEALTHY, .ok = true};
  cJSON *root = cJSON_CreateObject();
  report.checks = cJSON_CreateArray();
  size_t count = 0;
  brt_algo_stats **algorithms = _brt_monitor_algorithms_copy(monitor, &count);
  algo_view *view = malloc(sizeof *view);
  if (!root || !report.checks || !algorithms || !view) report.ok = false;
  brt_mem_stats memory = {.struct_size = sizeof memory};
  if (report.ok && brt_mem_stats_get(&memory) == BRT_OK) {
    check_memory_limit(&report, monitor, &memory);
    check_allocator(&report, &memory);
  }
  for (size_t i = 0; report.ok && i < count; i++) {
    _brt_algo_view(algorithms[i], now, view);
    check_algorithm(&report, monitor, algorithms[i], view);
  }
  if (report.ok && count == 0)
    add_check(&report, "algorithm_error_rate", NULL, BRT_HEALTHY, "no algorithm is registered");
  free(view);
  free(algorithms);
  char *text = NULL;
  brt_status status = BRT_OK;
  if (report.ok) {
    bool added = cJSON_AddStringToObject(root, "status", brt_health_level_name(report.level)) &&
                 cJSON_AddNumberToObject(root, "uptime_seconds",
                                         (double)(now > started ? now - started : 0) / 1e9);
    if (added && cJSON_AddItemToObject(root, "checks", report.checks)) {
      report.checks = NULL; /* owned by root now */
      status = _brt_text_from_json(root, function, &text);
    }
  }
  cJSON_Delete(report.checks);
  cJSON_Delete(root);
  if (status != BRT_OK) return status;
  if (!text)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "%s: out of memory while writing the report", function);
  if (level) *level = report.level;
  *report_json = text;
  return BRT_OK;
}

brt_status brt_monitor_health(brt_monitor *monitor, char **report_json) {
  return brt_monitor_health_level(monitor, NULL, report_json);
}
