/* `bridgert-worker serve`: one worker process of an isolated plugin.
 *
 *   bridgert-worker serve --name PATH --worker N --memory-limit BYTES [--sandbox]
 *
 * Descriptors from the host: 3 its socket (SOCK_SEQPACKET), 4 the plugin's
 * directory as the host checked it (O_PATH), 5 the read end of the host's
 * lifeline pipe. The worker drops every other inherited descriptor, enters
 * the sandbox when asked, sets its limits, loads the plugin from that
 * directory into a runtime of its own (brt_plugin_load_at), says HELLO with the
 * plugin's algorithms and then serves one call at a time until the host
 * closes the socket. A thread watches the lifeline: when the host is gone,
 * however it went, the worker exits even in the middle of a call. */
#include "worker.h"

#include "protocol.h"
#include "sandbox.h"

#include <bridgert.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

enum { FD_SOCKET = 3, FD_PLUGIN = 4, FD_LIFELINE = 5 };

/* Results larger than the shared arena's blocks travel by reference (see
 * isolation/proxy.c: the host maps the block's own memfd). */
#define RESULT_BY_REF_MIN ((size_t)64 * 1024 + 1)

typedef struct served {
  char *label; /* "name@version" */
  brt_prepared *prepared; /* native algorithms */
  const char *signature;  /* of the prepared handle */
} served;

typedef struct worker_state {
  brt_runtime *rt;
  served *algorithms;
  uint32_t count, capacity;
  brt_wire_buf hello;
  brt_status failure; /* recorded when describing an algorithm failed */
} worker_state;

static void *watch_lifeline(void *unused) {
  (void)unused;
  struct pollfd pfd = {.fd = FD_LIFELINE, .events = POLLIN};
  for (;;) {
    int ready = poll(&pfd, 1, -1);
    if (ready > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLIN))) _exit(0);
  }
  return NULL;
}

/* --- Mappings kept across calls ---------------------------------------------
 *
 * A host that sends the same SHARED tensor call after call would otherwise
 * have it mapped, faulted in page by page and unmapped each time: for a
 * large tensor that costs far more than the call. The worker keeps the
 * mappings of the last few memfd ranges it was sent (each a MAPPED block it
 * holds one reference to) and hands out another reference on a hit. The
 * bytes stay coherent (MAP_SHARED of the same memfd); a memfd's inode
 * cannot be reused while a mapping of it exists, so a key never names
 * another memfd. Bounded by count and bytes: evicted entries are released,
 * and the mapping goes when the last tensor holding it does. Only the
 * serving thread decodes, so the cache needs no lock. */

#define MAPPINGS_MAX 8
#define MAPPINGS_BYTES_MAX ((uint64_t)1 << 30)

typedef struct kept_mapping {
  dev_t dev;
  ino_t ino;
  uint64_t offset;
  size_t len;
  void *block; /* our reference, or NULL: a free slot */
  uint64_t last_use;
} kept_mapping;

static kept_mapping mappings[MAPPINGS_MAX];
static uint64_t mapping_clock;

static void mapping_drop(kept_mapping *m) {
  brt_release(m->block);
  m->block = NULL;
}

