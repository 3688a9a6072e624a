//! `Config`: a `brt_config` built in code, from a JSON file or from the
//! environment (code < file < environment), for `Runtime::open_with`.
use std::ffi::CStr;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use bridgert_sys as sys;

use crate::error::{c_string, check, Result};

/// How much the allocator records per block (`brt_tracking`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Tracking {
    /// Nothing beyond the statistics every build keeps.
    Off = sys::BRT_TRACKING_OFF,
    /// Per-size-class counters.
    Counters = sys::BRT_TRACKING_COUNTERS,
    /// Counters, plus ids and timestamps per block (leak reports).
    Blocks = sys::BRT_TRACKING_BLOCKS,
    /// Blocks, plus sampled allocation backtraces.
    Backtrace = sys::BRT_TRACKING_BACKTRACE,
}

/// Where a plugin's code runs (`brt_isolation`, docs/isolation.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Isolation {
    /// In the host process.
    None = sys::BRT_ISOLATION_NONE,
    /// In worker processes: crashes, hangs and limits are contained.
    Process = sys::BRT_ISOLATION_PROCESS,
    /// Worker processes in namespaces with seccomp, no network, a read-only file system.
    Sandbox = sys::BRT_ISOLATION_SANDBOX,
}

/// An owned `brt_config`. Cloning deep-copies its plugin directories.
#[derive(Debug)]
pub struct Config {
    raw: sys::brt_config,
}

// SAFETY: the config owns its plugin_dirs strings (no sharing with anyone),
// and the C functions taking `const brt_config *` only read it.
unsafe impl Send for Config {}
unsafe impl Sync for Config {}

impl Config {
    /// The defaults (`brt_config_default`).
    pub fn new() -> Config {
        let mut raw = MaybeUninit::<sys::brt_config>::uninit();
        // SAFETY: brt_config_init fills the whole struct of the size we pass.
        let status = unsafe { sys::brt_config_default(raw.as_mut_ptr()) };
        // Only a NULL pointer or a size smaller than the first field fails.
        assert_eq!(status, sys::BRT_OK, "brt_config_init refused a full-size config");
        // SAFETY: initialised above.
        Config { raw: unsafe { raw.assume_init() } }
    }

    /// The defaults, overridden by the JSON file at `path`.
    pub fn from_json_file(path: impl AsRef<Path>) -> Result<Config> {
        let mut config = Config::new();
        config.load_json_file(path)?;
        Ok(config)
    }

    /// Applies the JSON object in the file at `path`; all-or-nothing. The
    /// file must be a regular file (a FIFO or a device is refused at once);
    /// whole numbers are decimal digits only, read exactly (docs/config.md).
    pub fn load_json_file(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = c_string("config path", path.as_ref().as_os_str().as_bytes())?;
        // SAFETY: valid C string and config.
        check(unsafe { sys::brt_config_load_json(path.as_ptr(), &mut self.raw) })
    }

    /// Applies a JSON object given as text; `source` names it in messages.
    pub fn load_json_text(&mut self, text: &str, source: Option<&str>) -> Result<()> {
        let source = source.map(|s| c_string("config source name", s)).transpose()?;
        // SAFETY: text is passed with its length (it need not be NUL-ended).
        check(unsafe {
            sys::brt_config_load_json_text(
                text.as_ptr().cast(),
                text.len(),
                source.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
                &mut self.raw,
            )
        })
    }

    /// Applies the `BRT_<KEY>` environment variables.
    pub fn load_env(&mut self) -> Result<()> {
        // SAFETY: valid config.
        check(unsafe { sys::brt_config_load_env(&mut self.raw) })
    }

    /// Applies the file named by `BRT_CONFIG` (if set), then the environment.
    pub fn resolve(&mut self) -> Result<()> {
        // SAFETY: valid config.
        check(unsafe { sys::brt_config_resolve(&mut self.raw) })
    }

    /// Checks every field's range.
    pub fn validate(&self) -> Result<()> {
        // SAFETY: valid config.
        check(unsafe { sys::brt_config_validate(&self.raw) })
    }

    /// Appends a plugin directory (copied); `InvalidArgument` for a NUL byte or past the limit.
    pub fn add_plugin_dir(&mut self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = c_string("plugin directory", dir.as_ref().as_os_str().as_bytes())?;
        // SAFETY: valid C string and config; the string is copied.
        check(unsafe { sys::brt_config_add_plugin_dir(&mut self.raw, dir.as_ptr()) })
    }

