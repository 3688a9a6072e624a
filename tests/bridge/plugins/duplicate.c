/* Registers add@1.0.0 like good.c does, plus one more: loading both fails
 * with EXISTS and registers neither of this plugin's algorithms. */
#include <bridgert.h>

static int64_t add_again(int64_t a, int64_t b) { return a + b; }
static int64_t extra(int64_t a) { return a; }

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  (void)abi_version;
  brt_algorithm first = {.struct_size = sizeof first, .name = "extra", .version = "1.0.0",
                         .native_fn = BRT_NATIVE_FN(extra), .signature = "i64(i64)"};
  brt_algorithm second = {.struct_size = sizeof second, .name = "add", .version = "1.0.0",
                          .native_fn = BRT_NATIVE_FN(add_again), .signature = "i64(i64,i64)"};
  brt_status status = brt_register(rt, &first);
  return status != BRT_OK ? status : brt_register(rt, &second);
}
