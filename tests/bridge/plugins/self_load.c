/* A plugin whose init loads its own file again: the loader must refuse the
 * cycle instead of recursing until the stack overflows. */
#include <bridgert.h>

#include <dlfcn.h>

const uint32_t brt_plugin_abi_version = BRT_ABI_VERSION;

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  (void)abi_version;
  Dl_info self;
  if (!dladdr((void *)(uintptr_t)&brt_plugin_init_v1, &self) || !self.dli_fname)
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL, "cannot find my own file");
  return brt_plugin_load(rt, self.dli_fname);
}
