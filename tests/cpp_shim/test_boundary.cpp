// The exception boundary: every standard exception type, foreign throws,
// what() that misbehaves, nested causes, brt::error round trips and
// thread cancellation. Checked through the C API.
#include <pthread.h>
#include <unistd.h>

#include <any>
#include <atomic>
#include <cerrno>
#include <filesystem>
#include <functional>
#include <future>
#include <ios>
#include <memory>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <typeinfo>
#include <variant>
#include <vector>

#include "cpp_test.hpp"

namespace app {
struct plain_failure {};
struct base_shape {
  virtual ~base_shape() = default;
};
struct circle : base_shape {};
struct square : base_shape {};
class index_error : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};
}  // namespace app

// --- The default table (abi.md) -----------------------------------------

static void test_guard_success(void **state) {
  (void)state;
  brt_error_clear();
  int ran = 0;
  assert_int_equal(brt::guard([&] { ran = 1; }), BRT_OK);
  assert_int_equal(ran, 1);
  assert_null(brt_last_error());
  // A body that returns a status passes it on.
  assert_int_equal(brt::guard([] { return BRT_E_NOT_FOUND; }), BRT_E_NOT_FOUND);
}

static void test_logic_errors(void **state) {
  (void)state;
  assert_guard_records(BRT_E_INVALID_ARGUMENT, "std::invalid_argument",
                       throw std::invalid_argument("width must be positive"));
  assert_string_equal(brt_error_message(last()), "width must be positive");
  assert_int_equal(brt_error_os_code(last()), 0);
  assert_null(brt_error_cause(last()));
  assert_guard_records(BRT_E_INVALID_ARGUMENT, "std::domain_error", throw std::domain_error("sqrt(-1)"));
  assert_guard_records(BRT_E_OUT_OF_RANGE, "std::out_of_range", throw std::out_of_range("index 7"));
  assert_string_equal(brt_error_message(last()), "index 7");
  assert_guard_records(BRT_E_OUT_OF_RANGE, "std::length_error", throw std::length_error("too long"));
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::logic_error", throw std::logic_error("logic"));
  std::vector<int> numbers(3);
  assert_guard_records(BRT_E_OUT_OF_RANGE, "std::out_of_range", numbers.at(10) = 1);
  assert_contains(brt_error_message(last()), "10");
  std::string text = "abc";
  assert_guard_records(BRT_E_OUT_OF_RANGE, "std::out_of_range", (void)text.substr(9));
  assert_guard_records(BRT_E_INVALID_ARGUMENT, "std::invalid_argument", (void)std::stoi("zebra"));
  assert_guard_records(BRT_E_OUT_OF_RANGE, "std::out_of_range",
                       (void)std::stoi("99999999999999999999"));
  // A user type deriving from a standard one gets its base's status and its
  // own name.
  assert_guard_records(BRT_E_OUT_OF_RANGE, "app::index_error", throw app::index_error("row 5"));
  assert_string_equal(brt_error_message(last()), "row 5");
}

static void test_runtime_errors(void **state) {
  (void)state;
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::runtime_error", throw std::runtime_error("boom"));
  assert_string_equal(brt_error_message(last()), "boom");
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::range_error", throw std::range_error("r"));
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::overflow_error", throw std::overflow_error("o"));
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::underflow_error", throw std::underflow_error("u"));
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::regex_error",
                       throw std::regex_error(std::regex_constants::error_paren));
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::bad_exception", throw std::bad_exception());
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::exception", throw std::exception());
  assert_string_equal(brt_error_message(last()), "std::exception");
}

// Stores the allocation so the compiler cannot elide it.
static char *volatile escaped_allocation;

