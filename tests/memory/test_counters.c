/* Tracking level "counters" (run with BRT_TRACKING=counters): per-size-class
 * allocations, frees and live blocks (brt_mem_visit_classes), including
 * blocks released by another thread and single-block segments, and the
 * refusals of brt_mem_visit_classes. */
#include "brt_test.h"

#include <pthread.h>

static brt_mem_class_stats classes[BRT_MEM_CLASS_COUNT];

static int collect_class(void *ctx, const brt_mem_class_stats *st) {
  size_t *seen = ctx;
  assert_int_equal(st->struct_size, sizeof *st);
  assert_int_equal(st->class_index, *seen);
  classes[st->class_index] = *st;
  (*seen)++;
  return 0;
}

static void snapshot(void) {
  size_t seen = 0;
  assert_ok(brt_mem_visit_classes(collect_class, &seen));
  assert_int_equal(seen, BRT_MEM_CLASS_COUNT);
}

/* The class whose blocks a request of `size` bytes (align 16) gets. */
static size_t class_for(size_t size) {
  void *p = brt_alloc(size, 16, BRT_MEM_C_HEAP, 0);
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(p, &info));
  assert_ok(brt_release(p));
  for (size_t c = 0; c + 1 < BRT_MEM_CLASS_COUNT; c++)
    if (classes[c].block_size == info.usable) return c;
  return BRT_MEM_CLASS_COUNT - 1;
}

static void test_class_table(void **state) {
  (void)state;
  snapshot();
  assert_int_equal(classes[0].block_size, 16);
  assert_int_equal(classes[7].block_size, 128);
  assert_int_equal(classes[BRT_MEM_CLASS_COUNT - 2].block_size, 65536);
  assert_int_equal(classes[BRT_MEM_CLASS_COUNT - 1].block_size, 0);
  for (size_t c = 1; c + 1 < BRT_MEM_CLASS_COUNT; c++)
    assert_true(classes[c].block_size > classes[c - 1].block_size);
}

static void test_counts_by_class(void **state) {
  (void)state;
  snapshot();
  size_t c100 = class_for(100), c3000 = class_for(3000);
  snapshot();
  brt_mem_class_stats before100 = classes[c100], before3000 = classes[c3000];
  brt_mem_class_stats before_single = classes[BRT_MEM_CLASS_COUNT - 1];
  void *small[10], *mid[3];
  for (int i = 0; i < 10; i++) small[i] = brt_alloc(100, 16, BRT_MEM_RUST_HEAP, 0);
  for (int i = 0; i < 3; i++) mid[i] = brt_alloc(3000, 16, BRT_MEM_CPP_HEAP, 0);
  void *large = brt_alloc(1u << 20, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(large);
  snapshot();
  assert_int_equal(classes[c100].allocs - before100.allocs, 10);
  assert_int_equal(classes[c100].live_blocks - before100.live_blocks, 10);
  assert_int_equal(classes[c100].live_bytes - before100.live_bytes, 10 * classes[c100].block_size);
  assert_int_equal(classes[c3000].allocs - before3000.allocs, 3);
  brt_mem_class_stats single = classes[BRT_MEM_CLASS_COUNT - 1];
  assert_int_equal(single.allocs - before_single.allocs, 1);
  assert_true(single.live_bytes - before_single.live_bytes >= (1u << 20));
  for (int i = 0; i < 10; i++) assert_ok(brt_release(small[i]));
  for (int i = 0; i < 3; i++) assert_ok(brt_release(mid[i]));
  assert_ok(brt_release(large));
  snapshot();
  assert_int_equal(classes[c100].frees - before100.frees, 10);
  assert_int_equal(classes[c100].live_blocks, before100.live_blocks);
  assert_int_equal(classes[c3000].live_blocks, before3000.live_blocks);
  assert_int_equal(classes[BRT_MEM_CLASS_COUNT - 1].live_bytes, before_single.live_bytes);
}

static void *release_all(void *arg) {
  void **blocks = arg;
  for (int i = 0; i < 100; i++)
    if (brt_release(blocks[i]) != BRT_OK) return (void *)1;
  return NULL;
}

/* Blocks released by another thread count as frees of their class. */
static void test_cross_thread_frees(void **state) {
  (void)state;
  snapshot();
  size_t c = class_for(48);
  snapshot();
  brt_mem_class_stats before = classes[c];
  void *blocks[100];
  for (int i = 0; i < 100; i++) blocks[i] = brt_alloc(48, 16, BRT_MEM_C_HEAP, 0);
  pthread_t t;
  void *result = (void *)2;
  assert_int_equal(pthread_create(&t, NULL, release_all, blocks), 0);
  pthread_join(t, &result);
  assert_null(result);
  snapshot();
  assert_int_equal(classes[c].allocs - before.allocs, 100);
  assert_int_equal(classes[c].frees - before.frees, 100);
  assert_int_equal(classes[c].live_blocks, before.live_blocks);
}

/* The sum over classes of live blocks matches brt_mem_stats_get's. */
static void test_sums_match_the_statistics(void **state) {
  (void)state;
  void *keep[50];
  for (int i = 0; i < 50; i++) keep[i] = brt_alloc((size_t)(i * 97 + 1), 16, BRT_MEM_C_HEAP, 0);
  snapshot();
  uint64_t live = 0;
  for (size_t c = 0; c < BRT_MEM_CLASS_COUNT; c++) live += classes[c].live_blocks;
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  assert_int_equal(live, st.live_blocks);
  assert_int_equal(st.tracking, BRT_TRACKING_COUNTERS);
  for (int i = 0; i < 50; i++) assert_ok(brt_release(keep[i]));
}

static int stop_at_third(void *ctx, const brt_mem_class_stats *st) {
  (void)st;
  return ++*(int *)ctx == 3;
}

static void test_visitor_stops_and_refusals(void **state) {
  (void)state;
  int calls = 0;
  assert_ok(brt_mem_visit_classes(stop_at_third, &calls));
  assert_int_equal(calls, 3);
  assert_status(brt_mem_visit_classes(NULL, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "visitor is NULL");
  /* Below the counters level nothing is counted: the visit is refused. */
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.tracking = BRT_TRACKING_OFF;
  assert_ok(brt_mem_configure(&cfg));
  assert_status(brt_mem_visit_classes(stop_at_third, &calls), BRT_E_UNSUPPORTED);
  assert_last_error(BRT_E_UNSUPPORTED, "BRT_TRACKING=counters");
  cfg.tracking = BRT_TRACKING_COUNTERS;
  assert_ok(brt_mem_configure(&cfg));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_class_table),
      cmocka_unit_test(test_counts_by_class),
      cmocka_unit_test(test_cross_thread_frees),
      cmocka_unit_test(test_sums_match_the_statistics),
      cmocka_unit_test(test_visitor_stops_and_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
