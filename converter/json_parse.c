/* Strict JSON (RFC 8259) text -> brt_value.
 *
 * Our own recursive-descent reader instead of cJSON_Parse, because cJSON
 * accepts texts RFC 8259 forbids (leading zeros, "2.", raw control
 * characters, bad \u escapes, form feed as whitespace), rounds integers
 * beyond 2^53, keeps only the first of duplicate keys, and would need a
 * second pass to turn its nodes into values and tensors. Reading straight
 * into values does one pass and one allocation per value; arrays that are
 * tensor requests (flag or schema "x-tensor") are read straight into the
 * tensor's block, one number at a time, without a value per element.
 *
 * Every error names what was expected, the line and column, and an excerpt;
 * the parser keeps a path of the containers it is in so that tensor errors
 * can name the JSON Pointer of the offending element. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Errors ------------------------------------------------------------------- */

static void excerpt_of(const json_parser *p, const unsigned char *at, char *out, size_t cap) {
  const unsigned char *from = at - p->begin > 12 ? at - 12 : p->begin;
  const unsigned char *to = p->end - at > 12 ? at + 12 : p->end;
  size_t len = 0;
  for (const unsigned char *c = from; c < to && len + 5 < cap; c++) {
    if (*c >= 0x20 && *c < 0x7F && *c != '\\')
      out[len++] = (char)*c;
    else
      len += (size_t)snprintf(out + len, cap - len, "\\x%02X", *c);
  }
  out[len] = '\0';
}

brt_value *_brt_json_fail(json_parser *p, const unsigned char *at, brt_status status, const char *fmt, ...) {
  size_t line = 1, column = 1;
  for (const unsigned char *c = p->begin; c < at; c++) {
    if (*c == '\n') {
      line++;
      column = 1;
    } else if ((*c & 0xC0) != 0x80) {
      column++;
    }
  }
  char what[512], excerpt[80];
  va_list args;
  va_start(args, fmt);
  vsnprintf(what, sizeof what, fmt, args);
  va_end(args);
  excerpt_of(p, at, excerpt, sizeof excerpt);
  brt_error_set(status, BRT_ORIGIN_C, NULL, "JSON: %s at line %zu, column %zu (byte %zu), near \"%s\"",
                what, line, column, (size_t)(at - p->begin), excerpt);
  if (p->error_at) {
    p->error_at->line = line;
    p->error_at->column = column;
    p->error_at->offset = (size_t)(at - p->begin);
  }
  return NULL;
}

void _brt_json_pointer(const json_parser *p, const size_t *extra, size_t extra_count, char *out, size_t cap) {
  size_t len = 0;
  out[0] = '\0';
  for (size_t i = 0; i < p->depth + extra_count && len + 24 < cap; i++) {
    const path_step *step = i < p->depth ? &p->path[i] : NULL;
    if (step && step->key) {
      len = _brt_pointer_append_key(out, len, cap, step->key, step->key_len);
    } else {
      len += (size_t)snprintf(out + len, cap - len, "/%zu",
                              step ? step->index : extra[i - p->depth]);
    }
  }
  out[len] = '\0';
  if (!len) snprintf(out, cap, "(root)");
}

/* --- Lexical pieces ------------------------------------------------------------- */

static bool literal_follows(const json_parser *p, const char *word, size_t len) {
  return (size_t)(p->end - p->cur) >= len && memcmp(p->cur, word, len) == 0;
}

BRT_COLD static bool number_out_of_range(json_parser *p, const unsigned char *start, size_t len, bool integer) {
  int shown = len > 60 ? 60 : (int)len;
  if (integer)
    _brt_json_fail(p, start, BRT_E_OUT_OF_RANGE,
         "the integer %.*s%s does not fit in a 64-bit signed integer (it is kept exact, never "
         "rounded; write it as a string or with an exponent to get a float)",
         shown, (const char *)start, len > 60 ? "..." : "");
  else
    _brt_json_fail(p, start, BRT_E_OUT_OF_RANGE, "the number %.*s%s is beyond the range of a 64-bit float",
         shown, (const char *)start, len > 60 ? "..." : "");
  return false;
}

