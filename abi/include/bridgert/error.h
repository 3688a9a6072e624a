/* bridgert — the error model (docs/abi.md).
 *
 * Every fallible function returns a brt_status (BRT_OK == 0) or a pointer
 * (NULL on failure) and, on failure, records a brt_error for the calling
 * thread. The record stays until the thread's next failure, brt_error_clear()
 * or brt_error_take(); a successful call does not clear it, so read it right
 * after the failing call (like errno). Nothing here allocates on the success
 * path of other functions, and nothing aborts, prints or exits.
 *
 * An error carries: a status code, the origin (C, C++, Rust, OS, plugin), a
 * message (printf-formatted, at most BRT_ERROR_MESSAGE_MAX - 1 bytes, cut on
 * a UTF-8 boundary and ended with BRT_ERROR_TRUNCATION_MARK when longer), the
 * exception's type name (C++ demangled type, or NULL), an OS code (errno or a
 * std::error_code value) with its category, up to two paths (filesystem
 * errors), and an optional cause: the error that led to this one. */
#ifndef BRIDGERT_ERROR_H
#define BRIDGERT_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "bridgert/export.h"
#include "bridgert/status.h"

/* Bytes a message may take, including its terminating NUL. */
#define BRT_ERROR_MESSAGE_MAX 1024
/* Bytes a type name, category or path may take, including the NUL. */
#define BRT_ERROR_NAME_MAX 256
/* What ends a message that was cut ("…", U+2026). */
#define BRT_ERROR_TRUNCATION_MARK "\xE2\x80\xA6"
/* How deep a cause chain may be; deeper causes are dropped (counted). */
#define BRT_ERROR_CAUSE_DEPTH_MAX 16

typedef struct brt_error brt_error; /* opaque */

/* Everything an error can carry, for brt_error_record(). Strings are copied;
 * NULL means "none". `cause` is adopted: on success and on failure alike the
 * error takes ownership of it (a taken error, see brt_error_take()). */
typedef struct brt_error_info {
  uint32_t struct_size; /* sizeof(brt_error_info) */
  brt_status code;
  brt_origin origin;
  const char *type;        /* exception type name, NULL for C errors */
  const char *message;     /* NULL: the code's description */
  int os_code;             /* errno / std::error_code::value(), 0 if none */
  const char *os_category; /* "generic", "system", ... or NULL */
  const char *path1, *path2;
  brt_error *cause;
} brt_error_info;

BRT_BEGIN_DECLS

/* --- The calling thread's last error ------------------------------------ */

/* The calling thread's last recorded error, or NULL if none. The pointer is
 * valid until the thread records another error, clears or takes it. Since 0.1.0. */
BRT_API const brt_error *brt_last_error(void);
/* Moves the last error out of the thread: the caller owns it (free it with
 * brt_error_free) and may hand it to another thread. The thread then has no
 * last error. NULL if there was none. Since 0.1.0. */
BRT_API brt_error *brt_error_take(void);
/* Forgets the calling thread's last error. Since 0.1.0. */
BRT_API void brt_error_clear(void);
/* Frees an error obtained from brt_error_take() or brt_error_clone(),
 * including its causes. NULL is ignored. Never pass brt_last_error(). Since 0.1.0. */
BRT_API void brt_error_free(brt_error *error);
/* A deep copy (with causes) that the caller owns, or NULL with
 * BRT_E_INVALID_ARGUMENT / BRT_E_OUT_OF_MEMORY recorded. Since 0.1.0. */
BRT_API brt_error *brt_error_clone(const brt_error *error);

/* --- Reading an error ----------------------------------------------------
 * Each accepts NULL and then answers BRT_OK / "" / NULL / 0 / NULL. */

BRT_API brt_status brt_error_code(const brt_error *error);
BRT_API const char *brt_error_message(const brt_error *error);
BRT_API brt_origin brt_error_origin(const brt_error *error);
/* "std::out_of_range", "int", "const char*"...; NULL for errors raised in C. */
BRT_API const char *brt_error_type(const brt_error *error);
BRT_API int brt_error_os_code(const brt_error *error);
/* The category of os_code ("generic", "system", "iostream"...), or NULL. */
BRT_API const char *brt_error_os_category(const brt_error *error);
/* Path 0 or 1 of a filesystem error, or NULL. */
BRT_API const char *brt_error_path(const brt_error *error, unsigned index);
/* The nested cause, or NULL. */
BRT_API const brt_error *brt_error_cause(const brt_error *error);
/* Writes "BRT_E_X (origin, type): message; caused by: ..." into buf (always
 * NUL-terminated when size > 0) and returns the length the full text needs,
 * like snprintf. Since 0.1.0. */
