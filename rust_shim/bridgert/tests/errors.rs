//! The error model from Rust: statuses, origins, errors recorded in C and
//! read in Rust, errors recorded from Rust, and the panic boundary.
use std::ffi::CStr;

use bridgert::{catch_panic, status_boundary, sys, Error, Origin, Status};

fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn error_is_send_sync_and_a_std_error() {
    assert_send_sync::<Error>();
    let error: Box<dyn std::error::Error + Send + Sync> =
        Box::new(Error::new(Status::NotFound, "no algorithm named x"));
    assert_eq!(error.to_string(), "BRT_E_NOT_FOUND (rust): no algorithm named x");
}

#[test]
fn status_mirrors_the_c_table_one_to_one() {
    assert_eq!(Status::ALL.len(), sys::BRT_STATUS_COUNT as usize);
    for (number, status) in Status::ALL.iter().enumerate() {
        assert_eq!(status.raw(), number as u32);
        assert_eq!(Status::from_raw(number as u32), Some(*status));
        // SAFETY: known code, static string.
        let c_name = unsafe { CStr::from_ptr(sys::brt_status_name(number as u32)) };
        assert_eq!(status.name(), c_name.to_str().unwrap());
        assert!(status.describe().ends_with('.'), "{status}: {}", status.describe());
    }
    assert_eq!(Status::OutOfRange.name(), "BRT_E_OUT_OF_RANGE");
    assert_eq!(Status::from_raw(sys::BRT_STATUS_COUNT), None);
    assert_eq!(Status::from_raw(u32::MAX), None);
    assert!(Status::Ok.is_ok() && !Status::Internal.is_ok());
}

#[test]
fn origin_mirrors_the_c_table() {
    assert_eq!(Origin::ALL.len(), sys::BRT_ORIGIN_COUNT as usize);
    let names: Vec<_> = Origin::ALL.iter().map(|o| o.name()).collect();
    assert_eq!(names, ["c", "cpp", "rust", "os", "plugin"]);
    assert_eq!(Origin::from_raw(sys::BRT_ORIGIN_COUNT), None);
}

#[test]
fn no_last_error_reads_as_none() {
    // SAFETY: clears this thread's record.
    unsafe { sys::brt_error_clear() };
    assert_eq!(Error::last(), None);
    assert_eq!(Error::take_last(), None);
}

#[test]
fn an_error_set_in_c_arrives_whole() {
    // SAFETY: printf format with matching arguments.
    unsafe {
        sys::brt_error_set(
            sys::BRT_E_OUT_OF_RANGE,
            sys::BRT_ORIGIN_CPP,
            c"std::out_of_range".as_ptr(),
            c"index %d >= size %d".as_ptr(),
            7 as std::ffi::c_int,
            3 as std::ffi::c_int,
        );
    }
    let peeked = Error::last().expect("recorded");
    let error = Error::take_last().expect("still recorded after last()");
    assert_eq!(peeked, error);
    assert_eq!(error.status(), Status::OutOfRange);
    assert_eq!(error.origin(), Origin::Cpp);
    assert_eq!(error.message(), "index 7 >= size 3");
    assert_eq!(error.cpp_type(), Some("std::out_of_range"));
    assert_eq!(error.os_code(), None);
    assert!(error.cause().is_none());
    assert_eq!(error.to_string(), "BRT_E_OUT_OF_RANGE (cpp, std::out_of_range): index 7 >= size 3");
    assert_eq!(Error::take_last(), None, "take_last moves the record out");
}

