/* bench/run isolate — what isolation costs a call (docs/isolation.md).
 *
 * Subjects: "in_process" (the plugin loaded with BRT_ISOLATION_NONE),
 * "process" (BRT_ISOLATION_PROCESS, one worker), "sandbox"
 * (BRT_ISOLATION_SANDBOX, one worker) and "exec" (an external program run
 * once per call), each in a runtime of its own, measured in the same run as
 * their floors:
 *   pipe_roundtrip  64 bytes there and back over a SOCK_SEQPACKET socket
 *                   pair to a forked child that echoes them (the least any
 *                   call to a worker can cost on this host)
 *   spawn_true      posix_spawn of /bin/true and waitpid (the least a
 *                   process start costs)
 *   direct_files    the files protocol by hand: a directory, input.json,
 *                   posix_spawn of the example program, result.json, cleanup
 *
 * Benches:
 *   isolate.pipe_roundtrip  the floors alone: 1 and 64 bytes; 64 bytes
 *                           with the protocol's system calls (sendmsg;
 *                           poll, recv MSG_PEEK, recvmsg) on both sides
 *                           ("protocol_64b"); and the same messages
 *                           received by one blocking recvmsg into a buffer
 *                           of the largest inline message ("blocking_64b")
 *   isolate.value_matmul2   brt_call of the example plugin's 2x2
 *                           matrix_multiplication
 *   isolate.native_dot      a prepared dot, f64(ptr,ptr,u64), on two 1 KiB
 *                           SHARED vectors
 *   isolate.tensor_100m     a value call summing a 100 MiB f64 tensor in a
 *                           SHARED block (bench/isolate/isolate_plugin.cpp);
 *                           peer "fresh_mapping": the same sum in this
 *                           process over a new mapping of the block's memfd,
 *                           which is what the worker reads
 *   isolate.restart         from the start of a call that segfaults (the
 *                           example plugin's crash) to the end of the next
 *                           successful call
 *   isolate.exec_files      one call of the example program
 *                           (matrix_multiplication@2.0.0, files protocol)
 *
 * Besides ns_per_op (the median), each subject's line has cpu_ns_per_op and
 * wait_ns_per_op (CPU time, and time spent runnable but waiting for a CPU,
 * of this process and its descendants; see "Where the time goes" below),
 * children_minflt_per_op where processes are started per operation, and
 * for isolate.restart the medians of its two parts (crash_call_ns,
 * next_call_ns). After the subjects, a "ratio" line and a "difference_ns"
 * line compare each isolated subject with in_process and with its floor.
 *
 * A subject that cannot be measured here (the sandbox is UNSUPPORTED, the
 * example program is missing) gets a line with an "error" field instead of
 * a figure, and the suite goes on. `bench-isolate NAME` runs one bench. */
#include "bench.h"

#include <bridgert.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* --- Output ------------------------------------------------------------------------ */

static void print_json_string(const char *text) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
    if (*p == '"' || *p == '\\')
      printf("\\%c", *p);
    else if (*p < 0x20)
      printf("\\u%04x", *p);
    else
      putchar(*p);
  }
  putchar('"');
}

/* {"bench":B,"subject":S,"error":MESSAGE,"code":CODE}: the subject could not
 * be measured. */
static void report_error(const char *bench, const char *subject, const char *code,
                         const char *message) {
  printf("{\"bench\":\"%s\",\"subject\":\"%s\",\"error\":", bench, subject);
  print_json_string(message);
  if (code) printf(",\"code\":\"%s\"", code);
  printf("}\n");
  fflush(stdout);
}

static void report_last_error(const char *bench, const char *subject, const char *what) {
  const brt_error *error = brt_last_error();
  char message[8192];
  snprintf(message, sizeof message, "%s: %s", what, error ? brt_error_message(error) : "unknown");
  report_error(bench, subject, error ? brt_status_name(brt_error_code(error)) : NULL, message);
}

static const bench_result *result_of(const bench_state *state, const char *subject) {
  for (int i = 0; i < state->count; i++)
    if (strcmp(state->results[i].subject, subject) == 0) return &state->results[i];
  return NULL;
}

/* One line with the ratio of each pair {a, b} measured (a/b), and one with
 * the difference a - b in ns (for the pairs whose b is not in_process). */
static void report_ratios(const bench_state *state, const char *const (*pairs)[2], int count) {
  printf("{\"bench\":\"%s\",\"ratio\":{", state->bench);
  int first = 1;
  for (int i = 0; i < count; i++) {
    const bench_result *a = result_of(state, pairs[i][0]), *b = result_of(state, pairs[i][1]);
    if (!a || !b || b->value <= 0) continue;
    printf("%s\"%s/%s\":%.3f", first ? "" : ",", a->subject, b->subject, a->value / b->value);
    first = 0;
  }
  printf("}}\n");
  printf("{\"bench\":\"%s\",\"difference_ns\":{", state->bench);
  first = 1;
  for (int i = 0; i < count; i++) {
    const bench_result *a = result_of(state, pairs[i][0]), *b = result_of(state, pairs[i][1]);
    if (!a || !b || strcmp(b->subject, "in_process") == 0) continue;
    printf("%s\"%s-%s\":%.1f", first ? "" : ",", a->subject, b->subject, a->value - b->value);
    first = 0;
  }
  printf("}}\n");
  fflush(stdout);
}

