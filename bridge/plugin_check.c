/* The loader's checks: where a plugin, a manifest or a program may come
 * from, who may have written it and its directories, and the walk that
 * opens exactly what was checked (bridge/internal.h, plugin_check.c). */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


brt_status _brt_bridge_path_error(const char *what, const char *path) {
  int err = errno;
  brt_status code = err == ENOENT || err == ENOTDIR ? BRT_E_NOT_FOUND
                    : err == EACCES || err == EPERM ? BRT_E_PERMISSION
                                                    : BRT_E_IO;
  return brt_error_set_os(code, err, "%s \"%s\": %s", what, path, strerror(err));
}

/* Inside one of the configured plugin_dirs (after realpath), or any
 * directory when none is configured. */
brt_status _brt_bridge_check_confinement(const brt_core *core, const char *path, const char *resolved) {
  const brt_config *cfg = &core->config;
  if (cfg->plugin_dir_count == 0) return BRT_OK;
  char dir[PATH_MAX], listed[768];
  size_t used = 0;
  listed[0] = '\0';
  for (size_t i = 0; i < cfg->plugin_dir_count; i++) {
    if (used < sizeof listed)
      used += (size_t)snprintf(listed + used, sizeof listed - used, "%s%s", i ? ", " : "",
                               cfg->plugin_dirs[i]);
    if (!realpath(cfg->plugin_dirs[i], dir)) continue;
    size_t len = strlen(dir);
    if (len == 1) return BRT_OK; /* "/" */
    if (strncmp(resolved, dir, len) == 0 && (resolved[len] == '/' || resolved[len] == '\0'))
      return BRT_OK;
  }
  return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                       "plugin path \"%s\" resolves to \"%s\", which is outside the configured "
                       "plugin_dirs (%s)",
                       path, resolved, listed);
}

/* Owned by root or by us, and writable by nobody else (unless allowed):
 * anyone else could replace the code we are about to run. A directory that
 * others may write to is accepted when it is sticky (/tmp): there, only an
 * entry's owner can rename or remove it, and every entry we use is checked
 * for its own owner; but not for the directory that holds the file. */
static brt_status check_mode(const brt_core *core, const char *what, const char *path,
                             const struct stat *st, bool sticky_allowed) {
  bool sticky_directory = sticky_allowed && S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);
  if ((st->st_mode & (S_IWOTH | S_IWGRP)) && !core->config.allow_world_writable &&
      !sticky_directory)
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "%s \"%s\" is %s-writable (mode %04o): %s could replace the plugin; "
                         "fix its mode or set allow_world_writable",
                         what, path, (st->st_mode & S_IWOTH) ? "world" : "group",
                         (unsigned)(st->st_mode & 07777),
                         (st->st_mode & S_IWOTH) ? "anyone" : "every member of its group");
  uid_t me = geteuid();
  if (st->st_uid != 0 && st->st_uid != me)
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "%s \"%s\" is owned by uid %u, which is neither root nor the runtime's "
                         "user (uid %u)",
                         what, path, (unsigned)st->st_uid, (unsigned)me);
  return BRT_OK;
}

/* The file itself and the directory that holds it: strict (a sticky
 * directory still lets anyone add files beside the plugin). */
brt_status _brt_bridge_check_owner_and_mode(const brt_core *core, const char *what, const char *path,
                                       const struct stat *st) {
  return check_mode(core, what, path, st, false);
}

const char *_brt_bridge_file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}

/* A component that was a directory when realpath() resolved the path is a
 * symbolic link or something else now: the path was swapped under us. */
static brt_status walk_error(const char *what, const char *path, const char *prefix) {
  int err = errno;
  if (err == ELOOP || err == ENOTDIR || err == ENOENT)
    return brt_error_set_os(BRT_E_PERMISSION, err,
                            "%s \"%s\" changed while it was being checked (\"%s\": %s); "
                            "refusing to load it",
                            what, path, prefix, strerror(err));
  return _brt_bridge_path_error("cannot open a directory of the plugin path", prefix);
}

