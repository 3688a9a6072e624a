// A C++ plugin whose body registers an invalid name: brt::check throws, the
// BRT_PLUGIN guard turns it into the load's error, and nothing stays
// registered.
#include <bridgert/plugin.hpp>

static int one() { return 1; }

BRT_PLUGIN(rt) {
  rt.native<&one>("fine", "1.0.0");
  rt.native<&one>("Not Valid", "1.0.0");
}
