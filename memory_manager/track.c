/* Tracking (config `tracking`): per-block ids and allocation times in a
 * side array per page (level blocks), sampled allocation backtraces
 * (level backtrace), the live-block visitor and the leak report printed at
 * exit when BRT_LEAK_REPORT=1. Off by default: untracked pages have no
 * side array and their blocks never reach this file. */
#include "internal.h"

#include <dlfcn.h>
#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define ID_RANGE 4096        /* ids a heap takes from the global counter at once */
#define BACKTRACE_SLOTS 4096 /* sampled backtraces kept (newest wins a slot) */
#define BACKTRACE_DEPTH 16
#define BACKTRACE_SAMPLE 32 /* one allocation in this many is backtraced */
#define LEAK_REPORT_MAX 64  /* blocks printed in full by the leak report */

typedef struct backtrace_record {
  uint64_t id;
  int depth;
  void *frames[BACKTRACE_DEPTH];
} backtrace_record;

static backtrace_record backtraces[BACKTRACE_SLOTS]; /* backtrace_lock */
static pthread_mutex_t backtrace_lock = PTHREAD_MUTEX_INITIALIZER;

static size_t track_bytes(const page *pg) {
  size_t bytes = pg->capacity * sizeof(track_entry);
  return (bytes + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
}

/* fork(): the backtrace table's lock is held across it (heap.c). */
void _brt_mem_track_fork_prepare(void) { pthread_mutex_lock(&backtrace_lock); }
void _brt_mem_track_fork_parent(void) { pthread_mutex_unlock(&backtrace_lock); }
void _brt_mem_track_fork_child(void) { pthread_mutex_init(&backtrace_lock, NULL); }

/* A page starts being tracked: its side array of track entries. */
void _brt_mem_track_page_start(page *pg) {
  void *mem = mmap(NULL, track_bytes(pg), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  pg->track = mem == MAP_FAILED ? NULL : mem;
}

void _brt_mem_track_page_end(page *pg) {
  if (!pg->track) return;
  munmap(pg->track, track_bytes(pg));
  pg->track = NULL;
}

/* Level backtrace, one allocation in BACKTRACE_SAMPLE: the caller's stack
 * into the shared table (its first frame is this function). Out of line,
 * so that every tracked allocation does not pay for the frames array and
 * the registers these calls need. */
static BRT_NOINLINE void track_backtrace(track_entry *entry) {
  void *frames[BACKTRACE_DEPTH];
  int depth = backtrace(frames, BACKTRACE_DEPTH);
  uint32_t slot = (uint32_t)(entry->id % BACKTRACE_SLOTS);
  pthread_mutex_lock(&backtrace_lock);
  backtraces[slot].id = entry->id;
  backtraces[slot].depth = depth;
  memcpy(backtraces[slot].frames, frames, sizeof(void *) * (size_t)depth);
  pthread_mutex_unlock(&backtrace_lock);
  entry->backtrace_slot = (uint16_t)(slot + 1);
}

/* The clock of block ages: milliseconds of the coarse monotonic clock
 * since the allocator started, or of a test's clock (brt_mem_set_clock).
 * The function is published after its context, so a reader that sees it
 * sees the context it was set with. */
static _Atomic(uint64_t (*)(void *)) age_clock;
static void *_Atomic age_clock_ctx;

BRT_INLINE uint32_t track_now_ms(void) {
  uint64_t (*clock)(void *) = atomic_load_explicit(&age_clock, memory_order_acquire);
  if (BRT_LIKELY(clock == NULL))
    return (uint32_t)((_brt_coarse_now_ns() - _brt_mem.epoch_ns) / 1000000u);
  return (uint32_t)(clock(atomic_load_explicit(&age_clock_ctx, memory_order_relaxed)) / 1000000u);
}

brt_status brt_mem_set_clock(uint64_t (*now_ns)(void *ctx), void *ctx) {
  _brt_mem_init();
  atomic_store_explicit(&age_clock_ctx, now_ns ? ctx : NULL, memory_order_relaxed);
  atomic_store_explicit(&age_clock, now_ns, memory_order_release);
  return BRT_OK;
}

/* The tracking record of a new block (inline in both entry points). */
BRT_INLINE void track_record(heap *h, page *pg, uint32_t index, size_t request) {
  if (h->id_next == h->id_end) {
    h->id_next = atomic_fetch_add_explicit(&_brt_mem.next_id, ID_RANGE, memory_order_relaxed);
    h->id_end = h->id_next + ID_RANGE;
  }
  track_entry *entry = &pg->track[index];
  entry->id = h->id_next++;
  entry->slack = (uint16_t)(pg->block_size - request);
  entry->backtrace_slot = 0;
  /* The clock last: only the entry has to live across its call, so the
   * caller saves fewer registers. */
  entry->alloc_ms = track_now_ms();
  if (BRT_UNLIKELY(atomic_load_explicit(&_brt_mem.tracking, memory_order_relaxed) >=
                       BRT_TRACKING_BACKTRACE &&
                   entry->id % BACKTRACE_SAMPLE == 0))
    track_backtrace(entry);
}

void _brt_mem_track_alloc(heap *h, page *pg, uint32_t index, size_t request) {
  track_record(h, pg, index, request);
}

/* _brt_mem_track_alloc for brt_alloc's fast path, as a tail call that
 * returns the block. */
BRT_NOINLINE void *_brt_mem_track_alloc_then(heap *h, page *pg, uint32_t index, size_t request,
                                             void *block) {
  uint32_t state = page_flags(pg);
  /* A page on the fast path is never a single-block one: its class is its bin. */
  if (state & PAGE_COUNTED) stat_add_u(&h->class_allocs[pg->bin], 1);
  if (state & PAGE_TRACKED) track_record(h, pg, index, request);
  return block;
}

/* --- Per-class counters (tracking >= counters) ------------------------------------- */

static size_t class_of(const page *pg) {
  return (page_flags(pg) & PAGE_SINGLE) ? BIN_COUNT : pg->bin;
}

void _brt_mem_count_alloc(heap *h, const page *pg) {
  stat_add_u(&h->class_allocs[class_of(pg)], 1);
}

/* Records a new requested size (realloc in place); false when the slack
 * would not fit the record, and the caller moves the block instead. */
bool _brt_mem_track_set_requested(page *pg, uint32_t index, size_t requested) {
  if (pg->block_size - requested > UINT16_MAX) return false;
  pg->track[index].slack = (uint16_t)(pg->block_size - requested);
  return true;
}

void _brt_mem_track_fill_info(const block_ref *ref, brt_block_info *info) {
  const page *pg = ref->pg;
  if (!(page_flags(pg) & PAGE_TRACKED) || !pg->track) return;
  const track_entry *entry = &pg->track[ref->index];
  if (!entry->id) return;
  info->id = entry->id;
  info->size = pg->block_size - entry->slack;
  uint32_t now_ms = track_now_ms();
  info->age_ns = (uint64_t)(uint32_t)(now_ms - entry->alloc_ms) * 1000000u;
}

/* Calls fn for every live block slot (count > 0) of every active page,
 * under the segments lock, until fn returns nonzero. Blocks allocated or
 * freed by other threads meanwhile may or may not be seen. */
typedef int (*live_slot_fn)(void *ctx, segment *s, page *pg, uint32_t index, uint32_t word);
static void for_each_live(live_slot_fn fn, void *ctx) {
  pthread_mutex_lock(&_brt_mem.segments_lock);
  int stop = 0;
  for (segment *s = _brt_mem_registry_first(); s && !stop; s = s->all_next) {
    for (uint32_t p = 0; p < s->page_count && !stop; p++) {
      page *pg = &s->pages[p];
      if (!pg->in_use) continue;
      for (uint32_t i = 0; i < pg->capacity && !stop; i++) {
        uint32_t word;
        int32_t refs = meta_references_now(pg, i, &word);
        if (meta_live(word) && refs > 0) stop = fn(ctx, s, pg, i, word);
      }
    }
  }
  pthread_mutex_unlock(&_brt_mem.segments_lock);
}

typedef struct live_visit {
  uint64_t min_age_ns;
  brt_block_visitor visitor;
  void *ctx;
} live_visit;

static int visit_one_live(void *ctx, segment *s, page *pg, uint32_t i, uint32_t word) {
  const live_visit *visit = ctx;
  block_ref ref = {s, pg, i, &pg->meta[i]};
  brt_block_info info = {.struct_size = sizeof info};
  info.usable = info.size = pg->block_size;
  info.align = pg->block_align;
  info.type = (brt_mem_type)((word & META_TYPE_MASK) >> META_TYPE_SHIFT);
  int32_t refs = meta_references_now(pg, i, &word);
  info.refcount = refs > 0 ? (uint32_t)refs : 0;
  info.flags = s->read_only ? BRT_BLOCK_READ_ONLY : 0;
  _brt_mem_track_fill_info(&ref, &info);
  info.size = asan_live_bytes((void *)(pg->block_start + (uintptr_t)i * pg->block_size), info.size); /* ASan: exact */
  if (info.age_ns < visit->min_age_ns) return 0;
  return visit->visitor(visit->ctx, (void *)(pg->block_start + (uintptr_t)i * pg->block_size), &info);
}

brt_status brt_mem_visit_live(uint64_t min_age_ns, brt_block_visitor visitor, void *ctx) {
  _brt_mem_init();
  if (!visitor)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_mem_visit_live: visitor is NULL");
  if (min_age_ns && atomic_load(&_brt_mem.tracking) < BRT_TRACKING_BLOCKS)
    return brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL,
                         "brt_mem_visit_live: min_age_ns %llu needs block ages, which tracking "
                         "\"%s\" does not keep; set tracking to \"blocks\" (BRT_TRACKING=blocks)",
                         (unsigned long long)min_age_ns,
                         brt_tracking_name((brt_tracking)atomic_load(&_brt_mem.tracking)));
  live_visit visit = {min_age_ns, visitor, ctx};
  for_each_live(visit_one_live, &visit);
  return BRT_OK;
}

/* What is live per class, counted by a walk over the side arrays when it
 * is read rather than on every release: releases then cost nothing more
 * at the counters level, and a walk is exact (a few ms per GiB of small
 * blocks). */
typedef struct class_live {
  uint64_t blocks[CLASS_COUNT], bytes[CLASS_COUNT];
} class_live;

static int count_one_live(void *ctx, segment *s, page *pg, uint32_t i, uint32_t word) {
  (void)s;
  (void)i;
  (void)word;
  class_live *live = ctx;
  size_t cls = class_of(pg);
  live->blocks[cls]++;
  live->bytes[cls] += pg->block_size;
  return 0;
}

brt_status brt_mem_visit_classes(brt_mem_class_visitor visitor, void *ctx) {
  if (!visitor)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_mem_visit_classes: visitor is NULL");
  _brt_mem_init();
  uint32_t tracking = atomic_load_explicit(&_brt_mem.tracking, memory_order_relaxed);
  if (tracking < BRT_TRACKING_COUNTERS)
    return brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL,
                         "brt_mem_visit_classes: per-class counters are kept from tracking level "
                         "\"counters\" up, and tracking is \"%s\"; set tracking (BRT_TRACKING="
                         "counters, or brt_mem_configure) before the allocations to count",
                         brt_tracking_name((brt_tracking)tracking));
  class_live *live = calloc(1, sizeof *live);
  if (!live)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "brt_mem_visit_classes: no memory for %zu bytes of totals", sizeof *live);
  uint64_t allocs[CLASS_COUNT];
  _brt_mem_sum_class_allocs(allocs);
  for_each_live(count_one_live, live);
  for (uint32_t c = 0; c < CLASS_COUNT; c++) {
    brt_mem_class_stats st;
    memset(&st, 0, sizeof st);
    st.struct_size = sizeof st;
    st.class_index = c;
    st.block_size = c < BIN_COUNT ? _brt_mem_bin_size[c] : 0;
    st.allocs = allocs[c];
    st.live_blocks = live->blocks[c];
    st.live_bytes = live->bytes[c];
    st.frees = st.allocs > st.live_blocks ? st.allocs - st.live_blocks : 0;
    if (visitor(ctx, &st)) break;
  }
  free(live);
  return BRT_OK;
}

