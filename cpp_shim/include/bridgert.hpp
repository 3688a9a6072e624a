// bridgert — the C++ shim. Include this one header (C++17) and link
// libbridgert_cpp. See docs/cpp.md.
//
//   bridgert/boundary.hpp  brt::guard, BRT_GUARDED, brt::register_translator
//   bridgert/error.hpp     brt::error, brt::check, brt::result, brt::attempt
//   bridgert/bad_alloc.hpp brt::bad_alloc (std::bad_alloc with the allocator's error)
//   bridgert/memory.hpp    brt::allocator<T>, brt::block<T>, brt::buffer
//   bridgert/value.hpp     brt::value (conversions, JSON, zero-copy tensors)
#ifndef BRIDGERT_HPP
#define BRIDGERT_HPP

#include <bridgert.h>

#include <bridgert/boundary.hpp>
#include <bridgert/error.hpp>
#include <bridgert/bad_alloc.hpp>
#include <bridgert/memory.hpp>
#include <bridgert/value.hpp>

#endif  // BRIDGERT_HPP
