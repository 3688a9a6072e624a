/* bridgert — the monitor: per-algorithm call statistics, a circuit breaker,
 * process-wide metrics, exporters and health (docs/monitor.md).
 *
 * A brt_monitor is a library of metrics objects that its owner (normally the
 * runtime, one monitor per runtime) feeds. Each algorithm has a
 * brt_algo_stats, created once by brt_monitor_algorithm() and then used on
 * every call:
 *
 *   uint64_t start;
 *   if (brt_monitor_call_begin(stats, &start) != BRT_OK) return BRT_E_ISOLATED;
 *   brt_status st = run_the_algorithm(...);
 *   brt_monitor_call_end(stats, start, st);
 *
 * Recording takes no lock and touches only memory owned by the calling thread
 * (per-thread shards, summed when read), except when a call fails, which
 * takes the algorithm's lock to update the circuit breaker and the last
 * error. Every call is counted exactly; latency is sampled (see
 * brt_monitor_set_sampling), because reading the clock twice costs more
 * than all the rest of the recording. Readers (getters, exporters,
 * health) see every call that completed before they started; calls
 * completing concurrently may be partly visible.
 *
 * Circuit breaker: when more than error_rate_threshold of the last
 * error_window completed calls failed, the algorithm is isolated ("open"):
 * brt_monitor_call_begin fails fast with BRT_E_ISOLATED, naming the reason
 * and when it will be retried. After cooldown_ms one probe call is let
 * through ("half-open"); when it succeeds the circuit closes, when it fails
 * the algorithm stays isolated for another cooldown. Failures the caller
 * caused (BRT_E_INVALID_ARGUMENT, BRT_E_VALIDATION) are counted but do not
 * move the breaker: bad input from one client must not isolate an algorithm
 * for all of them.
 *
 * Texts returned by the exporters and the health check are managed blocks
 * of bridgert's allocator (bridgert/memory.h): free them with brt_release()
 * or brt_monitor_text_free(). */
#ifndef BRIDGERT_MONITOR_H
#define BRIDGERT_MONITOR_H

#include <stdint.h>

#include "bridgert/config.h"
#include "bridgert/export.h"
#include "bridgert/status.h"

typedef struct brt_monitor brt_monitor;       /* one per runtime */
typedef struct brt_algo_stats brt_algo_stats; /* per algorithm, owned by its monitor */

/* The start time brt_monitor_call_begin gives a call it does not time. */
#define BRT_MONITOR_UNTIMED UINT64_MAX
/* Latency sampling: time about one call in this many (per algorithm and
 * thread), the default and the largest allowed value. */
#define BRT_MONITOR_SAMPLING_DEFAULT 64
#define BRT_MONITOR_SAMPLING_MAX 65536

/* Export formats (brt_monitor_export, brt_metrics_export). The type has
 * the size and passing of `unsigned`, which these functions took before. */
typedef enum brt_format {
  BRT_FORMAT_PROMETHEUS = 1, /* text exposition format 0.0.4 */
  BRT_FORMAT_JSON = 2        /* the same content as one JSON object */
} brt_format;

/* Health levels, worst last; the numeric values are the `bridgert health`
 * exit codes. */
typedef enum brt_health_level {
  BRT_HEALTHY = 0,
  BRT_DEGRADED = 1,
  BRT_UNHEALTHY = 2
} brt_health_level;

/* Circuit-breaker states (also the value of the bridgert_algorithm_state
 * gauge). */
typedef enum brt_circuit_state {
  BRT_CIRCUIT_CLOSED = 0,   /* calls go through */
  BRT_CIRCUIT_OPEN = 1,     /* isolated: calls fail fast with BRT_E_ISOLATED */
  BRT_CIRCUIT_HALF_OPEN = 2 /* one probe call is running */
} brt_circuit_state;

/* Everything a reader may want about one algorithm, summed over the
 * per-thread shards. Latencies are in nanoseconds, over the timed (sampled)
 * calls; quantiles are the upper edge of the histogram bucket that holds
 * them (at most 12.5 % above the true value) and never above max_ns. */
