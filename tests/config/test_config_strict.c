/* Strict reading of configuration values: one exact whole-number reader for
 * files and the environment (decimal digits only, nothing through a
 * double), keys and strings with a NUL refused rather than cut, and a FIFO
 * (or anything but a regular file) refused rather than waited on. */
#include "brt_test.h"

#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

static char temp_dir[PATH_MAX];

static int make_temp_dir(void **state) {
  (void)state;
  return brt_test_temp_dir_make(temp_dir, sizeof temp_dir, "brt-config-strict");
}

static int remove_temp_dir(void **state) {
  (void)state;
  return brt_test_temp_dir_remove(temp_dir);
}

/* Loads `text` (a JSON object) and returns the status; on success *cfg
 * holds the result (dispose it), on failure the defaults. */
static brt_status load_text(const char *text, brt_config *cfg) {
  brt_config_default(cfg);
  return brt_config_load_json_text(text, strlen(text), "inline", cfg);
}

/* Same, for text with NUL bytes: `len` bytes. */
static brt_status load_bytes(const char *text, size_t len, brt_config *cfg) {
  brt_config_default(cfg);
  return brt_config_load_json_text(text, len, "inline", cfg);
}

static void expect_text_refused(const char *text, const char *needle) {
  brt_config cfg;
  brt_status status = load_text(text, &cfg);
  if (status != BRT_E_INVALID_ARGUMENT)
    fail_msg("%s gave %s (max_memory %llu), expected INVALID_ARGUMENT", text,
             brt_status_name(status), (unsigned long long)cfg.max_memory);
  assert_last_error(BRT_E_INVALID_ARGUMENT, needle);
  assert_int_equal(cfg.max_memory, 0);
  brt_config_dispose(&cfg);
}

static uint64_t max_memory_of(const char *text) {
  brt_config cfg;
  brt_status status = load_text(text, &cfg);
  if (status != BRT_OK)
    fail_msg("%s: %s", text, brt_last_error() ? brt_error_message(brt_last_error()) : "?");
  uint64_t value = cfg.max_memory;
  brt_config_dispose(&cfg);
  return value;
}

/* JSON numbers are read from their text, exactly: no double in between. */
static void test_file_integers_are_exact(void **state) {
  (void)state;
  assert_int_equal(max_memory_of("{\"max_memory\": 4611686018427387903}"),
                   (UINT64_C(1) << 62) - 1);
  assert_int_equal(max_memory_of("{\"max_memory\": 4611686018427387904}"), UINT64_C(1) << 62);
  assert_int_equal(max_memory_of("{\"max_memory\": 9007199254740993}"), UINT64_C(9007199254740993));
  assert_int_equal(max_memory_of("{\"max_memory\": 0}"), 0);
  assert_int_equal(max_memory_of("{\"max_memory\": \"9007199254740993\"}"),
                   UINT64_C(9007199254740993));
  assert_int_equal(max_memory_of("{\"max_memory\": \"1.5GiB\"}"), UINT64_C(3) << 29);
  assert_int_equal(max_memory_of("{\"max_memory\": \"0.5KiB\"}"), 512);
  assert_int_equal(max_memory_of("{\"max_memory\": \"3TB\"}"), UINT64_C(3000000000000));
  expect_text_refused("{\"max_memory\": 4611686018427387905}", "out of range");
  expect_text_refused("{\"max_memory\": 18446744073709551616}", "out of range");
  expect_text_refused("{\"max_memory\": 123456789012345678901234567890}", "out of range");
  expect_text_refused("{\"max_memory\": 1e3}", "key \"max_memory\"");
  expect_text_refused("{\"max_memory\": 1E3}", "key \"max_memory\"");
  expect_text_refused("{\"max_memory\": 1.0}", "key \"max_memory\"");
  expect_text_refused("{\"max_memory\": -0}", "key \"max_memory\"");
  expect_text_refused("{\"max_memory\": -5}", "key \"max_memory\"");
  expect_text_refused("{\"max_memory\": \"0x1p20\"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"1e3\"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"  5\"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"5 \"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"+5\"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"-5\"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"05\"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"512 MiB\"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"1.5\"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"1.0000001KiB\"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"\"}", "is not a size");
  expect_text_refused("{\"max_memory\": \"99999999999999999999GiB\"}", "max_memory");
  expect_text_refused("{\"max_memory\": \"4611686018427387905\"}", "out of range");
  /* 32-bit keys: the same reader, then their range. */
  brt_config cfg;
  assert_ok(load_text("{\"default_timeout_ms\": 86400000, \"error_window\": 1000000}", &cfg));
  assert_int_equal(cfg.default_timeout_ms, 86400000);
  assert_int_equal(cfg.error_window, 1000000);
  brt_config_dispose(&cfg);
  expect_text_refused("{\"default_timeout_ms\": 86400001}", "out of range");
  expect_text_refused("{\"default_timeout_ms\": 4294967297}", "out of range");
  expect_text_refused("{\"error_window\": 2e1}", "key \"error_window\"");
  expect_text_refused("{\"error_window\": 20.0}", "key \"error_window\"");
  expect_text_refused("{\"error_window\": \"20\"}", "got a string");
  /* Fractions keep their own reader. */
  assert_ok(load_text("{\"error_rate_threshold\": 0.25, \"health_memory_degraded\": 5e-1}", &cfg));
  assert_true(cfg.error_rate_threshold == 0.25);
  assert_true(cfg.health_memory_degraded == 0.5);
  brt_config_dispose(&cfg);
}

