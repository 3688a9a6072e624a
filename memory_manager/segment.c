/* Segments: the 4 MiB aligned regions everything else lives in; the flat
 * segment map that answers "is this ours?"; the commit charge that the
 * memory limit is checked against; the registry of live segments; the pool
 * of empty segments.
 *
 * Invariant: a segment's byte in the map is non-zero exactly while its
 * header is valid (kind != SEGMENT_FREE). Empty small/medium segments are
 * decommitted and pooled, never unmapped, so a stale pointer into one reads
 * zeros and is reported as invalid instead of faulting. */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* One byte per 4 MiB slot of the 47-bit address space (the segment's page
 * shift, 0 when the slot is not a live segment of ours): 32 MiB of .bss
 * that the kernel maps to the zero page until a byte is set. A process
 * whose segments sit close together makes one or two of its 4 KiB pages
 * resident (each covers 16 GiB of address space). */
_Atomic uint8_t _brt_mem_segment_map[SEGMENT_MAP_BYTES];

static segment *pool;        /* empty 4 MiB segments, decommitted; segments_lock */
static segment *registry;    /* every live segment; segments_lock */

void _brt_mem_segment_map_set(segment *s, bool present) {
  if (present) MEM_CHECK1_SEGMENT(s);
  uintptr_t slot = (uintptr_t)s >> SEGMENT_SHIFT;
  atomic_store_explicit(&_brt_mem_segment_map[slot], present ? (uint8_t)s->page_shift : 0,
                        memory_order_release);
}

/* Only a single-block segment has the page shift SEGMENT_SHIFT, and only
 * one made for an alignment of 4 MiB or more has its block at
 * SEGMENT_SIZE (the others start theirs in the header's slot: at a page
 * or at an alignment of at most 2 MiB). */
segment *_brt_mem_high_aligned_segment(uintptr_t a) {
  if ((a & SEGMENT_MASK) != 0 || a < SEGMENT_SIZE) return NULL;
  uintptr_t below = a - SEGMENT_SIZE;
  if (segment_map_shift(below) != SEGMENT_SHIFT) return NULL;
  segment *s = segment_of(below);
  if (s->page_count != 1 || s->pages[0].block_start != a) return NULL;
  return s;
}

/* --- The commit charge ------------------------------------------------------ */

/* Charges `bytes` about to be committed, unless that passes the limit
 * (then nothing is charged). Records nothing. */
bool _brt_mem_try_charge(size_t bytes) {
  uint64_t before = atomic_fetch_add_explicit(&_brt_mem.committed, bytes, memory_order_relaxed);
  uint64_t limit = atomic_load_explicit(&_brt_mem.limit, memory_order_relaxed);
  if (BRT_LIKELY(limit == 0 || before + bytes <= limit)) return true;
  atomic_fetch_sub_explicit(&_brt_mem.committed, bytes, memory_order_relaxed);
  return false;
}

/* The same for a request of `request` bytes, recording LIMIT_EXCEEDED
 * (naming the limit, the request and what is in use) when it fails. */
bool _brt_mem_charge(size_t bytes, size_t request) {
  if (BRT_LIKELY(_brt_mem_try_charge(bytes))) return true;
  /* Cached large mappings are charged but hold no block: drop them before
   * refusing anything. */
  if (_brt_mem_large_cache_purge() && _brt_mem_try_charge(bytes)) return true;
  uint64_t before = atomic_load_explicit(&_brt_mem.committed, memory_order_relaxed);
  uint64_t limit = atomic_load_explicit(&_brt_mem.limit, memory_order_relaxed);
  int64_t live = atomic_load_explicit(&_brt_mem.live_bytes_estimate, memory_order_relaxed);
  brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                "allocating %zu bytes needs %zu more committed bytes, which would exceed the "
                "memory limit of %llu bytes (%llu bytes committed, about %lld bytes live); raise "
                "max_memory / brt_mem_set_limit or release blocks and call brt_mem_collect",
                request, bytes, (unsigned long long)limit, (unsigned long long)before,
                (long long)(live > 0 ? live : 0));
  return false;
}

