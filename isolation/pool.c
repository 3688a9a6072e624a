/* Worker pools: the processes that run one isolated plugin's calls.
 *
 * A worker is started by posix_spawn of the worker program (never a fork()
 * of this multi-threaded host), with four descriptors: its end of a
 * SOCK_SEQPACKET pair (3), the checked plugin file (4) and the read end of
 * the process-wide lifeline pipe (5), whose write end only this process
 * holds: when this process dies, however it dies, the worker sees the pipe
 * hang up and exits (a per-thread PR_SET_PDEATHSIG would fire when the
 * thread that happened to start the worker ends). Each worker is the leader
 * of its own process group, so a kill of the group also ends whatever the
 * plugin started.
 *
 * One call runs on a worker at a time. A worker that dies, hangs past a
 * call's hard deadline or breaks the protocol is killed, reaped at once (no
 * zombie) and left DOWN; the next call that needs it starts it again, after
 * a backoff that grows while restarts keep failing. */
#include "pool_internal.h"
#include "core/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* How long a worker may take to load its plugin and say HELLO. */
#define WORKER_START_TIMEOUT_MS 10000u
/* How long a worker that closed its socket may take to finish dying. */
#define WORKER_EXIT_GRACE_MS 200u
/* Restart backoff: the delay doubles per consecutive failure, up to this. */
#define RESTART_BACKOFF_FIRST_MS 10u
#define RESTART_BACKOFF_MAX_MS 1000u

/* --- The lifeline ------------------------------------------------------------ */

static pthread_once_t lifeline_once = PTHREAD_ONCE_INIT;
static int lifeline[2] = {-1, -1};

static void lifeline_create(void) {
  if (pipe2(lifeline, O_CLOEXEC) != 0) lifeline[0] = lifeline[1] = -1;
}

/* --- Signals and exits ---------------------------------------------------------- */

static const char *signal_name(int sig) {
  const char *abbrev = sigabbrev_np(sig);
  static _Thread_local char name[16];
  if (abbrev) snprintf(name, sizeof name, "SIG%s", abbrev);
  else snprintf(name, sizeof name, "signal %d", sig);
  return name;
}

/* Describes a wait status: "was killed by SIGSEGV (Segmentation fault)". */
static void describe_status(int status, char *out, size_t size) {
  if (WIFSIGNALED(status))
    snprintf(out, size, "was killed by %s (%s)", signal_name(WTERMSIG(status)),
             strsignal(WTERMSIG(status)));
  else if (WIFEXITED(status))
    snprintf(out, size, "exited with status %d", WEXITSTATUS(status));
  else
    snprintf(out, size, "ended with wait status 0x%x", (unsigned)status);
}

/* Kills the worker's process group and reaps the worker. `grace_ms` > 0
 * first waits that long for a worker that is dying anyway, so that its own
 * death (a signal, an exit status) is what is reported. */
