// A C++ plugin written with <bridgert/plugin.hpp>: native algorithms whose
// signatures and thunks come from their C++ types.
#include <bridgert/plugin.hpp>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

static double dot(const double *a, const double *b, uint64_t n) {
  double sum = 0;
  for (uint64_t i = 0; i < n; i++) sum += a[i] * b[i];
  return sum;
}

static int16_t clamp16(int32_t x) noexcept {
  return static_cast<int16_t>(x > 32767 ? 32767 : x < -32768 ? -32768 : x);
}

static uint32_t checked_index(uint32_t index, uint32_t size) {
  if (index >= size)
    throw std::out_of_range("index " + std::to_string(index) + " >= size " + std::to_string(size));
  return index;
}

static bool starts_with_a(const char *text) { return text && text[0] == 'a'; }

static void throw_int() { throw 42; }

static float half(float x) { return x / 2; }

// A value algorithm in brt::value terms: the sum of an array of numbers.
static brt::value sum(const brt::value &params) {
  double total = 0;
  for (std::size_t i = 0; i < params.size(); i++) total += params[i].as<double>();
  if (total < 0) throw std::domain_error("the sum is negative");
  return brt::value(total);
}

BRT_PLUGIN(rt) {
  rt.value("sum", "1.0.0", R"({"type": "array", "items": {"type": "number"}})", &sum);
  rt.native<&dot>("dot", "1.0.0", "dot product of two f64 vectors");
  rt.native<&clamp16>("clamp16", "1.0.0");
  rt.native<&checked_index>("checked_index", "1.0.0");
  rt.native<&starts_with_a>("starts_with_a", "1.0.0");
  rt.native<&throw_int>("throw_int", "1.0.0");
  rt.native("half", "1.0.0", &half); /* a run-time function pointer */
}
