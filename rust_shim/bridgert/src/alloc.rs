//! `Allocator`: Rust's global allocator on bridgert's shared allocator.
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: bridgert::Allocator = bridgert::Allocator;
//! ```
//! puts every Box, Vec, String and HashMap of the program on the allocator
//! C and C++ use, tagged `RUST_HEAP`: a Vec's buffer is an ordinary bridgert
//! block that C++ may retain (it then outlives the Vec) and memory
//! statistics show Rust's share by type.
use std::alloc::{GlobalAlloc, Layout};
use std::ptr;

use bridgert_sys as sys;

/// The global allocator (a unit struct: all state lives in the C library's
/// thread heaps). Each call is one call into libbridgert with no lock.
#[derive(Debug, Clone, Copy, Default)]
pub struct Allocator;

unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        sys::brt_alloc(layout.size(), layout.align(), sys::BRT_MEM_RUST_HEAP, 0).cast()
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        sys::brt_alloc(layout.size(), layout.align(), sys::BRT_MEM_RUST_HEAP, sys::BRT_ALLOC_ZERO).cast()
    }

    /// Releases Rust's reference with the layout, so the C side checks it
    /// (LAYOUT_MISMATCH otherwise). When C or C++ retained the block it
    /// stays alive for them. A refused release (a pointer the caller broke)
    /// changes nothing and is counted in `MemStats`; dealloc cannot report.
    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        sys::brt_release_sized(ptr.cast(), layout.size(), layout.align());
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let resized = sys::brt_realloc(ptr.cast(), new_size, layout.align());
        if !resized.is_null() {
            return resized.cast();
        }
        // brt_realloc refuses a block that someone else also holds (C++
        // retained this Vec's buffer): Rust moves to a fresh block and drops
        // only its own reference, so the other holder keeps the old bytes.
        // When the refusal was a lack of memory, the fresh allocation fails
        // too and Rust sees NULL, as it must.
        let new_layout = Layout::from_size_align_unchecked(new_size, layout.align());
        let fresh = self.alloc(new_layout);
        if !fresh.is_null() {
            ptr::copy_nonoverlapping(ptr, fresh, layout.size().min(new_size));
            self.dealloc(ptr, layout);
        }
        fresh
    }
}
