/* Worker processes in the metrics and the health check. The monitor knows
 * calls; the pools of isolated plugins know their workers. The runtime's
 * export and health check add one section per pool to the monitor's text:
 *
 *   bridgert_worker_starts_total{plugin}            counter
 *   bridgert_worker_crashes_total{plugin,signal}    counter ("exit" for exits)
 *   bridgert_worker_deadline_kills_total{plugin}    counter
 *   bridgert_worker_up{plugin,worker}               gauge, 1 while running
 *   bridgert_worker_resident_bytes{plugin,worker}   gauge, from /proc/PID/statm
 *
 * and a "worker" health check per worker: HEALTHY while it runs, DEGRADED
 * while it is down after a crash (the next call starts it again). */
#include "internal.h"

#include "bridgert/monitor.h"

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The pools of the core's isolated plugins, each plugin retained. */
static brt_plugin **pools_collect(brt_core *core, size_t *count) {
  *count = 0;
  pthread_mutex_lock(&core->write_lock);
  size_t n = 0;
  for (brt_plugin *p = core->plugins; p; p = p->next)
    if (p->image_release == _brt_isolation_pool_release) n++;
  brt_plugin **out = n ? calloc(n, sizeof *out) : NULL;
  if (out)
    for (brt_plugin *p = core->plugins; p; p = p->next)
      if (p->image_release == _brt_isolation_pool_release) {
        _brt_bridge_plugin_retain(p);
        out[(*count)++] = p;
      }
  pthread_mutex_unlock(&core->write_lock);
  return out;
}

static void pools_release(brt_plugin **pools, size_t count) {
  for (size_t i = 0; i < count; i++) _brt_bridge_plugin_release(pools[i]);
  free(pools);
}

/* A growing malloc'd text. */
typedef struct text {
  char *data;
  size_t len, cap;
  bool failed;
} text;

BRT_PRINTF(2, 3) static void text_add(text *t, const char *fmt, ...) {
  for (int attempt = 0; attempt < 2 && !t->failed; attempt++) {
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(t->data ? t->data + t->len : NULL, t->data ? t->cap - t->len : 0, fmt, args);
    va_end(args);
    if (n < 0) {
      t->failed = true;
      return;
    }
    if (t->data && t->len + (size_t)n < t->cap) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = (t->cap ? t->cap * 2 : 4096) + (size_t)n;
    char *grown = realloc(t->data, cap);
    if (!grown) t->failed = true;
    else t->data = grown, t->cap = cap;
  }
}

/* Label values are paths: escape backslash, quote and newline. */
static void text_add_label(text *t, const char *value) {
  for (const char *c = value; *c; c++) {
    if (*c == '\\' || *c == '"') text_add(t, "\\%c", *c);
    else if (*c == '\n') text_add(t, "\\n");
    else text_add(t, "%c", *c);
  }
}

static const char *signal_label(int sig) {
  static _Thread_local char name[16];
  const char *abbrev = sig ? sigabbrev_np(sig) : NULL;
  if (!sig) return "exit";
  if (abbrev) snprintf(name, sizeof name, "SIG%s", abbrev);
  else snprintf(name, sizeof name, "SIG%d", sig);
  return name;
}

typedef struct prometheus_visit {
  text *out;
  const char *metric;
} prometheus_visit;

static void write_worker_gauge(void *ctx, const brt_isolation_worker_info *info) {
  prometheus_visit *v = ctx;
  text_add(v->out, "%s{plugin=\"", v->metric);
  text_add_label(v->out, info->plugin);
  bool up = strcmp(v->metric, "bridgert_worker_up") == 0;
  text_add(v->out, "\",worker=\"%u\"} %llu\n", info->index,
           up ? (unsigned long long)(info->pid != 0) : (unsigned long long)info->resident_bytes);
}

