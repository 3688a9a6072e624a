//! bridgert/runtime.h: runtime, algorithm registry, plugins and calls.
use core::ffi::{c_char, c_int, c_void};
use core::marker::{PhantomData, PhantomPinned};

use crate::config::{brt_config, brt_isolation};
use crate::monitor::{brt_format, brt_health_level};
use crate::status::brt_status;
use crate::value::brt_value;

/// Opaque `brt_runtime`.
#[repr(C)]
pub struct brt_runtime {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// Opaque `brt_prepared`: a resolved native algorithm.
#[repr(C)]
pub struct brt_prepared {
    _private: [u8; 0],
    _marker: PhantomData<(*mut u8, PhantomPinned)>,
}

/// A value algorithm: reads `params` (borrowed, already validated) and stores a new value in `*result`; on failure returns the status with a recorded error.
pub type brt_value_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        params: *const brt_value,
        result: *mut *mut brt_value,
    ) -> brt_status,
>;
/// Calls a native function with `args` (one pointer per argument), stores the return value at `ret`, and returns its status (the `ffi_call` convention).
pub type brt_native_thunk = Option<
    unsafe extern "C" fn(native_fn: *mut c_void, ret: *mut c_void, args: *mut *mut c_void) -> brt_status,
>;

/// The most arguments a native signature may have.
pub const BRT_SIGNATURE_MAX_ARGS: usize = 32;
/// The longest algorithm name, in bytes.
pub const BRT_ALGORITHM_NAME_MAX: usize = 128;
/// The longest algorithm version string, in bytes.
pub const BRT_ALGORITHM_VERSION_MAX: usize = 64;

/// `brt_algorithm`: what `brt_register` copies into the registry.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_algorithm {
    /// sizeof(brt_algorithm)
    pub struct_size: u32,
    /// The algorithm's name: `[a-z0-9_.-]{1,128}`.
    pub name: *const c_char,
    /// Its semantic version, `"MAJOR.MINOR.PATCH[-pre][+build]"`.
    pub version: *const c_char,
    /// One line for people, or NULL.
    pub description: *const c_char,
    /// JSON Schema checked against the parameters of every value call, or NULL.
    pub input_schema: *const c_char,
    /// For `brt_call` / `brt_call_json`, or NULL.
    pub value_fn: brt_value_fn,
    /// For `brt_prepare` / `brt_invoke`, or NULL (at least one of the two).
    pub native_fn: *mut c_void,
    /// The native function's C type (`"f64(ptr,ptr,u64)"`), required with `native_fn`.
    pub signature: *const c_char,
    /// Deadline of each call; 0: the runtime's default for value calls, none for native calls.
    pub timeout_ms: u32,
    /// Bytes of bridgert heap one call may hold; 0: none.
    pub memory_limit: u64,
    /// Must be 0 in this version.
    pub flags: u32,
    /// Passed to `value_fn` as is.
    pub ctx: *mut c_void,
    /// Fields after ctx are read only when struct_size includes them.
    pub native_thunk: brt_native_thunk,
    /// JSON Schema checked against the result of every value call, or NULL.
    pub output_schema: *const c_char,
}

/// Visits one registered algorithm (its strings are valid during the call only); nonzero stops the listing.
pub type brt_algorithm_visitor =
    Option<unsafe extern "C" fn(ctx: *mut c_void, algorithm: *const brt_algorithm) -> c_int>;
/// A plugin's entry point (`brt_plugin_init_v1`): registers its algorithms, or returns an error to refuse the load.
pub type brt_plugin_init_fn =
    Option<unsafe extern "C" fn(rt: *mut brt_runtime, abi_version: u32) -> brt_status>;

/// `brt_plugin_options`: how `brt_plugin_load_ex` runs a plugin.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_plugin_options {
    /// sizeof(brt_plugin_options)
    pub struct_size: u32,
    /// NONE: in this process; PROCESS: in worker processes; SANDBOX:
    pub isolation: brt_isolation,
    /// worker processes for this plugin; 0 = 1
    pub workers: u32,
    /// bytes per worker (RLIMIT_DATA); 0 = none. Needs PROCESS or
    pub memory_limit: u64,
    /// hard deadline of each call: past it the worker is killed;
    pub timeout_ms: u32,
    /// 0 in this version
    pub flags: u32,
}

/// The entry point a plugin exports (`brt_plugin_init_v1`).
pub const BRT_PLUGIN_INIT_SYMBOL: &str = "brt_plugin_init_v1";
/// The optional hook a plugin exports, called before it is dropped (`brt_plugin_fini_v1`).
pub const BRT_PLUGIN_FINI_SYMBOL: &str = "brt_plugin_fini_v1";
/// The symbol holding the ABI version a plugin was built for.
pub const BRT_PLUGIN_ABI_SYMBOL: &str = "brt_plugin_abi_version";

