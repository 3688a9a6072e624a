/* memory_manager/ internals: every internal type and the cross-file
 * functions (_brt_mem_*), grouped by the file that defines them.
 *
 * Shape (docs/memory.md has the picture):
 *  - A segment is 4 MiB of address space aligned to 4 MiB, from mmap. Its
 *    first bytes are the segment header: the page descriptors.
 *  - Small segments hold 64 pages of 64 KiB, medium segments 8 pages of
 *    512 KiB. A page serves one size class. Its area starts with the owner
 *    bytes (one per block: references its owner thread added, see the
 *    metadata word below), then the side array of block metadata words
 *    (one 32-bit word per block: refcount, type, state), then the blocks.
 *    User data never sits beside
 *    metadata, so an overrun cannot corrupt a refcount.
 *  - Blocks above 64 KiB, alignments above 4096 and MAPPED blocks live
 *    alone in a single-block segment. SHARED blocks up to 64 KiB come from
 *    the shared arena (shared.c): segments whose block pages are one memfd
 *    mapped shared, with the header and side arrays kept private.
 *  - A pointer maps to its metadata by arithmetic: segment = p & ~(4 MiB-1),
 *    page = segment->pages[(p - segment) >> page_shift], index = the offset
 *    times the inverse of the block size's odd part, rotated right by its
 *    power of two (page_block_index: no division, and one comparison with
 *    the block count also rejects an interior pointer).
 *  - "Is this ours?" is one load from a flat byte map, one byte per 4 MiB
 *    of the 47-bit address space holding the segment's page shift (32 MiB
 *    of zero-fill .bss).
 *  - Every thread has a heap that owns small and medium segments; the
 *    owner allocates and frees without atomics except the metadata word;
 *    other threads push freed blocks on the page's atomic thread_free list. */
#ifndef BRT_MEMORY_INTERNAL_H
#define BRT_MEMORY_INTERNAL_H

#include "bridgert/error.h"
#include "bridgert/memory.h"
#include "core/clock.h"
#include "core/compiler.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

/* The fast paths' entry points start a cache line: their straight-line
 * code then spans the fewest lines the front end must fetch. */
#define BRT_HOT_ENTRY BRT_ALIGNED(64)

/* --- Geometry --------------------------------------------------------------- */
#define SEGMENT_SHIFT 22
#define SEGMENT_SIZE ((uintptr_t)1 << SEGMENT_SHIFT)
#define SEGMENT_MASK (SEGMENT_SIZE - 1)
#define SMALL_PAGE_SHIFT 16  /* 64 KiB */
#define MEDIUM_PAGE_SHIFT 19 /* 512 KiB */
#define SMALL_BLOCK_MAX 8192
#define MEDIUM_BLOCK_MAX 65536
#define PAGE_ALIGN_MAX 4096 /* largest alignment served from pages */
#define PAGES_PER_SEGMENT_MAX (SEGMENT_SIZE >> SMALL_PAGE_SHIFT)
#define ADDRESS_BITS 47
#define SEGMENT_MAP_BYTES ((uintptr_t)1 << (ADDRESS_BITS - SEGMENT_SHIFT)) /* one byte per slot */
#define OS_PAGE 4096
#define MIN_ALIGN 16
/* Sizes up to DIRECT_MAX are looked up in heap->direct by (size + 15) / 16. */
#define DIRECT_MAX 1024
#define DIRECT_SLOTS (DIRECT_MAX / 16 + 1)
#define BIN_COUNT 44 /* 16..128 by 16, then 4 classes per power of two up to 64 KiB */

/* --- The metadata word of a block --------------------------------------------
 * bits 0..23 count, 24 BIASED, 25 QUEUED, 26..28 type, 29 FREED,
 * 30 QUARANTINED, 31 SHARED. A word of 0 is a slot never handed out;
 * FREED marks a freed block until its slot is allocated again (the
 * double-free window).
 *
 * Owner-biased counting (release.c, "Owner-biased reference counts"): the
 * thread whose heap owns a block's page keeps the references it adds in a
 * byte of its own (bias_of), written with plain stores; every other thread
 * changes the count in the word with a compare-exchange. A word whose
 * owner byte is in use is BIASED, and its count is then a signed 24-bit
 * number (other threads may release references the owner added, taking it
 * to zero or below); the block's references are count + owner byte. When
 * another thread takes the count of a BIASED word to zero or below it sets
 * QUEUED and asks the owner to merge: fold its byte into the count, clear
 * BIASED, and free the block when that leaves no reference. */
#define META_COUNT_MASK ((uint32_t)0xFFFFFF)
#define META_COUNT_SIGN ((uint32_t)0x800000)
#define META_BIASED ((uint32_t)1 << 24)
#define META_QUEUED ((uint32_t)1 << 25)
#define META_TYPE_SHIFT 26
#define META_TYPE_MASK ((uint32_t)7 << META_TYPE_SHIFT)
#define META_FREED ((uint32_t)1 << 29)
#define META_QUARANTINED ((uint32_t)1 << 30)
#define META_SHARED ((uint32_t)1 << 31)
#define BIAS_MAX 255 /* owner byte; references beyond it go to the word */
_Static_assert(BRT_REFCOUNT_MAX < META_COUNT_SIGN, "a biased count is a signed 24-bit number");

