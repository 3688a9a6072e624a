/* External programs' manifests, through the public ABI: every refusal of
 * a manifest (each error naming the manifest and what is wrong), a
 * manifest loaded twice, and a directory of manifests loaded at once. No
 * program runs here; tests/isolation/test_programs.c runs them. */
#include "programs_test.h"

static int count_algorithms(void *ctx, const brt_algorithm *algorithm) {
  (void)algorithm;
  ++*(int *)ctx;
  return 0;
}

static void test_load_dir(void **state) {
  (void)state;
  brt_runtime *rt = runtime_open();
  assert_ok(brt_plugin_load_dir(rt, programs_dir));
  int count = 0;
  assert_ok(brt_algorithms_list(rt, count_algorithms, &count));
  assert_int_equal(count, 17);
  brt_runtime_close(rt);
}

/* Loading `manifest` (as a scratch manifest) fails with `want` and
 * `needle`; the error names the manifest. */
static void expect_refusal(const char *manifest, brt_status want, const char *needle) {
  char dir[4096], path[8192];
  scratch_manifest(dir, sizeof dir, manifest, path, sizeof path);
  brt_runtime *rt = runtime_open();
  assert_status(load(rt, path, BRT_ISOLATION_PROCESS, 0, 0), want);
  char text[4096];
  brt_error_format(brt_last_error(), text, sizeof text);
  if (!strstr(text, needle)) fail_msg("error \"%s\" does not contain \"%s\"", text, needle);
  if (!strstr(text, "test.algorithm.json"))
    fail_msg("error \"%s\" does not name the manifest", text);
  brt_runtime_close(rt);
  remove_scratch(dir);
}

static void test_manifest_refusals(void **state) {
  (void)state;
  expect_refusal(MANIFEST_HEAD "\"command\": [\"behave\"], \"colour\": 1}", BRT_E_PLUGIN,
                 "unknown key \"colour\"");
  expect_refusal(MANIFEST_HEAD "\"description\": \"no command\"}", BRT_E_PLUGIN,
                 "\"command\" is missing");
  expect_refusal(MANIFEST_HEAD "\"command\": [\"behave\"], \"command\": [\"behave\"]}",
                 BRT_E_PLUGIN, "duplicate key \"command\"");
  expect_refusal(MANIFEST_HEAD "\"command\": [\"behave\"], \"timeout_ms\": \"5\"}", BRT_E_PLUGIN,
                 "\"timeout_ms\" must be an integer");
  expect_refusal(MANIFEST_HEAD "\"command\": []}", BRT_E_PLUGIN, "\"command\" must name a program");
  expect_refusal(MANIFEST_HEAD "\"command\": [\"../programs/behave\"]}", BRT_E_PERMISSION,
                 "\"..\" component");
  expect_refusal(MANIFEST_HEAD "\"command\": [\"/bin/true\"]}", BRT_E_PERMISSION, "absolute path");
  expect_refusal(MANIFEST_HEAD "\"command\": [\"behave\"], \"isolation\": \"none\"}", BRT_E_PLUGIN,
                 "always runs in its own process");
  expect_refusal(
      "{\"name\": \"t\", \"version\": \"1.0.0\", \"protocol\": \"pipes\", "
      "\"command\": [\"behave\"]}",
      BRT_E_PLUGIN, "\"protocol\" is \"pipes\"");
  expect_refusal(MANIFEST_HEAD "\"command\": [\"missing\"]}", BRT_E_NOT_FOUND, "missing");
  expect_refusal("[1, 2]", BRT_E_PLUGIN, "must be an object");
  /* Refused by brt_register, named by the manifest. */
  expect_refusal(
      "{\"name\": \"t\", \"version\": \"1.0\", \"protocol\": \"files\", "
      "\"command\": [\"behave\"]}",
      BRT_E_INVALID_ARGUMENT, "1.0");
  expect_refusal(MANIFEST_HEAD "\"command\": [\"behave\"], \"input_schema\": {\"type\": \"frog\"}}",
                 BRT_E_INVALID_ARGUMENT, "input_schema");
  expect_refusal(MANIFEST_HEAD "\"command\": [\"behave\"],\n \"x\" }", BRT_E_PLUGIN, "line 2");
}

