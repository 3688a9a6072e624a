// bridgert C++ shim — cxx's exception customization point on bridgert's
// boundary.
//
// Include this header from a header that your #[cxx::bridge] include!s (the
// Rust crate bridgert-build does it for every file of a bridge). For
// every C++ function the bridge declares as returning Result<T>, cxx then
// calls this trycatch instead of its default (which only catches
// std::exception and keeps only what()). Here the exception goes through
// brt::guard: everything is caught and translated, the thread's brt_error
// holds the full record (status from the translators, type, OS code, paths,
// causes), and Rust receives what() as cxx::Exception's message. The Rust
// side reads the full error with bridgert_sys::brt_last_error() (or takes it
// with brt_error_take) right after the Err.
//
// cxx requires the function to be noexcept, so a thread cancellation
// (abi::__forced_unwind) that reaches it ends the process, as it would in
// cxx's own default: do not cancel threads that run bridged C++ code.
#ifndef BRIDGERT_CXX_TRYCATCH_HPP
#define BRIDGERT_CXX_TRYCATCH_HPP

#include <bridgert/boundary.hpp>

#include <utility>

// A byte every translation unit that includes this header defines (weak, so
// any number of them link). bridgert's Rust `From<cxx::Exception> for Error`
// (feature "cxx") reads it: a Rust program that converts cxx exceptions but
// compiled none of its C++ with this header fails to link, naming this
// symbol, instead of receiving exceptions without their type. The
// bridgert-build crate force-includes the header in every file of a bridge.
extern "C" {
[[gnu::weak, gnu::used]] extern const unsigned char bridgert_cxx_bridge_needs_cxx_trycatch_hpp = 1;
}

namespace rust {
namespace behavior {

template <typename Try, typename Fail>
static void trycatch(Try &&func, Fail &&fail) noexcept {
  if (::brt::guard([&] { std::forward<Try>(func)(); }) == BRT_OK) return;
  const brt_error *recorded = brt_last_error();
  fail(recorded ? brt_error_message(recorded) : brt_status_describe(BRT_E_CPP_EXCEPTION));
}

}  // namespace behavior
}  // namespace rust

#endif  // BRIDGERT_CXX_TRYCATCH_HPP
