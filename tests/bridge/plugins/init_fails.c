/* Registers an algorithm, then fails: the load must leave nothing behind. */
#include <bridgert.h>

static int64_t orphan(int64_t x) { return x; }

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  (void)abi_version;
  brt_algorithm algorithm = {.struct_size = sizeof algorithm, .name = "orphan",
                             .version = "1.0.0", .native_fn = BRT_NATIVE_FN(orphan),
                             .signature = "i64(i64)"};
  brt_status status = brt_register(rt, &algorithm);
  if (status != BRT_OK) return status;
  return brt_error_set(BRT_E_IO, BRT_ORIGIN_PLUGIN, NULL, "cannot open model file weights.bin");
}
