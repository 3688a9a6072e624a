/* The per-call directory of an external program: created private, filled
 * with the params, read back without trusting anything the program left
 * there, and removed without following anything it planted.
 *
 * The program is hostile here: it may replace output/result.json with a
 * symbolic link to a host file (the host must not read that file), a FIFO
 * (the host must not block), a hard link to another file, or a huge file;
 * it may leave a tree of directories it made unreadable, or one deep enough
 * to exhaust a recursive walk. Every access therefore goes through a
 * descriptor opened before the program ran, with O_NOFOLLOW, and the
 * removal recurses a bounded number of levels. */
#include "program.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* How many directory levels the removal descends at once; deeper ones are
 * moved up to the call directory and removed on a later pass. */
#define REMOVE_DEPTH_MAX 16
/* How many passes the removal makes before it gives up: a program that
 * escaped its process group could otherwise keep it busy forever. Enough
 * for a tree REMOVE_DEPTH_MAX * REMOVE_PASSES_MAX levels deep. */
#define REMOVE_PASSES_MAX 4096

static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

static brt_status dir_error(const char *what, const char *path, int err) {
  return brt_error_set_os(BRT_E_IO, err, "%s \"%s\": %s", what, path, strerror(err));
}

brt_status _brt_isolation_call_dir_create(brt_call_dir *dir, bool for_sandbox_as_root) {
  if (!dir)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_call_dir_create: dir is NULL");
  memset(dir, 0, sizeof *dir);
  dir->fd = dir->input_fd = dir->output_fd = -1;
  /* TMPDIR as the host process sees it; ignored when the process runs
   * set-user-ID (secure_getenv), and when it is not absolute. */
  const char *tmp = secure_getenv("TMPDIR");
  if (!tmp || tmp[0] != '/') tmp = "/tmp";
  int needed = snprintf(dir->path, sizeof dir->path, "%s/bridgert-call-XXXXXX", tmp);
  if (needed < 0 || (size_t)needed >= sizeof dir->path - 16)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "TMPDIR \"%.200s\" is too long for a per-call directory", tmp);
  if (!mkdtemp(dir->path)) {
    int err = errno;
    dir->path[0] = '\0';
    return brt_error_set_os(BRT_E_IO, err,
                            "cannot create the per-call directory of an external program in "
                            "\"%s\": %s (set TMPDIR to a writable directory)",
                            tmp, strerror(err));
  }
  /* The path is at least 16 bytes shorter than the buffers (checked above). */
  size_t len = strlen(dir->path);
  memcpy(dir->input_path, dir->path, len);
  memcpy(dir->input_path + len, "/input", sizeof "/input");
  memcpy(dir->output_path, dir->path, len);
  memcpy(dir->output_path + len, "/output", sizeof "/output");
  brt_status status = BRT_OK;
  dir->fd = open(dir->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir->fd < 0)
    status = dir_error("cannot open the per-call directory", dir->path, errno);
  else if (mkdirat(dir->fd, "input", 0700) != 0 || mkdirat(dir->fd, "output", 0700) != 0)
    status = dir_error("cannot create input/ and output/ in", dir->path, errno);
  else if ((dir->input_fd =
                openat(dir->fd, "input", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
           (dir->output_fd =
                openat(dir->fd, "output", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
    status = dir_error("cannot open input/ and output/ in", dir->path, errno);
  /* A sandboxed program of a root host is uid 65534 on the host: it may
   * pass through the call directory (not list it), read input/ and own
   * output/. Nobody else may write anywhere in it. */
  else if (for_sandbox_as_root &&
           (fchmod(dir->fd, 0711) != 0 || fchmod(dir->input_fd, 0755) != 0 ||
            fchown(dir->output_fd, BRT_PROGRAM_SANDBOX_UID, BRT_PROGRAM_SANDBOX_UID) != 0))
    /* EINVAL: uid 65534 does not exist in this user namespace (a root that
     * is root only in a container mapping itself alone), where the
     * sandbox could not map it either. */
    status = errno == EINVAL
                 ? brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL,
                                 "the sandbox cannot run here: this process is root, so a "
                                 "sandboxed program would be uid %d, which is not mapped in this "
                                 "user namespace",
                                 BRT_PROGRAM_SANDBOX_UID)
                 : dir_error("cannot give the sandbox's user access to", dir->path, errno);
  if (status != BRT_OK) {
    brt_error *error = brt_error_take();
    _brt_isolation_call_dir_remove(dir);
    brt_error_restore(error);
  }
  return status;
}

brt_status _brt_isolation_call_dir_write_input(const brt_call_dir *dir, const char *json,
                                               size_t len) {
  if (!dir || dir->input_fd < 0 || (!json && len))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_call_dir_write_input: no directory or no text");
  int fd = openat(dir->input_fd, "input.json", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644);
  if (fd < 0) return dir_error("cannot create input.json in", dir->input_path, errno);
  size_t done = 0;
  while (done < len) {
    ssize_t wrote = write(fd, json + done, len - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) {
      int err = wrote < 0 ? errno : EIO;
      close(fd);
      return dir_error("cannot write input.json in", dir->input_path, err);
    }
    done += (size_t)wrote;
  }
  if (close(fd) != 0) return dir_error("cannot write input.json in", dir->input_path, errno);
  return BRT_OK;
}

/* Reads all of `fd` (a regular file of `size` bytes when checked) into a
 * new buffer, refusing more than BRT_PROGRAM_RESULT_MAX bytes even if the
 * file grows meanwhile. */
static brt_status read_bounded(int fd, off_t size, const char *program, char **text, size_t *len) {
  size_t cap = (size_t)size + 1;
  char *buf = malloc(cap + 1);
  if (!buf)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "out of memory reading the %lld-byte result of program \"%s\"",
                         (long long)size, program);
  size_t used = 0;
  for (;;) {
    if (used == cap) {
      if (cap > BRT_PROGRAM_RESULT_MAX) break;
      size_t grown_cap =
          cap * 2 > BRT_PROGRAM_RESULT_MAX + 1 ? BRT_PROGRAM_RESULT_MAX + 1 : cap * 2;
      char *grown = realloc(buf, grown_cap + 1);
      if (!grown) {
        free(buf);
        return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                             "out of memory reading the result of program \"%s\"", program);
      }
      buf = grown;
      cap = grown_cap;
    }
    ssize_t got = read(fd, buf + used, cap - used);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      int err = errno;
      free(buf);
      return brt_error_set_os(BRT_E_IO, err, "cannot read output/result.json of program \"%s\": %s",
                              program, strerror(err));
    }
    if (got == 0) break;
    used += (size_t)got;
  }
  if (used > BRT_PROGRAM_RESULT_MAX) {
    free(buf);
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_PLUGIN, NULL,
                         "program \"%s\" wrote more than %zu bytes to output/result.json, the "
                         "largest result accepted",
                         program, BRT_PROGRAM_RESULT_MAX);
  }
  buf[used] = '\0';
  *text = buf;
  *len = used;
  return BRT_OK;
}

