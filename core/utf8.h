/* core/utf8.h: UTF-8 for every part of bridgert. Private.
 *
 * Valid means RFC 3629 exactly: a sequence of 1 to 4 bytes in its shortest
 * form (no overlong forms such as C0 AF or E0 80 AF), no surrogates
 * (U+D800..U+DFFF, ED A0..BF xx), nothing above U+10FFFF (F4 90 and up,
 * and the lead bytes F5..FF never occur). Every check of text in the
 * library, its worker programs and the CLI goes through these functions,
 * so what one part accepts another can print, export and parse. */
#ifndef BRT_CORE_UTF8_H
#define BRT_CORE_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Length (1..4) of the valid sequence at s, of which n >= 0 bytes are
 * readable; 0 when the bytes there are not one (invalid, or truncated by
 * n). */
size_t _brt_utf8_sequence(const unsigned char *s, size_t n);

/* As _brt_utf8_sequence, but also 0 for a control character: C0
 * (U+0000..U+001F), DEL and C1 (U+0080..U+009F). What is left is safe to
 * put in a log line, a label or a terminal. */
size_t _brt_utf8_printable(const unsigned char *s, size_t n);

/* Offset of the first byte of `text` (len bytes) that does not start a
 * valid sequence; len when all of it is valid. ASCII runs are checked a
 * word at a time. */
size_t _brt_utf8_invalid_offset(const unsigned char *text, size_t len);

static inline bool _brt_utf8_valid(const char *text, size_t len) {
  return _brt_utf8_invalid_offset((const unsigned char *)text, len) == len;
}

/* Characters in valid UTF-8 text: the bytes that are not continuation
 * bytes. */
size_t _brt_utf8_count(const char *text, size_t len);

/* Writes the sequence of `code_point` (at most U+10FFFF, not a surrogate:
 * the caller checks) to out, which has room for 4 bytes; returns its
 * length. */
size_t _brt_utf8_encode(uint32_t code_point, char *out);

/* Where to cut `text` (len bytes) to keep at most `max` bytes without
 * splitting a character: max moved back to the first byte of the character
 * it falls in (at most 3 bytes back). len when len <= max. */
size_t _brt_utf8_cut(const char *text, size_t len, size_t max);

/* `len` less a character at the end of `text` that is incomplete (its
 * lead byte promises more bytes than there are): for a buffer that was cut
 * without regard to characters, such as vsnprintf's output. */
size_t _brt_utf8_trim_partial(const char *text, size_t len);

/* Copies `src` (len bytes) to dst (capacity cap >= 1) as valid UTF-8: each
 * byte that does not start a valid sequence becomes U+FFFD, and the copy
 * stops before a character that does not fit. Always NUL-terminated;
 * returns the bytes written (without the NUL). */
size_t _brt_utf8_copy_valid(char *dst, size_t cap, const char *src, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* BRT_CORE_UTF8_H */
