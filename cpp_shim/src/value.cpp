// brt::value: the non-template parts, and the errors of conversions, which
// name the element by its JSON Pointer ("/matrix/1/0: expected float, got
// string"). The pointer is built only when a conversion fails.
#include "internal.hpp"

#include <bridgert/value.hpp>

#include <memory>
#include <string>

namespace brt {
namespace detail {
namespace {

// RFC 6901: "~" is written "~0" and "/" is written "~1" inside a token.
void append_pointer_token(std::string &out, std::string_view token) {
  for (char c : token) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
}

std::string pointer_of(const value_path *path) {
  if (!path) return "(root)";
  std::vector<const value_path *> chain;
  for (const value_path *step = path; step; step = step->parent) chain.push_back(step);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    out += '/';
    if ((*it)->is_index)
      out += std::to_string((*it)->index);
    else
      append_pointer_token(out, (*it)->key);
  }
  return out;
}

const char *kind_of(const brt_value *v) { return brt_kind_name(brt_value_kind(v)); }

}  // namespace

void throw_kind_mismatch(const value_path *path, const char *expected, const brt_value *got) {
  throw error(BRT_E_TYPE_MISMATCH,
              pointer_of(path) + ": expected " + expected + ", got " + kind_of(got));
}

void throw_out_of_range(const value_path *path, const std::string &number, const char *target) {
  throw error(BRT_E_OUT_OF_RANGE,
              pointer_of(path) + ": " + number + " does not fit in " + target);
}

void throw_dtype_mismatch(const value_path *path, brt_dtype expected, brt_dtype got) {
  throw error(BRT_E_TYPE_MISMATCH, pointer_of(path) + ": expected a tensor of " +
                                       brt_dtype_name(expected) + ", got a tensor of " +
                                       brt_dtype_name(got));
}

std::int64_t value_to_int(const brt_value *v, const value_path *path) {
  if (brt_value_kind(v) != BRT_KIND_INT) throw_kind_mismatch(path, "int", v);
  std::int64_t number = 0;
  check(brt_value_get_int(v, &number));
  return number;
}

double value_to_double(const brt_value *v, const value_path *path) {
  brt_kind kind = brt_value_kind(v);
  if (kind != BRT_KIND_INT && kind != BRT_KIND_FLOAT) throw_kind_mismatch(path, "number", v);
  double number = 0;
  check(brt_value_get_number(v, &number));
  return number;
}

bool value_to_bool(const brt_value *v, const value_path *path) {
  if (brt_value_kind(v) != BRT_KIND_BOOL) throw_kind_mismatch(path, "bool", v);
  int truth = 0;
  check(brt_value_get_bool(v, &truth));
  return truth != 0;
}

std::string value_to_string(const brt_value *v, const value_path *path) {
  if (brt_value_kind(v) != BRT_KIND_STRING) throw_kind_mismatch(path, "string", v);
  const char *data = nullptr;
  std::size_t len = 0;
  check(brt_value_get_string(v, &data, &len));
  return std::string(data, len);
}

std::size_t sequence_length(const brt_value *v, const value_path *path) {
  if (brt_value_kind(v) != BRT_KIND_ARRAY) throw_kind_mismatch(path, "array", v);
  std::size_t length = 0;
  check(brt_value_array_length(v, &length));
  return length;
}

const brt_value *array_item(const brt_value *v, std::size_t index) {
  return check(brt_value_array_get(v, index));
}

}  // namespace detail

namespace {

// Text in a managed block (brt_value_to_json, brt_value_debug_string) as a
// std::string; the block is released even if the copy throws.
std::string take_managed_text(char *text) {
  std::unique_ptr<char, void (*)(char *)> owned(check(text),
                                                [](char *p) { (void)brt_release(p); });
  return std::string(owned.get());
}

}  // namespace

brt_value *value::require() const {
  if (!handle_)
    throw error(BRT_E_INVALID_ARGUMENT, "brt::value: the handle is empty (moved from or released)");
  return handle_;
}

std::size_t value::size() const {
  const brt_value *v = require();
  std::size_t length = 0;
  switch (brt_value_kind(v)) {
    case BRT_KIND_ARRAY:
      check(brt_value_array_length(v, &length));
      return length;
    case BRT_KIND_OBJECT:
      check(brt_value_object_length(v, &length));
      return length;
    case BRT_KIND_TENSOR: {
      brt_tensor_info info = tensor_info();
      return info.ndim ? info.shape[0] : 1;
    }
    default:
      detail::throw_kind_mismatch(nullptr, "array, object or tensor", v);
  }
}

value value::item(std::size_t index) const {
  const brt_value *v = require();
  if (brt_value_kind(v) != BRT_KIND_ARRAY) detail::throw_kind_mismatch(nullptr, "array", v);
  return share(detail::array_item(v, index));
}

value value::operator[](std::string_view key) const {
  const brt_value *v = require();
  if (brt_value_kind(v) != BRT_KIND_OBJECT) detail::throw_kind_mismatch(nullptr, "object", v);
  return share(check(brt_value_object_get(v, key.data(), key.size())));
}

bool value::contains(std::string_view key) const {
  const brt_value *v = require();
  if (brt_value_kind(v) != BRT_KIND_OBJECT) detail::throw_kind_mismatch(nullptr, "object", v);
  // A missing key is an answer here, not an error: keep the thread's record.
  brt_error *previous = brt_error_take();
  bool found = brt_value_object_get(v, key.data(), key.size()) != nullptr;
  brt_error_clear();
  if (previous) brt_error_restore(previous);
  return found;
}

std::vector<std::string> value::keys() const {
  const brt_value *v = require();
  if (brt_value_kind(v) != BRT_KIND_OBJECT) detail::throw_kind_mismatch(nullptr, "object", v);
  std::size_t length = 0;
  check(brt_value_object_length(v, &length));
  std::vector<std::string> names;
  names.reserve(length);
  for (std::size_t i = 0; i < length; i++) {
    const char *key = nullptr;
    std::size_t key_len = 0;
    check(brt_value_object_entry(v, i, &key, &key_len, nullptr));
    names.emplace_back(key, key_len);
  }
  return names;
}

brt_tensor_info value::tensor_info() const {
  const brt_value *v = require();
  if (brt_value_kind(v) != BRT_KIND_TENSOR) detail::throw_kind_mismatch(nullptr, "tensor", v);
  brt_tensor_info info{};
  info.struct_size = sizeof info;
  check(brt_tensor_info_get(v, &info));
  return info;
}

std::string value::to_json(unsigned flags) const {
  return take_managed_text(brt_value_to_json(require(), flags));
}

std::string value::debug_string(std::size_t max_items) const {
  return take_managed_text(brt_value_debug_string(require(), max_items));
}

}  // namespace brt
