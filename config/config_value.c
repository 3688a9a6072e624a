/* Configuration: reading single values and storing them in a key's field.
 *
 * Every source (JSON numbers, JSON strings, environment variables) goes
 * through the same readers, which work on (text, length) so that a NUL
 * inside a value is seen rather than ending it. No value passes through a
 * double except fractions, and nothing is skipped: no white space, no
 * sign, no other base. A value is stored only after its range check. */
#include "bridgert/config.h"
#include "internal.h"
#include "bridgert/error.h"
#include "core/utf8.h"

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The one reader of whole numbers: decimal digits only — no sign (not even
 * '+'), no white space, no fraction, exponent or hex, no leading zero (010
 * is ten to some readers and eight to others) — read exactly into 64 bits,
 * larger values refused. */
uint_read _brt_config_read_uint(const char *text, size_t len, uint64_t *out) {
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
size_read _brt_config_parse_size_text(const char *text, size_t len, uint64_t *out) {
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
    uint_read read = _brt_config_read_uint(text, len, out);
    return read == UINT_OK ? SIZE_OK : read == UINT_OVERFLOW ? SIZE_OVERFLOW : SIZE_BAD;
  }
  uint64_t factor = 0;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strlen(units[i].suffix) == len - at && memcmp(units[i].suffix, text + at, len - at) == 0)
      factor = units[i].factor;
  if (!factor) return SIZE_BAD;
  uint_read read = _brt_config_read_uint(text, digits, &whole);
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
bool _brt_config_parse_fraction_text(const char *text, size_t len, double *out) {
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

bool _brt_config_parse_bool_text(const char *text, bool *out) {
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
bool _brt_config_parse_named_text(const config_key *key, const char *text, size_t len,
                                  void *field) {
  _Static_assert(
      sizeof(brt_tracking) == sizeof(unsigned) && sizeof(brt_isolation) == sizeof(unsigned),
      "KIND_NAMED fields are stored as unsigned");
  for (unsigned i = 0; i < key->name_count; i++)
    if (strlen(key->names[i]) == len && memcmp(text, key->names[i], len) == 0)
      return memcpy(field, &i, sizeof i), true;
  return false;
}

void *_brt_config_field_at(brt_config *cfg, const config_key *key) {
  return (char *)cfg + key->offset;
}

/* `text` (len bytes) as it can be shown inside quotes in a message: '"'
 * and '\' escaped, control characters and NUL as \u00XX, bytes that are
 * not UTF-8 as \xXX; cut with "..." past about 80 bytes. Returns buf. */
const char *_brt_config_shown(const char *text, size_t len, char *buf, size_t size) {
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

/* Range checks shared by every source. `source` and `name` go into messages. */
brt_status _brt_config_check_u64_range(const config_key *key, uint64_t value, const char *source) {
  if (value < key->min || value > key->max)
    return _brt_config_invalid(
        "%s: key \"%s\": %llu is out of range; expected %s between %llu and %llu", source,
        key->name, (unsigned long long)value, key->meaning, (unsigned long long)key->min,
        (unsigned long long)key->max);
  return BRT_OK;
}

/* A number too large for 64 bits, as written. */
brt_status _brt_config_out_of_range_text(const config_key *key, const char *text, size_t len,
                                         const char *source) {
  char buf[SHOWN_MAX];
  return _brt_config_invalid(
      "%s: key \"%s\": %s is out of range; expected %s between %llu and %llu", source, key->name,
      _brt_config_shown(text, len, buf, sizeof buf), key->meaning, (unsigned long long)key->min,
      (unsigned long long)key->max);
}

brt_status _brt_config_check_fraction(const config_key *key, double value, const char *source) {
  if (!(value > 0.0 && value <= 1.0))
    return _brt_config_invalid("%s: key \"%s\": %g is out of range; expected %s", source, key->name,
                               value, key->meaning);
  return BRT_OK;
}

brt_status _brt_config_store_u64(brt_config *cfg, const config_key *key, uint64_t value,
                                 const char *source) {
  brt_status status = _brt_config_check_u64_range(key, value, source);
  if (status != BRT_OK) return status;
  if (key->kind == KIND_SIZE)
    *(uint64_t *)_brt_config_field_at(cfg, key) = value;
  else
    *(uint32_t *)_brt_config_field_at(cfg, key) = (uint32_t)value;
  return BRT_OK;
}

/* A whole-number or size key from text (a JSON string, an environment
 * variable): `quoted` puts the text in quotes in messages. */
brt_status _brt_config_apply_number_text(brt_config *cfg, const config_key *key, const char *text,
                                         size_t len, const char *source) {
  char buf[SHOWN_MAX];
  uint64_t value = 0;
  /* Sizes take a unit suffix, whole numbers do not; both are refused alike. */
  bool overflow, ok;
  const char *what, *rule;
  if (key->kind == KIND_SIZE) {
    size_read read = _brt_config_parse_size_text(text, len, &value);
    overflow = read == SIZE_OVERFLOW, ok = read == SIZE_OK;
    what = "a size", rule = SIZE_RULE;
  } else {
    uint_read read = _brt_config_read_uint(text, len, &value);
    overflow = read == UINT_OVERFLOW, ok = read == UINT_OK;
    what = "a whole number", rule = WHOLE_RULE;
  }
  if (overflow)
    return _brt_config_invalid(
        "%s: key \"%s\": \"%s\" is out of range; expected %s between %llu and %llu", source,
        key->name, _brt_config_shown(text, len, buf, sizeof buf), key->meaning,
        (unsigned long long)key->min, (unsigned long long)key->max);
  if (!ok)
    return _brt_config_invalid("%s: key \"%s\": \"%s\" is not %s; expected %s (%s)", source,
                               key->name, _brt_config_shown(text, len, buf, sizeof buf), what,
                               key->meaning, rule);
  return _brt_config_store_u64(cfg, key, value, source);
}
