//! bridgert/config.h: configuration.
use core::ffi::{c_char, c_uint};

use crate::status::brt_status;

/// `brt_tracking`: how much the allocator records per block.
pub type brt_tracking = c_uint;
pub const BRT_TRACKING_OFF: brt_tracking = 0;
pub const BRT_TRACKING_COUNTERS: brt_tracking = 1;
pub const BRT_TRACKING_BLOCKS: brt_tracking = 2;
pub const BRT_TRACKING_BACKTRACE: brt_tracking = 3;

/// `brt_isolation`: where a plugin's code runs.
pub type brt_isolation = c_uint;
pub const BRT_ISOLATION_NONE: brt_isolation = 0;
pub const BRT_ISOLATION_PROCESS: brt_isolation = 1;
pub const BRT_ISOLATION_SANDBOX: brt_isolation = 2;

/// How many plugin directories a config may name.
pub const BRT_CONFIG_MAX_PLUGIN_DIRS: usize = 64;

/// `brt_config`: plain data; it owns its `plugin_dirs` strings (free them
/// with `brt_config_dispose`).
#[repr(C)]
#[derive(Debug)]
pub struct brt_config {
    pub struct_size: u32,
    pub max_memory: u64,
    pub gc_threshold: u64,
    pub gc_interval_ms: u32,
    pub tracking: brt_tracking,
    pub hardened: bool,
    pub plugin_dirs: *mut *mut c_char,
    pub plugin_dir_count: usize,
    pub allow_world_writable: bool,
    pub default_timeout_ms: u32,
    pub error_rate_threshold: f64,
    pub error_window: u32,
    pub cooldown_ms: u32,
    pub health_memory_degraded: f64,
    pub health_memory_unhealthy: f64,
    pub isolation: brt_isolation,
    pub plugin_watch: bool,
}

extern "C" {
    pub fn brt_config_init(cfg: *mut brt_config, size: usize) -> brt_status;
    pub fn brt_config_dispose(cfg: *mut brt_config);
    pub fn brt_config_copy(dst: *mut brt_config, src: *const brt_config) -> brt_status;
    pub fn brt_config_add_plugin_dir(cfg: *mut brt_config, dir: *const c_char) -> brt_status;
    pub fn brt_config_load_json(path: *const c_char, cfg: *mut brt_config) -> brt_status;
    pub fn brt_config_load_json_text(
        text: *const c_char,
        len: usize,
        source: *const c_char,
        cfg: *mut brt_config,
    ) -> brt_status;
    pub fn brt_config_load_env(cfg: *mut brt_config) -> brt_status;
    pub fn brt_config_resolve(cfg: *mut brt_config) -> brt_status;
    pub fn brt_config_validate(cfg: *const brt_config) -> brt_status;
    pub fn brt_tracking_name(tracking: brt_tracking) -> *const c_char;
}

/// `brt_config_default` is a `static inline` in the header (not exported):
/// the same call, with this declaration's size.
///
/// # Safety
/// `cfg` must point to writable memory for one `brt_config`.
#[inline]
pub unsafe fn brt_config_default(cfg: *mut brt_config) -> brt_status {
    brt_config_init(cfg, core::mem::size_of::<brt_config>())
}
