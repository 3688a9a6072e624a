/* The JSONTestSuite parsing corpus, read in place from BRT_SHARED_TESTDATA:
 * every y_ file accepted, every n_ file rejected (the y_object_duplicated_key
 * files rejected by default and accepted with BRT_JSON_DUPLICATE_LAST_WINS),
 * and each i_ file's outcome decided here and in docs/values.md. Accepted
 * values must also print and parse back to an equal value. */
#include "brt_test.h"

#include <dirent.h>

#define SUITE_DIR "JSONTestSuite/test_parsing"

/* The decision for every implementation-defined file. A new i_ file without
 * a line here fails the test: its outcome must be decided, not inherited. */
typedef struct i_decision {
  const char *name;
  brt_status status; /* BRT_OK: accepted */
} i_decision;

static const i_decision i_decisions[] = {
    /* Underflow is the correctly rounded result (0 or a subnormal): accepted. */
    {"i_number_double_huge_neg_exp.json", BRT_OK},
    {"i_number_real_underflow.json", BRT_OK},
    /* Overflow to infinity has no f64 value: rejected, naming the number. */
    {"i_number_huge_exp.json", BRT_E_OUT_OF_RANGE},
    {"i_number_neg_int_huge_exp.json", BRT_E_OUT_OF_RANGE},
    {"i_number_pos_double_huge_exp.json", BRT_E_OUT_OF_RANGE},
    {"i_number_real_neg_overflow.json", BRT_E_OUT_OF_RANGE},
    {"i_number_real_pos_overflow.json", BRT_E_OUT_OF_RANGE},
    /* Integers outside i64 are never rounded: rejected, naming the number. */
    {"i_number_too_big_neg_int.json", BRT_E_OUT_OF_RANGE},
    {"i_number_too_big_pos_int.json", BRT_E_OUT_OF_RANGE},
    {"i_number_very_big_negative_int.json", BRT_E_OUT_OF_RANGE},
    /* Lone or misordered surrogates cannot become UTF-8: rejected. */
    {"i_object_key_lone_2nd_surrogate.json", BRT_E_CONVERSION},
    {"i_string_1st_surrogate_but_2nd_missing.json", BRT_E_CONVERSION},
    {"i_string_1st_valid_surrogate_2nd_invalid.json", BRT_E_CONVERSION},
    {"i_string_incomplete_surrogate_and_escape_valid.json", BRT_E_CONVERSION},
    {"i_string_incomplete_surrogate_pair.json", BRT_E_CONVERSION},
    {"i_string_incomplete_surrogates_escape_valid.json", BRT_E_CONVERSION},
    {"i_string_invalid_lonely_surrogate.json", BRT_E_CONVERSION},
    {"i_string_invalid_surrogate.json", BRT_E_CONVERSION},
    {"i_string_inverted_surrogates_U+1D11E.json", BRT_E_CONVERSION},
    {"i_string_lone_second_surrogate.json", BRT_E_CONVERSION},
    /* Invalid UTF-8 (RFC 8259 §8.1 requires UTF-8): rejected. */
    {"i_string_UTF-8_invalid_sequence.json", BRT_E_CONVERSION},
    {"i_string_UTF8_surrogate_U+D800.json", BRT_E_CONVERSION},
    {"i_string_invalid_utf-8.json", BRT_E_CONVERSION},
    {"i_string_iso_latin_1.json", BRT_E_CONVERSION},
    {"i_string_lone_utf8_continuation_byte.json", BRT_E_CONVERSION},
    {"i_string_not_in_unicode_range.json", BRT_E_CONVERSION},
    {"i_string_overlong_sequence_2_bytes.json", BRT_E_CONVERSION},
    {"i_string_overlong_sequence_6_bytes.json", BRT_E_CONVERSION},
    {"i_string_overlong_sequence_6_bytes_null.json", BRT_E_CONVERSION},
    {"i_string_truncated-utf-8.json", BRT_E_CONVERSION},
    /* UTF-16 text and byte order marks: JSON text is UTF-8 without a BOM. */
    {"i_string_UTF-16LE_with_BOM.json", BRT_E_CONVERSION},
    {"i_string_utf16BE_no_BOM.json", BRT_E_CONVERSION},
    {"i_string_utf16LE_no_BOM.json", BRT_E_CONVERSION},
    {"i_structure_UTF-8_BOM_empty_object.json", BRT_E_CONVERSION},
    /* Deeper than the default max_depth (128): rejected; accepted when the
     * caller raises max_depth (test_i_structure_500_with_raised_depth). */
    {"i_structure_500_nested_arrays.json", BRT_E_LIMIT_EXCEEDED},
};

static const char *suite_dir(char *buf, size_t size) {
  const char *root = getenv("BRT_SHARED_TESTDATA");
  if (!root) return NULL;
  snprintf(buf, size, "%s/%s", root, SUITE_DIR);
  DIR *dir = opendir(buf);
  if (!dir) return NULL;
  closedir(dir);
  return buf;
}

static char *read_file(const char *path, size_t *len) {
  FILE *file = fopen(path, "rb");
  if (!file) return NULL;
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  char *data = malloc((size_t)size + 1);
  if (data && fread(data, 1, (size_t)size, file) != (size_t)size) {
    free(data);
    data = NULL;
  }
  fclose(file);
  if (data) *len = (size_t)size;
  return data;
}

