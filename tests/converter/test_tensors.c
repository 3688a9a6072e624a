/* Tensors: new, wrap (zero-copy: retains the block, copies nothing), data,
 * info, element access with bounds checks, JSON in and out, and bad
 * arguments. */
#include "brt_test.h"

#include <math.h>
#include <sys/mman.h>

static void test_new_is_zeroed_and_contiguous(void **state) {
  (void)state;
  size_t shape[3] = {2, 3, 4};
  brt_value *tensor = brt_tensor_new(BRT_DTYPE_I32, 3, shape);
  assert_non_null(tensor);
  assert_int_equal(brt_value_kind(tensor), BRT_KIND_TENSOR);
  brt_tensor_info info = {.struct_size = sizeof info};
  assert_ok(brt_tensor_info_get(tensor, &info));
  assert_int_equal(info.dtype, BRT_DTYPE_I32);
  assert_int_equal(info.ndim, 3);
  assert_int_equal(info.count, 24);
  assert_int_equal(info.strides[0], 12);
  assert_int_equal(info.strides[1], 4);
  assert_int_equal(info.strides[2], 1);
  assert_ptr_equal(info.data, brt_tensor_data(tensor));
  assert_int_equal(brt_owns(info.block), 1);
  const int32_t *data = brt_tensor_data(tensor);
  for (size_t i = 0; i < 24; i++) assert_int_equal(data[i], 0);
  brt_value_release(tensor);
  /* A scalar (ndim 0) and an empty dimension. */
  brt_value *scalar = brt_tensor_new(BRT_DTYPE_F64, 0, NULL);
  assert_ok(brt_tensor_set_f64(scalar, NULL, 0, 2.5));
  char *text = brt_value_to_json(scalar, 0);
  assert_string_equal(text, "2.5");
  brt_release(text);
  brt_value_release(scalar);
  size_t empty_shape[2] = {3, 0};
  brt_value *empty = brt_tensor_new(BRT_DTYPE_U8, 2, empty_shape);
  text = brt_value_to_json(empty, 0);
  assert_string_equal(text, "[[],[],[]]");
  brt_release(text);
  brt_value_release(empty);
}