    /// The plugin directories, in order.
    pub fn plugin_dirs(&self) -> Vec<PathBuf> {
        (0..self.raw.plugin_dir_count)
            .map(|i| {
                // SAFETY: plugin_dirs holds plugin_dir_count owned C strings.
                let dir = unsafe { CStr::from_ptr(*self.raw.plugin_dirs.add(i)) };
                PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes()))
            })
            .collect()
    }

    /// Bytes the allocator may commit; 0 is unlimited. A runtime opened
    /// with this config limits the whole process to it while it is open
    /// (a lower limit of another open runtime, or of the base, wins).
    pub fn max_memory(&self) -> u64 {
        self.raw.max_memory
    }
    /// Sets `max_memory`.
    pub fn set_max_memory(&mut self, bytes: u64) -> &mut Config {
        self.raw.max_memory = bytes;
        self
    }
    /// How much the allocator records per block; `None` for a level this crate does not know.
    pub fn tracking(&self) -> Option<Tracking> {
        [Tracking::Off, Tracking::Counters, Tracking::Blocks, Tracking::Backtrace]
            .into_iter()
            .find(|t| *t as u32 == self.raw.tracking)
    }
    /// Sets `tracking`.
    pub fn set_tracking(&mut self, tracking: Tracking) -> &mut Config {
        self.raw.tracking = tracking as u32;
        self
    }
    /// Where `load_plugin` and `load_plugin_dir` run plugins.
    pub fn isolation(&self) -> Option<Isolation> {
        [Isolation::None, Isolation::Process, Isolation::Sandbox]
            .into_iter()
            .find(|i| *i as u32 == self.raw.isolation)
    }
    /// Sets `isolation`.
    pub fn set_isolation(&mut self, isolation: Isolation) -> &mut Config {
        self.raw.isolation = isolation as u32;
        self
    }
    /// Deadline of a call in milliseconds; 0 is none.
    pub fn default_timeout_ms(&self) -> u32 {
        self.raw.default_timeout_ms
    }
    /// Sets `default_timeout_ms`.
    pub fn set_default_timeout_ms(&mut self, ms: u32) -> &mut Config {
        self.raw.default_timeout_ms = ms;
        self
    }

    /// Makes this configuration's allocator settings (`max_memory`,
    /// `gc_threshold`, `gc_interval_ms`, `tracking`, `hardened`) the base
    /// of the process's allocator now (`brt_mem_configure`). A runtime
    /// does not need this: `Runtime::open_with` applies them itself for as
    /// long as the runtime is open. The allocator is process-wide: with
    /// several runtimes open, the strictest of the base and of each open
    /// runtime applies (the lowest non-zero limit and `gc_threshold`, the
    /// highest tracking level, hardened if any asks; docs/config.md,
    /// "Allocator settings are process-wide"), and closing a runtime drops
    /// what only it asked for. Tracking and hardening reach the pages each
    /// thread starts using afterwards, and its other pages at its next
    /// allocation slow path.
    pub fn apply_to_allocator(&self) -> Result<()> {
        // SAFETY: a valid, initialised config.
        check(unsafe { sys::brt_mem_configure(&self.raw) })
    }

    /// The C struct, for calls through `bridgert_sys`.
    pub fn as_raw(&self) -> &sys::brt_config {
        &self.raw
    }
    /// The C struct, mutable. Fields other than `plugin_dirs` may be set
    /// directly; plugin directories go through `add_plugin_dir`.
    pub fn as_raw_mut(&mut self) -> &mut sys::brt_config {
        &mut self.raw
    }
}

impl Default for Config {
    fn default() -> Config {
        Config::new()
    }
}

impl Clone for Config {
    fn clone(&self) -> Config {
        let mut copy = Config::new();
        // SAFETY: both configs are valid; copy is initialised as required.
        let status = unsafe { sys::brt_config_copy(&mut copy.raw, &self.raw) };
        // Only running out of memory for the directory strings fails here,
        // which Rust treats as it treats any allocation failure.
        if status != sys::BRT_OK {
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<sys::brt_config>());
        }
        copy
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        // SAFETY: the config is valid and owned by us.
        unsafe { sys::brt_config_dispose(&mut self.raw) }
    }
}
