// bridgert C++ shim — C++ memory on the one allocator (docs/memory.md).
//
//   std::vector<float, brt::allocator<float>> v(n);   // CPP_HEAP blocks
//   brt::block<float> t = brt::block<float>::allocate(n);  // refcounted
//   brt::block<float> shared = t;                     // retains (no copy)
//   send_to_rust(t.release());                        // hand over a reference
//   auto back = brt::block<float>::adopt(ptr_from_rust);
//
#ifndef BRIDGERT_MEMORY_HPP
#define BRIDGERT_MEMORY_HPP

#include <bridgert.h>
#include <bridgert/bad_alloc.hpp>
#include <bridgert/error.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

namespace brt {

// A standard allocator on brt_cpp_allocate: every allocation is a CPP_HEAP
// block, visible in brt_mem_stats and subject to the memory limit.
// Over-aligned types get their alignment. Stateless: all instances are equal.
template <class T>
class allocator {
 public:
  using value_type = T;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using propagate_on_container_move_assignment = std::true_type;
  using is_always_equal = std::true_type;
  template <class U>
  struct rebind {
    using other = allocator<U>;
  };

  allocator() noexcept = default;
  template <class U>
  allocator(const allocator<U> &) noexcept {}

  // Throws std::bad_array_new_length when n * sizeof(T) overflows and
  // brt::bad_alloc (a std::bad_alloc) when the allocator refuses.
  T *allocate(std::size_t n) {
    if (n > max_size()) throw std::bad_array_new_length();
    void *p = brt_cpp_allocate(n * sizeof(T), alignof(T));
    if (!p) detail::throw_bad_alloc();
    return static_cast<T *>(p);
  }
  // Releases a block from allocate(). A pointer that is not one records
  // BRT_E_INVALID_POINTER and changes nothing (deallocate cannot throw).
  void deallocate(T *p, std::size_t) noexcept { (void)brt_cpp_deallocate(p); }

  static constexpr std::size_t max_size() noexcept {
    return std::numeric_limits<std::size_t>::max() / sizeof(T);
  }

  template <class U>
  bool operator==(const allocator<U> &) const noexcept {
    return true;
  }
  template <class U>
  bool operator!=(const allocator<U> &) const noexcept {
    return false;
  }
};

// One reference to a refcounted block holding `size()` elements of T.
// Copying retains (both copies see the same memory), moving steals, the
// destructor releases; the block is freed when its last reference, in any
// language, is released. T must be trivially copyable and destructible:
// Rust or C may free the block, and they run no C++ destructors.
template <class T>
class block {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>,
                "brt::block holds trivially copyable, trivially destructible elements");

 public:
  using value_type = T;

  block() noexcept = default;
  block(const block &other) : data_(other.data_), size_(other.size_) {
    if (data_) check(brt_retain(data_));
  }
  block(block &&other) noexcept : data_(std::exchange(other.data_, nullptr)),
                                  size_(std::exchange(other.size_, 0)) {}
  block &operator=(block other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~block() { reset(); }

  // A new block of `count` elements (zeroed unless flags say otherwise).
  // Throws brt::bad_alloc when refused, brt::error for bad arguments.
  static block allocate(std::size_t count, brt_mem_type type = BRT_MEM_CPP_HEAP,
                        unsigned flags = BRT_ALLOC_ZERO) {
    if (count == 0 || count > std::numeric_limits<std::size_t>::max() / sizeof(T))
      throw error(BRT_E_INVALID_ARGUMENT,
                  "brt::block::allocate: count " + std::to_string(count) +
                      " is 0 or too large for the element size " + std::to_string(sizeof(T)));
    void *p = brt_alloc(count * sizeof(T), alignof(T) < 16 ? 16 : alignof(T), type, flags);
    if (!p) {
      const brt_error *why = brt_last_error();
      if (why && brt_error_code(why) != BRT_E_OUT_OF_MEMORY &&
          brt_error_code(why) != BRT_E_LIMIT_EXCEEDED)
        detail::throw_last_error(BRT_OK);
      detail::throw_bad_alloc();
    }
    return block(static_cast<T *>(p), count);
  }
  // Takes over one reference the caller holds (from Rust, C or release()).
  // The element count is the block's size / sizeof(T). Throws brt::error
  // (BRT_E_INVALID_POINTER, BRT_E_DOUBLE_FREE) when p is not a live block,
  // BRT_E_LAYOUT_MISMATCH when the block is not aligned for T.
  static block adopt(T *p) {
    brt_block_info info = describe(p, "adopt");
    return block(p, info.size / sizeof(T));
  }
  // A new reference to a block someone else keeps holding (retains).
  static block share(T *p) {
    brt_block_info info = describe(p, "share");
    check(brt_retain(p));
    return block(p, info.size / sizeof(T));
  }

  T *data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t size_bytes() const noexcept { return size_ * sizeof(T); }
  bool empty() const noexcept { return size_ == 0; }
  explicit operator bool() const noexcept { return data_ != nullptr; }
  T &operator[](std::size_t i) const noexcept { return data_[i]; }
  T *begin() const noexcept { return data_; }
  T *end() const noexcept { return data_ + size_; }

  // The block's type tag and current reference count (brt_block_info_get).
  brt_mem_type type() const { return info().type; }
  std::uint32_t refcount() const { return info().refcount; }
  brt_block_info info() const { return describe(data_, "info"); }

  // Gives up ownership without releasing: the caller now holds the
  // reference (to hand to Rust or C). The block becomes empty.
  T *release() noexcept {
    size_ = 0;
    return std::exchange(data_, nullptr);
  }
  // Drops this reference now. The block becomes empty.
  void reset() noexcept {
    if (data_) (void)brt_release(std::exchange(data_, nullptr));
    size_ = 0;
  }

 private:
  block(T *data, std::size_t size) noexcept : data_(data), size_(size) {}

  static brt_block_info describe(const T *p, const char *what) {
    brt_block_info info{};
    info.struct_size = sizeof info;
    if (!p)
      throw error(BRT_E_INVALID_POINTER, std::string("brt::block::") + what + ": the block is empty");
    check(brt_block_info_get(p, &info));
    if (info.align < alignof(T))
      throw error(BRT_E_LAYOUT_MISMATCH,
                  std::string("brt::block::") + what + ": the block is aligned to " +
                      std::to_string(info.align) + " bytes, the element type needs " +
                      std::to_string(alignof(T)));
    return info;
  }

  T *data_ = nullptr;
  std::size_t size_ = 0;
};

// A refcounted block of bytes.
using buffer = block<std::byte>;

}  // namespace brt

#endif  // BRIDGERT_MEMORY_HPP
