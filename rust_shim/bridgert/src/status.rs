//! `Status` and `Origin`: the C enums `brt_status` and `brt_origin`, one
//! variant per C constant, with the same numbers.
use std::ffi::CStr;
use std::fmt;

use bridgert_sys as sys;

macro_rules! statuses {
    ($($(#[$doc:meta])* $variant:ident = $raw:ident),* $(,)?) => {
        /// Mirrors `brt_status` one to one: `Status::OutOfRange as u32 ==
        /// BRT_E_OUT_OF_RANGE`. Numbers are stable; new codes are appended.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        #[non_exhaustive]
        pub enum Status { $($(#[$doc])* $variant = sys::$raw),* }

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
    /// The operation succeeded.
    Ok = BRT_OK,
    /// An argument was missing, malformed or outside its documented range.
    InvalidArgument = BRT_E_INVALID_ARGUMENT,
    /// The system could not provide the memory the operation needed.
    OutOfMemory = BRT_E_OUT_OF_MEMORY,
    /// The operation would exceed a configured limit (memory, size or depth).
    LimitExceeded = BRT_E_LIMIT_EXCEEDED,
    /// The pointer is not the start of a live block of the bridgert allocator.
    InvalidPointer = BRT_E_INVALID_POINTER,
    /// The block was already freed; it was released once too often.
    DoubleFree = BRT_E_DOUBLE_FREE,
    /// The size or alignment given does not match the block's layout.
    LayoutMismatch = BRT_E_LAYOUT_MISMATCH,
    /// A value or block has a different type than the operation expects.
    TypeMismatch = BRT_E_TYPE_MISMATCH,
    /// An index, key or number lies outside the valid range.
    OutOfRange = BRT_E_OUT_OF_RANGE,
    /// The named item (algorithm, plugin, file or key) does not exist.
    NotFound = BRT_E_NOT_FOUND,
    /// An item with that name already exists.
    Exists = BRT_E_EXISTS,
    /// The input does not satisfy the schema it was checked against.
    Validation = BRT_E_VALIDATION,
    /// The data could not be converted between representations.
    Conversion = BRT_E_CONVERSION,
    /// C++ code threw an exception that was caught at the boundary.
    CppException = BRT_E_CPP_EXCEPTION,
    /// Rust code panicked; the panic was caught at the boundary.
    RustPanic = BRT_E_RUST_PANIC,
    /// The operation did not finish before its deadline.
    Timeout = BRT_E_TIMEOUT,
    /// The isolated code crashed; its process was lost.
    Crashed = BRT_E_CRASHED,
    /// The algorithm is isolated after repeated failures; calls fail fast until it is probed again.
    Isolated = BRT_E_ISOLATED,
    /// An operating-system input/output call failed.
    Io = BRT_E_IO,
    /// A plugin could not be loaded or is malformed.
    Plugin = BRT_E_PLUGIN,
    /// Two parts were built for incompatible ABI versions.
    AbiMismatch = BRT_E_ABI_MISMATCH,
    /// The operation is not permitted (ownership, mode or configured policy).
    Permission = BRT_E_PERMISSION,
    /// The operation is not supported in this configuration or on this platform.
    Unsupported = BRT_E_UNSUPPORTED,
    /// bridgert found its own state inconsistent; please report this as a bug.
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
    /// Whether this is `Status::Ok`.
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
    /// Raised by C code (the library or a C caller).
    C = sys::BRT_ORIGIN_C,
    /// A C++ exception caught at a boundary.
    Cpp = sys::BRT_ORIGIN_CPP,
    /// Raised by Rust code, or a caught panic.
    Rust = sys::BRT_ORIGIN_RUST,
    /// An operating-system call failed.
    Os = sys::BRT_ORIGIN_OS,
    /// Raised by a plugin.
    Plugin = sys::BRT_ORIGIN_PLUGIN,
}

impl Origin {
    /// Every origin, in numeric order.
    pub const ALL: &'static [Origin] = &[Origin::C, Origin::Cpp, Origin::Rust, Origin::Os, Origin::Plugin];

    /// The origin with this C value, or `None` for one this crate does not know.
    pub fn from_raw(raw: sys::brt_origin) -> Option<Origin> {
        Origin::ALL.iter().copied().find(|o| o.raw() == raw)
    }
    /// The C value.
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
