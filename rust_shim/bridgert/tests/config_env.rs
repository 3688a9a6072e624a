//! The environment layer, alone in its own test binary: it sets process-wide
//! environment variables, which other tests running in parallel must not see.
use bridgert::{Config, Status};

#[test]
fn environment_overrides_and_bad_values_are_errors() {
    std::env::set_var("BRT_MAX_MEMORY", "2097152");
    let mut config = Config::new();
    config.load_env().unwrap();
    assert_eq!(config.max_memory(), 2 << 20);

    std::env::set_var("BRT_MAX_MEMORY", "lots");
    let error = config.load_env().unwrap_err();
    assert_eq!(error.status(), Status::InvalidArgument);
    assert!(error.message().contains("BRT_MAX_MEMORY"), "{}", error.message());
    assert_eq!(config.max_memory(), 2 << 20);

    std::env::remove_var("BRT_MAX_MEMORY");
    std::env::set_var("BRT_CONFIG", "/nonexistent/bridgert.json");
    let error = config.resolve().unwrap_err();
    assert_eq!(error.status(), Status::NotFound);
    std::env::remove_var("BRT_CONFIG");
    config.resolve().unwrap();
}
