/* Helpers shared by the bridge tests: where the test plugins are, and
 * scratch directories to arrange plugins in. */
#ifndef BRT_BRIDGE_TEST_H
#define BRT_BRIDGE_TEST_H

#include "brt_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* $BRT_BUILD_ROOT/tests/bridge/plugins/<name>.so */
static inline const char *test_plugin(const char *name, char *buf, size_t size) {
  const char *root = getenv("BRT_BUILD_ROOT");
  snprintf(buf, size, "%s/tests/bridge/plugins/%s.so", root ? root : ".", name);
  return buf;
}

/* A fresh private directory (mode 0755) under the build tree. */
static inline void test_scratch_dir(char *buf, size_t size) {
  const char *root = getenv("BRT_BUILD_ROOT");
  snprintf(buf, size, "%s/tests/bridge/scratch-XXXXXX", root ? root : ".");
  assert_non_null(mkdtemp(buf));
  assert_int_equal(chmod(buf, 0755), 0);
}

/* Copies a file byte for byte (mode 0755). */
static inline void test_copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb");
  assert_non_null(in);
  FILE *out = fopen(to, "wb");
  assert_non_null(out);
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) assert_int_equal(fwrite(chunk, 1, n, out), n);
  fclose(in);
  fclose(out);
  assert_int_equal(chmod(to, 0755), 0);
}

/* Copies the test plugin `name` into `dir` as `as` (or <name>.so). */
static inline void test_place_plugin(const char *dir, const char *name, const char *as) {
  char from[4096], to[4096];
  int needed = as ? snprintf(to, sizeof to, "%s/%s", dir, as)
                  : snprintf(to, sizeof to, "%s/%s.so", dir, name);
  assert_true(needed > 0 && (size_t)needed < sizeof to);
  test_copy_file(test_plugin(name, from, sizeof from), to);
}

/* rm -r of a scratch directory (one level, as the tests create them). */
static inline void test_remove_dir(const char *dir) {
  char command[4200];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  assert_int_equal(system(command), 0);
}

#endif /* BRT_BRIDGE_TEST_H */
