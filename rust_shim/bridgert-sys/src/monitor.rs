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
/// The largest sampling interval (one timed call in this many) the monitor accepts.
pub const BRT_MONITOR_SAMPLING_MAX: u32 = 65536;

/// `brt_format`: export formats.
pub type brt_format = c_uint;
/// text exposition format 0.0.4
pub const BRT_FORMAT_PROMETHEUS: brt_format = 1;
/// the same content as one JSON object
pub const BRT_FORMAT_JSON: brt_format = 2;

/// `brt_health_level`: also the `bridgert health` exit codes.
pub type brt_health_level = c_uint;
/// Healthy (exit code 0 of `bridgert health`).
pub const BRT_HEALTHY: brt_health_level = 0;
/// Degraded (exit code 1 of `bridgert health`).
pub const BRT_DEGRADED: brt_health_level = 1;
/// Unhealthy (exit code 2 of `bridgert health`).
pub const BRT_UNHEALTHY: brt_health_level = 2;

/// `brt_circuit_state`.
pub type brt_circuit_state = c_uint;
/// calls go through
pub const BRT_CIRCUIT_CLOSED: brt_circuit_state = 0;
/// isolated: calls fail fast with BRT_E_ISOLATED
pub const BRT_CIRCUIT_OPEN: brt_circuit_state = 1;
/// one probe call is running
pub const BRT_CIRCUIT_HALF_OPEN: brt_circuit_state = 2;

/// `brt_algo_snapshot`: set `struct_size` before `brt_algo_stats_get`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct brt_algo_snapshot {
    /// the caller sets sizeof(brt_algo_snapshot)
    pub struct_size: u32,
    /// completed calls (brt_monitor_call_end), any status
    pub calls: u64,
    /// completed calls whose status was not BRT_OK
    pub errors: u64,
    /// calls refused by brt_monitor_call_begin (isolated)
    pub rejected: u64,
    /// begun and not yet ended
    pub in_flight: u64,
    /// Sum of the timed calls' latencies.
    pub latency_sum_ns: u64,
    /// 0 when no call completed
    pub p50_ns: u64,
    /// 0 when no call completed
    pub p95_ns: u64,
    /// 0 when no call completed
    pub p99_ns: u64,
    /// 0 when no call completed
    pub max_ns: u64,
    /// The circuit breaker's state (`brt_circuit_state`).
    pub state: brt_circuit_state,
    /// completed calls in the breaker's window (&lt;= error_window)
    pub window_calls: u32,
    /// breaker-counted failures among them
    pub window_errors: u32,
    /// timed calls: the histogram's count
    pub latency_count: u64,
}

