// Helpers for the C++ shim's cmocka suites: every check goes through the C
// API (brt_last_error and its readers), as a C host or Rust would see it.
#ifndef BRT_CPP_TEST_HPP
#define BRT_CPP_TEST_HPP

#include <bridgert.hpp>

// cmocka.h declares its functions without extern "C".
#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
extern "C" {
#include <cmocka.h>
}

#include "brt_test.h"

#include <cstring>
#include <exception>
#include <string>

// Exceptions whose what() is null or empty: the boundaries must still record
// a readable message. In namespace app, as the tests' own exception types.
namespace app {
class null_what : public std::exception {
 public:
  const char *what() const noexcept override { return nullptr; }
};
class empty_what : public std::exception {
 public:
  const char *what() const noexcept override { return ""; }
};
}  // namespace app

// Asserts that `a` contains `needle`.
#define assert_contains(haystack, needle)                                                     \
  do {                                                                                        \
    const char *brt_hay_ = (haystack);                                                        \
    const char *brt_needle_ = (needle);                                                       \
    assert_non_null(brt_hay_);                                                                \
    if (!std::strstr(brt_hay_, brt_needle_))                                                  \
      fail_msg("\"%s\" does not contain \"%s\"", brt_hay_, brt_needle_);                      \
  } while (0)

// Runs `body` in brt::guard and asserts the status, the origin (CPP) and the
// recorded type name.
#define assert_guard_records(expected_code, expected_type, ...)                               \
  do {                                                                                        \
    brt_error_clear();                                                                        \
    brt_status brt_got_ = brt::guard([&]() { __VA_ARGS__; });                                 \
    assert_string_equal(brt_status_name(brt_got_), brt_status_name(expected_code));           \
    const brt_error *brt_err_ = brt_last_error();                                             \
    assert_non_null(brt_err_);                                                                \
    assert_string_equal(brt_status_name(brt_error_code(brt_err_)),                            \
                        brt_status_name(expected_code));                                      \
    assert_int_equal(brt_error_origin(brt_err_), BRT_ORIGIN_CPP);                             \
    assert_non_null(brt_error_type(brt_err_));                                                \
    assert_string_equal(brt_error_type(brt_err_), (expected_type));                           \
    assert_true(std::strlen(brt_error_message(brt_err_)) > 0);                                \
  } while (0)

// Whether AddressSanitizer is on (gcc defines the first, clang answers the second).
#if defined(__SANITIZE_ADDRESS__)
#define BRT_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BRT_TEST_ASAN 1
#endif
#endif
#ifndef BRT_TEST_ASAN
#define BRT_TEST_ASAN 0
#endif

inline const brt_error *last() { return brt_last_error(); }

#endif  // BRT_CPP_TEST_HPP
