//! cxx-build alone, as a crate that does not follow the recipe would:
//! nothing includes <bridgert/cxx_trycatch.hpp>.
fn main() {
    cxx_build::bridge("src/main.rs").flag_if_supported("-std=c++17").compile("rust_no_trycatch");
    println!("cargo:rerun-if-changed=src/main.rs");
    println!("cargo:rerun-if-changed=src/throw.h");
}
