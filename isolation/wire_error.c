/* Errors on the wire (wire.h): a worker's failure arrives in the host as
 * the same chain of typed errors, so a C++ exception's type, an OS error's
 * errno and every cause survive the process boundary.
 *
 *   u32 count (1..BRT_ERROR_CAUSE_DEPTH_MAX), then count errors, outermost
 *   first, each: u32 code, u32 origin, str type, str message, u32 os_code,
 *   str os_category, str path1, str path2   (str: wire.h's put_str)
 *
 * The decoder reads and checks the whole chain before it records anything,
 * then records it innermost first, each error adopting the one below as its
 * cause, exactly as brt_error_record builds chains. */
#include "wire.h"

#include <stdlib.h>

void _brt_isolation_wire_error_put(brt_wire_buf *buf, const brt_error *error) {
  if (!buf) return;
  if (!error) {
    buf->failed = true;
    return;
  }
  uint32_t count = 0;
  for (const brt_error *e = error; e && count < BRT_ERROR_CAUSE_DEPTH_MAX; e = brt_error_cause(e))
    count++;
  _brt_isolation_wire_put_u32(buf, count);
  const brt_error *e = error;
  for (uint32_t i = 0; i < count; i++, e = brt_error_cause(e)) {
    _brt_isolation_wire_put_u32(buf, (uint32_t)brt_error_code(e));
    _brt_isolation_wire_put_u32(buf, (uint32_t)brt_error_origin(e));
    _brt_isolation_wire_put_str(buf, brt_error_type(e));
    _brt_isolation_wire_put_str(buf, brt_error_message(e));
    _brt_isolation_wire_put_u32(buf, (uint32_t)brt_error_os_code(e));
    _brt_isolation_wire_put_str(buf, brt_error_os_category(e));
    _brt_isolation_wire_put_str(buf, brt_error_path(e, 0));
    _brt_isolation_wire_put_str(buf, brt_error_path(e, 1));
  }
}

/* One error of the chain as read: its strings are malloc'd (NULL when
 * absent). */
typedef struct wire_error {
  uint32_t code, origin;
  int os_code;
  char *type, *message, *os_category, *path1, *path2;
} wire_error;

static void wire_error_clear(wire_error *w) {
  free(w->type);
  free(w->message);
  free(w->os_category);
  free(w->path1);
  free(w->path2);
}

static bool get_one(brt_wire_reader *r, wire_error *w) {
  size_t at = r->pos;
  bool present;
  w->code = _brt_isolation_wire_get_u32(r);
  w->origin = _brt_isolation_wire_get_u32(r);
  w->type = _brt_isolation_wire_get_str(r, &present);
  w->message = _brt_isolation_wire_get_str(r, &present);
  w->os_code = (int)(int32_t)_brt_isolation_wire_get_u32(r);
  w->os_category = _brt_isolation_wire_get_str(r, &present);
  w->path1 = _brt_isolation_wire_get_str(r, &present);
  w->path2 = _brt_isolation_wire_get_str(r, &present);
  if (r->failed) return false;
  /* brt_error_record would refuse these with INVALID_ARGUMENT; a sender
   * with a newer status table must not be mistaken for a misuse here. */
  if (w->code == 0 || w->code >= BRT_STATUS_COUNT || w->origin >= BRT_ORIGIN_COUNT) {
    _brt_isolation_wire_reader_fail(r, at, "an error with %s %u, which is not %s",
                                    w->origin < BRT_ORIGIN_COUNT ? "code" : "origin",
                                    w->origin < BRT_ORIGIN_COUNT ? w->code : w->origin,
                                    w->origin < BRT_ORIGIN_COUNT
                                        ? "an error code of this library's status table"
                                        : "a brt_origin of this library");
    return false;
  }
  return true;
}

brt_error *_brt_isolation_wire_error_get(brt_wire_reader *r) {
  if (!r || (!r->data && r->len) || r->failed) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "wire: %s",
                  !r                   ? "the reader is NULL"
                  : !r->data && r->len ? "the reader has no data but a length"
                                       : "the reader already failed; decode a new message");
    return NULL;
  }
  size_t at = r->pos;
  uint32_t count = _brt_isolation_wire_get_u32(r);
  if (r->failed) return NULL;
  if (count == 0 || count > BRT_ERROR_CAUSE_DEPTH_MAX) {
    _brt_isolation_wire_reader_fail(r, at, "an error chain of %u errors (1 to %d are possible)",
                                    count, BRT_ERROR_CAUSE_DEPTH_MAX);
    return NULL;
  }
  wire_error chain[BRT_ERROR_CAUSE_DEPTH_MAX] = {{0}};
  uint32_t read = 0;
  while (read < count && get_one(r, &chain[read])) read++;
  brt_error *cause = NULL;
  if (read == count) {
    for (uint32_t i = count; i-- > 0;) {
      const wire_error *w = &chain[i];
      brt_error_info info = {.struct_size = sizeof info,
                             .code = (brt_status)w->code,
                             .origin = (brt_origin)w->origin,
                             .type = w->type,
                             .message = w->message,
                             .os_code = w->os_code,
                             .os_category = w->os_category,
                             .path1 = w->path1,
                             .path2 = w->path2,
                             .cause = cause};
      brt_error_record(&info); /* adopts `cause`; code and origin were checked */
      cause = brt_error_take();
    }
  }
  /* get_one leaves what it read of a failed error in its slot too. */
  for (uint32_t i = 0; i < count && i <= read; i++) wire_error_clear(&chain[i]);
  return cause;
}
