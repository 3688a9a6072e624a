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
/// JSON null.
pub const BRT_KIND_NULL: brt_kind = 0;
/// A boolean.
pub const BRT_KIND_BOOL: brt_kind = 1;
/// A 64-bit signed integer.
pub const BRT_KIND_INT: brt_kind = 2;
/// A double.
pub const BRT_KIND_FLOAT: brt_kind = 3;
/// A UTF-8 string.
pub const BRT_KIND_STRING: brt_kind = 4;
/// A byte string.
pub const BRT_KIND_BYTES: brt_kind = 5;
/// An array of values.
pub const BRT_KIND_ARRAY: brt_kind = 6;
/// An object: string keys to values.
pub const BRT_KIND_OBJECT: brt_kind = 7;
/// A tensor: dtype, shape, strides and data in a managed block.
pub const BRT_KIND_TENSOR: brt_kind = 8;
/// returned by brt_value_kind() for a bad pointer
pub const BRT_KIND_INVALID: brt_kind = 255;

/// `brt_dtype`.
pub type brt_dtype = c_uint;
/// `double` elements.
pub const BRT_DTYPE_F64: brt_dtype = 0;
/// `float` elements.
pub const BRT_DTYPE_F32: brt_dtype = 1;
/// `int64_t` elements.
pub const BRT_DTYPE_I64: brt_dtype = 2;
/// `int32_t` elements.
pub const BRT_DTYPE_I32: brt_dtype = 3;
/// `uint8_t` elements.
pub const BRT_DTYPE_U8: brt_dtype = 4;
/// one byte per element, 0 or 1
pub const BRT_DTYPE_BOOL: brt_dtype = 5;

/// The most dimensions a tensor may have.
pub const BRT_TENSOR_MAX_DIMS: usize = 8;
/// The deepest nesting of arrays and objects a value may have.
pub const BRT_VALUE_MAX_DEPTH: usize = 1024;

/// Parse: a repeated object key replaces the earlier value instead of failing with CONVERSION.
pub const BRT_JSON_DUPLICATE_LAST_WINS: c_uint = 1 << 0;
/// Parse: arrays of numbers become tensors of `brt_json_options.tensor_dtype`.
pub const BRT_JSON_TENSORS: c_uint = 1 << 1;
/// Print: NaN and infinities become null instead of failing with CONVERSION.
pub const BRT_JSON_NONFINITE_AS_NULL: c_uint = 1 << 2;
/// Print: bytes become base64 strings instead of failing with CONVERSION.
pub const BRT_JSON_BYTES_AS_BASE64: c_uint = 1 << 3;
/// Default `brt_json_options.max_depth`.
pub const BRT_JSON_DEFAULT_MAX_DEPTH: usize = 128;
/// Default `brt_json_options.max_input` (1 GiB).
pub const BRT_JSON_DEFAULT_MAX_INPUT: usize = 1 << 30;
/// Default `brt_json_options.max_string` (256 MiB).
pub const BRT_JSON_DEFAULT_MAX_STRING: usize = 256 << 20;

/// `brt_tensor_info`: set `struct_size` before `brt_tensor_info_get`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_tensor_info {
    /// the caller sets sizeof(brt_tensor_info)
    pub struct_size: u32,
    /// The element type.
    pub dtype: brt_dtype,
    /// The number of dimensions.
    pub ndim: usize,
    /// The length of each dimension (the first `ndim` entries).
    pub shape: [usize; BRT_TENSOR_MAX_DIMS],
    /// in elements, not bytes
    pub strides: [isize; BRT_TENSOR_MAX_DIMS],
    /// product of shape
    pub count: usize,
    /// the first element
    pub data: *mut c_void,
    /// the managed block holding the data
    pub block: *mut c_void,
}

/// `brt_json_options`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_json_options {
    /// sizeof(brt_json_options)
    pub struct_size: u32,
    /// BRT_JSON_*
    pub flags: c_uint,
    /// nesting of arrays/objects, 1..BRT_VALUE_MAX_DEPTH
    pub max_depth: u32,
    /// bytes of text accepted
    pub max_input: usize,
    /// bytes of one decoded string or key
    pub max_string: usize,
    /// for BRT_JSON_TENSORS
    pub tensor_dtype: brt_dtype,
}

/// `brt_json_location`: where a parse failed.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brt_json_location {
    /// `size_of::<brt_json_location>()`, set by the caller.
    pub struct_size: u32,
    /// Line of the error, from 1.
    pub line: usize,
    /// Column of the error, from 1.
    pub column: usize,
    /// Byte offset of the error in the text.
    pub offset: usize,
}