static void *map_kept(int fd, const struct stat *st, uint64_t offset, size_t len) {
  mapping_clock++;
  uint64_t kept_bytes = 0;
  for (int i = 0; i < MAPPINGS_MAX; i++) {
    kept_mapping *m = &mappings[i];
    if (!m->block) continue;
    if (m->dev == st->st_dev && m->ino == st->st_ino && m->offset == offset && m->len == len &&
        brt_retain(m->block) == BRT_OK) {
      m->last_use = mapping_clock;
      return m->block;
    }
    kept_bytes += m->len;
  }
  void *block = brt_map_fd(fd, offset, len, BRT_MAP_WRITABLE);
  if (!block && _brt_null_status("brt_map_fd") == BRT_E_LIMIT_EXCEEDED && kept_bytes) {
    /* Kept mappings count against the worker's memory limit: let them go
     * before refusing a tensor of this call. */
    for (int i = 0; i < MAPPINGS_MAX; i++)
      if (mappings[i].block) mapping_drop(&mappings[i]);
    kept_bytes = 0;
    block = brt_map_fd(fd, offset, len, BRT_MAP_WRITABLE);
  }
  if (!block) return NULL;
  /* Make room: the least recently used go first. */
  for (;;) {
    kept_mapping *oldest = NULL, *free_slot = NULL;
    for (int i = 0; i < MAPPINGS_MAX; i++) {
      if (!mappings[i].block) free_slot = &mappings[i];
      else if (!oldest || mappings[i].last_use < oldest->last_use) oldest = &mappings[i];
    }
    if (free_slot && kept_bytes + len <= MAPPINGS_BYTES_MAX) {
      if (brt_retain(block) == BRT_OK)
        *free_slot = (kept_mapping){st->st_dev, st->st_ino, offset, len, block, mapping_clock};
      return block;
    }
    if (!oldest) return block; /* larger than the bound: not kept */
    kept_bytes -= oldest->len;
    mapping_drop(oldest);
  }
}

/* --- HELLO --------------------------------------------------------------------- */

static brt_status describe_oom(const brt_algorithm *algorithm) {
  return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                       "out of memory describing algorithm \"%s\" of the plugin", algorithm->name);
}

static int describe_algorithm(void *ctx, const brt_algorithm *algorithm) {
  worker_state *state = ctx;
  if (state->count == state->capacity) {
    uint32_t capacity = state->capacity ? state->capacity * 2 : 16;
    served *grown = realloc(state->algorithms, capacity * sizeof *grown);
    if (!grown) return state->failure = describe_oom(algorithm), 1;
    state->algorithms = grown;
    state->capacity = capacity;
  }
  served *entry = &state->algorithms[state->count];
  memset(entry, 0, sizeof *entry);
  size_t size = strlen(algorithm->name) + strlen(algorithm->version) + 2;
  entry->label = malloc(size);
  if (!entry->label) return state->failure = describe_oom(algorithm), 1;
  snprintf(entry->label, size, "%s@%s", algorithm->name, algorithm->version);
  if (algorithm->native_fn) {
    entry->prepared = brt_prepare(state->rt, entry->label);
    if (!entry->prepared) {
      free(entry->label);
      return state->failure = _brt_null_status("brt_prepare"), 1;
    }
    entry->signature = brt_prepared_signature(entry->prepared);
  }
  state->count++;
  brt_wire_buf *b = &state->hello;
  _brt_isolation_wire_put_str(b, algorithm->name);
  _brt_isolation_wire_put_str(b, algorithm->version);
  _brt_isolation_wire_put_str(b, algorithm->description);
  _brt_isolation_wire_put_str(b, algorithm->input_schema);
  _brt_isolation_wire_put_str(b, algorithm->output_schema);
  _brt_isolation_wire_put_str(b, entry->signature);
  _brt_isolation_wire_put_u32(b, algorithm->timeout_ms);
  _brt_isolation_wire_put_u64(b, algorithm->memory_limit);
  _brt_isolation_wire_put_u8(b, algorithm->value_fn != NULL);
  return 0;
}

/* Sends the thread's last error as the message `kind` (LOAD_FAILED, or a
 * failed RESULT). */
static int send_error(uint32_t kind, uint64_t id) {
  brt_wire_buf body = {0};
  if (kind == BRT_MSG_RESULT) _brt_isolation_wire_put_u8(&body, 1);
  const brt_error *error = brt_last_error();
  if (!error) {
    brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "the worker failed without an error");
    error = brt_last_error();
  }
  /* The worker's registry names the algorithm in the error it wraps around
   * the algorithm's own; the host's registry does the same, so the worker
   * sends the algorithm's own error and the host's message reads as it
   * would without isolation. */
  if (kind == BRT_MSG_RESULT && brt_error_cause(error) &&
      strncmp(brt_error_message(error), "algorithm \"", 11) == 0 &&
      strstr(brt_error_message(error), "\" failed: "))
    error = brt_error_cause(error);
  _brt_isolation_wire_error_put(&body, error);
  int err = _brt_isolation_message_send(FD_SOCKET, kind, id, &body, NULL);
  _brt_isolation_wire_buf_free(&body);
  return err;
}

