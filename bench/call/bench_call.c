/* bench/run call — the cost of calling an algorithm through bridgert.
 *
 * Subjects: "direct" (a call through a function pointer), "libffi" (a raw
 * ffi_call with a prepared cif) and "bridgert" (brt_invoke / brt_call),
 * measured in the same run; the value calls use the example plugin
 * (examples/matrix_plugin). Every bridgert call below is recorded by the
 * runtime's monitor (it always is). */
#include "bench.h"

#include <bridgert.h>
#include <ffi.h>
#include <pthread.h>

__attribute__((noinline)) static double mul_add(double a, double b) { return a * b + 1.0; }

static brt_status mul_add_thunk(void *fn, void *ret, void **args) {
  *(double *)ret = BRT_NATIVE_AS(double (*)(double, double), fn)(*(double *)args[0],
                                                                 *(double *)args[1]);
  return BRT_OK;
}

static double (*volatile direct_fn)(double, double) = mul_add;

static double run_direct(void *arg, uint64_t ops) {
  (void)arg;
  double a = 1.5, b = 2.0, sum = 0;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) sum += direct_fn(a, b);
  uint64_t t1 = bench_now_ns();
  BENCH_USE(sum);
  return (double)(t1 - t0);
}

static double run_invoke(void *arg, uint64_t ops) {
  brt_prepared *prepared = arg;
  double a = 1.5, b = 2.0, out = 0, sum = 0;
  void *args[] = {&a, &b};
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    brt_invoke(prepared, &out, args);
    sum += out;
  }
  uint64_t t1 = bench_now_ns();
  BENCH_USE(sum);
  return (double)(t1 - t0);
}

static ffi_cif raw_cif;
static ffi_type *raw_args[2] = {&ffi_type_double, &ffi_type_double};

static double run_raw_ffi(void *arg, uint64_t ops) {
  (void)arg;
  double a = 1.5, b = 2.0, out = 0, sum = 0;
  void *args[] = {&a, &b};
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    ffi_call(&raw_cif, BRT_NATIVE_AS(void (*)(void), direct_fn), &out, args);
    sum += out;
  }
  uint64_t t1 = bench_now_ns();
  BENCH_USE(sum);
  return (double)(t1 - t0);
}

/* The monitor's recording alone, around the same direct call. */
static double run_monitored_direct(void *arg, uint64_t ops) {
  brt_algo_stats *stats = arg;
  double a = 1.5, b = 2.0, sum = 0;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t start;
    if (brt_monitor_call_begin(stats, &start) == BRT_OK) {
      sum += direct_fn(a, b);
      brt_monitor_call_end(stats, start, BRT_OK);
    }
  }
  uint64_t t1 = bench_now_ns();
  BENCH_USE(sum);
  return (double)(t1 - t0);
}

/* call.scale2: the same prepared algorithm from 1 and from 2 threads; the
 * figure is wall-clock ns per call of all threads together. */
typedef struct scale_job {
  brt_prepared *prepared;
  uint64_t ops;
} scale_job;

static void *scale_worker(void *arg) {
  scale_job *job = arg;
  run_invoke(job->prepared, job->ops);
  return NULL;
}

static double run_threads(brt_prepared *prepared, int threads, uint64_t ops) {
  pthread_t ids[2];
  scale_job job = {prepared, ops / (uint64_t)threads};
  uint64_t t0 = bench_now_ns();
  for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, scale_worker, &job);
  for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
  return (double)(bench_now_ns() - t0);
}

static double run_one_thread(void *arg, uint64_t ops) { return run_threads(arg, 1, ops); }
static double run_two_threads(void *arg, uint64_t ops) { return run_threads(arg, 2, ops); }

/* call.value_matmul2 / call.json_matmul2: the example plugin's
 * matrix_multiplication on 2x2 matrices, schema validation included. */
static const char matmul_json[] = "{\"matrix_a\": [[1,2],[3,4]], \"matrix_b\": [[5,6],[7,8]]}";

typedef struct matmul_job {
  brt_runtime *rt;
  brt_value *params;
} matmul_job;

static double run_value_matmul(void *arg, uint64_t ops) {
  matmul_job *job = arg;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    brt_value *result = NULL;
    if (brt_call(job->rt, "matrix_multiplication", job->params, &result) != BRT_OK) abort();
    brt_value_release(result);
  }
  return (double)(bench_now_ns() - t0);
}

