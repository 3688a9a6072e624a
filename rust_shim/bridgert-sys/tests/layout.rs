//! Proves the Rust declarations match the C headers, so the two cannot drift
//! apart silently:
//! - every struct's size, alignment and field offsets/sizes, and every enum
//!   constant, against what the C compiler measured (the `layout_probe`
//!   program meson builds, named by BRIDGERT_LAYOUT_PROBE);
//! - every struct, enum and enum constant the headers define is covered by
//!   that comparison (the headers under BRIDGERT_INCLUDE_DIR are scanned);
//! - every `BRT_API` function of the headers is declared in this crate.
use std::collections::BTreeSet;
use std::env;
use std::fs;
use std::mem::{align_of, offset_of, size_of};
use std::path::PathBuf;
use std::process::Command;

use bridgert_sys::*;

/// Functions of the headers that cannot be declared in stable Rust, with why.
const UNDECLARABLE: &[(&str, &str)] =
    &[("brt_error_setv", "takes a C va_list, which stable Rust cannot build")];

fn field_size<T, F>(_: fn(&T) -> &F) -> usize {
    size_of::<F>()
}

/// The facts the Rust side states, in the probe's line format.
macro_rules! facts {
    (
        structs { $($t:ident { $($f:ident),* $(,)? })* }
        enums { $($e:ident),* $(,)? }
        consts { $($c:ident),* $(,)? }
    ) => {{
        let mut lines = BTreeSet::new();
        $(
            lines.insert(format!("struct {} {} {}", stringify!($t), size_of::<$t>(), align_of::<$t>()));
            $(
                lines.insert(format!(
                    "field {}.{} {} {}",
                    stringify!($t),
                    stringify!($f).trim_end_matches('_'),
                    offset_of!($t, $f),
                    field_size(|s: &$t| &s.$f),
                ));
            )*
        )*
        $( lines.insert(format!("enum {} {}", stringify!($e), size_of::<$e>())); )*
        $( lines.insert(format!("const {} {}", stringify!($c), $c as i128)); )*
        lines
    }};
}