static void test_new_bad_arguments(void **state) {
  (void)state;
  size_t shape[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
  assert_null_with(brt_tensor_new((brt_dtype)9, 1, shape), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "dtype 9");
  assert_null_with(brt_tensor_new(BRT_DTYPE_F64, 9, shape), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "ndim is 9");
  assert_null_with(brt_tensor_new(BRT_DTYPE_F64, 2, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "shape is NULL");
  size_t huge[2] = {SIZE_MAX / 2, 4};
  assert_null_with(brt_tensor_new(BRT_DTYPE_F64, 2, huge), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "overflows");
  assert_int_equal(brt_dtype_size((brt_dtype)-1), 0);
  assert_string_equal(brt_dtype_name((brt_dtype)42), "invalid");
  assert_string_equal(brt_dtype_name(BRT_DTYPE_BOOL), "bool");
}

static void test_wrap_is_zero_copy(void **state) {
  (void)state;
  double *block = brt_alloc(6 * sizeof(double), 64, BRT_MEM_RUST_HEAP, 0);
  for (int i = 0; i < 6; i++) block[i] = i * 1.5;
  size_t shape[2] = {2, 3};
  brt_mem_stats before = {.struct_size = sizeof before}, after = {.struct_size = sizeof after};
  assert_ok(brt_mem_stats_get(&before));
  brt_value *tensor = brt_tensor_wrap(block, BRT_DTYPE_F64, 2, shape, NULL);
  assert_non_null(tensor);
  assert_ok(brt_mem_stats_get(&after));
  /* One block for the value header, none for data: nothing was copied. */
  assert_int_equal(after.live_blocks, before.live_blocks + 1);
  assert_ptr_equal(brt_tensor_data(tensor), block);
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(block, &info));
  assert_int_equal(info.refcount, 2);
  /* Writes through either side are seen by the other. */
  block[4] = 42;
  double got = 0;
  size_t index[2] = {1, 1};
  assert_ok(brt_tensor_get_f64(tensor, index, 2, &got));
  assert_true(got == 42);
  assert_ok(brt_tensor_set_f64(tensor, index, 2, -1));
  assert_true(block[4] == -1);
  /* The caller's release leaves the tensor's reference: data stays valid. */
  assert_ok(brt_release(block));
  assert_ok(brt_tensor_get_f64(tensor, index, 2, &got));
  assert_true(got == -1);
  brt_value_release(tensor);
  assert_int_equal(brt_owns(block), 0); /* the last reference freed it */
}

static void test_wrap_strided_view(void **state) {
  (void)state;
  int64_t *block = brt_alloc(12 * sizeof(int64_t), 16, BRT_MEM_CPP_HEAP, 0);
  for (int i = 0; i < 12; i++) block[i] = i;
  /* The transpose of a 3x4 row-major matrix: shape 4x3, strides (1, 4). */
  size_t shape[2] = {4, 3};
  ptrdiff_t strides[2] = {1, 4};
  brt_value *tensor = brt_tensor_wrap(block, BRT_DTYPE_I64, 2, shape, strides);
  assert_non_null(tensor);
  char *text = brt_value_to_json(tensor, 0);
  assert_string_equal(text, "[[0,4,8],[1,5,9],[2,6,10],[3,7,11]]");
  brt_release(text);
  int64_t got;
  size_t index[2] = {3, 2};
  assert_ok(brt_tensor_get_i64(tensor, index, 2, &got));
  assert_int_equal(got, 11);
  /* Equality compares elements, not strides. */
  brt_value *contiguous =
      brt_value_from_json("[[0,4,8],[1,5,9],[2,6,10],[3,7,11]]", 35, BRT_JSON_TENSORS);
  brt_json_options options;
  brt_json_options_default(&options);
  options.flags = BRT_JSON_TENSORS;
  options.tensor_dtype = BRT_DTYPE_I64;
  brt_value *same = brt_value_from_json_ex("[[0,4,8],[1,5,9],[2,6,10],[3,7,11]]", 35, &options, NULL);
  assert_int_equal(brt_value_equal(tensor, same), 1);
  assert_int_equal(brt_value_equal(tensor, contiguous), 0); /* f64, not i64 */
  brt_value_release(same);
  brt_value_release(contiguous);
  brt_value_release(tensor);
  brt_release(block);
}

static void test_wrap_rejects_foreign_and_overrunning_memory(void **state) {
  (void)state;
  size_t shape[2] = {2, 3};
  double on_stack[6];
  assert_null_with(brt_tensor_wrap(on_stack, BRT_DTYPE_F64, 2, shape, NULL), BRT_E_INVALID_POINTER);
  assert_last_error(BRT_E_INVALID_POINTER, "not memory of the bridgert allocator");
  double *from_malloc = malloc(6 * sizeof(double));
  assert_null_with(brt_tensor_wrap(from_malloc, BRT_DTYPE_F64, 2, shape, NULL), BRT_E_INVALID_POINTER);
  free(from_malloc);
  double *block = brt_alloc(6 * sizeof(double), 16, BRT_MEM_C_HEAP, 0);
  /* An interior pointer is not a block. */
  assert_null_with(brt_tensor_wrap(block + 1, BRT_DTYPE_F64, 1, shape, NULL), BRT_E_INVALID_POINTER);
  size_t too_big[2] = {3, 3};
  assert_null_with(brt_tensor_wrap(block, BRT_DTYPE_F64, 2, too_big, NULL), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "reach 72 bytes but the block holds only 48");
  ptrdiff_t overrunning[2] = {4, 1};
  assert_null_with(brt_tensor_wrap(block, BRT_DTYPE_F64, 2, shape, overrunning), BRT_E_OUT_OF_RANGE);
  ptrdiff_t negative[2] = {-3, 1};
  assert_null_with(brt_tensor_wrap(block, BRT_DTYPE_F64, 2, shape, negative), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "strides[0] is -3");
  ptrdiff_t huge_stride[2] = {PTRDIFF_MAX, 1};
  assert_null_with(brt_tensor_wrap(block, BRT_DTYPE_F64, 2, shape, huge_stride), BRT_E_OUT_OF_RANGE);
  assert_null_with(brt_tensor_wrap(NULL, BRT_DTYPE_F64, 2, shape, NULL), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_tensor_wrap(block, (brt_dtype)7, 2, shape, NULL), BRT_E_INVALID_ARGUMENT);
  assert_null_with(brt_tensor_wrap(block, BRT_DTYPE_F64, 2, NULL, NULL), BRT_E_INVALID_ARGUMENT);
  /* Nothing was retained by the failures. */
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(block, &info));
  assert_int_equal(info.refcount, 1);
  assert_ok(brt_release(block));
  /* A freed block is refused too. */
  assert_null_with(brt_tensor_wrap(block, BRT_DTYPE_F64, 2, shape, NULL), BRT_E_INVALID_POINTER);
}

