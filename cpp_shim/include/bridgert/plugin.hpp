// bridgert C++ shim — writing algorithm plugins (docs/plugins.md).
//
//   #include <bridgert/plugin.hpp>
//
//   static double dot(const double *a, const double *b, uint64_t n) { ... }
//
//   BRT_PLUGIN(rt) {
//     rt.native<&dot>("dot", "1.0.0", "dot product of two f64 vectors");
//     rt.value("sum", "1.0.0", schema_json, [](const brt::value &params) {
//       double total = 0;
//       for (std::size_t i = 0; i < params.size(); i++) total += params[i].as<double>();
//       return brt::value(total);
//     });
//   }
//
// BRT_PLUGIN writes the plugin's exported entry points: brt_plugin_init_v1,
// which checks the ABI version and runs the body inside brt::guard (anything
// the body throws becomes the load's error, with its type and message), and
// brt_plugin_abi_version, which lets the loader refuse a plugin built for
// another ABI before running any of its code.
//
// native<&fn>() derives the signature text ("f64(ptr,ptr,u64)") from fn's
// C++ type — an unsupported parameter type is a compile error — and
// registers a compiled thunk that calls fn directly with its arguments
// unpacked, inside brt::guard: brt_invoke then needs no libffi and a C++
// exception from fn comes back as a typed error.
#ifndef BRIDGERT_PLUGIN_HPP
#define BRIDGERT_PLUGIN_HPP

#include <bridgert.h>

#include <bridgert/boundary.hpp>
#include <bridgert/error.hpp>
#include <bridgert/value.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace brt {
namespace detail {

// The signature token of one C++ type (DESIGN §6 grammar).
template <class T>
constexpr const char *native_token() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_void_v<U>) return "void";
  else if constexpr (std::is_same_v<U, bool>) return "bool";
  else if constexpr (std::is_same_v<U, float>) return "f32";
  else if constexpr (std::is_same_v<U, double>) return "f64";
  else if constexpr (std::is_same_v<U, const char *> || std::is_same_v<U, char *>) return "str";
  else if constexpr (std::is_pointer_v<U>) return "ptr";
  else if constexpr (std::is_integral_v<U> && std::is_signed_v<U>) {
    static_assert(sizeof(U) <= 8, "integers wider than 64 bits have no signature type");
    return sizeof(U) == 1 ? "i8" : sizeof(U) == 2 ? "i16" : sizeof(U) == 4 ? "i32" : "i64";
  } else if constexpr (std::is_integral_v<U> && std::is_unsigned_v<U>) {
    static_assert(sizeof(U) <= 8, "integers wider than 64 bits have no signature type");
    return sizeof(U) == 1 ? "u8" : sizeof(U) == 2 ? "u16" : sizeof(U) == 4 ? "u32" : "u64";
  } else {
    static_assert(sizeof(U) == 0,
                  "a native algorithm takes and returns only void, bool, integers of 8 to 64 "
                  "bits, float, double and pointers (const char * is \"str\")");
    return "";
  }
}

template <class F>
struct function_traits;
template <class R, class... Args>
struct function_traits<R (*)(Args...)> {
  using result = R;
  using arguments = std::tuple<Args...>;
  static std::string signature() {
    std::string text = native_token<R>();
    text += '(';
    const char *tokens[] = {native_token<Args>()..., ""};
    for (std::size_t i = 0; i < sizeof...(Args); i++) {
      if (i) text += ',';
      text += tokens[i];
    }
    return text + ')';
  }
};
template <class R, class... Args>
struct function_traits<R (*)(Args...) noexcept> : function_traits<R (*)(Args...)> {};

// Calls `fn` with args[i] unpacked as the i-th parameter type and stores the
// result at `ret`; the body of every thunk.
template <class R, class... Args, class Fn, std::size_t... I>
void unpack_call(Fn &&fn, void *ret, void **args, std::index_sequence<I...>) {
  if constexpr (std::is_void_v<R>) {
    fn(*static_cast<std::remove_reference_t<Args> *>(args[I])...);
  } else {
    *static_cast<R *>(ret) = fn(*static_cast<std::remove_reference_t<Args> *>(args[I])...);
  }
}

