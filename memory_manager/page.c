/* Pages: one size class each. Starting a page (side array + free list),
 * collecting its freed blocks, the per-bin page queues of a heap, finding
 * a page with free blocks, and giving an empty page back to its segment.
 * Everything here runs on the owning heap's thread. */
#include "internal.h"

#include <string.h>

/* The page every empty direct slot points to: its free list is NULL, so
 * the fast path falls into the slow path without a separate test. */
page _brt_mem_empty_page;

static uintptr_t align_up(uintptr_t x, uintptr_t a) { return (x + a - 1) & ~(a - 1); }

void _brt_mem_page_apply_flags(page *pg) {
  uint32_t flags = 0;
  uint32_t tracking = atomic_load_explicit(&_brt_mem.tracking, memory_order_relaxed);
  if (tracking >= BRT_TRACKING_COUNTERS) flags |= PAGE_COUNTED;
  if (tracking >= BRT_TRACKING_BLOCKS) flags |= PAGE_TRACKED;
  if (atomic_load_explicit(&_brt_mem.hardened, memory_order_relaxed)) flags |= PAGE_HARDENED;
  if ((flags & PAGE_TRACKED) && !pg->track) {
    _brt_mem_track_page_start(pg);
    if (!pg->track) flags &= ~PAGE_TRACKED; /* no memory for the side array: untracked */
  }
  page_flags_store(pg, flags | (page_flags(pg) & (PAGE_IN_FULL | PAGE_SINGLE)));
}

/* --- Bin queues ---------------------------------------------------------------- */

void _brt_mem_bin_set_current(heap *h, size_t bin, page *pg) {
  size_t size = _brt_mem_bin_size[bin];
  if (size > DIRECT_MAX) return;
  /* Slot 0 (size 0) stays on the empty page: the slow path rejects it.
   * So do all slots while a budget is active, so that every allocation
   * takes the slow path, where budgets are checked. */
  size_t first_slot = bin == 0 ? 1 : _brt_mem_bin_size[bin - 1] / 16 + 1;
  page *target = pg && !h->budget ? pg : &_brt_mem_empty_page;
  for (size_t slot = first_slot; slot <= size / 16; slot++) h->direct[slot] = target;
}

static void list_remove(page **first, page **last, page *pg) {
  if (pg->prev) pg->prev->next = pg->next;
  else *first = pg->next;
  if (pg->next) pg->next->prev = pg->prev;
  else if (last) *last = pg->prev;
  pg->next = pg->prev = NULL;
}

static void queue_push_front(bin_queue *q, page *pg) {
  pg->prev = NULL;
  pg->next = q->first;
  if (q->first) q->first->prev = pg;
  else q->last = pg;
  q->first = pg;
}

static void queue_push_back(bin_queue *q, page *pg) {
  pg->next = NULL;
  pg->prev = q->last;
  if (q->last) q->last->next = pg;
  else q->first = pg;
  q->last = pg;
}

static void page_unlink(heap *h, page *pg) {
  bin_queue *q = &h->bins[pg->bin];
  bool was_current = q->first == pg;
  if (page_flags(pg) & PAGE_IN_FULL) list_remove(&q->full, NULL, pg);
  else list_remove(&q->first, &q->last, pg);
  page_flags_store(pg, page_flags(pg) & ~PAGE_IN_FULL);
  if (was_current) _brt_mem_bin_set_current(h, pg->bin, q->first);
}

void _brt_mem_page_to_full(heap *h, page *pg) {
  page_unlink(h, pg);
  bin_queue *q = &h->bins[pg->bin];
  pg->prev = NULL;
  pg->next = q->full;
  if (q->full) q->full->prev = pg;
  q->full = pg;
  page_flags_store(pg, page_flags(pg) | PAGE_IN_FULL);
}

/* The owner freed a block into a page parked in the full list (the flag
 * sent the release to the slow path): queue the page again, at the back,
 * so it is used once the current page runs out. */
