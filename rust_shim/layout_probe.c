/* Prints the layout of every struct and the value of every enum constant of
 * the public headers, one fact per line, for the Rust test
 * bridgert-sys/tests/layout.rs, which compares them with the Rust
 * declarations. The C compiler measures; nothing here is written by hand but
 * the list of names:
 *   struct NAME SIZE ALIGN
 *   field NAME.FIELD OFFSET SIZE
 *   enum NAME SIZE
 *   const NAME VALUE */
#include <bridgert.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>

#define STRUCT(T) printf("struct %s %zu %zu\n", #T, sizeof(T), alignof(T))
#define FIELD(T, F) printf("field %s.%s %zu %zu\n", #T, #F, offsetof(T, F), sizeof(((T *)0)->F))
#define ENUM(T) printf("enum %s %zu\n", #T, sizeof(T))
#define CONST(C) printf("const %s %lld\n", #C, (long long)(C))
#define STATUS_CONST(name, text) CONST(BRT_##name);
#define ORIGIN_CONST(name, text) CONST(BRT_ORIGIN_##name);

static void print_status_h(void) {
  ENUM(brt_status);
  BRT_STATUS_MAP(STATUS_CONST)
  CONST(BRT_STATUS_COUNT);
  ENUM(brt_origin);
  BRT_ORIGIN_MAP(ORIGIN_CONST)
  CONST(BRT_ORIGIN_COUNT);
}

static void print_version_h(void) {
  CONST(BRT_VERSION_MAJOR);
  CONST(BRT_VERSION_MINOR);
  CONST(BRT_VERSION_PATCH);
  CONST(BRT_ABI_VERSION);
  CONST(BRT_VERSION_HEX);
}

static void print_error_h(void) {
  CONST(BRT_ERROR_MESSAGE_MAX);
  CONST(BRT_ERROR_NAME_MAX);
  CONST(BRT_ERROR_CAUSE_DEPTH_MAX);
  STRUCT(brt_error_info);
  FIELD(brt_error_info, struct_size);
  FIELD(brt_error_info, code);
  FIELD(brt_error_info, origin);
  FIELD(brt_error_info, type);
  FIELD(brt_error_info, message);
  FIELD(brt_error_info, os_code);
  FIELD(brt_error_info, os_category);
  FIELD(brt_error_info, path1);
  FIELD(brt_error_info, path2);
  FIELD(brt_error_info, cause);
  STRUCT(brt_translation);
  FIELD(brt_translation, struct_size);
  FIELD(brt_translation, code);
  FIELD(brt_translation, message);
}

static void print_config_h(void) {
  ENUM(brt_tracking);
  CONST(BRT_TRACKING_OFF);
  CONST(BRT_TRACKING_COUNTERS);
  CONST(BRT_TRACKING_BLOCKS);
  CONST(BRT_TRACKING_BACKTRACE);
  ENUM(brt_isolation);
  CONST(BRT_ISOLATION_NONE);
  CONST(BRT_ISOLATION_PROCESS);
  CONST(BRT_ISOLATION_SANDBOX);
  CONST(BRT_CONFIG_MAX_PLUGIN_DIRS);
  STRUCT(brt_config);
  FIELD(brt_config, struct_size);
  FIELD(brt_config, max_memory);
  FIELD(brt_config, gc_threshold);
  FIELD(brt_config, gc_interval_ms);
  FIELD(brt_config, tracking);
  FIELD(brt_config, hardened);
  FIELD(brt_config, plugin_dirs);
  FIELD(brt_config, plugin_dir_count);
  FIELD(brt_config, allow_world_writable);
  FIELD(brt_config, default_timeout_ms);
  FIELD(brt_config, error_rate_threshold);
  FIELD(brt_config, error_window);
  FIELD(brt_config, cooldown_ms);
  FIELD(brt_config, health_memory_degraded);
  FIELD(brt_config, health_memory_unhealthy);
  FIELD(brt_config, isolation);
  FIELD(brt_config, plugin_watch);
}