void _brt_mem_uncharge(size_t bytes) {
#if BRT_DEBUG_LEVEL >= 1
  uint64_t before = atomic_fetch_sub_explicit(&_brt_mem.committed, bytes, memory_order_relaxed);
  MEM_CHECK1(before >= bytes, "limit-charge",
             "uncharging %zu bytes with only %llu committed", bytes, (unsigned long long)before);
#else
  atomic_fetch_sub_explicit(&_brt_mem.committed, bytes, memory_order_relaxed);
#endif
}

/* --- Registry ---------------------------------------------------------------- */

void _brt_mem_registry_add(segment *s) {
  pthread_mutex_lock(&_brt_mem.segments_lock);
  s->all_prev = NULL;
  s->all_next = registry;
  if (registry) registry->all_prev = s;
  registry = s;
  s->in_registry = 1;
  pthread_mutex_unlock(&_brt_mem.segments_lock);
}

void _brt_mem_registry_remove(segment *s) {
  pthread_mutex_lock(&_brt_mem.segments_lock);
  if (s->in_registry) {
    if (s->all_prev) s->all_prev->all_next = s->all_next;
    else registry = s->all_next;
    if (s->all_next) s->all_next->all_prev = s->all_prev;
    s->in_registry = 0;
  }
  pthread_mutex_unlock(&_brt_mem.segments_lock);
}

/* The first live segment; the caller holds segments_lock (track.c). */
segment *_brt_mem_registry_first(void) { return registry; }

/* --- Pool ----------------------------------------------------------------------- */

static segment *pool_take(void) {
  pthread_mutex_lock(&_brt_mem.segments_lock);
  segment *s = pool;
  if (s) pool = s->next;
  pthread_mutex_unlock(&_brt_mem.segments_lock);
  return s;
}

/* Decommits a whole 4 MiB segment and pools it. Its header reads zero
 * afterwards, so the map bit is cleared first. */
static void pool_put(segment *s) {
  _brt_mem_segment_map_set(s, false);
  _brt_mem_registry_remove(s);
  _brt_os_decommit(s, SEGMENT_SIZE);
  asan_poison(s + 1, SEGMENT_SIZE - sizeof *s); /* ASan: a stale pointer into it is reported */
  pthread_mutex_lock(&_brt_mem.segments_lock);
  s->next = pool; /* the first word after decommit: rewritten on take */
  pool = s;
  pthread_mutex_unlock(&_brt_mem.segments_lock);
}

static segment *segment_reserve(void) {
  segment *s = pool_take();
  if (s) {
    asan_unpoison(s, SEGMENT_SIZE); /* ASan: pool_put poisoned all but the struct */
    memset(s, 0, sizeof *s);
    return s;
  }
  s = _brt_os_map_aligned(SEGMENT_SIZE, SEGMENT_SIZE);
  if (!s)
    brt_error_set_os(BRT_E_OUT_OF_MEMORY, errno,
                     "the OS refused a %zu-byte segment (mmap: %s)", (size_t)SEGMENT_SIZE,
                     strerror(errno));
  return s;
}

