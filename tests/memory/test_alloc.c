/* brt_alloc / brt_retain / brt_release / brt_release_sized / brt_owns /
 * brt_block_info_get / brt_mem_stats_get: the normal paths. */
#include "brt_test.h"

#include <stdbool.h>

static brt_mem_stats stats_now(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  return st;
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed + i * 7);
}
static bool check(const unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++)
    if (p[i] != (unsigned char)(seed + i * 7)) return false;
  return true;
}

/* Every size class boundary and every alignment up to 1 MiB: the pointer
 * is aligned, usable >= size, writable end to end, owned, and its info is
 * right; blocks do not overlap (each keeps its pattern). */
static void test_sizes_and_alignments(void **state) {
  (void)state;
  static const size_t sizes[] = {1, 7, 8, 15, 16, 17, 31, 64, 100, 128, 129, 1000, 1024, 1025, 4096,
                                 5000, 8192, 8193, 65536, 65537, 100000, 1 << 20, (4 << 20) + 3};
  static const size_t aligns[] = {1, 2, 8, 16, 32, 64, 256, 4096, 8192, 1 << 20};
  enum { N = sizeof sizes / sizeof sizes[0], A = sizeof aligns / sizeof aligns[0] };
  void *blocks[N][A];
  for (size_t i = 0; i < N; i++) {
    for (size_t j = 0; j < A; j++) {
      brt_mem_type type = (brt_mem_type)((i + j) % 3);
      void *p = brt_alloc(sizes[i], aligns[j], type, 0);
      assert_non_null(p);
      assert_int_equal((uintptr_t)p % aligns[j], 0);
      assert_int_equal((uintptr_t)p % 16, 0);
      assert_true(brt_owns(p));
      brt_block_info info = {.struct_size = sizeof info};
      assert_ok(brt_block_info_get(p, &info));
      assert_true(info.usable >= sizes[i]);
      assert_true(info.align >= (aligns[j] < 16 ? 16 : aligns[j]));
      assert_int_equal(info.type, type);
      assert_int_equal(info.refcount, 1);
      fill(p, sizes[i], (unsigned)(i * A + j));
      blocks[i][j] = p;
    }
  }
  for (size_t i = 0; i < N; i++)
    for (size_t j = 0; j < A; j++) {
      assert_true(check(blocks[i][j], sizes[i], (unsigned)(i * A + j)));
      assert_ok(brt_release(blocks[i][j]));
    }
}

static void test_zero_flag(void **state) {
  (void)state;
  /* Dirty a block, free it, and ask for zeroed blocks of the same class:
   * the recycled slot must come back zeroed. */
  for (int round = 0; round < 3; round++) {
    unsigned char *p = brt_alloc(200, 8, BRT_MEM_C_HEAP, 0);
    assert_non_null(p);
    memset(p, 0xAB, 200);
    assert_ok(brt_release(p));
    unsigned char *z = brt_alloc(200, 8, BRT_MEM_C_HEAP, BRT_ALLOC_ZERO);
    assert_non_null(z);
    brt_block_info info = {.struct_size = sizeof info};
    assert_ok(brt_block_info_get(z, &info));
    for (size_t i = 0; i < info.size; i++) assert_int_equal(z[i], 0); /* size: the request under ASan */
    assert_ok(brt_release(z));
  }
  unsigned char *big = brt_alloc(300000, 64, BRT_MEM_RUST_HEAP, BRT_ALLOC_ZERO);
  assert_non_null(big);
  for (size_t i = 0; i < 300000; i += 997) assert_int_equal(big[i], 0);
  assert_ok(brt_release(big));
}

static void test_refcounts(void **state) {
  (void)state;
  void *p = brt_alloc(48, 16, BRT_MEM_RUST_HEAP, 0);
  assert_non_null(p);
  for (int i = 0; i < 10; i++) assert_ok(brt_retain(p));
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.refcount, 11);
  for (int i = 0; i < 10; i++) assert_ok(brt_release(p));
  assert_true(brt_owns(p));
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.refcount, 1);
  assert_ok(brt_release(p));
  assert_false(brt_owns(p));
}

static void test_release_sized(void **state) {
  (void)state;
  void *p = brt_alloc(100, 8, BRT_MEM_RUST_HEAP, 0);
  assert_non_null(p);
  assert_status(brt_release_sized(p, 4000, 8), BRT_E_LAYOUT_MISMATCH);
  assert_last_error(BRT_E_LAYOUT_MISMATCH, "layout (size 4000, align 8)");
  assert_status(brt_release_sized(p, 100, 4096), BRT_E_LAYOUT_MISMATCH);
  assert_status(brt_release_sized(p, 10, 8), BRT_E_LAYOUT_MISMATCH);
  assert_status(brt_release_sized(p, 100, 3), BRT_E_LAYOUT_MISMATCH);
  assert_status(brt_release_sized(p, 0, 8), BRT_E_LAYOUT_MISMATCH);
  assert_true(brt_owns(p)); /* nothing changed */
  assert_ok(brt_release_sized(p, 100, 8));
  assert_false(brt_owns(p));
  /* Aligned and large blocks. */
  void *a = brt_alloc(100, 256, BRT_MEM_RUST_HEAP, 0);
  assert_ok(brt_release_sized(a, 100, 256));
  void *big = brt_alloc(200000, 16, BRT_MEM_RUST_HEAP, 0);
  assert_status(brt_release_sized(big, 20000, 16), BRT_E_LAYOUT_MISMATCH);
  assert_ok(brt_release_sized(big, 200000, 16));
  brt_mem_stats st = stats_now();
  assert_true(st.errors_layout_mismatch >= 6);
}

