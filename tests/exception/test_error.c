/* The error model through the public ABI (abi.md). */
#include "brt_test.h"

#include <errno.h>
#include <pthread.h>

static bool is_valid_utf8(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    int extra = *p < 0x80 ? 0 : (*p >> 5) == 0x6 ? 1 : (*p >> 4) == 0xE ? 2 : (*p >> 3) == 0x1E ? 3 : -1;
    if (extra < 0) return false;
    p++;
    for (int i = 0; i < extra; i++, p++)
      if ((*p & 0xC0) != 0x80) return false;
  }
  return true;
}

static void test_every_status_has_a_unique_name_and_a_sentence(void **state) {
  (void)state;
  for (int i = 0; i < BRT_STATUS_COUNT; i++) {
    const char *name = brt_status_name((brt_status)i);
    const char *text = brt_status_describe((brt_status)i);
    assert_non_null(name);
    assert_true(strncmp(name, "BRT_", 4) == 0);
    assert_true(strlen(text) > 10);
    assert_int_equal(text[strlen(text) - 1], '.');
    for (int j = 0; j < i; j++) assert_string_not_equal(name, brt_status_name((brt_status)j));
  }
  assert_string_equal(brt_status_name(BRT_OK), "BRT_OK");
  assert_string_equal(brt_status_name(BRT_E_OUT_OF_RANGE), "BRT_E_OUT_OF_RANGE");
  assert_string_equal(brt_status_name(BRT_E_INTERNAL), "BRT_E_INTERNAL");
  /* The numeric values are the contract: spot-check the order. */
  assert_int_equal(BRT_E_INVALID_ARGUMENT, 1);
  assert_int_equal(BRT_E_CPP_EXCEPTION, 13);
  assert_int_equal(BRT_E_RUST_PANIC, 14);
  assert_int_equal(BRT_E_INTERNAL, 23);
}

static void test_unknown_status_and_origin_values_are_answered(void **state) {
  (void)state;
  assert_string_equal(brt_status_name((brt_status)123), "BRT_E_UNKNOWN(123)");
  assert_string_equal(brt_status_name((brt_status)-1), "BRT_E_UNKNOWN(-1)");
  assert_non_null(strstr(brt_status_describe((brt_status)999), "unknown"));
  assert_string_equal(brt_origin_name(BRT_ORIGIN_CPP), "cpp");
  assert_string_equal(brt_origin_name((brt_origin)77), "unknown");
}

static void test_set_records_code_origin_type_and_message(void **state) {
  (void)state;
  brt_error_clear();
  assert_null(brt_last_error());
  assert_int_equal(brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_CPP, "std::out_of_range",
                                 "index %d is past the end (%zu)", 7, (size_t)3),
                   BRT_E_OUT_OF_RANGE);
  const brt_error *error = brt_last_error();
  assert_non_null(error);
  assert_int_equal(brt_error_code(error), BRT_E_OUT_OF_RANGE);
  assert_int_equal(brt_error_origin(error), BRT_ORIGIN_CPP);
  assert_string_equal(brt_error_type(error), "std::out_of_range");
  assert_string_equal(brt_error_message(error), "index 7 is past the end (3)");
  assert_int_equal(brt_error_os_code(error), 0);
  assert_null(brt_error_cause(error));
  /* A successful call does not clear it; brt_error_clear does. */
  assert_string_equal(brt_status_name(BRT_OK), "BRT_OK");
  assert_non_null(brt_last_error());
  brt_error_clear();
  assert_null(brt_last_error());
  /* NULL format: the code's own sentence. C errors have no type. */
  brt_error_set(BRT_E_TIMEOUT, BRT_ORIGIN_C, NULL, NULL);
  assert_string_equal(brt_error_message(brt_last_error()), brt_status_describe(BRT_E_TIMEOUT));
  assert_null(brt_error_type(brt_last_error()));
}

static void test_set_refuses_ok_and_unknown_codes(void **state) {
  (void)state;
  assert_int_equal(brt_error_set(BRT_OK, BRT_ORIGIN_C, NULL, "fine"), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "must be an error code");
  assert_int_equal(brt_error_set((brt_status)500, BRT_ORIGIN_C, NULL, "x"), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "500");
  assert_int_equal(brt_error_set(BRT_E_IO, (brt_origin)9, NULL, "x"), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "origin");
}

