//! Compiles the C++ half (src/shim.cc and the cxx bridge code) against the
//! bridgert headers and links libbridgert_cpp, whose folder meson passes in
//! BRIDGERT_CPP_LIB_DIR (libbridgert itself comes through bridgert-sys).
use std::env;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../..");
    cxx_build::bridge("src/ffi.rs")
        .file("src/shim.cc")
        .include(root.join("abi/include"))
        .include(root.join("cpp_shim/include"))
        .flag_if_supported("-std=c++17")
        .flag_if_supported("-Wall")
        .compile("rust_cxx_example");
    println!("cargo:rerun-if-changed=src/ffi.rs");
    println!("cargo:rerun-if-changed=src/shim.cc");
    println!("cargo:rerun-if-changed=src/shim.h");
    println!("cargo:rerun-if-env-changed=BRIDGERT_CPP_LIB_DIR");
    let cpp_lib_dir = env::var("BRIDGERT_CPP_LIB_DIR")
        .expect("BRIDGERT_CPP_LIB_DIR: the folder holding libbridgert_cpp.so (meson sets it)");
    println!("cargo:rustc-link-search=native={cpp_lib_dir}");
    println!("cargo:rustc-link-lib=dylib=bridgert_cpp");
}
