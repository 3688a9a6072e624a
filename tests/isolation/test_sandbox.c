/* The sandbox (isolation/sandbox.h), seen from the host: each test spawns the
 * probe (sandbox_probe.c, its path is argv[1]) for one check, the way a host
 * spawns a worker, and asserts what the probe printed and how it ended.
 *
 * Skips with a message where user namespaces are unavailable; on the project's
 * machines (and in CI, as root) every test runs. */
#include "brt_test.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>

extern char **environ;

static const char *probe;       /* the probe's path */
static const char *unavailable; /* why sandboxes cannot run here, or NULL */
static char unavailable_buf[256];

/* Where the probe finds the write end of a marker pipe: every process of
 * the sandbox inherits it, so the test's read end sees end-of-file exactly
 * when none of them is left. */
enum { MARKER_FD = 10 };

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

#define REQUIRE_SANDBOX()                                  \
  do {                                                     \
    if (unavailable) {                                     \
      print_message("skipped: %s\n", unavailable);         \
      skip();                                              \
    }                                                      \
  } while (0)

typedef struct {
  pid_t pid;
  int out;      /* read end of the probe's stdout */
  int status;   /* after finish() */
  char text[4096];
} probe_run;

/* The probe's environment: ours, with LeakSanitizer off. At exit it would
 * stop the process's threads with ptrace, which the sandbox refuses, and end
 * a passing probe with a fatal error; the test program itself keeps it. */
static char **probe_environment(void) {
  static char *env[512];
  static char asan[1024];
  size_t n = 0;
  const char *old = getenv("ASAN_OPTIONS");
  snprintf(asan, sizeof asan, "ASAN_OPTIONS=%s%sdetect_leaks=0", old ? old : "", old ? ":" : "");
  for (char **e = environ; *e && n < 510; e++)
    if (strncmp(*e, "ASAN_OPTIONS=", 13) != 0) env[n++] = *e;
  env[n++] = asan;
  env[n] = NULL;
  return env;
}

/* Starts `argv` (argv[0] is the program) with stdout to a pipe and, when
 * marker >= 0, that descriptor at MARKER_FD. */
