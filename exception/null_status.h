/* The status of a public function that returned NULL.
 *
 * Internal functions return a brt_status and fill out-parameters; a status
 * is read back from the thread's last error only after a *public* function
 * returned NULL (brt_alloc, brt_value_to_json, brt_monitor_new, brt_map_fd,
 * ...), because those record an error on every NULL return
 * (bridgert/error.h). A NULL with nothing recorded would be a bug of the
 * callee: it becomes BRT_E_INTERNAL, never BRT_OK.
 *
 * The one header of the exception floor that other floors include; it uses
 * only the public error ABI (docs/design.md). */
#ifndef BRT_EXCEPTION_NULL_STATUS_H
#define BRT_EXCEPTION_NULL_STATUS_H

#include "bridgert/error.h"

static inline brt_status _brt_null_status(const char *callee) {
  brt_status code = brt_error_code(brt_last_error());
  if (code != BRT_OK) return code;
  return brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL,
                       "%s returned NULL without recording an error", callee);
}

#endif /* BRT_EXCEPTION_NULL_STATUS_H */