typedef enum segment_kind {
  SEGMENT_FREE = 0, /* pooled, header invalid */
  SEGMENT_SMALL,
  SEGMENT_MEDIUM,
  SEGMENT_LARGE,  /* one block, anonymous */
  SEGMENT_SHARED, /* one block above 64 KiB, its own memfd MAP_SHARED */
  SEGMENT_MAPPED, /* one block, a read-only file mapping */
  SEGMENT_SHARED_ARENA /* pages of SHARED blocks: private header, block pages from one memfd */
} segment_kind;

/* Geometry of a shared arena segment (shared.c, segment.c). Pages are
 * 64 KiB. The first SHARED_FIRST_PAGE pages are private anonymous memory:
 * the segment header, then one 4 KiB side array of metadata words per
 * block page. The rest, SHARED_AREA_BYTES from SHARED_AREA_OFFSET, is the
 * segment's memfd (file offset 0 there) mapped MAP_SHARED, so a process
 * that maps the fd sees block bytes only. Blocks are at least 64 bytes, so
 * a page has at most 1024 blocks and its side array fits 4 KiB. */
#define SHARED_FIRST_PAGE 4u
#define SHARED_AREA_OFFSET ((uintptr_t)SHARED_FIRST_PAGE << SMALL_PAGE_SHIFT)
#define SHARED_AREA_BYTES (SEGMENT_SIZE - SHARED_AREA_OFFSET)
#define SHARED_MIN_BLOCK 64
#define SHARED_META_BYTES 4096

typedef struct free_block {
  struct free_block *next;
} free_block;

/* Per-block tracking record (tracking >= blocks), 16 bytes, in a side
 * array per page. The requested size is kept as the slack below the
 * usable size, which is under 65536 for every block (page blocks are at
 * most 64 KiB; single-block segments round up to 4 KiB). */
typedef struct track_entry {
  uint64_t id;
  uint32_t alloc_ms;       /* ms since the allocator started; ages wrap after 49 days */
  uint16_t slack;          /* usable - requested bytes */
  uint16_t backtrace_slot; /* 0 = none, else slot + 1 in the backtrace table */
} track_entry;
_Static_assert(sizeof(track_entry) == 16, "a tracking record is 16 bytes");

/* Page flags: any non-zero flag sends allocation and release to the slow
 * path, which is how tracking and the hardened mode cost nothing when off,
 * and how a release into a page parked in the full list brings it back. */
#define PAGE_TRACKED 1u
#define PAGE_HARDENED 2u
#define PAGE_IN_FULL 4u /* in its bin's full list */
#define PAGE_SINGLE 8u  /* the page of a single-block segment: freed by unmapping */
#define PAGE_COUNTED 16u /* tracking >= counters: allocations counted per class */

/* Size classes of the per-class counters: the BIN_COUNT page classes, then
 * one class for every block of a single-block segment. */
#define CLASS_COUNT (BIN_COUNT + 1)
_Static_assert(CLASS_COUNT == BRT_MEM_CLASS_COUNT, "memory.h counts the classes");

/* A shared arena page inherited by a fork() child: its blocks stay valid
 * and releasable there, but a release only marks the metadata word; the
 * child never writes a free-list link into memory the parent still uses. */
#define PAGE_DETACHED 32u

struct heap;
struct segment;

/* 128 bytes, 64-aligned: the first cache line holds everything the fast
 * paths of the owner touch; the second holds the atomic list other
 * threads push to, so their frees do not bounce the owner's line. */
typedef struct page {
  /* Line 1 — owner-only hot fields (free lists, count, flags) and the
   * layout, which is set when the page starts and read by any thread
   * holding a block of the page. */
  _Alignas(64) free_block *free; /* blocks to allocate from */
  free_block *local_free;        /* blocks the owner freed; moved to free when free runs out */
  uint16_t used;                 /* blocks handed out and not yet collected back */
  uint8_t index_shift;           /* block_size = odd << index_shift (page_block_index) */
  _Atomic uint32_t flags;        /* PAGE_*; written by the owner, read by any thread */
  uintptr_t block_start;
  uint64_t inverse; /* odd * inverse == 1 mod 2^64 */
  size_t block_size;
  uint64_t blocks;        /* block slots while the page is active, else 0 */
  _Atomic uint32_t *meta; /* capacity words */
  /* Line 2 — frees from other threads (and from anyone after the owner
   * exited), then the cold fields. */
  _Atomic(free_block *) thread_free;
  track_entry *track; /* tracking side array or NULL */
  size_t block_align; /* alignment every block start honours */
  struct page *next, *prev; /* bin queue or full list */
  uint32_t capacity;
  uint32_t extended; /* blocks threaded onto the free lists so far (<= capacity) */
  uint8_t bin;
  uint8_t in_use;
  uint8_t committed;
  uint8_t biased; /* owner-only: a block here may be BIASED (release.c) */
} page;
_Static_assert(sizeof(page) == 128, "a page descriptor is two cache lines");
_Static_assert(((size_t)1 << SMALL_PAGE_SHIFT) / MIN_ALIGN <= UINT16_MAX &&
                   ((size_t)1 << MEDIUM_PAGE_SHIFT) / SMALL_BLOCK_MAX <= UINT16_MAX,
               "page.used counts at most a page's blocks in 16 bits");