/* --- Calls ------------------------------------------------------------------------ */

static int serve_value(worker_state *state, const served *entry, brt_message *call,
                       brt_wire_reader *r) {
  brt_value *params = _brt_isolation_wire_value_get(r, call->fds, call->fd_count);
  if (!params) return send_error(BRT_MSG_RESULT, call->id);
  brt_value *result = NULL;
  brt_status status = brt_call(state->rt, entry->label, params, &result);
  brt_value_release(params);
  if (status != BRT_OK) return send_error(BRT_MSG_RESULT, call->id);
  brt_wire_buf body = {0};
  brt_wire_fds fds = {0};
  _brt_isolation_wire_put_u8(&body, 0);
  status = _brt_isolation_wire_value_put(&body, &fds, result, RESULT_BY_REF_MIN);
  int err = status == BRT_OK && !body.failed
                ? _brt_isolation_message_send(FD_SOCKET, BRT_MSG_RESULT, call->id, &body, &fds)
                : send_error(BRT_MSG_RESULT, call->id);
  _brt_isolation_wire_buf_free(&body);
  /* Sent: the host has its own descriptors of any memfd by now. */
  brt_value_release(result);
  return err;
}

/* The size in memory of each native type name. */
static size_t native_size(const char *name, size_t len) {
  static const struct {
    const char *name;
    size_t size;
  } sizes[] = {{"i8", 1},  {"u8", 1},  {"bool", 1}, {"i16", 2}, {"u16", 2}, {"i32", 4}, {"u32", 4},
               {"f32", 4}, {"i64", 8}, {"u64", 8},  {"f64", 8}, {"ptr", 8}, {"str", 8}, {"void", 0}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    if (strlen(sizes[i].name) == len && memcmp(sizes[i].name, name, len) == 0) return sizes[i].size;
  return 0;
}

typedef struct native_call {
  uint64_t slots[BRT_SIGNATURE_MAX_ARGS];
  void *args[BRT_SIGNATURE_MAX_ARGS];
  char *strings[BRT_SIGNATURE_MAX_ARGS];
  void *maps[BRT_SIGNATURE_MAX_ARGS];
  size_t map_sizes[BRT_SIGNATURE_MAX_ARGS];
  void *copies[BRT_SIGNATURE_MAX_ARGS]; /* copied ptr arguments */
  size_t copy_sizes[BRT_SIGNATURE_MAX_ARGS];
} native_call;

static void native_call_free(native_call *c, uint32_t count) {
  for (uint32_t i = 0; i < count; i++) {
    free(c->strings[i]);
    free(c->copies[i]);
    if (c->maps[i]) munmap(c->maps[i], c->map_sizes[i]);
  }
}

/* Decodes argument i of type `type` (the signature's text for it). */
static brt_status native_argument(native_call *c, uint32_t i, const char *type, size_t len,
                                  const brt_message *call, brt_wire_reader *r) {
  c->args[i] = &c->slots[i];
  if (len == 3 && memcmp(type, "str", 3) == 0) {
    size_t n = 0;
    const char *bytes = _brt_isolation_wire_get_bytes(r, &n);
    if (r->failed) return r->status;
    c->strings[i] = malloc(n + 1);
    if (!c->strings[i])
      return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL, "out of memory for argument %u", i);
    memcpy(c->strings[i], bytes, n);
    c->strings[i][n] = '\0';
    memcpy(&c->slots[i], &c->strings[i], sizeof(char *));
    return BRT_OK;
  }
  if (len == 3 && memcmp(type, "ptr", 3) == 0) {
    uint32_t index = _brt_isolation_wire_get_u32(r);
    if (index == UINT32_MAX) return r->failed ? r->status : BRT_OK; /* NULL */
    if (index == UINT32_MAX - 1) { /* a small block, copied: sent back after the call */
      size_t n = 0;
      const void *bytes = _brt_isolation_wire_get_bytes(r, &n);
      if (r->failed) return r->status;
      c->copies[i] = malloc(n ? n : 1);
      if (!c->copies[i])
        return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL, "out of memory for argument %u", i);
      memcpy(c->copies[i], bytes, n);
      c->copy_sizes[i] = n;
      memcpy(&c->slots[i], &c->copies[i], sizeof(void *));
      return BRT_OK;
    }
    uint64_t offset = _brt_isolation_wire_get_u64(r), length = _brt_isolation_wire_get_u64(r);
    if (r->failed) return r->status;
    if (index >= call->fd_count || length == 0 || length > SIZE_MAX / 2)
      return brt_error_set(BRT_E_CONVERSION, BRT_ORIGIN_C, NULL,
                           "argument %u: descriptor %u of %zu, %" PRIu64 " bytes", i, index,
                           call->fd_count, length);
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    uint64_t start = offset - offset % page;
    size_t size = (size_t)(length + (offset - start));
    void *map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, call->fds[index], (off_t)start);
    if (map == MAP_FAILED)
      return brt_error_set_os(BRT_E_IO, errno, "argument %u: cannot map the host's SHARED block: %s",
                              i, strerror(errno));
    c->maps[i] = map;
    c->map_sizes[i] = size;
    void *pointer = (char *)map + (offset - start);
    memcpy(&c->slots[i], &pointer, sizeof pointer);
    return BRT_OK;
  }
  uint64_t bits = _brt_isolation_wire_get_u64(r);
  if (r->failed) return r->status;
  memcpy(&c->slots[i], &bits, native_size(type, len)); /* little-endian: the low bytes */
  return BRT_OK;
}