static int worker_reap(brt_pool *pool, worker *w, uint32_t grace_ms) {
  int status = 0;
  uint64_t until = _brt_now_ns() + (uint64_t)grace_ms * 1000000u;
  /* A pidfd becomes readable the moment the process ends: no polling of
   * waitpid, no nap past the death. */
  int pidfd = grace_ms ? pidfd_open(w->pid, 0) : -1;
  if (pidfd >= 0) {
    struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
    while (poll(&pfd, 1, (int)grace_ms) < 0 && errno == EINTR) {
    }
    close(pidfd);
  }
  for (;;) {
    pid_t done = waitpid(w->pid, &status, WNOHANG);
    if (done == w->pid) break;
    if (done < 0 && errno != EINTR) {
      status = 0;
      break;
    }
    if (_brt_now_ns() >= until) {
      kill(-w->pid, SIGKILL);
      while (waitpid(w->pid, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    struct timespec nap = {0, 2000000};
    nanosleep(&nap, NULL);
  }
  /* Whatever the plugin started in the worker's group goes too. */
  kill(-w->pid, SIGKILL);
  close(w->sock);
  /* Other threads read these under the lock (acquire, observe). */
  pthread_mutex_lock(&pool->lock);
  w->sock = -1;
  w->pid = 0;
  w->state = WORKER_DOWN;
  pthread_mutex_unlock(&pool->lock);
  return status;
}

/* Counts a worker's death (under the lock) and sets the backoff. A worker
 * that started and then died in a call is restarted at once; only deaths
 * with no successful start in between (a plugin that cannot load, a
 * worker that dies before it can serve) back off, doubling from
 * RESTART_BACKOFF_FIRST_MS up to RESTART_BACKOFF_MAX_MS. */
static void count_death(brt_pool *pool, int status) {
  pool->stats.crashes++;
  int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  if (sig >= 0 && sig <= 64) pool->stats.crashes_by_signal[sig]++;
  uint32_t failures = ++pool->consecutive_failures;
  uint64_t delay_ms = failures < 2 ? 0 : RESTART_BACKOFF_FIRST_MS << (failures > 9 ? 7 : failures - 2);
  if (delay_ms > RESTART_BACKOFF_MAX_MS) delay_ms = RESTART_BACKOFF_MAX_MS;
  pool->restart_not_before_ns = _brt_now_ns() + delay_ms * 1000000u;
}

void _brt_isolation_spawnattr_init(posix_spawnattr_t *attr) {
  posix_spawnattr_init(attr);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(attr, &none);
  posix_spawnattr_setsigdefault(attr, &all);
  posix_spawnattr_setpgroup(attr, 0);
  posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
                                     POSIX_SPAWN_SETPGROUP);
}

/* --- Starting a worker ------------------------------------------------------------ */

/* posix_spawn of the worker program with its descriptors at 3, 4 and 5.
 * The sources are first moved above 100 so that no dup2 of the file
 * actions overwrites another source. */
static int spawn_worker(brt_pool *pool, uint32_t index, int child_sock, pid_t *pid) {
  int high[3] = {fcntl(child_sock, F_DUPFD_CLOEXEC, 100),
                 fcntl(pool->plugin_fd, F_DUPFD_CLOEXEC, 100),
                 fcntl(lifeline[0], F_DUPFD_CLOEXEC, 100)};
  int err = 0;
  for (int i = 0; i < 3; i++)
    if (high[i] < 0) err = errno;
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  char limit[32], number[16];
  snprintf(limit, sizeof limit, "%" PRIu64, pool->memory_limit);
  snprintf(number, sizeof number, "%u", index + 1);
  char *argv[] = {pool->worker_program, "serve", "--name", pool->path, "--worker", number,
                  "--memory-limit", limit,
                  pool->isolation == BRT_ISOLATION_SANDBOX ? "--sandbox" : NULL, NULL};
  if (!err) {
    posix_spawn_file_actions_init(&actions);
    _brt_isolation_spawnattr_init(&attr);
    for (int i = 0; i < 3; i++) posix_spawn_file_actions_adddup2(&actions, high[i], 3 + i);
    err = posix_spawn(pid, pool->worker_program, &actions, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  for (int i = 0; i < 3; i++)
    if (high[i] >= 0) close(high[i]);
  return err;
}

/* Reads the HELLO of a new worker, without the lock (it may wait). For the
 * first worker of a pool, while the pool is being started and no call can
 * run, it builds the proxies; later ones must report as many algorithms. */
static brt_status read_hello(brt_pool *pool, worker *w, uint64_t deadline_ns) {
  brt_message reply;
  char why[256];
  int err = _brt_isolation_message_receive(w->sock, deadline_ns, &reply, why, sizeof why);
  if (err == ETIMEDOUT) {
    worker_reap(pool, w, 0);
    return brt_error_set(BRT_E_TIMEOUT, BRT_ORIGIN_C, NULL,
                         "the worker of plugin \"%s\" did not finish loading it within %u ms; "
                         "it was killed",
                         pool->path, WORKER_START_TIMEOUT_MS);
  }
  if (err == ECONNRESET) {
    int status = worker_reap(pool, w, WORKER_EXIT_GRACE_MS);
    char how[128];
    describe_status(status, how, sizeof how);
    pthread_mutex_lock(&pool->lock);
    count_death(pool, status);
    pthread_mutex_unlock(&pool->lock);
    return brt_error_set(BRT_E_CRASHED, BRT_ORIGIN_PLUGIN, NULL,
                         "the worker of plugin \"%s\" %s while loading it", pool->path, how);
  }
  if (err != 0) {
    worker_reap(pool, w, 0);
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                         "the worker of plugin \"%s\" sent no usable greeting: %s", pool->path,
                         err == EPROTO ? why : strerror(err));
  }
  brt_wire_reader r = {.data = reply.body, .len = reply.body_len};
  brt_status status = BRT_OK;
  if (reply.kind == BRT_MSG_LOAD_FAILED) {
    brt_error *error = _brt_isolation_wire_error_get(&r);
    worker_reap(pool, w, WORKER_EXIT_GRACE_MS);
    if (!error) {
      status = brt_error_wrap(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                              "the worker of plugin \"%s\" failed to load it and sent a "
                              "malformed error: %s",
                              pool->path, brt_error_message(brt_last_error()));
    } else {
      status = brt_error_code(error);
      brt_error_restore(error); /* adopts `error` */
    }
  } else if (reply.kind != BRT_MSG_HELLO) {
    worker_reap(pool, w, 0);
    status = brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                           "the worker of plugin \"%s\" sent message kind %u instead of HELLO",
                           pool->path, reply.kind);
  } else {
    uint32_t count = _brt_isolation_wire_get_u32(&r);
    if (!pool->proxies && !r.failed) {
      if (count > 100000u)
        _brt_isolation_wire_reader_fail(&r, 0, "%u algorithms announced", count);
      pool->proxies = r.failed ? NULL : calloc(count ? count : 1, sizeof *pool->proxies);
      pool->algorithms = r.failed ? NULL : calloc(count ? count : 1, sizeof *pool->algorithms);
      if (!r.failed && (!pool->proxies || !pool->algorithms)) {
        free(pool->proxies);
        free(pool->algorithms);
        pool->proxies = NULL;
        pool->algorithms = NULL;
        status = brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                               "out of memory for the %u algorithms of plugin \"%s\"", count,
                               pool->path);
      }
      for (uint32_t i = 0; status == BRT_OK && !r.failed && i < count; i++) {
        status = _brt_isolation_proxy_init(&pool->proxies[i], pool, i, &r);
        if (status == BRT_OK) {
          pool->proxy_count = i + 1;
          pool->algorithms[i] = pool->proxies[i].desc;
        }
      }
    } else if (!r.failed && count != pool->proxy_count) {
      status = brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                             "a restarted worker of plugin \"%s\" reports %u algorithms where "
                             "the first reported %u",
                             pool->path, count, pool->proxy_count);
    }
    if (r.failed && status == BRT_OK)
      status = brt_error_wrap(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                              "the worker of plugin \"%s\" sent a malformed greeting: %s",
                              pool->path, brt_error_message(brt_last_error()));
    if (status != BRT_OK) worker_reap(pool, w, 0);
  }
  _brt_isolation_message_free(&reply);
  return status;
}