typedef struct segment {
  uint32_t kind; /* segment_kind */
  uint32_t page_shift;
  uint32_t page_count;
  uint32_t used_pages;
  _Atomic(struct heap *) owner; /* NULL: abandoned (or single-block) */
  /* The owner's thread_token() while its thread runs, else 0: lets the
   * fast paths test "mine?" without loading the heap pointer from TLS.
   * owner_token == thread_token() implies owner == the caller's heap
   * (segment_owner_set). */
  _Atomic uintptr_t owner_token;
  size_t mapping_size;          /* bytes of the mapping starting here */
  size_t header_size;
  int fd;                       /* SHARED: the memfd, else -1 */
  uint32_t in_registry;
  uint32_t read_only; /* MAPPED without write access: its block's bytes cannot be written */
  struct segment *next, *prev;         /* heap list, pool or abandoned list */
  struct segment *all_next, *all_prev; /* registry of every live segment */
  page pages[]; /* 64-aligned by page's own alignment */
} segment;

typedef struct bin_queue {
  page *first, *last; /* pages that may have free blocks; first is current */
  page *full;         /* pages found full (checked for thread frees later) */
} bin_queue;

/* Per-thread statistics: written only by the owning thread with relaxed
 * load + store (no read-modify-write), read by anyone with relaxed loads. */
typedef struct heap_stats {
  _Atomic uint64_t allocs, frees;
  _Atomic int64_t bytes_by_type[BRT_MEM_TYPE_COUNT];
  _Atomic uint64_t errors_invalid_pointer, errors_double_free, errors_layout_mismatch;
  _Atomic uint64_t errors_use_after_free, shares;
  _Atomic int64_t active_shares;
} heap_stats;

#define QUARANTINE_SLOTS 256

typedef struct heap {
  page *direct[DIRECT_SLOTS]; /* current page per (size + 15) / 16 (slot 0: size 0 never gets here) */
  bin_queue bins[BIN_COUNT];
  segment *segments;    /* small and medium segments this heap owns */
  segment *empty_cache; /* one empty segment kept to avoid mmap churn */
  heap_stats stats;
  uint64_t id_next, id_end; /* tracking ids, taken from a global counter in ranges */
  uint32_t config_epoch;
  _Atomic uint32_t collect_requested;
  int64_t live_bytes_reported; /* what this heap last added to the global estimate */
  void *quarantine[QUARANTINE_SLOTS];
  uint32_t quarantine_head, quarantine_count;
  struct heap *registry_next, *registry_prev;
  struct heap *pool_next;
  brt_mem_budget *budget; /* innermost active budget, or NULL (budget.c) */
  /* tracking >= counters (pages flagged PAGE_COUNTED): allocations per
   * class, owner-written like the statistics but kept apart from them, at
   * the cold end of the heap. What is live in each class is counted when
   * read (track.c), so releases count nothing. */
  _Atomic uint64_t class_allocs[CLASS_COUNT];
  /* fork() (heap.c): how deep the thread is in code that changes more of
   * its heap than the fast paths do; owner-only, read in a fork child. */
  uint32_t busy;
  uint8_t fork_absent; /* fork child: the heap's thread does not exist here */
  /* Another thread QUEUED a block of this heap for a merge (release.c).
   * Last, and not cleared by heap_create's memset: a thread may set it
   * late, after the heap's thread exited and the struct was reused. */
  _Atomic uint32_t merges_pending;
} heap;

/* --- Globals (heap.c) -------------------------------------------------------- */
typedef struct mem_globals {
  _Atomic uint64_t committed;       /* bytes committed, what the limit charges */
  _Atomic uint64_t limit;           /* 0 = none */
  _Atomic uint64_t gc_threshold;
  _Atomic uint32_t gc_interval_ms;
  _Atomic uint64_t last_gc_ns;
  _Atomic uint32_t tracking;        /* brt_tracking */
  _Atomic uint32_t hardened;
  _Atomic uint32_t config_epoch;
  _Atomic uint64_t next_id;
  uint64_t epoch_ns;                /* coarse clock at initialisation, for block ages */
  _Atomic int64_t live_bytes_estimate; /* synced at page changes, for peak */
  _Atomic uint64_t peak_bytes;
  _Atomic uint64_t collections;
  _Atomic uint64_t mapped_files;
  _Atomic uint64_t abandoned_count;
  heap_stats retired; /* stats of heaps whose thread exited (under heaps_lock) */
  pthread_mutex_t heaps_lock;    /* heap registry and heap pool */
  pthread_mutex_t segments_lock; /* segment registry, pool and abandoned list */
} mem_globals;

