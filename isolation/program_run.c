/* Running one external program: posix_spawn of the worker program and the
 * poll() loop that feeds it, reads it and watches it until it exits or its
 * deadline passes (docs/isolation.md, "External programs").
 *
 * The host is multi-threaded, so it never forks: it posix_spawn()s the
 * worker program (`bridgert-exec`, isolation/worker/exec.c) with the
 * checked program file at descriptor 3 and a status pipe at 4; the worker
 * sets the limits, optionally enters the sandbox and fexecve()s the
 * program. The worker leads a new process group, so killing the group at
 * the end also ends whatever the program started.
 *
 * Everything the program sends is bounded and read without blocking: one
 * poll() loop feeds the params to standard input (stdio protocol), reads
 * standard output (the result, at most BRT_PROGRAM_RESULT_MAX bytes),
 * keeps the last BRT_PROGRAM_STDERR_KEEP bytes of standard error, reads the
 * worker's status report, and watches the process through a pidfd until it
 * exits or the deadline passes. Every descriptor is O_CLOEXEC and every
 * path reaps the process. */
#include "program.h"
#include "protocol.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* How long the host keeps reading the program's pipes after it exited and
 * its process group was killed: only a process that left the group (and so
 * escaped the kill) can hold them open longer. */
#define DRAIN_MS 100
/* The poll() period when the kernel has no pidfd_open (before Linux 5.3). */
#define EXIT_POLL_MS 10

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* A copy of `fd` numbered 10 or above, so that no dup2 of the spawn's
 * file actions (onto 0..4) overwrites another source. */
static int high_copy(int fd) {
  return fd >= 0 ? fcntl(fd, F_DUPFD_CLOEXEC, 10) : -1;
}

/* The worker's command line (docs/isolation.md lists the options). */
static char **worker_argv(const brt_program *program, const brt_call_dir *dir, char *parent,
                          char *limit) {
  char **argv = calloc(16 + program->arg_count, sizeof *argv);
  if (!argv) return NULL;
  size_t n = 0;
  argv[n++] = (char *)program->worker; /* bridgert-exec */
  argv[n++] = "--parent";
  argv[n++] = parent;
  argv[n++] = "--input-dir";
  argv[n++] = (char *)dir->input_path;
  argv[n++] = "--output-dir";
  argv[n++] = (char *)dir->output_path;
  if (program->memory_limit) {
    argv[n++] = "--memory-limit";
    argv[n++] = limit;
  }
  if (program->isolation == BRT_ISOLATION_SANDBOX) {
    argv[n++] = "--sandbox";
    argv[n++] = "--readonly";
    argv[n++] = program->program_dir;
  }
  argv[n++] = "--";
  argv[n++] = program->program_path;
  for (size_t i = 0; i < program->arg_count; i++) argv[n++] = program->args[i];
  return argv;
}

/* Starts the worker with its descriptors: 0 the params (stdio) or
 * /dev/null, 1 the result (stdio) or /dev/null, 2 standard error, 3 the
 * program, 4 the status report. Fills the host's ends in `r`. */
