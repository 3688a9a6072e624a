/* The sandbox probe: enters the sandbox (isolation/sandbox.h) from a spec
 * given by its arguments, performs one named check, prints one line and exits
 * 0 when the sandbox behaved as required (test_sandbox.c runs it).
 *
 *   sandbox_probe [--readonly PATH]... [--input DIR] [--output DIR]
 *                 [--max-processes N] [--memory-limit BYTES] CHECK [ARG]
 *
 * A failed entry prints "enter failed (state intact): WHY" and exits 3, after
 * checking that the failure left the process as it was (no child, the same
 * descriptors, the same SIGCHLD disposition); "state changed" otherwise.
 * Every process of the sandbox holds the descriptors the probe was started
 * with: a pipe's reader sees end-of-file once none of them is left. */
#include "sandbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int ok(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int ok(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  printf("ok: ");
  vprintf(fmt, args);
  printf("\n");
  va_end(args);
  return 0;
}

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  printf("FAIL: ");
  vprintf(fmt, args);
  printf("\n");
  va_end(args);
  return 1;
}

/* Checks that a call returned -1 with `want`; appends a problem to `out`. */
static bool refused(const char *what, long rc, int err, int want, char *out, size_t size) {
  if (rc == -1 && err == want) return true;
  size_t used = strlen(out);
  snprintf(out + used, size - used, "%s%s returned %ld (%s), expected %s", used ? "; " : "", what, rc,
           rc == -1 ? strerror(err) : "success", strerror(want));
  return false;
}
#define REFUSED(call, want, out)                              \
  do {                                                        \
    errno = 0;                                                \
    long refused_rc_ = (long)(call);                          \
    refused(#call, refused_rc_, errno, (want), (out), sizeof(out)); \
  } while (0)

static int count_fds(void) {
  DIR *dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int count = 0;
  for (struct dirent *e; (e = readdir(dir)) != NULL;) count += e->d_name[0] != '.';
  closedir(dir);
  return count;
}

static int check_getpid(double entered_us) {
  if (getpid() != 2 || getppid() != 1)
    return bad("pid %d, parent %d: expected pid 2 under the namespace's init", getpid(), getppid());
  return ok("pid 2, parent 1 (entered in %.0f us)", entered_us);
}

/* Counts the zombies in the sandbox's /proc (state Z in /proc/PID/stat). */
static int count_zombies(void) {
  DIR *proc = opendir("/proc");
  if (!proc) return -1;
  int zombies = 0;
  for (struct dirent *e; (e = readdir(proc)) != NULL;) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char path[300], line[512];
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    FILE *stat = fopen(path, "r");
    if (!stat) continue; /* gone meanwhile */
    char *close_paren = fgets(line, sizeof line, stat) ? strrchr(line, ')') : NULL;
    fclose(stat);
    if (close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z') zombies++;
  }
  closedir(proc);
  return zombies;
}

/* A double fork whose middle exits: the grandchild, orphaned, is reparented
 * to the namespace's init, says its pid and exits; the init must reap it. */
static int check_orphan(void) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return bad("pipe: %s", strerror(errno));
  pid_t child = fork();
  if (child < 0) return bad("fork: %s", strerror(errno));
  if (child == 0) {
    pid_t grandchild = fork();
    if (grandchild != 0) _exit(grandchild > 0 ? 0 : 1);
    for (int i = 0; i < 10000 && getppid() != 1; i++) usleep(1000);
    pid_t self = getppid() == 1 ? getpid() : -1;
    (void)!write(pipefd[1], &self, sizeof self);
    _exit(0);
  }
  close(pipefd[1]);
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return bad("the middle child ended with status %#x", status);
  pid_t orphan = 0;
  if (read(pipefd[0], &orphan, sizeof orphan) != (ssize_t)sizeof orphan || orphan <= 0)
    return bad("the grandchild was not reparented to pid 1");
  close(pipefd[0]);
  char path[64];
  snprintf(path, sizeof path, "/proc/%d", (int)orphan);
  int waited_ms = 0;
  for (; access(path, F_OK) == 0 && waited_ms < 10000; waited_ms++) usleep(1000);
  if (access(path, F_OK) == 0) return bad("the orphan %d is still in /proc after 10 s (a zombie)", (int)orphan);
  int zombies = count_zombies();
  if (zombies != 0) return bad("%d zombies in /proc", zombies);
  return ok("orphan %d reparented to pid 1 and reaped within %d ms; no zombie in /proc", (int)orphan, waited_ms);
}

