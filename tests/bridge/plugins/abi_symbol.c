/* Declares it was built for an ABI this runtime does not implement. */
#include <bridgert.h>

const uint32_t brt_plugin_abi_version = 999;

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  (void)rt;
  (void)abi_version;
  return BRT_OK;
}
