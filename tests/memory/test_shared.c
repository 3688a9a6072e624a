/* The shared arena: SHARED blocks cut by class from memfd-backed segments.
 * Thousands of blocks use a handful of fds, each block's bytes are the
 * bytes at (fd, offset) for this process, a forked child and an
 * independent mapping, collection gives the memory and the fds back, and
 * brt_shared_fd refuses bad input. Runs plain, with tracking = blocks and
 * hardened (tests/memory/meson.build). */
#include "brt_test.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MANY 3000

static brt_mem_stats stats_now(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  return st;
}

/* An independent mapping of the block's bytes: (fd, offset rounded down to
 * the page), as another process would map it. */
static unsigned char *map_block(int fd, uint64_t offset, size_t len, unsigned char **base,
                                size_t *base_len) {
  uint64_t page_start = offset & ~(uint64_t)4095;
  *base_len = (size_t)(offset - page_start) + len;
  void *m = mmap(NULL, *base_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)page_start);
  if (m == MAP_FAILED) return NULL;
  *base = m;
  return (unsigned char *)m + (offset - page_start);
}

static int count_shared(void *ctx, const void *block, const brt_block_info *info) {
  (void)block;
  if (info->type == BRT_MEM_SHARED) ++*(int *)ctx;
  return 0;
}

static int compare_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* 3000 live 64-byte blocks: a handful of fds, distinct offsets, every
 * block visible through its own mapping here and in a forked child. */
static void test_many_blocks_few_fds(void **state) {
  (void)state;
  assert_ok(brt_mem_collect());
  int fds_before = brt_test_open_fds();
  brt_mem_stats before = stats_now();
  static unsigned char *blocks[MANY];
  static int block_fd[MANY];
  static uint64_t block_offset[MANY], keys[MANY];
  for (int i = 0; i < MANY; i++) {
    blocks[i] = brt_alloc_shared(64);
    assert_non_null(blocks[i]);
    assert_int_equal((uintptr_t)blocks[i] % 64, 0);
    for (int b = 0; b < 64; b++) assert_int_equal(blocks[i][b], 0);
    assert_true(brt_owns(blocks[i]));
    assert_ok(brt_shared_fd(blocks[i], &block_fd[i], &block_offset[i]));
    keys[i] = ((uint64_t)block_fd[i] << 40) | block_offset[i];
  }
  int fds_used = brt_test_open_fds() - fds_before;
  assert_true(fds_used >= 1);
  assert_true(fds_used <= 2); /* 3000 x 64 bytes fit one 4 MiB segment */
  qsort(keys, MANY, sizeof keys[0], compare_u64);
  for (int i = 1; i < MANY; i++) assert_true(keys[i] >= keys[i - 1] + 64); /* distinct, no overlap */

  brt_mem_stats live = stats_now();
  assert_int_equal(live.live_bytes_by_type[BRT_MEM_SHARED] - before.live_bytes_by_type[BRT_MEM_SHARED],
                   (uint64_t)MANY * 64);
  int visited = 0;
  assert_ok(brt_mem_visit_live(0, count_shared, &visited));
  assert_true(visited >= MANY);

  /* This process: the block and an independent mapping are the same bytes. */
  for (int i = 0; i < MANY; i++) {
    unsigned char *base;
    size_t base_len;
    unsigned char *view = map_block(block_fd[i], block_offset[i], 64, &base, &base_len);
    assert_non_null(view);
    memset(blocks[i], (unsigned char)i, 64);
    assert_int_equal(view[0], (unsigned char)i);
    assert_int_equal(view[63], (unsigned char)i);
    view[10] = 0xA5;
    assert_int_equal(blocks[i][10], 0xA5);
    munmap(base, base_len);
  }

  /* A forked child maps every block through (fd, offset) and writes a
   * pattern; the parent reads it in its blocks. */
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    for (int i = 0; i < MANY; i++) {
      unsigned char *base;
      size_t base_len;
      unsigned char *view = map_block(block_fd[i], block_offset[i], 64, &base, &base_len);
      if (!view) _exit(1);
      for (int b = 0; b < 64; b++) view[b] = (unsigned char)(i * 7 + b);
      munmap(base, base_len);
    }
    _exit(0);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  for (int i = 0; i < MANY; i++)
    for (int b = 0; b < 64; b++) assert_int_equal(blocks[i][b], (unsigned char)(i * 7 + b));

  for (int i = 0; i < MANY; i++) assert_ok(brt_release(blocks[i]));
  brt_mem_stats after = stats_now();
  assert_int_equal(after.live_bytes_by_type[BRT_MEM_SHARED], before.live_bytes_by_type[BRT_MEM_SHARED]);
  assert_ok(brt_mem_collect());
  assert_int_equal(brt_test_open_fds(), fds_before); /* the arena's fds were closed */
}

