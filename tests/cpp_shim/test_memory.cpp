// brt::allocator<T> with the standard containers, brt::block / brt::buffer
// (retain on copy, steal on move, adopt), and allocator failures through
// brt::guard.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "cpp_test.hpp"

template <class T>
using managed_vector = std::vector<T, brt::allocator<T>>;
using managed_string = std::basic_string<char, std::char_traits<char>, brt::allocator<char>>;

static std::uint64_t cpp_heap_bytes() {
  brt_mem_stats stats{};
  stats.struct_size = sizeof stats;
  assert_ok(brt_mem_stats_get(&stats));
  return stats.live_bytes_by_type[BRT_MEM_CPP_HEAP];
}

static void assert_cpp_block(const void *p) {
  brt_block_info info{};
  info.struct_size = sizeof info;
  assert_ok(brt_block_info_get(p, &info));
  assert_int_equal(info.type, BRT_MEM_CPP_HEAP);
}

struct alignas(256) wide {
  double lanes[4];
};

static void test_allocator_containers(void **state) {
  (void)state;
  std::uint64_t before = cpp_heap_bytes();
  {
    managed_vector<int> numbers(1000);
    std::iota(numbers.begin(), numbers.end(), 0);
    assert_cpp_block(numbers.data());
    assert_true(cpp_heap_bytes() >= before + 1000 * sizeof(int));
    numbers.resize(100000);  // grows by moving into a new block
    assert_int_equal(numbers[999], 999);
    assert_cpp_block(numbers.data());

    managed_string text(200, 'x');  // longer than the small-string buffer
    text += " and more";
    assert_cpp_block(text.data());
    assert_int_equal(text.size(), 209);

    std::map<int, int, std::less<int>, brt::allocator<std::pair<const int, int>>> ordered;
    std::unordered_map<int, managed_string, std::hash<int>, std::equal_to<int>,
                       brt::allocator<std::pair<const int, managed_string>>>
        hashed;
    std::deque<int, brt::allocator<int>> queue;
    std::list<int, brt::allocator<int>> linked;
    for (int i = 0; i < 500; i++) {
      ordered[i] = i * 2;
      hashed.emplace(i, managed_string(40, static_cast<char>('a' + i % 26)));
      queue.push_front(i);
      linked.push_back(i);
    }
    assert_int_equal(ordered[250], 500);
    assert_int_equal(hashed.at(27)[0], 'b');
    assert_int_equal(queue.back(), 0);
    assert_int_equal(linked.size(), 500);

  }
  assert_int_equal(cpp_heap_bytes(), before);  // everything went back
}

static void test_allocate_shared_is_a_block(void **state) {
  (void)state;
  std::uint64_t before = cpp_heap_bytes();
  {
    auto shared = std::allocate_shared<std::uint64_t>(brt::allocator<std::uint64_t>(), 7u);
    assert_int_equal(*shared, 7);
    // The control block and the value share one CPP_HEAP block.
    assert_true(cpp_heap_bytes() > before);
    std::shared_ptr<std::uint64_t> copy = shared;
    assert_int_equal(copy.use_count(), 2);
  }
  assert_int_equal(cpp_heap_bytes(), before);
}

static void test_over_aligned(void **state) {
  (void)state;
  managed_vector<wide> lanes(10);
  assert_int_equal(reinterpret_cast<std::uintptr_t>(lanes.data()) % 256, 0);
  assert_cpp_block(lanes.data());
  brt::allocator<wide> alloc;
  wide *one = alloc.allocate(1);
  assert_int_equal(reinterpret_cast<std::uintptr_t>(one) % 256, 0);
  alloc.deallocate(one, 1);
  struct alignas(8192) page_sized {
    char bytes[8192];
  };
  brt::allocator<page_sized> big;
  page_sized *page = big.allocate(2);
  assert_int_equal(reinterpret_cast<std::uintptr_t>(page) % 8192, 0);
  big.deallocate(page, 2);
  assert_true(brt::allocator<int>() == brt::allocator<double>());
  assert_false(brt::allocator<int>() != brt::allocator<double>());
}

