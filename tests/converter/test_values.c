/* Values: scalars, strings, bytes, typed accessors, arrays, objects,
 * references, equality, the debug printer, and every function with bad
 * arguments (status + message, state unchanged). */
#include "brt_test.h"

#include <math.h>

static void test_scalars_and_accessors(void **state) {
  (void)state;
  brt_value *n = brt_value_null(), *b = brt_value_bool(42), *i = brt_value_int(INT64_MIN),
            *f = brt_value_float(-0.0);
  assert_int_equal(brt_value_kind(n), BRT_KIND_NULL);
  assert_int_equal(brt_value_kind(b), BRT_KIND_BOOL);
  int truth = 0;
  assert_ok(brt_value_get_bool(b, &truth));
  assert_int_equal(truth, 1);
  int64_t integer = 0;
  assert_ok(brt_value_get_int(i, &integer));
  assert_true(integer == INT64_MIN);
  double number = 1;
  assert_ok(brt_value_get_float(f, &number));
  assert_true(number == 0 && signbit(number));
  assert_ok(brt_value_get_number(i, &number));
  assert_true(number == -9223372036854775808.0);
  assert_string_equal(brt_kind_name(BRT_KIND_TENSOR), "tensor");
  assert_string_equal(brt_kind_name((brt_kind)77), "invalid");
  brt_value_release(n);
  brt_value_release(b);
  brt_value_release(i);
  brt_value_release(f);
}

