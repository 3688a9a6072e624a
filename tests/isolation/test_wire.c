/* The wire codec's values (isolation/wire.h): every kind and dtype round
 * trips; SHARED tensors travel by reference, in this process and to a
 * forked child over a socketpair with SCM_RIGHTS; every malformed message
 * is CONVERSION and leaves nothing allocated or mapped. Error chains:
 * test_wire_error.c. */
#include "brt_test.h"
#include "wire.h"
#include "wire_messages.h"

#include <fcntl.h>
#include <math.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static brt_wire_buf encode(const brt_value *value, size_t by_ref_min, brt_wire_fds *fds) {
  brt_wire_buf buf = {0};
  fds->count = 0;
  assert_ok(_brt_isolation_wire_value_put(&buf, fds, value, by_ref_min));
  assert_false(buf.failed);
  return buf;
}

static brt_value *decode(const brt_wire_buf *buf, const brt_wire_fds *fds) {
  brt_wire_reader r = {buf->data, buf->len, 0, false, BRT_OK};
  brt_value *value = _brt_isolation_wire_value_get(&r, fds->fd, fds->count);
  if (value) assert_int_equal(r.pos, buf->len); /* one value is the whole message */
  return value;
}

/* Copies the value through the wire (inline) and checks equality. */
static void assert_round_trip(brt_value *value) {
  brt_wire_fds fds;
  brt_wire_buf buf = encode(value, SIZE_MAX, &fds);
  assert_int_equal(fds.count, 0);
  brt_value *copy = decode(&buf, &fds);
  assert_non_null(copy);
  assert_true(brt_value_equal(value, copy));
  brt_value_release(copy);
  brt_value_release(value);
  _brt_isolation_wire_buf_free(&buf);
}

static uint64_t live_blocks(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  return st.live_blocks + st.mapped_files;
}

/* Decoding `len` bytes fails with CONVERSION and leaves no block. */
static void assert_refused(const void *data, size_t len, const int *fds, size_t fd_count,
                           const char *needle) {
  uint64_t before = live_blocks();
  brt_wire_reader r = {data, len, 0, false, BRT_OK};
  assert_null_with(_brt_isolation_wire_value_get(&r, fds, fd_count), BRT_E_CONVERSION);
  if (needle) assert_last_error(BRT_E_CONVERSION, needle);
  assert_true(r.failed);
  /* The reader keeps the status it recorded, for callers that must not read
   * it back from the thread's last error. */
  assert_int_equal(r.status, BRT_E_CONVERSION);
  assert_int_equal(live_blocks(), before);
}

/* --- Primitives ----------------------------------------------------------------- */

static void test_primitives(void **state) {
  (void)state;
  brt_wire_buf buf = {0};
  _brt_isolation_wire_put_u8(&buf, 0xAB);
  _brt_isolation_wire_put_u32(&buf, 0x01020304);
  _brt_isolation_wire_put_u64(&buf, 0x1122334455667788ull);
  _brt_isolation_wire_put_str(&buf, NULL);
  _brt_isolation_wire_put_str(&buf, "");
  _brt_isolation_wire_put_str(&buf, "wire");
  _brt_isolation_wire_put_bytes(&buf, "\0\1", 2);
  assert_false(buf.failed);
  static const uint8_t head[] = {0xAB, 4, 3, 2, 1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11};
  assert_memory_equal(buf.data, head, sizeof head); /* little-endian */
  brt_wire_reader r = {buf.data, buf.len, 0, false, BRT_OK};
  assert_int_equal(_brt_isolation_wire_get_u8(&r), 0xAB);
  assert_int_equal(_brt_isolation_wire_get_u32(&r), 0x01020304);
  assert_true(_brt_isolation_wire_get_u64(&r) == 0x1122334455667788ull);
  bool present = true;
  assert_null(_brt_isolation_wire_get_str(&r, &present));
  assert_false(present);
  char *empty = _brt_isolation_wire_get_str(&r, &present);
  assert_true(present);
  assert_string_equal(empty, "");
  free(empty);
  char *word = _brt_isolation_wire_get_str(&r, &present);
  assert_string_equal(word, "wire");
  free(word);
  size_t len = 0;
  const uint8_t *bytes = _brt_isolation_wire_get_bytes(&r, &len);
  assert_int_equal(len, 2);
  assert_int_equal(bytes[1], 1);
  assert_false(r.failed);
  brt_error_clear();
  assert_int_equal(_brt_isolation_wire_get_u32(&r), 0); /* past the end */
  assert_true(r.failed);
  assert_last_error(BRT_E_CONVERSION, "the message ends inside a u32");
  r.pos = 0; /* once failed, every read fails */
  assert_int_equal(_brt_isolation_wire_get_u8(&r), 0);
  /* A string with a NUL inside is refused. */
  brt_wire_reader with_nul = {buf.data + buf.len - 10, 10, 0, false, BRT_OK};
  assert_null(_brt_isolation_wire_get_str(&with_nul, &present));
  assert_last_error(BRT_E_CONVERSION, "NUL byte inside");
  _brt_isolation_wire_buf_free(&buf);
  assert_null(buf.data);
}

