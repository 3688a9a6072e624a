// brt::value: conversions to and from C++ types, element paths in errors,
// zero-copy tensors, JSON, and ownership (retain on copy).
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cpp_test.hpp"

#include <bridgert/value.hpp>

template <class F>
static brt::error expect_error(F &&f) {
  try {
    f();
  } catch (const brt::error &e) {
    return e;
  }
  fail_msg("no brt::error was thrown");
  return brt::error(BRT_E_INTERNAL, "unreachable");
}

static void test_scalars_round_trip(void **state) {
  (void)state;
  assert_true(brt::value(true).as<bool>());
  assert_int_equal(brt::value(true).kind(), BRT_KIND_BOOL);
  assert_int_equal(brt::value(-42).as<int>(), -42);
  assert_int_equal(brt::value(std::int64_t{1} << 40).as<std::int64_t>(), std::int64_t{1} << 40);
  assert_int_equal(brt::value(200u).as<std::uint8_t>(), 200);
  assert_true(brt::value(2.5).as<double>() == 2.5);
  assert_true(brt::value(1.5f).as<float>() == 1.5f);
  assert_true(brt::value(7).as<double>() == 7.0);  // an int reads as a number
  assert_string_equal(brt::value("text").as<std::string>().c_str(), "text");
  assert_string_equal(brt::value(std::string("with\0nul", 8)).as<std::string>().substr(5).c_str(),
                      "nul");
  assert_true(brt::value(nullptr).is_null());
  assert_false(brt::value(nullptr).as<std::optional<int>>().has_value());
  assert_int_equal(*brt::value(3).as<std::optional<int>>(), 3);
  assert_true(brt::value(std::optional<int>()).is_null());
  assert_string_equal(brt::value(3).kind_name(), "int");
}

static void test_containers_round_trip(void **state) {
  (void)state;
  std::vector<int> numbers{1, 2, 3};
  brt::value array = numbers;
  assert_int_equal(array.kind(), BRT_KIND_ARRAY);
  assert_int_equal(array.size(), 3);
  assert_int_equal(array[2].as<int>(), 3);
  assert_true(array.as<std::vector<int>>() == numbers);

  std::map<std::string, std::vector<double>> rows{{"a", {1.5}}, {"b", {2.5, 3.5}}};
  brt::value object = rows;
  assert_int_equal(object.kind(), BRT_KIND_OBJECT);
  assert_true(object.contains("b"));
  assert_false(object.contains("c"));
  assert_true(object["b"][1].as<double>() == 3.5);
  assert_true((object.as<std::map<std::string, std::vector<double>>>() == rows));
  std::vector<std::string> keys = object.keys();
  assert_int_equal(keys.size(), 2);
  assert_string_equal(keys[0].c_str(), "a");

  std::map<std::string, brt::value> reply{{"sum", 4.0}, {"name", "solver"}, {"ok", true}};
  brt::value built = reply;
  assert_string_equal(built["name"].as<std::string>().c_str(), "solver");
  brt::value nested = std::vector<std::vector<int>>{{1, 2}, {3}};
  assert_int_equal(nested[1][0].as<int>(), 3);

  brt::value list = brt::value::array();
  list.push_back(1).push_back("two").push_back(nullptr);
  assert_int_equal(list.size(), 3);
  brt::value obj = brt::value::object();
  obj.set("k", list);
  assert_int_equal(obj["k"].size(), 3);
  // The list is now inside a container: sealed, builders refuse.
  brt::error sealed = expect_error([&] { list.push_back(4); });
  assert_int_equal(sealed.code(), BRT_E_PERMISSION);
}

