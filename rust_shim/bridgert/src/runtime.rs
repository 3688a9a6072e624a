//! `Runtime`: plugins, registered algorithms and calls.
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};

use bridgert_sys as sys;

use crate::config::Config;
use crate::error::{c_string, check, Error, Result};
use crate::native::Prepared;

/// Export formats of `Runtime::metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Format {
    /// Prometheus text exposition format 0.0.4.
    Prometheus = sys::BRT_FORMAT_PROMETHEUS,
    /// The same content as one JSON object (docs/monitor.md).
    Json = sys::BRT_FORMAT_JSON,
}

/// The overall health level, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HealthLevel {
    Healthy,
    Degraded,
    Unhealthy,
}

/// What `Runtime::health` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub level: HealthLevel,
    /// The JSON report: "status", "uptime_seconds" and each check with its
    /// status and reason.
    pub report_json: String,
}

/// Copies a managed C string (a bridgert block) and releases the block.
///
/// # Safety
/// `text` is NULL or a NUL-terminated managed block the caller owns.
pub(crate) unsafe fn take_managed_text(text: *mut c_char, function: &str) -> Result<String> {
    if text.is_null() {
        return Err(Error::from_null(function));
    }
    let copy = CStr::from_ptr(text).to_string_lossy().into_owned();
    sys::brt_release(text.cast());
    Ok(copy)
}

/// One registered algorithm, as `Runtime::algorithms` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmInfo {
    pub name: String,
    pub version: String,
    pub description: Option<String>,
    /// The native signature ("f64(ptr,ptr,u64)") when it has a native function.
    pub signature: Option<String>,
    /// Whether `call` / `call_json` work (it has a value function).
    pub callable_with_values: bool,
}

/// An open runtime (`brt_runtime`). Closed when dropped.
pub struct Runtime {
    raw: NonNull<sys::brt_runtime>,
}

// SAFETY: every runtime function is thread-safe (runtime.h).
unsafe impl Send for Runtime {}
unsafe impl Sync for Runtime {}

fn path_text(what: &str, path: &Path) -> Result<CString> {
    c_string(what, path.as_os_str().as_bytes())
}

unsafe fn optional_text(text: *const c_char) -> Option<String> {
    (!text.is_null()).then(|| CStr::from_ptr(text).to_string_lossy().into_owned())
}

unsafe extern "C" fn collect_algorithm(ctx: *mut c_void, algorithm: *const sys::brt_algorithm) -> c_int {
    let list = &mut *ctx.cast::<Vec<AlgorithmInfo>>();
    let algorithm = &*algorithm;
    list.push(AlgorithmInfo {
        name: optional_text(algorithm.name).unwrap_or_default(),
        version: optional_text(algorithm.version).unwrap_or_default(),
        description: optional_text(algorithm.description),
        signature: if algorithm.native_fn.is_null() { None } else { optional_text(algorithm.signature) },
        callable_with_values: algorithm.value_fn.is_some(),
    });
    0
}

impl Runtime {
    /// A runtime with the defaults, overridden by the file named by
    /// `BRT_CONFIG` and the `BRT_*` environment variables.
    pub fn open() -> Result<Runtime> {
        // SAFETY: NULL asks for the resolved defaults.
        Runtime::adopt(unsafe { sys::brt_runtime_open(ptr::null()) })
    }

    /// A runtime with `config` (copied and validated).
    pub fn open_with(config: &Config) -> Result<Runtime> {
        // SAFETY: a valid config, copied by the call.
        Runtime::adopt(unsafe { sys::brt_runtime_open(config.as_raw()) })
    }

    /// A runtime with the defaults overridden by the JSON config file at
    /// `path`, then by the environment.
    pub fn open_with_config(path: impl AsRef<Path>) -> Result<Runtime> {
        let mut config = Config::from_json_file(path)?;
        config.load_env()?;
        Runtime::open_with(&config)
    }

