/* External programs' manifests ("NAME.algorithm.json", docs/isolation.md):
 * strict parsing into a brt_manifest.
 *
 * A manifest is outside input written by whoever installed the program, so
 * the parser accepts exactly the documented keys with exactly their types:
 * a typo ("timout_ms") must not silently drop a limit, and a duplicate key
 * is refused by the JSON reader itself (parsers disagree on which copy
 * wins). The command is a list of arguments, never a shell line; its first
 * element names a file relative to the manifest's directory, and a ".."
 * component is refused here so that the name alone cannot leave that
 * directory (symbolic links are dealt with when the file is opened). */
#include "isolation.h"
#include "wire.h"

#include <bridgert.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every key a manifest may have; "required" ones must be present. */
static const struct manifest_key {
  const char *name;
  bool required;
} manifest_keys[] = {
    {"name", true},          {"version", true},       {"description", false},
    {"input_schema", false}, {"command", true},       {"protocol", true},
    {"timeout_ms", false},   {"memory_limit", false}, {"isolation", false},
};
#define MANIFEST_KEY_COUNT (sizeof manifest_keys / sizeof manifest_keys[0])
#define MANIFEST_KEYS_TEXT                                                                  \
  "name, version, description, input_schema, command, protocol, timeout_ms, memory_limit, " \
  "isolation"

/* The JSON reader's nesting limit for manifests: deep enough for any real
 * input schema, shallow enough that a hostile file costs little. */
#define MANIFEST_DEPTH_MAX 64

static brt_status malformed(const char *path, const char *key, const char *what) {
  return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL, "manifest \"%s\": \"%s\" %s", path, key,
                       what);
}

static brt_status out_of_memory(const char *path, const char *key) {
  return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                       "manifest \"%s\": out of memory copying \"%s\"", path, key);
}

/* A copy of a string value that must not contain NUL (it becomes a C
 * string: a NUL would silently cut it). */
static brt_status copy_text(const char *path, const char *key, const brt_value *value, size_t max,
                            char **out) {
  const char *data = NULL;
  size_t len = 0;
  if (brt_value_kind(value) != BRT_KIND_STRING ||
      brt_value_get_string(value, &data, &len) != BRT_OK)
    return malformed(path, key, "must be a string");
  if (memchr(data, '\0', len)) return malformed(path, key, "must not contain a NUL character");
  if (len > max) {
    char what[96];
    snprintf(what, sizeof what, "is %zu bytes long; at most %zu are allowed", len, max);
    return malformed(path, key, what);
  }
  *out = strndup(data, len);
  return *out ? BRT_OK : out_of_memory(path, key);
}

/* A name as brt_register accepts it, checked here so the error names the
 * manifest: 1 to 128 characters of [a-z0-9_.-]. */
static brt_status check_name(const char *path, const char *name) {
  size_t len = strlen(name);
  bool valid = len >= 1 && len <= BRT_ALGORITHM_NAME_MAX;
  for (size_t i = 0; valid && i < len; i++)
    valid = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
            name[i] == '_' || name[i] == '.' || name[i] == '-';
  if (!valid)
    return malformed(path, "name", "must be 1 to 128 characters of a-z, 0-9, '_', '.' and '-'");
  return BRT_OK;
}

/* command[0] names a file inside the manifest's directory: relative, and
 * without a ".." component. */
static brt_status check_program_name(const char *path, const char *program) {
  if (program[0] == '\0') return malformed(path, "command", "must not start with an empty string");
  if (program[0] == '/')
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "manifest \"%s\": command[0] \"%s\" is an absolute path; it must name a "
                         "file relative to the manifest's directory (no PATH search, no shell)",
                         path, program);
  for (const char *at = program; at;) {
    const char *slash = strchr(at, '/');
    size_t len = slash ? (size_t)(slash - at) : strlen(at);
    if (len == 2 && at[0] == '.' && at[1] == '.')
      return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                           "manifest \"%s\": command[0] \"%s\" has a \"..\" component; the "
                           "program must lie inside the manifest's directory",
                           path, program);
    at = slash ? slash + 1 : NULL;
  }
  if (program[strlen(program) - 1] == '/')
    return malformed(path, "command", "must name a file, not a directory, in command[0]");
  return BRT_OK;
}