/* A key or a string with \u0000 in it is not cut at the NUL. */
static void test_nul_in_keys_and_strings(void **state) {
  (void)state;
  expect_text_refused("{\"max_memory\\u0000x\": 1}", "unknown key \"max_memory\\u0000x\"");
  expect_text_refused("{\"max_memory\\u0000\": 1}", "unknown key");
  expect_text_refused("{\"tracking\": \"blocks\\u0000x\"}", "key \"tracking\"");
  expect_text_refused("{\"isolation\": \"none\\u0000\"}", "key \"isolation\"");
  expect_text_refused("{\"max_memory\": \"5\\u0000MiB\"}", "is not a size");
  expect_text_refused("{\"plugin_dirs\": [\"/opt/a\\u0000/etc\"]}", "NUL");
  /* A raw NUL byte in the text is refused as before. */
  brt_config cfg;
  assert_status(load_bytes("{\"max_memory\0x\": 1}", 19, &cfg), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "NUL");
  brt_config_dispose(&cfg);
  /* Other escapes decode. */
  assert_ok(load_text("{\"plugin_dirs\": [\"/opt/\\u00e9t\\u00E9\", \"/a\\/b\"], \"tr\\u0061cking\": \"off\"}",
                      &cfg));
  assert_string_equal(cfg.plugin_dirs[0], "/opt/\xc3\xa9t\xc3\xa9");
  assert_string_equal(cfg.plugin_dirs[1], "/a/b");
  brt_config_dispose(&cfg);
}

/* The reader is strict JSON (RFC 8259) and says where it stopped. */
static void test_strict_json(void **state) {
  (void)state;
  expect_text_refused("{\"max_memory\": 01}", "malformed JSON");
  expect_text_refused("{\"max_memory\": +1}", "malformed JSON");
  expect_text_refused("{\"max_memory\": 1,}", "malformed JSON");
  expect_text_refused("{'max_memory': 1}", "malformed JSON");
  expect_text_refused("{\"max_memory\": 1 /* c */}", "malformed JSON");
  expect_text_refused("{\"tracking\": \"o\tff\"}", "malformed JSON");
  expect_text_refused("{\"tracking\": \"\\x41\"}", "malformed JSON");
  expect_text_refused("{\"tracking\": \"\\ud800\"}", "malformed JSON");
  expect_text_refused("{\"tracking\": \"\xc3\"}", "malformed JSON");
  expect_text_refused("{\"tracking\": \"\xed\xa0\x80\"}", "malformed JSON");
  expect_text_refused("\xef\xbb\xbf{}", "byte order mark");
  expect_text_refused("{\"max_memory\": 1} {}", "line 1, column 19");
  expect_text_refused("{\"max_memory\": NaN}", "malformed JSON");
  expect_text_refused("{\"hardened\": tru}", "malformed JSON");
  /* Deep nesting is bounded, not a stack overflow. */
  char deep[4096] = "{\"plugin_dirs\": ";
  size_t n = strlen(deep);
  for (int i = 0; i < 2000; i++) deep[n++] = '[';
  deep[n] = '\0';
  expect_text_refused(deep, "nested");
  /* What the wrong type of value was. */
  expect_text_refused("{\"hardened\": {\"a\": [1, 2, {\"b\": null}]}}", "got an object");
  expect_text_refused("{\"hardened\": null}", "got null");
  brt_config cfg;
  assert_ok(load_text(" \t\r\n{ \"hardened\" : true , \"tracking\":\"counters\" } \n", &cfg));
  assert_true(cfg.hardened);
  assert_int_equal(cfg.tracking, BRT_TRACKING_COUNTERS);
  brt_config_dispose(&cfg);
}

/* Loads the environment into a default configuration with `variable` set
 * to `value` for the duration of the load. */
static brt_status load_env_with(const char *variable, const char *value, brt_config *cfg) {
  brt_config_default(cfg);
  setenv(variable, value, 1);
  brt_status status = brt_config_load_env(cfg);
  unsetenv(variable);
  return status;
}

static void expect_env_refused(const char *variable, const char *value) {
  brt_config cfg;
  brt_status status = load_env_with(variable, value, &cfg);
  if (status != BRT_E_INVALID_ARGUMENT)
    fail_msg("%s=\"%s\" gave %s (max_memory %llu), expected INVALID_ARGUMENT", variable, value,
             brt_status_name(status), (unsigned long long)cfg.max_memory);
  assert_last_error(BRT_E_INVALID_ARGUMENT, variable);
  brt_config_dispose(&cfg);
}

