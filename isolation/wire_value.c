/* Values on the wire (wire.h). One tag byte per value, then its payload:
 *
 *   NULL, FALSE, TRUE      nothing
 *   INT, FLOAT             u64 (two's complement / IEEE-754 bits, so NaN
 *                          payloads and -0.0 cross unchanged)
 *   STRING, BYTES          u64 length, bytes
 *   ARRAY                  u64 count, count values
 *   OBJECT                 u64 count, count × (key: u64 length, bytes; value)
 *   TENSOR                 u8 dtype, u8 ndim, ndim × u64 shape, u64 length,
 *                          the elements in row-major order (native byte
 *                          order: host and worker share one machine)
 *   TENSOR_SHARED          u32 fd index, u64 offset, u64 length, u8 dtype,
 *                          u8 ndim, ndim × u64 shape, ndim × i64 strides
 *
 * The decoder builds everything through the public constructors, so what
 * they check (UTF-8, tensor geometry, duplicate keys as reported by the
 * object's length) is checked here too, and it bounds every count by the
 * bytes left before it allocates for it. */
#include "wire.h"
#include "core/utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

/* The smallest encodings: an array item is at least a tag, an object
 * entry a key length and a tag. */
#define ITEM_MIN_BYTES 1
#define ENTRY_MIN_BYTES 9
/* Containers start with room for at most this many children and grow as
 * they fill, so a count near the bytes left costs memory only as items
 * actually arrive. */
#define CAPACITY_HINT_MAX 65536

/* --- Encoding ---------------------------------------------------------------- */

typedef struct encoder {
  brt_wire_buf *buf;
  brt_wire_fds *fds;
  size_t by_ref_min;
} encoder;

static brt_status put_value(encoder *e, const brt_value *value, size_t depth);

/* The bytes from the tensor's first element to the end of the furthest one
 * its shape and strides reach (0 for an empty tensor); false when a stride
 * is negative, which no tensor of the public API has. */
static bool tensor_span(const brt_tensor_info *t, size_t element, size_t *span) {
  if (t->count == 0) {
    *span = 0;
    return true;
  }
  size_t last = 0;
  for (size_t i = 0; i < t->ndim; i++) {
    if (t->strides[i] < 0) return false;
    last += (t->shape[i] - 1) * (size_t)t->strides[i];
  }
  *span = (last + 1) * element;
  return true;
}

static bool tensor_contiguous(const brt_tensor_info *t) {
  size_t expected = 1;
  for (size_t i = t->ndim; i-- > 0;) {
    if (t->shape[i] != 1 && t->strides[i] != (ptrdiff_t)expected) return false;
    expected *= t->shape[i];
  }
  return true;
}

/* The descriptor's index in e->fds, adding it (sealed) when new. The seal
 * is what lets the receiver trust that the range it maps stays inside the
 * file: a memfd that shrank under its mapping would fault there. */
static brt_status fd_index(encoder *e, int fd, uint32_t *index) {
  for (size_t i = 0; i < e->fds->count; i++)
    if (e->fds->fd[i] == fd) {
      *index = (uint32_t)i;
      return BRT_OK;
    }
  if (e->fds->count == BRT_WIRE_FDS_MAX)
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                         "wire: the value's tensors live in more than %d distinct memfds, the "
                         "most one message carries; send fewer large SHARED tensors per call",
                         BRT_WIRE_FDS_MAX);
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || (!(seals & F_SEAL_SHRINK) && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0)) {
    int err = errno;
    return brt_error_set_os(BRT_E_IO, err,
                            "wire: cannot seal the memfd %d of a SHARED tensor against shrinking "
                            "(F_SEAL_SHRINK): %s", fd, strerror(err));
  }
  *index = (uint32_t)e->fds->count;
  e->fds->fd[e->fds->count++] = fd;
  return BRT_OK;
}

/* A tensor by reference when its data is in a SHARED block and spans
 * enough bytes; *sent tells whether it was. */
