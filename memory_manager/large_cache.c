/* The cache of freed large mappings: a large block (LARGE, more than one
 * 4 MiB segment of address space, block at the segment's second page) that
 * is released keeps its mapping and its touched pages here, so that the
 * next large block of about the same size reuses pages that are already
 * faulted in instead of mapping fresh ones (a program printing or building
 * the same big text again and again pays the page faults once).
 *
 * Invariants (cache_lock):
 *  - at most LARGE_CACHE_SLOTS mappings and LARGE_CACHE_BYTES charged
 *    bytes are cached; what does not fit is unmapped, oldest first;
 *  - a cached mapping's segment-map byte is 0 and it is in no registry, so
 *    a stale pointer into it is reported as invalid, like an unmapped one;
 *  - a cached mapping stays charged its header page and the `usable` bytes
 *    of its last block: the only pages of it that may be resident (pages
 *    past them were never touched, or were decommitted when a smaller
 *    block took the mapping). So committed memory stays exact and the
 *    memory limit still bounds what the process holds; an allocation the
 *    limit would refuse purges the cache first (_brt_mem_charge);
 *  - brt_mem_collect (and the automatic collection) purges the cache.
 *
 * cache_lock is a leaf: nothing else is taken while it is held (mappings
 * are unmapped after it is released), because a charge that purges may run
 * under any other allocator lock (the SHARED arena charges its pages under
 * its mutex). It is held across fork() and re-created in the child. */
#include "internal.h"

#include <string.h>

#define LARGE_CACHE_SLOTS 4
#define LARGE_CACHE_BYTES ((size_t)64 << 20)

typedef struct cached_mapping {
  segment *s;
  size_t usable; /* bytes of its last block, a page multiple */
} cached_mapping;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cached_mapping cache[LARGE_CACHE_SLOTS]; /* oldest first; cache_lock */
static size_t cache_count, cache_charged;       /* cache_lock */

static size_t mapping_charge(size_t usable) { return OS_PAGE + usable; }

static void mapping_drop(cached_mapping m) {
  size_t mapping = m.s->mapping_size;
  asan_unpoison(m.s, mapping); /* ASan: no stale poison where the range is reused */
  _brt_os_unmap(m.s, mapping);
  _brt_mem_uncharge(mapping_charge(m.usable));
}

static cached_mapping cache_remove_locked(size_t i) {
  cached_mapping m = cache[i];
  memmove(&cache[i], &cache[i + 1], (cache_count - i - 1) * sizeof cache[0]);
  cache_count--;
  cache_charged -= mapping_charge(m.usable);
  return m;
}

bool _brt_mem_large_cache_put(segment *s, size_t usable) {
  size_t charge = mapping_charge(usable);
  if (charge > LARGE_CACHE_BYTES) return false;
  cached_mapping evicted[LARGE_CACHE_SLOTS];
  size_t evicted_count = 0;
  asan_poison(s + 1, s->mapping_size - sizeof *s); /* ASan: a stale pointer into it is reported */
  pthread_mutex_lock(&cache_lock);
  while (cache_count == LARGE_CACHE_SLOTS || cache_charged + charge > LARGE_CACHE_BYTES)
    evicted[evicted_count++] = cache_remove_locked(0);
  cache[cache_count++] = (cached_mapping){s, usable};
  cache_charged += charge;
  pthread_mutex_unlock(&cache_lock);
  for (size_t i = 0; i < evicted_count; i++) mapping_drop(evicted[i]);
  return true;
}

segment *_brt_mem_large_cache_take(size_t usable) {
  pthread_mutex_lock(&cache_lock);
  /* The smallest mapping whose last block was at least `usable` bytes and
   * at most twice that: a much larger one stays for a larger block. */
  size_t best = cache_count;
  for (size_t i = 0; i < cache_count; i++)
    if (cache[i].usable >= usable && cache[i].usable / 2 <= usable &&
        (best == cache_count || cache[i].usable < cache[best].usable))
      best = i;
  if (best == cache_count) {
    pthread_mutex_unlock(&cache_lock);
    return NULL;
  }
  cached_mapping m = cache_remove_locked(best);
  pthread_mutex_unlock(&cache_lock);
  asan_unpoison(m.s, m.s->mapping_size);
  if (m.usable > usable) {
    /* Pages past the new block: given back and uncharged, so the charge
     * covers every page that may be resident. */
    _brt_os_decommit((char *)m.s + OS_PAGE + usable, m.usable - usable);
    _brt_mem_uncharge(m.usable - usable);
  }
  return m.s;
}

bool _brt_mem_large_cache_purge(void) {
  cached_mapping all[LARGE_CACHE_SLOTS];
  pthread_mutex_lock(&cache_lock);
  size_t count = cache_count;
  memcpy(all, cache, count * sizeof cache[0]);
  cache_count = 0;
  cache_charged = 0;
  pthread_mutex_unlock(&cache_lock);
  for (size_t i = 0; i < count; i++) mapping_drop(all[i]);
  return count > 0;
}

void _brt_mem_large_cache_fork_prepare(void) { pthread_mutex_lock(&cache_lock); }
void _brt_mem_large_cache_fork_parent(void) { pthread_mutex_unlock(&cache_lock); }
void _brt_mem_large_cache_fork_child(void) { pthread_mutex_init(&cache_lock, NULL); }
