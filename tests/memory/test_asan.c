/* Under AddressSanitizer (built only when b_sanitize has address): the
 * allocator tells ASan which bytes of its own mappings a program may touch.
 * Checked through ASan's interface (__asan_address_is_poisoned,
 * __asan_region_is_poisoned), which is deterministic, and once end to end:
 * a child process overruns a block by one byte and ASan must stop it. */
#include "brt_test.h"

#include <pthread.h>
#include <sanitizer/asan_interface.h>
#include <sys/wait.h>
#include <unistd.h>

/* The first `n` bytes at p are addressable. */
static void assert_live(const void *p, size_t n) {
  void *bad = __asan_region_is_poisoned((void *)(uintptr_t)p, n);
  if (bad)
    fail_msg("byte %td of %zu at %p is poisoned", (const char *)bad - (const char *)p, n, p);
}

static void assert_poisoned(const void *p) {
  if (!__asan_address_is_poisoned(p)) fail_msg("%p is addressable, expected poisoned", p);
}

static size_t usable_of(const void *p) {
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(p, &info));
  return info.usable;
}

static void test_request_addressable_tail_poisoned(void **state) {
  (void)state;
  for (size_t size = 1; size <= 4000; size += size < 200 ? 1 : 37) {
    unsigned char *p = brt_alloc(size, 1, BRT_MEM_C_HEAP, 0);
    assert_non_null(p);
    assert_live(p, size);
    if (size < usable_of(p)) assert_poisoned(p + size);
    assert_ok(brt_release(p));
  }
  /* The slow path (an alignment the fast path does not serve), and C++. */
  unsigned char *q = brt_alloc(100, 64, BRT_MEM_RUST_HEAP, 0);
  assert_live(q, 100);
  assert_poisoned(q + 100);
  assert_ok(brt_release(q));
  unsigned char *c = brt_cpp_allocate(100, 16);
  assert_live(c, 100);
  assert_poisoned(c + 100);
  assert_ok(brt_cpp_deallocate(c));
}

static void test_freed_block_poisoned(void **state) {
  (void)state;
  unsigned char *p = brt_alloc(100, 16, BRT_MEM_C_HEAP, 0);
  memset(p, 1, 100);
  assert_ok(brt_release(p));
  /* The first 8 bytes hold the allocator's free-list link. */
  assert_poisoned(p + 8);
  assert_poisoned(p + 64);
  assert_poisoned(p + 99);
  /* The allocator's own checks still read only its metadata. */
  assert_status(brt_release(p), BRT_E_DOUBLE_FREE);
  /* A block allocated again is addressable for its new request. */
  unsigned char *again = brt_alloc(100, 16, BRT_MEM_C_HEAP, 0);
  assert_live(again, 100);
  assert_poisoned(again + 100);
  assert_ok(brt_release(again));
}

static void *release_in_thread(void *p) {
  return (void *)(uintptr_t)brt_release(p);
}

static void test_freed_by_another_thread_poisoned(void **state) {
  (void)state;
  unsigned char *p = brt_alloc(300, 16, BRT_MEM_C_HEAP, 0);
  pthread_t t;
  void *status;
  assert_int_equal(pthread_create(&t, NULL, release_in_thread, p), 0);
  assert_int_equal(pthread_join(t, &status), 0);
  assert_int_equal((int)(uintptr_t)status, BRT_OK);
  assert_poisoned(p + 8);
  assert_poisoned(p + 299);
}

static void test_realloc_moves_the_boundary(void **state) {
  (void)state;
  unsigned char *p = brt_alloc(100, 16, BRT_MEM_C_HEAP, 0);
  assert_int_equal(usable_of(p), 112);
  memset(p, 7, 100);
  unsigned char *grown = brt_realloc(p, 110, 16); /* same class: in place */
  assert_ptr_equal(grown, p);
  assert_live(p, 110);
  assert_poisoned(p + 110);
  unsigned char *shrunk = brt_realloc(p, 60, 16);
  assert_ptr_equal(shrunk, p);
  assert_live(p, 60);
  assert_poisoned(p + 60);
  assert_poisoned(p + 100);
  /* Moved: the new block's request is addressable, the old block freed. */
  unsigned char *moved = brt_realloc(p, 2000, 16);
  assert_non_null(moved);
  assert_ptr_not_equal(moved, p);
  assert_live(moved, 2000);
  for (int i = 0; i < 60; i++) assert_int_equal(moved[i], 7);
  assert_poisoned(p + 8);
  assert_ok(brt_release(moved));
}

