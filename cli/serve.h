/* bridgert serve: the algorithm API (serve_api.c) as seen by the HTTP
 * server (serve.c). serve.c owns the daemon, the connection limits and the
 * deadlines; serve_api.c answers /v1/ requests: the bearer token, the body
 * and its size limit, the call and the mapping of its status to HTTP. */
#ifndef BRT_CLI_SERVE_H
#define BRT_CLI_SERVE_H

#include "cli.h"

#include <microhttpd.h>
#include <pthread.h>

/* What the API needs for its whole life: the runtime, the body limit and
 * the token (NULL: none configured). */
typedef struct cli_api {
  brt_runtime *rt;
  size_t max_body;
  unsigned idle_timeout_s; /* libmicrohttpd's, restarted after a call */
  char *token;
  size_t token_length;
  pthread_mutex_t lock;
  pthread_cond_t idle;  /* signalled when in_flight drops to 0 */
  unsigned in_flight;   /* calls running on their own threads */
} cli_api;

/* Fills `api` from the options, reading --token-file; returns 0, or an exit
 * code after reporting why (77: the file is open to others; 66: missing;
 * 78: no usable token in it). */
int cli_api_open(cli_api *api, brt_runtime *rt, const cli_options *options);
void cli_api_close(cli_api *api);

/* Whether `url` is the API's (under "/v1/"). */
bool cli_api_owns(const char *url);

/* libmicrohttpd's access handler for an API request, called once with the
 * headers (*request_state NULL), then with each piece of the body, then with
 * *upload_size 0: a call then runs on a thread of its own with the
 * connection suspended (the daemon needs MHD_ALLOW_SUSPEND_RESUME), and the
 * handler is called once more, after the resume, to queue the answer.
 * *body_pending tells the caller whether the request still waits for its
 * body (so that its deadline applies). */
enum MHD_Result cli_api_handle(cli_api *api, struct MHD_Connection *connection, const char *url,
                               const char *method, const char *upload_data, size_t *upload_size,
                               void **request_state, bool *body_pending);

/* Waits until no call runs: before the daemon stops, since a running call
 * resumes its connection on the daemon when it ends. */
void cli_api_drain(cli_api *api);

/* Frees what cli_api_handle kept in *request_state (NULL is fine). */
void cli_api_request_done(void *request_state);

/* The HTTP status of a failed call's brt_status (docs/cli.md). */
unsigned cli_api_http_status(brt_status status);

#endif /* BRT_CLI_SERVE_H */
