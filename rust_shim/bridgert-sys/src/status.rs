//! bridgert/status.h: status codes and origins.
use core::ffi::{c_char, c_uint};

/// `brt_status`: numeric values are stable and never reused.
pub type brt_status = c_uint;
/// The operation succeeded.
pub const BRT_OK: brt_status = 0;
/// An argument was missing, malformed or outside its documented range.
pub const BRT_E_INVALID_ARGUMENT: brt_status = 1;
/// The system could not provide the memory the operation needed.
pub const BRT_E_OUT_OF_MEMORY: brt_status = 2;
/// The operation would exceed a configured limit (memory, size or depth).
pub const BRT_E_LIMIT_EXCEEDED: brt_status = 3;
/// The pointer is not the start of a live block of the bridgert allocator.
pub const BRT_E_INVALID_POINTER: brt_status = 4;
/// The block was already freed; it was released once too often.
pub const BRT_E_DOUBLE_FREE: brt_status = 5;
/// The size or alignment given does not match the block's layout.
pub const BRT_E_LAYOUT_MISMATCH: brt_status = 6;
/// A value or block has a different type than the operation expects.
pub const BRT_E_TYPE_MISMATCH: brt_status = 7;
/// An index, key or number lies outside the valid range.
pub const BRT_E_OUT_OF_RANGE: brt_status = 8;
/// The named item (algorithm, plugin, file or key) does not exist.
pub const BRT_E_NOT_FOUND: brt_status = 9;
/// An item with that name already exists.
pub const BRT_E_EXISTS: brt_status = 10;
/// The input does not satisfy the schema it was checked against.
pub const BRT_E_VALIDATION: brt_status = 11;
/// The data could not be converted between representations.
pub const BRT_E_CONVERSION: brt_status = 12;
/// C++ code threw an exception that was caught at the boundary.
pub const BRT_E_CPP_EXCEPTION: brt_status = 13;
/// Rust code panicked; the panic was caught at the boundary.
pub const BRT_E_RUST_PANIC: brt_status = 14;
/// The operation did not finish before its deadline.
pub const BRT_E_TIMEOUT: brt_status = 15;
/// The isolated code crashed; its process was lost.
pub const BRT_E_CRASHED: brt_status = 16;
/// The algorithm is isolated after repeated failures; calls fail fast until it is probed again.
pub const BRT_E_ISOLATED: brt_status = 17;
/// An operating-system input/output call failed.
pub const BRT_E_IO: brt_status = 18;
/// A plugin could not be loaded or is malformed.
pub const BRT_E_PLUGIN: brt_status = 19;
/// Two parts were built for incompatible ABI versions.
pub const BRT_E_ABI_MISMATCH: brt_status = 20;
/// The operation is not permitted (ownership, mode or configured policy).
pub const BRT_E_PERMISSION: brt_status = 21;
/// The operation is not supported in this configuration or on this platform.
pub const BRT_E_UNSUPPORTED: brt_status = 22;
/// bridgert found its own state inconsistent; please report this as a bug.
pub const BRT_E_INTERNAL: brt_status = 23;
/// Not a status: the number of codes these declarations know.
pub const BRT_STATUS_COUNT: brt_status = 24;

/// `brt_origin`: where an error was first raised.
pub type brt_origin = c_uint;
/// Raised by C code (the library itself or a C caller).
pub const BRT_ORIGIN_C: brt_origin = 0;
/// A C++ exception caught at a boundary.
pub const BRT_ORIGIN_CPP: brt_origin = 1;
/// Raised by Rust code, or a caught panic.
pub const BRT_ORIGIN_RUST: brt_origin = 2;
/// An operating-system call failed (errno).
pub const BRT_ORIGIN_OS: brt_origin = 3;
/// Raised by a plugin.
pub const BRT_ORIGIN_PLUGIN: brt_origin = 4;
/// Not an origin: the number of origins.
pub const BRT_ORIGIN_COUNT: brt_origin = 5;

extern "C" {
    /// The code's name, e.g. "BRT_E_OUT_OF_RANGE".
    pub fn brt_status_name(status: brt_status) -> *const c_char;
    /// One sentence describing the code.
    pub fn brt_status_describe(status: brt_status) -> *const c_char;
    /// The origin's short name ("c", "cpp", "rust", "os", "plugin"), or "unknown".
    pub fn brt_origin_name(origin: brt_origin) -> *const c_char;
}