static inline bool is_digit(const unsigned char *s, const unsigned char *end) {
  return s < end && (unsigned)(*s - '0') < 10;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/* Eight ASCII digits at once (a little-endian word): whether all eight
 * bytes are '0'..'9', and their value. Long fractions (full-precision
 * doubles have 15 to 17 digits) then cost two or three steps instead of a
 * step per digit. */
BRT_INLINE bool eight_digits(const unsigned char *s, uint64_t *value) {
  uint64_t word;
  memcpy(&word, s, 8);
  if (((word & UINT64_C(0xF0F0F0F0F0F0F0F0)) |
       (((word + UINT64_C(0x0606060606060606)) & UINT64_C(0xF0F0F0F0F0F0F0F0)) >> 4)) !=
      UINT64_C(0x3333333333333333))
    return false;
  word -= UINT64_C(0x3030303030303030);
  word = word * 10 + (word >> 8); /* pairs of digits */
  word = (((word & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x000F424000000064)) +
          (((word >> 16) & UINT64_C(0x000000FF000000FF)) * UINT64_C(0x0000271000000001))) >> 32;
  *value = word;
  return true;
}
#else
BRT_INLINE bool eight_digits(const unsigned char *s, uint64_t *value) { return false; }
#endif

/* One pass over the number grammar at p->cur that also accumulates the
 * decimal significand and exponent. A number without fraction or exponent
 * is an integer: exact, or OUT_OF_RANGE, never rounded. A float of at most
 * 19 significant digits goes to _brt_number_from_parts as (significand,
 * power of ten); a longer one is read again from the text, where the
 * dropped digits can still decide the rounding. */
bool _brt_json_read_number(json_parser *p, bool *is_integer, int64_t *integer, double *number) {
  const unsigned char *start = p->cur, *s = p->cur, *end = p->end;
  bool negative = *s == '-';
  if (negative) s++;
  if (BRT_UNLIKELY(!is_digit(s, end))) {
    _brt_json_fail(p, s, BRT_E_CONVERSION, "expected a digit after '-'");
    return false;
  }
  uint64_t magnitude = 0;
  const unsigned char *digits = s;
  if (*s == '0') {
    s++;
    if (BRT_UNLIKELY(is_digit(s, end))) {
      _brt_json_fail(p, start, BRT_E_CONVERSION, "a number must not start with a leading zero");
      return false;
    }
  } else {
    do magnitude = magnitude * 10 + (uint64_t)(*s++ - '0'); /* wraps beyond 19 digits: checked below */
    while (is_digit(s, end));
  }
  if (BRT_LIKELY(s == end || (*s != '.' && *s != 'e' && *s != 'E'))) {
    *is_integer = true;
    p->cur = s;
    /* 19 digits always fit in u64; 20 or more are beyond i64. */
    if (BRT_UNLIKELY(s - digits > 19 ||
                     (negative ? magnitude > UINT64_C(9223372036854775808) : magnitude > INT64_MAX)))
      return number_out_of_range(p, start, (size_t)(s - start), true);
    *integer = negative ? (int64_t)(0 - magnitude) : (int64_t)magnitude;
    return true;
  }
  /* Significant digits so far: none for "0", else the integer part's (the
   * accumulated magnitude may have wrapped to anything, 0 included, so it
   * is not what tells). */
  bool integer_part_zero = *digits == '0';
  ptrdiff_t significant = integer_part_zero ? 0 : s - digits;
  int64_t exponent = 0;
  if (*s == '.') {
    s++;
    if (BRT_UNLIKELY(!is_digit(s, end))) {
      _brt_json_fail(p, s, BRT_E_CONVERSION, "expected a digit after the decimal point");
      return false;
    }
    const unsigned char *fraction = s;
    if (integer_part_zero) /* "0.000ddd": the zeros only scale */
      while (*s == '0' && is_digit(s + 1, end)) s++;
    const unsigned char *first = s;
    uint64_t eight;
    while (end - s >= 8 && eight_digits(s, &eight)) {
      magnitude = magnitude * 100000000 + eight;
      s += 8;
    }
    while (is_digit(s, end)) magnitude = magnitude * 10 + (uint64_t)(*s++ - '0');
    significant += s - first;
    exponent = -(int64_t)(s - fraction);
  }
  if (s < end && (*s == 'e' || *s == 'E')) {
    s++;
    bool exponent_negative = s < end && *s == '-';
    if (s < end && (*s == '+' || *s == '-')) s++;
    if (BRT_UNLIKELY(!is_digit(s, end))) {
      _brt_json_fail(p, s, BRT_E_CONVERSION, "expected a digit in the exponent");
      return false;
    }
    int64_t explicit_exponent = 0;
    do {
      if (explicit_exponent < 1000000) explicit_exponent = explicit_exponent * 10 + (*s - '0');
      s++;
    } while (is_digit(s, end));
    exponent += exponent_negative ? -explicit_exponent : explicit_exponent;
  }
  *is_integer = false;
  size_t len = (size_t)(s - start);
  bool in_range = BRT_LIKELY(significant <= 19)
                      ? _brt_number_from_parts(negative, magnitude, exponent, (const char *)start, len, number)
                      : _brt_number_parse_float((const char *)start, len, number);
  if (BRT_UNLIKELY(!in_range)) return number_out_of_range(p, start, len, false);
  p->cur = s;
  return true;
}

static bool scratch_reserve(json_parser *p, size_t bytes) {
  if (bytes <= p->scratch_cap) return true;
  size_t cap = p->scratch_cap ? p->scratch_cap : 256;
  while (cap < bytes) cap *= 2;
  char *grown = realloc(p->scratch, cap);
  if (!grown) {
    brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                  "JSON: no memory for a string of %zu bytes", bytes);
    return false;
  }
  p->scratch = grown;
  p->scratch_cap = cap;
  return true;
}

