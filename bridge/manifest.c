/* External programs as algorithms: the loader's side of a manifest
 * ("NAME.algorithm.json", docs/isolation.md, "External programs").
 *
 * The manifest and the program it names pass the same checks as a shared
 * object (confinement to plugin_dirs, owner, mode, every directory on the
 * way) and are opened once: the manifest is read from its descriptor, and
 * the program's descriptor is what every call executes, so neither can be
 * swapped after the checks. The program must lie inside the manifest's
 * directory, also after symbolic links are resolved. Its one algorithm is
 * registered as a plugin named by the manifest's path; isolation/program.c
 * runs it. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads the whole manifest from `fd` (at most BRT_MANIFEST_SIZE_MAX bytes)
 * into a malloc()ed, NUL-terminated buffer. */
static brt_status read_manifest(int fd, const char *resolved, const struct stat *st, char **text,
                                size_t *len) {
  if ((uint64_t)st->st_size > BRT_MANIFEST_SIZE_MAX)
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                         "manifest \"%s\" is %lld bytes; at most %zu are read", resolved,
                         (long long)st->st_size, BRT_MANIFEST_SIZE_MAX);
  /* One byte more than the limit, to notice a file that grew since fstat. */
  char *buf = malloc(BRT_MANIFEST_SIZE_MAX + 2);
  if (!buf)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "out of memory reading manifest \"%s\"", resolved);
  size_t used = 0;
  while (used <= BRT_MANIFEST_SIZE_MAX) {
    ssize_t got = read(fd, buf + used, BRT_MANIFEST_SIZE_MAX + 1 - used);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int err = errno;
      free(buf);
      return brt_error_set_os(BRT_E_IO, err, "cannot read manifest \"%s\": %s", resolved,
                              strerror(err));
    }
    if (got == 0) break;
    used += (size_t)got;
  }
  if (used > BRT_MANIFEST_SIZE_MAX) {
    free(buf);
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                         "manifest \"%s\" is larger than %zu bytes, the most that is read",
                         resolved, BRT_MANIFEST_SIZE_MAX);
  }
  buf[used] = '\0';
  *text = buf;
  *len = used;
  return BRT_OK;
}

/* Opens and checks the program command[0] names, relative to the
 * manifest's directory `dir`. Fills `resolved`, `st` and `fd`. */
static brt_status open_program(const brt_core *core, const char *manifest, const char *dir,
                               const char *name, char *resolved, struct stat *st, int *fd) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", strcmp(dir, "/") == 0 ? "" : dir, name) >=
      (int)sizeof path)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "manifest \"%s\": the program path \"%s/%s\" is longer than PATH_MAX",
                         manifest, dir, name);
  brt_status status = _brt_bridge_open_checked(core, "program", path, resolved, st, fd);
  if (status != BRT_OK)
    return brt_error_wrap(status, BRT_ORIGIN_C, NULL, "manifest \"%s\": command[0] \"%s\": %s",
                          manifest, name, brt_error_message(brt_last_error()));
  size_t len = strlen(dir);
  if (len > 1 && (strncmp(resolved, dir, len) != 0 || resolved[len] != '/'))
    status = brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                           "manifest \"%s\": command[0] \"%s\" resolves to \"%s\", outside the "
                           "manifest's directory \"%s\"; the program must lie inside it",
                           manifest, name, resolved, dir);
  else if (!(st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
    status = brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                           "manifest \"%s\": the program \"%s\" is not executable (mode %04o); "
                           "chmod +x it",
                           manifest, resolved, (unsigned)(st->st_mode & 07777));
  if (status != BRT_OK) {
    close(*fd);
    *fd = -1;
  }
  return status;
}

/* Registers the manifest's algorithm, run by a new brt_program. */
static brt_status adopt_program(brt_runtime *rt, brt_core *core, const char *resolved,
                                const char *given, const struct stat *st,
                                const brt_manifest *manifest, const brt_program_spec *spec,
                                const brt_plugin_options *options) {
  brt_program *program = NULL;
  brt_status status = _brt_isolation_program_create(spec, &program);
  if (status != BRT_OK)
    return brt_error_wrap(status, BRT_ORIGIN_C, NULL, "manifest \"%s\": %s", resolved,
                          brt_error_message(brt_last_error()));
  brt_algorithm algorithm = {.struct_size = sizeof algorithm,
                             .name = manifest->name,
                             .version = manifest->version,
                             .description = manifest->description,
                             .input_schema = manifest->input_schema,
                             .value_fn = _brt_isolation_program_call,
                             /* The call's deadline: the bridge pushes it in a frame, and the
                              * program reads it there (spec->call_deadline). */
                             .timeout_ms = spec->timeout_ms,
                             .ctx = program};
  status = _brt_bridge_plugin_adopt(rt, core, resolved, given, st, program,
                                    _brt_isolation_program_free, &algorithm, 1, options);
  if (status != BRT_OK)
    return brt_error_wrap(status, BRT_ORIGIN_C, NULL, "manifest \"%s\": %s", resolved,
                          brt_error_message(brt_last_error()));
  return BRT_OK;
}

brt_status _brt_bridge_manifest_load(brt_runtime *rt, brt_core *core, const char *path,
                                     const brt_plugin_options *options) {
  if (!rt || !core || !path || !*path || !options)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_bridge_manifest_load: the runtime, the path or the options are "
                         "missing");
  char resolved[PATH_MAX];
  struct stat st;
  int fd = -1;
  brt_status status = _brt_bridge_open_checked(core, "manifest", path, resolved, &st, &fd);
  if (status != BRT_OK) return status;
  char *text = NULL;
  size_t len = 0;
  status = read_manifest(fd, resolved, &st, &text, &len);
  close(fd);
  if (status != BRT_OK) return status;
  brt_manifest manifest;
  status = _brt_isolation_manifest_parse(text, len, resolved, &manifest);
  free(text);
  if (status != BRT_OK) return status;

  /* The stronger of the manifest's isolation and the load's, and at
   * least a process of its own: a manifest asking for "process" must not
   * take a program out of the sandbox its host asked for, and a manifest
   * asking for "sandbox" knows its program needs one. The load's limits
   * override the manifest's. */
  brt_isolation isolation =
      manifest.isolation > options->isolation ? manifest.isolation : options->isolation;
  if (isolation == BRT_ISOLATION_NONE) isolation = BRT_ISOLATION_PROCESS;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", resolved);
  char *slash = strrchr(dir, '/');
  slash[slash == dir ? 1 : 0] = '\0';
  char program_path[PATH_MAX];
  struct stat program_st;
  int program_fd = -1;
  status = open_program(core, resolved, dir, manifest.command[0], program_path, &program_st,
                        &program_fd);
  if (status == BRT_OK) {
    brt_program_spec spec = {
        .program_fd = program_fd,
        .program_path = program_path,
        .args = (const char *const *)manifest.command + 1,
        .arg_count = manifest.command_count - 1,
        .protocol = manifest.protocol,
        .isolation = isolation,
        .memory_limit = options->memory_limit ? options->memory_limit : manifest.memory_limit,
        .timeout_ms = options->timeout_ms ? options->timeout_ms : manifest.timeout_ms,
        .call_deadline = brt_call_deadline};
    status = adopt_program(rt, core, resolved, path, &st, &manifest, &spec, options);
  }
  _brt_isolation_manifest_dispose(&manifest);
  return status;
}
