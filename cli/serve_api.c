/* bridgert serve: the algorithm API under /v1/ (docs/cli.md, "serve").
 *
 *   POST /v1/algorithms/NAME:call   JSON parameters in, the result out, or
 *                                   the typed error with its causes
 *   GET  /v1/algorithms             names, versions, kinds, schemas
 *
 * Every /v1/ request is checked in this order, so that nothing is learnt
 * or spent before it is allowed: the bearer token (when one is configured;
 * 401 before the path is even looked at), the path and method, the
 * declared Content-Length against the body limit (413 before a byte of the
 * body is read), then the body as it arrives (a chunked body has no length
 * up front: past the limit the rest is read and dropped and the answer is
 * 413; serve.c's deadline bounds how long that may take). The body is
 * parsed with the value model's parser (a NUL, invalid UTF-8, nesting past
 * its depth limit or a duplicate key are 400 with the position) and the
 * call is brt_call: schema check, deadline, monitor, circuit breaker and
 * isolation are the runtime's, exactly as for any other caller. */
#include "serve.h"
#include "core/utf8.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define API_PREFIX "/v1/"
#define LIST_PATH "/v1/algorithms"
#define CALL_PREFIX "/v1/algorithms/"
#define CALL_SUFFIX ":call"
/* A token shorter than this is refused: it could be guessed. */
#define TOKEN_MIN 16
#define TOKEN_MAX 4096

/* --- The token ------------------------------------------------------------------ */

/* The token is the file's first line, without surrounding blanks: visible
 * ASCII only, so that it fits an Authorization header as is. The file is
 * the only copy of a secret: one that others may read (or write, to put
 * their own token in) is refused, as ssh refuses such a private key. */
static int read_token(cli_api *api, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int saved = errno;
    fprintf(stderr, "bridgert serve: cannot open the token file '%s': %s\n", path, strerror(saved));
    return saved == ENOENT ? CLI_EXIT_NO_INPUT : saved == EACCES ? CLI_EXIT_PERMISSION : CLI_EXIT_IO;
  }
  struct stat st;
  char text[TOKEN_MAX + 2];
  ssize_t got = -1;
  int code = CLI_EXIT_OK;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    fprintf(stderr, "bridgert serve: the token file '%s' is not a regular file\n", path);
    code = CLI_EXIT_CONFIG;
  } else if (st.st_mode & (S_IROTH | S_IWOTH)) {
    fprintf(stderr,
            "bridgert serve: the token file '%s' is readable or writable by others (mode %03o): "
            "anyone on this machine could call the algorithms; chmod o-rw it\n",
            path, (unsigned)(st.st_mode & 0777));
    code = CLI_EXIT_PERMISSION;
  } else if ((got = read(fd, text, sizeof text - 1)) < 0) {
    fprintf(stderr, "bridgert serve: reading the token file '%s' failed: %s\n", path, strerror(errno));
    code = CLI_EXIT_IO;
  }
  close(fd);
  if (code) return code;
  text[got] = '\0';
  size_t end = strcspn(text, "\r\n");
  size_t start = strspn(text, " \t");
  while (end > start && (text[end - 1] == ' ' || text[end - 1] == '\t')) end--;
  size_t length = end > start ? end - start : 0;
  bool visible = length >= TOKEN_MIN && length <= TOKEN_MAX;
  for (size_t i = start; visible && i < end; i++) visible = text[i] > ' ' && text[i] < 0x7f;
  if (!visible) {
    fprintf(stderr,
            "bridgert serve: the token file '%s' must hold one token of %d to %d visible ASCII "
            "characters on its first line (e.g. head -c 32 /dev/urandom | base64)\n",
            path, TOKEN_MIN, TOKEN_MAX);
    explicit_bzero(text, sizeof text);
    return CLI_EXIT_CONFIG;
  }
  api->token = strndup(text + start, length);
  explicit_bzero(text, sizeof text);
  if (!api->token) {
    fprintf(stderr, "bridgert serve: out of memory\n");
    return CLI_EXIT_TEMPORARY;
  }
  api->token_length = length;
  return CLI_EXIT_OK;
}

