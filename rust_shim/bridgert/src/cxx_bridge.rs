//! `cxx::Exception` -> `Error` (feature "cxx").
//!
//! With the C++ shim's <bridgert/cxx_trycatch.hpp> in a #[cxx::bridge]'s C++
//! (bridgert-build force-includes it), a C++ exception escaping a bridged
//! function is recorded as the thread's full brt_error before cxx hands Rust
//! an `Exception` carrying its message. The conversion takes that record
//! back (same thread, nothing recorded in between), so the status, the C++
//! type, the OS code and the causes arrive.
//!
//! Without the header cxx's default handler keeps only the message. That is
//! a link error here, not a silent downgrade: the conversion reads a byte
//! only the header defines (`bridgert_cxx_bridge_needs_cxx_trycatch_hpp`).
//! Should a record still be missing (a bridge whose header was left out of
//! one file), the result is CppException with the message and no type.
use crate::error::Error;
use crate::status::{Origin, Status};

extern "C" {
    /// Defined (weak, value 1) by every C++ file that includes
    /// <bridgert/cxx_trycatch.hpp>.
    static bridgert_cxx_bridge_needs_cxx_trycatch_hpp: u8;
}

impl From<cxx::Exception> for Error {
    fn from(exception: cxx::Exception) -> Error {
        // SAFETY: a constant byte the header defines. The volatile read keeps
        // the reference, and so the link-time check, in optimised builds.
        let _ = unsafe {
            std::ptr::read_volatile(std::ptr::addr_of!(bridgert_cxx_bridge_needs_cxx_trycatch_hpp))
        };
        let what = exception.what();
        match Error::last() {
            Some(recorded) if recorded.message() == what => Error::take_last().unwrap_or(recorded),
            _ => Error::new(Status::CppException, what).with_origin(Origin::Cpp),
        }
    }
}
