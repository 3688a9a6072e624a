//! bridgert/status.h: status codes and origins.
use core::ffi::{c_char, c_uint};

/// `brt_status`: numeric values are stable and never reused.
pub type brt_status = c_uint;
pub const BRT_OK: brt_status = 0;
pub const BRT_E_INVALID_ARGUMENT: brt_status = 1;
pub const BRT_E_OUT_OF_MEMORY: brt_status = 2;
pub const BRT_E_LIMIT_EXCEEDED: brt_status = 3;
pub const BRT_E_INVALID_POINTER: brt_status = 4;
pub const BRT_E_DOUBLE_FREE: brt_status = 5;
pub const BRT_E_LAYOUT_MISMATCH: brt_status = 6;
pub const BRT_E_TYPE_MISMATCH: brt_status = 7;
pub const BRT_E_OUT_OF_RANGE: brt_status = 8;
pub const BRT_E_NOT_FOUND: brt_status = 9;
pub const BRT_E_EXISTS: brt_status = 10;
pub const BRT_E_VALIDATION: brt_status = 11;
pub const BRT_E_CONVERSION: brt_status = 12;
pub const BRT_E_CPP_EXCEPTION: brt_status = 13;
pub const BRT_E_RUST_PANIC: brt_status = 14;
pub const BRT_E_TIMEOUT: brt_status = 15;
pub const BRT_E_CRASHED: brt_status = 16;
pub const BRT_E_ISOLATED: brt_status = 17;
pub const BRT_E_IO: brt_status = 18;
pub const BRT_E_PLUGIN: brt_status = 19;
pub const BRT_E_ABI_MISMATCH: brt_status = 20;
pub const BRT_E_PERMISSION: brt_status = 21;
pub const BRT_E_UNSUPPORTED: brt_status = 22;
pub const BRT_E_INTERNAL: brt_status = 23;
/// Not a status: the number of codes these declarations know.
pub const BRT_STATUS_COUNT: brt_status = 24;

/// `brt_origin`: where an error was first raised.
pub type brt_origin = c_uint;
pub const BRT_ORIGIN_C: brt_origin = 0;
pub const BRT_ORIGIN_CPP: brt_origin = 1;
pub const BRT_ORIGIN_RUST: brt_origin = 2;
pub const BRT_ORIGIN_OS: brt_origin = 3;
pub const BRT_ORIGIN_PLUGIN: brt_origin = 4;
/// Not an origin: the number of origins.
pub const BRT_ORIGIN_COUNT: brt_origin = 5;

extern "C" {
    pub fn brt_status_name(status: brt_status) -> *const c_char;
    pub fn brt_status_describe(status: brt_status) -> *const c_char;
    pub fn brt_origin_name(origin: brt_origin) -> *const c_char;
}
