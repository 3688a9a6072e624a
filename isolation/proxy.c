/* Proxies: what the registry holds for each algorithm of an isolated
 * plugin. A proxy has the algorithm's name, version, description, input
 * schema and signature, so the registry validates params in the host and
 * lists, prepares and monitors it like any other; its value function and
 * its native thunk send the call to a worker and turn the answer (or the
 * worker's death) into the call's result.
 *
 * What crosses without a copy: tensor data in SHARED blocks, both ways, and
 * the bytes behind `ptr` arguments, which must be SHARED blocks (the worker
 * maps the same memfd). Everything else is copied into the message. */
#include "pool_internal.h"
#include "core/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tensor data and `ptr` arguments travel by reference only when their
 * SHARED block has a memfd of its own (blocks above the shared arena's
 * 64 KiB): an arena segment's memfd holds other blocks too (the host's
 * blocks the worker must not see; the worker's blocks it reuses once its
 * result is released), while a memfd of its own lives on in the mapping. */
#define BY_REF_MIN ((size_t)64 * 1024 + 1)

/* --- Signatures ---------------------------------------------------------------- */

static const struct {
  const char *name;
  unsigned size;
} type_table[] = {
    [PT_VOID] = {"void", 0}, [PT_I8] = {"i8", 1},   [PT_I16] = {"i16", 2}, [PT_I32] = {"i32", 4},
    [PT_I64] = {"i64", 8},   [PT_U8] = {"u8", 1},   [PT_U16] = {"u16", 2}, [PT_U32] = {"u32", 4},
    [PT_U64] = {"u64", 8},   [PT_F32] = {"f32", 4}, [PT_F64] = {"f64", 8}, [PT_BOOL] = {"bool", 1},
    [PT_PTR] = {"ptr", 8},   [PT_STR] = {"str", 8},
};

static bool type_named(const char *text, size_t len, proxy_type *out) {
  for (unsigned t = 0; t < sizeof type_table / sizeof type_table[0]; t++)
    if (strlen(type_table[t].name) == len && memcmp(type_table[t].name, text, len) == 0)
      return *out = (proxy_type)t, true;
  return false;
}

/* Reads the canonical signature text the worker's registry produced
 * ("f64(ptr,ptr,u64)"; "void()" for none). The host's registry parses it
 * again, with every check, when the proxy is registered. */
static bool signature_read(proxy *p, const char *text) {
  const char *open = strchr(text, '(');
  size_t len = strlen(text);
  if (!open || len < 2 || text[len - 1] != ')' || !type_named(text, (size_t)(open - text), &p->ret))
    return false;
  p->arg_count = 0;
  const char *at = open + 1, *end = text + len - 1;
  if (at == end || (end - at == 4 && memcmp(at, "void", 4) == 0)) return true;
  while (at <= end) {
    const char *comma = memchr(at, ',', (size_t)(end - at));
    const char *stop = comma ? comma : end;
    if (p->arg_count == BRT_SIGNATURE_MAX_ARGS ||
        !type_named(at, (size_t)(stop - at), &p->args[p->arg_count]) ||
        p->args[p->arg_count] == PT_VOID)
      return false;
    p->arg_count++;
    at = stop + 1;
  }
  return true;
}

/* --- Calls ------------------------------------------------------------------------ */

/* The hard deadline of a call: the pool's timeout, else the algorithm's,
 * else the runtime default (carried in the proxy's desc.timeout_ms or the
 * call frame), whichever ends first. 0: none. */
static uint64_t call_deadline(const proxy *p) {
  uint64_t now = _brt_now_ns();
  uint32_t ms = p->pool->hard_timeout_ms ? p->pool->hard_timeout_ms
                : p->desc.timeout_ms     ? p->desc.timeout_ms
                                         : p->pool->default_timeout_ms;
  uint64_t deadline = ms ? now + (uint64_t)ms * 1000000u : 0;
  uint64_t frame = p->pool->call_deadline ? p->pool->call_deadline() : 0;
  if (frame && (!deadline || frame < deadline)) deadline = frame;
  return deadline;
}

static uint64_t ms_left(uint64_t deadline_ns) {
  if (!deadline_ns) return 0;
  uint64_t now = _brt_now_ns();
  return deadline_ns > now ? (deadline_ns - now + 999999u) / 1000000u : 1;
}

/* Runs one call on a worker and leaves the reply's body in *reply (a RESULT
 * whose first byte was 0); a failure reported by the worker (first byte 1)
 * becomes this thread's error. */
