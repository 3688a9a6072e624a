//! `Error`: a bridgert error as an owned Rust value.
//!
//! The C library records a `brt_error` for the calling thread when a call
//! fails (like errno). The safe API takes that record out of the thread right
//! after the failing call and copies it into an `Error`, which owns only Rust
//! data — so it is `Send` and `Sync`, can be returned through `?`, kept, and
//! handed to another thread. `Error::record` goes the other way, for Rust code
//! that returns to C (registered algorithms, callbacks).
use std::ffi::{c_char, CStr, CString};
use std::fmt;
use std::ptr;

use bridgert_sys as sys;

use crate::status::{Origin, Status};

/// `std::result::Result` with bridgert's `Error`.
pub type Result<T> = std::result::Result<T, Error>;

/// A failure reported by bridgert, C++ code behind it, or Rust code on it.
/// One pointer wide, so `Result<T>` stays as small as `T` allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    inner: Box<ErrorInner>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorInner {
    status: Status,
    raw_status: sys::brt_status,
    origin: Origin,
    message: String,
    cpp_type: Option<String>,
    os_code: Option<i32>,
    os_category: Option<String>,
    paths: Vec<String>,
    cause: Option<Error>,
}

/// Copies a C string the library owns; NULL is `None`. Invalid UTF-8 (a
/// foreign exception's what()) is replaced rather than refused: the text is
/// for people, and losing the whole message would be worse.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string valid for the call.
unsafe fn copy_text(text: *const c_char) -> Option<String> {
    (!text.is_null()).then(|| CStr::from_ptr(text).to_string_lossy().into_owned())
}

impl Error {
    /// An error raised in Rust (origin `Rust`).
    pub fn new(status: Status, message: impl Into<String>) -> Error {
        Error::from_inner(ErrorInner {
            status,
            raw_status: status.raw(),
            origin: Origin::Rust,
            message: message.into(),
            cpp_type: None,
            os_code: None,
            os_category: None,
            paths: Vec::new(),
            cause: None,
        })
    }

    fn from_inner(inner: ErrorInner) -> Error {
        Error { inner: Box::new(inner) }
    }

    /// The same error with another origin.
    pub fn with_origin(mut self, origin: Origin) -> Error {
        self.inner.origin = origin;
        self
    }
    /// The same error with `cause` as the error that led to it.
    pub fn with_cause(mut self, cause: Error) -> Error {
        self.inner.cause = Some(cause);
        self
    }
    /// The same error with an exception type name (`"std::out_of_range"`).
    pub fn with_type(mut self, type_name: impl Into<String>) -> Error {
        self.inner.cpp_type = Some(type_name.into());
        self
    }
    /// The same error with an OS error code (errno); 0 means none.
    pub fn with_os_code(mut self, code: i32) -> Error {
        self.inner.os_code = (code != 0).then_some(code);
        self
    }

