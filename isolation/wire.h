/* The wire codec: how values and errors cross between a host and its
 * worker processes (docs/isolation.md, "The wire format").
 *
 * A message is a byte string plus the descriptors sent beside it with
 * SCM_RIGHTS. Numbers are little-endian; strings and byte strings carry a
 * u64 length; nothing is aligned. The codec knows nothing of sockets: the
 * caller sends buf->data and the fds, and gives the decoder what it got.
 *
 * These sources are compiled twice, into libbridgert (the host side) and
 * into the worker program, which links libbridgert.so and cannot see its
 * hidden internals. So they use only the public ABI (<bridgert.h>) and libc.
 *
 * Not thread-safe per object: one buffer or reader is used by one thread at
 * a time. */
#ifndef BRT_ISOLATION_WIRE_H
#define BRT_ISOLATION_WIRE_H

#include <bridgert.h>

#include "exception/null_status.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* The most descriptors one message may carry (SCM_RIGHTS allows 253). */
#define BRT_WIRE_FDS_MAX 64
/* How deep encoded values may nest: the JSON reader's default depth, so a
 * value read from JSON with default options always crosses. The decoder
 * recurses once per level; the bound keeps that within any thread's stack. */
#define BRT_WIRE_DEPTH_MAX 128

/* The isolation floor's functions that can fail return a brt_status
 * (recorded) and fill out-parameters only on BRT_OK; after a public function
 * returned NULL, _brt_null_status gives its status. */

/* --- Primitives ----------------------------------------------------------- */

/* A growing message (malloc). Appenders never fail loudly: on allocation
 * failure they set `failed` and do nothing else, so a sequence of appends
 * is checked once at the end. */
typedef struct brt_wire_buf {
  uint8_t *data;
  size_t len, cap;
  bool failed;
} brt_wire_buf;
/* Frees the bytes and leaves an empty buffer (reusable). */
void _brt_isolation_wire_buf_free(brt_wire_buf *buf);
void _brt_isolation_wire_put_u8(brt_wire_buf *buf, uint8_t v);
void _brt_isolation_wire_put_u32(brt_wire_buf *buf, uint32_t v);
void _brt_isolation_wire_put_u64(brt_wire_buf *buf, uint64_t v);
/* A u64 length, then the bytes. */
void _brt_isolation_wire_put_bytes(brt_wire_buf *buf, const void *data, size_t len);
/* The bytes alone, no length: for fields whose size the reader knows. */
void _brt_isolation_wire_put_raw(brt_wire_buf *buf, const void *data, size_t len);
/* A string without its NUL; NULL encodes as "absent", distinct from "". */
void _brt_isolation_wire_put_str(brt_wire_buf *buf, const char *s);

/* Reads a received message. Past the end, or on a bad encoding, a reader
 * sets `failed`, records a CONVERSION error naming the byte offset and what
 * was expected (OUT_OF_MEMORY when a copy cannot be allocated), keeps that
 * code in `status` and returns 0 / NULL; once failed, every later read
 * fails without recording again. Nothing ever reads outside data[0, len). */
typedef struct brt_wire_reader {
  const uint8_t *data;
  size_t len, pos;
  bool failed;
  brt_status status; /* the recorded failure; BRT_OK until the reader fails */
} brt_wire_reader;
uint8_t _brt_isolation_wire_get_u8(brt_wire_reader *r);
uint32_t _brt_isolation_wire_get_u32(brt_wire_reader *r);
uint64_t _brt_isolation_wire_get_u64(brt_wire_reader *r);
/* The bytes of a put_bytes, pointing into the message (valid as long as
 * it is); *len gets their count. */
const void *_brt_isolation_wire_get_bytes(brt_wire_reader *r, size_t *len);
/* A put_str: a malloc'd NUL-terminated copy, or NULL for "absent";
 * *present tells which (false on failure too). A NUL inside is refused. */
char *_brt_isolation_wire_get_str(brt_wire_reader *r, bool *present);
/* Marks the reader failed and, unless it had failed already, records
 * CONVERSION "wire: at byte `at` of N: <printf text>": how every decoder
 * reports malformed input. */
void _brt_isolation_wire_reader_fail(brt_wire_reader *r, size_t at, const char *fmt, ...)
    BRT_PRINTF(3, 4);

/* Descriptors to send with a message. Borrowed: the codec neither dups nor
 * closes them; they must stay open until the message is sent. */
typedef struct brt_wire_fds {
  int fd[BRT_WIRE_FDS_MAX];
  size_t count;
} brt_wire_fds;

/* --- Values (wire_value.c) -------------------------------------------------- */

/* The first byte of every encoded value (wire_value.c has the layout of
 * each). Numbers are part of the format: append, never renumber. */
