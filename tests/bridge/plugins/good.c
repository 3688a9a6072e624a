/* A well-formed C plugin: native algorithms of several signatures. */
#include <bridgert.h>

#include <stdbool.h>
#include <string.h>
#include <time.h>

const uint32_t brt_plugin_abi_version = BRT_ABI_VERSION;

static int64_t add(int64_t a, int64_t b) { return a + b; }
static double scale(double x, double factor) { return x * factor; }
static int8_t negate8(int8_t x) { return (int8_t)-x; }
static bool is_even(uint32_t x) { return x % 2 == 0; }
static uint64_t length(const char *text) { return strlen(text); }

/* Sleeps `ms` milliseconds in 1 ms steps, stopping early when cancelled;
 * returns how many steps it slept. */
static uint32_t nap(uint32_t ms) {
  uint32_t slept = 0;
  for (; slept < ms && !brt_call_cancelled(); slept++) {
    struct timespec step = {0, 1000000};
    nanosleep(&step, NULL);
  }
  return slept;
}

#define NATIVE(n, v, fn, sig) NATIVE_T(n, v, fn, sig, 0)
#define NATIVE_T(n, v, fn, sig, timeout) \
  {sizeof(brt_algorithm), n, v, "test", NULL, NULL, BRT_NATIVE_FN(fn), sig, timeout, 0, 0, NULL, NULL, NULL}

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  if (abi_version != BRT_ABI_VERSION)
    return brt_error_set(BRT_E_ABI_MISMATCH, BRT_ORIGIN_PLUGIN, NULL, "built for ABI %u",
                         (unsigned)BRT_ABI_VERSION);
  const brt_algorithm algorithms[] = {
      NATIVE("add", "1.0.0", add, "i64(i64,i64)"),
      NATIVE("scale", "1.0.0", scale, "f64(f64, f64)"),
      NATIVE("negate8", "1.0.0", negate8, "i8(i8)"),
      NATIVE("is_even", "1.0.0", is_even, "bool(u32)"),
      NATIVE("length", "1.0.0", length, "u64(str)"),
      NATIVE_T("nap", "1.0.0", nap, "u32(u32)", 60000),
  };
  for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++) {
    brt_status status = brt_register(rt, &algorithms[i]);
    if (status != BRT_OK) return status;
  }
  return BRT_OK;
}
