/* brt_map_fd: memfds and files mapped as MAPPED blocks (MAP_SHARED), at
 * any offset, read-only or writable; every refusal leaves nothing behind;
 * a forked child maps its parent's SHARED block and writes into it; a
 * block's bytes outlive the release of the SHARED block they came from. */
#include "brt_test.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static brt_mem_stats stats_now(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  return st;
}

/* A memfd of `size` bytes whose byte i is (i * 7) & 0xFF. */
static int patterned_memfd(size_t size) {
  int fd = memfd_create("test-map-fd", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)size), 0);
  unsigned char *bytes = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert_true(bytes != MAP_FAILED);
  for (size_t i = 0; i < size; i++) bytes[i] = (unsigned char)(i * 7);
  munmap(bytes, size);
  return fd;
}

static void wait_child_ok(pid_t pid) {
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

/* Writes through one mapping are seen through the other, for an arena
 * block (offset not page aligned) and a block with its own memfd. */
static void test_round_trip_with_shared_blocks(void **state) {
  (void)state;
  static const size_t sizes[] = {64, 200, 5000, 300000};
  for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
    size_t size = sizes[k];
    brt_mem_stats before = stats_now();
    unsigned char *shared = brt_alloc_shared(size);
    assert_non_null(shared);
    int fd = -1;
    uint64_t offset = 0;
    assert_ok(brt_shared_fd(shared, &fd, &offset));
    unsigned char *mapped = brt_map_fd(fd, offset, size, BRT_MAP_WRITABLE);
    assert_non_null(mapped);
    assert_ptr_not_equal(mapped, shared);
    assert_true(brt_owns(mapped));
    brt_block_info info = {.struct_size = sizeof info};
    assert_ok(brt_block_info_get(mapped, &info));
    assert_int_equal(info.type, BRT_MEM_MAPPED);
    assert_int_equal(info.size, size);
    assert_int_equal(info.refcount, 1);
    assert_int_equal((uintptr_t)mapped % info.align, 0);
    assert_int_equal(stats_now().mapped_files, before.mapped_files + 1);
    /* Both directions. */
    for (size_t i = 0; i < size; i++) shared[i] = (unsigned char)(i + k);
    for (size_t i = 0; i < size; i++) assert_int_equal(mapped[i], (unsigned char)(i + k));
    mapped[0] = 0xA5;
    mapped[size - 1] = 0x5A;
    assert_int_equal(shared[0], 0xA5);
    assert_int_equal(shared[size - 1], 0x5A);
    /* Another reference, then the release that unmaps it. */
    assert_ok(brt_retain(mapped));
    assert_ok(brt_release(mapped));
    assert_true(brt_owns(mapped));
    assert_ok(brt_release(mapped));
    assert_false(brt_owns(mapped));
    assert_status(brt_release(mapped), BRT_E_INVALID_POINTER);
    assert_ok(brt_release(shared));
    brt_mem_stats after = stats_now();
    assert_int_equal(after.mapped_files, before.mapped_files);
    assert_int_equal(after.live_blocks, before.live_blocks);
  }
}

/* Any byte offset: the block starts at the requested byte, is aligned as
 * the offset is within its page, and is a block start that
 * brt_tensor_wrap accepts. */
static void test_unaligned_offsets(void **state) {
  (void)state;
  int fd = patterned_memfd(3 * 4096);
  static const uint64_t offsets[] = {0, 1, 100, 4095, 4096, 4100, 8000};
  for (size_t k = 0; k < sizeof offsets / sizeof offsets[0]; k++) {
    uint64_t offset = offsets[k];
    size_t len = 3 * 4096 - (size_t)offset;
    unsigned char *mapped = brt_map_fd(fd, offset, len, 0);
    assert_non_null(mapped);
    for (size_t i = 0; i < len; i++) assert_int_equal(mapped[i], (unsigned char)((offset + i) * 7));
    brt_block_info info = {.struct_size = sizeof info};
    assert_ok(brt_block_info_get(mapped, &info));
    assert_int_equal(info.size, len);
    size_t lead = (size_t)(offset % 4096);
    assert_int_equal(info.align, lead ? (lead & -lead) : 4096);
    assert_int_equal((uintptr_t)mapped % 4096, lead);
    /* Interior pointers are not blocks. */
    assert_false(brt_owns(mapped + 1));
    assert_status(brt_release(mapped + 1), BRT_E_INVALID_POINTER);
    assert_ok(brt_release(mapped));
  }
  /* A tensor over a mapped block whose offset is 64-byte aligned. */
  double *doubles = brt_map_fd(fd, 64, 16 * sizeof(double), BRT_MAP_WRITABLE);
  assert_non_null(doubles);
  size_t shape[2] = {4, 4};
  brt_value *tensor = brt_tensor_wrap(doubles, BRT_DTYPE_F64, 2, shape, NULL);
  assert_non_null(tensor);
  assert_ok(brt_release(doubles)); /* the tensor holds the block */
  size_t at[2] = {1, 2};
  assert_ok(brt_tensor_set_f64(tensor, at, 2, 2.5));
  double read_back = 0;
  off_t element_6 = 64 + 6 * sizeof(double);
  assert_int_equal(pread(fd, &read_back, sizeof read_back, element_6), sizeof read_back);
  assert_true(read_back == 2.5);
  brt_value_release(tensor);
  close(fd);
}

