// One C++ exception classifier: every standard exception type (and nested
// ones, brt:: types, non-std throws, misbehaving what()) is thrown through
// both boundaries — brt::guard in the shim, and the core's own boundary
// around an algorithm that lets the exception escape (brt_call on a value
// algorithm, brt_invoke on a native one) — and the records must be equal,
// field by field and down the cause chain, and carry the status and type
// of the table in docs/cpp.md.
#include <pthread.h>
#include <unistd.h>

#include <any>
#include <atomic>
#include <cerrno>
#include <exception>
#include <filesystem>
#include <functional>
#include <future>
#include <ios>
#include <memory>
#include <new>
#include <optional>
#include <regex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <typeinfo>
#include <variant>

#include "cpp_test.hpp"
// The classifier's own test for foreign unwinding, which both boundaries use.
#include "../../exception/cpp_classify.hpp"

namespace app {
class custom_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
class index_error : public std::out_of_range {
 public:
  using std::out_of_range::out_of_range;
};
struct token {
  int id;
};
struct polymorphic {
  virtual ~polymorphic() = default;
};
struct other : polymorphic {};
}  // namespace app

namespace {

struct throw_case {
  const char *label;
  brt_status code;   // the status the table gives
  const char *type;  // the reported type; nullptr: the record has none
  std::function<void()> raise;
};

[[noreturn]] void raise_nested_std() {
  try {
    throw std::out_of_range("row 12 is past the end");
  } catch (...) {
    std::throw_with_nested(std::runtime_error("loading the matrix failed"));
  }
}

[[noreturn]] void raise_nested_brt() {
  try {
    throw std::system_error(ENOENT, std::generic_category(), "open weights.bin");
  } catch (...) {
    std::throw_with_nested(brt::error(BRT_E_NOT_FOUND, "no weights"));
  }
}

[[noreturn]] void raise_c_error_as_brt_error() {
  brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, nullptr, "the registry is sealed");
  brt::check(BRT_E_PERMISSION);
  std::abort();  // check threw
}

[[noreturn]] void raise_brt_bad_alloc() {
  brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, nullptr, "the memory limit would be exceeded");
  brt::detail::throw_bad_alloc();
}