static int check_uid(void) {
  unsigned inside = 1, outside = 0, count = 0;
  FILE *map = fopen("/proc/self/uid_map", "r");
  if (!map || fscanf(map, "%u %u %u", &inside, &outside, &count) != 3) return bad("cannot read /proc/self/uid_map");
  fclose(map);
  if (getuid() != 0 || geteuid() != 0 || getgid() != 0 || getegid() != 0)
    return bad("uid %u gid %u inside, expected 0", getuid(), getgid());
  char host[64] = "";
  gethostname(host, sizeof host);
  if (strcmp(host, "bridgert-sandbox") != 0) return bad("hostname \"%s\"", host);
  return ok("uid 0 gid 0, hostname %s, uid_map %u %u %u", host, inside, outside, count);
}

static int check_net(void) {
  char problems[512] = "";
  REFUSED(socket(AF_INET, SOCK_STREAM, 0), EAFNOSUPPORT, problems);
  REFUSED(socket(AF_INET6, SOCK_DGRAM, 0), EAFNOSUPPORT, problems);
  REFUSED(socket(AF_NETLINK, SOCK_RAW, 0), EAFNOSUPPORT, problems);
  int unix_fd = socket(AF_UNIX, SOCK_STREAM, 0);
  if (unix_fd < 0) return bad("socket(AF_UNIX): %s", strerror(errno));
  /* The interfaces of this network namespace: only lo, and it is down. */
  struct ifreq lo = {0};
  snprintf(lo.ifr_name, sizeof lo.ifr_name, "lo");
  if (ioctl(unix_fd, SIOCGIFFLAGS, &lo) != 0) return bad("SIOCGIFFLAGS lo: %s", strerror(errno));
  close(unix_fd);
  /* /proc/net/dev lists this namespace's interfaces after two header lines. */
  FILE *dev = fopen("/proc/net/dev", "r");
  if (!dev) return bad("opening /proc/net/dev: %s", strerror(errno));
  char line[512], names[128] = "";
  for (int n = 0; fgets(line, sizeof line, dev); n++) {
    char name[32];
    if (n >= 2 && sscanf(line, " %31[^:]", name) == 1)
      snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", names[0] ? " " : "", name);
  }
  fclose(dev);
  if (problems[0]) return bad("%s", problems);
  if (lo.ifr_flags & IFF_UP) return bad("lo is up");
  return ok("AF_INET, AF_INET6, AF_NETLINK refused; AF_UNIX works; lo is down; interfaces: %s", names);
}

static int check_write_root(void) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return bad("readlink /proc/self/exe: %s", strerror(errno));
  self[n] = 0;
  const char *dirs[] = {"/", "/usr", "/etc", dirname(self)};
  char path[4200];
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    snprintf(path, sizeof path, "%s/bridgert-sandbox-probe", dirs[i]);
    int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
    if (fd >= 0) {
      close(fd);
      unlink(path);
      return bad("created %s", path);
    }
    /* ENOENT: the directory is hidden (a build tree under /tmp, which the
     * sandbox replaces with its own): not writable either. */
    if (errno != EROFS && errno != EACCES && errno != ENOENT)
      return bad("creating %s: %s, expected EROFS, EACCES or ENOENT", path, strerror(errno));
  }
  return ok("/, /usr, /etc and %s are read-only", dirs[3]);
}

/* Writes a file in /tmp, then fills /tmp to show its bound. */
static int check_write_tmp(const char *name) {
  char path[256], fill[256];
  snprintf(path, sizeof path, "/tmp/%s", name);
  snprintf(fill, sizeof fill, "/tmp/%s.fill", name);
  FILE *file = fopen(path, "w");
  if (!file || fputs("written in the sandbox\n", file) < 0 || fclose(file) != 0)
    return bad("writing %s: %s", path, strerror(errno));
  int fd = open(fill, O_CREAT | O_WRONLY, 0600);
  if (fd < 0) return bad("creating %s: %s", fill, strerror(errno));
  static char chunk[1 << 20];
  size_t total = 0;
  ssize_t n;
  while ((n = write(fd, chunk, sizeof chunk)) > 0) total += (size_t)n;
  int err = errno;
  close(fd);
  if (n == 0 || err != ENOSPC) return bad("filling /tmp stopped with %s, expected ENOSPC", strerror(err));
  if (total > BRT_SANDBOX_TMP_BYTES || total < BRT_SANDBOX_TMP_BYTES / 2)
    return bad("/tmp took %zu bytes, expected at most %u", total, BRT_SANDBOX_TMP_BYTES);
  return ok("wrote %s; /tmp full after %zu MiB", path, total >> 20);
}