static void test_element_access(void **state) {
  (void)state;
  size_t shape[2] = {2, 2};
  brt_value *u8 = brt_tensor_new(BRT_DTYPE_U8, 2, shape);
  size_t index[2] = {1, 0};
  assert_ok(brt_tensor_set_i64(u8, index, 2, 255));
  assert_status(brt_tensor_set_i64(u8, index, 2, 256), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "256 does not fit in u8 (0..255)");
  assert_status(brt_tensor_set_f64(u8, index, 2, 1.5), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "not an integer");
  assert_status(brt_tensor_set_f64(u8, index, 2, NAN), BRT_E_OUT_OF_RANGE);
  int64_t got = 0;
  assert_ok(brt_tensor_get_i64(u8, index, 2, &got));
  assert_int_equal(got, 255); /* unchanged by the failures */
  size_t outside[2] = {0, 2};
  assert_status(brt_tensor_get_i64(u8, outside, 2, &got), BRT_E_OUT_OF_RANGE);
  assert_last_error(BRT_E_OUT_OF_RANGE, "index 2 on axis 1 is out of range (extent 2)");
  assert_status(brt_tensor_get_i64(u8, index, 1, &got), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "1 indices given for a tensor of 2 dimensions");
  assert_status(brt_tensor_get_i64(u8, NULL, 2, &got), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_tensor_get_i64(u8, index, 2, NULL), BRT_E_INVALID_ARGUMENT);
  double number;
  assert_status(brt_tensor_get_f64(u8, index, 2, NULL), BRT_E_INVALID_ARGUMENT);
  assert_ok(brt_tensor_get_f64(u8, index, 2, &number));
  assert_true(number == 255);
  brt_value *f32 = brt_tensor_new(BRT_DTYPE_F32, 2, shape);
  assert_status(brt_tensor_get_i64(f32, index, 2, &got), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected an integer dtype, got f32");
  assert_ok(brt_tensor_set_i64(f32, index, 2, 3));
  assert_ok(brt_tensor_get_f64(f32, index, 2, &number));
  assert_true(number == 3);
  brt_value *i32 = brt_tensor_new(BRT_DTYPE_I32, 2, shape);
  assert_status(brt_tensor_set_f64(i32, index, 2, 3e9), BRT_E_OUT_OF_RANGE);
  assert_status(brt_tensor_set_f64(i32, index, 2, 1e300), BRT_E_OUT_OF_RANGE);
  assert_ok(brt_tensor_set_f64(i32, index, 2, -7));
  assert_ok(brt_tensor_get_i64(i32, index, 2, &got));
  assert_int_equal(got, -7);
  brt_value *text = brt_value_cstring("x");
  assert_null_with(brt_tensor_data(text), BRT_E_TYPE_MISMATCH);
  assert_last_error(BRT_E_TYPE_MISMATCH, "expected tensor, got string");
  assert_null_with(brt_tensor_data(NULL), BRT_E_INVALID_ARGUMENT);
  brt_tensor_info info = {.struct_size = 4};
  assert_status(brt_tensor_info_get(f32, &info), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "struct_size is 4");
  assert_status(brt_tensor_info_get(f32, NULL), BRT_E_INVALID_ARGUMENT);
  assert_status(brt_tensor_info_get(text, &info), BRT_E_TYPE_MISMATCH);
  brt_value_release(text);
  brt_value_release(u8);
  brt_value_release(f32);
  brt_value_release(i32);
}

static void test_json_tensors(void **state) {
  (void)state;
  const char *text = "[[1, 2.5, -3e2], [4, 5, 6]]";
  brt_value *tensor = brt_value_from_json(text, strlen(text), BRT_JSON_TENSORS);
  assert_non_null(tensor);
  assert_int_equal(brt_value_kind(tensor), BRT_KIND_TENSOR);
  brt_tensor_info info = {.struct_size = sizeof info};
  assert_ok(brt_tensor_info_get(tensor, &info));
  assert_int_equal(info.ndim, 2);
  assert_int_equal(info.shape[0], 2);
  assert_int_equal(info.shape[1], 3);
  assert_true(((double *)info.data)[2] == -300);
  char *printed = brt_value_to_json(tensor, 0);
  assert_string_equal(printed, "[[1.0,2.5,-300.0],[4.0,5.0,6.0]]");
  brt_release(printed);
  brt_value_release(tensor);
  /* Without the flag the same text is nested arrays. */
  brt_value *arrays = brt_value_from_json(text, strlen(text), 0);
  assert_int_equal(brt_value_kind(arrays), BRT_KIND_ARRAY);
  brt_value_release(arrays);
  /* Ragged and mixed requests name the first offending element. */
  static const struct {
    const char *text, *pointer;
  } ragged[] = {
      {"[[1,2],[3]]", "/1: ragged: this array has 1 element, the first one at this depth had 2"},
      {"[[1,2],[3,4,5]]", "/1: ragged"},
      {"[[1,2],3]", "/1: expected an array"},
      {"[1,[2]]", "/1: expected a number, got an array"},
      {"[[1,2],[3,\"x\"]]", "/1/1: expected a number"},
      {"[[[1],[2]],[[3],[4,5]]]", "/1/1: ragged"},
      {"[[1,2],[]]", "/1: ragged"},
  };
  for (size_t i = 0; i < sizeof ragged / sizeof ragged[0]; i++) {
    assert_null_with(brt_value_from_json(ragged[i].text, strlen(ragged[i].text), BRT_JSON_TENSORS),
                     BRT_E_CONVERSION);
    assert_last_error(BRT_E_CONVERSION, ragged[i].pointer);
  }
  /* Inside an object, the pointer starts at the object's key. */
  const char *nested = "{\"m\": [[1,2],[3]]}";
  assert_null_with(brt_value_from_json(nested, strlen(nested), BRT_JSON_TENSORS), BRT_E_CONVERSION);
  assert_last_error(BRT_E_CONVERSION, "/m/1: ragged");
  /* Integer dtypes take integers only, in range. */
  brt_json_options options;
  brt_json_options_default(&options);
  options.flags = BRT_JSON_TENSORS;
  options.tensor_dtype = BRT_DTYPE_U8;
  assert_null(brt_value_from_json_ex("[1,256]", 7, &options, NULL));
  assert_last_error(BRT_E_OUT_OF_RANGE, "/1: integer out of the dtype's range");
  assert_null(brt_value_from_json_ex("[1,2.5]", 7, &options, NULL));
  assert_last_error(BRT_E_CONVERSION, "/1: expected an integer");
  options.tensor_dtype = BRT_DTYPE_BOOL;
  brt_value *flags = brt_value_from_json_ex("[[true,false]]", 14, &options, NULL);
  assert_non_null(flags);
  printed = brt_value_to_json(flags, 0);
  assert_string_equal(printed, "[[true,false]]");
  brt_release(printed);
  brt_value_release(flags);
  /* Tensor nesting counts against max_depth like arrays do; 9 dimensions
   * are refused. */
  options.tensor_dtype = BRT_DTYPE_F64;
  options.max_depth = 2;
  assert_null(brt_value_from_json_ex("{\"t\":[[1]]}", 11, &options, NULL));
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "max_depth (2)");
  brt_json_options_default(&options);
  options.flags = BRT_JSON_TENSORS;
  assert_null(brt_value_from_json_ex("[[[[[[[[[1]]]]]]]]]", 19, &options, NULL));
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "more than 8 dimensions");
  brt_value *eight = brt_value_from_json_ex("[[[[[[[[1]]]]]]]]", 17, &options, NULL);
  assert_non_null(eight);
  brt_value_release(eight);
  /* f64 tensors refuse integers that f64 cannot hold exactly. */
  assert_null(brt_value_from_json("[9007199254740993]", 18, BRT_JSON_TENSORS));
  assert_last_error(BRT_E_OUT_OF_RANGE, "/0: integer beyond 2^53");
}