static probe_run start(const char *const *argv, int marker) {
  probe_run run = {0};
  int out[2];
  assert_int_equal(pipe2(out, O_CLOEXEC), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  if (marker >= 0) posix_spawn_file_actions_adddup2(&actions, marker, MARKER_FD);
  int rc = posix_spawn(&run.pid, argv[0], &actions, NULL, (char *const *)argv, probe_environment());
  posix_spawn_file_actions_destroy(&actions);
  assert_int_equal(rc, 0);
  close(out[1]);
  run.out = out[0];
  return run;
}

/* Reads the probe's output to the end and waits for it. */
static void finish(probe_run *run) {
  size_t used = 0;
  ssize_t n;
  while (used < sizeof run->text - 1 && (n = read(run->out, run->text + used, sizeof run->text - 1 - used)) > 0)
    used += (size_t)n;
  run->text[used] = 0;
  close(run->out);
  assert_int_equal(waitpid(run->pid, &run->status, 0), run->pid);
}

/* Runs the probe with `args` (NULL-terminated, without the program). */
static probe_run run_probe(const char *const *args) {
  const char *argv[32] = {probe};
  for (size_t i = 0; args[i]; i++) argv[i + 1] = args[i];
  probe_run run = start(argv, -1);
  finish(&run);
  return run;
}

#define PROBE(...) run_probe((const char *const[]){__VA_ARGS__, NULL})

/* Asserts that the probe exited 0 (it printed "ok: ..."). */
static void assert_passed(const probe_run *run) {
  if (!WIFEXITED(run->status) || WEXITSTATUS(run->status) != 0)
    fail_msg("probe status %#x, output: %s", run->status, run->text);
  assert_non_null(strstr(run->text, "ok: "));
}

static void assert_contains(const char *text, const char *needle) {
  if (!strstr(text, needle)) fail_msg("\"%s\" does not contain \"%s\"", text, needle);
}

/* Waits up to 10 s for end-of-file on a marker pipe: asserts that no process
 * of the sandbox holds its write end any more. */
static void assert_sandbox_gone(int marker_read) {
  struct pollfd p = {.fd = marker_read, .events = POLLIN};
  assert_int_equal(poll(&p, 1, 10000), 1);
  char byte;
  assert_int_equal(read(marker_read, &byte, 1), 0);
  close(marker_read);
}

static void make_file(const char *path, const char *text) {
  FILE *file = fopen(path, "w");
  assert_non_null(file);
  fputs(text, file);
  assert_int_equal(fclose(file), 0);
  assert_int_equal(chmod(path, 0644), 0);
}

/* A scratch directory under /tmp (hidden from the sandbox unless bound);
 * mode 0755 so that the sandbox, uid 65534 outside when we are root, can
 * search it. */
static void scratch_dir(char *dir, size_t size) {
  snprintf(dir, size, "/tmp/bridgert-sandbox-test-XXXXXX");
  assert_non_null(mkdtemp(dir));
  assert_int_equal(chmod(dir, 0755), 0);
}

static void remove_dir(const char *dir) {
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  assert_int_equal(system(cmd), 0);
}

static void test_getpid(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  probe_run run = PROBE("getpid");
  assert_passed(&run);
  assert_contains(run.text, "pid 2, parent 1");
}

static void test_uid_and_hostname(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  probe_run run = PROBE("uid");
  assert_passed(&run);
  char map[64];
  /* As root the sandbox must not be real root: 65534 outside. */
  snprintf(map, sizeof map, "uid_map 0 %u 1", geteuid() == 0 ? 65534u : (unsigned)geteuid());
  assert_contains(run.text, map);
  assert_contains(run.text, "hostname bridgert-sandbox");
}

static void test_net(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  probe_run run = PROBE("net");
  assert_passed(&run);
  assert_contains(run.text, "lo is down; interfaces: lo\n");
}

static void test_write_root(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  probe_run run = PROBE("write-root");
  assert_passed(&run);
}

static void test_write_tmp(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  char name[64], host_path[128];
  snprintf(name, sizeof name, "bridgert-sandbox-probe-%ld", (long)getpid());
  probe_run run = PROBE("write-tmp", name);
  assert_passed(&run);
  snprintf(host_path, sizeof host_path, "/tmp/%s", name);
  assert_int_equal(access(host_path, F_OK), -1);
  assert_int_equal(errno, ENOENT);
}

static void test_refused_calls(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  const char *checks[] = {"ptrace", "mount", "unshare", "bpf", "keyctl", "process_vm_readv"};
  for (size_t i = 0; i < sizeof checks / sizeof *checks; i++) {
    probe_run run = PROBE(checks[i]);
    assert_passed(&run);
  }
}

static void test_forkbomb(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  int marker[2];
  assert_int_equal(pipe2(marker, O_CLOEXEC), 0);
  const char *argv[] = {probe, "--max-processes", "16", "forkbomb", NULL};
  probe_run run = start(argv, marker[1]);
  close(marker[1]);
  finish(&run);
  assert_passed(&run);
  assert_contains(run.text, "then EAGAIN");
  /* The forked children never exit by themselves: the pid namespace's end
   * must have killed them all. */
  assert_sandbox_gone(marker[0]);
}

static void test_readonly_path(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  char dir[64], file[128], token[64];
  scratch_dir(dir, sizeof dir);
  snprintf(file, sizeof file, "%s/token.txt", dir);
  snprintf(token, sizeof token, "token-%ld", (long)getpid());
  make_file(file, token);
  probe_run by_dir = PROBE("--readonly", dir, "readonly-path", file);
  probe_run by_file = PROBE("--readonly", file, "readonly-path", file);
  probe_run hidden = PROBE("readonly-path", file);
  remove_dir(dir);
  assert_passed(&by_dir);
  assert_contains(by_dir.text, token);
  assert_passed(&by_file);
  assert_contains(by_file.text, token);
  /* Without the bind, the host's /tmp does not show. */
  assert_int_equal(WEXITSTATUS(hidden.status), 1);
  assert_contains(hidden.text, "No such file or directory");
}

static void test_threads(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  probe_run run = PROBE("threads");
  assert_passed(&run);
}

static void test_dlopen(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  /* A real library that the probe does not link: libm, by its full path. */
  void *libm = dlopen("libm.so.6", RTLD_LAZY);
  assert_non_null(libm);
  struct link_map *map = NULL;
  assert_int_equal(dlinfo(libm, RTLD_DI_LINKMAP, &map), 0);
  char path[4096];
  snprintf(path, sizeof path, "%s", map->l_name);
  dlclose(libm);
  probe_run run = PROBE("dlopen", path);
  assert_passed(&run);
  assert_contains(run.text, "cos(0) = 1");
}

static void test_crash_is_mirrored(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  probe_run run = PROBE("crash");
  if (!WIFSIGNALED(run.status)) fail_msg("probe status %#x, expected SIGSEGV; output: %s", run.status, run.text);
  assert_int_equal(WTERMSIG(run.status), SIGSEGV);
  assert_false(WCOREDUMP(run.status));
}

/* The sandboxed process is not a namespace's init: a signal it sends itself
 * ends it, and the host sees that very signal. */
static void test_self_signals_are_mirrored(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  static const struct {
    const char *check;
    int sig;
  } cases[] = {{"abort", SIGABRT}, {"raise", SIGTERM}, {"kill-self", SIGUSR1}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    probe_run run = PROBE(cases[i].check);
    if (!WIFSIGNALED(run.status) || WTERMSIG(run.status) != cases[i].sig)
      fail_msg("%s: probe status %#x, expected signal %d (%s); output: %s", cases[i].check, run.status,
               cases[i].sig, strsignal(cases[i].sig), run.text);
    assert_false(WCOREDUMP(run.status));
  }
}

/* The namespace's init reaps an orphan: no zombie is left. */
static void test_orphan_is_reaped(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  probe_run run = PROBE("orphan");
  assert_passed(&run);
  assert_contains(run.text, "no zombie in /proc");
}

static void test_exit_status_is_mirrored(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  probe_run run = PROBE("exit42");
  assert_true(WIFEXITED(run.status));
  assert_int_equal(WEXITSTATUS(run.status), 42);
  run = PROBE("exec");
  assert_true(WIFEXITED(run.status));
  assert_int_equal(WEXITSTATUS(run.status), 7); /* /bin/sh -c 'exit 7' ran inside */
}

/* A host that ignores SIGCHLD passes that on through exec; the waiting
 * processes must still see how their children ended. */
static void test_ignored_sigchld(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    signal(SIGCHLD, SIG_IGN); /* exec keeps an ignored signal ignored */
    execle(probe, probe, "exit42", (char *)NULL, probe_environment());
    _exit(127);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 42);
}

