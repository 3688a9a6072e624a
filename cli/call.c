/* bridgert call: reads the parameters (--params, --params -, --params-file),
 * checks that they are JSON (reporting line and column), and calls the
 * algorithm: a value one with brt_call_json, a native one through
 * brt_prepare/brt_invoke with its arguments converted from a JSON array by
 * its signature. */
#include "cli.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PARAMS_MAX (64u << 20) /* more is certainly a mistake on a command line */

/* Reads a whole stream; NULL with *code set on failure. */
static char *read_stream(FILE *in, const char *what, size_t *length, int *code) {
  size_t capacity = 4096, used = 0;
  char *text = malloc(capacity);
  while (text) {
    if (used + 1 == capacity) {
      char *grown = capacity < PARAMS_MAX ? realloc(text, capacity * 2) : NULL;
      if (!grown) break;
      text = grown;
      capacity *= 2;
    }
    size_t got = fread(text + used, 1, capacity - used - 1, in);
    used += got;
    if (got == 0) {
      if (ferror(in)) {
        fprintf(stderr, "bridgert call: reading %s failed: %s\n", what, strerror(errno));
        free(text);
        *code = CLI_EXIT_IO;
        return NULL;
      }
      text[used] = '\0';
      *length = used;
      return text;
    }
  }
  free(text);
  fprintf(stderr, "bridgert call: %s is larger than %u MiB or memory ran out\n", what, PARAMS_MAX >> 20);
  *code = CLI_EXIT_DATA;
  return NULL;
}

static char *read_params(const cli_options *options, const char *fallback, size_t *length,
                         const char **what, int *code) {
  if (options->params_file) {
    *what = options->params_file;
    FILE *in = fopen(options->params_file, "rb");
    if (!in) {
      fprintf(stderr, "bridgert call: cannot open the params file '%s': %s\n", options->params_file,
              strerror(errno));
      *code = errno == ENOENT ? CLI_EXIT_NO_INPUT : CLI_EXIT_IO;
      return NULL;
    }
    char *text = read_stream(in, options->params_file, length, code);
    fclose(in);
    return text;
  }
  if (options->params && strcmp(options->params, "-") == 0) {
    *what = "standard input";
    return read_stream(stdin, "standard input", length, code);
  }
  *what = "--params";
  const char *text = options->params ? options->params : fallback;
  *length = strlen(text);
  char *copy = strdup(text);
  if (!copy) *code = CLI_EXIT_TEMPORARY;
  return copy;
}

/* Reports params that are not JSON, with the line, the column and what was
 * expected (bridgert's own parser, the one brt_call_json uses). */
static int report_bad_json(const char *what) {
  const char *message = brt_error_message(brt_last_error());
  if (strncmp(message, "JSON: ", 6) == 0) message += 6;
  fprintf(stderr, "bridgert call: %s is not valid JSON: %s\n", what, message);
  brt_status status = brt_error_code(brt_last_error());
  return status == BRT_E_CONVERSION || status == BRT_E_OUT_OF_RANGE ? CLI_EXIT_DATA
                                                                     : cli_exit_code(status);
}

/* --- Native calls -------------------------------------------------------------- */

typedef union native_slot {
  int8_t i8; int16_t i16; int32_t i32; int64_t i64;
  uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
  float f32; double f64; bool b; const char *str; void *ptr;
} native_slot;

/* An integer literal of the params outside int64 (the value model refuses
 * those rather than rounding them): it is read as a u64 here, or refused by
 * the argument's range. */
#define BIG_MAX BRT_SIGNATURE_MAX_ARGS
typedef struct big_literal {
  size_t offset;         /* in the params text */
  char shown[64];        /* for messages: cut at 60 characters with "..." */
} big_literal;

typedef struct native_params {
  brt_value *array;
  size_t element_offset[BRT_SIGNATURE_MAX_ARGS]; /* of each top-level element */
  char *original;        /* the text before the literals were replaced */
  big_literal big[BIG_MAX];
  size_t big_count;
} native_params;

