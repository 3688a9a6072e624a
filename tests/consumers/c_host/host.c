/* A C host built against an installed bridgert the way a user builds one:
 *
 *   cc -std=c11 host.c $(pkg-config --cflags --libs bridgert) -o host
 *   ./host PLUGIN_DIR...
 *
 * Loads each PLUGIN_DIR (a folder holding tests/consumers/cpp_plugin built
 * by CMake or by pkg-config), calls consumer_sum by JSON and consumer_fail,
 * whose C++ exception must arrive as a typed error, and prints "ok". */
#include <bridgert.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what) {
  char text[2048];
  brt_error_format(brt_last_error(), text, sizeof text);
  fprintf(stderr, "host: %s: %s\n", what, text);
  return 1;
}

/* True when `error` or one of its causes came from a C++ exception of `type`. */
static int caused_by_type(const brt_error *error, const char *type) {
  for (; error; error = brt_error_cause(error)) {
    const char *t = brt_error_type(error);
    if (t && strcmp(t, type) == 0) return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PLUGIN_DIR...\n", argv[0]);
    return 2;
  }
  printf("bridgert %s\n", brt_version_string());
  for (int i = 1; i < argc; i++) {
    brt_runtime *rt = brt_runtime_open(NULL);
    if (!rt) return fail("brt_runtime_open");
    if (brt_plugin_load_dir(rt, argv[i]) != BRT_OK) return fail(argv[i]);
    char *sum = NULL;
    if (brt_call_json(rt, "consumer_sum", "[1, 2.5, 3.5]", &sum) != BRT_OK)
      return fail("consumer_sum");
    if (strtod(sum, NULL) != 7.0) {
      fprintf(stderr, "host: consumer_sum returned %s, not 7\n", sum);
      return 1;
    }
    brt_release(sum);
    brt_prepared *thrower = brt_prepare(rt, "consumer_fail");
    if (!thrower) return fail("brt_prepare(consumer_fail)");
    brt_status status = brt_invoke(thrower, NULL, NULL);
    if (status != BRT_E_INVALID_ARGUMENT || !caused_by_type(brt_last_error(), "std::invalid_argument")) {
      fprintf(stderr, "host: consumer_fail returned %s, not a typed std::invalid_argument\n",
              brt_status_name(status));
      return fail("consumer_fail");
    }
    brt_error_clear();
    brt_prepared_free(thrower);
    brt_runtime_close(rt);
    printf("%s: consumer_sum = 7, consumer_fail threw std::invalid_argument (typed)\n", argv[i]);
  }
  printf("ok\n");
  return 0;
}
