// User translators: registration order, messages, removal, translators that
// throw or misbehave, and (concurrency suite) registration racing with
// translation on other threads.
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cpp_test.hpp"

namespace app {
class quota_error : public std::runtime_error {
 public:
  quota_error(const std::string &what, int used) : std::runtime_error(what), used_(used) {}
  int used() const noexcept { return used_; }

 private:
  int used_;
};
class strict_quota_error : public quota_error {
 public:
  using quota_error::quota_error;
};
struct legacy_code {
  int value;
};
}  // namespace app

static void test_translator_sets_status(void **state) {
  (void)state;
  assert_guard_records(BRT_E_CPP_EXCEPTION, "app::quota_error", throw app::quota_error("full", 3));
  brt::translator handle = brt::register_translator<app::quota_error>(
      [](const app::quota_error &) { return BRT_E_LIMIT_EXCEEDED; });
  assert_true(handle.registered());
  assert_guard_records(BRT_E_LIMIT_EXCEEDED, "app::quota_error", throw app::quota_error("full", 3));
  assert_string_equal(brt_error_message(last()), "full");  // what() is kept
  // Derived types match a translator for their base.
  assert_guard_records(BRT_E_LIMIT_EXCEEDED, "app::strict_quota_error",
                       throw app::strict_quota_error("strict", 1));
  // Other types still use the default table.
  assert_guard_records(BRT_E_OUT_OF_RANGE, "std::out_of_range", throw std::out_of_range("x"));
  assert_ok(handle.remove());
  assert_false(handle.registered());
  assert_guard_records(BRT_E_CPP_EXCEPTION, "app::quota_error", throw app::quota_error("full", 3));
  assert_status(handle.remove(), BRT_E_NOT_FOUND);
}

static void test_translator_sets_message(void **state) {
  (void)state;
  brt::translator handle = brt::register_translator<app::quota_error>(
      [](const app::quota_error &e, std::string &message) {
        message = "quota exhausted: " + std::to_string(e.used()) + " units in use";
        return BRT_E_LIMIT_EXCEEDED;
      });
  assert_guard_records(BRT_E_LIMIT_EXCEEDED, "app::quota_error", throw app::quota_error("full", 12));
  assert_string_equal(brt_error_message(last()), "quota exhausted: 12 units in use");
  assert_ok(handle.remove());
}

static void test_most_recent_first(void **state) {
  (void)state;
  brt::translator base = brt::register_translator<app::quota_error>(
      [](const app::quota_error &) { return BRT_E_LIMIT_EXCEEDED; });
  brt::translator strict = brt::register_translator<app::strict_quota_error>(
      [](const app::strict_quota_error &) { return BRT_E_PERMISSION; });
  assert_guard_records(BRT_E_PERMISSION, "app::strict_quota_error",
                       throw app::strict_quota_error("s", 1));
  assert_guard_records(BRT_E_LIMIT_EXCEEDED, "app::quota_error", throw app::quota_error("q", 1));
  // A later registration for the base shadows the earlier one for the derived type.
  brt::translator shadow = brt::register_translator<app::quota_error>(
      [](const app::quota_error &) { return BRT_E_TIMEOUT; });
  assert_guard_records(BRT_E_TIMEOUT, "app::strict_quota_error", throw app::strict_quota_error("s", 1));
  // A translator can even override the default table for a standard type.
  brt::translator range = brt::register_translator<std::out_of_range>(
      [](const std::out_of_range &) { return BRT_E_NOT_FOUND; });
  assert_guard_records(BRT_E_NOT_FOUND, "std::out_of_range", throw std::out_of_range("key"));
  assert_ok(range.remove());
  assert_ok(shadow.remove());
  assert_ok(strict.remove());
  assert_ok(base.remove());
  brt::translator moved = std::move(base);  // an empty handle moves too
  assert_false(moved.registered());
}

static void test_translator_for_foreign_type(void **state) {
  (void)state;
  brt::translator handle = brt::register_translator<app::legacy_code>(
      [](const app::legacy_code &c, std::string &message) {
        message = "legacy error code " + std::to_string(c.value);
        return c.value == 2 ? BRT_E_NOT_FOUND : BRT_E_IO;
      });
  assert_guard_records(BRT_E_NOT_FOUND, "app::legacy_code", throw app::legacy_code{2});
  assert_string_equal(brt_error_message(last()), "legacy error code 2");
  brt::translator ints =
      brt::register_translator<int>([](const int &v) { return v < 0 ? BRT_E_INVALID_ARGUMENT : BRT_E_IO; });
  assert_guard_records(BRT_E_INVALID_ARGUMENT, "int", throw -4);
  assert_contains(brt_error_message(last()), "-4");
  assert_ok(ints.remove());
  assert_ok(handle.remove());
}

