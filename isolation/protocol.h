/* The conversation between a host and one worker process: messages over an
 * AF_UNIX SOCK_SEQPACKET socket pair, descriptors beside them (SCM_RIGHTS).
 * Compiled into the library and into the worker program, like the codec
 * (wire.h), so it uses only the public ABI and libc.
 *
 * A message is a fixed header and a body encoded with the codec:
 *
 *   worker -> host   HELLO       u32 count, then per algorithm: str name,
 *                                str version, str description, str
 *                                input_schema, str output_schema, str
 *                                signature (absent: no
 *                                native function), u32 timeout_ms, u64
 *                                memory_limit, u8 has_value
 *                    LOAD_FAILED error (the plugin could not be loaded)
 *   host -> worker   CALL_VALUE  u32 algorithm index, u64 deadline (ms left,
 *                                0 = none), value
 *                    CALL_NATIVE u32 algorithm index, u64 deadline, u32 argc,
 *                                per argument its signature type's payload
 *                                (scalars: u64 bits; str: bytes; ptr: u32 fd
 *                                index, u64 offset, u64 length)
 *   worker -> host   RESULT      u8 0 + value (value calls) or u64 bits
 *                                (native calls), or u8 1 + error
 *
 * One call is in flight per worker at a time: the host sends a call and
 * reads its result before it sends another, so ids only guard against a
 * confused or hostile worker answering something else. A body larger than
 * BRT_PROTOCOL_INLINE_MAX travels in a memfd sent as the message's first
 * descriptor; the receiver copies it out (so a sender cannot change it while
 * it is parsed). */
#ifndef BRT_ISOLATION_PROTOCOL_H
#define BRT_ISOLATION_PROTOCOL_H

#include "wire.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BRT_PROTOCOL_MAGIC 0x57545242u /* "BRTW" */
#define BRT_PROTOCOL_VERSION 1u
/* Bodies up to this size are sent in the datagram itself. */
#define BRT_PROTOCOL_INLINE_MAX (48u * 1024u)
/* The largest body a receiver accepts (a result or params in a memfd). */
#define BRT_PROTOCOL_BODY_MAX (UINT64_C(1) << 30)

typedef enum brt_message_kind {
  BRT_MSG_HELLO = 1,
  BRT_MSG_LOAD_FAILED = 2,
  BRT_MSG_CALL_VALUE = 3,
  BRT_MSG_CALL_NATIVE = 4,
  BRT_MSG_RESULT = 5,
} brt_message_kind;

/* A received message: the body (malloc'd, owned) and its descriptors
 * (owned: close them with _brt_isolation_message_free). */
typedef struct brt_message {
  uint32_t kind;
  uint64_t id;
  uint8_t *body;
  size_t body_len;
  int fds[BRT_WIRE_FDS_MAX];
  size_t fd_count;
} brt_message;

/* Sends one message. 0, or an errno value (EPIPE / ECONNRESET: the peer is
 * gone; EMSGSIZE, ENOMEM, ...). Never raises SIGPIPE. */
int _brt_isolation_message_send(int sock, uint32_t kind, uint64_t id, const brt_wire_buf *body,
                                const brt_wire_fds *fds);
/* Waits for one message until `deadline_ns` (CLOCK_MONOTONIC; 0 = no
 * limit). 0 with *out filled; ETIMEDOUT at the deadline; ECONNRESET when
 * the peer closed its end (or died); EPROTO for a malformed message (bad
 * magic or version, truncated, a body in a memfd that does not match),
 * with `why` saying what; other errno values from the system. */
int _brt_isolation_message_receive(int sock, uint64_t deadline_ns, brt_message *out, char *why,
                                   size_t why_size);
void _brt_isolation_message_free(brt_message *message);

#endif /* BRT_ISOLATION_PROTOCOL_H */