int cli_api_open(cli_api *api, brt_runtime *rt, const cli_options *options) {
  memset(api, 0, sizeof *api);
  api->rt = rt;
  if (pthread_mutex_init(&api->lock, NULL) != 0) return CLI_EXIT_OS;
  if (pthread_cond_init(&api->idle, NULL) != 0) {
    pthread_mutex_destroy(&api->lock);
    return CLI_EXIT_OS;
  }
  api->max_body = options->max_body_bytes ? options->max_body_bytes : CLI_SERVE_MAX_BODY_BYTES;
  unsigned timeout_ms = options->header_timeout_ms ? options->header_timeout_ms : CLI_SERVE_HEADER_TIMEOUT_MS;
  api->idle_timeout_s = (timeout_ms + 999) / 1000;
  return options->token_file ? read_token(api, options->token_file) : CLI_EXIT_OK;
}

void cli_api_close(cli_api *api) {
  pthread_mutex_destroy(&api->lock);
  pthread_cond_destroy(&api->idle);
  if (api->token) {
    explicit_bzero(api->token, api->token_length);
    free(api->token);
  }
  api->token = NULL;
}

/* Compares in a time that depends on the expected token's length only,
 * never on where the first difference lies. */
static bool token_equal(const char *expected, size_t length, const char *given, size_t given_length) {
  volatile unsigned char difference = given_length != length;
  for (size_t i = 0; i < length; i++)
    difference |= (unsigned char)expected[i] ^ (unsigned char)(i < given_length ? given[i] : 0);
  return difference == 0;
}

