/* Configuration: defaults, strict JSON files, BRT_* environment overrides.
 *
 * One table (config_keys) describes every key: its name, kind, offset in
 * brt_config and range. The JSON loader, the environment loader and
 * brt_config_validate all read that table, so a key is added in one place.
 * Values are read by the same strict readers whatever their source (one
 * exact reader of whole numbers, one of sizes, one of fractions), and JSON
 * by this file's own strict reader (below). Loading works on a private
 * copy that replaces the caller's config only when every key was accepted:
 * nothing is ever half-applied. */
#include "bridgert/config.h"
#include "internal.h"
#include "bridgert/error.h"
#include "core/utf8.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
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
    KEY(plugin_watch, KIND_BOOL, 0, 0, "true or false"),
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

/* --- Reading single values ---------------------------------------------------
 * Every source (JSON numbers, JSON strings, environment variables) goes
 * through the same readers, which work on (text, length) so that a NUL
 * inside a value is seen rather than ending it. No value passes through a
 * double except fractions, and nothing is skipped: no white space, no
 * sign, no other base. */

typedef enum uint_read { UINT_OK, UINT_EMPTY, UINT_NOT_DIGITS, UINT_LEADING_ZERO, UINT_OVERFLOW } uint_read;

/* The one reader of whole numbers: decimal digits only — no sign (not even
 * '+'), no white space, no fraction, exponent or hex, no leading zero (010
 * is ten to some readers and eight to others) — read exactly into 64 bits,
 * larger values refused. */
static uint_read read_uint(const char *text, size_t len, uint64_t *out) {
  if (len == 0) return UINT_EMPTY;
  for (size_t i = 0; i < len; i++)
    if (text[i] < '0' || text[i] > '9') return UINT_NOT_DIGITS;
  if (text[0] == '0' && len > 1) return UINT_LEADING_ZERO;
  uint64_t value = 0;
  for (size_t i = 0; i < len; i++)
    if (__builtin_mul_overflow(value, 10u, &value) ||
        __builtin_add_overflow(value, (uint64_t)(text[i] - '0'), &value))
      return UINT_OVERFLOW;
  *out = value;
  return UINT_OK;
}

typedef enum size_read { SIZE_OK, SIZE_BAD, SIZE_OVERFLOW } size_read;

