// A C++ plugin built twice with the shim (RELOAD_VERSION 1 and 2): an
// inline function with a static local, which g++ would make an
// STB_GNU_UNIQUE symbol (and the image unloadable) without the shim's
// -fno-gnu-unique; a translator registered in init and removed in fini.
#include <bridgert/plugin.hpp>

#include <cstring>
#include <stdexcept>

// External linkage and default visibility: what makes g++ emit the static
// as STB_GNU_UNIQUE (hidden or internal symbols never are).
namespace reload_test {
inline int &generation() {
  static int value = RELOAD_VERSION;
  return value;
}
}  // namespace reload_test

namespace {

struct reload_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::int64_t version_of() { return reload_test::generation(); }

// Also answers brt_error_translate(BRT_ORIGIN_PLUGIN, "cpp_reload", ...)
// with the build's code, so a C host sees which translators are registered.
int translate(void *, brt_origin origin, const void *exception, brt_translation *out) {
  if (origin == BRT_ORIGIN_PLUGIN && exception &&
      std::strcmp(static_cast<const char *>(exception), "cpp_reload") == 0) {
    out->code = RELOAD_VERSION == 1 ? BRT_E_CONVERSION : BRT_E_VALIDATION;
    return 1;
  }
  if (origin != BRT_ORIGIN_CPP) return 0;
  try {
    std::rethrow_exception(*static_cast<const std::exception_ptr *>(exception));
  } catch (const reload_error &) {
    out->code = BRT_E_CONVERSION;
    return 1;
  } catch (...) {
    return 0;
  }
}

}  // namespace

BRT_PLUGIN(rt) {
  brt::check(brt_error_translator_register(&translate, nullptr));
  rt.native<&version_of>("cpp_version", "1.0.0");
}

BRT_PLUGIN_FINI(rt) {
  (void)rt;
  (void)brt_error_translator_unregister(&translate, nullptr);
}
