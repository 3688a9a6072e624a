//! Finds the meson-built libbridgert and links it.
//!
//! meson sets BRIDGERT_LIB_DIR (the folder holding libbridgert.so) and
//! BRIDGERT_INCLUDE_DIR (abi/include) when it runs cargo; otherwise the
//! installed library is found through `pkg-config bridgert`. Nothing else is
//! guessed: a build that cannot find the library stops here with a message
//! that says what to set.
use std::env;
use std::path::PathBuf;
use std::process::Command;

fn pkg_config(flag: &str) -> Option<Vec<String>> {
    let output = Command::new(env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into()))
        .args([flag, "bridgert"])
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8_lossy(&output.stdout).split_whitespace().map(str::to_owned).collect())
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    for var in ["BRIDGERT_LIB_DIR", "BRIDGERT_INCLUDE_DIR", "PKG_CONFIG_PATH", "PKG_CONFIG"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let (lib_dir, include_dir) = match env::var_os("BRIDGERT_LIB_DIR") {
        Some(dir) => (PathBuf::from(dir), env::var_os("BRIDGERT_INCLUDE_DIR").map(PathBuf::from)),
        None => {
            let libs = pkg_config("--libs-only-L").unwrap_or_else(|| {
                panic!(
                    "bridgert-sys: libbridgert not found. Set BRIDGERT_LIB_DIR to the folder \
                     holding libbridgert.so (meson does this for its tests), or install bridgert \
                     so that `pkg-config --libs bridgert` works (PKG_CONFIG_PATH)."
                )
            });
            let cflags = pkg_config("--cflags-only-I").unwrap_or_default();
            let lib_dir = libs.iter().find_map(|f| f.strip_prefix("-L")).map(PathBuf::from);
            // The include folder is the one holding the umbrella header
            // (an uninstalled .pc lists build folders first).
            let include = cflags
                .iter()
                .filter_map(|f| f.strip_prefix("-I"))
                .map(PathBuf::from)
                .find(|dir| dir.join("bridgert.h").is_file());
            // An empty -L list means the library sits in a default linker path.
            (lib_dir.unwrap_or_default(), include)
        }
    };
    if !lib_dir.as_os_str().is_empty() {
        println!("cargo:rustc-link-search=native={}", lib_dir.display());
        println!("cargo:lib_dir={}", lib_dir.display());
    }
    if let Some(include) = include_dir {
        println!("cargo:include={}", include.display());
    }
    println!("cargo:rustc-link-lib=dylib=bridgert");
}
