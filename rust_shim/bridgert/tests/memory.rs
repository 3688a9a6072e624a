//! Block<T>, Buffer and the statistics, with every error path.
use std::time::Duration;

use bridgert::{block_info, mem_stats, sys, visit_live, Block, Buffer, MemType, Status};

/// Tests that allocate CPP_HEAP blocks run one at a time, so the statistics
/// test sees only its own.
static CPP_HEAP_USERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn cpp_heap_user() -> std::sync::MutexGuard<'static, ()> {
    CPP_HEAP_USERS.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn a_buffer_is_a_zeroed_rust_heap_block_with_one_reference() {
    let mut buffer = Buffer::new(100).unwrap();
    assert_eq!(buffer.len(), 100);
    assert!(buffer.iter().all(|b| *b == 0));
    assert_eq!(buffer.refcount(), 1);
    assert_eq!(buffer.mem_type(), Some(MemType::RustHeap));
    let info = buffer.info().unwrap();
    assert!(info.usable >= 100 && info.align >= 16, "{info:?}");
    buffer.as_mut_slice().unwrap()[7] = 42;
    assert_eq!(buffer[7], 42);
}

#[test]
fn clones_share_the_block_and_block_writes() {
    let mut first = Block::<u32>::from_slice(&[1, 2, 3]).unwrap();
    let second = first.clone();
    assert_eq!(first.as_ptr(), second.as_ptr(), "a clone is the same block, not a copy");
    assert_eq!(first.refcount(), 2);
    assert!(first.as_mut_slice().is_none(), "shared: no &mut");
    drop(second);
    assert_eq!(first.refcount(), 1);
    first.as_mut_slice().unwrap()[0] = 10;
    assert_eq!(&*first, &[10, 2, 3]);
}

#[test]
fn empty_zero_sized_and_huge_requests_are_errors() {
    assert_eq!(Buffer::new(0).unwrap_err().status(), Status::InvalidArgument);
    assert_eq!(Block::<u8>::from_slice(&[]).unwrap_err().status(), Status::InvalidArgument);
    assert_eq!(Block::<()>::new(4).unwrap_err().status(), Status::InvalidArgument);
    let error = Block::<u64>::new(usize::MAX / 4).unwrap_err();
    assert_eq!(error.status(), Status::OutOfMemory);
    assert!(error.message().contains("overflow"), "{}", error.message());
    let error = Block::<u8>::filled_in(sys::BRT_ALLOC_SIZE_MAX + 1, 0, MemType::RustHeap).unwrap_err();
    assert_eq!(error.status(), Status::OutOfMemory);
    let error = Block::<u8>::filled_in(8, 0, MemType::Mapped).unwrap_err();
    assert_eq!(error.status(), Status::InvalidArgument, "{error}");
}

#[test]
fn into_raw_and_from_raw_round_trip() {
    let block = Block::<u16>::from_slice(&[5, 6, 7, 8]).unwrap();
    let raw = block.into_raw();
    // SAFETY: the reference into_raw kept is handed back.
    let block = unsafe { Block::from_raw(raw, 4) }.unwrap();
    assert_eq!(&*block, &[5, 6, 7, 8]);
    assert_eq!(block.refcount(), 1);
}

#[test]
fn adopting_a_block_cpp_allocated_frees_it_on_drop() {
    let _cpp_heap = cpp_heap_user();
    // SAFETY: a fresh CPP_HEAP block of 64 bytes; its reference passes to the Block.
    let raw = unsafe { sys::brt_cpp_allocate(64, 16) }.cast::<u8>();
    assert!(!raw.is_null());
    unsafe { raw.write_bytes(9, 64) };
    let block = unsafe { Buffer::from_raw(raw, 64) }.unwrap();
    assert_eq!(block.mem_type(), Some(MemType::CppHeap));
    assert!(block.iter().all(|b| *b == 9));
    drop(block);
    assert_eq!(block_info(raw).unwrap_err().status(), Status::DoubleFree, "freed by the drop");
}

