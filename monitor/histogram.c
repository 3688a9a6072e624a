/* Reading the latency histograms: bucket edges, merging the per-thread
 * shards, quantiles. Recording is the inline _brt_hist_index in internal.h,
 * used by record.c. */
#include "internal.h"

#include <math.h>
#include <string.h>

uint64_t _brt_hist_upper_edge(unsigned index) {
  if (index < HIST_LINEAR_LIMIT) return (uint64_t)index + 1;
  if (index >= HIST_OVERFLOW) return UINT64_MAX;
  unsigned exponent = index / HIST_SUB_COUNT + 2;
  uint64_t sub = index % HIST_SUB_COUNT;
  return (UINT64_C(1) << exponent) + ((sub + 1) << (exponent - HIST_SUB_BITS));
}

static uint64_t load(const _Atomic uint64_t *counter) {
  return atomic_load_explicit(counter, memory_order_relaxed);
}

/* Relaxed loads: each counter is exact for calls that completed before the
 * read began; a call completing during the read may be counted in one field
 * and not yet in another, which readers tolerate (in_flight is clamped). */
void _brt_monitor_totals(const brt_algo_stats *stats, algo_totals *totals) {
  memset(totals, 0, sizeof *totals);
  for (unsigned slot = 0; slot < MONITOR_SHARDS; slot++) {
    const monitor_shard *shard = atomic_load_explicit(&stats->shards[slot], memory_order_acquire);
    if (!shard) continue;
    totals->begun += load(&shard->begun);
    totals->rejected += load(&shard->rejected);
    totals->sum_ns += load(&shard->sum_ns);
    uint64_t max = load(&shard->max_ns);
    if (max > totals->max_ns) totals->max_ns = max;
    for (unsigned i = 0; i < STATUS_SLOTS; i++) totals->by_status[i] += load(&shard->by_status[i]);
    for (unsigned i = 0; i < HIST_BUCKETS; i++) totals->buckets[i] += load(&shard->buckets[i]);
  }
  for (unsigned i = 0; i < STATUS_SLOTS; i++) totals->completed += totals->by_status[i];
  for (unsigned i = 0; i < HIST_BUCKETS; i++) totals->timed += totals->buckets[i];
  totals->errors = totals->completed - totals->by_status[BRT_OK];
}

uint64_t _brt_hist_quantile(const algo_totals *totals, double q) {
  uint64_t count = totals->timed;
  if (count == 0) return 0;
  /* The rank of the quantile, 1-based: the smallest value with at least
   * q * count values at or below it. */
  double wanted = ceil(q * (double)count);
  uint64_t rank = wanted < 1 ? 1 : (uint64_t)wanted;
  if (rank > count) rank = count;
  uint64_t seen = 0;
  for (unsigned i = 0; i < HIST_BUCKETS; i++) {
    seen += totals->buckets[i];
    if (seen >= rank) {
      uint64_t edge = _brt_hist_upper_edge(i);
      return edge < totals->max_ns ? edge : totals->max_ns;
    }
  }
  return totals->max_ns;
}

uint64_t _brt_hist_count_at_most(const algo_totals *totals, uint64_t le_ns) {
  unsigned bucket = 0;
  uint64_t count = 0;
  return _brt_hist_cumulative_to(totals, le_ns, &bucket, &count);
}

uint64_t _brt_hist_cumulative_to(const algo_totals *totals, uint64_t edge, unsigned *bucket,
                                 uint64_t *cumulative) {
  for (; *bucket < HIST_BUCKETS && _brt_hist_upper_edge(*bucket) <= edge; ++*bucket)
    *cumulative += totals->buckets[*bucket];
  return *cumulative;
}