/* Hidden from the compiler so it cannot warn about the NULL at build time:
 * the point is what happens at run time. */
static const char *volatile null_string = NULL;

static void test_format_of_null_string_argument(void **state) {
  (void)state;
  const char *missing = null_string;
  brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL, "no algorithm named %s", missing);
  /* glibc prints "(null)": defined, not a crash. */
  assert_string_equal(brt_error_message(brt_last_error()), "no algorithm named (null)");
}

static void test_long_messages_are_cut_on_a_character_boundary(void **state) {
  (void)state;
  /* 'é' is two bytes: an odd prefix puts the byte limit inside one. */
  for (int prefix = 0; prefix < 4; prefix++) {
    char text[4000];
    size_t n = 0;
    for (int i = 0; i < prefix; i++) text[n++] = 'a';
    while (n + 2 < sizeof text - 1) {
      text[n++] = (char)0xC3;
      text[n++] = (char)0xA9;
    }
    text[n] = '\0';
    brt_error_set(BRT_E_VALIDATION, BRT_ORIGIN_C, NULL, "%s", text);
    const char *message = brt_error_message(brt_last_error());
    size_t len = strlen(message);
    assert_true(len < BRT_ERROR_MESSAGE_MAX);
    assert_true(len > BRT_ERROR_MESSAGE_MAX - 8);
    assert_true(is_valid_utf8(message));
    assert_string_equal(message + len - strlen(BRT_ERROR_TRUNCATION_MARK), BRT_ERROR_TRUNCATION_MARK);
  }
  /* Exactly at the limit: no cut. */
  char fits[BRT_ERROR_MESSAGE_MAX];
  memset(fits, 'x', sizeof fits - 1);
  fits[sizeof fits - 1] = '\0';
  brt_error_set(BRT_E_VALIDATION, BRT_ORIGIN_C, NULL, "%s", fits);
  assert_string_equal(brt_error_message(brt_last_error()), fits);
  /* Type names are bounded too. */
  char type[1000];
  memset(type, 'T', sizeof type - 1);
  type[sizeof type - 1] = '\0';
  brt_error_set(BRT_E_CPP_EXCEPTION, BRT_ORIGIN_CPP, type, "long type");
  assert_true(strlen(brt_error_type(brt_last_error())) < BRT_ERROR_NAME_MAX);
}

typedef struct thread_case {
  brt_status code;
  int rounds;
  bool ok;
  pthread_barrier_t *barrier;
} thread_case;

static void *fail_repeatedly(void *arg) {
  thread_case *tc = arg;
  pthread_barrier_wait(tc->barrier);
  tc->ok = true;
  for (int i = 0; i < tc->rounds; i++) {
    brt_error_set(tc->code, BRT_ORIGIN_C, NULL, "thread code %d round %d", (int)tc->code, i);
    const brt_error *error = brt_last_error();
    char want[64];
    snprintf(want, sizeof want, "thread code %d round %d", (int)tc->code, i);
    if (!error || brt_error_code(error) != tc->code || strcmp(brt_error_message(error), want) != 0)
      tc->ok = false;
    if (i % 7 == 0) brt_error_free(brt_error_take());
  }
  return NULL;
}

static void test_last_error_is_per_thread(void **state) {
  (void)state;
  pthread_barrier_t barrier;
  pthread_barrier_init(&barrier, NULL, 2);
  thread_case a = {BRT_E_IO, 20000, false, &barrier}, b = {BRT_E_TIMEOUT, 20000, false, &barrier};
  pthread_t ta, tb;
  brt_error_set(BRT_E_EXISTS, BRT_ORIGIN_C, NULL, "main thread's own");
  pthread_create(&ta, NULL, fail_repeatedly, &a);
  pthread_create(&tb, NULL, fail_repeatedly, &b);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  pthread_barrier_destroy(&barrier);
  assert_true(a.ok);
  assert_true(b.ok);
  assert_last_error(BRT_E_EXISTS, "main thread's own");
}