static void test_conversion_errors_name_the_element(void **state) {
  (void)state;
  brt::value doc = brt::value::from_json(R"({"matrix": [[1, 2], [3, "x"]], "n": 300, "a/b": {"c~d": true}})");
  brt::error e = expect_error([&] { (void)doc["matrix"].as<std::vector<std::vector<int>>>(); });
  assert_int_equal(e.code(), BRT_E_TYPE_MISMATCH);
  assert_contains(e.what(), "/1/1: expected int, got string");
  e = expect_error([&] { (void)doc.as<std::map<std::string, std::vector<std::vector<int>>>>(); });
  assert_contains(e.what(), "/matrix/1/1: expected");
  e = expect_error([&] { (void)doc["n"].as<std::int8_t>(); });
  assert_int_equal(e.code(), BRT_E_OUT_OF_RANGE);
  assert_contains(e.what(), "300");
  e = expect_error([&] { (void)doc["n"].as<std::string>(); });
  assert_contains(e.what(), "(root): expected string, got int");
  e = expect_error([&] { (void)doc.as<std::map<std::string, std::map<std::string, int>>>(); });
  assert_contains(e.what(), "/matrix: expected object, got array");
  e = expect_error([&] { (void)doc["a/b"].as<std::map<std::string, int>>(); });
  assert_contains(e.what(), "/c~0d: expected int, got bool");
  e = expect_error([&] {
    (void)brt::value::from_json(R"({"a/b": [1, "x"]})").as<std::map<std::string, std::vector<int>>>();
  });
  assert_contains(e.what(), "/a~1b/1");
  e = expect_error([&] { (void)brt::value(-1).as<unsigned>(); });
  assert_int_equal(e.code(), BRT_E_OUT_OF_RANGE);
  e = expect_error([&] { (void)brt::value(std::numeric_limits<std::uint64_t>::max()); });
  assert_int_equal(e.code(), BRT_E_OUT_OF_RANGE);
  e = expect_error([&] { (void)brt::value(1.5).as<int>(); });
  assert_int_equal(e.code(), BRT_E_TYPE_MISMATCH);
  e = expect_error([&] { (void)doc["missing"]; });
  assert_int_equal(e.code(), BRT_E_NOT_FOUND);
  e = expect_error([&] { (void)doc["matrix"][7]; });
  assert_int_equal(e.code(), BRT_E_OUT_OF_RANGE);
  e = expect_error([&] { (void)doc[0]; });
  assert_int_equal(e.code(), BRT_E_TYPE_MISMATCH);
  e = expect_error([&] { (void)brt::value(std::string("\xff\xfe")); });
  assert_int_equal(e.code(), BRT_E_INVALID_ARGUMENT);
  brt::value empty;
  e = expect_error([&] { (void)empty.as<int>(); });
  assert_int_equal(e.code(), BRT_E_INVALID_ARGUMENT);
  // Through a guard, the path reaches the C side.
  brt_status status = brt::guard([&] { (void)doc["matrix"].as<std::vector<std::vector<int>>>(); });
  assert_int_equal(status, BRT_E_TYPE_MISMATCH);
  assert_contains(brt_error_message(last()), "/1/1");
}

static void test_json(void **state) {
  (void)state;
  brt::value v = brt::value::from_json(R"([1, 2.5, "s", null, {"k": false}])");
  assert_int_equal(v.size(), 5);
  assert_string_equal(v.to_json().c_str(), R"([1,2.5,"s",null,{"k":false}])");
  assert_true(v == brt::value::from_json(v.to_json()));
  assert_true(v != brt::value(1));
  assert_true(v.debug_string().size() > 0);
  brt::error e = expect_error([] { (void)brt::value::from_json("[1, 2"); });
  assert_int_equal(e.code(), BRT_E_CONVERSION);
}

