// bridgert C++ shim — brt::value, an owning handle on brt_value
// (docs/values.md), with conversions to and from C++ types.
//
//   brt::value params = brt::value::from_json(R"({"n": 3, "xs": [1.5, 2.5]})");
//   int n = params["n"].as<int>();
//   auto xs = params["xs"].as<std::vector<double>>();
//   brt::value reply = std::map<std::string, brt::value>{{"sum", 4.0}, {"n", n}};
//
//   std::vector<float, brt::allocator<float>> pixels(h * w);
//   brt::value image = brt::value::tensor(pixels, {h, w});   // zero-copy
//
// A conversion that does not fit throws brt::error: BRT_E_TYPE_MISMATCH
// ("/xs/1: expected float, got string") or BRT_E_OUT_OF_RANGE ("/n: 300 does
// not fit in int8_t"), naming the element by its JSON Pointer.
//
// Values are immutable once shared: copying a brt::value shares the same
// brt_value (a reference); builders (push_back, set) work on containers that
// no other container holds yet (see bridgert/value.h, "Sealing").
#ifndef BRIDGERT_VALUE_HPP
#define BRIDGERT_VALUE_HPP

#include <bridgert.h>
#include <bridgert/error.hpp>
#include <bridgert/memory.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace brt {

class value;

namespace detail {

// Where a conversion is in the value: a chain of stack frames, formatted as
// a JSON Pointer only when a conversion fails (free on the success path).
struct value_path {
  const value_path *parent;
  std::string_view key;  // object member, or empty with is_index
  std::size_t index;
  bool is_index;
};

[[noreturn]] BRT_CPP_API void throw_kind_mismatch(const value_path *path, const char *expected,
                                                  const brt_value *got);
[[noreturn]] BRT_CPP_API void throw_out_of_range(const value_path *path, const std::string &number,
                                                 const char *target);
[[noreturn]] BRT_CPP_API void throw_dtype_mismatch(const value_path *path, brt_dtype expected,
                                                   brt_dtype got);
BRT_CPP_API std::int64_t value_to_int(const brt_value *v, const value_path *path);
BRT_CPP_API double value_to_double(const brt_value *v, const value_path *path);
BRT_CPP_API bool value_to_bool(const brt_value *v, const value_path *path);
BRT_CPP_API std::string value_to_string(const brt_value *v, const value_path *path);
// Array items or tensor rows: how many, and the kind seen.
BRT_CPP_API std::size_t sequence_length(const brt_value *v, const value_path *path);
BRT_CPP_API const brt_value *array_item(const brt_value *v, std::size_t index);

template <class T>
struct is_std_vector : std::false_type {};
template <class T, class A>
struct is_std_vector<std::vector<T, A>> : std::true_type {};

template <class T>
struct is_string_map : std::false_type {};
template <class T, class C, class A>
struct is_string_map<std::map<std::string, T, C, A>> : std::true_type {};

template <class T>
struct is_std_optional : std::false_type {};
template <class T>
struct is_std_optional<std::optional<T>> : std::true_type {};

// The element type at the bottom of nested vectors.
template <class T>
struct nested_leaf {
  using type = T;
};
template <class T, class A>
struct nested_leaf<std::vector<T, A>> {
  using type = typename nested_leaf<T>::type;
};

template <class T>
constexpr bool is_integer_v = std::is_integral_v<T> && !std::is_same_v<T, bool>;

// The dtype whose elements are T (for zero-copy tensors).
template <class T>
constexpr brt_dtype dtype_of() {
  if constexpr (std::is_same_v<T, double>) return BRT_DTYPE_F64;
  else if constexpr (std::is_same_v<T, float>) return BRT_DTYPE_F32;
  else if constexpr (std::is_same_v<T, std::int64_t>) return BRT_DTYPE_I64;
  else if constexpr (std::is_same_v<T, std::int32_t>) return BRT_DTYPE_I32;
  else if constexpr (std::is_same_v<T, std::uint8_t>) return BRT_DTYPE_U8;
  else if constexpr (std::is_same_v<T, bool>) return BRT_DTYPE_BOOL;
  else static_assert(sizeof(T) == 0, "no brt_dtype holds this element type");
}

template <class T>
constexpr bool has_dtype_v = std::is_same_v<T, double> || std::is_same_v<T, float> ||
                             std::is_same_v<T, std::int64_t> || std::is_same_v<T, std::int32_t> ||
                             std::is_same_v<T, std::uint8_t> || std::is_same_v<T, bool>;

}  // namespace detail