static void print_value_h(void) {
  ENUM(brt_kind);
  CONST(BRT_KIND_NULL);
  CONST(BRT_KIND_BOOL);
  CONST(BRT_KIND_INT);
  CONST(BRT_KIND_FLOAT);
  CONST(BRT_KIND_STRING);
  CONST(BRT_KIND_BYTES);
  CONST(BRT_KIND_ARRAY);
  CONST(BRT_KIND_OBJECT);
  CONST(BRT_KIND_TENSOR);
  CONST(BRT_KIND_INVALID);
  ENUM(brt_dtype);
  CONST(BRT_DTYPE_F64);
  CONST(BRT_DTYPE_F32);
  CONST(BRT_DTYPE_I64);
  CONST(BRT_DTYPE_I32);
  CONST(BRT_DTYPE_U8);
  CONST(BRT_DTYPE_BOOL);
  CONST(BRT_TENSOR_MAX_DIMS);
  CONST(BRT_VALUE_MAX_DEPTH);
  CONST(BRT_JSON_DUPLICATE_LAST_WINS);
  CONST(BRT_JSON_TENSORS);
  CONST(BRT_JSON_NONFINITE_AS_NULL);
  CONST(BRT_JSON_BYTES_AS_BASE64);
  CONST(BRT_JSON_DEFAULT_MAX_DEPTH);
  CONST(BRT_JSON_DEFAULT_MAX_INPUT);
  CONST(BRT_JSON_DEFAULT_MAX_STRING);
  STRUCT(brt_tensor_info);
  FIELD(brt_tensor_info, struct_size);
  FIELD(brt_tensor_info, dtype);
  FIELD(brt_tensor_info, ndim);
  FIELD(brt_tensor_info, shape);
  FIELD(brt_tensor_info, strides);
  FIELD(brt_tensor_info, count);
  FIELD(brt_tensor_info, data);
  FIELD(brt_tensor_info, block);
  STRUCT(brt_json_options);
  FIELD(brt_json_options, struct_size);
  FIELD(brt_json_options, flags);
  FIELD(brt_json_options, max_depth);
  FIELD(brt_json_options, max_input);
  FIELD(brt_json_options, max_string);
  FIELD(brt_json_options, tensor_dtype);
  STRUCT(brt_json_location);
  FIELD(brt_json_location, struct_size);
  FIELD(brt_json_location, line);
  FIELD(brt_json_location, column);
  FIELD(brt_json_location, offset);
}

static void print_monitor_h(void) {
  ENUM(brt_format);
  CONST(BRT_FORMAT_PROMETHEUS);
  CONST(BRT_FORMAT_JSON);
  ENUM(brt_health_level);
  CONST(BRT_HEALTHY);
  CONST(BRT_DEGRADED);
  CONST(BRT_UNHEALTHY);
  ENUM(brt_circuit_state);
  CONST(BRT_CIRCUIT_CLOSED);
  CONST(BRT_CIRCUIT_OPEN);
  CONST(BRT_CIRCUIT_HALF_OPEN);
  STRUCT(brt_algo_snapshot);
  FIELD(brt_algo_snapshot, struct_size);
  FIELD(brt_algo_snapshot, calls);
  FIELD(brt_algo_snapshot, errors);
  FIELD(brt_algo_snapshot, rejected);
  FIELD(brt_algo_snapshot, in_flight);
  FIELD(brt_algo_snapshot, latency_sum_ns);
  FIELD(brt_algo_snapshot, p50_ns);
  FIELD(brt_algo_snapshot, p95_ns);
  FIELD(brt_algo_snapshot, p99_ns);
  FIELD(brt_algo_snapshot, max_ns);
  FIELD(brt_algo_snapshot, state);
  FIELD(brt_algo_snapshot, window_calls);
  FIELD(brt_algo_snapshot, window_errors);
  FIELD(brt_algo_snapshot, latency_count);
  CONST(BRT_MONITOR_SAMPLING_DEFAULT);
  CONST(BRT_MONITOR_SAMPLING_MAX);
}