static void test_bad_alloc(void **state) {
  (void)state;
  assert_guard_records(BRT_E_OUT_OF_MEMORY, "std::bad_alloc", throw std::bad_alloc());
  assert_guard_records(BRT_E_OUT_OF_MEMORY, "std::bad_array_new_length",
                       throw std::bad_array_new_length());
#if !BRT_TEST_ASAN
  // A real one: more than the address space. (AddressSanitizer's operator
  // new reports and aborts instead of throwing, so not under ASan.)
  volatile std::size_t huge = static_cast<std::size_t>(1) << 62;
  assert_guard_records(BRT_E_OUT_OF_MEMORY, "std::bad_alloc", escaped_allocation = new char[huge]);
  assert_null(escaped_allocation);
#endif
}

static void test_type_errors(void **state) {
  (void)state;
  app::circle round;
  app::base_shape &shape = round;
  assert_guard_records(BRT_E_TYPE_MISMATCH, "std::bad_cast", (void)dynamic_cast<app::square &>(shape));
  std::any holder = std::string("text");
  assert_guard_records(BRT_E_TYPE_MISMATCH, "std::bad_any_cast", (void)std::any_cast<int>(holder));
  std::variant<int, std::string> either = 3;
  assert_guard_records(BRT_E_TYPE_MISMATCH, "std::bad_variant_access",
                       (void)std::get<std::string>(either));
  // Standard failures without an entry in the table.
  std::optional<int> nothing;
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::bad_optional_access", (void)nothing.value());
  std::function<void()> empty;
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::bad_function_call", empty());
  std::shared_ptr<int> gone;
  {
    auto owner = std::make_shared<int>(1);
    std::weak_ptr<int> weak = owner;
    owner.reset();
    assert_guard_records(BRT_E_CPP_EXCEPTION, "std::bad_weak_ptr", gone = std::shared_ptr<int>(weak));
  }
  app::base_shape *no_shape = nullptr;
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::bad_typeid", (void)typeid(*no_shape));
}

static void test_system_errors(void **state) {
  (void)state;
  assert_guard_records(BRT_E_IO, "std::system_error",
                       throw std::system_error(ECONNREFUSED, std::system_category(), "connect"));
  assert_int_equal(brt_error_os_code(last()), ECONNREFUSED);
  assert_string_equal(brt_error_os_category(last()), "system");
  assert_contains(brt_error_message(last()), "connect");
  assert_guard_records(BRT_E_IO, "std::system_error",
                       throw std::system_error(std::make_error_code(std::errc::timed_out)));
  assert_int_equal(brt_error_os_code(last()), ETIMEDOUT);
  assert_string_equal(brt_error_os_category(last()), "generic");
  assert_guard_records(BRT_E_IO, "std::ios_base::failure",
                       throw std::ios_base::failure("stream broke"));
  assert_string_equal(brt_error_os_category(last()), "iostream");
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::future_error",
                       throw std::future_error(std::future_errc::no_state));
  assert_string_equal(brt_error_os_category(last()), "future");
  assert_int_equal(brt_error_os_code(last()), static_cast<int>(std::future_errc::no_state));
}

static void test_filesystem_errors(void **state) {
  (void)state;
  assert_guard_records(BRT_E_IO, "std::filesystem::filesystem_error",
                       (void)std::filesystem::file_size("/nonexistent/bridgert/file"));
  assert_int_equal(brt_error_os_code(last()), ENOENT);
  assert_string_equal(brt_error_path(last(), 0), "/nonexistent/bridgert/file");
  assert_null(brt_error_path(last(), 1));
  assert_guard_records(BRT_E_IO, "std::filesystem::filesystem_error",
                       std::filesystem::copy_file("/nonexistent/a", "/nonexistent/b"));
  assert_string_equal(brt_error_path(last(), 0), "/nonexistent/a");
  assert_string_equal(brt_error_path(last(), 1), "/nonexistent/b");
  assert_int_equal(brt_error_os_code(last()), ENOENT);
}

// --- Things that are not std::exception -------------------------------------------

