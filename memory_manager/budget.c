/* Allocation budgets: a cap on the net heap bytes one thread allocates in
 * a scope (the per-call memory_limit of algorithms).
 *
 * A budget is a caller-owned struct on the thread's stack of budgets
 * (heap->budget, innermost first, linked through internal_outer). Its baseline is
 * the thread's heap bytes when it began: the thread's own statistics
 * counters, which every allocation and release by this thread updates
 * exactly, so the net of a budget is a subtraction, with no counter of
 * its own to keep on the release path.
 *
 * Cost: nothing for threads without a budget. While a thread has one, its
 * direct slots point to the empty page (page.c, _brt_mem_bin_set_current),
 * so each of its allocations takes the slow path, which checks every
 * active budget before taking a block; releases keep their fast path. */
#include "internal.h"

#include <string.h>

/* The bytes the thread's heap counters hold in heap types (SHARED and
 * MAPPED are not counted: see brt_mem_budget in memory.h). */
static int64_t heap_bytes(const heap *h) {
  int64_t total = 0;
  for (int type = BRT_MEM_C_HEAP; type <= BRT_MEM_CPP_HEAP; type++)
    total += atomic_load_explicit(&h->stats.bytes_by_type[type], memory_order_relaxed);
  return total;
}

static const char *label_of(const brt_mem_budget *b) { return b->label ? b->label : "budget"; }

/* The net bytes a scope that has `used` (negative: it released more than
 * it allocated) would hold with `usable` more, without overflow for any
 * limit up to UINT64_MAX. */
static uint64_t would_use(int64_t used, size_t usable) {
  if (used >= 0) return (uint64_t)used + usable < (uint64_t)used ? UINT64_MAX : (uint64_t)used + usable;
  uint64_t credit = (uint64_t)0 - (uint64_t)used;
  return usable > credit ? usable - credit : 0;
}

bool _brt_mem_budget_allows(heap *h, size_t usable, size_t request, const char *function) {
  MEM_CHECK1_BUDGET(h);
  int64_t bytes = heap_bytes(h);
  for (brt_mem_budget *b = h->budget; b; b = b->internal_outer) {
    int64_t used = bytes - b->internal_baseline;
    if (would_use(used, usable) > b->limit) {
      b->refused++;
      brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                    "%s: allocating %zu bytes (a %zu-byte block) would pass the memory limit of "
                    "%llu bytes of %s, which has %lld bytes in use",
                    function, request, usable, (unsigned long long)b->limit, label_of(b),
                    (long long)used);
      return false;
    }
  }
  for (brt_mem_budget *b = h->budget; b; b = b->internal_outer) {
    uint64_t after = would_use(bytes - b->internal_baseline, usable);
    if (after > b->peak) b->peak = after;
  }
  return true;
}

/* Points every direct slot of h at its bin's current page again (the last
 * budget ended) or at the empty page (the first one began). */
static void direct_slots_reset(heap *h) {
  for (size_t bin = 0; bin < BIN_COUNT; bin++)
    _brt_mem_bin_set_current(h, bin, h->bins[bin].first);
}

static brt_status check_struct(const brt_mem_budget *budget, const char *function) {
  if (!budget)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: budget is NULL",
                         function);
  if (budget->struct_size < sizeof(brt_mem_budget))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: budget->struct_size is %u, expected at least %zu (set it to "
                         "sizeof(brt_mem_budget))",
                         function, budget->struct_size, sizeof(brt_mem_budget));
  return BRT_OK;
}

brt_status brt_mem_budget_begin(brt_mem_budget *budget) {
  brt_status status = check_struct(budget, "brt_mem_budget_begin");
  if (status != BRT_OK) return status;
  if (budget->limit == 0)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_mem_budget_begin: the limit of %s is 0; give at least 1 byte "
                         "(no limit: do not begin a budget)", label_of(budget));
  heap *h = _brt_mem_heap_get();
  if (!h) return BRT_E_OUT_OF_MEMORY;
  for (const brt_mem_budget *b = h->budget; b; b = b->internal_outer)
    if (b == budget)
      return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_mem_budget_begin: %s (%p) is already active on this thread; "
                           "end it first or use another brt_mem_budget",
                           label_of(budget), (void *)budget);
  bool first = h->budget == NULL;
  budget->used = 0;
  budget->peak = 0;
  budget->refused = 0;
  budget->internal_baseline = heap_bytes(h);
  budget->internal_outer = h->budget;
  h->budget = budget;
  if (first) direct_slots_reset(h);
  MEM_CHECK1_BUDGET(h);
  return BRT_OK;
}

brt_status brt_mem_budget_end(brt_mem_budget *budget) {
  brt_status status = check_struct(budget, "brt_mem_budget_end");
  if (status != BRT_OK) return status;
  heap *h = _brt_mem_tls_heap;
  if (h->budget != budget)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_mem_budget_end: %p is not this thread's innermost active budget "
                         "(%s%s); budgets end in reverse order, on the thread that began them",
                         (void *)budget, h->budget ? "the innermost is " : "this thread has none",
                         h->budget ? label_of(h->budget) : "");
  budget->used = heap_bytes(h) - budget->internal_baseline;
  h->budget = budget->internal_outer;
  budget->internal_outer = NULL;
  if (!h->budget) direct_slots_reset(h);
  return BRT_OK;
}