    fn adopt(raw: *mut sys::brt_runtime) -> Result<Runtime> {
        let raw = NonNull::new(raw).ok_or_else(|| Error::from_null("brt_runtime_open"))?;
        Ok(Runtime { raw })
    }

    /// Loads a plugin (a shared object exporting brt_plugin_init_v1).
    pub fn load_plugin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path_text("plugin path", path.as_ref())?;
        // SAFETY: live runtime, C string.
        check(unsafe { sys::brt_plugin_load(self.raw.as_ptr(), path.as_ptr()) })
    }

    /// Loads every "*.so" in `dir`; the error lists each failure as causes.
    pub fn load_plugin_dir(&self, dir: impl AsRef<Path>) -> Result<()> {
        let dir = path_text("plugin directory", dir.as_ref())?;
        // SAFETY: live runtime, C string.
        check(unsafe { sys::brt_plugin_load_dir(self.raw.as_ptr(), dir.as_ptr()) })
    }

    pub fn unload_plugin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path_text("plugin path", path.as_ref())?;
        // SAFETY: live runtime, C string.
        check(unsafe { sys::brt_plugin_unload(self.raw.as_ptr(), path.as_ptr()) })
    }

    /// Unregisters "name@version", or every version of "name".
    pub fn unregister(&self, name: &str) -> Result<()> {
        let name = c_string("algorithm name", name)?;
        // SAFETY: live runtime, C string.
        check(unsafe { sys::brt_unregister(self.raw.as_ptr(), name.as_ptr()) })
    }

    /// Every registered algorithm, by name then highest version first.
    pub fn algorithms(&self) -> Result<Vec<AlgorithmInfo>> {
        let mut list: Vec<AlgorithmInfo> = Vec::new();
        // SAFETY: the visitor only appends to `list`, which outlives the call.
        check(unsafe {
            sys::brt_algorithms_list(self.raw.as_ptr(), Some(collect_algorithm), (&mut list as *mut Vec<AlgorithmInfo>).cast())
        })?;
        Ok(list)
    }

    /// Resolves a native algorithm for typed calls (`Prepared::invoke`).
    pub fn prepare(&self, name: &str) -> Result<Prepared> {
        let name = c_string("algorithm name", name)?;
        // SAFETY: live runtime; the handle is adopted by Prepared.
        unsafe { Prepared::from_raw(sys::brt_prepare(self.raw.as_ptr(), name.as_ptr())) }
    }

    /// The runtime's metrics (every algorithm's calls, errors by status,
    /// latency histogram, circuit state; registry gauges) as Prometheus text
    /// exposition 0.0.4 or as JSON.
    pub fn metrics(&self, format: Format) -> Result<String> {
        let mut text = ptr::null_mut();
        // SAFETY: live runtime; the text is a managed block we release.
        unsafe {
            check(sys::brt_metrics_export(self.raw.as_ptr(), format as u32, &mut text))?;
            take_managed_text(text, "brt_metrics_export")
        }
    }

    /// Runs the health checks: the overall level and the JSON report (each
    /// check with its status and reason).
    pub fn health(&self) -> Result<Health> {
        let (mut level, mut text) = (sys::BRT_HEALTHY, ptr::null_mut());
        // SAFETY: live runtime; the text is a managed block we release.
        unsafe {
            check(sys::brt_health_check_level(self.raw.as_ptr(), &mut level, &mut text))?;
            let report_json = take_managed_text(text, "brt_health_check_level")?;
            let level = match level {
                sys::BRT_HEALTHY => HealthLevel::Healthy,
                sys::BRT_DEGRADED => HealthLevel::Degraded,
                _ => HealthLevel::Unhealthy,
            };
            Ok(Health { level, report_json })
        }
    }

    pub fn as_raw(&self) -> *mut sys::brt_runtime {
        self.raw.as_ptr()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // SAFETY: we own the runtime, and no call through this handle is in
        // flight (calls borrow it).
        unsafe { sys::brt_runtime_close(self.raw.as_ptr()) };
    }
}