static void *take_in_thread(void *arg) {
  (void)arg;
  brt_error_set(BRT_E_CONVERSION, BRT_ORIGIN_RUST, "alloc::string::String", "from a worker");
  return brt_error_take();
}

static void test_take_moves_the_error_across_threads(void **state) {
  (void)state;
  pthread_t worker;
  void *taken = NULL;
  pthread_create(&worker, NULL, take_in_thread, NULL);
  pthread_join(worker, &taken);
  brt_error *error = taken;
  assert_non_null(error);
  /* A later failure on this thread does not disturb the taken error. */
  brt_error_set(BRT_E_IO, BRT_ORIGIN_C, NULL, "unrelated");
  assert_int_equal(brt_error_code(error), BRT_E_CONVERSION);
  assert_string_equal(brt_error_message(error), "from a worker");
  assert_string_equal(brt_error_type(error), "alloc::string::String");
  assert_int_equal(brt_error_origin(error), BRT_ORIGIN_RUST);
  /* Restore makes it this thread's last error again (ownership moves). */
  assert_ok(brt_error_restore(error));
  assert_ptr_equal(brt_last_error(), error);
  brt_error *again = brt_error_take();
  assert_ptr_equal(again, error);
  assert_null(brt_last_error());
  assert_null(brt_error_take());
  brt_error_free(again);
  brt_error_free(NULL);
  assert_status(brt_error_restore(NULL), BRT_E_INVALID_ARGUMENT);
}

static void test_cause_chains(void **state) {
  (void)state;
  brt_error_set_os(BRT_E_IO, ENOENT, "open %s failed", "/nope/plugin.so");
  brt_error_wrap(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL, "loading plugin %s failed", "plugin.so");
  brt_error_wrap(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL, "loading directory failed");
  const brt_error *top = brt_last_error();
  assert_string_equal(brt_error_message(top), "loading directory failed");
  const brt_error *middle = brt_error_cause(top);
  assert_non_null(middle);
  assert_string_equal(brt_error_message(middle), "loading plugin plugin.so failed");
  const brt_error *root = brt_error_cause(middle);
  assert_non_null(root);
  assert_int_equal(brt_error_os_code(root), ENOENT);
  assert_string_equal(brt_error_os_category(root), "generic");
  assert_int_equal(brt_error_origin(root), BRT_ORIGIN_OS);
  assert_null(brt_error_cause(root));

  char text[512];
  size_t needed = brt_error_format(top, text, sizeof text);
  assert_int_equal(needed, strlen(text));
  assert_non_null(strstr(text, "BRT_E_PLUGIN (c): loading directory failed; caused by: "));
  assert_non_null(strstr(text, "generic error 2"));
  char tiny[8];
  assert_int_equal(brt_error_format(top, tiny, sizeof tiny), needed);
  assert_int_equal(strlen(tiny), 7);
  assert_int_equal(brt_error_format(top, NULL, 0), needed);

  brt_error *copy = brt_error_clone(top);
  assert_non_null(copy);
  brt_error_clear();
  assert_string_equal(brt_error_message(brt_error_cause(brt_error_cause(copy))),
                      "open /nope/plugin.so failed");
  brt_error_free(copy);
  assert_null_with(brt_error_clone(NULL), BRT_E_INVALID_ARGUMENT);

  /* Depth is bounded: deep chains are cut, never unbounded. */
  brt_error_clear();
  brt_error_set(BRT_E_IO, BRT_ORIGIN_C, NULL, "root");
  for (int i = 0; i < 100; i++) brt_error_wrap(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL, "level %d", i);
  int depth = 0;
  for (const brt_error *e = brt_last_error(); e; e = brt_error_cause(e)) depth++;
  assert_int_equal(depth, BRT_ERROR_CAUSE_DEPTH_MAX);
  brt_error_clear();
}

