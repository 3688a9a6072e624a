/* Isolated plugins: the loader's side of BRT_ISOLATION_PROCESS and
 * _SANDBOX. The checked descriptor goes to a pool of worker processes
 * (isolation/), which load it and report the plugin's algorithms; those are
 * registered as one plugin whose entries are proxies, so the registry, the
 * calls, the monitor and the health check treat them like any other. */
#include "internal.h"

brt_status _brt_bridge_isolated_load(brt_runtime *rt, brt_core *core, int fd, const char *resolved,
                                     const char *given, const struct stat *st,
                                     const brt_plugin_options *options) {
  brt_pool_spec spec = {.plugin_fd = fd,
                        .path = resolved,
                        .isolation = options->isolation,
                        .workers = options->workers,
                        .memory_limit = options->memory_limit,
                        .timeout_ms = options->timeout_ms,
                        .default_timeout_ms = core->config.default_timeout_ms,
                        .call_deadline = brt_call_deadline};
  brt_pool *pool = NULL;
  brt_status status = _brt_isolation_pool_start(&spec, &pool);
  if (status != BRT_OK) return status;
  size_t count = 0;
  const brt_algorithm *algorithms = _brt_isolation_pool_algorithms(pool, &count);
  return _brt_bridge_plugin_adopt(rt, core, resolved, given, st, pool, _brt_isolation_pool_release,
                                  algorithms, count, options);
}
