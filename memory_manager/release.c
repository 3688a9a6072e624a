/* Retain, release, layout checks, ownership and block information; the
 * validation that turns every bad pointer into a status; the hardened
 * quarantine. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#define POISON_BYTE 0xDB
_Static_assert(BIAS_MAX == UINT8_MAX, "brt_retain tests the owner byte by its carry");

static const char *const type_names[] = {"C_HEAP", "RUST_HEAP", "CPP_HEAP", "SHARED", "MAPPED",
                                         "?", "?", "?"};

BRT_INLINE brt_mem_type word_type(uint32_t word) {
  return (brt_mem_type)((word & META_TYPE_MASK) >> META_TYPE_SHIFT);
}

/* Finds the metadata word of the block starting at a, reading only our own
 * memory: the segment map first, then the segment header. False when a is
 * not the start of a block slot of an active page. The one lookup of every
 * fast path (inline: the callers compile to what they did when each spelled
 * it out). */
BRT_INLINE bool block_lookup(uintptr_t a, page **out_page, size_t *out_index) {
  page *pg = page_of(a);
  if (!pg) return false;
  MEM_CHECK2(segment_of(a)->kind != SEGMENT_FREE &&
                 segment_of(a)->page_shift == segment_map_shift(a) &&
                 (size_t)(pg - segment_of(a)->pages) < segment_of(a)->page_count,
             "segment-map", "the map byte %u of %p names segment %p of kind %u, page shift %u, "
             "%u pages", segment_map_shift(a), (void *)a, (void *)segment_of(a),
             segment_of(a)->kind, segment_of(a)->page_shift, segment_of(a)->page_count);
  uint64_t index = page_block_index(pg, a - pg->block_start);
  *out_page = pg;
  *out_index = index; /* a slot index when true: below the page's block count */
  return index < pg->blocks;
}

static heap_stats *error_stats(void) {
  heap *h = _brt_mem_heap_get();
  return h ? &h->stats : NULL;
}

static brt_status invalid_pointer(const char *function, const void *p, const char *why) {
  heap_stats *st = error_stats();
  if (st) stat_add_u(&st->errors_invalid_pointer, 1);
  return brt_error_set(BRT_E_INVALID_POINTER, BRT_ORIGIN_C, NULL, "%s: %p %s", function, p, why);
}

/* Resolves p to a live block, or records why it is not one. */
brt_status _brt_mem_resolve(const void *p, const char *function, block_ref *ref) {
  _brt_mem_init();
  uintptr_t a = (uintptr_t)p;
  if (!p) return invalid_pointer(function, p, "is NULL; expected a block from brt_alloc");
  segment *s;
  uintptr_t page_index = 0;
  if (segment_map_shift(a)) {
    s = segment_of(a);
    page_index = (a - (uintptr_t)s) >> s->page_shift;
  } else if (!(s = _brt_mem_high_aligned_segment(a))) { /* a block aligned to 4 MiB or more */
    return invalid_pointer(function, p,
                           "was not allocated by bridgert (it is in no bridgert segment: a "
                           "malloc, stack, static or unmapped address)");
  }
  page *pg = &s->pages[page_index];
  if (page_index >= s->page_count || !pg->in_use || a < pg->block_start ||
      a - pg->block_start >= page_span(pg))
    return invalid_pointer(function, p,
                           "points into a bridgert segment but not at a block (segment header, "
                           "metadata or an unused page)");
  uintptr_t off = a - pg->block_start;
  uint64_t index64 = page_block_index(pg, off);
  if (index64 >= pg->blocks) {
    char why[160];
    snprintf(why, sizeof why, "is an interior pointer, %zu bytes into the %zu-byte block at %p",
             (size_t)(off % pg->block_size), pg->block_size,
             (void *)(pg->block_start + off - off % pg->block_size));
    return invalid_pointer(function, p, why);
  }
  uint32_t index = (uint32_t)index64;
  uint32_t word;
  int32_t refs = meta_references_now(pg, index, &word);
  /* Freed, or BIASED with no reference left (freed at its owner's merge).
   * The count is read whole: a holder must never find its block freed. */
  if (!meta_live(word) || refs <= 0) {
    if (word != 0) {
      heap_stats *st = error_stats();
      if (st) stat_add_u(&st->errors_double_free, 1);
      return brt_error_set(BRT_E_DOUBLE_FREE, BRT_ORIGIN_C, NULL,
                           "%s: the %s block at %p was already freed (double free or use after "
                           "free)", function, type_names[word_type(word)], p);
    }
    return invalid_pointer(function, p, "is a block slot that was never allocated");
  }
  ref->seg = s;
  ref->pg = pg;
  ref->index = index;
  ref->meta = &pg->meta[index];
  return BRT_OK;
}

size_t _brt_mem_block_requested(const block_ref *ref) {
  const page *pg = ref->pg;
  if ((page_flags(pg) & PAGE_TRACKED) && pg->track[ref->index].id)
    return pg->block_size - pg->track[ref->index].slack;
  return pg->block_size;
}

