//! bridgert/value.h and bridgert/schema.h: the value model and validation.
use core::ffi::{c_char, c_int, c_uint, c_void};
use core::marker::{PhantomData, PhantomPinned};

use crate::status::brt_status;

/// Opaque, reference-counted `brt_value`.
#[repr(C)]
pub struct brt_value {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Opaque compiled `brt_schema`.
#[repr(C)]
pub struct brt_schema {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `brt_kind`.
pub type brt_kind = c_uint;
pub const BRT_KIND_NULL: brt_kind = 0;
pub const BRT_KIND_BOOL: brt_kind = 1;
pub const BRT_KIND_INT: brt_kind = 2;
pub const BRT_KIND_FLOAT: brt_kind = 3;
pub const BRT_KIND_STRING: brt_kind = 4;
pub const BRT_KIND_BYTES: brt_kind = 5;
pub const BRT_KIND_ARRAY: brt_kind = 6;
pub const BRT_KIND_OBJECT: brt_kind = 7;
pub const BRT_KIND_TENSOR: brt_kind = 8;
pub const BRT_KIND_INVALID: brt_kind = 255;

/// `brt_dtype`.
pub type brt_dtype = c_uint;
pub const BRT_DTYPE_F64: brt_dtype = 0;
pub const BRT_DTYPE_F32: brt_dtype = 1;
pub const BRT_DTYPE_I64: brt_dtype = 2;
pub const BRT_DTYPE_I32: brt_dtype = 3;
pub const BRT_DTYPE_U8: brt_dtype = 4;
pub const BRT_DTYPE_BOOL: brt_dtype = 5;

pub const BRT_TENSOR_MAX_DIMS: usize = 8;
pub const BRT_VALUE_MAX_DEPTH: usize = 1024;

pub const BRT_JSON_DUPLICATE_LAST_WINS: c_uint = 1 << 0;
pub const BRT_JSON_TENSORS: c_uint = 1 << 1;
pub const BRT_JSON_NONFINITE_AS_NULL: c_uint = 1 << 2;
pub const BRT_JSON_BYTES_AS_BASE64: c_uint = 1 << 3;
pub const BRT_JSON_DEFAULT_MAX_DEPTH: usize = 128;
pub const BRT_JSON_DEFAULT_MAX_INPUT: usize = 1 << 30;
pub const BRT_JSON_DEFAULT_MAX_STRING: usize = 256 << 20;

/// `brt_tensor_info`: set `struct_size` before `brt_tensor_info_get`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_tensor_info {
    pub struct_size: u32,
    pub dtype: brt_dtype,
    pub ndim: usize,
    pub shape: [usize; BRT_TENSOR_MAX_DIMS],
    pub strides: [isize; BRT_TENSOR_MAX_DIMS],
    pub count: usize,
    pub data: *mut c_void,
    pub block: *mut c_void,
}

/// `brt_json_options`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_json_options {
    pub struct_size: u32,
    pub flags: c_uint,
    pub max_depth: u32,
    pub max_input: usize,
    pub max_string: usize,
    pub tensor_dtype: brt_dtype,
}

/// `brt_json_location`: where a parse failed.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brt_json_location {
    pub struct_size: u32,
    pub line: usize,
    pub column: usize,
    pub offset: usize,
}

