/* Thread heaps and the process-wide state: lazy initialisation (reading
 * BRT_* once), the settings (the base and what open runtimes hold,
 * settings.h), the heap of each thread, what happens when a thread exits
 * (its segments with live blocks are abandoned for others to adopt), fork,
 * and the registry that statistics are summed over. */
#include "internal.h"
#include "settings.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const size_t _brt_mem_bin_size[BIN_COUNT] = {
    16,    32,    48,    64,    80,    96,    112,   128,   160,   192,   224,
    256,   320,   384,   448,   512,   640,   768,   896,   1024,  1280,  1536,
    1792,  2048,  2560,  3072,  3584,  4096,  5120,  6144,  7168,  8192,  10240,
    12288, 14336, 16384, 20480, 24576, 28672, 32768, 40960, 49152, 57344, 65536};

mem_globals _brt_mem = {.gc_interval_ms = 1000, .next_id = 1};

extern page _brt_mem_empty_page;
#define EMPTY1 &_brt_mem_empty_page
#define EMPTY8 EMPTY1, EMPTY1, EMPTY1, EMPTY1, EMPTY1, EMPTY1, EMPTY1, EMPTY1
#define EMPTY64 EMPTY8, EMPTY8, EMPTY8, EMPTY8, EMPTY8, EMPTY8, EMPTY8, EMPTY8
_Static_assert(DIRECT_SLOTS == 65, "the empty heap initialiser below lists 65 slots");
/* The heap of a thread that has not allocated yet: every direct slot is
 * the empty page, so the first allocation takes the slow path, which
 * creates the real heap. It owns nothing. */
heap _brt_mem_empty_heap = {.direct = {EMPTY64, EMPTY1}};

__thread heap *_brt_mem_tls_heap BRT_TLS_INITIAL_EXEC = &_brt_mem_empty_heap;
#ifndef BRT_HAVE_THREAD_POINTER
__thread char _brt_mem_tls_token BRT_TLS_INITIAL_EXEC;
#endif

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static pthread_key_t heap_key;
static heap *heap_registry; /* heaps_lock */
static heap *heap_pool;     /* heaps_lock: structs of exited threads, reused */
static segment *abandoned;  /* segments_lock */

static void heap_thread_exit(void *arg);
static void heap_retire_struct(heap *h);
static void fork_prepare(void);
static void fork_parent(void);
static void fork_child(void);

/* --- Settings (settings.h) -------------------------------------------------------
 * The base and the holds of open runtimes, under settings_lock; what they
 * combine to is stored in _brt_mem's atomics, which the allocation paths
 * read. A runtime's bounds hold while it is open and only while it is
 * open, whichever runtime opened first, and no runtime loosens another's:
 * the limit of one is a promise that the process will not commit more
 * while it is open, and the lowest limit keeps every such promise. */
typedef struct mem_settings {
  uint64_t limit;        /* 0 = none */
  uint64_t gc_threshold; /* 0 = never */
  uint32_t gc_interval_ms;
  uint32_t tracking; /* brt_tracking */
  bool hardened;
} mem_settings;

struct brt_mem_hold {
  mem_settings wanted;
  brt_mem_hold *prev, *next;
};

static pthread_mutex_t settings_lock = PTHREAD_MUTEX_INITIALIZER;
static mem_settings settings_base = {.gc_interval_ms = 1000};
static brt_mem_hold *settings_holds;

static mem_settings settings_of(const brt_config *cfg) {
  return (mem_settings){cfg->max_memory, cfg->gc_threshold, cfg->gc_interval_ms,
                        (uint32_t)cfg->tracking, cfg->hardened};
}

/* The lower of two bounds where 0 means "none". */
static uint64_t lower_bound(uint64_t a, uint64_t b) {
  if (!a) return b;
  if (!b) return a;
  return a < b ? a : b;
}

/* Folds `w` into `into` (the strictest of both). gc_interval_ms only
 * counts with a gc_threshold: without one it paces nothing. */
static void settings_fold(mem_settings *into, const mem_settings *w) {
  into->limit = lower_bound(into->limit, w->limit);
  if (w->gc_threshold) {
    into->gc_interval_ms = into->gc_threshold && into->gc_interval_ms < w->gc_interval_ms
                               ? into->gc_interval_ms
                               : w->gc_interval_ms;
    into->gc_threshold = lower_bound(into->gc_threshold, w->gc_threshold);
  }
  if (w->tracking > into->tracking) into->tracking = w->tracking;
  into->hardened = into->hardened || w->hardened;
}