static int serve_native(const served *entry, brt_message *call, brt_wire_reader *r) {
  if (!entry->prepared) {
    brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL, "%s has no native function", entry->label);
    return send_error(BRT_MSG_RESULT, call->id);
  }
  uint32_t argc = _brt_isolation_wire_get_u32(r);
  native_call c;
  memset(&c, 0, sizeof c);
  const char *sig = entry->signature, *open = strchr(sig, '(');
  size_t ret_size = native_size(sig, (size_t)(open - sig));
  const char *at = open + 1;
  uint32_t decoded = 0;
  brt_status status = r->failed ? r->status : BRT_OK;
  if (status == BRT_OK && argc > BRT_SIGNATURE_MAX_ARGS)
    status = brt_error_set(BRT_E_CONVERSION, BRT_ORIGIN_C, NULL,
                           "the host's native call has %u arguments, more than %d", argc,
                           BRT_SIGNATURE_MAX_ARGS);
  for (; status == BRT_OK && decoded < argc; decoded++) {
    const char *stop = at + strcspn(at, ",)");
    status = native_argument(&c, decoded, at, (size_t)(stop - at), call, r);
    at = *stop ? stop + 1 : stop;
  }
  uint64_t ret = 0;
  if (status == BRT_OK) status = brt_invoke(entry->prepared, ret_size ? &ret : NULL, c.args);
  if (status != BRT_OK) {
    native_call_free(&c, decoded);
    return send_error(BRT_MSG_RESULT, call->id);
  }
  brt_wire_buf body = {0};
  _brt_isolation_wire_put_u8(&body, 0);
  _brt_isolation_wire_put_u64(&body, ret);
  /* What the function wrote into copied ptr arguments goes back. */
  for (uint32_t i = 0; i < decoded; i++)
    if (c.copies[i]) _brt_isolation_wire_put_bytes(&body, c.copies[i], c.copy_sizes[i]);
  native_call_free(&c, decoded);
  int err = _brt_isolation_message_send(FD_SOCKET, BRT_MSG_RESULT, call->id, &body, NULL);
  _brt_isolation_wire_buf_free(&body);
  return err;
}

