/* Tensors: dtype, shape, strides (in elements) and data in a managed block.
 *
 * A tensor value never copies its data: brt_tensor_new allocates one block,
 * brt_tensor_wrap retains a block the caller already has (the zero-copy path
 * between Rust and C++), and releasing the tensor releases the block. The
 * geometry is checked once, when the tensor is made: afterwards every
 * element the shape and strides reach is known to lie inside the block. */
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const size_t dtype_sizes[] = {8, 4, 8, 4, 1, 1};
static const char *const dtype_names[] = {"f64", "f32", "i64", "i32", "u8", "bool"};
#define DTYPE_COUNT (sizeof dtype_sizes / sizeof dtype_sizes[0])

size_t brt_dtype_size(brt_dtype dtype) {
  return (unsigned)dtype < DTYPE_COUNT ? dtype_sizes[dtype] : 0;
}

const char *brt_dtype_name(brt_dtype dtype) {
  return (unsigned)dtype < DTYPE_COUNT ? dtype_names[dtype] : "invalid";
}

static bool geometry_valid(brt_dtype dtype, size_t ndim, const size_t *shape, const char *function) {
  if ((unsigned)dtype >= DTYPE_COUNT) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "%s: dtype %d is not a brt_dtype (0..%zu)", function, (int)dtype, DTYPE_COUNT - 1);
    return false;
  }
  if (ndim > BRT_TENSOR_MAX_DIMS) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "%s: ndim is %zu, at most %d dimensions are supported", function, ndim,
                  BRT_TENSOR_MAX_DIMS);
    return false;
  }
  if (ndim && !shape) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: shape is NULL but ndim is %zu",
                  function, ndim);
    return false;
  }
  return true;
}

/* Product of the shape times the element size, or false on overflow. */
static bool contiguous_bytes(brt_dtype dtype, size_t ndim, const size_t *shape, size_t *count,
                             size_t *bytes, const char *function) {
  size_t product = 1;
  for (size_t i = 0; i < ndim; i++) {
    if (shape[i] && product > SIZE_MAX / shape[i]) goto overflow;
    product *= shape[i];
  }
  if (product > SIZE_MAX / 2 / dtype_sizes[dtype]) goto overflow;
  *count = product;
  *bytes = product * dtype_sizes[dtype];
  return true;
overflow:
  brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                "%s: the shape's element count overflows the address space", function);
  return false;
}

/* Strides are ptrdiff_t, in elements and, for whoever converts them, in
 * bytes: the product of the extents, an extent of 0 counting as 1 (a
 * row-major stride skips it as if it were 1), times the element size must
 * fit one, or the strides overflow. For a shape with elements
 * contiguous_bytes has checked as much already; a shape with a zero
 * extent has no elements whatever its other extents, so it is checked
 * here. INVALID_ARGUMENT naming the shape. */
static bool strides_fit(brt_dtype dtype, size_t ndim, const size_t *shape, const char *function) {
  size_t product = dtype_sizes[dtype];
  for (size_t i = 0; i < ndim; i++) {
    size_t extent = shape[i] ? shape[i] : 1;
    if (product <= (size_t)PTRDIFF_MAX / extent) {
      product *= extent;
      continue;
    }
    char text[BRT_TENSOR_MAX_DIMS * 22 + 3];
    size_t used = 0;
    text[used++] = '[';
    for (size_t k = 0; k < ndim; k++)
      used += (size_t)snprintf(text + used, sizeof text - used, "%s%zu", k ? ", " : "", shape[k]);
    snprintf(text + used, sizeof text - used, "]");
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "%s: shape %s: its extents (0 counted as 1) multiply past what a stride can "
                  "hold (%td bytes of %s elements)", function, text, PTRDIFF_MAX,
                  dtype_names[dtype]);
    return false;
  }
  return true;
}

static brt_value *tensor_value(void *block, brt_dtype dtype, size_t ndim, const size_t *shape,
                               const ptrdiff_t *strides, size_t count) {
  brt_value *value = NULL;
  if (_brt_value_new(&value, BRT_KIND_TENSOR, sizeof(tensor_meta)) != BRT_OK) return NULL;
  tensor_meta *meta = (tensor_meta *)(value + 1);
  memset(meta, 0, sizeof *meta);
  meta->dtype = dtype;
  meta->ndim = ndim;
  meta->count = count;
  meta->data = block;
  meta->block = block;
  ptrdiff_t running = 1;
  for (size_t i = ndim; i-- > 0;) {
    meta->shape[i] = shape[i];
    meta->strides[i] = strides ? strides[i] : running;
    running *= (ptrdiff_t)(shape[i] ? shape[i] : 1);
  }
  value->as.tensor = meta;
  return value;
}

