#include "rust_cxx_example/src/shim.h"

#include <bridgert.hpp>
#include <bridgert/memory.hpp>

#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace rust_cxx_example {
namespace {
// The buffer C++ keeps, and its length. One at a time, for the example.
const uint8_t *kept = nullptr;
size_t kept_len = 0;
}  // namespace

void fill_and_keep(rust::Slice<uint8_t> buffer, uint8_t seed) {
  if (kept) throw std::logic_error("fill_and_keep: a buffer is already kept; release it first");
  // Throws brt::error (INVALID_POINTER...) when the slice is not the start
  // of a bridgert block: a Rust Vec on bridgert::Allocator always is.
  brt::check(brt_retain(buffer.data()));
  for (size_t i = 0; i < buffer.size(); i++) buffer[i] = static_cast<uint8_t>(seed + i);
  kept = buffer.data();
  kept_len = buffer.size();
}

uint64_t kept_sum() {
  if (!kept) throw std::logic_error("kept_sum: no buffer is kept");
  return std::accumulate(kept, kept + kept_len, uint64_t{0});
}

void release_kept() {
  if (!kept) throw std::logic_error("release_kept: no buffer is kept");
  brt::check(brt_release(kept));
  kept = nullptr;
  kept_len = 0;
}

uint8_t *make_cpp_buffer(size_t len) {
  uint8_t *data = brt::allocator<uint8_t>().allocate(len);
  for (size_t i = 0; i < len; i++) data[i] = static_cast<uint8_t>(i);
  return data;
}

int32_t checked_at(rust::Slice<const int32_t> values, size_t index) {
  // On the shared allocator too (CPP_HEAP), like every C++ container here.
  std::vector<int32_t, brt::allocator<int32_t>> copy(values.begin(), values.end());
  return copy.at(index);
}

}  // namespace rust_cxx_example
