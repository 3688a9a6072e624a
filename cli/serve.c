/* bridgert serve: the algorithm API (/v1/, serve_api.c), /metrics and
 * /health over HTTP (libmicrohttpd), until SIGINT or SIGTERM.
 *
 * One thread (libmicrohttpd's) reads and answers every connection; a call
 * runs on a thread of its own with its connection suspended, since it
 * lasts as long as the algorithm does and must hold up neither the other
 * calls nor the health checks and scrapes. Calls at once are bounded by
 * --max-connections (a connection carries one request at a time).
 *
 * The signals are blocked before the daemon starts its thread, so they are
 * delivered only to the main thread, which waits for them with sigwait and
 * then stops the daemon (finishing requests in progress) and returns: no
 * work happens in a signal handler.
 *
 * Limits (docs/cli.md), so that slow or many clients cannot hold the
 * server: libmicrohttpd caps the connections (MHD_OPTION_CONNECTION_LIMIT:
 * at the cap it stops accepting until one closes) and the connections per
 * IP address (MHD_OPTION_PER_IP_CONNECTION_LIMIT: more are closed at once),
 * and closes idle ones (MHD_OPTION_CONNECTION_TIMEOUT, in seconds). Its
 * timeout restarts with every byte, so a client sending one byte every few
 * seconds would keep a connection for ever: the header deadline is ours. A
 * watchdog thread keeps every connection waiting for a request's headers
 * (from its start, or from the end of its previous request) with its
 * deadline, and shuts down the socket of one past it; libmicrohttpd then
 * reads the end of the stream and closes the connection. The entry of a
 * connection is removed, under the lock, when libmicrohttpd reports it
 * closed, which it does before closing the socket: the watchdog never
 * touches a descriptor that may have been reused. */
#include "serve.h"
#include "core/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* --- The header deadline ----------------------------------------------------- */

typedef struct tracked {
  struct tracked *prev, *next;
  int fd;
  bool waiting;      /* for the headers of a request */
  bool shut;         /* past its deadline: shut down */
  uint64_t deadline; /* CLOCK_MONOTONIC, ns */
} tracked;

typedef struct serve_state {
  brt_runtime *rt;
  cli_api api;
  uint64_t header_timeout_ns;
  pthread_mutex_t lock;
  pthread_cond_t wake; /* on CLOCK_MONOTONIC */
  bool stopping;
  tracked connections; /* the list's sentinel */
} serve_state;

/* Waits, from now, for the headers of a request on `entry` (under the lock). */
static void await_headers(serve_state *state, tracked *entry) {
  entry->waiting = true;
  entry->deadline = _brt_now_ns() + state->header_timeout_ns;
}

static tracked *entry_of(struct MHD_Connection *connection) {
  const union MHD_ConnectionInfo *info =
      MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return info ? info->socket_context : NULL;
}

static void notify_connection(void *ctx, struct MHD_Connection *connection, void **socket_context,
                              enum MHD_ConnectionNotificationCode code) {
  serve_state *state = ctx;
  if (code == MHD_CONNECTION_NOTIFY_STARTED) {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
    tracked *entry = calloc(1, sizeof *entry);
    if (!entry || !info) {
      /* Untracked, it would escape the deadline: refused. */
      free(entry);
      if (info) shutdown(info->connect_fd, SHUT_RDWR);
      return;
    }
    entry->fd = info->connect_fd;
    pthread_mutex_lock(&state->lock);
    await_headers(state, entry);
    entry->next = state->connections.next;
    entry->prev = &state->connections;
    entry->next->prev = entry;
    state->connections.next = entry;
    pthread_mutex_unlock(&state->lock);
    *socket_context = entry;
  } else if (code == MHD_CONNECTION_NOTIFY_CLOSED && *socket_context) {
    tracked *entry = *socket_context;
    pthread_mutex_lock(&state->lock);
    entry->prev->next = entry->next;
    entry->next->prev = entry->prev;
    pthread_mutex_unlock(&state->lock);
    free(entry);
    *socket_context = NULL;
  }
}

/* A request ended: the connection (kept alive) waits for the next headers. */
static void request_completed(void *ctx, struct MHD_Connection *connection, void **request_state,
                              enum MHD_RequestTerminationCode code) {
  (void)code;
  serve_state *state = ctx;
  cli_api_request_done(*request_state);
  *request_state = NULL;
  tracked *entry = entry_of(connection);
  if (!entry) return;
  pthread_mutex_lock(&state->lock);
  await_headers(state, entry);
  pthread_mutex_unlock(&state->lock);
}