static void test_record_carries_everything(void **state) {
  (void)state;
  brt_error_set(BRT_E_IO, BRT_ORIGIN_OS, NULL, "inner");
  brt_error *inner = brt_error_take();
  brt_error_info info = {
      .struct_size = sizeof info,
      .code = BRT_E_IO,
      .origin = BRT_ORIGIN_CPP,
      .type = "std::filesystem::__cxx11::filesystem_error",
      .message = "filesystem error: cannot copy",
      .os_code = EACCES,
      .os_category = "generic",
      .path1 = "/a",
      .path2 = "/b",
      .cause = inner,
  };
  assert_int_equal(brt_error_record(&info), BRT_E_IO);
  const brt_error *error = brt_last_error();
  assert_string_equal(brt_error_path(error, 0), "/a");
  assert_string_equal(brt_error_path(error, 1), "/b");
  assert_null(brt_error_path(error, 2));
  assert_int_equal(brt_error_os_code(error), EACCES);
  assert_ptr_equal(brt_error_cause(error), inner);
  /* Passing the live record as cause moves it underneath. */
  brt_error_info wrap = {.struct_size = sizeof wrap, .code = BRT_E_PLUGIN, .origin = BRT_ORIGIN_C,
                         .message = "outer", .cause = (brt_error *)brt_last_error()};
  brt_error_record(&wrap);
  assert_string_equal(brt_error_message(brt_error_cause(brt_last_error())),
                      "filesystem error: cannot copy");
  /* Misuse. */
  assert_status(brt_error_record(NULL), BRT_E_INVALID_ARGUMENT);
  brt_error_info small = {.struct_size = 4, .code = BRT_E_IO};
  assert_status(brt_error_record(&small), BRT_E_INVALID_ARGUMENT);
  brt_error_info ok_code = {.struct_size = sizeof ok_code, .code = BRT_OK};
  assert_status(brt_error_record(&ok_code), BRT_E_INVALID_ARGUMENT);
  /* Readers accept NULL. */
  assert_int_equal(brt_error_code(NULL), BRT_OK);
  assert_string_equal(brt_error_message(NULL), "");
  assert_null(brt_error_type(NULL));
  assert_null(brt_error_cause(NULL));
  assert_null(brt_error_os_category(NULL));
  assert_null(brt_error_path(NULL, 0));
  assert_int_equal(brt_error_os_code(NULL), 0);
  brt_error_clear();
}

