/* The CLI tests' plugin: native algorithms of several signatures (the
 * echo_* ones return their argument, to check that `bridgert call` passes
 * every value of a type exactly), two that return a non-finite f64, and one
 * with a 100 ms deadline that fails with BRT_E_TIMEOUT when asked to sleep
 * longer. */
#include <bridgert.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

const uint32_t brt_plugin_abi_version = BRT_ABI_VERSION;

/* Wraps around instead of overflowing (which would be undefined). */
static int64_t add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int8_t echo_i8(int8_t x) { return x; }
static uint64_t echo_u64(uint64_t x) { return x; }
static float echo_f32(float x) { return x; }
static double infinity(void) { return INFINITY; }
static double not_a_number(void) { return NAN; }
static double scale(double x, double factor) { return x * factor; }
static bool is_even(uint32_t x) { return x % 2 == 0; }
static uint64_t length(const char *text) { return strlen(text); }
static double sum(const double *values, uint64_t count) {
  double total = 0;
  for (uint64_t i = 0; i < count; i++) total += values[i];
  return total;
}

static uint32_t sleep_ms(uint32_t ms) {
  struct timespec duration = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&duration, NULL);
  return ms;
}

#define NATIVE(n, fn, sig, timeout, text) \
  {sizeof(brt_algorithm), n, "1.0.0", text, NULL, NULL, BRT_NATIVE_FN(fn), sig, timeout, 0, 0, NULL, NULL}

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  if (abi_version != BRT_ABI_VERSION)
    return brt_error_set(BRT_E_ABI_MISMATCH, BRT_ORIGIN_PLUGIN, NULL, "built for ABI %u",
                         (unsigned)BRT_ABI_VERSION);
  const brt_algorithm algorithms[] = {
      NATIVE("add", add, "i64(i64,i64)", 0, "Adds two integers"),
      NATIVE("scale", scale, "f64(f64,f64)", 0, "Multiplies x by a factor"),
      NATIVE("is_even", is_even, "bool(u32)", 0, "Is the number even?"),
      NATIVE("length", length, "u64(str)", 0, "Bytes in a string"),
      NATIVE("sum", sum, "f64(ptr,u64)", 0, "Sums an array of doubles"),
      NATIVE("sleepy", sleep_ms, "u32(u32)", 100, "Sleeps; its deadline is 100 ms"),
      NATIVE("echo_i8", echo_i8, "i8(i8)", 0, "Returns its argument"),
      NATIVE("echo_u64", echo_u64, "u64(u64)", 0, "Returns its argument"),
      NATIVE("echo_f32", echo_f32, "f32(f32)", 0, "Returns its argument"),
      NATIVE("infinity", infinity, "f64()", 0, "Returns +infinity"),
      NATIVE("nan", not_a_number, "f64()", 0, "Returns NaN"),
  };
  for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++) {
    brt_status status = brt_register(rt, &algorithms[i]);
    if (status != BRT_OK) return status;
  }
  return BRT_OK;
}