static void test_foreign_throws(void **state) {
  (void)state;
  assert_guard_records(BRT_E_CPP_EXCEPTION, "int", throw 42);
  assert_contains(brt_error_message(last()), "42");
  assert_guard_records(BRT_E_CPP_EXCEPTION, "char const*", throw "disk on fire");
  assert_string_equal(brt_error_message(last()), "disk on fire");
  assert_guard_records(BRT_E_CPP_EXCEPTION, "double", throw 2.5);
  assert_contains(brt_error_message(last()), "2.5");
  assert_guard_records(BRT_E_CPP_EXCEPTION, "unsigned long", throw 7ul);
  assert_contains(brt_error_message(last()), "7");
  assert_guard_records(BRT_E_CPP_EXCEPTION, "bool", throw true);
  assert_contains(brt_error_message(last()), "true");
  assert_guard_records(BRT_E_CPP_EXCEPTION,
                       "std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
                       throw std::string("a string"));
  assert_string_equal(brt_error_message(last()), "a string");
  assert_guard_records(BRT_E_CPP_EXCEPTION, "app::plain_failure", throw app::plain_failure());
  assert_contains(brt_error_message(last()), "app::plain_failure");
  assert_contains(brt_error_message(last()), "not a std::exception");
  const char *null_text = nullptr;
  assert_guard_records(BRT_E_CPP_EXCEPTION, "char const*", throw null_text);
}

static void test_misbehaving_what(void **state) {
  (void)state;
  assert_guard_records(BRT_E_CPP_EXCEPTION, "app::null_what", throw app::null_what());
  assert_contains(brt_error_message(last()), "null pointer");
  assert_guard_records(BRT_E_CPP_EXCEPTION, "app::empty_what", throw app::empty_what());
  assert_contains(brt_error_message(last()), "empty");
}

static void test_long_message_is_cut(void **state) {
  (void)state;
  std::string text(5000, 'x');
  text += "\xC3\xA9";  // a two-byte character at the end
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::runtime_error", throw std::runtime_error(text));
  std::size_t len = std::strlen(brt_error_message(last()));
  assert_true(len < BRT_ERROR_MESSAGE_MAX);
  assert_contains(brt_error_message(last()), BRT_ERROR_TRUNCATION_MARK);
}

// --- Nested causes -------------------------------------------------------------------

static void test_nested_chain(void **state) {
  (void)state;
  assert_guard_records(BRT_E_INVALID_ARGUMENT, "std::invalid_argument", {
    try {
      try {
        throw std::system_error(EACCES, std::generic_category(), "open /etc/shadow");
      } catch (...) {
        std::throw_with_nested(std::runtime_error("reading the configuration failed"));
      }
    } catch (...) {
      std::throw_with_nested(std::invalid_argument("config path is unusable"));
    }
  });
  const brt_error *top = last();
  assert_string_equal(brt_error_message(top), "config path is unusable");
  const brt_error *middle = brt_error_cause(top);
  assert_non_null(middle);
  assert_int_equal(brt_error_code(middle), BRT_E_CPP_EXCEPTION);
  assert_string_equal(brt_error_type(middle), "std::runtime_error");
  assert_string_equal(brt_error_message(middle), "reading the configuration failed");
  const brt_error *bottom = brt_error_cause(middle);
  assert_non_null(bottom);
  assert_int_equal(brt_error_code(bottom), BRT_E_IO);
  assert_string_equal(brt_error_type(bottom), "std::system_error");
  assert_int_equal(brt_error_os_code(bottom), EACCES);
  assert_int_equal(brt_error_origin(bottom), BRT_ORIGIN_CPP);
  assert_null(brt_error_cause(bottom));
  char line[2048];
  brt_error_format(top, line, sizeof line);
  assert_contains(line, "caused by");
  assert_contains(line, "open /etc/shadow");
}

static void test_nested_foreign(void **state) {
  (void)state;
  // A class that is not a std::exception can carry a nested cause too.
  assert_guard_records(BRT_E_CPP_EXCEPTION, "app::plain_failure", {
    try {
      throw 17;
    } catch (...) {
      std::throw_with_nested(app::plain_failure());
    }
  });
  const brt_error *cause = brt_error_cause(last());
  assert_non_null(cause);
  assert_string_equal(brt_error_type(cause), "int");
  assert_contains(brt_error_message(cause), "17");
}

