//! Memory statistics, limits, collection and the live-block visitor.
use std::ffi::{c_int, c_void};
use std::fmt;
use std::mem::size_of;
use std::time::Duration;

use bridgert_sys as sys;

use crate::block::{BlockInfo, MemType};
use crate::error::{check, Error, Result};
use crate::panic::catch_panic;

/// Process-wide allocator statistics (`brt_mem_stats`), every language: the
/// C struct's fields without its `struct_size` header. A field the C struct
/// gains must be added here too (`tests/memory.rs` checks the sizes agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemStats {
    /// Blocks alive now.
    pub live_blocks: u64,
    /// Usable bytes of the live blocks.
    pub live_bytes: u64,
    /// The highest `live_bytes` seen.
    pub peak_bytes: u64,
    /// Bytes the memory limit charges: pages committed from the OS and every page mapped blocks map.
    pub committed_bytes: u64,
    /// Allocations since the start.
    pub total_allocs: u64,
    /// Frees since the start.
    pub total_frees: u64,
    /// Indexed by `MemType as usize`; see `live_bytes_of`.
    pub live_bytes_by_type: [u64; 5],
    /// Releases refused: not the start of a live block.
    pub errors_invalid_pointer: u64,
    /// Releases refused: the block was already freed.
    pub errors_double_free: u64,
    /// Releases refused: a size or alignment that is not the block's.
    pub errors_layout_mismatch: u64,
    /// The memory limit; 0 is unlimited.
    pub limit_bytes: u64,
    /// Live blocks that were shared with another process (`brt_map_share`).
    pub active_shares: u64,
    /// Successful `brt_map_share` calls.
    pub total_shares: u64,
    /// Live mapped blocks (`brt_map_file`, `brt_map_fd`).
    pub mapped_files: u64,
    /// Collections run, explicit and automatic.
    pub collections: u64,
    /// Writes into freed blocks found by hardened mode's poison checks.
    pub errors_use_after_free: u64,
    /// Segments left by exited threads and not yet adopted by another.
    pub abandoned_segments: u64,
    /// The allocator's tracking level now (`Tracking as u64`).
    pub tracking: u64,
}

impl MemStats {
    /// Live bytes of one heap type.
    pub fn live_bytes_of(&self, mem_type: MemType) -> u64 {
        self.live_bytes_by_type[mem_type as usize]
    }
}

impl fmt::Display for MemStats {
    /// One line per heap type, then the totals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for mem_type in MemType::ALL {
            writeln!(f, "{:>10}: {} bytes live", mem_type.name(), self.live_bytes_of(mem_type))?;
        }
        write!(
            f,
            "     total: {} blocks, {} bytes live, {} committed, peak {}",
            self.live_blocks, self.live_bytes, self.committed_bytes, self.peak_bytes
        )
    }
}

/// The statistics now, or the error the library reported.
pub fn try_mem_stats() -> Result<MemStats> {
    let mut raw =
        sys::brt_mem_stats { struct_size: size_of::<sys::brt_mem_stats>() as u32, ..Default::default() };
    // SAFETY: a full-size struct with struct_size set.
    check(unsafe { sys::brt_mem_stats_get(&mut raw) })?;
    Ok(MemStats {
        live_blocks: raw.live_blocks,
        live_bytes: raw.live_bytes,
        peak_bytes: raw.peak_bytes,
        committed_bytes: raw.committed_bytes,
        total_allocs: raw.total_allocs,
        total_frees: raw.total_frees,
        live_bytes_by_type: raw.live_bytes_by_type,
        errors_invalid_pointer: raw.errors_invalid_pointer,
        errors_double_free: raw.errors_double_free,
        errors_layout_mismatch: raw.errors_layout_mismatch,
        limit_bytes: raw.limit_bytes,
        active_shares: raw.active_shares,
        total_shares: raw.total_shares,
        mapped_files: raw.mapped_files,
        collections: raw.collections,
        errors_use_after_free: raw.errors_use_after_free,
        abandoned_segments: raw.abandoned_segments,
        tracking: raw.tracking,
    })
}

/// The statistics now. The library fails only for a struct smaller than
/// its first fields, which this crate never passes.
pub fn mem_stats() -> MemStats {
    try_mem_stats().unwrap_or_else(|error| panic!("brt_mem_stats_get refused a full-size struct: {error}"))
}

/// Limits committed memory to `bytes` (0: no limit).
pub fn set_memory_limit(bytes: usize) -> Result<()> {
    // SAFETY: plain value.
    check(unsafe { sys::brt_mem_set_limit(bytes) })
}

/// Returns empty pages to the OS and flushes this thread's caches.
pub fn collect() -> Result<()> {
    // SAFETY: no arguments.
    check(unsafe { sys::brt_mem_collect() })
}

struct Visit<'a> {
    visitor: &'a mut dyn FnMut(*const u8, &BlockInfo) -> bool,
    failure: Option<Error>,
}

unsafe extern "C" fn visit_one(
    ctx: *mut c_void,
    block: *const c_void,
    info: *const sys::brt_block_info,
) -> c_int {
    // SAFETY: ctx is the Visit that visit_live passed, alive for the visit.
    let visit = &mut *ctx.cast::<Visit>();
    let info = BlockInfo::from_raw(&*info);
    match catch_panic(|| Ok((visit.visitor)(block.cast(), &info))) {
        Ok(go_on) => c_int::from(!go_on),
        Err(error) => {
            visit.failure = Some(error);
            1
        }
    }
}

