//! Rust functions registered as algorithms and called through the C entry
//! point the runtime stores (`value_fn`, `ctx`), exactly as the runtime's
//! value calls invoke them: results, Rust errors and panics arrive as
//! statuses and recorded errors, never as unwinding.
use std::ffi::{c_int, c_void};
use std::ptr;

use bridgert::{sys, Config, Error, Origin, Runtime, Status, Value};

mod common;
use common::scale;

struct Entry {
    name: &'static str,
    found: Option<(sys::brt_value_fn, *mut c_void)>,
}

unsafe extern "C" fn find_entry(ctx: *mut c_void, algorithm: *const sys::brt_algorithm) -> c_int {
    let entry = &mut *ctx.cast::<Entry>();
    let algorithm = &*algorithm;
    if std::ffi::CStr::from_ptr(algorithm.name).to_str() == Ok(entry.name) {
        entry.found = Some((algorithm.value_fn, algorithm.ctx));
        return 1;
    }
    0
}

/// Calls algorithm `name` the way the runtime does: its value_fn with its ctx.
fn call_as_c(
    runtime: &Runtime,
    name: &'static str,
    params: &Value,
) -> (sys::brt_status, *mut sys::brt_value) {
    let mut entry = Entry { name, found: None };
    // SAFETY: the visitor only writes `entry`, which outlives the call.
    let status = unsafe {
        sys::brt_algorithms_list(runtime.as_raw(), Some(find_entry), (&mut entry as *mut Entry).cast())
    };
    assert_eq!(status, sys::BRT_OK);
    let (value_fn, ctx) = entry.found.expect("registered");
    let mut result = ptr::null_mut();
    // SAFETY: the registered entry point with its own context.
    let status = unsafe { value_fn.expect("a value function")(ctx, params.as_raw(), &mut result) };
    (status, result)
}

fn runtime_with_scale() -> Runtime {
    let runtime = Runtime::open_with(&Config::new()).unwrap();
    runtime.register_fn("scale", None, scale).unwrap();
    runtime
}

#[test]
fn a_rust_function_answers_c_callers() {
    let runtime = runtime_with_scale();
    let params = Value::from_json(r#"{"values": [1, 2.5], "factor": 2}"#).unwrap();
    let (status, result) = call_as_c(&runtime, "scale", &params);
    assert_eq!(status, sys::BRT_OK);
    // SAFETY: the caller of value_fn owns the result.
    let result = unsafe { Value::from_raw(result) }.unwrap();
    assert_eq!(result.to_json().unwrap(), "[2.0,5.0]");
    assert_eq!(params.refcount(), 1, "params are borrowed, not kept");

    let listed = runtime.algorithms().unwrap();
    let scale = listed.iter().find(|a| a.name == "scale").expect("listed");
    assert!(scale.callable_with_values && scale.signature.is_none());
    assert_eq!(scale.version, "1.0.0");
}

#[test]
fn rust_errors_and_panics_become_statuses_with_recorded_errors() {
    let runtime = runtime_with_scale();
    let (status, _) =
        call_as_c(&runtime, "scale", &Value::from_json(r#"{"values": [1], "factor": 0}"#).unwrap());
    assert_eq!(status, sys::BRT_E_OUT_OF_RANGE);
    let error = Error::take_last().unwrap();
    assert_eq!((error.status(), error.origin()), (Status::OutOfRange, Origin::Rust));
    assert!(error.message().contains("factor 0"), "{error}");

    let (status, _) =
        call_as_c(&runtime, "scale", &Value::from_json(r#"{"values": [1], "factor": -1}"#).unwrap());
    assert_eq!(status, sys::BRT_E_RUST_PANIC);
    let error = Error::take_last().unwrap();
    assert_eq!(error.message(), "Rust panicked: negative factor -1");

    let (status, _) =
        call_as_c(&runtime, "scale", &Value::from_json(r#"{"values": "x", "factor": 1}"#).unwrap());
    assert_eq!(status, sys::BRT_E_TYPE_MISMATCH, "the function's own ? on a wrong kind");

    // The function still works after one of its calls panicked.
    let (status, result) =
        call_as_c(&runtime, "scale", &Value::from_json(r#"{"values": [1], "factor": 3}"#).unwrap());
    assert_eq!(status, sys::BRT_OK);
    assert_eq!(unsafe { Value::from_raw(result) }.unwrap().to_json().unwrap(), "[3.0]");
}

#[test]
fn registration_errors() {
    let runtime = runtime_with_scale();
    runtime.register_fn("scale@2.0.0", None, |_| Value::int(2)).unwrap();
    assert_eq!(runtime.register_fn("scale", None, |_| Value::null()).unwrap_err().status(), Status::Exists);
    let error = runtime.register_fn("Bad Name!", None, |_| Value::null()).unwrap_err();
    assert_eq!(error.status(), Status::InvalidArgument, "{error}");
    assert_eq!(
        runtime.register_fn("x@not-a-version", None, |_| Value::null()).unwrap_err().status(),
        Status::InvalidArgument
    );
    assert_eq!(
        runtime.register_fn("z\0", None, |_| Value::null()).unwrap_err().status(),
        Status::InvalidArgument
    );
    runtime.unregister("scale@2.0.0").unwrap();
}
