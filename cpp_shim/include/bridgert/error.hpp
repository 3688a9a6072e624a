// bridgert C++ shim — the other direction: C errors as C++ exceptions.
//
// C++ code that calls the core (or Rust through it) sees a failure as a
// brt::error thrown by brt::check, or as a brt::result<T> when it prefers
// values to exceptions:
//
//   brt::check(brt_mem_set_limit(limit));            // throws brt::error
//   void *p = brt::check(brt_alloc(n, 16, BRT_MEM_CPP_HEAP, 0));
//   brt::result<int> r = brt::attempt([&] { return parse(text); });
//   if (!r) log(r.error().what());
//
// A brt::error owns the full brt_error (code, origin, type, OS code, paths,
// causes). When it is thrown through brt::guard, that record is restored as
// the thread's error unchanged, so an error raised in Rust or C keeps its
// origin and type across any number of C++ frames.
#ifndef BRIDGERT_ERROR_HPP
#define BRIDGERT_ERROR_HPP

#include <bridgert/boundary.hpp>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace brt {

class BRT_CPP_API error : public std::runtime_error {
 public:
  // Adopts an error taken from a thread (brt_error_take) or cloned. NULL
  // becomes BRT_E_INTERNAL ("no error was recorded").
  explicit error(brt_error *owned);
  // A new error raised in C++ (origin BRT_ORIGIN_CPP, type "brt::error").
  error(brt_status code, const std::string &message);
  error(const error &) noexcept = default;
  error &operator=(const error &) noexcept = default;
  ~error() override;

  brt_status code() const noexcept { return brt_error_code(record_.get()); }
  brt_origin origin() const noexcept { return brt_error_origin(record_.get()); }
  // The type of the exception that started it ("std::out_of_range"), or
  // nullptr for errors raised in C.
  const char *type() const noexcept { return brt_error_type(record_.get()); }
  int os_code() const noexcept { return brt_error_os_code(record_.get()); }
  const char *os_category() const noexcept { return brt_error_os_category(record_.get()); }
  const char *path(unsigned index) const noexcept { return brt_error_path(record_.get(), index); }
  // The error that led to this one, sharing this one's record.
  std::optional<error> cause() const;
  // The whole chain as one line ("BRT_E_IO (cpp, ...): ...; caused by: ...").
  std::string describe() const;
  // The C record, valid as long as this error (or a copy) lives.
  const brt_error *raw() const noexcept { return record_.get(); }

 private:
  explicit error(std::shared_ptr<const brt_error> record);
  std::shared_ptr<const brt_error> record_;
};

namespace detail {
// Throws the thread's last error as brt::error (taking it). When no error,
// or an error with another code than `status`, is recorded, the thrown error
// has `status` (BRT_E_INTERNAL for BRT_OK, which means "any code") and says
// that the callee did not record one.
[[noreturn]] BRT_CPP_API void throw_last_error(brt_status status);
// The exception being handled, as a brt::error (call from a catch block).
BRT_CPP_API error current_exception_as_error();
}  // namespace detail

// Throws brt::error from the thread's last error when status is not BRT_OK.
inline void check(brt_status status) {
  if (status != BRT_OK) detail::throw_last_error(status);
}

// Returns p, or throws the thread's last error when p is NULL (for the
// functions that return a pointer).
template <class T>
T *check(T *p) {
  if (!p) detail::throw_last_error(BRT_OK);
  return p;
}

// A value or the brt::error that prevented it.
template <class T>
class result {
 public:
  result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  result(::brt::error failure) : state_(std::in_place_index<1>, std::move(failure)) {}

  bool ok() const noexcept { return state_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  brt_status status() const noexcept { return ok() ? BRT_OK : std::get<1>(state_).code(); }

  // The value; throws the error when there is none.
  T &value() & {
    if (!ok()) throw std::get<1>(state_);
    return std::get<0>(state_);
  }
  const T &value() const & {
    if (!ok()) throw std::get<1>(state_);
    return std::get<0>(state_);
  }
  T &&value() && {
    if (!ok()) throw std::get<1>(state_);
    return std::get<0>(std::move(state_));
  }
  template <class U>
  T value_or(U &&fallback) const & {
    return ok() ? std::get<0>(state_) : static_cast<T>(std::forward<U>(fallback));
  }
  // The error; throws std::logic_error when the result holds a value.
  const ::brt::error &error() const {
    if (ok()) throw std::logic_error("brt::result::error() called on a result that holds a value");
    return std::get<1>(state_);
  }

 private:
  std::variant<T, ::brt::error> state_;
};

template <>
class result<void> {
 public:
  result() = default;
  result(::brt::error failure) : failure_(std::move(failure)) {}

  bool ok() const noexcept { return !failure_.has_value(); }
  explicit operator bool() const noexcept { return ok(); }
  brt_status status() const noexcept { return ok() ? BRT_OK : failure_->code(); }
  void value() const {
    if (!ok()) throw *failure_;
  }
  const ::brt::error &error() const {
    if (ok()) throw std::logic_error("brt::result::error() called on a successful result");
    return *failure_;
  }

 private:
  std::optional<::brt::error> failure_;
};

// Runs f() and returns its value, or the error it threw translated exactly as
// brt::guard would (the thread's last error is left untouched).
// abi::__forced_unwind (and any non-C++ exception) is rethrown.
template <class F, class R = std::invoke_result_t<F>>
result<R> attempt(F &&f) {
  try {
    if constexpr (std::is_void_v<R>) {
      std::forward<F>(f)();
      return result<void>();
    } else {
      return result<R>(std::forward<F>(f)());
    }
  } catch (...) {
    detail::rethrow_if_foreign();
    return result<R>(detail::current_exception_as_error());
  }
}

}  // namespace brt

#endif  // BRIDGERT_ERROR_HPP
