/* JSON in and out: strictness beyond the corpus, error locations, limits,
 * numbers (exact i64, round-trip floats, NaN/Inf), strings (\u0000 in keys,
 * 10 MB), printing, and bad arguments. */
#include "brt_test.h"

#include <math.h>

static brt_value *parse(const char *text) {
  brt_value *value = brt_value_from_json(text, strlen(text), 0);
  if (!value) fail_msg("parse %s: %s", text, brt_error_message(brt_last_error()));
  return value;
}

static void expect_printed(const brt_value *value, unsigned flags, const char *expected) {
  char *text = brt_value_to_json(value, flags);
  if (!text) fail_msg("print: %s", brt_error_message(brt_last_error()));
  assert_string_equal(text, expected);
  brt_release(text);
}

static void test_print_compact(void **state) {
  (void)state;
  brt_value *value = parse(" { \"a\" : [ 1 , -2 , 3.25 , true , false , null ] ,\n\t\"b\\n\" : \"\\u00e9\\\"\\\\\\/\\b\\f\\r\\t\\u001f\" } ");
  expect_printed(value, 0, "{\"a\":[1,-2,3.25,true,false,null],\"b\\n\":\"\xC3\xA9\\\"\\\\/\\b\\f\\r\\t\\u001f\"}");
  brt_value_release(value);
  brt_value *empty = parse("[{},[],\"\",[[]]]");
  expect_printed(empty, 0, "[{},[],\"\",[[]]]");
  brt_value_release(empty);
}

static void test_integers_exact_or_rejected(void **state) {
  (void)state;
  static const struct {
    const char *text;
    int64_t expected;
  } exact[] = {
      {"9007199254740993", INT64_C(9007199254740993)}, /* 2^53 + 1: a double would round it */
      {"-9007199254740993", -INT64_C(9007199254740993)},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
      {"-0", 0},
  };
  for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++) {
    brt_value *value = parse(exact[i].text);
    int64_t got = 0;
    assert_ok(brt_value_get_int(value, &got));
    assert_true(got == exact[i].expected);
    char *text = brt_value_to_json(value, 0);
    assert_string_equal(text, exact[i].expected == 0 ? "0" : exact[i].text);
    brt_release(text);
    brt_value_release(value);
  }
  static const char *const too_big[] = {"9223372036854775808", "-9223372036854775809",
                                        "18446744073709551616",
                                        "123456789012345678901234567890"};
  for (size_t i = 0; i < sizeof too_big / sizeof too_big[0]; i++) {
    assert_null_with(brt_value_from_json(too_big[i], strlen(too_big[i]), 0), BRT_E_OUT_OF_RANGE);
    assert_last_error(BRT_E_OUT_OF_RANGE, too_big[i]);
    assert_last_error(BRT_E_OUT_OF_RANGE, "does not fit in a 64-bit signed integer");
  }
  /* A number with a fraction or exponent is a float, even when integral. */
  brt_value *value = parse("1e2");
  assert_int_equal(brt_value_kind(value), BRT_KIND_FLOAT);
  expect_printed(value, 0, "100.0");
  brt_value_release(value);
  /* A very long number is named, shortened. */
  char digits[200];
  memset(digits, '7', sizeof digits - 1);
  digits[sizeof digits - 1] = '\0';
  assert_null_with(brt_value_from_json(digits, strlen(digits), 0), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "777777777...");
}

static uint64_t bits_of(double x) {
  uint64_t bits;
  memcpy(&bits, &x, sizeof bits);
  return bits;
}

