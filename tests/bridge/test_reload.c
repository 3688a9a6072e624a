/* Hot reload (brt_plugin_reload) and watch mode, through the public ABI:
 * v1 <-> v2 under four calling threads, failed reloads that keep the old
 * image, a C++ plugin reloaded at the same path, the fini hook, the
 * metrics, and the watcher picking up rename, rewrite and delete. Runs
 * under ThreadSanitizer too (suite concurrency). */
#include "bridge_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

/* Counted by the reload plugins' fini hook (they find it by dynamic
 * lookup: the test program exports its symbols). */
__attribute__((visibility("default"))) _Atomic int brt_test_fini_calls;

static void place(const char *dir, const char *plugin, const char *as, char *path, size_t size) {
  test_place_plugin(dir, plugin, as);
  int needed = snprintf(path, size, "%s/%s", dir, as);
  assert_true(needed > 0 && (size_t)needed < size);
}

/* Copies the test plugin `plugin` to dir/.tmp-as, then renames it to
 * dir/as: how a deployment replaces a file atomically. */
static void place_by_rename(const char *dir, const char *plugin, const char *as) {
  char tmp[4096], to[4096], name[300];
  snprintf(name, sizeof name, ".tmp-%s", as);
  place(dir, plugin, name, tmp, sizeof tmp);
  int needed = snprintf(to, sizeof to, "%s/%s", dir, as);
  assert_true(needed > 0 && (size_t)needed < sizeof to);
  assert_int_equal(rename(tmp, to), 0);
}

static int64_t call_value(brt_runtime *rt, const char *name) {
  char *json = NULL;
  brt_status status = brt_call_json(rt, name, "{}", &json);
  if (status != BRT_OK) return -(int64_t)status;
  int64_t out = strtoll(json, NULL, 10);
  brt_release(json);
  return out;
}

static int64_t call_native(brt_runtime *rt, const char *name) {
  brt_prepared *p = brt_prepare(rt, name);
  if (!p) return -(int64_t)brt_error_code(brt_last_error());
  int64_t out = -1;
  brt_status status = brt_invoke(p, &out, NULL);
  brt_prepared_free(p);
  return status == BRT_OK ? out : -(int64_t)status;
}

/* The code the cpp_reload plugins' translators give their marker, or
 * NOT_FOUND when none of them is registered. */
static brt_status translated(void) {
  brt_translation out;
  brt_status status = brt_error_translate(BRT_ORIGIN_PLUGIN, "cpp_reload", &out);
  return status == BRT_OK ? out.code : status;
}

/* A scratch directory (4096 bytes) with `plugin` placed as `as` (path,
 * 4096 bytes), loaded into a new runtime. */
static brt_runtime *loaded_in_scratch(char *dir, char *path, const char *plugin, const char *as) {
  test_scratch_dir(dir, 4096);
  place(dir, plugin, as, path, 4096);
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_ok(brt_plugin_load(rt, path));
  return rt;
}

/* A number of the Prometheus export: `name` is the text before the
 * value, e.g. "bridgert_plugin_images_pinned"; 999 when it is missing. */
static unsigned long long metric(brt_runtime *rt, const char *name) {
  char *metrics = NULL, key[160];
  assert_ok(brt_metrics_export(rt, BRT_FORMAT_PROMETHEUS, &metrics));
  snprintf(key, sizeof key, "\n%s ", name);
  const char *at = strstr(metrics, key);
  unsigned long long n = at ? strtoull(at + strlen(key), NULL, 10) : 999;
  brt_release(metrics);
  return n;
}

static unsigned long long reload_count(brt_runtime *rt, const char *result) {
  char name[128];
  snprintf(name, sizeof name, "bridgert_plugin_reloads_total{result=\"%s\"}", result);
  return metric(rt, name);
}