static void test_tensor_nonfinite_printing(void **state) {
  (void)state;
  size_t shape[1] = {2};
  brt_value *tensor = brt_tensor_new(BRT_DTYPE_F32, 1, shape);
  size_t index[1] = {1};
  assert_ok(brt_tensor_set_f64(tensor, index, 1, INFINITY));
  assert_null_with(brt_value_to_json(tensor, 0), BRT_E_CONVERSION);
  assert_last_error(BRT_E_CONVERSION, "+infinity has no JSON form");
  char *text = brt_value_to_json(tensor, BRT_JSON_NONFINITE_AS_NULL);
  assert_string_equal(text, "[0.0,null]");
  brt_release(text);
  brt_value_release(tensor);

  /* f64 rows print in one pass: non-finite elements inside it too. */
  size_t square[2] = {2, 2};
  tensor = brt_tensor_new(BRT_DTYPE_F64, 2, square);
  double *data = brt_tensor_data(tensor);
  data[0] = 1.5, data[1] = NAN, data[2] = -INFINITY, data[3] = 2;
  assert_null_with(brt_value_to_json(tensor, 0), BRT_E_CONVERSION);
  assert_last_error(BRT_E_CONVERSION, "NaN has no JSON form");
  text = brt_value_to_json(tensor, BRT_JSON_NONFINITE_AS_NULL);
  assert_string_equal(text, "[[1.5,null],[null,2.0]]");
  brt_release(text);
  brt_value_release(tensor);
  /* runs of finite elements between non-finite ones, at both ends */
  size_t row[1] = {6};
  tensor = brt_tensor_new(BRT_DTYPE_F64, 1, row);
  data = brt_tensor_data(tensor);
  data[0] = NAN, data[1] = NAN, data[2] = 3, data[3] = -0.25, data[4] = INFINITY, data[5] = 1e300;
  text = brt_value_to_json(tensor, BRT_JSON_NONFINITE_AS_NULL);
  assert_string_equal(text, "[null,null,3.0,-0.25,null,1e+300]");
  brt_release(text);
  brt_value_release(tensor);
  size_t empty[2] = {2, 0};
  tensor = brt_tensor_new(BRT_DTYPE_F64, 2, empty);
  text = brt_value_to_json(tensor, 0);
  assert_string_equal(text, "[[],[]]");
  brt_release(text);
  brt_value_release(tensor);
}

