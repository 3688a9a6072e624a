/* The shared arena: SHARED blocks of up to 64 KiB (alignment up to 4096),
 * cut by size class from memfd-backed segments, so that thousands of
 * shared blocks cost a handful of file descriptors instead of one each.
 *
 * Shape. A shared arena segment (segment.c) is a 4 MiB segment with 64 KiB
 * pages whose first SHARED_FIRST_PAGE pages are private: the header (page
 * descriptors) and one 4 KiB side array of metadata words per block page.
 * The other 60 pages are one memfd mapped MAP_SHARED. A page serves one
 * size class, as in a thread heap, with the same descriptor, metadata
 * words, free lists and extension (page.c), so brt_release, brt_retain,
 * brt_owns, brt_block_info_get, tracking and the leak report treat these
 * blocks like any other. Only the layout differs: the side array is not
 * at the start of the page area, because that area is visible to the
 * process at the other end of the fd.
 *
 * Ownership. No thread heap owns these segments (owner NULL). Allocation
 * takes one process-wide mutex: SHARED blocks are made for crossing
 * processes, not for hot loops. A release from any thread stays
 * lock-free: the block goes on its page's atomic thread_free list, which
 * the arena collects under its mutex.
 *
 * Block bytes are writable by other processes, and so are the free-list
 * links that freed blocks hold. The arena never follows a link without
 * checking it against the metadata word of the slot it designates, which
 * the other process cannot reach (see ARENA_FREE below). A bad link ends
 * the list there (the blocks behind it are lost until the page is emptied
 * and restarted): no wild pointer, no live or quarantined block and no
 * block twice is ever handed out, and `used` never drops for a block that
 * was not released.
 *
 * Lock order: the arena's mutex comes after heaps_lock and segments_lock
 * and is never held while taking them (segments are created and freed
 * outside it), because brt_mem_visit_live holds segments_lock while its
 * visitor may allocate; fork() takes it last (heap.c). */
#include "internal.h"

#include <string.h>

typedef struct shared_arena {
  pthread_mutex_t lock;
  page *bins[BIN_COUNT]; /* pages serving each class, linked by next/prev; the first is tried first */
  segment *segments;     /* every arena segment, linked by next/prev */
  uint32_t config_epoch; /* tracking and hardened applied to the pages as of this epoch */
} shared_arena;

static shared_arena arena = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Invariant arena-mutex (docs/memory.md): from debug_level 1 the arena
 * records which thread holds its mutex, and the functions that change an
 * arena page check that it is the caller. */
#if BRT_DEBUG_LEVEL >= 1
static _Atomic uintptr_t arena_holder;
#define ARENA_LOCK() \
  (pthread_mutex_lock(&arena.lock), atomic_store_explicit(&arena_holder, thread_token(), memory_order_relaxed))
#define ARENA_UNLOCK() \
  (atomic_store_explicit(&arena_holder, 0, memory_order_relaxed), pthread_mutex_unlock(&arena.lock))
#define ARENA_CHECK_HELD(pg)                                                                   \
  MEM_CHECK1(atomic_load_explicit(&arena_holder, memory_order_relaxed) == thread_token(),     \
             "arena-mutex", "arena page %p changed by thread %p while the mutex is held by %p", \
             (void *)(pg), (void *)thread_token(),                                              \
             (void *)atomic_load_explicit(&arena_holder, memory_order_relaxed))
#else
#define ARENA_LOCK() pthread_mutex_lock(&arena.lock)
#define ARENA_UNLOCK() pthread_mutex_unlock(&arena.lock)
#define ARENA_CHECK_HELD(pg) ((void)0)
#endif

/* The states of a free slot's metadata word (count 0) on an arena page:
 *   0                       threaded by extension, never handed out (on `free`)
 *   type | FREED            released, on `thread_free` (or being pushed)
 *   type | FREED | QUARANTINED   in a thread's hardened quarantine
 *   type | FREED | ARENA_FREE    collected by the arena onto `free`
 * A collection takes only released slots and marks them ARENA_FREE, so a
 * link that leads back into `free`, into a quarantine, or to a slot seen
 * already ends the walk. A pop follows only links to slots on `free`.
 * ARENA_FREE reuses bit 31 (META_SHARED), which only means something with
 * a count above 0: every reader tests the count first, and releasing a
 * block clears the bit. */
#define ARENA_FREE META_SHARED

void _brt_mem_shared_fork_prepare(void) { pthread_mutex_lock(&arena.lock); }
void _brt_mem_shared_fork_parent(void) { pthread_mutex_unlock(&arena.lock); }

/* The child keeps the parent's arena blocks valid (same addresses, the
 * same memfd pages, which the parent keeps using) but must never hand out
 * their free slots or write a free-list link into them: the parent owns
 * that memory's reuse. Every page is detached (releases in the child only
 * mark metadata words) and the child's arena starts empty: its SHARED
 * blocks come from new memfds. Detached segments stay mapped until the
 * child exits or execs. */
