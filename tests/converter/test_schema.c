/* Schemas: compile (the subset, const, exclusive*, type unions; pattern,
 * $ref and unknown keywords refused), validate with JSON Pointers in the
 * errors, validate_all, schema-guided tensors, and bad arguments. */
#include "brt_test.h"

#include <math.h>

static brt_value *parse(const char *text) {
  brt_value *value = brt_value_from_json(text, strlen(text), 0);
  if (!value) fail_msg("parse %s: %s", text, brt_error_message(brt_last_error()));
  return value;
}

static brt_schema *compile(const char *text) {
  brt_schema *schema = brt_schema_compile(text);
  if (!schema) fail_msg("compile %s: %s", text, brt_error_message(brt_last_error()));
  return schema;
}

/* Validates `text` against `schema`: NULL expects success, otherwise the
 * error message must contain `message`. */
static void expect(const brt_schema *schema, const char *text, const char *message) {
  brt_value *value = parse(text);
  brt_status status = brt_validate(schema, value);
  if (!message && status != BRT_OK)
    fail_msg("%s rejected: %s", text, brt_error_message(brt_last_error()));
  if (message) {
    if (status != BRT_E_VALIDATION) fail_msg("%s accepted, expected \"%s\"", text, message);
    if (!strstr(brt_error_message(brt_last_error()), message))
      fail_msg("%s: message \"%s\" lacks \"%s\"", text, brt_error_message(brt_last_error()), message);
  }
  brt_value_release(value);
}

static const char *const matrix_schema =
    "{\"type\":\"object\",\"required\":[\"matrix_a\"],\"properties\":{\"matrix_a\":{\"type\":\"array\","
    "\"items\":{\"type\":\"array\",\"items\":{\"type\":\"number\"}}}}}";

static void test_pointer_in_errors(void **state) {
  (void)state;
  brt_schema *schema = compile(matrix_schema);
  expect(schema, "{\"matrix_a\":[[1,2],[3.5,4]]}", NULL);
  expect(schema, "{\"matrix_a\":[[1,2],[\"x\",4]]}", "/matrix_a/1/0: expected number, got string");
  expect(schema, "{}", "(root): missing required property \"matrix_a\"");
  expect(schema, "[]", "(root): expected object, got array");
  /* Keys with '/' and '~' are escaped as RFC 6901 says. */
  brt_schema *escaped = compile("{\"additionalProperties\":{\"type\":\"integer\"}}");
  expect(escaped, "{\"a/b~c\":\"s\"}", "/a~1b~0c: expected integer, got string");
  brt_schema_free(escaped);
  brt_schema_free(schema);
}

