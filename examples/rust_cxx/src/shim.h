// The C++ half of the example: functions the Rust main calls through cxx.
#pragma once

// <bridgert/cxx_trycatch.hpp> (exceptions reach Rust as full brt_errors) is
// force-included by bridgert_build::bridge (build.rs).

#include <cstddef>
#include <cstdint>

#include "rust/cxx.h"

namespace rust_cxx_example {

// Fills a buffer Rust allocated, in place, and keeps a reference to it
// (brt_retain) after the call, so it outlives Rust's Vec.
void fill_and_keep(rust::Slice<uint8_t> buffer, uint8_t seed);
// The sum of the kept buffer's bytes (read after Rust dropped its Vec).
uint64_t kept_sum();
// Releases the kept buffer; throws std::logic_error when nothing is kept.
void release_kept();
// A buffer of `len` bytes (0, 1, 2, ...) from brt::allocator: a CPP_HEAP
// block whose one reference passes to the caller (Rust frees it).
uint8_t *make_cpp_buffer(size_t len);
// values.at(index): throws std::out_of_range past the end.
int32_t checked_at(rust::Slice<const int32_t> values, size_t index);

}  // namespace rust_cxx_example