/* Opens `resolved` (absolute, no symbolic links, no "." or ".."), one
 * component at a time from "/", checking each directory by descriptor; the
 * last component is opened O_RDONLY|O_NOFOLLOW|O_NONBLOCK (a FIFO must not
 * block us before it is recognised) and returned in *fd. */
static brt_status walk_and_open(const brt_core *core, const char *what, const char *resolved,
                                struct stat *st, int *fd_out, int *dir_out) {
  char prefix[PATH_MAX];
  size_t len = strlen(resolved);
  int dir = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return _brt_bridge_path_error("cannot open the root directory", "/");
  size_t at = 1; /* resolved[0] == '/' */
  brt_status status = BRT_OK;
  struct stat dir_st;
  if (fstat(dir, &dir_st) != 0) status = _brt_bridge_path_error("cannot stat the directory", "/");
  else status = check_mode(core, "plugin directory", "/", &dir_st, strchr(resolved + 1, '/'));
  while (status == BRT_OK) {
    const char *slash = strchr(resolved + at, '/');
    size_t end = slash ? (size_t)(slash - resolved) : len;
    char name[NAME_MAX + 1];
    if (end - at == 0 || end - at > NAME_MAX) {
      status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                             "%s path \"%s\" has an empty or over-long component", what, resolved);
      break;
    }
    memcpy(name, resolved + at, end - at);
    name[end - at] = '\0';
    memcpy(prefix, resolved, end);
    prefix[end] = '\0';
    if (!slash) {
      int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
      if (fd < 0) {
        status = errno == ELOOP ? walk_error(what, resolved, prefix)
                                : _brt_bridge_path_error(errno == EACCES ? "cannot open" : "cannot open",
                                             resolved);
        break;
      }
      if (fstat(fd, st) != 0) {
        status = _brt_bridge_path_error("cannot stat", resolved);
      } else if (!S_ISREG(st->st_mode)) {
        status = brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                               "%s \"%s\" is %s; it must be a regular file", what, resolved,
                               _brt_bridge_file_kind(st->st_mode));
      } else {
        char label[64];
        snprintf(label, sizeof label, "%s file", what);
        status = _brt_bridge_check_owner_and_mode(core, label, resolved, st);
      }
      if (status == BRT_OK) *fd_out = fd;
      else close(fd);
      if (status == BRT_OK && dir_out) {
        *dir_out = dir; /* the caller's now */
        dir = -1;
      }
      break;
    }
    int next = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      status = walk_error(what, resolved, prefix);
      break;
    }
    close(dir);
    dir = next;
    if (fstat(dir, &dir_st) != 0) status = _brt_bridge_path_error("cannot stat the directory", prefix);
    else status = check_mode(core, "plugin directory", prefix, &dir_st, strchr(resolved + end + 1, '/'));
    at = end + 1;
  }
  if (dir >= 0) close(dir);
  return status;
}

brt_status _brt_bridge_open_checked(const brt_core *core, const char *what, const char *path,
                                    char *resolved, struct stat *st, int *fd) {
  char message[96];
  snprintf(message, sizeof message, "cannot resolve %s path", what);
  if (!realpath(path, resolved)) return _brt_bridge_path_error(message, path);
  brt_status status = _brt_bridge_check_confinement(core, path, resolved);
  if (status != BRT_OK) return status;
  return walk_and_open(core, what, resolved, st, fd, NULL);
}

/* _brt_bridge_open_checked for a shared object: also returns the checked
 * directory (O_PATH) in *dir. A plugin is loaded as "/proc/self/fd/DIR/NAME"
 * so that $ORIGIN in its run path names its real directory. */
brt_status _brt_bridge_open_plugin(const brt_core *core, const char *path, char *resolved,
                              struct stat *st, int *fd, int *dir) {
  if (!realpath(path, resolved)) return _brt_bridge_path_error("cannot resolve plugin path", path);
  brt_status status = _brt_bridge_check_confinement(core, path, resolved);
  if (status != BRT_OK) return status;
  return walk_and_open(core, "plugin", resolved, st, fd, dir);
}

