//! `Runtime::reload_plugin`: the test plugin's two builds (tests/bridge/plugins/reload.c)
//! replace each other at one path; a failed reload keeps the old one serving.

use bridgert::{Runtime, Status};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The build tree's test plugin `name`, or None outside `meson test`.
fn test_plugin(name: &str) -> Option<PathBuf> {
    let root = std::env::var_os("BRT_BUILD_ROOT")?;
    let path = Path::new(&root).join("tests/bridge/plugins").join(format!("{name}.so"));
    path.exists().then_some(path)
}

/// Copies `from` next to `to` and renames it over `to`, as a deployment would.
fn deploy(from: &Path, to: &Path) {
    let next = to.with_extension("next");
    std::fs::copy(from, &next).unwrap();
    std::fs::set_permissions(&next, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::rename(&next, to).unwrap();
}

#[test]
fn reload_replaces_the_plugin_at_its_path() {
    let (Some(v1), Some(v2)) = (test_plugin("reload_v1"), test_plugin("reload_v2")) else {
        eprintln!("BRT_BUILD_ROOT does not hold the reload test plugins: skipped");
        return;
    };
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let live = dir.join("live.so");
    deploy(&v1, &live);

    let runtime = Runtime::open().unwrap();
    runtime.load_plugin(&live).unwrap();
    assert_eq!(runtime.call_json("which", "{}").unwrap(), "1");
    deploy(&v2, &live);
    runtime.reload_plugin(&live).unwrap();
    assert_eq!(runtime.call_json("which", "{}").unwrap(), "2");

    std::fs::write(dir.join("broken.next"), b"not an ELF file").unwrap();
    std::fs::rename(dir.join("broken.next"), &live).unwrap();
    let error = runtime.reload_plugin(&live).unwrap_err();
    assert_eq!(error.status(), Status::Plugin, "{error}");
    assert!(error.message().contains("the old image keeps serving"), "{}", error.message());
    assert_eq!(runtime.call_json("which", "{}").unwrap(), "2");
    assert_eq!(runtime.reload_plugin("/nonexistent/plugin.so").unwrap_err().status(), Status::NotFound);
    drop(runtime);
    std::fs::remove_dir_all(&dir).unwrap();
}