/* The length of the integer literal at `at` ("-"? digits, no fraction or
 * exponent), or 0 when there is none. */
static size_t integer_literal_length(const char *at, size_t left) {
  size_t n = at[0] == '-' && left > 1 ? 1 : 0;
  size_t digits = n;
  while (digits < left && at[digits] >= '0' && at[digits] <= '9') digits++;
  if (digits == n) return 0;
  if (digits < left && (at[digits] == '.' || at[digits] == 'e' || at[digits] == 'E')) return 0;
  return digits;
}

/* The offsets of the top-level elements of `text`, valid JSON (checked
 * before): counts elements at depth 1, skipping strings. */
static size_t top_level_offsets(const char *text, size_t length, size_t *offsets, size_t max) {
  size_t count = 0;
  int depth = 0;
  bool in_string = false, expect_element = false;
  for (size_t i = 0; i < length; i++) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
    if (depth == 1 && expect_element && c != ']') {
      if (count < max) offsets[count] = i;
      count++;
    }
    expect_element = false;
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth == 1) expect_element = true;
    } else if (c == ']' || c == '}') {
      depth--;
    } else if (c == ',' && depth == 1) {
      expect_element = true;
    }
  }
  return count;
}

/* Parses the params with the value model: integers stay exact int64 (never
 * a double), strings keep their length (and any NUL). An integer literal
 * beyond int64, which the value model refuses with OUT_OF_RANGE, is kept
 * as text and replaced in `text` (our copy) by a 0 padded with blanks, so
 * that the rest is still checked with lines and columns intact. */
static int parse_native_params(char *text, size_t length, const char *what, native_params *out) {
  memset(out, 0, sizeof *out);
  for (;;) {
    brt_json_location at = {sizeof at, 0, 0, 0};
    out->array = brt_value_from_json_ex(text, length, NULL, &at);
    if (out->array) break;
    size_t literal = brt_error_code(brt_last_error()) == BRT_E_OUT_OF_RANGE && at.offset < length
                         ? integer_literal_length(text + at.offset, length - at.offset)
                         : 0;
    if (!literal || out->big_count == BIG_MAX) return report_bad_json(what);
    if (!out->original) {
      if (!(out->original = malloc(length + 1))) {
        fprintf(stderr, "bridgert call: out of memory\n");
        return CLI_EXIT_TEMPORARY;
      }
      memcpy(out->original, text, length + 1); /* read_params ends it with a NUL */
    }
    big_literal *big = &out->big[out->big_count++];
    big->offset = at.offset;
    snprintf(big->shown, sizeof big->shown, "%.*s%s", literal > 60 ? 60 : (int)literal,
             text + at.offset, literal > 60 ? "..." : "");
    text[at.offset] = '0';
    memset(text + at.offset + 1, ' ', literal - 1);
  }
  if (brt_value_kind(out->array) == BRT_KIND_ARRAY)
    top_level_offsets(text, length, out->element_offset, BRT_SIGNATURE_MAX_ARGS);
  return 0;
}

/* The literal beyond int64 that is the i-th element, or NULL. */
static const big_literal *big_at(const native_params *params, size_t index) {
  if (index >= BRT_SIGNATURE_MAX_ARGS) return NULL;
  for (size_t i = 0; i < params->big_count; i++)
    if (params->big[i].offset == params->element_offset[index]) return &params->big[i];
  return NULL;
}

/* The type token at *cursor ("f64", "ptr"...) copied into `type`. */
static const char *next_type(const char *cursor, char *type, size_t size) {
  size_t length = strcspn(cursor, ",()");
  snprintf(type, size, "%.*s", (int)length, cursor);
  return cursor + length;
}

static int argument_error(const char *name, int index, const char *type, const char *expected) {
  fprintf(stderr, "bridgert call: '%s' argument %d (%s): expected %s; see 'bridgert call --help'\n",
          name, index + 1, type, expected);
  return CLI_EXIT_DATA;
}