    /// The status code. A code this crate does not know (from a newer
    /// library) reads as `Status::Internal`; `raw_status()` has the number.
    pub fn status(&self) -> Status {
        self.inner.status
    }
    /// The C status number, as the library reported it.
    pub fn raw_status(&self) -> u32 {
        self.inner.raw_status
    }
    /// The message: what failed, naming the argument or value.
    pub fn message(&self) -> &str {
        &self.inner.message
    }
    /// Where the error was raised (C, C++, Rust, the OS, a plugin).
    pub fn origin(&self) -> Origin {
        self.inner.origin
    }
    /// The type of the C++ exception behind this error: this record's own
    /// type when it has one, otherwise the type of the first cause (nearest
    /// first) that has one; `None` when no error of the chain came from a
    /// typed exception. The outer error of an algorithm call
    /// ("algorithm 'fail' failed") has no type of its own, so this is the
    /// type of the exception the algorithm threw. `own_cpp_type()` reads
    /// this record alone.
    pub fn cpp_type(&self) -> Option<&str> {
        self.chain().find_map(Error::own_cpp_type)
    }
    /// This record's own exception type: the demangled C++ type
    /// (`"std::out_of_range"`, `"int"`), or `None` for errors raised in C or
    /// Rust (whatever their causes are).
    pub fn own_cpp_type(&self) -> Option<&str> {
        self.inner.cpp_type.as_deref()
    }
    /// The first error of the chain (this one, then its causes, nearest
    /// first) whose own exception type is `type_name` (the demangled name,
    /// compared exactly: `"std::out_of_range"`, not a base class).
    pub fn find_cpp_type(&self, type_name: &str) -> Option<&Error> {
        self.chain().find(|error| error.own_cpp_type() == Some(type_name))
    }
    /// The causes of this error, nearest first: `cause()`, its cause, and so
    /// on (this error itself is not included; see `chain()`).
    pub fn causes(&self) -> Causes<'_> {
        Causes { next: self.cause() }
    }
    /// This error followed by its causes, nearest first.
    pub fn chain(&self) -> Causes<'_> {
        Causes { next: Some(self) }
    }
    /// errno or `std::error_code::value()`, when the error came from the OS.
    pub fn os_code(&self) -> Option<i32> {
        self.inner.os_code
    }
    /// The category of `os_code` ("generic", "system", ...).
    pub fn os_category(&self) -> Option<&str> {
        self.inner.os_category.as_deref()
    }
    /// The paths a filesystem error named (at most two).
    pub fn paths(&self) -> &[String] {
        &self.inner.paths
    }
    /// The error that led to this one (a nested exception, a plugin's own
    /// error under "loading the plugin failed").
    pub fn cause(&self) -> Option<&Error> {
        self.inner.cause.as_ref()
    }

    /// Copies a C error and its causes.
    ///
    /// # Safety
    /// `error` is a valid `brt_error` for the duration of the call.
    pub unsafe fn from_raw_error(error: *const sys::brt_error) -> Error {
        let raw_status = sys::brt_error_code(error);
        let cause = sys::brt_error_cause(error);
        let os_code = sys::brt_error_os_code(error);
        Error::from_inner(ErrorInner {
            status: Status::from_raw(raw_status).unwrap_or(Status::Internal),
            raw_status,
            origin: Origin::from_raw(sys::brt_error_origin(error)).unwrap_or(Origin::C),
            message: copy_text(sys::brt_error_message(error)).unwrap_or_default(),
            cpp_type: copy_text(sys::brt_error_type(error)),
            os_code: (os_code != 0).then_some(os_code),
            os_category: copy_text(sys::brt_error_os_category(error)),
            paths: (0..2).filter_map(|i| copy_text(sys::brt_error_path(error, i))).collect(),
            cause: (!cause.is_null()).then(|| Error::from_raw_error(cause)),
        })
    }

    /// A copy of the calling thread's last error, which stays recorded.
    pub fn last() -> Option<Error> {
        // SAFETY: the pointer is valid until this thread records another
        // error, and nothing in from_raw_error records one.
        unsafe {
            let error = sys::brt_last_error();
            (!error.is_null()).then(|| Error::from_raw_error(error))
        }
    }

    /// Moves the calling thread's last error out of the thread.
    pub fn take_last() -> Option<Error> {
        // SAFETY: brt_error_take hands us ownership; we free it after copying.
        unsafe {
            let error = sys::brt_error_take();
            if error.is_null() {
                return None;
            }
            let copy = Error::from_raw_error(error);
            sys::brt_error_free(error);
            Some(copy)
        }
    }

    /// The error of a call that just returned `status` (not `BRT_OK`): the
    /// thread's recorded error when it has that status, otherwise one built
    /// from the status alone (a library must record, but Rust does not trust
    /// that to be true).
    pub fn from_status(status: sys::brt_status) -> Error {
        match Error::take_last() {
            Some(error) if error.inner.raw_status == status => error,
            _ => {
                let known = Status::from_raw(status).unwrap_or(Status::Internal);
                let mut error = Error::new(
                    known,
                    format!(
                        "the call failed with status {status} ({}) without recording an error",
                        known.describe()
                    ),
                )
                .with_origin(Origin::C);
                error.inner.raw_status = status;
                error
            }
        }
    }

    /// The error of a call that just returned NULL.
    pub fn from_null(function: &str) -> Error {
        Error::take_last().unwrap_or_else(|| {
            Error::new(Status::Internal, format!("{function} returned NULL without recording an error"))
                .with_origin(Origin::C)
        })
    }

    /// Makes this error (with its causes) the calling thread's last C error
    /// and returns its status, for Rust code returning to C.
    pub fn record(&self) -> sys::brt_status {
        let cause = self.inner.cause.as_ref().map_or(ptr::null_mut(), |cause| {
            cause.record();
            // SAFETY: we just recorded it; the info below adopts it.
            unsafe { sys::brt_error_take() }
        });
        let text = |s: Option<&str>| s.map(|s| CString::new(s.replace('\0', "\u{FFFD}")).unwrap());
        let message = text(Some(&self.inner.message));
        let type_name = text(self.inner.cpp_type.as_deref());
        let category = text(self.inner.os_category.as_deref());
        let path1 = text(self.inner.paths.first().map(String::as_str));
        let path2 = text(self.inner.paths.get(1).map(String::as_str));
        let ptr_of = |s: &Option<CString>| s.as_ref().map_or(ptr::null(), |s| s.as_ptr());
        let info = sys::brt_error_info {
            struct_size: std::mem::size_of::<sys::brt_error_info>() as u32,
            code: self.inner.raw_status,
            origin: self.inner.origin.raw(),
            type_: ptr_of(&type_name),
            message: ptr_of(&message),
            os_code: self.inner.os_code.unwrap_or(0),
            os_category: ptr_of(&category),
            path1: ptr_of(&path1),
            path2: ptr_of(&path2),
            cause,
        };
        // SAFETY: every pointer is NULL or a live CString until after the call;
        // the cause is adopted on success and on failure alike.
        unsafe { sys::brt_error_record(&info) }
    }
}