static brt_status run_call(const proxy *p, uint32_t kind, brt_wire_buf *body,
                           const brt_wire_fds *fds, uint64_t deadline_ns, brt_message *reply,
                           brt_wire_reader *r) {
  if (body->failed)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "%s: out of memory encoding the call", p->label);
  worker *w = NULL;
  brt_status status = _brt_isolation_worker_acquire(p->pool, deadline_ns, p->label, &w);
  if (status != BRT_OK) return status;
  status =
      _brt_isolation_worker_call(p->pool, w, kind, body, fds, deadline_ns, p->label, reply);
  _brt_isolation_worker_release(p->pool, w);
  if (status != BRT_OK) return status;
  *r = (brt_wire_reader){.data = reply->body, .len = reply->body_len};
  uint8_t tag = _brt_isolation_wire_get_u8(r);
  if (!r->failed && tag == 0) return BRT_OK;
  brt_error *error = !r->failed && tag == 1 ? _brt_isolation_wire_error_get(r) : NULL;
  if (error) {
    status = brt_error_code(error);
    brt_error_restore(error);
  } else {
    status = brt_error_wrap(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                            "%s: its worker sent a malformed result: %s", p->label,
                            brt_last_error() ? brt_error_message(brt_last_error())
                                             : "unknown result tag");
  }
  _brt_isolation_message_free(reply);
  return status;
}

static brt_status proxy_value(void *ctx, const brt_value *params, brt_value **result) {
  const proxy *p = ctx;
  uint64_t deadline = call_deadline(p);
  brt_wire_buf body = {0};
  brt_wire_fds fds = {0};
  _brt_isolation_wire_put_u32(&body, p->index);
  _brt_isolation_wire_put_u64(&body, ms_left(deadline));
  /* Only blocks with a memfd of their own go by reference: an arena
   * segment's memfd would show the worker every small SHARED block. */
  brt_status status = _brt_isolation_wire_value_put(&body, &fds, params, BY_REF_MIN);
  brt_message reply;
  brt_wire_reader r;
  if (status == BRT_OK) status = run_call(p, BRT_MSG_CALL_VALUE, &body, &fds, deadline, &reply, &r);
  _brt_isolation_wire_buf_free(&body);
  if (status != BRT_OK) return status;
  brt_value *value = _brt_isolation_wire_value_get(&r, reply.fds, reply.fd_count);
  if (value && r.pos != r.len) {
    brt_value_release(value);
    value = NULL;
    _brt_isolation_wire_reader_fail(&r, r.pos, "%zu bytes follow the result", r.len - r.pos);
  }
  _brt_isolation_message_free(&reply);
  if (!value) {
    /* With valid arguments the decoder returns NULL only when the reader failed. */
    brt_status code = r.failed ? r.status : _brt_null_status("the wire decoder");
    return brt_error_wrap(code == BRT_E_CONVERSION ? BRT_E_PLUGIN : code, BRT_ORIGIN_PLUGIN, NULL,
                          "%s: the worker's result cannot be used: %s", p->label,
                          brt_error_message(brt_last_error()));
  }
  *result = value;
  return BRT_OK;
}

/* How a `ptr` argument travels (the u32 that starts it). */
#define PTR_NULL UINT32_MAX
#define PTR_COPIED (UINT32_MAX - 1)

/* Adds a `ptr` argument, which must start a SHARED block. A block with a
 * memfd of its own (above 64 KiB) travels by reference: the worker maps it.
 * A smaller one lives in a shared arena segment whose memfd also holds
 * every other small SHARED block of this process, which the worker must
 * not see: its bytes are copied there and back (*copied is set). */
static brt_status put_pointer(const proxy *p, uint32_t i, const void *pointer, brt_wire_buf *body,
                              brt_wire_fds *fds, bool *copied) {
  *copied = false;
  if (!pointer) {
    _brt_isolation_wire_put_u32(body, PTR_NULL);
    return BRT_OK;
  }
  int fd = -1;
  uint64_t offset = 0;
  brt_block_info info = {.struct_size = sizeof info};
  if (brt_shared_fd(pointer, &fd, &offset) != BRT_OK || brt_block_info_get(pointer, &info) != BRT_OK)
    return brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL,
                         "%s runs in a worker process, which cannot see argument %u (ptr %p): "
                         "a ptr argument must be the start of a SHARED block (brt_alloc_shared), "
                         "whose memory the worker maps",
                         p->label, i, pointer);
  if (info.size < BY_REF_MIN) {
    _brt_isolation_wire_put_u32(body, PTR_COPIED);
    _brt_isolation_wire_put_bytes(body, pointer, info.size);
    *copied = true;
    return BRT_OK;
  }
  size_t index = 0;
  while (index < fds->count && fds->fd[index] != fd) index++;
  if (index == fds->count) {
    if (fds->count == BRT_WIRE_FDS_MAX)
      return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                           "%s: more than %d distinct memfds in one call", p->label,
                           BRT_WIRE_FDS_MAX);
    fds->fd[fds->count++] = fd;
  }
  _brt_isolation_wire_put_u32(body, (uint32_t)index);
  _brt_isolation_wire_put_u64(body, offset);
  _brt_isolation_wire_put_u64(body, info.size);
  return BRT_OK;
}

/* Copies the bytes of the copied `ptr` arguments back from the result:
 * the worker wrote into its copies what the function wrote. */
static bool copy_back(const proxy *p, void **args, const bool *copied, brt_wire_reader *r) {
  for (uint32_t i = 0; i < p->arg_count; i++) {
    if (!copied[i]) continue;
    void *pointer = *(void *const *)args[i];
    brt_block_info info = {.struct_size = sizeof info};
    size_t len = 0;
    const void *bytes = _brt_isolation_wire_get_bytes(r, &len);
    if (r->failed || brt_block_info_get(pointer, &info) != BRT_OK || len != info.size) return false;
    memcpy(pointer, bytes, len);
  }
  return true;
}