static int skip_without_corpus(void) {
  char buf[1024];
  if (suite_dir(buf, sizeof buf)) return 0;
  print_message("SKIP: JSONTestSuite not found under BRT_SHARED_TESTDATA (%s); "
                "the corpus is read in place and never copied into the repository\n",
                getenv("BRT_SHARED_TESTDATA") ? getenv("BRT_SHARED_TESTDATA") : "unset");
  return 1;
}

/* Printing an accepted value and parsing the text again gives an equal value. */
static void assert_round_trip(const brt_value *value, const char *name) {
  char *text = brt_value_to_json(value, 0);
  if (!text) fail_msg("%s: brt_value_to_json failed: %s", name, brt_error_message(brt_last_error()));
  brt_value *again = brt_value_from_json(text, strlen(text), 0);
  if (!again) fail_msg("%s: printed text %s does not parse: %s", name, text, brt_error_message(brt_last_error()));
  if (!brt_value_equal(value, again)) fail_msg("%s: round trip changed the value: %s", name, text);
  brt_value_release(again);
  brt_release(text);
}

typedef struct tally {
  int y, n, i, failures;
} tally;

static bool is_duplicate_key_file(const char *name) {
  return strncmp(name, "y_object_duplicated_key", 23) == 0;
}

static void check_file(const char *dir, const char *name, tally *counts) {
  char path[2048];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  size_t len = 0;
  char *text = read_file(path, &len);
  assert_non_null(text);
  brt_error_clear();
  brt_value *value = brt_value_from_json(text, len, 0);
  const brt_error *error = brt_last_error();
  if (name[0] == 'y' && !is_duplicate_key_file(name)) {
    counts->y++;
    if (!value) {
      print_error("y_ rejected: %s: %s\n", name, error ? brt_error_message(error) : "no error");
      counts->failures++;
    } else {
      assert_round_trip(value, name);
    }
  } else if (name[0] == 'y') {
    counts->y++;
    if (value || !error || brt_error_code(error) != BRT_E_CONVERSION ||
        !strstr(brt_error_message(error), "duplicate key")) {
      print_error("duplicate keys not rejected by default: %s\n", name);
      counts->failures++;
    }
    brt_value *last_wins = brt_value_from_json(text, len, BRT_JSON_DUPLICATE_LAST_WINS);
    if (!last_wins) {
      print_error("duplicate keys not accepted with LAST_WINS: %s: %s\n", name,
                  brt_error_message(brt_last_error()));
      counts->failures++;
    }
    brt_value_release(last_wins);
  } else if (name[0] == 'n') {
    counts->n++;
    if (value) {
      print_error("n_ accepted: %s\n", name);
      counts->failures++;
    } else if (!error || strlen(brt_error_message(error)) == 0) {
      print_error("n_ rejected without a message: %s\n", name);
      counts->failures++;
    }
  } else if (name[0] == 'i') {
    counts->i++;
    const i_decision *decision = NULL;
    for (size_t k = 0; k < sizeof i_decisions / sizeof i_decisions[0]; k++)
      if (strcmp(i_decisions[k].name, name) == 0) decision = &i_decisions[k];
    if (!decision) {
      print_error("i_ file without a decision: %s\n", name);
      counts->failures++;
    } else if (decision->status == BRT_OK ? !value
                                          : (value || brt_error_code(error) != decision->status)) {
      print_error("i_ outcome differs from the decision: %s: expected %s, got %s (%s)\n", name,
                  brt_status_name(decision->status),
                  value ? "BRT_OK" : brt_status_name(brt_error_code(error)),
                  value ? "" : brt_error_message(error));
      counts->failures++;
    }
  }
  brt_value_release(value);
  free(text);
}

static void test_whole_corpus(void **state) {
  (void)state;
  char buf[1024];
  if (skip_without_corpus()) skip();
  const char *dir = suite_dir(buf, sizeof buf);
  DIR *listing = opendir(dir);
  assert_non_null(listing);
  tally counts = {0, 0, 0, 0};
  for (struct dirent *entry; (entry = readdir(listing));) {
    size_t len = strlen(entry->d_name);
    if (len < 6 || strcmp(entry->d_name + len - 5, ".json") != 0) continue;
    check_file(dir, entry->d_name, &counts);
  }
  closedir(listing);
  print_message("JSONTestSuite: %d y_, %d n_, %d i_ files checked, %d failures\n", counts.y,
                counts.n, counts.i, counts.failures);
  assert_int_equal(counts.failures, 0);
  assert_int_equal(counts.y, 95);
  assert_int_equal(counts.n, 188);
  assert_int_equal(counts.i, (int)(sizeof i_decisions / sizeof i_decisions[0]));
}

static void test_i_structure_500_with_raised_depth(void **state) {
  (void)state;
  char buf[1024], path[2048];
  if (skip_without_corpus()) skip();
  snprintf(path, sizeof path, "%s/i_structure_500_nested_arrays.json", suite_dir(buf, sizeof buf));
  size_t len = 0;
  char *text = read_file(path, &len);
  assert_non_null(text);
  assert_null_with(brt_value_from_json(text, len, 0), BRT_E_LIMIT_EXCEEDED);
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "max_depth (128)");
  brt_json_options options;
  brt_json_options_default(&options);
  options.max_depth = 600;
  brt_value *value = brt_value_from_json_ex(text, len, &options, NULL);
  assert_non_null(value);
  assert_int_equal(brt_value_kind(value), BRT_KIND_ARRAY);
  brt_value_release(value);
  free(text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_whole_corpus),
      cmocka_unit_test(test_i_structure_500_with_raised_depth),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
