//! `Status` and `Origin`: the C enums `brt_status` and `brt_origin`, one
//! variant per C constant, with the same numbers.
use std::ffi::CStr;
use std::fmt;

use bridgert_sys as sys;

macro_rules! statuses {
    ($($variant:ident = $raw:ident),* $(,)?) => {
        /// Mirrors `brt_status` one to one: `Status::OutOfRange as u32 ==
        /// BRT_E_OUT_OF_RANGE`. Numbers are stable; new codes are appended.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        #[non_exhaustive]
        pub enum Status { $($variant = sys::$raw),* }

        impl Status {
            /// Every status, in numeric order.
            pub const ALL: &'static [Status] = &[$(Status::$variant),*];

            /// The status with this C value, or `None` for a value this crate
            /// does not know (a newer library).
            pub fn from_raw(raw: sys::brt_status) -> Option<Status> {
                match raw {
                    $(sys::$raw => Some(Status::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

statuses! {
    Ok = BRT_OK,
    InvalidArgument = BRT_E_INVALID_ARGUMENT,
    OutOfMemory = BRT_E_OUT_OF_MEMORY,
    LimitExceeded = BRT_E_LIMIT_EXCEEDED,
    InvalidPointer = BRT_E_INVALID_POINTER,
    DoubleFree = BRT_E_DOUBLE_FREE,
    LayoutMismatch = BRT_E_LAYOUT_MISMATCH,
    TypeMismatch = BRT_E_TYPE_MISMATCH,
    OutOfRange = BRT_E_OUT_OF_RANGE,
    NotFound = BRT_E_NOT_FOUND,
    Exists = BRT_E_EXISTS,
    Validation = BRT_E_VALIDATION,
    Conversion = BRT_E_CONVERSION,
    CppException = BRT_E_CPP_EXCEPTION,
    RustPanic = BRT_E_RUST_PANIC,
    Timeout = BRT_E_TIMEOUT,
    Crashed = BRT_E_CRASHED,
    Isolated = BRT_E_ISOLATED,
    Io = BRT_E_IO,
    Plugin = BRT_E_PLUGIN,
    AbiMismatch = BRT_E_ABI_MISMATCH,
    Permission = BRT_E_PERMISSION,
    Unsupported = BRT_E_UNSUPPORTED,
    Internal = BRT_E_INTERNAL,
}

/// Converts a static C string the library owns (names, descriptions).
fn static_text(text: *const std::ffi::c_char) -> &'static str {
    if text.is_null() {
        return "";
    }
    // SAFETY: the library returns pointers to static, NUL-terminated ASCII
    // tables for every known code (status.h), which is all we pass it.
    unsafe { CStr::from_ptr(text) }.to_str().unwrap_or("")
}

impl Status {
    /// The C value (`brt_status`).
    pub fn raw(self) -> sys::brt_status {
        self as sys::brt_status
    }
    /// The C name, e.g. `"BRT_E_OUT_OF_RANGE"`.
    pub fn name(self) -> &'static str {
        // SAFETY: a known code, so the answer is a static table entry.
        static_text(unsafe { sys::brt_status_name(self.raw()) })
    }
    /// One sentence describing the code.
    pub fn describe(self) -> &'static str {
        // SAFETY: as for name().
        static_text(unsafe { sys::brt_status_describe(self.raw()) })
    }
    pub fn is_ok(self) -> bool {
        self == Status::Ok
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where an error was first raised (`brt_origin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
#[non_exhaustive]
pub enum Origin {
    C = sys::BRT_ORIGIN_C,
    Cpp = sys::BRT_ORIGIN_CPP,
    Rust = sys::BRT_ORIGIN_RUST,
    Os = sys::BRT_ORIGIN_OS,
    Plugin = sys::BRT_ORIGIN_PLUGIN,
}

impl Origin {
    pub const ALL: &'static [Origin] = &[Origin::C, Origin::Cpp, Origin::Rust, Origin::Os, Origin::Plugin];

    pub fn from_raw(raw: sys::brt_origin) -> Option<Origin> {
        Origin::ALL.iter().copied().find(|o| o.raw() == raw)
    }
    pub fn raw(self) -> sys::brt_origin {
        self as sys::brt_origin
    }
    /// The short name: "c", "cpp", "rust", "os", "plugin".
    pub fn name(self) -> &'static str {
        // SAFETY: a known origin, so the answer is a static table entry.
        static_text(unsafe { sys::brt_origin_name(self.raw()) })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