brt_value *_brt_tensor_adopt(void *block, brt_dtype dtype, size_t ndim, const size_t *shape) {
  size_t count = 1;
  for (size_t i = 0; i < ndim; i++) count *= shape[i];
  return tensor_value(block, dtype, ndim, shape, NULL, count);
}

brt_value *brt_tensor_new(brt_dtype dtype, size_t ndim, const size_t *shape) {
  size_t count, bytes;
  if (!geometry_valid(dtype, ndim, shape, "brt_tensor_new") ||
      !contiguous_bytes(dtype, ndim, shape, &count, &bytes, "brt_tensor_new") ||
      !strides_fit(dtype, ndim, shape, "brt_tensor_new"))
    return NULL;
  /* 64-byte alignment lets SIMD code on either side use aligned loads. */
  void *block = brt_alloc(bytes ? bytes : 1, 64, BRT_MEM_C_HEAP, BRT_ALLOC_ZERO);
  if (!block) return NULL;
  brt_value *tensor = tensor_value(block, dtype, ndim, shape, NULL, count);
  if (!tensor) brt_release(block);
  return tensor;
}

brt_value *brt_tensor_wrap(void *block, brt_dtype dtype, size_t ndim, const size_t *shape,
                           const ptrdiff_t *strides) {
  static const char fn[] = "brt_tensor_wrap";
  if (!block) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: block is NULL", fn);
    return NULL;
  }
  if (!geometry_valid(dtype, ndim, shape, fn)) return NULL;
  if (!brt_owns(block)) {
    brt_error_set(BRT_E_INVALID_POINTER, BRT_ORIGIN_C, NULL,
                  "%s: block %p is not memory of the bridgert allocator; allocate it with "
                  "brt_alloc (or copy it in) to share it without copying",
                  fn, block);
    return NULL;
  }
  brt_block_info info = {.struct_size = sizeof info};
  if (brt_block_info_get(block, &info) != BRT_OK) {
    brt_error_wrap(BRT_E_INVALID_POINTER, BRT_ORIGIN_C, NULL,
                   "%s: block %p is not the start of a live block", fn, block);
    return NULL;
  }
  size_t element = dtype_sizes[dtype];
  if ((uintptr_t)block % element) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                  "%s: block %p is not aligned for %s elements (%zu bytes)", fn, block,
                  dtype_names[dtype], element);
    return NULL;
  }
  size_t count, contiguous;
  if (!contiguous_bytes(dtype, ndim, shape, &count, &contiguous, fn) ||
      !strides_fit(dtype, ndim, shape, fn))
    return NULL;
  /* The furthest element reached is sum((shape[i]-1) * strides[i]). */
  size_t needed = contiguous;
  if (strides && count) {
    size_t last = 0;
    for (size_t i = 0; i < ndim; i++) {
      if (strides[i] < 0) {
        brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                      "%s: strides[%zu] is %td; strides must not be negative because the data "
                      "starts at the block's first byte",
                      fn, i, strides[i]);
        return NULL;
      }
      size_t step = (size_t)strides[i];
      if (step && shape[i] - 1 > (SIZE_MAX / 2 - last) / step) {
        brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                      "%s: shape and strides reach beyond the address space", fn);
        return NULL;
      }
      last += (shape[i] - 1) * step;
    }
    if (last >= SIZE_MAX / 2 / element) {
      brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                    "%s: shape and strides reach beyond the address space", fn);
      return NULL;
    }
    needed = (last + 1) * element;
  }
  if (needed > info.size) {
    brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                  "%s: the shape and strides reach %zu bytes but the block holds only %zu", fn,
                  needed, info.size);
    return NULL;
  }
  if (brt_retain(block) != BRT_OK) return NULL;
  brt_value *tensor = tensor_value(block, dtype, ndim, shape, strides, count);
  if (!tensor) {
    brt_release(block);
    return NULL;
  }
  /* A read-only MAPPED block (brt_map_file, brt_map_fd without
   * BRT_MAP_WRITABLE): the setters refuse rather than fault. */
  tensor->as.tensor->read_only = (info.flags & BRT_BLOCK_READ_ONLY) != 0;
  return tensor;
}