static void finish(brt_runtime *rt, const char *dir) {
  brt_runtime_close(rt);
  test_remove_dir(dir);
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

/* --- v1 <-> v2 under load ------------------------------------------------------- */

typedef struct stress {
  brt_runtime *rt;
  _Atomic int stop;
  _Atomic long calls, failures, seen[3];
} stress;

static void count(stress *s, int64_t answer) {
  if (answer == 1 || answer == 2) {
    atomic_fetch_add(&s->seen[answer], 1);
    atomic_fetch_add(&s->calls, 1);
  } else {
    atomic_fetch_add(&s->failures, 1);
  }
}

static void *by_name(void *arg) {
  stress *s = arg;
  while (!atomic_load(&s->stop)) {
    count(s, call_value(s->rt, "which"));
    count(s, call_native(s->rt, "which_native"));
  }
  return NULL;
}

/* Holds a prepared handle across reloads: it keeps calling the image it
 * was prepared on. */
static void *by_handle(void *arg) {
  stress *s = arg;
  while (!atomic_load(&s->stop)) {
    brt_prepared *p = brt_prepare(s->rt, "which_native");
    if (!p) {
      atomic_fetch_add(&s->failures, 1);
      continue;
    }
    for (int i = 0; i < 200; i++) {
      int64_t out = -1;
      count(s, brt_invoke(p, &out, NULL) == BRT_OK ? out : -1);
    }
    brt_prepared_free(p);
  }
  return NULL;
}

static void test_reload_under_load(void **state) {
  (void)state;
  char dir[4096], path[4096];
  brt_runtime *rt = loaded_in_scratch(dir, path, "reload_v1", "live.so");
  int fini_before = atomic_load(&brt_test_fini_calls);
  stress s = {.rt = rt};
  pthread_t threads[4];
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&threads[i], NULL, i < 2 ? by_name : by_handle, &s), 0);
  for (int round = 0; round < 50; round++) {
    place_by_rename(dir, round % 2 == 0 ? "reload_v2" : "reload_v1", "live.so");
    assert_ok(brt_plugin_reload(rt, path));
    sleep_ms(2);
  }
  /* 50 reloads end on v1; one more to v2, after which only v2 answers. */
  place_by_rename(dir, "reload_v2", "live.so");
  assert_ok(brt_plugin_reload(rt, path));
  sleep_ms(20);
  atomic_store(&s.stop, 1);
  for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
  assert_int_equal(atomic_load(&s.failures), 0);
  assert_true(atomic_load(&s.seen[1]) > 0);
  assert_true(atomic_load(&s.seen[2]) > 0);
  for (int i = 0; i < 20; i++) {
    assert_int_equal(call_value(rt, "which"), 2);
    assert_int_equal(call_native(rt, "which_native"), 2);
  }
  /* The algorithm of v1 only went with the switch; v2's came with it. */
  assert_int_equal(call_native(rt, "only_v1"), -(int64_t)BRT_E_NOT_FOUND);
  assert_int_equal(call_native(rt, "only_v2"), 2);
  /* Every replaced image ran its fini once (the handles are all freed). */
  assert_int_equal(atomic_load(&brt_test_fini_calls) - fini_before, 51);
  assert_int_equal(reload_count(rt, "ok"), 51);
  assert_int_equal(reload_count(rt, "failed"), 0);
  finish(rt, dir);
  assert_int_equal(atomic_load(&brt_test_fini_calls) - fini_before, 52);
}

/* --- Failed reloads keep the old image ---------------------------------------------- */

static void expect_refused(brt_runtime *rt, const char *dir, const char *path, const char *bad,
                           brt_status code, const char *needle) {
  if (bad) place_by_rename(dir, bad, "live.so");
  assert_status(brt_plugin_reload(rt, path), code);
  char message[4096];
  brt_error_format(brt_last_error(), message, sizeof message);
  assert_non_null(strstr(message, "the old image keeps serving"));
  if (!strstr(message, needle)) fail_msg("\"%s\" not in: %s", needle, message);
  assert_int_equal(call_value(rt, "which"), 1);
  assert_int_equal(call_native(rt, "which_native"), 1);
}

