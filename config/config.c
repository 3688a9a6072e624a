/* Configuration: defaults, strict JSON files, BRT_* environment overrides.
 *
 * One table (config_keys) describes every key: its name, kind, offset in
 * brt_config and range. The JSON loader, the environment loader and
 * brt_config_validate all read that table, so a key is added in one place.
 * Loading works on a private copy that replaces the caller's config only
 * when every key was accepted: nothing is ever half-applied. */
#include "bridgert/config.h"
#include "bridgert/error.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A config file larger than this is certainly a mistake (wrong path). */
#define CONFIG_FILE_MAX (1u << 20)
#define MS_PER_DAY 86400000u
/* Sizes are kept below 2^62 so that sums of them cannot overflow. */
#define SIZE_LIMIT (UINT64_C(1) << 62)

/* KIND_NAMED: an enum field (stored as an int-sized enum) whose JSON and
 * environment form is one of `names`, the value being the name's index. */
typedef enum key_kind { KIND_SIZE, KIND_U32, KIND_BOOL, KIND_FRACTION, KIND_NAMED, KIND_PATHS } key_kind;

typedef struct config_key {
  const char *name;
  key_kind kind;
  size_t offset;
  uint64_t min, max; /* KIND_SIZE and KIND_U32 */
  const char *meaning;
  const char *const *names; /* KIND_NAMED: the names, index = value */
  unsigned name_count;
} config_key;

static const char *const tracking_names[] = {"off", "counters", "blocks", "backtrace"};
static const char *const isolation_names[] = {"none", "process", "sandbox"};

#define KEY(field, kind, lo, hi, meaning) {#field, kind, offsetof(brt_config, field), lo, hi, meaning, NULL, 0}
#define NAMED_KEY(field, names, meaning)                                                         \
  {#field, KIND_NAMED, offsetof(brt_config, field), 0, 0, meaning, names,                       \
   sizeof names / sizeof names[0]}
static const config_key config_keys[] = {
    KEY(max_memory, KIND_SIZE, 0, SIZE_LIMIT, "bytes the allocator may commit, 0 = unlimited"),
    KEY(gc_threshold, KIND_SIZE, 0, SIZE_LIMIT, "committed bytes that trigger a collection, 0 = never"),
    KEY(gc_interval_ms, KIND_U32, 0, MS_PER_DAY, "milliseconds between automatic collections"),
    NAMED_KEY(tracking, tracking_names, "one of \"off\", \"counters\", \"blocks\", \"backtrace\""),
    KEY(hardened, KIND_BOOL, 0, 0, "true or false"),
    KEY(plugin_dirs, KIND_PATHS, 0, 0, "an array of directory paths"),
    KEY(allow_world_writable, KIND_BOOL, 0, 0, "true or false"),
    KEY(default_timeout_ms, KIND_U32, 0, MS_PER_DAY, "milliseconds, 0 = no deadline"),
    KEY(error_rate_threshold, KIND_FRACTION, 0, 0, "a fraction in (0, 1]"),
    KEY(error_window, KIND_U32, 1, 1000000, "a number of calls"),
    KEY(cooldown_ms, KIND_U32, 0, MS_PER_DAY, "milliseconds"),
    KEY(health_memory_degraded, KIND_FRACTION, 0, 0, "a fraction of max_memory in (0, 1]"),
    KEY(health_memory_unhealthy, KIND_FRACTION, 0, 0, "a fraction of max_memory in (0, 1]"),
    NAMED_KEY(isolation, isolation_names, "one of \"none\", \"process\", \"sandbox\""),
};
#undef KEY
#undef NAMED_KEY
enum { CONFIG_KEY_COUNT = sizeof config_keys / sizeof config_keys[0] };

const char *brt_tracking_name(brt_tracking tracking) {
  unsigned value = (unsigned)tracking;
  return value < 4 ? tracking_names[value] : "unknown";
}

static brt_status invalid(const char *fmt, ...) BRT_PRINTF(1, 2);
static brt_status invalid(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  brt_status status = brt_error_setv(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, fmt, args);
  va_end(args);
  return status;
}