extern "C" {
    /// The value's kind, or BRT_KIND_INVALID (INVALID_ARGUMENT / INVALID_POINTER recorded) when `value` is NULL or not a live value.
    pub fn brt_value_kind(value: *const brt_value) -> brt_kind;
    /// "null", "bool", "int", "float", "string", "bytes", "array", "object", "tensor", or "invalid".
    pub fn brt_kind_name(kind: brt_kind) -> *const c_char;
    /// Adds a reference (atomic).
    pub fn brt_value_retain(value: *const brt_value);
    /// Drops a reference; the last one frees the value and releases what it holds (children, tensor block).
    pub fn brt_value_release(value: *const brt_value);
    /// Current reference count (for diagnostics and tests), 0 for a bad pointer.
    pub fn brt_value_refcount(value: *const brt_value) -> u32;

    /// A new null value (one reference), or NULL with OUT_OF_MEMORY / LIMIT_EXCEEDED recorded.
    pub fn brt_value_null() -> *mut brt_value;
    /// any non-zero is true.
    pub fn brt_value_bool(truth: c_int) -> *mut brt_value;
    /// A new 64-bit integer value.
    pub fn brt_value_int(number: i64) -> *mut brt_value;
    /// NaN and infinities allowed.
    pub fn brt_value_float(number: f64) -> *mut brt_value;
    /// A copy of `len` bytes of UTF-8 (NUL allowed).
    pub fn brt_value_string(text: *const c_char, len: usize) -> *mut brt_value;
    /// brt_value_string(text, strlen(text)).
    pub fn brt_value_cstring(text: *const c_char) -> *mut brt_value;
    /// A copy of `len` arbitrary bytes.
    pub fn brt_value_bytes(data: *const c_void, len: usize) -> *mut brt_value;

    /// Typed accessors: BRT_OK and *out set, or TYPE_MISMATCH naming the expected and the actual kind ("expected int, got string"), INVALID_ARGUMENT for a NULL out, INVALID_POINTER for a bad value; *out is untouched on failure.
    pub fn brt_value_get_bool(value: *const brt_value, out: *mut c_int) -> brt_status;
    /// Typed accessors: BRT_OK and *out set, or TYPE_MISMATCH naming the expected and the actual kind ("expected int, got string"), INVALID_ARGUMENT for a NULL out, INVALID_POINTER for a bad value; *out is untouched on failure.
    pub fn brt_value_get_int(value: *const brt_value, out: *mut i64) -> brt_status;
    /// float only (an int is TYPE_MISMATCH: use brt_value_get_number).
    pub fn brt_value_get_float(value: *const brt_value, out: *mut f64) -> brt_status;
    /// int or float as a double (ints beyond 2^53 round to nearest).
    pub fn brt_value_get_number(value: *const brt_value, out: *mut f64) -> brt_status;
    /// The string's bytes (NUL-terminated after `*len` bytes, valid while the value lives) and length; `len` may be NULL.
    pub fn brt_value_get_string(
        value: *const brt_value,
        data: *mut *const c_char,
        len: *mut usize,
    ) -> brt_status;
    /// The string's bytes (NUL-terminated after `*len` bytes, valid while the value lives) and length; `len` may be NULL.
    pub fn brt_value_get_bytes(
        value: *const brt_value,
        data: *mut *const c_void,
        len: *mut usize,
    ) -> brt_status;

    /// A new empty array with room for `capacity` items.
    pub fn brt_value_array(capacity: usize) -> *mut brt_value;
    /// Appends `item` (retained).
    pub fn brt_value_array_push(array: *mut brt_value, item: *const brt_value) -> brt_status;
    /// Number of items.
    pub fn brt_value_array_length(array: *const brt_value, out: *mut usize) -> brt_status;
    /// The item at `index` (borrowed), or NULL with OUT_OF_RANGE naming the index and the length.
    pub fn brt_value_array_get(array: *const brt_value, index: usize) -> *const brt_value;

    /// A new empty object with room for `capacity` entries.
    pub fn brt_value_object(capacity: usize) -> *mut brt_value;
    /// Sets key -&gt; value (retained).
    pub fn brt_value_object_set(
        object: *mut brt_value,
        key: *const c_char,
        key_len: usize,
        value: *const brt_value,
    ) -> brt_status;
    /// The value under `key` (borrowed), or NULL with NOT_FOUND naming the key.
    pub fn brt_value_object_get(
        object: *const brt_value,
        key: *const c_char,
        key_len: usize,
    ) -> *const brt_value;
    /// The value under `key` (borrowed), or NULL with NOT_FOUND naming the key.
    pub fn brt_value_object_length(object: *const brt_value, out: *mut usize) -> brt_status;
    /// The entry at insertion position `index`: key bytes (NUL-terminated), key length and value, all borrowed.
    pub fn brt_value_object_entry(
        object: *const brt_value,
        index: usize,
        key: *mut *const c_char,
        key_len: *mut usize,
        value: *mut *const brt_value,
    ) -> brt_status;

    /// 1 when a and b are deeply equal, else 0.
    pub fn brt_value_equal(a: *const brt_value, b: *const brt_value) -> c_int;
    /// A readable one-line rendering for logs and debuggers, e.g. `{"a": [1, 2.5], "t": tensor<f64>[2x3] [[0, 1, 2], ...]}`: strings are escaped, bytes shown as b"\x00..", long arrays, strings and tensors are elided after `max_items` items (0: 16).
    pub fn brt_value_debug_string(value: *const brt_value, max_items: usize) -> *mut c_char;

    /// Bytes per element (8, 4, 8, 4, 1, 1), or 0 for an unknown dtype.
    pub fn brt_dtype_size(dtype: brt_dtype) -> usize;
    /// "f64", "f32", "i64", "i32", "u8", "bool", or "invalid".
    pub fn brt_dtype_name(dtype: brt_dtype) -> *const c_char;
    /// A contiguous (row-major) zero-filled tensor in a new managed block.
    pub fn brt_tensor_new(dtype: brt_dtype, ndim: usize, shape: *const usize) -> *mut brt_value;
    /// A tensor over an existing managed block, zero-copy: the block is retained (brt_retain) and released with the tensor.
    pub fn brt_tensor_wrap(
        block: *mut c_void,
        dtype: brt_dtype,
        ndim: usize,
        shape: *const usize,
        strides: *const isize,
    ) -> *mut brt_value;
    /// The first element of the tensor's data, or NULL with TYPE_MISMATCH / INVALID_POINTER recorded.
    pub fn brt_tensor_data(tensor: *const brt_value) -> *mut c_void;
    /// Describes the tensor.
    pub fn brt_tensor_info_get(tensor: *const brt_value, out: *mut brt_tensor_info) -> brt_status;
    /// Element access by index (`ndim` indices, checked: OUT_OF_RANGE names the axis, the index and the extent; INVALID_ARGUMENT when nindex != ndim).
    pub fn brt_tensor_get_f64(
        tensor: *const brt_value,
        index: *const usize,
        nindex: usize,
        out: *mut f64,
    ) -> brt_status;
    /// Element access by index (`ndim` indices, checked: OUT_OF_RANGE names the axis, the index and the extent; INVALID_ARGUMENT when nindex != ndim).
    pub fn brt_tensor_set_f64(
        tensor: *mut brt_value,
        index: *const usize,
        nindex: usize,
        number: f64,
    ) -> brt_status;
    /// Element access by index (`ndim` indices, checked: OUT_OF_RANGE names the axis, the index and the extent; INVALID_ARGUMENT when nindex != ndim).
    pub fn brt_tensor_get_i64(
        tensor: *const brt_value,
        index: *const usize,
        nindex: usize,
        out: *mut i64,
    ) -> brt_status;
    /// Element access by index (`ndim` indices, checked: OUT_OF_RANGE names the axis, the index and the extent; INVALID_ARGUMENT when nindex != ndim).
    pub fn brt_tensor_set_i64(
        tensor: *mut brt_value,
        index: *const usize,
        nindex: usize,
        number: i64,
    ) -> brt_status;

    /// Fills `options` with the defaults above (flags 0, dtype F64).
    pub fn brt_json_options_default(options: *mut brt_json_options);
    /// Parses exactly `len` bytes of JSON text (a NUL inside is an error).
    pub fn brt_value_from_json(text: *const c_char, len: usize, flags: c_uint) -> *mut brt_value;
    /// Same with explicit options (NULL: defaults) and an optional location filled on failure.
    pub fn brt_value_from_json_ex(
        text: *const c_char,
        len: usize,
        options: *const brt_json_options,
        error_at: *mut brt_json_location,
    ) -> *mut brt_value;
    /// Compact JSON text (NUL-terminated) in a managed block: brt_release() it.
    pub fn brt_value_to_json(value: *const brt_value, flags: c_uint) -> *mut c_char;

    /// Compiles a NUL-terminated JSON Schema.
    pub fn brt_schema_compile(json_schema: *const c_char) -> *mut brt_schema;
    /// Same for `len` bytes of text.
    pub fn brt_schema_compile_n(json_schema: *const c_char, len: usize) -> *mut brt_schema;
    /// Frees a compiled schema.
    pub fn brt_schema_free(schema: *mut brt_schema);
    /// BRT_OK when `value` satisfies `schema`; otherwise VALIDATION with the first violation found: "&lt;JSON Pointer&gt;: &lt;what was expected&gt;, got &lt;what&gt;" (e.g. "/matrix_a/1/0: expected number, got string"); INVALID_ARGUMENT / INVALID_POINTER for bad arguments.
    pub fn brt_validate(schema: *const brt_schema, value: *const brt_value) -> brt_status;
    /// Like brt_validate but keeps going and collects up to `max_errors` (&gt;= 1) violations.
    pub fn brt_validate_all(
        schema: *const brt_schema,
        value: *const brt_value,
        max_errors: usize,
        errors: *mut *mut brt_value,
    ) -> brt_status;
    /// Parses JSON text guided by the schema: where the schema says "x-tensor": "&lt;dtype&gt;", the array is read straight into a tensor of that dtype (CONVERSION naming the first offending index for ragged or non-numeric data); the result is then validated (VALIDATION as above).
    pub fn brt_value_from_json_schema(
        text: *const c_char,
        len: usize,
        schema: *const brt_schema,
        flags: c_uint,
    ) -> *mut brt_value;
}