const std::vector<throw_case> &cases() {
  static const std::vector<throw_case> all = {
      // <exception>, <stdexcept>
      {"exception", BRT_E_CPP_EXCEPTION, "std::exception", [] { throw std::exception(); }},
      {"bad_exception", BRT_E_CPP_EXCEPTION, "std::bad_exception",
       [] { throw std::bad_exception(); }},
      {"logic_error", BRT_E_CPP_EXCEPTION, "std::logic_error",
       [] { throw std::logic_error("logic"); }},
      {"invalid_argument", BRT_E_INVALID_ARGUMENT, "std::invalid_argument",
       [] { throw std::invalid_argument("n must be positive"); }},
      {"domain_error", BRT_E_INVALID_ARGUMENT, "std::domain_error",
       [] { throw std::domain_error("sqrt of -1"); }},
      {"length_error", BRT_E_OUT_OF_RANGE, "std::length_error",
       [] { std::string().resize(std::string().max_size() + 1); }},
      {"out_of_range", BRT_E_OUT_OF_RANGE, "std::out_of_range",
       [] { (void)std::string("abc").at(7); }},
      {"runtime_error", BRT_E_CPP_EXCEPTION, "std::runtime_error",
       [] { throw std::runtime_error("boom"); }},
      {"range_error", BRT_E_CPP_EXCEPTION, "std::range_error", [] { throw std::range_error("r"); }},
      {"overflow_error", BRT_E_CPP_EXCEPTION, "std::overflow_error",
       [] { throw std::overflow_error("o"); }},
      {"underflow_error", BRT_E_CPP_EXCEPTION, "std::underflow_error",
       [] { throw std::underflow_error("u"); }},
      // <new>
      {"bad_alloc", BRT_E_OUT_OF_MEMORY, "std::bad_alloc", [] { throw std::bad_alloc(); }},
      {"bad_array_new_length", BRT_E_OUT_OF_MEMORY, "std::bad_array_new_length",
       [] { throw std::bad_array_new_length(); }},
      // <typeinfo>, <any>, <variant>, <optional>, <functional>, <memory>
      {"bad_cast", BRT_E_TYPE_MISMATCH, "std::bad_cast",
       [] {
         app::polymorphic base;
         app::polymorphic &ref = base;
         (void)dynamic_cast<app::other &>(ref);
       }},
      {"bad_typeid", BRT_E_CPP_EXCEPTION, "std::bad_typeid",
       [] {
         app::polymorphic *none = nullptr;
         (void)typeid(*none);
       }},
      {"bad_any_cast", BRT_E_TYPE_MISMATCH, "std::bad_any_cast",
       [] { (void)std::any_cast<int>(std::any(std::string("x"))); }},
      {"bad_variant_access", BRT_E_TYPE_MISMATCH, "std::bad_variant_access",
       [] {
         std::variant<int, std::string> v = std::string("x");
         (void)std::get<int>(v);
       }},
      {"bad_optional_access", BRT_E_CPP_EXCEPTION, "std::bad_optional_access",
       [] { (void)std::optional<int>().value(); }},
      {"bad_function_call", BRT_E_CPP_EXCEPTION, "std::bad_function_call",
       [] { std::function<void()>()(); }},
      {"bad_weak_ptr", BRT_E_CPP_EXCEPTION, "std::bad_weak_ptr",
       [] { std::shared_ptr<int> p(std::weak_ptr<int>{}); }},
      // <system_error>, <ios>, <filesystem>, <future>, <regex>
      {"system_error", BRT_E_IO, "std::system_error",
       [] { throw std::system_error(EACCES, std::generic_category(), "open /etc/shadow"); }},
      {"system_error_errc", BRT_E_IO, "std::system_error",
       [] { throw std::system_error(std::make_error_code(std::errc::timed_out)); }},
      {"ios_base_failure", BRT_E_IO, "std::ios_base::failure",
       [] { throw std::ios_base::failure("stream broke"); }},
      {"filesystem_error", BRT_E_IO, "std::filesystem::filesystem_error",
       [] {
         throw std::filesystem::filesystem_error("copy", "/data/a", "/data/b",
                                                 std::make_error_code(std::errc::file_exists));
       }},
      {"future_error", BRT_E_CPP_EXCEPTION, "std::future_error",
       [] { throw std::future_error(std::future_errc::no_state); }},
      {"regex_error", BRT_E_CPP_EXCEPTION, "std::regex_error",
       [] { throw std::regex_error(std::regex_constants::error_paren); }},
      // Nested exceptions
      {"nested_std", BRT_E_CPP_EXCEPTION, "std::runtime_error", raise_nested_std},
      {"nested_brt_error", BRT_E_NOT_FOUND, "brt::error", raise_nested_brt},
      // brt:: types
      {"brt_error", BRT_E_TIMEOUT, "brt::error",
       [] { throw brt::error(BRT_E_TIMEOUT, "sensor read timed out"); }},
      {"brt_error_from_c", BRT_E_PERMISSION, nullptr, raise_c_error_as_brt_error},
      {"brt_bad_alloc", BRT_E_OUT_OF_MEMORY, "brt::bad_alloc", raise_brt_bad_alloc},
      // Classes of the program
      {"custom_runtime_error", BRT_E_CPP_EXCEPTION, "app::custom_error",
       [] { throw app::custom_error("quota exhausted"); }},
      {"custom_out_of_range", BRT_E_OUT_OF_RANGE, "app::index_error",
       [] { throw app::index_error("index 4 of 3"); }},
      {"null_what", BRT_E_CPP_EXCEPTION, "app::null_what", [] { throw app::null_what(); }},
      {"empty_what", BRT_E_CPP_EXCEPTION, "app::empty_what", [] { throw app::empty_what(); }},
      // Not std::exception
      {"int", BRT_E_CPP_EXCEPTION, "int", [] { throw 42; }},
      {"c_string", BRT_E_CPP_EXCEPTION, "char const*", [] { throw "disk full"; }},
      {"std_string", BRT_E_CPP_EXCEPTION,
       "std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
       [] { throw std::string("no route"); }},
      {"double", BRT_E_CPP_EXCEPTION, "double", [] { throw 2.5; }},
      {"class_token", BRT_E_CPP_EXCEPTION, "app::token", [] { throw app::token{7}; }},
  };
  return all;
}

// The case the algorithms below raise.
const throw_case *current;

extern "C" brt_status raising_value_fn(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx, (void)params, (void)result;
  current->raise();
  return BRT_OK;
}

extern "C" void raising_native_fn(void) { current->raise(); }

