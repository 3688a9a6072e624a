//! `Value`: an owned reference to a `brt_value`, and `Schema`.
//!
//! Values are built, read, converted to and from JSON, and passed to
//! algorithms. A `Value` holds one reference: `Clone` retains the same value,
//! `Drop` releases it. Containers are changed only through a handle that is
//! the value's only reference and only while unsealed (not yet placed in
//! another container): C refuses a sealed one with PERMISSION, and this crate
//! refuses a shared one the same way, which is what makes `Value` safe to
//! share between threads.
use std::ffi::{c_char, CStr};
use std::fmt;
use std::mem::size_of;
use std::ptr::{self, NonNull};
use std::slice;

use bridgert_sys as sys;

use crate::block::Block;
use crate::error::{check, Error, Result};
use crate::status::Status;

/// A value's kind (`brt_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Kind {
    /// JSON null.
    Null = sys::BRT_KIND_NULL,
    /// A boolean.
    Bool = sys::BRT_KIND_BOOL,
    /// A 64-bit signed integer.
    Int = sys::BRT_KIND_INT,
    /// A double.
    Float = sys::BRT_KIND_FLOAT,
    /// A UTF-8 string.
    String = sys::BRT_KIND_STRING,
    /// A byte string.
    Bytes = sys::BRT_KIND_BYTES,
    /// An array of values.
    Array = sys::BRT_KIND_ARRAY,
    /// An object: string keys to values.
    Object = sys::BRT_KIND_OBJECT,
    /// A tensor over a managed block.
    Tensor = sys::BRT_KIND_TENSOR,
}

/// A tensor's element type (`brt_dtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Dtype {
    /// `f64` elements.
    F64 = sys::BRT_DTYPE_F64,
    /// `f32` elements.
    F32 = sys::BRT_DTYPE_F32,
    /// `i64` elements.
    I64 = sys::BRT_DTYPE_I64,
    /// `i32` elements.
    I32 = sys::BRT_DTYPE_I32,
    /// `u8` elements.
    U8 = sys::BRT_DTYPE_U8,
    /// Booleans, one byte each (read as `u8`).
    Bool = sys::BRT_DTYPE_BOOL,
}

impl Dtype {
    const ALL: [Dtype; 6] = [Dtype::F64, Dtype::F32, Dtype::I64, Dtype::I32, Dtype::U8, Dtype::Bool];
    fn from_raw(raw: sys::brt_dtype) -> Option<Dtype> {
        Dtype::ALL.into_iter().find(|d| *d as u32 == raw)
    }
}

/// Rust element types of tensors (bool tensors are read as `u8`).
pub trait TensorElement: Copy + Send + Sync + 'static {
    /// The dtype of tensors of this element type.
    const DTYPE: Dtype;
}
impl TensorElement for f64 {
    const DTYPE: Dtype = Dtype::F64;
}
impl TensorElement for f32 {
    const DTYPE: Dtype = Dtype::F32;
}
impl TensorElement for i64 {
    const DTYPE: Dtype = Dtype::I64;
}
impl TensorElement for i32 {
    const DTYPE: Dtype = Dtype::I32;
}
impl TensorElement for u8 {
    const DTYPE: Dtype = Dtype::U8;
}

/// What `Value::tensor_info` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// The element type; `None` for one this crate does not know.
    pub dtype: Option<Dtype>,
    /// The length of each dimension.
    pub shape: Vec<usize>,
    /// In elements, not bytes.
    pub strides: Vec<isize>,
    /// The number of elements.
    pub count: usize,
}

impl TensorInfo {
    fn is_contiguous(&self) -> bool {
        let mut expected = 1isize;
        for (extent, stride) in self.shape.iter().zip(&self.strides).rev() {
            if *extent > 1 && *stride != expected {
                return false;
            }
            expected *= *extent as isize;
        }
        true
    }
}

/// One reference to a `brt_value`.
pub struct Value {
    raw: NonNull<sys::brt_value>,
}

// SAFETY: reference counts are atomic; reading a value is thread-safe in C;
// changes go through &mut self and need the only reference (checked), so no
// other thread can read a value while it changes.
unsafe impl Send for Value {}
unsafe impl Sync for Value {}

fn adopt(raw: *mut sys::brt_value, function: &str) -> Result<Value> {
    NonNull::new(raw).map(|raw| Value { raw }).ok_or_else(|| Error::from_null(function))
}