static void test_counters_count_recorded_errors(void **state) {
  (void)state;
  uint64_t before = 0, after = 0;
  assert_ok(brt_error_count_get(BRT_E_DOUBLE_FREE, BRT_ORIGIN_RUST, &before));
  for (int i = 0; i < 5; i++) brt_error_set(BRT_E_DOUBLE_FREE, BRT_ORIGIN_RUST, NULL, "x");
  assert_ok(brt_error_count_get(BRT_E_DOUBLE_FREE, BRT_ORIGIN_RUST, &after));
  assert_int_equal(after - before, 5);
  assert_status(brt_error_count_get(BRT_E_IO, BRT_ORIGIN_C, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_error_count_get(BRT_OK, BRT_ORIGIN_C, &after), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_error_count_get((brt_status)99, BRT_ORIGIN_C, &after), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_error_count_get(BRT_E_IO, (brt_origin)99, &after), BRT_E_INVALID_ARGUMENT);
}

/* Translators: the exception object here is a plain int, as a shim would
 * pass a pointer to its own exception representation. */
static int translate_small(void *ctx, brt_origin origin, const void *exception, brt_translation *out) {
  (void)ctx;
  if (origin != BRT_ORIGIN_CPP || *(const int *)exception >= 100) return 0;
  out->code = BRT_E_OUT_OF_RANGE;
  snprintf(out->message, sizeof out->message, "small %d", *(const int *)exception);
  return 1;
}

static int translate_any(void *ctx, brt_origin origin, const void *exception, brt_translation *out) {
  (void)origin;
  (void)exception;
  out->code = (brt_status)(intptr_t)ctx;
  return 1;
}

static int translator_that_registers(void *ctx, brt_origin origin, const void *exception,
                                     brt_translation *out) {
  (void)origin;
  (void)exception;
  *(brt_status *)ctx = brt_error_translator_register(translate_any, NULL);
  out->code = BRT_E_CPP_EXCEPTION;
  return 1;
}

static void test_translators(void **state) {
  (void)state;
  brt_translation out;
  int value = 5;
  assert_int_equal(brt_error_translate(BRT_ORIGIN_CPP, &value, &out), BRT_E_NOT_FOUND);
  assert_ok(brt_error_translator_register(translate_any, (void *)(intptr_t)BRT_E_TYPE_MISMATCH));
  assert_ok(brt_error_translator_register(translate_small, NULL));
  assert_status(brt_error_translator_register(translate_small, NULL), BRT_E_EXISTS);
  /* Most recent first: translate_small claims 5, declines 500. */
  assert_ok(brt_error_translate(BRT_ORIGIN_CPP, &value, &out));
  assert_int_equal(out.code, BRT_E_OUT_OF_RANGE);
  assert_string_equal(out.message, "small 5");
  value = 500;
  assert_ok(brt_error_translate(BRT_ORIGIN_CPP, &value, &out));
  assert_int_equal(out.code, BRT_E_TYPE_MISMATCH);
  assert_string_equal(out.message, "");
  /* A translator claiming with an invalid code still yields an error code. */
  assert_ok(brt_error_translator_register(translate_any, (void *)(intptr_t)0));
  assert_ok(brt_error_translate(BRT_ORIGIN_CPP, &value, &out));
  assert_int_equal(out.code, BRT_E_INTERNAL);
  assert_ok(brt_error_translator_unregister(translate_any, (void *)(intptr_t)0));
  /* Changing the registry from inside a translator is refused, not a deadlock. */
  brt_status inner = BRT_OK;
  assert_ok(brt_error_translator_register(translator_that_registers, &inner));
  assert_ok(brt_error_translate(BRT_ORIGIN_CPP, &value, &out));
  assert_int_equal(inner, BRT_E_INVALID_ARGUMENT);
  assert_ok(brt_error_translator_unregister(translator_that_registers, &inner));
  /* Cleanup and misuse. */
  assert_ok(brt_error_translator_unregister(translate_small, NULL));
  assert_ok(brt_error_translator_unregister(translate_any, (void *)(intptr_t)BRT_E_TYPE_MISMATCH));
  assert_status(brt_error_translator_unregister(translate_small, NULL), BRT_E_NOT_FOUND);
  assert_status(brt_error_translator_register(NULL, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_error_translator_unregister(NULL, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_error_translate(BRT_ORIGIN_CPP, &value, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_error_translate((brt_origin)42, &value, &out), BRT_E_INVALID_ARGUMENT);
}

static void test_version(void **state) {
  (void)state;
  assert_int_equal(brt_version(), BRT_VERSION_HEX);
  assert_int_equal(brt_abi_version(), BRT_ABI_VERSION);
  char expected[32];
  snprintf(expected, sizeof expected, "%d.%d.%d", BRT_VERSION_MAJOR, BRT_VERSION_MINOR, BRT_VERSION_PATCH);
  assert_string_equal(brt_version_string(), expected);
  const char *meson_version = getenv("BRT_PROJECT_VERSION");
  if (meson_version) assert_string_equal(brt_version_string(), meson_version);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_status_has_a_unique_name_and_a_sentence),
      cmocka_unit_test(test_unknown_status_and_origin_values_are_answered),
      cmocka_unit_test(test_set_records_code_origin_type_and_message),
      cmocka_unit_test(test_set_refuses_ok_and_unknown_codes),
      cmocka_unit_test(test_format_of_null_string_argument),
      cmocka_unit_test(test_long_messages_are_cut_on_a_character_boundary),
      cmocka_unit_test(test_last_error_is_per_thread),
      cmocka_unit_test(test_take_moves_the_error_across_threads),
      cmocka_unit_test(test_cause_chains),
      cmocka_unit_test(test_record_carries_everything),
      cmocka_unit_test(test_counters_count_recorded_errors),
      cmocka_unit_test(test_translators),
      cmocka_unit_test(test_version),
  };
  return cmocka_run_group_tests_name("exception", tests, NULL, NULL);
}
