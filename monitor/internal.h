/* monitor/ internals shared between its files. Other components use the
 * public ABI (bridgert/monitor.h) only. */
#ifndef BRT_MONITOR_INTERNAL_H
#define BRT_MONITOR_INTERNAL_H

#include "bridgert/error.h"
#include "bridgert/memory.h"
#include "bridgert/monitor.h"
#include "core/clock.h"
#include "core/compiler.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --- Latency histogram -------------------------------------------------------
 * Log-linear buckets over nanoseconds: values 0..16 each have a bucket; above
 * that every power-of-two range (2^e, 2^(e+1)] is cut into 8 equal buckets,
 * so a bucket is at most 12.5 % wide relative to its lower edge. Buckets are
 * upper-inclusive, which makes every power of two an exact edge (the
 * Prometheus `le` boundaries). Latencies of 2^40 ns (18 minutes) and more
 * share one overflow bucket. */
#define HIST_SUB_BITS 3
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS)
#define HIST_LINEAR_LIMIT (2u * HIST_SUB_COUNT)
#define HIST_MAX_EXPONENT 40
#define HIST_OVERFLOW (HIST_SUB_COUNT * (HIST_MAX_EXPONENT - 2))
#define HIST_BUCKETS (HIST_OVERFLOW + 1)

/* The bucket of a latency: a few instructions, one branch for small values. */
static inline unsigned _brt_hist_index(uint64_t ns) {
  uint64_t v = ns ? ns - 1 : 0; /* upper-inclusive buckets: (lower, upper] */
  if (v < HIST_LINEAR_LIMIT) return (unsigned)v;
  unsigned exponent = 63u - (unsigned)__builtin_clzll(v);
  if (BRT_UNLIKELY(exponent >= HIST_MAX_EXPONENT)) return HIST_OVERFLOW;
  return HIST_SUB_COUNT * (exponent - 2) +
         (unsigned)((v >> (exponent - HIST_SUB_BITS)) & (HIST_SUB_COUNT - 1));
}

/* --- Per-thread shards --------------------------------------------------------
 * Each thread that records takes one of MONITOR_THREAD_SLOTS process-wide
 * slots (returned when it exits) and writes only to shard[slot] of each
 * algorithm: single-writer counters updated with a relaxed load and store,
 * no lock prefix. Threads beyond the slots share one extra shard whose
 * counters use atomic read-modify-write instead. */
#define MONITOR_THREAD_SLOTS 64
#define MONITOR_SHARED_SLOT MONITOR_THREAD_SLOTS
#define MONITOR_SHARDS (MONITOR_THREAD_SLOTS + 1)
/* by_status has one entry per known status plus one for unknown values. */
#define STATUS_SLOTS (BRT_STATUS_COUNT + 1)

typedef struct monitor_shard {
  _Atomic uint64_t begun;    /* brt_monitor_call_begin that returned BRT_OK */
  _Atomic uint64_t rejected; /* brt_monitor_call_begin that returned ISOLATED */
  _Atomic uint64_t sum_ns;
  _Atomic uint64_t max_ns;
  _Atomic uint64_t sample_countdown; /* calls until the next timed one (0: time the next) */
  _Atomic uint64_t by_status[STATUS_SLOTS]; /* completed calls by result */
  _Atomic uint64_t buckets[HIST_BUCKETS];
  bool shared; /* written by several threads: use atomic read-modify-write */
} monitor_shard;

/* A merged, plain copy of an algorithm's shards. */
typedef struct algo_totals {
  uint64_t begun, rejected, sum_ns, max_ns, completed, errors;
  uint64_t timed; /* calls in the histogram (sampled) */
  uint64_t by_status[STATUS_SLOTS];
  uint64_t buckets[HIST_BUCKETS];
} algo_totals;

/* --- Objects ------------------------------------------------------------------- */

#define ALGO_NAME_MAX 128
#define ALGO_VERSION_MAX 64
#define GAUGE_NAME_MAX 64
#define GAUGE_COUNT_MAX 64
#define REASON_MAX 512
#define LAST_ERROR_MAX 2048

typedef uint64_t (*monitor_clock_fn)(void *ctx);

