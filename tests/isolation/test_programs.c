/* External programs as algorithms (manifests), through the public ABI:
 * every outcome of a call in "process" and in "sandbox" mode, the
 * per-call directory's removal, descriptors and children after many calls,
 * concurrent calls, the isolation a load gets, and the example program
 * (the manifests' refusals are in test_manifests.c).
 *
 * The programs are tests/isolation/programs/behave (one mode per manifest
 * there) and examples/matrix_program. TMPDIR points at a directory of this
 * run, so that every test can check that no per-call directory is left. */
#include "programs_test.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SECRET "TOP-SECRET-bridgert-host-file"

static char example_dir[4096]; /* the build tree's examples/matrix_program */
static char tmp_dir[4096];     /* TMPDIR of this run */
static bool sandbox_works;
static char sandbox_why[1024];

static brt_isolation mode_process = BRT_ISOLATION_PROCESS;
static brt_isolation mode_sandbox = BRT_ISOLATION_SANDBOX;

static uint64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int count_entries(const char *dir) {
  DIR *stream = opendir(dir);
  assert_non_null(stream);
  int count = 0;
  for (struct dirent *item; (item = readdir(stream)) != NULL;)
    if (strcmp(item->d_name, ".") != 0 && strcmp(item->d_name, "..") != 0) count++;
  closedir(stream);
  return count;
}

/* The mode a test runs in; skips sandbox tests where no sandbox can be built. */
static brt_isolation test_mode(void **state) {
  brt_isolation mode = *(brt_isolation *)*state;
  if (mode == BRT_ISOLATION_SANDBOX && !sandbox_works) {
    print_message("sandbox unavailable here, skipped: %s\n", sandbox_why);
    skip();
  }
  return mode;
}

/* A runtime with programs/<name>.algorithm.json loaded in `mode`. */
static brt_runtime *open_program(const char *name, brt_isolation mode, uint32_t timeout_ms,
                                 uint64_t memory_limit) {
  char path[8192];
  snprintf(path, sizeof path, "%s/%s.algorithm.json", programs_dir, name);
  brt_runtime *rt = runtime_open();
  assert_ok(load(rt, path, mode, timeout_ms, memory_limit));
  return rt;
}

/* Calls `name` and checks the status, that the message holds `needle`
 * (for failures), and that no per-call directory is left. Returns the
 * result (or NULL): brt_release it. */
static char *call_expect(brt_runtime *rt, const char *name, const char *params, brt_status want,
                         const char *needle) {
  char *result = NULL;
  assert_status(brt_call_json(rt, name, params, &result), want);
  if (want != BRT_OK) {
    assert_null(result);
    char text[4096];
    brt_error_format(brt_last_error(), text, sizeof text);
    if (!strstr(text, needle)) fail_msg("error \"%s\" does not contain \"%s\"", text, needle);
  }
  assert_int_equal(count_entries(tmp_dir), 0);
  return result;
}

/* Runs `name` once in the mode of the test and expects a failure. */
static void expect_failure(void **state, const char *name, brt_status want, const char *needle) {
  brt_runtime *rt = open_program(name, test_mode(state), 0, 0);
  call_expect(rt, name, "{}", want, needle);
  brt_runtime_close(rt);
}

/* --- Outcomes ------------------------------------------------------------------ */

static void check_echo(const char *result, const char *protocol, const char *params) {
  char expected[512];
  snprintf(expected, sizeof expected, "{\"protocol\":\"%s\",\"params\":%s}", protocol, params);
  brt_value *want = brt_value_from_json(expected, strlen(expected), 0);
  brt_value *got = brt_value_from_json(result, strlen(result), 0);
  assert_non_null(want);
  assert_non_null(got);
  if (!brt_value_equal(want, got)) fail_msg("result %s, expected %s", result, expected);
  brt_value_release(want);
  brt_value_release(got);
}

static void test_success(void **state) {
  brt_isolation mode = test_mode(state);
  const char *params = "{\"x\":[1,2.5,\"\\u00e9\"],\"y\":{\"z\":null}}";
  brt_runtime *rt = open_program("files_ok", mode, 0, 0);
  char *result = call_expect(rt, "files_ok", params, BRT_OK, NULL);
  check_echo(result, "files", params);
  brt_release(result);
  brt_runtime_close(rt);
  rt = open_program("stdio_ok", mode, 0, 0);
  result = call_expect(rt, "stdio_ok", params, BRT_OK, NULL);
  check_echo(result, "stdio", params);
  brt_release(result);
  brt_runtime_close(rt);
}