/* What a JSON value is, for messages: "a string", "an array"... */
static const char *kind_phrase(brt_kind kind) {
  switch (kind) {
    case BRT_KIND_NULL: return "null";
    case BRT_KIND_BOOL: return "a boolean";
    case BRT_KIND_INT: return "an integer";
    case BRT_KIND_FLOAT: return "a number";
    case BRT_KIND_STRING: return "a string";
    case BRT_KIND_ARRAY: return "an array";
    case BRT_KIND_OBJECT: return "an object";
    default: return "a value";
  }
}

static int kind_error(const char *name, int index, const char *type, const char *expected,
                      brt_kind got) {
  char text[96];
  snprintf(text, sizeof text, "%s, got %s", expected, kind_phrase(got));
  return argument_error(name, index, type, text);
}

/* The fewest of 15, 16 or 17 significant digits that read back as `x`. */
static void format_double(char *buf, size_t size, double x) {
  for (int digits = 15; digits <= 17; digits++) {
    snprintf(buf, size, "%.*g", digits, x);
    if (strtod(buf, NULL) == x) return;
  }
}

/* Integers are read exactly: an int64 from the value model, a u64 beyond
 * int64 from its literal, a float only when it is integral and below 2^53
 * in magnitude (from 2^53 up, the text may have been rounded when read). */
static int convert_integer(const char *name, int index, const char *type, const brt_value *value,
                           const char *big, const char *big_shown, native_slot *slot) {
  bool is_signed = type[0] == 'i';
  int bits = atoi(type + 1);
  int64_t low = is_signed ? (bits == 64 ? INT64_MIN : -((int64_t)1 << (bits - 1))) : 0;
  uint64_t high = is_signed ? (uint64_t)INT64_MAX >> (64 - bits)
                            : bits == 64 ? UINT64_MAX : ((uint64_t)1 << bits) - 1;
  char range[80], got[256];
  if (is_signed)
    snprintf(range, sizeof range, "an integer in [%" PRId64 ", %" PRIu64 "]", low, high);
  else
    snprintf(range, sizeof range, "an integer in [0, %" PRIu64 "]", high);
  bool negative = false;
  uint64_t magnitude = 0; /* |value| */
  brt_kind kind = brt_value_kind(value);
  if (big) {
    /* Beyond int64: only a u64 argument can hold it, and only up to 2^64 - 1. */
    errno = 0;
    unsigned long long parsed = big[0] == '-' ? 0 : strtoull(big, NULL, 10);
    if (is_signed || big[0] == '-' || errno == ERANGE || parsed > high) {
      snprintf(got, sizeof got, "%s, got %s", range, big_shown);
      return argument_error(name, index, type, got);
    }
    slot->u64 = (uint64_t)parsed;
    return 0;
  }
  if (kind == BRT_KIND_INT) {
    int64_t number = 0;
    brt_value_get_int(value, &number);
    negative = number < 0;
    magnitude = negative ? 0 - (uint64_t)number : (uint64_t)number;
    snprintf(got, sizeof got, "%s, got %" PRId64, range, number);
  } else if (kind == BRT_KIND_FLOAT) {
    double number = 0;
    brt_value_get_float(value, &number);
    char shown[32];
    format_double(shown, sizeof shown, number);
    snprintf(got, sizeof got, "%s, got %s", range, shown);
    if (number != floor(number) || fabs(number) >= 0x1p53) {
      if (number == floor(number))
        snprintf(got + strlen(got), sizeof got - strlen(got),
                 " (a float from 2^53 up may have been rounded when read: write the integer's digits)");
      return argument_error(name, index, type, got);
    }
    negative = number < 0;
    magnitude = (uint64_t)fabs(number);
  } else {
    return kind_error(name, index, type, range, kind);
  }
  if (negative ? (!is_signed || magnitude > (uint64_t)0 - (uint64_t)low) : magnitude > high)
    return argument_error(name, index, type, got);
  uint64_t bits_value = negative ? 0 - magnitude : magnitude; /* two's complement */
  switch (bits * (is_signed ? -1 : 1)) {
    case -8: slot->i8 = (int8_t)(int64_t)bits_value; break;
    case -16: slot->i16 = (int16_t)(int64_t)bits_value; break;
    case -32: slot->i32 = (int32_t)(int64_t)bits_value; break;
    case -64: slot->i64 = (int64_t)bits_value; break;
    case 8: slot->u8 = (uint8_t)bits_value; break;
    case 16: slot->u16 = (uint16_t)bits_value; break;
    case 32: slot->u32 = (uint32_t)bits_value; break;
    default: slot->u64 = bits_value; break;
  }
  return 0;
}