/* settings_lock held: stores what the base and the holds combine to. */
static void settings_apply_locked(void) {
  mem_settings now = settings_base;
  for (const brt_mem_hold *h = settings_holds; h; h = h->next) settings_fold(&now, &h->wanted);
  atomic_store(&_brt_mem.limit, now.limit);
  atomic_store(&_brt_mem.gc_threshold, now.gc_threshold);
  atomic_store(&_brt_mem.gc_interval_ms, now.gc_interval_ms);
  uint32_t old_tracking = atomic_exchange(&_brt_mem.tracking, now.tracking);
  uint32_t old_hardened = atomic_exchange(&_brt_mem.hardened, now.hardened ? 1u : 0u);
  /* Each heap brings its pages' flags up to date at its next slow path. */
  if (old_tracking != now.tracking || old_hardened != (now.hardened ? 1u : 0u))
    atomic_fetch_add(&_brt_mem.config_epoch, 1);
}

/* Makes the memory keys of a validated config the base. */
static void settings_set_base(const brt_config *cfg) {
  pthread_mutex_lock(&settings_lock);
  settings_base = settings_of(cfg);
  settings_apply_locked();
  pthread_mutex_unlock(&settings_lock);
}

void _brt_mem_settings_set_base_limit(uint64_t bytes) {
  _brt_mem_init();
  pthread_mutex_lock(&settings_lock);
  settings_base.limit = bytes;
  settings_apply_locked();
  pthread_mutex_unlock(&settings_lock);
}

brt_status _brt_mem_settings_hold(const brt_config *cfg, brt_mem_hold **out) {
  _brt_mem_init();
  brt_mem_hold *hold = calloc(1, sizeof *hold);
  if (!hold)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "out of memory for the allocator settings of a runtime (%zu bytes)",
                         sizeof *hold);
  hold->wanted = settings_of(cfg);
  pthread_mutex_lock(&settings_lock);
  hold->next = settings_holds;
  if (settings_holds) settings_holds->prev = hold;
  settings_holds = hold;
  settings_apply_locked();
  pthread_mutex_unlock(&settings_lock);
  *out = hold;
  return BRT_OK;
}

void _brt_mem_settings_release(brt_mem_hold *hold) {
  if (!hold) return;
  pthread_mutex_lock(&settings_lock);
  if (hold->prev) hold->prev->next = hold->next;
  else settings_holds = hold->next;
  if (hold->next) hold->next->prev = hold->prev;
  settings_apply_locked();
  pthread_mutex_unlock(&settings_lock);
  free(hold);
}

static void init_locks(void) {
  pthread_mutexattr_t recursive;
  pthread_mutexattr_init(&recursive);
  pthread_mutexattr_settype(&recursive, PTHREAD_MUTEX_RECURSIVE);
  /* Recursive: a visitor of brt_mem_visit_live may allocate a new segment. */
  pthread_mutex_init(&_brt_mem.segments_lock, &recursive);
  pthread_mutexattr_destroy(&recursive);
  pthread_mutex_init(&_brt_mem.heaps_lock, NULL);
}

static void init_once_body(void) {
  init_locks();
  _brt_mem.epoch_ns = _brt_coarse_now_ns();
  pthread_key_create(&heap_key, heap_thread_exit);
  pthread_atfork(fork_prepare, fork_parent, fork_child);
  /* The environment is read once, here. A variable the config loader
   * rejects leaves the defaults in place; the runtime reports the error
   * when it resolves its own config, so it is not left behind as this
   * thread's last error. */
  brt_config cfg;
  if (brt_config_default(&cfg) == BRT_OK) {
    brt_error *before = brt_error_take();
    if (brt_config_load_env(&cfg) == BRT_OK) settings_set_base(&cfg);
    brt_error_clear();
    if (before) brt_error_restore(before);
    brt_config_dispose(&cfg);
  }
  const char *report = getenv("BRT_LEAK_REPORT");
  if (report && strcmp(report, "1") == 0) _brt_mem_leak_report_install();
}

void _brt_mem_init(void) { pthread_once(&init_once, init_once_body); }