fn rust_facts() -> BTreeSet<String> {
    facts! {
        structs {
            brt_error_info { struct_size, code, origin, type_, message, os_code, os_category,
                             path1, path2, cause }
            brt_translation { struct_size, code, message }
            brt_config { struct_size, max_memory, gc_threshold, gc_interval_ms, tracking, hardened,
                         plugin_dirs, plugin_dir_count, allow_world_writable, default_timeout_ms,
                         error_rate_threshold, error_window, cooldown_ms, health_memory_degraded,
                         health_memory_unhealthy, isolation, plugin_watch }
            brt_block_info { struct_size, size, usable, align, type_, refcount, id, age_ns, flags }
            brt_mem_stats { struct_size, live_blocks, live_bytes, peak_bytes, committed_bytes,
                            total_allocs, total_frees, live_bytes_by_type, errors_invalid_pointer,
                            errors_double_free, errors_layout_mismatch, limit_bytes, active_shares,
                            total_shares, mapped_files, collections, errors_use_after_free,
                            abandoned_segments, tracking }
            brt_mem_class_stats { struct_size, class_index, block_size, allocs, frees, live_blocks,
                                  live_bytes }
            brt_mem_budget { struct_size, limit, label, used, peak, refused, internal_baseline, internal_outer }
            brt_plugin_options { struct_size, isolation, workers, memory_limit, timeout_ms, flags }
            brt_algorithm { struct_size, name, version, description, input_schema, value_fn,
                            native_fn, signature, timeout_ms, memory_limit, flags, ctx,
                            native_thunk, output_schema }
            brt_tensor_info { struct_size, dtype, ndim, shape, strides, count, data, block }
            brt_json_options { struct_size, flags, max_depth, max_input, max_string, tensor_dtype }
            brt_json_location { struct_size, line, column, offset }
            brt_algo_snapshot { struct_size, calls, errors, rejected, in_flight, latency_sum_ns,
                                p50_ns, p95_ns, p99_ns, max_ns, state, window_calls, window_errors,
                                latency_count }
        }
        enums { brt_status, brt_origin, brt_tracking, brt_isolation, brt_health_level, brt_circuit_state,
                brt_format, brt_mem_type, brt_kind, brt_dtype }
        consts {
            BRT_OK, BRT_E_INVALID_ARGUMENT, BRT_E_OUT_OF_MEMORY, BRT_E_LIMIT_EXCEEDED,
            BRT_E_INVALID_POINTER, BRT_E_DOUBLE_FREE, BRT_E_LAYOUT_MISMATCH, BRT_E_TYPE_MISMATCH,
            BRT_E_OUT_OF_RANGE, BRT_E_NOT_FOUND, BRT_E_EXISTS, BRT_E_VALIDATION, BRT_E_CONVERSION,
            BRT_E_CPP_EXCEPTION, BRT_E_RUST_PANIC, BRT_E_TIMEOUT, BRT_E_CRASHED, BRT_E_ISOLATED,
            BRT_E_IO, BRT_E_PLUGIN, BRT_E_ABI_MISMATCH, BRT_E_PERMISSION, BRT_E_UNSUPPORTED,
            BRT_E_INTERNAL, BRT_STATUS_COUNT,
            BRT_ORIGIN_C, BRT_ORIGIN_CPP, BRT_ORIGIN_RUST, BRT_ORIGIN_OS, BRT_ORIGIN_PLUGIN,
            BRT_ORIGIN_COUNT,
            BRT_VERSION_MAJOR, BRT_VERSION_MINOR, BRT_VERSION_PATCH, BRT_ABI_VERSION,
            BRT_VERSION_HEX,
            BRT_ERROR_MESSAGE_MAX, BRT_ERROR_NAME_MAX, BRT_ERROR_CAUSE_DEPTH_MAX,
            BRT_TRACKING_OFF, BRT_TRACKING_COUNTERS, BRT_TRACKING_BLOCKS, BRT_TRACKING_BACKTRACE,
            BRT_ISOLATION_NONE, BRT_ISOLATION_PROCESS, BRT_ISOLATION_SANDBOX,
            BRT_CONFIG_MAX_PLUGIN_DIRS,
            BRT_MEM_C_HEAP, BRT_MEM_RUST_HEAP, BRT_MEM_CPP_HEAP, BRT_MEM_SHARED, BRT_MEM_MAPPED,
            BRT_MEM_TYPE_COUNT, BRT_ALLOC_ZERO, BRT_MAP_WRITABLE, BRT_REFCOUNT_MAX, BRT_ALLOC_SIZE_MAX,
            BRT_ALLOC_ALIGN_MAX, BRT_BLOCK_READ_ONLY, BRT_MEM_CLASS_COUNT,
            BRT_KIND_NULL, BRT_KIND_BOOL, BRT_KIND_INT, BRT_KIND_FLOAT, BRT_KIND_STRING,
            BRT_KIND_BYTES, BRT_KIND_ARRAY, BRT_KIND_OBJECT, BRT_KIND_TENSOR, BRT_KIND_INVALID,
            BRT_DTYPE_F64, BRT_DTYPE_F32, BRT_DTYPE_I64, BRT_DTYPE_I32, BRT_DTYPE_U8,
            BRT_DTYPE_BOOL, BRT_TENSOR_MAX_DIMS, BRT_VALUE_MAX_DEPTH,
            BRT_JSON_DUPLICATE_LAST_WINS, BRT_JSON_TENSORS, BRT_JSON_NONFINITE_AS_NULL,
            BRT_JSON_BYTES_AS_BASE64, BRT_JSON_DEFAULT_MAX_DEPTH, BRT_JSON_DEFAULT_MAX_INPUT,
            BRT_JSON_DEFAULT_MAX_STRING,
            BRT_SIGNATURE_MAX_ARGS, BRT_ALGORITHM_NAME_MAX, BRT_ALGORITHM_VERSION_MAX,
            BRT_MONITOR_SAMPLING_DEFAULT, BRT_MONITOR_SAMPLING_MAX,
            BRT_FORMAT_PROMETHEUS, BRT_FORMAT_JSON, BRT_HEALTHY, BRT_DEGRADED, BRT_UNHEALTHY,
            BRT_CIRCUIT_CLOSED, BRT_CIRCUIT_OPEN, BRT_CIRCUIT_HALF_OPEN,
        }
    }
}

fn required_env(name: &str) -> PathBuf {
    PathBuf::from(
        env::var_os(name).unwrap_or_else(|| {
            panic!("{name} is not set: run these tests through `meson test` (it sets it)")
        }),
    )
}

fn c_facts() -> BTreeSet<String> {
    let probe = required_env("BRIDGERT_LAYOUT_PROBE");
    let output = Command::new(&probe)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the layout probe {}: {e}", probe.display()));
    assert!(output.status.success(), "{} failed: {:?}", probe.display(), output.status);
    String::from_utf8(output.stdout).unwrap().lines().map(str::to_owned).collect()
}

fn header_texts() -> Vec<(String, String)> {
    let dir = required_env("BRIDGERT_INCLUDE_DIR").join("bridgert");
    let mut texts = Vec::new();
    for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "h") {
            let text = strip_comments(&fs::read_to_string(&path).unwrap());
            texts.push((path.file_name().unwrap().to_string_lossy().into_owned(), text));
        }
    }
    assert!(!texts.is_empty(), "no headers found in {}", dir.display());
    texts
}

