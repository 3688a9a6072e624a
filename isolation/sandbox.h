/* The sandbox that the worker program (bridgert-worker) and the external-program
 * runner enter before they load untrusted plugin code or exec an untrusted
 * program (docs/isolation.md, "The sandbox").
 *
 * Compiled into the worker program only, never into libbridgert: entering
 * forks, and the library is loaded into multi-threaded hosts that must never
 * fork. The caller is a freshly exec'd, single-threaded process. */
#ifndef BRT_ISOLATION_SANDBOX_H
#define BRT_ISOLATION_SANDBOX_H

#include "core/compiler.h"

#include <stddef.h>
#include <stdint.h>

/* The bound on processes (and threads: the kernel counts both) when the spec
 * gives 0. Large enough for a thread pool sized by the core count of a big
 * machine, small enough that a fork bomb stays harmless. */
#define BRT_SANDBOX_DEFAULT_MAX_PROCESSES 256u

/* The size bound of the sandbox's private /tmp. */
#define BRT_SANDBOX_TMP_BYTES (64u * 1024u * 1024u)

typedef struct brt_sandbox_spec {
  /* Extra absolute paths (directories or files) made visible read-only at
   * the same path, such as the plugin's directory. The root is read-only
   * anyway, so these matter only for paths the sandbox would otherwise hide:
   * anything under /tmp or /run (a path under /dev or /proc is refused). */
  const char *const *readonly_paths;
  size_t readonly_count;
  /* Optional (NULL: none): an absolute host directory bound read-only at
   * /input, and one bound read-write at /output (the "files" protocol of
   * external programs). */
  const char *input_dir;
  const char *output_dir;
  /* Bound on processes and threads in the sandbox, counting the sandboxed
   * process and two of the sandbox's own: the waiting middle process and the
   * init (pid 1); 0 = BRT_SANDBOX_DEFAULT_MAX_PROCESSES. */
  uint32_t max_processes;
  /* Bytes of RLIMIT_DATA (heap and private writable mappings; RLIMIT_AS is
   * not used); 0 = no limit. */
  uint64_t memory_limit;
} brt_sandbox_spec;

/* Moves the calling process (single-threaded, freshly exec'd) into a sandbox:
 * new user, pid, mount, network, ipc and uts namespaces; a read-only view of
 * the host's file system with a private /tmp, a minimal /dev, a fresh /proc,
 * and the spec's binds; no capabilities, no new privileges, a seccomp filter,
 * and resource limits. Inside, the process is uid/gid 0; outside it is the
 * caller's uid/gid, or 65534 (nobody) when the caller is root. In the latter
 * case every path the sandbox must read (the plugin's files, readonly_paths,
 * input_dir) must be readable by others, and output_dir writable by 65534.
 *
 * Returns 0 in the sandboxed process, which is pid 2 of the new pid namespace
 * (its parent, pid 1, is a small init of the sandbox's own), with its working
 * directory at /. Not being an init, it dies of a signal it sends itself
 * (abort() ends with SIGABRT, raise() works). The init reaps every orphan of
 * the namespace; when the sandboxed process ends, the init passes its wait
 * status up and exits, which kills whatever is left in the namespace. The
 * processes between the caller and the sandboxed one never return: each
 * ends the way the sandboxed process ended (the same exit status, or the
 * same signal re-raised with core dumps off), so whoever spawned the caller
 * sees the sandboxed process's fate as its own child's. Killing the caller's
 * process kills the whole sandbox.
 *
 * On failure returns -1 in the original process with `why` filled with a
 * reason a person can act on, having changed nothing the caller can observe
 * (its helper processes are reaped). Descriptors stay open across the call:
 * the sandboxed process holds them, and the waiting processes close theirs
 * (from 3 on), so a peer sees end-of-file when the sandboxed process closes a
 * descriptor. */
int _brt_sandbox_enter(const brt_sandbox_spec *spec, char *why, size_t why_size);

/* The seccomp filter and the dropping of capabilities, the last step of
 * _brt_sandbox_enter (sandbox_filter.c). Returns 0, or -1 with `why` filled. */
int _brt_sandbox_restrict(char *why, size_t why_size);

/* The file system, the first step of the init inside _brt_sandbox_enter
 * (sandbox_mount.c): builds it and moves into it. Returns 0, or -1 with
 * `why` filled. */
int _brt_sandbox_build_file_system(const brt_sandbox_spec *spec, char *why, size_t size);

/* Formats a reason into `why` (cut to `size` on a character boundary) and
 * returns -1: how every step of the sandbox fails (sandbox.c). */
int _brt_sandbox_fail(char *why, size_t size, const char *fmt, ...) BRT_PRINTF(3, 4);

#endif /* BRT_ISOLATION_SANDBOX_H */
