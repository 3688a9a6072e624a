//! Build-script helper for crates on bridgert.
//!
//! Two things, for a `build.rs`:
//!
//! - [`locate`]: where libbridgert, libbridgert_cpp and their headers are —
//!   the same answer `bridgert-sys` links against (it calls this too).
//! - [`bridge`] (feature `cxx`, on by default): `cxx_build::bridge` for a
//!   crate with its own `#[cxx::bridge]`, wired to bridgert. It adds both
//!   include folders, compiles as C++17, links libbridgert_cpp and
//!   libbridgert, and force-includes `<bridgert/cxx_trycatch.hpp>` in every
//!   C++ file of the build, so every exception escaping a bridged function
//!   goes through bridgert's boundary and reaches Rust with its status, C++
//!   type and causes (`bridgert::Error::from(cxx::Exception)`).
//! - [`link_run_path`]: for a crate on bridgert without a bridge, the
//!   libraries' folders as its binaries' run path.
//!
//! ```no_run
//! // build.rs of a crate whose src/ffi.rs holds a #[cxx::bridge]
//! fn main() {
//!     bridgert_build::bridge("src/ffi.rs").file("src/shim.cc").compile("my_bridge");
//!     println!("cargo:rerun-if-changed=src/shim.cc");
//! }
//! ```
//!
//! # Where the libraries are found
//!
//! The first of these that applies, for the C library and the C++ shim
//! alike:
//!
//! 1. `DEP_BRIDGERT_*`: the `links` metadata of `bridgert-sys`
//!    (`include`, `lib_dir`, `cpp_include`, `cpp_lib_dir`), which cargo
//!    hands to the build scripts of crates that depend on `bridgert-sys`
//!    directly;
//! 2. `BRIDGERT_LIB_DIR` (the folder holding `libbridgert.so`) with
//!    `BRIDGERT_INCLUDE_DIR`, `BRIDGERT_CPP_LIB_DIR` and
//!    `BRIDGERT_CPP_INCLUDE_DIR` (each C++ one defaults to its C
//!    counterpart) — what meson sets for the tests of the source tree;
//! 3. `BRIDGERT_PREFIX`: an installation prefix (`<prefix>/include`, the
//!    library in `<prefix>/lib`, `<prefix>/lib64` or `<prefix>/lib/<triplet>`);
//! 4. `pkg-config bridgert` and `pkg-config bridgert_cpp` (`PKG_CONFIG`,
//!    `PKG_CONFIG_PATH`), which find a system installation.
//!
//! Nothing else is guessed: when none applies the build stops with a
//! message naming these variables.
#![deny(missing_docs)]

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the two libraries and their headers are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paths {
    /// The folder holding `bridgert.h`; `None` when it is in the compiler's
    /// default search path.
    pub include: Option<PathBuf>,
    /// The folder holding `libbridgert.so`; `None` when it is in the
    /// linker's default search path.
    pub lib_dir: Option<PathBuf>,
    /// The folder holding `bridgert.hpp` and `bridgert/cxx_trycatch.hpp`;
    /// `None` when the C++ shim was not found or its headers are in the
    /// default search path.
    pub cpp_include: Option<PathBuf>,
    /// The folder holding `libbridgert_cpp.so`; `None` as for `lib_dir`.
    pub cpp_lib_dir: Option<PathBuf>,
    /// Whether the C++ shim was found at all (by any of the ways above).
    pub cpp_found: bool,
    /// How they were found, for messages (`"BRIDGERT_PREFIX=/opt/brt"`).
    pub source: String,
}

/// Every environment variable [`locate`] reads: a build script that used it
/// reruns when one changes (`locate` prints the `rerun-if-env-changed`
/// lines itself).
pub const ENV_VARS: &[&str] = &[
    "BRIDGERT_LIB_DIR",
    "BRIDGERT_INCLUDE_DIR",
    "BRIDGERT_CPP_LIB_DIR",
    "BRIDGERT_CPP_INCLUDE_DIR",
    "BRIDGERT_PREFIX",
    "PKG_CONFIG",
    "PKG_CONFIG_PATH",
];