static void throw_nested(int depth) {
  if (depth == 0) throw std::out_of_range("deepest");
  try {
    throw_nested(depth - 1);
  } catch (...) {
    std::throw_with_nested(std::runtime_error("level " + std::to_string(depth)));
  }
}

static void test_nested_depth_is_bounded(void **state) {
  (void)state;
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::runtime_error", throw_nested(40));
  int depth = 0;
  for (const brt_error *e = last(); e; e = brt_error_cause(e)) depth++;
  assert_true(depth >= 2);
  assert_true(depth <= BRT_ERROR_CAUSE_DEPTH_MAX);
}

// --- brt::error in both directions -------------------------------------------------------

static void test_brt_error_round_trip(void **state) {
  (void)state;
  // An error raised elsewhere (here: as if by the Rust shim) crosses C++
  // frames as brt::error and is restored unchanged at the next guard.
  brt_error_set(BRT_E_RUST_PANIC, BRT_ORIGIN_RUST, "core::panic", "index out of bounds: %d", 9);
  brt_status status = brt::guard([] { brt::check(BRT_E_RUST_PANIC); });
  assert_int_equal(status, BRT_E_RUST_PANIC);
  assert_int_equal(brt_error_origin(last()), BRT_ORIGIN_RUST);
  assert_string_equal(brt_error_type(last()), "core::panic");
  assert_string_equal(brt_error_message(last()), "index out of bounds: 9");

  // A brt::error made in C++.
  assert_guard_records(BRT_E_NOT_FOUND, "brt::error",
                       throw brt::error(BRT_E_NOT_FOUND, "no algorithm named \"mul\""));
  assert_string_equal(brt_error_message(last()), "no algorithm named \"mul\"");

  // Nested: a brt::error as a cause keeps its code.
  assert_guard_records(BRT_E_CPP_EXCEPTION, "std::runtime_error", {
    try {
      throw brt::error(BRT_E_TIMEOUT, "solver timed out");
    } catch (...) {
      std::throw_with_nested(std::runtime_error("step 3 failed"));
    }
  });
  assert_int_equal(brt_error_code(brt_error_cause(last())), BRT_E_TIMEOUT);

  // A brt::error thrown with a nested cause keeps its record and gains the cause.
  assert_guard_records(BRT_E_NOT_FOUND, "brt::error", {
    try {
      throw std::out_of_range("key 'k' absent");
    } catch (...) {
      std::throw_with_nested(brt::error(BRT_E_NOT_FOUND, "lookup of 'k' failed"));
    }
  });
  assert_string_equal(brt_error_message(last()), "lookup of 'k' failed");
  assert_non_null(brt_error_cause(last()));
  assert_string_equal(brt_error_type(brt_error_cause(last())), "std::out_of_range");
}

