/* Bad inputs: every function answers with a status and a message and
 * changes nothing — NULL, malloc, stack, static, unmapped, kernel and
 * interior pointers, freed blocks, metadata addresses, refcount overflow,
 * and bad sizes, alignments, types and flags. */
#include "brt_test.h"

#include <sys/mman.h>

static int static_object;

typedef brt_status (*pointer_op)(const void *p);
static brt_status op_release(const void *p) { return brt_release(p); }
static brt_status op_retain(const void *p) { return brt_retain(p); }
static brt_status op_release_sized(const void *p) { return brt_release_sized(p, 64, 16); }
static brt_status op_info(const void *p) {
  brt_block_info info = {.struct_size = sizeof info};
  return brt_block_info_get(p, &info);
}
static brt_status op_cpp_deallocate(const void *p) { return brt_cpp_deallocate((void *)p); }
static brt_status op_realloc(const void *p) {
  return brt_realloc((void *)p, 10, 8) ? BRT_OK : brt_error_code(brt_last_error());
}
static brt_status op_share(const void *p) {
  return brt_map_share(p) ? BRT_OK : brt_error_code(brt_last_error());
}
static brt_status op_copy(const void *p) {
  return brt_map_copy(p, BRT_MEM_C_HEAP) ? BRT_OK : brt_error_code(brt_last_error());
}
static const pointer_op ops[] = {op_release, op_retain, op_release_sized, op_info,
                                 op_cpp_deallocate, op_realloc, op_share, op_copy};
enum { OP_COUNT = sizeof ops / sizeof ops[0] };

/* Applies every operation to p and expects `want` with a message naming
 * the pointer's problem; a live witness block keeps its refcount. */
static void expect_all(const void *p, brt_status want, const char *needle) {
  void *witness = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(witness);
  for (int i = 0; i < OP_COUNT; i++) {
    brt_error_clear();
    brt_status got = ops[i](p);
    if (got != want)
      fail_msg("op %d on %p returned %s, expected %s", i, p, brt_status_name(got), brt_status_name(want));
    assert_last_error(want, needle);
  }
  assert_int_equal(brt_owns(p), 0);
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(witness, &info));
  assert_int_equal(info.refcount, 1);
  assert_ok(brt_release(witness));
}

static void test_foreign_pointers(void **state) {
  (void)state;
  brt_mem_stats before = {.struct_size = sizeof before};
  assert_ok(brt_mem_stats_get(&before));
  expect_all(NULL, BRT_E_INVALID_POINTER, "is NULL");
  void *m = malloc(64);
  memset(m, 1, 64);
  expect_all(m, BRT_E_INVALID_POINTER, "not allocated by bridgert");
  free(m);
  int local = 0;
  expect_all(&local, BRT_E_INVALID_POINTER, "not allocated by bridgert");
  expect_all(&static_object, BRT_E_INVALID_POINTER, "not allocated by bridgert");
  expect_all((void *)(uintptr_t)0x10, BRT_E_INVALID_POINTER, "not allocated by bridgert");
  expect_all((void *)(uintptr_t)0xdeadbeef000, BRT_E_INVALID_POINTER, "not allocated by bridgert");
  expect_all((void *)UINTPTR_MAX, BRT_E_INVALID_POINTER, "not allocated by bridgert");
  expect_all((void *)(uintptr_t)0xffff800000001000u, BRT_E_INVALID_POINTER, "not allocated by bridgert");
  /* An mmap'd region that was unmapped. */
  void *gone = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(gone, 1 << 16);
  expect_all(gone, BRT_E_INVALID_POINTER, "not allocated by bridgert");
  brt_mem_stats after = {.struct_size = sizeof after};
  assert_ok(brt_mem_stats_get(&after));
  assert_true(after.errors_invalid_pointer - before.errors_invalid_pointer >= 9 * OP_COUNT);
}

