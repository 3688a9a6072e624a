/* Plugins: the public load entry points (brt_plugin_load, _ex, _at).
 *
 * Each validates its arguments and resolves the options before anything
 * is opened; a shared object is then checked and opened (plugin_check.c)
 * and loaded by the transaction in plugin.c, in this process or in
 * workers (isolated.c), and a manifest goes to manifest.c. No state of
 * its own. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A name longer than `suffix` that ends with it. */
bool _brt_bridge_has_suffix(const char *name, const char *suffix) {
  size_t len = strlen(name), suffix_len = strlen(suffix);
  return len > suffix_len && strcmp(name + len - suffix_len, suffix) == 0;
}

/* Checks `options` (NULL: the config's isolation, defaults otherwise) into
 * *out. */
brt_status _brt_bridge_plugin_options_resolve(const brt_core *core,
                                              const brt_plugin_options *options,
                                              brt_plugin_options *out) {
  memset(out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  out->isolation = core->config.isolation;
  if (!options) return BRT_OK;
  if (options->struct_size < sizeof *options)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_plugin_load_ex: options->struct_size is %u, expected "
                         "sizeof(brt_plugin_options) = %zu",
                         options->struct_size, sizeof *options);
  if ((unsigned)options->isolation > BRT_ISOLATION_SANDBOX)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_plugin_load_ex: options->isolation is %u; expected "
                         "BRT_ISOLATION_NONE, _PROCESS or _SANDBOX",
                         (unsigned)options->isolation);
  if (options->flags)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_plugin_load_ex: options->flags is 0x%x; it must be 0 in this version",
                         options->flags);
  if (options->workers > BRT_PLUGIN_WORKERS_MAX)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_plugin_load_ex: options->workers is %u; at most %d",
                         options->workers, BRT_PLUGIN_WORKERS_MAX);
  if (options->isolation == BRT_ISOLATION_NONE &&
      (options->workers > 1 || options->memory_limit || options->timeout_ms))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_plugin_load_ex: workers, memory_limit and timeout_ms need "
                         "isolation PROCESS or SANDBOX; an in-process plugin cannot be limited or "
                         "killed");
  *out = *options;
  out->struct_size = sizeof *out;
  return BRT_OK;
}

brt_status _brt_bridge_load_path(brt_runtime *rt, brt_core *core, const char *path,
                                 const brt_plugin_options *options) {
  if (_brt_bridge_has_suffix(path, BRT_MANIFEST_SUFFIX))
    return _brt_bridge_manifest_load(rt, core, path, options);
  char resolved[PATH_MAX];
  struct stat st;
  int fd = -1, dir = -1;
  brt_status status = _brt_bridge_open_plugin(core, path, resolved, &st, &fd, &dir);
  if (status != BRT_OK) return status;
  close(fd); /* the directory and the entry's identity are what is loaded */
  const char *file = strrchr(resolved, '/') + 1;
  if (options->isolation != BRT_ISOLATION_NONE)
    return _brt_bridge_isolated_load(rt, core, dir, resolved, path, &st, options);
  return _brt_bridge_plugin_load_at(rt, core, dir, file, resolved, path, &st);
}

brt_status brt_plugin_load_ex(brt_runtime *rt, const char *path,
                              const brt_plugin_options *options) {
  brt_core *core = NULL;
  brt_status opened = _brt_bridge_core_get(rt, "brt_plugin_load", &core);
  if (opened != BRT_OK) return opened;
  brt_status status;
  brt_plugin_options resolved_options;
  if (!path || !*path)
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load: path is %s; expected the path of a shared object "
                           "or of a manifest",
                           path ? "empty" : "NULL");
  else if (strlen(path) >= PATH_MAX)
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load: path is %zu bytes long; at most %d expected",
                           strlen(path), PATH_MAX - 1);
  else if ((status = _brt_bridge_plugin_options_resolve(core, options, &resolved_options)) ==
           BRT_OK)
    status = _brt_bridge_load_path(rt, core, path, &resolved_options);
  _brt_bridge_core_release(core);
  return status;
}

brt_status brt_plugin_load_at(brt_runtime *rt, int dir_fd, const char *file) {
  brt_core *core = NULL;
  brt_status opened = _brt_bridge_core_get(rt, "brt_plugin_load_at", &core);
  if (opened != BRT_OK) return opened;
  brt_status status = BRT_OK;
  struct stat st;
  int own = -1;
  char dir_path[PATH_MAX], link[64], resolved[PATH_MAX];
  ssize_t dir_len = -1;
  if (!file || !*file || strchr(file, '/') || strlen(file) > NAME_MAX)
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load_at: file is %s; expected the name of a file in the "
                           "directory (no '/')",
                           !file ? "NULL" : !*file ? "empty" : "not a plain file name");
  else if (dir_fd < 0 || (own = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3)) < 0)
    status = brt_error_set_os(BRT_E_INVALID_ARGUMENT, dir_fd < 0 ? EBADF : errno,
                              "brt_plugin_load_at: %d is not an open descriptor", dir_fd);
  else if (snprintf(link, sizeof link, "/proc/self/fd/%d", own) < 0 ||
           (dir_len = readlink(link, dir_path, sizeof dir_path - 1)) <= 0)
    status = brt_error_set_os(BRT_E_IO, errno, "brt_plugin_load_at: cannot name directory "
                              "descriptor %d through /proc (is /proc mounted?)", dir_fd);
  else if (fstatat(own, file, &st, AT_SYMLINK_NOFOLLOW) != 0)
    status = _brt_bridge_path_error("brt_plugin_load_at: cannot stat", file);
  else if (!S_ISREG(st.st_mode))
    status = brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load_at: \"%s\" is %s; a plugin must be a regular shared "
                           "object file",
                           file, _brt_bridge_file_kind(st.st_mode));
  if (status == BRT_OK) {
    dir_path[dir_len] = '\0';
    const char *parent = strcmp(dir_path, "/") ? dir_path : "";
    if (strlen(parent) + 1 + strlen(file) >= sizeof resolved) {
      status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                             "brt_plugin_load_at: \"%s/%s\" is longer than PATH_MAX", parent, file);
    } else {
      memcpy(resolved, parent, strlen(parent));
      resolved[strlen(parent)] = '/';
      strcpy(resolved + strlen(parent) + 1, file);
      status = _brt_bridge_plugin_load_at(rt, core, own, file, resolved, NULL, &st);
      own = -1;
    }
  }
  if (own >= 0) close(own);
  _brt_bridge_core_release(core);
  return status;
}

brt_status brt_plugin_load(brt_runtime *rt, const char *path) {
  return brt_plugin_load_ex(rt, path, NULL);
}