/* --- Round trips ------------------------------------------------------------------ */

static void test_scalars(void **state) {
  (void)state;
  assert_round_trip(brt_value_null());
  assert_round_trip(brt_value_bool(1));
  assert_round_trip(brt_value_bool(0));
  static const int64_t ints[] = {0, -1, 1, INT64_MIN, INT64_MAX, 1ll << 53};
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
    assert_round_trip(brt_value_int(ints[i]));
  uint64_t payload_nan_bits = 0x7FF8000000001234ull;
  double payload_nan;
  memcpy(&payload_nan, &payload_nan_bits, sizeof payload_nan);
  double floats[] = {0.0,       -0.0,      NAN,    payload_nan,
                     INFINITY,  -INFINITY, 5e-324, 1.7976931348623157e308};
  for (size_t i = 0; i < sizeof floats / sizeof floats[0]; i++)
    assert_round_trip(brt_value_float(floats[i]));
  assert_round_trip(brt_value_cstring(""));
  assert_round_trip(brt_value_cstring("h\xC3\xA9llo \xF0\x9F\x98\x80"));
  assert_round_trip(brt_value_string("a\0b", 3));
  uint8_t all[256];
  for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
  assert_round_trip(brt_value_bytes(all, sizeof all));
  assert_round_trip(brt_value_bytes(NULL, 0));
}

static void test_containers(void **state) {
  (void)state;
  brt_value *object = brt_value_object(0);
  static const char *const keys[] = {"zeta", "alpha", "m\0id", ""};
  static const size_t key_lens[] = {4, 5, 4, 0};
  for (int i = 0; i < 4; i++) {
    brt_value *item = brt_value_int(i);
    assert_ok(brt_value_object_set(object, keys[i], key_lens[i], item));
    brt_value_release(item);
  }
  brt_value *inner = brt_value_array(0);
  brt_value *empty_array = brt_value_array(0), *empty_object = brt_value_object(0);
  assert_ok(brt_value_array_push(inner, empty_array));
  assert_ok(brt_value_array_push(inner, empty_object));
  assert_ok(brt_value_array_push(inner, object));
  brt_value_release(empty_array);
  brt_value_release(empty_object);
  brt_value *outer = brt_value_array(0);
  assert_ok(brt_value_array_push(outer, inner));
  brt_value_release(inner);
  /* Key order survives (equality ignores it, so look). */
  brt_wire_fds fds;
  brt_wire_buf buf = encode(object, 0, &fds);
  brt_value *copy = decode(&buf, &fds);
  for (size_t i = 0; i < 4; i++) {
    const char *key;
    size_t len;
    assert_ok(brt_value_object_entry(copy, i, &key, &len, NULL));
    assert_int_equal(len, key_lens[i]);
    assert_memory_equal(key, keys[i], len);
  }
  brt_value_release(copy);
  brt_value_release(object);
  _brt_isolation_wire_buf_free(&buf);
  assert_round_trip(outer);
}

