/* Decimal <-> binary64 through two well-kept implementations, behind a C
 * interface for number.c (docs/values.md, "Numbers: why fast_float and
 * std::to_chars").
 *
 * Reading: fast_float::from_chars (Debian's libfast-float-dev, header only),
 * which is Eisel-Lemire with a fallback to exact big-integer comparison, so
 * it is correctly rounded (round half to even) for every input, like glibc's
 * strtod, without a NUL-terminated copy or a locale. number.c calls it only
 * for numbers that miss Clinger's exact path, and only on text that already
 * matched the JSON number grammar.
 *
 * Writing: std::to_chars without a precision, which C++17 defines as the
 * shortest text that reads back to the same value (the closest one on a
 * tie). Nothing here throws or allocates. */
#include <fast_float/fast_float.h>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <system_error>

#include "core/compiler.h"

extern "C" {
bool _brt_decimal_to_double(const char *text, size_t len, double *out);
bool _brt_decimal_parts_to_double(bool negative, uint64_t significand, int64_t exponent, double *out);
size_t _brt_shortest_scientific(double number, char *out);
size_t _brt_shortest_fixed(double number, char *out);
size_t _brt_format_double(double number, char *out);
size_t _brt_format_double_rare(double number, char *out);
size_t _brt_format_int(int64_t number, char *out);
size_t _brt_format_double_run(const unsigned char *at, ptrdiff_t step, size_t count, bool comma, char **out);
}

/* false only when the text is not a number (the caller checked the
 * grammar, so never in practice); overflow gives an infinity, underflow a
 * correctly rounded 0 or subnormal, as strtod does. */
bool _brt_decimal_to_double(const char *text, size_t len, double *out) {
  double value = 0;
  fast_float::from_chars_result result = fast_float::from_chars(text, text + len, value);
  if (BRT_UNLIKELY(result.ec != std::errc() || result.ptr != text + len)) return false;
  *out = value;
  return true;
}

/* Eisel-Lemire on parts the caller scanned (fast_float::compute_float,
 * the step from_chars takes after its own scan): false when the 128-bit
 * product cannot decide the rounding (a near-halfway case, rare), and the
 * caller then reads the text with _brt_decimal_to_double. An exponent far
 * out of range gives 0 or an infinity, as from_chars does. */
bool _brt_decimal_parts_to_double(bool negative, uint64_t significand, int64_t exponent, double *out) {
  fast_float::adjusted_mantissa am =
      fast_float::compute_float<fast_float::binary_format<double>>(exponent, significand);
  if (BRT_UNLIKELY(am.power2 < 0)) return false;
  fast_float::to_float(negative, am, *out);
  return true;
}

/* The shortest round-trip digits as "d[.ddd]e[+-]XX"; `out` holds 32
 * bytes, which the longest such text (24 bytes) fits. */
size_t _brt_shortest_scientific(double number, char *out) {
  std::to_chars_result result = std::to_chars(out, out + 32, number, std::chars_format::scientific);
  return (size_t)(result.ptr - out);
}

/* The shortest round-trip text in positional notation. The caller calls it
 * for 1e-5 <= |number| < 2^53 only, where every representable number has
 * a fractional part or is an integer of at most 16 digits, so the shortest
 * positional text has the shortest significant digits and fits 32 bytes
 * ("-0.0000" and 17 digits at most). */
size_t _brt_shortest_fixed(double number, char *out) {
  std::to_chars_result result = std::to_chars(out, out + 32, number, std::chars_format::fixed);
  return (size_t)(result.ptr - out);
}

/* The printer's common case, kept next to to_chars so that it is one call
 * per element, as for a program calling to_chars itself: a finite value
 * with a fractional part and 0.01 <= |number| < 2^53. There the shortest
 * round-trip digits have exponent E in [-2, 15] and n > E + 1 digits, so
 * the positional text (n + 1 characters, n + 1 - E for E < 0) is shorter
 * than the scientific one (at least n + 5, or 5 for a single digit), and
 * to_chars without a format writes exactly its fixed form: no format
 * choice, no scan and no copy here. Integral values below 2^53 print
 * through the integer printer plus ".0" (the converter's form for a float
 * that is whole); everything else (0, -0, tiny, huge, NaN, infinities) is
 * _brt_format_double_rare's. `out` holds 32 bytes; the text is
 * NUL-terminated. */
size_t _brt_format_double(double number, char *out) {
  double magnitude = number < 0 ? -number : number; /* NaN: false below */
  if (BRT_LIKELY(magnitude < 9007199254740992.0)) {
    int64_t whole = (int64_t)number;
    if (BRT_LIKELY((double)whole != number)) {
      if (BRT_LIKELY(magnitude >= 0.01)) {
        char *end = std::to_chars(out, out + 32, number).ptr;
        *end = '\0';
        return (size_t)(end - out);
      }
    } else if (whole != 0) {
      size_t len = _brt_format_int(whole, out);
      std::memcpy(out + len, ".0", 3);
      return len + 2;
    }
  }
  return _brt_format_double_rare(number, out);
}

/* A row of a tensor: prints up to `count` doubles read from `at` (`step`
 * bytes apart), each but the first preceded by ',' (the first too when
 * `comma`), into *out, which has room for 33 bytes per element, and stops
 * before the first non-finite one, which the caller prints (or refuses).
 * Returns how many it printed and advances *out. The loop lives here so
 * that the common element costs the to_chars call alone. */
size_t _brt_format_double_run(const unsigned char *at, ptrdiff_t step, size_t count, bool comma, char **out) {
  char *text = *out;
  size_t i = 0;
  for (; i < count; i++, at += step) {
    double number;
    std::memcpy(&number, at, sizeof number);
    double magnitude = number < 0 ? -number : number;
    if (BRT_UNLIKELY(!(magnitude <= 1.7976931348623157e308))) break; /* NaN, infinities */
    if (i || comma) *text++ = ',';
    text += _brt_format_double(number, text);
  }
  *out = text;
  return i;
}