brt_status brt_mem_configure(const brt_config *cfg) {
  _brt_mem_init();
  if (!cfg)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_mem_configure: cfg is NULL; pass a config from brt_config_default");
  brt_status status = brt_config_validate(cfg);
  if (status != BRT_OK)
    return brt_error_wrap(status, BRT_ORIGIN_C, NULL, "brt_mem_configure: the config is invalid");
  settings_set_base(cfg);
  return BRT_OK;
}

/* --- Heaps ------------------------------------------------------------------------- */

static heap *heap_create(void) {
  _brt_mem_init();
  pthread_mutex_lock(&_brt_mem.heaps_lock);
  heap *h = heap_pool;
  if (h) heap_pool = h->pool_next;
  pthread_mutex_unlock(&_brt_mem.heaps_lock);
  if (!h) {
    void *mem = mmap(NULL, sizeof(heap), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) return NULL;
    h = mem;
  }
  memset(h, 0, offsetof(heap, merges_pending));
  atomic_store_explicit(&h->merges_pending, 0, memory_order_relaxed);
  for (size_t i = 0; i < DIRECT_SLOTS; i++) h->direct[i] = &_brt_mem_empty_page;
  h->config_epoch = atomic_load(&_brt_mem.config_epoch);
  pthread_mutex_lock(&_brt_mem.heaps_lock);
  h->registry_next = heap_registry;
  if (heap_registry) heap_registry->registry_prev = h;
  heap_registry = h;
  pthread_mutex_unlock(&_brt_mem.heaps_lock);
  _brt_mem_tls_heap = h;
  pthread_setspecific(heap_key, h);
  return h;
}

/* The calling thread's heap, created on first use; NULL (error recorded)
 * only when the OS has no memory for it. */
heap *_brt_mem_heap_get(void) {
  heap *h = _brt_mem_tls_heap;
  if (BRT_LIKELY(h != &_brt_mem_empty_heap)) return h;
  h = heap_create();
  if (!h)
    brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                  "no memory for this thread's heap (%zu bytes)", sizeof(heap));
  return h;
}

static void stats_fold(heap_stats *into, const heap_stats *from) {
#define FOLD(field) \
  atomic_store_explicit(&into->field, atomic_load(&into->field) + atomic_load(&from->field), \
                        memory_order_relaxed)
  FOLD(allocs);
  FOLD(frees);
  for (int t = 0; t < BRT_MEM_TYPE_COUNT; t++) FOLD(bytes_by_type[t]);
  FOLD(errors_invalid_pointer);
  FOLD(errors_double_free);
  FOLD(errors_layout_mismatch);
  FOLD(errors_use_after_free);
  FOLD(shares);
  FOLD(active_shares);
#undef FOLD
}

/* Class allocation counts of heaps whose thread exited (heaps_lock). */
static uint64_t retired_class_allocs[CLASS_COUNT];

void _brt_mem_sum_class_allocs(uint64_t out[CLASS_COUNT]) {
  pthread_mutex_lock(&_brt_mem.heaps_lock);
  for (int c = 0; c < CLASS_COUNT; c++) {
    out[c] = retired_class_allocs[c];
    for (heap *h = heap_registry; h; h = h->registry_next)
      out[c] += atomic_load_explicit(&h->class_allocs[c], memory_order_relaxed);
  }
  pthread_mutex_unlock(&_brt_mem.heaps_lock);
}

void _brt_mem_sum_stats(heap_stats *sum) {
  memset(sum, 0, sizeof *sum);
  pthread_mutex_lock(&_brt_mem.heaps_lock);
  stats_fold(sum, &_brt_mem.retired);
  for (heap *h = heap_registry; h; h = h->registry_next) stats_fold(sum, &h->stats);
  pthread_mutex_unlock(&_brt_mem.heaps_lock);
}

/* Publishes this heap's live bytes to the process-wide estimate that the
 * peak follows. Called at page changes, so the peak is exact to within a
 * page per thread (and exact at every brt_mem_stats_get). */