static void test_floats_round_trip_bits(void **state) {
  (void)state;
  static const double samples[] = {0.1, 1.0 / 3, 2.0 / 3, 1e-300, 4.9406564584124654e-324,
                                   2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 0.0,
                                   123456789.123456789, 5e-324, 9007199254740993.0, 1e21, 1e22,
                                   1e23, 0.30000000000000004, 100, -2.5, 3.0e15};
  uint64_t state_bits = 0x9E3779B97F4A7C15u;
  for (int i = 0; i < 20000 + (int)(sizeof samples / sizeof samples[0]); i++) {
    double x;
    if (i < (int)(sizeof samples / sizeof samples[0])) {
      x = samples[i];
    } else { /* random bit patterns: every exponent, every mantissa */
      state_bits ^= state_bits << 13;
      state_bits ^= state_bits >> 7;
      state_bits ^= state_bits << 17;
      memcpy(&x, &state_bits, sizeof x);
      if (!isfinite(x)) continue;
    }
    brt_value *value = brt_value_float(x);
    char *text = brt_value_to_json(value, 0);
    brt_value *back = brt_value_from_json(text, strlen(text), 0);
    if (!back) fail_msg("%.17g printed as %s does not parse: %s", x, text, brt_error_message(brt_last_error()));
    double y = 0;
    if (brt_value_get_float(back, &y) != BRT_OK) fail_msg("%s parsed back as a non-float", text);
    if (bits_of(x) != bits_of(y)) fail_msg("%.17g printed as %s parsed back as %.17g", x, text, y);
    brt_value_release(back);
    brt_value_release(value);
    brt_release(text);
  }
  static const struct {
    double number;
    const char *text;
  } forms[] = {
      {0.1, "0.1"}, /* the shorter form, not 0.10000000000000001 */
      {1e21, "1e+21"},          {1e16, "10000000000000000.0"}, {0.001, "0.001"},
      {1.5e-7, "1.5e-07"},      {-2.5e-5, "-0.000025"},        {123.456, "123.456"},
      {-0.0, "-0.0"},           {2.0, "2.0"},                  {0.30000000000000004, "0.30000000000000004"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
  };
  for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
    brt_value *value = brt_value_float(forms[i].number);
    expect_printed(value, 0, forms[i].text);
    brt_value_release(value);
  }
}

static void test_nonfinite_rules(void **state) {
  (void)state;
  brt_value *array = brt_value_array(3);
  brt_value *nan = brt_value_float(NAN), *inf = brt_value_float(-INFINITY), *one = brt_value_float(1);
  brt_value_array_push(array, one);
  brt_value_array_push(array, nan);
  brt_value_array_push(array, inf);
  assert_null_with(brt_value_to_json(array, 0), BRT_E_CONVERSION);
  assert_last_error(BRT_E_CONVERSION, "NaN has no JSON form; pass BRT_JSON_NONFINITE_AS_NULL");
  expect_printed(array, BRT_JSON_NONFINITE_AS_NULL, "[1.0,null,null]");
  assert_null_with(brt_value_to_json(inf, 0), BRT_E_CONVERSION);
  assert_last_error(BRT_E_CONVERSION, "-infinity");
  /* Parsing: NaN and Infinity are not JSON. */
  assert_null_with(brt_value_from_json("[NaN]", 5, 0), BRT_E_CONVERSION);
  assert_null_with(brt_value_from_json("[Infinity]", 10, 0), BRT_E_CONVERSION);
  assert_null_with(brt_value_from_json("1e400", 5, 0), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "the number 1e400 is beyond the range of a 64-bit float");
  brt_value *tiny = parse("1e-400"); /* underflow: the correctly rounded 0 */
  double got = 1;
  assert_ok(brt_value_get_float(tiny, &got));
  assert_true(got == 0);
  brt_value_release(tiny);
  brt_value_release(nan);
  brt_value_release(inf);
  brt_value_release(one);
  brt_value_release(array);
}

static void test_bytes_printing(void **state) {
  (void)state;
  brt_value *bytes = brt_value_bytes("\x00\xFF\x10hi", 5);
  assert_null_with(brt_value_to_json(bytes, 0), BRT_E_CONVERSION);
  assert_last_error(BRT_E_CONVERSION, "BRT_JSON_BYTES_AS_BASE64");
  expect_printed(bytes, BRT_JSON_BYTES_AS_BASE64, "\"AP8QaGk=\"");
  brt_value_release(bytes);
}

