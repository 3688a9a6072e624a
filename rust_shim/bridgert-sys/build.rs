//! Finds libbridgert (bridgert_build::locate: meson's BRIDGERT_LIB_DIR,
//! BRIDGERT_PREFIX or pkg-config), links it, and publishes where both
//! libraries and their headers are as `links` metadata, which cargo hands to
//! the build scripts of crates depending on bridgert-sys directly:
//! DEP_BRIDGERT_INCLUDE, DEP_BRIDGERT_LIB_DIR, DEP_BRIDGERT_CPP_INCLUDE,
//! DEP_BRIDGERT_CPP_LIB_DIR (each only when known) and DEP_BRIDGERT_CPP_FOUND
//! (1 or 0). A build that cannot find the library stops here with a message
//! that says what to set.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let paths = bridgert_build::locate().unwrap_or_else(|message| panic!("bridgert-sys: {message}"));
    if let Some(lib_dir) = &paths.lib_dir {
        println!("cargo:rustc-link-search=native={}", lib_dir.display());
        println!("cargo:lib_dir={}", lib_dir.display());
    }
    if let Some(include) = &paths.include {
        println!("cargo:include={}", include.display());
    }
    if let Some(include) = &paths.cpp_include {
        println!("cargo:cpp_include={}", include.display());
    }
    if let Some(lib_dir) = &paths.cpp_lib_dir {
        println!("cargo:cpp_lib_dir={}", lib_dir.display());
    }
    println!("cargo:cpp_found={}", u8::from(paths.cpp_found));
    println!("cargo:rustc-link-lib=dylib=bridgert");
}
