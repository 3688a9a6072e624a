/* The core floor's tests (test_utf8.c, test_text.c), run by test_core.c. */
#ifndef BRT_CORE_TEST_H
#define BRT_CORE_TEST_H

#include <setjmp.h> /* cmocka needs these before its header */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

void test_utf8_boundaries(void **state);
void test_utf8_every_short_sequence(void **state);
void test_utf8_four_byte_sequences(void **state);
void test_utf8_encode_round_trip(void **state);
void test_utf8_invalid_offset(void **state);
void test_utf8_printable(void **state);
void test_utf8_cut_and_trim(void **state);
void test_utf8_copy_valid(void **state);
void test_text_copy(void **state);
void test_text_format(void **state);
void test_text_sink(void **state);

#endif /* BRT_CORE_TEST_H */
