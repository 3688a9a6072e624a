/* brt_realloc, the memory limit, brt_mem_collect (RSS really falls),
 * automatic collection past gc_threshold, and fork(). */
#include "brt_test.h"

#include <sys/wait.h>
#include <unistd.h>

static brt_mem_stats stats_now(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  return st;
}

static size_t rss_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  assert_non_null(f);
  unsigned long size = 0, resident = 0;
  assert_int_equal(fscanf(f, "%lu %lu", &size, &resident), 2);
  fclose(f);
  return resident * (size_t)sysconf(_SC_PAGESIZE);
}

static void test_resize(void **state) {
  (void)state;
  unsigned char *p = brt_alloc(100, 16, BRT_MEM_RUST_HEAP, 0);
  for (int i = 0; i < 100; i++) p[i] = (unsigned char)i;
  /* In place: still in the block's class. */
  assert_ptr_equal(brt_realloc(p, 110, 16), p);
  /* Grows: moves, keeps bytes, keeps the type, frees the old block. */
  unsigned char *q = brt_realloc(p, 5000, 16);
  assert_non_null(q);
  assert_ptr_not_equal(q, p);
  for (int i = 0; i < 100; i++) assert_int_equal(q[i], i);
  assert_false(brt_owns(p));
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(q, &info));
  assert_int_equal(info.type, BRT_MEM_RUST_HEAP);
  /* Shrinks far: moves to a smaller class. */
  unsigned char *r = brt_realloc(q, 50, 16);
  assert_non_null(r);
  for (int i = 0; i < 50; i++) assert_int_equal(r[i], i);
  /* A page block: bad requests are refused by brt_realloc's own checks
   * and leave it as it was; a stricter alignment moves it. */
  assert_null_with(brt_realloc(r, 0, 16), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "brt_realloc");
  assert_null_with(brt_realloc(r, 40, 3), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_realloc(r, SIZE_MAX, 16), BRT_E_OUT_OF_MEMORY);
  for (int i = 0; i < 50; i++) assert_int_equal(r[i], i);
  /* An alignment r does not have (twice its lowest set bit; r is a
   * 64-byte block, so at most 4096). */
  size_t stricter = ((uintptr_t)r & (~(uintptr_t)r + 1)) * 2;
  assert_true(stricter <= 4096);
  unsigned char *aligned = brt_realloc(r, 60, stricter);
  assert_non_null(aligned);
  assert_int_equal((uintptr_t)aligned % stricter, 0);
  for (int i = 0; i < 50; i++) assert_int_equal(aligned[i], i);
  assert_false(brt_owns(r));
  r = aligned;
  /* Large to larger, and a stricter alignment. */
  unsigned char *big = brt_realloc(r, 300000, 4096);
  assert_non_null(big);
  assert_int_equal((uintptr_t)big % 4096, 0);
  for (int i = 0; i < 50; i++) assert_int_equal(big[i], i);
  /* A large block grows in place inside its segment. */
  unsigned char *grown = brt_realloc(big, 1000000, 4096);
  assert_ptr_equal(grown, big);
  brt_block_info big_info = {.struct_size = sizeof big_info};
  assert_ok(brt_block_info_get(grown, &big_info));
  assert_true(big_info.usable >= 1000000);
  for (int i = 0; i < 50; i++) assert_int_equal(grown[i], i);
  memset(grown + 300000, 7, 700000);
  /* Errors leave the block as it was. */
  assert_null_with(brt_realloc(big, 0, 16), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_realloc(big, 10, 5), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_realloc(big, SIZE_MAX, 16), BRT_E_OUT_OF_MEMORY);
  assert_ok(brt_retain(big));
  assert_null_with(brt_realloc(big, 10, 16), BRT_E_UNSUPPORTED);
  assert_last_error(BRT_E_UNSUPPORTED, "refcount 2");
  assert_ok(brt_release(big));
  assert_ptr_equal(brt_map_share(big), big);
  assert_null_with(brt_realloc(big, 10, 16), BRT_E_UNSUPPORTED);
  assert_ok(brt_release(big));
  assert_null_with(brt_realloc(big, 10, 16), BRT_E_UNSUPPORTED); /* shared stays shared */
  assert_ok(brt_block_info_get(big, &info));
  assert_int_equal(info.refcount, 1);
  assert_ok(brt_release(big));
  assert_null_with(brt_realloc(big, 10, 16), BRT_E_INVALID_POINTER);
  void *shared = brt_alloc_shared(100);
  assert_null_with(brt_realloc(shared, 10, 16), BRT_E_UNSUPPORTED);
  assert_last_error(BRT_E_UNSUPPORTED, "SHARED");
  assert_ok(brt_release(shared));
  assert_null_with(brt_realloc(NULL, 10, 16), BRT_E_INVALID_POINTER);
}