fn var_path(name: &str) -> Option<PathBuf> {
    env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

fn from_links_metadata() -> Option<Paths> {
    // Any key says bridgert-sys is a direct dependency; an empty lib_dir is
    // not published (the library is in a default path), so test them all.
    let keys = ["DEP_BRIDGERT_INCLUDE", "DEP_BRIDGERT_LIB_DIR", "DEP_BRIDGERT_CPP_FOUND"];
    if !keys.iter().any(|key| env::var_os(key).is_some()) {
        return None;
    }
    Some(Paths {
        include: var_path("DEP_BRIDGERT_INCLUDE"),
        lib_dir: var_path("DEP_BRIDGERT_LIB_DIR"),
        cpp_include: var_path("DEP_BRIDGERT_CPP_INCLUDE"),
        cpp_lib_dir: var_path("DEP_BRIDGERT_CPP_LIB_DIR"),
        cpp_found: env::var("DEP_BRIDGERT_CPP_FOUND").as_deref() == Ok("1"),
        source: "bridgert-sys's links metadata (DEP_BRIDGERT_*)".into(),
    })
}

fn from_lib_dir_vars() -> Option<Paths> {
    let lib_dir = var_path("BRIDGERT_LIB_DIR")?;
    let include = var_path("BRIDGERT_INCLUDE_DIR");
    let cpp_lib_dir = var_path("BRIDGERT_CPP_LIB_DIR").unwrap_or_else(|| lib_dir.clone());
    Some(Paths {
        cpp_found: cpp_lib_dir.join("libbridgert_cpp.so").exists(),
        cpp_include: var_path("BRIDGERT_CPP_INCLUDE_DIR").or_else(|| include.clone()),
        cpp_lib_dir: Some(cpp_lib_dir),
        include,
        lib_dir: Some(lib_dir),
        source: "BRIDGERT_LIB_DIR".into(),
    })
}

/// The library folder of an installation prefix: the first of lib, lib64
/// and lib/<triplet> that holds libbridgert.so.
fn prefix_lib_dir(prefix: &Path) -> Option<PathBuf> {
    let lib = prefix.join("lib");
    let mut candidates = vec![lib.clone(), prefix.join("lib64")];
    if let Ok(entries) = std::fs::read_dir(&lib) {
        let mut triplets: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        triplets.sort();
        candidates.extend(triplets);
    }
    candidates.into_iter().find(|dir| dir.join("libbridgert.so").exists())
}

fn from_prefix() -> Option<Result<Paths, String>> {
    let prefix = var_path("BRIDGERT_PREFIX")?;
    let Some(lib_dir) = prefix_lib_dir(&prefix) else {
        return Some(Err(format!(
            "BRIDGERT_PREFIX={}: no libbridgert.so in its lib, lib64 or lib/<triplet> folder",
            prefix.display()
        )));
    };
    let include = prefix.join("include");
    Some(Ok(Paths {
        cpp_found: lib_dir.join("libbridgert_cpp.so").exists(),
        cpp_include: Some(include.clone()),
        cpp_lib_dir: Some(lib_dir.clone()),
        include: Some(include),
        lib_dir: Some(lib_dir),
        source: format!("BRIDGERT_PREFIX={}", prefix.display()),
    }))
}

/// The words pkg-config prints for `flag` of `module`, or `None` when the
/// module is unknown (or pkg-config missing).
fn pkg_config(module: &str, flag: &str) -> Option<Vec<String>> {
    let program = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into());
    let output = Command::new(program).args([flag, module]).output().ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).split_whitespace().map(str::to_owned).collect())
}

/// A module's library folder (first -L) and the -I folder holding `header`
/// (an uninstalled .pc lists build folders first).
fn pkg_config_dirs(module: &str, header: &str) -> Option<(Option<PathBuf>, Option<PathBuf>)> {
    let libs = pkg_config(module, "--libs-only-L")?;
    let cflags = pkg_config(module, "--cflags-only-I").unwrap_or_default();
    let lib_dir = libs.iter().find_map(|f| f.strip_prefix("-L")).map(PathBuf::from);
    let include = cflags
        .iter()
        .filter_map(|f| f.strip_prefix("-I"))
        .map(PathBuf::from)
        .find(|dir| dir.join(header).is_file());
    Some((lib_dir, include))
}

fn from_pkg_config() -> Option<Paths> {
    let (lib_dir, include) = pkg_config_dirs("bridgert", "bridgert.h")?;
    let cpp = pkg_config_dirs("bridgert_cpp", "bridgert.hpp");
    Some(Paths {
        cpp_found: cpp.is_some(),
        cpp_include: cpp.as_ref().and_then(|(_, include)| include.clone()),
        cpp_lib_dir: cpp.and_then(|(lib_dir, _)| lib_dir),
        include,
        lib_dir,
        source: "pkg-config bridgert".into(),
    })
}

/// Finds libbridgert and libbridgert_cpp (see the crate documentation for
/// the order), and prints `cargo:rerun-if-env-changed` for every variable
/// it reads. `Err` says what to set.
pub fn locate() -> Result<Paths, String> {
    for var in ENV_VARS {
        println!("cargo:rerun-if-env-changed={var}");
    }
    if let Some(paths) = from_links_metadata().or_else(from_lib_dir_vars) {
        return Ok(paths);
    }
    if let Some(paths) = from_prefix() {
        return paths;
    }
    from_pkg_config().ok_or_else(|| {
        "libbridgert not found. Set BRIDGERT_PREFIX to its installation prefix, or \
         BRIDGERT_LIB_DIR (the folder holding libbridgert.so) and BRIDGERT_INCLUDE_DIR \
         (meson sets both for its tests), or install bridgert so that \
         `pkg-config --libs bridgert` works (PKG_CONFIG_PATH)."
            .to_owned()
    })
}

/// The folders of `paths` that hold the libraries, each once (the C++
/// shim's first: it calls into libbridgert).
pub fn lib_dirs(paths: &Paths) -> Vec<&Path> {
    let mut dirs: Vec<&Path> = Vec::new();
    for dir in [&paths.cpp_lib_dir, &paths.lib_dir].into_iter().flatten() {
        if !dirs.contains(&dir.as_path()) {
            dirs.push(dir);
        }
    }
    dirs
}

/// For a crate that uses bridgert without a bridge of its own: locates the
/// libraries and makes the folders found outside the default paths the run
/// path of the crate's binaries (`cargo:rustc-link-arg=-Wl,-rpath,DIR`), so
/// they start without `LD_LIBRARY_PATH` from a custom prefix. (`bridgert-sys`
/// cannot do it for them: a build script's link arguments apply to its own
/// package only.) [`bridge`] does the same for a bridge crate.
pub fn link_run_path() -> Result<Paths, String> {
    let paths = locate()?;
    for dir in lib_dirs(&paths) {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir.display());
    }
    Ok(paths)
}

#[cfg(feature = "cxx")]
mod bridge;
#[cfg(feature = "cxx")]
pub use bridge::{bridge, bridges, TRYCATCH_HEADER};
