/* The invariant checks of debug_level 1 and 2 (check.h; docs/memory.md,
 * "Invariants"). Compiled to nothing at level 0. */
#include "internal.h"

#if BRT_DEBUG_LEVEL > 0

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void _brt_mem_check_failed(const char *invariant, const char *file, int line, const char *fmt,
                           ...) {
  /* One write per piece, no allocation: the allocator's own state is what
   * is broken. */
  fprintf(stderr, "bridgert: invariant %s violated at %s:%d: ", invariant, file, line);
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  fflush(stderr);
  abort();
}

#define FAIL_AT(invariant, ...) _brt_mem_check_failed(invariant, file, line, __VA_ARGS__)

void _brt_mem_check_segment(const segment *s, const char *file, int line) {
  if ((uintptr_t)s & SEGMENT_MASK)
    FAIL_AT("segment-map", "segment %p is not aligned to 4 MiB", (const void *)s);
  uint32_t kind = s->kind;
  if (kind == SEGMENT_FREE || kind > SEGMENT_SHARED_ARENA)
    FAIL_AT("segment-map", "segment %p has kind %u (pooled or unknown)", (const void *)s, kind);
  uint32_t want = kind == SEGMENT_SMALL || kind == SEGMENT_SHARED_ARENA ? SMALL_PAGE_SHIFT
                  : kind == SEGMENT_MEDIUM                           ? MEDIUM_PAGE_SHIFT
                                                                      : SEGMENT_SHIFT;
  if (s->page_shift != want)
    FAIL_AT("segment-map", "segment %p of kind %u has page shift %u, expected %u",
            (const void *)s, kind, s->page_shift, want);
  uint32_t pages = kind <= SEGMENT_MEDIUM || kind == SEGMENT_SHARED_ARENA
                       ? (uint32_t)(SEGMENT_SIZE >> want)
                       : 1u;
  if (s->page_count != pages || s->used_pages > pages)
    FAIL_AT("segment-map", "segment %p of kind %u has %u pages (%u used), expected %u",
            (const void *)s, kind, s->page_count, s->used_pages, pages);
  if (s->header_size == 0 || s->header_size > s->mapping_size)
    FAIL_AT("segment-map", "segment %p: header of %zu bytes in a mapping of %zu",
            (const void *)s, s->header_size, s->mapping_size);
}

void _brt_mem_check_page_layout(const page *pg, const char *file, int line) {
  const segment *s = segment_of((uintptr_t)pg);
  uintptr_t base = (uintptr_t)s;
  uint32_t index = (uint32_t)(pg - s->pages);
  uintptr_t end = base + ((uintptr_t)(index + 1) << s->page_shift);
  uintptr_t meta = (uintptr_t)pg->meta;
  if (!pg->in_use || pg->blocks != pg->capacity || pg->extended > pg->capacity ||
      pg->capacity == 0)
    FAIL_AT("block-layout", "page %p: in_use %u, blocks %llu, capacity %u, extended %u",
            (const void *)pg, pg->in_use, (unsigned long long)pg->blocks, pg->capacity,
            pg->extended);
  if (pg->block_size != _brt_mem_bin_size[pg->bin] || (pg->block_start & (pg->block_align - 1)) ||
      (pg->block_size & (pg->block_align - 1)))
    FAIL_AT("block-layout", "page %p: bin %u, block size %zu, start %p, align %zu",
            (const void *)pg, pg->bin, pg->block_size, (void *)pg->block_start, pg->block_align);
  if (pg->block_start + pg->capacity * pg->block_size > end)
    FAIL_AT("block-layout", "page %p: %u blocks of %zu bytes from %p pass the page end %p",
            (const void *)pg, pg->capacity, pg->block_size, (void *)pg->block_start, (void *)end);
  if (s->kind != SEGMENT_SHARED_ARENA &&
      (meta - pg->capacity < base + (index == 0 ? s->header_size : (uintptr_t)index << s->page_shift) ||
       meta + pg->capacity * sizeof(uint32_t) > pg->block_start))
    FAIL_AT("block-layout", "page %p: owner bytes and side array [%p, %p) overlap the header "
            "or the blocks at %p", (const void *)pg, (void *)(meta - pg->capacity),
            (void *)(meta + pg->capacity * sizeof(uint32_t)), (void *)pg->block_start);
  uint64_t last = pg->capacity - 1;
  if (page_block_index(pg, last * pg->block_size) != last ||
      page_block_index(pg, last * pg->block_size + 1) < pg->blocks)
    FAIL_AT("block-layout", "page %p: the block index of a %zu-byte class is wrong",
            (const void *)pg, pg->block_size);
}