static void test_keywords(void **state) {
  (void)state;
  brt_schema *schema = compile(
      "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
      "\"n\":{\"type\":[\"integer\",\"null\"],\"minimum\":-2,\"maximum\":10},"
      "\"x\":{\"type\":\"number\",\"exclusiveMinimum\":0,\"exclusiveMaximum\":1},"
      "\"s\":{\"type\":\"string\",\"minLength\":2,\"maxLength\":3},"
      "\"a\":{\"type\":\"array\",\"minItems\":1,\"maxItems\":2,\"items\":{\"enum\":[1,\"two\",null]}},"
      "\"c\":{\"const\":{\"k\":[1,2]}},"
      "\"any\":true,\"none\":false,"
      "\"x-extension\":{\"x-note\":\"kept as an annotation\"}}}");
  expect(schema, "{\"n\":null,\"x\":0.5,\"s\":\"\xC3\xA9t\xC3\xA9\",\"a\":[1,\"two\"],\"c\":{\"k\":[1,2]},\"any\":[{}]}", NULL);
  expect(schema, "{\"n\":10.0}", NULL); /* 10.0 is an integer for JSON Schema */
  expect(schema, "{\"n\":11}", "/n: expected a number <= 10, got 11");
  expect(schema, "{\"n\":-3}", "/n: expected a number >= -2, got -3");
  expect(schema, "{\"n\":1.5}", "/n: expected null or integer, got number");
  expect(schema, "{\"n\":\"1\"}", "/n: expected null or integer, got string");
  expect(schema, "{\"x\":0}", "/x: expected a number > 0, got 0");
  expect(schema, "{\"x\":1}", "/x: expected a number < 1, got 1");
  expect(schema, "{\"s\":\"a\"}", "/s: expected a string of at least 2 characters, got 1");
  expect(schema, "{\"s\":\"abcd\"}", "/s: expected a string of at most 3 characters, got 4");
  expect(schema, "{\"a\":[]}", "/a: expected at least 1 items, got 0");
  expect(schema, "{\"a\":[1,1,1]}", "/a: expected at most 2 items, got 3");
  expect(schema, "{\"a\":[2]}", "/a/0: expected one of the 3 enum values");
  expect(schema, "{\"a\":[1.0]}", NULL); /* enum compares numbers by value */
  expect(schema, "{\"c\":{\"k\":[1,3]}}", "/c: expected the const value");
  expect(schema, "{\"none\":1}", "/none: no value is allowed here");
  expect(schema, "{\"extra\":1}", "/extra: property not allowed");
  brt_schema_free(schema);
  /* Draft-4 boolean exclusive bounds. */
  brt_schema *draft4 = compile("{\"minimum\":0,\"exclusiveMinimum\":true}");
  expect(draft4, "0", "expected a number > 0, got 0");
  expect(draft4, "0.001", NULL);
  expect(draft4, "\"not a number\"", NULL); /* bounds apply to numbers only */
  brt_schema_free(draft4);
  /* Bounds are exact for every i64. */
  brt_schema *big = compile("{\"maximum\":9007199254740992}");
  expect(big, "9007199254740993", "expected a number <= 9007199254740992, got 9007199254740993");
  brt_schema_free(big);
  brt_schema *everything = compile("true");
  expect(everything, "[1,{\"a\":null}]", NULL);
  brt_schema_free(everything);
  brt_schema *nothing = compile("false");
  expect(nothing, "null", "(root): no value is allowed here (the schema is false)");
  brt_schema_free(nothing);
  brt_schema *empty = compile("{}");
  expect(empty, "\"anything\"", NULL);
  brt_schema_free(empty);
}

