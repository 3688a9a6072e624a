/* The sandbox (sandbox.h): its processes and the uid mapping. The file
 * system is built by sandbox_mount.c; the capabilities and the seccomp
 * filter are in sandbox_filter.c.
 *
 * Entering takes four processes, because of what the kernel allows:
 *
 *   outer      the caller. It stays in the host's namespaces because, when it
 *              runs as root, only a process outside the new user namespace
 *              that holds CAP_SETUID there can map the sandbox's root to the
 *              unprivileged uid 65534. It writes the middle process's maps,
 *              then waits for it and ends as it ends.
 *   middle     unshares every namespace. A new pid namespace applies to
 *              children only, so it forks once more, then waits and ends as
 *              the sandboxed process ended (the fate the init sends it).
 *   init       pid 1 of the new pid namespace (a fresh /proc can only be
 *              mounted from inside it). Builds the file system, takes the
 *              limits and the filter (all inherited by its child), forks the
 *              sandboxed process, then reaps every process of the namespace.
 *              When the sandboxed process ends, the init sends its wait
 *              status to the middle and exits, which kills the namespace.
 *   sandboxed  pid 2, an ordinary process: the kernel ignores a signal that
 *              a pid-namespace init sends itself without a handler, which
 *              would turn abort() into SIGSEGV and raise() into nothing.
 *              Returns 0 to the caller's code.
 *
 * The init cannot end by re-raising a signal (it would be ignored), so the
 * fate travels over a socket pair that only the middle and the init hold
 * (the "link"); the middle, in the host's pid namespace, re-raises.
 *
 * Outer and children talk over a SOCK_SEQPACKET pair (one send is one
 * receive, and sending to a peer that is gone fails with EPIPE rather than
 * killing the sender): the middle sends MSG_UNSHARED, the outer answers
 * MSG_MAPPED once the maps are written, the sandboxed process sends
 * MSG_READY, and any of the children sends MSG_FAILED followed by the reason
 * before it exits. Every descendant has PR_SET_PDEATHSIG(SIGKILL), so killing
 * the outer process kills the middle one, which kills the init, whose end
 * kills its whole pid namespace. */
#include "sandbox.h"
#include "core/text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* The outside uid and gid of the sandbox's root when the caller is root. */
#define SANDBOX_NOBODY 65534u
#define SANDBOX_HOSTNAME "bridgert-sandbox"

enum { MSG_UNSHARED = 'U', MSG_MAPPED = 'M', MSG_READY = 'R', MSG_FAILED = 'E' };
enum { WHY_MAX = 1024 };

/* The one way a step fails (sandbox.h). */
int _brt_sandbox_fail(char *why, size_t size, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  _brt_text_vformat(why, size, NULL, fmt, args);
  va_end(args);
  return -1;
}

/* ---- Checks before anything is changed ---- */

static int check_path(const char *what, const char *path, char *why, size_t size) {
  if (path[0] != '/') return _brt_sandbox_fail(why, size, "%s \"%s\" is not an absolute path", what, path);
  if (strspn(path, "/") == strlen(path))
    return _brt_sandbox_fail(why, size, "%s \"%s\" is the root, which the sandbox shows read-only already", what, path);
  if (strlen(path) >= PATH_MAX) return _brt_sandbox_fail(why, size, "%s is longer than PATH_MAX", what);
  return 0;
}

static int check_spec(const brt_sandbox_spec *spec, char *why, size_t size) {
  if (!spec) return _brt_sandbox_fail(why, size, "no sandbox spec given");
  if (spec->readonly_count > 0 && !spec->readonly_paths)
    return _brt_sandbox_fail(why, size, "readonly_count is %zu but readonly_paths is NULL", spec->readonly_count);
  for (size_t i = 0; i < spec->readonly_count; i++) {
    if (!spec->readonly_paths[i]) return _brt_sandbox_fail(why, size, "readonly path %zu is NULL", i);
    if (check_path("readonly path", spec->readonly_paths[i], why, size) != 0) return -1;
  }
  if (spec->input_dir && check_path("input_dir", spec->input_dir, why, size) != 0) return -1;
  if (spec->output_dir && check_path("output_dir", spec->output_dir, why, size) != 0) return -1;
  return 0;
}