static void test_tensors(void **state) {
  (void)state;
  static const size_t shapes[][4] = {{0}, {5}, {2, 3}, {0}, {2, 0, 3}, {2, 1, 3, 2}};
  static const size_t ndims[] = {0, 1, 2, 1, 3, 4};
  for (int dtype = BRT_DTYPE_F64; dtype <= BRT_DTYPE_BOOL; dtype++)
    for (size_t s = 0; s < sizeof ndims / sizeof ndims[0]; s++) {
      brt_value *t = brt_tensor_new((brt_dtype)dtype, ndims[s], shapes[s]);
      brt_tensor_info info = {.struct_size = sizeof info};
      assert_ok(brt_tensor_info_get(t, &info));
      size_t bytes = info.count * brt_dtype_size((brt_dtype)dtype);
      for (size_t i = 0; i < bytes; i++)
        ((uint8_t *)info.data)[i] =
            dtype == BRT_DTYPE_BOOL ? (uint8_t)(i & 1) : (uint8_t)(i * 31 + 7);
      assert_round_trip(t);
    }
  /* A transposed view (strides 1, 3 over a 2x3 block) arrives compacted. */
  double *block = brt_alloc(6 * sizeof(double), 64, BRT_MEM_C_HEAP, 0);
  for (int i = 0; i < 6; i++) block[i] = i + 0.5;
  size_t shape[2] = {3, 2};
  ptrdiff_t strides[2] = {1, 3};
  brt_value *view = brt_tensor_wrap(block, BRT_DTYPE_F64, 2, shape, strides);
  assert_ok(brt_release(block));
  brt_wire_fds fds;
  brt_wire_buf buf = encode(view, SIZE_MAX, &fds);
  brt_value *copy = decode(&buf, &fds);
  assert_true(brt_value_equal(view, copy));
  brt_tensor_info info = {.struct_size = sizeof info};
  assert_ok(brt_tensor_info_get(copy, &info));
  assert_int_equal(info.strides[0], 2);
  assert_int_equal(info.strides[1], 1);
  assert_true(((double *)info.data)[1] == 3.5);
  brt_value_release(copy);
  _brt_isolation_wire_buf_free(&buf);
  brt_value_release(view);
}

/* --- Tensors by reference ------------------------------------------------------ */

static brt_value *shared_tensor(size_t count) {
  double *data = brt_alloc_shared(count * sizeof(double));
  assert_non_null(data);
  for (size_t i = 0; i < count; i++) data[i] = (double)i;
  brt_value *t = brt_tensor_wrap(data, BRT_DTYPE_F64, 1, &count, NULL);
  assert_non_null(t);
  assert_ok(brt_release(data));
  return t;
}

static void test_shared_same_process(void **state) {
  (void)state;
  brt_value *large = shared_tensor(20000), *small = shared_tensor(8), *small2 = shared_tensor(8);
  brt_value *pair = brt_value_array(3);
  assert_ok(brt_value_array_push(pair, large));
  assert_ok(brt_value_array_push(pair, small));
  assert_ok(brt_value_array_push(pair, small2));
  brt_wire_fds fds;
  brt_wire_buf buf = encode(pair, 1, &fds);
  assert_int_equal(fds.count, 2); /* the large block's memfd and the arena's, once */
  for (size_t i = 0; i < fds.count; i++) assert_true(fcntl(fds.fd[i], F_GET_SEALS) & F_SEAL_SHRINK);
  assert_true(buf.len < 200); /* no element was copied */
  brt_value *copy = decode(&buf, &fds);
  assert_non_null(copy);
  assert_true(brt_value_equal(pair, copy));
  for (size_t k = 0; k < 3; k++) {
    brt_tensor_info mine = {.struct_size = sizeof mine}, theirs = {.struct_size = sizeof theirs};
    assert_ok(brt_tensor_info_get(brt_value_array_get(pair, k), &mine));
    assert_ok(brt_tensor_info_get(brt_value_array_get(copy, k), &theirs));
    assert_ptr_not_equal(mine.data, theirs.data);
    brt_block_info block = {.struct_size = sizeof block};
    assert_ok(brt_block_info_get(theirs.block, &block));
    assert_int_equal(block.type, BRT_MEM_MAPPED);
    ((double *)theirs.data)[mine.count - 1] = -1.0; /* written through the copy ... */
    assert_true(((double *)mine.data)[mine.count - 1] == -1.0); /* ... seen in the original */
    ((double *)mine.data)[0] = 42.0;
    assert_true(((double *)theirs.data)[0] == 42.0);
  }
  brt_value_release(copy);
  _brt_isolation_wire_buf_free(&buf);
  /* Below by_ref_min, or not SHARED: copied. */
  buf = encode(pair, 20000 * sizeof(double), &fds);
  assert_int_equal(fds.count, 1);
  _brt_isolation_wire_buf_free(&buf);
  brt_value_release(pair);
  brt_value_release(large);
  brt_value_release(small);
  brt_value_release(small2);
}