static bool config_usable(const brt_config *cfg, const char *function) {
  if (!cfg) {
    invalid("%s: cfg is NULL", function);
    return false;
  }
  if (cfg->struct_size < sizeof(brt_config)) {
    invalid("%s: cfg->struct_size is %u but this library needs at least %zu; initialise the "
            "config with brt_config_default() first",
            function, cfg->struct_size, sizeof(brt_config));
    return false;
  }
  return true;
}

static void config_set_defaults(brt_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->struct_size = sizeof *cfg;
  cfg->gc_interval_ms = 1000;
  cfg->tracking = BRT_TRACKING_OFF;
  cfg->default_timeout_ms = 30000;
  cfg->error_rate_threshold = 0.5;
  cfg->error_window = 20;
  cfg->cooldown_ms = 5000;
  cfg->health_memory_degraded = 0.80;
  cfg->health_memory_unhealthy = 0.95;
}

brt_status brt_config_init(brt_config *cfg, size_t size) {
  if (!cfg) return invalid("brt_config_init: cfg is NULL");
  if (size < sizeof(brt_config))
    return invalid("brt_config_init: size %zu is smaller than this library's brt_config (%zu "
                   "bytes); the header and the library do not match",
                   size, sizeof(brt_config));
  config_set_defaults(cfg);
  return BRT_OK;
}

static void paths_free(char **paths, size_t count) {
  for (size_t i = 0; i < count; i++) free(paths[i]);
  free(paths);
}

void brt_config_dispose(brt_config *cfg) {
  if (!cfg || cfg->struct_size < sizeof(brt_config)) return;
  paths_free(cfg->plugin_dirs, cfg->plugin_dir_count);
  config_set_defaults(cfg);
}

static brt_status check_path(const char *dir, const char *where) {
  if (!dir) return invalid("%s: the directory is NULL", where);
  size_t len = strlen(dir);
  if (len == 0) return invalid("%s: the directory path is empty", where);
  if (len >= PATH_MAX)
    return invalid("%s: the directory path is %zu bytes long, more than PATH_MAX (%d)", where,
                   len, PATH_MAX);
  return BRT_OK;
}

/* Appends without the public checks on cfg; the caller validated it. */
static brt_status paths_append(brt_config *cfg, const char *dir, const char *where) {
  brt_status status = check_path(dir, where);
  if (status != BRT_OK) return status;
  if (cfg->plugin_dir_count >= BRT_CONFIG_MAX_PLUGIN_DIRS)
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                         "%s: a config may name at most %d plugin directories", where,
                         BRT_CONFIG_MAX_PLUGIN_DIRS);
  char *copy = strdup(dir);
  char **grown = copy ? realloc(cfg->plugin_dirs, (cfg->plugin_dir_count + 1) * sizeof *grown) : NULL;
  if (!grown) {
    free(copy);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL, "%s: out of memory", where);
  }
  grown[cfg->plugin_dir_count++] = copy;
  cfg->plugin_dirs = grown;
  return BRT_OK;
}

brt_status brt_config_add_plugin_dir(brt_config *cfg, const char *dir) {
  if (!config_usable(cfg, "brt_config_add_plugin_dir")) return BRT_E_INVALID_ARGUMENT;
  return paths_append(cfg, dir, "brt_config_add_plugin_dir");
}

/* A deep copy into uninitialised storage. */
static brt_status config_clone(brt_config *dst, const brt_config *src) {
  *dst = *src;
  dst->struct_size = sizeof *dst;
  dst->plugin_dirs = NULL;
  dst->plugin_dir_count = 0;
  for (size_t i = 0; i < src->plugin_dir_count; i++) {
    brt_status status = paths_append(dst, src->plugin_dirs[i], "brt_config_copy");
    if (status != BRT_OK) {
      paths_free(dst->plugin_dirs, dst->plugin_dir_count);
      return status;
    }
  }
  return BRT_OK;
}