static uint64_t gcd_u64(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/* Sizes: a whole number (read_uint), or digits with an optional fraction
 * and then a unit: "512MiB", "1.5GiB", "10MB" (B; K, KiB; M, MiB; G, GiB;
 * T, TiB are powers of 1024; KB, MB, GB, TB powers of 1000). Nothing else:
 * no white space, no sign, no exponent. The result is computed exactly and
 * must be a whole number of bytes. */
static size_read parse_size_text(const char *text, size_t len, uint64_t *out) {
  static const struct { const char *suffix; uint64_t factor; } units[] = {
      {"B", 1},
      {"K", UINT64_C(1) << 10}, {"KiB", UINT64_C(1) << 10}, {"KB", UINT64_C(1000)},
      {"M", UINT64_C(1) << 20}, {"MiB", UINT64_C(1) << 20}, {"MB", UINT64_C(1000000)},
      {"G", UINT64_C(1) << 30}, {"GiB", UINT64_C(1) << 30}, {"GB", UINT64_C(1000000000)},
      {"T", UINT64_C(1) << 40}, {"TiB", UINT64_C(1) << 40}, {"TB", UINT64_C(1000000000000)},
  };
  size_t digits = 0;
  while (digits < len && text[digits] >= '0' && text[digits] <= '9') digits++;
  if (digits == 0) return SIZE_BAD;
  size_t at = digits, fraction = 0, fraction_len = 0;
  if (at < len && text[at] == '.') {
    fraction = ++at;
    while (at < len && text[at] >= '0' && text[at] <= '9') at++;
    fraction_len = at - fraction;
    if (fraction_len == 0) return SIZE_BAD;
  }
  uint64_t whole;
  if (at == len) { /* no unit: a plain whole number */
    if (fraction_len) return SIZE_BAD;
    uint_read read = read_uint(text, len, out);
    return read == UINT_OK ? SIZE_OK : read == UINT_OVERFLOW ? SIZE_OVERFLOW : SIZE_BAD;
  }
  uint64_t factor = 0;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strlen(units[i].suffix) == len - at && memcmp(units[i].suffix, text + at, len - at) == 0)
      factor = units[i].factor;
  if (!factor) return SIZE_BAD;
  uint_read read = read_uint(text, digits, &whole);
  if (read == UINT_OVERFLOW) return SIZE_OVERFLOW;
  if (read != UINT_OK) return SIZE_BAD;
  uint64_t bytes;
  if (__builtin_mul_overflow(whole, factor, &bytes)) return SIZE_OVERFLOW;
  /* The fraction f / 10^k of a unit is whole iff (10^k / g) divides f,
   * g = gcd(factor, 10^k); it adds (f / (10^k / g)) * (factor / g) bytes,
   * less than one unit. Trailing zeros change nothing; more than 19
   * digits after the point are refused (10^k would not fit 64 bits, and
   * no size anyone writes needs them). */
  while (fraction_len > 0 && text[fraction + fraction_len - 1] == '0') fraction_len--;
  if (fraction_len > 19) return SIZE_BAD;
  uint64_t f = 0, power = 1;
  for (size_t i = 0; i < fraction_len; i++) {
    f = f * 10 + (uint64_t)(text[fraction + i] - '0');
    power *= 10;
  }
  uint64_t g = gcd_u64(factor, power);
  if (f % (power / g) != 0) return SIZE_BAD;
  if (__builtin_add_overflow(bytes, f / (power / g) * (factor / g), &bytes)) return SIZE_OVERFLOW;
  *out = bytes;
  return SIZE_OK;
}

