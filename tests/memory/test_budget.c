/* Allocation budgets (brt_mem_budget_begin / _end): what a scope may
 * allocate on its thread, refusals that change nothing, nesting, frees
 * that give room back, large blocks and realloc, other threads unaffected,
 * and every bad argument. */
#include "brt_test.h"

#include <pthread.h>

static brt_mem_budget budget_of(uint64_t limit, const char *label) {
  brt_mem_budget b = {.struct_size = sizeof b, .limit = limit, .label = label};
  return b;
}

static void test_bad_arguments(void **state) {
  (void)state;
  assert_status(brt_mem_budget_begin(NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "budget is NULL");
  assert_status(brt_mem_budget_end(NULL), BRT_E_INVALID_ARGUMENT);
  brt_mem_budget small = budget_of(4096, "small");
  small.struct_size = 8;
  assert_status(brt_mem_budget_begin(&small), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "struct_size is 8");
  assert_status(brt_mem_budget_end(&small), BRT_E_INVALID_ARGUMENT);
  brt_mem_budget zero = budget_of(0, "zero");
  assert_status(brt_mem_budget_begin(&zero), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "limit of zero is 0");
  /* Ending a budget that never began, or twice. */
  brt_mem_budget b = budget_of(4096, "b");
  assert_status(brt_mem_budget_end(&b), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "not this thread's innermost active budget");
  assert_ok(brt_mem_budget_begin(&b));
  assert_status(brt_mem_budget_begin(&b), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "already active");
  /* Out of order: the outer one cannot end first, and nothing changes. */
  brt_mem_budget inner = budget_of(1024, "inner");
  assert_ok(brt_mem_budget_begin(&inner));
  assert_status(brt_mem_budget_end(&b), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "inner");
  assert_null_with(brt_alloc(2000, 16, BRT_MEM_C_HEAP, 0), BRT_E_LIMIT_EXCEEDED);
  assert_ok(brt_mem_budget_end(&inner));
  assert_ok(brt_mem_budget_end(&b));
  assert_status(brt_mem_budget_end(&b), BRT_E_INVALID_ARGUMENT);
}

static void test_limit_refuses_and_changes_nothing(void **state) {
  (void)state;
  brt_mem_stats before = {.struct_size = sizeof before};
  assert_ok(brt_mem_stats_get(&before));
  brt_mem_budget b = budget_of(64 * 1024, "algorithm \"hog@1.0.0\"");
  assert_ok(brt_mem_budget_begin(&b));
  void *blocks[40] = {0};
  int count = 0;
  while (count < 40) {
    blocks[count] = brt_alloc(4000, 16, BRT_MEM_C_HEAP, 0);
    if (!blocks[count]) break;
    memset(blocks[count], 0xA5, 4000);
    count++;
  }
  /* 4000 bytes take a 4096-byte block: 16 fit in 64 KiB. */
  assert_int_equal(count, 16);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "algorithm \"hog@1.0.0\"");
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "memory limit of 65536 bytes");
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "allocating 4000 bytes");
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "65536 bytes in use");
  /* A smaller block still fits nowhere; a release gives room back. */
  assert_null_with(brt_alloc(16, 16, BRT_MEM_RUST_HEAP, 0), BRT_E_LIMIT_EXCEEDED);
  assert_ok(brt_release(blocks[--count]));
  void *again = brt_alloc(3000, 16, BRT_MEM_CPP_HEAP, 0);
  assert_non_null(again);
  blocks[count++] = again;
  assert_ok(brt_mem_budget_end(&b));
  assert_int_equal(b.peak, 65536);
  assert_int_equal(b.refused, 2);
  assert_true(b.used > 60000 && b.used <= 65536);
  /* The blocks outlive the budget, and the thread is unlimited again. */
  void *big = brt_alloc(1 << 20, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(big);
  assert_ok(brt_release(big));
  for (int i = 0; i < count; i++) assert_ok(brt_release(blocks[i]));
  brt_mem_stats after = {.struct_size = sizeof after};
  assert_ok(brt_mem_stats_get(&after));
  assert_int_equal(after.live_blocks, before.live_blocks);
}

/* Releasing blocks allocated before the budget counts in its favour: the
 * budget measures the thread's net allocation in the scope. */
/* The largest limits behave as "no limit in practice", not as negative
 * numbers. */