/* --- Where the time goes ------------------------------------------------------------ *
 *
 * On a shared host a round trip between processes is mostly waiting: for
 * the other process to be scheduled, behind whatever else runs. Each
 * subject's line therefore also says, per operation, how much CPU time was
 * spent and how long runnable threads waited for a CPU, over this process
 * and its descendants (the workers, the echo peers): from
 * /proc/PID/task/TID/schedstat (run time, run-queue wait, in ns) for the
 * processes alive before and after the repetitions, plus getrusage
 * (RUSAGE_CHILDREN) for the CPU time and minor faults of the processes
 * started and reaped during them (a crashed worker, an external program),
 * whose run-queue wait is lost with them. */

#define SNAPSHOT_MAX 256    /* processes in this process's tree */
#define PROC_SCAN_MAX 32768 /* processes on the host */

typedef struct sched_entry {
  pid_t pid;
  uint64_t cpu_ns, wait_ns;
} sched_entry;

typedef struct usage_snapshot {
  sched_entry entries[SNAPSHOT_MAX];
  int count;
  uint64_t children_cpu_ns;
  long children_minflt;
} usage_snapshot;

/* The sum of a process's threads' run time and run-queue wait. */
static bool read_schedstat(pid_t pid, uint64_t *cpu_ns, uint64_t *wait_ns) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
  DIR *tasks = opendir(path);
  if (!tasks) return false;
  *cpu_ns = *wait_ns = 0;
  for (struct dirent *task; (task = readdir(tasks));) {
    if (task->d_name[0] < '0' || task->d_name[0] > '9') continue;
    char file[320];
    snprintf(file, sizeof file, "/proc/%d/task/%s/schedstat", (int)pid, task->d_name);
    FILE *in = fopen(file, "re");
    unsigned long long cpu = 0, wait = 0;
    if (in && fscanf(in, "%llu %llu", &cpu, &wait) == 2) {
      *cpu_ns += cpu;
      *wait_ns += wait;
    }
    if (in) fclose(in);
  }
  closedir(tasks);
  return true;
}

static pid_t parent_of(pid_t pid) {
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *in = fopen(path, "re");
  pid_t parent = 0;
  while (in && fgets(line, sizeof line, in))
    if (strncmp(line, "PPid:", 5) == 0) parent = (pid_t)atoi(line + 5);
  if (in) fclose(in);
  return parent;
}

static void snapshot_take(usage_snapshot *snap) {
  snap->count = 0;
  static pid_t pids[PROC_SCAN_MAX], parents[PROC_SCAN_MAX];
  int all = 0;
  DIR *proc = opendir("/proc");
  for (struct dirent *item; proc && (item = readdir(proc)) && all < PROC_SCAN_MAX;) {
    if (item->d_name[0] < '0' || item->d_name[0] > '9') continue;
    pids[all] = (pid_t)atoi(item->d_name);
    parents[all] = parent_of(pids[all]);
    all++;
  }
  if (proc) closedir(proc);
  /* This process, then its descendants, breadth first. */
  pid_t tree[SNAPSHOT_MAX];
  int size = 0;
  tree[size++] = getpid();
  for (int at = 0; at < size; at++)
    for (int i = 0; i < all && size < SNAPSHOT_MAX; i++)
      if (parents[i] == tree[at]) tree[size++] = pids[i];
  for (int i = 0; i < size; i++) {
    sched_entry *e = &snap->entries[snap->count];
    e->pid = tree[i];
    if (read_schedstat(tree[i], &e->cpu_ns, &e->wait_ns)) snap->count++;
  }
  struct rusage usage;
  getrusage(RUSAGE_CHILDREN, &usage);
  snap->children_cpu_ns = (uint64_t)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000000000u +
                          (uint64_t)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1000u;
  snap->children_minflt = usage.ru_minflt;
}

/* Appends ,"cpu_ns_per_op":..,"wait_ns_per_op":..[,"children_minflt_per_op":..]
 * for the interval between two snapshots. */