/// Takes a managed C string (brt_value_to_json, brt_metrics_export...),
/// copies it and releases the block.
///
/// # Safety
/// `text` is NULL or a NUL-terminated managed block the caller owns.
pub(crate) unsafe fn take_managed_text(text: *mut c_char, function: &str) -> Result<String> {
    if text.is_null() {
        return Err(Error::from_null(function));
    }
    let copy = CStr::from_ptr(text).to_string_lossy().into_owned();
    sys::brt_release(text.cast());
    Ok(copy)
}

impl Value {
    /// A new null.
    pub fn null() -> Result<Value> {
        // SAFETY: no arguments.
        adopt(unsafe { sys::brt_value_null() }, "brt_value_null")
    }
    /// A new boolean.
    pub fn bool(truth: bool) -> Result<Value> {
        // SAFETY: plain value.
        adopt(unsafe { sys::brt_value_bool(truth.into()) }, "brt_value_bool")
    }
    /// A new integer.
    pub fn int(number: i64) -> Result<Value> {
        // SAFETY: plain value.
        adopt(unsafe { sys::brt_value_int(number) }, "brt_value_int")
    }
    /// A new float.
    pub fn float(number: f64) -> Result<Value> {
        // SAFETY: plain value.
        adopt(unsafe { sys::brt_value_float(number) }, "brt_value_float")
    }
    /// A new string (copied).
    pub fn string(text: &str) -> Result<Value> {
        // SAFETY: pointer and length of valid UTF-8.
        adopt(unsafe { sys::brt_value_string(text.as_ptr().cast(), text.len()) }, "brt_value_string")
    }
    /// New bytes (copied).
    pub fn bytes(data: &[u8]) -> Result<Value> {
        // SAFETY: pointer and length.
        adopt(unsafe { sys::brt_value_bytes(data.as_ptr().cast(), data.len()) }, "brt_value_bytes")
    }
    /// An empty array.
    pub fn array() -> Result<Value> {
        // SAFETY: plain value.
        adopt(unsafe { sys::brt_value_array(0) }, "brt_value_array")
    }
    /// An empty object.
    pub fn object() -> Result<Value> {
        // SAFETY: plain value.
        adopt(unsafe { sys::brt_value_object(0) }, "brt_value_object")
    }

    /// Parses JSON text (strict RFC 8259; see docs/values.md).
    pub fn from_json(text: &str) -> Result<Value> {
        // SAFETY: pointer and length.
        adopt(unsafe { sys::brt_value_from_json(text.as_ptr().cast(), text.len(), 0) }, "brt_value_from_json")
    }
    /// Like `from_json` with `BRT_JSON_*` flags (e.g. `sys::BRT_JSON_TENSORS`).
    pub fn from_json_flags(text: &str, flags: u32) -> Result<Value> {
        // SAFETY: pointer and length.
        adopt(
            unsafe { sys::brt_value_from_json(text.as_ptr().cast(), text.len(), flags) },
            "brt_value_from_json",
        )
    }
    /// Compact JSON text.
    pub fn to_json(&self) -> Result<String> {
        self.to_json_flags(0)
    }
    /// JSON text with `BRT_JSON_*` print flags (`sys::BRT_JSON_NONFINITE_AS_NULL`, `sys::BRT_JSON_BYTES_AS_BASE64`).
    pub fn to_json_flags(&self, flags: u32) -> Result<String> {
        // SAFETY: a live value; the text is a managed block we release.
        unsafe { take_managed_text(sys::brt_value_to_json(self.raw.as_ptr(), flags), "brt_value_to_json") }
    }

    /// A contiguous zero-filled tensor.
    pub fn tensor(dtype: Dtype, shape: &[usize]) -> Result<Value> {
        // SAFETY: shape pointer and length.
        adopt(unsafe { sys::brt_tensor_new(dtype as u32, shape.len(), shape.as_ptr()) }, "brt_tensor_new")
    }

    /// A tensor over `block`'s memory without copying: the tensor retains
    /// the block, so writes through either are seen by both (C++ sees them
    /// too). The shape must fit in the block (OUT_OF_RANGE otherwise).
    pub fn tensor_from_block<T: TensorElement>(block: &Block<T>, shape: &[usize]) -> Result<Value> {
        // SAFETY: a live block we hold; brt_tensor_wrap checks the shape
        // against the block's size and retains it.
        adopt(
            unsafe {
                sys::brt_tensor_wrap(
                    block.as_ptr() as *mut _,
                    T::DTYPE as u32,
                    shape.len(),
                    shape.as_ptr(),
                    ptr::null(),
                )
            },
            "brt_tensor_wrap",
        )
    }

