/* Allocation: brt_alloc's fast path and slow path, brt_realloc, and the
 * CppAllocator entry points. */
#include "internal.h"

#include <string.h>

/* A request the fast path can serve: size 1..1024, align 1, 2, 4, 8 or 16
 * (every block is 16-aligned), a C, Rust or C++ heap type, no flags. Four
 * tests, each a compare-and-branch on one argument register (the
 * registers stay as they came, for the slow path's tail call):
 * size - 1 < 1024 (unsigned: 0 wraps to the maximum); type <= 2 (as
 * unsigned, so no value wraps into the range); flags == 0; and (align - 1)
 * & (align | ~15) == 0, which holds exactly for the powers of two up to 16
 * (above 16, align - 1 has a bit of ~15; below, align - 1 and align share
 * a bit unless align is a power of two; align 0 wraps). */
_Static_assert(DIRECT_MAX == 1024 && MIN_ALIGN == 16 && BRT_MEM_CPP_HEAP == 2,
               "simple_request's constants");
#define UNLESS_SIMPLE_REQUEST(size, align, type, flags, otherwise)                  \
  do {                                                                             \
    if (BRT_UNLIKELY((size) - 1 >= DIRECT_MAX)) otherwise;                         \
    if (BRT_UNLIKELY((unsigned)(type) > BRT_MEM_CPP_HEAP)) otherwise;              \
    if (BRT_UNLIKELY((flags) != 0)) otherwise;                                     \
    if (BRT_UNLIKELY((((align) - 1) & ((align) | ~(size_t)15)) != 0)) otherwise;   \
  } while (0)
BRT_INLINE bool simple_request(size_t size, size_t align, brt_mem_type type, unsigned flags) {
  UNLESS_SIMPLE_REQUEST(size, align, type, flags, return false);
  return true;
}

/* The fast path: no atomic read-modify-write, no lock, no stack frame
 * (docs/memory.md, "Fast paths and their cost"): four unlikely
 * branches (the argument tests) into the non-inlined slow path, taken
 * before any load so that the loads do not wait on them; heap = TLS load;
 * page = heap->direct[(size + 15) / 16]; block = page->free; an unlikely
 * branch on block == NULL | page flags other than tracking (hardened)
 * into the slow path; pop; block index (page_block_index); one relaxed
 * store of the metadata word (refcount 1, type); two owner-only
 * statistics updates; a predictable test of the tracking flag, which
 * records the block's id and time out of line when tracking is on. An
 * empty direct slot points to a page whose free list is NULL, so a
 * thread's first allocation and an exhausted page need no separate test. */
BRT_HOT_ENTRY void *brt_alloc(size_t size, size_t align, brt_mem_type type, unsigned flags) {
  /* Spelled out, not simple_request: the compiler would merge two of the
   * tests into flag arithmetic, which is longer than the branches. */
  UNLESS_SIMPLE_REQUEST(size, align, type, flags,
                        return _brt_mem_alloc_slow(size, align, type, flags));
  heap *h = _brt_mem_tls_heap;
  page *pg = h->direct[(size + 15) >> 4];
  free_block *block = pg->free;
  uint32_t page_state = page_flags(pg);
  /* A simple request is served alike for every alignment up to 16, and
   * has no flags: passing the constants frees two registers. */
  if (BRT_UNLIKELY((block == NULL) | ((page_state & ~(PAGE_TRACKED | PAGE_COUNTED)) != 0)))
    return _brt_mem_alloc_slow(size, MIN_ALIGN, type, 0);
  MEM_CHECK2(segment_is_mine(segment_of((uintptr_t)pg)), "owner-only-lists",
             "thread %p allocates from page %p of a segment owned by token %p", (void *)thread_token(),
             (void *)pg, (void *)segment_of((uintptr_t)pg)->owner_token);
  MEM_CHECK2_HANDOUT(pg, block);
  pg->free = block->next;
  MEM_CHECK2_LINK(pg, pg->free);
  asan_block_live(block, size, pg->block_size); /* ASan: the request addressable, the tail not */
  pg->used++;
  uint64_t index = page_block_index(pg, (uintptr_t)block - pg->block_start);
  atomic_store_explicit(&pg->meta[index], 1u | ((uint32_t)type << META_TYPE_SHIFT),
                        memory_order_relaxed);
  stat_add_u(&h->stats.allocs, 1);
  stat_add_i(&h->stats.bytes_by_type[type], (int64_t)pg->block_size);
  if (BRT_UNLIKELY(page_state)) /* tracking >= counters; a tail call keeps this path frameless */
    return _brt_mem_track_alloc_then(h, pg, (uint32_t)index, size, block);
  return block;
}