static brt_status spawn(brt_program_run *r, const brt_call_dir *dir) {
  const brt_program *program = r->program;
  bool stdio = program->protocol == BRT_PROGRAM_STDIO;
  int status_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1};
  int in_pair[2] = {-1, -1};
  int err = 0;
  /* Standard input is a socket so that writing to a program that stopped
   * reading fails with EPIPE (MSG_NOSIGNAL) instead of raising SIGPIPE in
   * the host. */
  if (pipe2(status_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
      (stdio && (pipe2(out_pipe, O_CLOEXEC) != 0 ||
                 socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pair) != 0)))
    err = errno;
  int high[5] = {high_copy(in_pair[1]), high_copy(out_pipe[1]), high_copy(err_pipe[1]),
                 high_copy(program->program_fd), high_copy(status_pipe[1])};
  for (int i = 0; !err && i < 5; i++)
    if (high[i] < 0 && (i >= 2 || stdio)) err = errno;
  char parent[24], limit[24];
  snprintf(parent, sizeof parent, "%ld", (long)getpid());
  snprintf(limit, sizeof limit, "%" PRIu64, program->memory_limit);
  char **argv = err ? NULL : worker_argv(program, dir, parent, limit);
  if (!err && !argv) err = ENOMEM;
  if (!err) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    _brt_isolation_spawnattr_init(&attr);
    if (stdio) {
      posix_spawn_file_actions_adddup2(&actions, high[0], 0);
      posix_spawn_file_actions_adddup2(&actions, high[1], 1);
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    }
    for (int i = 2; i < 5; i++) posix_spawn_file_actions_adddup2(&actions, high[i], i);
    err = posix_spawn(&r->pid, program->worker, &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  free(argv);
  for (int i = 0; i < 5; i++) close_fd(&high[i]);
  close_fd(&status_pipe[1]);
  close_fd(&err_pipe[1]);
  close_fd(&out_pipe[1]);
  close_fd(&in_pair[1]);
  r->status_fd = status_pipe[0];
  r->err_fd = err_pipe[0];
  r->out_fd = out_pipe[0];
  r->in_fd = in_pair[0];
  if (err) {
    r->pid = 0;
    return brt_error_set_os(BRT_E_IO, err,
                            "cannot start the worker program \"%s\" for program "
                            "\"%s\": %s",
                            program->worker, program->program_name, strerror(err));
  }
  int host_ends[4] = {r->status_fd, r->err_fd, r->out_fd, r->in_fd};
  for (int i = 0; i < 4; i++)
    if (host_ends[i] >= 0) fcntl(host_ends[i], F_SETFL, O_NONBLOCK);
  r->pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
  return BRT_OK;
}

/* Kills the process group while its leader is not yet reaped (so its id
 * cannot have been reused), then reaps the leader. */
static void kill_and_reap(brt_program_run *r) {
  kill(-r->pid, SIGKILL);
  while (waitpid(r->pid, &r->wait_status, 0) < 0) {
    if (errno == EINTR) continue;
    r->lost = errno == ECHILD;
    break;
  }
  r->reaped = true;
  close_fd(&r->pidfd);
}

/* True once the leader has exited; it stays a zombie (WNOWAIT) so that
 * its process group can still be killed by its id. A host that ignores
 * SIGCHLD has its children reaped by the kernel: then the exit is known
 * but not its status (`lost`). */
