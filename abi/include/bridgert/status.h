/* bridgert — status codes.
 *
 * One X-macro table generates the enum, brt_status_name() and
 * brt_status_describe() (as libuv does for its errors). The numeric value of
 * a code is its position in the table: codes are only ever appended, never
 * reordered, reused or removed. */
#ifndef BRIDGERT_STATUS_H
#define BRIDGERT_STATUS_H

#include "bridgert/export.h"

/* XX(NAME, "one sentence a person can act on") */
#define BRT_STATUS_MAP(XX)                                                                       \
  XX(OK, "The operation succeeded.")                                                             \
  XX(E_INVALID_ARGUMENT, "An argument was missing, malformed or outside its documented range.")  \
  XX(E_OUT_OF_MEMORY, "The system could not provide the memory the operation needed.")           \
  XX(E_LIMIT_EXCEEDED, "The operation would exceed a configured limit (memory, size or depth).") \
  XX(E_INVALID_POINTER, "The pointer is not the start of a live block of the bridgert allocator.") \
  XX(E_DOUBLE_FREE, "The block was already freed; it was released once too often.")              \
  XX(E_LAYOUT_MISMATCH, "The size or alignment given does not match the block's layout.")        \
  XX(E_TYPE_MISMATCH, "A value or block has a different type than the operation expects.")       \
  XX(E_OUT_OF_RANGE, "An index, key or number lies outside the valid range.")                    \
  XX(E_NOT_FOUND, "The named item (algorithm, plugin, file or key) does not exist.")             \
  XX(E_EXISTS, "An item with that name already exists.")                                         \
  XX(E_VALIDATION, "The input does not satisfy the schema it was checked against.")              \
  XX(E_CONVERSION, "The data could not be converted between representations.")                   \
  XX(E_CPP_EXCEPTION, "C++ code threw an exception that was caught at the boundary.")            \
  XX(E_RUST_PANIC, "Rust code panicked; the panic was caught at the boundary.")                  \
  XX(E_TIMEOUT, "The operation did not finish before its deadline.")                             \
  XX(E_CRASHED, "The isolated code crashed; its process was lost.")                              \
  XX(E_ISOLATED, "The algorithm is isolated after repeated failures; calls fail fast until it is probed again.") \
  XX(E_IO, "An operating-system input/output call failed.")                                     \
  XX(E_PLUGIN, "A plugin could not be loaded or is malformed.")                                  \
  XX(E_ABI_MISMATCH, "Two parts were built for incompatible ABI versions.")                      \
  XX(E_PERMISSION, "The operation is not permitted (ownership, mode or configured policy).")     \
  XX(E_UNSUPPORTED, "The operation is not supported in this configuration or on this platform.") \
  XX(E_INTERNAL, "bridgert found its own state inconsistent; please report this as a bug.")

typedef enum brt_status {
#define BRT_STATUS_ENUM_ENTRY(name, text) BRT_##name,
  BRT_STATUS_MAP(BRT_STATUS_ENUM_ENTRY)
#undef BRT_STATUS_ENUM_ENTRY
  BRT_STATUS_COUNT /* not a status: the number of codes this header knows */
} brt_status;

/* Where an error was first raised. Values are stable. */
#define BRT_ORIGIN_MAP(XX) \
  XX(C, "c")               \
  XX(CPP, "cpp")           \
  XX(RUST, "rust")         \
  XX(OS, "os")             \
  XX(PLUGIN, "plugin")

typedef enum brt_origin {
#define BRT_ORIGIN_ENUM_ENTRY(name, text) BRT_ORIGIN_##name,
  BRT_ORIGIN_MAP(BRT_ORIGIN_ENUM_ENTRY)
#undef BRT_ORIGIN_ENUM_ENTRY
  BRT_ORIGIN_COUNT /* not an origin: the number of origins */
} brt_origin;

BRT_BEGIN_DECLS

/* The code's name, e.g. "BRT_E_OUT_OF_RANGE". A value outside the table gives
 * "BRT_E_UNKNOWN(123)" from a small per-thread buffer, valid until the
 * thread's next call with an unknown value. Never NULL. Since 0.1.0. */
BRT_API const char *brt_status_name(brt_status status);
/* One sentence describing the code. Unknown values give a sentence that says
 * so. Never NULL. Since 0.1.0. */
BRT_API const char *brt_status_describe(brt_status status);
/* The origin's short name ("c", "cpp", "rust", "os", "plugin"), or "unknown".
 * Since 0.1.0. */
BRT_API const char *brt_origin_name(brt_origin origin);

BRT_END_DECLS

#endif /* BRIDGERT_STATUS_H */
