/* Unit tests of the private core floor (core/). */
#include "core_test.h"

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_utf8_boundaries),
      cmocka_unit_test(test_utf8_every_short_sequence),
      cmocka_unit_test(test_utf8_four_byte_sequences),
      cmocka_unit_test(test_utf8_encode_round_trip),
      cmocka_unit_test(test_utf8_invalid_offset),
      cmocka_unit_test(test_utf8_printable),
      cmocka_unit_test(test_utf8_cut_and_trim),
      cmocka_unit_test(test_utf8_copy_valid),
      cmocka_unit_test(test_text_copy),
      cmocka_unit_test(test_text_format),
      cmocka_unit_test(test_text_sink),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