static void send_with_fds(int sock, const brt_wire_buf *buf, const brt_wire_fds *fds) {
  char control[CMSG_SPACE(sizeof(int) * BRT_WIRE_FDS_MAX)] = {0};
  struct iovec iov = {buf->data, buf->len};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                       .msg_controllen = CMSG_SPACE(sizeof(int) * fds->count)};
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * fds->count);
  memcpy(CMSG_DATA(cmsg), fds->fd, sizeof(int) * fds->count);
  assert_int_equal(sendmsg(sock, &msg, 0), (ssize_t)buf->len);
}

/* The child: receives the message and its descriptors, decodes, checks and
 * writes into the tensor; its exit status says what went wrong. */
static int child_receives(int sock) {
  static uint8_t data[4096];
  char control[CMSG_SPACE(sizeof(int) * BRT_WIRE_FDS_MAX)];
  struct iovec iov = {data, sizeof data};
  struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control,
                       .msg_controllen = sizeof control};
  ssize_t got = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
  if (got <= 0 || !cmsg || cmsg->cmsg_type != SCM_RIGHTS) return 10;
  int fds[BRT_WIRE_FDS_MAX];
  size_t fd_count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
  memcpy(fds, CMSG_DATA(cmsg), fd_count * sizeof(int));
  brt_wire_reader r = {data, (size_t)got, 0, false, BRT_OK};
  brt_value *t = _brt_isolation_wire_value_get(&r, fds, fd_count);
  for (size_t i = 0; i < fd_count; i++) close(fds[i]); /* the mapping stays */
  if (!t) return 11;
  double *values = brt_tensor_data(t);
  if (values[0] != 7.0 || values[9999] != 9999.0) return 12;
  for (int i = 0; i < 10000; i++) values[i] = -values[i];
  brt_value_release(t);
  return 0;
}

static void test_shared_across_fork(void **state) {
  (void)state;
  brt_value *t = shared_tensor(10000);
  ((double *)brt_tensor_data(t))[0] = 7.0;
  int socks[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, socks), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(socks[0]);
    _exit(child_receives(socks[1]));
  }
  close(socks[1]);
  brt_wire_fds fds;
  brt_wire_buf buf = encode(t, 4096, &fds);
  assert_int_equal(fds.count, 1);
  send_with_fds(socks[0], &buf, &fds);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  const double *values = brt_tensor_data(t);
  assert_true(values[0] == -7.0 && values[9999] == -9999.0);
  _brt_isolation_wire_buf_free(&buf);
  close(socks[0]);
  brt_value_release(t);
}

/* --- Malformed input ------------------------------------------------------------ */

/* A value with every kind, an inline tensor and a shared one. */
static brt_value *everything(brt_value *shared) {
  static const char json[] = "{\"n\": null, \"b\": [true, false], \"i\": -5, \"f\": 2.5, "
                             "\"s\": \"\xC3\xA9t\xC3\xA9\", \"o\": {\"deep\": [[1], {}]}}";
  brt_value *v = brt_value_from_json(json, strlen(json), 0);
  assert_non_null(v);
  size_t shape[2] = {2, 2};
  brt_value *inline_tensor = brt_tensor_new(BRT_DTYPE_BOOL, 2, shape);
  brt_value *bytes = brt_value_bytes("\x01\x02", 2);
  assert_ok(brt_value_object_set(v, "t", 1, inline_tensor));
  assert_ok(brt_value_object_set(v, "shared", 6, shared));
  assert_ok(brt_value_object_set(v, "y", 1, bytes));
  brt_value_release(inline_tensor);
  brt_value_release(bytes);
  return v;
}

