/* Plugin loading: a good load, every refusal, directory loads, unloads. */
#include "bridge_test.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char path_buf[4096];

static int64_t call_add(brt_runtime *rt, int64_t a, int64_t b) {
  brt_prepared *p = brt_prepare(rt, "add");
  if (!p) fail_msg("brt_prepare(add): %s", brt_error_message(brt_last_error()));
  int64_t out = 0;
  void *args[] = {&a, &b};
  assert_ok(brt_invoke(p, &out, args));
  brt_prepared_free(p);
  return out;
}

static int count_cb(void *ctx, const brt_algorithm *a) {
  (void)a;
  ++*(int *)ctx;
  return 0;
}

static int registered(brt_runtime *rt) {
  int n = 0;
  assert_ok(brt_algorithms_list(rt, count_cb, &n));
  return n;
}

static void test_load_good(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_ok(brt_plugin_load(rt, test_plugin("good", path_buf, sizeof path_buf)));
  assert_int_equal(registered(rt), 6);
  assert_int_equal(call_add(rt, 40, 2), 42);
  brt_prepared *length = brt_prepare(rt, "length");
  const char *text = "plugins";
  uint64_t n = 0;
  void *args[] = {&text};
  assert_ok(brt_invoke(length, &n, args));
  assert_int_equal(n, 7);
  brt_prepared_free(length);
  /* The same file twice in one runtime is refused; another runtime may load it. */
  assert_status(brt_plugin_load(rt, path_buf), BRT_E_EXISTS);
  assert_last_error(BRT_E_EXISTS, "already loaded");
  brt_runtime *other = brt_runtime_open(NULL);
  assert_ok(brt_plugin_load(other, path_buf));
  assert_int_equal(call_add(other, 1, 2), 3);
  brt_runtime_close(other);
  assert_int_equal(call_add(rt, 1, 2), 3);
  brt_runtime_close(rt);
}

