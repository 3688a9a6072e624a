/* bridgert — the memory manager (docs/memory.md).
 *
 * One allocator for C, C++ and Rust. A block from brt_alloc is an ordinary
 * pointer that any language uses directly; it carries a reference count
 * (1 at allocation), a type tag (which heap it stands for) and, when
 * tracking is on, an id and an allocation time. Any thread and any language
 * may retain or release any block.
 *
 * Bad pointers never crash and never corrupt: releasing NULL, a pointer
 * that bridgert did not allocate (glibc malloc, stack, static, unmapped),
 * an interior pointer or a block that is already free returns
 * BRT_E_INVALID_POINTER or BRT_E_DOUBLE_FREE, records an error and changes
 * nothing. How long a double free stays detectable is documented in
 * docs/memory.md ("Detection windows"); the hardened mode (config
 * `hardened`) widens that window with a quarantine.
 *
 * Every function is thread-safe. Statistics are exact when read after the
 * threads that allocated and released have synchronised with the reader. */
#ifndef BRIDGERT_MEMORY_H
#define BRIDGERT_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "bridgert/config.h"
#include "bridgert/export.h"
#include "bridgert/status.h"

/* Which heap a block stands for (its type tag). Values are stable. */
typedef enum brt_mem_type {
  BRT_MEM_C_HEAP = 0,
  BRT_MEM_RUST_HEAP = 1,
  BRT_MEM_CPP_HEAP = 2,
  BRT_MEM_SHARED = 3, /* memfd-backed: can be mapped by another process */
  BRT_MEM_MAPPED = 4, /* a file or memfd mapping (brt_map_file, brt_map_fd) */
  BRT_MEM_TYPE_COUNT
} brt_mem_type;

/* brt_alloc flags. */
enum { BRT_ALLOC_ZERO = 1u << 0 /* the block's bytes are zero */ };

/* The largest reference count a block can hold (8,388,607: the count is
 * a signed 24-bit field while the owner thread's references are counted
 * apart, docs/memory.md "Owner-biased counts"); a retain beyond it fails
 * with BRT_E_OUT_OF_RANGE and changes nothing. */
#define BRT_REFCOUNT_MAX ((uint32_t)((1u << 23) - 1))
/* The largest size brt_alloc accepts (1 TiB). */
#define BRT_ALLOC_SIZE_MAX ((size_t)1 << 40)
/* The largest alignment brt_alloc accepts (1 GiB). Up to 4096 is served
 * from pages of small blocks; larger alignments get a segment of their own
 * (4 MiB and more: a segment whose header sits in the 4 MiB below the
 * block). Every accepted alignment gives a block that brt_owns knows and
 * brt_release frees. */
#define BRT_ALLOC_ALIGN_MAX ((size_t)1 << 30)

/* brt_block_info.flags. */
enum {
  /* The block's bytes cannot be written: a MAPPED block of brt_map_file,
   * or of brt_map_fd without BRT_MAP_WRITABLE. A write faults (SIGSEGV);
   * brt_tensor_set_* on a tensor over it fails with BRT_E_PERMISSION. */
  BRT_BLOCK_READ_ONLY = 1u << 0
};

/* What brt_block_info_get reports. Set struct_size = sizeof before the call. */
typedef struct brt_block_info {
  uint32_t struct_size;
  size_t size;   /* requested size when tracking >= blocks, else == usable */
  size_t usable; /* bytes the block really has (>= the requested size) */
  size_t align;  /* the largest power of two (<= 4096 or the requested
                    alignment of a large block) that the address honours */
  brt_mem_type type;
  uint32_t refcount;
  uint64_t id;     /* allocation id when tracking >= blocks, else 0 */
  uint64_t age_ns; /* time since allocation when tracking >= blocks, else 0 */
  /* Extension fields: written only when struct_size covers them (the
   * contract ends at age_ns; a caller whose struct_size ends there does
   * not receive them). */
  uint32_t flags; /* BRT_BLOCK_* bits */
} brt_block_info;

