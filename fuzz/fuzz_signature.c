/* libFuzzer target: the registry's parsers of outside input — the native
 * signature grammar, algorithm names, semantic versions and "name@version"
 * lookups — through the public ABI (brt_register, brt_prepare). The input
 * is split at the first two NUL bytes into signature, name and version. */
#include <bridgert.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void native_target(void) {}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* A fresh runtime now and then: the monitor keeps the statistics of every
   * name@version it has seen, which would grow without bound here. */
  static brt_runtime *rt;
  static unsigned runs;
  if (rt && ++runs % 4096 == 0) {
    brt_runtime_close(rt);
    rt = NULL;
  }
  if (!rt) rt = brt_runtime_open(NULL);
  if (!rt) return 0;
  char *text = malloc(size + 3);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = text[size + 1] = text[size + 2] = '\0';
  const char *signature = text;
  const char *name = signature + strlen(signature) + 1;
  const char *version = name + strlen(name) + 1;
  if (name > text + size) name = "fuzzed";
  if (version > text + size) version = "1.0.0";

  brt_algorithm algorithm = {.struct_size = sizeof algorithm, .name = name, .version = version,
                             .native_fn = BRT_NATIVE_FN(native_target),
                             .signature = signature};
  if (brt_register(rt, &algorithm) == BRT_OK) {
    brt_prepared *prepared = brt_prepare(rt, name);
    if (prepared) {
      if (!brt_prepared_signature(prepared)) abort();
      brt_prepared_free(prepared);
    }
    if (brt_unregister(rt, name) != BRT_OK) abort();
  }
  /* Lookups of arbitrary text, registered or not. */
  brt_prepared *looked_up = brt_prepare(rt, signature);
  brt_prepared_free(looked_up);
  brt_error_clear();
  free(text);
  return 0;
}