/* --- The leak report ----------------------------------------------------------------- */

typedef struct leak_summary {
  uint64_t blocks, bytes;
} leak_summary;

static void print_backtrace(const void *block) {
  page *pg;
  segment *s = segment_of((uintptr_t)block);
  if (segment_map_shift((uintptr_t)block))
    pg = &s->pages[((uintptr_t)block - (uintptr_t)s) >> s->page_shift];
  else if ((s = _brt_mem_high_aligned_segment((uintptr_t)block)) != NULL)
    pg = &s->pages[0]; /* a block aligned to 4 MiB or more: its header is in the slot below */
  else
    return;
  if (!pg->track) return;
  uint32_t index = (uint32_t)page_block_index(pg, (uintptr_t)block - pg->block_start);
  const track_entry *entry = &pg->track[index];
  if (!entry->backtrace_slot) return;
  backtrace_record record;
  pthread_mutex_lock(&backtrace_lock);
  record = backtraces[entry->backtrace_slot - 1];
  pthread_mutex_unlock(&backtrace_lock);
  if (record.id != entry->id) return;
  for (int f = 0; f < record.depth; f++) {
    Dl_info where;
    if (dladdr(record.frames[f], &where) && where.dli_sname)
      fprintf(stderr, "      #%d %s+0x%zx (%s)\n", f, where.dli_sname,
              (size_t)((char *)record.frames[f] - (char *)where.dli_saddr), where.dli_fname);
    else if (dladdr(record.frames[f], &where) && where.dli_fname)
      fprintf(stderr, "      #%d %p (%s+0x%zx)\n", f, record.frames[f], where.dli_fname,
              (size_t)((char *)record.frames[f] - (char *)where.dli_fbase));
    else
      fprintf(stderr, "      #%d %p\n", f, record.frames[f]);
  }
}