/* A memfd of 8 f64 elements 0.5, 1.5, ..., 7.5. */
static int f64_memfd(void) {
  int fd = memfd_create("test-tensors", MFD_CLOEXEC);
  assert_true(fd >= 0);
  double values[8];
  for (int i = 0; i < 8; i++) values[i] = i + 0.5;
  assert_int_equal(write(fd, values, sizeof values), (ssize_t)sizeof values);
  return fd;
}

/* The setters on a tensor over a read-only block, and what they leave. */
static void expect_read_only_tensor(void *block, const char *what) {
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(block, &info));
  assert_int_equal(info.type, BRT_MEM_MAPPED);
  if (!(info.flags & BRT_BLOCK_READ_ONLY)) fail_msg("%s is not flagged read-only", what);
  size_t shape[1] = {8};
  brt_value *tensor = brt_tensor_wrap(block, BRT_DTYPE_F64, 1, shape, NULL);
  assert_non_null(tensor);
  size_t index[1] = {3};
  double got = 0;
  assert_ok(brt_tensor_get_f64(tensor, index, 1, &got)); /* reading is fine */
  assert_true(got == 3.5);
  /* Writing would fault: refused with a status instead. */
  assert_status(brt_tensor_set_f64(tensor, index, 1, 9), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "read-only");
  assert_status(brt_tensor_set_i64(tensor, index, 1, 9), BRT_E_PERMISSION);
  assert_last_error(BRT_E_PERMISSION, "brt_tensor_set_i64");
  assert_ok(brt_tensor_get_f64(tensor, index, 1, &got));
  assert_true(got == 3.5);
  brt_value_release(tensor);
}