static brt_config env_config(const char *variable, const char *value) {
  brt_config cfg;
  brt_status status = load_env_with(variable, value, &cfg);
  if (status != BRT_OK)
    fail_msg("%s=\"%s\": %s", variable, value, brt_error_message(brt_last_error()));
  return cfg;
}

/* The environment goes through the same reader as the file. */
static void test_environment_integers(void **state) {
  (void)state;
  brt_config cfg = env_config("BRT_MAX_MEMORY", "4611686018427387903");
  assert_int_equal(cfg.max_memory, (UINT64_C(1) << 62) - 1);
  cfg = env_config("BRT_MAX_MEMORY", "9007199254740993");
  assert_int_equal(cfg.max_memory, UINT64_C(9007199254740993));
  cfg = env_config("BRT_MAX_MEMORY", "1.5GiB");
  assert_int_equal(cfg.max_memory, UINT64_C(3) << 29);
  cfg = env_config("BRT_GC_THRESHOLD", "64MiB");
  assert_int_equal(cfg.gc_threshold, UINT64_C(64) << 20);
  cfg = env_config("BRT_DEFAULT_TIMEOUT_MS", "7");
  assert_int_equal(cfg.default_timeout_ms, 7);
  cfg = env_config("BRT_DEFAULT_TIMEOUT_MS", "0");
  assert_int_equal(cfg.default_timeout_ms, 0);
  cfg = env_config("BRT_ERROR_RATE_THRESHOLD", "0.75");
  assert_true(cfg.error_rate_threshold == 0.75);
  cfg = env_config("BRT_ERROR_RATE_THRESHOLD", "1");
  assert_true(cfg.error_rate_threshold == 1.0);
  const char *bad_sizes[] = {"0x1p20", "1e3", "  5", "5 ", "+5", "-5", "", "05", "0x10",
                             "512 MiB", "4611686018427387905", "18446744073709551616", "1.5",
                             "inf", "nan", "5\t", "\xc2\xa0" "5"};
  for (size_t i = 0; i < sizeof bad_sizes / sizeof bad_sizes[0]; i++)
    expect_env_refused("BRT_MAX_MEMORY", bad_sizes[i]);
  const char *bad_counts[] = {" 7", "7 ", "+7", "-7", "07", "7.0", "7e0", "0x7", "", "4294967296",
                              "99999999999999999999999", "7ms"};
  for (size_t i = 0; i < sizeof bad_counts / sizeof bad_counts[0]; i++) {
    expect_env_refused("BRT_DEFAULT_TIMEOUT_MS", bad_counts[i]);
    expect_env_refused("BRT_ERROR_WINDOW", bad_counts[i]);
    expect_env_refused("BRT_GC_INTERVAL_MS", bad_counts[i]);
  }
  const char *bad_fractions[] = {" 0.5", "0.5 ", "+0.5", "0x1p-1", ".5", "5.", "inf", "nan", "",
                                 "0,5", "1e", "0.5x"};
  for (size_t i = 0; i < sizeof bad_fractions / sizeof bad_fractions[0]; i++)
    expect_env_refused("BRT_ERROR_RATE_THRESHOLD", bad_fractions[i]);
}

static void on_alarm(int sig) {
  (void)sig;
  static const char message[] = "test_config_strict: a FIFO was waited on (no writer ever comes)\n";
  ssize_t ignored = write(2, message, sizeof message - 1);
  (void)ignored;
  _exit(3);
}

/* A FIFO is refused at once, not opened and waited on; so is a device. */
static void test_fifo_is_refused(void **state) {
  (void)state;
  char fifo[PATH_MAX + 16];
  snprintf(fifo, sizeof fifo, "%s/config.fifo", temp_dir);
  assert_int_equal(mkfifo(fifo, 0600), 0);
  signal(SIGALRM, on_alarm);
  alarm(10);
  brt_config cfg;
  brt_config_default(&cfg);
  assert_status(brt_config_load_json(fifo, &cfg), BRT_E_IO);
  assert_last_error(BRT_E_IO, fifo);
  assert_last_error(BRT_E_IO, "not a regular file");
  setenv("BRT_CONFIG", fifo, 1);
  assert_status(brt_config_resolve(&cfg), BRT_E_IO);
  assert_last_error(BRT_E_IO, fifo);
  assert_null(brt_runtime_open(NULL));
  assert_non_null(strstr(brt_error_message(brt_error_cause(brt_last_error())), fifo));
  unsetenv("BRT_CONFIG");
  assert_status(brt_config_load_json("/dev/null", &cfg), BRT_E_IO);
  assert_last_error(BRT_E_IO, "/dev/null");
  alarm(0);
  signal(SIGALRM, SIG_DFL);
  brt_config_dispose(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_file_integers_are_exact),
      cmocka_unit_test(test_nul_in_keys_and_strings),
      cmocka_unit_test(test_strict_json),
      cmocka_unit_test(test_environment_integers),
      cmocka_unit_test(test_fifo_is_refused),
  };
  return cmocka_run_group_tests_name("config_strict", tests, make_temp_dir, remove_temp_dir);
}
