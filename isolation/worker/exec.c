/* `bridgert-exec`: runs one external program for a host
 * (isolation/program.c starts it; docs/isolation.md, "External programs").
 *
 *   bridgert-exec --parent PID --input-dir DIR --output-dir DIR
 *                        [--memory-limit BYTES] [--sandbox [--readonly PATH]...]
 *                        -- PROGRAM [ARG...]
 *
 * Descriptors from the host: 0, 1 and 2 become the program's standard
 * streams; 3 is the program file the host checked (it is executed by
 * descriptor, so no path is looked up again); 4 is the status pipe.
 *
 * This process is the host's child and the leader of a new process group.
 * It gives the program a clean start: it dies with the host thread that
 * started it (PR_SET_PDEATHSIG), dumps no core, optionally enters the
 * sandbox, limits its data segment, starts in the output directory with a
 * minimal environment and no descriptor but 0 to 3, and becomes the
 * program (fexecve). If any step fails it writes one report to the status
 * pipe ("U" when the sandbox cannot be entered, "E" otherwise, then the
 * errno, ':' and the reason) and exits; the pipe is close-on-exec, so
 * after a successful exec the host reads nothing from it and the exit
 * status it later sees is the program's own. */
#include "worker.h"

#include "../program.h"
#include "../sandbox.h"
#include "core/text.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* Exit statuses when the program could not be started (the report says why). */
#define EXIT_UNSUPPORTED 126
#define EXIT_FAILED 127

/* The most --readonly paths. */
#define READONLY_MAX 16

typedef struct exec_options {
  long parent;
  const char *input_dir, *output_dir;
  uint64_t memory_limit;
  bool sandbox;
  const char *readonly[READONLY_MAX];
  size_t readonly_count;
  char **program_argv; /* PROGRAM [ARG...], NULL-terminated (main's argv) */
} exec_options;

/* Writes the report and returns the exit status to end with. */
static int report(char kind, int err, const char *fmt, ...) BRT_PRINTF(3, 4);
static int report(char kind, int err, const char *fmt, ...) {
  char text[BRT_STATUS_TEXT_MAX];
  int used = snprintf(text, sizeof text, "%c%d:", kind, err);
  va_list args;
  va_start(args, fmt);
  _brt_text_vformat(text + used, sizeof text - (size_t)used, NULL, fmt, args);
  va_end(args);
  size_t len = strlen(text);
  /* One write of at most PIPE_BUF bytes is atomic: the host reads the
   * report whole or not at all. */
  ssize_t wrote = write(BRT_STATUS_FD, text, len);
  if (wrote != (ssize_t)len) fprintf(stderr, "bridgert-exec: %s\n", text + used);
  return kind == BRT_STATUS_UNSUPPORTED ? EXIT_UNSUPPORTED : EXIT_FAILED;
}

static bool parse_number(const char *text, uint64_t *out) {
  if (!text || !*text || *text == '-') return false;
  char *end = NULL;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno || *end) return false;
  *out = value;
  return true;
}

/* Parses argv (argv[0] is "exec"). Returns 0, or the exit status after a
 * report. */
static int parse_options(int argc, char **argv, exec_options *o) {
  memset(o, 0, sizeof *o);
  int i = 1;
  for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
    const char *option = argv[i];
    const char *value = i + 1 < argc ? argv[i + 1] : NULL;
    uint64_t number = 0;
    if (strcmp(option, "--sandbox") == 0) {
      o->sandbox = true;
      continue;
    }
    if (!value) return report(BRT_STATUS_FAILED, EINVAL, "option %s needs a value", option);
    i++;
    if (strcmp(option, "--parent") == 0 && parse_number(value, &number) && number >= 1 &&
        number <= INT32_MAX)
      o->parent = (long)number;
    else if (strcmp(option, "--input-dir") == 0 && value[0] == '/')
      o->input_dir = value;
    else if (strcmp(option, "--output-dir") == 0 && value[0] == '/')
      o->output_dir = value;
    else if (strcmp(option, "--memory-limit") == 0 && parse_number(value, &number))
      o->memory_limit = number;
    else if (strcmp(option, "--readonly") == 0 && value[0] == '/' &&
             o->readonly_count < READONLY_MAX)
      o->readonly[o->readonly_count++] = value;
    else
      return report(BRT_STATUS_FAILED, EINVAL, "bad option %s \"%s\"", option, value);
  }
  if (i + 1 >= argc || argv[i + 1][0] != '/')
    return report(BRT_STATUS_FAILED, EINVAL, "no absolute program path after \"--\"");
  if (!o->parent || !o->input_dir || !o->output_dir)
    return report(BRT_STATUS_FAILED, EINVAL, "--parent, --input-dir and --output-dir are required");
  o->program_argv = argv + i + 1;
  return 0;
}

