/* libFuzzer target: the manifest parser of external programs
 * (_brt_isolation_manifest_parse, isolation/manifest.c). Any input must
 * either parse into a manifest that keeps the documented promises (the
 * required keys present, command[0] relative and without a ".."
 * component, no NUL in any argument) or fail with a recorded error and a
 * zeroed manifest; nothing may leak either way. */
#include "isolation.h"

#include <bridgert.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parsed(const brt_manifest *m) {
  if (!m->name || !m->version || !m->command || m->command_count == 0 ||
      m->command_count > BRT_MANIFEST_ARGS_MAX || m->command[m->command_count])
    abort();
  const char *program = m->command[0];
  if (program[0] == '\0' || program[0] == '/' || strstr(program, "/../") ||
      strncmp(program, "../", 3) == 0 || strcmp(program, "..") == 0)
    abort();
  size_t len = strlen(program);
  if (len >= 3 && strcmp(program + len - 3, "/..") == 0) abort();
  for (size_t i = 0; i < m->command_count; i++)
    if (strlen(m->command[i]) > BRT_MANIFEST_ARG_MAX) abort();
  if (m->protocol != BRT_PROGRAM_FILES && m->protocol != BRT_PROGRAM_STDIO) abort();
  if (m->isolation != BRT_ISOLATION_NONE && m->isolation != BRT_ISOLATION_PROCESS &&
      m->isolation != BRT_ISOLATION_SANDBOX)
    abort();
  /* The schema was re-serialised: it must parse back. */
  if (m->input_schema) {
    brt_value *schema = brt_value_from_json(m->input_schema, strlen(m->input_schema), 0);
    if (!schema || brt_value_kind(schema) != BRT_KIND_OBJECT) abort();
    brt_value_release(schema);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  brt_manifest manifest;
  brt_status status =
      _brt_isolation_manifest_parse((const char *)data, size, "fuzz.algorithm.json", &manifest);
  if (status == BRT_OK) {
    check_parsed(&manifest);
    _brt_isolation_manifest_dispose(&manifest);
  } else {
    const brt_error *error = brt_last_error();
    if (!error || brt_error_code(error) != status || brt_error_message(error)[0] == '\0') abort();
    const brt_manifest zero = {0};
    if (memcmp(&manifest, &zero, sizeof zero) != 0) abort();
  }
  brt_error_clear();
  return 0;
}