static void test_stats(void **state) {
  (void)state;
  brt_mem_stats before = stats_now();
  void *blocks[100];
  for (int i = 0; i < 100; i++) {
    blocks[i] = brt_alloc(64, 16, (brt_mem_type)(i % 3), 0);
    assert_non_null(blocks[i]);
  }
  brt_mem_stats mid = stats_now();
  assert_int_equal(mid.total_allocs - before.total_allocs, 100);
  assert_int_equal(mid.live_blocks - before.live_blocks, 100);
  assert_int_equal(mid.live_bytes - before.live_bytes, 6400);
  assert_int_equal(mid.live_bytes_by_type[BRT_MEM_C_HEAP] - before.live_bytes_by_type[BRT_MEM_C_HEAP], 34 * 64);
  assert_int_equal(mid.live_bytes_by_type[BRT_MEM_CPP_HEAP] - before.live_bytes_by_type[BRT_MEM_CPP_HEAP], 33 * 64);
  assert_true(mid.peak_bytes >= mid.live_bytes);
  assert_true(mid.committed_bytes >= 6400);
  for (int i = 0; i < 100; i++) assert_ok(brt_release(blocks[i]));
  brt_mem_stats after = stats_now();
  assert_int_equal(after.total_frees - mid.total_frees, 100);
  assert_int_equal(after.live_blocks, before.live_blocks);
  assert_int_equal(after.live_bytes, before.live_bytes);
  /* A caller compiled with only the contract fields. */
  brt_mem_stats small = {.struct_size = offsetof(brt_mem_stats, limit_bytes)};
  small.limit_bytes = 12345;
  assert_ok(brt_mem_stats_get(&small));
  assert_int_equal(small.limit_bytes, 12345); /* untouched beyond its size */
  assert_status(brt_mem_stats_get(NULL), BRT_E_INVALID_ARGUMENT);
  brt_mem_stats tiny = {.struct_size = 8};
  assert_status(brt_mem_stats_get(&tiny), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "struct_size is 8");
}

static void test_cpp_entry_points(void **state) {
  (void)state;
  void *p = brt_cpp_allocate(0, 8);
  assert_non_null(p);
  void *q = brt_cpp_allocate(0, 8);
  assert_ptr_not_equal(p, q);
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.type, BRT_MEM_CPP_HEAP);
  assert_ok(brt_cpp_deallocate(p));
  assert_ok(brt_cpp_deallocate(q));
  assert_status(brt_cpp_deallocate(p), BRT_E_DOUBLE_FREE);
  void *c = brt_alloc(32, 8, BRT_MEM_C_HEAP, 0);
  assert_status(brt_cpp_deallocate(c), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "BRT_MEM_C_HEAP");
  assert_true(brt_owns(c));
  assert_ok(brt_release(c));
  assert_null_with(brt_cpp_allocate(16, 3), BRT_E_INVALID_ARGUMENT);
  void *aligned = brt_cpp_allocate(24, 64);
  assert_int_equal((uintptr_t)aligned % 64, 0);
  assert_ok(brt_cpp_deallocate(aligned));
}

/* Many blocks of one class across several pages, freed in another order:
 * pages retire and restart correctly. */
static void test_many_blocks(void **state) {
  (void)state;
  enum { COUNT = 20000 };
  void **blocks = malloc(COUNT * sizeof *blocks);
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < COUNT; i++) {
      size_t size = 16 + (size_t)(i % 50) * 24;
      blocks[i] = brt_alloc(size, 16, BRT_MEM_C_HEAP, 0);
      assert_non_null(blocks[i]);
      fill(blocks[i], 16, (unsigned)i);
    }
    for (int i = 1; i < COUNT; i += 2) {
      assert_true(check(blocks[i], 16, (unsigned)i));
      assert_ok(brt_release(blocks[i]));
    }
    for (int i = 0; i < COUNT; i += 2) {
      assert_true(check(blocks[i], 16, (unsigned)i));
      assert_ok(brt_release(blocks[i]));
    }
  }
  free(blocks);
}

/* Every alignment from 4 MiB to BRT_ALLOC_ALIGN_MAX gives a block that the
 * allocator knows: such a block starts a 4 MiB slot of its own, and its
 * segment header sits in the slot below (docs/memory.md, "Large
 * alignments"). Owned, described, retained, resized, released by every
 * entry point (brt_release, brt_release_sized as Rust's dealloc,
 * brt_cpp_deallocate as C++'s aligned delete), C heap and SHARED; the
 * charge, the live counts and the descriptors come back to what they
 * were. They used to leak for good: brt_owns said 0 and every release
 * was INVALID_POINTER. */
