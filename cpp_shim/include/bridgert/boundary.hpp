// bridgert C++ shim — the exception boundary (docs/abi.md).
//
// Nothing may unwind across the C ABI. brt::guard runs C++ code and turns
// whatever it throws into the calling thread's brt_error plus a brt_status:
//
//   extern "C" brt_status my_plugin_solve(const double *in, double *out) {
//     return BRT_GUARDED(*out = solve(*in));
//   }
//
// What is recorded: the status chosen by the registered translators (most
// recent first), else by the default table (docs/cpp.md); what(); the
// demangled dynamic type, also for `throw 42` or `throw "text"`; the value and
// category of a std::error_code; both paths of a filesystem_error; and the
// chain of std::nested_exception causes. A brt::error passes through
// unchanged (its code, origin, type and causes survive the round trip).
//
// The one thing guard lets through is abi::__forced_unwind, the unwinding
// that pthread_cancel and pthread_exit use (and any other non-C++
// exception): swallowing it would abort the process. That is why guard is
// not noexcept.
#ifndef BRIDGERT_BOUNDARY_HPP
#define BRIDGERT_BOUNDARY_HPP

#include <bridgert.h>

#include <cxxabi.h>

#include <cstddef>
#include <exception>
#include <memory>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

// Marks what libbridgert_cpp exports; it is built with -fvisibility=hidden.
#if defined(__GNUC__)
#define BRT_CPP_API __attribute__((visibility("default")))
#else
#define BRT_CPP_API
#endif

namespace brt {
namespace detail {

// Records the exception currently being handled (call it only from inside a
// catch block) as the thread's brt_error and returns its status. `as_std` is
// the exception as a std::exception when it is one, else nullptr. Never
// throws; disables thread cancellation while it runs, so the bookkeeping is
// not a cancellation point.
BRT_CPP_API brt_status record_current_exception(const std::exception *as_std) noexcept;

// Writes the readable name of a type ("std::out_of_range", "int",
// "char const*") into buf and returns buf. Never throws; falls back to the
// mangled name.
BRT_CPP_API const char *type_name(const std::type_info &type, char *buf, std::size_t size) noexcept;

template <class F>
using guard_result_t = std::invoke_result_t<F>;

// Inside a catch (...) block: rethrows an exception that is not a C++ one.
// The forced unwinding of pthread_cancel and pthread_exit
// (abi::__forced_unwind) is such an exception, and so is another language's
// unwinding: the boundary cannot describe them, and swallowing them would
// abort the process. std::current_exception() is empty exactly for them;
// the current exception's type is no test, because for a foreign exception
// the C++ runtime reads it from memory that is not a C++ exception header.
// (The core's boundary makes the same test: exception/cpp_classify.hpp.)
inline void rethrow_if_foreign() {
  if (!std::current_exception()) throw;
}

}  // namespace detail

// Runs f(). Returns BRT_OK (or f's own brt_status when f returns one), or
// records what f threw and returns its status. Only abi::__forced_unwind
// (with any other non-C++ exception) leaves. The no-throw path costs
// nothing beyond the call itself: the catch clauses live in the unwind
// tables, not on the executed path.
template <class F>
[[nodiscard]] brt_status guard(F &&f) {
  try {
    if constexpr (std::is_same_v<detail::guard_result_t<F>, brt_status>) {
      return std::forward<F>(f)();
    } else {
      std::forward<F>(f)();
      return BRT_OK;
    }
  } catch (const std::exception &e) {
    return detail::record_current_exception(&e);
  } catch (...) {
    detail::rethrow_if_foreign();
    return detail::record_current_exception(nullptr);
  }
}

// Runs f() and returns its value, or records what it threw and returns
// `fallback` (converted to f's result type): for extern "C" functions that
// return a pointer or a value
// (`return brt::guard_or(nullptr, [&] { return make_value(); });`).
template <class F>
std::invoke_result_t<F> guard_or(typename std::invoke_result<F>::type fallback, F &&f) {
  try {
    return std::forward<F>(f)();
  } catch (const std::exception &e) {
    detail::record_current_exception(&e);
  } catch (...) {
    detail::rethrow_if_foreign();
    detail::record_current_exception(nullptr);
  }
  return fallback;
}

// --- User translators --------------------------------------------------------
//
// brt::register_translator<E>(fn) makes exceptions of type E (or derived from
// it) translate to the status fn returns. fn is one of
//   brt_status fn(const E &)                       message: what() (or the type)
//   brt_status fn(const E &, std::string &message) fn may set the message
// Translators are kept in the C registry (brt_error_translator_register), so
// every plugin and shim of the process shares them; the most recent
// registration is consulted first and the default table is the fallback. A
// translator that throws makes the error BRT_E_INTERNAL with a message naming
// the translator's type and what it threw; it never terminates the process.

// A registered translator. Dropping the handle keeps the translator
// registered (the usual case: for the whole process); remove() takes it out,
// which a plugin does before it is unloaded.
class translator {
 public:
  translator() noexcept = default;
  translator(brt_error_translator fn, void *ctx, void (*destroy)(void *)) noexcept
      : fn_(fn), ctx_(ctx), destroy_(destroy) {}
  translator(translator &&other) noexcept { swap(other); }
  translator &operator=(translator &&other) noexcept {
    swap(other);
    return *this;
  }
  translator(const translator &) = delete;
  translator &operator=(const translator &) = delete;
  ~translator() = default;