/* Reads a small number from a /proc/sys file; -1 when the file is absent. */
static long read_sysctl(const char *path) {
  FILE *file = fopen(path, "re");
  if (!file) return -1;
  long value = -1;
  if (fscanf(file, "%ld", &value) != 1) value = -1;
  fclose(file);
  return value;
}

static int check_user_namespaces(char *why, size_t size) {
  if (read_sysctl("/proc/sys/user/max_user_namespaces") == 0)
    return _brt_sandbox_fail(why, size, "user namespaces are disabled: /proc/sys/user/max_user_namespaces is 0");
  return 0;
}

/* Why unshare failed, in terms of the setting a person can change. */
static const char *unshare_hint(int err) {
  if (err == EPERM && read_sysctl("/proc/sys/kernel/unprivileged_userns_clone") == 0)
    return " (unprivileged user namespaces are disabled: /proc/sys/kernel/unprivileged_userns_clone is 0)";
  if (err == EPERM && read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") == 1)
    return " (AppArmor restricts unprivileged user namespaces: "
           "/proc/sys/kernel/apparmor_restrict_unprivileged_userns is 1)";
  if (err == ENOSPC) return " (the limit in /proc/sys/user/max_*_namespaces is reached)";
  if (err == EINVAL) return " (the kernel lacks one of these namespace types)";
  return "";
}

/* ---- Process plumbing ---- */

/* Sets the parent-death signal and checks that the parent did not die before
 * it was set (we would have been reparented). The kernel clears the signal
 * whenever the credentials change, so it is set again after setresuid. */
static bool die_with_parent(pid_t parent) {
  return prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0 && getppid() == parent;
}

static void report(int channel, const char *why) {
  char msg[WHY_MAX + 1];
  int n = snprintf(msg, sizeof msg, "%c%s", MSG_FAILED, why);
  send(channel, msg, n < (int)sizeof msg ? (size_t)n : sizeof msg - 1, MSG_NOSIGNAL);
}

/* Waits for our own child. SIGCHLD is not ignored (see _brt_sandbox_enter),
 * so waitpid fails only when interrupted. */
static int wait_for(pid_t child) {
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

/* Ends this process as a wait status says: the same exit status, or the same
 * signal with core dumps off (the child dumped or not already). Not for a
 * pid-namespace init, which ignores the signal it raises. */
static _Noreturn void end_as(int status) {
  if (WIFEXITED(status)) _exit(WEXITSTATUS(status));
  int sig = WTERMSIG(status);
  struct rlimit no_core = {0, 0};
  setrlimit(RLIMIT_CORE, &no_core);
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); /* a core_pattern pipe ignores RLIMIT_CORE */
  signal(sig, SIG_DFL);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, sig);
  sigprocmask(SIG_UNBLOCK, &only, NULL);
  raise(sig);
  _exit(128 + sig); /* not reached: wait() reports only signals that end a process */
}

/* Ends this process the way `child` ended. */
static _Noreturn void end_like(pid_t child) { end_as(wait_for(child)); }

/* Closes every descriptor from 3 on except `keep` (-1: none). The waiting
 * processes hold copies of the caller's descriptors, and a peer must see
 * end-of-file when the sandboxed process closes its copy. */
static void close_inherited(int keep) {
  if (keep < 0) {
    close_range(3, ~0u, 0);
    return;
  }
  if (keep > 3) close_range(3, (unsigned)keep - 1, 0);
  close_range((unsigned)keep + 1, ~0u, 0);
}

/* ---- The outer process: uid and gid maps ---- */