brt_status _brt_isolation_call_dir_read_result(const brt_call_dir *dir, const char *program,
                                               char **text, size_t *len) {
  if (!dir || dir->output_fd < 0 || !program || !text || !len)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_call_dir_read_result: missing argument");
  *text = NULL;
  *len = 0;
  /* O_NONBLOCK: opening a FIFO for reading returns at once instead of
   * waiting for a writer; O_NOCTTY: a terminal never becomes ours. */
  int fd = openat(dir->output_fd, "result.json",
                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT)
    return brt_error_set(BRT_E_CONVERSION, BRT_ORIGIN_PLUGIN, NULL,
                         "program \"%s\" exited with status 0 but wrote no output/result.json "
                         "(the files protocol: write the result to $BRT_OUTPUT_DIR/result.json)",
                         program);
  if (fd < 0 && errno == ELOOP)
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_PLUGIN, NULL,
                         "program \"%s\" left output/result.json as a symbolic link; it was not "
                         "followed: a result must be a regular file the program wrote",
                         program);
  if (fd < 0)
    return brt_error_set_os(BRT_E_CONVERSION, errno,
                            "cannot open output/result.json of program \"%s\": %s", program,
                            strerror(errno));
  struct stat st;
  brt_status status = BRT_OK;
  if (fstat(fd, &st) != 0)
    status =
        brt_error_set_os(BRT_E_IO, errno, "cannot stat output/result.json of program \"%s\": %s",
                         program, strerror(errno));
  else if (!S_ISREG(st.st_mode))
    status = brt_error_set(BRT_E_CONVERSION, BRT_ORIGIN_PLUGIN, NULL,
                           "program \"%s\" left output/result.json as %s; a result must be a "
                           "regular file",
                           program, file_kind(st.st_mode));
  /* A second link means the file is also somewhere else: possibly a host
   * file the program could not read but could link (it must not reach the
   * host's caller through the result). */
  else if (st.st_nlink != 1)
    status = brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_PLUGIN, NULL,
                           "program \"%s\" left output/result.json with %lu links; a result must "
                           "be a file the program created, not a link to another one",
                           program, (unsigned long)st.st_nlink);
  else if ((uint64_t)st.st_size > BRT_PROGRAM_RESULT_MAX)
    status = brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_PLUGIN, NULL,
                           "program \"%s\" wrote %lld bytes to output/result.json; the largest "
                           "result accepted is %zu bytes",
                           program, (long long)st.st_size, BRT_PROGRAM_RESULT_MAX);
  else
    status = read_bounded(fd, st.st_size, program, text, len);
  close(fd);
  return status;
}

