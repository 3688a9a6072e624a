/* A plugin that keeps 4 MiB of managed memory for the runtime's life, so
 * the CLI tests can put `bridgert health` near a memory limit. */
#include <bridgert.h>

const uint32_t brt_plugin_abi_version = BRT_ABI_VERSION;

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  (void)rt;
  if (abi_version != BRT_ABI_VERSION)
    return brt_error_set(BRT_E_ABI_MISMATCH, BRT_ORIGIN_PLUGIN, NULL, "built for ABI %u",
                         (unsigned)BRT_ABI_VERSION);
  return brt_alloc(4u << 20, 64, BRT_MEM_C_HEAP, BRT_ALLOC_ZERO) ? BRT_OK : BRT_E_OUT_OF_MEMORY;
}