struct brt_algo_stats {
  brt_monitor *monitor;
  _Atomic(monitor_shard *) shards[MONITOR_SHARDS];
  _Atomic int state;          /* brt_circuit_state; read on every begin */
  _Atomic uint64_t dropped;   /* records lost because a shard could not be allocated */
  char name[ALGO_NAME_MAX + 1];
  char version[ALGO_VERSION_MAX + 1];
  pthread_mutex_t lock; /* guards everything below (failure and breaker paths) */
  /* Completion numbers (the algorithm's completed-call count when each
   * failure was recorded) of the most recent breaker-counted failures, a
   * ring of at most monitor->failures_to_trip entries, grown on demand. */
  uint64_t *failure_positions;
  uint32_t ring_capacity, ring_count, ring_head; /* head: oldest entry */
  uint64_t window_start;   /* completion number where the window began (last close) */
  uint64_t open_until_ns;  /* OPEN: when the next probe may start */
  uint64_t probe_start_ns; /* HALF_OPEN: the probe's start time and thread */
  const void *probe_thread;
  uint64_t trips;          /* how many times the circuit opened */
  char reason[REASON_MAX]; /* why it is isolated (OPEN / HALF_OPEN) */
  char last_error[LAST_ERROR_MAX];
  uint64_t last_error_at_ns;
};

typedef struct monitor_gauge {
  char name[GAUGE_NAME_MAX + 1];
  double value;
} monitor_gauge;

struct brt_monitor {
  _Atomic(monitor_clock_fn) clock_fn; /* NULL: CLOCK_MONOTONIC */
  _Atomic(void *) clock_ctx;
  _Atomic uint64_t started_ns;
  _Atomic uint32_t sample_every; /* time about one call in this many */
  /* From the config, fixed after brt_monitor_new. */
  double error_rate_threshold;
  uint32_t error_window;
  uint32_t failures_to_trip; /* floor(threshold * window) + 1: more than the threshold */
  uint32_t cooldown_ms;
  uint64_t max_memory;
  double health_memory_degraded, health_memory_unhealthy;
  pthread_mutex_t lock; /* guards the lists below */
  brt_algo_stats **algorithms;
  size_t algorithm_count, algorithm_capacity;
  monitor_gauge gauges[GAUGE_COUNT_MAX];
  size_t gauge_count;
};

/* --- Cross-file internals, by file ---------------------------------------------- */

/* fork.c: lists a new monitor (installing the fork handlers once) / forgets
 * one being freed. */
void _brt_monitor_fork_track(brt_monitor *monitor);
void _brt_monitor_fork_forget(brt_monitor *monitor);
/* shards.c: takes (true) or releases the lock of the shard slot pool, for
 * the fork handlers. */
void _brt_monitor_slot_pool_lock(bool take);

/* histogram.c */
/* The largest latency that falls into bucket `index` (UINT64_MAX for the
 * overflow bucket). */
uint64_t _brt_hist_upper_edge(unsigned index);
/* Sums the shards of `stats` into *totals. */
void _brt_monitor_totals(const brt_algo_stats *stats, algo_totals *totals);
/* The latency quantile q (0..1) of merged totals, clamped to max_ns. */
uint64_t _brt_hist_quantile(const algo_totals *totals, double q);
/* How many samples took at most `edge` ns. Exporters walk increasing edges
 * with one cursor (*bucket, *cumulative, both starting at 0), so the whole
 * walk reads each bucket once. */
uint64_t _brt_hist_cumulative_to(const algo_totals *totals, uint64_t edge, unsigned *bucket,
                                 uint64_t *cumulative);
/* Completed calls whose latency bucket's upper edge is <= le_ns. */
uint64_t _brt_hist_count_at_most(const algo_totals *totals, uint64_t le_ns);

/* shards.c */
/* The calling thread's slot: -1 before its first recording,
 * MONITOR_TLS_SHARED once it records into the shared shard, else its
 * private slot. initial-exec:
 * one load from the thread pointer instead of a __tls_get_addr call; it is
 * 4 bytes, so it barely touches the static TLS surplus that dlopen()ed
 * copies of the library share. */
extern _Thread_local int _brt_monitor_tls_slot BRT_TLS_INITIAL_EXEC;
/* _brt_monitor_tls_slot of a thread without a private slot (none was free,
 * or the thread is exiting). Negative, so the recording fast paths' one
 * `slot < 0` test sends such a thread to the slow paths: a non-negative
 * slot is private, and its shard is never the shared one. */
#define MONITOR_TLS_SHARED (-2)
unsigned _brt_monitor_thread_slot_acquire(void);
/* The calling thread's slot (0..MONITOR_THREAD_SLOTS, the last one shared). */
static inline unsigned _brt_monitor_thread_slot(void) {
  int slot = _brt_monitor_tls_slot;
  if (BRT_LIKELY(slot >= 0)) return (unsigned)slot;
  if (slot == MONITOR_TLS_SHARED) return MONITOR_SHARED_SLOT;
  return _brt_monitor_thread_slot_acquire();
}
/* An address unique to the calling thread while it lives. */
const void *_brt_monitor_thread_id(void);
/* The next sampling gap: uniform in [1, 2 * every - 1] (mean `every`),
 * from a per-thread xorshift generator; 1 when every is 1. */
