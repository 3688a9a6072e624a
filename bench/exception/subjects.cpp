// The measured subjects of bench/exception, in C++ (the harness, bench.h,
// is C). Each function runs `ops` operations and returns the elapsed ns.
//
// Both subjects of a bench call the same non-inlined function, so the
// throw crosses the same frames and builds the same exception; the only
// difference is what catches it: brt::guard (translation and recording) or
// a bare catch (const std::exception &).
#include <bridgert.hpp>

#include <cstdint>
#include <ctime>
#include <stdexcept>

#define BENCH_USE(x) __asm__ __volatile__("" : : "r"(x) : "memory")

namespace {

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

[[gnu::noinline]] void solver_fails() { throw std::runtime_error("bench: the solver failed"); }

[[gnu::noinline]] int step(int x) { return x * 3 + 1; }

struct unrelated_error {};

}  // namespace

extern "C" {

double bench_translate_bridgert(void *, std::uint64_t ops);
double bench_translate_bare(void *, std::uint64_t ops);
double bench_nothrow_bridgert(void *, std::uint64_t ops);
double bench_nothrow_bare(void *, std::uint64_t ops);
int bench_translator_add(void);

double bench_translate_bridgert(void *, std::uint64_t ops) {
  std::uint64_t start = now_ns();
  for (std::uint64_t i = 0; i < ops; i++) {
    brt_status status = brt::guard([] { solver_fails(); });
    BENCH_USE(status);
  }
  return static_cast<double>(now_ns() - start);
}

double bench_translate_bare(void *, std::uint64_t ops) {
  std::uint64_t start = now_ns();
  for (std::uint64_t i = 0; i < ops; i++) {
    try {
      solver_fails();
    } catch (const std::exception &e) {
      BENCH_USE(e.what());
    }
  }
  return static_cast<double>(now_ns() - start);
}

double bench_nothrow_bridgert(void *, std::uint64_t ops) {
  int acc = 1;
  std::uint64_t start = now_ns();
  for (std::uint64_t i = 0; i < ops; i++) {
    brt_status status = brt::guard([&] { acc = step(acc); });
    BENCH_USE(status);
  }
  BENCH_USE(acc);
  return static_cast<double>(now_ns() - start);
}

double bench_nothrow_bare(void *, std::uint64_t ops) {
  int acc = 1;
  std::uint64_t start = now_ns();
  for (std::uint64_t i = 0; i < ops; i++) {
    acc = step(acc);
    BENCH_USE(acc);
  }
  return static_cast<double>(now_ns() - start);
}

// Registers a user translator for an unrelated type, so every translation
// also pays for consulting it (one rethrow). Returns 0 on success.
int bench_translator_add(void) {
  try {
    brt::register_translator<unrelated_error>([](const unrelated_error &) { return BRT_E_IO; });
    return 0;
  } catch (const brt::error &) {
    return -1;
  }
}

}  // extern "C"