static void test_killing_the_top_kills_all(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  int marker[2];
  assert_int_equal(pipe2(marker, O_CLOEXEC), 0);
  const char *argv[] = {probe, "pdeathsig", NULL};
  probe_run run = start(argv, marker[1]);
  close(marker[1]);
  char line[16] = "";
  size_t used = 0;
  while (used < sizeof line - 1 && !strchr(line, '\n') && read(run.out, line + used, 1) == 1) used++;
  assert_string_equal(line, "ready\n");
  assert_int_equal(kill(run.pid, SIGKILL), 0);
  finish(&run);
  assert_true(WIFSIGNALED(run.status));
  /* The sandboxed process and its child held the marker. */
  assert_sandbox_gone(marker[0]);
}

static void test_input_and_output(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  char in[64], out[64], path[128], text[128] = "";
  scratch_dir(in, sizeof in);
  scratch_dir(out, sizeof out);
  snprintf(path, sizeof path, "%s/in.txt", in);
  make_file(path, "input text\n");
  /* Writable by the sandbox's uid: 65534 when we are root. */
  assert_int_equal(chmod(out, 0777), 0);
  probe_run run = PROBE("--input", in, "--output", out, "files");
  snprintf(path, sizeof path, "%s/out.txt", out);
  FILE *file = fopen(path, "r");
  if (file) {
    if (!fgets(text, sizeof text, file)) text[0] = 0;
    fclose(file);
  }
  /* Writable by nobody but a capability, which the sandbox does not have. */
  assert_int_equal(chmod(out, 0555), 0);
  probe_run refused = PROBE("--output", out, "getpid");
  assert_int_equal(chmod(out, 0755), 0);
  remove_dir(in);
  remove_dir(out);
  assert_passed(&run);
  assert_string_equal(text, "seen: input text\n");
  assert_int_equal(WEXITSTATUS(refused.status), 3);
  assert_contains(refused.text, "enter failed (state intact): output_dir");
  assert_contains(refused.text, "is not writable by the sandbox");
}

