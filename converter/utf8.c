/* UTF-8 validation, counting and encoding (RFC 3629: no overlong forms, no
 * surrogates U+D800..U+DFFF, nothing above U+10FFFF). */
#include "internal.h"

#include <string.h>

/* Cost: ASCII runs are checked 8 bytes at a time (one load and one test per
 * word); multi-byte sequences byte by byte with exact ranges for the second
 * byte, which is where overlong forms and surrogates are caught. */
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
    unsigned char lead = text[i];
    if (lead < 0x80) {
      i++;
      continue;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (lead >= 0xC2 && lead <= 0xDF) {
      need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      need = 2;
      if (lead == 0xE0) lo = 0xA0; /* overlong */
      if (lead == 0xED) hi = 0x9F; /* surrogates */
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      need = 3;
      if (lead == 0xF0) lo = 0x90; /* overlong */
      if (lead == 0xF4) hi = 0x8F; /* above U+10FFFF */
    } else {
      return i; /* continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    if (len - i <= need) return i;
    if (text[i + 1] < lo || text[i + 1] > hi) return i;
    for (size_t k = 2; k <= need; k++)
      if ((text[i + k] & 0xC0) != 0x80) return i;
    i += need + 1;
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
