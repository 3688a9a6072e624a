/* Configuration: the key table, a config's life (defaults, copies,
 * disposal) and its validation.
 *
 * One table (_brt_config_keys) describes every key: its name, kind, offset in
 * brt_config and range. The JSON loader, the environment loader
 * (config_load.c) and brt_config_validate all read that table, so a key is
 * added in one place. Values are read by the same strict readers whatever
 * their source (config_value.c), and JSON by the component's own strict
 * reader (json.c). Loading works on a private copy that replaces the
 * caller's config only when every key was accepted (_brt_config_transaction):
 * nothing is ever half-applied. */
#include "bridgert/config.h"
#include "internal.h"
#include "bridgert/error.h"

#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define MS_PER_DAY 86400000u
/* Sizes are kept below 2^62 so that sums of them cannot overflow. */
#define SIZE_LIMIT (UINT64_C(1) << 62)

static const char *const tracking_names[] = {"off", "counters", "blocks", "backtrace"};
static const char *const isolation_names[] = {"none", "process", "sandbox"};

#define KEY(field, kind, lo, hi, meaning) \
  { #field, kind, offsetof(brt_config, field), lo, hi, meaning, NULL, 0 }
#define NAMED_KEY(field, names, meaning)                                                         \
  {#field, KIND_NAMED, offsetof(brt_config, field), 0, 0, meaning, names,                       \
   sizeof names / sizeof names[0]}
const config_key _brt_config_keys[] = {
    KEY(max_memory, KIND_SIZE, 0, SIZE_LIMIT, "bytes the allocator may commit, 0 = unlimited"),
    KEY(gc_threshold, KIND_SIZE, 0, SIZE_LIMIT,
        "committed bytes that trigger a collection, 0 = never"),
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
    KEY(plugin_watch, KIND_BOOL, 0, 0, "true or false"),
};
#undef KEY
#undef NAMED_KEY
enum { CONFIG_KEY_COUNT = sizeof _brt_config_keys / sizeof _brt_config_keys[0] };
const int _brt_config_key_count = CONFIG_KEY_COUNT;

const char *brt_tracking_name(brt_tracking tracking) {
  unsigned value = (unsigned)tracking;
  return value < 4 ? tracking_names[value] : "unknown";
}

brt_status _brt_config_invalid(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  brt_status status = brt_error_setv(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, fmt, args);
  va_end(args);
  return status;
}

bool _brt_config_usable(const brt_config *cfg, const char *function) {
  if (!cfg) {
    _brt_config_invalid("%s: cfg is NULL", function);
    return false;
  }
  if (cfg->struct_size < sizeof(brt_config)) {
    _brt_config_invalid(
        "%s: cfg->struct_size is %u but this library needs at least %zu; initialise the "
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
  if (!cfg) return _brt_config_invalid("brt_config_init: cfg is NULL");
  if (size < sizeof(brt_config))
    return _brt_config_invalid(
        "brt_config_init: size %zu is smaller than this library's brt_config (%zu "
        "bytes); the header and the library do not match",
        size, sizeof(brt_config));
  config_set_defaults(cfg);
  return BRT_OK;
}

void _brt_config_paths_free(char **paths, size_t count) {
  for (size_t i = 0; i < count; i++) free(paths[i]);
  free(paths);
}

void brt_config_dispose(brt_config *cfg) {
  if (!cfg || cfg->struct_size < sizeof(brt_config)) return;
  _brt_config_paths_free(cfg->plugin_dirs, cfg->plugin_dir_count);
  config_set_defaults(cfg);
}

brt_status _brt_config_check_path(const char *dir, const char *where) {
  if (!dir) return _brt_config_invalid("%s: the directory is NULL", where);
  size_t len = strlen(dir);
  if (len == 0) return _brt_config_invalid("%s: the directory path is empty", where);
  if (len >= PATH_MAX)
    return _brt_config_invalid("%s: the directory path is %zu bytes long, more than PATH_MAX (%d)",
                               where, len, PATH_MAX);
  return BRT_OK;
}

/* Appends without the public checks on cfg; the caller validated it. */
brt_status _brt_config_paths_append(brt_config *cfg, const char *dir, const char *where) {
  brt_status status = _brt_config_check_path(dir, where);
  if (status != BRT_OK) return status;
  if (cfg->plugin_dir_count >= BRT_CONFIG_MAX_PLUGIN_DIRS)
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                         "%s: a config may name at most %d plugin directories", where,
                         BRT_CONFIG_MAX_PLUGIN_DIRS);
  char *copy = strdup(dir);
  char **grown =
      copy ? realloc(cfg->plugin_dirs, (cfg->plugin_dir_count + 1) * sizeof *grown) : NULL;
  if (!grown) {
    free(copy);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL, "%s: out of memory", where);
  }
  grown[cfg->plugin_dir_count++] = copy;
  cfg->plugin_dirs = grown;
  return BRT_OK;
}

brt_status brt_config_add_plugin_dir(brt_config *cfg, const char *dir) {
  if (!_brt_config_usable(cfg, "brt_config_add_plugin_dir")) return BRT_E_INVALID_ARGUMENT;
  return _brt_config_paths_append(cfg, dir, "brt_config_add_plugin_dir");
}

/* A deep copy into uninitialised storage. */
static brt_status config_clone(brt_config *dst, const brt_config *src) {
  *dst = *src;
  dst->struct_size = sizeof *dst;
  dst->plugin_dirs = NULL;
  dst->plugin_dir_count = 0;
  for (size_t i = 0; i < src->plugin_dir_count; i++) {
    brt_status status = _brt_config_paths_append(dst, src->plugin_dirs[i], "brt_config_copy");
    if (status != BRT_OK) {
      _brt_config_paths_free(dst->plugin_dirs, dst->plugin_dir_count);
      return status;
    }
  }
  return BRT_OK;
}

brt_status brt_config_copy(brt_config *dst, const brt_config *src) {
  if (!_brt_config_usable(dst, "brt_config_copy (dst)") ||
      !_brt_config_usable(src, "brt_config_copy (src)"))
    return BRT_E_INVALID_ARGUMENT;
  if (dst == src) return BRT_OK;
  brt_config copy;
  brt_status status = config_clone(&copy, src);
  if (status != BRT_OK) return status;
  brt_config_dispose(dst);
  *dst = copy;
  return BRT_OK;
}

/* The key called `name` (len bytes: a name with a NUL in it is no key). */
const config_key *_brt_config_key_named(const char *name, size_t len) {
  for (int i = 0; i < CONFIG_KEY_COUNT; i++)
    if (strlen(_brt_config_keys[i].name) == len && memcmp(_brt_config_keys[i].name, name, len) == 0)
      return &_brt_config_keys[i];
  return NULL;
}

brt_status _brt_config_validate_cross_fields(const brt_config *cfg, const char *source) {
  if (cfg->health_memory_degraded > cfg->health_memory_unhealthy)
    return _brt_config_invalid(
        "%s: health_memory_degraded (%g) must not be above health_memory_unhealthy "
        "(%g)",
        source, cfg->health_memory_degraded, cfg->health_memory_unhealthy);
  return BRT_OK;
}

/* Runs `apply` on a private copy and commits it only on success. */
brt_status _brt_config_transaction(brt_config *cfg, brt_status (*apply)(brt_config *, const void *),
                                   const void *arg) {
  brt_config work;
  brt_status status = config_clone(&work, cfg);
  if (status != BRT_OK) return status;
  status = apply(&work, arg);
  if (status != BRT_OK) {
    _brt_config_paths_free(work.plugin_dirs, work.plugin_dir_count);
    return status;
  }
  _brt_config_paths_free(cfg->plugin_dirs, cfg->plugin_dir_count);
  *cfg = work;
  return BRT_OK;
}

brt_status brt_config_validate(const brt_config *cfg) {
  if (!_brt_config_usable(cfg, "brt_config_validate")) return BRT_E_INVALID_ARGUMENT;
  const char *source = "brt_config_validate";
  for (int i = 0; i < CONFIG_KEY_COUNT; i++) {
    const config_key *key = &_brt_config_keys[i];
    const void *field = (const char *)cfg + key->offset;
    brt_status status = BRT_OK;
    switch (key->kind) {
      case KIND_SIZE:
        status = _brt_config_check_u64_range(key, *(const uint64_t *)field, source);
        break;
      case KIND_U32:
        status = _brt_config_check_u64_range(key, *(const uint32_t *)field, source);
        break;
      case KIND_FRACTION:
        status = _brt_config_check_fraction(key, *(const double *)field, source);
        break;
      case KIND_NAMED: {
        unsigned value;
        memcpy(&value, field, sizeof value);
        if (value >= key->name_count)
          status = _brt_config_invalid("%s: key \"%s\": %u is not one of its values (%s)", source,
                                       key->name, value, key->meaning);
        break;
      }
      case KIND_PATHS:
        if (cfg->plugin_dir_count > BRT_CONFIG_MAX_PLUGIN_DIRS ||
            (cfg->plugin_dir_count && !cfg->plugin_dirs))
          status = _brt_config_invalid("%s: plugin_dirs: %zu entries with %s array", source,
                                       cfg->plugin_dir_count, cfg->plugin_dirs ? "an" : "a NULL");
        for (size_t j = 0; status == BRT_OK && j < cfg->plugin_dir_count; j++)
          status = _brt_config_check_path(cfg->plugin_dirs[j], "brt_config_validate: plugin_dirs");
        break;
      case KIND_BOOL: break;
    }
    if (status != BRT_OK) return status;
  }
  return _brt_config_validate_cross_fields(cfg, source);
}

