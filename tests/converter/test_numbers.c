/* Numbers against the C library: every double the converter reads is the
 * one glibc's strtod (correctly rounded) gives for the same text, and every
 * double it prints is the shortest text that reads back to the same bits.
 *
 * The inputs, about three million, go through the public ABI in batches (a
 * JSON array read as an f64 tensor, the parse fast path) and one by one
 * (brt_value_from_json of a single number):
 * - random bit patterns of every exponent, printed with 1 to 17 digits and
 *   with 17 to 25 digits (past the 17 a double needs);
 * - the neighbourhood of halfway points between adjacent doubles (exact
 *   long double midpoints, printed with 17 to 40 digits and nudged by one
 *   unit of the last digit), the inputs a fast path most likely rounds wrong;
 * - subnormals and the boundaries of the range;
 * - mantissas of 19 to 40 digits with exponents anywhere;
 * - huge and tiny exponents (overflow is OUT_OF_RANGE, underflow gives 0). */
#include "brt_test.h"

#include <float.h>
#include <math.h>
#include <stdio.h>

enum { BATCH = 4096 };

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t next_random(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static double random_double(void) {
  for (;;) {
    uint64_t bits = next_random();
    double value;
    memcpy(&value, &bits, sizeof value);
    if (isfinite(value)) return value;
  }
}

/* A batch of number texts checked together: one tensor parse, then each
 * element against strtod. */
typedef struct batch {
  char *text;
  size_t len, cap;
  size_t count;
  double expected[BATCH];
  uint64_t checked;
} batch;

static void batch_flush(batch *b) {
  if (!b->count) return;
  b->text[b->len] = ']';
  brt_value *tensor = brt_value_from_json(b->text, b->len + 1, BRT_JSON_TENSORS);
  if (!tensor) fail_msg("batch parse: %s", brt_error_message(brt_last_error()));
  brt_tensor_info info = {.struct_size = sizeof info};
  assert_int_equal(brt_tensor_info_get(tensor, &info), BRT_OK);
  assert_int_equal(info.ndim, 1);
  assert_int_equal(info.shape[0], b->count);
  const double *data = brt_tensor_data(tensor);
  for (size_t i = 0; i < b->count; i++) {
    if (memcmp(&data[i], &b->expected[i], sizeof(double)) != 0) {
      /* find the text of element i for the message */
      const char *at = b->text + 1;
      for (size_t k = 0; k < i; k++) at = strchr(at, ',') + 1;
      const char *stop = strpbrk(at, ",]");
      fail_msg("%.*s read as %.17g, strtod gives %.17g", (int)(stop - at), at, data[i], b->expected[i]);
    }
  }
  brt_value_release(tensor);
  b->checked += b->count;
  b->count = 0;
  b->len = 0;
  b->text[b->len++] = '[';
}

/* Adds one float text (it must have a '.' or an exponent). Texts that
 * strtod rounds to an infinity are checked alone: they must be
 * OUT_OF_RANGE. */
static void check_text(batch *b, const char *text) {
  double expected = strtod(text, NULL);
  size_t len = strlen(text);
  if (isinf(expected)) {
    assert_null(brt_value_from_json(text, len, 0));
    assert_int_equal(brt_error_code(brt_last_error()), BRT_E_OUT_OF_RANGE);
    return;
  }
  if (b->len + len + 2 > b->cap) batch_flush(b);
  if (b->count) b->text[b->len++] = ',';
  memcpy(b->text + b->len, text, len);
  b->len += len;
  b->expected[b->count++] = expected;
  if (b->count == BATCH) batch_flush(b);
}

/* One in 64 texts also goes through the single-value path. */
static void check_single(const char *text) {
  double expected = strtod(text, NULL);
  brt_value *value = brt_value_from_json(text, strlen(text), 0);
  if (isinf(expected)) {
    assert_null(value);
    return;
  }
  if (!value) fail_msg("%s: %s", text, brt_error_message(brt_last_error()));
  double got;
  assert_int_equal(brt_value_get_float(value, &got), BRT_OK);
  if (memcmp(&got, &expected, sizeof got) != 0) fail_msg("%s read as %.17g, strtod gives %.17g", text, got, expected);
  brt_value_release(value);
}

static void check(batch *b, const char *text) {
  check_text(b, text);
  if ((next_random() & 63) == 0) check_single(text);
}

static void batch_init(batch *b) {
  memset(b, 0, sizeof *b);
  b->cap = (size_t)BATCH * 64;
  b->text = malloc(b->cap);
  assert_non_null(b->text);
  b->text[b->len++] = '[';
}

/* %.*e of `value` as text, with the exponent always present. */
static void print_e(char *out, size_t cap, int digits, double value) {
  snprintf(out, cap, "%.*e", digits - 1, value);
}

static void test_random_bits(void **state) {
  (void)state;
  batch b;
  batch_init(&b);
  char text[64];
  for (int i = 0; i < 700000; i++) {
    double value = random_double();
    print_e(text, sizeof text, 1 + (int)(next_random() % 17), value);
    check(&b, text);
    print_e(text, sizeof text, 17 + (int)(next_random() % 9), value);
    check(&b, text);
  }
  /* the magnitudes of real data, positional as JSON printers write them */
  for (int i = 0; i < 500000; i++) {
    double value = ((double)(next_random() >> 11) / 9007199254740992.0 * 2 - 1) * 1e3;
    snprintf(text, sizeof text, "%.*f", (int)(next_random() % 20) + 1, value);
    check(&b, text);
  }
  batch_flush(&b);
  print_message("random bits: %llu texts read as strtod reads them\n", (unsigned long long)b.checked);
  free(b.text);
}

static void test_halfway_and_long_mantissas(void **state) {
  (void)state;
  batch b;
  batch_init(&b);
  char text[128];
  for (int i = 0; i < 200000; i++) {
    double low = fabs(random_double());
    double high = nextafter(low, INFINITY);
    if (isinf(high)) continue;
    /* the exact midpoint: a long double has 11 more bits of significand */
    long double middle = ((long double)low + (long double)high) / 2;
    int digits = 17 + (int)(next_random() % 24);
    snprintf(text, sizeof text, "%.*Le", digits - 1, middle);
    check(&b, text);
    /* one unit of the last digit below and above */
    char *e = strchr(text, 'e');
    char *last = e - 1;
    if (*last > '0') {
      (*last)--;
      check(&b, text);
      (*last)++;
    }
    if (*last < '9') {
      (*last)++;
      check(&b, text);
    }
  }
  /* subnormals and the range's ends */
  for (int i = 0; i < 200000; i++) {
    uint64_t bits = next_random() & ((UINT64_C(1) << 52) - 1);
    double value;
    memcpy(&value, &bits, sizeof value);
    print_e(text, sizeof text, 1 + (int)(next_random() % 25), value);
    check(&b, text);
  }
  static const char *const edges[] = {
      "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324", "5e-324",
      "2.2250738585072011e-308", "2.2250738585072012e-308", "2.2250738585072014e-308",
      "1.7976931348623157e308",  "1.7976931348623158e308",  "1.7976931348623159e308",
      "9007199254740993.0",      "9007199254740992.5",      "0.1",  "1e23", "8.98846567431158e307",
      "1e-400", "1e400", "1e99999999999", "1e-99999999999", "0.0e99999", "-0.0", "123456789e-350",
      "0.000000000000000000000000000000000000000000001e300", "7.2057594037927933e16",
      /* integer parts whose digits wrap a 64-bit accumulator to 0 */
      "18446744073709551616.5", "18446744073709551616e0", "-36893488147419103232.0e-3",
      "9007199254740993000000000000000000000000000000000000000000000000000000000000e300",
  };
  for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) {
    check_text(&b, edges[i]);
    check_single(edges[i]);
  }
  /* 19 to 40 digit mantissas, the point anywhere, any exponent */
  for (int i = 0; i < 300000; i++) {
    int digits = 19 + (int)(next_random() % 22);
    size_t len = 0;
    if (next_random() & 1) text[len++] = '-';
    int point = (int)(next_random() % (uint64_t)digits);
    text[len++] = (char)('1' + next_random() % 9);
    for (int d = 1; d < digits; d++) {
      if (d == point) text[len++] = '.';
      text[len++] = (char)('0' + next_random() % 10);
    }
    snprintf(text + len, sizeof text - len, "e%d", (int)(next_random() % 660) - 345);
    check(&b, text);
  }
  batch_flush(&b);
  print_message("halfway, subnormal and long: %llu texts read as strtod reads them\n", (unsigned long long)b.checked);
  free(b.text);
}

