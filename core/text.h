/* core/text.h: bounded copies and formatting into fixed buffers. Private.
 *
 * Every result is NUL-terminated, and a text that does not fit is cut
 * before a character, never inside one: what was valid UTF-8 stays valid.
 * These are the only places that decide how bridgert truncates text (the
 * error record's fields, messages built on the stack, a worker's reasons). */
#ifndef BRT_CORE_TEXT_H
#define BRT_CORE_TEXT_H

#include "core/compiler.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Copies `src` into dst (capacity cap >= 1). When it does not fit, the copy
 * is cut on a character boundary and ends with `mark` (NULL or "" for none;
 * no mark when even the mark does not fit). Returns true if it was cut. */
bool _brt_text_copy(char *dst, size_t cap, const char *src, const char *mark);

/* vsnprintf into dst (capacity cap >= 1), cut like _brt_text_copy when the
 * text does not fit. Returns the length of the full text, or -1 when it
 * could not be formatted (dst is then ""). */
int _brt_text_vformat(char *dst, size_t cap, const char *mark, const char *fmt, va_list args);
int _brt_text_format(char *dst, size_t cap, const char *mark, const char *fmt, ...) BRT_PRINTF(4, 5);

/* A fixed buffer filled by several appends, snprintf-style: `length` is
 * what the whole text needs, the buffer holds what fits. buf may be NULL
 * when size is 0 (measuring only). */
typedef struct brt_text_sink {
  char *buf;
  size_t size, length;
} brt_text_sink;

void _brt_text_sink_printf(brt_text_sink *sink, const char *fmt, ...) BRT_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif

#endif /* BRT_CORE_TEXT_H */
