/* Health checks: every check has a name, an optional subject, a level and a
 * reason a person can act on; the report's level is the worst of them.
 *
 * Per algorithm (check "algorithm_error_rate"): DEGRADED while its circuit
 * is open or half-open, or when more than half the isolation threshold of
 * its window failed (a warning before isolation); HEALTHY otherwise. */
#include "internal.h"

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

static void check_algorithm(health_report *report, const brt_monitor *monitor,
                            const brt_algo_stats *stats, const algo_view *view) {
  char subject[ALGO_NAME_MAX + ALGO_VERSION_MAX + 2];
  snprintf(subject, sizeof subject, "%s%s%s", stats->name, stats->version[0] ? "@" : "",
           stats->version);
  char reason[REASON_MAX + 128];
  double threshold = monitor->error_rate_threshold;
  double rate = view->window_calls ? (double)view->window_errors / view->window_calls : 0.0;
  brt_health_level level = BRT_HEALTHY;
  if (view->state == BRT_CIRCUIT_OPEN) {
    level = BRT_DEGRADED;
    snprintf(reason, sizeof reason, "isolated: %s; probed again in %.0f ms", view->reason,
             (double)view->retry_in_ns / 1e6);
  } else if (view->state == BRT_CIRCUIT_HALF_OPEN) {
    level = BRT_DEGRADED;
    snprintf(reason, sizeof reason, "isolated (a probe call is running): %s", view->reason);
  } else if (rate > threshold / 2) {
    level = BRT_DEGRADED;
    snprintf(reason, sizeof reason,
             "%u of the last %u calls failed (%.0f%%), more than half the isolation threshold "
             "(%g%%)",
             view->window_errors, view->window_calls, rate * 100, threshold * 100);
  } else {
    snprintf(reason, sizeof reason, "%u of the last %u calls failed (isolation above %g%%)",
             view->window_errors, view->window_calls, threshold * 100);
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
  for (size_t i = 0; report.ok && i < count; i++) {
    _brt_algo_view(algorithms[i], now, view);
    check_algorithm(&report, monitor, algorithms[i], view);
  }
  if (report.ok && count == 0)
    add_check(&report, "algorithm_error_rate", NULL, BRT_HEALTHY, "no algorithm is registered");
  free(view);
  free(algorithms);
  char *text = NULL;
  if (report.ok) {
    bool added = cJSON_AddStringToObject(root, "status", brt_health_level_name(report.level)) &&
                 cJSON_AddNumberToObject(root, "uptime_seconds",
                                         (double)(now > started ? now - started : 0) / 1e9);
    if (added && cJSON_AddItemToObject(root, "checks", report.checks)) {
      report.checks = NULL; /* owned by root now */
      text = _brt_text_from_json(root, function);
    }
  }
  cJSON_Delete(report.checks);
  cJSON_Delete(root);
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
