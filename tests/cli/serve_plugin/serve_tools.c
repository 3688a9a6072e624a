/* The serve tests' plugin: value algorithms (the HTTP API calls value
 * algorithms) that echo, nap past their deadline, fail, and crash, so that
 * each HTTP status of a call can be reached (tests/cli/serve_api.py). */
#include <bridgert.h>

#include <signal.h>
#include <string.h>
#include <time.h>

const uint32_t brt_plugin_abi_version = BRT_ABI_VERSION;

/* Returns its params. */
static brt_status echo(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  brt_value_retain(params);
  *result = (brt_value *)params;
  return BRT_OK;
}

/* Sleeps {"ms": N} milliseconds and returns N; its deadline is 200 ms. */
static brt_status nap(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  int64_t ms = 0;
  brt_status status = brt_value_get_int(brt_value_object_get(params, "ms", 2), &ms);
  if (status != BRT_OK) return status;
  struct timespec duration = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};
  nanosleep(&duration, NULL);
  *result = brt_value_int(ms);
  return *result ? BRT_OK : BRT_E_OUT_OF_MEMORY;
}

/* Always fails, so that the circuit breaker isolates it. */
static brt_status refuse(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  (void)params;
  (void)result;
  return brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_PLUGIN, NULL, "refuse always fails");
}

/* Kills its process: run isolated, its worker dies and the call is CRASHED. */
static brt_status crash(void *ctx, const brt_value *params, brt_value **result) {
  (void)ctx;
  (void)params;
  (void)result;
  raise(SIGKILL);
  return BRT_E_INTERNAL;
}

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  if (abi_version != BRT_ABI_VERSION)
    return brt_error_set(BRT_E_ABI_MISMATCH, BRT_ORIGIN_PLUGIN, NULL, "built for ABI %u",
                         (unsigned)BRT_ABI_VERSION);
  static const char nap_schema[] =
      "{\"type\": \"object\", \"properties\": {\"ms\": {\"type\": \"integer\"}}, \"required\": [\"ms\"]}";
  const brt_algorithm algorithms[] = {
      {sizeof(brt_algorithm), "echo", "1.0.0", "Returns its params", NULL, echo, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
      {sizeof(brt_algorithm), "nap", "1.0.0", "Sleeps ms; its deadline is 200 ms", nap_schema, nap, NULL, NULL, 200, 0, 0, NULL, NULL, NULL},
      {sizeof(brt_algorithm), "refuse", "1.0.0", "Always fails", NULL, refuse, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
      {sizeof(brt_algorithm), "crash", "1.0.0", "Kills its process", NULL, crash, NULL, NULL, 0, 0, 0, NULL, NULL, NULL},
  };
  for (size_t i = 0; i < sizeof algorithms / sizeof algorithms[0]; i++) {
    brt_status status = brt_register(rt, &algorithms[i]);
    if (status != BRT_OK) return status;
  }
  return BRT_OK;
}