// Two records are the same error: every field, down the cause chain.
void assert_same_record(const char *label, const brt_error *a, const brt_error *b) {
  for (int depth = 0; a || b; depth++, a = brt_error_cause(a), b = brt_error_cause(b)) {
    if (!a || !b) fail_msg("%s: the cause chains differ in length at depth %d", label, depth);
    auto same = [&](const char *field, const char *x, const char *y) {
      if ((x == nullptr) != (y == nullptr) || (x && std::strcmp(x, y) != 0))
        fail_msg("%s, depth %d: %s \"%s\" vs \"%s\"", label, depth, field, x ? x : "(null)",
                 y ? y : "(null)");
    };
    if (brt_error_code(a) != brt_error_code(b))
      fail_msg("%s, depth %d: %s vs %s", label, depth, brt_status_name(brt_error_code(a)),
               brt_status_name(brt_error_code(b)));
    assert_int_equal(brt_error_origin(a), brt_error_origin(b));
    same("type", brt_error_type(a), brt_error_type(b));
    same("message", brt_error_message(a), brt_error_message(b));
    assert_int_equal(brt_error_os_code(a), brt_error_os_code(b));
    same("os_category", brt_error_os_category(a), brt_error_os_category(b));
    same("path 0", brt_error_path(a, 0), brt_error_path(b, 0));
    same("path 1", brt_error_path(a, 1), brt_error_path(b, 1));
  }
}

// The record brt::guard makes of `c`, taken from the thread.
brt_error *through_guard(const throw_case &c) {
  brt_error_clear();
  brt_status status = brt::guard([&] { c.raise(); });
  if (status != c.code)
    fail_msg("%s through brt::guard: %s, expected %s", c.label, brt_status_name(status),
             brt_status_name(c.code));
  brt_error *taken = brt_error_take();
  assert_non_null(taken);
  const char *type = brt_error_type(taken);
  if (c.type ? !type || std::strcmp(type, c.type) != 0 : type != nullptr)
    fail_msg("%s through brt::guard: type \"%s\", expected \"%s\"", c.label, type ? type : "(null)",
             c.type ? c.type : "(null)");
  assert_true(std::strlen(brt_error_message(taken)) > 0);
  return taken;
}

// The core wraps an algorithm's failure ("algorithm ... failed: ..."); the
// boundary's record is its cause.
void assert_core_matches(const throw_case &c, brt_status status, const brt_error *guarded,
                         const char *how) {
  if (status != c.code)
    fail_msg("%s through %s: %s, expected %s", c.label, how, brt_status_name(status),
             brt_status_name(c.code));
  const brt_error *top = brt_last_error();
  assert_non_null(top);
  assert_int_equal(brt_error_code(top), c.code);
  assert_same_record(c.label, brt_error_cause(top), guarded);
}

void test_both_paths_agree(void **state) {
  (void)state;
  brt_runtime *rt = brt_runtime_open(nullptr);
  assert_non_null(rt);
  brt_value *params = brt_value_object(0);
  assert_non_null(params);
  int index = 0;
  for (const throw_case &c : cases()) {
    current = &c;
    brt_error *guarded = through_guard(c);

    // Each case has its own algorithms, so the circuit breaker of one
    // failing algorithm never refuses a case.
    std::string value_name = std::string("value_") + std::to_string(index);
    brt_algorithm a{};
    a.struct_size = sizeof a;
    a.name = value_name.c_str();
    a.version = "1.0.0";
    a.value_fn = raising_value_fn;
    assert_ok(brt_register(rt, &a));
    brt_value *result = nullptr;
    brt_status status = brt_call(rt, value_name.c_str(), params, &result);
    assert_null(result);
    assert_core_matches(c, status, guarded, "brt_call");

    std::string native_name = std::string("native_") + std::to_string(index);
    brt_algorithm n{};
    n.struct_size = sizeof n;
    n.name = native_name.c_str();
    n.version = "1.0.0";
    n.native_fn = BRT_NATIVE_FN(raising_native_fn);
    n.signature = "void()";
    assert_ok(brt_register(rt, &n));
    brt_prepared *prepared = brt_prepare(rt, native_name.c_str());
    assert_non_null(prepared);
    status = brt_invoke(prepared, nullptr, nullptr);
    assert_core_matches(c, status, guarded, "brt_invoke");
    brt_prepared_free(prepared);

    brt_error_free(guarded);
    index++;
  }
  brt_value_release(params);
  brt_runtime_close(rt);
}

