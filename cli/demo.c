/* bridgert demo: the first minute with bridgert. Loads the example plugins
 * (the build tree's examples/matrix_plugin, or --plugin-dir), lists them,
 * calls `matrix_multiplication` with JSON, `dot` on two vectors in managed
 * memory through a prepared handle, `fail` so a C++ exception comes back as
 * a typed error, `crash` in a worker process so a segmentation fault comes
 * back as BRT_E_CRASHED, and prints the health report and a metrics
 * summary. */
#include "cli.h"

#include <limits.h>
#include <stdalign.h>
#include <string.h>

#define DEMO_LENGTH 4
#define DEMO_REPEATS 1000 /* enough calls for the latency columns to mean something */

static void heading(const char *text) { printf("\n== %s\n\n", text); }

static int list_algorithm(void *ctx, const brt_algorithm *algorithm) {
  (void)ctx;
  printf("  %-22s %-8s %s\n", algorithm->name, algorithm->version,
         algorithm->description ? algorithm->description : "");
  return 0;
}

/* matrix_multiplication by JSON: schema-checked, run by the C++ plugin. */
static int demo_matrix(brt_runtime *rt) {
  static const char params[] = "{\"matrix_a\": [[1, 2], [3, 4]], \"matrix_b\": [[5, 6], [7, 8]]}";
  char *result = NULL;
  for (int i = 0; i < DEMO_REPEATS; i++) {
    if (result) brt_release(result);
    result = NULL;
    brt_status status = brt_call_json(rt, "matrix_multiplication", params, &result);
    if (status != BRT_OK) {
      cli_print_error("demo: the example algorithm 'matrix_multiplication' failed or is not "
                      "loaded; build the tree (ninja) or pass --plugin-dir "
                      "BUILD/examples/matrix_plugin");
      return cli_exit_code(status);
    }
  }
  printf("matrix_multiplication %s\n  = %s   (JSON in and out, called %d times)\n", params, result,
         DEMO_REPEATS);
  brt_release(result);
  return CLI_EXIT_OK;
}

/* dot(a, b, n) on vectors the demo allocates from bridgert's allocator:
 * the plugin reads them in place, whatever language made them. */
static int demo_dot(brt_runtime *rt) {
  brt_prepared *dot = brt_prepare(rt, "dot");
  if (!dot) {
    cli_print_error("demo: the example algorithm 'dot' is not loaded; build the tree (ninja) or "
                    "pass --plugin-dir BUILD/examples/matrix_plugin");
    return CLI_EXIT_UNAVAILABLE;
  }
  double *a = brt_alloc(DEMO_LENGTH * sizeof(double), alignof(double), BRT_MEM_C_HEAP, 0);
  double *b = brt_alloc(DEMO_LENGTH * sizeof(double), alignof(double), BRT_MEM_C_HEAP, 0);
  int code = CLI_EXIT_OK;
  if (!a || !b) {
    cli_print_error("demo: no memory for two vectors");
    code = CLI_EXIT_TEMPORARY;
  }
  double result = 0;
  for (int i = 0; !code && i < DEMO_LENGTH; i++) {
    a[i] = i + 1;
    b[i] = 10 * (i + 1);
  }
  uint64_t n = DEMO_LENGTH;
  void *args[] = {&a, &b, &n};
  for (int i = 0; !code && i < DEMO_REPEATS; i++) {
    brt_status status = brt_invoke(dot, &result, args);
    if (status != BRT_OK) {
      cli_print_error("demo: dot failed");
      code = cli_exit_code(status);
    }
  }
  if (!code) {
    printf("dot([1, 2, 3, 4], [10, 20, 30, 40]) = %g   (%s, called %d times through a prepared "
           "handle)\n", result, brt_prepared_signature(dot), DEMO_REPEATS);
  }
  if (a) brt_release(a);
  if (b) brt_release(b);
  brt_prepared_free(dot);
  return code;
}

/* fail("std::out_of_range") throws in C++; the caller gets a typed error. */
static int demo_failure(brt_runtime *rt) {
  brt_prepared *fail = brt_prepare(rt, "fail");
  if (!fail) {
    cli_print_error("demo: the example algorithm 'fail' is not loaded");
    return CLI_EXIT_UNAVAILABLE;
  }
  const char *which = "std::out_of_range";
  void *args[] = {&which};
  brt_status status = brt_invoke(fail, NULL, args);
  const brt_error *error = brt_last_error();
  if (status == BRT_OK || !error) {
    fprintf(stderr, "bridgert demo: 'fail' was expected to fail and returned %s\n",
            brt_status_name(status));
    brt_prepared_free(fail);
    return CLI_EXIT_SOFTWARE;
  }
  printf("fail(\"%s\") failed, on purpose: the C++ exception arrived as a typed error:\n", which);
  cli_describe_error(stdout, error);
  brt_error_clear();
  brt_prepared_free(fail);
  return CLI_EXIT_OK;
}

