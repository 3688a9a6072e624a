/* MemoryMapper: brt_map_share, brt_map_copy, brt_map_file, brt_alloc_shared
 * and brt_shared_fd (with a forked child writing through its own mapping). */
#include "brt_test.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static brt_mem_stats stats_now(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  return st;
}

static void test_share(void **state) {
  (void)state;
  brt_mem_stats before = stats_now();
  char *p = brt_alloc(256, 16, BRT_MEM_RUST_HEAP, 0);
  strcpy(p, "zero copy");
  char *view = brt_map_share(p);
  assert_ptr_equal(view, p);
  assert_ptr_equal(brt_map_share(p), p); /* a second share of the same block */
  brt_mem_stats mid = stats_now();
  assert_int_equal(mid.active_shares - before.active_shares, 1);
  assert_int_equal(mid.total_shares - before.total_shares, 2);
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.refcount, 3);
  assert_ok(brt_release(view));
  assert_ok(brt_release(view));
  assert_string_equal(p, "zero copy");
  assert_ok(brt_release(p));
  brt_mem_stats after = stats_now();
  assert_int_equal(after.active_shares, before.active_shares);
  assert_int_equal(after.live_blocks, before.live_blocks);
  assert_null_with(brt_map_share(p), BRT_E_DOUBLE_FREE);
  assert_null_with(brt_map_share(NULL), BRT_E_INVALID_POINTER);
}