static void test_large_block(void **state) {
  (void)state;
  unsigned char *p = brt_alloc(100000, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(p);
  assert_live(p, 100000);
  assert_poisoned(p + 100000);
  assert_poisoned(p + usable_of(p)); /* past the usable end, in the mapping */
  unsigned char *grown = brt_realloc(p, 300000, 16); /* grows in place */
  assert_ptr_equal(grown, p);
  assert_live(p, 300000);
  assert_poisoned(p + 300000);
  assert_ok(brt_release(p));
  assert_poisoned(p); /* its segment is pooled */
  assert_poisoned(p + 200000);
}

static void test_zeroed_shared_and_copies(void **state) {
  (void)state;
  unsigned char *z = brt_alloc(100, 8, BRT_MEM_C_HEAP, BRT_ALLOC_ZERO);
  assert_live(z, 100);
  assert_poisoned(z + 100);
  for (int i = 0; i < 100; i++) assert_int_equal(z[i], 0);
  /* Untracked, brt_block_info's size is the usable size; under ASan it is
   * the exact request, and brt_map_copy copies exactly that. */
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(z, &info));
  assert_int_equal(info.size, 100);
  assert_int_equal(info.usable, 112);
  unsigned char *copy = brt_map_copy(z, BRT_MEM_RUST_HEAP);
  assert_non_null(copy);
  assert_live(copy, 100);
  assert_poisoned(copy + 100);
  assert_ok(brt_release(copy));
  assert_ok(brt_release(z));
  unsigned char *shared = brt_alloc_shared(100);
  assert_non_null(shared);
  assert_live(shared, 100);
  assert_poisoned(shared + 100);
  assert_ok(brt_release(shared)); /* an arena block: freed, not unmapped */
  assert_poisoned(shared + 8);
}

typedef struct found_block {
  const void *block;
  size_t size;
} found_block;

static int find_block(void *ctx, const void *block, const brt_block_info *info) {
  found_block *found = ctx;
  if (block != found->block) return 0;
  found->size = info->size;
  return 1;
}

/* The leak visitor reports the exact request too (its size field is the
 * usable size without ASan and tracking). */
static void test_visit_live_reports_request(void **state) {
  (void)state;
  void *p = brt_alloc(100, 16, BRT_MEM_C_HEAP, 0);
  found_block found = {p, 0};
  assert_ok(brt_mem_visit_live(0, find_block, &found));
  assert_int_equal(found.size, 100);
  assert_ok(brt_release(p));
}

/* A class-exact block has no slack: an overrun lands in the next block,
 * which is poisoned while it is free (past its 8-byte link word once it
 * is threaded onto a free list, entirely before) but not while it is
 * live. Here the next block has never been used. */
static void test_neighbour_of_class_exact_block(void **state) {
  (void)state;
  unsigned char *p = brt_alloc(4096, 4096, BRT_MEM_C_HEAP, 0);
  assert_int_equal(usable_of(p), 4096);
  assert_poisoned(p + 4096 + 8);
  assert_ok(brt_release(p));
}

/* End to end: a one-byte overrun of a 100-byte request stops the process
 * with ASan's report (run in a child, whose stderr is captured). */
static void overrun_by_one(void) {
  volatile unsigned char *p = brt_alloc(100, 16, BRT_MEM_C_HEAP, 0);
  p[100] = 1; /* the overrun; the child exits with 0 only if it is not stopped */
}

static void test_overrun_is_reported(void **state) {
  (void)state;
  char report[8192];
  int status = brt_test_stderr_of_child(overrun_by_one, report, sizeof report);
  assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (!strstr(report, "AddressSanitizer: use-after-poison") || !strstr(report, "WRITE of size 1"))
    fail_msg("the child's report does not name the overrun:\n%s", report);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_request_addressable_tail_poisoned),
      cmocka_unit_test(test_freed_block_poisoned),
      cmocka_unit_test(test_freed_by_another_thread_poisoned),
      cmocka_unit_test(test_realloc_moves_the_boundary),
      cmocka_unit_test(test_large_block),
      cmocka_unit_test(test_zeroed_shared_and_copies),
      cmocka_unit_test(test_visit_live_reports_request),
      cmocka_unit_test(test_neighbour_of_class_exact_block),
      cmocka_unit_test(test_overrun_is_reported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