static void snapshot_describe(const usage_snapshot *before, const usage_snapshot *after, double ops,
                              bool faults, char *out, size_t size) {
  uint64_t cpu = after->children_cpu_ns - before->children_cpu_ns, wait = 0;
  for (int i = 0; i < after->count; i++)
    for (int j = 0; j < before->count; j++)
      if (after->entries[i].pid == before->entries[j].pid) {
        cpu += after->entries[i].cpu_ns - before->entries[j].cpu_ns;
        wait += after->entries[i].wait_ns - before->entries[j].wait_ns;
      }
  size_t len = strlen(out);
  snprintf(out + len, size - len, "%s\"cpu_ns_per_op\":%.0f,\"wait_ns_per_op\":%.0f",
           len ? "," : "", (double)cpu / ops, (double)wait / ops);
  len = strlen(out);
  if (faults)
    snprintf(out + len, size - len, ",\"children_minflt_per_op\":%.0f",
             (double)(after->children_minflt - before->children_minflt) / ops);
}

/* bench_run_subject, with the CPU time, the run-queue wait and (`faults`)
 * the minor faults of reaped children per operation in the line. */
static void run_subject(bench_state *state, const char *subject,
                        double (*fn)(void *arg, uint64_t ops), void *arg, uint64_t ops,
                        const char *extra, bool faults) {
  double samples[BENCH_MAX_REPS];
  int reps = bench_reps();
  fn(arg, ops / 10 ? ops / 10 : 1); /* warm-up */
  static usage_snapshot before, after;
  snapshot_take(&before);
  for (int i = 0; i < reps; i++) samples[i] = fn(arg, ops) / (double)ops;
  snapshot_take(&after);
  char line[1024];
  snprintf(line, sizeof line, "%s", extra ? extra : "");
  snapshot_describe(&before, &after, (double)ops * reps, faults, line, sizeof line);
  bench_report(state, subject, samples, reps, line);
}

/* --- Echo peers: forked before any bridgert call, while single-threaded ----------- */

/* How a peer sends and receives. */
typedef enum echo_style {
  ECHO_PLAIN,    /* send; recv */
  ECHO_PROTOCOL, /* the system calls of isolation/protocol.c, below */
  ECHO_BLOCKING  /* the same messages, received by one blocking recvmsg */
} echo_style;

typedef struct echo_peer {
  pid_t pid;
  int sock; /* our end */
} echo_peer;

static echo_peer echo_peers[3] = {{0, -1}, {0, -1}, {0, -1}};

/* The system calls of one bridgert message (isolation/protocol.c): a
 * 32-byte header and the body in one sendmsg; on receipt, poll, a peek at
 * the datagram's size, a buffer of that size, recvmsg. */
typedef struct wire_header {
  uint32_t magic;
  uint16_t version, kind;
  uint64_t id, body_len;
  uint32_t flags, reserved;
} wire_header;

static int protocol_send(int sock, const void *body, size_t len) {
  wire_header header = {.magic = 0x42525431, .version = 1, .kind = 1, .body_len = len};
  struct iovec iov[2] = {{.iov_base = &header, .iov_len = sizeof header},
                         {.iov_base = (void *)body, .iov_len = len}};
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
  return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

/* Returns the body's length (copied into out, at most out_size), or -1.
 * ECHO_BLOCKING: no poll and no peek; one recvmsg into a buffer as large as
 * the largest message sent inline (48 KiB and the header). */
static ssize_t protocol_receive(int sock, void *out, size_t out_size, echo_style style) {
  static char largest[48 * 1024];
  wire_header header;
  size_t body_len = sizeof largest;
  void *body = largest;
  if (style == ECHO_PROTOCOL) {
    struct pollfd pfd = {.fd = sock, .events = POLLIN};
    if (poll(&pfd, 1, -1) < 0) return -1;
    ssize_t size = recv(sock, &header, sizeof header, MSG_PEEK | MSG_TRUNC);
    if (size < (ssize_t)sizeof header) return -1;
    body_len = (size_t)size - sizeof header;
    body = malloc(body_len ? body_len : 1);
  }
  char control[CMSG_SPACE(sizeof(int) * 65)];
  struct iovec iov[2] = {{.iov_base = &header, .iov_len = sizeof header},
                         {.iov_base = body, .iov_len = body_len}};
  struct msghdr msg = {
      .msg_iov = iov, .msg_iovlen = 2, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  if (got >= (ssize_t)sizeof header) body_len = (size_t)got - sizeof header;
  if (got > 0) memcpy(out, body, body_len < out_size ? body_len : out_size);
  if (style == ECHO_PROTOCOL) free(body);
  return got >= (ssize_t)sizeof header ? (ssize_t)body_len : -1;
}

static _Noreturn void echo_main(int sock, echo_style style) {
  char buf[4096];
  for (;;) {
    ssize_t n = style == ECHO_PLAIN ? recv(sock, buf, sizeof buf, 0)
                                    : protocol_receive(sock, buf, sizeof buf, style);
    if (n <= 0) _exit(0);
    if (style == ECHO_PLAIN ? send(sock, buf, (size_t)n, 0) != n
                            : protocol_send(sock, buf, (size_t)n) != 0)
      _exit(0);
  }
}

/* Forks the echo peer of `style`. The child closes the ends of the peers
 * forked before it, so that each child sees its own end close. */
static bool echo_start(echo_style style) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) return false;
  pid_t pid = fork();
  if (pid < 0) {
    close(pair[0]);
    close(pair[1]);
    return false;
  }
  if (pid == 0) {
    close(pair[0]);
    for (int i = 0; i < 3; i++)
      if (echo_peers[i].sock >= 0) close(echo_peers[i].sock);
    echo_main(pair[1], style);
  }
  close(pair[1]);
  echo_peers[style] = (echo_peer){pid, pair[0]};
  return true;
}