/* A tensor over a read-only MAPPED block (brt_map_file, brt_map_fd without
 * BRT_MAP_WRITABLE) refuses the setters with PERMISSION: a store into the
 * mapping used to kill the process with SIGSEGV. One over a writable
 * mapping, or a heap block, is written as before; the allocator says which
 * through brt_block_info.flags. */
static void test_read_only_blocks(void **state) {
  (void)state;
  int fd = f64_memfd();
  char path[] = "/tmp/brt_tensor_file_XXXXXX";
  int file_fd = mkstemp(path);
  assert_true(file_fd >= 0);
  double values[8];
  assert_int_equal(pread(fd, values, sizeof values, 0), (ssize_t)sizeof values);
  assert_int_equal(write(file_fd, values, sizeof values), (ssize_t)sizeof values);
  close(file_fd);
  size_t len = 0;
  void *file = brt_map_file(path, &len, 0);
  unlink(path);
  assert_non_null(file);
  assert_int_equal(len, 64);
  expect_read_only_tensor(file, "brt_map_file's block");
  assert_ok(brt_release(file));
  void *mapped = brt_map_fd(fd, 0, 64, 0);
  assert_non_null(mapped);
  expect_read_only_tensor(mapped, "brt_map_fd's read-only block");
  assert_ok(brt_release(mapped));

  /* Writable mapping: the setter writes the memfd's bytes. */
  void *writable = brt_map_fd(fd, 0, 64, BRT_MAP_WRITABLE);
  assert_non_null(writable);
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(writable, &info));
  assert_int_equal(info.flags & BRT_BLOCK_READ_ONLY, 0);
  size_t shape[1] = {8}, index[1] = {2};
  brt_value *tensor = brt_tensor_wrap(writable, BRT_DTYPE_F64, 1, shape, NULL);
  assert_non_null(tensor);
  assert_ok(brt_tensor_set_f64(tensor, index, 1, -4));
  assert_ok(brt_tensor_set_i64(tensor, index, 1, -8));
  double back = 0;
  assert_int_equal(pread(fd, &back, sizeof back, 2 * sizeof(double)), (ssize_t)sizeof back);
  assert_true(back == -8);
  brt_value_release(tensor);
  assert_ok(brt_release(writable));

  /* Heap blocks are writable; a caller compiled before `flags` existed
   * gets the fields it knows and nothing past them. */
  void *heap = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  assert_ok(brt_block_info_get(heap, &info));
  assert_int_equal(info.flags, 0);
  brt_block_info old = {.struct_size = offsetof(brt_block_info, flags), .flags = 77};
  assert_ok(brt_block_info_get(heap, &old));
  assert_int_equal(old.flags, 77);
  assert_true(old.usable >= 64);
  brt_block_info tiny = {.struct_size = offsetof(brt_block_info, age_ns)};
  assert_status(brt_block_info_get(heap, &tiny), BRT_E_INVALID_ARGUMENT);
  assert_ok(brt_release(heap));
  close(fd);
}

