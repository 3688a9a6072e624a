/* The runtime's monitor: one per core, fed by every call (call_value.c and
 * invoke.c go through brt_monitor_call_begin / _end), plus the registry's
 * gauges. */
#include "internal.h"

#include "bridgert/monitor.h"

brt_status _brt_bridge_monitor_create(brt_core *core) {
  core->monitor = brt_monitor_new(&core->config);
  return core->monitor ? BRT_OK : _brt_null_status("brt_monitor_new");
}

void _brt_bridge_monitor_free(brt_core *core) {
  brt_monitor_free(core->monitor);
  core->monitor = NULL;
}

brt_status _brt_bridge_entry_attach_monitor(brt_core *core, brt_entry *entry) {
  /* Stats outlive the entry (they belong to the monitor, which lives as long
   * as the core): re-registering a name@version continues its series. */
  entry->stats = brt_monitor_algorithm(core->monitor, entry->name, entry->version);
  return entry->stats ? BRT_OK : _brt_null_status("brt_monitor_algorithm");
}

void _brt_bridge_gauges_update(brt_core *core, size_t algorithms) {
  size_t plugins = 0;
  for (const brt_plugin *p = core->plugins; p; p = p->next) plugins++;
  /* Gauge names are fixed and valid, values finite: these cannot fail. */
  (void)brt_monitor_set_gauge(core->monitor, "algorithms_registered", (double)algorithms);
  (void)brt_monitor_set_gauge(core->monitor, "plugins_loaded", (double)plugins);
}

brt_status brt_metrics_export(brt_runtime *rt, brt_format format, char **text) {
  if (!text)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_metrics_export: text is NULL");
  *text = NULL;
  brt_core *core = NULL;
  brt_status opened = _brt_bridge_core_get(rt, "brt_metrics_export", &core);
  if (opened != BRT_OK) return opened;
  /* The monitor's texts are managed blocks already (freed with brt_release). */
  brt_status status = brt_monitor_export(core->monitor, format, text);
  if (status == BRT_OK && ((status = _brt_bridge_workers_export(core, format, text)) != BRT_OK ||
                           (status = _brt_bridge_reload_export(core, format, text)) != BRT_OK)) {
    brt_release(*text);
    *text = NULL;
  }
  _brt_bridge_core_release(core);
  return status;
}

brt_status brt_health_check_level(brt_runtime *rt, brt_health_level *level, char **report_json) {
  if (!report_json)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_health_check: report_json is NULL");
  *report_json = NULL;
  brt_core *core = NULL;
  brt_status opened = _brt_bridge_core_get(rt, "brt_health_check", &core);
  if (opened != BRT_OK) return opened;
  brt_health_level own = BRT_HEALTHY;
  brt_status status = brt_monitor_health_level(core->monitor, &own, report_json);
  if (status == BRT_OK && ((status = _brt_bridge_workers_health(core, &own, report_json)) != BRT_OK ||
                           (status = _brt_bridge_reload_health(core, &own, report_json)) != BRT_OK)) {
    brt_release(*report_json);
    *report_json = NULL;
  }
  if (status == BRT_OK && level) *level = own;
  _brt_bridge_core_release(core);
  return status;
}

brt_status brt_health_check(brt_runtime *rt, char **report_json) {
  return brt_health_check_level(rt, NULL, report_json);
}
