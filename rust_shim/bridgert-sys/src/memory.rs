//! bridgert/memory.h: the allocator shared by C, C++ and Rust.
use core::ffi::{c_char, c_int, c_uint, c_void};

use crate::config::brt_config;
use crate::status::brt_status;

/// `brt_mem_type`: which heap a block stands for (its type tag).
pub type brt_mem_type = c_uint;
/// Blocks C code allocated (`brt_alloc` with this type).
pub const BRT_MEM_C_HEAP: brt_mem_type = 0;
/// Blocks Rust allocated (`bridgert::Allocator`, `Block`).
pub const BRT_MEM_RUST_HEAP: brt_mem_type = 1;
/// Blocks C++ allocated (`brt::allocator`, operator new of `bridgert_new_delete`).
pub const BRT_MEM_CPP_HEAP: brt_mem_type = 2;
/// memfd-backed: can be mapped by another process
pub const BRT_MEM_SHARED: brt_mem_type = 3;
/// a file or memfd mapping (brt_map_file, brt_map_fd)
pub const BRT_MEM_MAPPED: brt_mem_type = 4;
/// Not a type: the number of heap types (the length of `live_bytes_by_type`).
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
    /// `size_of::<brt_block_info>()`, set by the caller.
    pub struct_size: u32,
    /// requested size when tracking &gt;= blocks, else == usable
    pub size: usize,
    /// bytes the block really has (&gt;= the requested size)
    pub usable: usize,
    /// the largest power of two (&lt;= 4096 or the requested
    pub align: usize,
    /// The block's heap type (`brt_mem_type`).
    pub type_: brt_mem_type,
    /// References held, over every language.
    pub refcount: u32,
    /// allocation id when tracking &gt;= blocks, else 0
    pub id: u64,
    /// Nanoseconds since allocation (tracking at `BLOCKS` or above).
    pub age_ns: u64,
    /// `BRT_BLOCK_*` bits.
    pub flags: u32,
}

/// `brt_mem_stats`: set `struct_size` before `brt_mem_stats_get`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brt_mem_stats {
    /// `size_of::<brt_mem_stats>()`, set by the caller.
    pub struct_size: u32,
    /// bytes are usable bytes of live blocks
    pub live_blocks: u64,
    /// bytes are usable bytes of live blocks
    pub live_bytes: u64,
    /// highest live_bytes seen (see docs/memory.md)
    pub peak_bytes: u64,
    /// what the limit charges: pages committed from the OS,
    pub committed_bytes: u64,
    /// Allocations since the start.
    pub total_allocs: u64,
    /// Frees since the start.
    pub total_frees: u64,
    /// indexed by brt_mem_type
    pub live_bytes_by_type: [u64; BRT_MEM_TYPE_COUNT as usize],
    /// Releases refused: not the start of a live block.
    pub errors_invalid_pointer: u64,
    /// Releases refused: the block was already freed.
    pub errors_double_free: u64,
    /// Releases refused: a size or alignment that is not the block's.
    pub errors_layout_mismatch: u64,
    /// current limit, 0 = unlimited
    pub limit_bytes: u64,
    /// live blocks that were shared with brt_map_share
    pub active_shares: u64,
    /// brt_map_share calls that succeeded
    pub total_shares: u64,
    /// live MAPPED blocks (brt_map_file, brt_map_fd)
    pub mapped_files: u64,
    /// brt_mem_collect runs, explicit and automatic
    pub collections: u64,
    /// hardened mode: poison found damaged
    pub errors_use_after_free: u64,
    /// segments of exited threads not yet reclaimed
    pub abandoned_segments: u64,
    /// the allocator's brt_tracking level now
    pub tracking: u64,
}

/// `brt_mem_budget`: a per-thread allocation budget for a scope; the caller
/// sets `struct_size`, `limit` and `label` before `brt_mem_budget_begin`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_mem_budget {
    /// sizeof(brt_mem_budget), set by the caller
    pub struct_size: u32,
    /// bytes, at least 1; set by the caller
    pub limit: u64,
    /// names the scope in errors ("algorithm \"fft@1.2.0\"");
    pub label: *const c_char,
    /// net bytes when the budget ended (negative: freed more)
    pub used: i64,
    /// the highest net bytes after any allocation in the scope
    pub peak: u64,
    /// allocations refused by this budget
    pub refused: u64,
    /// reserved
    pub internal_baseline: i64,
    /// reserved
    pub internal_outer: *mut brt_mem_budget,
}

/// Number of size classes `brt_mem_visit_classes` reports.
pub const BRT_MEM_CLASS_COUNT: u32 = 45;