    /// The value's kind.
    pub fn kind(&self) -> Kind {
        // SAFETY: a live value.
        match unsafe { sys::brt_value_kind(self.raw.as_ptr()) } {
            sys::BRT_KIND_NULL => Kind::Null,
            sys::BRT_KIND_BOOL => Kind::Bool,
            sys::BRT_KIND_INT => Kind::Int,
            sys::BRT_KIND_FLOAT => Kind::Float,
            sys::BRT_KIND_STRING => Kind::String,
            sys::BRT_KIND_BYTES => Kind::Bytes,
            sys::BRT_KIND_ARRAY => Kind::Array,
            sys::BRT_KIND_OBJECT => Kind::Object,
            _ => Kind::Tensor,
        }
    }

    /// A boolean (another kind is `TypeMismatch`).
    pub fn as_bool(&self) -> Result<bool> {
        let mut out = 0;
        // SAFETY: a live value and an out pointer.
        check(unsafe { sys::brt_value_get_bool(self.raw.as_ptr(), &mut out) })?;
        Ok(out != 0)
    }
    /// An integer (a float is `TypeMismatch`: see `as_number`).
    pub fn as_int(&self) -> Result<i64> {
        let mut out = 0;
        // SAFETY: as above.
        check(unsafe { sys::brt_value_get_int(self.raw.as_ptr(), &mut out) })?;
        Ok(out)
    }
    /// A float (an int is TYPE_MISMATCH: see `as_number`).
    pub fn as_float(&self) -> Result<f64> {
        let mut out = 0.0;
        // SAFETY: as above.
        check(unsafe { sys::brt_value_get_float(self.raw.as_ptr(), &mut out) })?;
        Ok(out)
    }
    /// An int or a float, as f64.
    pub fn as_number(&self) -> Result<f64> {
        let mut out = 0.0;
        // SAFETY: as above.
        check(unsafe { sys::brt_value_get_number(self.raw.as_ptr(), &mut out) })?;
        Ok(out)
    }
    /// A string's text, borrowed from the value.
    pub fn as_str(&self) -> Result<&str> {
        let (mut data, mut len) = (ptr::null(), 0);
        // SAFETY: the bytes live as long as the value; C validated the UTF-8.
        unsafe {
            check(sys::brt_value_get_string(self.raw.as_ptr(), &mut data, &mut len))?;
            Ok(std::str::from_utf8_unchecked(slice::from_raw_parts(data.cast(), len)))
        }
    }
    /// Bytes, borrowed from the value.
    pub fn as_bytes(&self) -> Result<&[u8]> {
        let (mut data, mut len) = (ptr::null(), 0);
        // SAFETY: the bytes live as long as the value.
        unsafe {
            check(sys::brt_value_get_bytes(self.raw.as_ptr(), &mut data, &mut len))?;
            Ok(if len == 0 { &[] } else { slice::from_raw_parts(data.cast(), len) })
        }
    }

    /// Items of an array or entries of an object.
    pub fn len(&self) -> Result<usize> {
        let mut out = 0;
        // SAFETY: a live value and an out pointer.
        let status = unsafe {
            match self.kind() {
                Kind::Object => sys::brt_value_object_length(self.raw.as_ptr(), &mut out),
                _ => sys::brt_value_array_length(self.raw.as_ptr(), &mut out),
            }
        };
        check(status).map(|()| out)
    }

    /// Whether an array or object has no items.
    pub fn is_empty(&self) -> Result<bool> {
        self.len().map(|len| len == 0)
    }

    /// A new handle on a child the container lends (retained).
    fn borrowed(child: *const sys::brt_value, function: &str) -> Result<Value> {
        let child = NonNull::new(child as *mut sys::brt_value).ok_or_else(|| Error::from_null(function))?;
        // SAFETY: a live child of a value we hold.
        unsafe { sys::brt_value_retain(child.as_ptr()) };
        Ok(Value { raw: child })
    }