class BRT_CPP_API value {
 public:
  // An empty handle (no value). Not the null value: that is value(nullptr).
  value() noexcept = default;
  value(const value &other) noexcept : handle_(other.handle_) {
    if (handle_) brt_value_retain(handle_);
  }
  value(value &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  value &operator=(value other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  ~value() { reset(); }

  // Takes over a reference the caller holds; NULL throws the thread's last
  // error (so `value::adopt(brt_some_call(...))` checks the call).
  static value adopt(brt_value *v) { return value(check(v)); }
  // A new reference to a value someone else keeps (retains).
  static value share(const brt_value *v) {
    brt_value_retain(check(const_cast<brt_value *>(v)));
    return value(const_cast<brt_value *>(v));
  }

  // --- From C++ ------------------------------------------------------------
  value(std::nullptr_t) : value(check(brt_value_null())) {}
  value(bool truth) : value(check(brt_value_bool(truth))) {}
  value(const char *text) : value(std::string_view(text ? text : "")) {}
  value(std::string_view text) : value(check(brt_value_string(text.data(), text.size()))) {}
  value(const std::string &text) : value(std::string_view(text)) {}
  template <class T, std::enable_if_t<detail::is_integer_v<T>, int> = 0>
  value(T number) : value(from_integer(number)) {}
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  value(T number) : value(check(brt_value_float(static_cast<double>(number)))) {}
  template <class T, class A>
  value(const std::vector<T, A> &items) : value(check(brt_value_array(items.size()))) {
    for (const T &item : items) push_back(value(item));
  }
  template <class T, class C, class A>
  value(const std::map<std::string, T, C, A> &members)
      : value(check(brt_value_object(members.size()))) {
    for (const auto &member : members) set(member.first, value(member.second));
  }
  template <class T>
  value(const std::optional<T> &maybe) : value(maybe ? value(*maybe) : value(nullptr)) {}

  // Raw bytes (a value of kind bytes).
  static value bytes(const void *data, std::size_t len) {
    return value(check(brt_value_bytes(data, len)));
  }
  static value array(std::size_t capacity = 0) { return value(check(brt_value_array(capacity))); }
  static value object(std::size_t capacity = 0) { return value(check(brt_value_object(capacity))); }

  // --- Tensors ------------------------------------------------------------------
  // A new zero-filled contiguous tensor.
  static value tensor(brt_dtype dtype, const std::vector<std::size_t> &shape) {
    return value(check(brt_tensor_new(dtype, shape.size(), shape.data())));
  }
  // Zero-copy: a tensor over `data`, which must be the start of a managed
  // block (brt_alloc, brt::allocator, a Rust allocation through bridgert).
  // The block is retained; strides in elements, empty for row-major.
  template <class T>
  static value tensor(T *data, const std::vector<std::size_t> &shape,
                      const std::vector<std::ptrdiff_t> &strides = {}) {
    if (!strides.empty() && strides.size() != shape.size())
      throw error(BRT_E_INVALID_ARGUMENT, "brt::value::tensor: " + std::to_string(strides.size()) +
                                              " strides for " + std::to_string(shape.size()) +
                                              " dimensions");
    return value(check(brt_tensor_wrap(const_cast<std::remove_const_t<T> *>(data),
                                       detail::dtype_of<std::remove_const_t<T>>(), shape.size(),
                                       shape.data(), strides.empty() ? nullptr : strides.data())));
  }
  template <class T>
  static value tensor(const block<T> &data, const std::vector<std::size_t> &shape,
                      const std::vector<std::ptrdiff_t> &strides = {}) {
    return tensor(data.data(), shape, strides);
  }
  // Zero-copy from a vector on brt::allocator: the tensor keeps the block
  // alive after the vector is gone (and sees its writes while both live).
  template <class T>
  static value tensor(const std::vector<T, allocator<T>> &data,
                      const std::vector<std::size_t> &shape) {
    return tensor(data.data(), shape);
  }
  // A copy of nested vectors (rectangular) into a new tensor of T's dtype.
  template <class V>
  static value tensor_from(const V &nested);

  // --- Inspecting ---------------------------------------------------------------
  brt_kind kind() const noexcept { return handle_ ? brt_value_kind(handle_) : BRT_KIND_INVALID; }
  const char *kind_name() const noexcept { return brt_kind_name(kind()); }
  bool is_null() const noexcept { return kind() == BRT_KIND_NULL; }
  explicit operator bool() const noexcept { return handle_ != nullptr; }
  // Items of an array, members of an object, first extent of a tensor.
  std::size_t size() const;
  // The item at `index` / the member `key` (sharing it). Throws
  // BRT_E_OUT_OF_RANGE / BRT_E_NOT_FOUND / BRT_E_TYPE_MISMATCH.
  // (A template, so that `v[0]` is not ambiguous with the const char* key.)
  template <class I, std::enable_if_t<detail::is_integer_v<I>, int> = 0>
  value operator[](I index) const {
    if constexpr (std::is_signed_v<I>) {
      if (index < 0)
        throw error(BRT_E_OUT_OF_RANGE, "brt::value: index " + std::to_string(index) + " is negative");
    }
    return item(static_cast<std::size_t>(index));
  }
  value operator[](std::string_view key) const;
  value operator[](const char *key) const { return (*this)[std::string_view(key)]; }
  bool contains(std::string_view key) const;
  // The member keys of an object, in insertion order.
  std::vector<std::string> keys() const;

  // Converts to T (see the header comment for the errors).
  template <class T>
  T as() const {
    return convert<T>(require(), nullptr);
  }

  // Tensor access without copying: the data as T* (T must match the dtype,
  // else BRT_E_TYPE_MISMATCH), and the tensor's description. A tensor over a
  // read-only block (a MAPPED block of brt_map_file, or of brt_map_fd
  // without BRT_MAP_WRITABLE: brt_block_info.flags has BRT_BLOCK_READ_ONLY)
  // gives a pointer that only reads: a write through it faults (SIGSEGV).
  // brt_tensor_set_* refuse such a tensor with BRT_E_PERMISSION.
  template <class T>
  T *tensor_data() const {
    brt_tensor_info info = tensor_info();
    if (info.dtype != detail::dtype_of<T>())
      detail::throw_dtype_mismatch(nullptr, detail::dtype_of<T>(), info.dtype);
    return static_cast<T *>(info.data);
  }
  brt_tensor_info tensor_info() const;

  // --- Building (containers no other container holds yet) --------------------
  value &push_back(const value &item) {
    check(brt_value_array_push(require(), item.require()));
    return *this;
  }
  value &set(std::string_view key, const value &member) {
    check(brt_value_object_set(require(), key.data(), key.size(), member.require()));
    return *this;
  }

  // --- JSON and text -----------------------------------------------------------------
  static value from_json(std::string_view text, unsigned flags = 0) {
    return value(check(brt_value_from_json(text.data(), text.size(), flags)));
  }
  std::string to_json(unsigned flags = 0) const;
  std::string debug_string(std::size_t max_items = 0) const;

  bool operator==(const value &other) const noexcept {
    return handle_ == other.handle_ || (handle_ && other.handle_ && brt_value_equal(handle_, other.handle_));
  }
  bool operator!=(const value &other) const noexcept { return !(*this == other); }

  // The C handle (borrowed), for C calls.
  brt_value *get() const noexcept { return handle_; }
  // Gives the reference to the caller (to return it through the C ABI).
  brt_value *release() noexcept { return std::exchange(handle_, nullptr); }
  void reset() noexcept {
    if (handle_) brt_value_release(std::exchange(handle_, nullptr));
  }

 private:
  explicit value(brt_value *adopted) noexcept : handle_(adopted) {}
  brt_value *require() const;
  value item(std::size_t index) const;

  template <class T>
  static value from_integer(T number) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (number > static_cast<T>(std::numeric_limits<std::int64_t>::max()))
        detail::throw_out_of_range(nullptr, std::to_string(number), "a brt_value int (int64_t)");
    }
    return value(check(brt_value_int(static_cast<std::int64_t>(number))));
  }