void _brt_mem_sync_live_bytes(heap *h) {
  int64_t live = 0;
  for (int t = 0; t < BRT_MEM_TYPE_COUNT; t++)
    live += atomic_load_explicit(&h->stats.bytes_by_type[t], memory_order_relaxed);
  int64_t delta = live - h->live_bytes_reported;
  if (!delta) return;
  h->live_bytes_reported = live;
  int64_t now = atomic_fetch_add_explicit(&_brt_mem.live_bytes_estimate, delta, memory_order_relaxed) + delta;
  uint64_t peak = atomic_load_explicit(&_brt_mem.peak_bytes, memory_order_relaxed);
  while (now > 0 && (uint64_t)now > peak &&
         !atomic_compare_exchange_weak_explicit(&_brt_mem.peak_bytes, &peak, (uint64_t)now,
                                                memory_order_relaxed, memory_order_relaxed)) {
  }
}

/* --- Abandoning and adopting segments ---------------------------------------------- */

static void abandoned_push(segment *s) {
  pthread_mutex_lock(&_brt_mem.segments_lock);
  s->next = abandoned;
  s->prev = NULL;
  abandoned = s;
  atomic_fetch_add(&_brt_mem.abandoned_count, 1);
  pthread_mutex_unlock(&_brt_mem.segments_lock);
}

static segment *abandoned_pop(void) {
  pthread_mutex_lock(&_brt_mem.segments_lock);
  segment *s = abandoned;
  if (s) {
    abandoned = s->next;
    atomic_fetch_sub(&_brt_mem.abandoned_count, 1);
  }
  pthread_mutex_unlock(&_brt_mem.segments_lock);
  return s;
}

/* Takes one abandoned segment (or all of them) into h: collects every
 * page, frees the empty ones, queues the others in h's bins. */
static void adopt_abandoned_body(heap *h, bool all) {
  segment *s;
  while ((s = abandoned_pop()) != NULL) {
    segment_owner_set(s, h);
    s->next = h->segments;
    s->prev = NULL;
    if (h->segments) h->segments->prev = s;
    h->segments = s;
    for (uint32_t i = 0; i < s->page_count; i++) {
      page *pg = &s->pages[i];
      if (!pg->in_use) continue;
      _brt_mem_page_collect(pg);
      _brt_mem_page_apply_flags(pg);
      _brt_mem_page_adopt(h, pg);
      /* A retired segment may be reused by another thread at once: stop. */
      if (pg->used == 0 && _brt_mem_page_release_to_segment(h, pg)) break;
    }
    if (!all) break;
  }
}

void _brt_mem_adopt_abandoned(heap *h, bool all) {
  heap_busy_enter(h);
  adopt_abandoned_body(h, all);
  heap_busy_leave(h);
}

/* Collects every page of h; frees the empty ones (all of them when
 * release_all, else all but the only page of a bin) and, when
 * release_all, decommits free pages and the cached empty segment. */
static void heap_collect_body(heap *h, bool release_all) {
  _brt_mem_quarantine_flush(h);
  for (segment *s = h->segments, *next; s; s = next) {
    next = s->next;
    for (uint32_t i = 0; i < s->page_count; i++) {
      page *pg = &s->pages[i];
      if (!pg->in_use) continue;
      _brt_mem_page_collect(pg);
      if (pg->used == 0 && (release_all ? _brt_mem_page_release_to_segment(h, pg)
                                        : _brt_mem_page_retire(h, pg)))
        break; /* the segment was retired: another thread may already reuse it */
    }
  }
  if (!release_all) return;
  for (segment *s = h->segments; s; s = s->next) {
    for (uint32_t i = 0; i < s->page_count; i++) {
      page *pg = &s->pages[i];
      if (pg->in_use || !pg->committed) continue;
      uintptr_t base = (uintptr_t)s;
      uintptr_t area = i == 0 ? base + s->header_size : base + ((uintptr_t)i << s->page_shift);
      uintptr_t end = base + ((uintptr_t)(i + 1) << s->page_shift);
      if (_brt_os_decommit((void *)area, end - area)) {
        pg->committed = 0;
        _brt_mem_uncharge(end - area);
      }
    }
  }
  _brt_mem_segment_release_cache(h);
}

void _brt_mem_heap_collect(heap *h, bool release_all) {
  heap_busy_enter(h);
  heap_collect_body(h, release_all);
  heap_busy_leave(h);
}

/* Thread exit: the heap's empty pages go back, segments that still hold
 * live blocks are abandoned (their blocks stay valid; any thread may
 * release them, and the next thread that needs a page adopts them). */
