/* Helpers shared by the suites of external programs (test_programs.c,
 * test_manifests.c): runtimes, loads with options, and scratch plugin
 * directories holding a copy of tests/isolation/programs/behave. */
#ifndef BRT_PROGRAMS_TEST_H
#define BRT_PROGRAMS_TEST_H

#include "brt_test.h"

#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

static char programs_dir[4096]; /* the build tree's tests/isolation/programs */

/* The build tree (BRT_BUILD_ROOT), with programs_dir filled, or NULL with
 * a message: everything these suites write goes below the build tree, and
 * without it they would write into the current directory. */
static inline const char *programs_test_setup(void) {
  const char *root = getenv("BRT_BUILD_ROOT");
  if (!root || root[0] != '/') {
    fprintf(stderr, "BRT_BUILD_ROOT must name the build directory (meson test sets it)\n");
    return NULL;
  }
  snprintf(programs_dir, sizeof programs_dir, "%s/tests/isolation/programs", root);
  return root;
}

static inline brt_runtime *runtime_open(void) {
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.error_rate_threshold = 1.0; /* failing on purpose must not isolate an algorithm */
  brt_runtime *rt = brt_runtime_open(&cfg);
  brt_config_dispose(&cfg);
  assert_non_null(rt);
  return rt;
}

static inline brt_status load(brt_runtime *rt, const char *path, brt_isolation mode,
                              uint32_t timeout_ms, uint64_t memory_limit) {
  brt_plugin_options options = {.struct_size = sizeof options,
                                .isolation = mode,
                                .timeout_ms = timeout_ms,
                                .memory_limit = memory_limit};
  return brt_plugin_load_ex(rt, path, &options);
}

/* A scratch directory (0755) with a copy of behave and `manifest` as
 * NAME.algorithm.json; returns the manifest's path in `path`. */
static inline void scratch_manifest(char *dir, size_t dir_size, const char *manifest, char *path,
                                    size_t path_size) {
  const char *root = getenv("BRT_BUILD_ROOT");
  snprintf(dir, dir_size, "%s/tests/isolation/scratch-XXXXXX", root);
  assert_non_null(mkdtemp(dir));
  assert_int_equal(chmod(dir, 0755), 0);
  char from[8192], to[8192], command[24700];
  snprintf(from, sizeof from, "%s/behave", programs_dir);
  snprintf(to, sizeof to, "%s/behave", dir);
  snprintf(command, sizeof command, "cp '%s' '%s' && chmod 0755 '%s'", from, to, to);
  assert_int_equal(system(command), 0);
  snprintf(path, path_size, "%s/test.algorithm.json", dir);
  FILE *out = fopen(path, "w");
  assert_non_null(out);
  fputs(manifest, out);
  assert_int_equal(fclose(out), 0);
  assert_int_equal(chmod(path, 0644), 0);
}

static inline void remove_scratch(const char *dir) {
  char command[8300];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  assert_int_equal(system(command), 0);
}

#define MANIFEST_HEAD "{\"name\": \"t\", \"version\": \"1.0.0\", \"protocol\": \"files\", "

#endif /* BRT_PROGRAMS_TEST_H */