extern "C" {
    /// A new monitor configured from `cfg` (error_rate_threshold, error_window, cooldown_ms, max_memory, health_memory_degraded, health_memory_unhealthy; the config is checked with brt_config_validate and not kept).
    pub fn brt_monitor_new(cfg: *const brt_config) -> *mut brt_monitor;
    /// Frees the monitor and every brt_algo_stats it owns.
    pub fn brt_monitor_free(monitor: *mut brt_monitor);
    /// The statistics of algorithm (name, version), created on first request.
    pub fn brt_monitor_algorithm(
        monitor: *mut brt_monitor,
        name: *const c_char,
        version: *const c_char,
    ) -> *mut brt_algo_stats;
    /// Starts a call: counts it in flight and stores in *start_ns its start time, or BRT_MONITOR_UNTIMED when the call is not sampled for latency (so *start_ns is for brt_monitor_call_end only, not a clock).
    pub fn brt_monitor_call_begin(stats: *mut brt_algo_stats, start_ns: *mut u64) -> brt_status;
    /// Ends a call started by brt_monitor_call_begin with its `result`: counts it by status, records its latency when it was sampled and, when it failed, the thread's last error message (read with brt_last_error, if its code is `result`) and the circuit breaker's verdict.
    pub fn brt_monitor_call_end(stats: *mut brt_algo_stats, start_ns: u64, result: brt_status);
    /// Fills *out (out-&gt;struct_size must be set; fields beyond it are not written).
    pub fn brt_algo_stats_get(stats: *const brt_algo_stats, out: *mut brt_algo_snapshot) -> brt_status;
    /// Completed calls that ended with `status` (BRT_OK for successes), plus, for BRT_E_ISOLATED, the calls refused while isolated.
    pub fn brt_algo_stats_status_count(
        stats: *const brt_algo_stats,
        status: brt_status,
        count: *mut u64,
    ) -> brt_status;
    /// The latency quantile q in \[0, 1\] in ns (see brt_algo_snapshot); 0 when no call completed.
    pub fn brt_algo_stats_quantile(stats: *const brt_algo_stats, q: f64, ns: *mut u64) -> brt_status;
    /// How many completed calls took at most `le_ns` nanoseconds.
    pub fn brt_algo_stats_count_at_most(
        stats: *const brt_algo_stats,
        le_ns: u64,
        count: *mut u64,
    ) -> brt_status;
    /// Copies the last failure's message ("BRT_E_X (origin, type): message...", as brt_error_format writes it, at most 2047 bytes) into buf (NUL-terminated when size &gt; 0) and returns its length, like snprintf; 0 (and "") when the algorithm never failed or stats is NULL.
    pub fn brt_algo_stats_last_error(stats: *const brt_algo_stats, buf: *mut c_char, size: usize) -> usize;
    /// Sets gauge bridgert_&lt;name&gt; (e.g. "plugins_loaded") to `value`.
    pub fn brt_monitor_set_gauge(monitor: *mut brt_monitor, name: *const c_char, value: f64) -> brt_status;
    /// Exports every metric in `format` (BRT_FORMAT_PROMETHEUS: text exposition format 0.0.4; BRT_FORMAT_JSON: the same content as one JSON object, see docs/monitor.md) into *text, a managed block freed with brt_release or brt_monitor_text_free.
    pub fn brt_monitor_export(
        monitor: *mut brt_monitor,
        format: brt_format,
        text: *mut *mut c_char,
    ) -> brt_status;
    /// Runs every health check and writes the report (a JSON object with the overall "status" HEALTHY / DEGRADED / UNHEALTHY, "uptime_seconds" and "checks": \[{"name", "subject" (per-algorithm checks), "status", "reason"}\]) into *report_json, a managed block freed with brt_release or brt_monitor_text_free.
    pub fn brt_monitor_health_level(
        monitor: *mut brt_monitor,
        level: *mut brt_health_level,
        report_json: *mut *mut c_char,
    ) -> brt_status;
    /// brt_monitor_health_level without the level.
    pub fn brt_monitor_health(monitor: *mut brt_monitor, report_json: *mut *mut c_char) -> brt_status;
    /// Frees a text from brt_monitor_export or brt_monitor_health (the same as brt_release).
    pub fn brt_monitor_text_free(text: *mut c_char);
    /// Times about one call in `every` (1..BRT_MONITOR_SAMPLING_MAX; 1 times every call, exact histograms at the price of two clock reads per call).
    pub fn brt_monitor_set_sampling(monitor: *mut brt_monitor, every: u32) -> brt_status;
    /// Replaces the monitor's clock (CLOCK_MONOTONIC by default) with now_ns(ctx), which must be thread-safe and never decrease; NULL restores the default.
    pub fn brt_monitor_set_clock(
        monitor: *mut brt_monitor,
        now_ns: Option<unsafe extern "C" fn(ctx: *mut c_void) -> u64>,
        ctx: *mut c_void,
    ) -> brt_status;
    /// The name of a health level ("HEALTHY"...) or circuit state ("closed", "open", "half_open"); "unknown" for other values.
    pub fn brt_health_level_name(level: brt_health_level) -> *const c_char;
    /// The name of a health level ("HEALTHY"...) or circuit state ("closed", "open", "half_open"); "unknown" for other values.
    pub fn brt_circuit_state_name(state: brt_circuit_state) -> *const c_char;
}