/* Starts worker `index` (its state is STARTING; the lock is not held). */
static brt_status worker_start(brt_pool *pool, uint32_t index, uint64_t deadline_ns) {
  worker *w = &pool->workers[index];
  pthread_once(&lifeline_once, lifeline_create);
  if (lifeline[0] < 0)
    return brt_error_set_os(BRT_E_IO, errno, "cannot create the workers' lifeline pipe: %s",
                            strerror(errno));
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
    return brt_error_set_os(BRT_E_IO, errno, "cannot create a socket pair for a worker of \"%s\": %s",
                            pool->path, strerror(errno));
  pid_t pid = 0;
  int err = spawn_worker(pool, index, pair[1], &pid);
  close(pair[1]);
  if (err) {
    close(pair[0]);
    return brt_error_set_os(BRT_E_IO, err, "cannot start the worker program \"%s\" for plugin "
                            "\"%s\": %s", pool->worker_program, pool->path, strerror(err));
  }
  pthread_mutex_lock(&pool->lock);
  w->pid = pid;
  w->sock = pair[0];
  w->next_id = 1;
  w->started_ns = _brt_now_ns();
  pool->stats.starts++;
  pthread_mutex_unlock(&pool->lock);
  uint64_t start_deadline = w->started_ns + (uint64_t)WORKER_START_TIMEOUT_MS * 1000000u;
  if (deadline_ns && deadline_ns < start_deadline) start_deadline = deadline_ns;
  brt_status status = read_hello(pool, w, start_deadline);
  if (status == BRT_OK) {
    pthread_mutex_lock(&pool->lock);
    pool->consecutive_failures = 0;
    pthread_mutex_unlock(&pool->lock);
  }
  return status;
}

