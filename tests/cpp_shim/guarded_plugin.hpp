// Shared between test_plugin_boundary.cpp and the plugin it dlopen()s.
#ifndef BRT_TEST_GUARDED_PLUGIN_HPP
#define BRT_TEST_GUARDED_PLUGIN_HPP

#include <bridgert.h>

#include <stdexcept>

namespace app {
// Thrown by the plugin, translated by a translator the host registers.
class sensor_error : public std::runtime_error {
 public:
  sensor_error(const char *what, int which) : std::runtime_error(what), channel(which) {}
  int channel;
};
}  // namespace app

// What the plugin exports: `what` selects the failure (0: none).
extern "C" typedef brt_status (*plugin_run_fn)(int what, int *out);

#endif  // BRT_TEST_GUARDED_PLUGIN_HPP