/* Emptied shared pages really give their memory back: the memfd's
 * allocated blocks (seen through a dup of its fd) drop to zero. */
static void test_collect_returns_memory(void **state) {
  (void)state;
  assert_ok(brt_mem_collect());
  int fds_before = brt_test_open_fds();
  brt_mem_stats before = stats_now();
  enum { COUNT = 200 };
  void *blocks[COUNT];
  for (int i = 0; i < COUNT; i++) {
    blocks[i] = brt_alloc_shared(8000);
    assert_non_null(blocks[i]);
    memset(blocks[i], 0x5A, 8000);
  }
  int fd;
  uint64_t offset;
  assert_ok(brt_shared_fd(blocks[0], &fd, &offset));
  int watch = dup(fd);
  assert_true(watch >= 0);
  struct stat st;
  assert_int_equal(fstat(watch, &st), 0);
  assert_true((uint64_t)st.st_blocks * 512 >= 1000000); /* at least the blocks of this segment */
  brt_mem_stats mid = stats_now();
  assert_true(mid.committed_bytes > before.committed_bytes);
  for (int i = 0; i < COUNT; i++) assert_ok(brt_release(blocks[i]));
  assert_ok(brt_mem_collect());
  assert_int_equal(fstat(watch, &st), 0);
  assert_int_equal(st.st_blocks, 0);
  close(watch);
  assert_int_equal(brt_test_open_fds(), fds_before);
  brt_mem_stats after = stats_now();
  assert_true(after.committed_bytes <= before.committed_bytes);
}

/* Blocks above 64 KiB keep their own memfd (offset 0); it closes with the
 * block. */
static void test_large_block_own_fd(void **state) {
  (void)state;
  int fds_before = brt_test_open_fds();
  unsigned char *big = brt_alloc_shared(100000);
  assert_non_null(big);
  int fd;
  uint64_t offset = 7;
  assert_ok(brt_shared_fd(big, &fd, &offset));
  assert_int_equal(offset, 0);
  assert_int_equal(brt_test_open_fds(), fds_before + 1);
  assert_ok(brt_release(big));
  assert_int_equal(brt_test_open_fds(), fds_before);
}

static void test_block_semantics(void **state) {
  (void)state;
  char *p = brt_alloc_shared(100);
  assert_non_null(p);
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.type, BRT_MEM_SHARED);
  assert_true(info.usable >= 100);
  assert_true(info.align >= 64);
  assert_int_equal(info.refcount, 1);
  strcpy(p, "shared bytes");
  /* realloc refuses, with its own message. */
  assert_null_with(brt_realloc(p, 200, 16), BRT_E_UNSUPPORTED);
  assert_last_error(BRT_E_UNSUPPORTED, "SHARED");
  /* copies, shares. */
  char *copy = brt_map_copy(p, BRT_MEM_C_HEAP);
  assert_non_null(copy);
  assert_string_equal(copy, "shared bytes");
  char *again = brt_map_copy(p, BRT_MEM_SHARED);
  assert_non_null(again);
  assert_string_equal(again, "shared bytes");
  assert_ptr_equal(brt_map_share(p), p);
  assert_ok(brt_release(p));
  assert_true(brt_owns(p));
  assert_ok(brt_release(p));
  assert_false(brt_owns(p));
  assert_ok(brt_release(copy));
  assert_ok(brt_release(again));
  /* brt_alloc with the SHARED type and an alignment. */
  void *aligned = brt_alloc(300, 256, BRT_MEM_SHARED, BRT_ALLOC_ZERO);
  assert_non_null(aligned);
  assert_int_equal((uintptr_t)aligned % 256, 0);
  int fd;
  uint64_t offset;
  assert_ok(brt_shared_fd(aligned, &fd, &offset));
  assert_int_equal(offset % 256, 0);
  assert_ok(brt_release(aligned));
}

/* brt_shared_fd: every bad input has its status and message, and the
 * out-arguments are left as they were. */