/* Process-wide statistics (brt_mem_stats_get). Set struct_size = sizeof. */
typedef struct brt_mem_stats {
  uint32_t struct_size;
  uint64_t live_blocks, live_bytes; /* bytes are usable bytes of live blocks */
  uint64_t peak_bytes;      /* highest live_bytes seen (see docs/memory.md) */
  uint64_t committed_bytes; /* what the limit charges: pages committed from the OS
                               (cached large mappings included), and every page
                               MAPPED blocks map */
  uint64_t total_allocs, total_frees;
  uint64_t live_bytes_by_type[BRT_MEM_TYPE_COUNT]; /* indexed by brt_mem_type */
  uint64_t errors_invalid_pointer, errors_double_free, errors_layout_mismatch;
  /* Extension fields: written only when struct_size covers them (the
   * contract ends at errors_layout_mismatch). */
  uint64_t limit_bytes;       /* current limit, 0 = unlimited */
  uint64_t active_shares;     /* live blocks that were shared with brt_map_share */
  uint64_t total_shares;      /* brt_map_share calls that succeeded */
  uint64_t mapped_files;      /* live MAPPED blocks (brt_map_file, brt_map_fd) */
  uint64_t collections;       /* brt_mem_collect runs, explicit and automatic */
  uint64_t errors_use_after_free; /* hardened mode: poison found damaged */
  uint64_t abandoned_segments;    /* segments of exited threads not yet reclaimed */
  uint64_t tracking;              /* the allocator's brt_tracking level now */
} brt_mem_stats;

/* Called by brt_mem_visit_live for each live block. Return 0 to go on,
 * anything else to stop the visit. The visitor must not release blocks. */
typedef int (*brt_block_visitor)(void *ctx, const void *block, const brt_block_info *info);

BRT_BEGIN_DECLS

/* Allocates `size` bytes aligned to `align` (a power of two, at most
 * BRT_ALLOC_ALIGN_MAX; every block is at least 16-byte aligned), tagged
 * `type`, with a reference count of 1. flags: 0 or BRT_ALLOC_ZERO.
 * BRT_MEM_SHARED gives a memfd-backed block (as brt_alloc_shared);
 * BRT_MEM_MAPPED is only made by brt_map_file and brt_map_fd.
 * Errors (NULL returned): size 0, a non-power-of-two align, an unknown type
 * or flag: BRT_E_INVALID_ARGUMENT; size > BRT_ALLOC_SIZE_MAX or the OS
 * refusing memory: BRT_E_OUT_OF_MEMORY; the limit: BRT_E_LIMIT_EXCEEDED.
 * Since 0.1.0. */
BRT_API void *brt_alloc(size_t size, size_t align, brt_mem_type type, unsigned flags);

/* Adds one reference. NULL, foreign or interior pointers:
 * BRT_E_INVALID_POINTER; a freed block: BRT_E_DOUBLE_FREE (use after free);
 * BRT_REFCOUNT_MAX reached: BRT_E_OUT_OF_RANGE. Since 0.1.0. */
BRT_API brt_status brt_retain(const void *p);

/* Drops one reference and frees the block when it was the last one.
 * Errors as brt_retain (a freed block is BRT_E_DOUBLE_FREE). Since 0.1.0. */
BRT_API brt_status brt_release(const void *p);

/* brt_release for callers that know the layout (Rust's dealloc): also
 * checks that (size, align) could have produced this block, else
 * BRT_E_LAYOUT_MISMATCH and nothing changes. With tracking >= blocks the
 * size must equal the requested size; otherwise it must lie in the block's
 * class (more than half its usable size and at most its usable size, or a
 * size whose class is the block's; for a block alone in its segment, above
 * 64 KiB or aligned above 4096, a size that rounds up to its pages).
 * Since 0.1.0. */
BRT_API brt_status brt_release_sized(const void *p, size_t size, size_t align);

/* Resizes a block that only the caller holds (refcount 1), in place when
 * the new size fits the block's class or a large block can grow inside its
 * segment, else by moving it (same type; the old block is freed). On failure returns NULL and the old block is
 * untouched. p NULL or not a live block: BRT_E_INVALID_POINTER; new_size 0
 * or a bad align: BRT_E_INVALID_ARGUMENT; a block with other references, a
 * SHARED or MAPPED block: BRT_E_UNSUPPORTED. Since 0.1.0. */
BRT_API void *brt_realloc(void *p, size_t new_size, size_t align);

/* 1 if p is the start of a live bridgert block, else 0. Never reads memory
 * that bridgert does not own (one segment-map load for foreign pointers, two
 * for one aligned to 4 MiB). Never records an error. Since 0.1.0. */