typedef struct brt_algo_snapshot {
  uint32_t struct_size; /* the caller sets sizeof(brt_algo_snapshot) */
  uint64_t calls;       /* completed calls (brt_monitor_call_end), any status */
  uint64_t errors;      /* completed calls whose status was not BRT_OK */
  uint64_t rejected;    /* calls refused by brt_monitor_call_begin (isolated) */
  uint64_t in_flight;   /* begun and not yet ended */
  uint64_t latency_sum_ns;
  uint64_t p50_ns, p95_ns, p99_ns, max_ns; /* 0 when no call completed */
  brt_circuit_state state;
  uint32_t window_calls;  /* completed calls in the breaker's window (<= error_window) */
  uint32_t window_errors; /* breaker-counted failures among them */
  uint64_t latency_count; /* timed calls: the histogram's count */
} brt_algo_snapshot;

BRT_BEGIN_DECLS

/* --- Lifecycle -------------------------------------------------------------- */

/* A new monitor configured from `cfg` (error_rate_threshold, error_window,
 * cooldown_ms, max_memory, health_memory_degraded, health_memory_unhealthy;
 * the config is checked with brt_config_validate and not kept). NULL uses
 * brt_config_default's values. NULL on failure (BRT_E_INVALID_ARGUMENT,
 * BRT_E_OUT_OF_MEMORY recorded). Since 0.1.0. */
BRT_API brt_monitor *brt_monitor_new(const brt_config *cfg);
/* Frees the monitor and every brt_algo_stats it owns. No call may be
 * recording into it concurrently. NULL is ignored. Since 0.1.0. */
BRT_API void brt_monitor_free(brt_monitor *monitor);

/* The statistics of algorithm (name, version), created on first request.
 * The pointer stays valid until brt_monitor_free. `name` is 1..128 bytes of
 * printable UTF-8; `version` may be NULL (same as ""), at most 64 bytes.
 * NULL on failure with BRT_E_INVALID_ARGUMENT or BRT_E_OUT_OF_MEMORY.
 * Thread-safe (takes the monitor's lock). Since 0.1.0. */
BRT_API brt_algo_stats *brt_monitor_algorithm(brt_monitor *monitor, const char *name,
                                              const char *version);

/* --- Recording (hot path) ------------------------------------------------------ */

/* Starts a call: counts it in flight and stores in *start_ns its start
 * time, or BRT_MONITOR_UNTIMED when the call is not sampled for latency
 * (so *start_ns is for brt_monitor_call_end only, not a clock). While the
 * algorithm is isolated it records BRT_E_ISOLATED (the message names the
 * algorithm, the reason and when it will be probed) and returns it; the
 * call must then not run and brt_monitor_call_end must not be called.
 * BRT_E_INVALID_ARGUMENT for NULL arguments; BRT_E_OUT_OF_MEMORY when the
 * thread's first call on this algorithm cannot get its shard (about 2.6
 * KiB). No lock on the success path: two thread-local counter updates,
 * plus a clock read for a sampled call. Since 0.1.0. */
BRT_API brt_status brt_monitor_call_begin(brt_algo_stats *stats, uint64_t *start_ns);
/* Ends a call started by brt_monitor_call_begin with its `result`: counts
 * it by status, records its latency when it was sampled and, when it
 * failed, the thread's last error message (read with brt_last_error, if its
 * code is `result`) and the circuit breaker's verdict. Never fails and
 * never changes the thread's last error; a NULL `stats` is ignored. Since
 * 0.1.0. */
BRT_API void brt_monitor_call_end(brt_algo_stats *stats, uint64_t start_ns, brt_status result);

/* --- Reading one algorithm ---------------------------------------------------- */

/* Fills *out (out->struct_size must be set; fields beyond it are not
 * written). Since 0.1.0. */
BRT_API brt_status brt_algo_stats_get(const brt_algo_stats *stats, brt_algo_snapshot *out);
/* Completed calls that ended with `status` (BRT_OK for successes), plus, for
 * BRT_E_ISOLATED, the calls refused while isolated. Since 0.1.0. */
BRT_API brt_status brt_algo_stats_status_count(const brt_algo_stats *stats, brt_status status,
                                               uint64_t *count);
/* The latency quantile q in [0, 1] in ns (see brt_algo_snapshot); 0 when no
 * call completed. Since 0.1.0. */