/* The numbers C reads as "C" whatever LC_NUMERIC the process set. */
static locale_t c_numeric;
static pthread_once_t c_numeric_once = PTHREAD_ONCE_INIT;
static void c_numeric_create(void) { c_numeric = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

/* Fractions have their own reader: the JSON number syntax, exactly (also
 * for the environment) — an optional '-', digits without a leading zero,
 * an optional fraction and exponent; no '+', no white space, no hex, inf
 * or nan — read correctly rounded in the C locale. The range is the
 * caller's (check_fraction). */
static bool parse_fraction_text(const char *text, size_t len, double *out) {
  size_t i = 0;
#define DIGIT_AT(i) ((i) < len && text[i] >= '0' && text[i] <= '9')
  if (i < len && text[i] == '-') i++;
  if (!DIGIT_AT(i)) return false;
  if (text[i] == '0') i++;
  else
    while (DIGIT_AT(i)) i++;
  if (i < len && text[i] == '.') {
    if (!DIGIT_AT(i + 1)) return false;
    for (i++; DIGIT_AT(i); i++) {
    }
  }
  if (i < len && (text[i] == 'e' || text[i] == 'E')) {
    i++;
    if (i < len && (text[i] == '+' || text[i] == '-')) i++;
    if (!DIGIT_AT(i)) return false;
    while (DIGIT_AT(i)) i++;
  }
#undef DIGIT_AT
  if (i != len) return false;
  pthread_once(&c_numeric_once, c_numeric_create);
  char *copy = c_numeric ? strndup(text, len) : NULL;
  if (!copy) return false;
  char *end;
  double value = strtod_l(copy, &end, c_numeric);
  bool ok = end == copy + len;
  free(copy);
  if (ok) *out = value;
  return ok;
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

/* Stores the index of `text` among the key's names; false when none is it
 * (a name with a NUL after it is not that name). */
static bool parse_named_text(const config_key *key, const char *text, size_t len, void *field) {
  _Static_assert(sizeof(brt_tracking) == sizeof(unsigned) && sizeof(brt_isolation) == sizeof(unsigned),
                 "KIND_NAMED fields are stored as unsigned");
  for (unsigned i = 0; i < key->name_count; i++)
    if (strlen(key->names[i]) == len && memcmp(text, key->names[i], len) == 0)
      return memcpy(field, &i, sizeof i), true;
  return false;
}

static void *field_at(brt_config *cfg, const config_key *key) { return (char *)cfg + key->offset; }

/* `text` (len bytes) as it can be shown inside quotes in a message: '"'
 * and '\' escaped, control characters and NUL as \u00XX, bytes that are
 * not UTF-8 as \xXX; cut with "..." past about 80 bytes. Returns buf. */
static const char *shown(const char *text, size_t len, char *buf, size_t size) {
  size_t n = 0;
  for (size_t i = 0; i < len; ) {
    if (n > 80 || n + 10 > size) { /* an escape is at most 6 bytes: "..." still fits */
      memcpy(buf + n, "...", 4);
      return buf;
    }
    unsigned char c = (unsigned char)text[i];
    size_t k = _brt_utf8_sequence((const unsigned char *)text + i, len - i);
    if (c == '"' || c == '\\') {
      buf[n++] = '\\';
      buf[n++] = (char)c;
    } else if (c < 0x20 || c == 0x7F) {
      n += (size_t)snprintf(buf + n, size - n, "\\u%04x", c);
    } else if (k == 0) {
      n += (size_t)snprintf(buf + n, size - n, "\\x%02X", c);
      k = 1;
    } else {
      memcpy(buf + n, text + i, k);
      n += k;
    }
    i += k ? k : 1;
  }
  buf[n] = '\0';
  return buf;
}
#define SHOWN_MAX 128

/* Range checks shared by every source. `source` and `name` go into messages. */
static brt_status check_u64_range(const config_key *key, uint64_t value, const char *source) {
  if (value < key->min || value > key->max)
    return invalid("%s: key \"%s\": %llu is out of range; expected %s between %llu and %llu",
                   source, key->name, (unsigned long long)value, key->meaning,
                   (unsigned long long)key->min, (unsigned long long)key->max);
  return BRT_OK;
}

/* A number too large for 64 bits, as written. */
static brt_status out_of_range_text(const config_key *key, const char *text, size_t len,
                                    const char *source) {
  char buf[SHOWN_MAX];
  return invalid("%s: key \"%s\": %s is out of range; expected %s between %llu and %llu", source,
                 key->name, shown(text, len, buf, sizeof buf), key->meaning,
                 (unsigned long long)key->min, (unsigned long long)key->max);
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

/* What whole numbers and sizes look like, for messages. */
#define WHOLE_RULE "decimal digits only, with no sign, white space, fraction, exponent or leading zero"
#define SIZE_RULE                                                                                \
  "a whole number of bytes such as 1048576, or digits with a unit such as 512MiB, 1.5GiB or "  \
  "2GB; no white space, sign or exponent"

/* A whole-number or size key from text (a JSON string, an environment
 * variable): `quoted` puts the text in quotes in messages. */
static brt_status apply_number_text(brt_config *cfg, const config_key *key, const char *text,
                                    size_t len, const char *source) {
  char buf[SHOWN_MAX];
  uint64_t value = 0;
  if (key->kind == KIND_SIZE) {
    size_read read = parse_size_text(text, len, &value);
    if (read == SIZE_OVERFLOW)
      return invalid("%s: key \"%s\": \"%s\" is out of range; expected %s between %llu and %llu",
                     source, key->name, shown(text, len, buf, sizeof buf), key->meaning,
                     (unsigned long long)key->min, (unsigned long long)key->max);
    if (read != SIZE_OK)
      return invalid("%s: key \"%s\": \"%s\" is not a size; expected %s (%s)", source, key->name,
                     shown(text, len, buf, sizeof buf), key->meaning, SIZE_RULE);
  } else {
    uint_read read = read_uint(text, len, &value);
    if (read == UINT_OVERFLOW)
      return invalid("%s: key \"%s\": \"%s\" is out of range; expected %s between %llu and %llu",
                     source, key->name, shown(text, len, buf, sizeof buf), key->meaning,
                     (unsigned long long)key->min, (unsigned long long)key->max);
    if (read != UINT_OK)
      return invalid("%s: key \"%s\": \"%s\" is not a whole number; expected %s (%s)", source,
                     key->name, shown(text, len, buf, sizeof buf), key->meaning, WHOLE_RULE);
  }
  return store_u64(cfg, key, value, source);
}

static brt_status apply_json_value(brt_config *cfg, const config_key *key, const jvalue *item,
                                   const char *source) {
  char buf[SHOWN_MAX];
  switch (key->kind) {
    case KIND_SIZE:
    case KIND_U32: {
      if (item->kind == J_STRING && key->kind == KIND_SIZE)
        return apply_number_text(cfg, key, item->str, item->str_len, source);
      if (item->kind != J_NUMBER)
        return invalid("%s: key \"%s\": expected %s (a number%s), got %s", source, key->name,
                       key->meaning, key->kind == KIND_SIZE ? " or a size string" : "",
                       _brt_config_json_kind(item));
      uint64_t value = 0;
      uint_read read = read_uint(item->num, item->num_len, &value);
      if (read == UINT_OVERFLOW) return out_of_range_text(key, item->num, item->num_len, source);
      if (read != UINT_OK)
        return invalid("%s: key \"%s\": %s is not valid; expected %s (a whole number: %s%s)",
                       source, key->name, shown(item->num, item->num_len, buf, sizeof buf),
                       key->meaning, WHOLE_RULE,
                       key->kind == KIND_SIZE ? "; or a size string such as \"512MiB\"" : "");
      return store_u64(cfg, key, value, source);
    }
    case KIND_BOOL:
      if (item->kind != J_TRUE && item->kind != J_FALSE)
        return invalid("%s: key \"%s\": expected true or false, got %s", source, key->name,
                       _brt_config_json_kind(item));
      *(bool *)field_at(cfg, key) = item->kind == J_TRUE;
      return BRT_OK;
    case KIND_FRACTION: {
      double value;
      if (item->kind != J_NUMBER)
        return invalid("%s: key \"%s\": expected %s, got %s", source, key->name, key->meaning,
                       _brt_config_json_kind(item));
      if (!parse_fraction_text(item->num, item->num_len, &value))
        return invalid("%s: key \"%s\": %s cannot be read as a number; expected %s", source,
                       key->name, shown(item->num, item->num_len, buf, sizeof buf), key->meaning);
      brt_status status = check_fraction(key, value, source);
      if (status == BRT_OK) *(double *)field_at(cfg, key) = value;
      return status;
    }
    case KIND_NAMED:
      if (item->kind != J_STRING ||
          !parse_named_text(key, item->str, item->str_len, field_at(cfg, key)))
        return invalid("%s: key \"%s\": expected %s, got %s%s%s", source, key->name, key->meaning,
                       item->kind == J_STRING ? "\"" : _brt_config_json_kind(item),
                       item->kind == J_STRING ? shown(item->str, item->str_len, buf, sizeof buf) : "",
                       item->kind == J_STRING ? "\"" : "");
      return BRT_OK;
    case KIND_PATHS: {
      if (item->kind != J_ARRAY)
        return invalid("%s: key \"plugin_dirs\": expected an array of directory paths, got %s",
                       source, _brt_config_json_kind(item));
      paths_free(cfg->plugin_dirs, cfg->plugin_dir_count); /* a file replaces the list */
      cfg->plugin_dirs = NULL;
      cfg->plugin_dir_count = 0;
      int index = 0;
      for (const jvalue *entry = item->child; entry; entry = entry->next, index++) {
        char where[256];
        snprintf(where, sizeof where, "%s: key \"plugin_dirs[%d]\"", source, index);
        if (entry->kind != J_STRING)
          return invalid("%s: expected a directory path (a string), got %s", where,
                         _brt_config_json_kind(entry));
        if (memchr(entry->str, '\0', entry->str_len))
          return invalid("%s: \"%s\" has a NUL character (\\u0000) in it, which no path can have",
                         where, shown(entry->str, entry->str_len, buf, sizeof buf));
        brt_status status = paths_append(cfg, entry->str, where);
        if (status != BRT_OK) return status;
      }
      return BRT_OK;
    }
  }
  return brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "config: key kind %d unhandled",
                       (int)key->kind);
}

/* The key called `name` (len bytes: a name with a NUL in it is no key). */
static const config_key *key_named(const char *name, size_t len) {
  for (int i = 0; i < CONFIG_KEY_COUNT; i++)
    if (strlen(config_keys[i].name) == len && memcmp(config_keys[i].name, name, len) == 0)
      return &config_keys[i];
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
static brt_status apply_json_object(brt_config *work, const jvalue *root, const char *source) {
  if (root->kind != J_OBJECT)
    return invalid("%s: the configuration must be one JSON object, got %s", source,
                   _brt_config_json_kind(root));
  char buf[SHOWN_MAX];
  for (const jvalue *item = root->child; item; item = item->next) {
    for (const jvalue *other = root->child; other != item; other = other->next)
      if (other->key_len == item->key_len && memcmp(other->key, item->key, item->key_len) == 0)
        return invalid("%s: key \"%s\" appears twice", source,
                       shown(item->key, item->key_len, buf, sizeof buf));
    const config_key *key = key_named(item->key, item->key_len);
    if (!key) {
      char known[512] = "";
      for (int i = 0; i < CONFIG_KEY_COUNT; i++) {
        strncat(known, config_keys[i].name, sizeof known - strlen(known) - 1);
        if (i + 1 < CONFIG_KEY_COUNT) strncat(known, ", ", sizeof known - strlen(known) - 1);
      }
      return invalid("%s: unknown key \"%s\"; the known keys are: %s", source,
                     shown(item->key, item->key_len, buf, sizeof buf), known);
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
  jvalue *root = NULL;
  brt_status status = _brt_config_json_read(job->text, job->len, job->source, &root);
  if (status != BRT_OK) return status;
  status = apply_json_object(work, root, job->source);
  _brt_config_jvalue_free(root);
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

/* An error about the config file at `path`, which it names (message and
 * the error's path). */
static brt_status file_error(brt_status code, int os_code, const char *path, const char *fmt, ...)
    BRT_PRINTF(4, 5);
static brt_status file_error(brt_status code, int os_code, const char *path, const char *fmt, ...) {
  char what[256];
  va_list args;
  va_start(args, fmt);
  vsnprintf(what, sizeof what, fmt, args);
  va_end(args);
  char message[PATH_MAX + 320];
  snprintf(message, sizeof message, "config file %s: %s", path, what);
  brt_error_info info = {.struct_size = sizeof info, .code = code,
                         .origin = os_code ? BRT_ORIGIN_OS : BRT_ORIGIN_C, .message = message,
                         .os_code = os_code, .os_category = os_code ? "generic" : NULL,
                         .path1 = path};
  brt_error_record(&info);
  return code;
}

static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "is a socket";
  if (S_ISCHR(mode)) return "is a character device";
  if (S_ISBLK(mode)) return "is a block device";
  return "is of an unknown kind";
}

brt_status brt_config_load_json(const char *path, brt_config *cfg) {
  if (!config_usable(cfg, "brt_config_load_json")) return BRT_E_INVALID_ARGUMENT;
  if (!path || !*path) return invalid("brt_config_load_json: path is %s", path ? "empty" : "NULL");
  /* O_NONBLOCK: opening a FIFO for reading would wait for a writer, for
   * ever; it is refused below like every file that is not a regular one.
   * O_NOCTTY: a terminal named by mistake does not become ours. (On a
   * regular file O_NONBLOCK changes nothing.) */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    return file_error(err == ENOENT ? BRT_E_NOT_FOUND : BRT_E_IO, err, path,
                      "cannot open it: %s", strerror(err));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return file_error(BRT_E_IO, err, path, "cannot stat it: %s", strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return file_error(BRT_E_IO, S_ISDIR(st.st_mode) ? EISDIR : EINVAL, path,
                      "%s, not a regular file; a configuration is a JSON file",
                      file_kind(st.st_mode));
  }
  if ((uint64_t)st.st_size > CONFIG_FILE_MAX) {
    close(fd);
    return file_error(BRT_E_LIMIT_EXCEEDED, 0, path,
                      "%lld bytes is more than the %u a config may have", (long long)st.st_size,
                      CONFIG_FILE_MAX);
  }
  char *text = malloc((size_t)st.st_size + 1);
  if (!text) {
    close(fd);
    return file_error(BRT_E_OUT_OF_MEMORY, 0, path, "out of memory");
  }
  size_t length = 0;
  while (length < (size_t)st.st_size) {
    ssize_t n = read(fd, text + length, (size_t)st.st_size - length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = n < 0 ? errno : EIO;
      free(text);
      close(fd);
      return file_error(BRT_E_IO, saved, path, "read failed: %s",
                        n < 0 ? strerror(saved) : "the file is shorter than its size");
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
  char buf[SHOWN_MAX];
  size_t len = strlen(text);
  switch (key->kind) {
    case KIND_SIZE:
    case KIND_U32: {
      uint64_t value = 0;
      bool overflow, ok;
      if (key->kind == KIND_SIZE) {
        size_read read = parse_size_text(text, len, &value);
        ok = read == SIZE_OK;
        overflow = read == SIZE_OVERFLOW;
      } else {
        uint_read read = read_uint(text, len, &value);
        ok = read == UINT_OK;
        overflow = read == UINT_OVERFLOW;
      }
      if (overflow)
        return invalid("%s: \"%s\" is out of range; expected %s between %llu and %llu", source,
                       shown(text, len, buf, sizeof buf), key->meaning,
                       (unsigned long long)key->min, (unsigned long long)key->max);
      if (!ok)
        return invalid("%s: \"%s\" is not valid; expected %s (%s)", source,
                       shown(text, len, buf, sizeof buf), key->meaning,
                       key->kind == KIND_SIZE ? SIZE_RULE : "a whole number: " WHOLE_RULE);
      return store_u64(cfg, key, value, source);
    }
    case KIND_BOOL:
      if (!parse_bool_text(text, (bool *)field_at(cfg, key)))
        return invalid("%s: \"%s\" is not valid; expected 1/0, true/false, yes/no or on/off",
                       source, shown(text, len, buf, sizeof buf));
      return BRT_OK;
    case KIND_FRACTION: {
      double value;
      if (!parse_fraction_text(text, len, &value))
        return invalid("%s: \"%s\" is not a number; expected %s (written as in JSON, e.g. 0.5)",
                       source, shown(text, len, buf, sizeof buf), key->meaning);
      brt_status status = check_fraction(key, value, source);
      if (status == BRT_OK) *(double *)field_at(cfg, key) = value;
      return status;
    }
    case KIND_NAMED:
      if (!parse_named_text(key, text, len, field_at(cfg, key)))
        return invalid("%s: \"%s\" is not valid; expected %s", source,
                       shown(text, len, buf, sizeof buf), key->meaning);
      return BRT_OK;
    case KIND_PATHS: {
      paths_free(cfg->plugin_dirs, cfg->plugin_dir_count);
      cfg->plugin_dirs = NULL;
      cfg->plugin_dir_count = 0;
      const char *start = text;
      while (*start) { /* colon-separated; empty entries are skipped like PATH's */
        const char *colon = strchr(start, ':');
        size_t part = colon ? (size_t)(colon - start) : strlen(start);
        if (part > 0) {
          if (part >= PATH_MAX) return check_path(start, source);
          char dir[PATH_MAX];
          memcpy(dir, start, part);
          dir[part] = '\0';
          brt_status status = paths_append(cfg, dir, source);
          if (status != BRT_OK) return status;
        }
        start += part + (colon ? 1 : 0);
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
