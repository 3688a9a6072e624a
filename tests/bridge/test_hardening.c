/* The loader and the registry against an adversary: a path swapped while
 * it is being loaded, registrations made where the loader does not look,
 * a plugin that loads itself, statuses outside the table, pointers that are
 * not values, a plugin file replaced under a loaded plugin, and fork() while
 * another thread writes the registry. Plugins: tests/bridge/plugins/
 * (sneaky.c, self_load.c, evil.c, good.c). */
#include "brt_test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>

static char plugins[4096];

static int setup(void **state) {
  (void)state;
  const char *root = getenv("BRT_BUILD_ROOT");
  snprintf(plugins, sizeof plugins, "%s/tests/bridge/plugins", root ? root : ".");
  return 0;
}

static void plugin_path(char *out, size_t size, const char *name) {
  snprintf(out, size, "%s/%s.so", plugins, name);
}

/* A private directory in the build tree (mode 0755, ours). */
static void make_dir(char *out, size_t size) {
  snprintf(out, size, "%s/hardening-XXXXXX", plugins);
  assert_non_null(mkdtemp(out));
  assert_int_equal(chmod(out, 0755), 0);
}

static void copy_file(const char *from, const char *to, mode_t mode) {
  int in = open(from, O_RDONLY | O_CLOEXEC);
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  assert_true(in >= 0 && out >= 0);
  char buf[65536];
  for (ssize_t n; (n = read(in, buf, sizeof buf)) > 0;) assert_int_equal(write(out, buf, (size_t)n), n);
  close(in);
  close(out);
  assert_int_equal(chmod(to, mode), 0);
}

static void remove_tree(const char *dir) {
  char command[4200];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  assert_int_equal(system(command), 0);
}

static void test_registrations_outside_init_belong_to_the_plugin(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  char path[4200];
  plugin_path(path, sizeof path, "sneaky");
  assert_ok(brt_plugin_load(rt, path));
  brt_prepared *from_thread = brt_prepare(rt, "from_thread");
  assert_non_null(from_thread);
  int64_t answer = 0;
  assert_ok(brt_invoke(from_thread, &answer, NULL));
  assert_int_equal(answer, 42);
  char *out = NULL;
  assert_ok(brt_call_json(rt, "register_late", "{}", &out));
  brt_release(out);
  brt_prepared *late = brt_prepare(rt, "late");
  assert_non_null(late);
  assert_ok(brt_plugin_unload(rt, path));
  /* Their code is the plugin's: they went with it, and the handles taken
   * before fail cleanly instead of jumping into unmapped code. */
  assert_null_with(brt_prepare(rt, "from_thread"), BRT_E_NOT_FOUND);
  assert_null_with(brt_prepare(rt, "late"), BRT_E_NOT_FOUND);
  assert_status(brt_invoke(late, &answer, NULL), BRT_E_NOT_FOUND);
  assert_status(brt_invoke(from_thread, &answer, NULL), BRT_E_NOT_FOUND);
  brt_prepared_free(late);
  brt_prepared_free(from_thread);
  brt_runtime_close(rt);
}

static void test_a_plugin_that_loads_itself_is_refused(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  char path[4200];
  plugin_path(path, sizeof path, "self_load");
  assert_status(brt_plugin_load(rt, path), BRT_E_PLUGIN);
  char text[4096];
  brt_error_format(brt_last_error(), text, sizeof text);
  assert_non_null(strstr(text, "cycle"));
  assert_non_null(strstr(text, "BRT_E_EXISTS"));
  brt_runtime_close(rt);
}

static void test_statuses_outside_the_table_and_bad_params(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  char path[4200];
  plugin_path(path, sizeof path, "sneaky");
  assert_ok(brt_plugin_load(rt, path));
  char *out = NULL;
  assert_status(brt_call_json(rt, "bad_status", "{}", &out), BRT_E_PLUGIN);
  assert_last_error(BRT_E_PLUGIN, "status 9999, which is not a brt_status");
  assert_last_error(BRT_E_PLUGIN, "bad_status@1.0.0");

  int not_a_value = 7;
  brt_value *result = NULL;
  assert_status(brt_call(rt, "register_late", (const brt_value *)&not_a_value, &result),
                BRT_E_INVALID_POINTER);
  brt_value *freed = brt_value_int(1);
  brt_value_release(freed);
  assert_status(brt_call(rt, "register_late", freed, &result), BRT_E_INVALID_POINTER);
  assert_null(result);
  brt_runtime_close(rt);
}