static void test_limit(void **state) {
  (void)state;
  brt_mem_stats st = stats_now();
  size_t limit = (size_t)st.committed_bytes + (8u << 20);
  assert_ok(brt_mem_set_limit(limit));
  assert_int_equal(stats_now().limit_bytes, limit);
  enum { MAX = 100000 };
  void **blocks = calloc(MAX, sizeof *blocks);
  int count = 0;
  while (count < MAX) {
    blocks[count] = brt_alloc(1000, 16, BRT_MEM_C_HEAP, 0);
    if (!blocks[count]) break;
    count++;
  }
  assert_true(count > 1000 && count < MAX);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "memory limit of");
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "allocating 1000 bytes");
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "committed");
  assert_true(stats_now().committed_bytes <= limit);
  /* Large blocks too. */
  assert_null_with(brt_alloc(16u << 20, 16, BRT_MEM_C_HEAP, 0), BRT_E_LIMIT_EXCEEDED);
  for (int i = 0; i < count; i++) assert_ok(brt_release(blocks[i]));
  assert_ok(brt_mem_collect());
  void *again = brt_alloc(1000, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(again);
  assert_ok(brt_release(again));
  assert_ok(brt_mem_set_limit(0));
  free(blocks);
}

/* 100 MiB allocated and touched, released and collected: RSS falls by at
 * least 80 MiB and committed bytes with it. */
static void test_collect_returns_memory(void **state) {
  (void)state;
  enum { COUNT = 100 * 1024 };
  void **blocks = calloc(COUNT, sizeof *blocks);
  for (int i = 0; i < COUNT; i++) {
    blocks[i] = brt_alloc(1024, 16, BRT_MEM_C_HEAP, 0);
    assert_non_null(blocks[i]);
    memset(blocks[i], 0x5A, 1024);
  }
  size_t rss_full = rss_bytes();
  brt_mem_stats full = stats_now();
  for (int i = 0; i < COUNT; i++) assert_ok(brt_release(blocks[i]));
  assert_ok(brt_mem_collect());
  size_t rss_after = rss_bytes();
  brt_mem_stats after = stats_now();
  print_message("RSS %zu -> %zu bytes, committed %llu -> %llu\n", rss_full, rss_after,
                (unsigned long long)full.committed_bytes, (unsigned long long)after.committed_bytes);
  assert_true(rss_full > rss_after + (80u << 20));
  assert_true(full.committed_bytes > after.committed_bytes + (80u << 20));
  assert_true(after.collections >= 1);
  free(blocks);
}

/* Passing gc_threshold collects from the allocation slow path, at most
 * once per gc_interval_ms. */
static void test_gc_threshold(void **state) {
  (void)state;
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.gc_threshold = 16u << 20;
  cfg.gc_interval_ms = 3600u * 1000u; /* one automatic collection in this test */
  assert_ok(brt_mem_configure(&cfg));
  enum { COUNT = 40 * 1024 };
  void **blocks = calloc(COUNT, sizeof *blocks);
  uint64_t before = stats_now().collections;
  for (int i = 0; i < COUNT; i++) assert_non_null(blocks[i] = brt_alloc(1024, 16, BRT_MEM_C_HEAP, 0));
  uint64_t after = stats_now().collections;
  assert_int_equal(after, before + 1);
  for (int i = 0; i < COUNT; i++) assert_ok(brt_release(blocks[i]));
  cfg.gc_threshold = 0;
  assert_ok(brt_mem_configure(&cfg));
  brt_config_dispose(&cfg);
  free(blocks);
}

/* brt_mem_configure applies the memory keys of a config. */
static void test_configure(void **state) {
  (void)state;
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.max_memory = 1u << 30;
  assert_ok(brt_mem_configure(&cfg));
  assert_int_equal(stats_now().limit_bytes, 1u << 30);
  cfg.max_memory = 0;
  assert_ok(brt_mem_configure(&cfg));
  assert_int_equal(stats_now().limit_bytes, 0);
  cfg.gc_interval_ms = 100000000u; /* beyond a day: rejected, nothing applied */
  cfg.max_memory = 4096;
  assert_status(brt_mem_configure(&cfg), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "brt_mem_configure");
  assert_int_equal(stats_now().limit_bytes, 0);
  brt_config_dispose(&cfg);
}

/* fork(): the child uses and releases the parent's blocks, allocates its
 * own, and its statistics stay consistent. */
static void test_fork(void **state) {
  (void)state;
  char *parent_block = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  strcpy(parent_block, "from the parent");
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int ok = strcmp(parent_block, "from the parent") == 0;
    ok &= brt_release(parent_block) == BRT_OK;
    for (int i = 0; i < 10000 && ok; i++) {
      void *p = brt_alloc((size_t)(i % 700) + 1, 16, BRT_MEM_RUST_HEAP, 0);
      ok &= p != NULL && brt_release(p) == BRT_OK;
    }
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_ok(brt_release(parent_block)); /* the parent's copy is untouched */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_resize),      cmocka_unit_test(test_limit),
      cmocka_unit_test(test_collect_returns_memory), cmocka_unit_test(test_gc_threshold),
      cmocka_unit_test(test_configure),    cmocka_unit_test(test_fork),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