fn strip_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..].find("*/").map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out.lines().map(|l| l.split("//").next().unwrap()).collect::<Vec<_>>().join("\n")
}

fn identifier_at(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(text.len());
    &text[..end]
}

/// Struct and enum names with a body, and the named constants of enum bodies.
fn header_definitions() -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let (mut structs, mut enums, mut constants) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for (_, text) in header_texts() {
        for (keyword, names) in [("struct ", &mut structs), ("enum ", &mut enums)] {
            for (at, _) in text.match_indices(keyword) {
                let after = text[at + keyword.len()..].trim_start();
                let name = identifier_at(after);
                let body = after[name.len()..].trim_start();
                if !body.starts_with('{') {
                    continue; // a declaration or a use, not a definition
                }
                if !name.is_empty() {
                    names.insert(name.to_owned());
                }
                if keyword == "enum " {
                    let inner = &body[1..body.find('}').unwrap()];
                    for entry in inner.split(',') {
                        let entry = entry.trim();
                        let constant = identifier_at(entry);
                        let rest = entry[constant.len()..].trim_start();
                        if constant.starts_with("BRT_") && !rest.starts_with('(') {
                            constants.insert(constant.to_owned());
                        }
                    }
                }
            }
        }
    }
    (structs, enums, constants)
}

#[test]
fn structs_and_enums_match_the_c_compiler() {
    let (rust, c) = (rust_facts(), c_facts());
    let only_c: Vec<_> = c.difference(&rust).collect();
    let only_rust: Vec<_> = rust.difference(&c).collect();
    assert!(
        only_c.is_empty() && only_rust.is_empty(),
        "layout mismatch between bridgert-sys and the C headers\n  C says:    {only_c:#?}\n  Rust says: {only_rust:#?}"
    );
}

#[test]
fn every_header_definition_is_compared() {
    let facts = c_facts();
    let (structs, enums, constants) = header_definitions();
    assert!(structs.contains("brt_config") && enums.contains("brt_status"), "header scan broken");
    for name in structs {
        assert!(facts.iter().any(|f| f.starts_with(&format!("struct {name} "))),
            "struct {name} is defined in a header but not compared (add it to layout_probe.c and tests/layout.rs)");
    }
    for name in enums {
        assert!(
            facts.iter().any(|f| f.starts_with(&format!("enum {name} "))),
            "enum {name} is defined in a header but not compared"
        );
    }
    for name in constants {
        assert!(
            facts.iter().any(|f| f.starts_with(&format!("const {name} "))),
            "enum constant {name} is defined in a header but not compared"
        );
    }
}

#[test]
fn every_exported_function_is_declared() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut declared = BTreeSet::new();
    for entry in fs::read_dir(&src).unwrap() {
        let text = fs::read_to_string(entry.unwrap().path()).unwrap();
        for (at, _) in text.match_indices("pub fn ") {
            declared.insert(identifier_at(&text[at + 7..]).to_owned());
        }
        for (at, _) in text.match_indices("pub unsafe fn ") {
            declared.insert(identifier_at(&text[at + 14..]).to_owned());
        }
    }
    let mut missing = Vec::new();
    let mut count = 0;
    for (file, text) in header_texts() {
        for (at, _) in text.match_indices("BRT_API ") {
            let declaration = &text[at..];
            let paren = declaration.find('(').unwrap();
            let head = declaration[..paren].trim_end();
            let name = head.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).next().unwrap();
            if name.is_empty() || !name.starts_with("brt_") {
                continue; // the BRT_API macro's own definition
            }
            count += 1;
            if !declared.contains(name) && !UNDECLARABLE.iter().any(|(n, _)| *n == name) {
                missing.push(format!("{name} ({file})"));
            }
        }
    }
    assert!(count > 30, "found only {count} BRT_API functions: header scan broken");
    assert!(missing.is_empty(), "functions of the headers not declared in bridgert-sys: {missing:#?}");
}

#[test]
fn the_linked_library_is_the_one_the_headers_describe() {
    // SAFETY: plain queries without arguments.
    unsafe {
        assert_eq!(brt_abi_version(), BRT_ABI_VERSION);
        assert_eq!(brt_version(), BRT_VERSION_HEX);
        let text = std::ffi::CStr::from_ptr(brt_version_string()).to_str().unwrap();
        assert_eq!(text, format!("{BRT_VERSION_MAJOR}.{BRT_VERSION_MINOR}.{BRT_VERSION_PATCH}"));
    }
}
