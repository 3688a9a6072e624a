// Throws std::out_of_range; cxx's default handler would keep only what().
#pragma once

#include <stdexcept>

namespace rust_no_trycatch {
inline int throw_out_of_range() { throw std::out_of_range("index 7 >= size 3"); }
}  // namespace rust_no_trycatch