static double run_json_matmul(void *arg, uint64_t ops) {
  matmul_job *job = arg;
  uint64_t t0 = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    char *text = NULL;
    if (brt_call_json(job->rt, "matrix_multiplication", matmul_json, &text) != BRT_OK) abort();
    brt_release(text);
  }
  return (double)(bench_now_ns() - t0);
}

static void bench_matmul(brt_runtime *rt) {
  if (brt_plugin_load_dir(rt, MATRIX_PLUGIN_DIR) != BRT_OK) {
    fprintf(stderr, "bench-call: loading %s: %s\n", MATRIX_PLUGIN_DIR,
            brt_error_message(brt_last_error()));
    exit(1);
  }
  matmul_job job = {rt, brt_value_from_json(matmul_json, sizeof matmul_json - 1, 0)};
  bench_state state;
  bench_begin(&state, "call.value_matmul2", NULL);
  bench_run_subject(&state, "bridgert", run_value_matmul, &job, 200000, NULL);
  bench_begin(&state, "call.json_matmul2", NULL);
  bench_run_subject(&state, "bridgert", run_json_matmul, &job, 200000, NULL);
  brt_value_release(job.params);
}

static brt_prepared *prepare_or_die(brt_runtime *rt, const char *name) {
  brt_prepared *prepared = brt_prepare(rt, name);
  if (!prepared) {
    fprintf(stderr, "bench-call: brt_prepare(%s): %s\n", name, brt_error_message(brt_last_error()));
    exit(1);
  }
  return prepared;
}

int main(void) {
  brt_runtime *rt = brt_runtime_open(NULL);
  brt_algorithm thunked = {.struct_size = sizeof thunked, .name = "mul_add_thunk",
                           .version = "1.0.0", .native_fn = BRT_NATIVE_FN(mul_add),
                           .signature = "f64(f64,f64)", .native_thunk = mul_add_thunk};
  brt_algorithm plain = thunked;
  plain.name = "mul_add_ffi";
  plain.native_thunk = NULL;
  if (!rt || brt_register(rt, &thunked) != BRT_OK || brt_register(rt, &plain) != BRT_OK) {
    fprintf(stderr, "bench-call: setup failed: %s\n", brt_error_message(brt_last_error()));
    return 1;
  }
  ffi_prep_cif(&raw_cif, FFI_DEFAULT_ABI, 2, &ffi_type_double, raw_args);
  brt_prepared *with_thunk = prepare_or_die(rt, "mul_add_thunk");
  brt_prepared *with_ffi = prepare_or_die(rt, "mul_add_ffi");
  const uint64_t ops = 5000000;
  bench_state state;

  bench_begin(&state, "call.prepared_thunk", NULL);
  bench_run_subject(&state, "direct", run_direct, NULL, ops, NULL);
  bench_run_subject(&state, "bridgert", run_invoke, with_thunk, ops, NULL);
  bench_ratios(&state, "bridgert");
  printf("{\"bench\":\"call.prepared_thunk\",\"overhead_ns\":{\"bridgert-direct\":%.3f}}\n",
         state.results[1].value - state.results[0].value);

  bench_begin(&state, "call.prepared_ffi", NULL);
  bench_run_subject(&state, "libffi", run_raw_ffi, NULL, ops, NULL);
  bench_run_subject(&state, "bridgert", run_invoke, with_ffi, ops, NULL);
  bench_ratios(&state, "bridgert");

  brt_monitor *monitor = brt_monitor_new(NULL);
  brt_algo_stats *stats = brt_monitor_algorithm(monitor, "mul_add", "1.0.0");
  bench_begin(&state, "call.monitor_overhead", NULL);
  bench_run_subject(&state, "monitor_off", run_direct, NULL, ops, NULL);
  bench_run_subject(&state, "monitor_on", run_monitored_direct, stats, ops, NULL);
  bench_ratios(&state, "monitor_on");
  printf("{\"bench\":\"call.monitor_overhead\",\"overhead_ns\":{\"monitor_on-monitor_off\":%.3f}}\n",
         state.results[1].value - state.results[0].value);
  brt_monitor_free(monitor);

  bench_begin(&state, "call.scale2", NULL);
  bench_run_subject(&state, "1_thread", run_one_thread, with_thunk, ops, NULL);
  bench_run_subject(&state, "2_threads", run_two_threads, with_thunk, ops, NULL);
  bench_ratios(&state, "1_thread"); /* 1_thread/2_threads: the speed-up, goal >= 1.7 */

  bench_matmul(rt);

  brt_prepared_free(with_thunk);
  brt_prepared_free(with_ffi);
  brt_runtime_close(rt);
  return 0;
}
