// rust::behavior::trycatch (bridgert/cxx_trycatch.hpp) as the code that cxx
// generates uses it: cxx emits the block below after the bridge's headers,
// and its own default must step aside for ours.
#include <bridgert/cxx_trycatch.hpp>

#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

// --- What cxx-build 1.0.87 generates (src/gen/builtin.rs) ---------------------------
namespace rust {
namespace behavior {
class missing {};
missing trycatch(...);

template <typename Try, typename Fail>
static typename ::std::enable_if<
    ::std::is_same<decltype(trycatch(::std::declval<Try>(), ::std::declval<Fail>())),
                   missing>::value>::type
trycatch(Try &&func, Fail &&fail) noexcept try {
  func();
} catch (::std::exception const &e) {
  fail(e.what());
}
}  // namespace behavior
}  // namespace rust

// After the generated code: cmocka defines a macro named fail.
#include "cpp_test.hpp"

// A generated wrapper for `fn parse(text: &str) -> Result<i32>`: returns the
// error message (cxx turns it into a Rust cxx::Exception), or nullptr.
static const char *bridged_call(int (*callee)(const std::string &), const std::string &arg,
                                int *out) {
  const char *thrown = nullptr;
  ::rust::behavior::trycatch([&] { *out = callee(arg); },
                             [&](const char *message) noexcept { thrown = message; });
  return thrown;
}

static int parse(const std::string &text) { return std::stoi(text); }
static int open_device(const std::string &path) {
  throw std::system_error(ENODEV, std::generic_category(), "open " + path);
}
static int throw_int(const std::string &) { throw 99; }

static void test_success(void **state) {
  (void)state;
  int out = 0;
  assert_null(bridged_call(parse, "41", &out));
  assert_int_equal(out, 41);
}

static void test_failures_keep_the_full_error(void **state) {
  (void)state;
  int out = 0;
  const char *message = bridged_call(parse, "forty", &out);
  assert_non_null(message);
  assert_int_equal(brt_error_code(last()), BRT_E_INVALID_ARGUMENT);
  assert_string_equal(brt_error_type(last()), "std::invalid_argument");
  assert_string_equal(message, brt_error_message(last()));

  message = bridged_call(open_device, "/dev/missing", &out);
  assert_contains(message, "/dev/missing");
  assert_int_equal(brt_error_code(last()), BRT_E_IO);
  assert_int_equal(brt_error_os_code(last()), ENODEV);

  // cxx's default would not catch this at all (std::terminate).
  message = bridged_call(throw_int, "", &out);
  assert_contains(message, "99");
  assert_string_equal(brt_error_type(last()), "int");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_success),
      cmocka_unit_test(test_failures_keep_the_full_error),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
