//! `Runtime`: plugins, registered algorithms and calls.
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::{self, NonNull};
use std::sync::Mutex;

use bridgert_sys as sys;

use crate::config::Config;
use crate::error::{c_string, check, Error, Result};
use crate::native::Prepared;
use crate::panic::{catch_panic, status_boundary};
use crate::value::{take_managed_text, Value};

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
    /// Every check passes.
    Healthy,
    /// A check is past its warning threshold.
    Degraded,
    /// A check is past its critical threshold.
    Unhealthy,
}

/// What `Runtime::health` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// The overall level.
    pub level: HealthLevel,
    /// The JSON report: "status", "uptime_seconds" and each check with its
    /// status and reason.
    pub report_json: String,
}

/// One registered algorithm, as `Runtime::algorithms` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlgorithmInfo {
    /// The name it is called by.
    pub name: String,
    /// Its version (semver text).
    pub version: String,
    /// The description it registered, if any.
    pub description: Option<String>,
    /// The native signature ("f64(ptr,ptr,u64)") when it has a native function.
    pub signature: Option<String>,
    /// Whether `call` / `call_json` work (it has a value function).
    pub callable_with_values: bool,
}

/// A value algorithm written in Rust.
type RustAlgorithm = dyn Fn(&Value) -> Result<Value> + Send + Sync + 'static;

/// An open runtime (`brt_runtime`). Closed when dropped.
pub struct Runtime {
    raw: NonNull<sys::brt_runtime>,
    /// The Rust functions registered on this runtime, freed after the close.
    /// Double boxes: the context pointer C holds must be thin and must not
    /// move when the Vec grows.
    #[allow(clippy::vec_box)]
    registered: Mutex<Vec<Box<Box<RustAlgorithm>>>>,
}

// SAFETY: every runtime function is thread-safe (runtime.h); `registered`
// is behind a Mutex and the closures are Send + Sync.
unsafe impl Send for Runtime {}
unsafe impl Sync for Runtime {}

fn path_text(what: &str, path: &Path) -> Result<CString> {
    c_string(what, path.as_os_str().as_bytes())
}

unsafe fn optional_text(text: *const c_char) -> Option<String> {
    (!text.is_null()).then(|| CStr::from_ptr(text).to_string_lossy().into_owned())
}

/// The C side of every Rust value algorithm: catches panics, records the
/// Rust error, never unwinds.
unsafe extern "C" fn rust_algorithm_entry(
    ctx: *mut c_void,
    params: *const sys::brt_value,
    result: *mut *mut sys::brt_value,
) -> sys::brt_status {
    status_boundary(|| {
        // SAFETY: ctx is the Box<RustAlgorithm> registered with this entry,
        // kept alive by the Runtime; params is borrowed for the call.
        let function = &*ctx.cast::<Box<RustAlgorithm>>();
        let params = Value::from_borrowed(params)?;
        let output = function(&params)?;
        *result = output.into_raw();
        Ok(())
    })
}

struct Listing {
    algorithms: Vec<AlgorithmInfo>,
    failure: Option<Error>,
}

