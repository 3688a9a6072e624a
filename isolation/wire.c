/* The wire codec's primitives: a growing little-endian message buffer and
 * a bounds-checked reader (wire.h). The value and error codecs
 * (wire_value.c, wire_error.c) are built on these alone, so every byte a
 * decoder looks at has passed one of the reader's bounds checks. */
#include "wire.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A string's length field holds this for "absent" (NULL): no string that
 * fits in memory has that length. */
#define WIRE_STR_ABSENT UINT64_MAX

void _brt_isolation_wire_buf_free(brt_wire_buf *buf) {
  if (!buf) return;
  free(buf->data);
  buf->data = NULL;
  buf->len = buf->cap = 0;
  buf->failed = false;
}

/* Room for `more` bytes at the end, or false with buf->failed set. The
 * capacity doubles, so appending n bytes one by one costs O(n). */
static bool buf_reserve(brt_wire_buf *buf, size_t more) {
  if (buf->failed) return false;
  if (more <= buf->cap - buf->len) return true;
  if (more > SIZE_MAX / 2 - buf->len) {
    buf->failed = true;
    return false;
  }
  size_t want = buf->len + more;
  size_t cap = buf->cap ? buf->cap : 256;
  while (cap < want) cap *= 2;
  uint8_t *grown = realloc(buf->data, cap);
  if (!grown) {
    buf->failed = true;
    return false;
  }
  buf->data = grown;
  buf->cap = cap;
  return true;
}

void _brt_isolation_wire_put_raw(brt_wire_buf *buf, const void *data, size_t len) {
  if (!len || !buf_reserve(buf, len)) return;
  memcpy(buf->data + buf->len, data, len);
  buf->len += len;
}

void _brt_isolation_wire_put_u8(brt_wire_buf *buf, uint8_t v) {
  _brt_isolation_wire_put_raw(buf, &v, 1);
}

void _brt_isolation_wire_put_u32(brt_wire_buf *buf, uint32_t v) {
  uint8_t bytes[4];
  for (int i = 0; i < 4; i++) bytes[i] = (uint8_t)(v >> (8 * i));
  _brt_isolation_wire_put_raw(buf, bytes, sizeof bytes);
}

void _brt_isolation_wire_put_u64(brt_wire_buf *buf, uint64_t v) {
  uint8_t bytes[8];
  for (int i = 0; i < 8; i++) bytes[i] = (uint8_t)(v >> (8 * i));
  _brt_isolation_wire_put_raw(buf, bytes, sizeof bytes);
}

void _brt_isolation_wire_put_bytes(brt_wire_buf *buf, const void *data, size_t len) {
  _brt_isolation_wire_put_u64(buf, len);
  _brt_isolation_wire_put_raw(buf, data, len);
}

void _brt_isolation_wire_put_str(brt_wire_buf *buf, const char *s) {
  if (!s) {
    _brt_isolation_wire_put_u64(buf, WIRE_STR_ABSENT);
    return;
  }
  _brt_isolation_wire_put_bytes(buf, s, strlen(s));
}

/* --- Reading ------------------------------------------------------------------ */

void _brt_isolation_wire_reader_fail(brt_wire_reader *r, size_t at, const char *fmt, ...) {
  if (r->failed) return;
  r->failed = true;
  r->status = BRT_E_CONVERSION;
  char what[BRT_ERROR_MESSAGE_MAX];
  va_list args;
  va_start(args, fmt);
  vsnprintf(what, sizeof what, fmt, args);
  va_end(args);
  brt_error_set(BRT_E_CONVERSION, BRT_ORIGIN_C, NULL, "wire: at byte %zu of %zu: %s", at, r->len,
                what);
}

/* The next `n` bytes, consumed, or NULL (reader failed) when fewer are
 * left. `what` names the field for the error. */
static const uint8_t *take(brt_wire_reader *r, size_t n, const char *what) {
  if (r->failed) return NULL;
  if (r->pos > r->len || n > r->len - r->pos) {
    _brt_isolation_wire_reader_fail(r, r->pos, "the message ends inside %s (%zu bytes needed, %zu "
                                    "left)", what, n, r->pos > r->len ? 0 : r->len - r->pos);
    return NULL;
  }
  const uint8_t *at = r->data + r->pos;
  r->pos += n;
  return at;
}

uint8_t _brt_isolation_wire_get_u8(brt_wire_reader *r) {
  const uint8_t *at = take(r, 1, "a u8");
  return at ? at[0] : 0;
}

uint32_t _brt_isolation_wire_get_u32(brt_wire_reader *r) {
  const uint8_t *at = take(r, 4, "a u32");
  uint32_t v = 0;
  if (at)
    for (int i = 3; i >= 0; i--) v = (v << 8) | at[i];
  return v;
}

uint64_t _brt_isolation_wire_get_u64(brt_wire_reader *r) {
  const uint8_t *at = take(r, 8, "a u64");
  uint64_t v = 0;
  if (at)
    for (int i = 7; i >= 0; i--) v = (v << 8) | at[i];
  return v;
}

/* The `n` bytes after a length field read at `at`, consumed; the length is
 * checked against what is left before anything else happens. */
static const uint8_t *take_counted(brt_wire_reader *r, size_t at, uint64_t n, const char *what) {
  if (r->failed) return NULL;
  if (n > r->len - r->pos) {
    _brt_isolation_wire_reader_fail(r, at, "%s of %llu bytes is longer than the %zu bytes left",
                                    what, (unsigned long long)n, r->len - r->pos);
    return NULL;
  }
  const uint8_t *data = r->data + r->pos;
  r->pos += (size_t)n;
  return data;
}

const void *_brt_isolation_wire_get_bytes(brt_wire_reader *r, size_t *len) {
  size_t at = r->pos;
  uint64_t n = _brt_isolation_wire_get_u64(r);
  const uint8_t *data = take_counted(r, at, n, "a byte string");
  *len = data ? (size_t)n : 0;
  return data;
}

char *_brt_isolation_wire_get_str(brt_wire_reader *r, bool *present) {
  *present = false;
  size_t at = r->pos;
  uint64_t n = _brt_isolation_wire_get_u64(r);
  if (r->failed || n == WIRE_STR_ABSENT) return NULL;
  const uint8_t *data = take_counted(r, at, n, "a string");
  if (!data) return NULL;
  if (memchr(data, 0, (size_t)n)) {
    _brt_isolation_wire_reader_fail(r, at, "a string of %llu bytes has a NUL byte inside",
                                    (unsigned long long)n);
    return NULL;
  }
  char *copy = malloc((size_t)n + 1);
  if (!copy) {
    r->failed = true;
    r->status = brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                  "wire: no memory for a copy of the %llu-byte string at byte %zu",
                  (unsigned long long)n, at);
    return NULL;
  }
  memcpy(copy, data, (size_t)n);
  copy[n] = '\0';
  *present = true;
  return copy;
}