static int report_block(void *ctx, const void *block, const brt_block_info *info) {
  static const char *const names[] = {"C_HEAP", "RUST_HEAP", "CPP_HEAP", "SHARED", "MAPPED"};
  leak_summary *summary = ctx;
  if (summary->blocks < LEAK_REPORT_MAX) {
    fprintf(stderr, "  %p %-9s %zu bytes, refcount %u, id %llu, age %.3f s\n", block,
            names[info->type], info->size, info->refcount, (unsigned long long)info->id,
            (double)info->age_ns / 1e9);
    print_backtrace(block);
  }
  summary->blocks++;
  summary->bytes += info->size;
  return 0;
}

/* BRT_LEAK_REPORT=1: at exit, print the blocks still live to stderr. */
static void leak_report(void) {
  leak_summary summary = {0, 0};
  fprintf(stderr, "bridgert: leak report (BRT_LEAK_REPORT=1), blocks still live at exit:\n");
  brt_mem_visit_live(0, report_block, &summary);
  if (summary.blocks)
    fprintf(stderr, "bridgert: %llu blocks (%llu bytes) still live at exit%s\n",
            (unsigned long long)summary.blocks, (unsigned long long)summary.bytes,
            summary.blocks > LEAK_REPORT_MAX ? " (the first ones are listed above)" : "");
  else
    fprintf(stderr, "bridgert: no blocks live at exit\n");
}

void _brt_mem_leak_report_install(void) { atexit(leak_report); }