static brt_status proxy_native(void *native_fn, void *ret, void **args) {
  const proxy *p = native_fn;
  if (p->ret == PT_PTR || p->ret == PT_STR)
    return brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL,
                         "%s returns a %s, which cannot come back from a worker process (it would "
                         "point into the worker's memory); load the plugin without isolation",
                         p->label, type_table[p->ret].name);
  uint64_t deadline = call_deadline(p);
  brt_wire_buf body = {0};
  brt_wire_fds fds = {0};
  _brt_isolation_wire_put_u32(&body, p->index);
  _brt_isolation_wire_put_u64(&body, ms_left(deadline));
  _brt_isolation_wire_put_u32(&body, p->arg_count);
  brt_status status = BRT_OK;
  bool copied[BRT_SIGNATURE_MAX_ARGS] = {false};
  for (uint32_t i = 0; status == BRT_OK && i < p->arg_count; i++) {
    if (p->args[i] == PT_STR) {
      const char *text = *(const char *const *)args[i];
      if (!text)
        status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                               "%s: argument %u (str) is NULL", p->label, i);
      else
        _brt_isolation_wire_put_bytes(&body, text, strlen(text));
    } else if (p->args[i] == PT_PTR) {
      status = put_pointer(p, i, *(void *const *)args[i], &body, &fds, &copied[i]);
    } else {
      uint64_t bits = 0;
      memcpy(&bits, args[i], type_table[p->args[i]].size);
      _brt_isolation_wire_put_u64(&body, bits);
    }
  }
  brt_message reply;
  brt_wire_reader r;
  if (status == BRT_OK)
    status = run_call(p, BRT_MSG_CALL_NATIVE, &body, &fds, deadline, &reply, &r);
  _brt_isolation_wire_buf_free(&body);
  if (status != BRT_OK) return status;
  uint64_t bits = _brt_isolation_wire_get_u64(&r);
  bool complete = !r.failed && copy_back(p, args, copied, &r) && r.pos == r.len;
  _brt_isolation_message_free(&reply);
  if (!complete)
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                         "%s: its worker sent a malformed native result", p->label);
  if (p->ret == PT_BOOL) bits = bits != 0; /* a C bool holds 0 or 1 only */
  if (p->ret != PT_VOID) memcpy(ret, &bits, type_table[p->ret].size);
  return BRT_OK;
}

/* --- Building proxies from a HELLO ---------------------------------------------- */

brt_status _brt_isolation_proxy_init(proxy *p, brt_pool *pool, uint32_t index, brt_wire_reader *r) {
  memset(p, 0, sizeof *p);
  p->pool = pool;
  p->index = index;
  bool present = false;
  p->name = _brt_isolation_wire_get_str(r, &present);
  p->version = _brt_isolation_wire_get_str(r, &present);
  p->description = _brt_isolation_wire_get_str(r, &present);
  p->input_schema = _brt_isolation_wire_get_str(r, &present);
  p->output_schema = _brt_isolation_wire_get_str(r, &present);
  p->signature = _brt_isolation_wire_get_str(r, &present);
  uint32_t timeout_ms = _brt_isolation_wire_get_u32(r);
  (void)_brt_isolation_wire_get_u64(r); /* memory_limit: enforced in the worker */
  uint8_t has_value = _brt_isolation_wire_get_u8(r);
  brt_status status = BRT_OK;
  if (r->failed) {
    status = r->status;
  } else if (!p->name || !p->version || (!has_value && !p->signature) ||
             (p->signature && !signature_read(p, p->signature))) {
    status = brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                           "the worker described algorithm %u of plugin \"%s\" incompletely "
                           "(name, version, a value or native function, a readable signature)",
                           index, pool->path);
  } else {
    size_t size = strlen(p->name) + strlen(p->version) + 2;
    p->label = malloc(size);
    if (!p->label)
      status = brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                             "out of memory describing algorithm \"%s\"", p->name);
    else
      snprintf(p->label, size, "%s@%s", p->name, p->version);
  }
  if (status != BRT_OK) {
    _brt_isolation_proxy_dispose(p);
    return status;
  }
  p->desc = (brt_algorithm){.struct_size = sizeof(brt_algorithm),
                            .name = p->name,
                            .version = p->version,
                            .description = p->description,
                            .input_schema = p->input_schema,
                            .value_fn = has_value ? proxy_value : NULL,
                            .native_fn = p->signature ? (void *)p : NULL,
                            .signature = p->signature,
                            .timeout_ms = timeout_ms,
                            .ctx = p,
                            .native_thunk = p->signature ? proxy_native : NULL,
                            .output_schema = p->output_schema};
  return BRT_OK;
}

void _brt_isolation_proxy_dispose(proxy *p) {
  free(p->name);
  free(p->version);
  free(p->description);
  free(p->input_schema);
  free(p->output_schema);
  free(p->signature);
  free(p->label);
  memset(p, 0, sizeof *p);
}