static bool authorized(const cli_api *api, struct MHD_Connection *connection) {
  if (!api->token) return true;
  const char *header =
      MHD_lookup_connection_value(connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (!header || strncasecmp(header, "Bearer ", 7) != 0) return false;
  header += 7;
  while (*header == ' ') header++;
  return token_equal(api->token, api->token_length, header, strlen(header));
}

/* --- Responses ------------------------------------------------------------------ */

unsigned cli_api_http_status(brt_status status) {
  switch (status) {
    case BRT_OK: return MHD_HTTP_OK;
    case BRT_E_INVALID_ARGUMENT:
    case BRT_E_VALIDATION:
    case BRT_E_TYPE_MISMATCH:
    case BRT_E_CONVERSION:
    case BRT_E_OUT_OF_RANGE: return MHD_HTTP_BAD_REQUEST;
    case BRT_E_NOT_FOUND: return MHD_HTTP_NOT_FOUND;
    case BRT_E_TIMEOUT: return MHD_HTTP_REQUEST_TIMEOUT;
    case BRT_E_ISOLATED: return MHD_HTTP_TOO_MANY_REQUESTS;
    case BRT_E_CRASHED: return MHD_HTTP_SERVICE_UNAVAILABLE;
    default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
  }
}

/* Where an answer goes: queued on the connection at once, or, from a
 * call's own thread (connection NULL), kept until the connection resumes. */
typedef struct reply_to {
  struct MHD_Connection *connection;
  struct MHD_Response *response;
  unsigned status;
} reply_to;

/* Queues `length` bytes of `body` (copied), with one extra header or none. */
static enum MHD_Result reply(reply_to *to, unsigned status, const char *body,
                             size_t length, const char *header, const char *value) {
  struct MHD_Response *response =
      MHD_create_response_from_buffer(length, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (!response) return MHD_NO;
  MHD_add_response_header(response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  if (header) MHD_add_response_header(response, header, value);
  if (!to->connection) { /* a call's thread: queued when the connection resumes */
    to->response = response;
    to->status = status;
    return MHD_YES;
  }
  enum MHD_Result result = MHD_queue_response(to->connection, status, response);
  MHD_destroy_response(response);
  return result;
}

/* Replies with a cJSON tree (deleted here) printed compactly, and a newline. */
static enum MHD_Result reply_json(reply_to *to, unsigned status, cJSON *root,
                                  const char *header, const char *value) {
  char *text = root ? cJSON_PrintUnformatted(root) : NULL;
  cJSON_Delete(root);
  if (!text) {
    static const char out_of_memory[] =
        "{\"error\":{\"code\":\"BRT_E_OUT_OF_MEMORY\",\"origin\":\"c\",\"message\":\"out of memory\"}}\n";
    return reply(to, MHD_HTTP_INTERNAL_SERVER_ERROR, out_of_memory, sizeof out_of_memory - 1,
                 NULL, NULL);
  }
  size_t length = strlen(text);
  text[length] = '\n'; /* over the NUL: the length says where it ends */
  enum MHD_Result result = reply(to, status, text, length + 1, header, value);
  cJSON_free(text);
  return result;
}

/* `text` as a JSON string of valid UTF-8 (an invalid byte becomes U+FFFD):
 * cJSON copies bytes as they are, and the answer must be JSON. */
static cJSON *text_item(const char *text) {
  size_t length = strlen(text);
  size_t capacity = length * 3 + 1;
  char *copy = malloc(capacity);
  if (!copy) return NULL;
  _brt_utf8_copy_valid(copy, capacity, text, length);
  cJSON *item = cJSON_CreateString(copy);
  free(copy);
  return item;
}

static void add_text(cJSON *object, const char *key, const char *text) {
  cJSON *item = text_item(text);
  if (item && !cJSON_AddItemToObject(object, key, item)) cJSON_Delete(item);
}

static cJSON *error_fields(const brt_error *error) {
  cJSON *object = cJSON_CreateObject();
  if (!object) return NULL;
  cJSON_AddStringToObject(object, "code", brt_status_name(brt_error_code(error)));
  cJSON_AddStringToObject(object, "origin", brt_origin_name(brt_error_origin(error)));
  if (brt_error_type(error)) add_text(object, "type", brt_error_type(error));
  if (brt_error_os_code(error)) {
    cJSON_AddNumberToObject(object, "os_code", brt_error_os_code(error));
    if (brt_error_os_category(error)) add_text(object, "os_category", brt_error_os_category(error));
  }
  if (brt_error_path(error, 0)) {
    cJSON *paths = cJSON_AddArrayToObject(object, "paths");
    for (unsigned i = 0; paths && i < 2 && brt_error_path(error, i); i++) {
      cJSON *path = text_item(brt_error_path(error, i));
      if (path && !cJSON_AddItemToArray(paths, path)) cJSON_Delete(path);
    }
  }
  add_text(object, "message", brt_error_message(error));
  return object;
}

/* {"error": {code, origin, type?, os_code?, paths?, message, causes: [...]}}
 * from the calling thread's last error, the outermost first. */
static enum MHD_Result reply_error(reply_to *to, unsigned status) {
  const brt_error *error = brt_last_error();
  cJSON *root = cJSON_CreateObject();
  cJSON *outer = error ? error_fields(error) : NULL;
  if (root && outer) {
    cJSON_AddItemToObject(root, "error", outer);
    cJSON *causes = cJSON_AddArrayToObject(outer, "causes");
    for (const brt_error *cause = brt_error_cause(error); causes && cause; cause = brt_error_cause(cause)) {
      cJSON *item = error_fields(cause);
      if (item) cJSON_AddItemToArray(causes, item);
    }
  } else {
    cJSON_Delete(outer);
    cJSON_Delete(root);
    root = NULL;
  }
  return reply_json(to, status, root, NULL, NULL);
}

/* An error of the API itself (no brt_error behind it), in the same shape. */
static enum MHD_Result reply_refusal(reply_to *to, unsigned status,
                                     brt_status code, const char *message, const char *header,
                                     const char *value) {
  cJSON *root = cJSON_CreateObject();
  cJSON *error = cJSON_AddObjectToObject(root, "error");
  if (!error) {
    cJSON_Delete(root);
    return reply_json(to, status, NULL, NULL, NULL);
  }
  cJSON_AddStringToObject(error, "code", brt_status_name(code));
  cJSON_AddStringToObject(error, "origin", "c");
  add_text(error, "message", message);
  cJSON_AddArrayToObject(error, "causes");
  return reply_json(to, status, root, header, value);
}

/* --- GET /v1/algorithms ------------------------------------------------------- */

static int list_visit(void *ctx, const brt_algorithm *algorithm) {
  cJSON *entry = cli_algorithm_json(algorithm);
  if (!entry || !cJSON_AddItemToArray(ctx, entry)) {
    cJSON_Delete(entry);
    return 1;
  }
  return 0;
}

static enum MHD_Result list_algorithms(cli_api *api, reply_to *to) {
  cJSON *root = cJSON_CreateObject();
  cJSON *array = cJSON_AddArrayToObject(root, "algorithms");
  if (!array) {
    cJSON_Delete(root);
    return reply_json(to, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL, NULL, NULL);
  }
  brt_status status = brt_algorithms_list(api->rt, list_visit, array);
  if (status != BRT_OK) {
    cJSON_Delete(root);
    return reply_error(to, cli_api_http_status(status));
  }
  return reply_json(to, MHD_HTTP_OK, root, NULL, NULL);
}

/* --- POST /v1/algorithms/NAME:call ------------------------------------------- */

typedef struct api_request {
  char name[BRT_ALGORITHM_NAME_MAX + BRT_ALGORITHM_VERSION_MAX + 2];
  char *body;
  size_t length, capacity;
  bool too_large;
  bool called;          /* the call ran; its answer is in `answer` */
  cli_api *api;         /* for the call's thread */
  struct MHD_Connection *connection; /* suspended while the call runs */
  reply_to answer;
} api_request;

void cli_api_request_done(void *request_state) {
  api_request *request = request_state;
  if (!request) return;
  if (request->answer.response) MHD_destroy_response(request->answer.response);
  free(request->body);
  free(request);
}

/* NAME or NAME@VERSION as the registry spells them ([a-z0-9_.-] and a
 * semantic version): anything else (a '/', "%2F" decoded, a NUL, spaces,
 * upper case) names no algorithm and never reaches the runtime. */
static bool valid_name(const char *name, size_t length) {
  const char *at = memchr(name, '@', length);
  size_t name_length = at ? (size_t)(at - name) : length;
  if (name_length == 0 || name_length > BRT_ALGORITHM_NAME_MAX) return false;
  for (size_t i = 0; i < name_length; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  }
  if (!at) return true;
  size_t version_length = length - name_length - 1;
  if (version_length == 0 || version_length > BRT_ALGORITHM_VERSION_MAX) return false;
  for (size_t i = name_length + 1; i < length; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
          c == '-' || c == '+'))
      return false;
  }
  return true;
}

/* Appends a piece of the body; past the limit the rest is dropped. */
static void take_body(api_request *request, size_t max_body, const char *data, size_t size) {
  if (request->too_large) return;
  if (size > max_body - request->length) {
    request->too_large = true;
    free(request->body);
    request->body = NULL;
    request->length = request->capacity = 0;
    return;
  }
  if (request->length + size > request->capacity) {
    size_t capacity = request->capacity ? request->capacity : 4096;
    while (capacity < request->length + size) capacity *= 2;
    if (capacity > max_body) capacity = max_body;
    char *grown = realloc(request->body, capacity);
    if (!grown) { /* answered as too large: the server cannot hold it */
      request->too_large = true;
      free(request->body);
      request->body = NULL;
      request->length = request->capacity = 0;
      return;
    }
    request->body = grown;
    request->capacity = capacity;
  }
  memcpy(request->body + request->length, data, size);
  request->length += size;
}

static enum MHD_Result too_large(cli_api *api, reply_to *to) {
  char message[160];
  snprintf(message, sizeof message, "the request body is larger than %zu bytes (--max-body-bytes)",
           api->max_body);
  return reply_refusal(to, 413 /* Content Too Large */, BRT_E_LIMIT_EXCEEDED, message, NULL, NULL);
}

static enum MHD_Result call_algorithm(cli_api *api, reply_to *to,
                                      const api_request *request) {
  /* No body is no parameters, as `bridgert call` without --params. */
  const char *text = request->length ? request->body : "{}";
  size_t length = request->length ? request->length : 2;
  brt_json_options options;
  brt_json_options_default(&options);
  brt_value *params = brt_value_from_json_ex(text, length, &options, NULL);
  if (!params) return reply_error(to, MHD_HTTP_BAD_REQUEST); /* not JSON, too deep, ... */
  brt_value *result = NULL;
  brt_status status = brt_call(api->rt, request->name, params, &result);
  brt_value_release(params);
  if (status != BRT_OK) return reply_error(to, cli_api_http_status(status));
  char *json = brt_value_to_json(result, 0);
  brt_value_release(result);
  if (!json) return reply_error(to, MHD_HTTP_INTERNAL_SERVER_ERROR); /* NaN, bytes */
  size_t json_length = strlen(json);
  char *body = malloc(json_length + 1);
  enum MHD_Result answer;
  if (body) {
    memcpy(body, json, json_length);
    body[json_length] = '\n';
    answer = reply(to, MHD_HTTP_OK, body, json_length + 1, NULL, NULL);
    free(body);
  } else {
    answer = reply_refusal(to, MHD_HTTP_INTERNAL_SERVER_ERROR, BRT_E_OUT_OF_MEMORY,
                           "out of memory", NULL, NULL);
  }
  brt_release(json);
  return answer;
}

/* The headers of a call are in: checks what can be checked before the
 * body, and keeps the request. */
static enum MHD_Result start_call(cli_api *api, reply_to *to, const char *name,
                                  size_t name_length, void **request_state, bool *body_pending) {
  if (!valid_name(name, name_length)) {
    char message[160];
    snprintf(message, sizeof message,
             "not an algorithm name: NAME or NAME@VERSION, NAME of [a-z0-9_.-]{1,%d}",
             BRT_ALGORITHM_NAME_MAX);
    return reply_refusal(to, MHD_HTTP_BAD_REQUEST, BRT_E_INVALID_ARGUMENT, message, NULL, NULL);
  }
  const char *declared =
      MHD_lookup_connection_value(to->connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (declared) {
    errno = 0;
    char *end;
    unsigned long long bytes = strtoull(declared, &end, 10);
    if (errno || *end || bytes > api->max_body) return too_large(api, to);
  }
  api_request *request = calloc(1, sizeof *request);
  if (!request)
    return reply_refusal(to, MHD_HTTP_SERVICE_UNAVAILABLE, BRT_E_OUT_OF_MEMORY,
                         "out of memory", NULL, NULL);
  memcpy(request->name, name, name_length);
  request->name[name_length] = '\0';
  request->api = api;
  *request_state = request;
  *body_pending = true;
  return MHD_YES;
}

bool cli_api_owns(const char *url) { return strncmp(url, API_PREFIX, strlen(API_PREFIX)) == 0; }

/* A call's own thread: runs the call, keeps the answer, resumes the
 * connection. The request belongs to the connection again from the resume
 * on (it may be answered and freed at once): nothing here touches it after. */
static void *call_thread(void *arg) {
  api_request *request = arg;
  cli_api *api = request->api;
  struct MHD_Connection *connection = request->connection;
  call_algorithm(api, &request->answer, request);
  request->called = true;
  MHD_resume_connection(connection);
  pthread_mutex_lock(&api->lock);
  if (--api->in_flight == 0) pthread_cond_broadcast(&api->idle);
  pthread_mutex_unlock(&api->lock);
  return NULL;
}

/* Runs the call on a thread of its own, the connection suspended
 * meanwhile, so that libmicrohttpd's thread goes on serving the others. */
static enum MHD_Result start_call_thread(cli_api *api, struct MHD_Connection *connection,
                                         api_request *request) {
  request->connection = connection;
  pthread_mutex_lock(&api->lock);
  api->in_flight++;
  pthread_mutex_unlock(&api->lock);
  MHD_suspend_connection(connection);
  pthread_attr_t attributes;
  pthread_t thread;
  int error = pthread_attr_init(&attributes);
  if (!error) {
    pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    error = pthread_create(&thread, &attributes, call_thread, request);
    pthread_attr_destroy(&attributes);
  }
  if (error) {
    /* No thread to be had: answered now (the server is overloaded). */
    reply_refusal(&request->answer, MHD_HTTP_SERVICE_UNAVAILABLE, BRT_E_OUT_OF_MEMORY,
                  "the server cannot start a thread for the call; retry later", "Retry-After", "1");
    request->called = true;
    MHD_resume_connection(connection);
    pthread_mutex_lock(&api->lock);
    api->in_flight--;
    pthread_mutex_unlock(&api->lock);
  }
  return MHD_YES;
}

void cli_api_drain(cli_api *api) {
  pthread_mutex_lock(&api->lock);
  while (api->in_flight) pthread_cond_wait(&api->idle, &api->lock);
  pthread_mutex_unlock(&api->lock);
}

enum MHD_Result cli_api_handle(cli_api *api, struct MHD_Connection *connection, const char *url,
                               const char *method, const char *upload_data, size_t *upload_size,
                               void **request_state, bool *body_pending) {
  *body_pending = false;
  api_request *request = *request_state;
  reply_to to = {connection, NULL, 0};
  if (request) {
    if (*upload_size) { /* a piece of the body */
      take_body(request, api->max_body, upload_data, *upload_size);
      *upload_size = 0;
      *body_pending = true;
      return MHD_YES;
    }
    if (request->too_large) return too_large(api, &to);
    if (!request->called) return start_call_thread(api, connection, request);
    /* Resumed: the call's answer. */
    if (!request->answer.response) return MHD_NO;
    enum MHD_Result result =
        MHD_queue_response(connection, request->answer.status, request->answer.response);
    MHD_destroy_response(request->answer.response);
    request->answer.response = NULL;
    /* The idle timeout ran during the call, which may have been longer:
     * restarted, it bounds the client's reading of the answer only. */
    MHD_set_connection_option(connection, MHD_CONNECTION_OPTION_TIMEOUT, api->idle_timeout_s);
    return result;
  }
  if (!authorized(api, connection))
    return reply_refusal(&to, MHD_HTTP_UNAUTHORIZED, BRT_E_PERMISSION,
                         "this server needs 'Authorization: Bearer TOKEN' (its --token-file)",
                         MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"bridgert\"");
  bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
  if (strcmp(url, LIST_PATH) == 0) {
    if (!get)
      return reply_refusal(&to, MHD_HTTP_METHOD_NOT_ALLOWED, BRT_E_UNSUPPORTED,
                           "GET " LIST_PATH " lists the algorithms", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    return list_algorithms(api, &to);
  }
  size_t length = strlen(url), prefix = strlen(CALL_PREFIX), suffix = strlen(CALL_SUFFIX);
  if (length > prefix + suffix && strncmp(url, CALL_PREFIX, prefix) == 0 &&
      strcmp(url + length - suffix, CALL_SUFFIX) == 0) {
    if (strcmp(method, MHD_HTTP_METHOD_POST) != 0)
      return reply_refusal(&to, MHD_HTTP_METHOD_NOT_ALLOWED, BRT_E_UNSUPPORTED,
                           "an algorithm is called with POST", MHD_HTTP_HEADER_ALLOW, "POST");
    return start_call(api, &to, url + prefix, length - prefix - suffix, request_state,
                      body_pending);
  }
  return reply_refusal(&to, MHD_HTTP_NOT_FOUND, BRT_E_NOT_FOUND,
                       "no such endpoint: POST " CALL_PREFIX "NAME" CALL_SUFFIX ", GET " LIST_PATH,
                       NULL, NULL);
}
