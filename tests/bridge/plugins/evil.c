/* What an attacker would like the loader to run: its constructor leaves a
 * mark (the file named by BRT_TEST_EVIL_MARK) the moment it is loaded. */
#include <bridgert.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void leave_mark(void) {
  const char *mark = getenv("BRT_TEST_EVIL_MARK");
  if (mark) close(open(mark, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
}

const uint32_t brt_plugin_abi_version = BRT_ABI_VERSION;

brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version) {
  (void)rt;
  (void)abi_version;
  return BRT_OK;
}
