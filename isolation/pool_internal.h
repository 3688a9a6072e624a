/* isolation/ internals shared between pool.c (workers: start, call, crash,
 * restart) and proxy.c (the algorithms the registry calls). */
#ifndef BRT_ISOLATION_POOL_INTERNAL_H
#define BRT_ISOLATION_POOL_INTERNAL_H

#include "isolation.h"
#include "protocol.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>

/* Argument and return types of a native signature, as the proxy needs them
 * (sizes on the wire and in memory). */
typedef enum proxy_type {
  PT_VOID, PT_I8, PT_I16, PT_I32, PT_I64, PT_U8, PT_U16, PT_U32, PT_U64, PT_F32, PT_F64,
  PT_BOOL, PT_PTR, PT_STR
} proxy_type;

typedef struct brt_pool brt_pool;

/* One algorithm of the plugin as the host registers it. */
typedef struct proxy {
  brt_pool *pool;
  uint32_t index;     /* in the worker's HELLO */
  char *label;        /* "name@version" */
  brt_algorithm desc; /* strings owned below */
  char *name, *version, *description, *input_schema, *output_schema, *signature;
  proxy_type ret;
  uint32_t arg_count;
  proxy_type args[BRT_SIGNATURE_MAX_ARGS];
} proxy;

typedef enum worker_state { WORKER_DOWN, WORKER_STARTING, WORKER_IDLE, WORKER_BUSY } worker_state;

typedef struct worker {
  worker_state state;
  pid_t pid;         /* its process group too */
  int sock;          /* our end */
  uint64_t next_id;
  uint64_t started_ns;
} worker;

struct brt_pool {
  _Atomic uint32_t refs; /* the plugin's image reference, and each call in flight */
  pthread_mutex_t lock;  /* guards workers[], the counters and the backoff */
  pthread_cond_t changed;
  char *path; /* the plugin's resolved path */
  int plugin_fd;
  brt_isolation isolation;
  uint64_t memory_limit;
  uint32_t hard_timeout_ms;
  uint32_t default_timeout_ms;
  brt_isolation_deadline_fn call_deadline; /* may be NULL */
  char worker_program[4096];
  uint32_t worker_count;
  worker *workers;
  proxy *proxies;
  uint32_t proxy_count;
  brt_algorithm *algorithms; /* proxies' descs, contiguous for the registry */
  /* Restarts back off while workers keep dying: 0 after a success. */
  uint32_t consecutive_failures;
  uint64_t restart_not_before_ns;
  brt_isolation_worker_stats stats;
};

/* pool.c: a worker for one call (BUSY) in *out; else TIMEOUT when
 * `deadline_ns` passed while waiting, or the status of the failed restart. */
brt_status _brt_isolation_worker_acquire(brt_pool *pool, uint64_t deadline_ns, const char *label,
                                         worker **out);
void _brt_isolation_worker_release(brt_pool *pool, worker *w);
/* Sends a call and waits for its RESULT. On success the message is the
 * caller's. On failure the worker is killed and reaped (a crash, a hang
 * past the deadline, a protocol violation), the error is recorded and the
 * worker is left DOWN for a restart. */
brt_status _brt_isolation_worker_call(brt_pool *pool, worker *w, uint32_t kind,
                                      const brt_wire_buf *body, const brt_wire_fds *fds,
                                      uint64_t deadline_ns, const char *label, brt_message *reply);

/* proxy.c */
brt_status _brt_isolation_proxy_init(proxy *p, brt_pool *pool, uint32_t index, brt_wire_reader *r);
void _brt_isolation_proxy_dispose(proxy *p);

#endif /* BRT_ISOLATION_POOL_INTERNAL_H */
