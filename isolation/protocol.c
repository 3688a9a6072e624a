/* Messages over a SOCK_SEQPACKET socket (protocol.h). Each message is one
 * datagram: a header, then the body inline or, when large, in a memfd sent
 * as the first descriptor. Every received field is checked before use: the
 * host reads what a hostile worker sends. A call costs five system calls:
 * the host's sendmsg, poll (for its deadline) and recvmsg, the worker's
 * blocking recvmsg and its sendmsg. */
#include "protocol.h"
#include "core/clock.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct message_header {
  uint32_t magic;
  uint16_t version;
  uint16_t kind;
  uint64_t id;
  uint64_t body_len;
  uint32_t flags; /* HEADER_BODY_IN_FD */
  uint32_t reserved;
} message_header;
_Static_assert(sizeof(message_header) == 32, "the header has no padding");

enum { HEADER_BODY_IN_FD = 1u };

/* A memfd holding `len` bytes of `data`, or -1 with errno. */
static int body_memfd(const uint8_t *data, size_t len) {
  int fd = memfd_create("bridgert-message", MFD_CLOEXEC);
  if (fd < 0) return -1;
  size_t done = 0;
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int err = n < 0 ? errno : EIO;
      close(fd);
      errno = err;
      return -1;
    }
    done += (size_t)n;
  }
  return fd;
}

int _brt_isolation_message_send(int sock, uint32_t kind, uint64_t id, const brt_wire_buf *body,
                                const brt_wire_fds *fds) {
  size_t body_len = body ? body->len : 0;
  size_t fd_count = fds ? fds->count : 0;
  message_header header = {.magic = BRT_PROTOCOL_MAGIC,
                           .version = BRT_PROTOCOL_VERSION,
                           .kind = (uint16_t)kind,
                           .id = id,
                           .body_len = body_len};
  int all_fds[BRT_WIRE_FDS_MAX + 1];
  size_t all_count = 0;
  int body_fd = -1;
  if (body_len > BRT_PROTOCOL_INLINE_MAX) {
    body_fd = body_memfd(body->data, body_len);
    if (body_fd < 0) return errno;
    header.flags = HEADER_BODY_IN_FD;
    all_fds[all_count++] = body_fd;
  }
  if (fd_count > BRT_WIRE_FDS_MAX) {
    if (body_fd >= 0) close(body_fd);
    return E2BIG;
  }
  for (size_t i = 0; i < fd_count; i++) all_fds[all_count++] = fds->fd[i];
  struct iovec iov[2] = {{.iov_base = &header, .iov_len = sizeof header},
                         {.iov_base = body ? body->data : NULL, .iov_len = body_len}};
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = header.flags ? 1 : 2};
  union {
    char buf[CMSG_SPACE(sizeof(int) * (BRT_WIRE_FDS_MAX + 1))];
    struct cmsghdr align;
  } control;
  if (all_count) {
    memset(&control, 0, sizeof control);
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * all_count);
    struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * all_count);
    memcpy(CMSG_DATA(cmsg), all_fds, sizeof(int) * all_count);
  }
  ssize_t sent;
  do sent = sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (sent < 0 && errno == EINTR);
  int err = sent < 0 ? errno : 0;
  if (body_fd >= 0) close(body_fd);
  return err;
}

static void close_all(int *fds, size_t count) {
  for (size_t i = 0; i < count; i++) close(fds[i]);
}

/* Copies the body out of the memfd `fd`: exactly `len` bytes. */
static int body_from_memfd(int fd, uint64_t len, uint8_t **out, char *why, size_t why_size) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != len ||
      len > BRT_PROTOCOL_BODY_MAX) {
    snprintf(why, why_size, "a message body of %llu bytes was announced in a descriptor that "
             "does not hold it", (unsigned long long)len);
    return EPROTO;
  }
  uint8_t *body = malloc(len ? len : 1);
  if (!body) return ENOMEM;
  size_t done = 0;
  while (done < len) {
    ssize_t n = pread(fd, body + done, len - done, (off_t)done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      free(body);
      snprintf(why, why_size, "the message body could not be read from its descriptor");
      return EPROTO;
    }
    done += (size_t)n;
  }
  *out = body;
  return 0;
}