static void test_errors_name_line_column_and_excerpt(void **state) {
  (void)state;
  const char *text = "{\n  \"a\": [1, 2,],\n  \"b\": 3\n}";
  brt_json_location where = {.struct_size = sizeof where};
  assert_null_with(brt_value_from_json_ex(text, strlen(text), NULL, &where), BRT_E_CONVERSION);
  assert_last_error(BRT_E_CONVERSION, "line 2, column 14");
  assert_last_error(BRT_E_CONVERSION, "unexpected character ']', expected a value");
  assert_last_error(BRT_E_CONVERSION, "near \"");
  assert_int_equal(where.line, 2);
  assert_int_equal(where.column, 14);
  assert_int_equal(where.offset, 15);
  static const struct {
    const char *text, *message;
  } cases[] = {
      {"[01]", "leading zero"},
      {"[2.]", "expected a digit after the decimal point"},
      {"[\"a\tb\"]", "control character U+0009 must be escaped"},
      {"[\"\\x\"]", "invalid escape"},
      {"[\"\\u12G4\"]", "\\u must be followed by 4 hex digits"},
      {"[\"\\uD800\"]", "lone high surrogate"},
      {"[\"\\uDC00\"]", "lone low surrogate"},
      {"[1]x", "unexpected text after the JSON value"},
      {"\xEF\xBB\xBF{}", "byte order mark"},
      {"{\"a\":1,\"a\":2}", "duplicate key \"a\""},
      {"[1,2", "unexpected end of input inside an array"},
      {"{\"a\" 1}", "expected ':'"},
      {"\"abc", "unterminated string"},
      {"[tru]", "expected a value"},
      {"[\f1]", "unexpected byte 0x0C"},
      {"", "unexpected end of input, expected a value"},
      {"   ", "unexpected end of input"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    brt_error_clear();
    if (brt_value_from_json(cases[i].text, strlen(cases[i].text), 0))
      fail_msg("accepted %s", cases[i].text);
    assert_non_null(brt_last_error());
    if (!strstr(brt_error_message(brt_last_error()), cases[i].message))
      fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].text, brt_error_message(brt_last_error()),
               cases[i].message);
  }
  /* A NUL inside the given length is an error, not the end of the text. */
  assert_null_with(brt_value_from_json("[1]\0", 4, 0), BRT_E_CONVERSION);
  assert_null_with(brt_value_from_json("[\"a\0\"]", 6, 0), BRT_E_CONVERSION);
}

static void test_nul_in_keys_and_strings(void **state) {
  (void)state;
  const char *text = "{\"a\\u0000b\":1,\"a\":2,\"\\u0000\":\"x\\u0000y\"}";
  brt_value *value = parse(text);
  int64_t got = 0;
  assert_ok(brt_value_get_int(brt_value_object_get(value, "a\0b", 3), &got));
  assert_int_equal(got, 1);
  assert_ok(brt_value_get_int(brt_value_object_get(value, "a", 1), &got));
  assert_int_equal(got, 2);
  const char *data;
  size_t len;
  assert_ok(brt_value_get_string(brt_value_object_get(value, "\0", 1), &data, &len));
  assert_int_equal(len, 3);
  assert_memory_equal(data, "x\0y", 3);
  expect_printed(value, 0, "{\"a\\u0000b\":1,\"a\":2,\"\\u0000\":\"x\\u0000y\"}");
  brt_value_release(value);
  /* Keys that differ only after a NUL are not duplicates; equal ones are. */
  assert_null_with(brt_value_from_json("{\"\\u0000\":1,\"\\u0000\":2}", 22, 0), BRT_E_CONVERSION);
}

static void test_duplicate_keys_last_wins(void **state) {
  (void)state;
  const char *text = "{\"a\":1,\"b\":2,\"a\":{\"deep\":[3]}}";
  assert_null_with(brt_value_from_json(text, strlen(text), 0), BRT_E_CONVERSION);
  brt_value *value = brt_value_from_json(text, strlen(text), BRT_JSON_DUPLICATE_LAST_WINS);
  assert_non_null(value);
  expect_printed(value, 0, "{\"a\":{\"deep\":[3]},\"b\":2}");
  brt_value_release(value);
}

static void test_limits(void **state) {
  (void)state;
  /* Deep nesting: 100000 '[' is refused at the limit, without recursion
   * past it. */
  size_t deep = 100000;
  char *text = malloc(deep * 2);
  memset(text, '[', deep);
  memset(text + deep, ']', deep);
  assert_null_with(brt_value_from_json(text, deep * 2, 0), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "nesting deeper than max_depth (128)");
  /* Exactly at the limit is fine. */
  assert_non_null(brt_value_from_json(text + deep - 128, 256, 0));
  brt_value_release(brt_value_from_json(text + deep - 128, 256, 0));
  assert_null_with(brt_value_from_json(text + deep - 129, 258, 0), BRT_E_LIMIT_EXCEEDED);
  free(text);
  brt_json_options options;
  brt_json_options_default(&options);
  options.max_input = 4;
  assert_null_with(brt_value_from_json_ex("[1,2]", 5, &options, NULL), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "5 bytes, more than max_input (4)");
  brt_json_options_default(&options);
  options.max_string = 3;
  assert_null_with(brt_value_from_json_ex("[\"abcd\"]", 8, &options, NULL), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "4 bytes exceeds max_string (3)");
  assert_null_with(brt_value_from_json_ex("{\"abcd\":1}", 10, &options, NULL), BRT_E_LIMIT_EXCEEDED);
  brt_value *fits = brt_value_from_json_ex("[\"abc\"]", 7, &options, NULL);
  assert_non_null(fits);
  brt_value_release(fits);
}