brt_status brt_config_copy(brt_config *dst, const brt_config *src) {
  if (!config_usable(dst, "brt_config_copy (dst)") || !config_usable(src, "brt_config_copy (src)"))
    return BRT_E_INVALID_ARGUMENT;
  if (dst == src) return BRT_OK;
  brt_config copy;
  brt_status status = config_clone(&copy, src);
  if (status != BRT_OK) return status;
  brt_config_dispose(dst);
  *dst = copy;
  return BRT_OK;
}

/* --- Parsing single values ------------------------------------------------ */

/* "512", "512B", "64KiB", "1.5GiB", "10MB" (decimal units are powers of 1000). */
static bool parse_size_text(const char *text, uint64_t *out) {
  while (isspace((unsigned char)*text)) text++;
  if (!isdigit((unsigned char)*text)) return false;
  errno = 0;
  char *end;
  double number = strtod(text, &end);
  if (errno || end == text || !isfinite(number) || number < 0) return false;
  while (isspace((unsigned char)*end)) end++;
  static const struct { const char *suffix; double factor; } units[] = {
      {"", 1}, {"B", 1}, {"K", 1024.0}, {"KiB", 1024.0}, {"KB", 1e3}, {"M", 1048576.0},
      {"MiB", 1048576.0}, {"MB", 1e6}, {"G", 1073741824.0}, {"GiB", 1073741824.0}, {"GB", 1e9},
      {"T", 1099511627776.0}, {"TiB", 1099511627776.0}, {"TB", 1e12},
  };
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
    if (strcmp(end, units[i].suffix) == 0) {
      double bytes = number * units[i].factor;
      if (bytes > (double)SIZE_LIMIT || bytes != floor(bytes)) return false;
      *out = (uint64_t)bytes;
      return true;
    }
  }
  return false;
}

static bool parse_u64_text(const char *text, uint64_t *out) {
  if (!isdigit((unsigned char)*text)) return false;
  errno = 0;
  char *end;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno || *end) return false;
  *out = value;
  return true;
}

static bool parse_bool_text(const char *text, bool *out) {
  static const char *const yes[] = {"1", "true", "yes", "on"};
  static const char *const no[] = {"0", "false", "no", "off"};
  for (int i = 0; i < 4; i++) {
    if (strcasecmp(text, yes[i]) == 0) return *out = true, true;
    if (strcasecmp(text, no[i]) == 0) return *out = false, true;
  }
  return false;
}

static bool parse_fraction_text(const char *text, double *out) {
  errno = 0;
  char *end;
  double value = strtod(text, &end);
  if (errno || end == text || *end) return false;
  *out = value;
  return true;
}

/* Stores the index of `text` among the key's names; false when none is it. */
static bool parse_named_text(const config_key *key, const char *text, void *field) {
  _Static_assert(sizeof(brt_tracking) == sizeof(unsigned) && sizeof(brt_isolation) == sizeof(unsigned),
                 "KIND_NAMED fields are stored as unsigned");
  for (unsigned i = 0; i < key->name_count; i++)
    if (strcmp(text, key->names[i]) == 0) return memcpy(field, &i, sizeof i), true;
  return false;
}

static void *field_at(brt_config *cfg, const config_key *key) { return (char *)cfg + key->offset; }

/* Range checks shared by every source. `source` and `name` go into messages. */
static brt_status check_u64_range(const config_key *key, uint64_t value, const char *source) {
  if (value < key->min || value > key->max)
    return invalid("%s: key \"%s\": %llu is out of range; expected %s between %llu and %llu",
                   source, key->name, (unsigned long long)value, key->meaning,
                   (unsigned long long)key->min, (unsigned long long)key->max);
  return BRT_OK;
}

static brt_status check_fraction(const config_key *key, double value, const char *source) {
  if (!(value > 0.0 && value <= 1.0))
    return invalid("%s: key \"%s\": %g is out of range; expected %s", source, key->name, value,
                   key->meaning);
  return BRT_OK;
}

static brt_status store_u64(brt_config *cfg, const config_key *key, uint64_t value,
                            const char *source) {
  brt_status status = check_u64_range(key, value, source);
  if (status != BRT_OK) return status;
  if (key->kind == KIND_SIZE)
    *(uint64_t *)field_at(cfg, key) = value;
  else
    *(uint32_t *)field_at(cfg, key) = (uint32_t)value;
  return BRT_OK;
}

