/* libFuzzer target: the configuration loader.
 *
 * The first byte chooses what the rest is:
 *   0x01  the value of a BRT_* variable (byte 2 picks which; up to the first
 *         NUL), read by brt_config_load_env;
 *   0x02  the JSON value of default_timeout_ms (byte 2 odd: max_memory) in
 *         a one-key object;
 *   else  JSON text for brt_config_load_json_text (the whole input).
 * Any input must either load or fail with a recorded error; a loaded config
 * must validate, and a failed load must leave the config untouched. Whole
 * numbers are also checked against a second reader (strtoull on text that
 * is decimal digits only): the loader accepts exactly those, with exactly
 * their value, within the key's range. */
#include <bridgert.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Decimal digits only, no leading zero, within 64 bits: the value. */
static bool reference_whole(const char *text, size_t len, uint64_t *out) {
  if (len == 0 || len > 20 || (text[0] == '0' && len > 1)) return false;
  for (size_t i = 0; i < len; i++)
    if (text[i] < '0' || text[i] > '9') return false;
  char copy[32];
  memcpy(copy, text, len);
  copy[len] = '\0';
  errno = 0;
  unsigned long long value = strtoull(copy, NULL, 10);
  if (errno == ERANGE) return false;
  *out = value;
  return true;
}

/* The loader's verdict on a whole number `text` for a key of range
 * [0, max] must be the reference's. `got` is the stored value. */
static void check_whole(const char *text, size_t len, uint64_t max, brt_status status,
                        uint64_t got) {
  uint64_t want;
  bool valid = reference_whole(text, len, &want) && want <= max;
  if (valid && (status != BRT_OK || got != want)) abort();
  if (!valid && status == BRT_OK) abort();
}

static void check_outcome(brt_status status, const brt_config *cfg, const brt_config *before) {
  if (status == BRT_OK) {
    if (brt_config_validate(cfg) != BRT_OK) abort();
  } else {
    const brt_error *error = brt_last_error();
    if (!error || brt_error_code(error) != status || brt_error_message(error)[0] == '\0') abort();
    if (cfg->max_memory != before->max_memory ||
        cfg->plugin_dir_count != before->plugin_dir_count ||
        strcmp(cfg->plugin_dirs[0], "/seed") != 0 || cfg->tracking != before->tracking ||
        cfg->default_timeout_ms != before->default_timeout_ms)
      abort();
  }
}

static const char *const variables[] = {
    "BRT_MAX_MEMORY",       "BRT_GC_THRESHOLD",         "BRT_GC_INTERVAL_MS",
    "BRT_TRACKING",         "BRT_HARDENED",             "BRT_PLUGIN_DIRS",
    "BRT_DEFAULT_TIMEOUT_MS", "BRT_ERROR_RATE_THRESHOLD", "BRT_ERROR_WINDOW",
    "BRT_ISOLATION",        "BRT_HEALTH_MEMORY_DEGRADED",
};
enum { VARIABLE_COUNT = sizeof variables / sizeof variables[0] };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  brt_config cfg, before;
  brt_config_default(&cfg);
  brt_config_default(&before);
  if (brt_config_add_plugin_dir(&cfg, "/seed") != BRT_OK) abort();
  brt_config_copy(&before, &cfg);
  brt_status status;
  if (size >= 2 && data[0] == 0x01) {
    /* putenv with one reused buffer: setenv would keep every value it was
     * ever given (glibc), and a long run would grow without bound. */
    static char entry[64 * 1024];
    const char *variable = variables[data[1] % VARIABLE_COUNT];
    size_t name_len = strlen(variable);
    size_t len = strnlen((const char *)data + 2, size - 2);
    if (len > sizeof entry - name_len - 2) len = sizeof entry - name_len - 2;
    memcpy(entry, variable, name_len);
    entry[name_len] = '=';
    char *value = entry + name_len + 1;
    memcpy(value, data + 2, len);
    value[len] = '\0';
    if (putenv(entry) != 0) abort();
    status = brt_config_load_env(&cfg);
    unsetenv(variable);
    if (strcmp(variable, "BRT_DEFAULT_TIMEOUT_MS") == 0)
      check_whole(value, len, 86400000u, status, cfg.default_timeout_ms);
    if (strcmp(variable, "BRT_MAX_MEMORY") == 0 && strspn(value, "0123456789") == len)
      check_whole(value, len, UINT64_C(1) << 62, status, cfg.max_memory);
  } else if (size >= 2 && data[0] == 0x02) {
    bool sizes = data[1] & 1;
    const char *key = sizes ? "max_memory" : "default_timeout_ms";
    size_t len = size - 2;
    char *text = malloc(len + 64);
    if (!text) abort();
    int head = snprintf(text, 64, "{\"%s\": ", key);
    memcpy(text + head, data + 2, len);
    text[head + len] = '}';
    status = brt_config_load_json_text(text, (size_t)head + len + 1, "fuzz", &cfg);
    /* The value as written, without the white space JSON allows around it. */
    const char *value = (const char *)data + 2;
    while (len && strchr(" \t\r\n", value[0]) && value[0]) value++, len--;
    while (len && strchr(" \t\r\n", value[len - 1]) && value[len - 1]) len--;
    if (len && value[0] != '"' && !memchr(value, '}', len) && !memchr(value, ',', len)) {
      if (sizes)
        check_whole(value, len, UINT64_C(1) << 62, status, cfg.max_memory);
      else
        check_whole(value, len, 86400000u, status, cfg.default_timeout_ms);
    }
    free(text);
  } else {
    status = brt_config_load_json_text((const char *)data, size, "fuzz", &cfg);
  }
  check_outcome(status, &cfg, &before);
  brt_error_clear();
  brt_config_dispose(&cfg);
  brt_config_dispose(&before);
  return 0;
}