static int write_proc(pid_t pid, const char *name, const char *text, char *why, size_t size) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%ld/%s", (long)pid, name);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return _brt_sandbox_fail(why, size, "opening %s: %s", path, strerror(errno));
  ssize_t n = write(fd, text, strlen(text));
  int err = errno;
  close(fd);
  if (n != (ssize_t)strlen(text))
    return _brt_sandbox_fail(why, size, "writing \"%.*s\" to %s: %s%s", (int)strcspn(text, "\n"), text, path,
                             n < 0 ? strerror(err) : "short write",
                             geteuid() == 0 && n < 0 ? " (the caller runs as root but without CAP_SETUID/CAP_SETGID, "
                                                       "or uid/gid 65534 is not mapped in its user namespace)"
                                                     : "");
  return 0;
}

/* Maps the sandbox's uid and gid 0 to the caller's own ids or, for root, to
 * 65534: the kernel exempts real uid 0 from RLIMIT_NPROC (no fork-bomb bound
 * otherwise), and the sandbox must not be real root. For root, setgroups stays
 * allowed so that the middle process can drop root's supplementary groups;
 * an unprivileged map requires setgroups to be denied (the caller's
 * supplementary groups then stay, as with any unprivileged user namespace). */
static int write_maps(pid_t middle, char *why, size_t size) {
  bool root = geteuid() == 0;
  unsigned uid = root ? SANDBOX_NOBODY : (unsigned)geteuid();
  unsigned gid = root ? SANDBOX_NOBODY : (unsigned)getegid();
  char map[64];
  if (!root && write_proc(middle, "setgroups", "deny\n", why, size) != 0) return -1;
  snprintf(map, sizeof map, "0 %u 1\n", uid);
  if (write_proc(middle, "uid_map", map, why, size) != 0) return -1;
  snprintf(map, sizeof map, "0 %u 1\n", gid);
  return write_proc(middle, "gid_map", map, why, size);
}

/* Receives one message; returns its length, 0 when every child end is closed. */
static ssize_t receive(int channel, char *msg, size_t size) {
  ssize_t n;
  while ((n = recv(channel, msg, size - 1, 0)) < 0 && errno == EINTR) {
  }
  if (n >= 0) msg[n] = 0;
  return n;
}

/* The outer process's side of the setup. Returns 0 when the sandboxed process
 * is ready, -1 with why filled, or -2 when the children ended without a word
 * (the caller describes their exit status). */
static int guide(pid_t middle, int channel, char *why, size_t size) {
  char msg[WHY_MAX + 2];
  ssize_t n = receive(channel, msg, sizeof msg);
  if (n > 0 && msg[0] == MSG_UNSHARED) {
    if (write_maps(middle, why, size) != 0) return -1;
    char go = MSG_MAPPED;
    if (send(channel, &go, 1, MSG_NOSIGNAL) != 1) return -2;
    n = receive(channel, msg, sizeof msg);
  }
  if (n == 1 && msg[0] == MSG_READY) return 0;
  if (n > 1 && msg[0] == MSG_FAILED) return _brt_sandbox_fail(why, size, "%s", msg + 1);
  return -2;
}

/* What the four processes share (each has its own copy after fork). */
typedef struct {
  const brt_sandbox_spec *spec;
  bool caller_root;                /* the sandbox's outside uid is 65534 */
  pid_t outer;                     /* the caller's pid */
  int channel;                     /* the children's end of the setup channel */
  struct sigaction caller_sigchld; /* restored in the sandboxed process */
} setup;

/* ---- The sandboxed process: everything after the file system ---- */

static int set_limit(int resource, const char *name, rlim_t value, char *why, size_t size) {
  struct rlimit limit = {value, value};
  if (setrlimit(resource, &limit) != 0) return _brt_sandbox_fail(why, size, "setting %s: %s", name, strerror(errno));
  return 0;
}

