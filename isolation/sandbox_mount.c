/* The sandbox's file system (sandbox.h): what the init builds in its new
 * mount namespace before it takes the limits and the filter.
 *
 * The spec's paths are cloned from the host (open_tree) before anything is
 * covered; the new root is assembled on a tmpfs at STAGE (the host's
 * directories bound, /tmp, /proc, /dev and /run built fresh), pivoted into,
 * and made read-only as a whole; only then are the writable mounts (/tmp,
 * /output) and the spec's paths attached. Invariant after it: every mount
 * is read-only except /tmp (a fresh, bounded tmpfs) and /output; nothing of
 * the host's /tmp, /run or /dev shows except what the spec asked. */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Where the new root is assembled before pivot_root. The host's /tmp is never
 * shown in the sandbox, so covering it in the new mount namespace hides
 * nothing the sandbox needs (the spec's paths under it are cloned first). */
#define STAGE "/tmp"

/* A detached copy of the mount tree at `path`, made read-only unless asked. */
static int clone_tree(const char *what, const char *path, bool writable, char *why, size_t size) {
  int tree = open_tree(AT_FDCWD, path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) {
    int err = errno;
    return _brt_sandbox_fail(why, size, "%s %s: %s%s", what, path, strerror(err),
                             err == EACCES || err == EPERM
                                 ? " (the sandbox runs as the caller's uid, or as 65534 when the caller is root: "
                                   "the path and its parents must be searchable by it)"
                             : err == ENOSYS ? " (the sandbox needs Linux 5.12 or later)"
                                             : "");
  }
  struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
  if (!writable && mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &ro, sizeof ro) != 0) {
    _brt_sandbox_fail(why, size, "making the copy of %s read-only: %s", path, strerror(errno));
    close(tree);
    return -1;
  }
  return tree;
}

static bool is_constructed(const brt_sandbox_spec *spec, const char *name) {
  return !strcmp(name, "tmp") || !strcmp(name, "proc") || !strcmp(name, "dev") || !strcmp(name, "run") ||
         (spec->input_dir && !strcmp(name, "input")) || (spec->output_dir && !strcmp(name, "output"));
}

/* Shows each top-level directory of the host under the new root (a recursive
 * bind, made read-only later) and copies each top-level symlink. Anything else
 * at the top (a swap file, a container's marker file) is left out: no program
 * needs it. /tmp, /proc, /dev and /run are built fresh instead: /run holds the
 * host daemons' sockets, which a read-only mount would not stop connect() to. */
