/* memory_manager/ invariant checks (docs/memory.md, "Invariants"), by
 * assertion level: the meson option debug_level sets BRT_DEBUG_LEVEL.
 *  - 0 (default, every release build): no check, no code. Every macro
 *    below expands to nothing that is evaluated, so the allocator compiles
 *    to the same instructions as without this header.
 *  - 1: cheap checks on slow paths (segments and pages acquired, started,
 *    retired and released, the commit charge, budgets, the mapper, the
 *    shared arena's lock).
 *  - 2: level 1, plus checks on every path: the segment map against the
 *    header a pointer resolves to, the metadata word and owner byte of
 *    every block allocated, retained and released, refcount ranges, each
 *    popped free-list link, and a full walk of a page's free lists (no
 *    cycle, every entry a free slot of the page, counts matching `used`)
 *    whenever a slow path changes them.
 * A failed check prints the invariant's name as docs/memory.md spells it,
 * the file and line and the values involved to stderr, then aborts: state
 * that breaks an invariant is corrupt, and going on would spread it. */
#ifndef BRT_MEMORY_CHECK_H
#define BRT_MEMORY_CHECK_H

#ifndef BRT_DEBUG_LEVEL
#define BRT_DEBUG_LEVEL 0
#endif

#if BRT_DEBUG_LEVEL > 0
/* Prints "bridgert: invariant NAME violated at FILE:LINE: VALUES" and
 * aborts. */
_Noreturn __attribute__((cold, format(printf, 4, 5))) void _brt_mem_check_failed(
    const char *invariant, const char *file, int line, const char *fmt, ...);
#define MEM_CHECK_AT(cond, invariant, ...)                                      \
  do {                                                                          \
    if (BRT_UNLIKELY(!(cond))) _brt_mem_check_failed(invariant, __FILE__, __LINE__, __VA_ARGS__); \
  } while (0)
#endif

#if BRT_DEBUG_LEVEL >= 1
#define MEM_CHECK1(cond, invariant, ...) MEM_CHECK_AT(cond, invariant, __VA_ARGS__)
#else
#define MEM_CHECK1(cond, invariant, ...) ((void)0)
#endif
#if BRT_DEBUG_LEVEL >= 2
#define MEM_CHECK2(cond, invariant, ...) MEM_CHECK_AT(cond, invariant, __VA_ARGS__)
#else
#define MEM_CHECK2(cond, invariant, ...) ((void)0)
#endif

/* Whole-structure checks (check.c). Each is a no-op below its level. */
#if BRT_DEBUG_LEVEL >= 1
/* A segment about to enter or leave the segment map, or handed to a heap:
 * aligned, a known kind, its page shift and count consistent (segment-map). */
void _brt_mem_check_segment(const segment *s, const char *file, int line);
/* A page just started: its layout (block-layout). */
void _brt_mem_check_page_layout(const page *pg, const char *file, int line);
/* A page going back to its segment: nothing handed out, nothing waiting
 * on thread_free (page-used). */
void _brt_mem_check_page_empty(const page *pg, const char *file, int line);
/* A single-block segment just made for a block of `len` bytes (the
 * mapper, large and SHARED blocks): one page, one block inside the
 * mapping (block-layout). */
void _brt_mem_check_single(const segment *s, size_t len, const char *file, int line);
/* A heap with an active budget: its thread's own, every direct slot on the
 * empty page so that each allocation reaches the budget check (budget). */
void _brt_mem_check_budget(const heap *h, const char *file, int line);
#define MEM_CHECK1_SEGMENT(s) _brt_mem_check_segment((s), __FILE__, __LINE__)
#define MEM_CHECK1_PAGE_LAYOUT(pg) _brt_mem_check_page_layout((pg), __FILE__, __LINE__)
#define MEM_CHECK1_PAGE_EMPTY(pg) _brt_mem_check_page_empty((pg), __FILE__, __LINE__)
#define MEM_CHECK1_SINGLE(s, len) _brt_mem_check_single((s), (len), __FILE__, __LINE__)
#define MEM_CHECK1_BUDGET(h) _brt_mem_check_budget((h), __FILE__, __LINE__)
#else
#define MEM_CHECK1_SEGMENT(s) ((void)0)
#define MEM_CHECK1_PAGE_LAYOUT(pg) ((void)0)
#define MEM_CHECK1_PAGE_EMPTY(pg) ((void)0)
#define MEM_CHECK1_SINGLE(s, len) ((void)0)
#define MEM_CHECK1_BUDGET(h) ((void)0)
#endif

#if BRT_DEBUG_LEVEL >= 2
/* The owner's full view of a thread-heap page: free and local_free are
 * acyclic lists of free slots of the page, and extended == used +
 * |free| + |local_free| (free-list, page-used). Blocks on thread_free are
 * still counted in used until the owner collects them. */
void _brt_mem_check_page_lists(const page *pg, const char *file, int line);
/* A block handed out: a slot of the page whose word was free (0 or
 * FREED, not QUARANTINED) and whose owner byte is 0 (meta-word). */
void _brt_mem_check_block_handout(const page *pg, const void *block, const char *file, int line);
/* The new head of a thread-heap page's free list after a pop: NULL or a
 * threaded slot of the page (free-list). */
void _brt_mem_check_link(const page *pg, const free_block *next, const char *file, int line);
/* A live metadata word about to change (retain, release): its count and
 * owner byte in range (refcount-range, meta-word). The owner byte is
 * checked only by its owner thread, the one writer. */
void _brt_mem_check_live_word(const page *pg, size_t index, uint32_t word, const char *file,
                              int line);
#define MEM_CHECK2_PAGE_LISTS(pg) _brt_mem_check_page_lists((pg), __FILE__, __LINE__)
#define MEM_CHECK2_HANDOUT(pg, block) _brt_mem_check_block_handout((pg), (block), __FILE__, __LINE__)
#define MEM_CHECK2_LINK(pg, next) _brt_mem_check_link((pg), (next), __FILE__, __LINE__)
#define MEM_CHECK2_LIVE_WORD(pg, index, word) \
  _brt_mem_check_live_word((pg), (index), (word), __FILE__, __LINE__)
#else
#define MEM_CHECK2_PAGE_LISTS(pg) ((void)0)
#define MEM_CHECK2_HANDOUT(pg, block) ((void)0)
#define MEM_CHECK2_LINK(pg, next) ((void)0)
#define MEM_CHECK2_LIVE_WORD(pg, index, word) ((void)0)
#endif

#endif /* BRT_MEMORY_CHECK_H */
