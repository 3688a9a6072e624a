// A C++ plugin written with <bridgert/plugin.hpp>: native algorithms whose
// signatures and thunks come from their C++ types.
#include <bridgert/memory.hpp>
#include <bridgert/plugin.hpp>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

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

// A value algorithm that allocates through brt::allocator: [n] -> the sum
// of n ones. Registered with a memory limit of 1 MiB per call.
static brt::value ones(const brt::value &params) {
  std::vector<double, brt::allocator<double>> values(
      static_cast<std::size_t>(params[0].as<double>()), 1.0);
  double total = 0;
  for (double v : values) total += v;
  return brt::value(total);
}

BRT_PLUGIN(rt) {
  brt::algorithm_options limited;
  limited.memory_limit = 1u << 20;
  rt.value("ones", "1.0.0", R"({"type": "array", "items": {"type": "number"}})", &ones, limited);
  rt.value("sum", "1.0.0", R"({"type": "array", "items": {"type": "number"}})", &sum);
  rt.native<&dot>("dot", "1.0.0", "dot product of two f64 vectors");
  rt.native<&clamp16>("clamp16", "1.0.0");
  rt.native<&checked_index>("checked_index", "1.0.0");
  rt.native<&starts_with_a>("starts_with_a", "1.0.0");
  rt.native<&throw_int>("throw_int", "1.0.0");
  rt.native("half", "1.0.0", &half); /* a run-time function pointer */
}
