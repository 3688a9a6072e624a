// A C++ plugin whose init throws without any guard: the runtime's boundary
// must catch it and report it as the load's cause.
#include <bridgert.h>

#include <stdexcept>

extern "C" brt_status brt_plugin_init_v1(brt_runtime *, uint32_t) {
  throw std::out_of_range("model index 7 out of range");
}