static void test_interior_and_metadata(void **state) {
  (void)state;
  char *p = brt_alloc(100, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(p);
  expect_all(p + 1, BRT_E_INVALID_POINTER, "interior pointer");
  expect_all(p + 16, BRT_E_INVALID_POINTER, "interior pointer");
  /* The segment header and the page's metadata array. */
  uintptr_t segment = (uintptr_t)p & ~(((uintptr_t)4 << 20) - 1);
  expect_all((void *)segment, BRT_E_INVALID_POINTER, "not at a block");
  expect_all((void *)(segment + 64), BRT_E_INVALID_POINTER, "not at a block");
  /* A never-used page of the segment (the last one). */
  expect_all((void *)(segment + (4 << 20) - 4096), BRT_E_INVALID_POINTER, "not at a block");
  char *big = brt_alloc(1 << 20, 16, BRT_MEM_C_HEAP, 0);
  expect_all(big + 4096, BRT_E_INVALID_POINTER, "interior pointer");
  expect_all(big - 16, BRT_E_INVALID_POINTER, "not at a block");
  assert_ok(brt_release(big));
  assert_ok(brt_release(p));
}

/* The block test of every fast path is one comparison of a rotated
 * product (memory_manager/internal.h, page_block_index). For blocks of
 * every class — small, medium, over-aligned, large, SHARED — and for runs
 * of neighbours in one page: every start is owned and every interior
 * offset is not, and retain and release refuse it without changing the
 * block. */
static void check_block_offsets(char *p, size_t stride) {
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(brt_owns(p), 1);
  size_t limit = info.usable < 65536 ? info.usable : 65536;
  for (size_t off = 1; off < limit; off += off < 64 || off + 64 > limit ? 1 : stride) {
    if (brt_owns(p + off)) fail_msg("%p + %zu (usable %zu) is owned", (void *)p, off, info.usable);
    if (off % 997 == 1 || off + 1 == limit) {
      brt_error_clear();
      assert_status(brt_retain(p + off), BRT_E_INVALID_POINTER);
      assert_last_error(BRT_E_INVALID_POINTER, "interior pointer");
      assert_status(brt_release(p + off), BRT_E_INVALID_POINTER);
      assert_last_error(BRT_E_INVALID_POINTER, "interior pointer");
    }
  }
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.refcount, 1);
}

static void test_interior_offsets_of_every_class(void **state) {
  (void)state;
  for (size_t size = 1; size <= 70000; size += size < 1024 ? 16 : size / 5) {
    for (size_t align = 16; align <= 4096; align *= 16) {
      char *p = brt_alloc(size, align, BRT_MEM_RUST_HEAP, 0);
      assert_non_null(p);
      check_block_offsets(p, 1 + size / 512);
      assert_ok(brt_release(p));
    }
  }
  char *big = brt_alloc(3 << 20, 1 << 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(big);
  check_block_offsets(big, 61);
  assert_ok(brt_release(big));
  char *shared = brt_alloc_shared(48);
  assert_non_null(shared);
  check_block_offsets(shared, 1);
  assert_ok(brt_release(shared));
  /* Neighbours: 600 blocks of 48 bytes (several pages' worth of 3-word
   * classes, whose size is not a power of two) and 300 of 80. */
  enum { N = 600 };
  char *blocks[N];
  for (size_t usable = 48; usable <= 80; usable += 32) {
    for (int i = 0; i < N; i++) assert_non_null(blocks[i] = brt_alloc(usable, 16, BRT_MEM_C_HEAP, 0));
    for (int i = 0; i < N; i++) check_block_offsets(blocks[i], 1);
    for (int i = 0; i < N; i++) assert_ok(brt_release(blocks[i]));
  }
}

static void test_double_free(void **state) {
  (void)state;
  brt_mem_stats before = {.struct_size = sizeof before};
  assert_ok(brt_mem_stats_get(&before));
  void *p = brt_alloc(40, 8, BRT_MEM_RUST_HEAP, 0);
  void *keep = brt_alloc(40, 8, BRT_MEM_RUST_HEAP, 0); /* keeps the page alive */
  assert_ok(brt_release(p));
  expect_all(p, BRT_E_DOUBLE_FREE, "already freed");
  assert_last_error(BRT_E_DOUBLE_FREE, "RUST_HEAP");
  brt_mem_stats after = {.struct_size = sizeof after};
  assert_ok(brt_mem_stats_get(&after));
  assert_true(after.errors_double_free - before.errors_double_free >= OP_COUNT);
  assert_int_equal(after.live_blocks, before.live_blocks + 1);
  assert_ok(brt_release(keep));
  /* A large block is returned to the OS or the pool at once: a second
   * release then sees memory that is no longer ours. */
  void *big = brt_alloc(200000, 16, BRT_MEM_C_HEAP, 0);
  assert_ok(brt_release(big));
  assert_status(brt_release(big), BRT_E_INVALID_POINTER);
}

static void test_refcount_overflow(void **state) {
  (void)state;
  void *p = brt_alloc(16, 16, BRT_MEM_C_HEAP, 0);
  for (uint32_t i = 1; i < BRT_REFCOUNT_MAX; i++)
    if (brt_retain(p) != BRT_OK) fail_msg("retain %u failed", i);
  assert_status(brt_retain(p), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "BRT_REFCOUNT_MAX");
  assert_null_with(brt_map_share(p), BRT_E_OUT_OF_RANGE);
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.refcount, BRT_REFCOUNT_MAX);
  assert_ok(brt_release(p));
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.refcount, BRT_REFCOUNT_MAX - 1);
}