static brt_status put_tensor_shared(encoder *e, const brt_tensor_info *t, size_t span, bool *sent) {
  *sent = false;
  brt_block_info block = {.struct_size = sizeof block};
  if (span == 0 || span < e->by_ref_min || brt_block_info_get(t->block, &block) != BRT_OK ||
      block.type != BRT_MEM_SHARED)
    return BRT_OK;
  int fd = -1;
  uint64_t offset = 0;
  brt_status status = brt_shared_fd(t->block, &fd, &offset);
  uint32_t index = 0;
  if (status == BRT_OK) status = fd_index(e, fd, &index);
  if (status != BRT_OK) return status;
  _brt_isolation_wire_put_u8(e->buf, BRT_WIRE_TAG_TENSOR_SHARED);
  _brt_isolation_wire_put_u32(e->buf, index);
  /* The data starts at the block's first byte in every tensor the public
   * API makes; the difference keeps the encoding right should it not. */
  _brt_isolation_wire_put_u64(e->buf, offset + (uint64_t)((char *)t->data - (char *)t->block));
  _brt_isolation_wire_put_u64(e->buf, span);
  _brt_isolation_wire_put_u8(e->buf, (uint8_t)t->dtype);
  _brt_isolation_wire_put_u8(e->buf, (uint8_t)t->ndim);
  for (size_t i = 0; i < t->ndim; i++) _brt_isolation_wire_put_u64(e->buf, t->shape[i]);
  for (size_t i = 0; i < t->ndim; i++) _brt_isolation_wire_put_u64(e->buf, (uint64_t)t->strides[i]);
  *sent = true;
  return BRT_OK;
}

/* A copy of the elements, in row-major order whatever the strides. */
static void put_tensor_inline(encoder *e, const brt_tensor_info *t, size_t element) {
  _brt_isolation_wire_put_u8(e->buf, BRT_WIRE_TAG_TENSOR);
  _brt_isolation_wire_put_u8(e->buf, (uint8_t)t->dtype);
  _brt_isolation_wire_put_u8(e->buf, (uint8_t)t->ndim);
  for (size_t i = 0; i < t->ndim; i++) _brt_isolation_wire_put_u64(e->buf, t->shape[i]);
  _brt_isolation_wire_put_u64(e->buf, (uint64_t)t->count * element);
  if (tensor_contiguous(t)) {
    _brt_isolation_wire_put_raw(e->buf, t->data, t->count * element);
    return;
  }
  size_t index[BRT_TENSOR_MAX_DIMS] = {0};
  for (size_t n = 0; n < t->count; n++) {
    ptrdiff_t offset = 0;
    for (size_t i = 0; i < t->ndim; i++) offset += (ptrdiff_t)index[i] * t->strides[i];
    _brt_isolation_wire_put_raw(e->buf, (const uint8_t *)t->data + offset * (ptrdiff_t)element,
                                element);
    for (size_t i = t->ndim; i-- > 0;) {
      if (++index[i] < t->shape[i]) break;
      index[i] = 0;
    }
  }
}

static brt_status put_tensor(encoder *e, const brt_value *value) {
  brt_tensor_info t = {.struct_size = sizeof t};
  brt_status status = brt_tensor_info_get(value, &t);
  if (status != BRT_OK) return status;
  size_t element = brt_dtype_size(t.dtype);
  size_t span = 0;
  bool sent = false;
  if (tensor_span(&t, element, &span)) status = put_tensor_shared(e, &t, span, &sent);
  if (status == BRT_OK && !sent) put_tensor_inline(e, &t, element);
  return status;
}

static brt_status deeper_than_allowed(void) {
  return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                       "wire: the value nests containers deeper than %d levels, the most a "
                       "message carries", BRT_WIRE_DEPTH_MAX);
}

static brt_status put_array(encoder *e, const brt_value *array, size_t depth) {
  if (depth >= BRT_WIRE_DEPTH_MAX) return deeper_than_allowed();
  size_t count = 0;
  brt_status status = brt_value_array_length(array, &count);
  if (status != BRT_OK) return status;
  _brt_isolation_wire_put_u8(e->buf, BRT_WIRE_TAG_ARRAY);
  _brt_isolation_wire_put_u64(e->buf, count);
  for (size_t i = 0; i < count && status == BRT_OK; i++)
    status = put_value(e, brt_value_array_get(array, i), depth + 1);
  return status;
}

