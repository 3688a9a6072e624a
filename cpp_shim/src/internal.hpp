// libbridgert_cpp internals shared between its files. Users include
// <bridgert.hpp> only.
#ifndef BRIDGERT_CPP_SHIM_INTERNAL_HPP
#define BRIDGERT_CPP_SHIM_INTERNAL_HPP

#include <bridgert.hpp>

#include <cstddef>
#include <exception>
#include <typeinfo>

namespace brt {
namespace detail {

// What the boundary needs to know about a thrown type. It depends only on the
// dynamic type, so it is computed once per type and thread (exception_types.cpp).
enum exception_kind : unsigned {
  kind_brt_error = 1u << 0,         // brt::error: restored unchanged
  kind_system_error = 1u << 1,      // std::system_error: code() and category
  kind_filesystem_error = 1u << 2,  // std::filesystem::filesystem_error: paths
  kind_future_error = 1u << 3,      // std::future_error: code() and category
  kind_nested = 1u << 4,            // also a std::nested_exception
  kind_brt_bad_alloc = 1u << 5,     // brt::bad_alloc: the allocator's error is the cause
};

struct exception_facts {
  brt_status code;  // from the default table of docs/cpp.md
  unsigned kinds;   // exception_kind bits
  char name[BRT_ERROR_NAME_MAX];
};

// Fills `out` for the exception of dynamic type `type`; `as_std` is the
// object when it is a std::exception (nullptr for `throw 42`).
void exception_facts_get(const std::type_info &type, const std::exception *as_std,
                         exception_facts *out) noexcept;

// Copies `text` into `dst` (capacity `cap` >= 1), cutting at a UTF-8
// character boundary when it does not fit.
void copy_utf8_bounded(char *dst, std::size_t cap, const char *text) noexcept;

// Writes the message of the exception being handled (from a catch block)
// into buf: what(), guarded against what() returning NULL or "".
// `as_std` may be nullptr: then the thrown value itself is described
// (`throw 42`, `throw "text"`) and *nested receives a nested cause, if any.
const char *current_exception_message(const std::exception *as_std, const char *type_name,
                                      char *buf, std::size_t size,
                                      std::exception_ptr *nested) noexcept;

}  // namespace detail
}  // namespace brt

#endif  // BRIDGERT_CPP_SHIM_INTERNAL_HPP
