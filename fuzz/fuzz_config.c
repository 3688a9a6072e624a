/* libFuzzer target: the configuration loader (brt_config_load_json_text).
 * Any input must either load or fail with a recorded error; a loaded config
 * must validate, and a failed load must leave the config untouched. */
#include <bridgert.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  brt_config cfg, before;
  brt_config_default(&cfg);
  brt_config_default(&before);
  if (brt_config_add_plugin_dir(&cfg, "/seed") != BRT_OK) abort();
  brt_config_copy(&before, &cfg);
  brt_status status = brt_config_load_json_text((const char *)data, size, "fuzz", &cfg);
  if (status == BRT_OK) {
    if (brt_config_validate(&cfg) != BRT_OK) abort();
  } else {
    const brt_error *error = brt_last_error();
    if (!error || brt_error_code(error) != status || brt_error_message(error)[0] == '\0') abort();
    if (cfg.max_memory != before.max_memory || cfg.plugin_dir_count != before.plugin_dir_count ||
        strcmp(cfg.plugin_dirs[0], "/seed") != 0 || cfg.tracking != before.tracking)
      abort();
  }
  brt_error_clear();
  brt_config_dispose(&cfg);
  brt_config_dispose(&before);
  return 0;
}