static const char *text_of(const brt_value *object, const char *key) {
  const char *text = NULL;
  assert_ok(brt_value_get_string(brt_value_object_get(object, key, strlen(key)), &text, NULL));
  return text;
}

static int64_t int_of(const brt_value *object, const char *key) {
  int64_t number = 0;
  assert_ok(brt_value_get_int(brt_value_object_get(object, key, strlen(key)), &number));
  return number;
}

static void test_environment(void **state) {
  brt_isolation mode = test_mode(state);
  brt_runtime *rt = open_program("env", mode, 0, 0);
  char *result = call_expect(rt, "env", "{}", BRT_OK, NULL);
  brt_value *env = brt_value_from_json(result, strlen(result), 0);
  assert_non_null(env);
  assert_string_equal(text_of(env, "PATH"), "/usr/bin:/bin");
  assert_string_equal(text_of(env, "LANG"), "C.UTF-8");
  assert_int_equal(int_of(env, "variables"), 5);
  /* 0, 1, 2 and the program's own descriptor (3): nothing of the host. */
  assert_int_equal(int_of(env, "descriptors"), 4);
  const char *output = text_of(env, "BRT_OUTPUT_DIR");
  assert_string_equal(text_of(env, "HOME"), output);
  assert_string_equal(text_of(env, "cwd"), output);
  if (mode == BRT_ISOLATION_SANDBOX) {
    assert_string_equal(text_of(env, "BRT_INPUT_DIR"), "/input");
    assert_string_equal(output, "/output");
  } else {
    assert_true(strncmp(text_of(env, "BRT_INPUT_DIR"), tmp_dir, strlen(tmp_dir)) == 0);
    assert_true(strncmp(output, tmp_dir, strlen(tmp_dir)) == 0);
  }
  brt_value_release(env);
  brt_release(result);
  brt_runtime_close(rt);
}

static void test_exit_status(void **state) {
  expect_failure(state, "exit_status", BRT_E_PLUGIN, "exited with status 3");
  char text[4096];
  brt_error_format(brt_last_error(), text, sizeof text);
  assert_non_null(strstr(text, "behave: first complaint | behave: the input is wrong"));
  const brt_error *cause = brt_error_cause(brt_last_error());
  assert_non_null(cause);
  assert_int_equal(brt_error_origin(cause), BRT_ORIGIN_PLUGIN);
}

static void test_crashes(void **state) {
  expect_failure(state, "segv", BRT_E_CRASHED, "SIGSEGV");
  assert_string_equal(brt_error_type(brt_error_cause(brt_last_error())), "SIGSEGV");
  expect_failure(state, "abort", BRT_E_CRASHED, "SIGABRT");
}

static void test_bad_results(void **state) {
  expect_failure(state, "no_result", BRT_E_CONVERSION, "wrote no output/result.json");
  expect_failure(state, "malformed_files", BRT_E_CONVERSION, "output/result.json");
  expect_failure(state, "malformed_files", BRT_E_CONVERSION, "line 3");
  expect_failure(state, "malformed_stdio", BRT_E_CONVERSION, "standard output");
  expect_failure(state, "malformed_stdio", BRT_E_CONVERSION, "line 3");
}

static void test_hostile_results(void **state) {
  expect_failure(state, "symlink", BRT_E_PERMISSION, "symbolic link");
  char text[4096];
  brt_error_format(brt_last_error(), text, sizeof text);
  assert_null(strstr(text, SECRET));
  uint64_t started = now_ms();
  expect_failure(state, "fifo", BRT_E_CONVERSION, "a FIFO");
  assert_true(now_ms() - started < 5000);
  if (test_mode(state) == BRT_ISOLATION_PROCESS) {
    /* In the sandbox the link cannot be made (another file system). */
    expect_failure(state, "hardlink", BRT_E_PERMISSION, "2 links");
    brt_error_format(brt_last_error(), text, sizeof text);
    assert_null(strstr(text, SECRET));
  }
}

static void test_too_large(void **state) {
  expect_failure(state, "big_files", BRT_E_LIMIT_EXCEEDED, "output/result.json");
  expect_failure(state, "big_stdio", BRT_E_LIMIT_EXCEEDED, "standard output");
}

/* True while some process runs `behave sleep-fork` (a zombie has an empty
 * command line, so only live ones count). */