void _brt_mem_page_unfull(heap *h, page *pg) {
  page_unlink(h, pg);
  queue_push_back(&h->bins[pg->bin], pg);
  if (h->bins[pg->bin].first == pg) _brt_mem_bin_set_current(h, pg->bin, pg);
}

/* Puts a page (new, adopted, or out of the full list) in front of its bin. */
static void page_make_current(heap *h, page *pg) {
  bin_queue *q = &h->bins[pg->bin];
  if (q->first != pg) {
    if (pg->next || pg->prev || q->last == pg || (page_flags(pg) & PAGE_IN_FULL)) page_unlink(h, pg);
    queue_push_front(q, pg);
  }
  _brt_mem_bin_set_current(h, pg->bin, pg);
}

/* Adds an adopted page with live blocks to h (heap.c, on reclaim). */
void _brt_mem_page_adopt(heap *h, page *pg) {
  pg->next = pg->prev = NULL;
  page_flags_store(pg, page_flags(pg) & ~PAGE_IN_FULL);
  queue_push_back(&h->bins[pg->bin], pg);
  if (h->bins[pg->bin].first == pg) _brt_mem_bin_set_current(h, pg->bin, pg);
}

/* --- Collecting freed blocks ------------------------------------------------------ */

/* Moves blocks freed by the owner and by other threads to pg->free.
 * Thread frees are counted here (the owner's `used` drops when it sees
 * them); local frees were counted when they happened. */
void _brt_mem_page_collect(page *pg) {
  if (pg->local_free) {
    if (!pg->free) {
      pg->free = pg->local_free;
    } else {
      free_block *tail = pg->local_free;
      while (tail->next) tail = tail->next;
      tail->next = pg->free;
      pg->free = pg->local_free;
    }
    pg->local_free = NULL;
  }
  if (atomic_load_explicit(&pg->thread_free, memory_order_relaxed) == NULL) {
    MEM_CHECK2_PAGE_LISTS(pg);
    return;
  }
  free_block *list = atomic_exchange_explicit(&pg->thread_free, NULL, memory_order_acquire);
  uint32_t count = 1;
  free_block *tail = list;
  while (tail->next) {
    tail = tail->next;
    count++;
  }
  tail->next = pg->free;
  pg->free = list;
  MEM_CHECK1(count <= pg->used, "page-used",
             "page %p: %u thread frees collected with only %u blocks handed out", (void *)pg, count,
             pg->used);
  pg->used -= count;
  MEM_CHECK2_PAGE_LISTS(pg);
}

/* How much of a page's never-used memory one extension threads onto its
 * free list (at least one block). */
#define EXTEND_BYTES 4096

/* Threads the next never-used blocks of pg, in address order, onto its
 * (empty) free list; false when every block has been threaded already.
 * Pages are extended a few blocks at a time rather than whole when they
 * start, so that the blocks a thread frees are reused while they are
 * still in cache instead of after the whole 64 KiB page has been walked,
 * and so that a page holding few live blocks keeps few resident. */
bool _brt_mem_page_extend(page *pg) {
  uint32_t left = pg->capacity - pg->extended;
  if (left == 0) return false;
  size_t size = pg->block_size;
  uint32_t n = size >= EXTEND_BYTES ? 1 : (uint32_t)(EXTEND_BYTES / size);
  if (n > left) n = left;
  uintptr_t first = pg->block_start + (uintptr_t)pg->extended * size;
  free_block *next = pg->free;
  for (uint32_t i = n; i-- > 0;) {
    free_block *b = (free_block *)(first + (uintptr_t)i * size);
    asan_block_free(b, size); /* ASan: free, the link word stays addressable */
    b->next = next;
    next = b;
  }
  pg->free = next;
  pg->extended += n;
  return true;
}

/* --- Starting and ending pages --------------------------------------------------------- */

/* Makes page `index` of s serve `bin`: commits it (charging the limit the
 * first time), lays out the side array and the blocks, threads the free
 * list. Records the error and returns false when the limit refuses. */