static int check_ptrace(void) {
  char problems[512] = "";
  REFUSED(ptrace(PTRACE_TRACEME, 0, NULL, NULL), EPERM, problems);
  pid_t child = fork();
  if (child == 0) {
    pause();
    _exit(0);
  }
  REFUSED(ptrace(PTRACE_ATTACH, child, NULL, NULL), EPERM, problems);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);
  return problems[0] ? bad("%s", problems) : ok("PTRACE_TRACEME and PTRACE_ATTACH refused with EPERM");
}

static int check_mount(void) {
  char problems[1024] = "";
  struct mount_attr rw = {.attr_clr = MOUNT_ATTR_RDONLY};
  REFUSED(mount("tmpfs", "/mnt", "tmpfs", 0, NULL), EPERM, problems);
  REFUSED(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL), EPERM, problems);
  REFUSED(umount2("/proc", MNT_DETACH), EPERM, problems);
  REFUSED(fsopen("tmpfs", 0), EPERM, problems);
  REFUSED(open_tree(AT_FDCWD, "/usr", OPEN_TREE_CLONE), EPERM, problems);
  REFUSED(mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &rw, sizeof rw), EPERM, problems);
  REFUSED(chroot("/tmp"), EPERM, problems);
  REFUSED(syscall(SYS_pivot_root, "/tmp", "/tmp"), EPERM, problems);
  return problems[0] ? bad("%s", problems) : ok("mount, umount2, fsopen, open_tree, mount_setattr, chroot, pivot_root refused");
}

static int check_unshare(void) {
  char problems[1024] = "";
  REFUSED(unshare(CLONE_NEWUSER), EPERM, problems);
  REFUSED(unshare(CLONE_NEWNET), EPERM, problems);
  int ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  REFUSED(setns(ns, 0), EPERM, problems);
  close(ns);
  /* A raw clone: if it were let through, the child returns 0 and leaves. */
  long rc = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), 0, 0, 0, 0);
  if (rc == 0) _exit(0);
  refused("clone(CLONE_NEWUSER)", rc, errno, EPERM, problems, sizeof problems);
  REFUSED(syscall(SYS_clone3, NULL, 0), ENOSYS, problems);
  return problems[0] ? bad("%s", problems) : ok("unshare, setns, clone(CLONE_NEWUSER) refused; clone3 ENOSYS");
}

static int check_bpf(void) {
  char problems[512] = "";
  union bpf_attr attr = {.map_type = BPF_MAP_TYPE_ARRAY, .key_size = 4, .value_size = 4, .max_entries = 1};
  REFUSED(syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr), EPERM, problems);
  REFUSED(syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0), EPERM, problems);
  return problems[0] ? bad("%s", problems) : ok("bpf and perf_event_open refused with EPERM");
}

/* Without the filter, asking for the session keyring's id succeeds. */
static int check_keyctl(void) {
  char problems[512] = "";
  REFUSED(syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0), EPERM, problems);
  REFUSED(syscall(SYS_add_key, "user", "probe", "x", 1, KEY_SPEC_PROCESS_KEYRING), EPERM, problems);
  REFUSED(syscall(SYS_request_key, "user", "probe", NULL, 0), EPERM, problems);
  return problems[0] ? bad("%s", problems) : ok("keyctl, add_key, request_key refused with EPERM");
}

/* Without the filter, reading one's own memory this way succeeds. */
static int check_process_vm(void) {
  char problems[512] = "";
  char source[8] = "secret", target[8];
  struct iovec local = {target, sizeof target}, remote = {source, sizeof source};
  REFUSED(process_vm_readv(getpid(), &local, 1, &remote, 1, 0), EPERM, problems);
  REFUSED(process_vm_writev(getpid(), &remote, 1, &local, 1, 0), EPERM, problems);
  return problems[0] ? bad("%s", problems) : ok("process_vm_readv and process_vm_writev refused with EPERM");
}

/* Forks until the kernel refuses; the children stay (holding the marker) and
 * die with the pid namespace when this process exits. */