/// `brt_mem_class_stats`: one size class, as `brt_mem_visit_classes` gives it.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brt_mem_class_stats {
    /// set by the library
    pub struct_size: u32,
    /// 0 .. BRT_MEM_CLASS_COUNT - 1
    pub class_index: u32,
    /// usable bytes of every block of the class; 0 for the last class
    pub block_size: usize,
    /// counted since tracking reached "counters"
    pub allocs: u64,
    /// allocs - live_blocks (0 when blocks from before counting are live)
    pub frees: u64,
    /// live now
    pub live_blocks: u64,
    /// their usable bytes
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
    /// Allocates `size` bytes aligned to `align` (a power of two, at most BRT_ALLOC_ALIGN_MAX; every block is at least 16-byte aligned), tagged `type`, with a reference count of 1.
    pub fn brt_alloc(size: usize, align: usize, type_: brt_mem_type, flags: c_uint) -> *mut c_void;
    /// Adds one reference.
    pub fn brt_retain(p: *const c_void) -> brt_status;
    /// Drops one reference and frees the block when it was the last one.
    pub fn brt_release(p: *const c_void) -> brt_status;
    /// brt_release for callers that know the layout (Rust's dealloc): also checks that (size, align) could have produced this block, else BRT_E_LAYOUT_MISMATCH and nothing changes.
    pub fn brt_release_sized(p: *const c_void, size: usize, align: usize) -> brt_status;
    /// Resizes a block that only the caller holds (refcount 1), in place when the new size fits the block's class or a large block can grow inside its segment, else by moving it (same type; the old block is freed).
    pub fn brt_realloc(p: *mut c_void, new_size: usize, align: usize) -> *mut c_void;
    /// 1 if p is the start of a live bridgert block, else 0.
    pub fn brt_owns(p: *const c_void) -> c_int;
    /// Fills *out (out-&gt;struct_size set by the caller, at least up to age_ns; fields beyond it are not written) for a live block.
    pub fn brt_block_info_get(p: *const c_void, out: *mut brt_block_info) -> brt_status;
    /// The C++ heap (operator new, std::allocator in cpp_shim/): CPP_HEAP blocks.
    pub fn brt_cpp_allocate(size: usize, align: usize) -> *mut c_void;
    /// The C++ heap (operator new, std::allocator in cpp_shim/): CPP_HEAP blocks.
    pub fn brt_cpp_deallocate(p: *mut c_void) -> brt_status;
    /// Sharing and mapping.
    pub fn brt_map_share(p: *const c_void) -> *mut c_void;
    /// A new block of type `to` (C, Rust, C++ heap or SHARED) holding a copy of the block's bytes (its size as brt_block_info reports it).
    pub fn brt_map_copy(p: *const c_void, to: brt_mem_type) -> *mut c_void;
    /// Maps the file at `path` read-only (private mmap) as a MAPPED block of refcount 1; *len receives its length.
    pub fn brt_map_file(path: *const c_char, len: *mut usize, flags: c_uint) -> *mut c_void;
    /// A SHARED block of `size` bytes, zeroed, in memfd-backed memory that another process can map (brt_shared_fd).
    pub fn brt_alloc_shared(size: usize) -> *mut c_void;
    /// The memfd of a SHARED block and the block's offset in it: another process (or a forked child) that maps `fd` from `offset` rounded down to the page size sees and writes the block's bytes.
    pub fn brt_shared_fd(p: *const c_void, fd: *mut c_int, offset: *mut u64) -> brt_status;
    /// Maps `len` bytes of the regular file or memfd `fd` from `offset` as a MAPPED block of refcount 1, released with brt_release (which unmaps it).
    pub fn brt_map_fd(fd: c_int, offset: u64, len: usize, flags: c_uint) -> *mut c_void;
    /// Sums the per-thread statistics into *out.
    pub fn brt_mem_stats_get(out: *mut brt_mem_stats) -> brt_status;
    /// Sets the limit on committed bytes (0 = none).
    pub fn brt_mem_set_limit(bytes: usize) -> brt_status;
    /// Flushes the calling thread's caches and quarantine, reclaims abandoned segments, asks other threads to flush at their next slow path, and returns every empty page to the OS.
    pub fn brt_mem_collect() -> brt_status;
    /// Replaces the clock that block ages are measured on (tracking &gt;= blocks: brt_block_info.age_ns, brt_mem_visit_live's min_age_ns, the leak report) with now_ns(ctx), nanoseconds of a monotonic clock of the caller's; NULL restores the allocator's own (the coarse monotonic clock since it started).
    pub fn brt_mem_set_clock(
        now_ns: Option<unsafe extern "C" fn(ctx: *mut c_void) -> u64>,
        ctx: *mut c_void,
    ) -> brt_status;
    /// Starts `budget` on the calling thread (innermost of any active ones).
    pub fn brt_mem_budget_begin(budget: *mut brt_mem_budget) -> brt_status;
    /// Ends the calling thread's innermost budget, which must be `budget` (else BRT_E_INVALID_ARGUMENT and nothing changes), and fills in `used`.
    pub fn brt_mem_budget_end(budget: *mut brt_mem_budget) -> brt_status;
    /// Calls visitor for every size class (all of them, busy or not).
    pub fn brt_mem_visit_classes(visitor: brt_mem_class_visitor, ctx: *mut c_void) -> brt_status;
    /// Calls visitor for every live block at least min_age_ns old (0: all).
    pub fn brt_mem_visit_live(min_age_ns: u64, visitor: brt_block_visitor, ctx: *mut c_void) -> brt_status;
    /// Applies max_memory, gc_threshold, gc_interval_ms, tracking and hardened from cfg (checked with brt_config_validate).
    pub fn brt_mem_configure(cfg: *const brt_config) -> brt_status;
}