static void *watchdog(void *arg) {
  serve_state *state = arg;
  pthread_mutex_lock(&state->lock);
  while (!state->stopping) {
    uint64_t now = _brt_now_ns();
    /* A connection that starts later has a later deadline than this. */
    uint64_t next = now + state->header_timeout_ns;
    unsigned cut = 0;
    for (tracked *entry = state->connections.next; entry != &state->connections; entry = entry->next) {
      if (!entry->waiting || entry->shut) continue;
      if (entry->deadline <= now) {
        shutdown(entry->fd, SHUT_RDWR);
        entry->shut = true;
        cut++;
      } else if (entry->deadline < next) {
        next = entry->deadline;
      }
    }
    if (cut) { /* reported outside the lock: a blocked stderr must not block the server */
      pthread_mutex_unlock(&state->lock);
      fprintf(stderr,
              "bridgert serve: closed %u connection%s that sent no complete request headers within "
              "%llu ms (--header-timeout-ms)\n",
              cut, cut == 1 ? "" : "s", (unsigned long long)(state->header_timeout_ns / 1000000u));
      pthread_mutex_lock(&state->lock);
      continue;
    }
    struct timespec until = {(time_t)(next / 1000000000u), (long)(next % 1000000000u)};
    pthread_cond_timedwait(&state->wake, &state->lock, &until);
  }
  pthread_mutex_unlock(&state->lock);
  return NULL;
}

/* libmicrohttpd's messages (a refused connection, a closed one), prefixed. */
static void log_http(void *ctx, const char *format, va_list args) {
  (void)ctx;
  fputs("bridgert serve: ", stderr);
  vfprintf(stderr, format, args);
}

/* --- Requests ------------------------------------------------------------------ */

/* Queues `body` (copied; a managed body is released here). */
static enum MHD_Result respond(struct MHD_Connection *connection, unsigned status,
                               const char *content_type, char *body, bool managed) {
  struct MHD_Response *response =
      MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
  if (managed) brt_release(body);
  if (!response) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
  enum MHD_Result result = MHD_queue_response(connection, status, response);
  MHD_destroy_response(response);
  return result;
}

/* The error of a failed export or health check, as a JSON object (status
 * names need no escaping). */
static char *error_body(char *buf, size_t size, const char *what, brt_status status) {
  snprintf(buf, size, "{\"status\": \"UNHEALTHY\", \"error\": \"%s failed with %s\"}\n", what,
           brt_status_name(status));
  return buf;
}

static enum MHD_Result handle(void *ctx, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_size, void **request_state) {
  (void)version;
  serve_state *state = ctx;
  brt_runtime *rt = state->rt;
  tracked *entry = entry_of(connection);
  if (cli_api_owns(url)) {
    /* The headers are in; a body has its own deadline, from now until its
     * end (the same length as the headers'); none while the call runs. */
    bool started = *request_state != NULL, body_pending = false;
    if (entry && (!started || *upload_size == 0)) { /* the headers, or the end of the body */
      pthread_mutex_lock(&state->lock);
      entry->waiting = false;
      pthread_mutex_unlock(&state->lock);
    }
    enum MHD_Result result = cli_api_handle(&state->api, connection, url, method, upload_data,
                                            upload_size, request_state, &body_pending);
    if (entry && body_pending && !started) {
      pthread_mutex_lock(&state->lock);
      await_headers(state, entry);
      pthread_mutex_unlock(&state->lock);
    }
    return result;
  }
  if (entry) { /* the headers are in: no deadline while the request is served */
    pthread_mutex_lock(&state->lock);
    entry->waiting = false;
    pthread_mutex_unlock(&state->lock);
  }
  static char not_found[] = "not found: try /v1/algorithms, /metrics or /health\n";
  static char not_allowed[] = "only GET (and HEAD) are served\n";
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
    return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed, false);
  char failure[256];
  if (strcmp(url, "/metrics") == 0) {
    char *text = NULL;
    brt_status status = brt_metrics_export(rt, BRT_FORMAT_PROMETHEUS, &text);
    if (status != BRT_OK)
      return respond(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
                     error_body(failure, sizeof failure, "the metrics export", status), false);
    return respond(connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, true);
  }
  if (strcmp(url, "/health") == 0) {
    brt_health_level level = BRT_UNHEALTHY;
    char *report = NULL;
    brt_status status = brt_health_check_level(rt, &level, &report);
    if (status != BRT_OK)
      return respond(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
                     error_body(failure, sizeof failure, "the health check", status), false);
    return respond(connection, level == BRT_UNHEALTHY ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
                   "application/json", report, true);
  }
  return respond(connection, MHD_HTTP_NOT_FOUND, "text/plain", not_found, false);
}