// A thunk for a function known at compile time: the call is direct (and
// may be inlined); the native_fn argument is the same function, unused.
template <auto Fn, class R, class... Args>
brt_status static_thunk_impl(void *, void *ret, void **args, std::tuple<Args...> *) {
  return guard([&] { unpack_call<R, Args...>(Fn, ret, args, std::index_sequence_for<Args...>{}); });
}
template <auto Fn>
brt_status static_thunk(void *native_fn, void *ret, void **args) {
  using traits = function_traits<decltype(Fn)>;
  return static_thunk_impl<Fn, typename traits::result>(
      native_fn, ret, args, static_cast<typename traits::arguments *>(nullptr));
}

// A thunk for a function pointer given at run time (native(name, version, fn)).
template <class F, class R, class... Args>
brt_status dynamic_thunk_impl(void *native_fn, void *ret, void **args, std::tuple<Args...> *) {
  F fn = BRT_NATIVE_AS(F, native_fn);
  return guard([&] { unpack_call<R, Args...>(fn, ret, args, std::index_sequence_for<Args...>{}); });
}
template <class F>
brt_status dynamic_thunk(void *native_fn, void *ret, void **args) {
  using traits = function_traits<F>;
  return dynamic_thunk_impl<F, typename traits::result>(
      native_fn, ret, args, static_cast<typename traits::arguments *>(nullptr));
}

// Value algorithms keep their callable here: one list per plugin (inline
// statics are per shared object when plugins are loaded RTLD_LOCAL),
// destroyed when the plugin is dlclose()d, which bridgert does only after
// the last call and the last entry are gone.
struct value_holder_base {
  virtual ~value_holder_base() = default;
};
template <class F>
struct value_holder : value_holder_base {
  explicit value_holder(F f) : fn(std::move(f)) {}
  F fn;
};
inline std::vector<std::unique_ptr<value_holder_base>> &value_holders() {
  static std::vector<std::unique_ptr<value_holder_base>> holders;
  return holders;
}
inline std::mutex &value_holders_lock() {
  static std::mutex lock;
  return lock;
}

// Value callables come in two shapes: the C one, brt_value *(const
// brt_value *) returning a new reference, and the C++ one, brt::value(const
// brt::value &).
template <class F>
constexpr bool takes_cpp_values = std::is_invocable_r_v<value, F &, const value &>;
template <class F>
constexpr bool takes_c_values = std::is_invocable_r_v<brt_value *, F &, const brt_value *>;

template <class F>
brt_status value_trampoline(void *ctx, const brt_value *params, brt_value **result) {
  auto *holder = static_cast<value_holder<F> *>(ctx);
  return guard([&] {
    brt_value *out;
    if constexpr (takes_cpp_values<F>) {
      out = holder->fn(value::share(params)).release();
    } else {
      out = holder->fn(params);
    }
    if (!out)
      throw std::logic_error("the value algorithm returned a null brt_value without throwing");
    *result = out;
  });
}

}  // namespace detail

// Optional settings of an algorithm.
struct algorithm_options {
  const char *description = nullptr;
  const char *output_schema = nullptr;  // value algorithms: JSON Schema of the result
  uint32_t timeout_ms = 0;
  uint64_t memory_limit = 0;
};

// What a BRT_PLUGIN body receives: the runtime, with helpers that register
// C++ callables. Each helper throws brt::error when the runtime refuses
// (invalid name or version, duplicate...), which fails the load.
class plugin {
 public:
  explicit plugin(brt_runtime *rt) noexcept : rt_(rt) {}
  brt_runtime *raw() const noexcept { return rt_; }

  // Registers Fn (a plain function, known at compile time) as a native
  // algorithm with a compiled thunk.
  template <auto Fn>
  void native(const char *name, const char *version, algorithm_options options = {}) {
    using traits = detail::function_traits<decltype(Fn)>;
    register_native(name, version, options, BRT_NATIVE_FN(Fn), traits::signature(),
                    &detail::static_thunk<Fn>);
  }
  template <auto Fn>
  void native(const char *name, const char *version, const char *description) {
    algorithm_options options;
    options.description = description;
    native<Fn>(name, version, options);
  }

  // The same for a function pointer known only at run time.
  template <class R, class... Args>
  void native(const char *name, const char *version, R (*fn)(Args...),
              algorithm_options options = {}) {
    using F = R (*)(Args...);
    register_native(name, version, options, BRT_NATIVE_FN(fn),
                    detail::function_traits<F>::signature(), &detail::dynamic_thunk<F>);
  }