static void test_translator_that_throws(void **state) {
  (void)state;
  brt::translator handle = brt::register_translator<app::quota_error>(
      [](const app::quota_error &) -> brt_status { throw std::logic_error("translator bug"); });
  assert_guard_records(BRT_E_INTERNAL, "app::quota_error", throw app::quota_error("full", 1));
  assert_contains(brt_error_message(last()), "translator registered for app::quota_error");
  assert_contains(brt_error_message(last()), "std::logic_error");
  assert_contains(brt_error_message(last()), "translator bug");
  assert_ok(handle.remove());

  brt::translator foreign = brt::register_translator<app::quota_error>(
      [](const app::quota_error &) -> brt_status { throw 5; });
  assert_guard_records(BRT_E_INTERNAL, "app::quota_error", throw app::quota_error("full", 1));
  assert_contains(brt_error_message(last()), "threw int");
  assert_ok(foreign.remove());

  // A translator that claims the exception without a valid error code.
  brt::translator lazy = brt::register_translator<app::quota_error>(
      [](const app::quota_error &) { return BRT_OK; });
  assert_guard_records(BRT_E_INTERNAL, "app::quota_error", throw app::quota_error("full", 1));
  assert_ok(lazy.remove());
}

static void test_guard_inside_translator(void **state) {
  (void)state;
  // A translator may use a guard itself; the inner translation does not
  // recurse into the registry and the outer error wins.
  std::atomic<int> inner_status{BRT_OK};
  brt::translator handle = brt::register_translator<app::quota_error>([&](const app::quota_error &) {
    inner_status = brt::guard([] { throw app::quota_error("inner", 0); });
    return BRT_E_LIMIT_EXCEEDED;
  });
  assert_guard_records(BRT_E_LIMIT_EXCEEDED, "app::quota_error", throw app::quota_error("outer", 1));
  assert_string_equal(brt_error_message(last()), "outer");
  assert_int_equal(inner_status.load(), BRT_E_CPP_EXCEPTION);
  // The registry refuses changes from inside a translator; register_translator throws.
  std::atomic<int> refused{BRT_OK};
  brt::translator nosy = brt::register_translator<app::legacy_code>([&](const app::legacy_code &) {
    try {
      brt::register_translator<int>([](const int &) { return BRT_E_IO; });
    } catch (const brt::error &e) {
      refused = e.code();
    }
    return BRT_E_IO;
  });
  assert_guard_records(BRT_E_IO, "app::legacy_code", throw app::legacy_code{1});
  assert_int_equal(refused.load(), BRT_E_INVALID_ARGUMENT);
  assert_ok(nosy.remove());
  assert_ok(handle.remove());
}

// Threads translate while others register and remove translators.
static void test_concurrent_registration(void **state) {
  (void)state;
  std::atomic<bool> stop{false};
  std::atomic<int> wrong{0};
  brt::translator stable = brt::register_translator<app::quota_error>(
      [](const app::quota_error &) { return BRT_E_LIMIT_EXCEEDED; });
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; t++) {
    threads.emplace_back([&] {
      for (int i = 0; i < 300; i++) {
        brt_status s = brt::guard([] { throw app::quota_error("q", 1); });
        if (s != BRT_E_LIMIT_EXCEEDED || brt_error_code(brt_last_error()) != s) wrong++;
        s = brt::guard([] { throw std::out_of_range("r"); });
        if (s != BRT_E_OUT_OF_RANGE) wrong++;
      }
    });
  }
  threads.emplace_back([&] {
    while (!stop) {
      brt::translator churn =
          brt::register_translator<app::legacy_code>([](const app::legacy_code &) { return BRT_E_IO; });
      if (churn.remove() != BRT_OK) wrong++;
    }
  });
  for (std::size_t i = 0; i + 1 < threads.size(); i++) threads[i].join();
  stop = true;
  threads.back().join();
  assert_int_equal(wrong.load(), 0);
  assert_ok(stable.remove());
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_translator_sets_status),
      cmocka_unit_test(test_translator_sets_message),
      cmocka_unit_test(test_most_recent_first),
      cmocka_unit_test(test_translator_for_foreign_type),
      cmocka_unit_test(test_translator_that_throws),
      cmocka_unit_test(test_guard_inside_translator),
      cmocka_unit_test(test_concurrent_registration),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