/* `big`: the literal (in the original text) of an integer beyond int64 at
 * this place, or NULL. */
static int convert_argument(const char *name, int index, const char *type, const brt_value *value,
                            const char *big, const char *big_shown, native_slot *slot) {
  brt_kind kind = brt_value_kind(value);
  if (strcmp(type, "ptr") == 0)
    return argument_error(name, index, type,
                          "a memory address, which cannot be given on the command line; call "
                          "this algorithm from code");
  if (strcmp(type, "bool") == 0) {
    int truth = 0;
    if (kind != BRT_KIND_BOOL) return kind_error(name, index, type, "true or false", kind);
    brt_value_get_bool(value, &truth);
    slot->b = truth != 0;
    return 0;
  }
  if (strcmp(type, "str") == 0) {
    const char *data = NULL;
    size_t length = 0;
    if (kind != BRT_KIND_STRING) return kind_error(name, index, type, "a string", kind);
    brt_value_get_string(value, &data, &length);
    const char *nul = memchr(data, '\0', length);
    if (nul) {
      char expected[160];
      snprintf(expected, sizeof expected,
               "a string without NUL characters, got \\u0000 at byte %zu of %zu: a C string "
               "(const char *) ends at its first NUL, so the rest would be cut",
               (size_t)(nul - data), length);
      return argument_error(name, index, type, expected);
    }
    slot->str = data; /* valid while the params array lives */
    return 0;
  }
  if (strcmp(type, "f64") == 0 || strcmp(type, "f32") == 0) {
    double number = 0;
    if (big) number = strtod(big, NULL); /* a float argument rounds, as floats do */
    else if (kind == BRT_KIND_INT || kind == BRT_KIND_FLOAT) brt_value_get_number(value, &number);
    else return kind_error(name, index, type, "a number", kind);
    if (type[1] == '6') {
      if (!isfinite(number)) {
        char expected[96];
        snprintf(expected, sizeof expected, "a number in the range of f64, got %s", big_shown);
        return argument_error(name, index, type, expected);
      }
      slot->f64 = number;
    } else {
      if (!(fabs(number) <= FLT_MAX)) {
        char expected[128], shown[32];
        format_double(shown, sizeof shown, number);
        snprintf(expected, sizeof expected, "a number in [-%.9g, %.9g], got %s", (double)FLT_MAX,
                 (double)FLT_MAX, big ? big_shown : shown);
        return argument_error(name, index, type, expected);
      }
      slot->f32 = (float)number;
    }
    return 0;
  }
  return convert_integer(name, index, type, value, big, big_shown, slot);
}

/* A float result as JSON: the value model's shortest round-trip form. JSON
 * has no NaN or infinities: those print null with a warning. */
