//! Compiles the C++ half (src/shim.cc and the cxx bridge code) against the
//! bridgert headers and links libbridgert_cpp, whose folder meson passes in
//! BRIDGERT_CPP_LIB_DIR (libbridgert itself comes through bridgert-sys).
use std::env;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.join("../..");
    let mut build = cxx_build::bridge("src/ffi.rs");
    build
        .file("src/shim.cc")
        .include(root.join("abi/include"))
        .include(root.join("cpp_shim/include"))
        .flag_if_supported("-std=c++17")
        .flag_if_supported("-Wall");
    // meson's sanitizer builds (b_sanitize, gcc) instrument the C++ half like
    // the libraries it calls, and link the runtimes its code calls into:
    // rustc links with -nodefaultlibs, so gcc would not add them itself.
    // (libasan is preloaded at run time by cargo's runner; see
    // rust_shim/meson.build.)
    println!("cargo:rerun-if-env-changed=BRIDGERT_SANITIZE");
    let sanitize = env::var("BRIDGERT_SANITIZE").unwrap_or_default();
    if !sanitize.is_empty() && sanitize != "none" {
        build.flag(&format!("-fsanitize={sanitize}")).flag("-fno-omit-frame-pointer");
        for (sanitizer, runtime) in [("address", "asan"), ("undefined", "ubsan")] {
            if sanitize.split(',').any(|s| s == sanitizer) {
                println!("cargo:rustc-link-lib=dylib={runtime}");
            }
        }
    }
    build.compile("rust_cxx_example");
    println!("cargo:rerun-if-changed=src/ffi.rs");
    println!("cargo:rerun-if-changed=src/shim.cc");
    println!("cargo:rerun-if-changed=src/shim.h");
    println!("cargo:rerun-if-env-changed=BRIDGERT_CPP_LIB_DIR");
    let cpp_lib_dir = env::var("BRIDGERT_CPP_LIB_DIR")
        .expect("BRIDGERT_CPP_LIB_DIR: the folder holding libbridgert_cpp.so (meson sets it)");
    println!("cargo:rustc-link-search=native={cpp_lib_dir}");
    println!("cargo:rustc-link-lib=dylib=bridgert_cpp");
}
