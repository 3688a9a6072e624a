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

#endif /* BRT_TEST_H */
