/* Numbers: exact JSON number parsing and round-trip formatting.
 *
 * Parsing: integers are accumulated exactly in 64 bits (overflow is an
 * error, never a rounding). Floats take Clinger's fast path when the
 * decimal significand is below 2^53 and the power of ten is at most 22:
 * both operands are then exact doubles and one IEEE multiplication or
 * division rounds correctly. Everything else (17-digit doubles, long
 * mantissas, large exponents) goes to fast_float (decimal.cpp), which is
 * correctly rounded and needs neither a NUL-terminated copy nor a locale.
 *
 * Formatting: the shortest text that reads back to the same bits, from
 * std::to_chars (decimal.cpp), laid out the way %g would: positional
 * between 1e-5 and 1e17, scientific outside, always with a '.' or an
 * exponent so that a float reads back as a float. */
#include "internal.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* decimal.cpp: the C interface of fast_float and std::to_chars. */
bool _brt_decimal_to_double(const char *text, size_t len, double *out);
bool _brt_decimal_parts_to_double(bool negative, uint64_t significand, int64_t exponent, double *out);
size_t _brt_shortest_scientific(double number, char *out);
size_t _brt_shortest_fixed(double number, char *out);
/* Here, for decimal.cpp's _brt_format_double: the values its common case
 * does not take. */
size_t _brt_format_double_rare(double number, char *out);

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
    if (!_brt_decimal_to_double(text, len, &value)) return false;
  }
  if (isinf(value) || isnan(value)) return false;
  *number = value;
  return true;
}

bool _brt_number_parse_float(const char *text, size_t len, double *number) {
  double value;
  if (BRT_UNLIKELY(!_brt_decimal_to_double(text, len, &value) || isinf(value))) return false;
  *number = value;
  return true;
}

bool _brt_number_from_parts(bool negative, uint64_t significand, int64_t exponent, const char *text,
                            size_t len, double *number) {
  double value;
  if (significand < (UINT64_C(1) << 53) && exponent >= -22 && exponent <= 22) { /* Clinger */
    value = (double)significand;
    value = exponent < 0 ? value / exact_powers_of_ten[-exponent] : value * exact_powers_of_ten[exponent];
    *number = negative ? -value : value;
    return true;
  }
  if (BRT_UNLIKELY(!_brt_decimal_parts_to_double(negative, significand, exponent, &value)))
    return _brt_number_parse_float(text, len, number);
  if (BRT_UNLIKELY(isinf(value))) return false;
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

/* Every double _brt_format_double (decimal.cpp) leaves to this: 0 and -0,
 * magnitudes below 0.01 or from 2^53, NaN and infinities. 0 prints as
 * "0.0"; in [1e-5, 0.01) the shortest digits' exponent is in [-5, -3], so
 * %g's layout is positional, which is what to_chars' fixed form writes
 * (with a '.', the value not being whole); the others get the digits and
 * exponent in scientific form, laid out by write_decimal. */
size_t _brt_format_double_rare(double number, char *out) {
  double magnitude = fabs(number);
  if (number == 0 && !signbit(number)) {
    memcpy(out, "0.0", 4);
    return 3;
  }
  if (magnitude >= 1e-5 && magnitude < 0.01) {
    size_t len = _brt_shortest_fixed(number, out);
    out[len] = '\0';
    return len;
  }
  if (!isfinite(number)) /* never printed as JSON: messages and debug text only */
    return (size_t)sprintf(out, "%s", isnan(number) ? "NaN" : number > 0 ? "Infinity" : "-Infinity");
  char scientific[32]; /* [-]d[.ddd]e[+-]XX[X] */
  size_t len = _brt_shortest_scientific(number, scientific);
  scientific[len] = '\0';
  bool negative = scientific[0] == '-';
  const char *mantissa = scientific + negative;
  char digits[18];
  int count = 0;
  const char *c = mantissa;
  for (; *c != 'e'; c++)
    if (*c != '.') digits[count++] = *c;
  int exponent = atoi(c + 1);
  return finish_float_text(out, write_decimal(negative, digits, count, exponent, out));
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