static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Reads 4 hex digits at s; -1 when they are not. */
static long read_hex4(const json_parser *p, const unsigned char *s) {
  if (p->end - s < 4) return -1;
  long value = 0;
  for (int i = 0; i < 4; i++) {
    int digit = hex_value(s[i]);
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/* Decodes the escapes of [s, end) into p->scratch (RFC 8259 §7; surrogates
 * must pair). The raw span was already checked for control characters and
 * UTF-8. */
static bool unescape(json_parser *p, const unsigned char *s, const unsigned char *end, size_t *out_len) {
  if (!scratch_reserve(p, (size_t)(end - s) + 1)) return false;
  char *out = p->scratch;
  size_t len = 0;
  while (s < end) {
    if (*s != '\\') {
      out[len++] = (char)*s++;
      continue;
    }
    const unsigned char *escape = s;
    s++;
    switch (*s++) {
    case '"': out[len++] = '"'; break;
    case '\\': out[len++] = '\\'; break;
    case '/': out[len++] = '/'; break;
    case 'b': out[len++] = '\b'; break;
    case 'f': out[len++] = '\f'; break;
    case 'n': out[len++] = '\n'; break;
    case 'r': out[len++] = '\r'; break;
    case 't': out[len++] = '\t'; break;
    case 'u': {
      long unit = read_hex4(p, s);
      if (unit < 0) return _brt_json_fail(p, escape, BRT_E_CONVERSION, "\\u must be followed by 4 hex digits"), false;
      s += 4;
      uint32_t code_point = (uint32_t)unit;
      if (unit >= 0xDC00 && unit <= 0xDFFF)
        return _brt_json_fail(p, escape, BRT_E_CONVERSION, "lone low surrogate \\u%04lX (not preceded by a high surrogate)", unit), false;
      if (unit >= 0xD800 && unit <= 0xDBFF) {
        long low = end - s >= 6 && s[0] == '\\' && s[1] == 'u' ? read_hex4(p, s + 2) : -1;
        if (low < 0xDC00 || low > 0xDFFF)
          return _brt_json_fail(p, escape, BRT_E_CONVERSION, "lone high surrogate \\u%04lX (not followed by a low surrogate \\uDC00..\\uDFFF)", unit), false;
        s += 6;
        code_point = 0x10000u + (((uint32_t)unit - 0xD800u) << 10) + ((uint32_t)low - 0xDC00u);
      }
      len += _brt_utf8_encode(code_point, out + len);
      break;
    }
    default:
      return _brt_json_fail(p, escape, BRT_E_CONVERSION, "invalid escape '\\%c' (allowed: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)",
                  escape[1] >= 0x20 && escape[1] < 0x7F ? escape[1] : '?'), false;
    }
  }
  *out_len = len;
  return true;
}

/* Reads a string at p->cur (on '"'): data and len point into the input (no
 * escapes) or into p->scratch (valid until the next string). */
static bool read_string(json_parser *p, const char **data, size_t *len) {
  const unsigned char *open = p->cur, *s = p->cur + 1, *end = p->end;
  bool has_escape = false, has_high = false;
  for (;;) {
    if (s >= end) return _brt_json_fail(p, open, BRT_E_CONVERSION, "unterminated string"), false;
    unsigned char c = *s;
    if (c == '"') break;
    if (c == '\\') {
      has_escape = true;
      s += 2;
      continue;
    }
    if (c < 0x20)
      return _brt_json_fail(p, s, BRT_E_CONVERSION, "control character U+%04X must be escaped inside a string", c), false;
    has_high |= c >= 0x80;
    s++;
  }
  const unsigned char *body = open + 1;
  size_t raw_len = (size_t)(s - body);
  if (has_high) {
    size_t bad = _brt_utf8_invalid_offset(body, raw_len);
    if (bad != raw_len)
      return _brt_json_fail(p, body + bad, BRT_E_CONVERSION, "invalid UTF-8 byte 0x%02X in a string (overlong, surrogate, truncated or out of range)", body[bad]), false;
  }
  if (has_escape) {
    if (!unescape(p, body, s, len)) return false;
    *data = p->scratch;
  } else {
    *data = (const char *)body;
    *len = raw_len;
  }
  if (*len > p->max_string)
    return _brt_json_fail(p, open, BRT_E_LIMIT_EXCEEDED, "a string of %zu bytes exceeds max_string (%zu)", *len, p->max_string), false;
  p->cur = s + 1;
  return true;
}

/* --- Values --------------------------------------------------------------------- */

static brt_value *parse_value(json_parser *p, const struct schema_node *guide);

static bool enter(json_parser *p) {
  if (p->depth >= p->max_depth) {
    _brt_json_fail(p, p->cur, BRT_E_LIMIT_EXCEEDED, "nesting deeper than max_depth (%u)", p->max_depth);
    return false;
  }
  p->path[p->depth++] = (path_step){NULL, 0, 0};
  return true;
}

static brt_value *parse_array(json_parser *p, const struct schema_node *items) {
  if (!enter(p)) return NULL;
  p->cur++;
  brt_value *array = brt_value_array(0);
  if (!array) return NULL;
  _brt_json_skip_whitespace(p);
  if (p->cur < p->end && *p->cur == ']') {
    p->cur++;
    p->depth--;
    return array;
  }
  for (size_t index = 0;; index++) {
    p->path[p->depth - 1].index = index;
    brt_value *item = parse_value(p, items);
    if (!item) goto failed;
    if (_brt_array_append(array, item) != BRT_OK) {
      brt_value_release(item);
      goto failed;
    }
    _brt_json_skip_whitespace(p);
    if (p->cur < p->end && *p->cur == ',') {
      p->cur++;
      continue;
    }
    if (p->cur < p->end && *p->cur == ']') break;
    _brt_json_fail(p, p->cur, BRT_E_CONVERSION,
         p->cur == p->end ? "unexpected end of input inside an array" : "expected ',' or ']' after an array element");
    goto failed;
  }
  p->cur++;
  p->depth--;
  return array;
failed:
  brt_value_release(array);
  return NULL;
}

static brt_value *parse_object(json_parser *p, const struct schema_node *guide) {
  if (!enter(p)) return NULL;
  p->cur++;
  brt_value *object = brt_value_object(0);
  if (!object) return NULL;
  _brt_json_skip_whitespace(p);
  if (p->cur < p->end && *p->cur == '}') {
    p->cur++;
    p->depth--;
    return object;
  }
  for (;;) {
    _brt_json_skip_whitespace(p);
    if (p->cur >= p->end || *p->cur != '"') {
      _brt_json_fail(p, p->cur, BRT_E_CONVERSION,
           p->cur == p->end ? "unexpected end of input inside an object" : "expected a string key in double quotes");
      goto failed;
    }
    const unsigned char *key_at = p->cur;
    const char *key_bytes;
    size_t key_len;
    if (!read_string(p, &key_bytes, &key_len)) goto failed;
    uint64_t hash = _brt_key_hash(key_bytes, key_len);
    size_t existing = _brt_object_find(object, key_bytes, key_len, hash);
    if (existing != SIZE_MAX && !(p->flags & BRT_JSON_DUPLICATE_LAST_WINS)) {
      _brt_json_fail(p, key_at, BRT_E_CONVERSION,
           "duplicate key \"%.*s\" (rejected by default: parsers disagree on which copy wins; pass "
           "BRT_JSON_DUPLICATE_LAST_WINS to keep the last)",
           key_len > 64 ? 64 : (int)key_len, key_bytes);
      goto failed;
    }
    brt_value *key = existing == SIZE_MAX ? _brt_value_string_trusted(key_bytes, key_len) : NULL;
    if (existing == SIZE_MAX && !key) goto failed;
    _brt_json_skip_whitespace(p);
    if (p->cur >= p->end || *p->cur != ':') {
      brt_value_release(key);
      _brt_json_fail(p, p->cur, BRT_E_CONVERSION, "expected ':' after an object key");
      goto failed;
    }
    p->cur++;
    const brt_value *named = key ? key : object->as.object.entries[existing].key;
    p->path[p->depth - 1] = (path_step){named->as.string.data, named->as.string.length, 0};
    brt_value *value = parse_value(p, guide ? _brt_schema_property(guide, named->as.string.data, named->as.string.length) : NULL);
    if (!value) {
      brt_value_release(key);
      goto failed;
    }
    if (key) {
      if (_brt_object_append(object, key, hash, value) != BRT_OK) {
        brt_value_release(key);
        brt_value_release(value);
        goto failed;
      }
    } else {
      _brt_object_replace(object, existing, value);
    }
    _brt_json_skip_whitespace(p);
    if (p->cur < p->end && *p->cur == ',') {
      p->cur++;
      continue;
    }
    if (p->cur < p->end && *p->cur == '}') break;
    _brt_json_fail(p, p->cur, BRT_E_CONVERSION,
         p->cur == p->end ? "unexpected end of input inside an object" : "expected ',' or '}' after an object member");
    goto failed;
  }
  p->cur++;
  p->depth--;
  return object;
failed:
  brt_value_release(object);
  return NULL;
}

static brt_value *parse_literal(json_parser *p) {
  if (literal_follows(p, "true", 4)) {
    p->cur += 4;
    return brt_value_bool(1);
  }
  if (literal_follows(p, "false", 5)) {
    p->cur += 5;
    return brt_value_bool(0);
  }
  if (literal_follows(p, "null", 4)) {
    p->cur += 4;
    return brt_value_null();
  }
  return _brt_json_fail(p, p->cur, BRT_E_CONVERSION, "expected a value (true, false or null?)");
}

static brt_value *parse_value(json_parser *p, const struct schema_node *guide) {
  _brt_json_skip_whitespace(p);
  if (p->cur >= p->end) return _brt_json_fail(p, p->cur, BRT_E_CONVERSION, "unexpected end of input, expected a value");
  switch (*p->cur) {
  case '{':
    return parse_object(p, guide);
  case '[': {
    int dtype = guide ? _brt_schema_tensor_dtype(guide) : -1;
    if (dtype < 0 && (p->flags & BRT_JSON_TENSORS) && _brt_json_tensor_requested(p)) dtype = (int)p->tensor_dtype;
    if (dtype >= 0) return _brt_json_parse_tensor(p, (brt_dtype)dtype);
    return parse_array(p, guide ? _brt_schema_items(guide) : NULL);
  }
  case '"': {
    const char *data;
    size_t len;
    if (!read_string(p, &data, &len)) return NULL;
    return _brt_value_string_trusted(data, len);
  }
  case 't': case 'f': case 'n':
    return parse_literal(p);
  case '-': case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7':
  case '8': case '9': {
    bool is_integer;
    int64_t integer;
    double number;
    if (!_brt_json_read_number(p, &is_integer, &integer, &number)) return NULL;
    return is_integer ? brt_value_int(integer) : brt_value_float(number);
  }
  default:
    if (p->cur[0] == 0xEF && p->end - p->cur >= 3 && p->cur[1] == 0xBB && p->cur[2] == 0xBF && p->cur == p->begin)
      return _brt_json_fail(p, p->cur, BRT_E_CONVERSION, "byte order mark (U+FEFF) at the start: RFC 8259 forbids it in JSON text");
    if (*p->cur > 0x20 && *p->cur < 0x7F)
      return _brt_json_fail(p, p->cur, BRT_E_CONVERSION, "unexpected character '%c', expected a value", *p->cur);
    return _brt_json_fail(p, p->cur, BRT_E_CONVERSION, "unexpected byte 0x%02X, expected a value", *p->cur);
  }
}

/* --- Entry points ------------------------------------------------------------------ */

void brt_json_options_default(brt_json_options *options) {
  if (!options) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_json_options_default: options is NULL");
    return;
  }
  *options = (brt_json_options){.struct_size = sizeof *options,
                                .flags = 0,
                                .max_depth = BRT_JSON_DEFAULT_MAX_DEPTH,
                                .max_input = BRT_JSON_DEFAULT_MAX_INPUT,
                                .max_string = BRT_JSON_DEFAULT_MAX_STRING,
                                .tensor_dtype = BRT_DTYPE_F64};
}

static bool options_valid(const brt_json_options *options) {
  if (options->struct_size < sizeof *options)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_value_from_json_ex: options->struct_size is %u, expected %zu (use "
                         "brt_json_options_default)", options->struct_size, sizeof *options), false;
  if (options->max_depth < 1 || options->max_depth > BRT_VALUE_MAX_DEPTH)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_value_from_json_ex: options->max_depth is %u, expected 1..%d",
                         options->max_depth, BRT_VALUE_MAX_DEPTH), false;
  if (brt_dtype_size(options->tensor_dtype) == 0)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_value_from_json_ex: options->tensor_dtype %d is not a brt_dtype",
                         (int)options->tensor_dtype), false;
  return true;
}