/* --- Freeing ------------------------------------------------------------------- */

/* Returns a block to its page: the owner's local list, or the page's
 * atomic thread_free list when another heap (or nobody) owns the page. */
static void page_free_block(heap *h, segment *s, page *pg, void *block) {
  free_block *b = block;
  if (atomic_load_explicit(&s->owner, memory_order_relaxed) == h) {
    b->next = pg->local_free;
    pg->local_free = b;
    if (--pg->used == 0) _brt_mem_page_retire(h, pg);
    else if (page_flags(pg) & PAGE_IN_FULL) _brt_mem_page_unfull(h, pg);
    return;
  }
  free_block *head = atomic_load_explicit(&pg->thread_free, memory_order_relaxed);
  do {
    b->next = head;
  } while (!atomic_compare_exchange_weak_explicit(&pg->thread_free, &head, b, memory_order_release,
                                                  memory_order_relaxed));
}

static void quarantine_evict(heap *h, void *block) {
  page *pg;
  size_t index;
  if (!block_lookup((uintptr_t)block, &pg, &index)) return;
  size_t poisoned = pg->block_size;
  asan_unpoison(block, poisoned); /* ASan: the check below reads the freed bytes */
  const unsigned char *bytes = block;
  for (size_t i = sizeof(free_block); i < poisoned; i++) {
    if (bytes[i] != POISON_BYTE) {
      stat_add_u(&h->stats.errors_use_after_free, 1);
      break;
    }
  }
  uint32_t word = atomic_load_explicit(&pg->meta[index], memory_order_relaxed);
  atomic_store_explicit(&pg->meta[index], word & ~META_QUARANTINED, memory_order_relaxed);
  asan_block_free(block, poisoned);
  /* A shared arena block quarantined before fork(), evicted in the child:
   * the parent owns its reuse, so no link is written into it (shared.c). */
  if (BRT_UNLIKELY(page_flags(pg) & PAGE_DETACHED)) return;
  page_free_block(h, segment_of((uintptr_t)block), pg, block);
}

/* Hardened mode: a freed block waits in a FIFO of QUARANTINE_SLOTS blocks,
 * poisoned, before it can be reused, so a double free stays detectable for
 * that many more frees and a write after free is noticed on the way out. */
static void quarantine_push(heap *h, void *block, size_t size) {
  asan_unpoison(block, size); /* ASan: the live block's tail is poisoned */
  memset((char *)block + sizeof(free_block), POISON_BYTE, size - sizeof(free_block));
  asan_block_free(block, size);
  if (h->quarantine_count == QUARANTINE_SLOTS) {
    void *oldest = h->quarantine[h->quarantine_head];
    h->quarantine[h->quarantine_head] = block;
    h->quarantine_head = (h->quarantine_head + 1) % QUARANTINE_SLOTS;
    quarantine_evict(h, oldest);
    return;
  }
  h->quarantine[(h->quarantine_head + h->quarantine_count) % QUARANTINE_SLOTS] = block;
  h->quarantine_count++;
}

void _brt_mem_quarantine_flush(heap *h) {
  while (h->quarantine_count) {
    void *oldest = h->quarantine[h->quarantine_head];
    h->quarantine_head = (h->quarantine_head + 1) % QUARANTINE_SLOTS;
    h->quarantine_count--;
    quarantine_evict(h, oldest);
  }
}

/* The last reference is gone (`word` was the metadata word with count 1):
 * mark the block freed and give it back. */
static void free_block_body(heap *h, block_ref *ref, uint32_t word) {
  page *pg = ref->pg;
  /* A BIASED word is freed by its owner only, with its byte at 0. */
  MEM_CHECK2((word & (META_FREED | META_COUNT_MASK)) == 1 &&
                 (!(word & META_BIASED) ||
                  atomic_load_explicit(bias_of(pg, ref->index), memory_order_relaxed) == 0),
             "meta-word", "freeing block slot %u of page %p with word 0x%08x (not a sole "
             "reference)", ref->index, (void *)pg, word);
  brt_mem_type type = word_type(word);
  stat_add_u(&h->stats.frees, 1);
  stat_add_i(&h->stats.bytes_by_type[type], -(int64_t)pg->block_size);
  if (word & META_SHARED) stat_add_i(&h->stats.active_shares, -1);
  void *block = (void *)(pg->block_start + (uintptr_t)ref->index * pg->block_size);
  if (ref->seg->page_count == 1) {
    atomic_store_explicit(ref->meta, (word & META_TYPE_MASK) | META_FREED, memory_order_relaxed);
    if (type == BRT_MEM_MAPPED) atomic_fetch_sub(&_brt_mem.mapped_files, 1);
    _brt_mem_single_segment_free(ref->seg);
    return;
  }
  if (BRT_UNLIKELY(page_flags(pg) & PAGE_DETACHED)) { /* shared.c: after fork, in the child */
    atomic_store_explicit(ref->meta, (word & META_TYPE_MASK) | META_FREED, memory_order_relaxed);
    return;
  }
  if (page_flags(pg) & PAGE_HARDENED) {
    atomic_store_explicit(ref->meta, (word & META_TYPE_MASK) | META_FREED | META_QUARANTINED,
                          memory_order_relaxed);
    quarantine_push(h, block, pg->block_size);
    return;
  }
  atomic_store_explicit(ref->meta, (word & META_TYPE_MASK) | META_FREED, memory_order_relaxed);
  asan_block_free(block, pg->block_size); /* ASan: before another thread can see it */
  page_free_block(h, ref->seg, pg, block);
}

