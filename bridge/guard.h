/* The C++ exception boundary of bridge/ (boundary.cpp), usable from C and
 * C++ (no C11 atomics here, unlike internal.h). Each function runs foreign
 * code inside try/catch: an escaping exception becomes a recorded error
 * (the status a registered translator gives, else the table of
 * exception/cpp_classify.hpp that brt::guard uses too) instead of unwinding
 * into C. Thread cancellation (abi::__forced_unwind) is rethrown. */
#ifndef BRT_BRIDGE_GUARD_H
#define BRT_BRIDGE_GUARD_H

#include <ffi.h>

#include "bridgert/runtime.h"

BRT_BEGIN_DECLS

brt_status _brt_bridge_guard_init(brt_plugin_init_fn init, brt_runtime *rt, uint32_t abi);
brt_status _brt_bridge_guard_value(brt_value_fn fn, void *ctx, const brt_value *params,
                                   brt_value **result);
brt_status _brt_bridge_guard_ffi(ffi_cif *cif, void *fn, void *ret, void **args);
/* A plugin's fini hook: an exception is caught and dropped (there is no
 * caller to tell), and the thread's error is left as it was. */
void _brt_bridge_guard_fini(brt_plugin_fini_fn fini, brt_runtime *rt);

BRT_END_DECLS

#endif /* BRT_BRIDGE_GUARD_H */