void _brt_mem_check_page_empty(const page *pg, const char *file, int line) {
  if (pg->used != 0 || atomic_load_explicit(&((page *)pg)->thread_free, memory_order_relaxed))
    FAIL_AT("page-used", "page %p goes back to its segment with %u blocks handed out, "
            "thread_free %p", (const void *)pg, pg->used,
            (void *)atomic_load_explicit(&((page *)pg)->thread_free, memory_order_relaxed));
}

void _brt_mem_check_single(const segment *s, size_t len, const char *file, int line) {
  _brt_mem_check_segment(s, file, line);
  const page *pg = &s->pages[0];
  uintptr_t end = (uintptr_t)s + s->mapping_size;
  if (s->kind < SEGMENT_LARGE || s->kind > SEGMENT_MAPPED || pg->blocks != 1 || !pg->in_use ||
      pg->block_size < len || pg->block_start < (uintptr_t)s + s->header_size ||
      pg->block_start + len > end || (pg->block_start & (pg->block_align - 1)))
    FAIL_AT("block-layout", "single-block segment %p (kind %u, mapping %zu bytes): block of %zu "
            "bytes (%zu asked) at %p, aligned to %zu, %llu slots", (const void *)s, s->kind,
            s->mapping_size, pg->block_size, len, (void *)pg->block_start, pg->block_align,
            (unsigned long long)pg->blocks);
}

extern page _brt_mem_empty_page;

void _brt_mem_check_budget(const heap *h, const char *file, int line) {
  if (h != _brt_mem_tls_heap)
    FAIL_AT("budget", "heap %p checks a budget of thread heap %p", (const void *)h,
            (const void *)_brt_mem_tls_heap);
  for (size_t i = 0; i < DIRECT_SLOTS; i++)
    if (h->direct[i] != &_brt_mem_empty_page)
      FAIL_AT("budget", "heap %p has an active budget but direct slot %zu points to page %p",
              (const void *)h, i, (const void *)h->direct[i]);
}

#if BRT_DEBUG_LEVEL >= 2

/* Walks one owner list of pg; returns its length. */
static uint32_t walk_list(const page *pg, const free_block *b, const char *name, const char *file,
                          int line) {
  uint32_t n = 0;
  for (; b; b = b->next) {
    if (++n > pg->extended)
      FAIL_AT("free-list", "page %p: %s has more than the page's %u threaded blocks (a cycle)",
              (const void *)pg, name, pg->extended);
    uint64_t index = page_block_index(pg, (uintptr_t)b - pg->block_start);
    if (index >= pg->extended)
      FAIL_AT("free-list", "page %p: %s entry %u is %p, not one of its %u threaded slots of "
              "%zu bytes from %p", (const void *)pg, name, n, (const void *)b, pg->extended,
              pg->block_size, (void *)pg->block_start);
    uint32_t word = atomic_load_explicit(&pg->meta[index], memory_order_relaxed);
    if (word != 0 && (word & (META_FREED | META_QUARANTINED)) != META_FREED)
      FAIL_AT("free-list", "page %p: %s entry %u (%p, slot %llu) has metadata word 0x%08x, not "
              "a free slot", (const void *)pg, name, n, (const void *)b, (unsigned long long)index,
              word);
  }
  return n;
}