/* --- JSON ----------------------------------------------------------------- */

static void position_of(const char *text, size_t offset, int *line, int *column) {
  *line = 1;
  *column = 1;
  for (size_t i = 0; i < offset && text[i]; i++) {
    if (text[i] == '\n') {
      ++*line;
      *column = 1;
    } else {
      ++*column;
    }
  }
}

static const char *json_kind(const cJSON *item) {
  if (cJSON_IsNull(item)) return "null";
  if (cJSON_IsBool(item)) return "a boolean";
  if (cJSON_IsNumber(item)) return "a number";
  if (cJSON_IsString(item)) return "a string";
  if (cJSON_IsArray(item)) return "an array";
  if (cJSON_IsObject(item)) return "an object";
  return "an invalid value";
}

static brt_status apply_json_value(brt_config *cfg, const config_key *key, const cJSON *item,
                                   const char *source) {
  switch (key->kind) {
    case KIND_SIZE:
    case KIND_U32: {
      uint64_t value;
      if (cJSON_IsNumber(item)) {
        double number = item->valuedouble;
        if (number < 0 || number != floor(number) || number > 9007199254740992.0)
          return invalid("%s: key \"%s\": %g is not valid; expected %s (a non-negative whole "
                         "number%s)",
                         source, key->name, number, key->meaning,
                         key->kind == KIND_SIZE ? " or a size string such as \"512MiB\"" : "");
        value = (uint64_t)number;
      } else if (key->kind == KIND_SIZE && cJSON_IsString(item)) {
        if (!parse_size_text(item->valuestring, &value))
          return invalid("%s: key \"%s\": \"%s\" is not a size; expected %s, e.g. 1048576, "
                         "\"512MiB\" or \"2GB\"",
                         source, key->name, item->valuestring, key->meaning);
      } else {
        return invalid("%s: key \"%s\": expected %s (a number%s), got %s", source, key->name,
                       key->meaning, key->kind == KIND_SIZE ? " or a size string" : "",
                       json_kind(item));
      }
      return store_u64(cfg, key, value, source);
    }
    case KIND_BOOL:
      if (!cJSON_IsBool(item))
        return invalid("%s: key \"%s\": expected true or false, got %s", source, key->name,
                       json_kind(item));
      *(bool *)field_at(cfg, key) = cJSON_IsTrue(item);
      return BRT_OK;
    case KIND_FRACTION: {
      if (!cJSON_IsNumber(item))
        return invalid("%s: key \"%s\": expected %s, got %s", source, key->name, key->meaning,
                       json_kind(item));
      brt_status status = check_fraction(key, item->valuedouble, source);
      if (status == BRT_OK) *(double *)field_at(cfg, key) = item->valuedouble;
      return status;
    }
    case KIND_NAMED:
      if (!cJSON_IsString(item) || !parse_named_text(key, item->valuestring, field_at(cfg, key)))
        return invalid("%s: key \"%s\": expected %s, got %s%s%s", source, key->name, key->meaning,
                       cJSON_IsString(item) ? "\"" : json_kind(item),
                       cJSON_IsString(item) ? item->valuestring : "",
                       cJSON_IsString(item) ? "\"" : "");
      return BRT_OK;
    case KIND_PATHS: {
      if (!cJSON_IsArray(item))
        return invalid("%s: key \"plugin_dirs\": expected an array of directory paths, got %s",
                       source, json_kind(item));
      paths_free(cfg->plugin_dirs, cfg->plugin_dir_count); /* a file replaces the list */
      cfg->plugin_dirs = NULL;
      cfg->plugin_dir_count = 0;
      int index = 0;
      for (const cJSON *entry = item->child; entry; entry = entry->next, index++) {
        char where[256];
        snprintf(where, sizeof where, "%s: key \"plugin_dirs[%d]\"", source, index);
        if (!cJSON_IsString(entry))
          return invalid("%s: expected a directory path (a string), got %s", where,
                         json_kind(entry));
        brt_status status = paths_append(cfg, entry->valuestring, where);
        if (status != BRT_OK) return status;
      }
      return BRT_OK;
    }
  }
  return brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "config: key kind %d unhandled",
                       (int)key->kind);
}