/* Gives a popped block its metadata: refcount 1, the type, statistics and
 * (tracked pages) the tracking record. */
void _brt_mem_block_start(heap *h, page *pg, void *block, size_t request, brt_mem_type type) {
  MEM_CHECK2_HANDOUT(pg, block);
  uint32_t index = (uint32_t)page_block_index(pg, (uintptr_t)block - pg->block_start);
  asan_block_live(block, request, pg->block_size); /* ASan: the request addressable, the tail not */
  atomic_store_explicit(&pg->meta[index], 1u | ((uint32_t)type << META_TYPE_SHIFT),
                        memory_order_release);
  stat_add_u(&h->stats.allocs, 1);
  stat_add_i(&h->stats.bytes_by_type[type], (int64_t)pg->block_size);
  uint32_t state = page_flags(pg);
  if (state & PAGE_COUNTED) _brt_mem_count_alloc(h, pg);
  if (state & PAGE_TRACKED) _brt_mem_track_alloc(h, pg, index, request);
}

/* The bin serving (size, align) from pages, or BIN_COUNT when the request
 * needs a single-block segment. Blocks of a bin are aligned to the lowest
 * set bit of its size (capped at 4096), so an alignment above 16 picks the
 * first bin at least as large whose size is a multiple of the alignment. */
size_t _brt_mem_bin_for(size_t size, size_t align) {
  if (size > MEDIUM_BLOCK_MAX || align > PAGE_ALIGN_MAX) return BIN_COUNT;
  if (align <= MIN_ALIGN) return size_to_bin(size);
  size_t rounded = (size + align - 1) & ~(align - 1);
  if (rounded > MEDIUM_BLOCK_MAX) return BIN_COUNT;
  size_t bin = size_to_bin(rounded);
  while (bin < BIN_COUNT && (_brt_mem_bin_size[bin] & (align - 1)) != 0) bin++;
  return bin;
}

static brt_status check_request(const char *function, size_t size, size_t align) {
  if (size == 0)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: size is 0; request at least 1 byte", function);
  if (align == 0 || (align & (align - 1)) != 0 || align > BRT_ALLOC_ALIGN_MAX)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: align %zu is not a power of two between 1 and %zu", function, align,
                         (size_t)BRT_ALLOC_ALIGN_MAX);
  if (size > BRT_ALLOC_SIZE_MAX)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "%s: size %zu is larger than the largest block, %zu bytes", function,
                         size, (size_t)BRT_ALLOC_SIZE_MAX);
  return BRT_OK;
}

/* Brings the heap up to date with requests made from other threads:
 * configuration changes (tracking, hardened), blocks they QUEUED for a
 * merge of owner-biased counts (release.c) and brt_mem_collect. */
static void heap_housekeeping(heap *h) {
  uint32_t epoch = atomic_load_explicit(&_brt_mem.config_epoch, memory_order_relaxed);
  if (BRT_UNLIKELY(h->config_epoch != epoch)) {
    h->config_epoch = epoch;
    for (segment *s = h->segments; s; s = s->next)
      for (uint32_t i = 0; i < s->page_count; i++)
        if (s->pages[i].in_use) _brt_mem_page_apply_flags(&s->pages[i]);
  }
  if (BRT_UNLIKELY(atomic_load_explicit(&h->merges_pending, memory_order_relaxed)))
    _brt_mem_bias_merge(h, false);
  if (BRT_UNLIKELY(atomic_load_explicit(&h->collect_requested, memory_order_relaxed))) {
    atomic_store_explicit(&h->collect_requested, 0, memory_order_relaxed);
    _brt_mem_heap_collect(h, true);
  }
}