static brt_status tensor_ready(const brt_value *tensor, const char *function) {
  brt_status status = _brt_value_check(tensor, function, "tensor");
  if (status != BRT_OK) return status;
  if (tensor->kind != BRT_KIND_TENSOR) return _brt_type_mismatch(function, BRT_KIND_TENSOR, tensor);
  return BRT_OK;
}

void *brt_tensor_data(const brt_value *tensor) {
  if (tensor_ready(tensor, "brt_tensor_data") != BRT_OK) return NULL;
  return tensor->as.tensor->data;
}

brt_status brt_tensor_info_get(const brt_value *tensor, brt_tensor_info *out) {
  brt_status status = tensor_ready(tensor, "brt_tensor_info_get");
  if (status != BRT_OK) return status;
  if (!out)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_tensor_info_get: out is NULL");
  if (out->struct_size < sizeof(brt_tensor_info))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_tensor_info_get: out->struct_size is %u, expected at least %zu "
                         "(set it to sizeof(brt_tensor_info))",
                         out->struct_size, sizeof(brt_tensor_info));
  const tensor_meta *meta = tensor->as.tensor;
  out->dtype = meta->dtype;
  out->ndim = meta->ndim;
  for (size_t i = 0; i < BRT_TENSOR_MAX_DIMS; i++) {
    out->shape[i] = i < meta->ndim ? meta->shape[i] : 0;
    out->strides[i] = i < meta->ndim ? meta->strides[i] : 0;
  }
  out->count = meta->count;
  out->data = meta->data;
  out->block = meta->block;
  return BRT_OK;
}

/* --- Element access -------------------------------------------------------------- */

/* The address of the element at `index` in *at. */
static brt_status element_address(const brt_value *tensor, const size_t *index, size_t nindex,
                                  const char *function, unsigned char **at) {
  brt_status status = tensor_ready(tensor, function);
  if (status != BRT_OK) return status;
  const tensor_meta *meta = tensor->as.tensor;
  if (nindex != meta->ndim)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: %zu indices given for a tensor of %zu dimensions", function, nindex,
                         meta->ndim);
  if (nindex && !index)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: index is NULL",
                         function);
  ptrdiff_t offset = 0;
  for (size_t i = 0; i < nindex; i++) {
    if (index[i] >= meta->shape[i])
      return brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                           "%s: index %zu on axis %zu is out of range (extent %zu)", function,
                           index[i], i, meta->shape[i]);
    offset += (ptrdiff_t)index[i] * meta->strides[i];
  }
  *at = meta->data + offset * (ptrdiff_t)dtype_sizes[meta->dtype];
  return BRT_OK;
}

/* The element a setter writes: refused with PERMISSION when the tensor's
 * block is read-only (a write would fault), else as element_address. */
static brt_status writable_element(brt_value *tensor, const size_t *index, size_t nindex,
                                   const char *function, unsigned char **at) {
  brt_status status = tensor_ready(tensor, function);
  if (status != BRT_OK) return status;
  if (tensor->as.tensor->read_only)
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "%s: the tensor's block %p is read-only (a MAPPED block of "
                         "brt_map_file, or of brt_map_fd without BRT_MAP_WRITABLE); copy it "
                         "(brt_map_copy, then brt_tensor_wrap) to change its elements",
                         function, tensor->as.tensor->block);
  return element_address(tensor, index, nindex, function, at);
}

const unsigned char *_brt_tensor_element(const tensor_meta *meta, size_t linear) {
  ptrdiff_t offset = 0;
  for (size_t axis = meta->ndim; axis-- > 0;) {
    offset += (ptrdiff_t)(linear % meta->shape[axis]) * meta->strides[axis];
    linear /= meta->shape[axis];
  }
  return meta->data + offset * (ptrdiff_t)dtype_sizes[meta->dtype];
}

double _brt_tensor_load_f64(brt_dtype dtype, const unsigned char *at) {
  switch (dtype) {
  case BRT_DTYPE_F64: { double x; memcpy(&x, at, 8); return x; }
  case BRT_DTYPE_F32: { float x; memcpy(&x, at, 4); return x; }
  case BRT_DTYPE_I64: { int64_t x; memcpy(&x, at, 8); return (double)x; }
  case BRT_DTYPE_I32: { int32_t x; memcpy(&x, at, 4); return x; }
  default: return *at;
  }
}