BRT_API int brt_owns(const void *p);

/* Fills *out (out->struct_size set by the caller, at least up to age_ns;
 * fields beyond it are not written) for a live block. Errors as
 * brt_retain; out NULL or too small: BRT_E_INVALID_ARGUMENT. Since 0.1.0. */
BRT_API brt_status brt_block_info_get(const void *p, brt_block_info *out);

/* The C++ heap (operator new, std::allocator in cpp_shim/): CPP_HEAP
 * blocks. size 0 gives a unique minimal block, as operator new(0) must.
 * brt_cpp_deallocate releases like brt_release but also checks the tag is
 * BRT_MEM_CPP_HEAP (else BRT_E_TYPE_MISMATCH, nothing changes).
 * Since 0.1.0. */
BRT_API void *brt_cpp_allocate(size_t size, size_t align);
BRT_API brt_status brt_cpp_deallocate(void *p);

/* Sharing and mapping. brt_map_share: zero-copy sharing of a live block: retains
 * it, marks it as shared (counted in active_shares until the block is
 * freed) and returns p. Shared blocks cannot be reallocated. Since 0.1.0. */
BRT_API void *brt_map_share(const void *p);
/* A new block of type `to` (C, Rust, C++ heap or SHARED) holding a copy of
 * the block's bytes (its size as brt_block_info reports it). Since 0.1.0. */
BRT_API void *brt_map_copy(const void *p, brt_mem_type to);
/* Maps the file at `path` read-only (private mmap) as a MAPPED block of
 * refcount 1; *len receives its length. Released with brt_release. flags
 * must be 0. The block is read-only (BRT_BLOCK_READ_ONLY): a write faults.
 * Charged against the memory limit (max_memory, brt_mem_set_limit) like
 * memory it allocates: the file's length rounded up to pages, plus one
 * page, until it is released. Missing file, directory, empty file,
 * unreadable file: BRT_E_IO naming the path and the OS error; the limit:
 * BRT_E_LIMIT_EXCEEDED (nothing mapped). Since 0.1.0. */
BRT_API void *brt_map_file(const char *path, size_t *len, unsigned flags);
/* A SHARED block of `size` bytes, zeroed, in memfd-backed memory that
 * another process can map (brt_shared_fd). Blocks up to 64 KiB share an
 * arena: one memfd per 4 MiB segment, cut into blocks of at least 64
 * bytes; larger blocks have their own memfd. A block of 4096 bytes or more
 * is page aligned (its fd offset is a multiple of 4096), a smaller one is
 * 64-byte aligned. Allocation takes a process-wide mutex (SHARED blocks are
 * not meant for hot loops); release, from any thread, does not.
 * Errors (NULL returned): size 0: BRT_E_INVALID_ARGUMENT; too large, or the
 * OS refusing a memfd (out of file descriptors): BRT_E_OUT_OF_MEMORY; the
 * limit: BRT_E_LIMIT_EXCEEDED. Since 0.1.0. */
BRT_API void *brt_alloc_shared(size_t size);
/* The memfd of a SHARED block and the block's offset in it: another
 * process (or a forked child) that maps `fd` from `offset` rounded down to
 * the page size sees and writes the block's bytes. The fd belongs to the
 * allocator, which closes it when its segment is given back (the last
 * block of an arena segment freed and brt_mem_collect, or the release of a
 * block above 64 KiB); dup it to keep it. Once the block is released its
 * bytes may be handed out again, so the other process must be done with
 * them first. Errors (out-arguments unchanged): fd or offset NULL:
 * BRT_E_INVALID_ARGUMENT; p not a live block: BRT_E_INVALID_POINTER or
 * BRT_E_DOUBLE_FREE; not a SHARED block: BRT_E_TYPE_MISMATCH. Since 0.1.0. */
BRT_API brt_status brt_shared_fd(const void *p, int *fd, uint64_t *offset);