static void test_allocator_failures(void **state) {
  (void)state;
  brt::allocator<std::uint64_t> alloc;
  try {
    (void)alloc.allocate(alloc.max_size() + 1);
    fail_msg("allocate did not throw");
  } catch (const std::bad_array_new_length &) {
  }
  // More than the allocator ever gives: brt::bad_alloc with its error.
  try {
    (void)alloc.allocate(alloc.max_size() / 2);
    fail_msg("allocate did not throw");
  } catch (const brt::bad_alloc &e) {
    assert_non_null(e.raw());
    assert_int_equal(brt_error_code(e.raw()), BRT_E_OUT_OF_MEMORY);
    brt::bad_alloc copy = e;
    assert_string_equal(copy.what(), e.what());
  }
  // Through the guard: OUT_OF_MEMORY, the allocator's error as the cause.
  assert_guard_records(BRT_E_OUT_OF_MEMORY, "brt::bad_alloc",
                       managed_vector<char> huge(static_cast<std::size_t>(1) << 41));
  const brt_error *cause = brt_error_cause(last());
  assert_non_null(cause);
  assert_int_equal(brt_error_code(cause), BRT_E_OUT_OF_MEMORY);
  assert_int_equal(brt_error_origin(cause), BRT_ORIGIN_C);
  // deallocate of a pointer that is not a block records and changes nothing.
  std::uint64_t local = 0;
  brt_error_clear();
  alloc.deallocate(&local, 1);
  assert_int_equal(brt_error_code(last()), BRT_E_INVALID_POINTER);
}

// `throw brt::bad_alloc();` like std::bad_alloc's: no record, std's message,
// and the guard records OUT_OF_MEMORY with the type and no cause.
static void test_default_bad_alloc(void **state) {
  (void)state;
  try {
    throw brt::bad_alloc();
  } catch (const std::bad_alloc &e) {
    assert_string_equal(e.what(), std::bad_alloc().what());
    const auto *typed = dynamic_cast<const brt::bad_alloc *>(&e);
    assert_non_null(typed);
    assert_null(typed->raw());
    brt::bad_alloc copy = *typed;
    assert_null(copy.raw());
    assert_string_equal(copy.what(), "std::bad_alloc");
  }
  assert_guard_records(BRT_E_OUT_OF_MEMORY, "brt::bad_alloc", throw brt::bad_alloc());
  assert_null(brt_error_cause(last()));
  assert_string_equal(brt_error_message(last()), "std::bad_alloc");
}

static void test_memory_limit_becomes_out_of_memory(void **state) {
  (void)state;
  brt_mem_stats stats{};
  stats.struct_size = sizeof stats;
  assert_ok(brt_mem_stats_get(&stats));
  assert_ok(brt_mem_set_limit(stats.committed_bytes + (8u << 20)));
  brt_status status = brt::guard([] { managed_vector<char> big(64u << 20); });
  assert_ok(brt_mem_set_limit(0));
  assert_int_equal(status, BRT_E_OUT_OF_MEMORY);
  assert_string_equal(brt_error_type(last()), "brt::bad_alloc");
  const brt_error *cause = brt_error_cause(last());
  assert_non_null(cause);
  assert_int_equal(brt_error_code(cause), BRT_E_LIMIT_EXCEEDED);
  assert_string_equal(brt_error_message(last()), brt_error_message(cause));
}

static void test_block_ownership(void **state) {
  (void)state;
  brt::block<float> a = brt::block<float>::allocate(64);
  assert_int_equal(a.size(), 64);
  assert_int_equal(a.size_bytes(), 64 * sizeof(float));
  assert_int_equal(a.type(), BRT_MEM_CPP_HEAP);
  assert_int_equal(a.refcount(), 1);
  assert_true(std::all_of(a.begin(), a.end(), [](float v) { return v == 0.0f; }));  // zeroed
  a[3] = 1.5f;
  {
    brt::block<float> b = a;  // copy retains, same memory
    assert_ptr_equal(b.data(), a.data());
    assert_int_equal(a.refcount(), 2);
    assert_true(b[3] == 1.5f);
  }
  assert_int_equal(a.refcount(), 1);
  brt::block<float> moved = std::move(a);  // move steals
  assert_null(a.data());
  assert_int_equal(a.size(), 0);
  assert_false(static_cast<bool>(a));
  assert_int_equal(moved.refcount(), 1);
  brt::block<float> assigned;
  assigned = moved;
  assert_int_equal(moved.refcount(), 2);
  assigned.reset();
  assert_int_equal(moved.refcount(), 1);

  // Hand a reference to "Rust" and take it back.
  float *raw = moved.release();
  assert_true(moved.empty());
  assert_int_equal(brt_owns(raw), 1);
  brt::block<float> back = brt::block<float>::adopt(raw);
  assert_int_equal(back.refcount(), 1);
  assert_true(back[3] == 1.5f);
}

