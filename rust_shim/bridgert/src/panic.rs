//! The panic boundary: nothing unwinds into C.
//!
//! Every `extern "C"` function this crate hands to C (registered algorithms,
//! callbacks) runs its Rust body through `catch_panic`, and a panic becomes
//! an `Error` with `Status::RustPanic` carrying the panic's message. Rust
//! authors writing their own `extern "C"` entry points use the same helpers.
//! Built with `panic = "abort"` there is nothing to catch: the process ends,
//! as that setting asks.
use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

use bridgert_sys as sys;

use crate::error::{Error, Result};
use crate::status::{Origin, Status};

/// The text of a panic payload (`panic!("...")` gives a `&str` or a `String`).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "the panic carried a payload that is not a string".to_owned()
    }
}

/// The `Error` a panic becomes: `RustPanic`, origin `Rust`, the panic's message.
pub fn panic_error(payload: &(dyn Any + Send)) -> Error {
    Error::new(Status::RustPanic, format!("Rust panicked: {}", panic_message(payload)))
        .with_origin(Origin::Rust)
}

/// Runs `body`; a panic inside becomes `Err` with `Status::RustPanic`.
///
/// The closure is treated as unwind-safe: after a panic its captured state
/// may be half-updated, which is the caller's to judge (a registered
/// algorithm keeps being called after one of its calls panicked).
pub fn catch_panic<T>(body: impl FnOnce() -> Result<T>) -> Result<T> {
    panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| Err(panic_error(&*payload)))
}

/// For an `extern "C"` function that returns a `brt_status`: runs `body`
/// under `catch_panic`, records the error (if any) as the thread's last C
/// error and returns its status, `BRT_OK` on success.
pub fn status_boundary(body: impl FnOnce() -> Result<()>) -> sys::brt_status {
    match catch_panic(body) {
        Ok(()) => sys::BRT_OK,
        Err(error) => error.record(),
    }
}
