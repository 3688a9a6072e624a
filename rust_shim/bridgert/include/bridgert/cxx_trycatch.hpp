// bridgert — cxx's exception customization point on bridgert's boundary.
//
// Include this header from a header that a #[cxx::bridge] include!s. cxx
// then calls this rust::behavior::trycatch around every C++ function the
// bridge declares with `Result<T>`: brt::guard catches whatever the function
// throws and records the full brt_error for the calling thread (status from
// the translators, what(), the demangled type "std::out_of_range", the OS
// code of a std::system_error, nested causes), and cxx receives its message.
// On the Rust side, `bridgert::Error::from(cxx_exception)` takes that record
// back, so `e.status() == Status::OutOfRange` and
// `e.cpp_type() == Some("std::out_of_range")` — where plain cxx keeps only
// what().
//
// Needs libbridgert_cpp (brt::guard's recorder) and libbridgert.
#ifndef BRIDGERT_CXX_TRYCATCH_HPP
#define BRIDGERT_CXX_TRYCATCH_HPP

#include <bridgert.hpp>

namespace rust {
namespace behavior {

// The signature cxx requires (its book, "binding/result"). noexcept: the
// only thing brt::guard lets through is a thread's forced unwinding
// (pthread_cancel/pthread_exit), which must not cross into Rust either.
template <typename Try, typename Fail>
static void trycatch(Try &&func, Fail &&fail) noexcept {
  brt_status status = brt::guard([&] { func(); });
  if (status != BRT_OK) fail(brt_error_message(brt_last_error()));
}

}  // namespace behavior
}  // namespace rust

#endif  // BRIDGERT_CXX_TRYCATCH_HPP
