/* bench/run serve: the 2x2 matrix product called over HTTP through
 * `bridgert serve` (POST /v1/algorithms/matrix_multiplication:call on
 * loopback, keep-alive connections) against brt_call_json in this process,
 * in the same run (docs/performance.md, "serve").
 *
 *   bench-serve PORT     (run.sh starts the server and passes its port)
 *
 * Subjects: direct (brt_call_json, one thread), http_1conn (one connection,
 * one request at a time), http_8conn (8 connections, each on its own
 * thread). ns_per_op is the wall time of a batch divided by its requests
 * (the inverse of the rate; for one connection, the mean latency);
 * requests_per_s follows from it; p99_ns is the 99th percentile of the
 * single requests' latencies over every repetition. Every answer is
 * checked: a wrong one ends the run. */
#include "bench.h"

#include <bridgert.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#define PARAMS "{\"matrix_a\": [[1, 2], [3, 4]], \"matrix_b\": [[5, 6], [7, 8]]}"
#define PRODUCT "[[19,22],[43,50]]"
#define HTTP_OPS 2000
#define DIRECT_OPS 20000
#define MAX_CONNECTIONS 8

static unsigned short port;
static brt_runtime *rt;

typedef struct client {
  int fd;
  uint64_t count;
  double *latencies; /* ns of each request */
  size_t used;
} client;

static void die(const char *what) {
  fprintf(stderr, "bench-serve: %s\n", what);
  exit(1);
}

static void connect_client(client *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(port)};
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&address, sizeof address) != 0)
    die("cannot connect to the server");
}

/* One request on the connection, its answer read and checked. */
static void http_call(client *c) {
  static const char request[] =
      "POST /v1/algorithms/matrix_multiplication:call HTTP/1.1\r\nHost: 127.0.0.1\r\n"
      "Content-Type: application/json\r\nContent-Length: 60\r\n\r\n" PARAMS;
  _Static_assert(sizeof PARAMS - 1 == 60, "Content-Length");
  if (c->fd < 0) connect_client(c);
  if (write(c->fd, request, sizeof request - 1) != (ssize_t)(sizeof request - 1)) die("write failed");
  char buf[4096];
  size_t used = 0;
  char *end = NULL;
  while (!end) {
    ssize_t got = read(c->fd, buf + used, sizeof buf - 1 - used);
    if (got <= 0) die("the server closed the connection");
    used += (size_t)got;
    buf[used] = '\0';
    end = strstr(buf, "\r\n\r\n");
  }
  if (strncmp(buf, "HTTP/1.1 200", 12) != 0) die("an answer is not 200");
  const char *length_at = strcasestr(buf, "Content-Length:");
  size_t length = length_at && length_at < end ? strtoul(length_at + 15, NULL, 10) : 0;
  size_t want = (size_t)(end + 4 - buf) + length;
  if (want >= sizeof buf) die("an answer is too long");
  while (used < want) {
    ssize_t got = read(c->fd, buf + used, sizeof buf - 1 - used);
    if (got <= 0) die("the server closed the connection in an answer");
    used += (size_t)got;
  }
  buf[used] = '\0';
  if (strncmp(end + 4, PRODUCT, sizeof PRODUCT - 1) != 0) die("a wrong product");
  const char *close_at = strcasestr(buf, "Connection: close");
  if (close_at && close_at < end) {
    close(c->fd);
    c->fd = -1;
  }
}

static void direct_call(client *c) {
  (void)c;
  char *out = NULL;
  if (brt_call_json(rt, "matrix_multiplication", PARAMS, &out) != BRT_OK) die("brt_call_json failed");
  if (strcmp(out, PRODUCT) != 0) die("a wrong product (direct)");
  brt_release(out);
}

typedef struct job {
  client *c;
  void (*call)(client *);
} job;

static void *run_client(void *arg) {
  job *j = arg;
  for (uint64_t i = 0; i < j->c->count; i++) {
    uint64_t start = bench_now_ns();
    j->call(j->c);
    j->c->latencies[j->c->used++] = (double)(bench_now_ns() - start);
  }
  return NULL;
}

static void measure(bench_state *state, const char *subject, void (*call)(client *), int connections,
                    uint64_t ops) {
  int reps = bench_reps();
  client clients[MAX_CONNECTIONS];
  uint64_t per = ops / (uint64_t)connections;
  for (int i = 0; i < connections; i++) {
    clients[i] = (client){.fd = -1, .count = per};
    clients[i].latencies = malloc(sizeof(double) * per * (size_t)(reps + 1));
    if (!clients[i].latencies) die("out of memory");
  }
  double samples[BENCH_MAX_REPS];
  for (int rep = -1; rep < reps; rep++) { /* rep -1: the warm-up, not kept */
    pthread_t threads[MAX_CONNECTIONS];
    job jobs[MAX_CONNECTIONS];
    uint64_t start = bench_now_ns();
    for (int i = 0; i < connections; i++) {
      jobs[i] = (job){&clients[i], call};
      if (pthread_create(&threads[i], NULL, run_client, &jobs[i]) != 0) die("pthread_create failed");
    }
    for (int i = 0; i < connections; i++) pthread_join(threads[i], NULL);
    double elapsed = (double)(bench_now_ns() - start);
    if (rep < 0) {
      for (int i = 0; i < connections; i++) clients[i].used = 0;
      continue;
    }
    samples[rep] = elapsed / (double)(per * (uint64_t)connections);
  }
  size_t total = 0;
  for (int i = 0; i < connections; i++) total += clients[i].used;
  double *all = malloc(sizeof(double) * total);
  if (!all) die("out of memory");
  size_t at = 0;
  for (int i = 0; i < connections; i++) {
    memcpy(all + at, clients[i].latencies, sizeof(double) * clients[i].used);
    at += clients[i].used;
    if (clients[i].fd >= 0) close(clients[i].fd);
    free(clients[i].latencies);
  }
  qsort(all, total, sizeof *all, bench_compare_double);
  double p99 = all[(size_t)((double)(total - 1) * 0.99)];
  free(all);
  double sorted[BENCH_MAX_REPS];
  memcpy(sorted, samples, sizeof(double) * (size_t)reps);
  double median = bench_median(sorted, reps);
  char extra[160];
  snprintf(extra, sizeof extra, "\"connections\":%d,\"requests_per_s\":%.0f,\"p99_ns\":%.0f,\"ops\":%llu",
           connections, 1e9 / median, p99, (unsigned long long)(per * (uint64_t)connections));
  bench_report(state, subject, samples, reps, extra);
}

int main(int argc, char **argv) {
  if (argc != 2 || atoi(argv[1]) <= 0 || atoi(argv[1]) > 65535) die("usage: bench-serve PORT");
  port = (unsigned short)atoi(argv[1]);
  rt = brt_runtime_open(NULL);
  if (!rt || brt_plugin_load(rt, MATRIX_PLUGIN_PATH) != BRT_OK) die("cannot load the matrix plugin");
  bench_state state;
  bench_begin(&state, "serve.matmul2", "ns_per_op");
  measure(&state, "http_1conn", http_call, 1, HTTP_OPS);
  measure(&state, "http_8conn", http_call, 8, HTTP_OPS * 2);
  measure(&state, "direct", direct_call, 1, DIRECT_OPS);
  bench_ratios(&state, "http_1conn");
  brt_runtime_close(rt);
  return 0;
}