static void echo_stop(echo_peer *peer) {
  if (peer->sock < 0) return;
  close(peer->sock); /* the child exits at end-of-file */
  peer->sock = -1;
  while (waitpid(peer->pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

typedef struct roundtrip_job {
  echo_style style;
  size_t bytes; /* the body's, for the protocol styles */
} roundtrip_job;

static double run_roundtrip(void *arg, uint64_t ops) {
  const roundtrip_job *job = arg;
  int sock = echo_peers[job->style].sock;
  char buf[64] = {1};
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    if (job->style != ECHO_PLAIN) {
      if (protocol_send(sock, buf, job->bytes) != 0 ||
          protocol_receive(sock, buf, sizeof buf, job->style) != (ssize_t)job->bytes)
        abort();
    } else if (send(sock, buf, job->bytes, 0) != (ssize_t)job->bytes ||
               recv(sock, buf, sizeof buf, 0) != (ssize_t)job->bytes) {
      abort();
    }
  }
  return (double)(bench_now_ns() - t0);
}

#define ROUNDTRIP_OPS 2000

/* The floor measured beside each bench: 64 bytes there and back. */
static void run_pipe_peer(bench_state *state) {
  roundtrip_job job = {ECHO_PLAIN, 64};
  run_subject(state, "pipe_roundtrip", run_roundtrip, &job, ROUNDTRIP_OPS,
              "\"bytes\":64,\"socket\":\"SOCK_SEQPACKET\"", false);
}

/* --- Process starts ------------------------------------------------------------------ */

static pid_t spawn_or_die(const char *path, char *const argv[], char *const envp[]) {
  pid_t pid;
  int err = posix_spawn(&pid, path, NULL, NULL, argv, envp);
  if (err) {
    fprintf(stderr, "bench-isolate: posix_spawn %s: %s\n", path, strerror(err));
    exit(1);
  }
  return pid;
}

static int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

static double run_spawn_true(void *arg, uint64_t ops) {
  (void)arg;
  char *argv[] = {"true", NULL};
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) wait_for(spawn_or_die("/bin/true", argv, environ));
  return (double)(bench_now_ns() - t0);
}

static void run_spawn_peer(bench_state *state, uint64_t ops) {
  if (access("/bin/true", X_OK) == 0)
    run_subject(state, "spawn_true", run_spawn_true, NULL, ops,
                "\"what\":\"posix_spawn /bin/true + waitpid\"", true);
}

/* --- Runtimes ------------------------------------------------------------------------ */

typedef struct mode {
  const char *subject;
  brt_isolation isolation;
} mode;

static const mode modes[] = {{"in_process", BRT_ISOLATION_NONE},
                             {"process", BRT_ISOLATION_PROCESS},
                             {"sandbox", BRT_ISOLATION_SANDBOX}};

/* A runtime with `path` loaded in `m`'s isolation (one worker), or NULL
 * after an error line. The circuit breaker is off (threshold 1.0): the
 * restart bench fails a call on purpose every cycle. */
static brt_runtime *open_with(const char *bench, const mode *m, const char *path) {
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.error_rate_threshold = 1.0;
  brt_runtime *rt = brt_runtime_open(&cfg);
  if (!rt) {
    report_last_error(bench, m->subject, "brt_runtime_open");
    return NULL;
  }
  brt_plugin_options options = {
      .struct_size = sizeof options, .isolation = m->isolation, .workers = 1};
  if (brt_plugin_load_ex(rt, path, &options) != BRT_OK) {
    char what[4200];
    snprintf(what, sizeof what, "loading %s", path);
    report_last_error(bench, m->subject, what);
    brt_runtime_close(rt);
    return NULL;
  }
  return rt;
}

/* --- isolate.pipe_roundtrip ------------------------------------------------------------ */

static void bench_pipe_roundtrip(void) {
  bench_state state;
  bench_begin(&state, "isolate.pipe_roundtrip", NULL);
  roundtrip_job one = {ECHO_PLAIN, 1}, sixty_four = {ECHO_PLAIN, 64};
  roundtrip_job protocol = {ECHO_PROTOCOL, 32}, blocking = {ECHO_BLOCKING, 32};
  run_subject(&state, "seqpacket_1b", run_roundtrip, &one, ROUNDTRIP_OPS, "\"bytes\":1", false);
  run_subject(&state, "seqpacket_64b", run_roundtrip, &sixty_four, ROUNDTRIP_OPS, "\"bytes\":64",
              false);
  run_subject(&state, "protocol_64b", run_roundtrip, &protocol, ROUNDTRIP_OPS,
              "\"bytes\":64,\"calls\":\"sendmsg; poll, recv MSG_PEEK, recvmsg; both sides\"",
              false);
  run_subject(&state, "blocking_64b", run_roundtrip, &blocking, ROUNDTRIP_OPS,
              "\"bytes\":64,\"calls\":\"sendmsg; recvmsg into 48 KiB; both sides\"", false);
  static const char *const pairs[][2] = {{"seqpacket_64b", "seqpacket_1b"},
                                         {"protocol_64b", "seqpacket_64b"},
                                         {"blocking_64b", "seqpacket_64b"},
                                         {"protocol_64b", "blocking_64b"}};
  report_ratios(&state, pairs, 4);
}

/* --- isolate.value_matmul2 ------------------------------------------------------------- */

static const char matmul_json[] = "{\"matrix_a\": [[1,2],[3,4]], \"matrix_b\": [[5,6],[7,8]]}";

typedef struct call_job {
  brt_runtime *rt;
  const char *name;
  brt_value *params;
} call_job;

static double run_value_call(void *arg, uint64_t ops) {
  call_job *job = arg;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    brt_value *result = NULL;
    if (brt_call(job->rt, job->name, job->params, &result) != BRT_OK) {
      fprintf(stderr, "bench-isolate: %s: %s\n", job->name, brt_error_message(brt_last_error()));
      abort();
    }
    brt_value_release(result);
  }
  return (double)(bench_now_ns() - t0);
}