/* A shape without elements may still have extents whose product, 0
 * counted as 1, overflows a stride: [2^40, 0, 2^40] used to be accepted
 * and its strides computed with a signed multiply that overflowed
 * (undefined behaviour, reported by UBSan). Refused with INVALID_ARGUMENT
 * naming the shape, by brt_tensor_new and brt_tensor_wrap. */
static void test_shapes_whose_strides_overflow(void **state) {
  (void)state;
  size_t shape[3] = {(size_t)1 << 40, 0, (size_t)1 << 40};
  assert_null_with(brt_tensor_new(BRT_DTYPE_F64, 3, shape), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "shape [1099511627776, 0, 1099511627776]");
  assert_last_error(BRT_E_INVALID_ARGUMENT, "brt_tensor_new");
  void *block = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  assert_null_with(brt_tensor_wrap(block, BRT_DTYPE_F64, 3, shape, NULL), BRT_E_INVALID_ARGUMENT);
  assert_last_error(BRT_E_INVALID_ARGUMENT, "brt_tensor_wrap: shape [1099511627776, 0, 1099511627776]");
  ptrdiff_t strides[3] = {0, 0, 0};
  assert_null_with(brt_tensor_wrap(block, BRT_DTYPE_F64, 3, shape, strides), BRT_E_INVALID_ARGUMENT);
  /* The bound: extents (0 as 1) times the element size up to PTRDIFF_MAX. */
  size_t edge[2] = {(size_t)PTRDIFF_MAX / 8, 0};
  brt_value *empty = brt_tensor_new(BRT_DTYPE_F64, 2, edge);
  assert_non_null(empty);
  brt_tensor_info info = {.struct_size = sizeof info};
  assert_ok(brt_tensor_info_get(empty, &info));
  assert_int_equal(info.count, 0);
  assert_int_equal(info.strides[0], 1);
  assert_int_equal(info.strides[1], 1);
  brt_value_release(empty);
  edge[0]++;
  assert_null_with(brt_tensor_new(BRT_DTYPE_F64, 2, edge), BRT_E_INVALID_ARGUMENT);
  size_t bytes_edge[2] = {(size_t)PTRDIFF_MAX / 8 + 1, 0}; /* fits as u8 elements */
  empty = brt_tensor_new(BRT_DTYPE_U8, 2, bytes_edge);
  assert_non_null(empty);
  brt_value_release(empty);
  /* Empty shapes of sensible extents are as before, strides included. */
  size_t fine[3] = {(size_t)1 << 20, 0, (size_t)1 << 20};
  empty = brt_tensor_wrap(block, BRT_DTYPE_F64, 3, fine, NULL);
  assert_non_null(empty);
  assert_ok(brt_tensor_info_get(empty, &info));
  assert_int_equal(info.strides[0], (ptrdiff_t)1 << 20);
  assert_int_equal(info.strides[1], (ptrdiff_t)1 << 20);
  assert_int_equal(info.strides[2], 1);
  brt_value_release(empty);
  /* Nothing was retained by the refusals. */
  brt_block_info block_info = {.struct_size = sizeof block_info};
  assert_ok(brt_block_info_get(block, &block_info));
  assert_int_equal(block_info.refcount, 1);
  assert_ok(brt_release(block));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_new_is_zeroed_and_contiguous),
      cmocka_unit_test(test_new_bad_arguments),
      cmocka_unit_test(test_wrap_is_zero_copy),
      cmocka_unit_test(test_wrap_strided_view),
      cmocka_unit_test(test_wrap_rejects_foreign_and_overrunning_memory),
      cmocka_unit_test(test_element_access),
      cmocka_unit_test(test_json_tensors),
      cmocka_unit_test(test_tensor_nonfinite_printing),
      cmocka_unit_test(test_read_only_blocks),
      cmocka_unit_test(test_shapes_whose_strides_overflow),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