static bool sleeper_alive(void) {
  DIR *proc = opendir("/proc");
  assert_non_null(proc);
  bool found = false;
  for (struct dirent *item; !found && (item = readdir(proc)) != NULL;) {
    if (item->d_name[0] < '0' || item->d_name[0] > '9') continue;
    char path[300], line[4096];
    snprintf(path, sizeof path, "/proc/%s/cmdline", item->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ssize_t len = read(fd, line, sizeof line - 1);
    close(fd);
    if (len <= 0) continue;
    line[len] = '\0';
    size_t first = strlen(line);
    found = (size_t)len > first + 1 && strstr(line, "/behave") &&
            strcmp(line + first + 1, "sleep-fork") == 0;
  }
  closedir(proc);
  return found;
}

/* Calls sleep_fork, whose program forks a sleeper and waits: the call must
 * end TIMEOUT at a 300 ms deadline (`whose` names it in the failure), and
 * the sleeper, in the program's process group, must go too. */
static void expect_killed_at_300ms(brt_runtime *rt, const char *whose) {
  uint64_t started = now_ms();
  call_expect(rt, "sleep_fork", "{}", BRT_E_TIMEOUT, "deadline");
  uint64_t took = now_ms() - started;
  /* Promised: within 100 ms of the deadline; the slack is for a loaded
   * machine (the suite runs beside others, and under sanitizers). */
  if (took < 300 || took > 300 + 100 + 400)
    fail_msg("the call took %llu ms; %s was 300 ms", (unsigned long long)took, whose);
  uint64_t until = now_ms() + 1000;
  while (sleeper_alive() && now_ms() < until) usleep(10000);
  assert_false(sleeper_alive());
}

static void test_deadline(void **state) {
  brt_isolation mode = test_mode(state);
  brt_runtime *rt = open_program("sleep_fork", mode, 300, 0);
  expect_killed_at_300ms(rt, "its deadline");
  brt_runtime_close(rt);
}

/* A program without a timeout of its own ends at the call's deadline, the
 * runtime's default_timeout_ms here: the bridge hands that deadline down to
 * the program (isolation calls nothing of the bridge by name). */
static void test_runtime_deadline(void **state) {
  brt_isolation mode = test_mode(state);
  char path[8192];
  snprintf(path, sizeof path, "%s/sleep_fork.algorithm.json", programs_dir);
  brt_config cfg;
  assert_ok(brt_config_default(&cfg));
  cfg.error_rate_threshold = 1.0;
  cfg.default_timeout_ms = 300;
  brt_runtime *rt = brt_runtime_open(&cfg);
  brt_config_dispose(&cfg);
  assert_non_null(rt);
  assert_ok(load(rt, path, mode, 0, 0));
  expect_killed_at_300ms(rt, "the runtime's deadline");
  brt_runtime_close(rt);
}

static void test_memory_limit(void **state) {
  brt_isolation mode = test_mode(state);
  brt_runtime *rt = open_program("hog", mode, 0, 64u << 20);
  call_expect(rt, "hog", "{}", BRT_E_PLUGIN, "out of memory");
  brt_runtime_close(rt);
}

static void test_litter_removed(void **state) {
  brt_isolation mode = test_mode(state);
  brt_runtime *rt = open_program("litter", mode, 0, 0);
  char *result = call_expect(rt, "litter", "[1]", BRT_OK, NULL);
  check_echo(result, "files", "[1]");
  brt_release(result);
  struct stat st;
  assert_int_equal(stat("/etc/passwd", &st), 0);
  brt_runtime_close(rt);
}

/* --- Many calls and threads ---------------------------------------------------------- */

static void test_no_leaks(void **state) {
  brt_isolation mode = test_mode(state);
  int calls = mode == BRT_ISOLATION_SANDBOX ? 50 : 200;
  brt_runtime *rt = open_program("files_ok", mode, 0, 0);
  brt_runtime *failing = open_program("exit_status", mode, 0, 0);
  int fds = brt_test_open_fds();
  for (int i = 0; i < calls; i++) {
    char *result = call_expect(rt, "files_ok", "[1,2]", BRT_OK, NULL);
    brt_release(result);
    if (i % 10 == 0) call_expect(failing, "exit_status", "{}", BRT_E_PLUGIN, "status 3");
  }
  assert_int_equal(brt_test_open_fds(), fds);
  errno = 0;
  assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
  assert_int_equal(errno, ECHILD);
  brt_runtime_close(failing);
  brt_runtime_close(rt);
}

typedef struct caller {
  brt_runtime *rt;
  int index, calls, failures;
} caller;

static void *call_repeatedly(void *arg) {
  caller *c = arg;
  for (int i = 0; i < c->calls; i++) {
    char params[64], *result = NULL;
    snprintf(params, sizeof params, "{\"thread\":%d,\"call\":%d}", c->index, i);
    if (brt_call_json(c->rt, "files_ok", params, &result) != BRT_OK) {
      c->failures++;
      continue;
    }
    if (!strstr(result, params + 1)) c->failures++;
    brt_release(result);
  }
  return NULL;
}

static void test_threads(void **state) {
  brt_isolation mode = test_mode(state);
  brt_runtime *rt = open_program("files_ok", mode, 0, 0);
  caller callers[4];
  pthread_t threads[4];
  for (int i = 0; i < 4; i++) {
    callers[i] = (caller){.rt = rt, .index = i, .calls = mode == BRT_ISOLATION_SANDBOX ? 10 : 25};
    assert_int_equal(pthread_create(&threads[i], NULL, call_repeatedly, &callers[i]), 0);
  }
  for (int i = 0; i < 4; i++) {
    assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(callers[i].failures, 0);
  }
  assert_int_equal(count_entries(tmp_dir), 0);
  brt_runtime_close(rt);
}

/* --- Loading ------------------------------------------------------------------------- */

static void test_example(void **state) {
  brt_isolation mode = test_mode(state);
  brt_runtime *rt = runtime_open();
  char path[8192];
  snprintf(path, sizeof path, "%s/matrix_multiplication.algorithm.json", example_dir);
  if (mode == BRT_ISOLATION_PROCESS)
    assert_ok(brt_plugin_load_dir(rt, example_dir));
  else
    assert_ok(load(rt, path, mode, 0, 0));
  char *result =
      call_expect(rt, "matrix_multiplication@2.0.0",
                  "{\"matrix_a\": [[1, 2], [3, 4]], \"matrix_b\": [[5, 6], [7, 8]]}", BRT_OK, NULL);
  assert_string_equal(result, "[[19,22],[43,50]]");
  brt_release(result);
  call_expect(rt, "matrix_multiplication",
              "{\"matrix_a\": [[1, 2, 3]], \"matrix_b\": [[5, 6], [7, 8]]}", BRT_E_PLUGIN,
              "cannot multiply a 1x3 matrix by a 2x2 one");
  call_expect(rt, "matrix_multiplication", "{\"matrix_a\": [[1]]}", BRT_E_VALIDATION, "matrix_b");
  brt_runtime_close(rt);
}

/* A manifest that asks for the sandbox gets it even from a load that asks
 * for less; a load that asks for the sandbox gets it from any manifest. */
static void test_stronger_isolation_wins(void **state) {
  test_mode(state);
  char dir[4096], path[8192];
  scratch_manifest(dir, sizeof dir,
                   "{\"name\": \"t\", \"version\": \"1.0.0\", \"protocol\": \"files\", "
                   "\"command\": [\"behave\", \"env\"], \"isolation\": \"sandbox\"}",
                   path, sizeof path);
  brt_runtime *rt = runtime_open();
  assert_ok(load(rt, path, BRT_ISOLATION_PROCESS, 0, 0));
  char *result = call_expect(rt, "t", "{}", BRT_OK, NULL);
  assert_non_null(strstr(result, "\"BRT_INPUT_DIR\":\"/input\""));
  brt_release(result);
  brt_runtime_close(rt);
  remove_scratch(dir);
}

/* A file with an execute bit that is not a program: the worker's exec
 * fails, and its report (not an exit status) says why. */
static void test_not_a_program(void **state) {
  brt_isolation mode = test_mode(state);
  char dir[4096], path[8192], program[8192];
  scratch_manifest(dir, sizeof dir, MANIFEST_HEAD "\"command\": [\"text\"]}", path, sizeof path);
  snprintf(program, sizeof program, "%s/text", dir);
  FILE *out = fopen(program, "w");
  assert_non_null(out);
  fputs("neither ELF nor #!\n", out);
  assert_int_equal(fclose(out), 0);
  assert_int_equal(chmod(program, 0755), 0);
  brt_runtime *rt = runtime_open();
  assert_ok(load(rt, path, mode, 0, 0));
  call_expect(rt, "t", "{}", BRT_E_PLUGIN, "could not be started: cannot execute");
  call_expect(rt, "t", "{}", BRT_E_PLUGIN, "Exec format error");
  brt_runtime_close(rt);
  remove_scratch(dir);
}

/* Run as `test_isolation_programs --unsupported` inside `unshare -r`: a
 * user namespace that maps only this user, as root, where no sandbox can
 * be built. The call must fail UNSUPPORTED, never run with less. */
static int unsupported_probe(void) {
  char path[8192], *result = NULL;
  snprintf(path, sizeof path, "%s/files_ok.algorithm.json", programs_dir);
  brt_runtime *rt = runtime_open();
  brt_plugin_options sandbox = {.struct_size = sizeof sandbox, .isolation = BRT_ISOLATION_SANDBOX};
  brt_status status = brt_plugin_load_ex(rt, path, &sandbox);
  if (status == BRT_OK) status = brt_call_json(rt, "files_ok", "{}", &result);
  char text[4096];
  brt_error_format(brt_last_error(), text, sizeof text);
  printf("%s\n", status == BRT_OK ? result : text);
  brt_release(result);
  brt_runtime_close(rt);
  return status == BRT_E_UNSUPPORTED && strstr(text, "sandbox") && count_entries(tmp_dir) == 0 ? 0
                                                                                               : 3;
}

static void test_no_silent_fallback(void **state) {
  (void)state;
  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  assert_true(len > 0);
  self[len] = '\0';
  char command[8300];
  snprintf(command, sizeof command, "unshare -r '%s' --unsupported", self);
  int status = system(command);
  assert_true(WIFEXITED(status));
  /* unshare itself fails (status 1) where user namespaces are unavailable. */
  if (WEXITSTATUS(status) == 1) {
    print_message("unshare -r is unavailable here, skipped\n");
    skip();
  }
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(int argc, char **argv) {
  const char *root = programs_test_setup();
  if (!root) return 1;
  snprintf(example_dir, sizeof example_dir, "%s/examples/matrix_program", root);
  /* The per-call directories go here: readable by others, as a sandboxed
   * program of a root host is uid 65534 on the host. */
  snprintf(tmp_dir, sizeof tmp_dir, "%s/tests/isolation/tmp-XXXXXX", root);
  if (!mkdtemp(tmp_dir) || chmod(tmp_dir, 0755) != 0) {
    perror("test_programs: cannot create the TMPDIR of the run");
    return 1;
  }
  setenv("TMPDIR", tmp_dir, 1);
  if (argc == 2 && strcmp(argv[1], "--unsupported") == 0) {
    int failed = unsupported_probe();
    rmdir(tmp_dir);
    return failed;
  }
  char secret[8192];
  snprintf(secret, sizeof secret, "%s/secret.txt", programs_dir);
  FILE *out = fopen(secret, "w");
  if (!out || fputs(SECRET "\n", out) < 0 || fclose(out) != 0) {
    perror("test_programs: cannot write secret.txt");
    return 1;
  }
  /* Whether a sandbox can be built here: sandbox tests skip only when the
   * call says UNSUPPORTED; any other failure makes them fail. */
  char path[8192], *result = NULL;
  snprintf(path, sizeof path, "%s/files_ok.algorithm.json", programs_dir);
  brt_runtime *rt = runtime_open();
  brt_plugin_options sandbox = {.struct_size = sizeof sandbox, .isolation = BRT_ISOLATION_SANDBOX};
  sandbox_works = brt_plugin_load_ex(rt, path, &sandbox) != BRT_OK ||
                  brt_call_json(rt, "files_ok", "{}", &result) != BRT_E_UNSUPPORTED;
  if (!sandbox_works) brt_error_format(brt_last_error(), sandbox_why, sizeof sandbox_why);
  brt_release(result);
  brt_runtime_close(rt);

#define BOTH(test) \
  cmocka_unit_test_prestate(test, &mode_process), cmocka_unit_test_prestate(test, &mode_sandbox)
  const struct CMUnitTest tests[] = {
      BOTH(test_success),
      BOTH(test_environment),
      BOTH(test_exit_status),
      BOTH(test_crashes),
      BOTH(test_bad_results),
      BOTH(test_hostile_results),
      BOTH(test_too_large),
      BOTH(test_deadline),
      BOTH(test_runtime_deadline),
      BOTH(test_memory_limit),
      BOTH(test_litter_removed),
      BOTH(test_no_leaks),
      BOTH(test_threads),
      BOTH(test_example),
      cmocka_unit_test_prestate(test_stronger_isolation_wins, &mode_sandbox),
      BOTH(test_not_a_program),
      cmocka_unit_test(test_no_silent_fallback),
  };
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  rmdir(tmp_dir);
  return failed;
}
