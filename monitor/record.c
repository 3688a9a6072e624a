/* The hot path: brt_monitor_call_begin and brt_monitor_call_end.
 *
 * Invariant: a successful call touches only the calling thread's shard
 * (single-writer counters: a relaxed load and a relaxed store, no lock
 * prefix, no shared cache line written) and reads the circuit state, which
 * changes only when an algorithm trips or recovers.
 *
 * Reading the clock (clock_gettime, twice per call) costs more than
 * everything else together, so latency is sampled: every call is counted,
 * but only about one in `sample_every` (a random gap with that mean, so
 * periodic workloads cannot alias; the first call of each thread on each
 * algorithm is always timed) reads the clock and enters the histogram. An
 * untimed successful call costs: begin, a TLS load, a shard pointer load,
 * the state load, the countdown and one counter update; end, the same loads
 * and one counter update — no lock prefix, no stack frame. Everything else
 * (failures, a non-closed circuit, sampled calls, a thread's first call)
 * leaves through one unlikely branch into an out-of-line slow path. */
#include "internal.h"

static inline uint64_t monitor_now(const brt_monitor *monitor) {
  monitor_clock_fn fn = atomic_load_explicit(&monitor->clock_fn, memory_order_relaxed);
  if (BRT_UNLIKELY(fn != NULL))
    return fn(atomic_load_explicit(&monitor->clock_ctx, memory_order_relaxed));
  return _brt_now_ns();
}

uint64_t _brt_monitor_now(const brt_monitor *monitor) { return monitor_now(monitor); }

static inline monitor_shard *thread_shard(brt_algo_stats *stats) {
  unsigned slot = _brt_monitor_thread_slot();
  monitor_shard *shard = atomic_load_explicit(&stats->shards[slot], memory_order_acquire);
  if (BRT_UNLIKELY(!shard)) shard = _brt_monitor_shard_slow(stats, slot);
  return shard;
}

/* Adds n to a counter of `shard`: a plain read-modify-write when the shard
 * has one writer (relaxed atomics only so concurrent readers are defined). */
static inline void shard_add(monitor_shard *shard, _Atomic uint64_t *counter, uint64_t n) {
  if (BRT_UNLIKELY(shard->shared)) {
    atomic_fetch_add_explicit(counter, n, memory_order_relaxed);
  } else {
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + n,
                          memory_order_relaxed);
  }
}

static inline void shard_max(monitor_shard *shard, uint64_t value) {
  uint64_t seen = atomic_load_explicit(&shard->max_ns, memory_order_relaxed);
  if (BRT_LIKELY(value <= seen)) return;
  if (!shard->shared) {
    atomic_store_explicit(&shard->max_ns, value, memory_order_relaxed);
    return;
  }
  while (value > seen && !atomic_compare_exchange_weak_explicit(&shard->max_ns, &seen, value,
                                                                memory_order_relaxed,
                                                                memory_order_relaxed)) {
  }
}

/* The sampled branch of brt_monitor_call_begin (and every call of the
 * shared shard, whose countdown several threads race on): draws the next
 * gap and decides whether this call is timed. */
static uint64_t sample_or_skip(brt_algo_stats *stats, monitor_shard *shard) {
  const brt_monitor *monitor = stats->monitor;
  uint32_t every = atomic_load_explicit(&monitor->sample_every, memory_order_relaxed);
  if (shard->shared) {
    uint64_t before = atomic_fetch_sub_explicit(&shard->sample_countdown, 1, memory_order_relaxed);
    if (before > 1 && before <= 2u * every) return BRT_MONITOR_UNTIMED;
  }
  atomic_store_explicit(&shard->sample_countdown, _brt_monitor_sample_gap(every),
                        memory_order_relaxed);
  return monitor_now(monitor);
}

/* Everything brt_monitor_call_begin does off its fast path: NULL
 * arguments, the thread's first call (slot and shard), a non-closed
 * circuit, the shared shard, and sampled calls. Kept out of line so the
 * fast path needs no stack frame. */
BRT_COLD static brt_status begin_slow(brt_algo_stats *stats,
                                      uint64_t *start_ns) {
  if (!stats || !start_ns)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_monitor_call_begin: %s is NULL", stats ? "start_ns" : "stats");
  monitor_shard *shard = thread_shard(stats);
  if (!shard)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "brt_monitor_call_begin: no memory for the statistics of algorithm '%s'",
                         stats->name);
  if (atomic_load_explicit(&stats->state, memory_order_acquire) != BRT_CIRCUIT_CLOSED)
    return _brt_breaker_begin_slow(stats, shard, monitor_now(stats->monitor), start_ns);
  shard_add(shard, &shard->begun, 1);
  *start_ns = sample_or_skip(stats, shard);
  return BRT_OK;
}

/* A sampled call on the thread's private shard with the circuit closed
 * (about one call in sample_every): out of line because it reads the
 * clock, but it reuses the shard the fast path found instead of deriving
 * it again in begin_slow. */
BRT_NOINLINE static brt_status begin_sampled(brt_algo_stats *stats,
                                             monitor_shard *shard,
                                             uint64_t *start_ns) {
  shard_add(shard, &shard->begun, 1);
  *start_ns = sample_or_skip(stats, shard);
  return BRT_OK;
}

/* Fast path (straight-line code, no call, no stack frame): a
 * closed circuit, the thread's private shard already made (slot >= 0 is
 * never the shared shard), and a call that is not sampled. A sampled call
 * jumps to begin_sampled with the shard in hand; any other case takes the
 * branch to begin_slow. */
