/* bridgert — configuration (docs/config.md).
 *
 * A brt_config is set in code (brt_config_default), then overridden by a
 * JSON file (brt_config_load_json, or the file named by BRT_CONFIG) and then
 * by environment variables (BRT_<KEY>): code < file < environment, which is
 * what brt_config_resolve applies. Loading is strict — an unknown key, a
 * wrong type or a value out of range is BRT_E_INVALID_ARGUMENT naming the
 * source, the key and what was expected — and all-or-nothing: when loading
 * fails the config is left exactly as it was. Whole numbers, from a file
 * or the environment alike, are decimal digits only (no sign, white space,
 * fraction, exponent, hex or leading zero), read exactly into 64 bits and
 * then range-checked; sizes may also carry a unit ("512MiB", "1.5GiB").
 * Keys and strings are taken with their full length: "max_memory\u0000x"
 * is an unknown key, not max_memory. The file must be a regular file: a
 * FIFO, a device or a directory is refused at once (never waited on).
 *
 * Allocator settings are process-wide. max_memory, gc_threshold,
 * gc_interval_ms, tracking and hardened configure the one allocator of the
 * process: brt_runtime_open applies them while the runtime is open (however
 * the config was made: code, file, BRT_CONFIG or BRT_* variables), and
 * brt_mem_configure / brt_mem_set_limit set a base under the runtimes (at
 * first use the base is the BRT_* environment). When several runtimes are
 * open, the strictest of the base and of each open runtime applies: the
 * lowest non-zero max_memory and gc_threshold, the shortest gc_interval_ms
 * of those that set a gc_threshold, the highest tracking level, hardened
 * if any asks. A runtime's bounds therefore hold as long as it is open,
 * whichever opened first; no runtime loosens another's; and closing a
 * runtime drops what only it asked for (reopening with new values, as a
 * reload does, takes them once the old runtime is closed). A runtime with
 * the defaults asks for nothing. brt_mem_stats_get (limit_bytes, tracking)
 * and the health check show what applies. All five can change while the
 * process runs: tracking and hardened reach each thread's pages at its
 * next allocation slow path, and blocks allocated before tracking rose
 * have no id or age.
 *
 * A config owns its plugin_dirs strings: release them with
 * brt_config_dispose(). Functions taking a config are not thread-safe for
 * the same config object (it is plain data). */
#ifndef BRIDGERT_CONFIG_H
#define BRIDGERT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bridgert/export.h"
#include "bridgert/status.h"

typedef enum brt_tracking {
  BRT_TRACKING_OFF = 0,      /* no per-block bookkeeping (default) */
  BRT_TRACKING_COUNTERS = 1, /* + per-size-class counters (brt_mem_visit_classes) */
  BRT_TRACKING_BLOCKS = 2,   /* + ids and timestamps per block (leak reports) */
  BRT_TRACKING_BACKTRACE = 3 /* + sampled allocation backtraces */
} brt_tracking;

/* Where a plugin's code runs (docs/isolation.md). */
typedef enum brt_isolation {
  BRT_ISOLATION_NONE = 0,    /* in the host process */
  BRT_ISOLATION_PROCESS = 1, /* in worker processes: crashes, hangs and limits are contained */
  BRT_ISOLATION_SANDBOX = 2  /* PROCESS + namespaces, no network, read-only file system, seccomp */
} brt_isolation;

/* How many plugin directories a config may name. */
#define BRT_CONFIG_MAX_PLUGIN_DIRS 64

typedef struct brt_config {
  uint32_t struct_size; /* sizeof(brt_config); set by brt_config_init */
  /* memory: process-wide, the strictest of the open runtimes applies (above) */
  uint64_t max_memory;     /* bytes the allocator may commit; 0 = unlimited; at most 2^62 */
  uint64_t gc_threshold;   /* committed bytes that trigger automatic collection; 0 = never */
  uint32_t gc_interval_ms; /* at most one automatic collection per interval */
  brt_tracking tracking;
  bool hardened;           /* quarantine freed blocks, poison checks (slower) */
  /* plugins */
  char **plugin_dirs;      /* owned; see brt_config_add_plugin_dir */
  size_t plugin_dir_count;
  bool allow_world_writable;
  /* calls */
  uint32_t default_timeout_ms; /* 0 = no deadline */
  /* monitor */
  double error_rate_threshold; /* 0 < x <= 1: isolate an algorithm above this rate */
  uint32_t error_window;       /* calls in the sliding window */
  uint32_t cooldown_ms;        /* isolation time before a probe call */
  double health_memory_degraded;  /* fraction of max_memory, default 0.80 */
  double health_memory_unhealthy; /* default 0.95 */
  /* isolation */
  brt_isolation isolation; /* what brt_plugin_load and brt_plugin_load_dir use; default NONE */
  /* reload */
  bool plugin_watch; /* follow the directories of brt_plugin_load_dir and load, reload and
                        unload what changes there (docs/plugins.md); default false */
} brt_config;

BRT_BEGIN_DECLS

/* Fills `cfg` with the defaults; `size` is sizeof(*cfg) as the caller was
 * compiled, so an older caller with a smaller struct keeps working. Any
 * previous content is overwritten without being freed. Since 0.1.0. */
BRT_API brt_status brt_config_init(brt_config *cfg, size_t size);
/* brt_config_init(cfg, sizeof *cfg): the usual way to start. */
static inline brt_status brt_config_default(brt_config *cfg) {
  return brt_config_init(cfg, sizeof *cfg);
}
/* Frees what the config owns (plugin_dirs) and resets it to the defaults.
 * NULL is ignored. Since 0.1.0. */
BRT_API void brt_config_dispose(brt_config *cfg);
/* Deep copy: dst must be initialised (it is disposed first). Since 0.1.0. */
BRT_API brt_status brt_config_copy(brt_config *dst, const brt_config *src);
/* Appends a directory (copied) to plugin_dirs. Empty or over-long paths are
 * BRT_E_INVALID_ARGUMENT; a directory past BRT_CONFIG_MAX_PLUGIN_DIRS is
 * BRT_E_LIMIT_EXCEEDED. Since 0.1.0. */
BRT_API brt_status brt_config_add_plugin_dir(brt_config *cfg, const char *dir);

/* Applies the JSON object in the file at `path` on top of `cfg`. Since 0.1.0. */
BRT_API brt_status brt_config_load_json(const char *path, brt_config *cfg);
/* The same for text in memory; `source` names it in messages (may be NULL). */
BRT_API brt_status brt_config_load_json_text(const char *text, size_t len, const char *source,
                                             brt_config *cfg);
/* Applies the BRT_<KEY> environment variables on top of `cfg`. Since 0.1.0. */
BRT_API brt_status brt_config_load_env(brt_config *cfg);
/* Applies the file named by BRT_CONFIG (if set), then the environment. */
BRT_API brt_status brt_config_resolve(brt_config *cfg);
/* Checks every field's range (what the loaders check), for configs built in
 * code. Since 0.1.0. */
BRT_API brt_status brt_config_validate(const brt_config *cfg);
/* The name of a tracking level ("off", "counters", "blocks", "backtrace"). */
BRT_API const char *brt_tracking_name(brt_tracking tracking);

BRT_END_DECLS

#endif /* BRIDGERT_CONFIG_H */
