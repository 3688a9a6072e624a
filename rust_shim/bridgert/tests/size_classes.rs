//! Per-size-class counters from Rust: this binary turns tracking up to
//! `counters` for its own process before allocating anything it checks.
use bridgert::{size_classes, Buffer, Config, Status, Tracking};

#[test]
fn classes_count_what_rust_allocates() {
    let mut config = Config::new();
    config.set_tracking(Tracking::Counters);
    config.apply_to_allocator().unwrap();
    let before = size_classes().unwrap();
    assert_eq!(before.len(), bridgert::sys::BRT_MEM_CLASS_COUNT as usize);
    let buffers: Vec<Buffer> = (0..10).map(|_| Buffer::new(1000).unwrap()).collect();
    let after = size_classes().unwrap();
    let grew: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(b, a)| a.allocs >= b.allocs + 10 && a.live_blocks >= b.live_blocks + 10)
        .map(|(_, a)| a.block_size)
        .collect();
    assert!(grew.iter().any(|&size| (1000..=1280).contains(&size)), "{grew:?}");
    drop(buffers);
    // Below the counters level, nothing is counted.
    let mut off = Config::new();
    off.set_tracking(Tracking::Off);
    off.apply_to_allocator().unwrap();
    assert_eq!(size_classes().unwrap_err().status(), Status::Unsupported);
}