extern "C" {
    /// Opens a runtime with a copy of `cfg` (validated), or with the defaults overridden by the BRT_CONFIG file and the environment when `cfg` is NULL.
    pub fn brt_runtime_open(cfg: *const brt_config) -> *mut brt_runtime;
    /// Closes a runtime: unregisters everything and drops its plugins (each is dlclose()d when its last in-flight call or prepared handle is gone).
    pub fn brt_runtime_close(rt: *mut brt_runtime);
    /// Loads the shared object at `path` and runs its brt_plugin_init_v1.
    pub fn brt_plugin_load(rt: *mut brt_runtime, path: *const c_char) -> brt_status;
    /// brt_plugin_load with options.
    pub fn brt_plugin_load_ex(
        rt: *mut brt_runtime,
        path: *const c_char,
        options: *const brt_plugin_options,
    ) -> brt_status;
    /// Loads the shared object `file` (a plain name) of the directory open at `dir_fd` in this process, through "/proc/self/fd/DIR/FILE": the directory the descriptor names, not a path that could be swapped, and $ORIGIN in the plugin's run path resolves to it.
    pub fn brt_plugin_load_at(rt: *mut brt_runtime, dir_fd: c_int, file: *const c_char) -> brt_status;
    /// Loads every regular "*.so" file directly in `dir`, in name order (strcmp), and goes on after a failure.
    pub fn brt_plugin_load_dir(rt: *mut brt_runtime, dir: *const c_char) -> brt_status;
    /// Unregisters every algorithm the plugin at `path` registered and drops the runtime's reference to it; it is dlclose()d after its last in-flight call returns and its last prepared handle is freed.
    pub fn brt_plugin_unload(rt: *mut brt_runtime, path: *const c_char) -> brt_status;
    /// Loads the file now at `path` as a new image (even when the same path is loaded) and switches every name it registers atomically; a failed reload leaves the old image serving.
    pub fn brt_plugin_reload(rt: *mut brt_runtime, path: *const c_char) -> brt_status;
    /// Registers an algorithm (see brt_algorithm).
    pub fn brt_register(rt: *mut brt_runtime, algorithm: *const brt_algorithm) -> brt_status;
    /// Unregisters "name@version", or every version of a plain "name".
    pub fn brt_unregister(rt: *mut brt_runtime, name: *const c_char) -> brt_status;
    /// Visits each registered algorithm, by name then highest version first.
    pub fn brt_algorithms_list(
        rt: *mut brt_runtime,
        visitor: brt_algorithm_visitor,
        ctx: *mut c_void,
    ) -> brt_status;
    /// Calls the value algorithm `name` ("name" selects the highest version, "name@1.2.0" that one) with `params` and stores its result in *result (release it with brt_value_release).
    pub fn brt_call(
        rt: *mut brt_runtime,
        name: *const c_char,
        params: *const brt_value,
        result: *mut *mut brt_value,
    ) -> brt_status;
    /// brt_call with JSON text: `params_json` is parsed (CONVERSION names the position of a syntax error) and the result is returned as JSON text in a managed block the caller frees with brt_release.
    pub fn brt_call_json(
        rt: *mut brt_runtime,
        name: *const c_char,
        params_json: *const c_char,
        result_json: *mut *mut c_char,
    ) -> brt_status;
    /// Resolves a native algorithm once, for many brt_invoke calls.
    pub fn brt_prepare(rt: *mut brt_runtime, name: *const c_char) -> *mut brt_prepared;
    /// Calls the prepared native function: args\[i\] points to the i-th argument (of the signature's type; "str" is a const char *, "ptr" a void *, bool a C bool), `ret` to storage for the return value (NULL allowed for void).
    pub fn brt_invoke(prepared: *mut brt_prepared, ret: *mut c_void, args: *mut *mut c_void) -> brt_status;
    /// The signature text of a prepared algorithm (e.g. "f64(ptr,ptr,u64)"), or NULL for NULL.
    pub fn brt_prepared_signature(prepared: *const brt_prepared) -> *const c_char;
    /// Frees a prepared handle.
    pub fn brt_prepared_free(prepared: *mut brt_prepared);
    /// Exports the runtime's metrics (every algorithm's calls, errors by status, in-flight calls, latency histogram and circuit state; the registry gauges bridgert_algorithms_registered and bridgert_plugins_loaded; see docs/monitor.md) in `format`, BRT_FORMAT_PROMETHEUS (text exposition 0.0.4) or BRT_FORMAT_JSON, into *text: a managed block the caller frees with brt_release.
    pub fn brt_metrics_export(rt: *mut brt_runtime, format: brt_format, text: *mut *mut c_char) -> brt_status;
    /// Runs the health checks and stores the JSON report (overall "status" HEALTHY / DEGRADED / UNHEALTHY, and each check) in *report_json, a managed block freed with brt_release.
    pub fn brt_health_check(rt: *mut brt_runtime, report_json: *mut *mut c_char) -> brt_status;
    /// brt_health_check that also stores the overall level in *level (may be NULL).
    pub fn brt_health_check_level(
        rt: *mut brt_runtime,
        level: *mut brt_health_level,
        report_json: *mut *mut c_char,
    ) -> brt_status;
    /// The deadline of the calling thread's current call, in CLOCK_MONOTONIC nanoseconds, or 0 when the call has none (or no call is running).
    pub fn brt_call_deadline() -> u64;
    /// Nonzero when the current call should stop early: its deadline has passed, or its algorithm was unregistered or its runtime closed.
    pub fn brt_call_cancelled() -> c_int;
}