/* Significant digits of a printed number: no sign, point, exponent, or
 * leading and trailing zeros. */
static int significant_digits(const char *text) {
  char digits[64];
  int count = 0;
  for (const char *c = text; *c && *c != 'e'; c++)
    if (*c >= '0' && *c <= '9') digits[count++] = *c;
  int first = 0;
  while (first < count && digits[first] == '0') first++;
  while (count > first && digits[count - 1] == '0') count--;
  return count > first ? count - first : 1;
}

static void test_print_shortest(void **state) {
  (void)state;
  char probe[64];
  for (int i = 0; i < 100000; i++) {
    double value = i % 4 ? random_double() : ((double)(next_random() >> 11) / 9007199254740992.0 - 0.5) * 2e3;
    brt_value *number = brt_value_float(value);
    char *text = brt_value_to_json(number, 0);
    assert_non_null(text);
    double back = strtod(text, NULL);
    if (memcmp(&back, &value, sizeof back) != 0) fail_msg("%.17g printed as %s, which reads as %.17g", value, text, back);
    assert_true(strpbrk(text, ".e") != NULL); /* a float reads back as a float */
    /* the fewest digits %.*e needs to read back the same */
    int shortest = 1;
    for (; shortest < 17; shortest++) {
      snprintf(probe, sizeof probe, "%.*e", shortest - 1, value);
      double again = strtod(probe, NULL);
      if (memcmp(&again, &value, sizeof again) == 0) break;
    }
    if (significant_digits(text) > shortest)
      fail_msg("%.17g printed as %s, but %d digits read back the same", value, text, shortest);
    brt_release(text);
    brt_value_release(number);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_random_bits),
      cmocka_unit_test(test_halfway_and_long_mantissas),
      cmocka_unit_test(test_print_shortest),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