void _brt_mem_free_block(heap *h, block_ref *ref, uint32_t word) {
  heap_busy_enter(h);
  free_block_body(h, ref, word);
  heap_busy_leave(h);
}

/* --- Owner-biased reference counts ------------------------------------------
 * The design, its states and its cost: docs/memory.md, "Owner-biased
 * counts". Why: a locked read-modify-write per retain and release is too
 * slow for alloc.retain_release, so the owner of a block's page counts the
 * references it adds in its own byte (bias_of), with plain loads and
 * stores, and only other threads change the word (compare-exchange). What
 * the code below relies on:
 *  - a block's references are count + owner byte while its word is BIASED
 *    (the count is then a signed 24-bit number); the byte is 0 whenever
 *    the word is not BIASED;
 *  - only the owner writes its byte, sets or clears BIASED and frees a
 *    BIASED block; it merges (folds the byte into the count) at its next
 *    slow path, statistics read, brt_mem_collect, exit, or at once when its
 *    own release leaves no reference;
 *  - another thread whose release takes a BIASED count to 0 or below sets
 *    QUEUED and then the owner heap's merges_pending. It reads the owner
 *    before its compare-exchange, while its own reference keeps the segment
 *    alive; after it, the block and the segment may be gone. Heap structs
 *    are never unmapped, so a late flag costs one useless walk;
 *  - a thread merges all its BIASED blocks before its segments are
 *    abandoned, so an adopted page never carries another thread's bytes;
 *  - the word and the byte are two locations, and a merge changes the word
 *    and then the byte, so a count that another thread acts on (a holder
 *    validating its block, brt_realloc deciding "sole", brt_owns, a
 *    visit) is read with meta_references_now, which reads the word again
 *    after the byte; a plain meta_references only routes to a path that
 *    does. */

/* Owner only: folds the byte of block `index` into its word. Returns the
 * block's references; at 0 (or below, an over-release detected late, which
 * counts as a double free) the word is left as a plain count of 1 that the
 * caller frees as the sole reference, in *word. */
static int32_t bias_fold(heap *h, page *pg, uint32_t index, uint32_t *word) {
  _Atomic uint32_t *meta = &pg->meta[index];
  _Atomic uint8_t *bp = bias_of(pg, index);
  int32_t b = atomic_load_explicit(bp, memory_order_relaxed);
  uint32_t old = atomic_load_explicit(meta, memory_order_acquire), next;
  int32_t refs;
  do {
    if (!(old & META_BIASED)) { /* merged already */
      *word = old;
      return meta_count(old);
    }
    refs = meta_count(old) + b;
    next = meta_with_count(old & ~(META_BIASED | META_QUEUED), refs > 0 ? refs : 1);
  } while (!atomic_compare_exchange_weak_explicit(meta, &old, next, memory_order_acq_rel,
                                                  memory_order_acquire));
  /* Between the two stores the byte's references are in the word and the
   * byte: a reader that takes the word from before and the byte from after
   * sees too few (meta_references_now reads the word again). */
  atomic_store_explicit(bp, 0, memory_order_release);
  if (refs < 0) stat_add_u(&h->stats.errors_double_free, 1);
  *word = next;
  return refs;
}

/* The owner's release of a BIASED block: from its byte while it has one,
 * else from the word. */
static brt_status release_owner_biased(heap *h, const void *p, block_ref *ref, uint32_t word,
                                       const char *function) {
  _Atomic uint8_t *bp = bias_of(ref->pg, ref->index);
  int32_t b = atomic_load_explicit(bp, memory_order_relaxed);
  if (b > 0) {
    atomic_store_explicit(bp, (uint8_t)(b - 1), memory_order_release);
    if (meta_count(word) + b - 1 > 0) return BRT_OK;
    /* Other threads released what is in the word: none left. */
    if (bias_fold(h, ref->pg, ref->index, &word) <= 0) _brt_mem_free_block(h, ref, word);
    return BRT_OK;
  }
  for (;;) {
    int32_t count = meta_count(word);
    if (count <= 0) {
      /* Nothing left: a release too many. Merge (which frees it) and report. */
      if (bias_fold(h, ref->pg, ref->index, &word) <= 0) _brt_mem_free_block(h, ref, word);
      return _brt_mem_resolve(p, function, ref);
    }
    if (count == 1) { /* the caller's was the last reference */
      _brt_mem_free_block(h, ref, word);
      return BRT_OK;
    }
    /* A failure acquires: the count it reads may be another holder's
     * last-but-one release, after which ours is the last and frees. */
    if (atomic_compare_exchange_weak_explicit(ref->meta, &word, meta_with_count(word, count - 1),
                                              memory_order_acq_rel, memory_order_acquire))
      return BRT_OK;
  }
}

