//! bridgert/error.h: the error model.
use core::ffi::{c_char, c_int, c_void};
use core::marker::{PhantomData, PhantomPinned};

use crate::status::{brt_origin, brt_status};

/// Bytes a message may take, including its terminating NUL.
pub const BRT_ERROR_MESSAGE_MAX: usize = 1024;
/// Bytes a type name, category or path may take, including the NUL.
pub const BRT_ERROR_NAME_MAX: usize = 256;
/// What ends a message that was cut ("…", U+2026), without the C string's NUL.
pub const BRT_ERROR_TRUNCATION_MARK: &str = "\u{2026}";
/// How deep a cause chain may be.
pub const BRT_ERROR_CAUSE_DEPTH_MAX: usize = 16;

/// Opaque `brt_error`: only ever handled through pointers. The marker keeps
/// it `!Send`, `!Sync` and `!Unpin`, as an object owned by C must be.
#[repr(C)]
pub struct brt_error {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// `brt_error_info`: everything an error can carry, for `brt_error_record`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_error_info {
    pub struct_size: u32,
    pub code: brt_status,
    pub origin: brt_origin,
    pub type_: *const c_char,
    pub message: *const c_char,
    pub os_code: c_int,
    pub os_category: *const c_char,
    pub path1: *const c_char,
    pub path2: *const c_char,
    pub cause: *mut brt_error,
}

/// `brt_translation`: what a translator fills in.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct brt_translation {
    pub struct_size: u32,
    pub code: brt_status,
    pub message: [c_char; BRT_ERROR_MESSAGE_MAX],
}

pub type brt_error_translator = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        origin: brt_origin,
        exception: *const c_void,
        out: *mut brt_translation,
    ) -> c_int,
>;

extern "C" {
    pub fn brt_last_error() -> *const brt_error;
    pub fn brt_error_take() -> *mut brt_error;
    pub fn brt_error_clear();
    pub fn brt_error_free(error: *mut brt_error);
    pub fn brt_error_clone(error: *const brt_error) -> *mut brt_error;

    pub fn brt_error_code(error: *const brt_error) -> brt_status;
    pub fn brt_error_message(error: *const brt_error) -> *const c_char;
    pub fn brt_error_origin(error: *const brt_error) -> brt_origin;
    pub fn brt_error_type(error: *const brt_error) -> *const c_char;
    pub fn brt_error_os_code(error: *const brt_error) -> c_int;
    pub fn brt_error_os_category(error: *const brt_error) -> *const c_char;
    pub fn brt_error_path(error: *const brt_error, index: core::ffi::c_uint) -> *const c_char;
    pub fn brt_error_cause(error: *const brt_error) -> *const brt_error;
    pub fn brt_error_format(error: *const brt_error, buf: *mut c_char, size: usize) -> usize;

    /// printf-style: pass `c"%s".as_ptr()` and the text, never untrusted text as `fmt`.
    pub fn brt_error_set(
        code: brt_status,
        origin: brt_origin,
        type_: *const c_char,
        fmt: *const c_char,
        ...
    ) -> brt_status;
    pub fn brt_error_set_os(code: brt_status, os_code: c_int, fmt: *const c_char, ...) -> brt_status;
    pub fn brt_error_wrap(
        code: brt_status,
        origin: brt_origin,
        type_: *const c_char,
        fmt: *const c_char,
        ...
    ) -> brt_status;
    pub fn brt_error_record(info: *const brt_error_info) -> brt_status;
    pub fn brt_error_restore(error: *mut brt_error) -> brt_status;

    pub fn brt_error_count_get(code: brt_status, origin: brt_origin, count: *mut u64) -> brt_status;

    pub fn brt_error_translator_register(fn_: brt_error_translator, ctx: *mut c_void) -> brt_status;
    pub fn brt_error_translator_unregister(fn_: brt_error_translator, ctx: *mut c_void) -> brt_status;
    pub fn brt_error_translate(
        origin: brt_origin,
        exception: *const c_void,
        out: *mut brt_translation,
    ) -> brt_status;
}
