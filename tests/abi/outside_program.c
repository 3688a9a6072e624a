/* An outside C program: it includes only <bridgert.h> and links with
 * `pkg-config --cflags --libs bridgert`, as a client would. It exercises
 * every function of abi.md and prints what a person sees. It is also
 * the interim demonstration of the error model. Exit status 0 = all good. */
#include <bridgert.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define CHECK(cond)                                                       \
  do {                                                                    \
    if (!(cond)) {                                                        \
      fprintf(stderr, "outside_program: check failed: %s (line %d)\n", #cond, __LINE__); \
      return 1;                                                           \
    }                                                                     \
  } while (0)

static void *worker(void *arg) {
  (void)arg;
  brt_error_set_os(BRT_E_IO, ENOENT, "cannot open %s", "/srv/models/weights.bin");
  brt_error_wrap(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL, "plugin \"matrix\" failed to initialise");
  return brt_error_take(); /* carried to the main thread */
}

int main(void) {
  printf("bridgert %s (ABI %u, headers %d.%d.%d)\n", brt_version_string(), brt_abi_version(),
         BRT_VERSION_MAJOR, BRT_VERSION_MINOR, BRT_VERSION_PATCH);
  CHECK(brt_version() == BRT_VERSION_HEX);

  printf("\nstatus codes:\n");
  for (int i = 0; i < BRT_STATUS_COUNT; i++)
    printf("  %2d %-22s %s\n", i, brt_status_name((brt_status)i), brt_status_describe((brt_status)i));
  CHECK(strcmp(brt_status_name(BRT_E_OUT_OF_RANGE), "BRT_E_OUT_OF_RANGE") == 0);

  CHECK(brt_last_error() == NULL);
  brt_status status = brt_error_set(BRT_E_OUT_OF_RANGE, BRT_ORIGIN_CPP, "std::out_of_range",
                                    "vector::_M_range_check: __n (which is %d) >= this->size() (which is %d)", 5, 3);
  CHECK(status == BRT_E_OUT_OF_RANGE);
  const brt_error *last = brt_last_error();
  CHECK(brt_error_code(last) == BRT_E_OUT_OF_RANGE);
  CHECK(brt_error_origin(last) == BRT_ORIGIN_CPP);
  CHECK(strcmp(brt_error_type(last), "std::out_of_range") == 0);
  CHECK(strstr(brt_error_message(last), "which is 5") != NULL);
  CHECK(brt_error_os_code(last) == 0);
  CHECK(brt_error_cause(last) == NULL);
  char text[1024];
  brt_error_format(last, text, sizeof text);
  printf("\na C++ exception as the error model records it:\n  %s\n", text);
  brt_error_clear();
  CHECK(brt_last_error() == NULL);

  pthread_t thread;
  void *taken;
  pthread_create(&thread, NULL, worker, NULL);
  pthread_join(thread, &taken);
  brt_error *error = taken;
  CHECK(error != NULL && brt_error_code(error) == BRT_E_PLUGIN);
  const brt_error *cause = brt_error_cause(error);
  CHECK(cause && brt_error_os_code(cause) == ENOENT && brt_error_origin(cause) == BRT_ORIGIN_OS);
  brt_error_format(error, text, sizeof text);
  printf("\nan error taken on a worker thread, with its cause:\n  %s\n", text);
  brt_error_free(error);

  uint64_t count = 0;
  CHECK(brt_error_count_get(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, &count) == BRT_OK && count == 1);
  CHECK(brt_error_count_get(BRT_OK, BRT_ORIGIN_C, &count) == BRT_E_INVALID_ARGUMENT);
  printf("\nbad input gets a clear error:\n  %s\n", brt_error_message(brt_last_error()));
  brt_error *moved = brt_error_take();
  CHECK(moved && brt_last_error() == NULL);
  brt_error_free(moved);
  printf("\nok\n");
  return 0;
}