static void print_memory_h(void) {
  ENUM(brt_mem_type);
  CONST(BRT_MEM_C_HEAP);
  CONST(BRT_MEM_RUST_HEAP);
  CONST(BRT_MEM_CPP_HEAP);
  CONST(BRT_MEM_SHARED);
  CONST(BRT_MEM_MAPPED);
  CONST(BRT_MEM_TYPE_COUNT);
  CONST(BRT_ALLOC_ZERO);
  CONST(BRT_MAP_WRITABLE);
  CONST(BRT_REFCOUNT_MAX);
  CONST(BRT_ALLOC_SIZE_MAX);
  CONST(BRT_ALLOC_ALIGN_MAX);
  STRUCT(brt_block_info);
  FIELD(brt_block_info, struct_size);
  FIELD(brt_block_info, size);
  FIELD(brt_block_info, usable);
  FIELD(brt_block_info, align);
  FIELD(brt_block_info, type);
  FIELD(brt_block_info, refcount);
  FIELD(brt_block_info, id);
  FIELD(brt_block_info, age_ns);
  FIELD(brt_block_info, flags);
  CONST(BRT_BLOCK_READ_ONLY);
  STRUCT(brt_mem_stats);
  FIELD(brt_mem_stats, struct_size);
  FIELD(brt_mem_stats, live_blocks);
  FIELD(brt_mem_stats, live_bytes);
  FIELD(brt_mem_stats, peak_bytes);
  FIELD(brt_mem_stats, committed_bytes);
  FIELD(brt_mem_stats, total_allocs);
  FIELD(brt_mem_stats, total_frees);
  FIELD(brt_mem_stats, live_bytes_by_type);
  FIELD(brt_mem_stats, errors_invalid_pointer);
  FIELD(brt_mem_stats, errors_double_free);
  FIELD(brt_mem_stats, errors_layout_mismatch);
  FIELD(brt_mem_stats, limit_bytes);
  FIELD(brt_mem_stats, active_shares);
  FIELD(brt_mem_stats, total_shares);
  FIELD(brt_mem_stats, mapped_files);
  FIELD(brt_mem_stats, collections);
  FIELD(brt_mem_stats, errors_use_after_free);
  FIELD(brt_mem_stats, abandoned_segments);
  FIELD(brt_mem_stats, tracking);
  CONST(BRT_MEM_CLASS_COUNT);
  STRUCT(brt_mem_class_stats);
  FIELD(brt_mem_class_stats, struct_size);
  FIELD(brt_mem_class_stats, class_index);
  FIELD(brt_mem_class_stats, block_size);
  FIELD(brt_mem_class_stats, allocs);
  FIELD(brt_mem_class_stats, frees);
  FIELD(brt_mem_class_stats, live_blocks);
  FIELD(brt_mem_class_stats, live_bytes);
  STRUCT(brt_mem_budget);
  FIELD(brt_mem_budget, struct_size);
  FIELD(brt_mem_budget, limit);
  FIELD(brt_mem_budget, label);
  FIELD(brt_mem_budget, used);
  FIELD(brt_mem_budget, peak);
  FIELD(brt_mem_budget, refused);
  FIELD(brt_mem_budget, internal_baseline);
  FIELD(brt_mem_budget, internal_outer);
}

static void print_runtime_h(void) {
  CONST(BRT_SIGNATURE_MAX_ARGS);
  CONST(BRT_ALGORITHM_NAME_MAX);
  CONST(BRT_ALGORITHM_VERSION_MAX);
  STRUCT(brt_plugin_options);
  FIELD(brt_plugin_options, struct_size);
  FIELD(brt_plugin_options, isolation);
  FIELD(brt_plugin_options, workers);
  FIELD(brt_plugin_options, memory_limit);
  FIELD(brt_plugin_options, timeout_ms);
  FIELD(brt_plugin_options, flags);
  STRUCT(brt_algorithm);
  FIELD(brt_algorithm, struct_size);
  FIELD(brt_algorithm, name);
  FIELD(brt_algorithm, version);
  FIELD(brt_algorithm, description);
  FIELD(brt_algorithm, input_schema);
  FIELD(brt_algorithm, value_fn);
  FIELD(brt_algorithm, native_fn);
  FIELD(brt_algorithm, signature);
  FIELD(brt_algorithm, timeout_ms);
  FIELD(brt_algorithm, memory_limit);
  FIELD(brt_algorithm, flags);
  FIELD(brt_algorithm, ctx);
  FIELD(brt_algorithm, native_thunk);
  FIELD(brt_algorithm, output_schema);
}

int main(void) {
  print_status_h();
  print_version_h();
  print_error_h();
  print_config_h();
  print_memory_h();
  print_value_h();
  print_monitor_h();
  print_runtime_h();
  return 0;
}