static bool page_start(heap *h, segment *s, uint32_t index, size_t bin, size_t request) {
  page *pg = &s->pages[index];
  uintptr_t base = (uintptr_t)s;
  uintptr_t area = base + ((uintptr_t)index << s->page_shift);
  if (index == 0) area = base + s->header_size;
  uintptr_t end = base + ((uintptr_t)(index + 1) << s->page_shift);
  asan_unpoison((void *)area, end - area); /* ASan: a restarted page's old blocks may be poisoned */
  if (!pg->committed) {
    if (!_brt_mem_charge(end - area, request)) return false;
    pg->committed = 1;
  }
  /* Cache colour: pages start at 64 KiB multiples, so without an offset
   * the side array of every page would begin in the same L1 set, and a
   * thread using a dozen size classes evicts its own metadata. The offset,
   * 0..63 lines (every set of a 4 KiB-way L1), depends on the bin and the
   * page index; it costs 2 KiB of a 64 KiB page on average (the measured
   * effect on L1 misses: docs/memory.md, "Side metadata"). */
  area += ((bin * 7 + index * 3) & 63) * 64;
  size_t block_size = _brt_mem_bin_size[bin];
  size_t align = block_size & (~block_size + 1); /* lowest set bit */
  if (align > PAGE_ALIGN_MAX) align = PAGE_ALIGN_MAX;
  /* Per block: one owner byte (below the side array, in descending
   * order: bias_of), one metadata word, the block. */
  size_t per_block = block_size + sizeof(uint32_t) + 1;
  size_t capacity = (end - area) / per_block;
  while (capacity && align_up(align_up(area + capacity, 4) + capacity * sizeof(uint32_t), align) +
                             capacity * block_size > end)
    capacity--;
  uintptr_t meta = align_up(area + capacity, 4);
  track_entry *track = pg->track;
  memset(pg, 0, sizeof *pg);
  pg->track = track;
  pg->committed = 1;
  pg->meta = (_Atomic uint32_t *)meta;
  memset((void *)area, 0, meta + capacity * sizeof(uint32_t) - area);
  pg->block_start = align_up(meta + capacity * sizeof(uint32_t), align);
  page_layout_set(pg, block_size, capacity);
  pg->block_align = align;
  pg->capacity = (uint32_t)capacity;
  pg->bin = (uint8_t)bin;
  pg->in_use = 1;
  atomic_store_explicit(&pg->thread_free, NULL, memory_order_relaxed);
  asan_poison((void *)pg->block_start, end - pg->block_start); /* ASan: never-used blocks */
  _brt_mem_page_extend(pg);
  _brt_mem_page_apply_flags(pg);
  s->used_pages++;
  page_make_current(h, pg);
  MEM_CHECK1_PAGE_LAYOUT(pg);
  MEM_CHECK2_PAGE_LISTS(pg);
  return true;
}

/* Returns an empty page to its segment (and the segment to the heap's
 * cache or the pool when it was the last page). */
bool _brt_mem_page_release_to_segment(heap *h, page *pg) {
  segment *s = segment_of((uintptr_t)pg);
  MEM_CHECK1(segment_map_shift((uintptr_t)s) == s->page_shift &&
                 atomic_load_explicit(&s->owner, memory_order_relaxed) == h,
             "retired-segment", "page %p goes back to segment %p (map byte %u, page shift %u), "
             "which heap %p does not own (owner %p)", (void *)pg, (void *)s,
             segment_map_shift((uintptr_t)s), s->page_shift, (void *)h,
             (void *)atomic_load_explicit(&s->owner, memory_order_relaxed));
  MEM_CHECK1_PAGE_EMPTY(pg);
  page_unlink(h, pg);
  _brt_mem_track_page_end(pg);
  pg->in_use = 0;
  pg->free = pg->local_free = NULL;
  pg->blocks = 0; /* pointers into the page are now invalid */
  pg->block_size = 0;
  if (--s->used_pages != 0) return false;
  _brt_mem_segment_retire(h, s);
  return true;
}

