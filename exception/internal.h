/* exception/ internals shared between its files. Other components use the
 * public ABI (bridgert/error.h) only. */
#ifndef BRT_EXCEPTION_INTERNAL_H
#define BRT_EXCEPTION_INTERNAL_H

#include "bridgert/error.h"
#include "core/text.h"

#include <stdbool.h>

/* The concrete error. Strings live in fixed buffers so the per-thread record
 * is reused without allocating on every failure; only taken errors and
 * causes are separate heap objects. */
struct brt_error {
  brt_status code;
  brt_origin origin;
  int os_code;
  bool has_type, has_category;
  char type[BRT_ERROR_NAME_MAX];
  char os_category[BRT_ERROR_NAME_MAX];
  char *paths[2]; /* heap, NULL when absent (rare: filesystem errors only) */
  brt_error *cause;
  char message[BRT_ERROR_MESSAGE_MAX];
};

/* error.c */
/* Counts one recorded error (relaxed atomic add). */
void _brt_error_count(brt_status code, brt_origin origin);

#endif /* BRT_EXCEPTION_INTERNAL_H */
