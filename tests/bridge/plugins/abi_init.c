/* Refuses the runtime's ABI from its init. */
#include <bridgert.h>

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  (void)rt;
  return brt_error_set(BRT_E_ABI_MISMATCH, BRT_ORIGIN_PLUGIN, NULL,
                       "this plugin needs ABI 1000, the runtime offers %u", abi_version);
}