// What the table adds beyond status and type, checked once (the agreement
// test above carries it to the core's path).
void test_table_details(void **state) {
  (void)state;
  for (const throw_case &c : cases()) {
    brt_error *e = through_guard(c);
    std::string label = c.label;
    if (label == "system_error") {
      assert_int_equal(brt_error_os_code(e), EACCES);
      assert_string_equal(brt_error_os_category(e), "generic");
    } else if (label == "ios_base_failure") {
      assert_string_equal(brt_error_os_category(e), "iostream");
    } else if (label == "filesystem_error") {
      assert_int_equal(brt_error_os_code(e), EEXIST);
      assert_string_equal(brt_error_path(e, 0), "/data/a");
      assert_string_equal(brt_error_path(e, 1), "/data/b");
    } else if (label == "future_error") {
      assert_string_equal(brt_error_os_category(e), "future");
    } else if (label == "nested_std") {
      assert_string_equal(brt_error_message(e), "loading the matrix failed");
      assert_int_equal(brt_error_code(brt_error_cause(e)), BRT_E_OUT_OF_RANGE);
      assert_string_equal(brt_error_type(brt_error_cause(e)), "std::out_of_range");
    } else if (label == "nested_brt_error") {
      assert_int_equal(brt_error_code(brt_error_cause(e)), BRT_E_IO);
      assert_int_equal(brt_error_os_code(brt_error_cause(e)), ENOENT);
    } else if (label == "brt_error_from_c") {
      assert_int_equal(brt_error_origin(e), BRT_ORIGIN_C);
      assert_string_equal(brt_error_message(e), "the registry is sealed");
    } else if (label == "brt_bad_alloc") {
      assert_string_equal(brt_error_message(e), "the memory limit would be exceeded");
      assert_int_equal(brt_error_code(brt_error_cause(e)), BRT_E_LIMIT_EXCEEDED);
    } else if (label == "null_what") {
      assert_contains(brt_error_message(e), "null pointer");
    } else if (label == "empty_what") {
      assert_contains(brt_error_message(e), "is empty");
    } else if (label == "int") {
      assert_string_equal(brt_error_message(e), "C++ code threw int 42");
    } else if (label == "c_string") {
      assert_string_equal(brt_error_message(e), "disk full");
    } else if (label == "class_token") {
      assert_contains(brt_error_message(e), "not a std::exception");
    }
    brt_error_free(e);
  }
}

// A user translator decides the same way on both paths.
void test_translator_on_both_paths(void **state) {
  (void)state;
  brt::translator handle = brt::register_translator<app::custom_error>(
      [](const app::custom_error &e, std::string &message) {
        message = std::string("quota: ") + e.what();
        return BRT_E_LIMIT_EXCEEDED;
      });
  throw_case c{"translated", BRT_E_LIMIT_EXCEEDED, "app::custom_error",
               [] { throw app::custom_error("exhausted"); }};
  current = &c;
  brt_error *guarded = through_guard(c);
  assert_string_equal(brt_error_message(guarded), "quota: exhausted");
  brt_runtime *rt = brt_runtime_open(nullptr);
  assert_non_null(rt);
  brt_algorithm a{};
  a.struct_size = sizeof a;
  a.name = "translated";
  a.version = "1.0.0";
  a.value_fn = raising_value_fn;
  assert_ok(brt_register(rt, &a));
  brt_value *params = brt_value_object(0);
  brt_value *result = nullptr;
  assert_core_matches(c, brt_call(rt, "translated", params, &result), guarded, "brt_call");
  brt_value_release(params);
  brt_runtime_close(rt);
  brt_error_free(guarded);
  assert_ok(handle.remove());
}

// pthread_exit unwinds with abi::__forced_unwind, which no boundary may
// swallow: both recognise it with the classifier's one test, and a C++
// exception is never mistaken for it.
struct exit_probe {
  bool foreign = false;
  bool cleaned_up = false;
  bool after_exit = false;
};

void *exiting_thread(void *arg) {
  auto *probe = static_cast<exit_probe *>(arg);
  try {
    struct cleanup {
      exit_probe *probe;
      ~cleanup() { probe->cleaned_up = true; }
    } marker{probe};
    pthread_exit(nullptr);
  } catch (...) {
    probe->foreign = brt::classify::foreign_exception_in_flight();
    throw;
  }
  probe->after_exit = true;
  return probe;
}

void test_forced_unwind_is_foreign(void **state) {
  (void)state;
  exit_probe probe;
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, nullptr, exiting_thread, &probe), 0);
  void *result = &probe;
  assert_int_equal(pthread_join(thread, &result), 0);
  assert_null(result);
  assert_true(probe.foreign);
  assert_true(probe.cleaned_up);
  assert_false(probe.after_exit);
  for (const throw_case &c : cases()) {
    bool foreign = true;
    try {
      c.raise();
    } catch (...) {
      foreign = brt::classify::foreign_exception_in_flight();
    }
    if (foreign) fail_msg("%s was taken for a foreign exception", c.label);
  }
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_both_paths_agree),
      cmocka_unit_test(test_table_details),
      cmocka_unit_test(test_translator_on_both_paths),
      cmocka_unit_test(test_forced_unwind_is_foreign),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
