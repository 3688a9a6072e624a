//! bridgert/version.h: header and library versions.
use core::ffi::{c_char, c_uint};

/// The version of the headers these declarations were written against.
pub const BRT_VERSION_MAJOR: c_uint = 0;
pub const BRT_VERSION_MINOR: c_uint = 1;
pub const BRT_VERSION_PATCH: c_uint = 0;
pub const BRT_ABI_VERSION: c_uint = 1;
pub const BRT_VERSION_HEX: c_uint = (BRT_VERSION_MAJOR << 16) | (BRT_VERSION_MINOR << 8) | BRT_VERSION_PATCH;

extern "C" {
    pub fn brt_version() -> c_uint;
    pub fn brt_version_string() -> *const c_char;
    pub fn brt_abi_version() -> c_uint;
}