enum brt_wire_tag {
  BRT_WIRE_TAG_NULL = 0,
  BRT_WIRE_TAG_FALSE = 1,
  BRT_WIRE_TAG_TRUE = 2,
  BRT_WIRE_TAG_INT = 3,
  BRT_WIRE_TAG_FLOAT = 4,
  BRT_WIRE_TAG_STRING = 5,
  BRT_WIRE_TAG_BYTES = 6,
  BRT_WIRE_TAG_ARRAY = 7,
  BRT_WIRE_TAG_OBJECT = 8,
  BRT_WIRE_TAG_TENSOR = 9,        /* copied inline */
  BRT_WIRE_TAG_TENSOR_SHARED = 10 /* by reference to a memfd sent beside the message */
};

/* Appends `value`. A tensor whose data lives in a SHARED block and spans at
 * least `by_ref_min` bytes (and at least 1: the bytes from its first
 * element to the end of the furthest one its strides reach) travels by
 * reference: the block's memfd is sealed with F_SEAL_SHRINK and added to
 * `fds` unless it is there already (descriptors the caller added count:
 * indices are into the whole table), and the tensor is encoded as (fd
 * index, offset, byte length, dtype, shape, strides), so that the receiver
 * maps the very same bytes. Every other tensor, and every other kind, is
 * copied (a strided tensor compacted to row-major order). A receiver given
 * the memfd of a shared arena block can reach every SHARED block of that
 * arena segment: with an untrusted receiver, pass by_ref_min above 65536,
 * so that only blocks with a memfd of their own go by reference. On
 * failure nothing is appended and `fds` is as it was (a memfd may stay
 * sealed, which changes nothing: the allocator never shrinks one):
 * INVALID_ARGUMENT for NULL arguments or a buffer that already failed;
 * INVALID_POINTER for a value that is not a live value; LIMIT_EXCEEDED for
 * nesting deeper than BRT_WIRE_DEPTH_MAX or more than BRT_WIRE_FDS_MAX
 * descriptors; OUT_OF_MEMORY when the buffer cannot grow (buf->failed
 * set); IO when a memfd cannot be sealed. */
brt_status _brt_isolation_wire_value_put(brt_wire_buf *buf, brt_wire_fds *fds,
                                         const brt_value *value, size_t by_ref_min);
/* Decodes one value, with one reference for the caller. By-reference
 * tensors map fds[index] with brt_map_fd(..., BRT_MAP_WRITABLE), so the
 * tensor sees and writes the sender's bytes, after checking that the fd is
 * a memfd sealed with F_SEAL_SHRINK and that the range lies inside it (a
 * sender able to shrink it could make this process fault). The fds stay
 * the caller's. Malformed input of any kind is CONVERSION naming the byte
 * offset and what was wrong (the public constructors' own error, such as
 * invalid UTF-8, is its cause); OUT_OF_MEMORY / LIMIT_EXCEEDED from the
 * allocator keep their code. Nothing is left allocated on failure. */
brt_value *_brt_isolation_wire_value_get(brt_wire_reader *r, const int *fds, size_t fd_count);

/* How the decoder maps a by-reference tensor's bytes (after its checks):
 * returns a MAPPED block of `len` bytes of `fd` from `offset` with one
 * reference for the caller, or NULL with the error recorded. `st` is the
 * descriptor's fstat. The default is brt_map_fd(..., BRT_MAP_WRITABLE); a
 * worker installs one that keeps mappings across calls, so the same
 * tensor sent again is not mapped (and faulted in) again. Set it before
 * any decoding starts; it is not synchronised. */
typedef void *(*brt_wire_mapper)(int fd, const struct stat *st, uint64_t offset, size_t len);
void _brt_isolation_wire_set_mapper(brt_wire_mapper mapper);

/* --- Errors (wire_error.c) -------------------------------------------------- */

/* Appends the whole chain of `error`: per error its code, origin, type,
 * message, OS code and category and both paths, outermost first, at most
 * BRT_ERROR_CAUSE_DEPTH_MAX errors. A NULL error sets buf->failed (there is
 * nothing to send; the caller must decide what failed). */
void _brt_isolation_wire_error_put(brt_wire_buf *buf, const brt_error *error);
/* Rebuilds the chain as a taken error (brt_error_record, causes adopted;
 * each error of the chain counts once in this process's error counters).
 * A code outside the status table, an origin outside brt_origin, a chain
 * of 0 or more than BRT_ERROR_CAUSE_DEPTH_MAX errors, or a malformed
 * encoding is CONVERSION; NULL is returned and nothing is leaked. */
brt_error *_brt_isolation_wire_error_get(brt_wire_reader *r);

#endif /* BRT_ISOLATION_WIRE_H */