static void test_failed_reloads_keep_the_old(void **state) {
  (void)state;
  char dir[4096], path[4096];
  brt_runtime *rt = loaded_in_scratch(dir, path, "reload_v1", "live.so");

  /* A broken file. */
  char tmp[4096];
  brt_test_write_file(dir, ".tmp-broken", "this is not an ELF file\n");
  int needed = snprintf(tmp, sizeof tmp, "%s/.tmp-broken", dir);
  assert_true(needed > 0 && (size_t)needed < sizeof tmp);
  assert_int_equal(chmod(tmp, 0755), 0);
  assert_int_equal(rename(tmp, path), 0);
  expect_refused(rt, dir, path, NULL, BRT_E_PLUGIN, "not a loadable shared object");
  /* An init that throws. */
  expect_refused(rt, dir, path, "throws", BRT_E_PLUGIN, "model index 7 out of range");
  /* Built for another ABI. */
  expect_refused(rt, dir, path, "abi_symbol", BRT_E_ABI_MISMATCH, "ABI 999");
  /* World-writable: the load's checks apply to the new file. */
  place_by_rename(dir, "reload_v2", "live.so");
  assert_int_equal(chmod(path, 0777), 0);
  expect_refused(rt, dir, path, NULL, BRT_E_PERMISSION, "writable");

  char *health = NULL;
  brt_health_level level = BRT_HEALTHY;
  assert_ok(brt_health_check_level(rt, &level, &health));
  assert_int_equal(level, BRT_DEGRADED);
  assert_non_null(strstr(health, "plugin_reload"));
  brt_release(health);
  /* The next success clears it. */
  assert_int_equal(chmod(path, 0755), 0);
  assert_ok(brt_plugin_reload(rt, path));
  assert_int_equal(call_value(rt, "which"), 2);
  assert_ok(brt_health_check_level(rt, &level, &health));
  assert_null(strstr(health, "plugin_reload"));
  brt_release(health);

  /* Nothing loaded from there. */
  assert_status(brt_plugin_reload(rt, "/nonexistent/x.so"), BRT_E_NOT_FOUND);
  assert_status(brt_plugin_reload(rt, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_plugin_reload(NULL, path), BRT_E_INVALID_ARGUMENT);
  finish(rt, dir);
}

/* --- The same path, rewritten in place ------------------------------------------------- */

static void test_reload_same_file(void **state) {
  (void)state;
  char dir[4096], path[4096];
  brt_runtime *rt = loaded_in_scratch(dir, path, "reload_v1", "same.so");
  /* The same inode: dlopen would answer with the old image. */
  assert_ok(brt_plugin_reload(rt, path));
  assert_int_equal(call_value(rt, "which"), 1);
  place_by_rename(dir, "reload_v2", "same.so");
  assert_ok(brt_plugin_reload(rt, path));
  assert_int_equal(call_value(rt, "which"), 2);
  assert_ok(brt_plugin_unload(rt, path));
  assert_int_equal(call_value(rt, "which"), -(int64_t)BRT_E_NOT_FOUND);
  finish(rt, dir);
}

static void test_cpp_plugin_reloads_with_new_code(void **state) {
  (void)state;
  char dir[4096], path[4096];
  brt_runtime *rt = loaded_in_scratch(dir, path, "cpp_reload_v1", "cpp.so");
  assert_int_equal(call_native(rt, "cpp_version"), 1);
  assert_int_equal(translated(), BRT_E_CONVERSION); /* v1's init registered it */
  place_by_rename(dir, "cpp_reload_v2", "cpp.so");
  assert_ok(brt_plugin_reload(rt, path));
  assert_int_equal(call_native(rt, "cpp_version"), 2);
  assert_int_equal(translated(), BRT_E_VALIDATION); /* v1's fini removed its own */
  /* Built with the shim's flags, the old image left the process. */
  assert_int_equal(reload_count(rt, "ok"), 1);
  assert_int_equal(reload_count(rt, "pinned"), 0);
  /* Unload runs v2's fini: no translator of the plugin is left. */
  assert_ok(brt_plugin_unload(rt, path));
  assert_int_equal(translated(), BRT_E_NOT_FOUND);
  finish(rt, dir);
}

/* An image that cannot leave the process (g++ without the shim's
 * -fno-gnu-unique) is replaced all the same, counted as pinned, and the
 * new image built with the flags runs its own code and its own statics. */
static void test_pinned_image_is_reported(void **state) {
  (void)state;
  char dir[4096], path[4096];
  brt_runtime *rt = loaded_in_scratch(dir, path, "cpp_pinned", "pinned.so");
  assert_int_equal(call_native(rt, "cpp_version"), 1);
  place_by_rename(dir, "cpp_reload_v2", "pinned.so");
  assert_ok(brt_plugin_reload(rt, path));
  assert_int_equal(call_native(rt, "cpp_version"), 2);
  /* Only g++ makes unique symbols; a clang build has nothing to pin. */
  if (reload_count(rt, "pinned") == 1)
    assert_true(metric(rt, "bridgert_plugin_images_pinned") >= 1);
  else
    assert_int_equal(reload_count(rt, "ok"), 1);
  finish(rt, dir);
}

/* An isolated plugin reloads into new workers; the old ones drain. */
static void test_isolated_reload(void **state) {
  (void)state;
  char dir[4096], path[4096];
  test_scratch_dir(dir, sizeof dir);
  place(dir, "reload_v1", "iso.so", path, sizeof path);
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_plugin_options options = {.struct_size = sizeof options,
                                .isolation = BRT_ISOLATION_PROCESS};
  brt_status loaded = brt_plugin_load_ex(rt, path, &options);
  if (loaded != BRT_OK) {
    char message[1024];
    brt_error_format(brt_last_error(), message, sizeof message);
    brt_runtime_close(rt);
    test_remove_dir(dir);
    print_message("isolation unavailable here: %s\n", message);
    skip();
  }
  assert_int_equal(call_value(rt, "which"), 1);
  place_by_rename(dir, "reload_v2", "iso.so");
  assert_ok(brt_plugin_reload(rt, path));
  assert_int_equal(call_value(rt, "which"), 2);
  assert_int_equal(reload_count(rt, "ok"), 1);
  finish(rt, dir);
}

/* --- Watch mode ---------------------------------------------------------------------- */

/* Waits up to 5 s for `expected` from "which" (a negative status for an
 * error). */
static bool wait_for(brt_runtime *rt, int64_t expected) {
  for (int i = 0; i < 500; i++) {
    if (call_value(rt, "which") == expected) return true;
    sleep_ms(10);
  }
  return false;
}

static void test_watch_mode(void **state) {
  (void)state;
  char dir[4096], path[4096];
  test_scratch_dir(dir, sizeof dir);
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.plugin_watch = true;
  brt_runtime *rt = brt_runtime_open(&cfg);
  assert_non_null(rt);
  assert_ok(brt_plugin_load_dir(rt, dir)); /* empty, now watched */
  int needed = snprintf(path, sizeof path, "%s/w.so", dir);
  assert_true(needed > 0 && (size_t)needed < sizeof path);

  /* A new file, written then renamed into place: loaded. */
  place_by_rename(dir, "reload_v1", "w.so");
  assert_true(wait_for(rt, 1));
  /* Replaced by a rename: reloaded. */
  place_by_rename(dir, "reload_v2", "w.so");
  assert_true(wait_for(rt, 2));
  /* Rewritten in place (truncated, written, closed): reloaded from a
   * private copy, since the inode is the loaded one. */
  test_place_plugin(dir, "reload_v1", "w.so");
  assert_true(wait_for(rt, 1));
  /* Deleted: unloaded. */
  assert_int_equal(unlink(path), 0);
  assert_true(wait_for(rt, -(int64_t)BRT_E_NOT_FOUND));
  sleep_ms(300); /* nothing else is pending */
  assert_int_equal(reload_count(rt, "loaded"), 1);
  assert_int_equal(reload_count(rt, "ok"), 2);
  assert_int_equal(reload_count(rt, "unloaded"), 1);
  assert_int_equal(reload_count(rt, "failed"), 0);

  /* A broken file is a failure in the metrics and the health check. */
  brt_test_write_file(dir, "bad.so", "not an ELF file\n");
  for (int i = 0; i < 500 && reload_count(rt, "failed") == 0; i++) sleep_ms(10);
  assert_int_equal(reload_count(rt, "failed"), 1);
  brt_health_level level = BRT_HEALTHY;
  char *health = NULL;
  assert_ok(brt_health_check_level(rt, &level, &health));
  assert_int_equal(level, BRT_DEGRADED);
  assert_non_null(strstr(health, "bad.so"));
  brt_release(health);
  finish(rt, dir);
  brt_config_dispose(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reload_under_load),
      cmocka_unit_test(test_failed_reloads_keep_the_old),
      cmocka_unit_test(test_reload_same_file),
      cmocka_unit_test(test_cpp_plugin_reloads_with_new_code),
      cmocka_unit_test(test_pinned_image_is_reported),
      cmocka_unit_test(test_isolated_reload),
      cmocka_unit_test(test_watch_mode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