/* Checks one call's result against the JSON expected. */
static bool call_gives(brt_runtime *rt, const char *name, brt_value *params, const char *expected) {
  brt_value *result = NULL;
  if (brt_call(rt, name, params, &result) != BRT_OK) return false;
  char *text = brt_value_to_json(result, 0);
  bool same = text && strcmp(text, expected) == 0;
  brt_release(text);
  brt_value_release(result);
  return same;
}

static void bench_value_matmul2(void) {
  const char *bench = "isolate.value_matmul2";
  bench_state state;
  bench_begin(&state, bench, NULL);
  brt_value *params = brt_value_from_json(matmul_json, sizeof matmul_json - 1, 0);
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    brt_runtime *rt = open_with(bench, &modes[i], MATRIX_PLUGIN_PATH);
    if (!rt) continue;
    call_job job = {rt, "matrix_multiplication", params};
    if (!call_gives(rt, job.name, params, "[[19,22],[43,50]]")) {
      report_last_error(bench, modes[i].subject, "the first call");
    } else {
      run_subject(&state, modes[i].subject, run_value_call, &job,
                  modes[i].isolation == BRT_ISOLATION_NONE ? 50000 : 2000, NULL, false);
    }
    brt_runtime_close(rt);
  }
  brt_value_release(params);
  run_pipe_peer(&state);
  static const char *const pairs[][2] = {{"process", "in_process"},
                                         {"sandbox", "in_process"},
                                         {"sandbox", "process"},
                                         {"process", "pipe_roundtrip"},
                                         {"sandbox", "pipe_roundtrip"}};
  report_ratios(&state, pairs, 5);
}

/* --- isolate.native_dot ----------------------------------------------------------------- */

#define DOT_N (1024 / sizeof(double))

typedef struct dot_job {
  brt_prepared *prepared;
  double *a, *b;
} dot_job;

static double run_dot(void *arg, uint64_t ops) {
  dot_job *job = arg;
  void *a = job->a, *b = job->b;
  uint64_t n = DOT_N;
  void *args[] = {&a, &b, &n};
  double out = 0, total = 0;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    if (brt_invoke(job->prepared, &out, args) != BRT_OK) {
      fprintf(stderr, "bench-isolate: dot: %s\n", brt_error_message(brt_last_error()));
      abort();
    }
    total += out;
  }
  uint64_t t1 = bench_now_ns();
  BENCH_USE(total);
  return (double)(t1 - t0);
}

