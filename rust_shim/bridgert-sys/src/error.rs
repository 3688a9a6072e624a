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
    /// sizeof(brt_error_info)
    pub struct_size: u32,
    /// The status.
    pub code: brt_status,
    /// Where the error was raised.
    pub origin: brt_origin,
    /// exception type name, NULL for C errors
    pub type_: *const c_char,
    /// NULL: the code's description
    pub message: *const c_char,
    /// errno / std::error_code::value(), 0 if none
    pub os_code: c_int,
    /// "generic", "system", ... or NULL
    pub os_category: *const c_char,
    /// The first path a filesystem error names, or NULL.
    pub path1: *const c_char,
    /// The second path, or NULL.
    pub path2: *const c_char,
    /// The error that led to this one (adopted by `brt_error_record`), or NULL.
    pub cause: *mut brt_error,
}

/// `brt_translation`: what a translator fills in.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct brt_translation {
    /// set by bridgert before the call
    pub struct_size: u32,
    /// The status the translator chose.
    pub code: brt_status,
    /// A message; empty keeps the exception's own.
    pub message: [c_char; BRT_ERROR_MESSAGE_MAX],
}

/// A translator for foreign exceptions: fills `out` and returns nonzero when it recognises `exception`.
pub type brt_error_translator = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        origin: brt_origin,
        exception: *const c_void,
        out: *mut brt_translation,
    ) -> c_int,
>;

extern "C" {
    /// The calling thread's last recorded error, or NULL if none.
    pub fn brt_last_error() -> *const brt_error;
    /// Moves the last error out of the thread: the caller owns it (free it with brt_error_free) and may hand it to another thread.
    pub fn brt_error_take() -> *mut brt_error;
    /// Forgets the calling thread's last error.
    pub fn brt_error_clear();
    /// Frees an error obtained from brt_error_take() or brt_error_clone(), including its causes.
    pub fn brt_error_free(error: *mut brt_error);
    /// A deep copy (with causes) that the caller owns, or NULL with BRT_E_INVALID_ARGUMENT / BRT_E_OUT_OF_MEMORY recorded.
    pub fn brt_error_clone(error: *const brt_error) -> *mut brt_error;

    /// The error's status code; BRT_OK for NULL.
    pub fn brt_error_code(error: *const brt_error) -> brt_status;
    /// The error's message; "" for NULL.
    pub fn brt_error_message(error: *const brt_error) -> *const c_char;
    /// Where the error was first raised.
    pub fn brt_error_origin(error: *const brt_error) -> brt_origin;
    /// "std::out_of_range", "int", "const char*"...; NULL for errors raised in C.
    pub fn brt_error_type(error: *const brt_error) -> *const c_char;
    /// "std::out_of_range", "int", "const char*"...; NULL for errors raised in C.
    pub fn brt_error_os_code(error: *const brt_error) -> c_int;
    /// The category of os_code ("generic", "system", "iostream"...), or NULL.
    pub fn brt_error_os_category(error: *const brt_error) -> *const c_char;
    /// Path 0 or 1 of a filesystem error, or NULL.
    pub fn brt_error_path(error: *const brt_error, index: core::ffi::c_uint) -> *const c_char;
    /// The nested cause, or NULL.
    pub fn brt_error_cause(error: *const brt_error) -> *const brt_error;
    /// Writes "BRT_E_X (origin, type): message; caused by: ..." into buf (always NUL-terminated when size &gt; 0) and returns the length the full text needs, like snprintf.
    pub fn brt_error_format(error: *const brt_error, buf: *mut c_char, size: usize) -> usize;

    /// Records an error for the calling thread and returns `code`, so a function can `return brt_error_set(...)`.
    pub fn brt_error_set(
        code: brt_status,
        origin: brt_origin,
        type_: *const c_char,
        fmt: *const c_char,
        ...
    ) -> brt_status;
    /// Like brt_error_set, with errno-style OS code (origin BRT_ORIGIN_OS, category "generic").
    pub fn brt_error_set_os(code: brt_status, os_code: c_int, fmt: *const c_char, ...) -> brt_status;
    /// Records a new error whose cause is the thread's current last error (if any), e.g. "loading plugin x.so failed" caused by the plugin's own error.
    pub fn brt_error_wrap(
        code: brt_status,
        origin: brt_origin,
        type_: *const c_char,
        fmt: *const c_char,
        ...
    ) -> brt_status;
    /// Records a fully described error (see brt_error_info).
    pub fn brt_error_record(info: *const brt_error_info) -> brt_status;
    /// Makes `error` (owned by the caller, e.g. from another thread's brt_error_take) the calling thread's last error, taking ownership.
    pub fn brt_error_restore(error: *mut brt_error) -> brt_status;

    /// How many errors with this code and origin were recorded in the process since it started (relaxed atomic counters, no lock).
    pub fn brt_error_count_get(code: brt_status, origin: brt_origin, count: *mut u64) -> brt_status;

    /// Registers (fn, ctx).
    pub fn brt_error_translator_register(fn_: brt_error_translator, ctx: *mut c_void) -> brt_status;
    /// Removes (fn, ctx); BRT_E_NOT_FOUND when absent.
    pub fn brt_error_translator_unregister(fn_: brt_error_translator, ctx: *mut c_void) -> brt_status;
    /// Runs the translators on `exception`.
    pub fn brt_error_translate(
        origin: brt_origin,
        exception: *const c_void,
        out: *mut brt_translation,
    ) -> brt_status;
}