/* Drops one reference of a validated block slot (meta, with `word` read
 * from it) on behalf of heap h, whatever the block's state: a count of 1
 * is dropped with a plain store (the caller holds the only reference:
 * docs/design.md); higher counts pay for a compare-exchange (not a
 * fetch_sub: the owner may bias the word meanwhile, and a BIASED count may
 * be 0, where a decrement would borrow from the flags), and the thread
 * whose change took the count from 1 to 0 frees. */
static BRT_NOINLINE brt_status release_general(heap *h, const void *p, page *pg,
                                               _Atomic uint32_t *meta, uint32_t word,
                                               const char *function) {
  /* The descriptor lives in its segment's header (p may not: a block
   * aligned to 4 MiB or more starts the slot after its header's). */
  segment *s = segment_of((uintptr_t)pg);
  block_ref ref = {.seg = s, .pg = pg, .index = (uint32_t)(meta - pg->meta), .meta = meta};
  for (;;) {
    if (!meta_live(word) || meta_references(pg, ref.index, word) <= 0) {
      brt_status status = _brt_mem_resolve(p, function, &ref);
      if (status != BRT_OK) return status;
      word = atomic_load_explicit(meta, memory_order_acquire); /* changed meanwhile */
      continue;
    }
    MEM_CHECK2_LIVE_WORD(pg, ref.index, word);
    if (word & META_BIASED) {
      heap *owner = atomic_load_explicit(&s->owner, memory_order_relaxed);
      if (owner == h) return release_owner_biased(h, p, &ref, word, function);
      int32_t count = meta_count(word) - 1;
      uint32_t next = meta_with_count(word, count);
      bool queue = count <= 0 && !(word & META_QUEUED);
      if (queue) next |= META_QUEUED;
      if (!atomic_compare_exchange_weak_explicit(meta, &word, next, memory_order_acq_rel,
                                                 memory_order_acquire))
        continue;
      /* From here the block may be freed: only the heap is touched. */
      if (queue && owner) atomic_store_explicit(&owner->merges_pending, 1, memory_order_release);
      return BRT_OK;
    }
    if ((word & (META_COUNT_MASK | META_SHARED)) == 1) {
      _brt_mem_free_block(h, &ref, word);
      return BRT_OK;
    }
    if (atomic_compare_exchange_weak_explicit(meta, &word, word - 1, memory_order_acq_rel,
                                              memory_order_acquire)) {
      if ((word & META_COUNT_MASK) == 1) _brt_mem_free_block(h, &ref, word);
      return BRT_OK;
    }
  }
}

/* Owner only (h): merges the QUEUED blocks (or, `all`, every BIASED block)
 * of the pages where it biased blocks; a page found with no BIASED block
 * left is not walked again until the owner biases one there. Blocks left
 * without references are freed after the walk, since a free may retire a
 * page and its segment, which another thread may take at once; a full
 * batch ends the walk early, and the walk starts again after the frees. */
#define MERGE_BATCH 64
static void bias_merge_body(heap *h, bool all) {
  if (!all && !atomic_exchange_explicit(&h->merges_pending, 0, memory_order_acquire)) return;
  bool again;
  do {
    block_ref dead[MERGE_BATCH];
    uint32_t dead_words[MERGE_BATCH];
    unsigned n = 0;
    again = false;
    for (segment *s = h->segments; s && !again; s = s->next) {
      for (uint32_t i = 0; i < s->page_count && !again; i++) {
        page *pg = &s->pages[i];
        if (!pg->in_use || !pg->biased) continue;
        uint32_t want = all ? META_BIASED : META_BIASED | META_QUEUED;
        bool biased_left = false;
        for (uint32_t k = 0; k < pg->extended; k++) {
          uint32_t word = atomic_load_explicit(&pg->meta[k], memory_order_relaxed);
          if ((word & want) != want) {
            biased_left |= (word & META_BIASED) != 0;
            continue;
          }
          if (n == MERGE_BATCH) { /* this page again on the next walk */
            again = biased_left = true;
            break;
          }
          if (bias_fold(h, pg, k, &word) > 0) continue;
          dead[n] = (block_ref){.seg = s, .pg = pg, .index = k, .meta = &pg->meta[k]};
          dead_words[n++] = word;
        }
        pg->biased = biased_left;
      }
    }
    for (unsigned k = 0; k < n; k++) _brt_mem_free_block(h, &dead[k], dead_words[k]);
  } while (again);
}

void _brt_mem_bias_merge(heap *h, bool all) {
  heap_busy_enter(h);
  bias_merge_body(h, all);
  heap_busy_leave(h);
}

static brt_status release_ref(block_ref *ref, const char *function, const void *p) {
  heap *h = _brt_mem_heap_get();
  if (!h) return BRT_E_OUT_OF_MEMORY;
  return release_general(h, p, ref->pg, ref->meta,
                         atomic_load_explicit(ref->meta, memory_order_acquire), function);
}

