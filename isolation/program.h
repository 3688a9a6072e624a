/* isolation/ internals of external programs, shared between program.c
 * (starting the worker, watching the call, judging its outcome) and
 * program_dir.c (the per-call directory). */
#ifndef BRT_ISOLATION_PROGRAM_H
#define BRT_ISOLATION_PROGRAM_H

#include "isolation.h"

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* The descriptors of `bridgert-exec` (isolation/worker/exec.c):
 * 0, 1 and 2 are the program's standard streams, then these two. */
#define BRT_PROGRAM_FD 3 /* the checked program file, executed with fexecve */
#define BRT_STATUS_FD 4  /* the worker's report of a failure before the exec */

/* The worker's report, written to BRT_STATUS_FD when it could not start
 * the program, or when the sandbox's init relays the program's death by a
 * signal: a kind letter, a number in decimal (an errno, or the signal),
 * ':', then text for a person. Nothing is written otherwise, so the exit
 * status the host sees is the program's own whenever the report is empty. */
#define BRT_STATUS_UNSUPPORTED 'U' /* the sandbox cannot be entered here */
#define BRT_STATUS_FAILED 'E'      /* anything else (limits, directories, the exec) */
#define BRT_STATUS_KILLED 'K'      /* the sandboxed program was killed by this signal */
#define BRT_STATUS_TEXT_MAX 1024

/* Who a sandboxed program is on the host when the host runs as root
 * (isolation/sandbox.h): the per-call directory must let it in. */
#define BRT_PROGRAM_SANDBOX_UID 65534

/* A per-call directory: $TMPDIR/bridgert-call-XXXXXX holding input/ and
 * output/. The descriptors are opened before the program runs, so
 * whatever it renames or plants later, the host reads and removes what it
 * created, never a file a symbolic link points to. */
typedef struct brt_call_dir {
  char path[PATH_MAX];
  char input_path[PATH_MAX];
  char output_path[PATH_MAX];
  int fd;        /* the directory, or -1 */
  int input_fd;  /* input/, or -1 */
  int output_fd; /* output/, or -1 */
} brt_call_dir;

/* Creates the directory (mode 0700: only this user may enter; 0711 with
 * input/ readable and output/ owned by BRT_PROGRAM_SANDBOX_UID when
 * `for_sandbox_as_root`). IO recorded on failure (UNSUPPORTED when the
 * sandbox's user does not exist here), with nothing left behind. */
brt_status _brt_isolation_call_dir_create(brt_call_dir *dir, bool for_sandbox_as_root);
/* Writes input/input.json. IO recorded on failure. */
brt_status _brt_isolation_call_dir_write_input(const brt_call_dir *dir, const char *json,
                                               size_t len);
/* Reads output/result.json into a malloc()ed, NUL-terminated buffer
 * without following a symbolic link or blocking on a FIFO. `program`
 * names the program in errors: CONVERSION (missing, not a regular file),
 * PERMISSION (a symbolic link, or a file with other links), LIMIT_EXCEEDED
 * (larger than BRT_PROGRAM_RESULT_MAX), IO. */
brt_status _brt_isolation_call_dir_read_result(const brt_call_dir *dir, const char *program,
                                               char **text, size_t *len);
/* Removes the directory and everything in it, never following a symbolic
 * link, and closes its descriptors. IO recorded when something stays. */
brt_status _brt_isolation_call_dir_remove(brt_call_dir *dir);

/* A program as a loaded manifest describes it (immutable after creation:
 * any number of calls may read it at once). */
struct brt_program {
  int program_fd;
  char *program_path;       /* argv[0] */
  char *program_dir;        /* visible read-only in the sandbox */
  const char *program_name; /* the last component of program_path, for messages */
  char **args;
  size_t arg_count;
  brt_program_protocol protocol;
  brt_isolation isolation;
  uint64_t memory_limit;
  uint32_t timeout_ms;
  brt_isolation_deadline_fn call_deadline; /* may be NULL */
  char worker[PATH_MAX];
};

/* One run of a program: what the host saw of it. */
typedef struct brt_program_run {
  const brt_program *program;
  pid_t pid;
  int pidfd;     /* -1 without pidfd_open: then the exit is polled */
  int status_fd; /* the worker's report */
  int err_fd;    /* standard error */
  int out_fd;    /* standard output (stdio protocol) */
  int in_fd;     /* standard input (stdio protocol) */
  const char *input;
  size_t input_len, input_sent;
  char report[BRT_STATUS_TEXT_MAX];
  size_t report_len;
  char tail[BRT_PROGRAM_STDERR_KEEP]; /* a ring: the last bytes of standard error */
  uint64_t tail_total;
  char *out;
  size_t out_len, out_cap;
  bool out_too_large, out_of_memory, timed_out, reaped;
  bool lost; /* the kernel reaped it (the host ignores SIGCHLD): its status is unknown */
  int wait_status;
  int poll_error; /* errno of a failed poll(), after which the program was killed */
} brt_program_run;

/* Starts the worker for `program` in `dir` and watches it until it ended
 * (killed at `deadline_ns`, CLOCK_MONOTONIC, 0 = none); `input` is written
 * to its standard input (stdio protocol; input_len 0 for none). Returns
 * BRT_OK with the outcome in *r (always reaped, every descriptor closed),
 * or IO when the worker could not be started. Release *r with
 * _brt_isolation_program_run_dispose in both cases. */
brt_status _brt_isolation_program_run(brt_program_run *r, const brt_program *program,
                                      const brt_call_dir *dir, const char *input, size_t input_len,
                                      uint64_t deadline_ns);
void _brt_isolation_program_run_dispose(brt_program_run *r);

#endif /* BRT_ISOLATION_PROGRAM_H */