static brt_status put_object(encoder *e, const brt_value *object, size_t depth) {
  if (depth >= BRT_WIRE_DEPTH_MAX) return deeper_than_allowed();
  size_t count = 0;
  brt_status status = brt_value_object_length(object, &count);
  if (status != BRT_OK) return status;
  _brt_isolation_wire_put_u8(e->buf, BRT_WIRE_TAG_OBJECT);
  _brt_isolation_wire_put_u64(e->buf, count);
  for (size_t i = 0; i < count && status == BRT_OK; i++) {
    const char *key = NULL;
    size_t key_len = 0;
    const brt_value *item = NULL;
    status = brt_value_object_entry(object, i, &key, &key_len, &item);
    if (status != BRT_OK) break;
    _brt_isolation_wire_put_bytes(e->buf, key, key_len);
    status = put_value(e, item, depth + 1);
  }
  return status;
}

/* A string or byte string: both are a length and bytes. */
static brt_status put_counted(encoder *e, const brt_value *value, brt_kind kind) {
  const char *text = NULL;
  const void *data = NULL;
  size_t len = 0;
  brt_status status = kind == BRT_KIND_STRING ? brt_value_get_string(value, &text, &len)
                                              : brt_value_get_bytes(value, &data, &len);
  if (status != BRT_OK) return status;
  _brt_isolation_wire_put_u8(e->buf,
                             kind == BRT_KIND_STRING ? BRT_WIRE_TAG_STRING : BRT_WIRE_TAG_BYTES);
  _brt_isolation_wire_put_bytes(e->buf, kind == BRT_KIND_STRING ? (const void *)text : data, len);
  return BRT_OK;
}

static brt_status put_value(encoder *e, const brt_value *value, size_t depth) {
  brt_kind kind = brt_value_kind(value);
  brt_status status = BRT_OK;
  switch (kind) {
  case BRT_KIND_NULL: _brt_isolation_wire_put_u8(e->buf, BRT_WIRE_TAG_NULL); break;
  case BRT_KIND_BOOL: {
    int truth = 0;
    status = brt_value_get_bool(value, &truth);
    _brt_isolation_wire_put_u8(e->buf, truth ? BRT_WIRE_TAG_TRUE : BRT_WIRE_TAG_FALSE);
    break;
  }
  case BRT_KIND_INT: {
    int64_t number = 0;
    status = brt_value_get_int(value, &number);
    _brt_isolation_wire_put_u8(e->buf, BRT_WIRE_TAG_INT);
    _brt_isolation_wire_put_u64(e->buf, (uint64_t)number);
    break;
  }
  case BRT_KIND_FLOAT: {
    double number = 0;
    uint64_t bits = 0;
    status = brt_value_get_float(value, &number);
    memcpy(&bits, &number, sizeof bits);
    _brt_isolation_wire_put_u8(e->buf, BRT_WIRE_TAG_FLOAT);
    _brt_isolation_wire_put_u64(e->buf, bits);
    break;
  }
  case BRT_KIND_STRING:
  case BRT_KIND_BYTES: status = put_counted(e, value, kind); break;
  case BRT_KIND_ARRAY: status = put_array(e, value, depth); break;
  case BRT_KIND_OBJECT: status = put_object(e, value, depth); break;
  case BRT_KIND_TENSOR: status = put_tensor(e, value); break;
  default: status = _brt_null_status("brt_value_kind"); break; /* it recorded why */
  }
  return status;
}

brt_status _brt_isolation_wire_value_put(brt_wire_buf *buf, brt_wire_fds *fds,
                                         const brt_value *value, size_t by_ref_min) {
  if (!buf || !fds || !value)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "wire: %s is NULL",
                         !buf ? "buf" : !fds ? "fds" : "value");
  if (buf->failed || fds->count > BRT_WIRE_FDS_MAX)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         buf->failed ? "wire: the buffer already failed an append; start the "
                                       "message again"
                                     : "wire: fds->count is beyond BRT_WIRE_FDS_MAX");
  size_t len_before = buf->len, fds_before = fds->count;
  encoder e = {buf, fds, by_ref_min};
  brt_status status = put_value(&e, value, 0);
  if (status == BRT_OK && buf->failed)
    status = brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                           "wire: no memory to grow the message beyond %zu bytes", buf->len);
  if (status != BRT_OK) {
    buf->len = len_before;
    fds->count = fds_before;
  }
  return status;
}

/* --- Decoding ---------------------------------------------------------------- */

typedef struct decoder {
  brt_wire_reader *r;
  const int *fds;
  size_t fd_count;
} decoder;

static brt_value *get_value(decoder *d, size_t depth);

/* A public constructor refused what the message described: the reader
 * fails with the constructor's error as the cause. Running out of memory
 * or into the memory limit is not the message's fault and keeps its code. */