BRT_NOINLINE brt_status _brt_mem_release_slow(const void *p, const char *function) {
  block_ref ref;
  brt_status status = _brt_mem_resolve(p, function, &ref);
  if (status != BRT_OK) return status;
  return release_ref(&ref, function, p);
}

brt_status _brt_mem_retain_word(const void *p, const block_ref *ref, uint32_t flags,
                                const char *function, uint32_t *old) {
  uint32_t word = atomic_load_explicit(ref->meta, memory_order_relaxed);
  for (;;) {
    int32_t refs = meta_live(word) ? meta_references(ref->pg, ref->index, word) : 0;
    if (refs <= 0) {
      block_ref again;
      brt_status status = _brt_mem_resolve(p, function, &again);
      if (status != BRT_OK) return status;
      word = atomic_load_explicit(ref->meta, memory_order_relaxed); /* changed meanwhile */
      continue;
    }
    MEM_CHECK2_LIVE_WORD(ref->pg, ref->index, word);
    if ((uint32_t)refs >= BRT_REFCOUNT_MAX)
      return brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                           "%s: the block at %p already has BRT_REFCOUNT_MAX (%u) references; "
                           "the count is left unchanged", function, p,
                           (unsigned)BRT_REFCOUNT_MAX);
    uint32_t next = meta_with_count(word, meta_count(word) + 1) | flags;
    if (atomic_compare_exchange_weak_explicit(ref->meta, &word, next, memory_order_relaxed,
                                              memory_order_relaxed)) {
      *old = word;
      return BRT_OK;
    }
  }
}

/* brt_retain of a pointer the lookup did not find: resolving it records
 * why, or finds a block the lookup cannot (one aligned to 4 MiB or more)
 * or a page started meanwhile, which is retained in its word. */
static BRT_NOINLINE brt_status retain_invalid(const void *p) {
  block_ref ref;
  brt_status status = _brt_mem_resolve(p, "brt_retain", &ref);
  uint32_t old;
  return status != BRT_OK ? status : _brt_mem_retain_word(p, &ref, 0, "brt_retain", &old);
}

/* brt_retain off its fast path: the owner's first retain of a block (which
 * biases it), its byte full or the word's count out of the fast path's
 * range; another thread's retain; and every error. It looks the validated
 * block up again rather than take the page, index and word from
 * brt_retain, which then keeps fewer values alive (a shorter fast path). */
static BRT_NOINLINE brt_status retain_general(const void *p) {
  page *pg;
  size_t index;
  if (!block_lookup((uintptr_t)p, &pg, &index)) return retain_invalid(p);
  uint32_t word = atomic_load_explicit(&pg->meta[index], memory_order_relaxed);
  segment *s = segment_of((uintptr_t)p);
  heap *h = _brt_mem_tls_heap;
  block_ref ref = {.seg = s, .pg = pg, .index = (uint32_t)index, .meta = &pg->meta[index]};
  if (h != &_brt_mem_empty_heap && atomic_load_explicit(&s->owner, memory_order_relaxed) == h) {
    _Atomic uint8_t *bp = bias_of(pg, index);
    while (meta_live(word)) {
      int32_t b = (word & META_BIASED) ? atomic_load_explicit(bp, memory_order_relaxed) : 0;
      int32_t refs = meta_count(word) + b;
      if (refs <= 0 || (uint32_t)refs >= BRT_REFCOUNT_MAX) break; /* errors, below */
      MEM_CHECK2_LIVE_WORD(pg, index, word);
      if (word & META_BIASED) {
        if (b < BIAS_MAX) {
          atomic_store_explicit(bp, (uint8_t)(b + 1), memory_order_relaxed);
          return BRT_OK;
        }
        if (atomic_compare_exchange_weak_explicit(ref.meta, &word,
                                                  meta_with_count(word, meta_count(word) + 1),
                                                  memory_order_relaxed, memory_order_relaxed))
          return BRT_OK;
        continue;
      }
      if (atomic_compare_exchange_weak_explicit(ref.meta, &word, word | META_BIASED,
                                                memory_order_relaxed, memory_order_relaxed)) {
        atomic_store_explicit(bp, 1, memory_order_relaxed);
        pg->biased = 1;
        return BRT_OK;
      }
    }
  }
  uint32_t old;
  return _brt_mem_retain_word(p, &ref, 0, "brt_retain", &old);
}

/* brt_release off its fast path, for a block slot the caller validated (p
 * is the start of a block of an active page): every state the fast path
 * does not take (other references, BIASED beyond the owner's byte, a
 * shared block, a page that is hardened, single-block or parked in our
 * full list) goes to release_general; a release from a thread that has no
 * heap yet goes to the slow path, which validates again. Out of line, so
 * that brt_release itself needs no stack frame. */
