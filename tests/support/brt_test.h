/* Shared helpers for bridgert's cmocka suites.
 *
 * Every test goes through the public ABI. A failing call must return its
 * status AND record an error whose message helps a person act; these macros
 * check both at once. */
#ifndef BRT_TEST_H
#define BRT_TEST_H

#include <setjmp.h> /* cmocka needs these before its header */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bridgert.h>

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

/* Asserts that `expr` returned `expected`, and, for an error, that the thread
 * recorded an error with that code and a non-empty message. */
#define assert_status(expr, expected)                                                         \
  do {                                                                                        \
    brt_status brt_test_got_ = (expr);                                                        \
    brt_status brt_test_want_ = (expected);                                                   \
    if (brt_test_got_ != brt_test_want_) {                                                    \
      const brt_error *brt_test_err_ = brt_last_error();                                      \
      fail_msg("%s returned %s, expected %s (last error: %s)", #expr,                         \
               brt_status_name(brt_test_got_), brt_status_name(brt_test_want_),               \
               brt_test_err_ ? brt_error_message(brt_test_err_) : "none");                    \
    }                                                                                         \
    if (brt_test_want_ != BRT_OK) {                                                           \
      const brt_error *brt_test_err_ = brt_last_error();                                      \
      assert_non_null(brt_test_err_);                                                         \
      assert_int_equal(brt_error_code(brt_test_err_), brt_test_want_);                        \
      assert_true(strlen(brt_error_message(brt_test_err_)) > 0);                              \
    }                                                                                         \
  } while (0)

#define assert_ok(expr) assert_status((expr), BRT_OK)

/* Asserts that the thread's last error has `code` and its message contains
 * `needle`. */
#define assert_last_error(code, needle)                                                       \
  do {                                                                                        \
    const brt_error *brt_test_err_ = brt_last_error();                                        \
    assert_non_null(brt_test_err_);                                                           \
    assert_string_equal(brt_status_name(brt_error_code(brt_test_err_)),                       \
                        brt_status_name(code));                                               \
    if (!strstr(brt_error_message(brt_test_err_), (needle)))                                  \
      fail_msg("error message \"%s\" does not contain \"%s\"",                                \
               brt_error_message(brt_test_err_), (needle));                                   \
  } while (0)

/* Asserts that a pointer-returning call failed with `code`. */
#define assert_null_with(expr, code)                                                          \
  do {                                                                                        \
    brt_error_clear();                                                                        \
    const void *brt_test_ptr_ = (const void *)(expr);                                         \
    if (brt_test_ptr_ != NULL) fail_msg("%s returned %p, expected NULL", #expr, brt_test_ptr_); \
    assert_non_null(brt_last_error());                                                        \
    assert_string_equal(brt_status_name(brt_error_code(brt_last_error())),                    \
                        brt_status_name(code));                                               \
  } while (0)

/* Runs body() in a forked child (which then exits with 0) and returns the
 * child's wait status; what the child wrote on stderr is in out (NUL
 * terminated, at most size - 1 bytes). For tests of what stops a process. */
static inline int brt_test_stderr_of_child(void (*body)(void), char *out, size_t size) {
  int pipe_fds[2];
  assert_int_equal(pipe(pipe_fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    dup2(pipe_fds[1], 2);
    close(pipe_fds[0]);
    body();
    _exit(0);
  }
  close(pipe_fds[1]);
  size_t used = 0;
  ssize_t got;
  while (used < size - 1 && (got = read(pipe_fds[0], out + used, size - 1 - used)) > 0)
    used += (size_t)got;
  out[used] = 0;
  close(pipe_fds[0]);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  return status;
}

/* The child of brt_test_leak_report_of_self. */
static inline void brt_test_exec_self_leak(void) {
  setenv("BRT_LEAK_REPORT", "1", 1);
  setenv("BRT_TRACKING", "backtrace", 1);
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) _exit(2);
  self[n] = 0;
  execl(self, self, "--leak", (char *)NULL);
  _exit(3);
}
/* Runs this test program again as `self --leak` with BRT_LEAK_REPORT=1 and
 * BRT_TRACKING=backtrace, and returns what it wrote on stderr in out (NUL
 * terminated). Asserts that it exited with status 0. */
static inline void brt_test_leak_report_of_self(char *out, size_t size) {
  int status = brt_test_stderr_of_child(brt_test_exec_self_leak, out, size);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

/* How many file descriptors this process has open (/proc/self/fd). */
static inline int brt_test_open_fds(void) {
  DIR *dir = opendir("/proc/self/fd");
  assert_non_null(dir);
  int count = 0;
  struct dirent *entry;
  while ((entry = readdir(dir)) != NULL)
    if (entry->d_name[0] != '.') count++;
  closedir(dir);
  return count - 1; /* the descriptor opendir itself holds */
}

/* Path to ../shared/testdata/<rel>, or NULL (the test then skips with a
 * message) when the shared corpora are not beside the project. */
static inline const char *brt_test_shared_path(const char *rel, char *buf, size_t size) {
  const char *root = getenv("BRT_SHARED_TESTDATA");
  if (!root) return NULL;
  snprintf(buf, size, "%s/%s", root, rel);
  FILE *probe = fopen(buf, "r");
  if (!probe) return NULL;
  fclose(probe);
  return buf;
}


/* A private directory for a suite's files: brt_test_temp_dir_make fills
 * `dir` (PATH_MAX bytes) with a new directory under /tmp named after
 * `prefix`; brt_test_temp_dir_remove deletes it with everything in it.
 * Both return 0 on success, as cmocka's group setup and teardown expect. */
static inline int brt_test_temp_dir_make(char *dir, size_t size, const char *prefix) {
  snprintf(dir, size, "/tmp/%s-XXXXXX", prefix);
  return mkdtemp(dir) ? 0 : -1;
}

static inline int brt_test_temp_dir_remove(const char *dir) {
  char command[4200];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  return system(command) == 0 ? 0 : -1;
}

/* Writes `text` to dir/name and returns the path (a static buffer: valid
 * until the next call). */
static inline const char *brt_test_write_file(const char *dir, const char *name, const char *text) {
  static char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *file = fopen(path, "w");
  assert_non_null(file);
  fputs(text, file);
  fclose(file);
  return path;
}

#endif /* BRT_TEST_H */