extern mem_globals _brt_mem;
extern _Atomic uint8_t _brt_mem_segment_map[];
extern __thread heap *_brt_mem_tls_heap BRT_TLS_INITIAL_EXEC;

/* The calling thread's token: its thread pointer (one %fs-relative load on
 * x86-64, where a TLS variable of a shared library also costs a GOT load),
 * unique among running threads and never 0. Where the compiler has no
 * thread-pointer builtin, the address of a thread-local byte is as unique. */
#if defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer) && (defined(__x86_64__) || defined(__aarch64__)) && \
    !defined(BRT_NO_THREAD_POINTER) /* BRT_NO_THREAD_POINTER: test the fallback */
#define BRT_HAVE_THREAD_POINTER 1
#endif
#endif
#ifdef BRT_HAVE_THREAD_POINTER
BRT_INLINE uintptr_t thread_token(void) { return (uintptr_t)__builtin_thread_pointer(); }
#else
extern __thread char _brt_mem_tls_token BRT_TLS_INITIAL_EXEC;
BRT_INLINE uintptr_t thread_token(void) { return (uintptr_t)&_brt_mem_tls_token; }
#endif

/* Every change of a segment's owner goes through here. Only the thread of
 * h makes h an owner, so the token it records is its own; NULL records 0,
 * which no thread has. */
BRT_INLINE void segment_owner_set(segment *s, heap *h) {
  atomic_store_explicit(&s->owner, h, memory_order_relaxed);
  atomic_store_explicit(&s->owner_token, h ? thread_token() : 0, memory_order_relaxed);
}

/* Does the calling thread's heap own s? One load and one comparison with
 * the thread pointer. */
BRT_INLINE bool segment_is_mine(const segment *s) {
  return atomic_load_explicit(&((segment *)s)->owner_token, memory_order_relaxed) == thread_token();
}
extern heap _brt_mem_empty_heap;
extern const size_t _brt_mem_bin_size[BIN_COUNT];

/* --- Inline helpers used by the fast paths ---------------------------------- */

/* One byte load: is the 4 MiB slot of `a` a live segment of ours, and how
 * are its pages cut? The byte is the segment's page shift (16, 19 or 22),
 * 0 for a slot that is not a live segment of ours; addresses at or above
 * 2^47 (never ours) answer 0 without a load. */
BRT_INLINE unsigned segment_map_shift(uintptr_t a) {
  uintptr_t slot = a >> SEGMENT_SHIFT;
  if (BRT_UNLIKELY(slot >= SEGMENT_MAP_BYTES)) return 0;
  return atomic_load_explicit(&_brt_mem_segment_map[slot], memory_order_acquire);
}

BRT_INLINE segment *segment_of(uintptr_t a) { return (segment *)(a & ~SEGMENT_MASK); }

/* The page descriptor `a` falls in, or NULL when `a` is in no live
 * segment of ours. Reads only the map: the descriptor's address is
 * arithmetic on `a` and the page shift the map holds. */
BRT_INLINE page *page_of(uintptr_t a) {
  unsigned shift = segment_map_shift(a);
  if (BRT_UNLIKELY(shift == 0)) return NULL;
  /* The sum of one base and one scaled index, so that the compiler keeps
   * the descriptor's address in one register. */
  return (page *)((a & ~SEGMENT_MASK) + offsetof(segment, pages) +
                  (((a & SEGMENT_MASK) >> shift) * sizeof(page)));
}

/* Owner-only counters: one writer, any number of readers with relaxed
 * loads, no read-modify-write. Portable C11 spells that as a relaxed load
 * then a relaxed store (three instructions: compilers do not fuse them).
 * On x86-64 a single unlocked `add` to memory does the same job in one
 * instruction: its store is one aligned 8-byte write, which readers see
 * whole, and no other thread writes the counter, so the lock prefix would
 * buy nothing. The asm is opaque to the sanitizers, which see only the
 * readers' atomic loads. */
#if defined(__x86_64__) && !defined(BRT_PORTABLE_STATS)
BRT_INLINE void stat_add_u(_Atomic uint64_t *c, uint64_t v) {
  __asm__("addq %1, %0" : "+m"(*(uint64_t *)c) : "er"(v));
}
BRT_INLINE void stat_add_i(_Atomic int64_t *c, int64_t v) {
  __asm__("addq %1, %0" : "+m"(*(int64_t *)c) : "er"(v));
}
#else
BRT_INLINE void stat_add_u(_Atomic uint64_t *c, uint64_t v) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}
BRT_INLINE void stat_add_i(_Atomic int64_t *c, int64_t v) {
  atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v, memory_order_relaxed);
}
#endif