static void check_large_aligned(void *p, size_t align, brt_mem_type type) {
  assert_non_null(p);
  assert_int_equal((uintptr_t)p % align, 0);
  assert_true(brt_owns(p));
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.type, type);
  assert_int_equal(info.refcount, 1);
  assert_true(info.usable >= 16);
  assert_true(info.align >= align);
  assert_int_equal(info.flags, 0);
}

static void test_large_alignments(void **state) {
  (void)state;
  static const brt_mem_type types[] = {BRT_MEM_C_HEAP, BRT_MEM_SHARED};
  for (size_t align = (size_t)1 << 22; align <= BRT_ALLOC_ALIGN_MAX; align <<= 1) {
    for (size_t t = 0; t < 2; t++) {
      brt_mem_type type = types[t];
      int fds_before = brt_test_open_fds();
      brt_mem_stats before = stats_now();
      unsigned char *p = brt_alloc(16, align, type, 0);
      check_large_aligned(p, align, type);
      fill(p, 16, (unsigned)t);
      brt_mem_stats mid = stats_now();
      assert_int_equal(mid.live_blocks - before.live_blocks, 1);
      assert_true(mid.committed_bytes > before.committed_bytes);
      /* Charged its header page and its block's page: not the address
       * space between them. */
      assert_true(mid.committed_bytes - before.committed_bytes <= 2 * 4096);
      assert_ok(brt_retain(p));
      brt_block_info info = {.struct_size = sizeof info};
      assert_ok(brt_block_info_get(p, &info));
      assert_int_equal(info.refcount, 2);
      assert_null_with(brt_realloc(p, 32, align), BRT_E_UNSUPPORTED); /* two references */
      assert_ok(brt_release(p));
      if (type == BRT_MEM_SHARED) {
        int fd = -1;
        uint64_t offset = 1;
        assert_ok(brt_shared_fd(p, &fd, &offset));
        assert_true(fd >= 0);
        assert_int_equal(offset, 0);
        unsigned char *view = brt_map_fd(fd, offset, 16, 0);
        assert_non_null(view);
        assert_true(check(view, 16, (unsigned)t));
        assert_ok(brt_release(view));
      } else {
        /* In place within its page, then moved to a larger block of the
         * same alignment: the bytes follow. */
        assert_ptr_equal(brt_realloc(p, 4000, align), p);
        unsigned char *moved = brt_realloc(p, 3 << 20, align);
        check_large_aligned(moved, align, type);
        assert_true(check(moved, 16, (unsigned)t));
        assert_false(brt_owns(p));
        p = moved;
      }
      assert_ok(brt_release(p));
      assert_false(brt_owns(p));
      assert_status(brt_release(p), BRT_E_INVALID_POINTER); /* unmapped with its segment */
      brt_mem_stats after = stats_now();
      assert_int_equal(after.committed_bytes, before.committed_bytes);
      assert_int_equal(after.live_blocks, before.live_blocks);
      assert_int_equal(after.live_bytes, before.live_bytes);
      assert_int_equal(brt_test_open_fds(), fds_before); /* a SHARED block's memfd is closed */
    }
    /* Rust's dealloc and C++'s aligned delete. */
    brt_mem_stats before = stats_now();
    void *rust = brt_alloc(24, align, BRT_MEM_RUST_HEAP, 0);
    check_large_aligned(rust, align, BRT_MEM_RUST_HEAP);
    assert_status(brt_release_sized(rust, 5000, align), BRT_E_LAYOUT_MISMATCH);
    assert_ok(brt_release_sized(rust, 24, align));
    assert_false(brt_owns(rust));
    void *cpp = brt_cpp_allocate(40, align);
    check_large_aligned(cpp, align, BRT_MEM_CPP_HEAP);
    assert_ok(brt_cpp_deallocate(cpp));
    assert_false(brt_owns(cpp));
    assert_int_equal(stats_now().committed_bytes, before.committed_bytes);
  }
  /* The slot above a large-aligned block's header is not a block when
   * nothing lives there, and neither is a pointer into the header. */
  unsigned char *p = brt_alloc(16, (size_t)1 << 22, BRT_MEM_C_HEAP, 0);
  assert_non_null(p);
  assert_false(brt_owns(p - ((size_t)1 << 22)));
  assert_false(brt_owns(p - 4096));
  assert_false(brt_owns(p + 16));
  assert_status(brt_release(p - ((size_t)1 << 22)), BRT_E_INVALID_POINTER);
  assert_ok(brt_release(p));
  assert_null_with(brt_alloc(16, BRT_ALLOC_ALIGN_MAX << 1, BRT_MEM_C_HEAP, 0),
                   BRT_E_INVALID_ARGUMENT);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sizes_and_alignments), cmocka_unit_test(test_zero_flag),
      cmocka_unit_test(test_refcounts),            cmocka_unit_test(test_release_sized),
      cmocka_unit_test(test_stats),                cmocka_unit_test(test_cpp_entry_points),
      cmocka_unit_test(test_many_blocks),          cmocka_unit_test(test_large_alignments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