    /// The array item at `index` (OUT_OF_RANGE past the end).
    pub fn get(&self, index: usize) -> Result<Value> {
        // SAFETY: a live value.
        Value::borrowed(unsafe { sys::brt_value_array_get(self.raw.as_ptr(), index) }, "brt_value_array_get")
    }
    /// The object's value under `key` (NOT_FOUND naming it).
    pub fn get_key(&self, key: &str) -> Result<Value> {
        // SAFETY: key pointer and length.
        Value::borrowed(
            unsafe { sys::brt_value_object_get(self.raw.as_ptr(), key.as_ptr().cast(), key.len()) },
            "brt_value_object_get",
        )
    }
    /// The object's entries in insertion order.
    pub fn entries(&self) -> Result<Vec<(String, Value)>> {
        if self.kind() != Kind::Object {
            return Err(Error::new(Status::TypeMismatch, format!("expected object, got {:?}", self.kind())));
        }
        (0..self.len()?)
            .map(|index| {
                let (mut key, mut key_len, mut value) = (ptr::null(), 0, ptr::null());
                // SAFETY: index < length; the key bytes live with the object.
                unsafe {
                    check(sys::brt_value_object_entry(
                        self.raw.as_ptr(),
                        index,
                        &mut key,
                        &mut key_len,
                        &mut value,
                    ))?;
                    let key =
                        String::from_utf8_lossy(slice::from_raw_parts(key.cast(), key_len)).into_owned();
                    Ok((key, Value::borrowed(value, "brt_value_object_entry")?))
                }
            })
            .collect()
    }

    fn must_be_unique(&self, operation: &str) -> Result<()> {
        let count = self.refcount();
        if count == 1 {
            Ok(())
        } else {
            Err(Error::new(
                Status::Permission,
                format!("{operation}: the value has {count} references; only a value held once can change"),
            ))
        }
    }

    /// Appends `item` (retained: `item` stays usable, and sealed).
    pub fn push(&mut self, item: &Value) -> Result<()> {
        self.must_be_unique("Value::push")?;
        // SAFETY: two live values; ours is unique.
        check(unsafe { sys::brt_value_array_push(self.raw.as_ptr(), item.raw.as_ptr()) })
    }
    /// Sets `key` to `value` (retained).
    pub fn set(&mut self, key: &str, value: &Value) -> Result<()> {
        self.must_be_unique("Value::set")?;
        // SAFETY: two live values and the key's bytes; ours is unique.
        check(unsafe {
            sys::brt_value_object_set(self.raw.as_ptr(), key.as_ptr().cast(), key.len(), value.raw.as_ptr())
        })
    }

    /// Dtype, shape, strides and element count of a tensor (another kind is `TypeMismatch`).
    pub fn tensor_info(&self) -> Result<TensorInfo> {
        // SAFETY: a plain struct; C fills it for a tensor.
        let mut raw: sys::brt_tensor_info = unsafe { std::mem::zeroed() };
        raw.struct_size = size_of::<sys::brt_tensor_info>() as u32;
        // SAFETY: a live value and a full-size struct.
        check(unsafe { sys::brt_tensor_info_get(self.raw.as_ptr(), &mut raw) })?;
        let ndim = raw.ndim.min(sys::BRT_TENSOR_MAX_DIMS);
        Ok(TensorInfo {
            dtype: Dtype::from_raw(raw.dtype),
            shape: raw.shape[..ndim].to_vec(),
            strides: raw.strides[..ndim].to_vec(),
            count: raw.count,
        })
    }

    /// The elements of a contiguous tensor of `T`'s dtype, in row-major order.
    pub fn tensor_slice<T: TensorElement>(&self) -> Result<&[T]> {
        let info = self.tensor_info()?;
        if info.dtype != Some(T::DTYPE) {
            return Err(Error::new(
                Status::TypeMismatch,
                format!("expected a {:?} tensor, got {:?}", T::DTYPE, info.dtype),
            ));
        }
        if !info.is_contiguous() {
            return Err(Error::new(
                Status::Unsupported,
                "the tensor is strided; read it with tensor_get_f64",
            ));
        }
        // SAFETY: count contiguous elements of T, alive with the value.
        let data = unsafe { sys::brt_tensor_data(self.raw.as_ptr()) };
        if data.is_null() {
            return Err(Error::from_null("brt_tensor_data"));
        }
        Ok(if info.count == 0 { &[] } else { unsafe { slice::from_raw_parts(data.cast(), info.count) } })
    }

    /// The element at `index` (one index per dimension) as f64.
    pub fn tensor_get_f64(&self, index: &[usize]) -> Result<f64> {
        let mut out = 0.0;
        // SAFETY: index pointer and length.
        check(unsafe { sys::brt_tensor_get_f64(self.raw.as_ptr(), index.as_ptr(), index.len(), &mut out) })?;
        Ok(out)
    }