static int serve_calls(worker_state *state) {
  for (;;) {
    brt_message call;
    char why[256];
    int err = _brt_isolation_message_receive(FD_SOCKET, 0, &call, why, sizeof why);
    if (err == ECONNRESET) return 0; /* the host closed: done */
    if (err != 0) {
      fprintf(stderr, "bridgert-worker: %s\n", err == EPROTO ? why : strerror(err));
      return 1;
    }
    brt_wire_reader r = {.data = call.body, .len = call.body_len};
    uint32_t index = _brt_isolation_wire_get_u32(&r);
    (void)_brt_isolation_wire_get_u64(&r); /* ms left: the host enforces the deadline */
    brt_error_clear();
    if (r.failed || index >= state->count) {
      if (!r.failed)
        brt_error_set(BRT_E_CONVERSION, BRT_ORIGIN_C, NULL, "call for algorithm %u of %u", index,
                      state->count);
      err = send_error(BRT_MSG_RESULT, call.id);
    } else if (call.kind == BRT_MSG_CALL_VALUE) {
      err = serve_value(state, &state->algorithms[index], &call, &r);
    } else if (call.kind == BRT_MSG_CALL_NATIVE) {
      err = serve_native(&state->algorithms[index], &call, &r);
    } else {
      brt_error_set(BRT_E_CONVERSION, BRT_ORIGIN_C, NULL, "unknown message kind %u", call.kind);
      err = send_error(BRT_MSG_RESULT, call.id);
    }
    _brt_isolation_message_free(&call);
    if (err != 0) return err == EPIPE || err == ECONNRESET ? 0 : 1;
  }
}

/* --- Start ---------------------------------------------------------------------------- */

typedef struct serve_options {
  const char *name;
  const char *worker;
  uint64_t memory_limit;
  bool sandbox;
} serve_options;

static bool parse_options(int argc, char **argv, serve_options *out) {
  memset(out, 0, sizeof *out);
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--sandbox") == 0) {
      out->sandbox = true;
    } else if (i + 1 < argc && strcmp(argv[i], "--name") == 0) {
      out->name = argv[++i];
    } else if (i + 1 < argc && strcmp(argv[i], "--worker") == 0) {
      out->worker = argv[++i];
    } else if (i + 1 < argc && strcmp(argv[i], "--memory-limit") == 0) {
      char *end = NULL;
      errno = 0;
      unsigned long long value = strtoull(argv[++i], &end, 10);
      if (errno || !end || *end || argv[i][0] == '-') return false;
      out->memory_limit = value;
    } else {
      return false;
    }
  }
  return out->name != NULL;
}

/* Enters the sandbox or sets the plain limits; UNSUPPORTED with the reason
 * when the sandbox cannot be built. In the sandbox the host's directory
 * descriptor is replaced by the sandbox's read-only view of the same
 * directory (the same inode): a descriptor of the host's mount would reach
 * around the sandbox's read-only file system. */