static void bench_native_dot(void) {
  const char *bench = "isolate.native_dot";
  bench_state state;
  bench_begin(&state, bench, NULL);
  double *a = brt_alloc_shared(DOT_N * sizeof(double)),
         *b = brt_alloc_shared(DOT_N * sizeof(double));
  if (!a || !b) {
    report_last_error(bench, "all", "brt_alloc_shared");
    return;
  }
  double expected = 0;
  for (size_t i = 0; i < DOT_N; i++) {
    a[i] = (double)i;
    b[i] = 2.0;
    expected += a[i] * b[i];
  }
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    brt_runtime *rt = open_with(bench, &modes[i], MATRIX_PLUGIN_PATH);
    if (!rt) continue;
    brt_prepared *prepared = brt_prepare(rt, "dot");
    dot_job job = {prepared, a, b};
    double out = 0;
    void *pa = a, *pb = b;
    uint64_t n = DOT_N;
    void *args[] = {&pa, &pb, &n};
    if (!prepared || brt_invoke(prepared, &out, args) != BRT_OK || out != expected) {
      report_last_error(bench, modes[i].subject, "the first call of dot");
    } else {
      run_subject(&state, modes[i].subject, run_dot, &job,
                  modes[i].isolation == BRT_ISOLATION_NONE ? 500000 : 2000,
                  "\"vector_bytes\":1024,\"ptr_arguments\":\"copied both ways (arena blocks)\"",
                  false);
    }
    brt_prepared_free(prepared);
    brt_runtime_close(rt);
  }
  brt_release(a);
  brt_release(b);
  run_pipe_peer(&state);
  static const char *const pairs[][2] = {
      {"process", "pipe_roundtrip"}, {"sandbox", "pipe_roundtrip"}, {"sandbox", "process"}};
  report_ratios(&state, pairs, 3);
}

/* --- isolate.tensor_100m ---------------------------------------------------------------- */

#define TENSOR_BYTES ((size_t)100 << 20)
#define TENSOR_N (TENSOR_BYTES / sizeof(double))

/* The worker's view: a new MAP_SHARED mapping of the block's memfd, read
 * once, unmapped (here, in this process). */
static double run_fresh_mapping(void *arg, uint64_t ops) {
  const double *block = arg;
  int fd = -1;
  uint64_t offset = 0;
  if (brt_shared_fd(block, &fd, &offset) != BRT_OK) abort();
  double total = 0;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t start = offset & ~(uint64_t)4095;
    size_t size = TENSOR_BYTES + (size_t)(offset - start);
    char *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (off_t)start);
    if (map == MAP_FAILED) abort();
    const double *data = (const double *)(map + (offset - start));
    double sum = 0;
    for (size_t k = 0; k < TENSOR_N; k++) sum += data[k];
    total += sum;
    munmap(map, size);
  }
  uint64_t t1 = bench_now_ns();
  BENCH_USE(total);
  return (double)(t1 - t0);
}

static void bench_tensor_100m(void) {
  const char *bench = "isolate.tensor_100m";
  bench_state state;
  bench_begin(&state, bench, NULL);
  double *block = brt_alloc_shared(TENSOR_BYTES);
  if (!block) {
    report_last_error(bench, "all", "brt_alloc_shared(100 MiB)");
    return;
  }
  for (size_t i = 0; i < TENSOR_N; i++) block[i] = 0.5;
  size_t shape[1] = {TENSOR_N};
  brt_value *tensor = brt_tensor_wrap(block, BRT_DTYPE_F64, 1, shape, NULL);
  brt_value *params = brt_value_object(1);
  if (!tensor || !params || brt_value_object_set(params, "t", 1, tensor) != BRT_OK) {
    report_last_error(bench, "all", "the tensor");
    return;
  }
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    brt_runtime *rt = open_with(bench, &modes[i], ISOLATE_PLUGIN_PATH);
    if (!rt) continue;
    call_job job = {rt, "sum", params};
    brt_value *result = NULL;
    double total = 0;
    if (brt_call(rt, "sum", params, &result) != BRT_OK ||
        brt_value_get_float(result, &total) != BRT_OK || total != 0.5 * (double)TENSOR_N)
      report_last_error(bench, modes[i].subject, "the first call of sum");
    else
      run_subject(&state, modes[i].subject, run_value_call, &job, 1, "\"tensor_bytes\":104857600",
                  false);
    brt_value_release(result);
    brt_runtime_close(rt);
  }
  run_subject(&state, "fresh_mapping", run_fresh_mapping, block, 1,
              "\"what\":\"mmap of the memfd, the same sum, munmap, in this process\"", false);
  brt_value_release(params);
  brt_value_release(tensor);
  brt_release(block);
  static const char *const pairs[][2] = {{"process", "in_process"},
                                         {"sandbox", "in_process"},
                                         {"fresh_mapping", "in_process"},
                                         {"process", "fresh_mapping"}};
  report_ratios(&state, pairs, 4);
}

/* --- isolate.restart ---------------------------------------------------------------------- */

#define RESTART_MAX_CYCLES 64

typedef struct restart_job {
  brt_runtime *rt;
  brt_prepared *crash;
  brt_value *params;
  /* the parts of the last run, per cycle */
  double crash_ns[RESTART_MAX_CYCLES], next_ns[RESTART_MAX_CYCLES];
  uint64_t cycles;
} restart_job;

