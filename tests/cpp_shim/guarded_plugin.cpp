// A plugin shared object that exports guarded extern "C" functions, the way
// an algorithm plugin does. Loaded by test_plugin_boundary with dlopen.
#include <bridgert.hpp>

#include <string>
#include <system_error>

#include "guarded_plugin.hpp"

extern "C" __attribute__((visibility("default"))) brt_status plugin_run(int what, int *out);

extern "C" brt_status plugin_run(int what, int *out) {
  return BRT_GUARDED(switch (what) {
    case 0:
      *out = 7;
      break;
    case 1:
      throw std::out_of_range("channel 9 does not exist");
    case 2:
      throw app::sensor_error("sensor 3 is offline", 3);
    case 3:
      throw brt::error(BRT_E_TIMEOUT, "sensor read timed out");
    case 4:
      throw std::system_error(EIO, std::generic_category(), "read /dev/sensor3");
    default:
      throw what;
  });
}