/* --- Calls ------------------------------------------------------------------------- */

brt_status _brt_isolation_worker_acquire(brt_pool *pool, uint64_t deadline_ns, const char *label,
                                         worker **out) {
  pthread_mutex_lock(&pool->lock);
  for (;;) {
    worker *down = NULL;
    for (uint32_t i = 0; i < pool->worker_count; i++) {
      worker *w = &pool->workers[i];
      if (w->state == WORKER_IDLE) {
        w->state = WORKER_BUSY;
        pthread_mutex_unlock(&pool->lock);
        *out = w;
        return BRT_OK;
      }
      if (w->state == WORKER_DOWN && !down) down = w;
    }
    uint64_t now = _brt_now_ns();
    if (down && now >= pool->restart_not_before_ns) {
      down->state = WORKER_STARTING;
      pthread_mutex_unlock(&pool->lock);
      brt_status status = worker_start(pool, (uint32_t)(down - pool->workers), deadline_ns);
      pthread_mutex_lock(&pool->lock);
      if (status == BRT_OK) {
        down->state = WORKER_BUSY;
        pthread_mutex_unlock(&pool->lock);
        *out = down;
        return BRT_OK;
      }
      down->state = WORKER_DOWN;
      pthread_cond_broadcast(&pool->changed);
      pthread_mutex_unlock(&pool->lock);
      return brt_error_wrap(status, BRT_ORIGIN_C, NULL,
                            "%s: its worker could not be restarted: %s", label,
                            brt_error_message(brt_last_error()));
    }
    /* Wait for a worker to come back, or for the backoff to pass. */
    uint64_t wake = down ? pool->restart_not_before_ns : 0;
    if (deadline_ns && (!wake || deadline_ns < wake)) wake = deadline_ns;
    if (deadline_ns && now >= deadline_ns) {
      pthread_mutex_unlock(&pool->lock);
      return brt_error_set(BRT_E_TIMEOUT, BRT_ORIGIN_C, NULL,
                           "%s: no worker of plugin \"%s\" became free before the call's "
                           "deadline (%u workers, all busy or restarting)",
                           label, pool->path, pool->worker_count);
    }
    if (wake) {
      struct timespec until;
      clock_gettime(CLOCK_MONOTONIC, &until);
      uint64_t delta = wake > now ? wake - now : 0;
      until.tv_sec += (time_t)(delta / 1000000000u);
      until.tv_nsec += (long)(delta % 1000000000u);
      if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
      }
      pthread_cond_timedwait(&pool->changed, &pool->lock, &until);
    } else {
      pthread_cond_wait(&pool->changed, &pool->lock);
    }
  }
}

void _brt_isolation_worker_release(brt_pool *pool, worker *w) {
  pthread_mutex_lock(&pool->lock);
  if (w->state == WORKER_BUSY) w->state = WORKER_IDLE;
  pthread_cond_broadcast(&pool->changed);
  pthread_mutex_unlock(&pool->lock);
}

/* Adds one to a pool counter (the lock guards them). */
static void count(brt_pool *pool, uint64_t *counter) {
  pthread_mutex_lock(&pool->lock);
  ++*counter;
  pthread_mutex_unlock(&pool->lock);
}

/* The worker died or misbehaved during a call: reap it, count it, record
 * the error. */
