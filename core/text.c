/* Bounded copies and formatting (core/text.h). */
#include "core/text.h"

#include "core/utf8.h"

#include <stdio.h>
#include <string.h>

/* dst holds at least cap - 1 bytes of a text that did not fit (the first
 * bytes of `text`, which may be dst itself): ends it on a character
 * boundary, with the mark when it fits. */
static void end_cut(char *dst, size_t cap, const char *text, const char *mark) {
  size_t mark_len = mark ? strlen(mark) : 0;
  if (mark_len && cap <= mark_len + 1) mark_len = 0;
  size_t cut;
  if (mark_len) {
    /* text[cap - 1 - mark_len] is still the text's own byte (even when the
     * text was formatted into dst), so the cut can look at it. */
    cut = _brt_utf8_cut(text, cap - 1, cap - 1 - mark_len);
  } else {
    /* The byte after the kept ones may be gone (vsnprintf's NUL): judge
     * the end by its lead byte instead. */
    cut = _brt_utf8_trim_partial(text, cap - 1);
  }
  if (dst != text) memcpy(dst, text, cut);
  if (mark_len) memcpy(dst + cut, mark, mark_len);
  dst[cut + mark_len] = '\0';
}

bool _brt_text_copy(char *dst, size_t cap, const char *src, const char *mark) {
  size_t len = strlen(src);
  if (len < cap) {
    memmove(dst, src, len + 1);
    return false;
  }
  end_cut(dst, cap, src, mark);
  return true;
}

int _brt_text_vformat(char *dst, size_t cap, const char *mark, const char *fmt, va_list args) {
  int needed = vsnprintf(dst, cap, fmt, args);
  if (needed < 0) {
    dst[0] = '\0';
    return -1;
  }
  if ((size_t)needed >= cap) end_cut(dst, cap, dst, mark);
  return needed;
}

int _brt_text_format(char *dst, size_t cap, const char *mark, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  int needed = _brt_text_vformat(dst, cap, mark, fmt, args);
  va_end(args);
  return needed;
}

void _brt_text_sink_printf(brt_text_sink *sink, const char *fmt, ...) {
  size_t room = sink->length < sink->size ? sink->size - sink->length : 0;
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(room ? sink->buf + sink->length : NULL, room, fmt, args);
  va_end(args);
  if (n <= 0) return;
  if ((size_t)n >= room && room) {
    /* Cut: keep whole characters only. Later appends find no room. */
    size_t kept = _brt_utf8_trim_partial(sink->buf, sink->length + room - 1);
    sink->buf[kept] = '\0';
  }
  sink->length += (size_t)n;
}