    /// Sets one element. Tensor data is plain shared memory: this writes
    /// even when the tensor or its block is shared (as C and C++ may), and
    /// concurrent access is the caller's to synchronise. A tensor over a
    /// read-only block (a MAPPED block mapped without write access) is
    /// refused with `Status::Permission`.
    pub fn tensor_set_f64(&mut self, index: &[usize], number: f64) -> Result<()> {
        // SAFETY: index pointer and length.
        check(unsafe { sys::brt_tensor_set_f64(self.raw.as_ptr(), index.as_ptr(), index.len(), number) })
    }

    /// The value's reference count (all holders, every language).
    pub fn refcount(&self) -> u32 {
        // SAFETY: a live value.
        unsafe { sys::brt_value_refcount(self.raw.as_ptr()) }
    }

    /// The C handle, for `bridgert::sys` calls; valid while `self` lives.
    pub fn as_raw(&self) -> *const sys::brt_value {
        self.raw.as_ptr()
    }
    /// Gives up the handle without releasing: the caller owns the reference.
    pub fn into_raw(self) -> *mut sys::brt_value {
        let raw = self.raw.as_ptr();
        std::mem::forget(self);
        raw
    }
    /// Adopts one reference to a value (from C, or `into_raw`).
    ///
    /// # Safety
    /// `raw` is NULL or a live value whose reference the caller gives up.
    pub unsafe fn from_raw(raw: *mut sys::brt_value) -> Result<Value> {
        adopt(raw, "Value::from_raw")
    }
    /// A new handle on a value someone else keeps (retains it).
    ///
    /// # Safety
    /// `raw` is NULL or a live value.
    pub unsafe fn from_borrowed(raw: *const sys::brt_value) -> Result<Value> {
        Value::borrowed(raw, "Value::from_borrowed")
    }
}

impl Clone for Value {
    /// Another handle on the same value (retains; no copy).
    fn clone(&self) -> Value {
        // SAFETY: a live value.
        unsafe { sys::brt_value_retain(self.raw.as_ptr()) };
        Value { raw: self.raw }
    }
}

impl Drop for Value {
    fn drop(&mut self) {
        // SAFETY: we hold one reference.
        unsafe { sys::brt_value_release(self.raw.as_ptr()) }
    }
}

impl PartialEq for Value {
    /// Deep equality as C defines it (kinds must match; floats by bits).
    fn eq(&self, other: &Value) -> bool {
        // SAFETY: two live values.
        unsafe { sys::brt_value_equal(self.raw.as_ptr(), other.raw.as_ptr()) != 0 }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SAFETY: a live value; the text is a managed block we release.
        match unsafe {
            take_managed_text(sys::brt_value_debug_string(self.raw.as_ptr(), 0), "brt_value_debug_string")
        } {
            Ok(text) => f.write_str(&text),
            Err(error) => write!(f, "<value: {error}>"),
        }
    }
}

/// A compiled JSON Schema (immutable: validate from any thread).
pub struct Schema {
    raw: NonNull<sys::brt_schema>,
}

// SAFETY: a compiled schema is immutable and brt_validate is thread-safe.
unsafe impl Send for Schema {}
unsafe impl Sync for Schema {}

impl Schema {
    /// Compiles a schema (INVALID_ARGUMENT naming the offending keyword).
    pub fn compile(json_schema: &str) -> Result<Schema> {
        // SAFETY: pointer and length.
        let raw = unsafe { sys::brt_schema_compile_n(json_schema.as_ptr().cast(), json_schema.len()) };
        NonNull::new(raw).map(|raw| Schema { raw }).ok_or_else(|| Error::from_null("brt_schema_compile"))
    }
    /// `Ok` when `value` satisfies the schema, VALIDATION naming the JSON
    /// Pointer of the first violation otherwise.
    pub fn validate(&self, value: &Value) -> Result<()> {
        // SAFETY: live schema and value.
        check(unsafe { sys::brt_validate(self.raw.as_ptr(), value.as_raw()) })
    }
    /// The C handle, for `bridgert::sys` calls; valid while `self` lives.
    pub fn as_raw(&self) -> *const sys::brt_schema {
        self.raw.as_ptr()
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        // SAFETY: we own it, and &mut self means no validation is running.
        unsafe { sys::brt_schema_free(self.raw.as_ptr()) }
    }
}
