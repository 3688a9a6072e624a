/* core/compiler.h: the one spelling of the compiler hints and attributes
 * every C source of bridgert uses. Private: no public header includes it,
 * and nothing here reaches the ABI.
 *
 * BRT_PRINTF (format checking) is public, in bridgert/export.h, because the
 * API's own declarations use it; it is included here so a source needs only
 * this header. GCC and clang define __GNUC__; other compilers get plain code
 * without the hints. */
#ifndef BRT_CORE_COMPILER_H
#define BRT_CORE_COMPILER_H

#include "bridgert/export.h"

#if defined(__GNUC__)
/* Branch hints: the expected outcome's code falls through, the other is
 * laid out out of the way. Only on paths whose outcome is known. */
#define BRT_LIKELY(x) __builtin_expect(!!(x), 1)
#define BRT_UNLIKELY(x) __builtin_expect(!!(x), 0)
/* Kept out of line: a hot caller then keeps a short prologue and its
 * straight-line code in fewer cache lines. */
#define BRT_NOINLINE __attribute__((noinline))
/* A slow path: out of line and placed with the other rarely run code. */
#define BRT_COLD __attribute__((cold, noinline))
/* A file-local function that is always inlined (hot paths split into
 * helpers for reading, not for calling). */
#define BRT_INLINE static inline __attribute__((always_inline))
/* Alignment of a function or an object. */
#define BRT_ALIGNED(n) __attribute__((aligned(n)))
/* Thread-local storage of the library itself: one load from the thread
 * pointer instead of a __tls_get_addr call. The library reserves only a few
 * words of static TLS this way (see exception/error.c). */
#define BRT_TLS_INITIAL_EXEC __attribute__((tls_model("initial-exec")))
#else
#define BRT_LIKELY(x) (x)
#define BRT_UNLIKELY(x) (x)
#define BRT_NOINLINE
#define BRT_COLD
#define BRT_INLINE static inline
#define BRT_ALIGNED(n)
#define BRT_TLS_INITIAL_EXEC
#endif

#endif /* BRT_CORE_COMPILER_H */