static void test_unload_by_path_after_the_file_was_replaced(void **state) {
  (void)state;
  char dir[4200], target[4300], staged[4300], good[4200];
  make_dir(dir, sizeof dir);
  plugin_path(good, sizeof good, "good");
  snprintf(target, sizeof target, "%s/plugin.so", dir);
  snprintf(staged, sizeof staged, "%s/plugin.so.new", dir);
  copy_file(good, target, 0755);
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_ok(brt_plugin_load(rt, target));
  copy_file(good, staged, 0755);
  assert_int_equal(rename(staged, target), 0); /* a new inode at the same path */
  assert_ok(brt_plugin_unload(rt, target));
  assert_ok(brt_plugin_load(rt, target));
  assert_int_equal(unlink(target), 0);
  assert_ok(brt_plugin_unload(rt, target)); /* deleted: still found by its path */
  assert_status(brt_plugin_unload(rt, target), BRT_E_NOT_FOUND);
  brt_runtime_close(rt);
  remove_tree(dir);
}

static void test_group_writable_is_refused(void **state) {
  (void)state;
  char dir[4200], target[4300], good[4200];
  make_dir(dir, sizeof dir);
  plugin_path(good, sizeof good, "good");
  snprintf(target, sizeof target, "%s/plugin.so", dir);
  copy_file(good, target, 0775);
  brt_runtime *rt = brt_runtime_open(NULL);
  assert_status(brt_plugin_load(rt, target), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "group-writable");
  assert_int_equal(chmod(target, 0755), 0);
  assert_int_equal(chmod(dir, 0775), 0);
  assert_status(brt_plugin_load(rt, target), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "plugin directory");
  assert_int_equal(chmod(dir, 0755), 0);
  assert_ok(brt_plugin_load(rt, target));
  brt_runtime_close(rt);
  remove_tree(dir);
}

/* --- The swap race ---------------------------------------------------------- */

typedef struct swapper {
  char base[4200];
  atomic_bool stop;
  long swaps;
} swapper;

static void *swap_loop(void *arg) {
  swapper *s = arg;
  int base = open(s->base, O_PATH | O_DIRECTORY | O_CLOEXEC);
  while (!atomic_load(&s->stop)) {
    if (renameat2(base, "cur", base, "alt", RENAME_EXCHANGE) == 0) s->swaps++;
  }
  close(base);
  return NULL;
}

/* base/cur/plugin.so is good; base/alt (world-writable, so never accepted)
 * holds evil.so under the same name. Another thread exchanges the two
 * directories without pause while this one loads base/cur/plugin.so: the
 * loader must load only what it checked, so the evil constructor never
 * runs. (Loading by path after checking it ran the evil constructor in
 * under a second.) */
static void test_a_swapped_directory_is_never_loaded(void **state) {
  (void)state;
  swapper s = {.swaps = 0};
  char cur[4300], alt[4300], file[4400], evil[4200], good[4200], mark[4300];
  make_dir(s.base, sizeof s.base);
  snprintf(cur, sizeof cur, "%s/cur", s.base);
  snprintf(alt, sizeof alt, "%s/alt", s.base);
  snprintf(mark, sizeof mark, "%s/evil-ran", s.base);
  assert_int_equal(mkdir(cur, 0755), 0);
  assert_int_equal(mkdir(alt, 0755), 0);
  plugin_path(good, sizeof good, "good");
  plugin_path(evil, sizeof evil, "evil");
  snprintf(file, sizeof file, "%s/plugin.so", cur);
  copy_file(good, file, 0755);
  snprintf(file, sizeof file, "%s/plugin.so", alt);
  copy_file(evil, file, 0755);
  assert_int_equal(chmod(alt, 0777), 0);
  setenv("BRT_TEST_EVIL_MARK", mark, 1);
  atomic_init(&s.stop, false);
  pthread_t thread;
  pthread_create(&thread, NULL, swap_loop, &s);
  brt_runtime *rt = brt_runtime_open(NULL);
  snprintf(file, sizeof file, "%s/plugin.so", cur);
  int loaded = 0, refused = 0;
  for (int i = 0; i < 400; i++) {
    if (brt_plugin_load(rt, file) == BRT_OK) {
      loaded++;
      brt_prepared *add = brt_prepare(rt, "add"); /* good.so's */
      assert_non_null(add);
      brt_prepared_free(add);
      assert_ok(brt_plugin_unload(rt, file));
    } else {
      refused++;
    }
  }
  atomic_store(&s.stop, true);
  pthread_join(thread, NULL);
  brt_runtime_close(rt);
  unsetenv("BRT_TEST_EVIL_MARK");
  assert_true(s.swaps > 0);
  assert_int_equal(loaded + refused, 400);
  assert_int_equal(access(mark, F_OK), -1); /* the evil constructor never ran */
  remove_tree(s.base);
}