/* The sandboxed process is pid 1 of its pid namespace, and the kernel
 * ignores a signal that pid 1 sends itself when it has no handler: abort()
 * or raise(SIGTERM) would not end the program, and a crash would be
 * reported as something else. So pid 1 stays a small init: the program
 * runs as its child, pid 1 reaps whatever is orphaned in the namespace,
 * and when the program ends, pid 1 ends with the same exit status, or
 * relays the signal through the status pipe (it cannot die of it itself).
 * Its end ends every other process of the namespace. It ends with _exit:
 * nothing of this process is left to flush, and a sanitizer's exit-time
 * leak check would fail in the sandbox (ptrace is refused) and change the
 * status. */
static _Noreturn void sandbox_init(pid_t program) {
  /* Not dumpable: the program (the same user) cannot open our copy of the
   * status pipe through /proc/1/fd and write a report of its own. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  for (int fd = 0; fd <= BRT_PROGRAM_FD; fd++) close(fd);
  for (;;) {
    int status = 0;
    pid_t ended = waitpid(-1, &status, 0);
    if (ended < 0 && errno == EINTR) continue;
    if (ended < 0)
      _exit(report(BRT_STATUS_FAILED, errno, "the sandbox's init lost its program: %s",
                   strerror(errno)));
    if (ended != program) continue;
    if (!WIFSIGNALED(status)) _exit(WEXITSTATUS(status));
    report(BRT_STATUS_KILLED, WTERMSIG(status), "killed by signal %d", WTERMSIG(status));
    _exit(128 + WTERMSIG(status));
  }
}

/* Closes every descriptor above BRT_PROGRAM_FD: the host's threads may
 * have leaked some without O_CLOEXEC, and the worker's own libraries may
 * hold some. The status pipe goes at the exec (close-on-exec). */
static void close_others(void) {
  if (close_range(BRT_STATUS_FD + 1, ~0u, 0) == 0) return;
  struct rlimit files;
  long max = getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur != RLIM_INFINITY
                 ? (long)files.rlim_cur
                 : 65536;
  for (long fd = BRT_STATUS_FD + 1; fd < max; fd++) close((int)fd);
}

int worker_exec_main(int argc, char **argv) {
  if (fcntl(BRT_STATUS_FD, F_SETFD, FD_CLOEXEC) != 0 || fcntl(BRT_PROGRAM_FD, F_GETFD) < 0) {
    fprintf(stderr,
            "bridgert-exec: descriptors %d and %d must be open; this command is "
            "started by a bridgert host (docs/isolation.md)\n",
            BRT_PROGRAM_FD, BRT_STATUS_FD);
    return EXIT_FAILED;
  }
  exec_options o;
  int failed = parse_options(argc, argv, &o);
  if (failed) return failed;
  /* The host thread that started us waits for us; if it is gone already,
   * nobody would ever kill the program. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || getppid() != (pid_t)o.parent)
    return report(BRT_STATUS_FAILED, ESRCH, "the host (pid %ld) is gone", o.parent);
  struct rlimit no_core = {0, 0};
  if (setrlimit(RLIMIT_CORE, &no_core) != 0)
    return report(BRT_STATUS_FAILED, errno, "cannot disable core dumps: %s", strerror(errno));
  const char *input = o.input_dir, *output = o.output_dir;
  if (o.sandbox) {
    brt_sandbox_spec spec = {.readonly_paths = o.readonly,
                             .readonly_count = o.readonly_count,
                             .input_dir = o.input_dir,
                             .output_dir = o.output_dir,
                             .memory_limit = o.memory_limit};
    char why[BRT_STATUS_TEXT_MAX - 32];
    if (_brt_sandbox_enter(&spec, why, sizeof why) != 0)
      return report(BRT_STATUS_UNSUPPORTED, 0, "%s", why);
    input = "/input";
    output = "/output";
    pid_t program = fork();
    if (program < 0)
      return report(BRT_STATUS_FAILED, errno, "cannot fork in the sandbox: %s", strerror(errno));
    if (program > 0) sandbox_init(program);
  } else if (o.memory_limit) {
    struct rlimit data = {o.memory_limit, o.memory_limit};
    if (setrlimit(RLIMIT_DATA, &data) != 0)
      return report(BRT_STATUS_FAILED, errno,
                    "cannot limit the data segment to %" PRIu64 " bytes: %s", o.memory_limit,
                    strerror(errno));
  }
  if (chdir(output) != 0)
    return report(BRT_STATUS_FAILED, errno, "cannot enter the output directory \"%s\": %s", output,
                  strerror(errno));
  char home[PATH_MAX + 8], input_env[PATH_MAX + 16], output_env[PATH_MAX + 16];
  snprintf(home, sizeof home, "HOME=%s", output);
  snprintf(input_env, sizeof input_env, "BRT_INPUT_DIR=%s", input);
  snprintf(output_env, sizeof output_env, "BRT_OUTPUT_DIR=%s", output);
  char *env[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", home, input_env, output_env, NULL};
  close_others();
  fexecve(BRT_PROGRAM_FD, o.program_argv, env);
  return report(BRT_STATUS_FAILED, errno, "cannot execute \"%s\": %s", o.program_argv[0],
                strerror(errno));
}
