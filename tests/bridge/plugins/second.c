/* A second plugin with one algorithm, for directory loads and unloads. */
#include <bridgert.h>

static int64_t triple(int64_t x) { return 3 * x; }

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  (void)abi_version;
  brt_algorithm algorithm = {.struct_size = sizeof algorithm, .name = "triple",
                             .version = "2.1.0", .native_fn = BRT_NATIVE_FN(triple),
                             .signature = "i64(i64)"};
  return brt_register(rt, &algorithm);
}