/* Hardened mode: the next pointer of a free block lives in freed memory
 * that a use-after-free write may have damaged. It must be NULL or the
 * start of a block of the same page. */
static bool free_link_valid(const page *pg, const free_block *next) {
  if (!next) return true;
  uintptr_t off = (uintptr_t)next - pg->block_start;
  return page_block_index(pg, off) < pg->blocks;
}

static void *alloc_from_bin(heap *h, size_t bin, size_t size, brt_mem_type type, unsigned flags) {
  page *pg = h->bins[bin].first;
  for (;;) {
    if (!pg || !pg->free) {
      _brt_mem_sync_live_bytes(h);
      _brt_mem_maybe_gc(h);
      pg = _brt_mem_page_acquire(h, bin, size);
      if (!pg) return NULL;
    }
    free_block *block = pg->free;
    if ((page_flags(pg) & PAGE_HARDENED) && !free_link_valid(pg, block->next)) {
      /* Damaged list: drop the rest of it rather than hand out a wild
       * pointer. The dropped blocks were never handed out, so they come
       * back when the page empties and is started again. */
      stat_add_u(&h->stats.errors_use_after_free, 1);
      block->next = NULL;
    }
    pg->free = block->next;
    MEM_CHECK2_LINK(pg, pg->free);
    pg->used++;
    _brt_mem_block_start(h, pg, block, size, type);
    if (flags & BRT_ALLOC_ZERO) block_zero(block, size, pg->block_size);
    return block;
  }
}

static void *alloc_large(heap *h, size_t size, size_t align, brt_mem_type type, unsigned flags) {
  bool recycled;
  segment *s = _brt_mem_large_segment_new(size, align, &recycled);
  if (!s) return NULL;
  MEM_CHECK1_SINGLE(s, size);
  page *pg = &s->pages[0];
  _brt_mem_page_apply_flags(pg);
  _brt_mem_block_start(h, pg, (void *)pg->block_start, size, type);
  /* ASan: the rest of the mapping too, so an overrun past the usable end is seen. */
  asan_poison((char *)pg->block_start + pg->block_size, s->mapping_size - (pg->block_start - (uintptr_t)s) - pg->block_size);
  _brt_mem_sync_live_bytes(h);
  /* Fresh or decommitted memory reads zero; a cached mapping holds the
   * bytes of its last block. */
  if (recycled && (flags & BRT_ALLOC_ZERO)) memset((void *)pg->block_start, 0, size);
  return (void *)pg->block_start;
}

/* The most common ways the fast path misses in steady churn: the current
 * page's free list ran out while the owner has freed blocks into its
 * local list (swapping the lists is all it takes: those frees were counted
 * when they happened), or the page still has never-used blocks to thread.
 * This skips the argument checks, the statistics sync and the page
 * search. Only for a simple request on a page without flags other than
 * tracking (which the fast path handles), with
 * nothing on its thread_free list (collected first, by the full path, so
 * that freed memory is reused before new memory is touched) and with no
 * pending configuration change or collection request, which the full slow
 * path handles. */
static bool refill_page(heap *h, page *pg) {
  /* Tracked and counted pages too: brt_alloc records the block. */
  if ((page_flags(pg) & ~(PAGE_TRACKED | PAGE_COUNTED)) != 0) return false;
  if (h->config_epoch != atomic_load_explicit(&_brt_mem.config_epoch, memory_order_relaxed) ||
      atomic_load_explicit(&h->collect_requested, memory_order_relaxed) ||
      atomic_load_explicit(&h->merges_pending, memory_order_relaxed))
    return false;
  if (pg->local_free) {
    pg->free = pg->local_free;
    pg->local_free = NULL;
    MEM_CHECK2_PAGE_LISTS(pg);
    return true;
  }
  if (atomic_load_explicit(&pg->thread_free, memory_order_relaxed)) return false;
  return _brt_mem_page_extend(pg);
}