extern "C" {
    pub fn brt_value_kind(value: *const brt_value) -> brt_kind;
    pub fn brt_kind_name(kind: brt_kind) -> *const c_char;
    pub fn brt_value_retain(value: *const brt_value);
    pub fn brt_value_release(value: *const brt_value);
    pub fn brt_value_refcount(value: *const brt_value) -> u32;

    pub fn brt_value_null() -> *mut brt_value;
    pub fn brt_value_bool(truth: c_int) -> *mut brt_value;
    pub fn brt_value_int(number: i64) -> *mut brt_value;
    pub fn brt_value_float(number: f64) -> *mut brt_value;
    pub fn brt_value_string(text: *const c_char, len: usize) -> *mut brt_value;
    pub fn brt_value_cstring(text: *const c_char) -> *mut brt_value;
    pub fn brt_value_bytes(data: *const c_void, len: usize) -> *mut brt_value;

    pub fn brt_value_get_bool(value: *const brt_value, out: *mut c_int) -> brt_status;
    pub fn brt_value_get_int(value: *const brt_value, out: *mut i64) -> brt_status;
    pub fn brt_value_get_float(value: *const brt_value, out: *mut f64) -> brt_status;
    pub fn brt_value_get_number(value: *const brt_value, out: *mut f64) -> brt_status;
    pub fn brt_value_get_string(
        value: *const brt_value,
        data: *mut *const c_char,
        len: *mut usize,
    ) -> brt_status;
    pub fn brt_value_get_bytes(
        value: *const brt_value,
        data: *mut *const c_void,
        len: *mut usize,
    ) -> brt_status;

    pub fn brt_value_array(capacity: usize) -> *mut brt_value;
    pub fn brt_value_array_push(array: *mut brt_value, item: *const brt_value) -> brt_status;
    pub fn brt_value_array_length(array: *const brt_value, out: *mut usize) -> brt_status;
    pub fn brt_value_array_get(array: *const brt_value, index: usize) -> *const brt_value;

    pub fn brt_value_object(capacity: usize) -> *mut brt_value;
    pub fn brt_value_object_set(
        object: *mut brt_value,
        key: *const c_char,
        key_len: usize,
        value: *const brt_value,
    ) -> brt_status;
    pub fn brt_value_object_get(
        object: *const brt_value,
        key: *const c_char,
        key_len: usize,
    ) -> *const brt_value;
    pub fn brt_value_object_length(object: *const brt_value, out: *mut usize) -> brt_status;
    pub fn brt_value_object_entry(
        object: *const brt_value,
        index: usize,
        key: *mut *const c_char,
        key_len: *mut usize,
        value: *mut *const brt_value,
    ) -> brt_status;

    pub fn brt_value_equal(a: *const brt_value, b: *const brt_value) -> c_int;
    pub fn brt_value_debug_string(value: *const brt_value, max_items: usize) -> *mut c_char;

    pub fn brt_dtype_size(dtype: brt_dtype) -> usize;
    pub fn brt_dtype_name(dtype: brt_dtype) -> *const c_char;
    pub fn brt_tensor_new(dtype: brt_dtype, ndim: usize, shape: *const usize) -> *mut brt_value;
    pub fn brt_tensor_wrap(
        block: *mut c_void,
        dtype: brt_dtype,
        ndim: usize,
        shape: *const usize,
        strides: *const isize,
    ) -> *mut brt_value;
    pub fn brt_tensor_data(tensor: *const brt_value) -> *mut c_void;
    pub fn brt_tensor_info_get(tensor: *const brt_value, out: *mut brt_tensor_info) -> brt_status;
    pub fn brt_tensor_get_f64(
        tensor: *const brt_value,
        index: *const usize,
        nindex: usize,
        out: *mut f64,
    ) -> brt_status;
    pub fn brt_tensor_set_f64(
        tensor: *mut brt_value,
        index: *const usize,
        nindex: usize,
        number: f64,
    ) -> brt_status;
    pub fn brt_tensor_get_i64(
        tensor: *const brt_value,
        index: *const usize,
        nindex: usize,
        out: *mut i64,
    ) -> brt_status;
    pub fn brt_tensor_set_i64(
        tensor: *mut brt_value,
        index: *const usize,
        nindex: usize,
        number: i64,
    ) -> brt_status;

    pub fn brt_json_options_default(options: *mut brt_json_options);
    pub fn brt_value_from_json(text: *const c_char, len: usize, flags: c_uint) -> *mut brt_value;
    pub fn brt_value_from_json_ex(
        text: *const c_char,
        len: usize,
        options: *const brt_json_options,
        error_at: *mut brt_json_location,
    ) -> *mut brt_value;
    pub fn brt_value_to_json(value: *const brt_value, flags: c_uint) -> *mut c_char;

    pub fn brt_schema_compile(json_schema: *const c_char) -> *mut brt_schema;
    pub fn brt_schema_compile_n(json_schema: *const c_char, len: usize) -> *mut brt_schema;
    pub fn brt_schema_free(schema: *mut brt_schema);
    pub fn brt_validate(schema: *const brt_schema, value: *const brt_value) -> brt_status;
    pub fn brt_validate_all(
        schema: *const brt_schema,
        value: *const brt_value,
        max_errors: usize,
        errors: *mut *mut brt_value,
    ) -> brt_status;
    pub fn brt_value_from_json_schema(
        text: *const c_char,
        len: usize,
        schema: *const brt_schema,
        flags: c_uint,
    ) -> *mut brt_value;
}