static void test_copy(void **state) {
  (void)state;
  char *p = brt_alloc(100, 16, BRT_MEM_RUST_HEAP, 0);
  for (int i = 0; i < 100; i++) p[i] = (char)i;
  static const brt_mem_type targets[] = {BRT_MEM_C_HEAP, BRT_MEM_CPP_HEAP, BRT_MEM_RUST_HEAP,
                                         BRT_MEM_SHARED};
  for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
    char *copy = brt_map_copy(p, targets[t]);
    assert_non_null(copy);
    assert_ptr_not_equal(copy, p);
    assert_memory_equal(copy, p, 100);
    brt_block_info info = {.struct_size = sizeof info};
    assert_ok(brt_block_info_get(copy, &info));
    assert_int_equal(info.type, targets[t]);
    assert_int_equal(info.refcount, 1);
    assert_ok(brt_release(copy));
  }
  assert_null_with(brt_map_copy(p, BRT_MEM_MAPPED), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_map_copy(p, (brt_mem_type)17), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "target type 17");
  int local;
  assert_null_with(brt_map_copy(&local, BRT_MEM_C_HEAP), BRT_E_INVALID_POINTER);
  assert_ok(brt_release(p));
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_map_file(void **state) {
  (void)state;
  char dir[] = "/tmp/brt_map_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char path[256];
  snprintf(path, sizeof path, "%s/data.txt", dir);
  write_file(path, "mapped contents\n");
  brt_mem_stats before = stats_now();
  size_t len = 0;
  const char *text = brt_map_file(path, &len, 0);
  assert_non_null(text);
  assert_int_equal(len, 16);
  assert_memory_equal(text, "mapped contents\n", 16);
  assert_true(brt_owns(text));
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(text, &info));
  assert_int_equal(info.type, BRT_MEM_MAPPED);
  assert_int_equal(info.size, 16);
  assert_int_equal(info.refcount, 1);
  brt_mem_stats mid = stats_now();
  assert_int_equal(mid.mapped_files - before.mapped_files, 1);
  assert_int_equal(mid.live_bytes_by_type[BRT_MEM_MAPPED] - before.live_bytes_by_type[BRT_MEM_MAPPED], 16);
  assert_ok(brt_retain(text));
  assert_ok(brt_release(text));
  assert_ok(brt_release(text));
  assert_false(brt_owns(text));
  assert_int_equal(stats_now().mapped_files, before.mapped_files);

  /* Errors: each an IO error naming the path and the OS error. */
  char missing[300];
  snprintf(missing, sizeof missing, "%s/absent", dir);
  assert_null_with(brt_map_file(missing, &len, 0), BRT_E_IO);
  assert_last_error(BRT_E_IO, missing);
  assert_int_equal(brt_error_os_code(brt_last_error()), ENOENT);
  assert_string_equal(brt_error_path(brt_last_error(), 0), missing);
  assert_null_with(brt_map_file(dir, &len, 0), BRT_E_IO);
  assert_last_error(BRT_E_IO, "is a directory");
  assert_int_equal(brt_error_os_code(brt_last_error()), EISDIR);
  char empty[300];
  snprintf(empty, sizeof empty, "%s/empty", dir);
  write_file(empty, "");
  assert_null_with(brt_map_file(empty, &len, 0), BRT_E_IO);
  assert_last_error(BRT_E_IO, "is empty");
  assert_null_with(brt_map_file("/dev/null", &len, 0), BRT_E_IO);
  assert_null_with(brt_map_file(NULL, &len, 0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_map_file("", &len, 0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_map_file(path, NULL, 0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_map_file(path, &len, 1), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "flags");
  unlink(empty);
  unlink(path);
  rmdir(dir);
}

/* A SHARED block crosses fork(): the child maps the block's memfd itself,
 * writes through that mapping, and the parent reads the bytes in the block. */
static void test_shared_across_processes(void **state) {
  (void)state;
  char *block = brt_alloc_shared(10000);
  assert_non_null(block);
  assert_int_equal((uintptr_t)block % 4096, 0);
  for (int i = 0; i < 10000; i++) assert_int_equal(block[i], 0);
  int fd = -1;
  uint64_t offset = 99;
  assert_ok(brt_shared_fd(block, &fd, &offset));
  assert_true(fd >= 0);
  assert_int_equal(offset % 4096, 0); /* a block of a page or more is page aligned in its memfd */
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(block, &info));
  assert_int_equal(info.type, BRT_MEM_SHARED);
  assert_true(info.usable >= 10000);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char *mine = mmap(NULL, 10000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)offset);
    if (mine == MAP_FAILED) _exit(1);
    strcpy(mine + 5000, "written by the child");
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_string_equal(block + 5000, "written by the child");
  assert_ok(brt_release(block));
  assert_false(brt_owns(block));
  /* brt_alloc with the SHARED type gives the same kind of block. */
  void *also = brt_alloc(64, 16, BRT_MEM_SHARED, 0);
  assert_ok(brt_shared_fd(also, &fd, &offset));
  assert_ok(brt_release(also));
  /* Errors. */
  void *plain = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  assert_status(brt_shared_fd(plain, &fd, &offset), BRT_E_TYPE_MISMATCH);
  assert_status(brt_shared_fd(plain, NULL, &offset), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_shared_fd(plain, &fd, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_shared_fd(NULL, &fd, &offset), BRT_E_INVALID_POINTER);
  assert_ok(brt_release(plain));
  assert_null_with(brt_alloc_shared(0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_alloc_shared(SIZE_MAX), BRT_E_OUT_OF_MEMORY);
}

/* max_memory covers MAPPED blocks: each is charged its header page and
 * every page it maps, from the mapping to the release. A sparse 10 GiB
 * file (no disk used) cannot be mapped under a 64 MiB limit, by path or
 * by descriptor; it used to map, charged 4 KiB. */
static void test_mapped_blocks_are_charged(void **state) {
  (void)state;
  char path[] = "/tmp/brt_map_charge_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)10 << 30), 0);
  brt_mem_stats before = stats_now();
  assert_true(before.committed_bytes < ((uint64_t)64 << 20));
  assert_ok(brt_mem_set_limit((size_t)64 << 20));
  size_t len = 0;
  assert_null_with(brt_map_file(path, &len, 0), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "brt_map_file: mapping 10737418240 bytes is charged "
                                          "10737422336 bytes against the memory limit of "
                                          "67108864 bytes");
  assert_null_with(brt_map_fd(fd, 0, (size_t)10 << 30, 0), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "brt_map_fd: mapping 10737418240 bytes");
  assert_null_with(brt_map_fd(fd, 5, (size_t)1 << 30, BRT_MAP_WRITABLE), BRT_E_LIMIT_EXCEEDED);
  brt_mem_stats refused = stats_now();
  assert_int_equal(refused.committed_bytes, before.committed_bytes); /* nothing mapped */
  assert_int_equal(refused.mapped_files, before.mapped_files);
  assert_int_equal(refused.live_blocks, before.live_blocks);

  /* Under the limit: charged its pages plus the header page, until the
   * release gives them back. */
  assert_int_equal(ftruncate(fd, (off_t)8 << 20), 0);
  void *file = brt_map_file(path, &len, 0);
  assert_non_null(file);
  assert_int_equal(len, (size_t)8 << 20);
  assert_int_equal(stats_now().committed_bytes - before.committed_bytes, ((uint64_t)8 << 20) + 4096);
  void *range = brt_map_fd(fd, 4095, 2, 0); /* two bytes across a page boundary */
  assert_non_null(range);
  assert_int_equal(stats_now().committed_bytes - before.committed_bytes,
                   ((uint64_t)8 << 20) + 4096 + 3 * 4096);
  assert_ok(brt_release(range));
  assert_ok(brt_release(file));
  assert_int_equal(stats_now().committed_bytes, before.committed_bytes);
  assert_ok(brt_mem_set_limit(0));
  close(fd);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_share), cmocka_unit_test(test_copy), cmocka_unit_test(test_map_file),
      cmocka_unit_test(test_shared_across_processes),
      cmocka_unit_test(test_mapped_blocks_are_charged),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
