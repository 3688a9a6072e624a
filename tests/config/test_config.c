/* Configuration: defaults, strict JSON files, environment, precedence, and
 * nothing half-applied (docs/config.md). */
#include "brt_test.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static char temp_dir[PATH_MAX];

static int make_temp_dir(void **state) {
  (void)state;
  return brt_test_temp_dir_make(temp_dir, sizeof temp_dir, "brt-config-test");
}

static int remove_temp_dir(void **state) {
  (void)state;
  return brt_test_temp_dir_remove(temp_dir);
}

static const char *write_file(const char *name, const char *text) {
  return brt_test_write_file(temp_dir, name, text);
}

static void clear_env(void) {
  const char *names[] = {"BRT_CONFIG", "BRT_MAX_MEMORY", "BRT_TRACKING", "BRT_PLUGIN_DIRS",
                         "BRT_ERROR_WINDOW", "BRT_ALLOW_WORLD_WRITABLE", "BRT_ERROR_RATE_THRESHOLD",
                         "BRT_DEFAULT_TIMEOUT_MS", "BRT_GC_THRESHOLD", "BRT_COOLDOWN_MS"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unsetenv(names[i]);
}

static void test_defaults(void **state) {
  (void)state;
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  assert_int_equal(cfg.struct_size, sizeof cfg);
  assert_int_equal(cfg.max_memory, 0);
  assert_int_equal(cfg.tracking, BRT_TRACKING_OFF);
  assert_int_equal(cfg.plugin_dir_count, 0);
  assert_false(cfg.allow_world_writable);
  assert_int_equal(cfg.default_timeout_ms, 30000);
  assert_int_equal(cfg.error_window, 20);
  assert_true(cfg.error_rate_threshold > 0 && cfg.error_rate_threshold <= 1);
  assert_ok(brt_config_validate(&cfg));
  assert_status(brt_config_init(NULL, sizeof cfg), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_config_init(&cfg, 8), BRT_E_INVALID_ARGUMENT);
  assert_string_equal(brt_tracking_name(BRT_TRACKING_BLOCKS), "blocks");
  assert_string_equal(brt_tracking_name((brt_tracking)9), "unknown");
}

static void test_a_valid_file_sets_every_key(void **state) {
  (void)state;
  const char *path = write_file("good.json",
      "{\n"
      "  \"max_memory\": \"512MiB\", \"gc_threshold\": 1048576, \"gc_interval_ms\": 250,\n"
      "  \"tracking\": \"blocks\", \"hardened\": true,\n"
      "  \"plugin_dirs\": [\"/opt/a\", \"/opt/b\"], \"allow_world_writable\": false,\n"
      "  \"default_timeout_ms\": 1500, \"error_rate_threshold\": 0.25, \"error_window\": 50,\n"
      "  \"cooldown_ms\": 100, \"health_memory_degraded\": 0.7, \"health_memory_unhealthy\": 0.9\n"
      "}\n");
  brt_config cfg;
  brt_config_default(&cfg);
  assert_ok(brt_config_load_json(path, &cfg));
  assert_int_equal(cfg.max_memory, 512u << 20);
  assert_int_equal(cfg.gc_threshold, 1048576);
  assert_int_equal(cfg.gc_interval_ms, 250);
  assert_int_equal(cfg.tracking, BRT_TRACKING_BLOCKS);
  assert_true(cfg.hardened);
  assert_int_equal(cfg.plugin_dir_count, 2);
  assert_string_equal(cfg.plugin_dirs[1], "/opt/b");
  assert_int_equal(cfg.default_timeout_ms, 1500);
  assert_true(cfg.error_rate_threshold == 0.25);
  assert_int_equal(cfg.error_window, 50);
  assert_int_equal(cfg.cooldown_ms, 100);
  assert_ok(brt_config_validate(&cfg));

  brt_config copy;
  brt_config_default(&copy);
  assert_ok(brt_config_copy(&copy, &cfg));
  assert_string_equal(copy.plugin_dirs[0], "/opt/a");
  assert_ptr_not_equal(copy.plugin_dirs[0], cfg.plugin_dirs[0]);
  brt_config_dispose(&copy);
  assert_int_equal(copy.plugin_dir_count, 0);
  brt_config_dispose(&cfg);
  brt_config_dispose(NULL);
}

/* Asserts that loading `text` fails with `code`, that the message contains
 * `needle`, and that the config is exactly as it was. */
static void expect_rejected(const char *text, brt_status code, const char *needle) {
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.max_memory = 12345;
  assert_ok(brt_config_add_plugin_dir(&cfg, "/kept"));
  brt_config before = cfg;
  char **dirs_before = cfg.plugin_dirs;
  brt_status status = brt_config_load_json(write_file("bad.json", text), &cfg);
  if (status != code)
    fail_msg("loading %s gave %s, expected %s", text, brt_status_name(status), brt_status_name(code));
  assert_last_error(code, needle);
  assert_memory_equal(&before, &cfg, sizeof cfg); /* nothing half-applied */
  assert_ptr_equal(cfg.plugin_dirs, dirs_before);
  assert_string_equal(cfg.plugin_dirs[0], "/kept");
  brt_config_dispose(&cfg);
}

static void test_bad_files_are_rejected_and_change_nothing(void **state) {
  (void)state;
  expect_rejected("{\"max_memory\": 1, \"no_such_key\": 2}", BRT_E_INVALID_ARGUMENT,
                  "unknown key \"no_such_key\"");
  expect_rejected("{\"max_memory\": 1, \"tracking\": \"verbose\"}", BRT_E_INVALID_ARGUMENT,
                  "key \"tracking\"");
  expect_rejected("{\"max_memory\": -5}", BRT_E_INVALID_ARGUMENT, "key \"max_memory\"");
  expect_rejected("{\"max_memory\": 1.5}", BRT_E_INVALID_ARGUMENT, "key \"max_memory\"");
  expect_rejected("{\"max_memory\": \"lots\"}", BRT_E_INVALID_ARGUMENT, "is not a size");
  expect_rejected("{\"max_memory\": true}", BRT_E_INVALID_ARGUMENT, "got a boolean");
  expect_rejected("{\"gc_interval_ms\": 99999999999}", BRT_E_INVALID_ARGUMENT, "out of range");
  expect_rejected("{\"error_window\": 0}", BRT_E_INVALID_ARGUMENT, "key \"error_window\"");
  expect_rejected("{\"error_rate_threshold\": 1.5}", BRT_E_INVALID_ARGUMENT, "error_rate_threshold");
  expect_rejected("{\"error_rate_threshold\": \"half\"}", BRT_E_INVALID_ARGUMENT, "got a string");
  expect_rejected("{\"hardened\": 1}", BRT_E_INVALID_ARGUMENT, "expected true or false");
  expect_rejected("{\"plugin_dirs\": \"/a:/b\"}", BRT_E_INVALID_ARGUMENT, "expected an array");
  expect_rejected("{\"plugin_dirs\": [\"/a\", 7]}", BRT_E_INVALID_ARGUMENT, "plugin_dirs[1]");
  expect_rejected("{\"plugin_dirs\": [\"/a\", \"\"]}", BRT_E_INVALID_ARGUMENT, "empty");
  expect_rejected("{\"health_memory_degraded\": 0.99, \"health_memory_unhealthy\": 0.9}",
                  BRT_E_INVALID_ARGUMENT, "health_memory_degraded");
  expect_rejected("{\"max_memory\": 1, \"max_memory\": 2}", BRT_E_INVALID_ARGUMENT, "appears twice");
  expect_rejected("[1, 2]", BRT_E_INVALID_ARGUMENT, "one JSON object");
  expect_rejected("{\"max_memory\": 1} trailing", BRT_E_INVALID_ARGUMENT, "line 1, column 19");
  expect_rejected("{\n  \"max_memory\": 1,\n  \"tracking\" \"off\"\n}", BRT_E_INVALID_ARGUMENT,
                  "line 3, column 14");
  expect_rejected("", BRT_E_INVALID_ARGUMENT, "malformed JSON");
  expect_rejected("{\"max_memory\": 1", BRT_E_INVALID_ARGUMENT, "malformed JSON at line 1");
}

static void test_file_errors_name_the_path(void **state) {
  (void)state;
  brt_config cfg;
  brt_config_default(&cfg);
  assert_status(brt_config_load_json("/nonexistent/bridgert.json", &cfg), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "/nonexistent/bridgert.json");
  assert_int_equal(brt_error_os_code(brt_last_error()), 2);
  assert_status(brt_config_load_json(temp_dir, &cfg), BRT_E_IO);
  assert_last_error(BRT_E_IO, "is a directory");
  assert_status(brt_config_load_json("", &cfg), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_config_load_json(NULL, &cfg), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_config_load_json("/etc/hostname", NULL), BRT_E_INVALID_ARGUMENT);
  brt_config garbage;
  memset(&garbage, 0, sizeof garbage);
  assert_status(brt_config_load_json(write_file("ok.json", "{}"), &garbage), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "brt_config_default");
  /* Text with a NUL byte in it, and text that is too long. */
  assert_status(brt_config_load_json_text("{}\0{}", 5, "inline", &cfg), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "NUL");
  assert_status(brt_config_load_json_text(NULL, 0, NULL, &cfg), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_config_load_json_text("{}", (size_t)1 << 30, NULL, &cfg), BRT_E_LIMIT_EXCEEDED);
  assert_ok(brt_config_load_json_text("  {}  \n", 7, NULL, &cfg));
}

static void test_environment_overrides_the_file(void **state) {
  (void)state;
  clear_env();
  const char *path = write_file("env.json", "{\"max_memory\": 1000, \"tracking\": \"counters\", "
                                            "\"plugin_dirs\": [\"/from/file\"]}");
  setenv("BRT_CONFIG", path, 1);
  setenv("BRT_MAX_MEMORY", "2GiB", 1);
  setenv("BRT_PLUGIN_DIRS", "/env/a::/env/b", 1);
  setenv("BRT_ALLOW_WORLD_WRITABLE", "yes", 1);
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.max_memory = 7; /* code < file < environment */
  cfg.error_window = 77;
  assert_ok(brt_config_resolve(&cfg));
  assert_int_equal(cfg.max_memory, (uint64_t)2 << 30);
  assert_int_equal(cfg.tracking, BRT_TRACKING_COUNTERS);
  assert_int_equal(cfg.error_window, 77);
  assert_true(cfg.allow_world_writable);
  assert_int_equal(cfg.plugin_dir_count, 2);
  assert_string_equal(cfg.plugin_dirs[0], "/env/a");
  assert_string_equal(cfg.plugin_dirs[1], "/env/b");

  /* A bad variable: named in the message, nothing applied. */
  brt_config before;
  brt_config_default(&before);
  brt_config_copy(&before, &cfg);
  setenv("BRT_MAX_MEMORY", "1GiB", 1);
  setenv("BRT_ERROR_WINDOW", "many", 1);
  assert_status(brt_config_load_env(&cfg), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "BRT_ERROR_WINDOW");
  assert_int_equal(cfg.max_memory, before.max_memory);
  unsetenv("BRT_ERROR_WINDOW");
  setenv("BRT_TRACKING", "everything", 1);
  assert_status(brt_config_load_env(&cfg), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "BRT_TRACKING");
  unsetenv("BRT_TRACKING");
  setenv("BRT_ERROR_RATE_THRESHOLD", "0", 1);
  assert_status(brt_config_load_env(&cfg), BRT_E_INVALID_ARGUMENT);
  unsetenv("BRT_ERROR_RATE_THRESHOLD");
  setenv("BRT_ALLOW_WORLD_WRITABLE", "maybe", 1);
  assert_status(brt_config_load_env(&cfg), BRT_E_INVALID_ARGUMENT);
  setenv("BRT_ALLOW_WORLD_WRITABLE", "off", 1);
  assert_ok(brt_config_load_env(&cfg));
  assert_false(cfg.allow_world_writable);

  /* A broken BRT_CONFIG file fails resolve as a whole. */
  setenv("BRT_CONFIG", write_file("broken.json", "{\"max_memory\": }"), 1);
  assert_status(brt_config_resolve(&cfg), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "broken.json");
  assert_int_equal(cfg.max_memory, (uint64_t)1 << 30);
  brt_config_dispose(&cfg);
  brt_config_dispose(&before);
  clear_env();
}

static void test_plugin_dirs_and_validate(void **state) {
  (void)state;
  brt_config cfg;
  brt_config_default(&cfg);
  assert_status(brt_config_add_plugin_dir(&cfg, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_config_add_plugin_dir(&cfg, ""), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_config_add_plugin_dir(NULL, "/x"), BRT_E_INVALID_ARGUMENT);
  char long_path[PATH_MAX + 10];
  memset(long_path, 'a', sizeof long_path - 1);
  long_path[sizeof long_path - 1] = '\0';
  assert_status(brt_config_add_plugin_dir(&cfg, long_path), BRT_E_INVALID_ARGUMENT);
  for (int i = 0; i < BRT_CONFIG_MAX_PLUGIN_DIRS; i++) assert_ok(brt_config_add_plugin_dir(&cfg, "/p"));
  assert_status(brt_config_add_plugin_dir(&cfg, "/p"), BRT_E_LIMIT_EXCEEDED);
  assert_int_equal(cfg.plugin_dir_count, BRT_CONFIG_MAX_PLUGIN_DIRS);
  brt_config_dispose(&cfg);

  brt_config_default(&cfg);
  cfg.error_rate_threshold = 0;
  assert_status(brt_config_validate(&cfg), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "error_rate_threshold");
  brt_config_default(&cfg);
  cfg.tracking = (brt_tracking)17;
  assert_status(brt_config_validate(&cfg), BRT_E_INVALID_ARGUMENT);
  brt_config_default(&cfg);
  cfg.plugin_dir_count = 3;
  assert_status(brt_config_validate(&cfg), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_config_validate(NULL), BRT_E_INVALID_ARGUMENT);
  brt_config other;
  brt_config_default(&cfg);
  brt_config_default(&other);
  assert_status(brt_config_copy(NULL, &cfg), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_config_copy(&other, NULL), BRT_E_INVALID_ARGUMENT);
  assert_ok(brt_config_copy(&cfg, &cfg));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_a_valid_file_sets_every_key),
      cmocka_unit_test(test_bad_files_are_rejected_and_change_nothing),
      cmocka_unit_test(test_file_errors_name_the_path),
      cmocka_unit_test(test_environment_overrides_the_file),
      cmocka_unit_test(test_plugin_dirs_and_validate),
  };
  return cmocka_run_group_tests_name("config", tests, make_temp_dir, remove_temp_dir);
}