static int confine(const setup *s, char *why, size_t size) {
  const brt_sandbox_spec *spec = s->spec;
  if (_brt_sandbox_build_file_system(spec, why, size) != 0) return -1;
  if (sethostname(SANDBOX_HOSTNAME, strlen(SANDBOX_HOSTNAME)) != 0)
    return _brt_sandbox_fail(why, size, "setting the hostname: %s", strerror(errno));
  /* RLIMIT_NPROC counts the processes and threads of the sandbox's outside
   * uid in its user namespace (the middle process and the init too); soft
   * and hard limits are equal and no process inside may raise a hard limit. */
  rlim_t processes = spec->max_processes ? spec->max_processes : BRT_SANDBOX_DEFAULT_MAX_PROCESSES;
  if (set_limit(RLIMIT_NPROC, "RLIMIT_NPROC", processes, why, size) != 0 ||
      set_limit(RLIMIT_CORE, "RLIMIT_CORE", 0, why, size) != 0 || _brt_sandbox_restrict(why, size) != 0)
    return -1;
  /* Checked with the final credentials: no capability overrides the mode. */
  if (spec->output_dir && access("/output", W_OK | X_OK) != 0)
    return _brt_sandbox_fail(
        why, size, "output_dir %s is not writable by the sandbox: %s (%s)", spec->output_dir, strerror(errno),
        s->caller_root ? "the sandbox is uid 65534 outside because the caller is root: chown the "
                         "directory to 65534 or make it writable by others"
                       : "the sandbox has the caller's uid outside: make the directory writable by it");
  /* Last, so that building the filter is not charged to the caller's budget. */
  if (spec->memory_limit && set_limit(RLIMIT_DATA, "RLIMIT_DATA", spec->memory_limit, why, size) != 0) return -1;
  return 0;
}

/* The init's last duty: reaps every process of the namespace (orphans are
 * reparented to it) until the sandboxed one ends, then sends that process's
 * wait status to the middle over `link_fd` and exits, which kills whatever is
 * left in the namespace. Its own exit status mirrors an exit status and is
 * 128 + the signal otherwise, for a middle that somehow got no message. */
static _Noreturn void reap(pid_t sandboxed, int link_fd) {
  for (;;) {
    int status = 0;
    pid_t pid = waitpid(-1, &status, 0);
    if (pid == sandboxed) {
      send(link_fd, &status, sizeof status, MSG_NOSIGNAL);
      _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
    if (pid < 0 && errno != EINTR) _exit(EXIT_FAILURE); /* ECHILD: not while the sandboxed process lives */
  }
}

/* The sandboxed process, pid 2: the file system, limits and filter are its
 * parent's already. */
static void run_sandboxed(const setup *s) {
  if (!die_with_parent(1)) _exit(EXIT_FAILURE);
  sigaction(SIGCHLD, &s->caller_sigchld, NULL);
  char ready = MSG_READY;
  send(s->channel, &ready, 1, MSG_NOSIGNAL);
  close(s->channel);
}

/* The init, pid 1: returns in the sandboxed process only. `link_fd` is its end
 * of a socket pair whose other end only the middle process holds. */
static void run_init(const setup *s, int link_fd) {
  /* getppid() is 0 for pid 1 of a namespace, so the middle process's death
   * before the signal was set shows as end-of-file on `link_fd` instead. */
  struct pollfd gone = {.fd = link_fd, .events = POLLIN};
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 || poll(&gone, 1, 0) != 0) _exit(EXIT_FAILURE);
  char why[WHY_MAX];
  if (confine(s, why, sizeof why) != 0) {
    report(s->channel, why);
    _exit(EXIT_FAILURE);
  }
  pid_t child = fork();
  if (child == 0) {
    close(link_fd);
    run_sandboxed(s);
    return;
  }
  if (child < 0) {
    snprintf(why, sizeof why, "forking the sandboxed process: %s", strerror(errno));
    report(s->channel, why);
    _exit(EXIT_FAILURE);
  }
  close_inherited(link_fd);
  reap(child, link_fd);
}

static _Noreturn void middle_failed(int channel, const char *what) {
  char why[WHY_MAX];
  snprintf(why, sizeof why, "%s: %s", what, strerror(errno));
  report(channel, why);
  _exit(EXIT_FAILURE);
}