static int check_forkbomb(unsigned max_processes) {
  unsigned forked = 0;
  pid_t pid;
  while ((pid = fork()) > 0) forked++;
  if (pid == 0) {
    pause();
    _exit(0);
  }
  int err = errno;
  if (err != EAGAIN) return bad("fork failed with %s after %u forks, expected EAGAIN", strerror(err), forked);
  /* This process, the sandbox's init and its middle process count too. */
  if (forked + 3 > max_processes || forked + 3 < max_processes / 2)
    return bad("%u forks before EAGAIN, expected about %u", forked, max_processes - 3);
  return ok("%u forks, then EAGAIN (max_processes %u)", forked, max_processes);
}

static int check_readonly_path(const char *file) {
  char text[256] = "";
  FILE *in = fopen(file, "r");
  if (!in || !fgets(text, sizeof text, in)) return bad("reading %s: %s", file, strerror(errno));
  fclose(in);
  text[strcspn(text, "\n")] = 0;
  int fd = open(file, O_WRONLY);
  if (fd >= 0) return bad("opened %s for writing", file);
  if (errno != EROFS && errno != EACCES) return bad("opening %s for writing: %s, expected EROFS", file, strerror(errno));
  return ok("read \"%s\" from %s; writing refused", text, file);
}

static void *square(void *arg) {
  uintptr_t n = (uintptr_t)arg;
  return (void *)(n * n);
}

static int check_threads(void) {
  pthread_t threads[8];
  for (uintptr_t i = 0; i < 8; i++)
    if ((errno = pthread_create(&threads[i], NULL, square, (void *)i)) != 0) return bad("pthread_create: %s", strerror(errno));
  uintptr_t sum = 0;
  for (int i = 0; i < 8; i++) {
    void *result;
    pthread_join(threads[i], &result);
    sum += (uintptr_t)result;
  }
  return sum == 140 ? ok("8 threads created and joined") : bad("threads computed %zu, expected 140", (size_t)sum);
}

/* The worker's way: a descriptor opened before entering, loaded by its
 * /proc/self/fd path (from the sandbox's own /proc). */
static int check_dlopen(int fd) {
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
  void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!lib) return bad("dlopen %s: %s", path, dlerror());
  double (*cosine)(double);
  *(void **)&cosine = dlsym(lib, "cos"); /* POSIX: dlsym returns object pointers */
  if (!cosine || cosine(0.0) != 1.0) return bad("cos from %s is missing or wrong", path);
  dlclose(lib);
  return ok("dlopen %s: cos(0) = 1", path);
}

static int check_files(void) {
  char text[256] = "";
  FILE *in = fopen("/input/in.txt", "r");
  if (!in || !fgets(text, sizeof text, in)) return bad("reading /input/in.txt: %s", strerror(errno));
  fclose(in);
  if (open("/input/new.txt", O_CREAT | O_WRONLY, 0644) >= 0 || (errno != EROFS && errno != EACCES))
    return bad("/input is writable");
  FILE *out = fopen("/output/out.txt", "w");
  if (!out || fprintf(out, "seen: %s", text) < 0 || fclose(out) != 0) return bad("writing /output/out.txt: %s", strerror(errno));
  return ok("copied /input/in.txt to /output/out.txt");
}

static int check_memory(uint64_t limit) {
  void *small = malloc(limit / 4);
  void *big = malloc(limit);
  bool fits = small != NULL, refused_big = big == NULL;
  free(small);
  free(big);
  if (!fits) return bad("malloc of a quarter of the limit failed");
  return refused_big ? ok("malloc(%llu) refused under RLIMIT_DATA", (unsigned long long)limit)
                     : bad("malloc(%llu) succeeded above RLIMIT_DATA", (unsigned long long)limit);
}

/* Waits in the sandbox with a child; the test kills the top process. */
static int check_pdeathsig(void) {
  if (fork() == 0) {
    pause();
    _exit(0);
  }
  printf("ready\n");
  fflush(stdout);
  pause();
  return bad("woke up");
}