static void test_huge_limit(void **state) {
  (void)state;
  brt_mem_budget b = budget_of(UINT64_MAX, "huge");
  assert_ok(brt_mem_budget_begin(&b));
  void *p = brt_alloc(1u << 20, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(p);
  assert_ok(brt_release(p));
  assert_ok(brt_mem_budget_end(&b));
  assert_int_equal(b.refused, 0);
  assert_true(b.peak >= (1u << 20));
}

static void test_frees_give_room(void **state) {
  (void)state;
  void *old = brt_alloc(8000, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(old);
  brt_mem_budget b = budget_of(8192, "churn");
  assert_ok(brt_mem_budget_begin(&b));
  for (int i = 0; i < 1000; i++) { /* churn far past the limit in total */
    void *p = brt_alloc(7000, 16, BRT_MEM_C_HEAP, 0);
    assert_non_null(p);
    assert_ok(brt_release(p));
  }
  assert_ok(brt_release(old));
  void *p1 = brt_alloc(8000, 16, BRT_MEM_C_HEAP, 0);
  void *p2 = brt_alloc(8000, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(p1);
  assert_non_null(p2); /* room made by releasing `old` */
  assert_ok(brt_mem_budget_end(&b));
  assert_int_equal(b.refused, 0);
  assert_ok(brt_release(p1));
  assert_ok(brt_release(p2));
}

static void test_nested(void **state) {
  (void)state;
  brt_mem_budget outer = budget_of(16384, "outer");
  brt_mem_budget inner = budget_of(4096, "inner");
  assert_ok(brt_mem_budget_begin(&outer));
  void *a = brt_alloc(8192, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(a);
  assert_ok(brt_mem_budget_begin(&inner));
  void *b = brt_alloc(4096, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(b);
  assert_null_with(brt_alloc(64, 16, BRT_MEM_C_HEAP, 0), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "inner");
  assert_ok(brt_mem_budget_end(&inner));
  assert_int_equal(inner.used, 4096);
  /* The outer budget counted the inner scope's block too: 12 KiB used. */
  void *c = brt_alloc(4096, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(c);
  assert_null_with(brt_alloc(64, 16, BRT_MEM_C_HEAP, 0), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "outer");
  assert_ok(brt_mem_budget_end(&outer));
  assert_int_equal(outer.used, 16384);
  assert_int_equal(outer.refused, 1);
  assert_ok(brt_release(a));
  assert_ok(brt_release(b));
  assert_ok(brt_release(c));
}

static void test_large_blocks_and_realloc(void **state) {
  (void)state;
  brt_mem_budget b = budget_of(1u << 20, "large");
  assert_ok(brt_mem_budget_begin(&b));
  assert_null_with(brt_alloc(2u << 20, 16, BRT_MEM_C_HEAP, 0), BRT_E_LIMIT_EXCEEDED);
  unsigned char *p = brt_alloc(512 * 1024, 16, BRT_MEM_RUST_HEAP, 0);
  assert_non_null(p);
  memset(p, 7, 512 * 1024);
  /* Growing in place past the budget fails and keeps the block whole. */
  assert_null_with(brt_realloc(p, 1536 * 1024, 16), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "brt_realloc");
  assert_int_equal(p[512 * 1024 - 1], 7);
  unsigned char *q = brt_realloc(p, 1000 * 1024, 16);
  assert_ptr_equal(q, p);
  /* A page block moved by realloc is counted like any allocation. */
  unsigned char *small = brt_alloc(100, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(small);
  assert_null_with(brt_realloc(small, 60000, 16), BRT_E_LIMIT_EXCEEDED);
  assert_true(brt_owns(small));
  assert_ok(brt_mem_budget_end(&b));
  assert_ok(brt_release(q));
  assert_ok(brt_release(small));
}

/* SHARED blocks are outside budgets (the process-wide limit covers them). */
static void test_shared_not_counted(void **state) {
  (void)state;
  brt_mem_budget b = budget_of(4096, "shared");
  assert_ok(brt_mem_budget_begin(&b));
  void *shared = brt_alloc_shared(64 * 1024);
  assert_non_null(shared);
  void *heap_block = brt_alloc(4096, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(heap_block);
  assert_ok(brt_mem_budget_end(&b));
  assert_int_equal(b.used, 4096);
  assert_ok(brt_release(shared));
  assert_ok(brt_release(heap_block));
}

static void *allocate_a_lot(void *arg) {
  (void)arg;
  void *blocks[64];
  for (int i = 0; i < 64; i++) {
    blocks[i] = brt_alloc(64 * 1024, 16, BRT_MEM_C_HEAP, 0);
    if (!blocks[i]) return (void *)1;
  }
  for (int i = 0; i < 64; i++) brt_release(blocks[i]);
  return NULL;
}

static void *end_foreign(void *arg) {
  return brt_mem_budget_end(arg) == BRT_E_INVALID_ARGUMENT ? NULL : (void *)1;
}

static void test_other_threads_unaffected(void **state) {
  (void)state;
  brt_mem_budget b = budget_of(4096, "main thread");
  assert_ok(brt_mem_budget_begin(&b));
  pthread_t t;
  void *result = (void *)2;
  assert_int_equal(pthread_create(&t, NULL, allocate_a_lot, NULL), 0);
  pthread_join(t, &result);
  assert_null(result); /* 4 MiB allocated there while this thread has 4 KiB */
  assert_int_equal(pthread_create(&t, NULL, end_foreign, &b), 0);
  pthread_join(t, &result);
  assert_null(result);
  assert_ok(brt_mem_budget_end(&b));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_limit_refuses_and_changes_nothing),
      cmocka_unit_test(test_huge_limit),
      cmocka_unit_test(test_frees_give_room),
      cmocka_unit_test(test_nested),
      cmocka_unit_test(test_large_blocks_and_realloc),
      cmocka_unit_test(test_shared_not_counted),
      cmocka_unit_test(test_other_threads_unaffected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