brt_status brt_monitor_call_begin(brt_algo_stats *stats, uint64_t *start_ns) {
  int slot = _brt_monitor_tls_slot;
  if (BRT_UNLIKELY(!stats || !start_ns || slot < 0)) return begin_slow(stats, start_ns);
  monitor_shard *shard = atomic_load_explicit(&stats->shards[slot], memory_order_acquire);
  if (BRT_UNLIKELY(!shard ||
                   atomic_load_explicit(&stats->state, memory_order_acquire) != BRT_CIRCUIT_CLOSED))
    return begin_slow(stats, start_ns);
  uint64_t countdown = atomic_load_explicit(&shard->sample_countdown, memory_order_relaxed);
  if (BRT_UNLIKELY(countdown <= 1)) return begin_sampled(stats, shard, start_ns);
  atomic_store_explicit(&shard->sample_countdown, countdown - 1, memory_order_relaxed);
  atomic_store_explicit(&shard->begun, atomic_load_explicit(&shard->begun, memory_order_relaxed) + 1,
                        memory_order_relaxed);
  *start_ns = BRT_MONITOR_UNTIMED;
  return BRT_OK;
}

/* Adds a timed call's latency (now - start_ns) to the shard's histogram. */
static inline void record_latency(brt_algo_stats *stats, monitor_shard *shard, uint64_t start_ns) {
  uint64_t now = monitor_now(stats->monitor);
  uint64_t elapsed = now > start_ns ? now - start_ns : 0;
  shard_add(shard, &shard->buckets[_brt_hist_index(elapsed)], 1);
  shard_add(shard, &shard->sum_ns, elapsed);
  shard_max(shard, elapsed);
}

/* brt_monitor_call_end off its fast path: a timed call, a failure, a
 * non-closed circuit, the shared shard, the thread's first call. */
BRT_COLD static void end_slow(brt_algo_stats *stats, uint64_t start_ns,
                              brt_status result) {
  monitor_shard *shard = thread_shard(stats);
  if (!shard) {
    atomic_fetch_add_explicit(&stats->dropped, 1, memory_order_relaxed);
  } else {
    unsigned status = (unsigned)result < BRT_STATUS_COUNT ? (unsigned)result : BRT_STATUS_COUNT;
    shard_add(shard, &shard->by_status[status], 1);
    if (start_ns != BRT_MONITOR_UNTIMED) record_latency(stats, shard, start_ns);
  }
  if (result != BRT_OK ||
      atomic_load_explicit(&stats->state, memory_order_acquire) != BRT_CIRCUIT_CLOSED)
    _brt_breaker_end_slow(stats, start_ns, result);
}

/* The latency of a sampled successful call on the thread's private shard
 * with the circuit closed: out of line because it reads the clock. */
BRT_NOINLINE static void end_timed(brt_algo_stats *stats, monitor_shard *shard,
                                   uint64_t start_ns) {
  record_latency(stats, shard, start_ns);
}

/* Fast path (straight-line code when untimed): a successful call on the
 * thread's private shard with the circuit closed — one counter update
 * (and, for a sampled call, a jump to end_timed). */
void brt_monitor_call_end(brt_algo_stats *stats, uint64_t start_ns, brt_status result) {
  if (BRT_UNLIKELY(!stats)) return;
  int slot = _brt_monitor_tls_slot;
  monitor_shard *shard =
      slot >= 0 ? atomic_load_explicit(&stats->shards[slot], memory_order_acquire) : NULL;
  if (BRT_UNLIKELY(!shard || result != BRT_OK ||
                   atomic_load_explicit(&stats->state, memory_order_acquire) != BRT_CIRCUIT_CLOSED)) {
    end_slow(stats, start_ns, result);
    return;
  }
  atomic_store_explicit(&shard->by_status[BRT_OK],
                        atomic_load_explicit(&shard->by_status[BRT_OK], memory_order_relaxed) + 1,
                        memory_order_relaxed);
  /* A sampled call: the same private shard, so no second lookup. */
  if (BRT_UNLIKELY(start_ns != BRT_MONITOR_UNTIMED)) end_timed(stats, shard, start_ns);
}

brt_status brt_monitor_set_sampling(brt_monitor *monitor, uint32_t every) {
  if (!monitor || every < 1 || every > BRT_MONITOR_SAMPLING_MAX)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         monitor ? "brt_monitor_set_sampling: every is %u; expected 1 (time every "
                                   "call) to %u"
                                 : "brt_monitor_set_sampling: monitor is NULL (every %u, max %u)",
                         every, (unsigned)BRT_MONITOR_SAMPLING_MAX);
  atomic_store_explicit(&monitor->sample_every, every, memory_order_relaxed);
  return BRT_OK;
}

brt_status brt_monitor_set_clock(brt_monitor *monitor, uint64_t (*now_ns)(void *ctx), void *ctx) {
  if (!monitor)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_monitor_set_clock: monitor is NULL");
  atomic_store_explicit(&monitor->clock_ctx, now_ns ? ctx : NULL, memory_order_relaxed);
  atomic_store_explicit(&monitor->clock_fn, now_ns, memory_order_relaxed);
  /* Uptime is measured on the monitor's clock: restart it on the new one. */
  atomic_store_explicit(&monitor->started_ns, monitor_now(monitor), memory_order_relaxed);
  return BRT_OK;
}
