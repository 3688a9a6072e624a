/* core/text.h: bounded copies and formatting never cut a character. */
#include "core_test.h"

#include "core/text.h"
#include "core/utf8.h"

#define MARK "\xE2\x80\xA6" /* the error record's truncation mark */

void test_text_copy(void **state) {
  (void)state;
  char out[8];
  assert_false(_brt_text_copy(out, sizeof out, "1234567", MARK));
  assert_string_equal(out, "1234567");
  assert_true(_brt_text_copy(out, sizeof out, "12345678", MARK));
  assert_string_equal(out, "1234" MARK);
  /* The last kept character would be split by the mark: left out whole. */
  assert_true(_brt_text_copy(out, sizeof out, "123\xC3\xA9" "5678", MARK));
  assert_string_equal(out, "123" MARK);
  assert_true(_brt_text_copy(out, sizeof out, "123\xC3\xA9" "5678", NULL));
  assert_string_equal(out, "123\xC3\xA9" "56");
  assert_true(_brt_text_copy(out, sizeof out, "123456\xC3\xA9", NULL));
  assert_string_equal(out, "123456");
  /* A mark that does not fit is left off. */
  char tiny[4];
  assert_true(_brt_text_copy(tiny, sizeof tiny, "abcdef", MARK));
  assert_string_equal(tiny, "abc");
  char one[1];
  assert_true(_brt_text_copy(one, sizeof one, "a", MARK));
  assert_string_equal(one, "");
}

void test_text_format(void **state) {
  (void)state;
  char out[8];
  assert_int_equal(_brt_text_format(out, sizeof out, MARK, "%d-%s", 12, "ab"), 5);
  assert_string_equal(out, "12-ab");
  /* Two-byte characters across the end, at each parity, with and without
   * a mark: always whole characters. */
  for (int pad = 0; pad < 2; pad++) {
    for (int marked = 0; marked < 2; marked++) {
      int needed = _brt_text_format(out, sizeof out, marked ? MARK : NULL, "%s\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9",
                                    pad ? "x" : "");
      assert_int_equal(needed, 10 + pad);
      assert_true(_brt_utf8_valid(out, strlen(out)));
      assert_true(strlen(out) >= (marked ? 3u : 6u));
    }
  }
}

void test_text_sink(void **state) {
  (void)state;
  char buf[8];
  brt_text_sink sink = {.buf = buf, .size = sizeof buf};
  buf[0] = '\0';
  _brt_text_sink_printf(&sink, "%s", "ab");
  _brt_text_sink_printf(&sink, "%s", "cde\xE2\x82\xAC" "f");
  assert_int_equal(sink.length, 9);
  assert_string_equal(buf, "abcde"); /* the euro sign would be split */
  _brt_text_sink_printf(&sink, "%s", "more");
  assert_int_equal(sink.length, 13);
  assert_string_equal(buf, "abcde");
  brt_text_sink measure = {0};
  _brt_text_sink_printf(&measure, "%s", "12345");
  assert_int_equal(measure.length, 5);
}