static brt_status worker_failed(brt_pool *pool, worker *w, int err, const char *why,
                                uint64_t deadline_ns, uint64_t sent_ns, const char *label) {
  pid_t pid = w->pid;
  uint32_t number = (uint32_t)(w - pool->workers) + 1;
  if (err == ETIMEDOUT) {
    worker_reap(pool, w, 0);
    count(pool, &pool->stats.deadline_kills);
    return brt_error_set(BRT_E_TIMEOUT, BRT_ORIGIN_C, NULL,
                         "%s ran past its hard deadline of %.1f ms in worker %u (pid %d) of "
                         "plugin \"%s\": the worker was killed and is restarted for the next call",
                         label, (double)(deadline_ns - sent_ns) / 1e6, number, (int)pid, pool->path);
  }
  if (err == ECONNRESET || err == EPIPE) {
    int status = worker_reap(pool, w, WORKER_EXIT_GRACE_MS);
    char how[128];
    describe_status(status, how, sizeof how);
    pthread_mutex_lock(&pool->lock);
    count_death(pool, status);
    pthread_mutex_unlock(&pool->lock);
    const char *limit_note = "";
    char note[128] = "";
    if (pool->memory_limit && WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
      snprintf(note, sizeof note, " (its memory limit is %" PRIu64 " bytes)", pool->memory_limit);
      limit_note = note;
    }
    return brt_error_set(BRT_E_CRASHED, BRT_ORIGIN_PLUGIN, NULL,
                         "%s crashed: worker %u (pid %d) of plugin \"%s\" %s during the call%s; "
                         "it is restarted for the next call",
                         label, number, (int)pid, pool->path, how, limit_note);
  }
  worker_reap(pool, w, 0);
  count(pool, &pool->stats.protocol_errors);
  return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                       "%s: worker %u (pid %d) of plugin \"%s\" broke the protocol (%s) and was "
                       "killed",
                       label, number, (int)pid, pool->path, err == EPROTO ? why : strerror(err));
}

brt_status _brt_isolation_worker_call(brt_pool *pool, worker *w, uint32_t kind,
                                      const brt_wire_buf *body, const brt_wire_fds *fds,
                                      uint64_t deadline_ns, const char *label, brt_message *reply) {
  uint64_t id = w->next_id++;
  uint64_t sent_ns = _brt_now_ns();
  char why[256] = "";
  int err = _brt_isolation_message_send(w->sock, kind, id, body, fds);
  if (err == 0) err = _brt_isolation_message_receive(w->sock, deadline_ns, reply, why, sizeof why);
  if (err == 0 && (reply->kind != BRT_MSG_RESULT || reply->id != id)) {
    snprintf(why, sizeof why, "it answered call %" PRIu64 " with message kind %u for call %" PRIu64,
             id, reply->kind, reply->id);
    _brt_isolation_message_free(reply);
    err = EPROTO;
  }
  if (err == 0) {
    pthread_mutex_lock(&pool->lock);
    pool->consecutive_failures = 0;
    pthread_mutex_unlock(&pool->lock);
    return BRT_OK;
  }
  if (err == EMSGSIZE || err == ENOMEM || err == E2BIG)
    return brt_error_set_os(BRT_E_OUT_OF_MEMORY, err, "%s: the call could not be sent to its "
                            "worker: %s", label, strerror(err));
  return worker_failed(pool, w, err, why, deadline_ns, sent_ns, label);
}

/* --- The pool ------------------------------------------------------------------------ */

static void pool_free(brt_pool *pool) {
  for (uint32_t i = 0; i < pool->worker_count; i++) {
    worker *w = &pool->workers[i];
    if (w->state == WORKER_DOWN) continue;
    /* Closing our end tells the worker to exit; one that does not is
     * killed after the grace period. */
    shutdown(w->sock, SHUT_RDWR);
    worker_reap(pool, w, WORKER_EXIT_GRACE_MS);
  }
  for (uint32_t i = 0; i < pool->proxy_count; i++) _brt_isolation_proxy_dispose(&pool->proxies[i]);
  free(pool->proxies);
  free(pool->algorithms);
  free(pool->workers);
  if (pool->plugin_fd >= 0) close(pool->plugin_fd);
  free(pool->path);
  pthread_mutex_destroy(&pool->lock);
  pthread_cond_destroy(&pool->changed);
  free(pool);
}

void _brt_isolation_pool_release(void *opaque) {
  brt_pool *pool = opaque;
  if (pool && atomic_fetch_sub_explicit(&pool->refs, 1, memory_order_acq_rel) == 1)
    pool_free(pool);
}

