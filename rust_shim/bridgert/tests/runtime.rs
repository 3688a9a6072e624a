//! Runtime from Rust: opening, plugin refusals, the registry and typed
//! native calls, with every error path.
use std::ffi::{c_char, c_void, CStr};
use std::ptr;

use bridgert::{sys, Block, Config, Runtime, Status};

extern "C" fn add(a: f64, b: f64) -> f64 {
    a + b
}

unsafe extern "C" fn sum(values: *const f64, count: u64) -> f64 {
    std::slice::from_raw_parts(values, count as usize).iter().sum()
}

unsafe extern "C" fn length(text: *const c_char) -> i64 {
    CStr::from_ptr(text).to_bytes().len() as i64
}

extern "C" fn nothing() {}

fn register_native(
    runtime: &Runtime,
    name: &CStr,
    signature: &CStr,
    function: *mut c_void,
) -> sys::brt_status {
    let algorithm = sys::brt_algorithm {
        struct_size: std::mem::size_of::<sys::brt_algorithm>() as u32,
        name: name.as_ptr(),
        version: c"1.0.0".as_ptr(),
        description: ptr::null(),
        input_schema: ptr::null(),
        value_fn: None,
        native_fn: function,
        signature: signature.as_ptr(),
        timeout_ms: 0,
        memory_limit: 0,
        flags: 0,
        ctx: ptr::null_mut(),
        native_thunk: None,
        output_schema: ptr::null(),
    };
    // SAFETY: a complete description whose strings outlive the call.
    unsafe { sys::brt_register(runtime.as_raw(), &algorithm) }
}

fn runtime_with_natives() -> Runtime {
    let runtime = Runtime::open_with(&Config::new()).unwrap();
    assert_eq!(register_native(&runtime, c"add", c"f64(f64,f64)", add as *mut c_void), sys::BRT_OK);
    assert_eq!(register_native(&runtime, c"sum", c"f64(ptr,u64)", sum as *mut c_void), sys::BRT_OK);
    assert_eq!(register_native(&runtime, c"length", c"i64(str)", length as *mut c_void), sys::BRT_OK);
    assert_eq!(register_native(&runtime, c"nothing", c"void()", nothing as *mut c_void), sys::BRT_OK);
    runtime
}

#[test]
fn typed_native_calls_check_the_signature_first() {
    let runtime = runtime_with_natives();
    let add = runtime.prepare("add").unwrap();
    assert_eq!(add.signature(), "f64(f64,f64)");
    assert_eq!(add.invoke::<(f64, f64), f64>((1.5, 2.0)).unwrap(), 3.5);
    let typed = add.typed::<(f64, f64), f64>().unwrap();
    assert_eq!(typed.call((40.0, 2.0)).unwrap(), 42.0);

    let error = add.invoke::<(f64, i32), f64>((1.0, 2)).unwrap_err();
    assert_eq!(error.status(), Status::TypeMismatch);
    assert!(
        error.message().contains("f64(f64,f64)") && error.message().contains("f64(f64,i32)"),
        "{}",
        error.message()
    );
    assert_eq!(add.invoke::<(f64,), f64>((1.0,)).unwrap_err().status(), Status::TypeMismatch);
    assert_eq!(add.typed::<(f64, f64), i64>().err().unwrap().status(), Status::TypeMismatch);

    let values = Block::<f64>::from_slice(&[1.0, 2.0, 3.5]).unwrap();
    let total: f64 = runtime.prepare("sum").unwrap().invoke((values.as_ptr(), values.len() as u64)).unwrap();
    assert_eq!(total, 6.5);
    let chars: i64 = runtime.prepare("length").unwrap().invoke((c"bridgert",)).unwrap();
    assert_eq!(chars, 8);
    runtime.prepare("nothing").unwrap().invoke::<(), ()>(()).unwrap();
}