static int print_float(const char *name, double number, bool is_f32) {
  if (!isfinite(number)) {
    fprintf(stderr,
            "bridgert call: warning: '%s' returned %s, which JSON cannot represent; printed null\n",
            name, isnan(number) ? "NaN" : number > 0 ? "+infinity" : "-infinity");
    printf("null\n");
    return CLI_EXIT_OK;
  }
  if (is_f32) {
    /* The fewest digits that read back as the same f32. */
    char text[32];
    for (int digits = 6; digits <= 9; digits++) {
      snprintf(text, sizeof text, "%.*g", digits, number);
      if (strtof(text, NULL) == (float)number) break;
    }
    printf("%s%s\n", text, strpbrk(text, ".e") ? "" : ".0");
    return CLI_EXIT_OK;
  }
  brt_value *value = brt_value_float(number);
  char *json = value ? brt_value_to_json(value, 0) : NULL;
  brt_value_release(value);
  if (!json) {
    cli_print_error("call: cannot print the result");
    return cli_exit_code(brt_error_code(brt_last_error()));
  }
  printf("%s\n", json);
  brt_release(json);
  return CLI_EXIT_OK;
}

static int print_native_result(const char *name, const char *type, const native_slot *ret) {
  if (strcmp(type, "void") == 0) printf("null\n");
  else if (strcmp(type, "f64") == 0) return print_float(name, ret->f64, false);
  else if (strcmp(type, "f32") == 0) return print_float(name, (double)ret->f32, true);
  else if (strcmp(type, "bool") == 0) printf("%s\n", ret->b ? "true" : "false");
  else if (strcmp(type, "ptr") == 0) printf("\"%p\"\n", ret->ptr);
  else if (strcmp(type, "str") == 0) {
    if (!ret->str) {
      printf("null\n");
      return CLI_EXIT_OK;
    }
    brt_value *string = brt_value_cstring(ret->str);
    char *json = string ? brt_value_to_json(string, 0) : NULL;
    brt_value_release(string);
    if (!json) {
      char context[256];
      snprintf(context, sizeof context, "call: the string '%.128s' returned cannot be printed as JSON", name);
      cli_print_error(context);
      return CLI_EXIT_SOFTWARE;
    }
    printf("%s\n", json);
    brt_release(json);
  } else if (type[0] == 'i') {
    int64_t v = strcmp(type, "i8") == 0 ? ret->i8 : strcmp(type, "i16") == 0 ? ret->i16
              : strcmp(type, "i32") == 0 ? ret->i32 : ret->i64;
    printf("%" PRId64 "\n", v);
  } else {
    uint64_t v = strcmp(type, "u8") == 0 ? ret->u8 : strcmp(type, "u16") == 0 ? ret->u16
               : strcmp(type, "u32") == 0 ? ret->u32 : ret->u64;
    printf("%" PRIu64 "\n", v);
  }
  return CLI_EXIT_OK;
}

static int call_native(brt_runtime *rt, const cli_options *options, char *text, size_t length,
                       const char *what) {
  brt_prepared *prepared = brt_prepare(rt, options->name);
  if (!prepared) {
    char context[256];
    snprintf(context, sizeof context, "call '%.128s' failed", options->name);
    cli_print_error(context);
    return cli_exit_code(brt_error_code(brt_last_error()));
  }
  native_params params;
  int code = parse_native_params(text, length, what, &params);
  const char *signature = brt_prepared_signature(prepared);
  char type[16], return_type[16];
  const char *cursor = next_type(signature, return_type, sizeof return_type);
  native_slot slots[BRT_SIGNATURE_MAX_ARGS], ret;
  void *args[BRT_SIGNATURE_MAX_ARGS];
  memset(&ret, 0, sizeof ret);
  char types[BRT_SIGNATURE_MAX_ARGS][16];
  int count = 0;
  for (cursor++; *cursor && *cursor != ')' && count < BRT_SIGNATURE_MAX_ARGS;) {
    cursor = next_type(cursor, type, sizeof type);
    if (*cursor == ',') cursor++;
    if (strcmp(type, "void") != 0) memcpy(types[count++], type, sizeof type); /* "(void)": none */
  }
  size_t given = 0;
  if (!code && brt_value_kind(params.array) == BRT_KIND_ARRAY)
    brt_value_array_length(params.array, &given);
  if (!code && brt_value_kind(params.array) != BRT_KIND_ARRAY) {
    fprintf(stderr, "bridgert call: '%s' is native (%s): its parameters are a JSON array of the "
                    "arguments, e.g. --params '[1, 2]'\n", options->name, signature);
    code = CLI_EXIT_DATA;
  } else if (!code && given != (size_t)count) {
    fprintf(stderr, "bridgert call: '%s' (%s) takes %d argument%s, %zu given\n", options->name,
            signature, count, count == 1 ? "" : "s", given);
    code = CLI_EXIT_DATA;
  }
  for (int i = 0; !code && i < count; i++) {
    const big_literal *big = big_at(&params, (size_t)i);
    code = convert_argument(options->name, i, types[i], brt_value_array_get(params.array, (size_t)i),
                            big ? params.original + big->offset : NULL, big ? big->shown : NULL,
                            &slots[i]);
    args[i] = &slots[i];
  }
  if (!code) {
    brt_status status = brt_invoke(prepared, &ret, args);
    if (status == BRT_OK) {
      code = print_native_result(options->name, return_type, &ret);
    } else {
      char context[256];
      snprintf(context, sizeof context, "call '%.128s' failed", options->name);
      cli_print_error(context);
      code = cli_exit_code(status);
    }
  }
  brt_value_release(params.array);
  free(params.original);
  brt_prepared_free(prepared);
  return code;
}