static void heap_abandon(heap *h) {
  heap_busy_enter(h); /* for good: the struct is pooled busy, heap_create clears it */
  _brt_mem_bias_merge(h, true); /* no page leaves with this thread's owner bytes */
  _brt_mem_heap_collect(h, true);
  for (segment *s = h->segments, *next; s; s = next) {
    next = s->next;
    _brt_mem_segment_unlink(h, s);
    for (uint32_t i = 0; i < s->page_count; i++) {
      page *pg = &s->pages[i];
      pg->next = pg->prev = NULL;
      page_flags_store(pg, page_flags(pg) & ~PAGE_IN_FULL);
    }
    segment_owner_set(s, NULL);
    abandoned_push(s);
  }
  _brt_mem_sync_live_bytes(h);
  heap_retire_struct(h);
}

/* Folds the statistics of a heap whose thread is gone into the retired
 * sums and pools the struct. */
static void heap_retire_struct(heap *h) {
  pthread_mutex_lock(&_brt_mem.heaps_lock);
  stats_fold(&_brt_mem.retired, &h->stats);
  for (int c = 0; c < CLASS_COUNT; c++)
    retired_class_allocs[c] += atomic_load_explicit(&h->class_allocs[c], memory_order_relaxed);
  if (h->registry_prev) h->registry_prev->registry_next = h->registry_next;
  else heap_registry = h->registry_next;
  if (h->registry_next) h->registry_next->registry_prev = h->registry_prev;
  h->pool_next = heap_pool;
  heap_pool = h;
  pthread_mutex_unlock(&_brt_mem.heaps_lock);
}

static void heap_thread_exit(void *arg) {
  heap *h = arg;
  _brt_mem_tls_heap = &_brt_mem_empty_heap;
  heap_abandon(h);
}

/* Asks every heap to collect at its next slow path (brt_mem_collect). */
void _brt_mem_request_collect_all(void) {
  pthread_mutex_lock(&_brt_mem.heaps_lock);
  for (heap *h = heap_registry; h; h = h->registry_next)
    atomic_store_explicit(&h->collect_requested, 1, memory_order_relaxed);
  pthread_mutex_unlock(&_brt_mem.heaps_lock);
}

/* --- fork --------------------------------------------------------------------------------
 * The global locks are held across fork() so the child gets them in a
 * consistent state. In the child only the forking thread exists. The
 * heaps of the others are taken over as if their threads had exited: their
 * segments are abandoned (adopted by the child's next page search or
 * brt_mem_collect) and their statistics folded into the retired sums, so
 * the child reuses their free space. Their free lists cannot be trusted —
 * a thread may have been between popping a block and writing its word, or
 * between marking a block freed and pushing it — so each page is rebuilt
 * from its metadata words, which a thread changes with single stores: a
 * live word is a live block, a freed or never-used one is free space
 * (nobody in the child holds the block a vanished thread was handing out
 * or giving back), and a BIASED word is merged. A heap whose thread was
 * inside code that changes its lists (heap_busy_enter) is left as it is:
 * its blocks stay valid and releasable, its free space unused. This needs
 * the child to see a prefix of each vanished thread's stores in program
 * order, which x86-64 guarantees; elsewhere no heap is taken over. */
#if defined(__x86_64__)
#define FORK_TAKEOVER 1
#else
#define FORK_TAKEOVER 0
#endif

/* Rebuilds a page of the vanished heap x from its metadata words. */
static void fork_page_rebuild(heap *x, page *pg) {
  free_block *head = NULL, **tail = &head;
  uint32_t used = 0;
  size_t size = pg->block_size;
  for (uint32_t k = 0; k < pg->extended; k++) {
    _Atomic uint32_t *meta = &pg->meta[k];
    uint32_t word = atomic_load_explicit(meta, memory_order_relaxed);
    int32_t refs = meta_references(pg, k, word);
    /* Zero for every slot: x may have been between a merge's
     * compare-exchange and clearing the byte. */
    atomic_store_explicit(bias_of(pg, k), 0, memory_order_relaxed);
    if (word & META_BIASED) {
      if (refs > 0) {
        atomic_store_explicit(meta, meta_with_count(word & ~(META_BIASED | META_QUEUED), refs),
                              memory_order_relaxed);
        used++;
        continue;
      }
      /* No reference left (it waited for x's merge): freed, counted as x would have. */
      brt_mem_type type = (brt_mem_type)((word & META_TYPE_MASK) >> META_TYPE_SHIFT);
      stat_add_u(&x->stats.frees, 1);
      stat_add_i(&x->stats.bytes_by_type[type], -(int64_t)size);
      if (word & META_SHARED) stat_add_i(&x->stats.active_shares, -1);
      atomic_store_explicit(meta, (word & META_TYPE_MASK) | META_FREED, memory_order_relaxed);
    } else if (meta_live(word)) {
      used++;
      continue;
    } else if (word & META_QUARANTINED) { /* in x's quarantine, which is gone */
      atomic_store_explicit(meta, word & ~META_QUARANTINED, memory_order_relaxed);
    }
    free_block *b = (free_block *)(pg->block_start + (uintptr_t)k * size);
    asan_block_free(b, size); /* ASan: free, the link word stays addressable */
    *tail = b;
    tail = &b->next;
  }
  *tail = NULL;
  pg->free = head;
  pg->local_free = NULL;
  atomic_store_explicit(&pg->thread_free, NULL, memory_order_relaxed);
  pg->used = used;
  pg->next = pg->prev = NULL;
  page_flags_store(pg, page_flags(pg) & ~PAGE_IN_FULL);
  pg->biased = 0;
}