/* brt_map_fd flags. */
enum { BRT_MAP_WRITABLE = 1u << 0 /* map read-write (the fd must be open O_RDWR) */ };
/* Maps `len` bytes of the regular file or memfd `fd` from `offset` as a
 * MAPPED block of refcount 1, released with brt_release (which unmaps it).
 * The mapping is MAP_SHARED: the block's bytes are the file's, so another
 * process that maps the same memfd (from brt_shared_fd) sees and writes the
 * same bytes. Read-only unless flags has BRT_MAP_WRITABLE. `offset` need not
 * be page aligned: the returned pointer is the first requested byte and a
 * block start like any other (brt_owns, brt_block_info_get with size `len`,
 * brt_tensor_wrap); its alignment is that of `offset` within a page. The fd
 * is not taken: the caller may close it at once. Counted in mapped_files;
 * charged against the memory limit as brt_map_file: every page the range
 * covers, plus one. Without BRT_MAP_WRITABLE the block is read-only
 * (BRT_BLOCK_READ_ONLY). A file that shrinks while mapped makes an access past
 * its new end raise SIGBUS: seal a memfd with F_SEAL_SHRINK first. Errors
 * (NULL returned, nothing mapped): fd < 0 or not open, len 0, unknown flags,
 * offset + len overflowing a file offset, the range beyond the file's size,
 * an fd that is not a regular file or memfd (pipe, socket, directory,
 * device), or an access mode the mapping cannot have (BRT_MAP_WRITABLE on a
 * read-only fd): BRT_E_INVALID_ARGUMENT; fstat or mmap failing: BRT_E_IO
 * with the OS error; the limit: BRT_E_LIMIT_EXCEEDED. Since 0.1.0. */
BRT_API void *brt_map_fd(int fd, uint64_t offset, size_t len, unsigned flags);

/* Sums the per-thread statistics into *out. out->struct_size must be set
 * (at least up to errors_layout_mismatch; fields beyond the caller's size
 * are not written). NULL or too small: BRT_E_INVALID_ARGUMENT. Since 0.1.0. */
BRT_API brt_status brt_mem_stats_get(brt_mem_stats *out);
/* Sets the limit on committed bytes (0 = none). It covers every block:
 * heap and SHARED blocks by the pages they commit, MAPPED blocks by every
 * page they map (a mapping of a file larger than the limit is refused).
 * A limit below what is committed now is accepted: later commits fail
 * until memory is returned. Since 0.1.0. */
BRT_API brt_status brt_mem_set_limit(size_t bytes);
/* Flushes the calling thread's caches and quarantine, reclaims abandoned
 * segments, asks other threads to flush at their next slow path, and
 * returns every empty page to the OS (the cached mappings of freed large
 * blocks included). Since 0.1.0. */
BRT_API brt_status brt_mem_collect(void);
/* Replaces the clock that block ages are measured on (tracking >= blocks:
 * brt_block_info.age_ns, brt_mem_visit_live's min_age_ns, the leak report)
 * with now_ns(ctx), nanoseconds of a monotonic clock of the caller's; NULL
 * restores the allocator's own (the coarse monotonic clock since it
 * started). For tests that check ages without sleeping. Process-wide, like
 * the allocator; ages are kept in milliseconds. Set it before allocating
 * the blocks it is to measure: the age of a block allocated under another
 * clock means nothing. Always BRT_OK. Since 0.1.0. */
BRT_API brt_status brt_mem_set_clock(uint64_t (*now_ns)(void *ctx), void *ctx);
/* Allocation budgets: a cap on what one thread allocates inside a scope,
 * such as one call of an algorithm (brt_algorithm.memory_limit; the bridge
 * opens a budget around the call). A budget counts the net heap bytes of
 * the calling thread between brt_mem_budget_begin and brt_mem_budget_end:
 * the usable bytes of the C, Rust and C++ heap blocks it allocates minus
 * those of the blocks it releases (whoever allocated them). An allocation
 * that would take the net past `limit` returns NULL with
 * BRT_E_LIMIT_EXCEEDED naming the budget's label, its limit, the request
 * and the bytes in use; nothing else changes, and a later allocation that
 * fits succeeds. Budgets nest (every active one must allow an allocation)
 * and end in reverse order, on the thread that began them. While one is
 * active that thread's allocations leave the fast path to be counted
 * (docs/memory.md has the cost); other threads are unaffected. SHARED and
 * MAPPED blocks are not counted: the process-wide limit (max_memory)
 * covers them, and every allocation too. */