static void prometheus_section(text *out, brt_plugin **pools, size_t count) {
  static const struct {
    const char *name, *help;
  } counters[] = {
      {"bridgert_worker_starts_total", "Worker processes started, restarts included."},
      {"bridgert_worker_crashes_total",
       "Workers that died during a call or a start, by signal (\"exit\": exited)."},
      {"bridgert_worker_deadline_kills_total", "Workers killed at a call's hard deadline."},
  };
  for (size_t c = 0; c < 3; c++) {
    text_add(out, "# HELP %s %s\n# TYPE %s counter\n", counters[c].name, counters[c].help,
             counters[c].name);
    for (size_t i = 0; i < count; i++) {
      brt_isolation_worker_stats stats;
      _brt_isolation_pool_observe(pools[i]->image, &stats, NULL, NULL);
      if (c == 1) {
        for (int sig = 0; sig <= 64; sig++) {
          if (!stats.crashes_by_signal[sig]) continue;
          text_add(out, "%s{plugin=\"", counters[c].name);
          text_add_label(out, pools[i]->path);
          text_add(out, "\",signal=\"%s\"} %llu\n", signal_label(sig),
                   (unsigned long long)stats.crashes_by_signal[sig]);
        }
        continue;
      }
      text_add(out, "%s{plugin=\"", counters[c].name);
      text_add_label(out, pools[i]->path);
      text_add(out, "\"} %llu\n",
               (unsigned long long)(c == 0 ? stats.starts : stats.deadline_kills));
    }
  }
  static const struct {
    const char *name, *help;
  } gauges[] = {
      {"bridgert_worker_up", "1 while the worker process runs, 0 while it is down."},
      {"bridgert_worker_resident_bytes", "Resident memory of the worker process."},
  };
  for (size_t g = 0; g < 2; g++) {
    text_add(out, "# HELP %s %s\n# TYPE %s gauge\n", gauges[g].name, gauges[g].help,
             gauges[g].name);
    prometheus_visit visit = {out, gauges[g].name};
    for (size_t i = 0; i < count; i++)
      _brt_isolation_pool_observe(pools[i]->image, NULL, write_worker_gauge, &visit);
  }
}

static void add_worker_json(void *ctx, const brt_isolation_worker_info *info) {
  cJSON *workers = ctx;
  cJSON *item = cJSON_CreateObject();
  if (!item || !cJSON_AddItemToArray(workers, item)) {
    cJSON_Delete(item);
    return;
  }
  cJSON_AddNumberToObject(item, "worker", info->index);
  cJSON_AddNumberToObject(item, "pid", info->pid);
  cJSON_AddStringToObject(item, "state", info->state);
  cJSON_AddNumberToObject(item, "resident_bytes", (double)info->resident_bytes);
  cJSON_AddNumberToObject(item, "uptime_seconds", (double)info->uptime_ns / 1e9);
}

/* {"plugin": {"starts", "crashes": {"SIGSEGV": n}, "deadline_kills", "workers": [...]}} */
static cJSON *json_section(brt_plugin **pools, size_t count) {
  cJSON *section = cJSON_CreateObject();
  for (size_t i = 0; section && i < count; i++) {
    brt_isolation_worker_stats stats;
    cJSON *pool = cJSON_AddObjectToObject(section, pools[i]->path);
    cJSON *workers = pool ? cJSON_AddArrayToObject(pool, "workers") : NULL;
    if (!workers) break;
    _brt_isolation_pool_observe(pools[i]->image, &stats, add_worker_json, workers);
    cJSON_AddNumberToObject(pool, "starts", (double)stats.starts);
    cJSON_AddNumberToObject(pool, "deadline_kills", (double)stats.deadline_kills);
    cJSON *crashes = cJSON_AddObjectToObject(pool, "crashes");
    for (int sig = 0; crashes && sig <= 64; sig++)
      if (stats.crashes_by_signal[sig])
        cJSON_AddNumberToObject(crashes, signal_label(sig), (double)stats.crashes_by_signal[sig]);
  }
  return section;
}

char *_brt_bridge_managed_text(const char *data, size_t len) {
  char *copy = brt_alloc(len + 1, 1, BRT_MEM_C_HEAP, 0);
  if (copy) {
    memcpy(copy, data, len);
    copy[len] = '\0';
  }
  return copy;
}

