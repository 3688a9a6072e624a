//! The supported recipe for a crate with its own #[cxx::bridge]: one call to
//! bridgert_build::bridge, which finds bridgert (meson's BRIDGERT_LIB_DIR in
//! the source tree; BRIDGERT_PREFIX or pkg-config for an installed one),
//! adds its include folders, links libbridgert_cpp and libbridgert, and
//! force-includes <bridgert/cxx_trycatch.hpp> so C++ exceptions reach Rust
//! typed. src/shim.h does not include that header itself, on purpose: the
//! example shows the recipe alone is enough.
fn main() {
    bridgert_build::bridge("src/ffi.rs").file("src/shim.cc").flag_if_supported("-Wall").compile("rust_cxx_example");
    println!("cargo:rerun-if-changed=src/ffi.rs");
    println!("cargo:rerun-if-changed=src/shim.cc");
    println!("cargo:rerun-if-changed=src/shim.h");
}