static void constructor_failed(brt_wire_reader *r, size_t at, const char *what) {
  brt_status cause = brt_error_code(brt_last_error()); /* the constructors record on NULL */
  brt_status code =
      cause == BRT_E_OUT_OF_MEMORY || cause == BRT_E_LIMIT_EXCEEDED ? cause : BRT_E_CONVERSION;
  r->failed = true;
  r->status =
      brt_error_wrap(code, BRT_ORIGIN_C, NULL, "wire: at byte %zu of %zu: %s", at, r->len, what);
}

/* A value from a constructor, or NULL with the reader failed. */
static brt_value *made(brt_wire_reader *r, size_t at, brt_value *value, const char *what) {
  if (!value) constructor_failed(r, at, what);
  return value;
}

static size_t capacity_hint(uint64_t count) {
  return count < CAPACITY_HINT_MAX ? (size_t)count : CAPACITY_HINT_MAX;
}

/* A count of children, each at least `min_bytes` long, that can fit in
 * what is left (so a short message never makes us allocate much). */
static uint64_t get_count(brt_wire_reader *r, size_t min_bytes, const char *what) {
  size_t at = r->pos;
  uint64_t count = _brt_isolation_wire_get_u64(r);
  if (!r->failed && count > (r->len - r->pos) / min_bytes)
    _brt_isolation_wire_reader_fail(r, at, "%s of %llu items cannot fit in the %zu bytes left",
                                    what, (unsigned long long)count, r->len - r->pos);
  return r->failed ? 0 : count;
}

static brt_value *get_array(decoder *d, size_t at, size_t depth) {
  uint64_t count = get_count(d->r, ITEM_MIN_BYTES, "an array");
  if (d->r->failed) return NULL;
  brt_value *array = made(d->r, at, brt_value_array(capacity_hint(count)), "an array");
  for (uint64_t i = 0; array && i < count; i++) {
    size_t item_at = d->r->pos;
    brt_value *item = get_value(d, depth + 1);
    brt_status status = item ? brt_value_array_push(array, item) : BRT_E_CONVERSION;
    if (item && status != BRT_OK) constructor_failed(d->r, item_at, "an array item was refused");
    brt_value_release(item);
    if (status != BRT_OK) {
      brt_value_release(array);
      array = NULL;
    }
  }
  return array;
}

/* How much of a (valid UTF-8) key an error message shows: at most 64
 * bytes, cut before a character rather than inside one. */
static size_t shown_prefix(const char *key, size_t len) { return _brt_utf8_cut(key, len, 64); }

static brt_value *get_object(decoder *d, size_t at, size_t depth) {
  uint64_t count = get_count(d->r, ENTRY_MIN_BYTES, "an object");
  if (d->r->failed) return NULL;
  brt_value *object = made(d->r, at, brt_value_object(capacity_hint(count)), "an object");
  for (uint64_t i = 0; object && i < count; i++) {
    size_t key_at = d->r->pos;
    size_t key_len = 0;
    const char *key = _brt_isolation_wire_get_bytes(d->r, &key_len);
    brt_value *item = key ? get_value(d, depth + 1) : NULL;
    brt_status status = item ? brt_value_object_set(object, key, key_len, item) : BRT_E_CONVERSION;
    size_t length = 0;
    if (item && status != BRT_OK) {
      constructor_failed(d->r, key_at, "an object key was refused");
    } else if (item && (brt_value_object_length(object, &length) != BRT_OK || length != i + 1)) {
      /* object_set replaces the value of a key it has: the length says so. */
      _brt_isolation_wire_reader_fail(d->r, key_at, "the object has the key \"%.*s\" twice",
                                      (int)shown_prefix(key, key_len), key);
      status = BRT_E_CONVERSION;
    }
    brt_value_release(item);
    if (status != BRT_OK) {
      brt_value_release(object);
      object = NULL;
    }
  }
  return object;
}