static void test_ten_megabyte_string_round_trip(void **state) {
  (void)state;
  size_t len = 10u << 20;
  char *text = malloc(len + 3);
  text[0] = '"';
  for (size_t i = 1; i <= len; i++) text[i] = (char)('a' + i % 26);
  text[len / 2] = '\\';
  text[len / 2 + 1] = 'n';
  text[len + 1] = '"';
  brt_value *value = brt_value_from_json(text, len + 2, 0);
  assert_non_null(value);
  const char *data;
  size_t got;
  assert_ok(brt_value_get_string(value, &data, &got));
  assert_int_equal(got, len - 1);
  char *printed = brt_value_to_json(value, 0);
  assert_int_equal(strlen(printed), len + 2);
  assert_memory_equal(printed, text, len + 2);
  brt_release(printed);
  brt_value_release(value);
  free(text);
}

static void test_empty_everything(void **state) {
  (void)state;
  static const char *const texts[] = {"[]", "{}", "\"\"", "[[]]", "{\"\":{}}", "[{}]", "[\"\"]", "0"};
  for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
    brt_value *value = parse(texts[i]);
    expect_printed(value, 0, texts[i]);
    brt_value_release(value);
  }
  brt_value *empty_tensor = brt_value_from_json("[]", 2, BRT_JSON_TENSORS);
  assert_int_equal(brt_value_kind(empty_tensor), BRT_KIND_ARRAY); /* no number: not a request */
  brt_value_release(empty_tensor);
  assert_null_with(brt_value_from_json("", 0, 0), BRT_E_CONVERSION);
}

static void test_bad_arguments(void **state) {
  (void)state;
  assert_null_with(brt_value_from_json(NULL, 0, 0), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "text is NULL");
  brt_json_options options;
  brt_json_options_default(&options);
  options.struct_size = 3;
  assert_null_with(brt_value_from_json_ex("1", 1, &options, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "struct_size is 3");
  brt_json_options_default(&options);
  options.max_depth = 0;
  assert_null_with(brt_value_from_json_ex("1", 1, &options, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "max_depth is 0");
  options.max_depth = BRT_VALUE_MAX_DEPTH + 1;
  assert_null_with(brt_value_from_json_ex("1", 1, &options, NULL), BRT_E_INVALID_ARGUMENT);
  brt_json_options_default(&options);
  options.tensor_dtype = (brt_dtype)99;
  assert_null_with(brt_value_from_json_ex("1", 1, &options, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "tensor_dtype 99");
  assert_null_with(brt_value_to_json(NULL, 0), BRT_E_INVALID_ARGUMENT);
  int on_stack[16] = {0};
  assert_null_with(brt_value_to_json((const brt_value *)on_stack, 0), BRT_E_INVALID_POINTER);
  brt_error_clear();
  brt_json_options_default(NULL);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "options is NULL");
}

/* Out of memory halfway through: the reader fails with the allocator's
 * error, frees what it built, and works again once memory is back. */
static void test_memory_limit_midway(void **state) {
  (void)state;
  size_t count = 200000;
  char *text = malloc(count * 2 + 2);
  text[0] = '[';
  for (size_t i = 0; i < count; i++) memcpy(text + 1 + 2 * i, i + 1 < count ? "1," : "1]", 2);
  brt_mem_stats stats = {.struct_size = sizeof stats};
  assert_ok(brt_mem_stats_get(&stats));
  uint64_t live_before = stats.live_blocks;
  assert_ok(brt_mem_set_limit(stats.committed_bytes + (1u << 20)));
  brt_error_clear();
  brt_value *value = brt_value_from_json(text, count * 2 + 1, 0);
  assert_null(value);
  assert_int_equal(brt_error_code(brt_last_error()), BRT_E_LIMIT_EXCEEDED);
  assert_ok(brt_mem_set_limit(0));
  assert_ok(brt_mem_stats_get(&stats));
  assert_int_equal(stats.live_blocks, live_before);
  value = brt_value_from_json(text, count * 2 + 1, 0);
  assert_non_null(value);
  brt_value_release(value);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_print_compact),
      cmocka_unit_test(test_integers_exact_or_rejected),
      cmocka_unit_test(test_floats_round_trip_bits),
      cmocka_unit_test(test_nonfinite_rules),
      cmocka_unit_test(test_bytes_printing),
      cmocka_unit_test(test_errors_name_line_column_and_excerpt),
      cmocka_unit_test(test_nul_in_keys_and_strings),
      cmocka_unit_test(test_duplicate_keys_last_wins),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_ten_megabyte_string_round_trip),
      cmocka_unit_test(test_empty_everything),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_memory_limit_midway),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