void _brt_mem_check_page_lists(const page *pg, const char *file, int line) {
  if (!pg->in_use || pg->blocks == 0) return; /* the empty page of unused direct slots */
  uint32_t nfree = walk_list(pg, pg->free, "free", file, line);
  uint32_t nlocal = walk_list(pg, pg->local_free, "local_free", file, line);
  /* Hardened mode drops a damaged list and counts it (its blocks come
   * back when the page restarts), so only its entries are checked. */
  if (page_flags(pg) & PAGE_HARDENED) return;
  if ((uint32_t)pg->used + nfree + nlocal != pg->extended)
    FAIL_AT("page-used", "page %p: used %u + free %u + local_free %u != %u threaded blocks",
            (const void *)pg, pg->used, nfree, nlocal, pg->extended);
}

void _brt_mem_check_block_handout(const page *pg, const void *block, const char *file, int line) {
  uint64_t index = page_block_index(pg, (uintptr_t)block - pg->block_start);
  if (index >= pg->blocks)
    FAIL_AT("free-list", "page %p hands out %p, not a slot of its %llu blocks of %zu bytes",
            (const void *)pg, block, (unsigned long long)pg->blocks, pg->block_size);
  uint32_t word = atomic_load_explicit(&pg->meta[index], memory_order_relaxed);
  if (word != 0 && (word & (META_FREED | META_QUARANTINED)) != META_FREED)
    FAIL_AT("meta-word", "page %p hands out %p (slot %llu) whose metadata word is 0x%08x, not "
            "a free slot", (const void *)pg, block, (unsigned long long)index, word);
  uint32_t kind = segment_of((uintptr_t)pg)->kind;
  if ((kind == SEGMENT_SMALL || kind == SEGMENT_MEDIUM) &&
      atomic_load_explicit(bias_of(pg, index), memory_order_relaxed) != 0)
    FAIL_AT("meta-word", "page %p hands out %p (slot %llu) whose owner byte is %u, not 0",
            (const void *)pg, block, (unsigned long long)index,
            (unsigned)atomic_load_explicit(bias_of(pg, index), memory_order_relaxed));
}

void _brt_mem_check_link(const page *pg, const free_block *next, const char *file, int line) {
  if (next && page_block_index(pg, (uintptr_t)next - pg->block_start) >= pg->extended)
    FAIL_AT("free-list", "page %p: free-list link %p is not one of its %u threaded slots of %zu "
            "bytes from %p", (const void *)pg, (const void *)next, pg->extended, pg->block_size,
            (void *)pg->block_start);
}

void _brt_mem_check_live_word(const page *pg, size_t index, uint32_t word, const char *file,
                              int line) {
  const segment *s = segment_of((uintptr_t)pg);
  bool thread_page = s->kind == SEGMENT_SMALL || s->kind == SEGMENT_MEDIUM;
  int32_t count = meta_count(word);
  if (!(word & META_BIASED)) {
    if (count < 1 || count > (int32_t)BRT_REFCOUNT_MAX || (word & META_QUEUED))
      FAIL_AT("refcount-range", "block slot %zu of page %p: word 0x%08x, count %d outside 1..%u "
              "or QUEUED without BIASED", index, (const void *)pg, word, (int)count,
              (unsigned)BRT_REFCOUNT_MAX);
    if (thread_page && segment_is_mine(s) &&
        atomic_load_explicit(bias_of(pg, index), memory_order_relaxed) != 0)
      FAIL_AT("meta-word", "block slot %zu of page %p: owner byte %u with a word (0x%08x) that "
              "is not BIASED", index, (const void *)pg,
              (unsigned)atomic_load_explicit(bias_of(pg, index), memory_order_relaxed), word);
    return;
  }
  if (!thread_page)
    FAIL_AT("meta-word", "block slot %zu of page %p (segment kind %u, no owner bytes) is BIASED: "
            "0x%08x", index, (const void *)pg, s->kind, word);
  if (count <= -(int32_t)BRT_REFCOUNT_MAX || count > (int32_t)BRT_REFCOUNT_MAX)
    FAIL_AT("refcount-range", "block slot %zu of page %p: BIASED count %d outside +-%u",
            index, (const void *)pg, (int)count, (unsigned)BRT_REFCOUNT_MAX);
}

#endif /* BRT_DEBUG_LEVEL >= 2 */

#else
/* Level 0: nothing here (ISO C wants a declaration in every file). */
typedef int brt_mem_check_level0;
#endif /* BRT_DEBUG_LEVEL > 0 */