/* Without BRT_MAP_WRITABLE the mapping is read-only: a write faults (in a
 * child), and a read-only fd is enough. */
static void test_read_only(void **state) {
  (void)state;
  int fd = patterned_memfd(4096);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int read_only = open(path, O_RDONLY | O_CLOEXEC);
  assert_true(read_only >= 0);
  unsigned char *mapped = brt_map_fd(read_only, 10, 100, 0);
  assert_non_null(mapped);
  close(read_only); /* the fd is not taken: the mapping stays */
  assert_int_equal(mapped[0], (unsigned char)70);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    signal(SIGSEGV, SIG_DFL);
    mapped[0] = 1;
    _exit(0);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  assert_int_equal(mapped[0], (unsigned char)70);
  assert_ok(brt_release(mapped));
  close(fd);
}

/* Every refusal: NULL, the code, a message naming the problem, and no
 * block, mapping or descriptor left behind. */
static void test_refusals(void **state) {
  (void)state;
  int fd = patterned_memfd(8192);
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  int read_only = open(path, O_RDONLY | O_CLOEXEC);
  int write_only = open(path, O_WRONLY | O_CLOEXEC);
  assert_true(read_only >= 0 && write_only >= 0);
  int pipe_fds[2];
  assert_int_equal(pipe(pipe_fds), 0);
  int sockets[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sockets), 0);
  int directory = open("/tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  assert_true(directory >= 0);
  int closed = dup(fd);
  close(closed);

  brt_mem_stats before = stats_now();
  int fds_before = brt_test_open_fds();
  assert_null_with(brt_map_fd(-1, 0, 10, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "fd -1");
  assert_null_with(brt_map_fd(fd, 0, 0, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "len is 0");
  assert_null_with(brt_map_fd(fd, 0, 10, 6), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "unknown bits 0x6");
  assert_null_with(brt_map_fd(fd, UINT64_MAX - 5, 10, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "overflows");
  assert_null_with(brt_map_fd(fd, (uint64_t)INT64_MAX, 1, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "overflows");
  assert_null_with(brt_map_fd(fd, 8000, 193, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "[8000, 8193) lies beyond the end");
  assert_last_error(BRT_E_INVALID_ARGUMENT, "8192 bytes");
  assert_null_with(brt_map_fd(fd, 9000, 1, 0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_map_fd(pipe_fds[0], 0, 10, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "a pipe or FIFO");
  assert_null_with(brt_map_fd(sockets[0], 0, 10, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "a socket");
  assert_null_with(brt_map_fd(directory, 0, 10, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "a directory");
  assert_null_with(brt_map_fd(closed, 0, 10, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "not an open descriptor");
  assert_int_equal(brt_error_os_code(brt_last_error()), EBADF);
  assert_null_with(brt_map_fd(read_only, 0, 10, BRT_MAP_WRITABLE), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "read-write (O_RDWR)");
  assert_null_with(brt_map_fd(write_only, 0, 10, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "write-only");
  /* A memfd sealed against writes cannot be mapped writable: the kernel
   * refuses, reported as IO with its errno. */
  int sealed = patterned_memfd(4096);
  assert_int_equal(fcntl(sealed, F_ADD_SEALS, F_SEAL_WRITE), 0);
  assert_null_with(brt_map_fd(sealed, 0, 10, BRT_MAP_WRITABLE), BRT_E_IO);
  assert_last_error(BRT_E_IO, "read-write");
  assert_int_equal(brt_error_os_code(brt_last_error()), EPERM);
  unsigned char *readable = brt_map_fd(sealed, 0, 10, 0);
  assert_non_null(readable);
  assert_ok(brt_release(readable));
  close(sealed);

  brt_mem_stats after = stats_now();
  assert_int_equal(after.live_blocks, before.live_blocks);
  assert_int_equal(after.mapped_files, before.mapped_files);
  assert_int_equal(after.committed_bytes, before.committed_bytes);
  assert_int_equal(brt_test_open_fds(), fds_before);
  close(fd);
  close(read_only);
  close(write_only);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  close(sockets[0]);
  close(sockets[1]);
  close(directory);
}

/* A forked child maps the parent's SHARED block through brt_shared_fd and
 * brt_map_fd, and writes into it; the parent sees the bytes. */
static void test_child_writes_parent_block(void **state) {
  (void)state;
  static const size_t sizes[] = {128, 100000};
  for (size_t k = 0; k < 2; k++) {
    char *block = brt_alloc_shared(sizes[k]);
    assert_non_null(block);
    strcpy(block, "parent");
    int fd = -1;
    uint64_t offset = 0;
    assert_ok(brt_shared_fd(block, &fd, &offset));
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
      char *mine = brt_map_fd(fd, offset, sizes[k], BRT_MAP_WRITABLE);
      if (!mine || strcmp(mine, "parent") != 0) _exit(1);
      strcpy(mine + sizes[k] - 32, "written by the child");
      _exit(brt_release(mine) == BRT_OK ? 0 : 2);
    }
    wait_child_ok(pid);
    assert_string_equal(block + sizes[k] - 32, "written by the child");
    assert_ok(brt_release(block));
  }
}

/* Process A releases a SHARED block with its own memfd (above 64 KiB)
 * after process B mapped it: A's release closes its fd and unmaps, but
 * punches no hole and truncates nothing, so B still reads the bytes. */
static void test_bytes_outlive_the_release(void **state) {
  (void)state;
  size_t size = 256 * 1024;
  unsigned char *block = brt_alloc_shared(size);
  assert_non_null(block);
  for (size_t i = 0; i < size; i++) block[i] = (unsigned char)(i * 13);
  int fd = -1;
  uint64_t offset = 0;
  assert_ok(brt_shared_fd(block, &fd, &offset));
  int mapped_pipe[2], released_pipe[2];
  assert_int_equal(pipe(mapped_pipe), 0);
  assert_int_equal(pipe(released_pipe), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    unsigned char *mine = brt_map_fd(fd, offset, size, 0);
    close(fd); /* B keeps no descriptor: only its mapping */
    char go = 0;
    if (!mine || write(mapped_pipe[1], "m", 1) != 1 || read(released_pipe[0], &go, 1) != 1)
      _exit(1);
    for (size_t i = 0; i < size; i++)
      if (mine[i] != (unsigned char)(i * 13)) _exit(3);
    _exit(brt_release(mine) == BRT_OK ? 0 : 4);
  }
  char got = 0;
  assert_int_equal(read(mapped_pipe[0], &got, 1), 1);
  assert_ok(brt_release(block));
  assert_ok(brt_mem_collect());
  assert_int_equal(write(released_pipe[1], "r", 1), 1);
  wait_child_ok(pid);
  close(mapped_pipe[0]);
  close(mapped_pipe[1]);
  close(released_pipe[0]);
  close(released_pipe[1]);
}

/* The allocator's memfds accept F_SEAL_SHRINK, and the allocator keeps
 * working with sealed memfds: arena pages emptied and collected (a hole
 * punched, which keeps the size), blocks allocated again. */
static void test_sealed_memfds(void **state) {
  (void)state;
  enum { COUNT = 200 };
  void *blocks[COUNT];
  int arena_fd = -1;
  for (int i = 0; i < COUNT; i++) {
    blocks[i] = brt_alloc_shared(1000);
    assert_non_null(blocks[i]);
    memset(blocks[i], 0x42, 1000);
    uint64_t offset = 0;
    assert_ok(brt_shared_fd(blocks[i], &arena_fd, &offset));
    assert_int_equal(fcntl(arena_fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
    assert_true(fcntl(arena_fd, F_GET_SEALS) & F_SEAL_SHRINK);
  }
  void *large = brt_alloc_shared(100000);
  int large_fd = -1;
  uint64_t large_offset = 1;
  assert_ok(brt_shared_fd(large, &large_fd, &large_offset));
  assert_int_equal(large_offset, 0);
  assert_int_equal(fcntl(large_fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
  assert_ok(brt_release(large));
  for (int i = 0; i < COUNT; i++) assert_ok(brt_release(blocks[i]));
  assert_ok(brt_mem_collect());
  for (int i = 0; i < COUNT; i++) {
    blocks[i] = brt_alloc_shared(1000);
    assert_non_null(blocks[i]);
    for (int j = 0; j < 1000; j++) assert_int_equal(((unsigned char *)blocks[i])[j], 0);
  }
  for (int i = 0; i < COUNT; i++) assert_ok(brt_release(blocks[i]));
  assert_ok(brt_mem_collect());
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip_with_shared_blocks),
      cmocka_unit_test(test_unaligned_offsets),
      cmocka_unit_test(test_read_only),
      cmocka_unit_test(test_refusals),
      cmocka_unit_test(test_child_writes_parent_block),
      cmocka_unit_test(test_bytes_outlive_the_release),
      cmocka_unit_test(test_sealed_memfds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