static void test_tensors(void **state) {
  (void)state;
  // Zero-copy from a vector on brt::allocator; the tensor outlives it.
  brt::value image;
  const float *pixels_data = nullptr;
  {
    std::vector<float, brt::allocator<float>> pixels(6);
    for (std::size_t i = 0; i < pixels.size(); i++) pixels[i] = static_cast<float>(i);
    pixels_data = pixels.data();
    image = brt::value::tensor(pixels, {2, 3});
  }
  assert_ptr_equal(image.tensor_data<float>(), pixels_data);
  assert_true(image.tensor_data<float>()[5] == 5.0f);
  brt_tensor_info info = image.tensor_info();
  assert_int_equal(info.ndim, 2);
  assert_int_equal(info.shape[1], 3);
  assert_int_equal(image.size(), 2);
  brt::error e = expect_error([&] { (void)image.tensor_data<double>(); });
  assert_int_equal(e.code(), BRT_E_TYPE_MISMATCH);
  assert_contains(e.what(), "expected a tensor of f64, got a tensor of f32");

  // Zero-copy from a block; strided (a transposed view).
  brt::block<double> cells = brt::block<double>::allocate(6);
  for (std::size_t i = 0; i < 6; i++) cells[i] = static_cast<double>(i);
  brt::value transposed = brt::value::tensor(cells, {3, 2}, {1, 3});
  assert_ptr_equal(transposed.tensor_data<double>(), cells.data());
  assert_int_equal(cells.refcount(), 2);  // the tensor holds a reference
  std::size_t index[2] = {2, 1};
  double element = 0;
  assert_ok(brt_tensor_get_f64(transposed.get(), index, 2, &element));
  assert_true(element == 5.0);
  transposed.reset();
  assert_int_equal(cells.refcount(), 1);

  // Not a managed block: the C API refuses, nothing is wrapped.
  double on_stack[4] = {0, 1, 2, 3};
  e = expect_error([&] { (void)brt::value::tensor(on_stack, {4}); });
  assert_int_equal(e.code(), BRT_E_INVALID_POINTER);
  e = expect_error([&] { (void)brt::value::tensor(cells.data(), {100}); });
  assert_int_equal(e.code(), BRT_E_OUT_OF_RANGE);
  e = expect_error([&] { (void)brt::value::tensor(cells.data(), {2, 3}, {1}); });
  assert_int_equal(e.code(), BRT_E_INVALID_ARGUMENT);

  // Nested vectors copy into a new tensor; a 1-D tensor converts back.
  brt::value copied = brt::value::tensor_from(std::vector<std::vector<std::int32_t>>{{1, 2, 3}, {4, 5, 6}});
  assert_int_equal(copied.tensor_info().dtype, BRT_DTYPE_I32);
  assert_int_equal(copied.tensor_data<std::int32_t>()[4], 5);
  e = expect_error([] { (void)brt::value::tensor_from(std::vector<std::vector<double>>{{1}, {2, 3}}); });
  assert_int_equal(e.code(), BRT_E_INVALID_ARGUMENT);
  assert_contains(e.what(), "ragged");
  brt::value line = brt::value::tensor_from(std::vector<double>{0.5, 1.5});
  assert_true((line.as<std::vector<double>>() == std::vector<double>{0.5, 1.5}));
  e = expect_error([&] { (void)copied.as<std::vector<int>>(); });
  assert_int_equal(e.code(), BRT_E_TYPE_MISMATCH);

  brt::value zeros = brt::value::tensor(BRT_DTYPE_U8, {4, 4});
  assert_int_equal(zeros.tensor_data<std::uint8_t>()[15], 0);
}

static void test_ownership(void **state) {
  (void)state;
  brt::value a = brt::value::from_json("[1]");
  assert_int_equal(brt_value_refcount(a.get()), 1);
  {
    brt::value b = a;
    assert_int_equal(brt_value_refcount(a.get()), 2);
    brt::value c = std::move(b);
    assert_false(static_cast<bool>(b));
    assert_int_equal(brt_value_refcount(a.get()), 2);
  }
  assert_int_equal(brt_value_refcount(a.get()), 1);
  brt_value *raw = a.release();  // e.g. returned through the C ABI
  assert_false(static_cast<bool>(a));
  brt::value back = brt::value::adopt(raw);
  assert_int_equal(brt_value_refcount(back.get()), 1);
  brt::value shared = brt::value::share(back.get());
  assert_int_equal(brt_value_refcount(back.get()), 2);
  brt::value element = back[0];  // borrowed items are retained
  assert_int_equal(element.as<int>(), 1);
  brt_error_clear();
  brt::error e = expect_error([] { (void)brt::value::adopt(nullptr); });
  assert_int_equal(e.code(), BRT_E_INTERNAL);  // nothing recorded: the check says so
  e = expect_error([&] { (void)back[-1]; });
  assert_int_equal(e.code(), BRT_E_OUT_OF_RANGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scalars_round_trip),
      cmocka_unit_test(test_containers_round_trip),
      cmocka_unit_test(test_conversion_errors_name_the_element),
      cmocka_unit_test(test_json),
      cmocka_unit_test(test_tensors),
      cmocka_unit_test(test_ownership),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