void _brt_mem_shared_fork_child(void) {
  for (segment *s = arena.segments; s; s = s->next)
    for (uint32_t i = SHARED_FIRST_PAGE; i < s->page_count; i++)
      if (s->pages[i].in_use) page_flags_store(&s->pages[i], page_flags(&s->pages[i]) | PAGE_DETACHED);
  memset(arena.bins, 0, sizeof arena.bins);
  arena.segments = NULL;
  pthread_mutex_init(&arena.lock, NULL);
}

BRT_INLINE _Atomic uint32_t *side_array_of(segment *s, uint32_t index) {
  return (_Atomic uint32_t *)((uintptr_t)s + s->header_size +
                              (uintptr_t)(index - SHARED_FIRST_PAGE) * SHARED_META_BYTES);
}

static void bin_unlink(page *pg) {
  if (pg->prev) pg->prev->next = pg->next;
  else arena.bins[pg->bin] = pg->next;
  if (pg->next) pg->next->prev = pg->prev;
  pg->next = pg->prev = NULL;
}

static void bin_push_front(page *pg) {
  pg->prev = NULL;
  pg->next = arena.bins[pg->bin];
  if (pg->next) pg->next->prev = pg;
  arena.bins[pg->bin] = pg;
}

/* The metadata word of the slot `b` designates, when b is the start of a
 * slot of pg that extension has threaded; NULL otherwise. Reads nothing
 * outside the page's own range. */
static _Atomic uint32_t *slot_word(const page *pg, const free_block *b) {
  uintptr_t off = (uintptr_t)b - pg->block_start;
  if (off >= (uintptr_t)pg->extended * pg->block_size || off % pg->block_size != 0) return NULL;
  return &pg->meta[off / pg->block_size];
}

/* Moves the blocks other threads released onto pg->free, checking every
 * link (see ARENA_FREE); `used` drops by the blocks taken. */
static void arena_page_collect(page *pg) {
  ARENA_CHECK_HELD(pg);
  if (atomic_load_explicit(&pg->thread_free, memory_order_relaxed) == NULL) return;
  free_block *b = atomic_exchange_explicit(&pg->thread_free, NULL, memory_order_acquire);
  uint32_t count = 0;
  while (b) {
    _Atomic uint32_t *word = slot_word(pg, b);
    if (!word) break;
    uint32_t state = atomic_load_explicit(word, memory_order_relaxed);
    if ((state & ~META_TYPE_MASK) != META_FREED) break;
    atomic_store_explicit(word, state | ARENA_FREE, memory_order_relaxed);
    free_block *next = b->next;
    b->next = pg->free;
    pg->free = b;
    count++;
    b = next;
  }
  MEM_CHECK1(count <= pg->used, "page-used", "arena page %p: %u thread frees collected with "
             "only %u blocks handed out", (void *)pg, count, pg->used);
  pg->used -= count;
}

/* Whether a link on pg->free may be followed: a slot on the free list. */
static bool free_link_ok(const page *pg, const free_block *next) {
  _Atomic uint32_t *word = slot_word(pg, next);
  if (!word) return false;
  uint32_t state = atomic_load_explicit(word, memory_order_relaxed);
  return state == 0 || (state & ~META_TYPE_MASK) == (META_FREED | ARENA_FREE);
}

/* Pops pg->free (non-empty, its head checked); a bad next link drops the
 * rest of the list. */
static free_block *arena_page_pop(page *pg) {
  ARENA_CHECK_HELD(pg);
  free_block *b = pg->free;
  free_block *next = b->next;
  if (next && !free_link_ok(pg, next)) next = NULL;
  pg->free = next;
  pg->used++;
  return b;
}

/* Makes page `index` of s serve `bin`: charges it the first time (the
 * page and its side array), lays out the blocks from the page start and
 * the side array in the private part, threads the first blocks. */
static bool arena_page_start(segment *s, uint32_t index, size_t bin, size_t request) {
  page *pg = &s->pages[index];
  ARENA_CHECK_HELD(pg);
  if (!pg->committed) {
    if (!_brt_mem_charge(((size_t)1 << SMALL_PAGE_SHIFT) + SHARED_META_BYTES, request)) return false;
    pg->committed = 1;
  }
  size_t block_size = _brt_mem_bin_size[bin];
  size_t align = block_size & (~block_size + 1);
  uint32_t capacity = (uint32_t)(((size_t)1 << SMALL_PAGE_SHIFT) / block_size);
  memset(pg, 0, sizeof *pg);
  pg->committed = 1;
  pg->meta = side_array_of(s, index);
  memset((void *)pg->meta, 0, capacity * sizeof(uint32_t));
  pg->block_start = (uintptr_t)s + ((uintptr_t)index << SMALL_PAGE_SHIFT);
  page_layout_set(pg, block_size, capacity);
  pg->block_align = align < PAGE_ALIGN_MAX ? align : PAGE_ALIGN_MAX;
  pg->capacity = capacity;
  pg->bin = (uint8_t)bin;
  pg->in_use = 1;
  atomic_store_explicit(&pg->thread_free, NULL, memory_order_relaxed);
  asan_poison((void *)pg->block_start, (size_t)1 << SMALL_PAGE_SHIFT); /* ASan: never-used blocks */
  _brt_mem_page_extend(pg);
  _brt_mem_page_apply_flags(pg);
  s->used_pages++;
  bin_push_front(pg);
  MEM_CHECK1_PAGE_LAYOUT(pg);
  return true;
}