BRT_API brt_status brt_algo_stats_quantile(const brt_algo_stats *stats, double q, uint64_t *ns);
/* How many completed calls took at most `le_ns` nanoseconds. Exact when
 * le_ns is a bucket edge: 0..16, and above 16 every value of the form
 * 2^e + k * 2^(e-3) (k = 1..8), e.g. every power of two; otherwise it counts
 * the calls in the buckets whose upper edge is <= le_ns. Since 0.1.0. */
BRT_API brt_status brt_algo_stats_count_at_most(const brt_algo_stats *stats, uint64_t le_ns,
                                                uint64_t *count);
/* Copies the last failure's message ("BRT_E_X (origin, type): message...",
 * as brt_error_format writes it, at most 2047 bytes) into buf (NUL-terminated
 * when size > 0) and returns its length, like snprintf; 0 (and "") when the
 * algorithm never failed or stats is NULL. Since 0.1.0. */
BRT_API size_t brt_algo_stats_last_error(const brt_algo_stats *stats, char *buf, size_t size);

/* --- Process-wide ------------------------------------------------------------- */

/* Sets gauge bridgert_<name> (e.g. "plugins_loaded") to `value`. `name` is
 * 1..64 characters of [a-z0-9_] starting with a letter and must not clash
 * with the monitor's own metric names; `value` must be finite. At most 64
 * gauges. Since 0.1.0. */
BRT_API brt_status brt_monitor_set_gauge(brt_monitor *monitor, const char *name, double value);

/* Exports every metric in `format` (BRT_FORMAT_PROMETHEUS: text exposition
 * format 0.0.4; BRT_FORMAT_JSON: the same content as one JSON object, see
 * docs/monitor.md) into *text, a managed block freed with brt_release or
 * brt_monitor_text_free. Process-wide content: memory by type
 * (brt_mem_stats_get), errors by code and origin (brt_error_count_get),
 * uptime, gauges. Fails with BRT_E_OUT_OF_MEMORY or, when the allocator's
 * limit leaves no room for the text, BRT_E_LIMIT_EXCEEDED. Since 0.1.0. */
BRT_API brt_status brt_monitor_export(brt_monitor *monitor, brt_format format, char **text);
/* Runs every health check and writes the report (a JSON object with the
 * overall "status" HEALTHY / DEGRADED / UNHEALTHY, "uptime_seconds" and
 * "checks": [{"name", "subject" (per-algorithm checks), "status",
 * "reason"}]) into *report_json, a managed block freed with brt_release or
 * brt_monitor_text_free. Checks: memory_limit, allocator_consistency (a
 * walk of every live block's metadata), algorithm_error_rate (one per
 * algorithm); docs/monitor.md says when each degrades. `level` (may be
 * NULL) receives the overall level. Since 0.1.0. */
BRT_API brt_status brt_monitor_health_level(brt_monitor *monitor, brt_health_level *level,
                                            char **report_json);
/* brt_monitor_health_level without the level. Since 0.1.0. */
BRT_API brt_status brt_monitor_health(brt_monitor *monitor, char **report_json);
/* Frees a text from brt_monitor_export or brt_monitor_health (the same as
 * brt_release). NULL is ignored. Since 0.1.0. */
BRT_API void brt_monitor_text_free(char *text);

/* Times about one call in `every` (1..BRT_MONITOR_SAMPLING_MAX; 1 times
 * every call, exact histograms at the price of two clock reads per call).
 * The gaps are random with that mean, so a periodic workload cannot hide
 * from the sample; the first call of each thread on each algorithm is
 * always timed. Takes effect from each shard's next sample. Since 0.1.0. */
BRT_API brt_status brt_monitor_set_sampling(brt_monitor *monitor, uint32_t every);

/* Replaces the monitor's clock (CLOCK_MONOTONIC by default) with now_ns(ctx),
 * which must be thread-safe and never decrease; NULL restores the default.
 * Meant for tests: set it before any call is recorded. Since 0.1.0. */
BRT_API brt_status brt_monitor_set_clock(brt_monitor *monitor, uint64_t (*now_ns)(void *ctx),
                                         void *ctx);

/* The name of a health level ("HEALTHY"...) or circuit state ("closed",
 * "open", "half_open"); "unknown" for other values. Since 0.1.0. */
BRT_API const char *brt_health_level_name(brt_health_level level);
BRT_API const char *brt_circuit_state_name(brt_circuit_state state);

BRT_END_DECLS

#endif /* BRIDGERT_MONITOR_H */