static void test_truncated_and_flipped(void **state) {
  (void)state;
  brt_value *shared = shared_tensor(16);
  brt_value *v = everything(shared);
  brt_wire_fds fds;
  brt_wire_buf buf = encode(v, 1, &fds);
  assert_int_equal(fds.count, 1);
  int open_before = brt_test_open_fds();
  for (size_t len = 0; len < buf.len; len++) assert_refused(buf.data, len, fds.fd, fds.count, NULL);
  /* Every byte changed: either still a valid message or CONVERSION. */
  uint64_t before = live_blocks();
  static const uint8_t masks[] = {0xFF, 0x80, 0x01};
  for (size_t at = 0; at < buf.len; at++)
    for (size_t m = 0; m < sizeof masks; m++) {
      buf.data[at] ^= masks[m];
      brt_wire_reader r = {buf.data, buf.len, 0, false, BRT_OK};
      brt_error_clear();
      brt_value *got = _brt_isolation_wire_value_get(&r, fds.fd, fds.count);
      if (!got) assert_string_equal(brt_status_name(brt_error_code(brt_last_error())),
                                    "BRT_E_CONVERSION");
      brt_value_release(got);
      buf.data[at] ^= masks[m];
    }
  assert_int_equal(live_blocks(), before);
  assert_int_equal(brt_test_open_fds(), open_before);
  _brt_isolation_wire_buf_free(&buf);
  brt_value_release(v);
  brt_value_release(shared);
}

static void refused_message(brt_wire_buf *m, const int *fds, size_t fd_count, const char *needle) {
  assert_refused(m->data, m->len, fds, fd_count, needle);
  _brt_isolation_wire_buf_free(m);
}

