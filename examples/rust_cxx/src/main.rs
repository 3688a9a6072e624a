//! Rust and C++ on one allocator and one error model, through cxx.
//!
//! Every Rust allocation of this program is a bridgert block (the global
//! allocator), and the C++ half allocates with brt::allocator, so:
//! 1. C++ fills a Vec Rust allocated, in place, and keeps (retains) it after
//!    the Vec is dropped — the block lives until C++ releases it;
//! 2. C++ returns a buffer it allocated and Rust frees it (Buffer::from_raw);
//! 3. a std::out_of_range thrown in C++ arrives as Err(e) with
//!    e.status() == Status::OutOfRange and e.cpp_type() == Some("std::out_of_range");
//! 4. the examples' plugin is called through Runtime: matrix_multiplication
//!    by value, dot by a typed prepared handle on Rust blocks, and fail,
//!    whose std::out_of_range arrives through the runtime's boundary;
//! 5. the memory statistics by type show both languages' blocks.
//!
//! Any deviation ends the program with a failure status and the full error.
use std::ffi::CStr;
use std::process::ExitCode;

use bridgert::{block_info, mem_stats, Block, Buffer, Error, MemType, Runtime, Status, Value};

#[global_allocator]
static ALLOCATOR: bridgert::Allocator = bridgert::Allocator;

mod ffi;

/// `Err(Internal)` naming what did not hold.
fn expect(holds: bool, what: impl FnOnce() -> String) -> bridgert::Result<()> {
    if holds {
        Ok(())
    } else {
        Err(Error::new(Status::Internal, format!("expectation failed: {}", what())))
    }
}

fn rust_buffer_filled_and_kept_by_cpp() -> bridgert::Result<()> {
    let mut data = vec![0u8; 4096];
    let info = block_info(data.as_ptr())?;
    expect(info.mem_type == Some(MemType::RustHeap), || format!("a Vec is a RUST_HEAP block: {info:?}"))?;
    ffi::fill_and_keep(&mut data, 3)?;
    expect(data[10] == 13, || format!("C++ filled the Vec in place: data[10] = {}", data[10]))?;
    let expected: u64 = data.iter().map(|b| u64::from(*b)).sum();
    let address = data.as_ptr();
    drop(data);
    let kept = block_info(address)?;
    expect(kept.refcount == 1, || format!("after Rust's drop only C++'s reference is left: {kept:?}"))?;
    let sum = ffi::kept_sum()?;
    expect(sum == expected, || format!("C++ still reads the bytes: sum {sum}, expected {expected}"))?;
    ffi::release_kept()?;
    expect(block_info(address).is_err(), || "C++'s release freed the block".into())?;
    println!("1. C++ filled a Rust Vec in place and kept it past the Vec's drop (sum {sum})");

    // A slice that does not start a block cannot be retained: brt::check
    // throws brt::error, which arrives with the allocator's own status.
    #[allow(clippy::useless_vec)] // a heap block on purpose: a slice into a bridgert block
    let mut other = vec![0u8; 64];
    let error = Error::from(ffi::fill_and_keep(&mut other[8..], 1).unwrap_err());
    expect(error.status() == Status::InvalidPointer, || format!("interior pointer refused: {error}"))?;
    println!("   retaining an interior pointer fails: {error}");
    Ok(())
}

fn cpp_buffer_freed_by_rust() -> bridgert::Result<()> {
    let before = mem_stats().live_bytes_of(MemType::CppHeap);
    // SAFETY: make_cpp_buffer hands over one reference to a block of 1000 bytes.
    let buffer = unsafe { Buffer::from_raw(ffi::make_cpp_buffer(1000)?, 1000)? };
    expect(buffer.mem_type() == Some(MemType::CppHeap), || "brt::allocator makes CPP_HEAP blocks".into())?;
    expect(buffer[999] == (999 % 256) as u8, || "the bytes C++ wrote".into())?;
    let during = mem_stats().live_bytes_of(MemType::CppHeap);
    drop(buffer);
    let after = mem_stats().live_bytes_of(MemType::CppHeap);
    expect(during >= before + 1000 && after + 1000 <= during, || {
        format!("CPP_HEAP bytes {before} -> {during} -> {after}")
    })?;
    println!("2. Rust freed a buffer C++ allocated with brt::allocator (CPP_HEAP {during} -> {after} bytes)");
    Ok(())
}

fn cpp_exception_as_rust_error() -> bridgert::Result<()> {
    expect(ffi::checked_at(&[1, 2, 3], 2)? == 3, || "values.at(2)".into())?;
    let error: Error = ffi::checked_at(&[1, 2, 3], 7).unwrap_err().into();
    expect(error.status() == Status::OutOfRange, || format!("status of {error}"))?;
    expect(error.cpp_type() == Some("std::out_of_range"), || format!("type of {error}"))?;
    expect(error.origin() == bridgert::Origin::Cpp, || format!("origin of {error}"))?;
    println!("3. std::out_of_range arrived as {error}");
    Ok(())
}