static double run_restart(void *arg, uint64_t ops) {
  restart_job *job = arg;
  uint64_t total = 0;
  job->cycles = 0;
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t t0 = bench_now_ns();
    if (brt_invoke(job->crash, NULL, NULL) != BRT_E_CRASHED) {
      fprintf(stderr, "bench-isolate: crash() did not crash: %s\n",
              brt_last_error() ? brt_error_message(brt_last_error()) : "it returned BRT_OK");
      abort();
    }
    uint64_t t1 = bench_now_ns();
    brt_value *result = NULL;
    if (brt_call(job->rt, "matrix_multiplication", job->params, &result) != BRT_OK) {
      fprintf(stderr, "bench-isolate: the call after the crash: %s\n",
              brt_error_message(brt_last_error()));
      abort();
    }
    uint64_t t2 = bench_now_ns();
    brt_value_release(result);
    if (job->cycles < RESTART_MAX_CYCLES) {
      job->crash_ns[job->cycles] = (double)(t1 - t0);
      job->next_ns[job->cycles] = (double)(t2 - t1);
      job->cycles++;
    }
    total += t2 - t0;
  }
  return (double)total;
}

static void bench_restart(void) {
  const char *bench = "isolate.restart";
  bench_state state;
  bench_begin(&state, bench, NULL);
  brt_value *params = brt_value_from_json(matmul_json, sizeof matmul_json - 1, 0);
  for (size_t i = 1; i < sizeof modes / sizeof modes[0]; i++) {
    brt_runtime *rt = open_with(bench, &modes[i], MATRIX_PLUGIN_PATH);
    if (!rt) continue;
    restart_job *job = calloc(1, sizeof *job);
    *job = (restart_job){.rt = rt, .crash = brt_prepare(rt, "crash"), .params = params};
    if (!job->crash || !call_gives(rt, "matrix_multiplication", params, "[[19,22],[43,50]]")) {
      report_last_error(bench, modes[i].subject, "preparing crash");
    } else {
      /* bench_run_subject, keeping every cycle's parts: the medians of the
       * crashing call and of the next call go in the line. */
      enum { CYCLES = 4 };
      double samples[BENCH_MAX_REPS], crash_parts[BENCH_MAX_REPS * CYCLES],
          next_parts[BENCH_MAX_REPS * CYCLES];
      int reps = bench_reps(), parts = 0;
      run_restart(job, 1); /* warm-up */
      static usage_snapshot before, after;
      snapshot_take(&before);
      for (int r = 0; r < reps; r++) {
        samples[r] = run_restart(job, CYCLES) / CYCLES;
        for (uint64_t c = 0; c < job->cycles; c++, parts++) {
          crash_parts[parts] = job->crash_ns[c];
          next_parts[parts] = job->next_ns[c];
        }
      }
      snapshot_take(&after);
      /* The crashed workers are reaped in the cycles: their CPU time and
       * faults are in the counts. */
      char extra[1024];
      snprintf(extra, sizeof extra,
               "\"cycles_per_rep\":%d,\"crash_call_ns\":%.0f,\"next_call_ns\":%.0f", CYCLES,
               bench_median(crash_parts, parts), bench_median(next_parts, parts));
      snapshot_describe(&before, &after, (double)(reps * CYCLES), true, extra, sizeof extra);
      bench_report(&state, modes[i].subject, samples, reps, extra);
    }
    brt_prepared_free(job->crash);
    free(job);
    brt_runtime_close(rt);
  }
  brt_value_release(params);
  run_spawn_peer(&state, 20);
  static const char *const pairs[][2] = {
      {"process", "spawn_true"}, {"sandbox", "spawn_true"}, {"sandbox", "process"}};
  report_ratios(&state, pairs, 3);
}

/* --- isolate.exec_files ------------------------------------------------------------------ */

static bool write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  size_t len = strlen(text);
  bool ok = write(fd, text, len) == (ssize_t)len;
  return close(fd) == 0 && ok;
}

/* The files protocol by hand, as a host without bridgert would run it. */
static double run_direct_files(void *arg, uint64_t ops) {
  (void)arg;
  char program[] = MATRIX_PROGRAM_DIR "/matrix_program";
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    char dir[] = "/tmp/bench-isolate-XXXXXX";
    if (!mkdtemp(dir)) abort();
    char input_dir[64], output_dir[64], input[96], result[96], env_in[96], env_out[96];
    snprintf(input_dir, sizeof input_dir, "%s/input", dir);
    snprintf(output_dir, sizeof output_dir, "%s/output", dir);
    snprintf(input, sizeof input, "%s/input.json", input_dir);
    snprintf(result, sizeof result, "%s/result.json", output_dir);
    snprintf(env_in, sizeof env_in, "BRT_INPUT_DIR=%s", input_dir);
    snprintf(env_out, sizeof env_out, "BRT_OUTPUT_DIR=%s", output_dir);
    if (mkdir(input_dir, 0700) != 0 || mkdir(output_dir, 0700) != 0 ||
        !write_file(input, matmul_json))
      abort();
    char *argv[] = {program, NULL};
    char *envp[] = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", env_in, env_out, NULL};
    int status = wait_for(spawn_or_die(program, argv, envp));
    char text[256] = "";
    int fd = open(result, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, text, sizeof text - 1) : -1;
    if (fd >= 0) close(fd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || n <= 0) abort();
    text[n] = '\0';
    brt_value *value = brt_value_from_json(text, (size_t)n, 0);
    if (!value) abort();
    brt_value_release(value);
    unlink(input);
    unlink(result);
    rmdir(input_dir);
    rmdir(output_dir);
    rmdir(dir);
  }
  return (double)(bench_now_ns() - t0);
}