static void test_bad_messages(void **state) {
  (void)state;
  MESSAGE(huge_array, TAG(ARRAY), U32(0xFFFFFFFF));
  refused_message(&huge_array, NULL, 0, "ends inside a u64");
  MESSAGE(big_array, TAG(ARRAY), U64(1ull << 32), U8(0));
  refused_message(&big_array, NULL, 0, "cannot fit in the 1 bytes left");
  MESSAGE(big_object, TAG(OBJECT), U64(UINT64_MAX), U64(0), U8(0));
  refused_message(&big_object, NULL, 0, "an object of");
  MESSAGE(long_string, TAG(STRING), U64(UINT64_MAX - 1), U8('a'));
  refused_message(&long_string, NULL, 0, "longer than the 1 bytes left");
  MESSAGE(bad_utf8, TAG(STRING), BYTES("\xC0\x80", 2));
  refused_message(&bad_utf8, NULL, 0, "at byte 0");
  assert_int_equal(brt_error_code(brt_error_cause(brt_last_error())), BRT_E_INVALID_ARGUMENT);
  MESSAGE(bad_key, TAG(OBJECT), U64(1), BYTES("\xED\xA0\x80", 3), TAG(NULL));
  refused_message(&bad_key, NULL, 0, "object key was refused");
  MESSAGE(twice, TAG(OBJECT), U64(2), BYTES("k", 1), TAG(NULL), BYTES("k", 1),
          TAG(TRUE));
  refused_message(&twice, NULL, 0, "the key \"k\" twice");
  MESSAGE(unknown_tag, TAG(ARRAY), U64(1), U8(200));
  refused_message(&unknown_tag, NULL, 0, "at byte 9 of 10: unknown value tag 200");
  MESSAGE(bad_dtype, TAG(TENSOR), U8(6), U8(0), U64(8), U64(0));
  refused_message(&bad_dtype, NULL, 0, "dtype 6");
  MESSAGE(many_dims, TAG(TENSOR), U8(BRT_DTYPE_U8), U8(9));
  refused_message(&many_dims, NULL, 0, "9 dimensions");
  MESSAGE(short_data, TAG(TENSOR), U8(BRT_DTYPE_I32), U8(1), U64(3), BYTES("12345678", 8));
  refused_message(&short_data, NULL, 0, "not what its shape needs");
  MESSAGE(huge_shape, TAG(TENSOR), U8(BRT_DTYPE_U8), U8(2), U64(1ull << 30),
          U64(1ull << 30), BYTES("", 0));
  refused_message(&huge_shape, NULL, 0, "not what its shape needs");
  /* Even an empty tensor's extents must multiply within the address space
   * (zero-sized axes count as 1): its strides are computed from them. */
  MESSAGE(empty_but_huge, TAG(TENSOR), U8(BRT_DTYPE_F32), U8(3), U64(1ull << 40), U64(0),
          U64(1ull << 40), BYTES("", 0));
  refused_message(&empty_but_huge, NULL, 0, "multiplies beyond the address space");
  MESSAGE(bad_bool, TAG(TENSOR), U8(BRT_DTYPE_BOOL), U8(1), U64(2), BYTES("\x01\x02", 2));
  refused_message(&bad_bool, NULL, 0, "bool tensor element is 2");
  MESSAGE(zero_sized, TAG(TENSOR), U8(BRT_DTYPE_F32), U8(2), U64(1ull << 40), U64(0),
          BYTES("", 0));
  brt_wire_reader r = {zero_sized.data, zero_sized.len, 0, false, BRT_OK};
  brt_value *empty = _brt_isolation_wire_value_get(&r, NULL, 0); /* a zero-sized dimension */
  assert_non_null(empty);
  brt_value_release(empty);
  _brt_isolation_wire_buf_free(&zero_sized);
  /* A depth bomb: nesting refused at the limit, without recursing further. */
  brt_wire_buf bomb = {0};
  for (int i = 0; i < 100000; i++) {
    _brt_isolation_wire_put_u8(&bomb, BRT_WIRE_TAG_ARRAY);
    _brt_isolation_wire_put_u64(&bomb, 1);
  }
  refused_message(&bomb, NULL, 0, "deeper than 128 levels");
  /* Bad arguments. */
  assert_null_with(_brt_isolation_wire_value_get(NULL, NULL, 0), BRT_E_INVALID_ARGUMENT);
  brt_wire_reader failed = {(const uint8_t *)"", 0, 0, true, BRT_E_CONVERSION};
  assert_null_with(_brt_isolation_wire_value_get(&failed, NULL, 0), BRT_E_INVALID_ARGUMENT);
  brt_wire_reader fine = {(const uint8_t *)"", 0, 0, false, BRT_OK};
  assert_null_with(_brt_isolation_wire_value_get(&fine, NULL, 2), BRT_E_INVALID_ARGUMENT);
}

/* A by-reference tensor over `fd`: 4 f64 from `offset`, `len` bytes. */
static void refused_shared(int fd, uint32_t index, uint64_t offset, uint64_t len,
                           const char *needle) {
  MESSAGE(m, TAG(TENSOR_SHARED), U32(index), U64(offset), U64(len), U8(BRT_DTYPE_F64),
          U8(1), U64(4), U64(1));
  int fds[1] = {fd};
  refused_message(&m, fds, 1, needle);
}

