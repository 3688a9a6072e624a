//! bridgert/memory.h: the allocator shared by C, C++ and Rust.
use core::ffi::{c_char, c_int, c_uint, c_void};

use crate::config::brt_config;
use crate::status::brt_status;

/// `brt_mem_type`: which heap a block stands for (its type tag).
pub type brt_mem_type = c_uint;
pub const BRT_MEM_C_HEAP: brt_mem_type = 0;
pub const BRT_MEM_RUST_HEAP: brt_mem_type = 1;
pub const BRT_MEM_CPP_HEAP: brt_mem_type = 2;
pub const BRT_MEM_SHARED: brt_mem_type = 3;
pub const BRT_MEM_MAPPED: brt_mem_type = 4;
pub const BRT_MEM_TYPE_COUNT: brt_mem_type = 5;

/// `brt_alloc` flag: the block's bytes are zero.
pub const BRT_ALLOC_ZERO: c_uint = 1 << 0;

/// `brt_map_fd` flag: map read-write (the fd must be open read-write).
pub const BRT_MAP_WRITABLE: c_uint = 1 << 0;

/// The largest reference count a block can hold.
pub const BRT_REFCOUNT_MAX: u32 = (1 << 23) - 1;
/// The largest size `brt_alloc` accepts (1 TiB).
pub const BRT_ALLOC_SIZE_MAX: usize = 1 << 40;
/// The largest alignment `brt_alloc` accepts (1 GiB).
pub const BRT_ALLOC_ALIGN_MAX: usize = 1 << 30;

/// `brt_block_info::flags`: the block's bytes cannot be written (a
/// read-only MAPPED block); a write faults.
pub const BRT_BLOCK_READ_ONLY: u32 = 1 << 0;

/// `brt_block_info`: set `struct_size` before `brt_block_info_get`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brt_block_info {
    pub struct_size: u32,
    pub size: usize,
    pub usable: usize,
    pub align: usize,
    pub type_: brt_mem_type,
    pub refcount: u32,
    pub id: u64,
    pub age_ns: u64,
    /// `BRT_BLOCK_*` bits.
    pub flags: u32,
}

/// `brt_mem_stats`: set `struct_size` before `brt_mem_stats_get`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brt_mem_stats {
    pub struct_size: u32,
    pub live_blocks: u64,
    pub live_bytes: u64,
    pub peak_bytes: u64,
    pub committed_bytes: u64,
    pub total_allocs: u64,
    pub total_frees: u64,
    pub live_bytes_by_type: [u64; BRT_MEM_TYPE_COUNT as usize],
    pub errors_invalid_pointer: u64,
    pub errors_double_free: u64,
    pub errors_layout_mismatch: u64,
    pub limit_bytes: u64,
    pub active_shares: u64,
    pub total_shares: u64,
    pub mapped_files: u64,
    pub collections: u64,
    pub errors_use_after_free: u64,
    pub abandoned_segments: u64,
    pub tracking: u64,
}

/// `brt_mem_budget`: a per-thread allocation budget for a scope; the caller
/// sets `struct_size`, `limit` and `label` before `brt_mem_budget_begin`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_mem_budget {
    pub struct_size: u32,
    pub limit: u64,
    pub label: *const c_char,
    pub used: i64,
    pub peak: u64,
    pub refused: u64,
    pub internal_baseline: i64,
    pub internal_outer: *mut brt_mem_budget,
}

/// Number of size classes `brt_mem_visit_classes` reports.
pub const BRT_MEM_CLASS_COUNT: u32 = 45;

/// `brt_mem_class_stats`: one size class, as `brt_mem_visit_classes` gives it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brt_mem_class_stats {
    pub struct_size: u32,
    pub class_index: u32,
    pub block_size: usize,
    pub allocs: u64,
    pub frees: u64,
    pub live_blocks: u64,
    pub live_bytes: u64,
}

/// Called by `brt_mem_visit_classes` for each class; nonzero stops.
pub type brt_mem_class_visitor =
    Option<unsafe extern "C" fn(ctx: *mut c_void, stats: *const brt_mem_class_stats) -> c_int>;

/// Called by `brt_mem_visit_live` for each live block; nonzero stops.
pub type brt_block_visitor = Option<
    unsafe extern "C" fn(ctx: *mut c_void, block: *const c_void, info: *const brt_block_info) -> c_int,
>;

extern "C" {
    pub fn brt_alloc(size: usize, align: usize, type_: brt_mem_type, flags: c_uint) -> *mut c_void;
    pub fn brt_retain(p: *const c_void) -> brt_status;
    pub fn brt_release(p: *const c_void) -> brt_status;
    pub fn brt_release_sized(p: *const c_void, size: usize, align: usize) -> brt_status;
    pub fn brt_realloc(p: *mut c_void, new_size: usize, align: usize) -> *mut c_void;
    pub fn brt_owns(p: *const c_void) -> c_int;
    pub fn brt_block_info_get(p: *const c_void, out: *mut brt_block_info) -> brt_status;
    pub fn brt_cpp_allocate(size: usize, align: usize) -> *mut c_void;
    pub fn brt_cpp_deallocate(p: *mut c_void) -> brt_status;
    pub fn brt_map_share(p: *const c_void) -> *mut c_void;
    pub fn brt_map_copy(p: *const c_void, to: brt_mem_type) -> *mut c_void;
    pub fn brt_map_file(path: *const c_char, len: *mut usize, flags: c_uint) -> *mut c_void;
    pub fn brt_alloc_shared(size: usize) -> *mut c_void;
    pub fn brt_shared_fd(p: *const c_void, fd: *mut c_int, offset: *mut u64) -> brt_status;
    pub fn brt_map_fd(fd: c_int, offset: u64, len: usize, flags: c_uint) -> *mut c_void;
    pub fn brt_mem_stats_get(out: *mut brt_mem_stats) -> brt_status;
    pub fn brt_mem_set_limit(bytes: usize) -> brt_status;
    pub fn brt_mem_collect() -> brt_status;
    pub fn brt_mem_set_clock(
        now_ns: Option<unsafe extern "C" fn(ctx: *mut c_void) -> u64>,
        ctx: *mut c_void,
    ) -> brt_status;
    pub fn brt_mem_budget_begin(budget: *mut brt_mem_budget) -> brt_status;
    pub fn brt_mem_budget_end(budget: *mut brt_mem_budget) -> brt_status;
    pub fn brt_mem_visit_classes(visitor: brt_mem_class_visitor, ctx: *mut c_void) -> brt_status;
    pub fn brt_mem_visit_live(min_age_ns: u64, visitor: brt_block_visitor, ctx: *mut c_void) -> brt_status;
    pub fn brt_mem_configure(cfg: *const brt_config) -> brt_status;
}