static bool leader_exited(brt_program_run *r) {
  siginfo_t info;
  memset(&info, 0, sizeof info);
  if (waitid(P_PID, (id_t)r->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0)
    return info.si_pid == r->pid;
  if (errno != ECHILD) return false;
  r->lost = true;
  return true;
}

/* Reads what is ready on `*fd` into `sink`; closes it at end of file. */
static void pump(brt_program_run *r, int *fd,
                 void (*sink)(brt_program_run *, const char *, size_t)) {
  char chunk[16384];
  for (;;) {
    ssize_t got = read(*fd, chunk, sizeof chunk);
    if (got > 0) {
      sink(r, chunk, (size_t)got);
      if (*fd < 0) return; /* the sink closed it */
      continue;
    }
    if (got < 0 && errno == EINTR) continue;
    if (got < 0 && errno == EAGAIN) return;
    close_fd(fd);
    return;
  }
}

static void sink_report(brt_program_run *r, const char *data, size_t len) {
  size_t room = sizeof r->report - 1 - r->report_len;
  if (len > room) len = room;
  memcpy(r->report + r->report_len, data, len);
  r->report_len += len;
}

static void sink_stderr(brt_program_run *r, const char *data, size_t len) {
  for (size_t i = 0; i < len; i++) r->tail[(r->tail_total + i) % sizeof r->tail] = data[i];
  r->tail_total += len;
}

static void sink_stdout(brt_program_run *r, const char *data, size_t len) {
  if (r->out_len + len > BRT_PROGRAM_RESULT_MAX) {
    /* Past the limit: stop reading and end the program now rather than
     * let it fill memory or wait for the deadline. */
    r->out_too_large = true;
    close_fd(&r->out_fd);
    if (!r->reaped) kill_and_reap(r);
    return;
  }
  if (r->out_len + len + 1 > r->out_cap) {
    size_t cap = r->out_cap ? r->out_cap : 65536;
    while (cap < r->out_len + len + 1) cap *= 2;
    char *grown = realloc(r->out, cap);
    if (!grown) {
      r->out_of_memory = true;
      close_fd(&r->out_fd);
      if (!r->reaped) kill_and_reap(r);
      return;
    }
    r->out = grown;
    r->out_cap = cap;
  }
  memcpy(r->out + r->out_len, data, len);
  r->out_len += len;
}

/* Sends what the socket takes of the params; closes it when all went (the
 * program sees end of file) or when the program stopped reading. */
static void feed(brt_program_run *r) {
  while (r->input_sent < r->input_len) {
    ssize_t sent = send(r->in_fd, r->input + r->input_sent, r->input_len - r->input_sent,
                        MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) {
      r->input_sent += (size_t)sent;
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno == EAGAIN) return;
    break; /* EPIPE, ECONNRESET: the program does not want the rest */
  }
  close_fd(&r->in_fd);
}

static int ms_until(uint64_t until, uint64_t now) {
  if (until <= now) return 0;
  uint64_t ms = (until - now + 999999u) / 1000000u;
  return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* The poll() loop: runs until the program exited and its pipes are
 * drained, or the deadline passed (the group is killed), or the output
 * grew too large (killed too). */
static void watch(brt_program_run *r, uint64_t deadline_ns) {
  uint64_t drain_until = 0;
  for (;;) {
    struct pollfd fds[5];
    int *owners[5];
    nfds_t n = 0;
    int *watched[4] = {&r->status_fd, &r->err_fd, &r->out_fd, &r->in_fd};
    for (int i = 0; i < 4; i++) {
      if (*watched[i] < 0) continue;
      owners[n] = watched[i];
      fds[n++] = (struct pollfd){.fd = *watched[i], .events = i == 3 ? POLLOUT : POLLIN};
    }
    if (!r->reaped && r->pidfd >= 0) {
      owners[n] = &r->pidfd;
      fds[n++] = (struct pollfd){.fd = r->pidfd, .events = POLLIN};
    }
    uint64_t now = _brt_now_ns();
    if (r->reaped && (n == 0 || now >= drain_until)) return;
    if (!r->reaped && deadline_ns && now >= deadline_ns) {
      r->timed_out = true;
      kill_and_reap(r);
      return;
    }
    int timeout = r->reaped     ? ms_until(drain_until, now)
                  : deadline_ns ? ms_until(deadline_ns, now)
                                : -1;
    if (!r->reaped && r->pidfd < 0 && (timeout < 0 || timeout > EXIT_POLL_MS))
      timeout = EXIT_POLL_MS;
    if (poll(fds, n, timeout) < 0) {
      if (errno == EINTR) continue;
      r->poll_error = errno;
      if (!r->reaped) kill_and_reap(r);
      return;
    }
    for (nfds_t i = 0; i < n; i++) {
      if (!fds[i].revents || *owners[i] < 0 || owners[i] == &r->pidfd) continue;
      if (owners[i] == &r->status_fd)
        pump(r, &r->status_fd, sink_report);
      else if (owners[i] == &r->err_fd)
        pump(r, &r->err_fd, sink_stderr);
      else if (owners[i] == &r->out_fd)
        pump(r, &r->out_fd, sink_stdout);
      else
        feed(r);
    }
    if (!r->reaped && leader_exited(r)) {
      kill_and_reap(r);
      drain_until = _brt_now_ns() + (uint64_t)DRAIN_MS * 1000000u;
    }
  }
}
brt_status _brt_isolation_program_run(brt_program_run *r, const brt_program *program,
                                      const brt_call_dir *dir, const char *input, size_t input_len,
                                      uint64_t deadline_ns) {
  if (!r || !program || !dir || (!input && input_len))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "_brt_isolation_program_run: missing argument");
  memset(r, 0, sizeof *r);
  r->program = program;
  r->pidfd = r->status_fd = r->err_fd = r->out_fd = r->in_fd = -1;
  r->input = input;
  r->input_len = input_len;
  brt_status status = spawn(r, dir);
  if (status == BRT_OK) watch(r, deadline_ns);
  int *fds[5] = {&r->pidfd, &r->status_fd, &r->err_fd, &r->out_fd, &r->in_fd};
  for (int i = 0; i < 5; i++) close_fd(fds[i]);
  return status;
}

void _brt_isolation_program_run_dispose(brt_program_run *r) {
  if (!r) return;
  free(r->out);
  r->out = NULL;
  r->out_len = r->out_cap = 0;
}
