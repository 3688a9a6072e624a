// The boundary from a dlopen()ed plugin: guarded functions in a shared
// object, brt::error and user translators shared across the two objects.
#include <dlfcn.h>

#include <cstdlib>
#include <string>

#include "guarded_plugin.hpp"
#include "cpp_test.hpp"

static void *plugin_handle;
static plugin_run_fn plugin_run;

static int load_plugin(void **state) {
  (void)state;
  const char *build = std::getenv("BRT_BUILD_ROOT");
  std::string path = std::string(build ? build : ".") + "/tests/cpp_shim/libguarded_plugin.so";
  plugin_handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!plugin_handle) {
    print_error("dlopen %s: %s\n", path.c_str(), dlerror());
    return -1;
  }
  plugin_run = reinterpret_cast<plugin_run_fn>(dlsym(plugin_handle, "plugin_run"));
  return plugin_run ? 0 : -1;
}

static int unload_plugin(void **state) {
  (void)state;
  return plugin_handle ? dlclose(plugin_handle) : 0;
}

static void test_plugin_errors(void **state) {
  (void)state;
  int out = 0;
  assert_ok(plugin_run(0, &out));
  assert_int_equal(out, 7);
  assert_status(plugin_run(1, &out), BRT_E_OUT_OF_RANGE);
  assert_string_equal(brt_error_type(last()), "std::out_of_range");
  assert_status(plugin_run(2, &out), BRT_E_CPP_EXCEPTION);
  assert_string_equal(brt_error_type(last()), "app::sensor_error");
  assert_status(plugin_run(3, &out), BRT_E_TIMEOUT);  // brt::error passes through
  assert_string_equal(brt_error_message(last()), "sensor read timed out");
  assert_status(plugin_run(4, &out), BRT_E_IO);
  assert_int_equal(brt_error_os_code(last()), EIO);
  assert_status(plugin_run(5, &out), BRT_E_CPP_EXCEPTION);
  assert_string_equal(brt_error_type(last()), "int");
}

static void test_host_translator_applies_to_plugin(void **state) {
  (void)state;
  brt::translator handle = brt::register_translator<app::sensor_error>(
      [](const app::sensor_error &e, std::string &message) {
        message = "sensor channel " + std::to_string(e.channel) + " unavailable";
        return BRT_E_NOT_FOUND;
      });
  int out = 0;
  assert_status(plugin_run(2, &out), BRT_E_NOT_FOUND);
  assert_string_equal(brt_error_message(last()), "sensor channel 3 unavailable");
  assert_ok(handle.remove());
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_plugin_errors),
      cmocka_unit_test(test_host_translator_applies_to_plugin),
  };
  return cmocka_run_group_tests(tests, load_plugin, unload_plugin);
}