/* A page of `bin` with a free block, moved to the front: the first page,
 * else the others after collecting their thread frees and extending. */
static page *arena_page_with_room(size_t bin) {
  for (page *pg = arena.bins[bin]; pg; pg = pg->next) {
    if (!pg->free) arena_page_collect(pg);
    if (!pg->free) _brt_mem_page_extend(pg);
    if (!pg->free) continue;
    if (arena.bins[bin] != pg) {
      bin_unlink(pg);
      bin_push_front(pg);
    }
    return pg;
  }
  return NULL;
}

/* Starts a free page of an arena segment; false when there is none, or
 * when the limit refused (*refused, error recorded). */
static bool arena_start_free_page(size_t bin, size_t request, bool *refused) {
  for (segment *s = arena.segments; s; s = s->next) {
    if (s->used_pages == s->page_count - SHARED_FIRST_PAGE) continue;
    for (uint32_t i = SHARED_FIRST_PAGE; i < s->page_count; i++) {
      if (s->pages[i].in_use) continue;
      if (arena_page_start(s, i, bin, request)) return true;
      *refused = true;
      return false;
    }
  }
  return false;
}

static void arena_apply_config(void) {
  uint32_t epoch = atomic_load_explicit(&_brt_mem.config_epoch, memory_order_relaxed);
  if (arena.config_epoch == epoch) return;
  arena.config_epoch = epoch;
  for (size_t bin = 0; bin < BIN_COUNT; bin++)
    for (page *pg = arena.bins[bin]; pg; pg = pg->next) _brt_mem_page_apply_flags(pg);
}

/* A SHARED block of class `bin` for the calling thread (heap h, whose
 * statistics and tracking ids it uses): refcount 1, zeroed (a reused
 * block may hold bytes another process wrote). NULL with the error
 * recorded when the limit or the OS refuses. */
void *_brt_mem_shared_arena_alloc(heap *h, size_t bin, size_t request) {
  if (bin < size_to_bin(SHARED_MIN_BLOCK)) bin = size_to_bin(SHARED_MIN_BLOCK);
  ARENA_LOCK();
  arena_apply_config();
  for (;;) {
    page *pg = arena_page_with_room(bin);
    if (pg) {
      free_block *block = arena_page_pop(pg);
      _brt_mem_block_start(h, pg, block, request, BRT_MEM_SHARED);
      size_t size = pg->block_size;
      ARENA_UNLOCK();
      block_zero(block, request, size); /* all of it; under ASan the tail stays poisoned */
      _brt_mem_sync_live_bytes(h);
      return block;
    }
    bool refused = false;
    if (arena_start_free_page(bin, request, &refused)) continue;
    ARENA_UNLOCK();
    if (refused) return NULL;
    /* Outside the mutex: creating a segment takes segments_lock. */
    segment *s = _brt_mem_shared_segment_new(request);
    if (!s) return NULL;
    ARENA_LOCK();
    s->prev = NULL;
    s->next = arena.segments;
    if (arena.segments) arena.segments->prev = s;
    arena.segments = s;
  }
}

/* brt_mem_collect's part: collects every arena page, returns the empty
 * ones to their segment, gives their memory back (a hole punched in the
 * memfd, so it really goes, and the private side array decommitted), and
 * frees segments left without pages, closing their fds. */
void _brt_mem_shared_collect(void) {
  segment *retired = NULL;
  ARENA_LOCK();
  for (segment *s = arena.segments, *next; s; s = next) {
    next = s->next;
    for (uint32_t i = SHARED_FIRST_PAGE; i < s->page_count; i++) {
      page *pg = &s->pages[i];
      if (pg->in_use) {
        arena_page_collect(pg);
        if (pg->used != 0) continue;
        bin_unlink(pg);
        _brt_mem_track_page_end(pg);
        pg->in_use = 0;
        pg->free = pg->local_free = NULL;
        pg->blocks = 0; /* pointers into the page are now invalid */
        pg->block_size = 0;
        s->used_pages--;
      }
      if (!pg->committed) continue;
      uintptr_t area = (uintptr_t)i << SMALL_PAGE_SHIFT;
      _brt_os_punch_hole(s->fd, area - SHARED_AREA_OFFSET, (size_t)1 << SMALL_PAGE_SHIFT);
      _brt_os_decommit((void *)side_array_of(s, i), SHARED_META_BYTES);
      pg->committed = 0;
      _brt_mem_uncharge(((size_t)1 << SMALL_PAGE_SHIFT) + SHARED_META_BYTES);
    }
    if (s->used_pages != 0) continue;
    if (s->prev) s->prev->next = s->next;
    else arena.segments = s->next;
    if (s->next) s->next->prev = s->prev;
    s->next = retired;
    retired = s;
  }
  ARENA_UNLOCK();
  while (retired) {
    segment *s = retired;
    retired = s->next;
    _brt_mem_shared_segment_free(s);
  }
}