/* The owner freed the last block of pg: the page goes back to its segment
 * unless it is its bin's current page, so a loop that allocates and frees
 * one block does not restart pages. The current page keeps its blocks, and
 * the ones the owner freed (hot in cache) move in front of those still to
 * be handed out: otherwise a loop of one allocation and one release would
 * walk the page's whole free list, every block a cache miss, when the page
 * held many blocks before (alloc.pair64 run after alloc.churn). A page
 * with no block handed out has nothing on its thread_free list (used
 * counts those until they are collected). */
bool _brt_mem_page_retire(heap *h, page *pg) {
  MEM_CHECK1_PAGE_EMPTY(pg);
  MEM_CHECK2_PAGE_LISTS(pg);
  if (h->bins[pg->bin].first != pg) return _brt_mem_page_release_to_segment(h, pg);
  free_block *freed = pg->local_free;
  if (freed) {
    free_block *tail = freed;
    while (tail->next) tail = tail->next;
    tail->next = pg->free;
    pg->free = freed;
    pg->local_free = NULL;
  }
  return false;
}

/* _brt_mem_page_retire as a tail call for brt_release's fast path. */
BRT_NOINLINE brt_status _brt_mem_page_retire_ok(heap *h, page *pg) {
  heap_busy_enter(h);
  _brt_mem_page_retire(h, pg);
  heap_busy_leave(h);
  return BRT_OK;
}

/* --- Finding a page with free blocks --------------------------------------------------- */

static bool segment_find_free_page(heap *h, segment_kind kind, size_t bin, size_t request,
                                   bool *refused) {
  for (segment *s = h->segments; s; s = s->next) {
    if (s->kind != (uint32_t)kind || s->used_pages == s->page_count) continue;
    for (uint32_t i = 0; i < s->page_count; i++) {
      if (s->pages[i].in_use) continue;
      if (page_start(h, s, i, bin, request)) return true;
      *refused = true;
      return false;
    }
  }
  return false;
}

/* How many full pages a slow path looks at for blocks other threads freed.
 * Bounded so that a heap with many full pages keeps a constant slow path;
 * the pages looked at rotate. */
#define FULL_PAGES_CHECKED 8

page *_brt_mem_page_acquire(heap *h, size_t bin, size_t request) {
  bin_queue *q = &h->bins[bin];
  /* 1. pages of this bin: the current one first. */
  for (page *pg = q->first; pg;) {
    page *next = pg->next;
    _brt_mem_page_collect(pg);
    if (pg->free || _brt_mem_page_extend(pg)) {
      page_make_current(h, pg);
      return pg;
    }
    _brt_mem_page_to_full(h, pg);
    pg = next;
  }
  /* 2. full pages that other threads have freed blocks into. */
  page *pg = q->full;
  for (int checked = 0; pg && checked < FULL_PAGES_CHECKED; checked++) {
    page *next = pg->next;
    if (atomic_load_explicit(&pg->thread_free, memory_order_relaxed)) {
      _brt_mem_page_collect(pg);
      page_make_current(h, pg);
      return pg;
    }
    pg = next;
  }
  /* 3. a free page in a segment of this heap, an adopted one, a new one. */
  segment_kind kind = _brt_mem_bin_size[bin] <= SMALL_BLOCK_MAX ? SEGMENT_SMALL : SEGMENT_MEDIUM;
  bool refused = false;
  if (segment_find_free_page(h, kind, bin, request, &refused)) return q->first;
  if (refused) return NULL;
  if (atomic_load_explicit(&_brt_mem.abandoned_count, memory_order_relaxed)) {
    _brt_mem_adopt_abandoned(h, false);
    if (q->first && q->first->free) return q->first;
    if (segment_find_free_page(h, kind, bin, request, &refused)) return q->first;
    if (refused) return NULL;
  }
  segment *s = _brt_mem_segment_from_cache(h, kind);
  if (!s) s = _brt_mem_segment_new(h, kind, request);
  if (!s) return NULL;
  if (!page_start(h, s, 0, bin, request)) return NULL;
  return q->first;
}
