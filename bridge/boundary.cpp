// The catch-all exception boundary around plugin code that bridgert calls
// (see guard.h). Plugins written with the C++ shim catch their own
// exceptions (brt::guard); this is the safety net for code that does not,
// so that nothing ever unwinds into the C core. A try block costs nothing
// until something is thrown.
#include "guard.h"

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <new>
#include <stdexcept>
#include <system_error>
#include <typeinfo>

#include "bridgert/error.h"

namespace {

// The standard mapping of DESIGN §3, for exceptions no translator claimed.
brt_status standard_status(const std::exception &e) {
  if (dynamic_cast<const std::bad_alloc *>(&e)) return BRT_E_OUT_OF_MEMORY;
  if (dynamic_cast<const std::invalid_argument *>(&e) || dynamic_cast<const std::domain_error *>(&e))
    return BRT_E_INVALID_ARGUMENT;
  if (dynamic_cast<const std::out_of_range *>(&e) || dynamic_cast<const std::length_error *>(&e))
    return BRT_E_OUT_OF_RANGE;
  if (dynamic_cast<const std::system_error *>(&e)) return BRT_E_IO;
  if (dynamic_cast<const std::bad_cast *>(&e)) return BRT_E_TYPE_MISMATCH;
  return BRT_E_CPP_EXCEPTION;
}

// Records the exception being handled; `what` is NULL for non-std types.
brt_status record_exception(const std::type_info *type, const std::exception *e) {
  int demangle_status = 0;
  const char *mangled = type ? type->name() : "unknown";
  char *demangled = abi::__cxa_demangle(mangled, nullptr, nullptr, &demangle_status);
  const char *type_name = demangle_status == 0 && demangled ? demangled : mangled;

  brt_translation translation{};
  translation.struct_size = sizeof translation;
  std::exception_ptr current = std::current_exception();
  brt_status code;
  const char *message;
  if (brt_error_translate(BRT_ORIGIN_CPP, &current, &translation) == BRT_OK) {
    code = translation.code;
    message = translation.message[0] ? translation.message : (e ? e->what() : type_name);
  } else {
    code = e ? standard_status(*e) : BRT_E_CPP_EXCEPTION;
    message = e ? e->what() : nullptr;
  }
  int os_code = 0;
  if (auto *system = dynamic_cast<const std::system_error *>(e)) os_code = system->code().value();
  if (message) {
    brt_error_info info{};
    info.struct_size = sizeof info;
    info.code = code;
    info.origin = BRT_ORIGIN_CPP;
    info.type = type_name;
    info.message = message;
    info.os_code = os_code;
    brt_error_record(&info);
  } else {
    brt_error_set(code, BRT_ORIGIN_CPP, type_name, "a C++ exception of type %s was thrown",
                  type_name);
  }
  std::free(demangled);
  return code;
}

template <class Body>
brt_status guarded(Body &&body) {
  try {
    return body();
  } catch (abi::__forced_unwind &) {
    throw;  // thread cancellation must finish unwinding
  } catch (const std::exception &e) {
    return record_exception(&typeid(e), &e);
  } catch (...) {
    return record_exception(abi::__cxa_current_exception_type(), nullptr);
  }
}

}  // namespace

extern "C" brt_status _brt_bridge_guard_init(brt_plugin_init_fn init, brt_runtime *rt,
                                             uint32_t abi) {
  return guarded([&] { return init(rt, abi); });
}

extern "C" brt_status _brt_bridge_guard_value(brt_value_fn fn, void *ctx, const brt_value *params,
                                              brt_value **result) {
  return guarded([&] { return fn(ctx, params, result); });
}

extern "C" brt_status _brt_bridge_guard_ffi(ffi_cif *cif, void *fn, void *ret, void **args) {
  return guarded([&] {
    ffi_call(cif, reinterpret_cast<void (*)(void)>(fn), ret, args);
    return BRT_OK;
  });
}