uint64_t _brt_monitor_sample_gap(uint32_t every);
/* The shard of `slot`, created when missing; NULL when out of memory. */
monitor_shard *_brt_monitor_shard_slow(brt_algo_stats *stats, unsigned slot);
void _brt_monitor_shards_free(brt_algo_stats *stats);

/* monitor.c */
uint64_t _brt_monitor_now(const brt_monitor *monitor);
/* A consistent copy of the gauges (under the monitor's lock). */
size_t _brt_monitor_gauges_copy(brt_monitor *monitor, monitor_gauge *out);
/* A copy of the algorithm list (under the lock); the caller frees it. */
brt_algo_stats **_brt_monitor_algorithms_copy(brt_monitor *monitor, size_t *count);

/* breaker.c */
/* BRT_E_ISOLATED path of brt_monitor_call_begin: either admits this call as
 * the probe (BRT_OK) or records the refusal and returns BRT_E_ISOLATED. */
brt_status _brt_breaker_begin_slow(brt_algo_stats *stats, monitor_shard *shard, uint64_t now,
                                   uint64_t *start_ns);
/* Failure or half-open path of brt_monitor_call_end. */
void _brt_breaker_end_slow(brt_algo_stats *stats, uint64_t start_ns, brt_status result);
/* Failures among the last window calls, and those calls (under stats->lock). */
void _brt_breaker_window(brt_algo_stats *stats, uint64_t completed, uint32_t *window_calls,
                         uint32_t *window_errors);
void _brt_breaker_free(brt_algo_stats *stats);

/* text.c: a growable text buffer; after a failed append it stays failed and
 * text_finish returns NULL with BRT_E_OUT_OF_MEMORY recorded. */
typedef struct text_buffer {
  char *data;
  size_t length, capacity;
  bool failed;
} text_buffer;
void _brt_text_append(text_buffer *buffer, const char *bytes, size_t length);
void _brt_text_printf(text_buffer *buffer, const char *format, ...) BRT_PRINTF(2, 3);
/* Appends a Prometheus label value (\\, \" and \n escaped). */
void _brt_text_label_value(text_buffer *buffer, const char *value);
/* Appends ns as seconds in exact decimal ("0.000000064", "12.5"). */
void _brt_text_seconds(text_buffer *buffer, uint64_t ns);
/* The finished text as a managed block (brt_release) in *out; the buffer is
 * freed either way. */
brt_status _brt_text_finish(text_buffer *buffer, const char *what, char **out);
/* `json` printed as a monitor text in *out; OUT_OF_MEMORY when json is NULL
 * or printing fails (cJSON reports only allocation failures). */
struct cJSON;
brt_status _brt_text_from_json(const struct cJSON *json, const char *what, char **out);

/* export.c: what both exporters and the health check read of an algorithm. */
typedef struct algo_view {
  algo_totals totals;
  brt_circuit_state state;
  uint32_t window_calls, window_errors;
  uint64_t trips;
  uint64_t retry_in_ns; /* OPEN: time until the next probe */
  char reason[REASON_MAX];
  char last_error[LAST_ERROR_MAX];
  uint64_t last_error_at_ns; /* meaningful when last_error is not empty */
} algo_view;
void _brt_algo_view(brt_algo_stats *stats, uint64_t now, algo_view *view);
/* The Prometheus `le` boundaries: every power of two from 2^6 ns (64 ns) to
 * 2^34 ns (17 s), each an exact bucket edge. */
#define EXPORT_LE_MIN_EXPONENT 6
#define EXPORT_LE_MAX_EXPONENT 34
/* The label value of each brt_mem_type ("c_heap", ...). */
extern const char *const _brt_monitor_mem_type_names[BRT_MEM_TYPE_COUNT];
/* The allocator's size classes that have seen an allocation or hold live
 * blocks, into out (BRT_MEM_CLASS_COUNT entries); returns how many, 0 when
 * the allocator keeps no per-class counters (tracking below "counters").
 * The calling thread's last error is left as it was. */
size_t _brt_monitor_mem_classes(brt_mem_class_stats *out);
/* export_prometheus.c, export_json.c: the text in *out. */
brt_status _brt_export_prometheus(brt_monitor *monitor, char **out);
brt_status _brt_export_json(brt_monitor *monitor, char **out);

#endif /* BRT_MONITOR_INTERNAL_H */