brt_status _brt_isolation_pool_start(const brt_pool_spec *spec, brt_pool **out) {
  *out = NULL;
  brt_pool *pool = calloc(1, sizeof *pool);
  uint32_t count = spec->workers ? spec->workers : 1;
  if (pool) {
    pool->plugin_fd = spec->plugin_fd;
    pool->path = strdup(spec->path);
    pool->workers = calloc(count, sizeof *pool->workers);
  }
  if (!pool || !pool->path || !pool->workers) {
    if (pool) {
      free(pool->path);
      free(pool->workers);
      free(pool);
    }
    close(spec->plugin_fd);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "out of memory starting workers for plugin \"%s\"", spec->path);
  }
  atomic_init(&pool->refs, 1);
  pthread_mutex_init(&pool->lock, NULL);
  pthread_condattr_t cond_attr;
  pthread_condattr_init(&cond_attr);
  pthread_condattr_setclock(&cond_attr, CLOCK_MONOTONIC);
  pthread_cond_init(&pool->changed, &cond_attr);
  pthread_condattr_destroy(&cond_attr);
  pool->isolation = spec->isolation;
  pool->memory_limit = spec->memory_limit;
  pool->hard_timeout_ms = spec->timeout_ms;
  pool->default_timeout_ms = spec->default_timeout_ms;
  pool->call_deadline = spec->call_deadline;
  pool->worker_count = count;
  for (uint32_t i = 0; i < count; i++) pool->workers[i] = (worker){.state = WORKER_DOWN, .sock = -1};
  brt_status status =
      _brt_isolation_worker_path(NULL, pool->worker_program, sizeof pool->worker_program);
  for (uint32_t i = 0; status == BRT_OK && i < count; i++) {
    pool->workers[i].state = WORKER_STARTING;
    status = worker_start(pool, i, 0);
    pool->workers[i].state = status == BRT_OK ? WORKER_IDLE : WORKER_DOWN;
  }
  if (status != BRT_OK) {
    brt_error *error = brt_error_take();
    pool_free(pool);
    brt_error_restore(error);
    return status;
  }
  pool->consecutive_failures = 0;
  *out = pool;
  return BRT_OK;
}

const brt_algorithm *_brt_isolation_pool_algorithms(const brt_pool *pool, size_t *count) {
  *count = pool->proxy_count;
  return pool->algorithms;
}

/* The resident set of a process, from /proc/PID/statm (pages). */
static uint64_t resident_bytes(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/statm", (int)pid);
  FILE *file = fopen(path, "re");
  if (!file) return 0;
  unsigned long long size = 0, resident = 0;
  int fields = fscanf(file, "%llu %llu", &size, &resident);
  fclose(file);
  return fields == 2 ? (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

void _brt_isolation_pool_observe(brt_pool *pool, brt_isolation_worker_stats *stats,
                                 void (*visit)(void *ctx, const brt_isolation_worker_info *info),
                                 void *ctx) {
  static const char *const state_names[] = {"down", "starting", "idle", "busy"};
  pthread_mutex_lock(&pool->lock);
  if (stats) *stats = pool->stats;
  uint32_t count = pool->worker_count;
  brt_isolation_worker_info infos[BRT_PLUGIN_WORKERS_MAX];
  if (count > BRT_PLUGIN_WORKERS_MAX) count = BRT_PLUGIN_WORKERS_MAX;
  uint64_t now = _brt_now_ns();
  for (uint32_t i = 0; i < count; i++) {
    const worker *w = &pool->workers[i];
    infos[i] = (brt_isolation_worker_info){.plugin = pool->path,
                                           .index = i + 1,
                                           .pid = w->pid,
                                           .state = state_names[w->state],
                                           .uptime_ns = w->pid ? now - w->started_ns : 0};
  }
  pthread_mutex_unlock(&pool->lock);
  if (!visit) return;
  for (uint32_t i = 0; i < count; i++) {
    if (infos[i].pid) infos[i].resident_bytes = resident_bytes(infos[i].pid);
    visit(ctx, &infos[i]);
  }
}