static BRT_NOINLINE brt_status release_flagged(const void *p, _Atomic uint32_t *meta,
                                               uint32_t word) {
  heap *h = _brt_mem_tls_heap;
  segment *s = segment_of((uintptr_t)p);
  /* p was validated: its segment header is live and gives the page. */
  page *pg = &s->pages[((uintptr_t)p & SEGMENT_MASK) >> s->page_shift];
  if (h == &_brt_mem_empty_heap) return _brt_mem_release_slow(p, "brt_release");
  return release_general(h, p, pg, meta, word, "brt_release");
}

/* brt_release after the lookup: p is the start of a block slot of pg
 * whose metadata word (`word`, read with acquire) is at meta. Shared by
 * brt_release and brt_release_sized, so Rust's dealloc looks the block up
 * once. Counted and tracked pages need nothing here: a tracking record is
 * rewritten at the slot's next allocation, and what is live per class is
 * counted when it is read. */
BRT_INLINE brt_status release_located(const void *p, page *pg, size_t index,
                                      _Atomic uint32_t *meta, uint32_t word) {
  segment *s = segment_of((uintptr_t)p);
  /* Other references, BIASED or a shared block: first. The owner giving
   * back a reference counted in its byte, the word holding 1..MAX more (so
   * none of them is the last), is a load and a plain store whatever the
   * page's state (alloc.retain_release), done here where the page and the
   * index are still in registers; everything else is out of line. */
  if (BRT_UNLIKELY(!meta_sole(word))) {
    /* BIASED with a count of 1..MAX in the word: one subtraction and one
     * comparison (without BIASED the difference wraps far above MAX). A
     * byte at 0 borrows, which the subtraction's flag tells. */
    if (((word & (META_BIASED | META_COUNT_MASK)) - (META_BIASED + 1) < BRT_REFCOUNT_MAX) &
        segment_is_mine(s)) {
      _Atomic uint8_t *bp = bias_of(pg, index);
      uint8_t left;
      if (BRT_LIKELY(!__builtin_sub_overflow(atomic_load_explicit(bp, memory_order_relaxed),
                                             (uint8_t)1, &left))) {
        atomic_store_explicit(bp, left, memory_order_release);
        return BRT_OK;
      }
    }
    return release_flagged(p, meta, word);
  }
  MEM_CHECK2_LIVE_WORD(pg, index, word);
  free_block *b = (free_block *)p;
  uint32_t state = page_flags(pg);
  heap *h = _brt_mem_tls_heap; /* for the statistics */
  if (BRT_LIKELY(segment_is_mine(s))) {
    if (BRT_UNLIKELY((state & ~(PAGE_TRACKED | PAGE_COUNTED)) != 0))
      return release_flagged(p, meta, word);
    atomic_store_explicit(meta, meta_sole_freed(word), memory_order_relaxed);
    asan_block_free(p, pg->block_size); /* ASan: free, the link word stays addressable */
    stat_add_u(&h->stats.frees, 1);
    stat_add_i(&h->stats.bytes_by_type[meta_sole_type(word)], -(int64_t)pg->block_size);
    b->next = pg->local_free;
    pg->local_free = b;
    if (BRT_UNLIKELY(--pg->used == 0)) return _brt_mem_page_retire_ok(h, pg);
    return BRT_OK;
  }
  /* Another thread's page. Parked in its owner's full list or not, the
   * block goes on thread_free: only the owner must bring a parked page
   * back, and its slow path scans parked pages for thread frees. */
  if (BRT_UNLIKELY(((state & ~(PAGE_TRACKED | PAGE_COUNTED | PAGE_IN_FULL)) != 0) |
                   (h == &_brt_mem_empty_heap)))
    return release_flagged(p, meta, word);
  atomic_store_explicit(meta, meta_sole_freed(word), memory_order_relaxed);
  asan_block_free(p, pg->block_size); /* ASan: before the push makes it the owner's */
  stat_add_u(&h->stats.frees, 1);
  stat_add_i(&h->stats.bytes_by_type[meta_sole_type(word)], -(int64_t)pg->block_size);
  free_block *head = atomic_load_explicit(&pg->thread_free, memory_order_relaxed);
  do {
    b->next = head;
  } while (!atomic_compare_exchange_weak_explicit(&pg->thread_free, &head, b, memory_order_release,
                                                  memory_order_relaxed));
  return BRT_OK;
}

/* The fast path, for a block with a count of 1 on an untracked or
 * tracked page, released by a thread that has a heap: one segment-map
 * load, header arithmetic (one multiply and one rotation give the index
 * and the block test, no division), a load and a plain store of the
 * metadata word (no atomic read-modify-write: docs/design.md), the
 * owner test against the thread pointer, two owner-only statistics
 * updates, then a push on the page's local free list when this thread
 * owns the page, or a compare-exchange push on its thread_free list when
 * another thread does (the Rust-allocates, C++-frees case).
 * Each early exit is an unlikely, predictable branch to a non-inlined
 * function. A foreign pointer leaves at the segment-map test and an
 * interior one at the block test, so nothing outside our own memory is
 * read. The slow path validates again and records the error if there is
 * one. */

