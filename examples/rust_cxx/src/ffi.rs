//! The cxx bridge: the C++ functions of src/shim.h, as Rust sees them. Kept
//! in its own file because cxx-build parses the file it is given (with a
//! parser older than the C-string literals main.rs uses).
#[cxx::bridge(namespace = "rust_cxx_example")]
pub mod bridge {
    unsafe extern "C++" {
        include!("rust_cxx_example/src/shim.h");

        fn fill_and_keep(buffer: &mut [u8], seed: u8) -> Result<()>;
        fn kept_sum() -> Result<u64>;
        fn release_kept() -> Result<()>;
        unsafe fn make_cpp_buffer(len: usize) -> Result<*mut u8>;
        fn checked_at(values: &[i32], index: usize) -> Result<i32>;
    }
}

pub use bridge::*;