#[test]
fn the_chain_is_walked_and_searched_by_type() {
    let thrown = Error::new(Status::OutOfRange, "vector::_M_range_check").with_type("std::out_of_range");
    let nested = Error::new(Status::Internal, "while reading row 3")
        .with_type("std::runtime_error")
        .with_cause(thrown);
    let outer = Error::new(Status::OutOfRange, "algorithm 'rows' failed").with_cause(nested);

    let messages: Vec<&str> = outer.causes().map(Error::message).collect();
    assert_eq!(messages, ["while reading row 3", "vector::_M_range_check"]);
    assert_eq!(outer.chain().count(), 3);
    assert_eq!(outer.chain().next().map(Error::message), Some("algorithm 'rows' failed"));
    assert_eq!(outer.causes().last().unwrap().causes().next(), None);

    // cpp_type: own, else the nearest cause's; own_cpp_type: this record only.
    assert_eq!(outer.own_cpp_type(), None);
    assert_eq!(outer.cpp_type(), Some("std::runtime_error"));
    assert_eq!(outer.cause().unwrap().cpp_type(), Some("std::runtime_error"));
    assert_eq!(outer.find_cpp_type("std::out_of_range").map(Error::message), Some("vector::_M_range_check"));
    assert_eq!(outer.find_cpp_type("std::exception"), None);
    assert_eq!(Error::new(Status::Io, "plain").cpp_type(), None);
    // Display shows the record's own type only.
    assert!(!outer.to_string().contains("std::"), "{outer}");

    // The same through C: recorded and read back, the chain is the same.
    assert_eq!(outer.record(), sys::BRT_E_OUT_OF_RANGE);
    let back = Error::take_last().unwrap();
    assert_eq!(back, outer);
    assert_eq!(back.find_cpp_type("std::out_of_range").unwrap().status(), Status::OutOfRange);
}

#[test]
fn an_os_error_keeps_its_code_and_category() {
    // SAFETY: format with a matching argument.
    unsafe { sys::brt_error_set_os(sys::BRT_E_IO, 2, c"open %s".as_ptr(), c"/nonexistent".as_ptr()) };
    let error = Error::take_last().unwrap();
    assert_eq!((error.status(), error.origin()), (Status::Io, Origin::Os));
    assert_eq!(error.os_code(), Some(2));
    assert_eq!(error.os_category(), Some("generic"));
    assert!(error.to_string().contains("os error 2"), "{error}");
}

#[test]
fn causes_and_paths_cross_both_ways() {
    let inner = Error::new(Status::Io, "read failed").with_os_code(5).with_origin(Origin::Os);
    let outer = Error::new(Status::Plugin, "loading plugin m.so failed")
        .with_type("brt::plugin_error")
        .with_cause(inner.clone());
    assert_eq!(outer.record(), sys::BRT_E_PLUGIN);
    let back = Error::take_last().unwrap();
    assert_eq!(back.status(), Status::Plugin);
    assert_eq!(back.message(), "loading plugin m.so failed");
    assert_eq!(back.cpp_type(), Some("brt::plugin_error"));
    let cause = back.cause().expect("cause recorded");
    assert_eq!((cause.status(), cause.os_code(), cause.message()), (Status::Io, Some(5), "read failed"));
    let source = std::error::Error::source(&back).expect("source is the cause");
    assert_eq!(source.to_string(), cause.to_string());

    let mut info: sys::brt_error_info = unsafe { std::mem::zeroed() };
    info.struct_size = std::mem::size_of::<sys::brt_error_info>() as u32;
    info.code = sys::BRT_E_IO;
    info.origin = sys::BRT_ORIGIN_OS;
    info.message = c"rename failed".as_ptr();
    info.path1 = c"/tmp/a".as_ptr();
    info.path2 = c"/tmp/b".as_ptr();
    info.os_code = 18;
    // SAFETY: a fully initialised info with static strings.
    assert_eq!(unsafe { sys::brt_error_record(&info) }, sys::BRT_E_IO);
    let error = Error::take_last().unwrap();
    assert_eq!(error.paths(), ["/tmp/a", "/tmp/b"]);
    assert_eq!(error.os_code(), Some(18));
}

