//! `bridge()`: cxx-build wired to bridgert, exceptions typed by construction.
use std::env;
use std::path::{Path, PathBuf};

use crate::{lib_dirs, locate, Paths};

/// The header every C++ file of a [`bridge`] build includes first: it makes
/// cxx's `rust::behavior::trycatch` bridgert's boundary (`brt::guard`).
pub const TRYCATCH_HEADER: &str = "bridgert/cxx_trycatch.hpp";

/// `cxx_build::bridge(rust_source)` wired to bridgert; see [`bridges`].
pub fn bridge(rust_source: impl AsRef<Path>) -> cc::Build {
    bridges([rust_source])
}

/// `cxx_build::bridges(rust_sources)` wired to bridgert, ready for the
/// caller's own `.file(...)` calls and `.compile(name)`:
///
/// - the include folders of libbridgert and the C++ shim, `-std=c++17`;
/// - `<bridgert/cxx_trycatch.hpp>` force-included (`-include`, `/FI` for
///   MSVC) ahead of every C++ file, the generated bridge code included, so
///   no bridged function can fall back to cxx's default handler, which
///   keeps only `what()`; a header of the crate may include it as well;
/// - `cargo:rustc-link-lib` for libbridgert_cpp and libbridgert, with
///   their folders as link search paths and, for folders found outside the
///   default paths, as the binary's run path (`-Wl,-rpath`), so it starts
///   without `LD_LIBRARY_PATH`;
/// - `BRIDGERT_SANITIZE` (meson's `b_sanitize`, set by its tests): the C++
///   is instrumented like the libraries and links the sanitizer runtimes.
///
/// Stops the build script (panics with what to set) when the libraries or
/// the C++ shim's headers are not found.
pub fn bridges(rust_sources: impl IntoIterator<Item = impl AsRef<Path>>) -> cc::Build {
    let paths = locate().unwrap_or_else(|message| panic!("bridgert-build: {message}"));
    if !paths.cpp_found {
        panic!(
            "bridgert-build: libbridgert_cpp (the C++ shim) not found next to libbridgert ({}). \
             Set BRIDGERT_CPP_LIB_DIR and BRIDGERT_CPP_INCLUDE_DIR, or install the C++ shim \
             (`pkg-config bridgert_cpp`).",
            paths.source
        );
    }
    let header = trycatch_header(&paths);
    let mut build = cxx_build::bridges(rust_sources);
    for include in [&paths.include, &paths.cpp_include].into_iter().flatten() {
        build.include(include);
    }
    build.flag_if_supported("-std=c++17");
    if build.get_compiler().is_like_msvc() {
        build.flag(&format!("/FI{}", header.display()));
    } else {
        build.flag("-include").flag(&header.display().to_string());
    }
    sanitize(&mut build);
    link(&paths);
    build
}

/// The path of cxx_trycatch.hpp, checked to exist: a force-include of a
/// missing file would fail every compile with a less helpful message.
fn trycatch_header(paths: &Paths) -> PathBuf {
    let dirs: Vec<&PathBuf> = [&paths.cpp_include, &paths.include].into_iter().flatten().collect();
    let found = dirs.iter().map(|dir| dir.join(TRYCATCH_HEADER)).find(|path| path.is_file());
    // No folder given: the headers are in the compiler's default path.
    found.unwrap_or_else(|| {
        if dirs.is_empty() {
            PathBuf::from(TRYCATCH_HEADER)
        } else {
            panic!(
                "bridgert-build: <{TRYCATCH_HEADER}> is not in {dirs:?} ({}): the C++ shim's headers",
                paths.source
            )
        }
    })
}

fn sanitize(build: &mut cc::Build) {
    println!("cargo:rerun-if-env-changed=BRIDGERT_SANITIZE");
    let sanitize = env::var("BRIDGERT_SANITIZE").unwrap_or_default();
    if sanitize.is_empty() || sanitize == "none" {
        return;
    }
    build.flag(&format!("-fsanitize={sanitize}")).flag("-fno-omit-frame-pointer");
    // rustc links with -nodefaultlibs, so the compiler driver would not add
    // the runtimes the instrumented code calls into.
    for (sanitizer, runtime) in [("address", "asan"), ("undefined", "ubsan")] {
        if sanitize.split(',').any(|s| s == sanitizer) {
            println!("cargo:rustc-link-lib=dylib={runtime}");
        }
    }
}

fn link(paths: &Paths) {
    for dir in lib_dirs(paths) {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    // libbridgert_cpp first: it calls into libbridgert.
    println!("cargo:rustc-link-lib=dylib=bridgert_cpp");
    println!("cargo:rustc-link-lib=dylib=bridgert");
}