static void test_block_adopt_foreign(void **state) {
  (void)state;
  // A block that C allocated (as Rust would, with its own type tag).
  void *from_c = brt_alloc(40, 16, BRT_MEM_RUST_HEAP, BRT_ALLOC_ZERO);
  assert_non_null(from_c);
  brt::buffer bytes = brt::buffer::adopt(static_cast<std::byte *>(from_c));
  assert_true(bytes.size() >= 40);
  assert_int_equal(bytes.type(), BRT_MEM_RUST_HEAP);
  brt::buffer also = brt::buffer::share(bytes.data());
  assert_int_equal(bytes.refcount(), 2);
  also.reset();

  // Not a block: brt::error, nothing changes.
  int on_stack = 0;
  try {
    (void)brt::block<int>::adopt(&on_stack);
    fail_msg("adopt did not throw");
  } catch (const brt::error &e) {
    assert_int_equal(e.code(), BRT_E_INVALID_POINTER);
  }
  try {
    (void)brt::block<int>::adopt(nullptr);
    fail_msg("adopt did not throw");
  } catch (const brt::error &e) {
    assert_int_equal(e.code(), BRT_E_INVALID_POINTER);
  }
  // A freed block: DOUBLE_FREE (use after free), reported, not crashed.
  void *gone = brt_alloc(32, 16, BRT_MEM_C_HEAP, 0);
  assert_ok(brt_release(gone));
  try {
    (void)brt::buffer::share(static_cast<std::byte *>(gone));
    fail_msg("share did not throw");
  } catch (const brt::error &e) {
    assert_true(e.code() == BRT_E_DOUBLE_FREE || e.code() == BRT_E_INVALID_POINTER);
  }
  // Alignment too small for the element type.
  brt::buffer plain = brt::buffer::allocate(64);
  try {
    (void)brt::block<wide>::share(reinterpret_cast<wide *>(plain.data() + 16));
    fail_msg("share did not throw");
  } catch (const brt::error &e) {
    assert_true(e.code() == BRT_E_INVALID_POINTER || e.code() == BRT_E_LAYOUT_MISMATCH);
  }
  try {
    (void)brt::block<int>::allocate(0);
    fail_msg("allocate(0) did not throw");
  } catch (const brt::error &e) {
    assert_int_equal(e.code(), BRT_E_INVALID_ARGUMENT);
  }
  try {
    (void)brt::block<int>::allocate(4, BRT_MEM_MAPPED);  // only brt_map_file makes these
    fail_msg("allocate(MAPPED) did not throw");
  } catch (const brt::error &e) {
    assert_int_equal(e.code(), BRT_E_INVALID_ARGUMENT);
  }
  try {
    (void)brt::block<int>::allocate(4, BRT_MEM_C_HEAP, 0x80u);
    fail_msg("allocate with an unknown flag did not throw");
  } catch (const brt::error &e) {
    assert_int_equal(e.code(), BRT_E_INVALID_ARGUMENT);
  }
  brt::block<int> from_rust = brt::block<int>::allocate(4, BRT_MEM_RUST_HEAP, 0);
  assert_int_equal(from_rust.type(), BRT_MEM_RUST_HEAP);
  assert_int_equal(plain.refcount(), 1);
}

// Copies of one block retained and released on several threads at once, and
// containers built on one thread and destroyed on another.
static void test_blocks_across_threads(void **state) {
  (void)state;
  brt::block<std::uint64_t> origin = brt::block<std::uint64_t>::allocate(1024);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([origin]() mutable {  // the capture retains
      for (int i = 0; i < 2000; i++) {
        brt::block<std::uint64_t> copy = origin;
        brt::block<std::uint64_t> moved = std::move(copy);
      }
    });
  }
  managed_vector<int> *built = nullptr;
  std::thread builder([&] { built = new managed_vector<int>(5000, 7); });
  builder.join();
  std::thread destroyer([&] { delete built; });
  destroyer.join();
  for (std::thread &thread : threads) thread.join();
  assert_int_equal(origin.refcount(), 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_allocator_containers),
      cmocka_unit_test(test_allocate_shared_is_a_block),
      cmocka_unit_test(test_over_aligned),
      cmocka_unit_test(test_allocator_failures),
      cmocka_unit_test(test_default_bad_alloc),
      cmocka_unit_test(test_memory_limit_becomes_out_of_memory),
      cmocka_unit_test(test_block_ownership),
      cmocka_unit_test(test_block_adopt_foreign),
      cmocka_unit_test(test_blocks_across_threads),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
