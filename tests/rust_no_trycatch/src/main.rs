//! Converts a cxx exception to bridgert::Error without the header that
//! makes it typed: the link fails on bridgert_cxx_bridge_needs_cxx_trycatch_hpp.
#[cxx::bridge(namespace = "rust_no_trycatch")]
mod ffi {
    unsafe extern "C++" {
        include!("rust_no_trycatch/src/throw.h");
        fn throw_out_of_range() -> Result<i32>;
    }
}

fn main() {
    let error = bridgert::Error::from(ffi::throw_out_of_range().unwrap_err());
    println!("{error}");
}
