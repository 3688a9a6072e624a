// The catch-all exception boundary around plugin code that bridgert calls
// (see guard.h). Plugins written with the C++ shim catch their own
// exceptions (brt::guard); this is the safety net for code that does not,
// so that nothing ever unwinds into the C core. A try block costs nothing
// until something is thrown.
//
// What a caught exception becomes is decided by the one classifier that
// brt::guard uses too (exception/cpp_classify.hpp), so a plugin reports the
// same status, type and message whether or not it guards itself.
#include "guard.h"

#include "../exception/cpp_classify.hpp"

namespace {

template <class Body>
brt_status guarded(Body &&body) {
  try {
    return body();
  } catch (const std::exception &e) {
    return brt::classify::record_current(&e, &brt::classify::translate_plain);
  } catch (...) {
    // Thread cancellation and other foreign unwinding must finish.
    if (brt::classify::foreign_exception_in_flight()) throw;
    return brt::classify::record_current(nullptr, &brt::classify::translate_plain);
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

extern "C" void _brt_bridge_guard_fini(brt_plugin_fini_fn fini, brt_runtime *rt) {
  // The plugin is being dropped, maybe from a thread that just finished a
  // call: whatever the hook records or throws is dropped, and the thread's
  // own error stays what it was.
  brt_error *saved = brt_error_take();
  (void)guarded([&] {
    fini(rt);
    return BRT_OK;
  });
  if (saved) (void)brt_error_restore(saved);
  else brt_error_clear();
}
