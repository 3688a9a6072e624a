/* The plugin of the reload tests, built twice: RELOAD_VERSION 1 and 2.
 * "which" (value) and "which_native" (native) answer the build's number;
 * each build also has an algorithm of its own ("only_v1", "only_v2"). The
 * fini hook counts itself in the test program's brt_test_fini_calls when
 * the program defines it. */
#include <bridgert.h>

#include <stdatomic.h>

#define TEXT2(x) #x
#define TEXT(x) TEXT2(x)
#define VERSION TEXT(RELOAD_VERSION) ".0.0"

const uint32_t brt_plugin_abi_version = BRT_ABI_VERSION;

extern _Atomic int brt_test_fini_calls __attribute__((weak));

static int64_t which_native(void) { return RELOAD_VERSION; }

static brt_status which(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  (void)params;
  *result = brt_value_int(RELOAD_VERSION);
  return *result ? BRT_OK : BRT_E_OUT_OF_MEMORY;
}

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  (void)abi_version;
  const brt_algorithm algorithms[] = {
      {.struct_size = sizeof(brt_algorithm), .name = "which", .version = VERSION,
       .value_fn = which},
      {.struct_size = sizeof(brt_algorithm), .name = "which_native", .version = VERSION,
       .native_fn = BRT_NATIVE_FN(which_native), .signature = "i64()"},
      {.struct_size = sizeof(brt_algorithm), .name = "only_v" TEXT(RELOAD_VERSION),
       .version = VERSION, .native_fn = BRT_NATIVE_FN(which_native), .signature = "i64()"},
  };
  for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++) {
    brt_status status = brt_register(rt, &algorithms[i]);
    if (status != BRT_OK) return status;
  }
  return BRT_OK;
}

void brt_plugin_fini_v1(brt_runtime *rt) {
  (void)rt;
  if (&brt_test_fini_calls) atomic_fetch_add(&brt_test_fini_calls, 1);
}