/* Starts the watchdog; false (reported) when it cannot. */
static bool watchdog_start(serve_state *state, pthread_t *thread) {
  pthread_condattr_t attributes;
  bool ok = pthread_condattr_init(&attributes) == 0;
  ok = ok && pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC) == 0 &&
       pthread_cond_init(&state->wake, &attributes) == 0;
  pthread_condattr_destroy(&attributes);
  if (ok && pthread_mutex_init(&state->lock, NULL) != 0) {
    pthread_cond_destroy(&state->wake);
    ok = false;
  }
  int error = ok ? pthread_create(thread, NULL, watchdog, state) : 0;
  if (ok && error) {
    pthread_mutex_destroy(&state->lock);
    pthread_cond_destroy(&state->wake);
    ok = false;
  }
  if (!ok) fprintf(stderr, "bridgert serve: cannot start the header watchdog: %s\n", strerror(error ? error : ENOMEM));
  return ok;
}

static void watchdog_stop(serve_state *state, pthread_t thread) {
  pthread_mutex_lock(&state->lock);
  state->stopping = true;
  pthread_cond_signal(&state->wake);
  pthread_mutex_unlock(&state->lock);
  pthread_join(thread, NULL);
  pthread_mutex_destroy(&state->lock);
  pthread_cond_destroy(&state->wake);
}

int cli_serve(brt_runtime *rt, const cli_options *options) {
  const char *where = options->listen ? options->listen : CLI_DEFAULT_LISTEN;
  unsigned max_connections = options->max_connections ? options->max_connections : CLI_SERVE_MAX_CONNECTIONS;
  unsigned max_per_address = options->max_per_address ? options->max_per_address : CLI_SERVE_MAX_PER_ADDRESS;
  unsigned timeout_ms = options->header_timeout_ms ? options->header_timeout_ms : CLI_SERVE_HEADER_TIMEOUT_MS;
  struct sockaddr_in address;
  if (!cli_parse_listen(where, &address)) { /* checked by cli_parse already */
    fprintf(stderr, "bridgert serve: --listen '%s' is not ADDRESS:PORT\n", where);
    return CLI_EXIT_USAGE;
  }
  serve_state state = {.rt = rt, .header_timeout_ns = (uint64_t)timeout_ms * 1000000u};
  state.connections.next = state.connections.prev = &state.connections;
  int code = cli_api_open(&state.api, rt, options);
  if (code) return code;
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  pthread_t watchdog_thread;
  if (!watchdog_start(&state, &watchdog_thread)) {
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
    cli_api_close(&state.api);
    return CLI_EXIT_OS;
  }
  /* poll(), not select(): descriptors above FD_SETSIZE are fine. */
  struct MHD_Daemon *daemon = MHD_start_daemon(
      MHD_USE_POLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
      handle, &state,
      MHD_OPTION_EXTERNAL_LOGGER, log_http, NULL, /* first, so that it gets every message */
      MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
      MHD_OPTION_CONNECTION_LIMIT, max_connections,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT, max_per_address,
      MHD_OPTION_CONNECTION_TIMEOUT, (timeout_ms + 999) / 1000,
      MHD_OPTION_NOTIFY_CONNECTION, notify_connection, &state,
      MHD_OPTION_NOTIFY_COMPLETED, request_completed, &state, MHD_OPTION_END);
  if (!daemon) {
    int saved = errno;
    fprintf(stderr, "bridgert serve: cannot listen on %s: %s\n", where,
            saved ? strerror(saved) : "the HTTP server did not start");
    watchdog_stop(&state, watchdog_thread);
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
    cli_api_close(&state.api);
    return CLI_EXIT_OS;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  char host[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &address.sin_addr, host, sizeof host);
  printf("listening on http://%s:%u (POST /v1/algorithms/NAME:call, GET /v1/algorithms, /metrics, "
         "/health%s); stop with Ctrl-C or SIGTERM\n", host,
         info ? (unsigned)info->port : (unsigned)ntohs(address.sin_port),
         state.api.token ? "; /v1/ needs the bearer token" : "");
  /* The bound address is how a caller finds the server (port 0): when it
   * cannot be written, the server is of no use. */
  code = cli_check_output(CLI_EXIT_OK);
  int signal_number = 0;
  if (code == CLI_EXIT_OK) sigwait(&stop_signals, &signal_number);
  /* No new connections while the calls end; the listening socket is then
   * ours to close, once the daemon's thread is gone. */
  MHD_socket listening = MHD_quiesce_daemon(daemon);
  cli_api_drain(&state.api);
  MHD_stop_daemon(daemon);
  if (listening != MHD_INVALID_SOCKET) close(listening);
  watchdog_stop(&state, watchdog_thread);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
  cli_api_close(&state.api);
  if (code == CLI_EXIT_OK)
    fprintf(stderr, "bridgert serve: stopped by %s\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  return code;
}
