// bridgert_new_delete: every replaceable global operator new and delete on
// the shared allocator, so the C++ allocations of a program become tracked
// CPP_HEAP blocks (brt_mem_stats, the memory limit, leak reports).
//
// Link it into the executable (or into a plugin whose host has no C++
// runtime of its own): the replacement must be the one definition the
// dynamic linker sees, or allocation and release could be split between two
// allocators. The definitions have default visibility for that reason.
//
// operator new follows the standard: on refusal it calls the new-handler
// (std::set_new_handler) and retries, and without one throws
// brt::bad_alloc (a std::bad_alloc carrying the allocator's error, e.g.
// BRT_E_LIMIT_EXCEEDED); the nothrow forms return nullptr instead and leave
// that error recorded for the thread.
// operator delete accepts pointers that malloc made (a library that was
// loaded with its own operator new may hand one over): brt_owns tells them
// apart with one bitmap load, and they go to free().
#include <bridgert/bad_alloc.hpp>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace {

void *allocate_or_throw(std::size_t size, std::size_t align) {
  for (;;) {
    if (void *p = brt_cpp_allocate(size, align)) return p;
    std::new_handler handler = std::get_new_handler();
    if (!handler) brt::detail::throw_bad_alloc();
    handler();
  }
}

// Leaves the allocator's error as the thread's last error, as a C function
// that returns NULL would.
void *allocate_nothrow(std::size_t size, std::size_t align) noexcept {
  for (;;) {
    if (void *p = brt_cpp_allocate(size, align)) return p;
    std::new_handler handler = std::get_new_handler();
    if (!handler) return nullptr;
    try {
      handler();
    } catch (const std::bad_alloc &) {  // the handler gave up
      return nullptr;
    }
  }
}

void release(void *p) noexcept {
  if (!p) return;
  if (!brt_owns(p)) {
    std::free(p);
    return;
  }
  (void)brt_cpp_deallocate(p);
}

constexpr std::size_t default_align = __STDCPP_DEFAULT_NEW_ALIGNMENT__;

}  // namespace

void *operator new(std::size_t size) { return allocate_or_throw(size, default_align); }
void *operator new[](std::size_t size) { return allocate_or_throw(size, default_align); }
void *operator new(std::size_t size, const std::nothrow_t &) noexcept {
  return allocate_nothrow(size, default_align);
}
void *operator new[](std::size_t size, const std::nothrow_t &) noexcept {
  return allocate_nothrow(size, default_align);
}
void *operator new(std::size_t size, std::align_val_t align) {
  return allocate_or_throw(size, static_cast<std::size_t>(align));
}
void *operator new[](std::size_t size, std::align_val_t align) {
  return allocate_or_throw(size, static_cast<std::size_t>(align));
}
void *operator new(std::size_t size, std::align_val_t align, const std::nothrow_t &) noexcept {
  return allocate_nothrow(size, static_cast<std::size_t>(align));
}
void *operator new[](std::size_t size, std::align_val_t align, const std::nothrow_t &) noexcept {
  return allocate_nothrow(size, static_cast<std::size_t>(align));
}

void operator delete(void *p) noexcept { release(p); }
void operator delete[](void *p) noexcept { release(p); }
void operator delete(void *p, std::size_t) noexcept { release(p); }
void operator delete[](void *p, std::size_t) noexcept { release(p); }
void operator delete(void *p, std::align_val_t) noexcept { release(p); }
void operator delete[](void *p, std::align_val_t) noexcept { release(p); }
void operator delete(void *p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { release(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { release(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { release(p); }
void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept { release(p); }
void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept { release(p); }