/// Calls `visitor(block, info)` for every live block at least `min_age`
/// old (zero: all; more needs tracking >= Blocks, else UNSUPPORTED) until
/// it returns `false`. A panic in the visitor stops the visit and comes back
/// as `Err` with `Status::RustPanic`. The visitor must not release blocks
/// (drop a `Block` or a Rust allocation it did not make before the visit).
pub fn visit_live(min_age: Duration, mut visitor: impl FnMut(*const u8, &BlockInfo) -> bool) -> Result<()> {
    let mut visit = Visit { visitor: &mut visitor, failure: None };
    let min_age_ns = u64::try_from(min_age.as_nanos()).unwrap_or(u64::MAX);
    // SAFETY: the context outlives the call; visit_one never unwinds.
    let status =
        unsafe { sys::brt_mem_visit_live(min_age_ns, Some(visit_one), (&mut visit as *mut Visit).cast()) };
    match visit.failure {
        Some(error) => Err(error),
        None => check(status),
    }
}

/// One size class of the allocator (`brt_mem_class_stats`), as
/// [`size_classes`] reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassStats {
    /// 0 .. `sys::BRT_MEM_CLASS_COUNT`; the last class is blocks alone in a segment.
    pub class_index: u32,
    /// Usable bytes of every block of the class; 0 for the last class.
    pub block_size: usize,
    /// Allocations since tracking reached `Tracking::Counters`.
    pub allocs: u64,
    /// `allocs - live_blocks` (0 while blocks from before counting are live).
    pub frees: u64,
    /// Live blocks of the class.
    pub live_blocks: u64,
    /// Live bytes of the class.
    pub live_bytes: u64,
}

unsafe extern "C" fn collect_class(ctx: *mut c_void, stats: *const sys::brt_mem_class_stats) -> c_int {
    // SAFETY: ctx is the Vec size_classes passed; stats is valid for the call.
    let out = &mut *ctx.cast::<Vec<ClassStats>>();
    let raw = &*stats;
    out.push(ClassStats {
        class_index: raw.class_index,
        block_size: raw.block_size,
        allocs: raw.allocs,
        frees: raw.frees,
        live_blocks: raw.live_blocks,
        live_bytes: raw.live_bytes,
    });
    0
}

/// Every size class of the allocator with its allocations and what is live
/// (`brt_mem_visit_classes`). Needs tracking >= `Tracking::Counters`
/// (`BRT_TRACKING=counters`), else `Err` with `Status::Unsupported`.
pub fn size_classes() -> Result<Vec<ClassStats>> {
    let mut out: Vec<ClassStats> = Vec::with_capacity(sys::BRT_MEM_CLASS_COUNT as usize);
    // SAFETY: the Vec outlives the call; collect_class cannot panic (push
    // into reserved capacity) and never unwinds.
    check(unsafe { sys::brt_mem_visit_classes(Some(collect_class), (&mut out as *mut Vec<ClassStats>).cast()) })?;
    Ok(out)
}

/// What a scope run by [`with_budget`] allocated on its thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BudgetReport {
    /// Net heap bytes at the end (allocated minus released; negative when
    /// the scope released more than it allocated).
    pub used: i64,
    /// The highest net bytes after any allocation in the scope.
    pub peak: u64,
    /// Allocations the budget refused.
    pub refused: u64,
}

/// Ends the budget when the scope ends, by return or by panic.
struct BudgetScope {
    raw: Box<sys::brt_mem_budget>,
    _label: std::ffi::CString,
}

impl Drop for BudgetScope {
    fn drop(&mut self) {
        // SAFETY: the budget began on this thread in with_budget and is its
        // innermost (budgets nest with the scopes that own them).
        unsafe { sys::brt_mem_budget_end(&mut *self.raw) };
    }
}

/// Runs `scope` with this thread's allocations from bridgert capped at
/// `limit` net bytes (`brt_mem_budget_begin` / `_end`; the same budget a
/// plugin algorithm's `memory_limit` gives each call). Inside, a
/// [`Buffer`](crate::Buffer), [`Block`](crate::Block) or [`Value`](crate::Value)
/// that would pass the limit is `Err` with `Status::LimitExceeded` naming
/// `label`. With [`Allocator`](crate::Allocator) as the global allocator,
/// Rust's own collections count too, and an infallible allocation that
/// fails ends the process the way Rust's allocation failures do: use the
/// `try_reserve` family inside a budget. Budgets nest. Errors: `limit` 0 is
/// `Status::InvalidArgument`; a label with a NUL is cut there.
pub fn with_budget<R>(limit: u64, label: &str, scope: impl FnOnce() -> R) -> Result<(R, BudgetReport)> {
    let label = std::ffi::CString::new(label.split('\0').next().unwrap_or_default()).unwrap_or_default();
    let mut raw = Box::new(sys::brt_mem_budget {
        struct_size: size_of::<sys::brt_mem_budget>() as u32,
        limit,
        label: label.as_ptr(),
        used: 0,
        peak: 0,
        refused: 0,
        internal_baseline: 0,
        internal_outer: std::ptr::null_mut(),
    });
    // SAFETY: the budget lives in a Box that stays put until it ends, and
    // its label in a CString kept beside it.
    check(unsafe { sys::brt_mem_budget_begin(&mut *raw) })?;
    let guard = BudgetScope { raw, _label: label };
    let value = scope();
    let report_of = |raw: &sys::brt_mem_budget| BudgetReport { used: raw.used, peak: raw.peak, refused: raw.refused };
    let mut guard = std::mem::ManuallyDrop::new(guard);
    // SAFETY: as in Drop; ManuallyDrop keeps the budget from ending twice.
    check(unsafe { sys::brt_mem_budget_end(&mut *guard.raw) })?;
    let report = report_of(&guard.raw);
    // SAFETY: taken once, after the budget ended; the fields are dropped here.
    unsafe { std::mem::ManuallyDrop::drop(&mut guard) };
    Ok((value, report))
}