static brt_status parse_command(const char *path, const brt_value *value, brt_manifest *out) {
  size_t count = 0;
  if (brt_value_kind(value) != BRT_KIND_ARRAY || brt_value_array_length(value, &count) != BRT_OK)
    return malformed(path, "command", "must be an array of strings: [\"program\", \"arg\", ...]");
  if (count == 0) return malformed(path, "command", "must name a program: it is empty");
  if (count > BRT_MANIFEST_ARGS_MAX)
    return malformed(path, "command", "has more than 256 elements");
  out->command = calloc(count + 1, sizeof *out->command);
  if (!out->command) return out_of_memory(path, "command");
  for (size_t i = 0; i < count; i++) {
    char key[32];
    snprintf(key, sizeof key, "command[%zu]", i);
    brt_status status =
        copy_text(path, key, brt_value_array_get(value, i), BRT_MANIFEST_ARG_MAX, &out->command[i]);
    if (status != BRT_OK) return status;
    out->command_count = i + 1;
  }
  return check_program_name(path, out->command[0]);
}

/* A non-negative integer no larger than `max`. */
static brt_status parse_count(const char *path, const char *key, const brt_value *value,
                              uint64_t max, uint64_t *out) {
  int64_t number = 0;
  if (brt_value_kind(value) != BRT_KIND_INT || brt_value_get_int(value, &number) != BRT_OK)
    return malformed(path, key, "must be an integer (a JSON number without a fraction)");
  if (number < 0 || (uint64_t)number > max) {
    char what[96];
    snprintf(what, sizeof what, "is %lld; it must lie between 0 and %llu", (long long)number,
             (unsigned long long)max);
    return malformed(path, key, what);
  }
  *out = (uint64_t)number;
  return BRT_OK;
}

static brt_status parse_choice(const char *path, const char *key, const brt_value *value,
                               const char *const *choices, size_t count, size_t *out) {
  char *text = NULL;
  brt_status status = copy_text(path, key, value, 64, &text);
  if (status != BRT_OK) return status;
  for (size_t i = 0; i < count; i++) {
    if (strcmp(text, choices[i]) == 0) {
      free(text);
      *out = i;
      return BRT_OK;
    }
  }
  status = brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                         "manifest \"%s\": \"%s\" is \"%s\"; expected \"%s\" or \"%s\"", path, key,
                         text, choices[0], choices[1]);
  free(text);
  return status;
}

static brt_status parse_isolation(const char *path, const brt_value *value, brt_manifest *out) {
  const char *text = NULL;
  if (brt_value_kind(value) == BRT_KIND_STRING &&
      brt_value_get_string(value, &text, NULL) == BRT_OK && strcmp(text, "none") == 0)
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                         "manifest \"%s\": \"isolation\" is \"none\", but a program always runs "
                         "in its own process; use \"process\" or \"sandbox\" (or leave the key "
                         "out)",
                         path);
  static const char *const choices[] = {"process", "sandbox"};
  size_t chosen = 0;
  brt_status status = parse_choice(path, "isolation", value, choices, 2, &chosen);
  if (status == BRT_OK) out->isolation = chosen ? BRT_ISOLATION_SANDBOX : BRT_ISOLATION_PROCESS;
  return status;
}

static brt_status parse_schema(const char *path, const brt_value *value, brt_manifest *out) {
  if (brt_value_kind(value) != BRT_KIND_OBJECT)
    return malformed(path, "input_schema", "must be an object (a JSON Schema)");
  char *text = brt_value_to_json(value, 0);
  if (!text) {
    brt_status code = _brt_null_status("brt_value_to_json");
    return brt_error_wrap(code, BRT_ORIGIN_C, NULL,
                          "manifest \"%s\": \"input_schema\" cannot be written back as JSON: %s",
                          path, brt_error_message(brt_last_error()));
  }
  out->input_schema = strdup(text);
  brt_release(text);
  return out->input_schema ? BRT_OK : out_of_memory(path, "input_schema");
}