/* --- Value calls ------------------------------------------------------------------ */

static int call_value(brt_runtime *rt, const cli_options *options, const char *text,
                      size_t length, const char *what) {
  /* Checked here first for the line and column of a mistake; a NUL inside
   * the text is refused too (brt_call_json takes a C string). */
  brt_value *params = brt_value_from_json(text, length, 0);
  if (!params) return report_bad_json(what);
  brt_value_release(params);
  char *result = NULL;
  brt_status status = brt_call_json(rt, options->name, text, &result);
  if (status != BRT_OK) {
    char context[256];
    snprintf(context, sizeof context, "call '%.128s' failed", options->name);
    cli_print_error(context);
    return cli_exit_code(status);
  }
  printf("%s\n", result);
  brt_release(result);
  return CLI_EXIT_OK;
}

/* Which kind `name` ("name" or "name@version") is: the listing goes by name
 * and then highest version first, so the first match is what a call by
 * that name runs. */
typedef struct kind_lookup {
  const char *name;
  size_t name_length; /* before any '@' */
  const char *version; /* after '@', or NULL */
  bool found, has_value_fn;
} kind_lookup;

static int kind_visit(void *ctx, const brt_algorithm *algorithm) {
  kind_lookup *lookup = ctx;
  if (strlen(algorithm->name) != lookup->name_length ||
      strncmp(algorithm->name, lookup->name, lookup->name_length) != 0)
    return 0;
  if (lookup->version && strcmp(algorithm->version, lookup->version) != 0) return 0;
  lookup->found = true;
  lookup->has_value_fn = algorithm->value_fn != NULL;
  return 1;
}

int cli_call(brt_runtime *rt, const cli_options *options) {
  const char *at = strchr(options->name, '@');
  kind_lookup lookup = {options->name, at ? (size_t)(at - options->name) : strlen(options->name),
                        at ? at + 1 : NULL, false, false};
  /* Not found: the native path's brt_prepare reports NOT_FOUND with the
   * runtime's suggestion of the closest name. */
  if (brt_algorithms_list(rt, kind_visit, &lookup) != BRT_OK) {
    cli_print_error("call: cannot list the algorithms");
    return CLI_EXIT_SOFTWARE;
  }
  int code = CLI_EXIT_OK;
  size_t length = 0;
  const char *what = NULL;
  char *text = read_params(options, lookup.has_value_fn ? "{}" : "[]", &length, &what, &code);
  if (!text) return code;
  if (lookup.has_value_fn)
    code = call_value(rt, options, text, length, what);
  else
    code = call_native(rt, options, text, length, what);
  free(text);
  return code;
}