static void test_bad_shared_tensors(void **state) {
  (void)state;
  int open_before = brt_test_open_fds();
  int unsealed = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  assert_int_equal(ftruncate(unsealed, 8192), 0);
  refused_shared(unsealed, 0, 0, 32, "not sealed against shrinking");
  int sealed = memfd_create("sealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  assert_int_equal(ftruncate(sealed, 8192), 0);
  assert_int_equal(fcntl(sealed, F_ADD_SEALS, F_SEAL_SHRINK), 0);
  refused_shared(sealed, 1, 0, 32, "names descriptor 1, but the message came with 1");
  refused_shared(sealed, 0, 8192 - 16, 32, "do not lie inside its memfd of 8192 bytes");
  refused_shared(sealed, 0, UINT64_MAX - 8, 32, "do not lie inside");
  refused_shared(sealed, 0, 0, 0, "do not lie inside");
  refused_shared(sealed, 0, 4, 32, "does not fit its bytes"); /* misaligned for f64 */
  refused_shared(sealed, 0, 0, 16, "does not fit its bytes"); /* 4 elements need 32 bytes */
  int pipe_fds[2];
  assert_int_equal(pipe(pipe_fds), 0);
  refused_shared(pipe_fds[0], 0, 0, 32, "not a memfd");
  /* A memfd reopened read-only cannot be mapped writable. */
  char path[64];
  snprintf(path, sizeof path, "/proc/self/fd/%d", sealed);
  int read_only = open(path, O_RDONLY | O_CLOEXEC);
  refused_shared(read_only, 0, 0, 32, "cannot be mapped");
  close(read_only);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  close(sealed);
  close(unsealed);
  assert_int_equal(brt_test_open_fds(), open_before);
}

/* --- Encoding refusals ------------------------------------------------------------ */

static void test_put_refusals(void **state) {
  (void)state;
  brt_wire_buf buf = {0};
  brt_wire_fds fds = {.count = 0};
  brt_value *null = brt_value_null();
  assert_status(_brt_isolation_wire_value_put(NULL, &fds, null, 0), BRT_E_INVALID_ARGUMENT);
  assert_status(_brt_isolation_wire_value_put(&buf, NULL, null, 0), BRT_E_INVALID_ARGUMENT);
  assert_status(_brt_isolation_wire_value_put(&buf, &fds, NULL, 0), BRT_E_INVALID_ARGUMENT);
  int local = 0;
  assert_status(_brt_isolation_wire_value_put(&buf, &fds, (const brt_value *)&local, 0),
                BRT_E_INVALID_POINTER);
  /* Too deep: nothing appended. */
  brt_value *deep = brt_value_null();
  for (int i = 0; i < BRT_WIRE_DEPTH_MAX + 1; i++) {
    brt_value *wrapper = brt_value_array(1);
    assert_ok(brt_value_array_push(wrapper, deep));
    brt_value_release(deep);
    deep = wrapper;
  }
  _brt_isolation_wire_put_u32(&buf, 77); /* something already in the message */
  assert_status(_brt_isolation_wire_value_put(&buf, &fds, deep, 0), BRT_E_LIMIT_EXCEEDED);
  assert_int_equal(buf.len, 4);
  assert_ok(_brt_isolation_wire_value_put(&buf, &fds, brt_value_array_get(deep, 0), 0));
  brt_value_release(deep);
  /* More distinct memfds than a message carries: nothing appended, fds as before. */
  enum { TENSORS = BRT_WIRE_FDS_MAX + 1 };
  brt_value *many = brt_value_array(TENSORS);
  for (int i = 0; i < TENSORS; i++) {
    brt_value *t = shared_tensor(10000); /* above 64 KiB: a memfd each */
    assert_ok(brt_value_array_push(many, t));
    brt_value_release(t);
  }
  size_t len = buf.len;
  fds.count = 0;
  assert_status(_brt_isolation_wire_value_put(&buf, &fds, many, 1), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "more than 64 distinct memfds");
  assert_int_equal(buf.len, len);
  assert_int_equal(fds.count, 0);
  assert_ok(_brt_isolation_wire_value_put(&buf, &fds, many, SIZE_MAX)); /* copied: fine */
  brt_value_release(many);
  brt_value_release(null);
  _brt_isolation_wire_buf_free(&buf);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_primitives),          cmocka_unit_test(test_scalars),
      cmocka_unit_test(test_containers),          cmocka_unit_test(test_tensors),
      cmocka_unit_test(test_shared_same_process), cmocka_unit_test(test_shared_across_fork),
      cmocka_unit_test(test_truncated_and_flipped), cmocka_unit_test(test_bad_messages),
      cmocka_unit_test(test_bad_shared_tensors),  cmocka_unit_test(test_put_refusals),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
