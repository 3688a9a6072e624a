// bridgert C++ shim — brt::bad_alloc, the allocator's refusal as a
// std::bad_alloc. Header-only and dependent on the C library alone, so
// bridgert_new_delete (global operator new) can throw it.
#ifndef BRIDGERT_BAD_ALLOC_HPP
#define BRIDGERT_BAD_ALLOC_HPP

#include <bridgert.h>

#include <new>

namespace brt {

// std::bad_alloc that carries the allocator's own error ("the memory limit
// of 64 MiB would be exceeded: ..."), so containers and operator new fail the
// standard way and brt::guard still records why: OUT_OF_MEMORY, the message
// of the allocator's error, and that error as the cause. Copying clones the
// record with malloc, never with operator new. Default-constructed, it
// carries no record and reads like std::bad_alloc ("std::bad_alloc"), so
// `throw brt::bad_alloc();` works where std::bad_alloc's would.
class bad_alloc : public std::bad_alloc {
 public:
  bad_alloc() noexcept : error_(nullptr) {}
  explicit bad_alloc(brt_error *owned) noexcept : error_(owned) {}
  bad_alloc(const bad_alloc &other) noexcept
      : std::bad_alloc(other), error_(other.error_ ? brt_error_clone(other.error_) : nullptr) {}
  bad_alloc &operator=(const bad_alloc &other) noexcept {
    if (this != &other) {
      brt_error_free(error_);
      error_ = other.error_ ? brt_error_clone(other.error_) : nullptr;
    }
    return *this;
  }
  ~bad_alloc() override { brt_error_free(error_); }
  const char *what() const noexcept override {
    return error_ ? brt_error_message(error_) : "std::bad_alloc";
  }
  // The allocator's error, or nullptr.
  const brt_error *raw() const noexcept { return error_; }

 private:
  brt_error *error_;
};

namespace detail {
// Throws brt::bad_alloc with the thread's last error (the allocator's).
[[noreturn]] inline void throw_bad_alloc() { throw ::brt::bad_alloc(brt_error_take()); }
}  // namespace detail

}  // namespace brt

#endif  // BRIDGERT_BAD_ALLOC_HPP