/* --- AddressSanitizer hooks ---------------------------------------------------
 * Blocks live in our own mappings, which ASan knows nothing about; when the
 * library itself is built with ASan these tell it which bytes a program may
 * touch (docs/memory.md, "Under AddressSanitizer"):
 *  - a live block: exactly its requested bytes; the tail up to the usable
 *    size is poisoned, so a 1-byte overrun of a 100-byte request in a
 *    112-byte block is reported;
 *  - a free page block: only its first 8 bytes, the free-list link the
 *    allocator reads and writes on every path (pop, push, collect);
 *  - never-threaded blocks of a page and pooled segments: nothing.
 * Without ASan every helper is an empty inline function: no code. */
#if defined(__SANITIZE_ADDRESS__)
#define BRT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BRT_ASAN 1
#endif
#endif

#ifdef BRT_ASAN
#include <sanitizer/asan_interface.h>
BRT_INLINE void asan_poison(const void *p, size_t n) { __asan_poison_memory_region(p, n); }
BRT_INLINE void asan_unpoison(const void *p, size_t n) { __asan_unpoison_memory_region(p, n); }
/* How many leading bytes of the n at p a program may touch: a block's
 * requested size, exact even on untracked pages. */
BRT_INLINE size_t asan_live_bytes(const void *p, size_t n) {
  const char *bad = __asan_region_is_poisoned((void *)(uintptr_t)p, n);
  return bad ? (size_t)(bad - (const char *)p) : n;
}
#else
BRT_INLINE void asan_poison(const void *p, size_t n) { (void)p, (void)n; }
BRT_INLINE void asan_unpoison(const void *p, size_t n) { (void)p, (void)n; }
BRT_INLINE size_t asan_live_bytes(const void *p, size_t n) { return (void)p, n; }
#endif

/* A block handed out (or resized in place) for `request` of its `usable`
 * bytes: the request addressable, the tail poisoned. Unpoison first: ASan
 * never shrinks a granule's addressable prefix when unpoisoning, but the
 * tail's poisoning sets it exactly. */
BRT_INLINE void asan_block_live(const void *block, size_t request, size_t usable) {
  asan_unpoison(block, request);
  asan_poison((const char *)block + request, usable - request);
}
/* A page block going onto a free list: all but its link word poisoned. */
BRT_INLINE void asan_block_free(const void *block, size_t usable) {
  asan_poison((const char *)block + sizeof(free_block), usable - sizeof(free_block));
  asan_unpoison(block, sizeof(free_block));
}
/* BRT_ALLOC_ZERO: zeroes all `usable` bytes (slack included, so that a
 * copy of the whole block never carries old data) and keeps the tail
 * poisoned under ASan. */
BRT_INLINE void block_zero(void *block, size_t request, size_t usable) {
  asan_unpoison(block, usable);
  memset(block, 0, usable);
  asan_block_live(block, request, usable);
}

BRT_INLINE size_t size_to_bin(size_t size) {
  if (size <= 128) return (size + 15) / 16 - (size != 0);
  size_t s = size - 1;
  unsigned b = 63u - (unsigned)__builtin_clzll(s);
  return 8 + (b - 7) * 4 + ((s >> (b - 2)) & 3);
}

/* Page flags are read by any thread releasing into the page and written
 * only by its owner (or while nobody owns it): relaxed loads and plain
 * relaxed stores, no read-modify-write. A stale read by another thread is
 * harmless: it only decides between two correct release paths. */
BRT_INLINE uint32_t page_flags(const page *pg) {
  return atomic_load_explicit(&((page *)pg)->flags, memory_order_relaxed);
}
BRT_INLINE void page_flags_store(page *pg, uint32_t flags) {
  atomic_store_explicit(&pg->flags, flags, memory_order_relaxed);
}

/* The slot index of the address `off` bytes past block_start: block_size
 * is odd << k, and rotating off * inverse(odd) right by k gives off /
 * block_size when off is a multiple of it, and a number above 2^64 /
 * block_size otherwise (Granlund and Montgomery's divisibility test, as in
 * Hacker's Delight 10-16). So `index < pg->blocks` alone says that off is
 * the start of a block slot of the active page; an offset below
 * block_start wraps far above every count. */
BRT_INLINE uint64_t page_block_index(const page *pg, uintptr_t off) {
  uint64_t q = (uint64_t)off * pg->inverse;
  unsigned k = pg->index_shift;
  return (q >> k) | (q << ((64 - k) & 63));
}

/* Sets the layout page_block_index reads: `blocks` slots of block_size
 * bytes (block_size > 0). */
BRT_INLINE void page_layout_set(page *pg, size_t block_size, uint64_t blocks) {
  unsigned k = (unsigned)__builtin_ctzll(block_size);
  uint64_t odd = block_size >> k, inverse = odd; /* right to 3 bits for any odd number */
  for (int i = 0; i < 5; i++) inverse *= 2 - odd * inverse; /* Newton: 6, 12, 24, 48, 96 bits */
  pg->block_size = block_size;
  pg->index_shift = (uint8_t)k;
  pg->inverse = inverse;
  pg->blocks = blocks;
}

/* The bytes of block slots: offsets below it are in a block. */
BRT_INLINE size_t page_span(const page *pg) { return pg->blocks * pg->block_size; }