#[test]
fn a_status_without_a_matching_record_is_still_an_error() {
    // SAFETY: clears this thread's record.
    unsafe { sys::brt_error_clear() };
    let error = Error::from_status(sys::BRT_E_TIMEOUT);
    assert_eq!(error.status(), Status::Timeout);
    assert!(error.message().contains("without recording an error"), "{}", error.message());

    // A stale record of another status is not mistaken for this failure.
    Error::new(Status::Exists, "stale").record();
    let error = Error::from_status(sys::BRT_E_NOT_FOUND);
    assert_eq!(error.status(), Status::NotFound);
    assert_ne!(error.message(), "stale");

    // A code from a newer library keeps its number.
    let error = Error::from_status(999);
    assert_eq!((error.status(), error.raw_status()), (Status::Internal, 999));
    assert!(error.to_string().starts_with("BRT_E_UNKNOWN(999)"), "{error}");

    let error = Error::from_null("brt_alloc");
    assert_eq!(error.status(), Status::Internal);
    assert!(error.message().contains("brt_alloc returned NULL"));
}

#[test]
fn recording_an_ok_error_is_refused_by_c() {
    assert_eq!(Error::new(Status::Ok, "not an error").record(), sys::BRT_E_INVALID_ARGUMENT);
    assert_eq!(Error::take_last().unwrap().status(), Status::InvalidArgument);
}

#[test]
fn a_message_with_nul_bytes_is_recorded_readably() {
    Error::new(Status::Conversion, "bad\0byte").record();
    assert_eq!(Error::take_last().unwrap().message(), "bad\u{FFFD}byte");
}

#[test]
fn errors_cross_threads() {
    let error = std::thread::spawn(|| {
        Error::new(Status::Timeout, "deadline 5 ms passed").record();
        Error::take_last().unwrap()
    })
    .join()
    .unwrap();
    assert_eq!(error.status(), Status::Timeout);
}

#[test]
fn panics_become_rust_panic_errors() {
    let error = catch_panic(|| -> bridgert::Result<()> { panic!("index {} out of bounds", 9) }).unwrap_err();
    assert_eq!((error.status(), error.origin()), (Status::RustPanic, Origin::Rust));
    assert_eq!(error.message(), "Rust panicked: index 9 out of bounds");

    let error = catch_panic(|| -> bridgert::Result<()> { panic!("static text") }).unwrap_err();
    assert_eq!(error.message(), "Rust panicked: static text");

    let error = catch_panic(|| -> bridgert::Result<()> { std::panic::panic_any(42_u8) }).unwrap_err();
    assert!(error.message().contains("not a string"), "{}", error.message());

    assert_eq!(catch_panic(|| Ok(5)).unwrap(), 5);
    let error = catch_panic(|| -> bridgert::Result<()> { Err(Error::new(Status::Validation, "no")) });
    assert_eq!(error.unwrap_err().status(), Status::Validation);
}

/// An `extern "C"` entry point written the way the crate writes its own.
extern "C" fn entry(should_panic: bool) -> sys::brt_status {
    status_boundary(|| {
        if should_panic {
            panic!("boom in entry");
        }
        Ok(())
    })
}

#[test]
fn an_extern_c_entry_returns_a_status_instead_of_unwinding() {
    // SAFETY: clears this thread's record.
    unsafe { sys::brt_error_clear() };
    assert_eq!(entry(false), sys::BRT_OK);
    assert_eq!(Error::last(), None);
    assert_eq!(entry(true), sys::BRT_E_RUST_PANIC);
    // SAFETY: the record exists until this thread records again.
    let recorded = unsafe { sys::brt_last_error() };
    assert!(!recorded.is_null());
    unsafe {
        assert_eq!(sys::brt_error_origin(recorded), sys::BRT_ORIGIN_RUST);
        assert_eq!(
            CStr::from_ptr(sys::brt_error_message(recorded)).to_str().unwrap(),
            "Rust panicked: boom in entry"
        );
        assert!(sys::brt_error_type(recorded).is_null(), "a Rust panic has no C++ type");
    }
}

#[test]
fn the_loaded_library_matches_the_crate() {
    bridgert::check_abi().unwrap();
    assert_eq!(bridgert::version(), (0, 1, 0));
    assert_eq!(bridgert::version_string(), "0.1.0");
}