static void test_memory_limit(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
#ifdef UNDER_ASAN
  print_message("skipped: RLIMIT_DATA also counts AddressSanitizer's shadow mappings\n");
  skip();
#endif
  probe_run run = PROBE("--memory-limit", "268435456", "memory");
  assert_passed(&run);
}

/* Failures come back to the caller with a reason, the process as it was. */
static void test_enter_failures(void **state) {
  (void)state;
  REQUIRE_SANDBOX();
  probe_run relative = PROBE("--readonly", "plugins/dir", "getpid");
  assert_int_equal(WEXITSTATUS(relative.status), 3);
  assert_contains(relative.text, "enter failed (state intact): readonly path \"plugins/dir\" is not an absolute path");
  /* This one fails inside the new namespaces, in the sandbox's init (pid 1). */
  probe_run missing = PROBE("--readonly", "/nonexistent/bridgert", "getpid");
  assert_int_equal(WEXITSTATUS(missing.status), 3);
  assert_contains(missing.text,
                  "enter failed (state intact): readonly path /nonexistent/bridgert: No such file or directory");
}

static void check_user_namespaces(void) {
  FILE *file = fopen("/proc/sys/user/max_user_namespaces", "r");
  long max = -1;
  if (file) {
    if (fscanf(file, "%ld", &max) != 1) max = -1;
    fclose(file);
  }
  if (max == 0) {
    unavailable = "user namespaces are disabled: /proc/sys/user/max_user_namespaces is 0";
    return;
  }
  pid_t pid = fork();
  if (pid == 0)
    _exit(unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET) == 0 ? 0 : errno);
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) {
    unavailable = "the trial of user namespaces could not run (fork or waitpid failed)";
  } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    snprintf(unavailable_buf, sizeof unavailable_buf,
             "unshare(CLONE_NEWUSER|CLONE_NEWNS|CLONE_NEWPID|CLONE_NEWNET) fails here: %s",
             WIFEXITED(status) ? strerror(WEXITSTATUS(status)) : "the trial process crashed");
    unavailable = unavailable_buf;
  }
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH-TO-sandbox_probe\n", argv[0]);
    return 2;
  }
  probe = argv[1];
  check_user_namespaces();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_getpid),          cmocka_unit_test(test_uid_and_hostname),
      cmocka_unit_test(test_net),             cmocka_unit_test(test_write_root),
      cmocka_unit_test(test_write_tmp),       cmocka_unit_test(test_refused_calls),
      cmocka_unit_test(test_forkbomb),        cmocka_unit_test(test_readonly_path),
      cmocka_unit_test(test_threads),         cmocka_unit_test(test_dlopen),
      cmocka_unit_test(test_crash_is_mirrored), cmocka_unit_test(test_self_signals_are_mirrored),
      cmocka_unit_test(test_orphan_is_reaped), cmocka_unit_test(test_exit_status_is_mirrored),
      cmocka_unit_test(test_ignored_sigchld), cmocka_unit_test(test_killing_the_top_kills_all),
      cmocka_unit_test(test_input_and_output), cmocka_unit_test(test_memory_limit),
      cmocka_unit_test(test_enter_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