#[test]
fn the_registry_lists_and_refuses() {
    let runtime = runtime_with_natives();
    let names: Vec<_> = runtime.algorithms().unwrap().into_iter().map(|a| (a.name, a.signature)).collect();
    assert!(names.contains(&("add".into(), Some("f64(f64,f64)".into()))), "{names:?}");
    assert_eq!(register_native(&runtime, c"add", c"f64(f64,f64)", add as *mut c_void), sys::BRT_E_EXISTS);
    let error = bridgert::Error::take_last().unwrap();
    assert_eq!(error.status(), Status::Exists);

    let error = runtime.prepare("no_such_algorithm").err().unwrap();
    assert_eq!(error.status(), Status::NotFound);
    assert!(error.message().contains("no_such_algorithm"), "{}", error.message());
    assert_eq!(runtime.prepare("bad\0name").err().unwrap().status(), Status::InvalidArgument);

    let prepared = runtime.prepare("add").unwrap();
    runtime.unregister("add").unwrap();
    let error = prepared.invoke::<(f64, f64), f64>((1.0, 1.0)).unwrap_err();
    assert_eq!(error.status(), Status::NotFound, "{error}");
    assert_eq!(runtime.unregister("add").unwrap_err().status(), Status::NotFound);
}

#[test]
fn opening_and_plugin_loading_errors() {
    let mut config = Config::new();
    config.as_raw_mut().error_rate_threshold = 7.5;
    assert_eq!(Runtime::open_with(&config).err().unwrap().status(), Status::InvalidArgument);
    let error = Runtime::open_with_config("/nonexistent/bridgert.json").err().unwrap();
    assert_eq!(error.status(), Status::NotFound);

    let runtime = Runtime::open().unwrap();
    let error = runtime.load_plugin("/nonexistent/plugin.so").unwrap_err();
    assert_eq!(error.status(), Status::NotFound, "{error}");

    // A file in a world-writable directory (/tmp) is refused before it is read.
    let in_tmp = std::env::temp_dir().join(format!("bridgert-rust-plugin-{}.so", std::process::id()));
    std::fs::write(&in_tmp, b"not an ELF file").unwrap();
    let error = runtime.load_plugin(&in_tmp).unwrap_err();
    assert_eq!(error.status(), Status::Permission, "{error}");
    assert!(error.message().contains("world-writable"), "{}", error.message());
    std::fs::remove_file(&in_tmp).unwrap();

    // In a private directory, a file that is not a shared object is PLUGIN.
    let dir =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("plugins-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let not_a_plugin = dir.join("not_a_plugin.so");
    std::fs::write(&not_a_plugin, b"not an ELF file").unwrap();
    let error = runtime.load_plugin(&not_a_plugin).unwrap_err();
    assert_eq!(error.status(), Status::Plugin, "{error}");
    let error = runtime.load_plugin_dir(&dir).unwrap_err();
    assert_eq!(error.status(), Status::Plugin, "{error}");
    assert!(error.cause().is_some(), "the directory error lists each failure as a cause: {error}");
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(runtime.load_plugin("a\0b").unwrap_err().status(), Status::InvalidArgument);
    assert_eq!(runtime.load_plugin_dir("/nonexistent/dir").unwrap_err().status(), Status::NotFound);
    assert_eq!(runtime.unload_plugin("/nonexistent/plugin.so").unwrap_err().status(), Status::NotFound);
}

#[test]
fn a_runtime_is_shared_between_threads() {
    let runtime = runtime_with_natives();
    std::thread::scope(|scope| {
        for t in 0..4 {
            let runtime = &runtime;
            scope.spawn(move || {
                let add = runtime.prepare("add").unwrap();
                let typed = add.typed::<(f64, f64), f64>().unwrap();
                for i in 0..1000 {
                    assert_eq!(typed.call((t as f64, i as f64)).unwrap(), (t + i) as f64);
                }
            });
        }
    });
}

#[test]
fn metrics_and_health_report_the_calls() {
    let runtime = runtime_with_natives();
    let add = runtime.prepare("add").unwrap();
    for i in 0..10 {
        add.invoke::<(f64, f64), f64>((i as f64, 1.0)).unwrap();
    }
    let text = runtime.metrics(bridgert::Format::Prometheus).unwrap();
    assert!(text.contains("# TYPE") && text.contains("\"add\""), "{text}");
    let json = runtime.metrics(bridgert::Format::Json).unwrap();
    assert!(json.starts_with('{') && json.contains("add"), "{json}");
    let health = runtime.health().unwrap();
    assert_eq!(health.level, bridgert::HealthLevel::Healthy, "{}", health.report_json);
    assert!(health.report_json.contains("\"status\""), "{}", health.report_json);
}
