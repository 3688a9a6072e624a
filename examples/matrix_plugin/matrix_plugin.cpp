// The example algorithm plugin (docs/plugins.md): a C++ shared object that
// bridgert loads with dlopen.
//
//   dot                    native  f64(ptr,ptr,u64): the dot product of two
//                          f64 vectors, called through a compiled thunk
//   fail                   native  void(str): throws the standard exception
//                          its argument names, to show the error model
#include <bridgert/memory.hpp>
#include <bridgert/plugin.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <typeinfo>
#include <vector>

namespace {

double dot(const double *a, const double *b, uint64_t n) {
  if (n && (!a || !b)) throw std::invalid_argument("dot: a vector pointer is NULL");
  double sum = 0;
  for (uint64_t i = 0; i < n; i++) sum += a[i] * b[i];
  return sum;
}

// Throws what `which` names, e.g. "std::out_of_range".
void fail(const char *which) {
  const std::string name = which ? which : "";
  const std::string message = "fail was asked to throw " + name;
  if (name == "std::invalid_argument") throw std::invalid_argument(message);
  if (name == "std::domain_error") throw std::domain_error(message);
  if (name == "std::out_of_range") throw std::out_of_range(message);
  if (name == "std::length_error") throw std::length_error(message);
  if (name == "std::runtime_error") throw std::runtime_error(message);
  if (name == "std::logic_error") throw std::logic_error(message);
  if (name == "std::bad_alloc") throw std::bad_alloc();
  if (name == "std::bad_cast") throw std::bad_cast();
  if (name == "std::system_error")
    throw std::system_error(std::make_error_code(std::errc::no_such_file_or_directory), message);
  if (name == "std::filesystem::filesystem_error")
    throw std::filesystem::filesystem_error(message, "/models/a.bin",
                                            std::make_error_code(std::errc::permission_denied));
  if (name == "int") throw 42;
  throw std::invalid_argument("fail: unknown exception name \"" + name +
                              "\"; expected e.g. std::out_of_range, std::bad_alloc or int");
}

}  // namespace

BRT_PLUGIN(rt) {
  rt.native<&dot>("dot", "1.0.0", "dot product of two f64 vectors: f64(ptr a, ptr b, u64 n)");
  rt.native<&fail>("fail", "1.0.0", "throws the standard exception its argument names");
}