/* dtype, ndim and shape, shared by both tensor encodings. */
static bool get_geometry(brt_wire_reader *r, brt_dtype *dtype, size_t *ndim, size_t *shape) {
  size_t at = r->pos;
  uint8_t code = _brt_isolation_wire_get_u8(r);
  *ndim = _brt_isolation_wire_get_u8(r);
  if (r->failed) return false;
  *dtype = (brt_dtype)code;
  if (brt_dtype_size(*dtype) == 0 || *ndim > BRT_TENSOR_MAX_DIMS) {
    _brt_isolation_wire_reader_fail(r, at, "a tensor with dtype %u and %zu dimensions (dtypes are "
                                    "0..5, at most %d dimensions)", code, *ndim,
                                    BRT_TENSOR_MAX_DIMS);
    return false;
  }
  for (size_t i = 0; i < *ndim; i++) shape[i] = _brt_isolation_wire_get_u64(r);
  if (r->failed) return false;
  /* Row-major strides are products of the extents of the later axes, a
   * zero-sized axis counting as 1, so even an empty tensor's extents must
   * multiply within the address space: the tensor constructors compute
   * those strides as signed numbers. */
  size_t product = brt_dtype_size(*dtype), limit = SIZE_MAX / 2;
  for (size_t i = 0; i < *ndim; i++) {
    size_t extent = shape[i] ? shape[i] : 1;
    if (extent > limit / product) {
      _brt_isolation_wire_reader_fail(r, at, "a %s tensor's shape multiplies beyond the address "
                                      "space (zero-sized axes counted as 1)",
                                      brt_dtype_name(*dtype));
      return false;
    }
    product *= extent;
  }
  return true;
}

static brt_value *get_tensor_inline(brt_wire_reader *r, size_t at) {
  brt_dtype dtype;
  size_t ndim, shape[BRT_TENSOR_MAX_DIMS];
  if (!get_geometry(r, &dtype, &ndim, shape)) return NULL;
  size_t data_at = r->pos;
  size_t len = 0;
  const uint8_t *data = _brt_isolation_wire_get_bytes(r, &len);
  if (!data) return NULL;
  /* The shape's bytes must be exactly the data's: computed without
   * overflow, and a product that passes `len` is wrong whatever follows. */
  size_t element = brt_dtype_size(dtype), bytes = element;
  for (size_t i = 0; i < ndim && bytes; i++)
    bytes = shape[i] == 0 ? 0 : shape[i] > len / bytes ? SIZE_MAX : bytes * shape[i];
  if (bytes != len) {
    _brt_isolation_wire_reader_fail(r, data_at, "a %s tensor of %zu dimensions comes with %zu data "
                                    "bytes, which is not what its shape needs",
                                    brt_dtype_name(dtype), ndim, len);
    return NULL;
  }
  if (dtype == BRT_DTYPE_BOOL)
    for (size_t i = 0; i < len; i++)
      if (data[i] > 1) {
        _brt_isolation_wire_reader_fail(r, data_at + 8 + i, "a bool tensor element is %u, not 0 "
                                        "or 1", data[i]);
        return NULL;
      }
  brt_value *tensor = made(r, at, brt_tensor_new(dtype, ndim, shape), "a tensor");
  if (tensor && len) memcpy(brt_tensor_data(tensor), data, len);
  return tensor;
}

static void *map_writable(int fd, const struct stat *st, uint64_t offset, size_t len) {
  (void)st;
  return brt_map_fd(fd, offset, len, BRT_MAP_WRITABLE);
}

static brt_wire_mapper tensor_mapper = map_writable;

void _brt_isolation_wire_set_mapper(brt_wire_mapper mapper) {
  tensor_mapper = mapper ? mapper : map_writable;
}