static void test_manifest_file_refusals(void **state) {
  (void)state;
  char dir[4096], path[8192], program[8192];
  brt_runtime *rt = runtime_open();
  /* The program is a symbolic link out of the manifest's directory. */
  scratch_manifest(dir, sizeof dir, MANIFEST_HEAD "\"command\": [\"link\"]}", path, sizeof path);
  snprintf(program, sizeof program, "%s/link", dir);
  char target[8192];
  snprintf(target, sizeof target, "%s/behave", programs_dir);
  assert_int_equal(symlink(target, program), 0);
  assert_status(load(rt, path, BRT_ISOLATION_PROCESS, 0, 0), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "outside the manifest's directory");
  remove_scratch(dir);
  /* A world-writable manifest, then a program that is not executable. */
  scratch_manifest(dir, sizeof dir, MANIFEST_HEAD "\"command\": [\"behave\"]}", path, sizeof path);
  assert_int_equal(chmod(path, 0666), 0);
  assert_status(load(rt, path, BRT_ISOLATION_PROCESS, 0, 0), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "world-writable");
  assert_int_equal(chmod(path, 0644), 0);
  snprintf(program, sizeof program, "%s/behave", dir);
  assert_int_equal(chmod(program, 0644), 0);
  assert_status(load(rt, path, BRT_ISOLATION_PROCESS, 0, 0), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "not executable");
  assert_int_equal(chmod(program, 0755), 0);
  /* Now it loads, once. */
  assert_ok(load(rt, path, BRT_ISOLATION_PROCESS, 0, 0));
  assert_status(load(rt, path, BRT_ISOLATION_PROCESS, 0, 0), BRT_E_EXISTS);
  assert_ok(brt_plugin_unload(rt, path));
  remove_scratch(dir);
  /* A manifest larger than 1 MiB is not read. */
  char *huge = malloc((2u << 20) + 1);
  assert_non_null(huge);
  memset(huge, ' ', 2u << 20);
  huge[2u << 20] = '\0';
  memcpy(huge, "{}", 2);
  scratch_manifest(dir, sizeof dir, huge, path, sizeof path);
  free(huge);
  assert_status(load(rt, path, BRT_ISOLATION_PROCESS, 0, 0), BRT_E_LIMIT_EXCEEDED);
  remove_scratch(dir);
  brt_runtime_close(rt);
}

/* Writes "name@version" of the (one) registered algorithm into ctx. */
static int only_algorithm(void *ctx, const brt_algorithm *algorithm) {
  snprintf(ctx, 64, "%s@%s", algorithm->name, algorithm->version);
  return 0;
}

/* A manifest replaced by a rename reloads as a new program: the new
 * version replaces the old one in one switch; a broken one keeps it. */
static void test_manifest_reload(void **state) {
  (void)state;
  char dir[4096], path[4200], next[4300], seen[64] = "";
  scratch_manifest(dir, sizeof dir, MANIFEST_HEAD "\"command\": [\"behave\", \"env\"]}", path,
                   sizeof path);
  brt_runtime *rt = runtime_open();
  assert_ok(brt_plugin_load(rt, path));
  snprintf(next, sizeof next, "%s/.next", dir);
  FILE *out = fopen(next, "w");
  assert_non_null(out);
  fputs("{\"name\": \"t\", \"version\": \"2.0.0\", \"protocol\": \"files\", "
        "\"command\": [\"behave\", \"env\"]}", out);
  assert_int_equal(fclose(out), 0);
  assert_int_equal(rename(next, path), 0);
  assert_ok(brt_plugin_reload(rt, path));
  assert_ok(brt_algorithms_list(rt, only_algorithm, seen));
  assert_string_equal(seen, "t@2.0.0");
  out = fopen(next, "w");
  assert_non_null(out);
  fputs("{\"name\": \"t\"", out);
  assert_int_equal(fclose(out), 0);
  assert_int_equal(rename(next, path), 0);
  assert_status(brt_plugin_reload(rt, path), BRT_E_PLUGIN);
  assert_ok(brt_algorithms_list(rt, only_algorithm, seen));
  assert_string_equal(seen, "t@2.0.0");
  brt_runtime_close(rt);
  remove_scratch(dir);
}

int main(void) {
  if (!programs_test_setup()) return 1;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_load_dir),
      cmocka_unit_test(test_manifest_refusals),
      cmocka_unit_test(test_manifest_file_refusals),
      cmocka_unit_test(test_manifest_reload),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
