// A C++ plugin built against an installed bridgert: with CMake
// (find_package(bridgert), CMakeLists.txt here) and with pkg-config:
//
//   c++ -std=c++17 -shared -fPIC plugin.cpp $(pkg-config --cflags --libs bridgert_cpp) -o consumer_plugin.so
//
// consumer_sum adds the numbers of a JSON array; consumer_fail throws
// std::invalid_argument, which the host must receive as a typed error.
#include <bridgert/plugin.hpp>

#include <cstddef>
#include <stdexcept>

static brt::value sum(const brt::value &params) {
  double total = 0;
  for (std::size_t i = 0; i < params.size(); i++) total += params[i].as<double>();
  return brt::value(total);
}

static void fail() { throw std::invalid_argument("consumer_fail fails on purpose"); }

BRT_PLUGIN(rt) {
  rt.value("consumer_sum", "1.0.0", R"({"type": "array", "items": {"type": "number"}})", &sum);
  rt.native<&fail>("consumer_fail", "1.0.0", "throws std::invalid_argument");
}
