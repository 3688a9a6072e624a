/* Hardened mode (run with BRT_HARDENED=true): freed blocks wait in a
 * quarantine, so a double free is still caught after hundreds of
 * allocations of the same size, and a write after free is noticed. */
#include "brt_test.h"

static brt_mem_stats stats_now(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  return st;
}

static void test_double_free_window(void **state) {
  (void)state;
  void *victim = brt_alloc(48, 16, BRT_MEM_C_HEAP, 0);
  assert_ok(brt_release(victim));
  for (int i = 0; i < 200; i++) {
    void *other = brt_alloc(48, 16, BRT_MEM_C_HEAP, 0);
    assert_ptr_not_equal(other, victim);
    assert_ok(brt_release(other));
  }
  assert_status(brt_release(victim), BRT_E_DOUBLE_FREE);
  assert_status(brt_retain(victim), BRT_E_DOUBLE_FREE);
}

/* The bug being detected. Under AddressSanitizer the freed block is
 * poisoned and ASan would report this write itself; what is tested here is
 * hardened mode's own check, so the write is left uninstrumented. */
__attribute__((no_sanitize_address, noinline)) static void write_after_free(unsigned char *p) {
  p[20] = 0x42;
}

static void test_write_after_free(void **state) {
  (void)state;
  uint64_t before = stats_now().errors_use_after_free;
  unsigned char *victim = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  assert_ok(brt_release(victim));
  write_after_free(victim);
  for (int i = 0; i < 600; i++) assert_ok(brt_release(brt_alloc(64, 16, BRT_MEM_C_HEAP, 0)));
  assert_int_equal(stats_now().errors_use_after_free, before + 1);
  /* brt_mem_collect flushes the quarantine: clean blocks are not reported. */
  void *clean = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  assert_ok(brt_release(clean));
  assert_ok(brt_mem_collect());
  assert_int_equal(stats_now().errors_use_after_free, before + 1);
  assert_int_equal(stats_now().live_blocks, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_double_free_window), cmocka_unit_test(test_write_after_free),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