static const config_key *key_named(const char *name) {
  for (int i = 0; i < CONFIG_KEY_COUNT; i++)
    if (strcmp(config_keys[i].name, name) == 0) return &config_keys[i];
  return NULL;
}

static brt_status validate_cross_fields(const brt_config *cfg, const char *source) {
  if (cfg->health_memory_degraded > cfg->health_memory_unhealthy)
    return invalid("%s: health_memory_degraded (%g) must not be above health_memory_unhealthy "
                   "(%g)",
                   source, cfg->health_memory_degraded, cfg->health_memory_unhealthy);
  return BRT_OK;
}

/* Applies a parsed object to `work` (a private copy). */
static brt_status apply_json_object(brt_config *work, const cJSON *root, const char *source) {
  if (!cJSON_IsObject(root))
    return invalid("%s: the configuration must be one JSON object, got %s", source,
                   json_kind(root));
  for (const cJSON *item = root->child; item; item = item->next) {
    for (const cJSON *other = root->child; other != item; other = other->next)
      if (strcmp(other->string, item->string) == 0)
        return invalid("%s: key \"%s\" appears twice", source, item->string);
    const config_key *key = key_named(item->string);
    if (!key) {
      char known[512] = "";
      for (int i = 0; i < CONFIG_KEY_COUNT; i++) {
        strncat(known, config_keys[i].name, sizeof known - strlen(known) - 1);
        if (i + 1 < CONFIG_KEY_COUNT) strncat(known, ", ", sizeof known - strlen(known) - 1);
      }
      return invalid("%s: unknown key \"%s\"; the known keys are: %s", source, item->string, known);
    }
    brt_status status = apply_json_value(work, key, item, source);
    if (status != BRT_OK) return status;
  }
  return validate_cross_fields(work, source);
}

/* Runs `apply` on a private copy and commits it only on success. */
static brt_status config_transaction(brt_config *cfg, brt_status (*apply)(brt_config *, const void *),
                                     const void *arg) {
  brt_config work;
  brt_status status = config_clone(&work, cfg);
  if (status != BRT_OK) return status;
  status = apply(&work, arg);
  if (status != BRT_OK) {
    paths_free(work.plugin_dirs, work.plugin_dir_count);
    return status;
  }
  paths_free(cfg->plugin_dirs, cfg->plugin_dir_count);
  *cfg = work;
  return BRT_OK;
}

typedef struct json_job {
  const char *text;
  size_t len;
  const char *source;
} json_job;

static brt_status apply_json_text(brt_config *work, const void *arg) {
  const json_job *job = arg;
  if (memchr(job->text, '\0', job->len))
    return invalid("%s: the text contains a NUL byte; a configuration is UTF-8 JSON text",
                   job->source);
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(job->text, job->len, &end, false);
  size_t offset = end ? (size_t)(end - job->text) : 0;
  if (root) { /* only white space may follow the object */
    while (offset < job->len && strchr(" \t\r\n", job->text[offset])) offset++;
    if (offset < job->len) {
      cJSON_Delete(root);
      root = NULL;
    }
  }
  if (!root) {
    int line, column;
    position_of(job->text, offset, &line, &column);
    char excerpt[24] = "";
    size_t n = 0;
    for (size_t i = offset; i < job->len && n < 20 && job->text[i] != '\n'; i++)
      excerpt[n++] = isprint((unsigned char)job->text[i]) ? job->text[i] : '?';
    excerpt[n] = '\0';
    return invalid("%s: malformed JSON at line %d, column %d (near \"%s\")", job->source, line,
                   column, offset >= job->len ? "end of input" : excerpt);
  }
  brt_status status = apply_json_object(work, root, job->source);
  cJSON_Delete(root);
  return status;
}