#[test]
fn from_raw_refuses_what_is_not_a_whole_live_block() {
    let mut on_stack = [0u8; 32];
    let error = unsafe { Buffer::from_raw(on_stack.as_mut_ptr(), 32) }.unwrap_err();
    assert_eq!(error.status(), Status::InvalidPointer);
    let error = unsafe { Buffer::from_raw(std::ptr::null_mut(), 1) }.unwrap_err();
    assert_eq!(error.status(), Status::InvalidPointer);

    let mut block = Buffer::new(64).unwrap();
    let interior = unsafe { block.as_mut_ptr().add(8) };
    assert_eq!(unsafe { Buffer::from_raw(interior, 8) }.unwrap_err().status(), Status::InvalidPointer);
    let too_long = block.info().unwrap().usable + 1;
    let error = unsafe { Buffer::from_raw_retained(block.as_mut_ptr(), too_long) }.unwrap_err();
    assert_eq!(error.status(), Status::OutOfRange);
    assert!(error.message().contains("usable bytes"), "{}", error.message());
    assert_eq!(block.refcount(), 1, "a refused adoption leaves the count as it was");

    let raw = Buffer::new(8).unwrap().as_ptr() as *mut u8; // dropped: freed
    assert_eq!(unsafe { Buffer::from_raw(raw, 8) }.unwrap_err().status(), Status::DoubleFree);
}

#[test]
fn from_raw_retained_takes_its_own_reference() {
    // SAFETY: a fresh C block; we keep our reference and release it below.
    let raw = unsafe { sys::brt_alloc(32, 8, sys::BRT_MEM_C_HEAP, sys::BRT_ALLOC_ZERO) }.cast::<u64>();
    let view = unsafe { Block::from_raw_retained(raw, 4) }.unwrap();
    assert_eq!(view.refcount(), 2);
    assert_eq!(view.mem_type(), Some(MemType::CHeap));
    drop(view);
    assert_eq!(block_info(raw.cast()).unwrap().refcount, 1);
    assert_eq!(unsafe { sys::brt_release(raw.cast()) }, sys::BRT_OK);
}

#[test]
fn statistics_count_blocks_by_type() {
    let _cpp_heap = cpp_heap_user();
    let before = mem_stats();
    let block = Block::<u8>::filled_in(1 << 20, 1, MemType::CppHeap).unwrap();
    let during = mem_stats();
    assert!(
        during.live_bytes_of(MemType::CppHeap) >= before.live_bytes_of(MemType::CppHeap) + (1 << 20) - 4096,
        "{before:?}\n{during:?}"
    );
    assert!(during.total_allocs > before.total_allocs);
    assert!(during.to_string().contains("cpp_heap"), "{during}");
    drop(block);
    assert!(mem_stats().total_frees > during.total_frees);
}

#[test]
fn the_visitor_sees_blocks_stops_early_and_turns_panics_into_errors() {
    let block = Block::<u8>::filled_in(333, 3, MemType::CHeap).unwrap();
    let mut found = false;
    visit_live(Duration::ZERO, |ptr, info| {
        if ptr == block.as_ptr() {
            found = true;
            assert_eq!(info.mem_type, Some(MemType::CHeap));
        }
        !found
    })
    .unwrap();
    assert!(found);

    let mut calls = 0;
    visit_live(Duration::ZERO, |_, _| {
        calls += 1;
        false
    })
    .unwrap();
    assert_eq!(calls, 1, "returning false stops the visit");

    // An age filter needs per-block timestamps (tracking "blocks"), off here.
    let error = visit_live(Duration::from_secs(1), |_, _| true).unwrap_err();
    assert_eq!(error.status(), Status::Unsupported, "{error}");

    let error = visit_live(Duration::ZERO, |_, _| panic!("visitor exploded")).unwrap_err();
    assert_eq!(error.status(), Status::RustPanic);
    assert!(error.message().contains("visitor exploded"));
}

#[test]
fn block_info_of_foreign_pointers_is_an_error() {
    let on_heap = Box::new(5u64); // the test harness's system allocator
    assert_eq!(block_info((&*on_heap as *const u64).cast()).unwrap_err().status(), Status::InvalidPointer);
    assert_eq!(block_info(std::ptr::null()).unwrap_err().status(), Status::InvalidPointer);
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn blocks_of_plain_data_cross_threads() {
    assert_send_sync::<Buffer>();
    assert_send_sync::<Block<f64>>();
    let block = Block::<f64>::from_slice(&[1.5, 2.5]).unwrap();
    let copy = block.clone();
    let sum = std::thread::spawn(move || copy.iter().sum::<f64>()).join().unwrap();
    assert_eq!(sum, 4.0);
    assert_eq!(block.refcount(), 1, "the other thread's drop released its reference");
}

#[test]
fn mem_stats_mirrors_every_field_of_the_c_struct() {
    // The C struct is a u32 struct_size (padded to 8 bytes) followed by u64
    // fields; MemStats holds the same u64 fields, so a field added on the C
    // side and forgotten here shows up as a size difference.
    assert_eq!(
        std::mem::size_of::<bridgert::MemStats>() + 8,
        std::mem::size_of::<bridgert::sys::brt_mem_stats>()
    );
    let stats = bridgert::mem_stats();
    assert!(stats.live_blocks <= stats.total_allocs);
}