  template <class T>
  static T convert(const brt_value *v, const detail::value_path *path);
  template <class T>
  static T integer_from(const brt_value *v, const detail::value_path *path);
  template <class V>
  static void tensor_fill(const V &nested, const std::vector<std::size_t> &shape, std::size_t axis,
                          std::vector<std::size_t> &index, brt_value *tensor);
  template <class V>
  static void tensor_shape(const V &nested, std::vector<std::size_t> &shape, std::size_t axis);

  brt_value *handle_ = nullptr;
};

// --- Conversions (templates) -------------------------------------------------------

template <class T>
T value::integer_from(const brt_value *v, const detail::value_path *path) {
  std::int64_t number = detail::value_to_int(v, path);
  if constexpr (std::is_unsigned_v<T>) {
    if (number < 0 || static_cast<std::uint64_t>(number) > std::numeric_limits<T>::max())
      detail::throw_out_of_range(path, std::to_string(number), "an unsigned integer of that width");
  } else {
    if (number < std::numeric_limits<T>::min() || number > std::numeric_limits<T>::max())
      detail::throw_out_of_range(path, std::to_string(number), "a signed integer of that width");
  }
  return static_cast<T>(number);
}

template <class T>
T value::convert(const brt_value *v, const detail::value_path *path) {
  if constexpr (std::is_same_v<T, value>) {
    brt_value_retain(v);
    return value(const_cast<brt_value *>(v));
  } else if constexpr (std::is_same_v<T, bool>) {
    return detail::value_to_bool(v, path);
  } else if constexpr (detail::is_integer_v<T>) {
    return integer_from<T>(v, path);
  } else if constexpr (std::is_floating_point_v<T>) {
    return static_cast<T>(detail::value_to_double(v, path));
  } else if constexpr (std::is_same_v<T, std::string>) {
    return detail::value_to_string(v, path);
  } else if constexpr (detail::is_std_optional<T>::value) {
    if (brt_value_kind(v) == BRT_KIND_NULL) return T();
    return T(convert<typename T::value_type>(v, path));
  } else if constexpr (detail::is_std_vector<T>::value) {
    using item_type = typename T::value_type;
    T items;
    if (brt_value_kind(v) == BRT_KIND_TENSOR) {
      if constexpr (std::is_arithmetic_v<item_type>) {
        // A 1-D tensor converts element by element (checked by the C API).
        brt_tensor_info info{};
        info.struct_size = sizeof info;
        check(brt_tensor_info_get(v, &info));
        if (info.ndim != 1) detail::throw_kind_mismatch(path, "array or 1-D tensor", v);
        items.reserve(info.shape[0]);
        for (std::size_t i = 0; i < info.shape[0]; i++) {
          if constexpr (std::is_floating_point_v<item_type>) {
            double number = 0;
            check(brt_tensor_get_f64(v, &i, 1, &number));
            items.push_back(static_cast<item_type>(number));
          } else {
            std::int64_t number = 0;
            check(brt_tensor_get_i64(v, &i, 1, &number));
            items.push_back(static_cast<item_type>(number));
          }
        }
        return items;
      }
    }
    std::size_t length = detail::sequence_length(v, path);
    items.reserve(length);
    for (std::size_t i = 0; i < length; i++) {
      detail::value_path here{path, {}, i, true};
      items.push_back(convert<item_type>(detail::array_item(v, i), &here));
    }
    return items;
  } else if constexpr (detail::is_string_map<T>::value) {
    if (brt_value_kind(v) != BRT_KIND_OBJECT) detail::throw_kind_mismatch(path, "object", v);
    std::size_t length = 0;
    check(brt_value_object_length(v, &length));
    T members;
    for (std::size_t i = 0; i < length; i++) {
      const char *key = nullptr;
      std::size_t key_len = 0;
      const brt_value *member = nullptr;
      check(brt_value_object_entry(v, i, &key, &key_len, &member));
      detail::value_path here{path, std::string_view(key, key_len), 0, false};
      members.emplace(std::string(key, key_len),
                      convert<typename T::mapped_type>(member, &here));
    }
    return members;
  } else {
    static_assert(sizeof(T) == 0,
                  "brt::value converts to bool, integers, floating point, std::string, "
                  "std::optional, std::vector and std::map<std::string, T>");
  }
}

