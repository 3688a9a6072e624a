/* Numbers: exact JSON number parsing and round-trip formatting.
 *
 * Parsing: integers are accumulated exactly in 64 bits (overflow is an
 * error, never a rounding). Floats take Clinger's fast path when the
 * decimal significand has at most 15 digits... more precisely when it is
 * below 2^53 and the power of ten is at most 22: both operands are then
 * exact doubles and one IEEE multiplication or division rounds correctly.
 * Everything else goes to strtod_l in the "C" locale, which is correctly
 * rounded in glibc. Formatting: the 17 significant digits of %.16e
 * (which always round-trip), shortened to 16 or 15 digits when that
 * rounding parses back to the same bits. */
#include "internal.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void) { c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0); }

static locale_t numeric_locale(void) {
  pthread_once(&c_locale_once, c_locale_init);
  return c_locale;
}

static const double exact_powers_of_ten[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                             1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                             1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* strtod_l on a copy, because `text` is not NUL-terminated. */
static double slow_parse(const char *text, size_t len) {
  char local[64];
  char *copy = len < sizeof local ? local : malloc(len + 1);
  if (!copy) return NAN; /* the caller reports it as a conversion failure */
  memcpy(copy, text, len);
  copy[len] = '\0';
  locale_t locale = numeric_locale();
  double value = locale ? strtod_l(copy, NULL, locale) : strtod(copy, NULL);
  if (copy != local) free(copy);
  return value;
}

bool _brt_number_parse(const char *text, size_t len, bool *is_integer, int64_t *integer,
                       double *number) {
  const char *p = text, *end = text + len;
  bool negative = *p == '-';
  if (negative) p++;
  uint64_t significand = 0;
  int digits = 0;          /* significant digits accumulated */
  int dropped = 0;         /* integer digits beyond 19 */
  const char *start = p;
  while (p < end && *p >= '0' && *p <= '9') {
    if (digits < 19) {
      significand = significand * 10 + (uint64_t)(*p - '0');
      if (significand) digits++;
    } else {
      dropped++;
    }
    p++;
  }
  if (p == end) { /* an integer literal */
    *is_integer = true;
    if (dropped || (digits == 19 && p - start > 19)) return false;
    /* up to 19 digits always fit in u64; check the i64 range exactly */
    if (negative ? significand > UINT64_C(9223372036854775808) : significand > INT64_MAX) return false;
    *integer = negative ? (int64_t)(0 - significand) : (int64_t)significand;
    return true;
  }
  *is_integer = false;
  int exponent = dropped;
  if (*p == '.') {
    p++;
    while (p < end && *p >= '0' && *p <= '9') {
      if (digits < 19) {
        significand = significand * 10 + (uint64_t)(*p - '0');
        if (significand) digits++;
        exponent--;
      } else if (*p != '0') {
        dropped = 1; /* a non-zero digit beyond our precision: slow path */
      }
      p++;
    }
  }
  if (p < end) { /* exponent part */
    p++;
    bool exponent_negative = *p == '-';
    if (*p == '-' || *p == '+') p++;
    int explicit_exponent = 0;
    while (p < end) {
      if (explicit_exponent < 100000) explicit_exponent = explicit_exponent * 10 + (*p - '0');
      p++;
    }
    exponent += exponent_negative ? -explicit_exponent : explicit_exponent;
  }
  double value;
  if (!dropped && significand < (UINT64_C(1) << 53) && exponent >= -22 && exponent <= 22) {
    value = (double)significand;
    value = exponent < 0 ? value / exact_powers_of_ten[-exponent] : value * exact_powers_of_ten[exponent];
    if (negative) value = -value;
  } else if (significand == 0 && !dropped) {
    value = negative ? -0.0 : 0.0;
  } else {
    value = slow_parse(text, len);
  }
  if (isinf(value) || isnan(value)) return false;
  *number = value;
  return true;
}

/* --- Formatting --------------------------------------------------------------- */

static bool looks_like_integer(const char *text, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (text[i] == '.' || text[i] == 'e' || text[i] == 'E' || text[i] == 'n' || text[i] == 'i')
      return false;
  return true;
}

static bool parses_back(const char *text, size_t len, double expected) {
  bool is_integer;
  int64_t integer;
  double parsed;
  if (!_brt_number_parse(text, len, &is_integer, &integer, &parsed)) return false;
  if (is_integer) parsed = (double)integer;
  return memcmp(&parsed, &expected, sizeof parsed) == 0;
}

static size_t finish_float_text(char *out, size_t len) {
  if (looks_like_integer(out, len)) {
    memcpy(out + len, ".0", 3);
    len += 2;
  }
  return len;
}

/* Writes `count` significant digits (no trailing zeros) with the decimal
 * exponent `exponent` (value = d.ddd x 10^exponent) the way %g would:
 * positional between 1e-5 and 1e17, scientific outside. */
static size_t write_decimal(bool negative, const char *digits, int count, int exponent, char *out) {
  size_t len = 0;
  if (negative) out[len++] = '-';
  if (exponent >= -5 && exponent < 17) {
    if (exponent < 0) {
      out[len++] = '0';
      out[len++] = '.';
      for (int i = -1; i > exponent; i--) out[len++] = '0';
      memcpy(out + len, digits, (size_t)count);
      len += (size_t)count;
    } else {
      for (int i = 0; i <= exponent; i++) out[len++] = i < count ? digits[i] : '0';
      if (count > exponent + 1) {
        out[len++] = '.';
        memcpy(out + len, digits + exponent + 1, (size_t)(count - exponent - 1));
        len += (size_t)(count - exponent - 1);
      }
    }
  } else {
    out[len++] = digits[0];
    if (count > 1) {
      out[len++] = '.';
      memcpy(out + len, digits + 1, (size_t)(count - 1));
      len += (size_t)(count - 1);
    }
    len += (size_t)sprintf(out + len, "e%c%02d", exponent < 0 ? '-' : '+', exponent < 0 ? -exponent : exponent);
  }
  out[len] = '\0';
  return len;
}

/* Rounds the 17 digits to `count` (half up on the decimal string) into
 * `rounded`; returns the exponent, one higher when the rounding carries
 * out (9.99.. -> 10.0). Trailing zeros are dropped from *kept. */
static int round_digits(const char *digits, int count, int exponent, char *rounded, int *kept) {
  memcpy(rounded, digits, (size_t)count);
  if (digits[count] >= '5') {
    int i = count - 1;
    while (i >= 0 && rounded[i] == '9') rounded[i--] = '0';
    if (i < 0) {
      rounded[0] = '1';
      exponent++;
    } else {
      rounded[i]++;
    }
  }
  while (count > 1 && rounded[count - 1] == '0') count--;
  *kept = count;
  return exponent;
}

/* Cost: one snprintf("%.16e") for the 17 significant digits, which always
 * round-trip, then a parse of the 15- and maybe the 16-digit rounding of
 * them; a parse of at most 16 digits and a small exponent takes the exact
 * fast path of _brt_number_parse (one multiply or divide). The shorter
 * form is kept only when it parses back to the same bits, so the result
 * always round-trips through our reader (and any correctly rounding one). */
size_t _brt_format_double(double number, char *out) {
  if (!isfinite(number)) /* never printed as JSON: messages and debug text only */
    return (size_t)sprintf(out, "%s", isnan(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
  /* Integral values below 2^53 print exactly as integers: the common case
   * of counts and grid coordinates costs one integer conversion. */
  if (number == trunc(number) && fabs(number) < 9007199254740992.0 && !(number == 0 && signbit(number))) {
    size_t len = _brt_format_int((int64_t)number, out);
    return finish_float_text(out, len);
  }
  char scientific[40];
  locale_t locale = numeric_locale();
  locale_t previous = locale ? uselocale(locale) : (locale_t)0;
  snprintf(scientific, sizeof scientific, "%.16e", number); /* [-]d.dddddddddddddddde[+-]XX */
  if (locale) uselocale(previous);
  bool negative = scientific[0] == '-';
  const char *mantissa = scientific + negative;
  char digits[18];
  digits[0] = mantissa[0];
  memcpy(digits + 1, mantissa + 2, 16);
  digits[17] = '\0';
  int exponent = atoi(mantissa + 19);
  char rounded[18], candidate[40];
  for (int count = 15; count <= 16; count++) {
    int kept;
    int rounded_exponent = round_digits(digits, count, exponent, rounded, &kept);
    size_t len = 0;
    if (negative) candidate[len++] = '-';
    candidate[len++] = rounded[0];
    candidate[len++] = '.';
    candidate[len++] = '0'; /* keeps "d.0" valid when one digit is kept */
    if (kept > 1) {
      len--;
      memcpy(candidate + len, rounded + 1, (size_t)(kept - 1));
      len += (size_t)(kept - 1);
    }
    len += (size_t)sprintf(candidate + len, "e%d", rounded_exponent);
    if (parses_back(candidate, len, number))
      return finish_float_text(out, write_decimal(negative, rounded, kept, rounded_exponent, out));
  }
  int kept = 17;
  while (kept > 1 && digits[kept - 1] == '0') kept--;
  return finish_float_text(out, write_decimal(negative, digits, kept, exponent, out));
}

size_t _brt_format_float(float number, char *out) {
  locale_t locale = numeric_locale();
  locale_t previous = locale ? uselocale(locale) : (locale_t)0;
  int len = 0;
  for (int precision = 7; precision <= 9; precision++) {
    len = snprintf(out, 32, "%.*g", precision, (double)number);
    if (precision == 9) break;
    /* Checked the way our reader reads an f32 element (decimal -> double ->
     * float), so the round trip holds even where double rounding differs
     * from strtof. */
    bool is_integer;
    int64_t integer;
    double wide;
    if (!_brt_number_parse(out, (size_t)len, &is_integer, &integer, &wide)) continue;
    float back = is_integer ? (float)integer : (float)wide;
    if (memcmp(&back, &number, sizeof back) == 0) break;
  }
  if (locale) uselocale(previous);
  return finish_float_text(out, (size_t)len);
}

size_t _brt_format_int(int64_t number, char *out) {
  char reversed[24];
  size_t count = 0;
  uint64_t magnitude = number < 0 ? 0 - (uint64_t)number : (uint64_t)number;
  do {
    reversed[count++] = (char)('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude);
  size_t len = 0;
  if (number < 0) out[len++] = '-';
  while (count) out[len++] = reversed[--count];
  out[len] = '\0';
  return len;
}
