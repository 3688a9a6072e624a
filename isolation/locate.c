/* Where the worker program is: the installed one beside the installed
 * library, or the build tree's when the library itself runs from the build
 * tree (tests, benchmarks, the CLI before installation). Both paths are
 * fixed at build time, so no environment variable can point the library at
 * another program; a host that wants another one sets config worker_path. */
#include "isolation.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* True when the library that holds this function is the build tree's. */
static bool running_from_build_tree(void) {
  Dl_info info;
  if (!dladdr((void *)(uintptr_t)&running_from_build_tree, &info) || !info.dli_fname) return false;
  char lib[PATH_MAX], root[PATH_MAX];
  if (!realpath(info.dli_fname, lib) || !realpath(BRT_ISOLATION_BUILD_ROOT, root)) return false;
  size_t len = strlen(root);
  return strncmp(lib, root, len) == 0 && lib[len] == '/';
}

/* Checks the helper program at `path` and copies its path to `out`. */
static brt_status helper_checked(const char *path, char *out, size_t size) {
  struct stat st;
  if (stat(path, &st) != 0)
    return brt_error_set_os(BRT_E_NOT_FOUND, errno,
                            "the worker program \"%s\" cannot be found (%s): isolation needs it; "
                            "install bridgert completely or set worker_path",
                            path, strerror(errno));
  if (!S_ISREG(st.st_mode) || !(st.st_mode & S_IXUSR))
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "the worker program \"%s\" is not an executable regular file", path);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) || (st.st_uid != 0 && st.st_uid != geteuid()))
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "the worker program \"%s\" is writable by others (mode %04o) or owned by "
                         "uid %u, neither root nor the runtime's user: refusing to run it",
                         path, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid);
  if (snprintf(out, size, "%s", path) >= (int)size)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "the worker program's path \"%s\" is too long", path);
  return BRT_OK;
}

brt_status _brt_isolation_worker_path(const char *configured, char *out, size_t size) {
  const char *path = configured && *configured ? configured
                     : running_from_build_tree() ? BRT_ISOLATION_WORKER_BUILD_PATH
                                                 : BRT_ISOLATION_WORKER_INSTALL_PATH;
  return helper_checked(path, out, size);
}

brt_status _brt_isolation_exec_path(char *out, size_t size) {
  return helper_checked(running_from_build_tree() ? BRT_ISOLATION_EXEC_BUILD_PATH
                                                  : BRT_ISOLATION_EXEC_INSTALL_PATH,
                        out, size);
}
