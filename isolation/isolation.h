/* isolation/ as the bridge's loader sees it: worker pools that serve an
 * isolated plugin's algorithms, and external programs as algorithms. The
 * one header of this floor that another component (bridge/) includes;
 * everything else in isolation/ stays behind it (docs/design.md, floors).
 *
 * Internal to libbridgert: nothing here is exported. */
#ifndef BRT_ISOLATION_H
#define BRT_ISOLATION_H

#include "bridgert/error.h"
#include "bridgert/runtime.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The worker program to run: `configured` (config worker_path) when set,
 * else the installed one, or the build tree's when this library is the
 * build tree's. Checked like a plugin (regular, executable, not writable by
 * others, owned by root or us). NOT_FOUND / PERMISSION recorded. */
brt_status _brt_isolation_worker_path(const char *configured, char *out, size_t size);
/* The same for the program runner (bridgert-exec), which links only libc
 * and libseccomp, so a program's run does not pay for loading bridgert. */
brt_status _brt_isolation_exec_path(char *out, size_t size);

/* The deadline of the call running on this thread (CLOCK_MONOTONIC ns, 0:
 * none). The bridge, which pushes each call's deadline, hands its
 * brt_call_deadline to a pool or program in their specs: isolation sits
 * below the bridge and calls nothing of it by name (docs/design.md, floors).
 * A NULL function reads as "no deadline". */
typedef uint64_t (*brt_isolation_deadline_fn)(void);

/* --- Shared by the host side of isolation/ ----------------------------------- */

#include <spawn.h>

/* posix_spawn attributes of every process isolation starts (workers and
 * program runs): an empty signal mask, every signal at its default, and a
 * process group of its own (so a kill of the group ends what it started).
 * Destroy with posix_spawnattr_destroy. */
void _brt_isolation_spawnattr_init(posix_spawnattr_t *attr);

/* --- Worker pools (pool.c, proxy.c) ------------------------------------------ */

typedef struct brt_pool brt_pool;

/* The most worker processes one plugin may have. */
#define BRT_PLUGIN_WORKERS_MAX 64

typedef struct brt_pool_spec {
  int plugin_fd;           /* the plugin's checked directory (O_PATH); the pool takes it */
  const char *path;        /* its resolved path (names it; the sandbox shows its directory) */
  brt_isolation isolation; /* PROCESS or SANDBOX */
  uint32_t workers;        /* 0 = 1 */
  uint64_t memory_limit;   /* bytes per worker, 0 = none */
  uint32_t timeout_ms;     /* hard deadline of every call, 0 = the algorithm's */
  uint32_t default_timeout_ms; /* the runtime's, for algorithms without one; 0 = none */
  brt_isolation_deadline_fn call_deadline; /* the running call's deadline, if earlier */
} brt_pool_spec;

/* What a pool's workers went through, for the monitor. */
typedef struct brt_isolation_worker_stats {
  uint64_t starts;           /* worker processes started, restarts included */
  uint64_t crashes;          /* died during a call or a start (signal or exit) */
  uint64_t crashes_by_signal[65]; /* index: signal number; 0: exits */
  uint64_t deadline_kills;   /* killed at a call's hard deadline */
  uint64_t protocol_errors;  /* killed for sending something malformed */
} brt_isolation_worker_stats;

/* One worker's state, for the monitor and the health check. */
typedef struct brt_isolation_worker_info {
  const char *plugin; /* the pool's path (valid while the pool lives) */
  uint32_t index;
  int pid;            /* 0 when down */
  const char *state;  /* "idle", "busy", "starting", "down" */
  uint64_t resident_bytes;
  uint64_t uptime_ns;
} brt_isolation_worker_info;

/* Starts every worker (each loads the plugin descriptor and reports its
 * algorithms) and keeps the pool in *out (one reference: the image's).
 * Takes spec->plugin_fd in every case. Errors name the plugin: the worker
 * program's (NOT_FOUND, PERMISSION), the plugin's own load error as the
 * worker reported it, CRASHED when a worker died while loading,
 * UNSUPPORTED when the sandbox cannot be built. */
brt_status _brt_isolation_pool_start(const brt_pool_spec *spec, brt_pool **out);
/* The algorithms to register (proxies: value_fn and native thunk run the
 * call in a worker); valid while the pool lives. */
const brt_algorithm *_brt_isolation_pool_algorithms(const brt_pool *pool, size_t *count);
/* Drops a reference (the image_release of a plugin); the last one stops
 * the workers and reaps them. */
