//! `cxx::Exception` -> `Error` (feature "cxx").
//!
//! With the C++ shim's <bridgert/cxx_trycatch.hpp> included by a
//! #[cxx::bridge], a C++ exception escaping a bridged function is recorded
//! as the thread's full brt_error before cxx hands Rust an `Exception`
//! carrying its message. The
//! conversion takes that record back (same thread, nothing recorded in
//! between), so the status, the C++ type, the OS code and the causes arrive.
//! Without the header (cxx's default trycatch) only the message exists: the
//! result is then CPP_EXCEPTION with that message and no type.
use crate::error::Error;
use crate::status::{Origin, Status};

impl From<cxx::Exception> for Error {
    fn from(exception: cxx::Exception) -> Error {
        let what = exception.what();
        match Error::last() {
            Some(recorded) if recorded.message() == what => Error::take_last().unwrap_or(recorded),
            _ => Error::new(Status::CppException, what).with_origin(Origin::Cpp),
        }
    }
}