/// An iterator over a chain of errors, outermost first (`Error::causes`,
/// `Error::chain`). Chains are finite: each error owns its cause.
#[derive(Debug, Clone)]
pub struct Causes<'a> {
    next: Option<&'a Error>,
}

impl<'a> Iterator for Causes<'a> {
    type Item = &'a Error;

    fn next(&mut self) -> Option<&'a Error> {
        let current = self.next?;
        self.next = current.cause();
        Some(current)
    }
}

impl std::iter::FusedIterator for Causes<'_> {}

/// `Ok(())` for `BRT_OK`, the recorded error otherwise.
pub(crate) fn check(status: sys::brt_status) -> Result<()> {
    if status == sys::BRT_OK {
        Ok(())
    } else {
        Err(Error::from_status(status))
    }
}

impl fmt::Display for Error {
    /// `BRT_E_OUT_OF_RANGE (cpp, std::out_of_range): vector::_M_range_check`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Status::from_raw(self.inner.raw_status) {
            Some(status) => write!(f, "{} ({}", status.name(), self.inner.origin)?,
            None => write!(f, "BRT_E_UNKNOWN({}) ({}", self.inner.raw_status, self.inner.origin)?,
        }
        if let Some(type_name) = &self.inner.cpp_type {
            write!(f, ", {type_name}")?;
        }
        if let Some(code) = self.inner.os_code {
            write!(f, ", os error {code}")?;
        }
        write!(f, "): {}", self.inner.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.inner.cause.as_ref().map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// Text with a NUL inside cannot reach C: an `InvalidArgument` naming it.
pub(crate) fn c_string(what: &str, text: impl Into<Vec<u8>>) -> Result<CString> {
    CString::new(text).map_err(|e| {
        Error::new(
            Status::InvalidArgument,
            format!("{what} contains a NUL byte at offset {}; C strings cannot hold one", e.nul_position()),
        )
    })
}