BRT_HOT_ENTRY brt_status brt_release(const void *p) {
  uintptr_t a = (uintptr_t)p;
  page *pg;
  size_t index;
  if (BRT_UNLIKELY(!block_lookup(a, &pg, &index))) return _brt_mem_release_slow(p, "brt_release");
  _Atomic uint32_t *meta = &pg->meta[index];
  return release_located(p, pg, index, meta, atomic_load_explicit(meta, memory_order_acquire));
}

/* The same lookup as brt_release. The owner of a BIASED block whose word
 * holds 0..MAX-BIAS_MAX-1 references and whose byte is below BIAS_MAX adds
 * the reference to its byte: a load and a plain store, no locked
 * instruction (one test of the word covers BIASED and the range, since a
 * word without BIASED wraps far above it). Everything else goes to
 * retain_general: the owner's first retain (which biases the block), other
 * threads' retains (a compare-exchange: a retain at count 1 still needs
 * the locked read-modify-write, since docs/design.md rests on the
 * caller owning the reference it gives up, but a retain only borrows one,
 * and several threads may retain at once the single reference another
 * thread keeps alive: tests/memory/test_threads.c), and every error, which
 * it resolves again to record. */
BRT_HOT_ENTRY brt_status brt_retain(const void *p) {
  uintptr_t a = (uintptr_t)p;
  page *pg;
  size_t index;
  if (BRT_UNLIKELY(!block_lookup(a, &pg, &index))) return retain_invalid(p);
  _Atomic uint32_t *meta = &pg->meta[index];
  uint32_t word = atomic_load_explicit(meta, memory_order_relaxed);
  if (BRT_LIKELY(((word & (META_BIASED | META_COUNT_MASK)) - META_BIASED <
                  BRT_REFCOUNT_MAX - BIAS_MAX) &
                 segment_is_mine(segment_of(a)))) {
    MEM_CHECK2_LIVE_WORD(pg, index, word);
    _Atomic uint8_t *bp = bias_of(pg, index);
    uint8_t next; /* BIAS_MAX is the byte's maximum: the addition's carry is the test */
    if (BRT_LIKELY(!__builtin_add_overflow(atomic_load_explicit(bp, memory_order_relaxed),
                                           (uint8_t)1, &next))) {
      atomic_store_explicit(bp, next, memory_order_relaxed);
      return BRT_OK;
    }
  }
  return retain_general(p);
}

/* Could (size, align) have produced this block? With tracking the
 * requested size is known and must match when `exact`; otherwise the size
 * must be in the block's class: at most its usable size and either more
 * than half of it or a size whose bin is the block's. */
bool _brt_mem_layout_fits(const block_ref *ref, size_t size, size_t align, bool exact) {
  const page *pg = ref->pg;
  uintptr_t block = pg->block_start + (uintptr_t)ref->index * pg->block_size;
  if (align == 0 || (align & (align - 1)) || (block & (align - 1))) return false;
  if (size == 0 || size > pg->block_size) return false;
  if (exact && (page_flags(pg) & PAGE_TRACKED) && pg->track[ref->index].id)
    return size == pg->block_size - pg->track[ref->index].slack;
  if (size > pg->block_size / 2) return true;
  /* A block alone in its segment (above 64 KiB, or aligned above 4096)
   * has the request rounded up to pages: its class is the sizes that
   * round to the same pages (a 24-byte request aligned to 8192 has 4096). */
  if (ref->seg->page_count == 1)
    return ((size + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1)) ==
           ((pg->block_size + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1));
  return _brt_mem_bin_for(size, align) == pg->bin;
}

/* Could (size, align) have produced a block of `usable` bytes at a? A size
 * in the block's class above half of it — or any size in the 16-byte
 * class — and an alignment the address satisfies. */
BRT_INLINE bool sole_layout_fits(uintptr_t a, size_t usable, size_t size, size_t align) {
  bool in_class = (size > usable / 2) | ((usable == MIN_ALIGN) & (size != 0) & (align <= MIN_ALIGN));
  return (size <= usable) & in_class & (align != 0) & ((align & (align - 1)) == 0) &
         ((a & (align - 1)) == 0);
}

/* brt_realloc's common cases for a single-reference block of a page (not
 * a single-block segment, whose growth in place the full path handles):
 * the new layout fits the block (returned as it is), or it does not and
 * the block moves to a new one of the same type. NULL with *handled false
 * leaves the request to the full path; NULL with *handled true is brt_alloc's
 * failure, already recorded. */
