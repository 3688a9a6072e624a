/* The runtime's monitor: one per core, fed by every call (calls.c and
 * call.c go through brt_monitor_call_begin / _end), plus the registry's
 * gauges. */
#include "internal.h"

#include "bridgert/monitor.h"

brt_status _brt_bridge_monitor_create(brt_core *core) {
  core->monitor = brt_monitor_new(&core->config);
  return core->monitor ? BRT_OK : brt_error_code(brt_last_error());
}

void _brt_bridge_monitor_free(brt_core *core) {
  brt_monitor_free(core->monitor);
  core->monitor = NULL;
}

brt_status _brt_bridge_entry_attach_monitor(brt_core *core, brt_entry *entry) {
  /* Stats outlive the entry (they belong to the monitor, which lives as long
   * as the core): re-registering a name@version continues its series. */
  entry->stats = brt_monitor_algorithm(core->monitor, entry->name, entry->version);
  return entry->stats ? BRT_OK : brt_error_code(brt_last_error());
}

void _brt_bridge_gauges_update(brt_core *core, size_t algorithms) {
  size_t plugins = 0;
  for (const brt_plugin *p = core->plugins; p; p = p->next) plugins++;
  /* Gauge names are fixed and valid, values finite: these cannot fail. */
  (void)brt_monitor_set_gauge(core->monitor, "algorithms_registered", (double)algorithms);
  (void)brt_monitor_set_gauge(core->monitor, "plugins_loaded", (double)plugins);
}
