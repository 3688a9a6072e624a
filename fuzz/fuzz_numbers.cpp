/* libFuzzer target: numbers, differential against the C and C++ libraries.
 *
 * The first byte picks the mode; the rest is its input.
 * - text: the bytes are a JSON text. When bridgert reads it as a float, the
 *   bits must be strtod's; as an integer, strtoll's (without overflow);
 *   refused as OUT_OF_RANGE, strtod must overflow or the integer must not
 *   fit in i64.
 * - built: the bytes build a number that always matches the grammar (a
 *   long or short mantissa, a point anywhere, an exponent anywhere), which
 *   reaches the fast paths far more often than raw text; checked as above.
 * - bits: 8 bytes are a double. Printed by bridgert, it must read back to
 *   the same bits (strtod) with as few significant digits as
 *   std::to_chars's shortest text, and read by bridgert back, the same
 *   bits again. */
#include <bridgert.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

/* The JSON number at `at`: -?digits(.digits)?([eE][+-]?digits)? as far as
 * it goes (the reader refused anything else before its value). */
static std::string number_token(const std::string &text, size_t at) {
  size_t end = at;
  auto digits = [&] {
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') end++;
  };
  if (end < text.size() && text[end] == '-') end++;
  digits();
  if (end < text.size() && text[end] == '.') {
    end++;
    digits();
  }
  if (end < text.size() && (text[end] == 'e' || text[end] == 'E')) {
    end++;
    if (end < text.size() && (text[end] == '+' || text[end] == '-')) end++;
    digits();
  }
  return text.substr(at, end - at);
}

/* The text is NUL-terminated and is the whole input. */
static void check_text(const std::string &text) {
  brt_value *value = brt_value_from_json(text.data(), text.size(), 0);
  if (!value) {
    if (brt_error_code(brt_last_error()) == BRT_E_OUT_OF_RANGE) {
      /* The number is read before what follows it is looked at: the
       * verdict is about the first token (after JSON whitespace). */
      size_t first = text.find_first_not_of(" \t\r\n");
      if (first == std::string::npos) abort();
      std::string token = number_token(text, first);
      if (token.empty() || token == "-") {
        /* a number inside an array or object: not this mode's concern */
      } else if (token.find_first_of(".eE") != std::string::npos) {
        if (!std::isinf(std::strtod(token.c_str(), nullptr))) abort();
      } else {
        errno = 0;
        (void)std::strtoll(token.c_str(), nullptr, 10);
        if (errno != ERANGE) abort();
      }
    }
    brt_error_clear();
    return;
  }
  if (brt_value_kind(value) == BRT_KIND_FLOAT) {
    double got = 0;
    if (brt_value_get_float(value, &got) != BRT_OK) abort();
    if (!same_bits(got, std::strtod(text.c_str(), nullptr))) abort();
  } else if (brt_value_kind(value) == BRT_KIND_INT) {
    int64_t got = 0;
    if (brt_value_get_int(value, &got) != BRT_OK) abort();
    errno = 0;
    long long expected = std::strtoll(text.c_str(), nullptr, 10);
    if (errno || got != expected) abort();
  }
  brt_value_release(value);
}

static void check_built(const uint8_t *data, size_t size) {
  if (size < 3) return;
  std::string text;
  if (data[0] & 1) text += '-';
  size_t digits = 1 + data[1] % 40, point = data[2] % (digits + 1);
  data += 3;
  size -= 3;
  for (size_t i = 0; i < digits; i++) {
    uint8_t byte = i < size ? data[i] : 0;
    text += (char)('0' + (i == 0 && digits > 1 && point != 1 ? 1 + byte % 9 : byte % 10));
    if (i + 1 == point && i + 1 < digits) text += '.';
  }
  if (text.back() == '.') text.pop_back();
  if (size > digits) { /* an exponent from the next byte */
    int exponent = (int)(int8_t)data[digits] * 3;
    text += 'e' + std::to_string(exponent);
  }
  check_text(text);
}

static int significant_digits(const char *text, size_t len) {
  std::string digits;
  for (size_t i = 0; i < len && text[i] != 'e'; i++)
    if (text[i] >= '0' && text[i] <= '9') digits += text[i];
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return 1;
  size_t last = digits.find_last_not_of('0');
  return (int)(last - first + 1);
}

static void check_bits(const uint8_t *data, size_t size) {
  if (size < 8) return;
  double number;
  std::memcpy(&number, data, sizeof number);
  if (!std::isfinite(number)) return;
  brt_value *value = brt_value_float(number);
  char *text = brt_value_to_json(value, 0);
  if (!text) abort();
  if (!same_bits(std::strtod(text, nullptr), number)) abort();
  char shortest[64];
  std::to_chars_result result = std::to_chars(shortest, shortest + sizeof shortest, number);
  if (significant_digits(text, std::strlen(text)) > significant_digits(shortest, (size_t)(result.ptr - shortest)))
    abort();
  brt_value *again = brt_value_from_json(text, std::strlen(text), 0);
  double back = 0;
  if (!again || brt_value_get_float(again, &back) != BRT_OK || !same_bits(back, number)) abort();
  brt_value_release(again);
  brt_release(text);
  brt_value_release(value);
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  switch (data[0] % 3) {
  case 0: check_text(std::string((const char *)data + 1, size - 1)); break;
  case 1: check_built(data + 1, size - 1); break;
  default: check_bits(data + 1, size - 1); break;
  }
  return 0;
}