/* The same plugin in a worker process: `crash` kills the worker with
 * SIGSEGV, the host gets a typed error, and the next call runs in a new
 * worker; then the example program runs as an algorithm. */
static int demo_isolation(const cli_options *options) {
  cli_options isolated = *options;
  isolated.isolation = BRT_ISOLATION_PROCESS;
  brt_runtime *rt = NULL;
  int code = cli_open_runtime(&isolated, &rt);
  if (code) return code;
  brt_prepared *crash = brt_prepare(rt, "crash");
  if (!crash) {
    cli_print_error("demo: the example algorithm 'crash' is not loaded in a worker");
    brt_runtime_close(rt);
    return CLI_EXIT_UNAVAILABLE;
  }
  brt_status status = brt_invoke(crash, NULL, NULL);
  brt_prepared_free(crash);
  if (status == BRT_OK || !brt_last_error()) {
    fprintf(stderr, "bridgert demo: 'crash' was expected to fail and returned %s\n",
            brt_status_name(status));
    brt_runtime_close(rt);
    return CLI_EXIT_SOFTWARE;
  }
  printf("crash() in a worker process (--isolation process) failed, on purpose; the host lives on:\n");
  cli_describe_error(stdout, brt_last_error());
  brt_error_clear();
  static const char params[] = "{\"matrix_a\": [[1, 2], [3, 4]], \"matrix_b\": [[5, 6], [7, 8]]}";
  char *result = NULL;
  status = brt_call_json(rt, "matrix_multiplication@1.0.0", params, &result);
  if (status != BRT_OK) {
    cli_print_error("demo: matrix_multiplication failed in the restarted worker");
    brt_runtime_close(rt);
    return cli_exit_code(status);
  }
  printf("matrix_multiplication in the restarted worker = %s\n", result);
  brt_release(result);
  result = NULL;
  /* The example program, from the build tree (its manifest beside it). */
  char program_dir[PATH_MAX], manifest[PATH_MAX + 64];
  if (cli_build_tree_dir(BRT_CLI_EXAMPLE_PROGRAM_DIR, program_dir, sizeof program_dir)) {
    snprintf(manifest, sizeof manifest, "%s/matrix_multiplication.algorithm.json", program_dir);
    if ((status = brt_plugin_load(rt, manifest)) != BRT_OK ||
        (status = brt_call_json(rt, "matrix_multiplication@2.0.0", params, &result)) != BRT_OK) {
      cli_print_error("demo: the example program (examples/matrix_program) failed");
      brt_runtime_close(rt);
      return cli_exit_code(status);
    }
    printf("matrix_multiplication@2.0.0, an external program (%s) = %s\n", manifest, result);
    brt_release(result);
  }
  brt_runtime_close(rt);
  return CLI_EXIT_OK;
}

int cli_demo(const cli_options *options, brt_runtime *rt) {
  printf("bridgert %s demo: a C++ plugin, called from C, watched by the monitor.\n",
         brt_version_string());
  heading("Algorithms loaded");
  if (brt_algorithms_list(rt, list_algorithm, NULL) != BRT_OK) {
    cli_print_error("demo: cannot list the algorithms");
    return CLI_EXIT_SOFTWARE;
  }
  heading("Calls");
  int code = demo_matrix(rt);
  if (!code) code = demo_dot(rt);
  if (!code) code = demo_failure(rt);
  if (code) return code;
  heading("Isolation");
  code = demo_isolation(options);
  if (code) return code;
  heading("Health (bridgert health)");
  brt_health_level level = BRT_UNHEALTHY;
  char *report = NULL;
  if (brt_health_check_level(rt, &level, &report) != BRT_OK) {
    cli_print_error("demo: the health check failed");
    return CLI_EXIT_UNHEALTHY;
  }
  code = cli_print_health(report, level);
  brt_release(report);
  if (code) return code;
  heading("Metrics (bridgert metrics --format summary)");
  code = cli_print_summary(rt);
  if (!code)
    printf("\nNext: bridgert list, bridgert call fail --params '[\"std::bad_alloc\"]', "
           "bridgert serve --listen 127.0.0.1:9464 (docs/cli.md).\n");
  return code;
}