typedef struct brt_mem_budget {
  uint32_t struct_size; /* sizeof(brt_mem_budget), set by the caller */
  uint64_t limit;       /* bytes, at least 1; set by the caller */
  const char *label;    /* names the scope in errors ("algorithm \"fft@1.2.0\"");
                           NULL: "budget"; must stay valid until the end */
  /* Set by the allocator; read them after brt_mem_budget_end. */
  int64_t used;      /* net bytes when the budget ended (negative: freed more) */
  uint64_t peak;     /* the highest net bytes after any allocation in the scope */
  uint64_t refused;  /* allocations refused by this budget */
  /* Reserved: the allocator's state while the budget is active (the
   * thread's heap bytes when it began; the next outer active budget).
   * Callers neither read nor write them; only their size and offsets are
   * part of the ABI, their meaning is not (docs/abi.md, "Conventions"). */
  int64_t internal_baseline;             /* reserved */
  struct brt_mem_budget *internal_outer; /* reserved */
} brt_mem_budget;

/* Starts `budget` on the calling thread (innermost of any active ones).
 * budget NULL, struct_size too small, limit 0, or a budget already active
 * on this thread: BRT_E_INVALID_ARGUMENT; no memory for the thread's heap:
 * BRT_E_OUT_OF_MEMORY. Since 0.1.0. */
BRT_API brt_status brt_mem_budget_begin(brt_mem_budget *budget);
/* Ends the calling thread's innermost budget, which must be `budget`
 * (else BRT_E_INVALID_ARGUMENT and nothing changes), and fills in `used`.
 * Blocks allocated under it stay valid. Since 0.1.0. */
BRT_API brt_status brt_mem_budget_end(brt_mem_budget *budget);

/* Calls visitor for every live block at least min_age_ns old (0: all).
 * min_age_ns > 0 needs tracking >= blocks (else BRT_E_UNSUPPORTED). Blocks
 * allocated or freed by other threads during the visit may or may not be
 * seen. Since 0.1.0. */
BRT_API brt_status brt_mem_visit_live(uint64_t min_age_ns, brt_block_visitor visitor, void *ctx);
/* Per-size-class counters, kept from tracking level "counters" up
 * (BRT_TRACKING=counters): allocations of each class of blocks since pages
 * started being counted, and what is live in it now. Classes
 * 0..BRT_MEM_CLASS_COUNT-2 are the page classes (block_size 16 to 65536);
 * the last class gathers the blocks that live alone in a segment (above
 * 64 KiB, alignments above 4096, SHARED and MAPPED), block_size 0 there.
 * What is live is counted by walking the allocator's side arrays when
 * brt_mem_visit_classes runs (releases count nothing), so it is exact once
 * the threads that allocated and released have synchronised with the
 * reader; `frees` is allocs - live_blocks. */
#define BRT_MEM_CLASS_COUNT 45
typedef struct brt_mem_class_stats {
  uint32_t struct_size; /* set by the library */
  uint32_t class_index; /* 0 .. BRT_MEM_CLASS_COUNT - 1 */
  size_t block_size;    /* usable bytes of every block of the class; 0 for the last class */
  uint64_t allocs;      /* counted since tracking reached "counters" */
  uint64_t frees;       /* allocs - live_blocks (0 when blocks from before counting are live) */
  uint64_t live_blocks; /* live now */
  uint64_t live_bytes;  /* their usable bytes */
} brt_mem_class_stats;
/* Called once per class in class order; nonzero stops the visit. */
typedef int (*brt_mem_class_visitor)(void *ctx, const brt_mem_class_stats *stats);
/* Calls visitor for every size class (all of them, busy or not). visitor
 * NULL: BRT_E_INVALID_ARGUMENT; tracking below counters:
 * BRT_E_UNSUPPORTED (nothing is counted then). Takes the allocator's
 * segment lock for the walk (about a millisecond per 100 MB of small
 * blocks): for metrics and diagnostics, not for hot paths. Since 0.1.0. */
BRT_API brt_status brt_mem_visit_classes(brt_mem_class_visitor visitor, void *ctx);

/* Applies max_memory, gc_threshold, gc_interval_ms, tracking and hardened
 * from cfg (checked with brt_config_validate). Tracking and hardened take
 * effect for pages each thread starts using afterwards. The allocator
 * reads BRT_* variables once by itself at first use; the runtime calls
 * this with its resolved config. Since 0.1.0. */
BRT_API brt_status brt_mem_configure(const brt_config *cfg);

BRT_END_DECLS

#endif /* BRIDGERT_MEMORY_H */