/* Owner-biased counts (the metadata word above; release.c). The owner
 * byte of block `index`: page.c lays the bytes out below the side array,
 * one per block in descending order, so that the address needs only the
 * meta pointer the lookup already loaded. Pages of single-block segments
 * and of the shared arena have no owner heap, no owner bytes, and never a
 * BIASED word. */
BRT_INLINE _Atomic uint8_t *bias_of(const page *pg, size_t index) {
  return (_Atomic uint8_t *)pg->meta - 1 - index;
}
/* The count field of a word: a signed 24-bit number when BIASED. */
BRT_INLINE int32_t meta_count(uint32_t word) {
  int32_t c = (int32_t)(word & META_COUNT_MASK);
  if (word & META_BIASED) c = (int32_t)((uint32_t)c ^ META_COUNT_SIGN) - (int32_t)META_COUNT_SIGN;
  return c;
}
BRT_INLINE uint32_t meta_with_count(uint32_t word, int32_t count) {
  return (word & ~META_COUNT_MASK) | ((uint32_t)count & META_COUNT_MASK);
}
/* A live block's references from `word` and a load of the owner byte:
 * exact for the owner thread, whose merges are its own. For another thread
 * the two loads may straddle the owner's merge (bias_fold: a
 * compare-exchange clears BIASED, then the byte is zeroed), and a BIASED
 * word read before it plus the byte read after it loses the byte's
 * references: a holder may see 0 ("already freed") or 1 (sole, so
 * brt_realloc would resize a block still shared). Another thread that acts
 * on the count uses meta_references_now; here a low count is good only for
 * taking a path that validates again (_brt_mem_resolve). The load acquires
 * and the owner's releases store the byte with release, so a thread that
 * finds itself the sole holder (brt_realloc in place) sees everything the
 * owner did with the block before its release, as it would through the
 * word (free on x86-64: both are plain moves). */
BRT_INLINE int32_t meta_references(const page *pg, uint32_t index, uint32_t word) {
  int32_t c = meta_count(word);
  if (word & META_BIASED) c += atomic_load_explicit(bias_of(pg, index), memory_order_acquire);
  return c;
}
/* The references of block `index` from a word and a byte that belong
 * together, and that word in *word, for any thread. A BIASED word is read
 * again after the byte and a changed one starts over: a byte read after a
 * merge's zeroing acquires that release store, so the second load sees the
 * merge's compare-exchange (or later) and differs from a word read before
 * it. An unchanged word means the byte was read while that word stood,
 * unless the word left and came back between the two loads (a merge, a new
 * retain by the owner and as many releases by other threads in between).
 * A word that is not BIASED costs one load, as before. */
BRT_INLINE int32_t meta_references_now(const page *pg, uint32_t index, uint32_t *word) {
  uint32_t w = atomic_load_explicit(&pg->meta[index], memory_order_acquire);
  for (;;) {
    if (BRT_LIKELY(!(w & META_BIASED))) break;
    int32_t b = atomic_load_explicit(bias_of(pg, index), memory_order_acquire);
    uint32_t again = atomic_load_explicit(&pg->meta[index], memory_order_acquire);
    if (BRT_LIKELY(again == w)) {
      *word = w;
      return meta_count(w) + b;
    }
    w = again;
  }
  *word = w;
  return meta_count(w);
}
/* Handed out and not freed (a BIASED block waiting for its owner's merge
 * with no references left is still "live" here; meta_references says 0). */
BRT_INLINE bool meta_live(uint32_t word) { return word != 0 && !(word & META_FREED); }

/* A word of exactly one reference and a type, no other bit: what the fast
 * paths free outright. Its type is then word >> META_TYPE_SHIFT and its
 * freed form word ^ (1 | META_FREED), with no masking. */
BRT_INLINE bool meta_sole(uint32_t word) { return (word & ~META_TYPE_MASK) == 1; }
BRT_INLINE uint32_t meta_sole_type(uint32_t word) { return word >> META_TYPE_SHIFT; }
BRT_INLINE uint32_t meta_sole_freed(uint32_t word) { return word ^ (1u | META_FREED); }

/* fork() (heap.c, "fork"): a fork child takes over the pages of heaps
 * whose thread does not exist there, rebuilding each page from its
 * metadata words, unless that thread was inside code that changes its
 * lists (bin queues, segment lists, page descriptors), which these mark.
 * The fast paths change only free lists, counts and words, which the
 * rebuild does not trust. The compiler fences keep the mark's stores
 * ordered with the changes they guard; x86-64 stores become visible in
 * program order, which is what the child sees of a thread interrupted by
 * fork. */
BRT_INLINE void heap_busy_enter(heap *h) {
  h->busy++;
  atomic_signal_fence(memory_order_seq_cst);
}
BRT_INLINE void heap_busy_leave(heap *h) {
  atomic_signal_fence(memory_order_seq_cst);
  h->busy--;
}