brt_status brt_config_load_json_text(const char *text, size_t len, const char *source,
                                     brt_config *cfg) {
  if (!config_usable(cfg, "brt_config_load_json_text")) return BRT_E_INVALID_ARGUMENT;
  if (!text) return invalid("brt_config_load_json_text: text is NULL");
  if (len > CONFIG_FILE_MAX)
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                         "%s: %zu bytes of configuration is more than the %u a config may have",
                         source ? source : "config text", len, CONFIG_FILE_MAX);
  char label[PATH_MAX + 32];
  snprintf(label, sizeof label, "%s", source ? source : "config text");
  json_job job = {text, len, label};
  return config_transaction(cfg, apply_json_text, &job);
}

brt_status brt_config_load_json(const char *path, brt_config *cfg) {
  if (!config_usable(cfg, "brt_config_load_json")) return BRT_E_INVALID_ARGUMENT;
  if (!path || !*path) return invalid("brt_config_load_json: path is %s", path ? "empty" : "NULL");
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return brt_error_set_os(errno == ENOENT ? BRT_E_NOT_FOUND : BRT_E_IO, errno,
                            "config file %s: cannot open it: %s", path, strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    int saved = errno;
    close(fd);
    return S_ISDIR(st.st_mode) ? brt_error_set_os(BRT_E_IO, EISDIR, "config file %s: is a directory", path)
                               : brt_error_set_os(BRT_E_IO, saved ? saved : EINVAL,
                                                  "config file %s: not a regular file", path);
  }
  if ((uint64_t)st.st_size > CONFIG_FILE_MAX) {
    close(fd);
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                         "config file %s: %lld bytes is more than the %u a config may have", path,
                         (long long)st.st_size, CONFIG_FILE_MAX);
  }
  char *text = malloc((size_t)st.st_size + 1);
  if (!text) {
    close(fd);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL, "config file %s: out of memory",
                         path);
  }
  size_t length = 0;
  while (length < (size_t)st.st_size) {
    ssize_t n = read(fd, text + length, (size_t)st.st_size - length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = n < 0 ? errno : EIO;
      free(text);
      close(fd);
      return brt_error_set_os(BRT_E_IO, saved, "config file %s: read failed: %s", path,
                              strerror(saved));
    }
    length += (size_t)n;
  }
  close(fd);
  text[length] = '\0';
  char label[PATH_MAX + 32];
  snprintf(label, sizeof label, "config file %s", path);
  json_job job = {text, length, label};
  brt_status status = config_transaction(cfg, apply_json_text, &job);
  free(text);
  return status;
}

/* --- Environment ------------------------------------------------------------ */

static brt_status apply_env_value(brt_config *cfg, const config_key *key, const char *text,
                                  const char *source) {
  switch (key->kind) {
    case KIND_SIZE:
    case KIND_U32: {
      uint64_t value;
      bool ok = key->kind == KIND_SIZE ? parse_size_text(text, &value) : parse_u64_text(text, &value);
      if (!ok)
        return invalid("%s: \"%s\" is not valid; expected %s%s", source, text, key->meaning,
                       key->kind == KIND_SIZE ? " (e.g. 1048576, 512MiB or 2GB)" : " (a whole number)");
      return store_u64(cfg, key, value, source);
    }
    case KIND_BOOL:
      if (!parse_bool_text(text, (bool *)field_at(cfg, key)))
        return invalid("%s: \"%s\" is not valid; expected 1/0, true/false, yes/no or on/off",
                       source, text);
      return BRT_OK;
    case KIND_FRACTION: {
      double value;
      if (!parse_fraction_text(text, &value))
        return invalid("%s: \"%s\" is not a number; expected %s", source, text, key->meaning);
      brt_status status = check_fraction(key, value, source);
      if (status == BRT_OK) *(double *)field_at(cfg, key) = value;
      return status;
    }
    case KIND_NAMED:
      if (!parse_named_text(key, text, field_at(cfg, key)))
        return invalid("%s: \"%s\" is not valid; expected %s", source, text, key->meaning);
      return BRT_OK;
    case KIND_PATHS: {
      paths_free(cfg->plugin_dirs, cfg->plugin_dir_count);
      cfg->plugin_dirs = NULL;
      cfg->plugin_dir_count = 0;
      const char *start = text;
      while (*start) { /* colon-separated; empty entries are skipped like PATH's */
        const char *colon = strchr(start, ':');
        size_t len = colon ? (size_t)(colon - start) : strlen(start);
        if (len > 0) {
          if (len >= PATH_MAX) return check_path(start, source);
          char dir[PATH_MAX];
          memcpy(dir, start, len);
          dir[len] = '\0';
          brt_status status = paths_append(cfg, dir, source);
          if (status != BRT_OK) return status;
        }
        start += len + (colon ? 1 : 0);
      }
      return BRT_OK;
    }
  }
  return brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "config: key kind %d unhandled",
                       (int)key->kind);
}