static size_t header_size_for(uint32_t page_count, size_t extra) {
  size_t bytes = sizeof(segment) + page_count * sizeof(page) + extra;
  return (bytes + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
}

/* A shared arena segment's private part holds the header and one side
 * array per block page (shared.c places them right after the header). */
_Static_assert(((sizeof(segment) + PAGES_PER_SEGMENT_MAX * sizeof(page) + OS_PAGE - 1) &
                ~(size_t)(OS_PAGE - 1)) + (PAGES_PER_SEGMENT_MAX - SHARED_FIRST_PAGE) *
                SHARED_META_BYTES <= SHARED_AREA_OFFSET,
               "the shared arena's header and side arrays fit its private pages");

/* --- Small and medium segments (owned by a heap) ----------------------------- */

segment *_brt_mem_segment_new(heap *h, segment_kind kind, size_t request) {
  uint32_t shift = kind == SEGMENT_SMALL ? SMALL_PAGE_SHIFT : MEDIUM_PAGE_SHIFT;
  uint32_t count = (uint32_t)(SEGMENT_SIZE >> shift);
  size_t header = header_size_for(count, 0);
  if (!_brt_mem_charge(header, request)) return NULL;
  segment *s = segment_reserve();
  if (!s) {
    _brt_mem_uncharge(header);
    return NULL;
  }
  s->kind = kind;
  s->page_shift = shift;
  s->page_count = count;
  s->mapping_size = SEGMENT_SIZE;
  s->header_size = header;
  s->fd = -1;
  segment_owner_set(s, h);
  s->next = h->segments;
  s->prev = NULL;
  if (h->segments) h->segments->prev = s;
  h->segments = s;
  _brt_mem_registry_add(s);
  _brt_mem_segment_map_set(s, true);
  return s;
}

static void heap_unlink_segment(heap *h, segment *s) {
  if (s->prev) s->prev->next = s->next;
  else if (h->segments == s) h->segments = s->next;
  if (s->next) s->next->prev = s->prev;
  s->next = s->prev = NULL;
}

/* Gives back a small/medium segment whose pages are all free: uncharges its
 * header and committed pages, then pools it. */
static void segment_release(segment *s) {
  size_t committed = s->header_size;
  for (uint32_t i = 0; i < s->page_count; i++) {
    MEM_CHECK1(!s->pages[i].in_use, "page-used", "segment %p is released with page %u in use",
               (void *)s, i);
    if (!s->pages[i].committed) continue;
    size_t start = i == 0 ? s->header_size : 0;
    committed += ((size_t)1 << s->page_shift) - start;
  }
  _brt_mem_uncharge(committed);
  pool_put(s);
}

/* Called when the last page of a segment owned by h was freed. One empty
 * segment stays cached in the heap so a program that frees its last block
 * and allocates again does not pay for mmap and page faults. */
void _brt_mem_segment_retire(heap *h, segment *s) {
  MEM_CHECK1(s->used_pages == 0, "page-used", "segment %p is retired with %u pages in use",
             (void *)s, s->used_pages);
  heap_unlink_segment(h, s);
  if (!h->empty_cache) {
    h->empty_cache = s;
    return;
  }
  segment_release(s);
}

/* Releases the heap's cached empty segment (collect, thread exit). */
void _brt_mem_segment_release_cache(heap *h) {
  if (!h->empty_cache) return;
  segment_release(h->empty_cache);
  h->empty_cache = NULL;
}

/* Takes back the cached empty segment into the heap's list, if any. */
segment *_brt_mem_segment_from_cache(heap *h, segment_kind kind) {
  segment *s = h->empty_cache;
  if (!s || s->kind != (uint32_t)kind) return NULL;
  MEM_CHECK1_SEGMENT(s);
  h->empty_cache = NULL;
  s->next = h->segments;
  s->prev = NULL;
  if (h->segments) h->segments->prev = s;
  h->segments = s;
  return s;
}

void _brt_mem_segment_unlink(heap *h, segment *s) { heap_unlink_segment(h, s); }
void _brt_mem_segment_release(segment *s) { segment_release(s); }

/* --- Single-block segments ---------------------------------------------------- */

/* What a single-block segment is charged against the limit: its header
 * page and the pages its block spans, from the page holding the block's
 * first byte (`block_offset` into the segment) to the page holding its
 * last. The address space a large alignment leaves between the two is
 * never touched, so it is not charged. For a MAPPED block these are the
 * pages of the file it maps (docs/memory.md, "Limit"). */
static size_t single_segment_charge(size_t block_offset, size_t block_size) {
  size_t first = block_offset & ~(size_t)(OS_PAGE - 1);
  size_t end = (block_offset + block_size + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
  return OS_PAGE + (end - first);
}

/* Charges a MAPPED block's pages; over the limit, the error says why a
 * mapping needs them (the charge's own error is its cause). */
static bool mapped_charge(const char *function, size_t charge, size_t len) {
  if (_brt_mem_charge(charge, len)) return true;
  brt_error_wrap(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                 "%s: mapping %zu bytes is charged %zu bytes against the memory limit of %llu "
                 "bytes (a MAPPED block counts every page it maps); raise max_memory / "
                 "brt_mem_set_limit, or map a smaller range with brt_map_fd", function, len, charge,
                 (unsigned long long)atomic_load_explicit(&_brt_mem.limit, memory_order_relaxed));
  return false;
}

/* The address space of a single-block segment: `mapping` bytes aligned to
 * 4 MiB, from the pool when that is one plain segment. For an alignment of
 * 4 MiB or more the block starts at SEGMENT_SIZE (the slot after the
 * header's, _brt_mem_high_aligned_segment), so it is the segment's second
 * slot that is aligned to `align` (and the segment, 4 MiB below it, is
 * aligned to 4 MiB). Records the error on failure. */
static segment *single_segment_reserve(size_t mapping, size_t align, size_t request) {
  if (mapping == SEGMENT_SIZE && align <= SEGMENT_SIZE) return segment_reserve();
  segment *s = align <= SEGMENT_SIZE ? _brt_os_map_aligned(mapping, SEGMENT_SIZE)
                                     : _brt_os_map_aligned_at(mapping, align, SEGMENT_SIZE);
  if (!s)
    brt_error_set_os(BRT_E_OUT_OF_MEMORY, errno,
                     "the OS refused %zu bytes for a %zu-byte block (mmap: %s)", mapping, request,
                     strerror(errno));
  return s;
}

/* Writes the header of a single-block segment whose one block of
 * `block_size` bytes starts `block_offset` bytes into it, aligned to
 * `block_align`, and publishes the segment. */
static void single_segment_init(segment *s, segment_kind kind, size_t block_offset,
                                size_t block_size, size_t block_align, size_t mapping, int fd,
                                bool read_only) {
  s->kind = kind;
  s->page_shift = SEGMENT_SHIFT;
  s->page_count = 1;
  s->mapping_size = mapping;
  s->header_size = header_size_for(1, sizeof(uint64_t) + sizeof(track_entry));
  s->fd = fd;
  s->read_only = read_only;
  segment_owner_set(s, NULL);
  page *pg = &s->pages[0];
  memset(pg, 0, sizeof *pg);
  pg->block_start = (uintptr_t)s + block_offset;
  page_layout_set(pg, block_size, 1);
  pg->capacity = 1;
  pg->extended = 1;
  page_flags_store(pg, PAGE_SINGLE);
  pg->in_use = 1;
  pg->committed = 1;
  pg->block_align = block_align;
  pg->meta = (_Atomic uint32_t *)(void *)&s->pages[1];
  pg->track = (track_entry *)(void *)((char *)&s->pages[1] + sizeof(uint64_t));
  memset(pg->track, 0, sizeof *pg->track);
  atomic_store_explicit(pg->meta, 0, memory_order_relaxed);
  _brt_mem_registry_add(s);
  _brt_mem_segment_map_set(s, true);
}

/* A segment holding one block of `size` bytes at offset max(OS_PAGE, align)
 * (SEGMENT_SIZE for an alignment of 4 MiB or more, the segment's second
 * slot being aligned to it): LARGE (anonymous), SHARED (fd is a memfd
 * mapped shared) or MAPPED (fd is a file mapped private read-only). The
 * block's metadata word and tracking record sit in the header page.
 * Records the error on failure. */
segment *_brt_mem_single_segment_new(segment_kind kind, size_t size, size_t align, int fd,
                                     size_t request) {
  size_t offset = align >= SEGMENT_SIZE ? SEGMENT_SIZE : align > OS_PAGE ? align : OS_PAGE;
  size_t usable = (size + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
  size_t end = offset + usable;
  size_t mapping = end > SEGMENT_SIZE ? end : SEGMENT_SIZE;
  size_t block_size = kind == SEGMENT_MAPPED ? size : usable;
  size_t charge = single_segment_charge(offset, block_size);
  if (kind == SEGMENT_MAPPED ? !mapped_charge("brt_map_file", charge, size)
                             : !_brt_mem_charge(charge, request))
    return NULL;
  segment *s = single_segment_reserve(mapping, align, request);
  if (!s) {
    _brt_mem_uncharge(charge);
    return NULL;
  }
  os_fd_map how = kind == SEGMENT_SHARED ? OS_FD_SHARED_WRITE : OS_FD_PRIVATE_READ;
  if (fd >= 0 && !_brt_os_map_fd_fixed((char *)s + offset, usable, fd, 0, how)) {
    int saved = errno;
    _brt_os_unmap(s, mapping);
    _brt_mem_uncharge(charge);
    brt_error_set_os(BRT_E_IO, saved, "mapping %zu bytes of fd %d failed: %s", usable, fd,
                     strerror(saved));
    return NULL;
  }
  single_segment_init(s, kind, offset, block_size, align > OS_PAGE ? align : OS_PAGE, mapping,
                      kind == SEGMENT_SHARED ? fd : -1, kind == SEGMENT_MAPPED);
  return s;
}

/* Only a block at the segment's second page in more than one segment of
 * address space is cached: one 4 MiB segment goes to the pool, and a
 * larger alignment would have to match too. */
static bool large_cacheable(size_t mapping, size_t block_offset) {
  return mapping > SEGMENT_SIZE && block_offset == OS_PAGE;
}

segment *_brt_mem_large_segment_new(size_t size, size_t align, bool *recycled) {
  size_t usable = (size + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
  *recycled = false;
  /* A limit lowered below what is committed (cached mappings included)
   * refuses what it would refuse without the cache: the cache is dropped
   * and the block charged afresh. Under the limit, a reuse commits no more
   * than the cache already held. */
  uint64_t limit = atomic_load_explicit(&_brt_mem.limit, memory_order_relaxed);
  if (limit && atomic_load_explicit(&_brt_mem.committed, memory_order_relaxed) > limit)
    _brt_mem_large_cache_purge();
  else if (align <= OS_PAGE && usable <= SIZE_MAX - OS_PAGE &&
           large_cacheable(OS_PAGE + usable, OS_PAGE)) {
    segment *s = _brt_mem_large_cache_take(usable);
    if (s) { /* still charged single_segment_charge(OS_PAGE, usable) */
      size_t mapping = s->mapping_size;
      memset(s, 0, sizeof *s);
      single_segment_init(s, SEGMENT_LARGE, OS_PAGE, usable, OS_PAGE, mapping, -1, false);
      *recycled = true;
      return s;
    }
  }
  return _brt_mem_single_segment_new(SEGMENT_LARGE, size, align, -1, size);
}

/* Like a MAPPED segment of brt_map_file, charged its header page and the
 * pages it maps, but MAP_SHARED so that the block is the file's own
 * pages. A block start that is not page aligned is still a block start:
 * resolving a pointer needs only p == block_start (the block index is 0),
 * so the lead bytes of the first mapped page simply belong to no block. */
segment *_brt_mem_fd_segment_new(int fd, uint64_t offset, size_t len, bool writable) {
  size_t lead = (size_t)(offset % OS_PAGE);
  size_t span = (lead + len + OS_PAGE - 1) & ~(size_t)(OS_PAGE - 1);
  size_t end = OS_PAGE + span;
  size_t mapping = end > SEGMENT_SIZE ? end : SEGMENT_SIZE;
  size_t charge = single_segment_charge(OS_PAGE + lead, len);
  if (!mapped_charge("brt_map_fd", charge, len)) return NULL;
  segment *s = single_segment_reserve(mapping, SEGMENT_SIZE, len);
  if (!s) {
    _brt_mem_uncharge(charge);
    return NULL;
  }
  if (!_brt_os_map_fd_fixed((char *)s + OS_PAGE, span, fd, offset - lead,
                            writable ? OS_FD_SHARED_WRITE : OS_FD_SHARED_READ)) {
    int saved = errno;
    _brt_os_unmap(s, mapping);
    _brt_mem_uncharge(charge);
    brt_error_set_os(BRT_E_IO, saved, "brt_map_fd: mapping %zu bytes of fd %d from offset %llu "
                     "(%s) failed: %s", len, fd, (unsigned long long)offset,
                     writable ? "read-write" : "read-only", strerror(saved));
    return NULL;
  }
  /* The block's alignment is that of its offset in the page (the lowest set
   * bit of `lead`), or the page's when it starts one. */
  size_t block_align = lead ? lead & -lead : OS_PAGE;
  single_segment_init(s, SEGMENT_MAPPED, OS_PAGE + lead, len, block_align, mapping, -1, !writable);
  return s;
}

/* Frees a single-block segment whose block was just released. */
void _brt_mem_single_segment_free(segment *s) {
  page *pg = &s->pages[0];
  size_t charge = single_segment_charge(pg->block_start - (uintptr_t)s, pg->block_size);
  if (s->fd >= 0) close(s->fd);
  asan_unpoison(s, s->mapping_size); /* ASan: no stale poison where the range is reused */
  if (s->mapping_size == SEGMENT_SIZE && s->kind == SEGMENT_LARGE) {
    pool_put(s);
  } else if (s->kind == SEGMENT_LARGE &&
             large_cacheable(s->mapping_size, pg->block_start - (uintptr_t)s)) {
    _brt_mem_segment_map_set(s, false);
    _brt_mem_registry_remove(s);
    if (_brt_mem_large_cache_put(s, pg->block_size)) return; /* keeps its charge */
    _brt_os_unmap(s, s->mapping_size);
  } else {
    _brt_mem_segment_map_set(s, false);
    _brt_mem_registry_remove(s);
    _brt_os_unmap(s, s->mapping_size);
  }
  _brt_mem_uncharge(charge);
}

/* --- Shared arena segments ----------------------------------------------------- */

/* A shared arena segment (shared.c): a pooled or fresh 4 MiB segment whose
 * block pages (from SHARED_AREA_OFFSET) are replaced by one new memfd
 * mapped shared. The header and the side arrays stay private anonymous
 * memory: a process that maps the fd cannot see or write them. Charges
 * the header; pages are charged when they start. Records the error on
 * failure (a process out of file descriptors gets EMFILE named). */
segment *_brt_mem_shared_segment_new(size_t request) {
  size_t header = header_size_for(PAGES_PER_SEGMENT_MAX, 0);
  if (!_brt_mem_charge(header, request)) return NULL;
  /* Sealable, so that a process handing the fd to another can seal it
   * against shrinking (F_SEAL_SHRINK): the allocator never shrinks it (an
   * empty page gets a hole punched, which keeps the size). */
  int fd = memfd_create("bridgert-shared-arena", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0 || ftruncate(fd, (off_t)SHARED_AREA_BYTES) != 0) {
    int saved = errno;
    if (fd >= 0) close(fd);
    _brt_mem_uncharge(header);
    brt_error_set_os(BRT_E_OUT_OF_MEMORY, saved,
                     "brt_alloc_shared: a memfd of %zu bytes for the shared arena failed: %s",
                     (size_t)SHARED_AREA_BYTES, strerror(saved));
    return NULL;
  }
  segment *s = segment_reserve();
  if (!s) {
    close(fd);
    _brt_mem_uncharge(header);
    return NULL;
  }
  if (!_brt_os_map_fd_fixed((char *)s + SHARED_AREA_OFFSET, SHARED_AREA_BYTES, fd, 0,
                            OS_FD_SHARED_WRITE)) {
    int saved = errno;
    _brt_os_unmap(s, SEGMENT_SIZE);
    close(fd);
    _brt_mem_uncharge(header);
    brt_error_set_os(BRT_E_OUT_OF_MEMORY, saved, "brt_alloc_shared: mapping the shared arena's memfd "
                     "failed: %s", strerror(saved));
    return NULL;
  }
  s->kind = SEGMENT_SHARED_ARENA;
  s->page_shift = SMALL_PAGE_SHIFT;
  s->page_count = PAGES_PER_SEGMENT_MAX;
  s->used_pages = 0;
  s->mapping_size = SEGMENT_SIZE;
  s->header_size = header;
  s->fd = fd;
  segment_owner_set(s, NULL); /* no thread heap owns it */
  _brt_mem_registry_add(s);
  _brt_mem_segment_map_set(s, true);
  return s;
}

/* Gives back a shared arena segment whose pages are all free and
 * decommitted: its map bit goes first (so a stale pointer is reported,
 * not followed), then the mapping (unmapped rather than pooled, since its
 * block area is the memfd's) and the fd. */
void _brt_mem_shared_segment_free(segment *s) {
  size_t header = s->header_size;
  int fd = s->fd;
  _brt_mem_segment_map_set(s, false);
  _brt_mem_registry_remove(s);
  asan_unpoison(s, SEGMENT_SIZE); /* ASan: no stale poison where the range is reused */
  _brt_os_unmap(s, SEGMENT_SIZE);
  close(fd);
  _brt_mem_uncharge(header);
}
