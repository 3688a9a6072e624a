/* Statistics summed on demand, the memory limit, and collection (explicit
 * and automatic past gc_threshold). */
#include "internal.h"
#include "settings.h"

#include <string.h>

static uint64_t positive(int64_t v) { return v > 0 ? (uint64_t)v : 0; }

brt_status brt_mem_stats_get(brt_mem_stats *out) {
  if (!out)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_mem_stats_get: out is NULL");
  /* The fields up to errors_layout_mismatch are the 0.1.0 contract; a
   * caller's struct may end there. */
  size_t minimum = offsetof(brt_mem_stats, errors_layout_mismatch) + sizeof(uint64_t);
  if (out->struct_size < minimum)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_mem_stats_get: out->struct_size is %u, expected at least %zu "
                         "(set it to sizeof(brt_mem_stats))", out->struct_size, minimum);
  _brt_mem_init();
  _brt_mem_bias_merge_own();
  heap_stats sum;
  _brt_mem_sum_stats(&sum);
  brt_mem_stats all;
  memset(&all, 0, sizeof all);
  all.struct_size = out->struct_size < sizeof all ? out->struct_size : (uint32_t)sizeof all;
  all.total_allocs = atomic_load(&sum.allocs);
  all.total_frees = atomic_load(&sum.frees);
  all.live_blocks = all.total_allocs - all.total_frees;
  for (int t = 0; t < BRT_MEM_TYPE_COUNT; t++) {
    all.live_bytes_by_type[t] = positive(atomic_load(&sum.bytes_by_type[t]));
    all.live_bytes += all.live_bytes_by_type[t];
  }
  uint64_t peak = atomic_load(&_brt_mem.peak_bytes);
  while (all.live_bytes > peak &&
         !atomic_compare_exchange_weak(&_brt_mem.peak_bytes, &peak, all.live_bytes)) {
  }
  all.peak_bytes = peak > all.live_bytes ? peak : all.live_bytes;
  all.committed_bytes = atomic_load(&_brt_mem.committed);
  all.errors_invalid_pointer = atomic_load(&sum.errors_invalid_pointer);
  all.errors_double_free = atomic_load(&sum.errors_double_free);
  all.errors_layout_mismatch = atomic_load(&sum.errors_layout_mismatch);
  all.limit_bytes = atomic_load(&_brt_mem.limit);
  all.active_shares = positive(atomic_load(&sum.active_shares));
  all.total_shares = atomic_load(&sum.shares);
  all.mapped_files = atomic_load(&_brt_mem.mapped_files);
  all.collections = atomic_load(&_brt_mem.collections);
  all.errors_use_after_free = atomic_load(&sum.errors_use_after_free);
  all.abandoned_segments = atomic_load(&_brt_mem.abandoned_count);
  all.tracking = atomic_load_explicit(&_brt_mem.tracking, memory_order_relaxed);
  memcpy(out, &all, all.struct_size);
  return BRT_OK;
}

brt_status brt_mem_set_limit(size_t bytes) {
  _brt_mem_init();
  if ((uint64_t)bytes > ((uint64_t)1 << 62))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_mem_set_limit: %zu bytes is beyond any address space (at most 2^62; "
                         "0 means no limit)", bytes);
  _brt_mem_settings_set_base_limit((uint64_t)bytes); /* an open runtime's lower limit still holds */
  return BRT_OK;
}

static void collect_now(heap *h) {
  atomic_fetch_add(&_brt_mem.collections, 1);
  _brt_mem_request_collect_all();
  atomic_store_explicit(&h->collect_requested, 0, memory_order_relaxed);
  _brt_mem_bias_merge(h, false);
  _brt_mem_adopt_abandoned(h, true);
  _brt_mem_heap_collect(h, true);
  _brt_mem_shared_collect();
  _brt_mem_large_cache_purge();
  _brt_mem_sync_live_bytes(h);
}

brt_status brt_mem_collect(void) {
  heap *h = _brt_mem_heap_get();
  if (!h) return BRT_E_OUT_OF_MEMORY;
  collect_now(h);
  return BRT_OK;
}

/* Automatic collection, from the allocation slow path: when committed
 * memory passes gc_threshold and the last collection is at least
 * gc_interval_ms old. One thread wins the interval (compare-exchange). */
void _brt_mem_maybe_gc(heap *h) {
  uint64_t threshold = atomic_load_explicit(&_brt_mem.gc_threshold, memory_order_relaxed);
  if (BRT_LIKELY(threshold == 0) ||
      atomic_load_explicit(&_brt_mem.committed, memory_order_relaxed) < threshold)
    return;
  uint64_t now = _brt_coarse_now_ns();
  uint64_t last = atomic_load_explicit(&_brt_mem.last_gc_ns, memory_order_relaxed);
  uint64_t interval = (uint64_t)atomic_load_explicit(&_brt_mem.gc_interval_ms, memory_order_relaxed) * 1000000u;
  if (last && now - last < interval) return;
  if (!atomic_compare_exchange_strong(&_brt_mem.last_gc_ns, &last, now ? now : 1)) return;
  collect_now(h);
}