int _brt_isolation_message_receive(int sock, uint64_t deadline_ns, brt_message *out, char *why,
                                   size_t why_size) {
  memset(out, 0, sizeof *out);
  why[0] = '\0';
  /* Without a deadline (a worker waiting for its next call) the receive
   * itself blocks: one system call per message. */
  while (deadline_ns) {
    uint64_t now = _brt_now_ns();
    if (now >= deadline_ns) return ETIMEDOUT;
    uint64_t left_ms = (deadline_ns - now + 999999u) / 1000000u;
    int timeout = left_ms > 86400000u ? 86400000 : (int)left_ms;
    struct pollfd pfd = {.fd = sock, .events = POLLIN};
    int ready = poll(&pfd, 1, timeout);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return errno;
    if (ready > 0) break;
  }
  /* Every datagram fits a header and an inline body: receive it in one
   * call into a buffer of that size (a larger body comes in a memfd). */
  message_header header;
  uint8_t *inline_body = malloc(BRT_PROTOCOL_INLINE_MAX);
  if (!inline_body) return ENOMEM;
  union {
    char buf[CMSG_SPACE(sizeof(int) * (BRT_WIRE_FDS_MAX + 1))];
    struct cmsghdr align;
  } control;
  struct iovec iov[2] = {{.iov_base = &header, .iov_len = sizeof header},
                         {.iov_base = inline_body, .iov_len = BRT_PROTOCOL_INLINE_MAX}};
  struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2, .msg_control = control.buf,
                       .msg_controllen = sizeof control.buf};
  ssize_t got;
  do got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (got < 0 && errno == EINTR);
  if (got <= 0) {
    free(inline_body);
    return got == 0 || errno == EPIPE ? ECONNRESET : errno;
  }
  int fds[BRT_WIRE_FDS_MAX + 1];
  size_t fd_count = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < n; i++) {
      int fd;
      memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (fd_count < BRT_WIRE_FDS_MAX + 1) fds[fd_count++] = fd;
      else close(fd);
    }
  }
  int err = 0;
  size_t inline_len = (size_t)got >= sizeof header ? (size_t)got - sizeof header : 0;
  if ((size_t)got < sizeof header) {
    snprintf(why, why_size, "a message of %zd bytes is shorter than its header", got);
    err = EPROTO;
  } else if (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
    snprintf(why, why_size, "a message arrived truncated (more descriptors than %d?)",
             BRT_WIRE_FDS_MAX);
    err = EPROTO;
  } else if (header.magic != BRT_PROTOCOL_MAGIC || header.version != BRT_PROTOCOL_VERSION) {
    snprintf(why, why_size, "a message has magic 0x%08x version %u; expected 0x%08x version %u",
             header.magic, header.version, BRT_PROTOCOL_MAGIC, BRT_PROTOCOL_VERSION);
    err = EPROTO;
  } else if (header.flags & ~(uint32_t)HEADER_BODY_IN_FD) {
    snprintf(why, why_size, "a message has unknown flags 0x%x", header.flags);
    err = EPROTO;
  }
  if (err == 0 && (header.flags & HEADER_BODY_IN_FD)) {
    if (fd_count == 0 || inline_len != 0) {
      snprintf(why, why_size, "a message announced its body in a descriptor but sent none");
      err = EPROTO;
    } else {
      free(inline_body);
      inline_body = NULL;
      err = body_from_memfd(fds[0], header.body_len, &out->body, why, why_size);
      if (err == 0) {
        out->body_len = header.body_len;
        close(fds[0]);
        memmove(fds, fds + 1, (fd_count - 1) * sizeof(int));
        fd_count--;
      }
    }
  } else if (err == 0) {
    if (header.body_len != inline_len) {
      snprintf(why, why_size, "a message announced %llu body bytes and carried %zu",
               (unsigned long long)header.body_len, inline_len);
      err = EPROTO;
    } else {
      out->body = inline_body;
      out->body_len = inline_len;
      inline_body = NULL;
    }
  }
  free(inline_body);
  if (err == 0 && fd_count > BRT_WIRE_FDS_MAX) {
    snprintf(why, why_size, "a message carried more than %d descriptors", BRT_WIRE_FDS_MAX);
    err = EPROTO;
  }
  if (err != 0) {
    free(out->body);
    out->body = NULL;
    close_all(fds, fd_count);
    return err;
  }
  out->kind = header.kind;
  out->id = header.id;
  memcpy(out->fds, fds, fd_count * sizeof(int));
  out->fd_count = fd_count;
  return 0;
}

void _brt_isolation_message_free(brt_message *message) {
  if (!message) return;
  free(message->body);
  close_all(message->fds, message->fd_count);
  memset(message, 0, sizeof *message);
}
