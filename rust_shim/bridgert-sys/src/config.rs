//! bridgert/config.h: configuration.
use core::ffi::{c_char, c_uint};

use crate::status::brt_status;

/// `brt_tracking`: how much the allocator records per block.
pub type brt_tracking = c_uint;
/// no per-block bookkeeping (default)
pub const BRT_TRACKING_OFF: brt_tracking = 0;
/// Per-size-class counters (`brt_mem_visit_classes`).
pub const BRT_TRACKING_COUNTERS: brt_tracking = 1;
/// Counters, plus ids and timestamps per block (leak reports).
pub const BRT_TRACKING_BLOCKS: brt_tracking = 2;
/// Blocks, plus sampled allocation backtraces.
pub const BRT_TRACKING_BACKTRACE: brt_tracking = 3;

/// `brt_isolation`: where a plugin's code runs.
pub type brt_isolation = c_uint;
/// Algorithms run in the host process.
pub const BRT_ISOLATION_NONE: brt_isolation = 0;
/// Algorithms run in worker processes: crashes, hangs and limits are contained.
pub const BRT_ISOLATION_PROCESS: brt_isolation = 1;
/// `PROCESS` plus namespaces, no network, a read-only file system and seccomp.
pub const BRT_ISOLATION_SANDBOX: brt_isolation = 2;

/// How many plugin directories a config may name.
pub const BRT_CONFIG_MAX_PLUGIN_DIRS: usize = 64;

/// `brt_config`: plain data; it owns its `plugin_dirs` strings (free them
/// with `brt_config_dispose`).
#[repr(C)]
#[derive(Debug)]
pub struct brt_config {
    /// sizeof(brt_config); set by brt_config_init
    pub struct_size: u32,
    /// bytes the allocator may commit; 0 = unlimited; at most 2^62
    pub max_memory: u64,
    /// committed bytes that trigger automatic collection; 0 = never
    pub gc_threshold: u64,
    /// at most one automatic collection per interval
    pub gc_interval_ms: u32,
    /// How much the allocator records per block (`brt_tracking`).
    pub tracking: brt_tracking,
    /// quarantine freed blocks, poison checks (slower)
    pub hardened: bool,
    /// owned; see brt_config_add_plugin_dir
    pub plugin_dirs: *mut *mut c_char,
    /// The number of entries of `plugin_dirs`.
    pub plugin_dir_count: usize,
    /// Load plugins from world-writable directories too.
    pub allow_world_writable: bool,
    /// 0 = no deadline
    pub default_timeout_ms: u32,
    /// 0 &lt; x &lt;= 1: isolate an algorithm above this rate
    pub error_rate_threshold: f64,
    /// calls in the sliding window
    pub error_window: u32,
    /// isolation time before a probe call
    pub cooldown_ms: u32,
    /// fraction of max_memory, default 0.80
    pub health_memory_degraded: f64,
    /// default 0.95
    pub health_memory_unhealthy: f64,
    /// what brt_plugin_load and brt_plugin_load_dir use; default NONE
    pub isolation: brt_isolation,
    /// follow the plugin directories and load, reload and unload what changes there (watch mode); default false
    pub plugin_watch: bool,
}

extern "C" {
    /// Fills `cfg` with the defaults; `size` is sizeof(*cfg) as the caller was compiled, so an older caller with a smaller struct keeps working.
    pub fn brt_config_init(cfg: *mut brt_config, size: usize) -> brt_status;
    /// Frees what the config owns (plugin_dirs) and resets it to the defaults.
    pub fn brt_config_dispose(cfg: *mut brt_config);
    /// Deep copy: dst must be initialised (it is disposed first).
    pub fn brt_config_copy(dst: *mut brt_config, src: *const brt_config) -> brt_status;
    /// Appends a directory (copied) to plugin_dirs.
    pub fn brt_config_add_plugin_dir(cfg: *mut brt_config, dir: *const c_char) -> brt_status;
    /// Applies the JSON object in the file at `path` on top of `cfg`.
    pub fn brt_config_load_json(path: *const c_char, cfg: *mut brt_config) -> brt_status;
    /// The same for text in memory; `source` names it in messages (may be NULL).
    pub fn brt_config_load_json_text(
        text: *const c_char,
        len: usize,
        source: *const c_char,
        cfg: *mut brt_config,
    ) -> brt_status;
    /// Applies the BRT_&lt;KEY&gt; environment variables on top of `cfg`.
    pub fn brt_config_load_env(cfg: *mut brt_config) -> brt_status;
    /// Applies the file named by BRT_CONFIG (if set), then the environment.
    pub fn brt_config_resolve(cfg: *mut brt_config) -> brt_status;
    /// Checks every field's range (what the loaders check), for configs built in code.
    pub fn brt_config_validate(cfg: *const brt_config) -> brt_status;
    /// The name of a tracking level ("off", "counters", "blocks", "backtrace").
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
