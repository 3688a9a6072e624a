/* A plugin that registers algorithms where the loader does not look:
 *   from a helper thread during its init ("from_thread"),
 *   from inside a call ("register_late" registers "late"),
 * and one whose value function fails with a status no brt_status has
 * ("bad_status"). Each algorithm's code lives in this file, so each must go
 * when the plugin is unloaded. */
#include <bridgert.h>

#include <pthread.h>

const uint32_t brt_plugin_abi_version = BRT_ABI_VERSION;

static brt_runtime *runtime;

static int64_t answer(void) { return 42; }

static brt_status register_native(const char *name) {
  brt_algorithm algorithm = {.struct_size = sizeof algorithm,
                             .name = name,
                             .version = "1.0.0",
                             .native_fn = BRT_NATIVE_FN(answer),
                             .signature = "i64()"};
  return brt_register(runtime, &algorithm);
}

static void *helper(void *status) {
  *(brt_status *)status = register_native("from_thread");
  return NULL;
}

static brt_status register_late(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  (void)params;
  brt_status status = register_native("late");
  if (status != BRT_OK) return status;
  *result = brt_value_null();
  return BRT_OK;
}

static brt_status bad_status(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  (void)params;
  (void)result;
  brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_PLUGIN, NULL, "bad_status fails on purpose");
  return (brt_status)9999;
}

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  (void)abi_version;
  runtime = rt;
  brt_status from_thread = BRT_E_INTERNAL;
  pthread_t thread;
  if (pthread_create(&thread, NULL, helper, &from_thread) != 0)
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL, "no helper thread");
  pthread_join(thread, NULL);
  if (from_thread != BRT_OK) return from_thread;
  brt_algorithm late = {.struct_size = sizeof late, .name = "register_late", .version = "1.0.0",
                        .value_fn = register_late};
  brt_algorithm bad = {.struct_size = sizeof bad, .name = "bad_status", .version = "1.0.0",
                       .value_fn = bad_status};
  brt_status status = brt_register(rt, &late);
  return status == BRT_OK ? brt_register(rt, &bad) : status;
}
