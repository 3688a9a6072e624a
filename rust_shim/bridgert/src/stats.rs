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
    pub live_blocks: u64,
    pub live_bytes: u64,
    pub peak_bytes: u64,
    pub committed_bytes: u64,
    pub total_allocs: u64,
    pub total_frees: u64,
    /// Indexed by `MemType as usize`; see `live_bytes_of`.
    pub live_bytes_by_type: [u64; 5],
    pub errors_invalid_pointer: u64,
    pub errors_double_free: u64,
    pub errors_layout_mismatch: u64,
    pub limit_bytes: u64,
    pub active_shares: u64,
    pub total_shares: u64,
    pub mapped_files: u64,
    pub collections: u64,
    /// Writes into freed blocks found by hardened mode's poison checks.
    pub errors_use_after_free: u64,
    /// Segments left by exited threads and not yet adopted by another.
    pub abandoned_segments: u64,
}

impl MemStats {
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