/* A by-reference tensor: checks the fd and the range before mapping it. */
static brt_value *get_tensor_shared(decoder *d, size_t at) {
  brt_wire_reader *r = d->r;
  uint32_t index = _brt_isolation_wire_get_u32(r);
  uint64_t offset = _brt_isolation_wire_get_u64(r);
  uint64_t len = _brt_isolation_wire_get_u64(r);
  brt_dtype dtype;
  size_t ndim, shape[BRT_TENSOR_MAX_DIMS];
  ptrdiff_t strides[BRT_TENSOR_MAX_DIMS];
  if (!get_geometry(r, &dtype, &ndim, shape)) return NULL;
  for (size_t i = 0; i < ndim; i++) strides[i] = (ptrdiff_t)_brt_isolation_wire_get_u64(r);
  if (r->failed) return NULL;
  if (index >= d->fd_count) {
    _brt_isolation_wire_reader_fail(r, at, "a shared tensor names descriptor %u, but the message "
                                    "came with %zu", index, d->fd_count);
    return NULL;
  }
  int fd = d->fds[index];
  int seals = fcntl(fd, F_GET_SEALS);
  struct stat st;
  if (seals < 0 || !(seals & F_SEAL_SHRINK) || fstat(fd, &st) != 0) {
    _brt_isolation_wire_reader_fail(r, at, "descriptor %u of a shared tensor is %s", index,
                                    seals < 0 ? "not a memfd"
                                    : !(seals & F_SEAL_SHRINK)
                                        ? "a memfd not sealed against shrinking (F_SEAL_SHRINK)"
                                        : "a memfd that cannot be examined (fstat failed)");
    return NULL;
  }
  if (len == 0 || offset > (uint64_t)st.st_size || len > (uint64_t)st.st_size - offset) {
    _brt_isolation_wire_reader_fail(r, at, "a shared tensor's %llu bytes from offset %llu do not "
                                    "lie inside its memfd of %lld bytes", (unsigned long long)len,
                                    (unsigned long long)offset, (long long)st.st_size);
    return NULL;
  }
  void *block = made(r, at, tensor_mapper(fd, &st, offset, (size_t)len),
                     "a shared tensor's memfd cannot be mapped");
  if (!block) return NULL;
  brt_value *tensor = made(r, at, brt_tensor_wrap(block, dtype, ndim, shape, strides),
                           "a shared tensor's geometry does not fit its bytes");
  brt_release(block); /* the tensor holds the block now, or nobody does */
  return tensor;
}

static brt_value *get_value(decoder *d, size_t depth) {
  brt_wire_reader *r = d->r;
  size_t at = r->pos;
  uint8_t tag = _brt_isolation_wire_get_u8(r);
  if (r->failed) return NULL;
  if ((tag == BRT_WIRE_TAG_ARRAY || tag == BRT_WIRE_TAG_OBJECT) && depth >= BRT_WIRE_DEPTH_MAX) {
    _brt_isolation_wire_reader_fail(r, at, "containers nest deeper than %d levels",
                                    BRT_WIRE_DEPTH_MAX);
    return NULL;
  }
  switch ((enum brt_wire_tag)tag) {
  case BRT_WIRE_TAG_NULL: return made(r, at, brt_value_null(), "null");
  case BRT_WIRE_TAG_FALSE:
  case BRT_WIRE_TAG_TRUE:
    return made(r, at, brt_value_bool(tag == BRT_WIRE_TAG_TRUE), "a bool");
  case BRT_WIRE_TAG_INT:
  case BRT_WIRE_TAG_FLOAT: {
    uint64_t bits = _brt_isolation_wire_get_u64(r);
    if (r->failed) return NULL;
    int64_t integer;
    double number;
    memcpy(&integer, &bits, sizeof bits);
    memcpy(&number, &bits, sizeof bits);
    return tag == BRT_WIRE_TAG_INT ? made(r, at, brt_value_int(integer), "an int")
                                   : made(r, at, brt_value_float(number), "a float");
  }
  case BRT_WIRE_TAG_STRING:
  case BRT_WIRE_TAG_BYTES: {
    size_t len = 0;
    const char *data = _brt_isolation_wire_get_bytes(r, &len);
    if (!data) return NULL;
    return tag == BRT_WIRE_TAG_STRING
               ? made(r, at, brt_value_string(data, len), "a string was refused")
               : made(r, at, brt_value_bytes(data, len), "a byte string");
  }
  case BRT_WIRE_TAG_ARRAY: return get_array(d, at, depth);
  case BRT_WIRE_TAG_OBJECT: return get_object(d, at, depth);
  case BRT_WIRE_TAG_TENSOR: return get_tensor_inline(r, at);
  case BRT_WIRE_TAG_TENSOR_SHARED: return get_tensor_shared(d, at);
  }
  _brt_isolation_wire_reader_fail(r, at, "unknown value tag %u", tag);
  return NULL;
}

brt_value *_brt_isolation_wire_value_get(brt_wire_reader *r, const int *fds, size_t fd_count) {
  if (!r || (!r->data && r->len) || (!fds && fd_count) || r->failed) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "wire: %s",
                  !r                      ? "the reader is NULL"
                  : !r->data && r->len    ? "the reader has no data but a length"
                  : !fds && fd_count      ? "fds is NULL but fd_count is not 0"
                                          : "the reader already failed; decode a new message");
    return NULL;
  }
  decoder d = {r, fds, fd_count};
  return get_value(&d, 0);
}