static void test_type_mismatch_names_both_kinds(void **state) {
  (void)state;
  brt_value *s = brt_value_cstring("text");
  int64_t integer = 7;
  assert_status(brt_value_get_int(s, &integer), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected int, got string");
  assert_true(integer == 7); /* untouched */
  double number = 3;
  assert_status(brt_value_get_float(s, &number), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected float, got string");
  assert_status(brt_value_get_number(s, &number), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected int or float, got string");
  assert_true(number == 3);
  int truth = 5;
  assert_status(brt_value_get_bool(s, &truth), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected bool, got string");
  const void *data = NULL;
  assert_status(brt_value_get_bytes(s, &data, NULL), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected bytes, got string");
  brt_value *i = brt_value_int(1);
  const char *text = NULL;
  assert_status(brt_value_get_string(i, &text, NULL), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected string, got int");
  assert_status(brt_value_get_float(i, &number), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected float, got int");
  size_t length = 9;
  assert_status(brt_value_array_length(i, &length), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected array, got int");
  assert_status(brt_value_object_length(s, &length), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected object, got string");
  assert_true(length == 9);
  brt_value_release(s);
  brt_value_release(i);
}

static void test_accessor_bad_arguments(void **state) {
  (void)state;
  int64_t integer = 7;
  assert_status(brt_value_get_int(NULL, &integer), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "value is NULL");
  brt_value *i = brt_value_int(1);
  assert_status(brt_value_get_int(i, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "out is NULL");
  /* Memory that is not a value: a stack variable and a raw managed block. */
  int64_t on_stack[8] = {0};
  assert_status(brt_value_get_int((const brt_value *)on_stack, &integer), BRT_E_INVALID_POINTER);
  assert_last_error(BRT_E_INVALID_POINTER, "not a live brt_value");
  void *block = brt_alloc(64, 16, BRT_MEM_C_HEAP, BRT_ALLOC_ZERO);
  assert_status(brt_value_get_int((const brt_value *)block, &integer), BRT_E_INVALID_POINTER);
  /* An interior pointer of a real value. */
  assert_status(brt_value_get_int((const brt_value *)((char *)i + 16), &integer),
                BRT_E_INVALID_POINTER);
  assert_true(integer == 7);
  brt_release(block);
  brt_error_clear();
  assert_int_equal(brt_value_kind(NULL), BRT_KIND_INVALID);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "brt_value_kind: value is NULL");
  assert_int_equal(brt_value_refcount((const brt_value *)on_stack), 0);
  assert_last_error(BRT_E_INVALID_POINTER, "brt_value_refcount");
  brt_value_retain((const brt_value *)on_stack);
  assert_last_error(BRT_E_INVALID_POINTER, "brt_value_retain");
  brt_value_release((const brt_value *)on_stack);
  assert_last_error(BRT_E_INVALID_POINTER, "brt_value_release");
  brt_error_clear();
  brt_value_release(NULL); /* ignored, no error */
  assert_null(brt_last_error());
  assert_int_equal(brt_value_refcount(i), 1);
  brt_value_release(i);
  /* A released value is caught, not read. */
  brt_value_retain(i);
  assert_last_error(BRT_E_INVALID_POINTER, "not a live brt_value");
}

static void test_references(void **state) {
  (void)state;
  brt_value *s = brt_value_cstring("shared");
  brt_value_retain(s);
  brt_value_retain(s);
  assert_int_equal(brt_value_refcount(s), 3);
  brt_value_release(s);
  brt_value_release(s);
  assert_int_equal(brt_value_refcount(s), 1);
  brt_value_release(s);
}

static void test_strings_with_nul_and_utf8(void **state) {
  (void)state;
  const char text[] = "a\0b\xC3\xA9";
  brt_value *s = brt_value_string(text, 5);
  assert_non_null(s);
  const char *data;
  size_t len = 0;
  assert_ok(brt_value_get_string(s, &data, &len));
  assert_int_equal(len, 5);
  assert_memory_equal(data, text, 5);
  assert_int_equal(data[5], '\0');
  brt_value_release(s);
  brt_value *empty = brt_value_string(NULL, 0);
  assert_non_null(empty);
  assert_ok(brt_value_get_string(empty, &data, &len));
  assert_int_equal(len, 0);
  assert_string_equal(data, "");
  brt_value_release(empty);
  /* Invalid UTF-8 in every form is refused, naming the offset. */
  static const struct {
    const char *bytes;
    size_t len;
    const char *offset;
  } bad[] = {
      {"ok\xC0\xAF", 4, "offset 2"},               /* overlong '/' */
      {"\xE0\x80\xAF", 3, "offset 0"},             /* overlong 3-byte */
      {"\xF0\x80\x80\xAF", 4, "offset 0"},         /* overlong 4-byte */
      {"x\xED\xA0\x80", 4, "offset 1"},            /* surrogate U+D800 */
      {"\xF4\x90\x80\x80", 4, "offset 0"},         /* above U+10FFFF */
      {"abc\xE2\x82", 5, "offset 3"},              /* truncated */
      {"\x80", 1, "offset 0"},                     /* lone continuation */
      {"\xFF", 1, "offset 0"},
      {"\xFC\x83\xBF\xBF\xBF\xBF", 6, "offset 0"}, /* 6-byte form */
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_null_with(brt_value_string(bad[i].bytes, bad[i].len), BRT_E_INVALID_ARGUMENT);
    assert_last_error(BRT_E_INVALID_ARGUMENT, bad[i].offset);
  }
  assert_null_with(brt_value_string(NULL, 3), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "text is NULL but len is 3");
  assert_null_with(brt_value_cstring(NULL), BRT_E_INVALID_ARGUMENT);
}

static void test_ten_megabyte_string(void **state) {
  (void)state;
  size_t len = 10u << 20;
  char *big = malloc(len);
  for (size_t i = 0; i < len; i++) big[i] = (char)('a' + i % 26);
  brt_value *s = brt_value_string(big, len);
  assert_non_null(s);
  const char *data;
  size_t got = 0;
  assert_ok(brt_value_get_string(s, &data, &got));
  assert_int_equal(got, len);
  assert_memory_equal(data, big, len);
  brt_value_release(s);
  free(big);
}

static void test_bytes(void **state) {
  (void)state;
  const unsigned char raw[] = {0, 0xFF, 0x80, 'x'};
  brt_value *b = brt_value_bytes(raw, sizeof raw);
  const void *data;
  size_t len;
  assert_ok(brt_value_get_bytes(b, &data, &len));
  assert_int_equal(len, 4);
  assert_memory_equal(data, raw, 4);
  brt_value_release(b);
  assert_null_with(brt_value_bytes(NULL, 1), BRT_E_INVALID_ARGUMENT);
  brt_value *empty = brt_value_bytes(NULL, 0);
  assert_non_null(empty);
  brt_value_release(empty);
}

static void test_arrays(void **state) {
  (void)state;
  brt_value *array = brt_value_array(0);
  for (int64_t i = 0; i < 1000; i++) {
    brt_value *item = brt_value_int(i);
    assert_ok(brt_value_array_push(array, item));
    assert_int_equal(brt_value_refcount(item), 2); /* the array holds one */
    brt_value_release(item);
  }
  size_t length = 0;
  assert_ok(brt_value_array_length(array, &length));
  assert_int_equal(length, 1000);
  int64_t got;
  assert_ok(brt_value_get_int(brt_value_array_get(array, 999), &got));
  assert_int_equal(got, 999);
  assert_null_with(brt_value_array_get(array, 1000), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "index 1000 is out of range for an array of length 1000");
  assert_null_with(brt_value_array_get(NULL, 0), BRT_E_INVALID_ARGUMENT);
  brt_value_release(array);
  brt_value *reserved = brt_value_array(10);
  assert_ok(brt_value_array_length(reserved, &length));
  assert_int_equal(length, 0);
  brt_value_release(reserved);
  assert_null_with(brt_value_array(SIZE_MAX), BRT_E_OUT_OF_RANGE);
}

static void test_builder_bad_arguments_change_nothing(void **state) {
  (void)state;
  brt_value *array = brt_value_array(0), *item = brt_value_int(1), *text = brt_value_cstring("t");
  assert_ok(brt_value_array_push(array, item));
  assert_status(brt_value_array_push(array, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "item is NULL");
  assert_status(brt_value_array_push(NULL, item), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_value_array_push(text, item), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected array, got string");
  assert_status(brt_value_array_push(array, array), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "cannot contain itself");
  size_t length = 0;
  assert_ok(brt_value_array_length(array, &length));
  assert_int_equal(length, 1);
  assert_int_equal(brt_value_refcount(item), 2);
  assert_status(brt_value_array_length(array, NULL), BRT_E_INVALID_ARGUMENT);

  /* A container placed in another is sealed: no cycles, safe to share. */
  brt_value *outer = brt_value_array(0);
  assert_ok(brt_value_array_push(outer, array));
  assert_status(brt_value_array_push(array, outer), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "sealed");
  assert_ok(brt_value_array_length(array, &length));
  assert_int_equal(length, 1);
  assert_int_equal(brt_value_refcount(outer), 1);

  brt_value *object = brt_value_object(0);
  assert_status(brt_value_object_set(object, NULL, 2, item), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "key is NULL but key_len is 2");
  assert_status(brt_value_object_set(object, "\xC0\x80", 2, item), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "key could not be stored");
  assert_status(brt_value_object_set(object, "k", 1, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_value_object_set(array, "k", 1, item), BRT_E_TYPE_MISMATCH);
  assert_status(brt_value_object_set(object, "k", 1, object), BRT_E_INVALID_ARGUMENT);
  assert_ok(brt_value_object_length(object, &length));
  assert_int_equal(length, 0);
  assert_int_equal(brt_value_refcount(item), 2);
  assert_status(brt_value_object_length(object, NULL), BRT_E_INVALID_ARGUMENT);

  brt_value_release(outer);
  brt_value_release(array);
  brt_value_release(object);
  brt_value_release(item);
  brt_value_release(text);
}

static void test_nesting_limit(void **state) {
  (void)state;
  brt_value *inner = brt_value_array(0);
  int levels = 0;
  for (;;) {
    brt_value *outer = brt_value_array(1);
    brt_status status = brt_value_array_push(outer, inner);
    if (status != BRT_OK) {
      assert_int_equal(status, BRT_E_LIMIT_EXCEEDED);
      assert_last_error(BRT_E_LIMIT_EXCEEDED, "1024 levels");
      brt_value_release(outer);
      break;
    }
    brt_value_release(inner);
    inner = outer;
    levels++;
  }
  assert_int_equal(levels, BRT_VALUE_MAX_DEPTH);
  /* Walks over the deepest value stay bounded. */
  char *text = brt_value_to_json(inner, 0);
  assert_non_null(text);
  brt_value *again = brt_value_from_json(text, strlen(text), 0);
  assert_null(again); /* deeper than the default max_depth of 128 */
  brt_json_options options;
  brt_json_options_default(&options);
  options.max_depth = BRT_VALUE_MAX_DEPTH;
  /* 1025 '[' (the innermost array is empty): one too many for the limit. */
  assert_null(brt_value_from_json_ex(text, strlen(text), &options, NULL));
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "max_depth (1024)");
  assert_int_equal(brt_value_equal(inner, inner), 1);
  char *debug = brt_value_debug_string(inner, 4);
  assert_non_null(debug);
  brt_release(debug);
  brt_release(text);
  brt_value_release(inner);
}

static void test_objects_small_and_large(void **state) {
  (void)state;
  brt_value *object = brt_value_object(0);
  char key[32];
  for (int i = 0; i < 5000; i++) {
    int len = snprintf(key, sizeof key, "key%d", i);
    brt_value *value = brt_value_int(i);
    assert_ok(brt_value_object_set(object, key, (size_t)len, value));
    brt_value_release(value);
  }
  size_t length = 0;
  assert_ok(brt_value_object_length(object, &length));
  assert_int_equal(length, 5000);
  for (int i = 0; i < 5000; i += 7) {
    int len = snprintf(key, sizeof key, "key%d", i);
    int64_t got = -1;
    assert_ok(brt_value_get_int(brt_value_object_get(object, key, (size_t)len), &got));
    assert_int_equal(got, i);
  }
  /* Insertion order is kept; replacing keeps the position. */
  brt_value *replacement = brt_value_cstring("new");
  assert_ok(brt_value_object_set(object, "key3", 4, replacement));
  const char *name;
  size_t name_len;
  const brt_value *value;
  assert_ok(brt_value_object_entry(object, 3, &name, &name_len, &value));
  assert_string_equal(name, "key3");
  assert_ptr_equal(value, replacement);
  assert_ok(brt_value_object_length(object, &length));
  assert_int_equal(length, 5000);
  assert_status(brt_value_object_entry(object, 5000, &name, NULL, NULL), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "index 5000");
  assert_null_with(brt_value_object_get(object, "missing", 7), BRT_E_NOT_FOUND);
  assert_last_error(BRT_E_NOT_FOUND, "no key \"missing\"");
  assert_null_with(brt_value_object_get(object, NULL, 1), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_value_object_get(replacement, "a", 1), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected object, got string");
  assert_null_with(brt_value_array_get(object, 0), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected array, got object");
  assert_status(brt_value_object_entry(NULL, 0, &name, NULL, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_value_object_entry(replacement, 0, &name, NULL, NULL), BRT_E_TYPE_MISMATCH);
  assert_status(brt_value_object_length(NULL, &length), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_value_array_length(NULL, &length), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_value_object(SIZE_MAX), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "capacity");
  brt_value_release(replacement);
  brt_value_release(object);
}

static void test_keys_with_nul(void **state) {
  (void)state;
  brt_value *object = brt_value_object(2), *one = brt_value_int(1), *two = brt_value_int(2);
  assert_ok(brt_value_object_set(object, "a\0b", 3, one));
  assert_ok(brt_value_object_set(object, "a", 1, two));
  assert_ptr_equal(brt_value_object_get(object, "a\0b", 3), one);
  assert_ptr_equal(brt_value_object_get(object, "a", 1), two);
  brt_value *empty_key = brt_value_null();
  assert_ok(brt_value_object_set(object, NULL, 0, empty_key));
  assert_ptr_equal(brt_value_object_get(object, "", 0), empty_key);
  brt_value_release(empty_key);
  brt_value_release(one);
  brt_value_release(two);
  brt_value_release(object);
}

static brt_value *parse(const char *text) {
  brt_value *value = brt_value_from_json(text, strlen(text), 0);
  if (!value) fail_msg("parse %s: %s", text, brt_error_message(brt_last_error()));
  return value;
}

static void test_equality(void **state) {
  (void)state;
  brt_value *a = parse("{\"x\":[1,2.5,\"s\",null,true],\"y\":{}}");
  brt_value *b = parse("{\"y\":{},\"x\":[1,2.5,\"s\",null,true]}");
  brt_value *c = parse("{\"y\":{},\"x\":[1.0,2.5,\"s\",null,true]}");
  assert_int_equal(brt_value_equal(a, b), 1); /* key order ignored */
  assert_int_equal(brt_value_equal(a, c), 0); /* int 1 is not float 1.0 */
  brt_value *zero = brt_value_float(0.0), *negative_zero = brt_value_float(-0.0);
  assert_int_equal(brt_value_equal(zero, negative_zero), 0);
  brt_value *nan1 = brt_value_float(NAN), *nan2 = brt_value_float(NAN);
  assert_int_equal(brt_value_equal(nan1, nan2), 1);
  brt_error_clear();
  assert_int_equal(brt_value_equal(a, NULL), 0);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "b is NULL");
  brt_value *e1 = brt_value_array(0), *e2 = brt_value_object(0);
  assert_int_equal(brt_value_equal(e1, e2), 0);
  brt_value_release(e1);
  brt_value_release(e2);
  brt_value_release(zero);
  brt_value_release(negative_zero);
  brt_value_release(nan1);
  brt_value_release(nan2);
  brt_value_release(a);
  brt_value_release(b);
  brt_value_release(c);
}

static void test_debug_string(void **state) {
  (void)state;
  brt_value *value = parse("{\"a\":[1,2.5,\"q\\\"\\u0001\"],\"b\":null}");
  char *text = brt_value_debug_string(value, 0);
  assert_string_equal(text, "{\"a\": [1, 2.5, \"q\\\"\\x01\"], \"b\": null}");
  brt_release(text);
  brt_value_release(value);
  size_t shape[2] = {2, 3};
  brt_value *tensor = brt_tensor_new(BRT_DTYPE_F64, 2, shape);
  text = brt_value_debug_string(tensor, 2);
  assert_string_equal(text, "tensor<f64>[2x3] {0.0, 0.0, ...}");
  brt_release(text);
  brt_value_release(tensor);
  brt_value *bytes = brt_value_bytes("\x00\xFF", 2);
  text = brt_value_debug_string(bytes, 0);
  assert_string_equal(text, "b\"\\x00\\xff\"");
  brt_release(text);
  brt_value_release(bytes);
  brt_value *long_array = parse("[1,2,3,4,5]");
  text = brt_value_debug_string(long_array, 2);
  assert_string_equal(text, "[1, 2, ...(5 items)]");
  brt_release(text);
  brt_value_release(long_array);
  assert_null_with(brt_value_debug_string(NULL, 0), BRT_E_INVALID_ARGUMENT);
}

static void test_no_leaks(void **state) {
  (void)state;
  brt_mem_stats before = {.struct_size = sizeof before}, after = {.struct_size = sizeof after};
  assert_ok(brt_mem_stats_get(&before));
  brt_value *value = parse("{\"a\":[1,{\"b\":[\"x\",2.5]}],\"c\":\"long string here\"}");
  char *text = brt_value_to_json(value, 0);
  brt_release(text);
  brt_value_release(value);
  assert_ok(brt_mem_stats_get(&after));
  assert_int_equal(after.live_blocks, before.live_blocks);
}

/* A failing call returns the status of its own failure and records it, even
 * when an unrelated error is still pending from earlier (a status read back
 * from the last error would return the stale one, or BRT_OK when a callee
 * failed without recording). */
#define STALE() brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL, "stale")
#define assert_own_failure(expr, code)                                                        \
  do {                                                                                        \
    STALE();                                                                                  \
    brt_status got_ = (expr);                                                                 \
    assert_string_equal(brt_status_name(got_), brt_status_name(code));                        \
    assert_int_equal(brt_error_code(brt_last_error()), got_);                                 \
    assert_string_not_equal(brt_error_message(brt_last_error()), "stale");                    \
  } while (0)

static void test_status_is_the_failure(void **state) {
  (void)state;
  brt_value *text = brt_value_cstring("x"), *array = brt_value_array(0), *outer = brt_value_array(0);
  int64_t integer = 0;
  assert_own_failure(brt_value_get_int(NULL, &integer), BRT_E_INVALID_ARGUMENT);
  assert_own_failure(brt_value_get_int(text, &integer), BRT_E_TYPE_MISMATCH);
  assert_own_failure(brt_value_get_int(text, NULL), BRT_E_INVALID_ARGUMENT);
  assert_ok(brt_value_array_push(outer, array));
  assert_own_failure(brt_value_array_push(array, text), BRT_E_PERMISSION); /* sealed */
  brt_value *object = brt_value_object(0);
  assert_own_failure(brt_value_object_set(object, "\xff", 1, text), BRT_E_INVALID_ARGUMENT);
  size_t length = 0;
  assert_own_failure(brt_value_object_length(text, &length), BRT_E_TYPE_MISMATCH);
  size_t shape[] = {2}, index[] = {2};
  brt_value *tensor = brt_tensor_new(BRT_DTYPE_F64, 1, shape);
  double number = 0;
  assert_own_failure(brt_tensor_get_f64(tensor, index, 1, &number), BRT_E_OUT_OF_RANGE);
  assert_own_failure(brt_tensor_set_i64(text, index, 1, 1), BRT_E_TYPE_MISMATCH);
  assert_own_failure(brt_validate(NULL, text), BRT_E_INVALID_ARGUMENT);

  /* The allocator's refusal inside a container's growth keeps its code. */
  brt_value *grown = brt_value_array(0);
  brt_mem_budget budget = {.struct_size = sizeof budget, .limit = 4096, .label = "test"};
  assert_ok(brt_mem_budget_begin(&budget));
  brt_status status = BRT_OK;
  for (int k = 0; k < 4096 && status == BRT_OK; k++) {
    STALE();
    status = brt_value_array_push(grown, text);
  }
  assert_ok(brt_mem_budget_end(&budget));
  assert_string_equal(brt_status_name(status), brt_status_name(BRT_E_LIMIT_EXCEEDED));
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "test");
  brt_error_clear();
  brt_value_release(grown);
  brt_value_release(tensor);
  brt_value_release(object);
  brt_value_release(outer);
  brt_value_release(array);
  brt_value_release(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scalars_and_accessors),
      cmocka_unit_test(test_type_mismatch_names_both_kinds),
      cmocka_unit_test(test_accessor_bad_arguments),
      cmocka_unit_test(test_references),
      cmocka_unit_test(test_strings_with_nul_and_utf8),
      cmocka_unit_test(test_ten_megabyte_string),
      cmocka_unit_test(test_bytes),
      cmocka_unit_test(test_arrays),
      cmocka_unit_test(test_builder_bad_arguments_change_nothing),
      cmocka_unit_test(test_nesting_limit),
      cmocka_unit_test(test_objects_small_and_large),
      cmocka_unit_test(test_keys_with_nul),
      cmocka_unit_test(test_equality),
      cmocka_unit_test(test_debug_string),
      cmocka_unit_test(test_status_is_the_failure),
      cmocka_unit_test(test_no_leaks),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