/* The slow path's work once the request is valid and the heap exists. */
static void *alloc_in_heap(heap *h, size_t size, size_t align, brt_mem_type type,
                           unsigned flags) {
  heap_housekeeping(h);
  size_t bin = _brt_mem_bin_for(size, align);
  if (BRT_UNLIKELY(h->budget != NULL)) {
    size_t usable = bin < BIN_COUNT ? _brt_mem_bin_size[bin] : (size + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
    if (!_brt_mem_budget_allows(h, usable, size, "brt_alloc")) return NULL;
  }
  if (bin < BIN_COUNT) return alloc_from_bin(h, bin, size, type, flags);
  return alloc_large(h, size, align, type, flags);
}

BRT_COLD void *_brt_mem_alloc_slow(size_t size, size_t align, brt_mem_type type, unsigned flags) {
  if (simple_request(size, align, type, flags)) {
    heap *h = _brt_mem_tls_heap;
    page *pg = h->direct[(size + 15) >> 4];
    if (!pg->free && refill_page(h, pg)) return brt_alloc(size, align, type, flags);
  }
  if (check_request("brt_alloc", size, align) != BRT_OK) return NULL;
  if ((unsigned)type >= BRT_MEM_TYPE_COUNT) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "brt_alloc: type %u is not a brt_mem_type (0..%d)", (unsigned)type,
                  BRT_MEM_TYPE_COUNT - 1);
    return NULL;
  }
  if (type == BRT_MEM_MAPPED) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "brt_alloc: BRT_MEM_MAPPED blocks are made by brt_map_file or brt_map_fd, not "
                  "brt_alloc");
    return NULL;
  }
  if (flags & ~(unsigned)BRT_ALLOC_ZERO) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "brt_alloc: flags 0x%x has unknown bits 0x%x (known: BRT_ALLOC_ZERO)", flags,
                  flags & ~(unsigned)BRT_ALLOC_ZERO);
    return NULL;
  }
  if (type == BRT_MEM_SHARED) return _brt_mem_alloc_shared_block(size, align, size);
  heap *h = _brt_mem_heap_get();
  if (!h) return NULL;
  heap_busy_enter(h);
  void *block = alloc_in_heap(h, size, align, type, flags);
  heap_busy_leave(h);
  return block;
}

/* --- brt_realloc ------------------------------------------------------------------ */

/* A large block's segment spans at least 4 MiB of address space, so it
 * can grow in place up to the end of its mapping: only the commit charge
 * and the statistics change, nothing is copied (Rust's Vec growth).
 * GROWN, NOT_IN_PLACE (the caller moves the block), or REFUSED by a budget
 * (recorded: a move would need even more, so the caller fails). */