static brt_status confine(const serve_options *options) {
  if (options->sandbox) {
    struct stat host_dir;
    if (fstat(FD_PLUGIN, &host_dir) != 0)
      return brt_error_set_os(BRT_E_IO, errno, "the plugin directory descriptor: %s",
                              strerror(errno));
    /* Visible read-only: the plugin's directory, and the directory of the
     * libbridgert it links (a build tree under /tmp would be hidden by the
     * sandbox's own /tmp; an installed one is visible anyway). */
    char dir[PATH_MAX], library[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", options->name);
    const char *readonly[2] = {dirname(dir), NULL};
    size_t readonly_count = 1;
    Dl_info where;
    if (dladdr((void *)(uintptr_t)&brt_version, &where) && where.dli_fname &&
        realpath(where.dli_fname, library))
      readonly[readonly_count++] = dirname(library);
    brt_sandbox_spec spec = {.readonly_paths = readonly,
                             .readonly_count = readonly_count,
                             .memory_limit = options->memory_limit};
    char why[512];
    if (_brt_sandbox_enter(&spec, why, sizeof why) != 0)
      return brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_OS, NULL,
                           "the sandbox for plugin \"%s\" cannot be built on this system: %s",
                           options->name, why);
    snprintf(dir, sizeof dir, "%s", options->name);
    int view = open(dirname(dir), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    struct stat view_st;
    if (view < 0 || fstat(view, &view_st) != 0 || view_st.st_dev != host_dir.st_dev ||
        view_st.st_ino != host_dir.st_ino) {
      if (view >= 0) close(view);
      return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_OS, NULL,
                           "the sandbox does not show the directory of plugin \"%s\" that the "
                           "host checked",
                           options->name);
    }
    dup3(view, FD_PLUGIN, O_CLOEXEC);
    close(view);
  } else {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    if (options->memory_limit) {
      struct rlimit data = {options->memory_limit, options->memory_limit};
      if (setrlimit(RLIMIT_DATA, &data) != 0)
        return brt_error_set_os(BRT_E_UNSUPPORTED, errno, "cannot limit the worker's memory to "
                                "%" PRIu64 " bytes: %s", options->memory_limit, strerror(errno));
    }
  }
  if (options->memory_limit) brt_mem_set_limit(options->memory_limit);
  return BRT_OK;
}

int worker_serve_main(int argc, char **argv) {
  serve_options options;
  if (!parse_options(argc, argv, &options)) {
    fprintf(stderr, "bridgert-worker serve: started by hand or with bad options; this program "
                    "is started by a bridgert host (docs/isolation.md)\n");
    return 64;
  }
  /* Only our three descriptors: nothing else of the host's leaks into the
   * plugin's reach. */
  close_range(FD_LIFELINE + 1, ~0u, 0);
  worker_state state = {0};
  _brt_isolation_wire_set_mapper(map_kept);
  brt_status status = confine(&options);
  if (status == BRT_OK) {
    pthread_t watcher;
    if (pthread_create(&watcher, NULL, watch_lifeline, NULL) == 0) pthread_detach(watcher);
    brt_config cfg;
    brt_config_default(&cfg);
    cfg.default_timeout_ms = 0; /* the host enforces every deadline */
    state.rt = brt_runtime_open(&cfg);
    const char *file = strrchr(options.name, '/');
    status = state.rt ? brt_plugin_load_at(state.rt, FD_PLUGIN, file ? file + 1 : options.name)
                      : _brt_null_status("brt_runtime_open");
  }
  if (status == BRT_OK) {
    close(FD_PLUGIN);
    _brt_isolation_wire_put_u32(&state.hello, 0); /* the count, patched below */
    brt_algorithms_list(state.rt, describe_algorithm, &state);
    if (state.failure != BRT_OK)
      status = state.failure;
    else if (state.hello.failed)
      status = brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                             "out of memory describing the plugin");
  }
  int err;
  if (status != BRT_OK) {
    err = send_error(BRT_MSG_LOAD_FAILED, 0);
  } else {
    memcpy(state.hello.data, &state.count, sizeof state.count); /* little-endian u32 */
    err = _brt_isolation_message_send(FD_SOCKET, BRT_MSG_HELLO, 0, &state.hello, NULL);
  }
  _brt_isolation_wire_buf_free(&state.hello);
  int code = status == BRT_OK && err == 0 ? serve_calls(&state) : (err ? 1 : 0);
  /* _exit: no exit handlers, no leak report at the end of a process that
   * may be inside a sandbox that refuses ptrace. */
  _exit(code);
}