/* --- fork() while the registry is written -------------------------------------- */

static int64_t host_answer(void) { return 7; }

typedef struct writer {
  brt_runtime *rt;
  atomic_bool stop;
} writer;

static void *write_loop(void *arg) {
  writer *w = arg;
  brt_algorithm algorithm = {.struct_size = sizeof algorithm, .name = "churn", .version = "1.0.0",
                             .native_fn = BRT_NATIVE_FN(host_answer), .signature = "i64()"};
  while (!atomic_load(&w->stop)) {
    (void)brt_register(w->rt, &algorithm);
    (void)brt_unregister(w->rt, "churn");
  }
  return NULL;
}

static void test_fork_while_another_thread_writes_the_registry(void **state) {
  (void)state;
  writer w = {.rt = brt_runtime_open(NULL)};
  atomic_init(&w.stop, false);
  pthread_t thread;
  pthread_create(&thread, NULL, write_loop, &w);
  for (int i = 0; i < 30; i++) {
    pid_t child = fork();
    if (child == 0) {
      alarm(5); /* a deadlocked child dies of SIGALRM instead of hanging */
      brt_algorithm mine = {.struct_size = sizeof mine, .name = "in_child", .version = "1.0.0",
                            .native_fn = BRT_NATIVE_FN(host_answer), .signature = "i64()"};
      _exit(brt_register(w.rt, &mine) == BRT_OK ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!WIFEXITED(status))
      fail_msg("fork %d: the child %s %d", i, WIFSIGNALED(status) ? "was killed by signal" : "ended with status",
               WIFSIGNALED(status) ? WTERMSIG(status) : status);
    assert_int_equal(WEXITSTATUS(status), 0);
  }
  atomic_store(&w.stop, true);
  pthread_join(thread, NULL);
  brt_runtime_close(w.rt);
}

/* --- Output schemas ------------------------------------------------------------ */

static brt_status returns_text(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  (void)params;
  static const char text[] = "{\"rows\": [1, \"two\"]}";
  *result = brt_value_from_json(text, sizeof text - 1, 0);
  return *result ? BRT_OK : brt_error_code(brt_last_error());
}

static void test_results_are_checked_against_the_output_schema(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm algorithm = {.struct_size = sizeof algorithm, .name = "shaped", .version = "1.0.0",
                             .value_fn = returns_text,
                             .output_schema = "{\"type\": \"object\", \"properties\": {\"rows\": "
                                              "{\"type\": \"array\", \"items\": {\"type\": \"integer\"}}}}"};
  assert_ok(brt_register(rt, &algorithm));
  brt_value *params = brt_value_object(0), *result = NULL;
  assert_status(brt_call(rt, "shaped", params, &result), BRT_E_VALIDATION);
  assert_null(result);
  assert_last_error(BRT_E_VALIDATION, "shaped@1.0.0");
  assert_last_error(BRT_E_VALIDATION, "/rows/1");
  /* A caller built before output_schema existed (a shorter struct) gets no
   * check: the field is not read. */
  algorithm.struct_size = offsetof(brt_algorithm, output_schema);
  algorithm.name = "unshaped";
  assert_ok(brt_register(rt, &algorithm));
  assert_ok(brt_call(rt, "unshaped", params, &result));
  brt_value_release(result);
  /* A schema that does not compile is refused at registration. */
  algorithm.struct_size = sizeof algorithm;
  algorithm.name = "badly_shaped";
  algorithm.output_schema = "{\"type\": 7}";
  assert_status(brt_register(rt, &algorithm), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "output_schema");
  brt_value_release(params);
  brt_runtime_close(rt);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registrations_outside_init_belong_to_the_plugin),
      cmocka_unit_test(test_a_plugin_that_loads_itself_is_refused),
      cmocka_unit_test(test_statuses_outside_the_table_and_bad_params),
      cmocka_unit_test(test_unload_by_path_after_the_file_was_replaced),
      cmocka_unit_test(test_group_writable_is_refused),
      cmocka_unit_test(test_a_swapped_directory_is_never_loaded),
      cmocka_unit_test(test_fork_while_another_thread_writes_the_registry),
      cmocka_unit_test(test_results_are_checked_against_the_output_schema),
  };
  return cmocka_run_group_tests(tests, setup, NULL);
}