brt_status _brt_bridge_workers_export(brt_core *core, unsigned format, char **inout) {
  size_t count = 0;
  brt_plugin **pools = pools_collect(core, &count);
  if (!count) {
    free(pools);
    return BRT_OK;
  }
  char *combined = NULL;
  if (format == BRT_FORMAT_PROMETHEUS) {
    text out = {0};
    text_add(&out, "%s", *inout);
    prometheus_section(&out, pools, count);
    combined = out.failed ? NULL : _brt_bridge_managed_text(out.data, out.len);
    free(out.data);
  } else {
    cJSON *root = cJSON_Parse(*inout);
    cJSON *section = json_section(pools, count);
    if (root && section && cJSON_AddItemToObject(root, "workers", section)) section = NULL;
    char *printed = root ? cJSON_PrintUnformatted(root) : NULL;
    combined = printed ? _brt_bridge_managed_text(printed, strlen(printed)) : NULL;
    cJSON_free(printed);
    cJSON_Delete(section);
    cJSON_Delete(root);
  }
  pools_release(pools, count);
  if (!combined)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "brt_metrics_export: out of memory adding the workers' metrics");
  brt_release(*inout);
  *inout = combined;
  return BRT_OK;
}

typedef struct health_visit {
  cJSON *checks;
  brt_health_level worst;
  const brt_isolation_worker_stats *stats;
} health_visit;

static void add_worker_check(void *ctx, const brt_isolation_worker_info *info) {
  health_visit *v = ctx;
  char subject[4200], reason[512];
  snprintf(subject, sizeof subject, "%s#%u", info->plugin, info->index);
  brt_health_level level = info->pid ? BRT_HEALTHY : BRT_DEGRADED;
  if (info->pid)
    snprintf(reason, sizeof reason,
             "pid %d, %s, %.1f MiB resident, up %.1f s; plugin: %llu starts, %llu crashes, %llu "
             "deadline kills",
             info->pid, info->state, (double)info->resident_bytes / 1048576.0,
             (double)info->uptime_ns / 1e9, (unsigned long long)v->stats->starts,
             (unsigned long long)v->stats->crashes, (unsigned long long)v->stats->deadline_kills);
  else
    snprintf(reason, sizeof reason,
             "down after a crash or a kill (%llu crashes, %llu deadline kills); the next call "
             "starts it again",
             (unsigned long long)v->stats->crashes, (unsigned long long)v->stats->deadline_kills);
  cJSON *check = cJSON_CreateObject();
  if (!check || !cJSON_AddItemToArray(v->checks, check)) {
    cJSON_Delete(check);
    return;
  }
  cJSON_AddStringToObject(check, "name", "worker");
  cJSON_AddStringToObject(check, "subject", subject);
  cJSON_AddStringToObject(check, "status", brt_health_level_name(level));
  cJSON_AddStringToObject(check, "reason", reason);
  if (level > v->worst) v->worst = level;
}

brt_status _brt_bridge_workers_health(brt_core *core, brt_health_level *level, char **inout) {
  size_t count = 0;
  brt_plugin **pools = pools_collect(core, &count);
  if (!count) {
    free(pools);
    return BRT_OK;
  }
  cJSON *root = cJSON_Parse(*inout);
  cJSON *checks = root ? cJSON_GetObjectItemCaseSensitive(root, "checks") : NULL;
  health_visit visit = {.checks = checks, .worst = BRT_HEALTHY};
  for (size_t i = 0; checks && i < count; i++) {
    brt_isolation_worker_stats stats;
    _brt_isolation_pool_observe(pools[i]->image, &stats, NULL, NULL);
    visit.stats = &stats;
    _brt_isolation_pool_observe(pools[i]->image, NULL, add_worker_check, &visit);
  }
  pools_release(pools, count);
  char *combined = NULL;
  if (checks) {
    cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    brt_health_level overall = level ? *level : BRT_HEALTHY;
    if (!level && cJSON_IsString(status))
      for (int l = BRT_HEALTHY; l <= BRT_UNHEALTHY; l++)
        if (strcmp(status->valuestring, brt_health_level_name((brt_health_level)l)) == 0)
          overall = (brt_health_level)l;
    if (visit.worst > overall) overall = visit.worst;
    if (cJSON_IsString(status))
      cJSON_SetValuestring(status, brt_health_level_name(overall));
    if (level) *level = overall;
    char *printed = cJSON_PrintUnformatted(root);
    combined = printed ? _brt_bridge_managed_text(printed, strlen(printed)) : NULL;
    cJSON_free(printed);
  }
  cJSON_Delete(root);
  if (!combined)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "brt_health_check: out of memory adding the workers' checks");
  brt_release(*inout);
  *inout = combined;
  return BRT_OK;
}
