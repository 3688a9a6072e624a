// libbridgert_cpp internals shared between its files. Users include
// <bridgert.hpp> only.
#ifndef BRIDGERT_CPP_SHIM_INTERNAL_HPP
#define BRIDGERT_CPP_SHIM_INTERNAL_HPP

#include <bridgert.hpp>

#include <cstddef>
#include <exception>
#include <typeinfo>

// The one C++ exception classifier, shared with the core's boundary
// (header-only; docs/cpp.md).
#include "../../exception/cpp_classify.hpp"

namespace brt {
namespace detail {

using classify::copy_utf8_bounded;

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
