//! bridgert::Allocator as the global allocator of a whole test program.
use std::alloc::{GlobalAlloc, Layout};
use std::collections::HashMap;

use bridgert::{block_info, mem_stats, sys, Allocator, MemType};

#[global_allocator]
static ALLOCATOR: Allocator = Allocator;

/// The tests compare process-wide statistics, which another test allocating
/// or freeing at the same moment would move: they run one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn rust_collections_live_on_the_shared_allocator() {
    let _serial = serial();
    let before = mem_stats().live_bytes_of(MemType::RustHeap);
    let mut words: HashMap<String, Vec<u64>> = HashMap::new();
    for i in 0..2000u64 {
        words.entry(format!("word{}", i % 300)).or_default().push(i);
    }
    let big = vec![7u8; 4 << 20];
    let info = block_info(big.as_ptr()).expect("a Vec's buffer is a bridgert block");
    assert_eq!(info.mem_type, Some(MemType::RustHeap));
    assert_eq!(info.refcount, 1);
    assert!(mem_stats().live_bytes_of(MemType::RustHeap) >= before + (4 << 20) - 4096);
    assert_eq!(words.len(), 300);
    assert_eq!(words["word7"].len(), 7);
    drop(big);
}

#[test]
fn alloc_zeroed_and_realloc_keep_contents() {
    let _serial = serial();
    let zeros = vec![0u64; 100_000];
    assert!(zeros.iter().all(|v| *v == 0));
    let mut grown: Vec<u32> = Vec::with_capacity(1);
    for i in 0..100_000 {
        grown.push(i);
    }
    assert!(grown.iter().enumerate().all(|(i, v)| *v == i as u32));
    grown.truncate(10);
    grown.shrink_to_fit();
    assert_eq!(grown, (0..10).collect::<Vec<_>>());
}

#[test]
fn a_buffer_c_retained_survives_the_vec_and_its_reallocation() {
    let _serial = serial();
    let mut numbers: Vec<u64> = (0..16).collect();
    numbers.shrink_to_fit();
    let shared = numbers.as_ptr();
    // SAFETY: the Vec's buffer is a live bridgert block; C takes a reference.
    assert_eq!(unsafe { sys::brt_retain(shared.cast()) }, sys::BRT_OK);
    numbers.extend(16..10_000); // must move: the old block stays C's
    assert_ne!(numbers.as_ptr(), shared);
    drop(numbers);
    let info = block_info(shared.cast()).unwrap();
    assert_eq!(info.refcount, 1, "C's reference keeps the old block");
    // SAFETY: still alive, holding 16 u64s.
    assert_eq!(unsafe { std::slice::from_raw_parts(shared, 16) }, (0..16).collect::<Vec<_>>());
    assert_eq!(unsafe { sys::brt_release(shared.cast()) }, sys::BRT_OK);
}

#[test]
fn a_wrong_layout_in_dealloc_is_caught_and_changes_nothing() {
    let _serial = serial();
    let layout = Layout::from_size_align(256, 8).unwrap();
    // SAFETY: allocate, deallocate once with a wrong layout (refused, the
    // block stays live), then with the right one.
    unsafe {
        let p = ALLOCATOR.alloc(layout);
        assert!(!p.is_null());
        let mismatches = mem_stats().errors_layout_mismatch;
        ALLOCATOR.dealloc(p, Layout::from_size_align(8192, 8).unwrap());
        assert_eq!(mem_stats().errors_layout_mismatch, mismatches + 1);
        assert_eq!(block_info(p).unwrap().refcount, 1);
        ALLOCATOR.dealloc(p, layout);
        assert!(block_info(p).is_err());
    }
}

#[test]
fn huge_and_overaligned_requests() {
    let _serial = serial();
    // SAFETY: GlobalAlloc calls with valid layouts.
    unsafe {
        let aligned = Layout::from_size_align(100, 1 << 16).unwrap();
        let p = ALLOCATOR.alloc(aligned);
        assert!(!p.is_null() && p as usize % (1 << 16) == 0);
        ALLOCATOR.dealloc(p, aligned);
        let huge = Layout::from_size_align(sys::BRT_ALLOC_SIZE_MAX + 1, 8).unwrap();
        assert!(ALLOCATOR.alloc(huge).is_null(), "too large: NULL, not a crash");
    }
}

#[test]
fn memory_moves_between_threads() {
    let _serial = serial();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                for i in 0..5000 {
                    kept.push(format!("thread {t} item {i}"));
                }
                kept
            })
        })
        .collect();
    // Blocks allocated by threads that have exited are freed here.
    let total: usize = handles.into_iter().map(|h| h.join().unwrap().len()).sum();
    assert_eq!(total, 20_000);
}

#[test]
fn blocks_allocated_on_one_thread_are_freed_on_another() {
    let _serial = serial();
    let before = mem_stats();
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<String>>(16);
    let consumer = std::thread::spawn(move || {
        let mut freed = 0usize;
        for batch in receiver {
            freed += batch.len();
            drop(batch); // frees blocks of the producer's thread heap
        }
        freed
    });
    let producers: Vec<_> = (0..3)
        .map(|p| {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for round in 0..200 {
                    let batch: Vec<String> =
                        (0..50).map(|i| format!("producer {p} round {round} item {i}")).collect();
                    sender.send(batch).unwrap();
                }
            })
        })
        .collect();
    drop(sender);
    for producer in producers {
        producer.join().unwrap();
    }
    assert_eq!(consumer.join().unwrap(), 3 * 200 * 50);
    let after = mem_stats();
    assert!(after.total_frees >= before.total_frees + 30_000, "{before:?}\n{after:?}");
    assert_eq!(after.errors_invalid_pointer, before.errors_invalid_pointer);
    assert_eq!(after.errors_double_free, before.errors_double_free);
}