brt_status brt_tensor_get_f64(const brt_value *tensor, const size_t *index, size_t nindex,
                              double *out) {
  unsigned char *at = NULL;
  brt_status status = element_address(tensor, index, nindex, "brt_tensor_get_f64", &at);
  if (status != BRT_OK) return status;
  if (!out)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_tensor_get_f64: out is NULL");
  *out = _brt_tensor_load_f64(tensor->as.tensor->dtype, at);
  return BRT_OK;
}

brt_status brt_tensor_get_i64(const brt_value *tensor, const size_t *index, size_t nindex,
                              int64_t *out) {
  unsigned char *at = NULL;
  brt_status status = element_address(tensor, index, nindex, "brt_tensor_get_i64", &at);
  if (status != BRT_OK) return status;
  if (!out)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_tensor_get_i64: out is NULL");
  brt_dtype dtype = tensor->as.tensor->dtype;
  switch (dtype) {
  case BRT_DTYPE_I64: memcpy(out, at, 8); return BRT_OK;
  case BRT_DTYPE_I32: { int32_t x; memcpy(&x, at, 4); *out = x; return BRT_OK; }
  case BRT_DTYPE_U8:
  case BRT_DTYPE_BOOL: *out = *at; return BRT_OK;
  default:
    return brt_error_set(BRT_E_TYPE_MISMATCH, BRT_ORIGIN_C, NULL,
                         "brt_tensor_get_i64: expected an integer dtype, got %s; use "
                         "brt_tensor_get_f64",
                         dtype_names[dtype]);
  }
}

/* Stores an integer into an integer dtype, checking its range. */
static brt_status store_integer(brt_dtype dtype, unsigned char *at, int64_t number,
                                const char *function) {
  int64_t lo = dtype == BRT_DTYPE_I64 ? INT64_MIN : dtype == BRT_DTYPE_I32 ? INT32_MIN : 0;
  int64_t hi = dtype == BRT_DTYPE_I64 ? INT64_MAX
               : dtype == BRT_DTYPE_I32 ? INT32_MAX
               : dtype == BRT_DTYPE_U8  ? 255
                                        : 1;
  if (number < lo || number > hi)
    return brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                         "%s: %lld does not fit in %s (%lld..%lld)", function, (long long)number,
                         dtype_names[dtype], (long long)lo, (long long)hi);
  switch (dtype) {
  case BRT_DTYPE_I64: memcpy(at, &number, 8); break;
  case BRT_DTYPE_I32: { int32_t x = (int32_t)number; memcpy(at, &x, 4); break; }
  default: *at = (unsigned char)number; break;
  }
  return BRT_OK;
}

brt_status brt_tensor_set_f64(brt_value *tensor, const size_t *index, size_t nindex, double number) {
  static const char fn[] = "brt_tensor_set_f64";
  unsigned char *at = NULL;
  brt_status status = writable_element(tensor, index, nindex, fn, &at);
  if (status != BRT_OK) return status;
  brt_dtype dtype = tensor->as.tensor->dtype;
  if (dtype == BRT_DTYPE_F64) {
    memcpy(at, &number, 8);
    return BRT_OK;
  }
  if (dtype == BRT_DTYPE_F32) {
    float narrow = (float)number;
    memcpy(at, &narrow, 4);
    return BRT_OK;
  }
  /* -2^63 <= x < 2^63 is exactly the doubles that convert to i64 without UB. */
  if (!(number >= -9223372036854775808.0 && number < 9223372036854775808.0) ||
      number != trunc(number))
    return brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_C, NULL,
                         "%s: %.17g is not an integer that %s can hold", fn, number,
                         dtype_names[dtype]);
  return store_integer(dtype, at, (int64_t)number, fn);
}

brt_status brt_tensor_set_i64(brt_value *tensor, const size_t *index, size_t nindex, int64_t number) {
  static const char fn[] = "brt_tensor_set_i64";
  unsigned char *at = NULL;
  brt_status status = writable_element(tensor, index, nindex, fn, &at);
  if (status != BRT_OK) return status;
  brt_dtype dtype = tensor->as.tensor->dtype;
  if (dtype == BRT_DTYPE_F64) {
    double wide = (double)number;
    memcpy(at, &wide, 8);
    return BRT_OK;
  }
  if (dtype == BRT_DTYPE_F32) {
    float narrow = (float)number;
    memcpy(at, &narrow, 4);
    return BRT_OK;
  }
  return store_integer(dtype, at, number, fn);
}