void *_brt_mem_realloc_sole(void *p, size_t new_size, size_t align, bool *handled) {
  uintptr_t a = (uintptr_t)p;
  *handled = false;
  page *pg;
  size_t index;
  if (BRT_UNLIKELY(!block_lookup(a, &pg, &index))) return NULL;
  _Atomic uint32_t *meta = &pg->meta[index];
  uint32_t word = atomic_load_explicit(meta, memory_order_acquire);
  uint32_t state = page_flags(pg);
  size_t usable = pg->block_size;
  /* A single reference (the caller's) to a C, Rust or C++ heap block of an
   * untracked page (a tracked one keeps the requested size: full path). */
  if (BRT_UNLIKELY(!meta_sole(word) |
                   (word_type(word) > BRT_MEM_CPP_HEAP) |
                   ((state & (PAGE_TRACKED | PAGE_SINGLE)) != 0)))
    return NULL;
  if (sole_layout_fits(a, usable, new_size, align)) {
    asan_block_live(p, new_size, usable); /* ASan: the new boundary */
    *handled = true;
    return p;
  }
  /* Moving: only requests the page path serves outright, so that every
   * refusal keeps brt_realloc's own message from the full path. */
  if ((new_size - 1 >= MEDIUM_BLOCK_MAX) | (align - 1 >= PAGE_ALIGN_MAX) | ((align & (align - 1)) != 0))
    return NULL;
  *handled = true;
  void *moved = brt_alloc(new_size, align, word_type(word), 0);
  if (BRT_UNLIKELY(!moved)) return NULL;
  usable = asan_live_bytes(p, usable); /* ASan: copy only the old request's bytes */
  memcpy(moved, p, usable < new_size ? usable : new_size);
  /* The old block is still ours alone: release it without a second lookup
   * (a validated sole block: the release cannot fail). */
  (void)release_located(p, pg, index, meta, atomic_load_explicit(meta, memory_order_acquire));
  return moved;
}

/* Rust's dealloc: the common layout is checked inline, then brt_release's
 * fast path frees; anything else is resolved and checked in full. */
brt_status brt_release_sized(const void *p, size_t size, size_t align) {
  uintptr_t a = (uintptr_t)p;
  page *pg;
  size_t index;
  if (BRT_LIKELY(block_lookup(a, &pg, &index))) {
    _Atomic uint32_t *meta = &pg->meta[index];
    uint32_t word = atomic_load_explicit(meta, memory_order_acquire);
    bool sole = meta_sole(word);
    bool untracked = (page_flags(pg) & PAGE_TRACKED) == 0;
    bool fits = sole_layout_fits(a, pg->block_size, size, align);
    if (BRT_LIKELY(sole & untracked & fits)) return release_located(p, pg, index, meta, word);
  }
  block_ref ref;
  brt_status status = _brt_mem_resolve(p, "brt_release_sized", &ref);
  if (status != BRT_OK) return status;
  if (!_brt_mem_layout_fits(&ref, size, align, true)) {
    heap_stats *st = error_stats();
    if (st) stat_add_u(&st->errors_layout_mismatch, 1);
    return brt_error_set(BRT_E_LAYOUT_MISMATCH, BRT_ORIGIN_C, NULL,
                         "brt_release_sized: layout (size %zu, align %zu) cannot have produced "
                         "the block at %p (usable %zu bytes, requested %zu, aligned to %zu); the "
                         "block is left allocated", size, align, p, ref.pg->block_size,
                         _brt_mem_block_requested(&ref), ref.pg->block_align);
  }
  return release_ref(&ref, "brt_release_sized", p);
}

/* brt_owns of a pointer whose slot is not in the map: the start of a
 * block aligned to 4 MiB or more, or not ours. */
static BRT_NOINLINE int owns_high_aligned(uintptr_t a) {
  segment *s = _brt_mem_high_aligned_segment(a);
  if (!s || !s->pages[0].in_use) return 0;
  uint32_t word;
  int32_t refs = meta_references_now(&s->pages[0], 0, &word);
  return meta_live(word) && refs > 0;
}

int brt_owns(const void *p) {
  page *pg;
  size_t index;
  if (!block_lookup((uintptr_t)p, &pg, &index)) return owns_high_aligned((uintptr_t)p);
  uint32_t word;
  int32_t refs = meta_references_now(pg, index, &word);
  return meta_live(word) && refs > 0;
}

brt_status brt_block_info_get(const void *p, brt_block_info *out) {
  if (!out)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_block_info_get: out is NULL");
  /* The contract fields end at age_ns; later ones go only to a caller
   * whose struct_size covers them. */
  const size_t contract = offsetof(brt_block_info, age_ns) + sizeof out->age_ns;
  if (out->struct_size < contract)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_block_info_get: out->struct_size is %u, expected at least %zu "
                         "(set it to sizeof(brt_block_info))", out->struct_size, contract);
  block_ref ref;
  brt_status status = _brt_mem_resolve(p, "brt_block_info_get", &ref);
  if (status != BRT_OK) return status;
  uint32_t word;
  int32_t refs = meta_references_now(ref.pg, ref.index, &word);
  brt_block_info info = {.struct_size = out->struct_size};
  info.usable = ref.pg->block_size;
  info.size = ref.pg->block_size;
  info.align = ref.pg->block_align;
  info.type = word_type(word);
  info.refcount = refs > 0 ? (uint32_t)refs : 0;
  info.flags = ref.seg->read_only ? BRT_BLOCK_READ_ONLY : 0;
  _brt_mem_track_fill_info(&ref, &info);
  info.size = asan_live_bytes(p, info.size); /* ASan: the exact request, even untracked */
  memcpy(out, &info, out->struct_size < sizeof info ? out->struct_size : sizeof info);
  return BRT_OK;
}
