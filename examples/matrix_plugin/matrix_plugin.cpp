// The example algorithm plugin (docs/plugins.md): a C++ shared object that
// bridgert loads with dlopen.
//
//   matrix_multiplication  value   {"matrix_a": [[1,2],[3,4]], "matrix_b": [[5,6],[7,8]]}
//                          -> [[19,22],[43,50]]; shapes that do not fit are
//                          INVALID_ARGUMENT naming both shapes
//   dot                    native  f64(ptr,ptr,u64): the dot product of two
//                          f64 vectors, called through a compiled thunk
//   fail                   native  void(str): throws the standard exception
//                          its argument names, to show the error model
//   crash                  native  void(): writes through a null pointer, to
//                          show what isolation contains (load the plugin with
//                          --isolation process: the worker dies of SIGSEGV,
//                          the host gets BRT_E_CRASHED and carries on)
#include <bridgert/memory.hpp>
#include <bridgert/plugin.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <typeinfo>
#include <utility>
#include <vector>

#include <sys/mman.h>

namespace {

// The params' schema: checked by the runtime (once compiled, at every call)
// before the algorithm runs, so the code below can rely on the shape of
// the JSON; a violation names its JSON Pointer (/matrix_a/1/0: ...).
constexpr const char *matrix_schema = R"({
  "type": "object",
  "required": ["matrix_a", "matrix_b"],
  "additionalProperties": false,
  "properties": {
    "matrix_a": {"type": "array", "minItems": 1, "maxItems": 4096,
                 "items": {"type": "array", "minItems": 1, "maxItems": 4096,
                           "items": {"type": "number"}}},
    "matrix_b": {"type": "array", "minItems": 1, "maxItems": 4096,
                 "items": {"type": "array", "minItems": 1, "maxItems": 4096,
                           "items": {"type": "number"}}}
  }
})";

// One owned reference to a brt_value.
class value_ref {
 public:
  explicit value_ref(brt_value *value) : value_(brt::check(value)) {}
  value_ref(const value_ref &) = delete;
  value_ref &operator=(const value_ref &) = delete;
  ~value_ref() { brt_value_release(value_); }
  brt_value *get() const { return value_; }
  brt_value *release() { return std::exchange(value_, nullptr); }

 private:
  brt_value *value_;
};

// A dense row-major matrix in the bridgert allocator's C++ heap.
struct matrix {
  std::size_t rows = 0, cols = 0;
  std::vector<double, brt::allocator<double>> cells;
  bool all_integers = true;
  double at(std::size_t r, std::size_t c) const { return cells[r * cols + c]; }
  std::string shape() const { return std::to_string(rows) + "x" + std::to_string(cols); }
};

matrix read_matrix(const brt_value *params, const char *key) {
  const brt_value *rows = brt::check(brt_value_object_get(params, key, std::strlen(key)));
  matrix m;
  brt::check(brt_value_array_length(rows, &m.rows));
  for (std::size_t r = 0; r < m.rows; r++) {
    const brt_value *row = brt::check(brt_value_array_get(rows, r));
    std::size_t cols = 0;
    brt::check(brt_value_array_length(row, &cols));
    if (r == 0) {
      m.cols = cols;
      m.cells.reserve(m.rows * m.cols);
    } else if (cols != m.cols) {
      throw std::invalid_argument(std::string(key) + " is not rectangular: row " +
                                  std::to_string(r) + " has " + std::to_string(cols) +
                                  " columns, row 0 has " + std::to_string(m.cols));
    }
    for (std::size_t c = 0; c < cols; c++) {
      const brt_value *cell = brt::check(brt_value_array_get(row, c));
      double x = 0;
      brt::check(brt_value_get_number(cell, &x));
      m.all_integers = m.all_integers && brt_value_kind(cell) == BRT_KIND_INT;
      m.cells.push_back(x);
    }
  }
  return m;
}

// Integers in, integers out (while exact): [[19,22],[43,50]], not 19.0.
brt_value *number_value(double x, bool integers) {
  if (integers && x >= -9007199254740992.0 && x <= 9007199254740992.0)
    return brt_value_int(static_cast<int64_t>(x));
  return brt_value_float(x);
}

brt_value *matrix_multiplication(const brt_value *params) {
  const matrix a = read_matrix(params, "matrix_a");
  const matrix b = read_matrix(params, "matrix_b");
  if (a.cols != b.rows)
    throw std::invalid_argument("matrix_a is " + a.shape() + " and matrix_b is " + b.shape() +
                                ": the columns of matrix_a (" + std::to_string(a.cols) +
                                ") must equal the rows of matrix_b (" + std::to_string(b.rows) +
                                ")");
  const bool integers = a.all_integers && b.all_integers;
  value_ref product(brt_value_array(a.rows));
  for (std::size_t r = 0; r < a.rows; r++) {
    value_ref row(brt_value_array(b.cols));
    for (std::size_t c = 0; c < b.cols; c++) {
      double sum = 0;
      for (std::size_t k = 0; k < a.cols; k++) sum += a.at(r, k) * b.at(k, c);
      value_ref cell(number_value(sum, integers));
      brt::check(brt_value_array_push(row.get(), cell.get()));
    }
    brt::check(brt_value_array_push(product.get(), row.get()));
  }
  return product.release();
}

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

// A real invalid memory access: without isolation it ends the host.
void crash() {
  // A page mapped without access: the store faults in the hardware (a real
  // SIGSEGV), where a store through a null pointer would be undefined
  // behaviour that a compiler or a sanitizer may handle first.
  void *page = mmap(nullptr, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *static_cast<volatile int *>(page) = 1;
}

}  // namespace

BRT_PLUGIN(rt) {
  brt::algorithm_options matmul;
  matmul.description = "the product of two matrices given as arrays of rows";
  rt.value("matrix_multiplication", "1.0.0", matrix_schema, &matrix_multiplication, matmul);
  rt.native<&dot>("dot", "1.0.0", "dot product of two f64 vectors: f64(ptr a, ptr b, u64 n)");
  rt.native<&fail>("fail", "1.0.0", "throws the standard exception its argument names");
  rt.native<&crash>("crash", "1.0.0", "writes through a null pointer (try it with --isolation process)");
}