static void test_bad_requests(void **state) {
  (void)state;
  assert_null_with(brt_alloc(0, 16, BRT_MEM_C_HEAP, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "size is 0");
  assert_null_with(brt_alloc(SIZE_MAX, 16, BRT_MEM_C_HEAP, 0), BRT_E_OUT_OF_MEMORY);
  assert_last_error(BRT_E_OUT_OF_MEMORY, "18446744073709551615");
  assert_null_with(brt_alloc(((size_t)1 << 40) + 1, 16, BRT_MEM_C_HEAP, 0), BRT_E_OUT_OF_MEMORY);
  assert_null_with(brt_alloc(16, 0, BRT_MEM_C_HEAP, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "align 0");
  assert_null_with(brt_alloc(16, 3, BRT_MEM_C_HEAP, 0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_alloc(16, 48, BRT_MEM_C_HEAP, 0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_alloc(16, (size_t)1 << 31, BRT_MEM_C_HEAP, 0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_alloc(16, SIZE_MAX, BRT_MEM_C_HEAP, 0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_alloc(16, 16, (brt_mem_type)5, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "type 5");
  assert_null_with(brt_alloc(16, 16, (brt_mem_type)-1, 0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_alloc(16, 16, BRT_MEM_MAPPED, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "brt_map_file");
  assert_null_with(brt_alloc(16, 16, BRT_MEM_C_HEAP, 2), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "unknown bits 0x2");
  assert_null_with(brt_alloc(16, 16, BRT_MEM_C_HEAP, ~0u), BRT_E_INVALID_ARGUMENT);
  /* Every alignment up to 64 and every type around the fast path's range,
   * for sizes on both sides of its limit: powers of two pass, the rest
   * fail; types 0..2 pass, 3 (SHARED) is served elsewhere, above fail. */
  const size_t sizes[] = {1, 15, 16, 1023, 1024, 1025, 4096};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    for (size_t align = 1; align <= 64; align++) {
      if ((align & (align - 1)) == 0) {
        void *q = brt_alloc(sizes[s], align, BRT_MEM_RUST_HEAP, 0);
        assert_non_null(q);
        assert_int_equal((uintptr_t)q % align, 0);
        assert_ok(brt_release(q));
      } else {
        assert_null_with(brt_alloc(sizes[s], align, BRT_MEM_RUST_HEAP, 0), BRT_E_INVALID_ARGUMENT);
      }
    }
    for (unsigned type = 0; type < 8; type++) {
      if (type <= BRT_MEM_SHARED) {
        void *q = brt_alloc(sizes[s], 8, (brt_mem_type)type, 0);
        assert_non_null(q);
        assert_ok(brt_release(q));
      } else {
        assert_null_with(brt_alloc(sizes[s], 8, (brt_mem_type)type, 0), BRT_E_INVALID_ARGUMENT);
      }
    }
    /* Alignments whose bits the fast path's test shifts and masks. */
    const size_t wild_aligns[] = {SIZE_MAX, (size_t)1 << 63, ((size_t)1 << 63) | 16, 16 | 1024, 17};
    for (size_t w = 0; w < sizeof wild_aligns / sizeof *wild_aligns; w++)
      assert_null_with(brt_alloc(sizes[s], wild_aligns[w], BRT_MEM_C_HEAP, 0), BRT_E_INVALID_ARGUMENT);
    assert_null_with(brt_alloc(sizes[s], 16, (brt_mem_type)0xFFFFFFFFu, 0), BRT_E_INVALID_ARGUMENT);
    assert_null_with(brt_alloc(sizes[s], 16, BRT_MEM_C_HEAP, 1u << 31), BRT_E_INVALID_ARGUMENT);
  }
  /* brt_block_info_get's own argument. */
  void *p = brt_alloc(16, 16, BRT_MEM_C_HEAP, 0);
  assert_status(brt_block_info_get(p, NULL), BRT_E_INVALID_ARGUMENT);
  brt_block_info small = {.struct_size = 4};
  assert_status(brt_block_info_get(p, &small), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "struct_size is 4");
  assert_ok(brt_release(p));
  assert_status(brt_mem_set_limit(SIZE_MAX), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_mem_configure(NULL), BRT_E_INVALID_ARGUMENT);
  brt_config bad;
  brt_config_default(&bad);
  bad.tracking = (brt_tracking)9;
  assert_status(brt_mem_configure(&bad), BRT_E_INVALID_ARGUMENT);
  bad.tracking = BRT_TRACKING_OFF;
  bad.struct_size = 3;
  assert_status(brt_mem_configure(&bad), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_mem_visit_live(0, NULL, NULL), BRT_E_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_foreign_pointers), cmocka_unit_test(test_interior_and_metadata),
      cmocka_unit_test(test_double_free),      cmocka_unit_test(test_refcount_overflow),
      cmocka_unit_test(test_bad_requests),     cmocka_unit_test(test_interior_offsets_of_every_class),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