static brt_status parse_entry(const char *path, size_t key_index, const brt_value *value,
                              brt_manifest *out) {
  static const char *const protocols[] = {"files", "stdio"};
  uint64_t number = 0;
  size_t chosen = 0;
  brt_status status;
  switch (key_index) {
  case 0:
    status = copy_text(path, "name", value, BRT_ALGORITHM_NAME_MAX, &out->name);
    return status == BRT_OK ? check_name(path, out->name) : status;
  case 1: return copy_text(path, "version", value, BRT_ALGORITHM_VERSION_MAX, &out->version);
  case 2: return copy_text(path, "description", value, 4096, &out->description);
  case 3: return parse_schema(path, value, out);
  case 4: return parse_command(path, value, out);
  case 5:
    status = parse_choice(path, "protocol", value, protocols, 2, &chosen);
    out->protocol = chosen ? BRT_PROGRAM_STDIO : BRT_PROGRAM_FILES;
    return status;
  case 6:
    status = parse_count(path, "timeout_ms", value, UINT32_MAX, &number);
    out->timeout_ms = (uint32_t)number;
    return status;
  case 7: return parse_count(path, "memory_limit", value, INT64_MAX, &out->memory_limit);
  default: return parse_isolation(path, value, out);
  }
}

static brt_status parse_object(const char *path, const brt_value *root, brt_manifest *out) {
  size_t count = 0;
  if (brt_value_kind(root) != BRT_KIND_OBJECT || brt_value_object_length(root, &count) != BRT_OK)
    return brt_error_set(
        BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
        "manifest \"%s\" is a JSON %s; it must be an object with the keys " MANIFEST_KEYS_TEXT,
        path, brt_kind_name(brt_value_kind(root)));
  bool seen[MANIFEST_KEY_COUNT] = {false};
  for (size_t i = 0; i < count; i++) {
    const char *key = NULL;
    size_t key_len = 0;
    const brt_value *value = NULL;
    brt_value_object_entry(root, i, &key, &key_len, &value);
    size_t k = 0;
    while (k < MANIFEST_KEY_COUNT && !(strlen(manifest_keys[k].name) == key_len &&
                                       memcmp(manifest_keys[k].name, key, key_len) == 0))
      k++;
    if (k == MANIFEST_KEY_COUNT)
      return brt_error_set(
          BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
          "manifest \"%s\": unknown key \"%.64s\"; the keys are " MANIFEST_KEYS_TEXT, path, key);
    seen[k] = true;
    brt_status status = parse_entry(path, k, value, out);
    if (status != BRT_OK) return status;
  }
  for (size_t k = 0; k < MANIFEST_KEY_COUNT; k++)
    if (manifest_keys[k].required && !seen[k])
      return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                           "manifest \"%s\": the required key \"%s\" is missing (required: name, "
                           "version, command, protocol)",
                           path, manifest_keys[k].name);
  return BRT_OK;
}

brt_status _brt_isolation_manifest_parse(const char *text, size_t len, const char *path,
                                         brt_manifest *out) {
  if (!out)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_manifest_parse: out is NULL");
  memset(out, 0, sizeof *out);
  if (!path) path = "(unnamed)";
  if (!text && len)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "manifest \"%s\": the text is NULL", path);
  if (len > BRT_MANIFEST_SIZE_MAX)
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                         "manifest \"%s\" is %zu bytes; at most %zu are read", path, len,
                         BRT_MANIFEST_SIZE_MAX);
  brt_json_options options;
  brt_json_options_default(&options);
  options.max_depth = MANIFEST_DEPTH_MAX;
  options.max_input = BRT_MANIFEST_SIZE_MAX;
  brt_value *root = brt_value_from_json_ex(text ? text : "", len, &options, NULL);
  if (!root) /* the reader's message gives the line, the column and an excerpt */
    return brt_error_wrap(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL, "manifest \"%s\" is not valid JSON: %s",
                          path, brt_error_message(brt_last_error()));
  brt_status status = parse_object(path, root, out);
  brt_value_release(root);
  if (status != BRT_OK) _brt_isolation_manifest_dispose(out);
  return status;
}

void _brt_isolation_manifest_dispose(brt_manifest *manifest) {
  if (!manifest) return;
  free(manifest->name);
  free(manifest->version);
  free(manifest->description);
  free(manifest->input_schema);
  for (size_t i = 0; manifest->command && i < manifest->command_count; i++)
    free(manifest->command[i]);
  free(manifest->command);
  memset(manifest, 0, sizeof *manifest);
}