static void test_compile_errors(void **state) {
  (void)state;
  static const struct {
    const char *schema, *message;
  } cases[] = {
      {"{\"properties\":{\"a\":{\"minItems\":-1}}}",
       "/properties/a/minItems: expected a non-negative integer, got -1"},
      {"{\"type\":\"string\",\"pattern\":\"^a\"}", "/pattern: regular expressions are not in the supported subset"},
      {"{\"patternProperties\":{}}", "/patternProperties: regular expressions"},
      {"{\"maxItem\":3}", "/maxItem: unknown keyword"},
      {"{\"items\":{\"foo\":1}}", "/items/foo: unknown keyword"},
      {"{\"$ref\":\"#\"}", "/$ref: $ref is not in the supported subset"},
      {"{\"properties\":{\"self\":{\"$ref\":\"#\"}}}", "/properties/self/$ref"},
      {"{\"type\":\"integr\"}", "/type: unknown type \"integr\""},
      {"{\"type\":[]}", "/type: expected at least one type name"},
      {"{\"type\":[\"null\",\"null\"]}", "type \"null\" is listed twice"},
      {"{\"type\":3}", "/type: expected a type name"},
      {"{\"enum\":[]}", "/enum: expected a non-empty array"},
      {"{\"required\":[\"a\",\"a\"]}", "/required: property \"a\" is listed twice"},
      {"{\"required\":[1]}", "/required: item 0: expected a property name"},
      {"{\"minimum\":\"0\"}", "/minimum: expected a number, got string"},
      {"{\"maxLength\":1.5}", "/maxLength: expected a non-negative integer, got 1.5"},
      {"{\"items\":[{}]}", "/items: the tuple form of items"},
      {"{\"exclusiveMinimum\":true}", "exclusiveMinimum: true needs a minimum"},
      {"{\"x-tensor\":\"f16\"}", "/x-tensor: expected a dtype name"},
      {"{\"additionalProperties\":3}", "/additionalProperties: expected a schema"},
      {"[]", "(root): expected a schema (an object or a boolean), got array"},
      {"{\"type\":\"string\",\"type\":\"number\"}", "duplicate key \"type\""},
      {"{", "the schema is not valid JSON"},
      {"", "the schema is not valid JSON"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    brt_error_clear();
    brt_schema *schema = brt_schema_compile(cases[i].schema);
    if (schema) fail_msg("compiled %s", cases[i].schema);
    assert_non_null(brt_last_error());
    assert_int_equal(brt_error_code(brt_last_error()), BRT_E_INVALID_ARGUMENT);
    if (!strstr(brt_error_message(brt_last_error()), cases[i].message))
      fail_msg("%s: message \"%s\" lacks \"%s\"", cases[i].schema, brt_error_message(brt_last_error()),
               cases[i].message);
  }
  assert_null_with(brt_schema_compile(NULL), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_schema_compile_n(NULL, 3), BRT_E_INVALID_ARGUMENT);
  /* Annotations and x- keywords are accepted. */
  brt_schema *annotated = compile("{\"$schema\":\"x\",\"$id\":\"y\",\"$comment\":\"c\",\"title\":\"t\","
                                  "\"description\":\"d\",\"default\":1,\"examples\":[1],\"x-unit\":\"m\"}");
  brt_schema_free(annotated);
}

static void test_deep_schema(void **state) {
  (void)state;
  /* A schema nested 120 levels deep: compiles and validates. */
  char text[4096];
  size_t len = 0;
  for (int i = 0; i < 60; i++) len += (size_t)snprintf(text + len, sizeof text - len, "{\"items\":");
  len += (size_t)snprintf(text + len, sizeof text - len, "{\"type\":\"integer\"}");
  for (int i = 0; i < 60; i++) text[len++] = '}';
  text[len] = '\0';
  brt_schema *schema = compile(text);
  char value[512];
  len = 0;
  for (int i = 0; i < 60; i++) value[len++] = '[';
  value[len++] = '"';
  value[len++] = '"';
  for (int i = 0; i < 60; i++) value[len++] = ']';
  value[len] = '\0';
  expect(schema, value, "/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0: expected integer, got string");
  brt_schema_free(schema);
}

static void test_validate_all(void **state) {
  (void)state;
  brt_schema *schema = compile(matrix_schema);
  brt_value *value = parse("{\"matrix_a\":[[1,\"a\"],[true,4],[null,\"b\"]]}");
  brt_value *errors = NULL;
  assert_status(brt_validate_all(schema, value, 10, &errors), BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "4 violations; first: /matrix_a/0/1: expected number, got string");
  assert_non_null(errors);
  size_t count = 0;
  assert_ok(brt_value_array_length(errors, &count));
  assert_int_equal(count, 4);
  const char *pointer;
  assert_ok(brt_value_get_string(brt_value_object_get(brt_value_array_get(errors, 3), "pointer", 7), &pointer, NULL));
  assert_string_equal(pointer, "/matrix_a/2/1");
  const char *message;
  assert_ok(brt_value_get_string(brt_value_object_get(brt_value_array_get(errors, 1), "message", 7), &message, NULL));
  assert_string_equal(message, "expected number, got boolean");
  brt_value_release(errors);
  /* Up to N: stops at the limit. */
  assert_status(brt_validate_all(schema, value, 2, &errors), BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "2 violations (max_errors reached)");
  assert_ok(brt_value_array_length(errors, &count));
  assert_int_equal(count, 2);
  brt_value_release(errors);
  /* Without an errors array the count is still in the message. */
  assert_status(brt_validate_all(schema, value, 100, NULL), BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "4 violations");
  /* A valid value: OK and *errors NULL. */
  brt_value *good = parse("{\"matrix_a\":[]}");
  errors = (brt_value *)1;
  assert_ok(brt_validate_all(schema, good, 5, &errors));
  assert_null(errors);
  assert_status(brt_validate_all(schema, good, 0, &errors), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "max_errors is 0");
  brt_value_release(good);
  brt_value_release(value);
  brt_schema_free(schema);
}

static void test_tensors_against_schemas(void **state) {
  (void)state;
  brt_schema *schema = compile("{\"type\":\"array\",\"maxItems\":2,\"items\":{\"type\":\"array\",\"items\":{\"type\":\"number\",\"minimum\":0}}}");
  brt_value *tensor = brt_value_from_json("[[1,2],[3,-4]]", 14, BRT_JSON_TENSORS);
  assert_status(brt_validate(schema, tensor), BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "/1/1: expected a number >= 0, got -4");
  brt_value_release(tensor);
  tensor = brt_value_from_json("[[1],[2],[3]]", 13, BRT_JSON_TENSORS);
  assert_status(brt_validate(schema, tensor), BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "(root): expected at most 2 items, got 3");
  brt_value_release(tensor);
  brt_schema_free(schema);
  brt_schema *strings = compile("{\"items\":{\"items\":{\"type\":\"string\"}}}");
  tensor = brt_value_from_json("[[1]]", 5, BRT_JSON_TENSORS);
  assert_status(brt_validate(strings, tensor), BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "/0/0: expected string, got number");
  brt_value_release(tensor);
  brt_schema_free(strings);
}

static void test_schema_guided_tensors(void **state) {
  (void)state;
  brt_schema *schema = compile(
      "{\"type\":\"object\",\"properties\":{\"m\":{\"x-tensor\":\"i32\",\"maxItems\":3},\"tag\":{\"type\":\"string\"}}}");
  const char *text = "{\"tag\":\"t\",\"m\":[[1,2],[3,4]]}";
  brt_value *value = brt_value_from_json_schema(text, strlen(text), schema, 0);
  assert_non_null(value);
  const brt_value *m = brt_value_object_get(value, "m", 1);
  assert_int_equal(brt_value_kind(m), BRT_KIND_TENSOR);
  brt_tensor_info info = {.struct_size = sizeof info};
  assert_ok(brt_tensor_info_get(m, &info));
  assert_int_equal(info.dtype, BRT_DTYPE_I32);
  brt_value_release(value);
  const char *ragged = "{\"m\":[[1,2],[3]]}";
  assert_null_with(brt_value_from_json_schema(ragged, strlen(ragged), schema, 0), BRT_E_CONVERSION);
  assert_last_error(BRT_E_CONVERSION, "/m/1: ragged");
  const char *too_long = "{\"m\":[[1],[2],[3],[4]]}";
  assert_null_with(brt_value_from_json_schema(too_long, strlen(too_long), schema, 0), BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "/m: expected at most 3 items, got 4");
  assert_null_with(brt_value_from_json_schema(text, strlen(text), NULL, 0), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_value_from_json_schema(NULL, 0, schema, 0), BRT_E_INVALID_ARGUMENT);
  brt_schema_free(schema);
}

static void test_bad_arguments(void **state) {
  (void)state;
  brt_schema *schema = compile("{}");
  brt_value *value = brt_value_null();
  assert_status(brt_validate(NULL, value), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "schema is NULL");
  assert_status(brt_validate(schema, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "value is NULL");
  int on_stack[64] = {0};
  assert_status(brt_validate((const brt_schema *)on_stack, value), BRT_E_INVALID_POINTER);
  assert_last_error(BRT_E_INVALID_POINTER, "not a live compiled schema");
  assert_status(brt_validate(schema, (const brt_value *)on_stack), BRT_E_INVALID_POINTER);
  /* A value handle is not a schema handle. */
  assert_status(brt_validate((const brt_schema *)value, value), BRT_E_INVALID_POINTER);
  assert_status(brt_validate_all(NULL, value, 1, NULL), BRT_E_INVALID_ARGUMENT);
  brt_schema_free(NULL);
  brt_error_clear();
  brt_schema_free((brt_schema *)on_stack);
  assert_last_error(BRT_E_INVALID_POINTER, "brt_schema_free");
  brt_schema_free(schema);
  /* A freed schema is caught. */
  assert_status(brt_validate(schema, value), BRT_E_INVALID_POINTER);
  brt_value_release(value);
}

static void test_nan_and_bounds(void **state) {
  (void)state;
  brt_schema *schema = compile("{\"minimum\":0}");
  brt_value *nan = brt_value_float(NAN);
  assert_status(brt_validate(schema, nan), BRT_E_VALIDATION);
  assert_last_error(BRT_E_VALIDATION, "got NaN");
  brt_value_release(nan);
  brt_schema_free(schema);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_pointer_in_errors),
      cmocka_unit_test(test_keywords),
      cmocka_unit_test(test_compile_errors),
      cmocka_unit_test(test_deep_schema),
      cmocka_unit_test(test_validate_all),
      cmocka_unit_test(test_tensors_against_schemas),
      cmocka_unit_test(test_schema_guided_tensors),
      cmocka_unit_test(test_bad_arguments),
      cmocka_unit_test(test_nan_and_bounds),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
