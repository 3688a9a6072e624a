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

pub type brt_value_fn = Option<
    unsafe extern "C" fn(
        ctx: *mut c_void,
        params: *const brt_value,
        result: *mut *mut brt_value,
    ) -> brt_status,
>;
pub type brt_native_thunk = Option<
    unsafe extern "C" fn(native_fn: *mut c_void, ret: *mut c_void, args: *mut *mut c_void) -> brt_status,
>;

pub const BRT_SIGNATURE_MAX_ARGS: usize = 32;
pub const BRT_ALGORITHM_NAME_MAX: usize = 128;
pub const BRT_ALGORITHM_VERSION_MAX: usize = 64;

/// `brt_algorithm`: what `brt_register` copies into the registry.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_algorithm {
    pub struct_size: u32,
    pub name: *const c_char,
    pub version: *const c_char,
    pub description: *const c_char,
    pub input_schema: *const c_char,
    pub value_fn: brt_value_fn,
    pub native_fn: *mut c_void,
    pub signature: *const c_char,
    pub timeout_ms: u32,
    pub memory_limit: u64,
    pub flags: u32,
    pub ctx: *mut c_void,
    pub native_thunk: brt_native_thunk,
    pub output_schema: *const c_char,
}

pub type brt_algorithm_visitor =
    Option<unsafe extern "C" fn(ctx: *mut c_void, algorithm: *const brt_algorithm) -> c_int>;
pub type brt_plugin_init_fn =
    Option<unsafe extern "C" fn(rt: *mut brt_runtime, abi_version: u32) -> brt_status>;

/// `brt_plugin_options`: how `brt_plugin_load_ex` runs a plugin.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct brt_plugin_options {
    pub struct_size: u32,
    pub isolation: brt_isolation,
    pub workers: u32,
    pub memory_limit: u64,
    pub timeout_ms: u32,
    pub flags: u32,
}

pub const BRT_PLUGIN_INIT_SYMBOL: &str = "brt_plugin_init_v1";
pub const BRT_PLUGIN_FINI_SYMBOL: &str = "brt_plugin_fini_v1";
pub const BRT_PLUGIN_ABI_SYMBOL: &str = "brt_plugin_abi_version";

extern "C" {
    pub fn brt_runtime_open(cfg: *const brt_config) -> *mut brt_runtime;
    pub fn brt_runtime_close(rt: *mut brt_runtime);
    pub fn brt_plugin_load(rt: *mut brt_runtime, path: *const c_char) -> brt_status;
    pub fn brt_plugin_load_ex(
        rt: *mut brt_runtime,
        path: *const c_char,
        options: *const brt_plugin_options,
    ) -> brt_status;
    pub fn brt_plugin_load_at(rt: *mut brt_runtime, dir_fd: c_int, file: *const c_char) -> brt_status;
    pub fn brt_plugin_load_dir(rt: *mut brt_runtime, dir: *const c_char) -> brt_status;
    pub fn brt_plugin_unload(rt: *mut brt_runtime, path: *const c_char) -> brt_status;
    pub fn brt_plugin_reload(rt: *mut brt_runtime, path: *const c_char) -> brt_status;
    pub fn brt_register(rt: *mut brt_runtime, algorithm: *const brt_algorithm) -> brt_status;
    pub fn brt_unregister(rt: *mut brt_runtime, name: *const c_char) -> brt_status;
    pub fn brt_algorithms_list(
        rt: *mut brt_runtime,
        visitor: brt_algorithm_visitor,
        ctx: *mut c_void,
    ) -> brt_status;
    pub fn brt_call(
        rt: *mut brt_runtime,
        name: *const c_char,
        params: *const brt_value,
        result: *mut *mut brt_value,
    ) -> brt_status;
    pub fn brt_call_json(
        rt: *mut brt_runtime,
        name: *const c_char,
        params_json: *const c_char,
        result_json: *mut *mut c_char,
    ) -> brt_status;
    pub fn brt_prepare(rt: *mut brt_runtime, name: *const c_char) -> *mut brt_prepared;
    pub fn brt_invoke(prepared: *mut brt_prepared, ret: *mut c_void, args: *mut *mut c_void) -> brt_status;
    pub fn brt_prepared_signature(prepared: *const brt_prepared) -> *const c_char;
    pub fn brt_prepared_free(prepared: *mut brt_prepared);
    pub fn brt_metrics_export(rt: *mut brt_runtime, format: brt_format, text: *mut *mut c_char) -> brt_status;
    pub fn brt_health_check(rt: *mut brt_runtime, report_json: *mut *mut c_char) -> brt_status;
    pub fn brt_health_check_level(
        rt: *mut brt_runtime,
        level: *mut brt_health_level,
        report_json: *mut *mut c_char,
    ) -> brt_status;
    pub fn brt_call_deadline() -> u64;
    pub fn brt_call_cancelled() -> c_int;
}
