//! bridgert/monitor.h: call statistics, circuit breaker, exporters, health.
use core::ffi::{c_char, c_uint, c_void};
use core::marker::{PhantomData, PhantomPinned};

use crate::config::brt_config;
use crate::status::brt_status;

/// Opaque `brt_monitor` (one per runtime).
#[repr(C)]
pub struct brt_monitor {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Opaque `brt_algo_stats` (per algorithm, owned by its monitor).
#[repr(C)]
pub struct brt_algo_stats {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// The start time `brt_monitor_call_begin` gives a call it does not time.
pub const BRT_MONITOR_UNTIMED: u64 = u64::MAX;
/// Latency sampling: about one call in this many is timed.
pub const BRT_MONITOR_SAMPLING_DEFAULT: u32 = 64;
pub const BRT_MONITOR_SAMPLING_MAX: u32 = 65536;

/// `brt_format`: export formats.
pub type brt_format = c_uint;
pub const BRT_FORMAT_PROMETHEUS: brt_format = 1;
pub const BRT_FORMAT_JSON: brt_format = 2;

/// `brt_health_level`: also the `bridgert health` exit codes.
pub type brt_health_level = c_uint;
pub const BRT_HEALTHY: brt_health_level = 0;
pub const BRT_DEGRADED: brt_health_level = 1;
pub const BRT_UNHEALTHY: brt_health_level = 2;

/// `brt_circuit_state`.
pub type brt_circuit_state = c_uint;
pub const BRT_CIRCUIT_CLOSED: brt_circuit_state = 0;
pub const BRT_CIRCUIT_OPEN: brt_circuit_state = 1;
pub const BRT_CIRCUIT_HALF_OPEN: brt_circuit_state = 2;

/// `brt_algo_snapshot`: set `struct_size` before `brt_algo_stats_get`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brt_algo_snapshot {
    pub struct_size: u32,
    pub calls: u64,
    pub errors: u64,
    pub rejected: u64,
    pub in_flight: u64,
    pub latency_sum_ns: u64,
    pub p50_ns: u64,
    pub p95_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
    pub state: brt_circuit_state,
    pub window_calls: u32,
    pub window_errors: u32,
    pub latency_count: u64,
}

extern "C" {
    pub fn brt_monitor_new(cfg: *const brt_config) -> *mut brt_monitor;
    pub fn brt_monitor_free(monitor: *mut brt_monitor);
    pub fn brt_monitor_algorithm(
        monitor: *mut brt_monitor,
        name: *const c_char,
        version: *const c_char,
    ) -> *mut brt_algo_stats;
    pub fn brt_monitor_call_begin(stats: *mut brt_algo_stats, start_ns: *mut u64) -> brt_status;
    pub fn brt_monitor_call_end(stats: *mut brt_algo_stats, start_ns: u64, result: brt_status);
    pub fn brt_algo_stats_get(stats: *const brt_algo_stats, out: *mut brt_algo_snapshot) -> brt_status;
    pub fn brt_algo_stats_status_count(
        stats: *const brt_algo_stats,
        status: brt_status,
        count: *mut u64,
    ) -> brt_status;
    pub fn brt_algo_stats_quantile(stats: *const brt_algo_stats, q: f64, ns: *mut u64) -> brt_status;
    pub fn brt_algo_stats_count_at_most(
        stats: *const brt_algo_stats,
        le_ns: u64,
        count: *mut u64,
    ) -> brt_status;
    pub fn brt_algo_stats_last_error(stats: *const brt_algo_stats, buf: *mut c_char, size: usize) -> usize;
    pub fn brt_monitor_set_gauge(monitor: *mut brt_monitor, name: *const c_char, value: f64) -> brt_status;
    pub fn brt_monitor_export(
        monitor: *mut brt_monitor,
        format: brt_format,
        text: *mut *mut c_char,
    ) -> brt_status;
    pub fn brt_monitor_health_level(
        monitor: *mut brt_monitor,
        level: *mut brt_health_level,
        report_json: *mut *mut c_char,
    ) -> brt_status;
    pub fn brt_monitor_health(monitor: *mut brt_monitor, report_json: *mut *mut c_char) -> brt_status;
    pub fn brt_monitor_text_free(text: *mut c_char);
    pub fn brt_monitor_set_sampling(monitor: *mut brt_monitor, every: u32) -> brt_status;
    pub fn brt_monitor_set_clock(
        monitor: *mut brt_monitor,
        now_ns: Option<unsafe extern "C" fn(ctx: *mut c_void) -> u64>,
        ctx: *mut c_void,
    ) -> brt_status;
    pub fn brt_health_level_name(level: brt_health_level) -> *const c_char;
    pub fn brt_circuit_state_name(state: brt_circuit_state) -> *const c_char;
}