/* The middle process: returns in the sandboxed process only. */
static void run_middle(const setup *s) {
  if (!die_with_parent(s->outer)) _exit(EXIT_FAILURE);
  if (unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) != 0) {
    int err = errno;
    char why[WHY_MAX];
    snprintf(why, sizeof why, "unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWNET|CLONE_NEWIPC|"
             "CLONE_NEWUTS): %s%s", strerror(err), unshare_hint(err));
    report(s->channel, why);
    _exit(EXIT_FAILURE);
  }
  char msg = MSG_UNSHARED;
  ssize_t n = send(s->channel, &msg, 1, MSG_NOSIGNAL);
  while (n == 1 && (n = recv(s->channel, &msg, 1, 0)) < 0 && errno == EINTR) n = 1;
  if (n != 1 || msg != MSG_MAPPED) _exit(EXIT_FAILURE); /* the outer process gave up, and says why */
  /* Become uid/gid 0 of the namespace for real: for a root caller that is
   * 65534 outside, so root's supplementary groups are dropped first. */
  if ((s->caller_root && setgroups(0, NULL) != 0) || setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0)
    middle_failed(s->channel, "becoming root of the new user namespace");
  int link_pair[2];
  if (!die_with_parent(s->outer)) _exit(EXIT_FAILURE);
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, link_pair) != 0)
    middle_failed(s->channel, "creating a socket pair");
  pid_t init = fork();
  if (init == 0) {
    close(link_pair[0]);
    run_init(s, link_pair[1]);
    return;
  }
  if (init < 0) middle_failed(s->channel, "forking pid 1 of the sandbox");
  close_inherited(link_pair[0]);
  int status = wait_for(init);
  /* The sandboxed process's fate, sent by the init before it exited (the
   * message outlives its sender); the init's own end otherwise. */
  int fate;
  if (recv(link_pair[0], &fate, sizeof fate, MSG_DONTWAIT) == (ssize_t)sizeof fate) status = fate;
  end_as(status);
}

int _brt_sandbox_enter(const brt_sandbox_spec *spec, char *why, size_t why_size) {
  if (check_spec(spec, why, why_size) != 0 || check_user_namespaces(why, why_size) != 0) return -1;
  setup s = {.spec = spec, .caller_root = geteuid() == 0, .outer = getpid()};
  /* waitpid needs SIGCHLD not ignored (an ignored SIGCHLD survives exec from
   * a host that ignores it); the caller's disposition comes back on failure,
   * and in the sandboxed process. */
  struct sigaction dfl = {.sa_handler = SIG_DFL};
  sigaction(SIGCHLD, &dfl, &s.caller_sigchld);
  int channel[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, channel) != 0) {
    sigaction(SIGCHLD, &s.caller_sigchld, NULL);
    return _brt_sandbox_fail(why, why_size, "creating the setup channel: %s", strerror(errno));
  }
  s.channel = channel[1];
  pid_t middle = fork();
  if (middle == 0) {
    close(channel[0]);
    run_middle(&s);
    return 0;
  }
  int err = errno;
  close(channel[1]);
  int got = middle < 0 ? _brt_sandbox_fail(why, why_size, "forking: %s", strerror(err))
                       : guide(middle, channel[0], why, why_size);
  if (got == 0) {
    close_inherited(-1);
    end_like(middle);
  }
  close(channel[0]);
  if (got == -1 && middle > 0) {
    kill(middle, SIGKILL); /* it has nothing left to do; its pid 1, if any, dies with it */
    wait_for(middle);
  } else if (got == -2) {
    /* The children ended without a word: their exit says how. */
    int status = wait_for(middle);
    if (WIFSIGNALED(status))
      _brt_sandbox_fail(why, why_size, "the sandbox's setup ended before it was ready: killed by signal %d (%s)",
                        WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
      _brt_sandbox_fail(why, why_size, "the sandbox's setup ended before it was ready: exit status %d",
                        WEXITSTATUS(status));
  }
  sigaction(SIGCHLD, &s.caller_sigchld, NULL);
  return -1;
}
