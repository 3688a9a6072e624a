// The plugin of bench/run isolate: one value algorithm, `sum`, the sum of
// an f64 tensor's elements ({"t": tensor}). The bench passes a 100 MiB
// tensor held in a SHARED block, which a worker maps instead of copying.
// (The example plugin, examples/matrix_plugin, has the bench's other
// algorithms: matrix_multiplication, dot and crash.)
#include <bridgert/plugin.hpp>

#include <cstddef>
#include <stdexcept>

namespace {

brt_value *sum(const brt_value *params) {
  const brt_value *t = brt::check(brt_value_object_get(params, "t", 1));
  brt_tensor_info info{};
  info.struct_size = sizeof info;
  brt::check(brt_tensor_info_get(t, &info));
  if (info.dtype != BRT_DTYPE_F64) throw std::invalid_argument("sum: t must be an f64 tensor");
  const double *data = static_cast<const double *>(info.data);
  double total = 0;
  for (size_t i = 0; i < info.count; i++) total += data[i];
  return brt_value_float(total);
}

}  // namespace

BRT_PLUGIN(rt) { rt.value("sum", "1.0.0", R"({"type": "object", "required": ["t"]})", &sum); }