BRT_API size_t brt_error_format(const brt_error *error, char *buf, size_t size);

/* --- Recording ------------------------------------------------------------ */

/* Records an error for the calling thread and returns `code`, so a function
 * can `return brt_error_set(...)`. `type` may be NULL; `fmt` is a printf
 * format (NULL: the code's description). BRT_OK or a code outside the table
 * is itself a misuse: it records and returns BRT_E_INVALID_ARGUMENT. Counted
 * in the process-wide error counters. Since 0.1.0. */
BRT_API brt_status brt_error_set(brt_status code, brt_origin origin, const char *type,
                                 const char *fmt, ...) BRT_PRINTF(4, 5);
BRT_API brt_status brt_error_setv(brt_status code, brt_origin origin, const char *type,
                                  const char *fmt, va_list args) BRT_PRINTF(4, 0);
/* Like brt_error_set, with errno-style OS code (origin BRT_ORIGIN_OS,
 * category "generic"). Since 0.1.0. */
BRT_API brt_status brt_error_set_os(brt_status code, int os_code, const char *fmt, ...)
    BRT_PRINTF(3, 4);
/* Records a new error whose cause is the thread's current last error (if
 * any), e.g. "loading plugin x.so failed" caused by the plugin's own error. */
BRT_API brt_status brt_error_wrap(brt_status code, brt_origin origin, const char *type,
                                  const char *fmt, ...) BRT_PRINTF(4, 5);
/* Records a fully described error (see brt_error_info). Returns info->code,
 * or BRT_E_INVALID_ARGUMENT (recorded) when info is unusable. Since 0.1.0. */
BRT_API brt_status brt_error_record(const brt_error_info *info);
/* Makes `error` (owned by the caller, e.g. from another thread's
 * brt_error_take) the calling thread's last error, taking ownership. Not
 * counted again. NULL is BRT_E_INVALID_ARGUMENT. Since 0.1.0. */
BRT_API brt_status brt_error_restore(brt_error *error);

/* --- Process-wide counters ----------------------------------------------- */

/* How many errors with this code and origin were recorded in the process
 * since it started (relaxed atomic counters, no lock). Since 0.1.0. */
BRT_API brt_status brt_error_count_get(brt_status code, brt_origin origin, uint64_t *count);

/* --- Translators ------------------------------------------------------------
 * Language shims turn foreign exceptions into statuses. The registry is kept
 * here, in C, so every shim and every plugin shares one table. A translator
 * looks at an exception object (for BRT_ORIGIN_CPP: a pointer to a
 * std::exception_ptr) and returns 1 when it recognises it, after setting
 * out->code and optionally out->message (empty keeps the exception's own
 * message); it returns 0 to let the next translator try. Translators are
 * consulted most recent registration first. See docs/abi.md. */
typedef struct brt_translation {
  uint32_t struct_size; /* set by bridgert before the call */
  brt_status code;
  char message[BRT_ERROR_MESSAGE_MAX];
} brt_translation;
typedef int (*brt_error_translator)(void *ctx, brt_origin origin, const void *exception,
                                    brt_translation *out);

/* Registers (fn, ctx). The same pair twice is BRT_E_EXISTS. Since 0.1.0. */
BRT_API brt_status brt_error_translator_register(brt_error_translator fn, void *ctx);
/* Removes (fn, ctx); BRT_E_NOT_FOUND when absent. A plugin removes its
 * translators before it is unloaded. Since 0.1.0. */
BRT_API brt_status brt_error_translator_unregister(brt_error_translator fn, void *ctx);
/* Runs the translators on `exception`. BRT_OK with *out filled when one
 * recognised it; BRT_E_NOT_FOUND (not recorded: the normal "no translator"
 * answer) otherwise. A translator must not throw or unwind. Since 0.1.0. */
BRT_API brt_status brt_error_translate(brt_origin origin, const void *exception,
                                       brt_translation *out);

BRT_END_DECLS

#endif /* BRIDGERT_ERROR_H */