brt_value *_brt_json_parse(const char *text, size_t len, const brt_json_options *options,
                           const struct schema_node *guide, brt_json_location *error_at) {
  brt_json_options defaults;
  if (!options) {
    brt_json_options_default(&defaults);
    options = &defaults;
  }
  if (!options_valid(options)) return NULL;
  if (!text) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_value_from_json: text is NULL");
    return NULL;
  }
  if (len > options->max_input) {
    brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                  "brt_value_from_json: the text has %zu bytes, more than max_input (%zu)", len,
                  options->max_input);
    return NULL;
  }
  json_parser p = {.begin = (const unsigned char *)text,
              .cur = (const unsigned char *)text,
              .end = (const unsigned char *)text + len,
              .flags = options->flags,
              .max_depth = options->max_depth,
              .max_string = options->max_string,
              .tensor_dtype = options->tensor_dtype,
              .error_at = error_at};
  p.path = malloc(sizeof(path_step) * (options->max_depth + 1u));
  if (!p.path) {
    brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL, "brt_value_from_json: no memory for the parser");
    return NULL;
  }
  brt_value *value = parse_value(&p, guide);
  if (value) {
    _brt_json_skip_whitespace(&p);
    if (p.cur != p.end) {
      _brt_json_fail(&p, p.cur, BRT_E_CONVERSION, "unexpected text after the JSON value");
      brt_value_release(value);
      value = NULL;
    }
  }
  free(p.path);
  free(p.scratch);
  return value;
}

brt_value *brt_value_from_json_ex(const char *text, size_t len, const brt_json_options *options,
                                  brt_json_location *error_at) {
  return _brt_json_parse(text, len, options, NULL, error_at);
}

brt_value *brt_value_from_json(const char *text, size_t len, unsigned flags) {
  brt_json_options options;
  brt_json_options_default(&options);
  options.flags = flags;
  return _brt_json_parse(text, len, &options, NULL, NULL);
}