static brt_status apply_environment(brt_config *work, const void *unused) {
  (void)unused;
  for (int i = 0; i < CONFIG_KEY_COUNT; i++) {
    char variable[64] = "BRT_";
    for (size_t j = 0; config_keys[i].name[j] && j + 5 < sizeof variable; j++)
      variable[4 + j] = (char)toupper((unsigned char)config_keys[i].name[j]);
    const char *text = getenv(variable);
    if (!text) continue;
    char source[96];
    snprintf(source, sizeof source, "environment variable %s", variable);
    brt_status status = apply_env_value(work, &config_keys[i], text, source);
    if (status != BRT_OK) return status;
  }
  return validate_cross_fields(work, "environment");
}

brt_status brt_config_load_env(brt_config *cfg) {
  if (!config_usable(cfg, "brt_config_load_env")) return BRT_E_INVALID_ARGUMENT;
  return config_transaction(cfg, apply_environment, NULL);
}

static brt_status apply_file_then_env(brt_config *work, const void *unused) {
  (void)unused;
  const char *path = getenv("BRT_CONFIG");
  if (path && *path) {
    brt_status status = brt_config_load_json(path, work);
    if (status != BRT_OK) return status;
  }
  return apply_environment(work, NULL);
}

brt_status brt_config_resolve(brt_config *cfg) {
  if (!config_usable(cfg, "brt_config_resolve")) return BRT_E_INVALID_ARGUMENT;
  return config_transaction(cfg, apply_file_then_env, NULL);
}

brt_status brt_config_validate(const brt_config *cfg) {
  if (!config_usable(cfg, "brt_config_validate")) return BRT_E_INVALID_ARGUMENT;
  const char *source = "brt_config_validate";
  for (int i = 0; i < CONFIG_KEY_COUNT; i++) {
    const config_key *key = &config_keys[i];
    const void *field = (const char *)cfg + key->offset;
    brt_status status = BRT_OK;
    switch (key->kind) {
      case KIND_SIZE: status = check_u64_range(key, *(const uint64_t *)field, source); break;
      case KIND_U32: status = check_u64_range(key, *(const uint32_t *)field, source); break;
      case KIND_FRACTION: status = check_fraction(key, *(const double *)field, source); break;
      case KIND_NAMED: {
        unsigned value;
        memcpy(&value, field, sizeof value);
        if (value >= key->name_count)
          status = invalid("%s: key \"%s\": %u is not one of its values (%s)", source, key->name,
                           value, key->meaning);
        break;
      }
      case KIND_PATHS:
        if (cfg->plugin_dir_count > BRT_CONFIG_MAX_PLUGIN_DIRS || (cfg->plugin_dir_count && !cfg->plugin_dirs))
          status = invalid("%s: plugin_dirs: %zu entries with %s array", source,
                           cfg->plugin_dir_count, cfg->plugin_dirs ? "an" : "a NULL");
        for (size_t j = 0; status == BRT_OK && j < cfg->plugin_dir_count; j++)
          status = check_path(cfg->plugin_dirs[j], "brt_config_validate: plugin_dirs");
        break;
      case KIND_BOOL: break;
    }
    if (status != BRT_OK) return status;
  }
  return validate_cross_fields(cfg, source);
}
