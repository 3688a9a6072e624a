// bridgert_new_delete: every global operator new/delete form on the shared
// allocator. This program links the replacement, so all of its C++
// allocations (and the standard library's) are CPP_HEAP blocks.
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "cpp_test.hpp"

static std::uint64_t cpp_heap_bytes() {
  brt_mem_stats stats{};
  stats.struct_size = sizeof stats;
  assert_ok(brt_mem_stats_get(&stats));
  return stats.live_bytes_by_type[BRT_MEM_CPP_HEAP];
}

static void assert_cpp_block(const void *p, std::size_t align) {
  brt_block_info info{};
  info.struct_size = sizeof info;
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.type, BRT_MEM_CPP_HEAP);
  assert_int_equal(reinterpret_cast<std::uintptr_t>(p) % align, 0);
}

struct alignas(512) aligned_thing {
  char bytes[512];
};

// Keeps the compiler from eliding new/delete pairs.
static void *volatile escape;

static void test_every_form(void **state) {
  (void)state;
  std::uint64_t before = cpp_heap_bytes();
  void *plain = ::operator new(100);
  void *array = ::operator new[](200);
  void *nothrow = ::operator new(300, std::nothrow);
  void *nothrow_array = ::operator new[](400, std::nothrow);
  void *aligned = ::operator new(64, std::align_val_t(1024));
  void *aligned_array = ::operator new[](64, std::align_val_t(2048));
  void *aligned_nothrow = ::operator new(64, std::align_val_t(128), std::nothrow);
  void *aligned_nothrow_array = ::operator new[](64, std::align_val_t(4096), std::nothrow);
  void *zero = ::operator new(0);
  assert_cpp_block(plain, 16);
  assert_cpp_block(array, 16);
  assert_cpp_block(nothrow, 16);
  assert_cpp_block(nothrow_array, 16);
  assert_cpp_block(aligned, 1024);
  assert_cpp_block(aligned_array, 2048);
  assert_cpp_block(aligned_nothrow, 128);
  assert_cpp_block(aligned_nothrow_array, 4096);
  assert_cpp_block(zero, 16);
  assert_true(cpp_heap_bytes() >= before + 100 + 200 + 300 + 400 + 4 * 64);
  ::operator delete(plain);
  ::operator delete[](array, 200);
  ::operator delete(nothrow, std::nothrow);
  ::operator delete[](nothrow_array, std::nothrow);
  ::operator delete(aligned, 64, std::align_val_t(1024));
  ::operator delete[](aligned_array, std::align_val_t(2048));
  ::operator delete(aligned_nothrow, std::align_val_t(128), std::nothrow);
  ::operator delete[](aligned_nothrow_array, std::align_val_t(4096), std::nothrow);
  ::operator delete(zero, static_cast<std::size_t>(0));
  void *sized = ::operator new(48);
  ::operator delete(sized, 48);
  void *sized_array = ::operator new[](48);
  ::operator delete[](sized_array, std::size_t(48));
  void *aligned_plain = ::operator new(32, std::align_val_t(64));
  ::operator delete(aligned_plain, std::align_val_t(64));
  void *aligned_sized_array = ::operator new[](32, std::align_val_t(64));
  ::operator delete[](aligned_sized_array, 32, std::align_val_t(64));
  void *nothrow_aligned_array = ::operator new[](32, std::align_val_t(64), std::nothrow);
  ::operator delete[](nothrow_aligned_array, std::align_val_t(64), std::nothrow);
  ::operator delete(nullptr);
  ::operator delete[](nullptr);
  assert_int_equal(cpp_heap_bytes(), before);
}

static void test_expressions_and_library(void **state) {
  (void)state;
  std::uint64_t before = cpp_heap_bytes();
  {
    auto numbers = std::make_unique<std::vector<int>>(10000);
    std::string text(1000, 'y');
    auto things = std::make_unique<aligned_thing[]>(3);
    assert_cpp_block(numbers->data(), 16);
    assert_cpp_block(text.data(), 16);
    assert_cpp_block(things.get(), 512);
    assert_true(cpp_heap_bytes() >= before + 10000 * sizeof(int) + 1000 + 3 * 512);
  }
  assert_int_equal(cpp_heap_bytes(), before);
}

static void test_huge_new(void **state) {
  (void)state;
  volatile std::size_t huge = static_cast<std::size_t>(1) << 62;
  try {
    escape = ::operator new(huge);
    fail_msg("operator new(2^62) did not throw");
  } catch (const std::bad_alloc &e) {
    assert_contains(e.what(), "brt_alloc");
  }
  assert_null(::operator new(huge, std::nothrow));
  assert_null(::operator new[](huge, std::align_val_t(64), std::nothrow));
  assert_guard_records(BRT_E_OUT_OF_MEMORY, "brt::bad_alloc", escape = new char[huge]);
  assert_non_null(brt_error_cause(last()));
}

static void test_limit_becomes_out_of_memory(void **state) {
  (void)state;
  brt_mem_stats stats{};
  stats.struct_size = sizeof stats;
  assert_ok(brt_mem_stats_get(&stats));
  assert_ok(brt_mem_set_limit(stats.committed_bytes + (4u << 20)));
  brt_status status = brt::guard([] {
    std::vector<std::unique_ptr<char[]>> chunks;
    for (int i = 0; i < 64; i++) chunks.emplace_back(new char[1u << 20]);
  });
  assert_int_equal(status, BRT_E_OUT_OF_MEMORY);
  const brt_error *cause = brt_error_cause(last());
  assert_non_null(cause);
  assert_int_equal(brt_error_code(cause), BRT_E_LIMIT_EXCEEDED);
  // The nothrow form returns nullptr and leaves the allocator's error recorded.
  brt_error_clear();
  assert_null(::operator new(16u << 20, std::nothrow));
  assert_non_null(last());
  assert_int_equal(brt_error_code(last()), BRT_E_LIMIT_EXCEEDED);
  assert_ok(brt_mem_set_limit(0));
}

static int handler_calls;
static void release_reserve() {
  handler_calls++;
  std::set_new_handler(nullptr);  // the next failure throws
}

static void test_new_handler(void **state) {
  (void)state;
  handler_calls = 0;
  std::set_new_handler(release_reserve);
  volatile std::size_t huge = static_cast<std::size_t>(1) << 62;
  try {
    escape = ::operator new(huge);
    fail_msg("operator new(2^62) did not throw");
  } catch (const std::bad_alloc &) {
  }
  assert_int_equal(handler_calls, 1);
  std::set_new_handler(release_reserve);
  assert_null(::operator new(huge, std::nothrow));  // nothrow: handler, then nullptr
  assert_int_equal(handler_calls, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_form),
      cmocka_unit_test(test_expressions_and_library),
      cmocka_unit_test(test_huge_new),
      cmocka_unit_test(test_limit_becomes_out_of_memory),
      cmocka_unit_test(test_new_handler),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