/* --- os.c: the only place that talks to the kernel -----------------------------
 * Each returns NULL / false on failure with errno set and records nothing;
 * callers turn failures into brt_error records. */
void *_brt_os_map_aligned(size_t size, size_t align);
void *_brt_os_map_aligned_at(size_t size, size_t align, size_t skew);
typedef enum os_fd_map {
  OS_FD_PRIVATE_READ, /* a file, copy-on-write, read-only */
  OS_FD_SHARED_READ,  /* the file's own pages, read-only */
  OS_FD_SHARED_WRITE  /* the file's own pages, read-write */
} os_fd_map;
bool _brt_os_map_fd_fixed(void *addr, size_t len, int fd, uint64_t offset, os_fd_map how);
bool _brt_os_unmap(void *p, size_t size);
bool _brt_os_decommit(void *p, size_t size);
bool _brt_os_punch_hole(int fd, uint64_t offset, size_t len);
/* Tracking stamps every allocation: with the coarse clock of core/clock.h,
 * a read of the vDSO's data page. */

/* --- segment.c ------------------------------------------------------------------ */
void _brt_mem_segment_map_set(segment *s, bool present);
/* A block aligned to 4 MiB or more (brt_alloc's largest alignments)
 * starts a segment slot of its own, where the arithmetic of page_of would
 * look for its header. So its single-block segment puts the header in the
 * slot just below the block, whose map byte is set, and leaves the block's
 * own slot at 0: the fast paths miss it and take their slow paths, which
 * ask here. Returns that segment when `a` starts such a block's slot (the
 * segment's one block starts at a), else NULL. Reads only headers whose
 * map byte is set. */
segment *_brt_mem_high_aligned_segment(uintptr_t a);
segment *_brt_mem_segment_new(heap *h, segment_kind kind, size_t request);
segment *_brt_mem_single_segment_new(segment_kind kind, size_t size, size_t align, int fd,
                                     size_t request);
/* A MAPPED single-block segment over `len` bytes of `fd` from `offset`,
 * which need not be page aligned: the mapping starts at the page below, so
 * the block starts `offset % OS_PAGE` bytes into the segment's second page.
 * The fd is not kept. Records the error on failure. */
segment *_brt_mem_fd_segment_new(int fd, uint64_t offset, size_t len, bool writable);
void _brt_mem_single_segment_free(segment *s);
/* A LARGE segment for a block of `size` bytes aligned to `align`: a cached
 * mapping when one fits (*recycled set: its bytes are not zero), else
 * _brt_mem_single_segment_new. Records the error on failure. */
segment *_brt_mem_large_segment_new(size_t size, size_t align, bool *recycled);
/* The cache of freed large mappings (large_cache.c). put keeps a released
 * segment (map byte cleared, out of the registry) still charged
 * OS_PAGE + usable, false when it is too large to cache; take returns one
 * whose last block was usable..2*usable bytes, recharged for `usable`;
 * purge unmaps and uncharges all, true when there was any. */
bool _brt_mem_large_cache_put(segment *s, size_t usable);
segment *_brt_mem_large_cache_take(size_t usable);
bool _brt_mem_large_cache_purge(void);
void _brt_mem_large_cache_fork_prepare(void);
void _brt_mem_large_cache_fork_parent(void);
void _brt_mem_large_cache_fork_child(void);
segment *_brt_mem_shared_segment_new(size_t request);
void _brt_mem_shared_segment_free(segment *s);
void _brt_mem_segment_retire(heap *h, segment *s);
void _brt_mem_registry_add(segment *s);
void _brt_mem_registry_remove(segment *s);
segment *_brt_mem_registry_first(void);
void _brt_mem_segment_release_cache(heap *h);
segment *_brt_mem_segment_from_cache(heap *h, segment_kind kind);
void _brt_mem_segment_unlink(heap *h, segment *s);
void _brt_mem_segment_release(segment *s);
bool _brt_mem_try_charge(size_t bytes);
bool _brt_mem_charge(size_t bytes, size_t request);
void _brt_mem_uncharge(size_t bytes);

/* --- page.c --------------------------------------------------------------------- */
page *_brt_mem_page_acquire(heap *h, size_t bin, size_t request);
void _brt_mem_page_collect(page *pg);
bool _brt_mem_page_extend(page *pg);
/* Both return true when the page was its segment's last one and the
 * segment was retired: it may already be in the global pool, where
 * another thread can take and reinitialise it, so the caller must not
 * read the segment header again. */
bool _brt_mem_page_retire(heap *h, page *pg);
brt_status _brt_mem_page_retire_ok(heap *h, page *pg);
bool _brt_mem_page_release_to_segment(heap *h, page *pg);
void _brt_mem_bin_set_current(heap *h, size_t bin, page *pg);
void _brt_mem_page_to_full(heap *h, page *pg);
void _brt_mem_page_apply_flags(page *pg);
void _brt_mem_page_unfull(heap *h, page *pg);
void _brt_mem_page_adopt(heap *h, page *pg);

