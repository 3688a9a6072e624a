/* libFuzzer target: what a host reads from a worker it cannot trust
 * (isolation/protocol.c and the greeting parser of isolation/proxy.c).
 * The input is sent as one datagram over a SOCK_SEQPACKET pair and
 * received as a message (any header, any body length, any flags); a
 * received body is then parsed as a HELLO: a count and the description of
 * each algorithm. Every malformed input must be refused with an error and
 * leave nothing allocated. */
#include "pool_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int pair[2] = {-1, -1};

static void parse_hello(const uint8_t *body, size_t len) {
  brt_pool pool;
  memset(&pool, 0, sizeof pool);
  pool.path = (char *)"fuzz.so";
  brt_wire_reader r = {.data = body, .len = len};
  uint32_t count = _brt_isolation_wire_get_u32(&r);
  for (uint32_t i = 0; !r.failed && i < count && i < 64; i++) {
    proxy p;
    if (_brt_isolation_proxy_init(&p, &pool, i, &r) != BRT_OK) break;
    if (!p.desc.name || !p.desc.version || !p.label) abort();
    _brt_isolation_proxy_dispose(&p);
  }
  brt_error_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (pair[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) abort();
  parse_hello(data, size);
  if (size > 64 * 1024) return 0;
  if (send(pair[1], data, size, MSG_NOSIGNAL) != (ssize_t)size) abort();
  brt_message message;
  char why[256];
  int err = _brt_isolation_message_receive(pair[0], 0, &message, why, sizeof why);
  if (err == 0) {
    if (message.body_len > BRT_PROTOCOL_BODY_MAX) abort();
    parse_hello(message.body, message.body_len);
    _brt_isolation_message_free(&message);
  } else if (err == EPROTO && why[0] == '\0') {
    abort(); /* a refusal always says why */
  }
  return 0;
}