  // Registers `fn` as a value algorithm whose params are validated against
  // `input_schema` (JSON Schema text, or nullptr). `fn` is callable as
  // brt::value(const brt::value &params), or as brt_value *(const brt_value
  // *params) returning a new reference. What fn throws is returned as the
  // call's typed error.
  template <class F>
  void value(const char *name, const char *version, const char *input_schema, F fn,
             algorithm_options options = {}) {
    using stored = std::decay_t<F>;
    static_assert(detail::takes_cpp_values<stored> || detail::takes_c_values<stored>,
                  "a value algorithm is callable as brt::value(const brt::value &params) or "
                  "brt_value *(const brt_value *params)");
    auto holder = std::make_unique<detail::value_holder<stored>>(std::move(fn));
    brt_algorithm algorithm{};
    algorithm.struct_size = sizeof algorithm;
    algorithm.name = name;
    algorithm.version = version;
    algorithm.description = options.description;
    algorithm.input_schema = input_schema;
    algorithm.value_fn = &detail::value_trampoline<stored>;
    algorithm.output_schema = options.output_schema;
    algorithm.timeout_ms = options.timeout_ms;
    algorithm.memory_limit = options.memory_limit;
    algorithm.ctx = holder.get();
    std::lock_guard<std::mutex> lock(detail::value_holders_lock());
    check(brt_register(rt_, &algorithm));
    detail::value_holders().push_back(std::move(holder));
  }

 private:
  void register_native(const char *name, const char *version, const algorithm_options &options,
                       void *fn, const std::string &signature, brt_native_thunk thunk) {
    brt_algorithm algorithm{};
    algorithm.struct_size = sizeof algorithm;
    algorithm.name = name;
    algorithm.version = version;
    algorithm.description = options.description;
    algorithm.native_fn = fn;
    algorithm.signature = signature.c_str();
    algorithm.timeout_ms = options.timeout_ms;
    algorithm.memory_limit = options.memory_limit;
    algorithm.native_thunk = thunk;
    check(brt_register(rt_, &algorithm));
  }

  brt_runtime *rt_;
};

}  // namespace brt

// Writes the plugin's entry points; the body that follows registers the
// plugin's algorithms through `rt` (a brt::plugin &). Use it once per plugin.
#define BRT_PLUGIN(rt)                                                                       \
  static void brt_plugin_body(::brt::plugin &rt);                                           \
  extern "C" BRT_PLUGIN_EXPORT const uint32_t brt_plugin_abi_version = BRT_ABI_VERSION;    \
  extern "C" BRT_PLUGIN_EXPORT brt_status brt_plugin_init_v1(brt_runtime *brt_runtime_,    \
                                                             uint32_t brt_abi_version_) {   \
    if (brt_abi_version_ != BRT_ABI_VERSION)                                                \
      return brt_error_set(BRT_E_ABI_MISMATCH, BRT_ORIGIN_PLUGIN, nullptr,                  \
                           "plugin built for bridgert ABI %u, runtime offers ABI %u",       \
                           static_cast<unsigned>(BRT_ABI_VERSION),                          \
                           static_cast<unsigned>(brt_abi_version_));                        \
    return ::brt::guard([&] {                                                               \
      ::brt::plugin brt_plugin_(brt_runtime_);                                              \
      brt_plugin_body(brt_plugin_);                                                         \
    });                                                                                     \
  }                                                                                         \
  static void brt_plugin_body(::brt::plugin &rt)

// Writes the plugin's optional unload hook, brt_plugin_fini_v1: the body
// runs once before the plugin's image is dropped (unload, reload, runtime
// close), after its last call, when its init succeeded; `rt` is the
// runtime's brt_runtime * (possibly closed by then). It undoes what the
// init did outside the registry, e.g. brt_error_translator_unregister.
// Anything it throws is caught and dropped.
//
//   BRT_PLUGIN_FINI(rt) { brt_error_translator_unregister(&translate, nullptr); }
//
// Reload at the same path needs the plugin to leave the process: build it
// with the shim's flags (pkg-config bridgert_cpp, the meson dependency),
// which carry -fno-gnu-unique; see docs/plugins.md, "Reload".
#define BRT_PLUGIN_FINI(rt)                                                                  \
  static void brt_plugin_fini_body(brt_runtime *rt);                                        \
  extern "C" BRT_PLUGIN_EXPORT void brt_plugin_fini_v1(brt_runtime *brt_runtime_) {         \
    try {                                                                                   \
      brt_plugin_fini_body(brt_runtime_);                                                   \
    } catch (...) {                                                                         \
    }                                                                                       \
  }                                                                                         \
  static void brt_plugin_fini_body(brt_runtime *rt)

#endif  // BRIDGERT_PLUGIN_HPP