/* In the child, single-threaded, after the locks are re-created. */
static void fork_take_over_heaps(void) {
  if (!FORK_TAKEOVER) return;
  heap *self = _brt_mem_tls_heap;
  int absent = 0;
  for (heap *h = heap_registry; h; h = h->registry_next) {
    h->fork_absent = h != self && h->busy == 0;
    absent += h->fork_absent;
  }
  if (!absent) return;
  pthread_mutex_lock(&_brt_mem.segments_lock);
  for (segment *s = _brt_mem_registry_first(), *next; s; s = next) {
    next = s->all_next;
    heap *x = atomic_load_explicit(&s->owner, memory_order_relaxed);
    if (!x || !x->fork_absent) continue;
    for (uint32_t i = 0; i < s->page_count; i++)
      if (s->pages[i].in_use) fork_page_rebuild(x, &s->pages[i]);
    segment_owner_set(s, NULL);
    if (s->used_pages == 0) _brt_mem_segment_release(s); /* x's cached empty segment */
    else abandoned_push(s);
  }
  pthread_mutex_unlock(&_brt_mem.segments_lock);
  for (heap *h = heap_registry, *next; h; h = next) {
    next = h->registry_next;
    if (!h->fork_absent) continue;
    _brt_mem_sync_live_bytes(h);
    heap_retire_struct(h);
  }
}
/* In the child: a segment still owned by another heap (one busy at the
 * fork, or every other heap where none is taken over) keeps its owner but
 * loses the token, since a thread the child starts may get the vanished
 * owner's thread pointer. Only the forking thread's segments keep theirs. */
static void fork_forget_tokens(void) {
  heap *self = _brt_mem_tls_heap;
  for (segment *s = _brt_mem_registry_first(); s; s = s->all_next)
    if (atomic_load_explicit(&s->owner, memory_order_relaxed) != self)
      atomic_store_explicit(&s->owner_token, 0, memory_order_relaxed);
}

static void fork_prepare(void) {
  pthread_mutex_lock(&settings_lock);
  pthread_mutex_lock(&_brt_mem.heaps_lock);
  pthread_mutex_lock(&_brt_mem.segments_lock);
  _brt_mem_track_fork_prepare();
  _brt_mem_shared_fork_prepare();
  _brt_mem_large_cache_fork_prepare();
}

static void fork_parent(void) {
  _brt_mem_large_cache_fork_parent();
  _brt_mem_shared_fork_parent();
  _brt_mem_track_fork_parent();
  pthread_mutex_unlock(&_brt_mem.segments_lock);
  pthread_mutex_unlock(&_brt_mem.heaps_lock);
  pthread_mutex_unlock(&settings_lock);
}

/* The child re-creates the locks instead of unlocking them: a recursive
 * mutex remembers its owner's thread id, which is different in the child,
 * so unlocking it there would fail and leave it locked for ever. */
static void fork_child(void) {
  _brt_mem_large_cache_fork_child();
  _brt_mem_shared_fork_child();
  _brt_mem_track_fork_child();
  init_locks();
  pthread_mutex_init(&settings_lock, NULL); /* held across fork by the forking thread */
  fork_take_over_heaps();
  fork_forget_tokens();
}