/* Opens the subdirectory `name` of `dir` for reading, first giving its
 * owner (us) the permission back if the program took it away. The
 * permission is changed through an O_PATH descriptor of the directory
 * itself, so a symbolic link swapped in meanwhile is never followed. */
static int open_subdir(int dir, const char *name) {
  int fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0 || errno != EACCES) return fd;
  int path_fd = openat(dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (path_fd < 0) return -1;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", path_fd);
  if (chmod(proc, 0700) == 0) fd = openat(path_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int err = errno;
  close(path_fd);
  errno = err;
  return fd;
}

/* Removes everything in the directory open at `dir`, `depth` levels below
 * the call directory `root`. A directory at the depth bound is moved up to
 * `root` under a fresh name (counted in *moved) instead of being entered.
 * Returns 0, or the first errno that left something behind. */
static int empty_dir(int root, int dir, unsigned depth, unsigned long *moved) {
  /* The program may have made the directory read-only; it is ours. */
  (void)fchmod(dir, 0700);
  int copy = fcntl(dir, F_DUPFD_CLOEXEC, 0);
  DIR *stream = copy >= 0 ? fdopendir(copy) : NULL;
  if (!stream) {
    int err = errno;
    if (copy >= 0) close(copy);
    return err;
  }
  /* The copy shares its offset with `dir`, which an earlier pass may have
   * left at the end. */
  rewinddir(stream);
  int first_error = 0;
  for (struct dirent *item; (item = readdir(stream)) != NULL;) {
    const char *name = item->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    struct stat st;
    int err = 0;
    if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      err = errno;
    } else if (!S_ISDIR(st.st_mode)) {
      if (unlinkat(dir, name, 0) != 0) err = errno;
    } else if (depth + 1 >= REMOVE_DEPTH_MAX) {
      char up[64];
      snprintf(up, sizeof up, ".bridgert-deep-%lu", (*moved)++);
      if (renameat(dir, name, root, up) != 0) err = errno;
    } else {
      int sub = open_subdir(dir, name);
      if (sub < 0) {
        err = errno;
      } else {
        err = empty_dir(root, sub, depth + 1, moved);
        close(sub);
        if (!err && unlinkat(dir, name, AT_REMOVEDIR) != 0) err = errno;
      }
    }
    if (err && err != ENOENT && !first_error) first_error = err;
  }
  closedir(stream);
  return first_error;
}

brt_status _brt_isolation_call_dir_remove(brt_call_dir *dir) {
  if (!dir)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_call_dir_remove: dir is NULL");
  if (dir->input_fd >= 0) close(dir->input_fd);
  if (dir->output_fd >= 0) close(dir->output_fd);
  dir->input_fd = dir->output_fd = -1;
  int err = 0;
  if (dir->fd >= 0) {
    unsigned long moved = 0, before;
    unsigned passes = 0;
    do {
      before = moved;
      err = empty_dir(dir->fd, dir->fd, 0, &moved);
    } while (!err && moved != before && ++passes < REMOVE_PASSES_MAX);
    if (!err && moved != before) err = ELOOP;
    close(dir->fd);
    dir->fd = -1;
  }
  /* By name: rmdir removes only an empty directory, so whatever the
   * program may have renamed into this place is never emptied by us. */
  if (dir->path[0] && !err && rmdir(dir->path) != 0) err = errno;
  if (!err) {
    dir->path[0] = '\0';
    return BRT_OK;
  }
  return brt_error_set_os(BRT_E_IO, err,
                          "the per-call directory \"%s\" of an external program could not be "
                          "removed completely (%s); remove it by hand",
                          dir->path, strerror(err));
}
