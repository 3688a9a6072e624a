/* UTF-8 validation, cutting and encoding (core/utf8.h). */
#include "core/utf8.h"

#include <string.h>

/* The one decision of what is valid: the lead byte gives the length and
 * the allowed range of the second byte, which is where overlong forms (E0,
 * F0), surrogates (ED) and code points above U+10FFFF (F4) are caught;
 * C0, C1 and F5..FF are never lead bytes. */
static inline size_t sequence(const unsigned char *s, size_t n) {
  unsigned char c = s[0], lo = 0x80, hi = 0xBF;
  size_t len;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (n < len || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < len; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return len;
}

size_t _brt_utf8_sequence(const unsigned char *s, size_t n) { return n ? sequence(s, n) : 0; }

size_t _brt_utf8_printable(const unsigned char *s, size_t n) {
  if (!n) return 0;
  unsigned char c = s[0];
  if (c < 0x20 || c == 0x7F) return 0;
  if (c == 0xC2 && n >= 2 && s[1] < 0xA0) return 0; /* C1: U+0080..U+009F */
  return sequence(s, n);
}

size_t _brt_utf8_invalid_offset(const unsigned char *text, size_t len) {
  size_t i = 0;
  while (i < len) {
    if (i + 8 <= len) {
      uint64_t word;
      memcpy(&word, text + i, 8);
      if (!(word & UINT64_C(0x8080808080808080))) {
        i += 8;
        continue;
      }
    }
    size_t k = sequence(text + i, len - i);
    if (!k) return i;
    i += k;
  }
  return len;
}

size_t _brt_utf8_count(const char *text, size_t len) {
  size_t count = 0;
  for (size_t i = 0; i < len; i++) count += ((unsigned char)text[i] & 0xC0) != 0x80;
  return count;
}

size_t _brt_utf8_encode(uint32_t code_point, char *out) {
  if (code_point < 0x80) {
    out[0] = (char)code_point;
    return 1;
  }
  if (code_point < 0x800) {
    out[0] = (char)(0xC0 | (code_point >> 6));
    out[1] = (char)(0x80 | (code_point & 0x3F));
    return 2;
  }
  if (code_point < 0x10000) {
    out[0] = (char)(0xE0 | (code_point >> 12));
    out[1] = (char)(0x80 | ((code_point >> 6) & 0x3F));
    out[2] = (char)(0x80 | (code_point & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (code_point >> 18));
  out[1] = (char)(0x80 | ((code_point >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((code_point >> 6) & 0x3F));
  out[3] = (char)(0x80 | (code_point & 0x3F));
  return 4;
}

static inline bool continuation(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

size_t _brt_utf8_cut(const char *text, size_t len, size_t max) {
  if (len <= max) return len;
  /* text[max] is the first byte left out: a continuation byte there means
   * the character it belongs to started before max. */
  size_t cut = max;
  for (int back = 0; back < 3 && cut > 0 && continuation(text[cut]); back++) cut--;
  return continuation(text[cut]) ? max : cut;
}

size_t _brt_utf8_trim_partial(const char *text, size_t len) {
  for (size_t back = 1; back <= 3 && back <= len; back++) {
    unsigned char c = (unsigned char)text[len - back];
    if ((c & 0xC0) == 0x80) continue;
    size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return need > back ? len - back : len;
  }
  return len;
}

size_t _brt_utf8_copy_valid(char *dst, size_t cap, const char *src, size_t len) {
  static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */
  size_t used = 0;
  for (size_t i = 0; i < len;) {
    size_t k = sequence((const unsigned char *)src + i, len - i);
    const char *piece = k ? src + i : replacement;
    size_t piece_len = k ? k : sizeof replacement - 1;
    if (used + piece_len > cap - 1) break;
    memcpy(dst + used, piece, piece_len);
    used += piece_len;
    i += k ? k : 1;
  }
  dst[used] = '\0';
  return used;
}
