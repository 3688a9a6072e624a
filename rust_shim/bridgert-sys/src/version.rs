//! bridgert/version.h: header and library versions.
use core::ffi::{c_char, c_uint};

/// The major version of the headers these declarations were written against.
pub const BRT_VERSION_MAJOR: c_uint = 0;
/// The minor version of the headers.
pub const BRT_VERSION_MINOR: c_uint = 1;
/// The patch version of the headers.
pub const BRT_VERSION_PATCH: c_uint = 0;
/// The ABI version of the headers (`brt_abi_version()` gives the library's).
pub const BRT_ABI_VERSION: c_uint = 1;
/// `0xMMmmpp`: major, minor and patch in one number.
pub const BRT_VERSION_HEX: c_uint = (BRT_VERSION_MAJOR << 16) | (BRT_VERSION_MINOR << 8) | BRT_VERSION_PATCH;

extern "C" {
    /// The library's version as BRT_VERSION_HEX would compute it.
    pub fn brt_version() -> c_uint;
    /// The library's version as "MAJOR.MINOR.PATCH"; a static string.
    pub fn brt_version_string() -> *const c_char;
    /// The ABI version the library implements (BRT_ABI_VERSION at its build).
    pub fn brt_abi_version() -> c_uint;
}