/// The visitor of `Runtime::algorithms`; like every entry point C calls,
/// it never unwinds (a panic stops the listing and is reported).
unsafe extern "C" fn collect_algorithm(ctx: *mut c_void, algorithm: *const sys::brt_algorithm) -> c_int {
    // SAFETY: ctx is the Listing of Runtime::algorithms, alive for the call.
    let listing = &mut *ctx.cast::<Listing>();
    let collected = catch_panic(|| {
        // SAFETY: the registry lends the description for this call.
        let algorithm = &*algorithm;
        Ok(AlgorithmInfo {
            name: optional_text(algorithm.name).unwrap_or_default(),
            version: optional_text(algorithm.version).unwrap_or_default(),
            description: optional_text(algorithm.description),
            signature: if algorithm.native_fn.is_null() { None } else { optional_text(algorithm.signature) },
            callable_with_values: algorithm.value_fn.is_some(),
        })
    });
    match collected {
        Ok(info) => {
            listing.algorithms.push(info);
            0
        }
        Err(error) => {
            listing.failure = Some(error);
            1
        }
    }
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
        Ok(Runtime { raw, registered: Mutex::new(Vec::new()) })
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

    /// Unloads the plugin loaded from `path` (its algorithms are unregistered; prepared handles keep it mapped until dropped).
    pub fn unload_plugin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path_text("plugin path", path.as_ref())?;
        // SAFETY: live runtime, C string.
        check(unsafe { sys::brt_plugin_unload(self.raw.as_ptr(), path.as_ptr()) })
    }

    /// Replaces the plugin loaded from `path` with the file now there: new
    /// calls go to the new image, calls in flight finish on the old one. On
    /// failure the old image keeps serving and the error names the cause.
    pub fn reload_plugin(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path_text("plugin path", path.as_ref())?;
        // SAFETY: live runtime, C string.
        check(unsafe { sys::brt_plugin_reload(self.raw.as_ptr(), path.as_ptr()) })
    }

    /// Registers a Rust function as value algorithm `name` (or
    /// "name@version"; the version defaults to 1.0.0), so C, C++ and Rust
    /// callers reach it by name. `schema` (JSON Schema) is checked against
    /// the params of every call before `function` runs. A panic in
    /// `function` becomes RUST_PANIC for the caller; an `Err` arrives whole.
    pub fn register_fn<F>(&self, name: &str, schema: Option<&str>, function: F) -> Result<()>
    where
        F: Fn(&Value) -> Result<Value> + Send + Sync + 'static,
    {
        let (name, version) = name.split_once('@').unwrap_or((name, "1.0.0"));
        let name = c_string("algorithm name", name)?;
        let version = c_string("algorithm version", version)?;
        let schema = schema.map(|s| c_string("input schema", s)).transpose()?;
        let boxed: Box<Box<RustAlgorithm>> = Box::new(Box::new(function));
        let algorithm = sys::brt_algorithm {
            struct_size: std::mem::size_of::<sys::brt_algorithm>() as u32,
            name: name.as_ptr(),
            version: version.as_ptr(),
            description: c"a Rust function registered through bridgert::Runtime::register_fn".as_ptr(),
            input_schema: schema.as_ref().map_or(ptr::null(), |s| s.as_ptr()),
            value_fn: Some(rust_algorithm_entry),
            native_fn: ptr::null_mut(),
            signature: ptr::null(),
            timeout_ms: 0,
            memory_limit: 0,
            flags: 0,
            ctx: (&*boxed as *const Box<RustAlgorithm>).cast_mut().cast(),
            native_thunk: None,
            output_schema: ptr::null(),
        };
        let mut registered = self.registered.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // SAFETY: every pointer lives until after the call (strings are
        // copied); the context lives in `registered` until the runtime closes.
        check(unsafe { sys::brt_register(self.raw.as_ptr(), &algorithm) })?;
        registered.push(boxed);
        Ok(())
    }

    /// Unregisters "name@version", or every version of "name".
    pub fn unregister(&self, name: &str) -> Result<()> {
        let name = c_string("algorithm name", name)?;
        // SAFETY: live runtime, C string.
        check(unsafe { sys::brt_unregister(self.raw.as_ptr(), name.as_ptr()) })
    }

    /// Every registered algorithm, by name then highest version first.
    pub fn algorithms(&self) -> Result<Vec<AlgorithmInfo>> {
        let mut listing = Listing { algorithms: Vec::new(), failure: None };
        // SAFETY: the visitor only writes `listing`, which outlives the call.
        let status = unsafe {
            sys::brt_algorithms_list(
                self.raw.as_ptr(),
                Some(collect_algorithm),
                (&mut listing as *mut Listing).cast(),
            )
        };
        match listing.failure {
            Some(error) => Err(error),
            None => check(status).map(|()| listing.algorithms),
        }
    }

    /// Calls value algorithm `name` ("name" is the highest version,
    /// "name@1.2.0" that one) with `params`. Errors: VALIDATION against the
    /// input schema (naming the JSON Pointer), NOT_FOUND (suggesting the
    /// closest name), TIMEOUT, ISOLATED, or the algorithm's own failure —
    /// with its status, wrapped in an error naming the algorithm whose cause
    /// is the algorithm's error (a C++ exception keeps its type).
    pub fn call(&self, name: &str, params: &Value) -> Result<Value> {
        let name = c_string("algorithm name", name)?;
        let mut result = ptr::null_mut();
        // SAFETY: live runtime and value; the result is ours to release.
        check(unsafe { sys::brt_call(self.raw.as_ptr(), name.as_ptr(), params.as_raw(), &mut result) })?;
        // SAFETY: on success *result is a new reference.
        unsafe { Value::from_raw(result) }
    }

    /// `call` with JSON text in and out (CONVERSION names the position of a
    /// syntax error in `params_json`).
    pub fn call_json(&self, name: &str, params_json: &str) -> Result<String> {
        let name = c_string("algorithm name", name)?;
        let params = c_string("params JSON", params_json)?;
        let mut text = ptr::null_mut();
        // SAFETY: live runtime, C strings; the text is a managed block we release.
        unsafe {
            check(sys::brt_call_json(self.raw.as_ptr(), name.as_ptr(), params.as_ptr(), &mut text))?;
            take_managed_text(text, "brt_call_json")
        }
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

    /// The C handle, for `bridgert::sys` calls; valid while `self` lives.
    pub fn as_raw(&self) -> *mut sys::brt_runtime {
        self.raw.as_ptr()
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // SAFETY: we own the runtime. No call through this handle is in
        // flight (calls borrow it), so the Rust functions are freed after
        // the close, when C no longer calls them.
        unsafe { sys::brt_runtime_close(self.raw.as_ptr()) };
    }
}