int main(int argc, char **argv) {
  const char *readonly[16];
  brt_sandbox_spec spec = {.readonly_paths = readonly};
  int i = 1;
  for (; i + 1 < argc && argv[i][0] == '-' && argv[i][1] == '-'; i += 2) {
    if (!strcmp(argv[i], "--readonly") && spec.readonly_count < 16) readonly[spec.readonly_count++] = argv[i + 1];
    else if (!strcmp(argv[i], "--input")) spec.input_dir = argv[i + 1];
    else if (!strcmp(argv[i], "--output")) spec.output_dir = argv[i + 1];
    else if (!strcmp(argv[i], "--max-processes")) spec.max_processes = (uint32_t)strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--memory-limit")) spec.memory_limit = strtoull(argv[i + 1], NULL, 10);
    else break;
  }
  if (i >= argc) {
    fprintf(stderr, "usage: %s [--readonly PATH]... [--input DIR] [--output DIR] [--max-processes N] "
                    "[--memory-limit BYTES] CHECK [ARG]\n", argv[0]);
    return 2;
  }
  const char *check = argv[i], *arg = i + 1 < argc ? argv[i + 1] : "";
  int lib = -1;
  if (!strcmp(check, "dlopen") && (lib = open(arg, O_RDONLY | O_CLOEXEC)) < 0)
    return bad("opening %s: %s", arg, strerror(errno));

  int fds_before = count_fds();
  struct sigaction chld_before, chld_after;
  sigaction(SIGCHLD, NULL, &chld_before);
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  char why[1024];
  if (_brt_sandbox_enter(&spec, why, sizeof why) != 0) {
    sigaction(SIGCHLD, NULL, &chld_after);
    bool intact = count_fds() == fds_before && chld_after.sa_handler == chld_before.sa_handler &&
                  waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
    printf("enter failed (state %s): %s\n", intact ? "intact" : "changed", why);
    return 3;
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  double entered_us = (double)(end.tv_sec - start.tv_sec) * 1e6 + (double)(end.tv_nsec - start.tv_nsec) / 1e3;

  if (!strcmp(check, "getpid")) return check_getpid(entered_us);
  if (!strcmp(check, "uid")) return check_uid();
  if (!strcmp(check, "net")) return check_net();
  if (!strcmp(check, "write-root")) return check_write_root();
  if (!strcmp(check, "write-tmp")) return check_write_tmp(arg);
  if (!strcmp(check, "ptrace")) return check_ptrace();
  if (!strcmp(check, "mount")) return check_mount();
  if (!strcmp(check, "unshare")) return check_unshare();
  if (!strcmp(check, "bpf")) return check_bpf();
  if (!strcmp(check, "keyctl")) return check_keyctl();
  if (!strcmp(check, "process_vm_readv")) return check_process_vm();
  if (!strcmp(check, "forkbomb")) return check_forkbomb(spec.max_processes ? spec.max_processes : BRT_SANDBOX_DEFAULT_MAX_PROCESSES);
  if (!strcmp(check, "readonly-path")) return check_readonly_path(arg);
  if (!strcmp(check, "threads")) return check_threads();
  if (!strcmp(check, "dlopen")) return check_dlopen(lib);
  if (!strcmp(check, "files")) return check_files();
  if (!strcmp(check, "memory")) return check_memory(spec.memory_limit);
  if (!strcmp(check, "pdeathsig")) return check_pdeathsig();
  if (!strcmp(check, "exec")) {
    execl("/bin/sh", "sh", "-c", "exit 7", (char *)NULL);
    return bad("exec /bin/sh: %s", strerror(errno));
  }
  if (!strcmp(check, "orphan")) return check_orphan();
  /* Signals the process sends itself: they end it (it is not a namespace's
   * init, which would ignore them). stdout is flushed for the test to see. */
  if (!strcmp(check, "abort")) {
    fflush(stdout);
    abort();
  }
  if (!strcmp(check, "raise")) {
    fflush(stdout);
    raise(SIGTERM);
    return bad("survived raise(SIGTERM)");
  }
  if (!strcmp(check, "kill-self")) {
    fflush(stdout);
    kill(getpid(), SIGUSR1);
    return bad("survived kill(getpid(), SIGUSR1)");
  }
  if (!strcmp(check, "crash")) {
    /* A real fault. SIG_DFL first, since a sanitizer's handler would turn the
     * crash into an exit. */
    fflush(stdout);
    signal(SIGSEGV, SIG_DFL);
    volatile uintptr_t address = 64;
    *(volatile int *)address = 1;
    return bad("survived a write to address 64");
  }
  if (!strcmp(check, "exit42")) exit(42);
  return bad("unknown check \"%s\"", check);
}