  bool registered() const noexcept { return fn_ != nullptr; }
  // Unregisters (waiting for translations running on other threads) and
  // frees the stored function. BRT_E_NOT_FOUND when nothing is registered.
  brt_status remove() noexcept {
    if (!fn_)
      return brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_CPP, "brt::translator",
                           "brt::translator::remove: this handle holds no registered translator");
    brt_status status = brt_error_translator_unregister(fn_, ctx_);
    if (status == BRT_OK) destroy_(ctx_);
    fn_ = nullptr;
    ctx_ = nullptr;
    return status;
  }

 private:
  void swap(translator &other) noexcept {
    std::swap(fn_, other.fn_);
    std::swap(ctx_, other.ctx_);
    std::swap(destroy_, other.destroy_);
  }
  brt_error_translator fn_ = nullptr;
  void *ctx_ = nullptr;
  void (*destroy_)(void *) = nullptr;
};

namespace detail {

// Calls the user's function and fills `out`; turns anything the function
// throws into BRT_E_INTERNAL naming `handled` (the translator's type).
// Returns 1 (the translator claimed the exception).
template <class E, class Fn>
int run_translator(Fn &fn, const E &e, brt_translation *out) noexcept;

BRT_CPP_API void translation_set_message(brt_translation *out, const char *text) noexcept;
BRT_CPP_API void translation_failed(brt_translation *out, const std::type_info &handled) noexcept;
BRT_CPP_API brt_status translator_register_or_throw(brt_error_translator fn, void *ctx);

template <class E, class Fn>
int run_translator(Fn &fn, const E &e, brt_translation *out) noexcept {
  try {
    if constexpr (std::is_invocable_r_v<brt_status, Fn &, const E &, std::string &>) {
      std::string message;
      out->code = fn(e, message);
      translation_set_message(out, message.c_str());
    } else {
      out->code = fn(e);
    }
  } catch (...) {
    translation_failed(out, typeid(E));
  }
  return 1;
}

// What the guard knows about the exception it is translating: its type and
// the thrown object itself (for class types derived from std::exception).
struct handled_exception {
  const std::exception_ptr *ptr;
  const std::type_info *type;
  void *object;
};
// The exception this thread's guard is translating, when `exception` (the
// registry's argument) is it; else nullptr.
BRT_CPP_API const handled_exception *handled_exception_for(const void *exception) noexcept;

// The C-registry callback for E. The exception arrives as a
// std::exception_ptr. When the guard that caught it knows the object, the
// question "is it an E?" is answered the way the C++ runtime's own catch
// matching answers it (libstdc++'s type_info::__do_catch, which also
// adjusts the pointer to the E base), without unwinding. Otherwise
// rethrowing is the portable way, at the price of one more throw.
template <class E, class Fn>
int translate_trampoline(void *ctx, brt_origin origin, const void *exception,
                         brt_translation *out) noexcept {
  if (origin != BRT_ORIGIN_CPP || !exception) return 0;
#if defined(__GLIBCXX__)
  if constexpr (std::is_class_v<E>) {
    if (const handled_exception *handled = handled_exception_for(exception)) {
      void *object = handled->object;
      if (!typeid(E).__do_catch(handled->type, &object, 1)) return 0;
      return run_translator<E>(*static_cast<Fn *>(ctx), *static_cast<const E *>(object), out);
    }
  }
#endif
  const auto &ptr = *static_cast<const std::exception_ptr *>(exception);
  if (!ptr) return 0;
  try {
    std::rethrow_exception(ptr);
  } catch (const E &e) {
    return run_translator<E>(*static_cast<Fn *>(ctx), e, out);
  } catch (...) {
    return 0;
  }
}

}  // namespace detail

// Registers fn for exceptions of type E. Throws brt::error when the registry
// refuses (out of memory, too many translators, called from inside a
// translator).
template <class E, class Fn>
translator register_translator(Fn &&fn) {
  static_assert(!std::is_reference_v<E> && !std::is_const_v<E>,
                "name the exception type itself: register_translator<my_error>");
  using stored = std::decay_t<Fn>;
  static_assert(std::is_invocable_r_v<brt_status, stored &, const E &> ||
                    std::is_invocable_r_v<brt_status, stored &, const E &, std::string &>,
                "a translator takes (const E&) or (const E&, std::string& message) and returns "
                "a brt_status");
  auto owned = std::make_unique<stored>(std::forward<Fn>(fn));
  brt_error_translator callback = &detail::translate_trampoline<E, stored>;
  detail::translator_register_or_throw(callback, owned.get());
  return translator(callback, owned.release(),
                    [](void *ctx) { delete static_cast<stored *>(ctx); });
}

}  // namespace brt

// One line per exported function: `return BRT_GUARDED(statements);`. The
// statements run inside a lambda that captures by reference; a `return` of a
// brt_status inside them becomes the function's status.
#define BRT_GUARDED(...) ::brt::guard([&]() { __VA_ARGS__; })

#endif  // BRIDGERT_BOUNDARY_HPP