static void test_shared_fd_errors(void **state) {
  (void)state;
  int fd = -7;
  uint64_t offset = 77;
  void *keep = brt_alloc_shared(64); /* keeps the freed block's page in use */
  void *freed = brt_alloc_shared(64);
  assert_non_null(keep);
  assert_non_null(freed);
  assert_ok(brt_release(freed));

  assert_status(brt_shared_fd(NULL, &fd, &offset), BRT_E_INVALID_POINTER);
  assert_last_error(BRT_E_INVALID_POINTER, "NULL");
  assert_status(brt_shared_fd(keep, NULL, &offset), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "fd is NULL");
  assert_status(brt_shared_fd(keep, &fd, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "offset is NULL");
  void *plain = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  assert_status(brt_shared_fd(plain, &fd, &offset), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "not a SHARED block");
  assert_ok(brt_release(plain));
  void *foreign = malloc(64);
  assert_status(brt_shared_fd(foreign, &fd, &offset), BRT_E_INVALID_POINTER);
  assert_last_error(BRT_E_INVALID_POINTER, "not allocated by bridgert");
  free(foreign);
  assert_status(brt_shared_fd(freed, &fd, &offset), BRT_E_DOUBLE_FREE);
  assert_last_error(BRT_E_DOUBLE_FREE, "already freed");
  assert_status(brt_shared_fd((char *)keep + 8, &fd, &offset), BRT_E_INVALID_POINTER);
  assert_last_error(BRT_E_INVALID_POINTER, "interior pointer");
  assert_int_equal(fd, -7);
  assert_int_equal(offset, 77);
  assert_ok(brt_release(keep));
}

/* The limit is charged when shared pages and segments are committed. */
static void test_limit(void **state) {
  (void)state;
  assert_ok(brt_mem_collect());
  int fds_before = brt_test_open_fds();
  brt_mem_stats st = stats_now();
  assert_ok(brt_mem_set_limit((size_t)st.committed_bytes + 1024));
  assert_null_with(brt_alloc_shared(64), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "memory limit");
  assert_int_equal(brt_test_open_fds(), fds_before); /* nothing left open by the failure */
  assert_ok(brt_mem_set_limit(0));
  void *p = brt_alloc_shared(64);
  assert_non_null(p);
  assert_ok(brt_release(p));
}

/* fork(): the child may release a block it inherited — that only marks
 * it freed there, it does not write into the bytes the parent still uses
 * — and its own SHARED blocks come from a new memfd. */
static void test_fork_inherited_blocks(void **state) {
  (void)state;
  unsigned char *p = brt_alloc_shared(64);
  assert_non_null(p);
  memset(p, 'P', 64);
  int parent_fd;
  uint64_t parent_offset;
  assert_ok(brt_shared_fd(p, &parent_fd, &parent_offset));
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int ok = brt_release(p) == BRT_OK;
    ok &= brt_release(p) == BRT_E_DOUBLE_FREE;
    for (int b = 0; b < 64; b++) ok &= p[b] == 'P';
    unsigned char *mine = brt_alloc_shared(64);
    int fd;
    uint64_t offset;
    ok &= mine != NULL && brt_shared_fd(mine, &fd, &offset) == BRT_OK && fd != parent_fd;
    if (mine) {
      memset(mine, 'C', 64);
      ok &= brt_release(mine) == BRT_OK;
    }
    ok &= brt_mem_collect() == BRT_OK;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  for (int b = 0; b < 64; b++) assert_int_equal(p[b], 'P');
  assert_ok(brt_release(p));
}

/* The other process writes into freed blocks, over the free-list links
 * they hold: links to a live block, to a freed block, to the middle of a
 * block, outside the page, cycles. The arena hands out no live block,
 * no block twice and no address outside its pages; every block it gives
 * is whole, zeroed and SHARED. */
static void test_other_process_writes_freed_blocks(void **state) {
  (void)state;
  assert_ok(brt_mem_collect());
  enum { COUNT = 400, MORE = 3000 };
  static unsigned char *blocks[COUNT], *more[MORE];
  for (int i = 0; i < COUNT; i++) {
    blocks[i] = brt_alloc_shared(64);
    assert_non_null(blocks[i]);
    memset(blocks[i], 0x11, 64);
  }
  int fd;
  uint64_t offset;
  assert_ok(brt_shared_fd(blocks[0], &fd, &offset));
  /* Keep every fourth block; release the others — half of them collected
   * onto their page's free list, half still on its thread_free list — then
   * scribble over them through an independent mapping of the arena. */
  for (int i = 0; i < COUNT; i++)
    if (i % 4 && i < COUNT / 2) assert_ok(brt_release(blocks[i]));
  assert_ok(brt_mem_collect());
  for (int i = COUNT / 2; i < COUNT; i++)
    if (i % 4) assert_ok(brt_release(blocks[i]));
  size_t len = 4 << 20;
  unsigned char *view = mmap(NULL, len - (256 << 10), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert_true(view != MAP_FAILED);
  for (int i = 0; i < COUNT; i++) {
    if (i % 4 == 0) continue;
    uint64_t off_i = offset + (uint64_t)(blocks[i] - blocks[0]);
    uintptr_t *link = (uintptr_t *)(view + off_i);
    switch (i % 8) {
    case 1: *link = (uintptr_t)blocks[(i / 4) * 4]; break;     /* a live block */
    case 2: *link = (uintptr_t)blocks[i] + 8; break;           /* an interior address */
    case 3: *link = (uintptr_t)blocks[i]; break;               /* itself: a cycle */
    case 5: *link = (uintptr_t)0xdeadbeef000; break;           /* not ours at all */
    case 6: *link = (uintptr_t)blocks[(i + 4) % COUNT]; break; /* another freed block */
    default: memset(view + off_i, 0xFF, 64); break;
    }
  }
  munmap(view, len - (256 << 10));
  for (int i = 0; i < MORE; i++) {
    more[i] = brt_alloc_shared(64);
    assert_non_null(more[i]);
    brt_block_info info = {.struct_size = sizeof info};
    assert_ok(brt_block_info_get(more[i], &info));
    assert_int_equal(info.type, BRT_MEM_SHARED);
    assert_int_equal(info.refcount, 1);
    for (int b = 0; b < 64; b++) assert_int_equal(more[i][b], 0);
    memset(more[i], 0x22, 64);
  }
  for (int i = 0; i < COUNT; i += 4)
    for (int b = 0; b < 64; b++) assert_int_equal(blocks[i][b], 0x11); /* live ones untouched */
  for (int i = 0; i < MORE; i++) assert_ok(brt_release(more[i]));
  for (int i = 0; i < COUNT; i += 4) assert_ok(brt_release(blocks[i]));
  assert_ok(brt_mem_collect());
}

/* A block the parent freed just before fork() (in hardened mode it waits
 * in the thread's quarantine, which the child inherits): when the child's
 * frees push it out of its copy of the quarantine, the child must not
 * write a free-list link into it — the parent owns its reuse. */
static void test_fork_inherited_quarantine(void **state) {
  (void)state;
  unsigned char *p = brt_alloc_shared(64);
  assert_non_null(p);
  memset(p, 0x41, 64); /* the link slot holds a value no push would write */
  assert_ok(brt_release(p));
  uint64_t link_before;
  memcpy(&link_before, p, sizeof link_before);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int ok = 1;
    for (int i = 0; i < 600 && ok; i++) {
      void *q = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
      ok &= q != NULL && brt_release(q) == BRT_OK;
    }
    ok &= brt_mem_collect() == BRT_OK;
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  uint64_t link_after;
  memcpy(&link_after, p, sizeof link_after);
  assert_int_equal(link_after, link_before);
}

/* BRT_LEAK_REPORT=1 lists SHARED arena blocks still live at exit, with
 * their requested size (tracking = backtrace in the child). */
static void test_leak_report(void **state) {
  (void)state;
  char output[65536];
  brt_test_leak_report_of_self(output, sizeof output);
  if (!strstr(output, "5 blocks (500 bytes) still live at exit")) fail_msg("report: %s", output);
  assert_non_null(strstr(output, "SHARED"));
  assert_non_null(strstr(output, "100 bytes"));
}

static int leak_and_exit(void) {
  for (int i = 0; i < 5; i++)
    if (!brt_alloc_shared(100)) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--leak") == 0) return leak_and_exit();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_many_blocks_few_fds), cmocka_unit_test(test_collect_returns_memory),
      cmocka_unit_test(test_large_block_own_fd),  cmocka_unit_test(test_block_semantics),
      cmocka_unit_test(test_shared_fd_errors),    cmocka_unit_test(test_limit),
      cmocka_unit_test(test_fork_inherited_blocks),
      cmocka_unit_test(test_other_process_writes_freed_blocks),
      cmocka_unit_test(test_leak_report),
      cmocka_unit_test(test_fork_inherited_quarantine),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
