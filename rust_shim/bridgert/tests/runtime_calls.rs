//! Rust functions registered as algorithms, called by name from Rust and
//! from C, with every error path: schema violations, Rust errors, panics.
use std::ffi::CStr;
use std::ptr;

use bridgert::{sys, Config, Origin, Runtime, Status, Value};

mod common;
use common::scale;

const SCALE_SCHEMA: &str = r#"{"type": "object", "required": ["values", "factor"],
  "properties": {"values": {"type": "array", "items": {"type": "number"}}, "factor": {"type": "number"}}}"#;

fn runtime_with_scale() -> Runtime {
    let runtime = Runtime::open_with(&Config::new()).unwrap();
    runtime.register_fn("scale", Some(SCALE_SCHEMA), scale).unwrap();
    runtime
}

#[test]
fn a_rust_function_is_an_algorithm() {
    let runtime = runtime_with_scale();
    let result =
        runtime.call("scale", &Value::from_json(r#"{"values": [1, 2.5], "factor": 2}"#).unwrap()).unwrap();
    assert_eq!(result.to_json().unwrap(), "[2.0,5.0]");
    let text = runtime.call_json("scale", r#"{"values": [3], "factor": 0.5}"#).unwrap();
    assert_eq!(text, "[1.5]");
    let listed = runtime.algorithms().unwrap();
    let scale = listed.iter().find(|a| a.name == "scale").expect("listed");
    assert!(scale.callable_with_values && scale.signature.is_none());
    assert_eq!(scale.version, "1.0.0");
    runtime.register_fn("scale@2.0.0", None, |_| Value::int(2)).unwrap();
    assert_eq!(runtime.register_fn("scale", None, |_| Value::null()).unwrap_err().status(), Status::Exists);
    assert_eq!(
        runtime.register_fn("Bad Name!", None, |_| Value::null()).unwrap_err().status(),
        Status::InvalidArgument
    );
    // runtime.h says VALIDATION; the registry passes the schema compiler's
    // INVALID_ARGUMENT through. Either way the message and the cause say why.
    let error = runtime.register_fn("x", Some("{\"minItems\": -1}"), |_| Value::null()).unwrap_err();
    assert!(matches!(error.status(), Status::Validation | Status::InvalidArgument), "{error}");
    assert!(error.message().contains("does not compile") && error.message().contains("minItems"), "{error}");
}

#[test]
fn errors_of_rust_algorithms_reach_the_caller_whole() {
    let runtime = runtime_with_scale();
    let error = runtime.call_json("scale", r#"{"values": ["x"], "factor": 2}"#).unwrap_err();
    assert_eq!(error.status(), Status::Validation);
    assert!(error.message().contains("/values/0"), "{}", error.message());

    let error = runtime.call_json("scale", r#"{"values": [1], "factor": 0}"#).unwrap_err();
    let rust_error = error
        .chain()
        .find(|e| e.origin() == Origin::Rust)
        .unwrap_or_else(|| panic!("the Rust error is the error or a cause: {error}"));
    assert_eq!(rust_error.status(), Status::OutOfRange);
    assert!(rust_error.message().contains("factor 0"), "{rust_error}");

    let error = runtime.call_json("scale", r#"{"values": [1], "factor": -1}"#).unwrap_err();
    let panic = error
        .chain()
        .find(|e| e.status() == Status::RustPanic)
        .unwrap_or_else(|| panic!("the panic is the error or a cause: {error}"));
    assert!(panic.message().contains("negative factor -1"), "{panic}");

    assert_eq!(runtime.call_json("nope", "{}").unwrap_err().status(), Status::NotFound);
    assert_eq!(runtime.call_json("scale", "{not json").unwrap_err().status(), Status::Conversion);
    // The runtime still works after a panic in one of its algorithms.
    assert_eq!(runtime.call_json("scale", r#"{"values": [1], "factor": 3}"#).unwrap(), "[3.0]");
}

#[test]
fn the_outer_error_of_an_algorithm_has_the_type_of_its_cause() {
    let runtime = Runtime::open_with(&Config::new()).unwrap();
    runtime
        .register_fn("typed_failure", None, |_| {
            Err(bridgert::Error::new(Status::OutOfRange, "index 7 >= size 3")
                .with_origin(Origin::Cpp)
                .with_type("std::out_of_range"))
        })
        .unwrap();
    let error = runtime.call_json("typed_failure", "{}").unwrap_err();
    let thrown = error.find_cpp_type("std::out_of_range").unwrap_or_else(|| panic!("found in {error}"));
    assert_eq!(thrown.message(), "index 7 >= size 3");
    assert_eq!(error.cpp_type(), Some("std::out_of_range"), "{error}");
    assert!(error.find_cpp_type("std::logic_error").is_none(), "exact names, not base classes");
    if !std::ptr::eq(thrown, &error) {
        // Wrapped by the runtime: the type is the cause's, not the record's own.
        assert_eq!(error.own_cpp_type(), None, "{error}");
        assert!(error.causes().any(|cause| std::ptr::eq(cause, thrown)));
    }
}

#[test]
fn c_callers_reach_rust_algorithms() {
    let runtime = runtime_with_scale();
    let params = Value::from_json(r#"{"values": [4], "factor": 0.25}"#).unwrap();
    let mut result = ptr::null_mut();
    // SAFETY: the C API as a C or C++ host calls it.
    let status = unsafe { sys::brt_call(runtime.as_raw(), c"scale".as_ptr(), params.as_raw(), &mut result) };
    assert_eq!(status, sys::BRT_OK);
    let result = unsafe { Value::from_raw(result) }.unwrap();
    assert_eq!(result.to_json().unwrap(), "[1.0]");

    let params = Value::from_json(r#"{"values": [4], "factor": -2}"#).unwrap();
    let mut result = ptr::null_mut();
    let status = unsafe { sys::brt_call(runtime.as_raw(), c"scale".as_ptr(), params.as_raw(), &mut result) };
    assert_ne!(status, sys::BRT_OK, "a panic is a status for C, never an unwind");
    let message = unsafe { CStr::from_ptr(sys::brt_error_message(sys::brt_last_error())) };
    assert!(!message.to_bytes().is_empty());
}

#[test]
fn rust_algorithms_run_on_many_threads() {
    let runtime = runtime_with_scale();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let runtime = &runtime;
            scope.spawn(move || {
                for i in 0..200 {
                    let text = runtime
                        .call_json("scale", &format!(r#"{{"values": [{i}], "factor": {}}}"#, t + 1))
                        .unwrap();
                    assert_eq!(text, format!("[{:.1}]", (i * (t + 1)) as f64));
                }
            });
        }
    });
}