static void test_refuse_bad_arguments(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_status(brt_plugin_load(rt, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_plugin_load(rt, ""), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_plugin_load(NULL, "x.so"), BRT_E_INVALID_ARGUMENT);
  char huge[5000];
  memset(huge, 'a', sizeof huge - 1);
  huge[sizeof huge - 1] = '\0';
  assert_status(brt_plugin_load(rt, huge), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_plugin_load(rt, "/nonexistent/plugin.so"), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "/nonexistent/plugin.so");
  assert_int_equal(brt_error_os_code(brt_last_error()), ENOENT);
  brt_runtime_close(rt);
}

static brt_runtime *confined_runtime(const char *dir) {
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  assert_ok(brt_config_add_plugin_dir(&cfg, dir));
  brt_runtime *rt = brt_runtime_open(&cfg);
  brt_config_dispose(&cfg);
  assert_non_null(rt);
  return rt;
}

static void test_refuse_outside_plugin_dirs(void **state) {
  (void)state;
  char allowed[4096], outside[4096], path[8192];
  test_scratch_dir(allowed, sizeof allowed);
  test_scratch_dir(outside, sizeof outside);
  test_place_plugin(allowed, "good", NULL);
  test_place_plugin(outside, "second", NULL);
  brt_runtime *rt = confined_runtime(allowed);

  snprintf(path, sizeof path, "%s/second.so", outside);
  assert_status(brt_plugin_load(rt, path), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "outside the configured plugin_dirs");
  /* A symlink inside the directory pointing out of it. */
  char link[8192];
  snprintf(link, sizeof link, "%s/escape.so", allowed);
  assert_int_equal(symlink(path, link), 0);
  assert_status(brt_plugin_load(rt, link), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "resolves to");
  /* A ".." escape. */
  snprintf(path, sizeof path, "%s/../%s/second.so", allowed, strrchr(outside, '/') + 1);
  assert_status(brt_plugin_load(rt, path), BRT_E_PERMISSION);
  /* Inside is fine, also through "..". */
  snprintf(path, sizeof path, "%s/../%s/good.so", allowed, strrchr(allowed, '/') + 1);
  assert_ok(brt_plugin_load(rt, path));
  assert_status(brt_plugin_load_dir(rt, outside), BRT_E_PERMISSION);
  assert_int_equal(registered(rt), 6);
  brt_runtime_close(rt);
  test_remove_dir(allowed);
  test_remove_dir(outside);
}

static void test_refuse_world_writable(void **state) {
  (void)state;
  char dir[4096], path[8192];
  test_scratch_dir(dir, sizeof dir);
  test_place_plugin(dir, "good", NULL);
  snprintf(path, sizeof path, "%s/good.so", dir);
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_int_equal(chmod(path, 0777), 0);
  assert_status(brt_plugin_load(rt, path), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "plugin file");
  assert_last_error(BRT_E_PERMISSION, "world-writable (mode 0777)");
  assert_int_equal(chmod(path, 0755), 0);
  assert_int_equal(chmod(dir, 0777), 0);
  assert_status(brt_plugin_load(rt, path), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "plugin directory");
  assert_int_equal(registered(rt), 0);
  brt_runtime_close(rt);

  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.allow_world_writable = true;
  rt = brt_runtime_open(&cfg);
  assert_ok(brt_plugin_load(rt, path));
  brt_runtime_close(rt);
  test_remove_dir(dir);
}

static void test_refuse_foreign_owner(void **state) {
  (void)state;
  if (geteuid() != 0) {
    print_message("skipped: creating a file owned by another user needs root\n");
    skip();
  }
  char dir[4096], path[8192];
  test_scratch_dir(dir, sizeof dir);
  test_place_plugin(dir, "good", NULL);
  snprintf(path, sizeof path, "%s/good.so", dir);
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_int_equal(chown(path, 65534, 65534), 0);
  assert_status(brt_plugin_load(rt, path), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "owned by uid 65534");
  assert_int_equal(chown(path, 0, 0), 0);
  assert_int_equal(chown(dir, 65534, 65534), 0);
  assert_status(brt_plugin_load(rt, path), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "plugin directory");
  assert_int_equal(chown(dir, 0, 0), 0);
  assert_ok(brt_plugin_load(rt, path));
  brt_runtime_close(rt);
  test_remove_dir(dir);
}

static void test_refuse_non_regular_and_non_elf(void **state) {
  (void)state;
  char dir[4096], path[8192];
  test_scratch_dir(dir, sizeof dir);
  brt_runtime *rt = brt_runtime_open(NULL);
  snprintf(path, sizeof path, "%s/folder.so", dir);
  assert_int_equal(mkdir(path, 0755), 0);
  assert_status(brt_plugin_load(rt, path), BRT_E_PLUGIN);
  assert_last_error(BRT_E_PLUGIN, "is a directory");
  snprintf(path, sizeof path, "%s/pipe.so", dir);
  assert_int_equal(mkfifo(path, 0644), 0);
  assert_status(brt_plugin_load(rt, path), BRT_E_PLUGIN);
  assert_last_error(BRT_E_PLUGIN, "is a FIFO");
  snprintf(path, sizeof path, "%s/text.so", dir);
  FILE *f = fopen(path, "w");
  fputs("this is not an ELF file, just text long enough to have a header\n", f);
  fclose(f);
  assert_status(brt_plugin_load(rt, path), BRT_E_PLUGIN);
  assert_last_error(BRT_E_PLUGIN, "not a loadable shared object");
  assert_last_error(BRT_E_PLUGIN, "invalid ELF header"); /* dlerror() text */
  brt_runtime_close(rt);
  test_remove_dir(dir);
}

static void test_refuse_missing_init(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_status(brt_plugin_load(rt, test_plugin("no_init", path_buf, sizeof path_buf)),
                BRT_E_PLUGIN);
  assert_last_error(BRT_E_PLUGIN, "does not export brt_plugin_init_v1");
  brt_runtime_close(rt);
}

static void test_refuse_abi_mismatch(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_status(brt_plugin_load(rt, test_plugin("abi_symbol", path_buf, sizeof path_buf)),
                BRT_E_ABI_MISMATCH);
  assert_last_error(BRT_E_ABI_MISMATCH, "built for bridgert ABI 999");
  assert_status(brt_plugin_load(rt, test_plugin("abi_init", path_buf, sizeof path_buf)),
                BRT_E_ABI_MISMATCH);
  assert_last_error(BRT_E_ABI_MISMATCH, "needs ABI 1000");
  const brt_error *cause = brt_error_cause(brt_last_error());
  assert_non_null(cause);
  assert_int_equal(brt_error_origin(cause), BRT_ORIGIN_PLUGIN);
  assert_int_equal(registered(rt), 0);
  brt_runtime_close(rt);
}

static void test_failed_init_leaves_nothing(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_status(brt_plugin_load(rt, test_plugin("init_fails", path_buf, sizeof path_buf)),
                BRT_E_PLUGIN);
  assert_last_error(BRT_E_PLUGIN, "brt_plugin_init_v1 failed with BRT_E_IO");
  const brt_error *cause = brt_error_cause(brt_last_error());
  assert_non_null(cause);
  assert_int_equal(brt_error_code(cause), BRT_E_IO);
  assert_string_equal(brt_error_message(cause), "cannot open model file weights.bin");
  assert_null_with(brt_prepare(rt, "orphan"), BRT_E_NOT_FOUND);
  assert_int_equal(registered(rt), 0);
  /* Nothing was left behind: the file can be loaded again and fails the same way. */
  assert_status(brt_plugin_load(rt, path_buf), BRT_E_PLUGIN);
  brt_runtime_close(rt);
}

static void test_init_that_throws(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_status(brt_plugin_load(rt, test_plugin("throws", path_buf, sizeof path_buf)),
                BRT_E_PLUGIN);
  assert_last_error(BRT_E_PLUGIN, "model index 7 out of range");
  const brt_error *cause = brt_error_cause(brt_last_error());
  assert_non_null(cause);
  assert_int_equal(brt_error_code(cause), BRT_E_OUT_OF_RANGE);
  assert_int_equal(brt_error_origin(cause), BRT_ORIGIN_CPP);
  assert_string_equal(brt_error_type(cause), "std::out_of_range");
  brt_runtime_close(rt);
}

static void test_duplicate_names_refused_whole(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_ok(brt_plugin_load(rt, test_plugin("good", path_buf, sizeof path_buf)));
  assert_status(brt_plugin_load(rt, test_plugin("duplicate", path_buf, sizeof path_buf)),
                BRT_E_EXISTS);
  assert_last_error(BRT_E_EXISTS, "\"add@1.0.0\" is already registered");
  assert_null_with(brt_prepare(rt, "extra"), BRT_E_NOT_FOUND); /* not half-loaded */
  assert_int_equal(registered(rt), 6);
  brt_runtime_close(rt);
}

static void test_load_dir(void **state) {
  (void)state;
  char dir[4096];
  test_scratch_dir(dir, sizeof dir);
  test_place_plugin(dir, "second", "a_second.so");
  test_place_plugin(dir, "no_init", "b_no_init.so");
  test_place_plugin(dir, "good", "c_good.so");
  test_place_plugin(dir, "init_fails", "d_init_fails.so");
  test_place_plugin(dir, "duplicate", "e_duplicate.so");
  test_place_plugin(dir, "no_init", "ignored.so.txt"); /* not *.so */
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_status(brt_plugin_load_dir(rt, dir), BRT_E_PLUGIN);
  assert_last_error(BRT_E_PLUGIN, "3 of 5 plugins in");
  assert_last_error(BRT_E_PLUGIN, "b_no_init.so (BRT_E_PLUGIN), d_init_fails.so (BRT_E_PLUGIN), "
                                  "e_duplicate.so (BRT_E_EXISTS)");
  /* The causes, in name order. */
  const brt_error *cause = brt_error_cause(brt_last_error());
  assert_non_null(cause);
  assert_true(strstr(brt_error_message(cause), "b_no_init.so: ") == brt_error_message(cause));
  cause = brt_error_cause(cause);
  assert_non_null(cause);
  assert_non_null(strstr(brt_error_message(cause), "weights.bin"));
  cause = brt_error_cause(cause);
  assert_int_equal(brt_error_code(cause), BRT_E_EXISTS);
  assert_null(brt_error_cause(cause));
  /* The good ones stayed loaded. */
  assert_int_equal(registered(rt), 7);
  assert_int_equal(call_add(rt, 2, 2), 4);
  brt_runtime_close(rt);

  rt = brt_runtime_open(NULL);
  char empty[4096];
  test_scratch_dir(empty, sizeof empty);
  assert_ok(brt_plugin_load_dir(rt, empty));
  assert_status(brt_plugin_load_dir(rt, "/nonexistent-dir"), BRT_E_NOT_FOUND);
  assert_status(brt_plugin_load_dir(rt, NULL), BRT_E_INVALID_ARGUMENT);
  char file[8192];
  snprintf(file, sizeof file, "%s/c_good.so", dir);
  assert_status(brt_plugin_load_dir(rt, file), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "not a directory");
  brt_runtime_close(rt);
  test_remove_dir(dir);
  test_remove_dir(empty);
}

static void test_unload(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  char good[4096], second[4096];
  test_plugin("good", good, sizeof good);
  test_plugin("second", second, sizeof second);
  assert_ok(brt_plugin_load(rt, good));
  assert_ok(brt_plugin_load(rt, second));
  brt_prepared *held = brt_prepare(rt, "add");
  assert_ok(brt_plugin_unload(rt, good));
  assert_null_with(brt_prepare(rt, "add"), BRT_E_NOT_FOUND);
  int64_t a = 1, b = 2, out = 0;
  void *args[] = {&a, &b};
  assert_status(brt_invoke(held, &out, args), BRT_E_NOT_FOUND);
  brt_prepared_free(held); /* the plugin is dlclose()d here */
  brt_prepared *triple = brt_prepare(rt, "triple@2.1.0");
  assert_non_null(triple);
  brt_prepared_free(triple);
  assert_status(brt_plugin_unload(rt, good), BRT_E_NOT_FOUND);
  assert_status(brt_plugin_unload(rt, NULL), BRT_E_INVALID_ARGUMENT);
  assert_ok(brt_plugin_load(rt, good)); /* loadable again */
  assert_int_equal(call_add(rt, 5, 5), 10);
  brt_runtime_close(rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_load_good),
      cmocka_unit_test(test_refuse_bad_arguments),
      cmocka_unit_test(test_refuse_outside_plugin_dirs),
      cmocka_unit_test(test_refuse_world_writable),
      cmocka_unit_test(test_refuse_foreign_owner),
      cmocka_unit_test(test_refuse_non_regular_and_non_elf),
      cmocka_unit_test(test_refuse_missing_init),
      cmocka_unit_test(test_refuse_abi_mismatch),
      cmocka_unit_test(test_failed_init_leaves_nothing),
      cmocka_unit_test(test_init_that_throws),
      cmocka_unit_test(test_duplicate_names_refused_whole),
      cmocka_unit_test(test_load_dir),
      cmocka_unit_test(test_unload),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