template <class V>
void value::tensor_shape(const V &nested, std::vector<std::size_t> &shape, std::size_t axis) {
  if constexpr (detail::is_std_vector<V>::value) {
    if (shape.size() == axis) {
      shape.push_back(nested.size());
    } else if (shape[axis] != nested.size()) {
      throw error(BRT_E_INVALID_ARGUMENT,
                  "brt::value::tensor_from: the nested vectors are ragged: axis " +
                      std::to_string(axis) + " has lengths " + std::to_string(shape[axis]) +
                      " and " + std::to_string(nested.size()));
    }
    if (shape.size() > BRT_TENSOR_MAX_DIMS)
      throw error(BRT_E_INVALID_ARGUMENT, "brt::value::tensor_from: more than " +
                                              std::to_string(BRT_TENSOR_MAX_DIMS) + " dimensions");
    for (const auto &inner : nested) tensor_shape(inner, shape, axis + 1);
  }
}

template <class V>
void value::tensor_fill(const V &nested, const std::vector<std::size_t> &shape, std::size_t axis,
                        std::vector<std::size_t> &index, brt_value *tensor) {
  if constexpr (detail::is_std_vector<V>::value) {
    for (std::size_t i = 0; i < nested.size(); i++) {
      index[axis] = i;
      tensor_fill(nested[i], shape, axis + 1, index, tensor);
    }
  } else {
    static_assert(std::is_arithmetic_v<V>, "tensor_from takes nested vectors of numbers");
    if constexpr (std::is_floating_point_v<V>)
      check(brt_tensor_set_f64(tensor, index.data(), index.size(), static_cast<double>(nested)));
    else
      check(brt_tensor_set_i64(tensor, index.data(), index.size(),
                               static_cast<std::int64_t>(nested)));
  }
}

template <class V>
value value::tensor_from(const V &nested) {
  static_assert(detail::is_std_vector<V>::value, "tensor_from takes (nested) std::vector");
  std::vector<std::size_t> shape;
  tensor_shape(nested, shape, 0);
  brt_dtype leaf_dtype = detail::dtype_of<typename detail::nested_leaf<V>::type>();
  value result = tensor(leaf_dtype, shape);
  std::vector<std::size_t> index(shape.size(), 0);
  bool empty = false;
  for (std::size_t extent : shape) empty = empty || extent == 0;
  if (!empty) tensor_fill(nested, shape, 0, index, result.handle_);
  return result;
}

}  // namespace brt

#endif  // BRIDGERT_VALUE_HPP
