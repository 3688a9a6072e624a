//! Versions of the library loaded at run time and of the headers this crate
//! was written against.
use std::ffi::CStr;

use bridgert_sys as sys;

use crate::error::{Error, Result};
use crate::status::Status;

/// The library's version, "MAJOR.MINOR.PATCH" (`brt_version_string`).
pub fn version_string() -> &'static str {
    // SAFETY: a static string of the library.
    unsafe { CStr::from_ptr(sys::brt_version_string()) }.to_str().unwrap_or("")
}

/// The library's version as (major, minor, patch).
pub fn version() -> (u32, u32, u32) {
    // SAFETY: no arguments.
    let hex = unsafe { sys::brt_version() };
    (hex >> 16, (hex >> 8) & 0xff, hex & 0xff)
}

/// `AbiMismatch` when the loaded library implements another ABI than the one
/// these declarations describe. The symbol version node (`BRIDGERT_<abi>`)
/// already stops a mismatched library at load time; this names it in words.
pub fn check_abi() -> Result<()> {
    // SAFETY: no arguments.
    let loaded = unsafe { sys::brt_abi_version() };
    if loaded == sys::BRT_ABI_VERSION {
        Ok(())
    } else {
        Err(Error::new(
            Status::AbiMismatch,
            format!(
                "libbridgert implements ABI {loaded}, the bridgert crate was built for ABI {}",
                sys::BRT_ABI_VERSION
            ),
        ))
    }
}