fn plugin_through_runtime() -> bridgert::Result<()> {
    let plugin_dir = std::env::var_os("BRIDGERT_EXAMPLE_PLUGIN_DIR").ok_or_else(|| {
        Error::new(Status::InvalidArgument, "BRIDGERT_EXAMPLE_PLUGIN_DIR is not set (meson sets it)")
    })?;
    let runtime = Runtime::open()?;
    runtime.load_plugin_dir(&plugin_dir)?;

    // A value call with JSON-shaped parameters built in Rust.
    let params = Value::from_json(r#"{"matrix_a": [[1, 2], [3, 4]], "matrix_b": [[5, 6], [7, 8]]}"#)?;
    let product = runtime.call("matrix_multiplication", &params)?;
    let text = product.to_json()?;
    let numbers: Vec<f64> = (0..2)
        .flat_map(|i| (0..2).map(move |j| (i, j)))
        .map(|(i, j)| product.get(i)?.get(j)?.as_number())
        .collect::<bridgert::Result<_>>()?;
    expect(numbers == [19.0, 22.0, 43.0, 50.0], || format!("product {text}"))?;
    let error = runtime
        .call_json("matrix_multiplication", r#"{"matrix_a": [[1, 2, 3]], "matrix_b": [[1, 2]]}"#)
        .unwrap_err();
    expect(error.status() == Status::InvalidArgument, || format!("shape mismatch: {error}"))?;
    println!("4. matrix_multiplication through Runtime: {text}\n   mismatched shapes: {error}");

    // A native call on two blocks Rust allocated, signature checked first.
    let a = Block::<f64>::from_slice(&[1.0, 2.0, 3.0])?;
    let b = Block::<f64>::from_slice(&[4.0, 5.0, 6.0])?;
    let dot = runtime.prepare("dot")?;
    let value: f64 = dot.invoke((a.as_ptr(), b.as_ptr(), a.len() as u64))?;
    expect(value == 32.0, || format!("dot = {value}"))?;
    let wrong = dot.invoke::<(*const f64, u64), f64>((a.as_ptr(), 3)).unwrap_err();
    expect(wrong.status() == Status::TypeMismatch, || format!("signature check: {wrong}"))?;
    println!("   dot through a prepared handle: {value}; wrong Rust types: {wrong}");

    // A C++ exception inside a plugin, through the runtime's boundary.
    let error = runtime.prepare("fail")?.invoke::<(&CStr,), ()>((CStr::from_bytes_with_nul(b"std::out_of_range\0").unwrap(),)).unwrap_err();
    // The outer error's cpp_type() is the type of the exception behind it;
    // find_cpp_type finds the error of the chain that exception recorded.
    let thrown = error.find_cpp_type("std::out_of_range");
    expect(
        error.status() == Status::OutOfRange && error.cpp_type() == Some("std::out_of_range") && thrown.is_some(),
        || format!("plugin exception: {error}"),
    )?;
    println!("   a plugin's std::out_of_range: {error}");
    for cause in error.causes() {
        println!("     caused by: {cause}");
    }
    Ok(())
}

fn statistics_show_both_languages() -> bridgert::Result<()> {
    // One live block of each language while the statistics are read.
    // SAFETY: make_cpp_buffer hands over one reference to 256 bytes.
    let cpp_block = unsafe { Buffer::from_raw(ffi::make_cpp_buffer(256)?, 256)? };
    let rust_block = vec![1u8; 512];
    let stats = mem_stats();
    println!("5. memory statistics, both languages on one allocator:\n{stats}");
    let (rust, cpp) = (stats.live_bytes_of(MemType::RustHeap), stats.live_bytes_of(MemType::CppHeap));
    expect(rust >= 512 && cpp >= 256, || format!("live RUST_HEAP {rust} and CPP_HEAP {cpp} bytes"))?;
    drop((cpp_block, rust_block));
    Ok(())
}

/// One step of the example.
type Step = fn() -> bridgert::Result<()>;

fn main() -> ExitCode {
    let steps: [(&str, Step); 5] = [
        ("rust buffer filled and kept by C++", rust_buffer_filled_and_kept_by_cpp),
        ("C++ buffer freed by Rust", cpp_buffer_freed_by_rust),
        ("C++ exception as a Rust error", cpp_exception_as_rust_error),
        ("the examples' plugin through Runtime", plugin_through_runtime),
        ("statistics show both languages", statistics_show_both_languages),
    ];
    for (name, step) in steps {
        if let Err(error) = step() {
            eprintln!("rust_cxx example: step '{name}' failed: {error}");
            for cause in error.causes() {
                eprintln!("  caused by: {cause}");
            }
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