static void test_check(void **state) {
  (void)state;
  brt::check(BRT_OK);
  try {
    brt::check(brt_error_translator_register(nullptr, nullptr));
    fail_msg("check did not throw");
  } catch (const brt::error &e) {
    assert_int_equal(e.code(), BRT_E_INVALID_ARGUMENT);
    assert_int_equal(e.origin(), BRT_ORIGIN_C);
    assert_null(e.type());
    assert_contains(e.what(), "fn is NULL");
    assert_false(e.cause().has_value());
    std::string described = e.describe();
    assert_contains(described.c_str(), "BRT_E_INVALID_ARGUMENT");
  }
  assert_null(brt_last_error());  // check took it
  // A status with no record behind it still throws a useful error.
  try {
    brt::check(BRT_E_EXISTS);
    fail_msg("check did not throw");
  } catch (const brt::error &e) {
    assert_int_equal(e.code(), BRT_E_EXISTS);
    assert_contains(e.what(), "recorded no error");
  }
  // A stale record with another code becomes the cause.
  brt_error_set(BRT_E_IO, BRT_ORIGIN_C, nullptr, "stale");
  try {
    brt::check(BRT_E_TIMEOUT);
    fail_msg("check did not throw");
  } catch (const brt::error &e) {
    assert_int_equal(e.code(), BRT_E_TIMEOUT);
    std::optional<brt::error> cause = e.cause();
    assert_true(cause.has_value());
    assert_int_equal(cause->code(), BRT_E_IO);
    assert_string_equal(cause->what(), "stale");
  }
  int value = 5;
  assert_ptr_equal(brt::check(&value), &value);
  brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, nullptr, "no such block");
  int *nothing = nullptr;
  try {
    brt::check(nothing);
    fail_msg("check did not throw");
  } catch (const brt::error &e) {
    assert_int_equal(e.code(), BRT_E_NOT_FOUND);
  }
}

static void test_error_keeps_thread_record(void **state) {
  (void)state;
  brt_error_set(BRT_E_IO, BRT_ORIGIN_C, nullptr, "the thread's own error");
  brt::error made(BRT_E_VALIDATION, "made in C++");
  assert_int_equal(made.code(), BRT_E_VALIDATION);
  assert_int_equal(made.origin(), BRT_ORIGIN_CPP);
  assert_string_equal(brt_error_message(last()), "the thread's own error");
  brt::error copy = made;  // copies share the record
  assert_ptr_equal(copy.raw(), made.raw());
  brt::error bad(BRT_OK, "not an error code");
  assert_int_equal(bad.code(), BRT_E_INVALID_ARGUMENT);
  brt::error adopted(nullptr);
  assert_int_equal(adopted.code(), BRT_E_INTERNAL);
}

static void test_result_and_attempt(void **state) {
  (void)state;
  brt_error_set(BRT_E_IO, BRT_ORIGIN_C, nullptr, "untouched");
  brt::result<int> good = brt::attempt([] { return 6 * 7; });
  assert_true(good.ok());
  assert_int_equal(good.value(), 42);
  assert_int_equal(good.status(), BRT_OK);
  try {
    (void)good.error();
    fail_msg("error() on a value did not throw");
  } catch (const std::logic_error &) {
  }
  brt::result<int> bad = brt::attempt([]() -> int { throw std::out_of_range("row 9"); });
  assert_false(bad.ok());
  assert_false(static_cast<bool>(bad));
  assert_int_equal(bad.status(), BRT_E_OUT_OF_RANGE);
  assert_string_equal(bad.error().type(), "std::out_of_range");
  assert_string_equal(bad.error().what(), "row 9");
  assert_int_equal(bad.value_or(-1), -1);
  try {
    (void)bad.value();
    fail_msg("value() on an error did not throw");
  } catch (const brt::error &e) {
    assert_int_equal(e.code(), BRT_E_OUT_OF_RANGE);
  }
  brt::result<void> done = brt::attempt([] {});
  assert_true(done.ok());
  done.value();
  brt::result<void> failed = brt::attempt([] { throw 3; });
  assert_int_equal(failed.status(), BRT_E_CPP_EXCEPTION);
  assert_string_equal(failed.error().type(), "int");
  brt::result<std::string> moved = brt::attempt([] { return std::string("moved out"); });
  assert_string_equal(std::move(moved).value().c_str(), "moved out");
  // attempt leaves the thread's last error alone.
  assert_string_equal(brt_error_message(last()), "untouched");
}

// --- Guarding extern "C" functions -------------------------------------------------------

extern "C" brt_status test_exported_divide(int a, int b, int *out) {
  return BRT_GUARDED(if (b == 0) throw std::domain_error("division by zero"); *out = a / b);
}

extern "C" const char *test_exported_name(int index) {
  static const char *const names[] = {"add", "mul"};
  return brt::guard_or(nullptr, [&]() -> const char * {
    if (index < 0 || index > 1) throw std::out_of_range("index " + std::to_string(index));
    return names[index];
  });
}