static void bench_exec_files(void) {
  const char *bench = "isolate.exec_files";
  const char *manifest = MATRIX_PROGRAM_DIR "/matrix_multiplication.algorithm.json";
  bench_state state;
  bench_begin(&state, bench, NULL);
  static const mode exec_modes[] = {{"exec", BRT_ISOLATION_PROCESS},
                                    {"sandbox", BRT_ISOLATION_SANDBOX}};
  bool have_program =
      access(manifest, R_OK) == 0 && access(MATRIX_PROGRAM_DIR "/matrix_program", X_OK) == 0;
  brt_value *params = brt_value_from_json(matmul_json, sizeof matmul_json - 1, 0);
  for (size_t i = 0; i < sizeof exec_modes / sizeof exec_modes[0]; i++) {
    if (!have_program) {
      char message[600];
      snprintf(message, sizeof message,
               "the example program is missing: \"%s\" holds no matrix_program or no "
               "matrix_multiplication.algorithm.json (examples/matrix_program was not built)",
               MATRIX_PROGRAM_DIR);
      report_error(bench, exec_modes[i].subject, "BRT_E_NOT_FOUND", message);
      continue;
    }
    brt_runtime *rt = open_with(bench, &exec_modes[i], manifest);
    if (!rt) continue;
    call_job job = {rt, "matrix_multiplication@2.0.0", params};
    if (!call_gives(rt, job.name, params, "[[19,22],[43,50]]"))
      report_last_error(bench, exec_modes[i].subject, "the first call");
    else
      run_subject(&state, exec_modes[i].subject, run_value_call, &job, 5, "\"protocol\":\"files\"",
                  true);
    brt_runtime_close(rt);
  }
  brt_value_release(params);
  run_spawn_peer(&state, 20);
  if (have_program)
    run_subject(&state, "direct_files", run_direct_files, NULL, 10,
                "\"what\":\"mkdtemp, input.json, posix_spawn of the program, result.json, "
                "cleanup; no bridgert\"",
                true);
  static const char *const pairs[][2] = {{"exec", "spawn_true"},
                                         {"exec", "direct_files"},
                                         {"sandbox", "spawn_true"},
                                         {"sandbox", "exec"}};
  report_ratios(&state, pairs, 4);
}

/* --- main ------------------------------------------------------------------------------- */

int main(int argc, char **argv) {
  static const struct {
    const char *name;
    void (*run)(void);
  } benches[] = {{"isolate.pipe_roundtrip", bench_pipe_roundtrip},
                 {"isolate.value_matmul2", bench_value_matmul2},
                 {"isolate.native_dot", bench_native_dot},
                 {"isolate.tensor_100m", bench_tensor_100m},
                 {"isolate.restart", bench_restart},
                 {"isolate.exec_files", bench_exec_files}};
  const size_t count = sizeof benches / sizeof benches[0];
  const char *only = NULL;
  if (argc > 1) {
    for (size_t i = 0; i < count; i++)
      if (strcmp(argv[1], benches[i].name) == 0 ||
          strcmp(argv[1], benches[i].name + strlen("isolate.")) == 0)
        only = benches[i].name;
    if (!only) {
      fprintf(stderr, "bench-isolate: no bench '%s'; one of:", argv[1]);
      for (size_t i = 0; i < count; i++) fprintf(stderr, " %s", benches[i].name);
      fprintf(stderr, " (or none for all)\n");
      return 2;
    }
  }
  /* The echo peers are forked first, while this process has one thread. */
  if (!echo_start(ECHO_PLAIN) || !echo_start(ECHO_PROTOCOL) || !echo_start(ECHO_BLOCKING)) {
    fprintf(stderr, "bench-isolate: cannot start the echo peers: %s\n", strerror(errno));
    return 1;
  }
  for (size_t i = 0; i < count; i++)
    if (!only || strcmp(only, benches[i].name) == 0) benches[i].run();
  for (int i = 0; i < 3; i++) echo_stop(&echo_peers[i]);
  return 0;
}
