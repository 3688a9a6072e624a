/* brt_map_file on what is not a plain file: a FIFO is refused at once
 * (never opened and waited on for a writer), devices, directories, /proc
 * and /sys files are refused or fail, and every error names the path
 * (in the message and as the error's path). */
#include "brt_test.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static void on_alarm(int sig) {
  (void)sig;
  static const char message[] = "test_map_file_kinds: brt_map_file waited on a FIFO\n";
  ssize_t ignored = write(2, message, sizeof message - 1);
  (void)ignored;
  _exit(3);
}

/* Asserts that mapping `path` fails with an IO error naming it. */
static void expect_refused_naming(const char *path, const char *needle) {
  size_t len = 12345;
  assert_null_with(brt_map_file(path, &len, 0), BRT_E_IO);
  const brt_error *error = brt_last_error();
  if (!strstr(brt_error_message(error), path))
    fail_msg("the error for %s does not name it: %s", path, brt_error_message(error));
  if (needle && !strstr(brt_error_message(error), needle))
    fail_msg("the error for %s does not say \"%s\": %s", path, needle, brt_error_message(error));
  assert_non_null(brt_error_path(error, 0));
  assert_string_equal(brt_error_path(error, 0), path);
  assert_int_equal(len, 12345);
}

static void test_fifo(void **state) {
  (void)state;
  char dir[] = "/tmp/brt-map-kinds-XXXXXX";
  assert_non_null(mkdtemp(dir));
  char fifo[sizeof dir + 16];
  snprintf(fifo, sizeof fifo, "%s/pipe", dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  int fds_before = brt_test_open_fds();
  signal(SIGALRM, on_alarm);
  alarm(10);
  expect_refused_naming(fifo, "a pipe or FIFO");
  alarm(0);
  signal(SIGALRM, SIG_DFL);
  assert_int_equal(brt_test_open_fds(), fds_before); /* nothing left open */
  unlink(fifo);
  rmdir(dir);
}

static void test_devices_and_directories(void **state) {
  (void)state;
  expect_refused_naming("/dev/null", "a character device");
  expect_refused_naming("/tmp", "is a directory");
  assert_int_equal(brt_error_os_code(brt_last_error()), EISDIR);
  expect_refused_naming("/proc/self/status", NULL); /* st_size 0 */
}

/* A sysfs attribute is a "regular file" of 4096 bytes that cannot be
 * mapped: the mapping's failure names the path too. */
static void test_sys_file(void **state) {
  (void)state;
  const char *candidates[] = {"/sys/devices/system/cpu/online", "/sys/kernel/profiling",
                              "/sys/power/state", "/sys/kernel/mm/transparent_hugepage/enabled"};
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++) {
    struct stat st;
    if (stat(candidates[i], &st) != 0 || !S_ISREG(st.st_mode) || access(candidates[i], R_OK) != 0)
      continue;
    size_t len = 0;
    void *p = brt_map_file(candidates[i], &len, 0);
    if (p) { /* some kernels map it; then it is a block like any other */
      assert_ok(brt_release(p));
      continue;
    }
    const brt_error *error = brt_last_error();
    assert_non_null(error);
    if (!strstr(brt_error_message(error), candidates[i]))
      fail_msg("the error for %s does not name it: %s", candidates[i], brt_error_message(error));
    assert_non_null(brt_error_path(error, 0));
    assert_string_equal(brt_error_path(error, 0), candidates[i]);
    return;
  }
  skip();
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fifo),
      cmocka_unit_test(test_devices_and_directories),
      cmocka_unit_test(test_sys_file),
  };
  return cmocka_run_group_tests_name("map_file_kinds", tests, NULL, NULL);
}
