/* The example host (docs/plugins.md): a C program that opens a runtime,
 * loads the plugins of a folder, calls `matrix_multiplication` with JSON
 * and `dot` through a prepared handle, and prints failing calls' full
 * errors.
 *
 *   c_host PLUGIN_DIR */
#include <bridgert.h>

#include <stdio.h>
#include <string.h>

static int print_algorithm(void *ctx, const brt_algorithm *a) {
  (void)ctx;
  printf("  %-24s %-18s %s\n", a->name, a->signature ? a->signature : "(value)",
         a->description ? a->description : "");
  return 0;
}

static void print_last_error(const char *what) {
  char text[4096];
  brt_error_format(brt_last_error(), text, sizeof text);
  printf("%s: %s\n", what, text);
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s PLUGIN_DIR\n", argv[0]);
    return 2;
  }
  brt_config cfg;
  brt_config_default(&cfg);
  brt_config_add_plugin_dir(&cfg, argv[1]); /* load only from there */
  brt_runtime *rt = brt_runtime_open(&cfg);
  brt_config_dispose(&cfg);
  if (!rt) {
    print_last_error("brt_runtime_open");
    return 1;
  }
  if (brt_plugin_load_dir(rt, argv[1]) != BRT_OK) {
    print_last_error("brt_plugin_load_dir");
    brt_runtime_close(rt);
    return 1;
  }
  printf("algorithms:\n");
  brt_algorithms_list(rt, print_algorithm, NULL);

  /* matrix_multiplication by name, with JSON in and out. */
  const char *params = "{\"matrix_a\": [[1,2],[3,4]], \"matrix_b\": [[5,6],[7,8]]}";
  char *product_json = NULL;
  if (brt_call_json(rt, "matrix_multiplication", params, &product_json) != BRT_OK) {
    print_last_error("matrix_multiplication");
    brt_runtime_close(rt);
    return 1;
  }
  printf("matrix_multiplication(%s) = %s\n", params, product_json);
  int product_ok = strcmp(product_json, "[[19,22],[43,50]]") == 0;
  brt_release(product_json);

  /* Two failing calls: params the schema rejects, and shapes that do not fit. */
  const char *bad_params = "{\"matrix_a\": [[1,2],[3,\"x\"]], \"matrix_b\": [[5,6],[7,8]]}";
  brt_status bad_status = brt_call_json(rt, "matrix_multiplication", bad_params, &product_json);
  printf("matrix_multiplication(%s) returned %s\n", bad_params, brt_status_name(bad_status));
  print_last_error("  error");
  const char *mismatched = "{\"matrix_a\": [[1,2,3]], \"matrix_b\": [[1,2],[3,4]]}";
  brt_status shape_status = brt_call_json(rt, "matrix_multiplication", mismatched, &product_json);
  printf("matrix_multiplication(%s) returned %s\n", mismatched, brt_status_name(shape_status));
  print_last_error("  error");

  /* dot through a prepared handle: resolved once, called like a function. */
  brt_prepared *dot = brt_prepare(rt, "dot");
  if (!dot) {
    print_last_error("brt_prepare(dot)");
    brt_runtime_close(rt);
    return 1;
  }
  double a[] = {1, 2, 3}, b[] = {4, 5, 6}, product = 0;
  const double *pa = a, *pb = b;
  uint64_t n = 3;
  void *dot_args[] = {&pa, &pb, &n};
  if (brt_invoke(dot, &product, dot_args) != BRT_OK) {
    print_last_error("dot");
    brt_prepared_free(dot);
    brt_runtime_close(rt);
    return 1;
  }
  printf("dot([1,2,3], [4,5,6]) = %g  (signature %s)\n", product, brt_prepared_signature(dot));
  brt_prepared_free(dot);

  /* A failing call: the C++ exception arrives as a typed error. */
  brt_prepared *fail = brt_prepare(rt, "fail");
  const char *which = "std::out_of_range";
  void *fail_args[] = {&which};
  brt_status status = brt_invoke(fail, NULL, fail_args);
  printf("fail(\"%s\") returned %s\n", which, brt_status_name(status));
  print_last_error("  error");
  brt_prepared_free(fail);

  brt_runtime_close(rt);
  return product_ok && bad_status == BRT_E_VALIDATION && shape_status == BRT_E_INVALID_ARGUMENT &&
                 product == 32 && status == BRT_E_OUT_OF_RANGE
             ? 0
             : 1;
}
