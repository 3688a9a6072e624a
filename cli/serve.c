/* bridgert serve: /metrics and /health over HTTP (libmicrohttpd), until
 * SIGINT or SIGTERM.
 *
 * The signals are blocked before the daemon starts its thread, so they are
 * delivered only to the main thread, which waits for them with sigwait and
 * then stops the daemon (finishing requests in progress) and returns: no
 * work happens in a signal handler. */
#include "cli.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

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
static char *error_body(char *buf, size_t size, const char *what) {
  snprintf(buf, size, "{\"status\": \"UNHEALTHY\", \"error\": \"%s failed with %s\"}\n", what,
           brt_status_name(brt_error_code(brt_last_error())));
  return buf;
}

static enum MHD_Result handle(void *ctx, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_size, void **request_state) {
  (void)version;
  (void)upload_data;
  (void)upload_size;
  (void)request_state;
  brt_runtime *rt = ctx;
  static char not_found[] = "not found: try /metrics or /health\n";
  static char not_allowed[] = "only GET (and HEAD) are served\n";
  if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
    return respond(connection, MHD_HTTP_METHOD_NOT_ALLOWED, "text/plain", not_allowed, false);
  char failure[256];
  if (strcmp(url, "/metrics") == 0) {
    char *text = NULL;
    if (brt_metrics_export(rt, BRT_FORMAT_PROMETHEUS, &text) != BRT_OK)
      return respond(connection, MHD_HTTP_INTERNAL_SERVER_ERROR, "application/json",
                     error_body(failure, sizeof failure, "the metrics export"), false);
    return respond(connection, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text, true);
  }
  if (strcmp(url, "/health") == 0) {
    brt_health_level level = BRT_UNHEALTHY;
    char *report = NULL;
    if (brt_health_check_level(rt, &level, &report) != BRT_OK)
      return respond(connection, MHD_HTTP_SERVICE_UNAVAILABLE, "application/json",
                     error_body(failure, sizeof failure, "the health check"), false);
    return respond(connection, level == BRT_UNHEALTHY ? MHD_HTTP_SERVICE_UNAVAILABLE : MHD_HTTP_OK,
                   "application/json", report, true);
  }
  return respond(connection, MHD_HTTP_NOT_FOUND, "text/plain", not_found, false);
}

int cli_serve(brt_runtime *rt, const char *listen) {
  const char *where = listen ? listen : CLI_DEFAULT_LISTEN;
  struct sockaddr_in address;
  if (!cli_parse_listen(where, &address)) { /* checked by cli_parse already */
    fprintf(stderr, "bridgert serve: --listen '%s' is not ADDRESS:PORT\n", where);
    return CLI_EXIT_USAGE;
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
  struct MHD_Daemon *daemon =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, handle,
                       rt, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
                       MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
  if (!daemon) {
    int saved = errno;
    fprintf(stderr, "bridgert serve: cannot listen on %s: %s\n", where,
            saved ? strerror(saved) : "the HTTP server did not start");
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
    return CLI_EXIT_OS;
  }
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
  char host[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &address.sin_addr, host, sizeof host);
  printf("listening on http://%s:%u (GET /metrics, /health); stop with Ctrl-C or SIGTERM\n", host,
         info ? (unsigned)info->port : (unsigned)ntohs(address.sin_port));
  fflush(stdout);
  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  MHD_stop_daemon(daemon);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, NULL);
  fprintf(stderr, "bridgert serve: stopped by %s\n", signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  return CLI_EXIT_OK;
}
