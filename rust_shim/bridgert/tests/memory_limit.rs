//! The limit, alone in its own test binary: it is process-wide.
use bridgert::{collect, mem_stats, set_memory_limit, Buffer, Status};

#[test]
fn exceeding_the_limit_is_an_error_naming_it() {
    let before = mem_stats();
    set_memory_limit((before.committed_bytes + (8 << 20)) as usize).unwrap();
    assert_eq!(mem_stats().limit_bytes, before.committed_bytes + (8 << 20));
    let error = Buffer::new(64 << 20).unwrap_err();
    assert_eq!(error.status(), Status::LimitExceeded, "{error}");
    assert!(error.message().contains("limit"), "{}", error.message());
    let small = Buffer::new(4096).unwrap();
    drop(small);
    set_memory_limit(0).unwrap();
    let big = Buffer::new(64 << 20).unwrap();
    drop(big);
    collect().unwrap();
    assert!(mem_stats().collections >= 1);
}