static void test_guarded_macro(void **state) {
  (void)state;
  int out = 0;
  assert_ok(test_exported_divide(9, 3, &out));
  assert_int_equal(out, 3);
  assert_status(test_exported_divide(1, 0, &out), BRT_E_INVALID_ARGUMENT);
  assert_string_equal(brt_error_message(last()), "division by zero");
  assert_string_equal(test_exported_name(1), "mul");
  assert_null_with(test_exported_name(5), BRT_E_OUT_OF_RANGE);
  assert_string_equal(brt_error_message(last()), "index 5");
}

static void test_errors_are_counted(void **state) {
  (void)state;
  uint64_t before = 0, after = 0;
  assert_ok(brt_error_count_get(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_CPP, &before));
  (void)brt::guard([] { throw std::out_of_range("counted"); });
  assert_ok(brt_error_count_get(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_CPP, &after));
  assert_int_equal(after - before, 1);
}

// --- Thread cancellation -------------------------------------------------------------------

struct cancel_probe {
  std::atomic<bool> inside{false};
  std::atomic<bool> cleaned_up{false};
  std::atomic<bool> after_guard{false};
  brt_status status = BRT_OK;
};

struct cleanup_marker {
  cancel_probe *probe;
  ~cleanup_marker() { probe->cleaned_up = true; }
};

static void *cancelled_thread(void *arg) {
  auto *probe = static_cast<cancel_probe *>(arg);
  probe->status = brt::guard([&] {
    cleanup_marker marker{probe};
    probe->inside = true;
    for (;;) {
      pthread_testcancel();
      usleep(1000);
    }
  });
  probe->after_guard = true;
  return nullptr;
}

static void *exiting_thread(void *arg) {
  auto *probe = static_cast<cancel_probe *>(arg);
  probe->status = brt::guard([&] {
    cleanup_marker marker{probe};
    pthread_exit(nullptr);
  });
  probe->after_guard = true;
  return nullptr;
}

static void test_cancellation_passes_through(void **state) {
  (void)state;
  cancel_probe probe;
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, nullptr, cancelled_thread, &probe), 0);
  while (!probe.inside) usleep(100);
  assert_int_equal(pthread_cancel(thread), 0);
  void *result = nullptr;
  assert_int_equal(pthread_join(thread, &result), 0);
  assert_ptr_equal(result, PTHREAD_CANCELED);
  assert_true(probe.cleaned_up);
  assert_false(probe.after_guard);

  cancel_probe exiting;
  assert_int_equal(pthread_create(&thread, nullptr, exiting_thread, &exiting), 0);
  assert_int_equal(pthread_join(thread, &result), 0);
  assert_null(result);
  assert_true(exiting.cleaned_up);
  assert_false(exiting.after_guard);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_guard_success),
      cmocka_unit_test(test_logic_errors),
      cmocka_unit_test(test_runtime_errors),
      cmocka_unit_test(test_bad_alloc),
      cmocka_unit_test(test_type_errors),
      cmocka_unit_test(test_system_errors),
      cmocka_unit_test(test_filesystem_errors),
      cmocka_unit_test(test_foreign_throws),
      cmocka_unit_test(test_misbehaving_what),
      cmocka_unit_test(test_long_message_is_cut),
      cmocka_unit_test(test_nested_chain),
      cmocka_unit_test(test_nested_foreign),
      cmocka_unit_test(test_nested_depth_is_bounded),
      cmocka_unit_test(test_brt_error_round_trip),
      cmocka_unit_test(test_check),
      cmocka_unit_test(test_error_keeps_thread_record),
      cmocka_unit_test(test_result_and_attempt),
      cmocka_unit_test(test_guarded_macro),
      cmocka_unit_test(test_errors_are_counted),
      cmocka_unit_test(test_cancellation_passes_through),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
