/* core/utf8.h: RFC 3629 exactly, at every boundary, against a reference
 * that decodes the bits (a different formulation from the library's
 * table of second-byte ranges). */
#include "core_test.h"

#include "core/utf8.h"

/* Reference: decode, then require the shortest form, no surrogate and at
 * most U+10FFFF. */
static size_t reference_length(const unsigned char *s, size_t n) {
  if (!n) return 0;
  unsigned char c = s[0];
  size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (len <= 1) return len;
  if (n < len) return 0;
  uint32_t cp = c & (0x7Fu >> len);
  for (size_t i = 1; i < len; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    cp = cp << 6 | (s[i] & 0x3Fu);
  }
  static const uint32_t shortest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < shortest[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

static size_t seq(const char *s, size_t n) { return _brt_utf8_sequence((const unsigned char *)s, n); }

void test_utf8_boundaries(void **state) {
  (void)state;
  static const struct {
    const char *bytes;
    size_t len, expected;
  } cases[] = {
      {"\x00", 1, 1},                 {"\x7F", 1, 1},                 /* U+0000, U+007F */
      {"\x80", 1, 0},                 {"\xBF", 1, 0},                 /* lone continuation bytes */
      {"\xC2\x80", 2, 2},             {"\xDF\xBF", 2, 2},             /* U+0080, U+07FF */
      {"\xC0\x80", 2, 0},             {"\xC1\xBF", 2, 0},             /* overlong 2-byte */
      {"\xE0\xA0\x80", 3, 3},         {"\xEF\xBF\xBF", 3, 3},         /* U+0800, U+FFFF */
      {"\xE0\x9F\xBF", 3, 0},         {"\xE0\x80\x80", 3, 0},         /* overlong 3-byte */
      {"\xED\x9F\xBF", 3, 3},         {"\xEE\x80\x80", 3, 3},         /* U+D7FF, U+E000 */
      {"\xED\xA0\x80", 3, 0},         {"\xED\xBF\xBF", 3, 0},         /* U+D800, U+DFFF */
      {"\xED\xAF\xBF\xED\xB0\x80", 6, 0},                              /* a CESU-8 pair */
      {"\xEF\xBF\xBE", 3, 3},                                          /* U+FFFE: a noncharacter, valid */
      {"\xF0\x90\x80\x80", 4, 4},     {"\xF4\x8F\xBF\xBF", 4, 4},     /* U+10000, U+10FFFF */
      {"\xF0\x8F\xBF\xBF", 4, 0},     {"\xF0\x80\x80\x80", 4, 0},     /* overlong 4-byte */
      {"\xF4\x90\x80\x80", 4, 0},     {"\xF7\xBF\xBF\xBF", 4, 0},     /* above U+10FFFF */
      {"\xF5\x80\x80\x80", 4, 0},     {"\xF8\x88\x80\x80\x80", 5, 0}, /* F5.., 5-byte form */
      {"\xFC\x84\x80\x80\x80\x80", 6, 0}, {"\xFE", 1, 0}, {"\xFF", 1, 0},
      {"\xC2", 1, 0},                 {"\xE0\xA0", 2, 0},             /* truncated */
      {"\xF0\x90\x80", 3, 0},         {"\xF4\x8F\xBF", 3, 0},
      {"\xC2" "a", 2, 0},             {"\xE2\x82" "a", 3, 0},         /* continuation replaced */
      {"\xF0\x9F\x98" "a", 4, 0},     {"\xE2\xC2\xAC", 3, 0},
      {"", 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    size_t got = seq(cases[i].bytes, cases[i].len);
    if (got != cases[i].expected) fail_msg("case %zu: length %zu, expected %zu", i, got, cases[i].expected);
    assert_int_equal(reference_length((const unsigned char *)cases[i].bytes, cases[i].len), cases[i].expected);
    bool valid = cases[i].expected == cases[i].len;
    assert_int_equal(_brt_utf8_valid(cases[i].bytes, cases[i].len), valid);
  }
}

/* Every one- to three-byte string: the library agrees with the reference. */
void test_utf8_every_short_sequence(void **state) {
  (void)state;
  unsigned char s[3];
  for (unsigned a = 0; a < 256; a++) {
    s[0] = (unsigned char)a;
    assert_int_equal(_brt_utf8_sequence(s, 1), reference_length(s, 1));
    for (unsigned b = 0; b < 256; b++) {
      s[1] = (unsigned char)b;
      assert_int_equal(_brt_utf8_sequence(s, 2), reference_length(s, 2));
      if (a < 0xE0 || a > 0xF4) continue; /* three bytes decide nothing new for other leads */
      for (unsigned c = 0; c < 256; c++) {
        s[2] = (unsigned char)c;
        if (_brt_utf8_sequence(s, 3) != reference_length(s, 3))
          fail_msg("%02X %02X %02X: %zu, reference %zu", a, b, c, _brt_utf8_sequence(s, 3), reference_length(s, 3));
      }
    }
  }
}

/* Every lead and second byte with the third and fourth at and beside the
 * continuation range. */
void test_utf8_four_byte_sequences(void **state) {
  (void)state;
  static const unsigned char tails[] = {0x00, 0x7F, 0x80, 0x9F, 0xA0, 0xBF, 0xC0, 0xFF};
  unsigned char s[4];
  for (unsigned a = 0xF0; a < 256; a++)
    for (unsigned b = 0; b < 256; b++)
      for (size_t c = 0; c < sizeof tails; c++)
        for (size_t d = 0; d < sizeof tails; d++) {
          s[0] = (unsigned char)a, s[1] = (unsigned char)b, s[2] = tails[c], s[3] = tails[d];
          if (_brt_utf8_sequence(s, 4) != reference_length(s, 4))
            fail_msg("%02X %02X %02X %02X", s[0], s[1], s[2], s[3]);
        }
}

/* Every scalar value encodes to a sequence the validator accepts whole;
 * counting finds one character. */
void test_utf8_encode_round_trip(void **state) {
  (void)state;
  char out[4];
  for (uint32_t cp = 0; cp <= 0x10FFFF; cp++) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    size_t len = _brt_utf8_encode(cp, out);
    size_t expected = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (len != expected || seq(out, len) != len || _brt_utf8_count(out, len) != 1)
      fail_msg("U+%04X encodes badly", (unsigned)cp);
  }
}

void test_utf8_invalid_offset(void **state) {
  (void)state;
  /* Past the word-at-a-time ASCII path, inside it, and at its edges. */
  const char text[] = "0123456789abcdef\xC3\xA9" "0123456\xED\xA0\x80tail";
  size_t len = sizeof text - 1;
  assert_int_equal(_brt_utf8_invalid_offset((const unsigned char *)text, len), 25);
  assert_int_equal(_brt_utf8_invalid_offset((const unsigned char *)text, 25), 25);
  assert_int_equal(_brt_utf8_invalid_offset((const unsigned char *)text, 17), 16); /* cut after the lead */
  assert_int_equal(_brt_utf8_invalid_offset((const unsigned char *)"", 0), 0);
  const char ascii8[] = "01234567\x80";
  assert_int_equal(_brt_utf8_invalid_offset((const unsigned char *)ascii8, 9), 8);
  assert_int_equal(_brt_utf8_invalid_offset((const unsigned char *)ascii8, 8), 8);
  const char mixed[] = "\xF0\x9F\x98\x80\xE2\x82\xAC\xC3\xA9z";
  assert_true(_brt_utf8_valid(mixed, sizeof mixed - 1));
  assert_int_equal(_brt_utf8_count(mixed, sizeof mixed - 1), 4);
}

void test_utf8_printable(void **state) {
  (void)state;
  const unsigned char *p;
#define PRINTABLE(lit) _brt_utf8_printable(p = (const unsigned char *)(lit), sizeof(lit) - 1)
  assert_int_equal(PRINTABLE("a"), 1);
  assert_int_equal(PRINTABLE(" "), 1);
  assert_int_equal(PRINTABLE("~"), 1);
  assert_int_equal(PRINTABLE("\t"), 0);
  assert_int_equal(PRINTABLE("\x1B"), 0);
  assert_int_equal(PRINTABLE("\x7F"), 0);
  assert_int_equal(PRINTABLE("\xC2\x80"), 0); /* C1 */
  assert_int_equal(PRINTABLE("\xC2\x9B"), 0); /* CSI */
  assert_int_equal(PRINTABLE("\xC2\x9F"), 0);
  assert_int_equal(PRINTABLE("\xC2\xA0"), 2); /* no-break space */
  assert_int_equal(PRINTABLE("\xE2\x82\xAC"), 3);
  assert_int_equal(PRINTABLE("\xED\xA0\x80"), 0);
  assert_int_equal(PRINTABLE("\xF4\x8F\xBF\xBF"), 4);
  assert_int_equal(PRINTABLE("\xF5\x80\x80\x80"), 0);
  assert_int_equal(_brt_utf8_printable(p, 0), 0);
#undef PRINTABLE
}

void test_utf8_cut_and_trim(void **state) {
  (void)state;
  const char text[] = "ab\xE2\x82\xAC" "c"; /* a b EURO c: 6 bytes */
  assert_int_equal(_brt_utf8_cut(text, 6, 10), 6);
  assert_int_equal(_brt_utf8_cut(text, 6, 6), 6);
  assert_int_equal(_brt_utf8_cut(text, 6, 5), 5); /* before c */
  assert_int_equal(_brt_utf8_cut(text, 6, 4), 2); /* inside the euro sign */
  assert_int_equal(_brt_utf8_cut(text, 6, 3), 2);
  assert_int_equal(_brt_utf8_cut(text, 6, 2), 2);
  assert_int_equal(_brt_utf8_cut(text, 6, 0), 0);
  assert_int_equal(_brt_utf8_trim_partial(text, 6), 6);
  assert_int_equal(_brt_utf8_trim_partial(text, 5), 5);
  assert_int_equal(_brt_utf8_trim_partial(text, 4), 2);
  assert_int_equal(_brt_utf8_trim_partial(text, 3), 2);
  assert_int_equal(_brt_utf8_trim_partial(text, 2), 2);
  assert_int_equal(_brt_utf8_trim_partial(text, 0), 0);
  const char emoji[] = "\xF0\x9F\x98\x80";
  for (size_t n = 1; n < 4; n++) assert_int_equal(_brt_utf8_trim_partial(emoji, n), 0);
  assert_int_equal(_brt_utf8_trim_partial(emoji, 4), 4);
  /* Not UTF-8 at all: never more than 3 bytes back. */
  const char junk[] = "\x80\x80\x80\x80\x80";
  assert_int_equal(_brt_utf8_cut(junk, 5, 4), 4);
}

void test_utf8_copy_valid(void **state) {
  (void)state;
  char out[32];
  const char bad[] = "a\xED\xA0\x80" "b\xC3\xA9\xF5";
  size_t n = _brt_utf8_copy_valid(out, sizeof out, bad, sizeof bad - 1);
  assert_string_equal(out, "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "b\xC3\xA9\xEF\xBF\xBD");
  assert_int_equal(n, strlen(out));
  assert_true(_brt_utf8_valid(out, n));
  /* A character that does not fit is left out whole. */
  n = _brt_utf8_copy_valid(out, 4, "ab\xC3\xA9", 4);
  assert_string_equal(out, "ab");
  n = _brt_utf8_copy_valid(out, 1, "abc", 3);
  assert_int_equal(n, 0);
  assert_string_equal(out, "");
}