void _brt_isolation_pool_release(void *pool);
/* Copies the counters and visits each worker (for export and health). */
void _brt_isolation_pool_observe(brt_pool *pool, brt_isolation_worker_stats *stats,
                                 void (*visit)(void *ctx, const brt_isolation_worker_info *info),
                                 void *ctx);

/* --- External programs (manifest.c, program.c, program_dir.c) ----------------- */

/* How a program gets its params and gives its result (docs/isolation.md,
 * "External programs"). */
typedef enum brt_program_protocol {
  BRT_PROGRAM_FILES = 0, /* $BRT_INPUT_DIR/input.json in, $BRT_OUTPUT_DIR/result.json out */
  BRT_PROGRAM_STDIO = 1  /* params JSON on standard input, result JSON on standard output */
} brt_program_protocol;

/* The largest manifest read (bytes): a manifest is a few hundred bytes; a
 * bigger one is refused with LIMIT_EXCEEDED rather than read whole. */
#define BRT_MANIFEST_SIZE_MAX ((size_t)1 << 20)
/* The most elements of "command", and the longest one (bytes). */
#define BRT_MANIFEST_ARGS_MAX 256
#define BRT_MANIFEST_ARG_MAX 4096
/* The largest result a program may give (bytes of JSON): LIMIT_EXCEEDED past it. */
#define BRT_PROGRAM_RESULT_MAX ((size_t)64 << 20)
/* How much of a program's standard error is kept: the last bytes. */
#define BRT_PROGRAM_STDERR_KEEP 4096

/* A parsed manifest. Every string is malloc()ed and owned. */
typedef struct brt_manifest {
  char *name, *version;
  char *description;  /* NULL when absent */
  char *input_schema; /* the "input_schema" object as compact JSON text, NULL when absent */
  char **command;     /* command_count strings, then NULL */
  size_t command_count;
  brt_program_protocol protocol;
  uint32_t timeout_ms;     /* 0 when absent */
  uint64_t memory_limit;   /* bytes, 0 when absent */
  brt_isolation isolation; /* PROCESS or SANDBOX; NONE when absent */
} brt_manifest;

/* Parses a manifest's `len` bytes of text; `path` names it in errors. On
 * success fills *out (release with _brt_isolation_manifest_dispose). Errors
 * name the path and the key: LIMIT_EXCEEDED (too big), PLUGIN (not JSON,
 * with the parser's line and column as the cause; not an object; an unknown,
 * missing or mistyped key; "isolation": "none"), PERMISSION (command[0]
 * absolute or with a ".." component). On failure *out is zeroed. */
brt_status _brt_isolation_manifest_parse(const char *text, size_t len, const char *path,
                                         brt_manifest *out);
void _brt_isolation_manifest_dispose(brt_manifest *manifest);

/* What runs one external program. */
typedef struct brt_program_spec {
  int program_fd;           /* the checked program file; taken in every case */
  const char *program_path; /* its resolved path: argv[0]; its directory is visible read-only
                               in the sandbox */
  const char *const *args;  /* argv[1..], arg_count strings */
  size_t arg_count;
  brt_program_protocol protocol;
  brt_isolation isolation; /* PROCESS or SANDBOX */
  uint64_t memory_limit;   /* RLIMIT_DATA of the program, 0 = none */
  uint32_t timeout_ms;     /* hard deadline of each call, 0 = the call's own (call_deadline) */
  brt_isolation_deadline_fn call_deadline; /* the running call's deadline, if earlier */
} brt_program_spec;

typedef struct brt_program brt_program;

/* Checks the spec, finds the worker program (_brt_isolation_worker_path)
 * and keeps everything a call needs in *out. Takes spec->program_fd.
 * INVALID_ARGUMENT, NOT_FOUND / PERMISSION (worker program), OUT_OF_MEMORY. */
brt_status _brt_isolation_program_create(const brt_program_spec *spec, brt_program **out);
/* Frees a program (a brt_plugin's image_release). No call may be running. */
void _brt_isolation_program_free(void *program);
/* Runs the program once (a brt_value_fn; ctx is the brt_program): params
 * in, result out, everything bounded; thread-safe. Errors name the
 * algorithm: TIMEOUT, CRASHED (the signal), PLUGIN (exit status and the
 * last lines of standard error), CONVERSION (missing or malformed result,
 * naming the file and the position), LIMIT_EXCEEDED, UNSUPPORTED (the
 * sandbox cannot be entered), IO. */
brt_status _brt_isolation_program_call(void *program, const brt_value *params, brt_value **result);

#endif /* BRT_ISOLATION_H */