typedef enum grow_result { GROWN, NOT_IN_PLACE, REFUSED } grow_result;
static grow_result grow_large_in_place(block_ref *ref, size_t new_size, size_t align,
                                       brt_mem_type type) {
  segment *s = ref->seg;
  page *pg = ref->pg;
  if (s->kind != SEGMENT_LARGE || align > pg->block_align || new_size <= pg->block_size)
    return NOT_IN_PLACE;
  size_t usable = (new_size + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
  size_t offset = pg->block_start - (uintptr_t)s;
  if (usable > s->mapping_size - offset) return NOT_IN_PLACE;
  if ((page_flags(pg) & PAGE_TRACKED) && usable - new_size > UINT16_MAX) return NOT_IN_PLACE;
  heap *h = _brt_mem_heap_get();
  if (!h) return NOT_IN_PLACE;
  size_t growth = usable - pg->block_size;
  if (h->budget && !_brt_mem_budget_allows(h, growth, new_size, "brt_realloc")) return REFUSED;
  /* Over the limit: moving fails too, and records the error. */
  if (!_brt_mem_try_charge(growth)) return NOT_IN_PLACE;
  stat_add_i(&h->stats.bytes_by_type[type], (int64_t)growth);
  pg->block_size = usable; /* still one slot: page_block_index holds for any size */
  if (page_flags(pg) & PAGE_TRACKED) _brt_mem_track_set_requested(pg, ref->index, new_size);
  asan_block_live((void *)pg->block_start, new_size, usable); /* ASan: the new boundary */
  return GROWN;
}

void *brt_realloc(void *p, size_t new_size, size_t align) {
  /* Fast path, a single-reference block of a page: kept when the new size
   * stays in its class (a Vec or String growing within its capacity
   * class), else moved without resolving it again (Vec doubling). */
  bool handled;
  void *fast = _brt_mem_realloc_sole(p, new_size, align, &handled);
  if (BRT_LIKELY(handled)) return fast;
  block_ref ref;
  if (_brt_mem_resolve(p, "brt_realloc", &ref) != BRT_OK) return NULL;
  if (check_request("brt_realloc", new_size, align) != BRT_OK) return NULL;
  uint32_t word; /* the count read whole: a torn one could call a shared block sole */
  int32_t refs = meta_references_now(ref.pg, ref.index, &word);
  brt_mem_type type = (brt_mem_type)((word & META_TYPE_MASK) >> META_TYPE_SHIFT);
  if (refs > 1 || (word & META_SHARED)) {
    brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL,
                  "brt_realloc: the block at %p is shared (refcount %d%s); only a block with a "
                  "single owner can be resized — copy it with brt_map_copy instead",
                  p, (int)refs, (word & META_SHARED) ? ", brt_map_share" : "");
    return NULL;
  }
  if (type == BRT_MEM_SHARED || type == BRT_MEM_MAPPED) {
    brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL,
                  "brt_realloc: the block at %p is %s memory, which cannot be resized", p,
                  type == BRT_MEM_SHARED ? "SHARED (memfd)" : "MAPPED (file)");
    return NULL;
  }
  if (_brt_mem_layout_fits(&ref, new_size, align, false) &&
      (!(page_flags(ref.pg) & PAGE_TRACKED) || _brt_mem_track_set_requested(ref.pg, ref.index, new_size))) {
    asan_block_live(p, new_size, ref.pg->block_size); /* ASan: the new boundary */
    return p;
  }
  grow_result grown = grow_large_in_place(&ref, new_size, align, type);
  if (grown == GROWN) return p;
  if (grown == REFUSED) return NULL;
  void *moved = brt_alloc(new_size, align, type, 0);
  if (!moved) return NULL;
  size_t old_size = _brt_mem_block_requested(&ref);
  old_size = asan_live_bytes(p, old_size); /* ASan: the exact request, even untracked */
  memcpy(moved, p, old_size < new_size ? old_size : new_size);
  brt_release(p);
  return moved;
}

/* --- CppAllocator ------------------------------------------------------------------- */

void *brt_cpp_allocate(size_t size, size_t align) {
  return brt_alloc(size ? size : 1, align, BRT_MEM_CPP_HEAP, 0);
}

brt_status brt_cpp_deallocate(void *p) {
  block_ref ref;
  brt_status status = _brt_mem_resolve(p, "brt_cpp_deallocate", &ref);
  if (status != BRT_OK) return status;
  uint32_t word = atomic_load_explicit(ref.meta, memory_order_relaxed);
  brt_mem_type type = (brt_mem_type)((word & META_TYPE_MASK) >> META_TYPE_SHIFT);
  if (type != BRT_MEM_CPP_HEAP)
    return brt_error_set(BRT_E_TYPE_MISMATCH, BRT_ORIGIN_C, NULL,
                         "brt_cpp_deallocate: the block at %p is tagged %s, not BRT_MEM_CPP_HEAP; "
                         "release it with brt_release", p,
                         type == BRT_MEM_C_HEAP ? "BRT_MEM_C_HEAP"
                         : type == BRT_MEM_RUST_HEAP ? "BRT_MEM_RUST_HEAP"
                         : type == BRT_MEM_SHARED ? "BRT_MEM_SHARED" : "BRT_MEM_MAPPED");
  return brt_release(p);
}