/* --- heap.c --------------------------------------------------------------------- */
heap *_brt_mem_heap_get(void);
void _brt_mem_init(void);
void _brt_mem_heap_collect(heap *h, bool release_all);
void _brt_mem_adopt_abandoned(heap *h, bool all);
void _brt_mem_sync_live_bytes(heap *h);
void _brt_mem_sum_stats(heap_stats *sum);
void _brt_mem_sum_class_allocs(uint64_t out[CLASS_COUNT]);
void _brt_mem_request_collect_all(void);

/* --- alloc.c -------------------------------------------------------------------- */
void *_brt_mem_alloc_slow(size_t size, size_t align, brt_mem_type type, unsigned flags);
void _brt_mem_block_start(heap *h, page *pg, void *block, size_t request, brt_mem_type type);
size_t _brt_mem_bin_for(size_t size, size_t align);
/* release.c: brt_realloc's fast path for a single-reference page block;
 * *handled false leaves the request to the full path. */
void *_brt_mem_realloc_sole(void *p, size_t new_size, size_t align, bool *handled);

/* --- release.c ------------------------------------------------------------------ */
/* Where a pointer's block lives; filled by _brt_mem_resolve. */
typedef struct block_ref {
  segment *seg;
  page *pg;
  uint32_t index;
  _Atomic uint32_t *meta;
} block_ref;
/* Resolves p to a live block or records the error (naming `function`). */
brt_status _brt_mem_resolve(const void *p, const char *function, block_ref *ref);
brt_status _brt_mem_release_slow(const void *p, const char *function);
void _brt_mem_free_block(heap *h, block_ref *ref, uint32_t word);
void _brt_mem_quarantine_flush(heap *h);
size_t _brt_mem_block_requested(const block_ref *ref);
bool _brt_mem_layout_fits(const block_ref *ref, size_t size, size_t align, bool exact);
/* Adds one reference with a compare-exchange on the word (any thread),
 * or'ing `flags` in; refuses a freed block (resolving it again to record
 * why) and a full count. *old gets the word before the change. */
brt_status _brt_mem_retain_word(const void *p, const block_ref *ref, uint32_t flags,
                                const char *function, uint32_t *old);
/* Owner-biased counts, run by the owner heap h: merges the blocks other
 * threads QUEUED (after they set merges_pending), or every BIASED block
 * (`all`, when its thread exits). Blocks left without references are
 * freed. */
void _brt_mem_bias_merge(heap *h, bool all);
/* The calling thread's pending merges, from the entry points that report
 * on blocks (statistics), so that its own reports are exact. */
BRT_INLINE void _brt_mem_bias_merge_own(void) {
  heap *h = _brt_mem_tls_heap;
  if (h != &_brt_mem_empty_heap && atomic_load_explicit(&h->merges_pending, memory_order_relaxed))
    _brt_mem_bias_merge(h, false);
}

/* --- mapper.c ------------------------------------------------------------------- */
void *_brt_mem_alloc_shared_block(size_t size, size_t align, size_t request);

/* --- shared.c ------------------------------------------------------------------- */
void *_brt_mem_shared_arena_alloc(heap *h, size_t bin, size_t request);
void _brt_mem_shared_collect(void);
/* fork() (heap.c's handlers): the arena's mutex is taken last, after
 * segments_lock, since a brt_mem_visit_live visitor holding segments_lock
 * may allocate a SHARED block; the arena never takes segments_lock while
 * holding its mutex. */
void _brt_mem_shared_fork_prepare(void);
void _brt_mem_shared_fork_parent(void);
void _brt_mem_shared_fork_child(void);

/* --- track.c -------------------------------------------------------------------- */
void _brt_mem_track_alloc(heap *h, page *pg, uint32_t index, size_t request);
void *_brt_mem_track_alloc_then(heap *h, page *pg, uint32_t index, size_t request, void *block);
void _brt_mem_track_page_start(page *pg);
void _brt_mem_track_page_end(page *pg);
void _brt_mem_leak_report_install(void);
void _brt_mem_track_fill_info(const block_ref *ref, brt_block_info *info);
bool _brt_mem_track_set_requested(page *pg, uint32_t index, size_t requested);
void _brt_mem_track_fork_prepare(void);
void _brt_mem_track_fork_parent(void);
void _brt_mem_track_fork_child(void);
/* Counts an allocation from a PAGE_COUNTED page in the thread's heap. */
void _brt_mem_count_alloc(heap *h, const page *pg);

/* --- budget.c ------------------------------------------------------------------- */
/* With a budget active on h (h->budget != NULL): may h allocate a block of
 * `usable` bytes for a request of `request` bytes? Records LIMIT_EXCEEDED
 * (naming `function`) and returns false when a budget refuses. */
bool _brt_mem_budget_allows(heap *h, size_t usable, size_t request, const char *function);

/* --- stats.c -------------------------------------------------------------------- */
void _brt_mem_maybe_gc(heap *h);

/* --- check.c: invariant checks of debug_level 1 and 2 (none at 0) ------------- */
#include "check.h"

#endif /* BRT_MEMORY_INTERNAL_H */