static int mirror_root(const brt_sandbox_spec *spec, char *why, size_t size) {
  DIR *root = opendir("/");
  if (!root) return _brt_sandbox_fail(why, size, "listing /: %s", strerror(errno));
  int rc = 0;
  struct dirent *entry;
  char source[PATH_MAX], target[PATH_MAX], link[PATH_MAX];
  while (rc == 0 && (entry = readdir(root)) != NULL) {
    const char *name = entry->d_name;
    if (!strcmp(name, ".") || !strcmp(name, "..") || is_constructed(spec, name)) continue;
    struct stat st;
    if (fstatat(dirfd(root), name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue; /* vanished since readdir */
    snprintf(source, sizeof source, "/%s", name);
    snprintf(target, sizeof target, STAGE "/%s", name);
    if (S_ISDIR(st.st_mode)) {
      if (mkdir(target, 0755) != 0 || mount(source, target, NULL, MS_BIND | MS_REC, NULL) != 0)
        rc = _brt_sandbox_fail(why, size, "showing %s in the sandbox: %s", source, strerror(errno));
    } else if (S_ISLNK(st.st_mode)) {
      ssize_t n = readlinkat(dirfd(root), name, link, sizeof link - 1);
      if (n < 0) continue;
      link[n] = 0;
      if (symlink(link, target) != 0)
        rc = _brt_sandbox_fail(why, size, "copying the symlink %s: %s", source, strerror(errno));
    }
  }
  closedir(root);
  return rc;
}

/* A minimal /dev: the host's harmless character devices bound onto empty
 * files (a user namespace cannot create device nodes), and the usual links. */
static int build_dev(char *why, size_t size) {
  static const char *const devices[] = {"null", "zero", "full", "random", "urandom"};
  static const char *const links[][2] = {{"fd", "/proc/self/fd"},      {"stdin", "/proc/self/fd/0"},
                                         {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
                                         {"shm", "/tmp"}};
  if (mount("tmpfs", STAGE "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k") != 0)
    return _brt_sandbox_fail(why, size, "mounting a tmpfs on /dev: %s", strerror(errno));
  char source[64], target[64];
  for (size_t i = 0; i < sizeof devices / sizeof *devices; i++) {
    snprintf(source, sizeof source, "/dev/%s", devices[i]);
    snprintf(target, sizeof target, STAGE "/dev/%s", devices[i]);
    if (mknod(target, S_IFREG | 0666, 0) != 0 || mount(source, target, NULL, MS_BIND, NULL) != 0)
      return _brt_sandbox_fail(why, size, "showing %s in the sandbox: %s", source, strerror(errno));
  }
  for (size_t i = 0; i < sizeof links / sizeof *links; i++) {
    snprintf(target, sizeof target, STAGE "/dev/%s", links[i][0]);
    if (symlink(links[i][1], target) != 0)
      return _brt_sandbox_fail(why, size, "creating /dev/%s: %s", links[i][0], strerror(errno));
  }
  return 0;
}

/* Assembles the new root on a tmpfs at STAGE. Runs in the new pid namespace
 * while the host's /proc is still in this mount namespace: the kernel mounts
 * a fresh proc in a user namespace only if a fully visible one is there. */
static int assemble_root(const brt_sandbox_spec *spec, char *why, size_t size) {
  if (mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0)
    return _brt_sandbox_fail(why, size, "mounting the new root's tmpfs on " STAGE ": %s", strerror(errno));
  if (mirror_root(spec, why, size) != 0) return -1;
  const char *fresh[] = {"tmp", "proc", "dev", "run", spec->input_dir ? "input" : NULL,
                         spec->output_dir ? "output" : NULL};
  for (size_t i = 0; i < sizeof fresh / sizeof *fresh; i++) {
    if (!fresh[i]) continue;
    char target[64];
    snprintf(target, sizeof target, STAGE "/%s", fresh[i]);
    if (mkdir(target, 0755) != 0)
      return _brt_sandbox_fail(why, size, "creating /%s in the new root: %s", fresh[i], strerror(errno));
  }
  if (mount("proc", STAGE "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0)
    return _brt_sandbox_fail(why, size, "mounting a fresh /proc: %s%s", strerror(errno),
                             errno == EPERM ? " (the host's /proc has mounts over parts of it, as in some containers, "
                                              "and the kernel refuses a fuller view to a user namespace)"
                                            : "");
  return build_dev(why, size);
}

/* Makes the directories up to `path` (those that exist are fine) and the
 * mount point itself: a directory or an empty file, like the tree's root. */
static int make_mount_point(const char *path, bool directory, char *why, size_t size) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *slash = strchr(buf + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
    *slash = 0;
    if (mkdir(buf, 0755) != 0 && errno != EEXIST)
      return _brt_sandbox_fail(why, size, "creating %s for the read-only path %s: %s", buf, path, strerror(errno));
    *slash = '/';
  }
  int rc = directory ? mkdir(buf, 0755) : mknod(buf, S_IFREG | 0444, 0);
  if (rc != 0 && errno != EEXIST)
    return _brt_sandbox_fail(why, size, "creating the mount point %s: %s", path, strerror(errno));
  return 0;
}

static int attach(int tree, const char *what, const char *path, char *why, size_t size) {
  if (move_mount(tree, "", AT_FDCWD, path, MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return _brt_sandbox_fail(why, size, "mounting %s at %s: %s", what, path, strerror(errno));
  return 0;
}

/* The trees cloned from the host before its /tmp is covered: one per
 * readonly path, then the input and output directories (-1 when absent). */
typedef struct {
  int *readonly;
  int input, output;
} trees;

static int clone_trees(const brt_sandbox_spec *spec, trees *t, char *why, size_t size) {
  for (size_t i = 0; i < spec->readonly_count; i++)
    if ((t->readonly[i] = clone_tree("readonly path", spec->readonly_paths[i], false, why, size)) < 0) return -1;
  if (spec->input_dir && (t->input = clone_tree("input_dir", spec->input_dir, false, why, size)) < 0) return -1;
  if (spec->output_dir && (t->output = clone_tree("output_dir", spec->output_dir, true, why, size)) < 0)
    return -1;
  return 0;
}

/* Builds the sandbox's file system and moves into it. Invariant after it:
 * every mount is read-only except /tmp (a fresh, bounded tmpfs) and /output;
 * nothing of the host's /tmp, /run or /dev shows except what the spec asked. */
int _brt_sandbox_build_file_system(const brt_sandbox_spec *spec, char *why, size_t size) {
  trees t = {calloc(spec->readonly_count + 1, sizeof(int)), -1, -1};
  if (!t.readonly) return _brt_sandbox_fail(why, size, "out of memory");
  for (size_t i = 0; i < spec->readonly_count; i++) t.readonly[i] = -1;
  struct mount_attr ro = {.attr_set = MOUNT_ATTR_RDONLY};
  char tmp_options[64];
  snprintf(tmp_options, sizeof tmp_options, "mode=1777,size=%u", BRT_SANDBOX_TMP_BYTES);
  int rc = -1;
  /* Private propagation first: nothing below may reach the host's namespace. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
    _brt_sandbox_fail(why, size, "making the mounts private: %s", strerror(errno));
  else if (clone_trees(spec, &t, why, size) == 0 && assemble_root(spec, why, size) == 0) {
    /* pivot_root(".", ".") stacks the old root on the new one; detaching it
     * leaves the new root alone (pivot_root(2), "NOTES"). */
    if (chdir(STAGE) != 0 || syscall(SYS_pivot_root, ".", ".") != 0 || umount2(".", MNT_DETACH) != 0 ||
        chdir("/") != 0)
      _brt_sandbox_fail(why, size, "moving into the new root (pivot_root): %s", strerror(errno));
    else if (mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &ro, sizeof ro) != 0)
      _brt_sandbox_fail(why, size, "making the file system read-only (mount_setattr): %s%s", strerror(errno),
                        errno == ENOSYS ? " (the sandbox needs Linux 5.12 or later)" : "");
    /* Mounted after that step, so writable: /tmp for good, /run until the
     * read-only paths have their mount points. */
    else if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmp_options) != 0 ||
             mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") != 0)
      _brt_sandbox_fail(why, size, "mounting a tmpfs on /tmp or /run: %s", strerror(errno));
    else if ((t.input < 0 || attach(t.input, "input_dir", "/input", why, size) == 0) &&
             (t.output < 0 || attach(t.output, "output_dir", "/output", why, size) == 0)) {
      rc = 0;
      for (size_t i = 0; rc == 0 && i < spec->readonly_count; i++) {
        struct stat st;
        const char *path = spec->readonly_paths[i];
        if (fstat(t.readonly[i], &st) != 0)
          rc = _brt_sandbox_fail(why, size, "the copy of the read-only path %s: %s", path, strerror(errno));
        else if (make_mount_point(path, S_ISDIR(st.st_mode), why, size) != 0 ||
                 attach(t.readonly[i], "the read-only path", path, why, size) != 0)
          rc = -1;
      }
      if (rc == 0 && mount_setattr(AT_FDCWD, "/run", 0, &ro, sizeof ro) != 0)
        rc = _brt_sandbox_fail(why, size, "making /run read-only: %s", strerror(errno));
    }
  }
  for (size_t i = 0; i < spec->readonly_count; i++)
    if (t.readonly[i] >= 0) close(t.readonly[i]);
  if (t.input >= 0) close(t.input);
  if (t.output >= 0) close(t.output);
  free(t.readonly);
  return rc;
}
