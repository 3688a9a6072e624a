/* The configuration's strict JSON reader (see internal.h for why it is
 * its own). */
#include "internal.h"

#include "bridgert/error.h"
#include "core/utf8.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct jreader {
  const char *text;
  size_t len, pos;
  const char *problem; /* why reading stopped at pos */
  bool out_of_memory;
} jreader;

void _brt_config_jvalue_free(jvalue *v) {
  while (v) { /* siblings in a loop; children recurse at most JSON_MAX_DEPTH deep */
    jvalue *next = v->next;
    _brt_config_jvalue_free(v->child);
    free(v->key);
    free(v->str);
    free(v);
    v = next;
  }
}

static bool jfail(jreader *r, const char *problem) {
  if (!r->problem) r->problem = problem;
  return false;
}

static int jpeek(const jreader *r) {
  return r->pos < r->len ? (unsigned char)r->text[r->pos] : -1;
}

static void jskip_space(jreader *r) {
  while (r->pos < r->len && strchr(" \t\r\n", r->text[r->pos]) && r->text[r->pos]) r->pos++;
}

static int hex_digit(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Four hex digits after "\u" at r->pos. */
static bool jread_hex4(jreader *r, unsigned *out) {
  unsigned value = 0;
  for (int i = 0; i < 4; i++) {
    int digit = r->pos < r->len ? hex_digit((unsigned char)r->text[r->pos]) : -1;
    if (digit < 0) return jfail(r, "a \\u escape needs four hexadecimal digits");
    value = value * 16 + (unsigned)digit;
    r->pos++;
  }
  *out = value;
  return true;
}

/* The string whose opening quote is at r->pos, decoded into a new buffer
 * (a decoded string is never longer than its JSON form). */
static bool jread_string(jreader *r, char **out, size_t *out_len) {
  size_t end = ++r->pos; /* find the closing quote first, to size the buffer */
  while (end < r->len && r->text[end] != '"') end += r->text[end] == '\\' ? 2 : 1;
  if (end >= r->len) {
    r->pos = r->len;
    return jfail(r, "the string does not end (a '\"' is missing)");
  }
  char *buf = malloc(end - r->pos + 1);
  if (!buf) {
    r->out_of_memory = true;
    return jfail(r, "out of memory");
  }
  size_t n = 0;
  while (r->pos < end) {
    unsigned char c = (unsigned char)r->text[r->pos];
    if (c < 0x20) {
      free(buf);
      return jfail(r, "a control character inside a string (write it as an escape)");
    }
    if (c >= 0x80) {
      size_t k = _brt_utf8_sequence((const unsigned char *)r->text + r->pos, end - r->pos);
      if (!k) {
        free(buf);
        return jfail(r, "bytes that are not UTF-8 inside a string");
      }
      memcpy(buf + n, r->text + r->pos, k);
      n += k;
      r->pos += k;
      continue;
    }
    r->pos++;
    if (c != '\\') {
      buf[n++] = (char)c;
      continue;
    }
    char e = r->text[r->pos]; /* r->pos < end: a '\' never comes last */
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *simple = e ? strchr(from, e) : NULL;
    if (simple) {
      buf[n++] = to[simple - from];
      r->pos++;
      continue;
    }
    if (e != 'u') {
      free(buf);
      return jfail(r, "an unknown escape (JSON has \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
    }
    r->pos++;
    unsigned cp, low;
    if (!jread_hex4(r, &cp)) {
      free(buf);
      return false;
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) {
      free(buf);
      return jfail(r, "a \\u escape of a lone low surrogate");
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (r->pos + 2 > end || r->text[r->pos] != '\\' || r->text[r->pos + 1] != 'u') {
        free(buf);
        return jfail(r, "a high surrogate escape without its low surrogate");
      }
      r->pos += 2;
      if (!jread_hex4(r, &low)) {
        free(buf);
        return false;
      }
      if (low < 0xDC00 || low > 0xDFFF) {
        free(buf);
        return jfail(r, "a high surrogate escape without its low surrogate");
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    n += _brt_utf8_encode(cp, buf + n);
  }
  buf[n] = '\0';
  r->pos = end + 1;
  *out = buf;
  *out_len = n;
  return true;
}

static bool jread_literal(jreader *r, const char *word) {
  size_t len = strlen(word);
  if (r->len - r->pos < len || memcmp(r->text + r->pos, word, len) != 0)
    return jfail(r, "a value expected (a string, number, object, array, true, false or null)");
  r->pos += len;
  return true;
}

#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')

static bool jread_number(jreader *r, jvalue *v) {
  size_t start = r->pos;
  if (jpeek(r) == '-') r->pos++;
  if (jpeek(r) == '0') {
    r->pos++;
    if (IS_DIGIT(jpeek(r))) return jfail(r, "a number with a leading zero");
  } else if (IS_DIGIT(jpeek(r))) {
    while (IS_DIGIT(jpeek(r))) r->pos++;
  } else {
    return jfail(r, "a digit expected");
  }
  if (jpeek(r) == '.') {
    r->pos++;
    if (!IS_DIGIT(jpeek(r))) return jfail(r, "a digit expected after the decimal point");
    while (IS_DIGIT(jpeek(r))) r->pos++;
  }
  if (jpeek(r) == 'e' || jpeek(r) == 'E') {
    r->pos++;
    if (jpeek(r) == '+' || jpeek(r) == '-') r->pos++;
    if (!IS_DIGIT(jpeek(r))) return jfail(r, "a digit expected in the exponent");
    while (IS_DIGIT(jpeek(r))) r->pos++;
  }
  v->num = r->text + start;
  v->num_len = r->pos - start;
  return true;
}

static jvalue *jread_value(jreader *r, unsigned depth);

/* The members of an object or the elements of an array (r->pos at the
 * opening bracket). */
static bool jread_container(jreader *r, jvalue *v, unsigned depth) {
  bool object = v->kind == J_OBJECT;
  char close = object ? '}' : ']';
  r->pos++;
  jskip_space(r);
  if (jpeek(r) == close) {
    r->pos++;
    return true;
  }
  jvalue **tail = &v->child;
  for (;;) {
    char *key = NULL;
    size_t key_len = 0;
    if (object) {
      jskip_space(r);
      if (jpeek(r) != '"') return jfail(r, "a key expected (a string in double quotes)");
      if (!jread_string(r, &key, &key_len)) return false;
      jskip_space(r);
      if (jpeek(r) != ':') {
        free(key);
        return jfail(r, "':' expected after the key");
      }
      r->pos++;
    }
    jvalue *item = jread_value(r, depth + 1);
    if (!item) {
      free(key);
      return false;
    }
    item->key = key;
    item->key_len = key_len;
    *tail = item;
    tail = &item->next;
    jskip_space(r);
    int c = jpeek(r);
    if (c == ',') {
      r->pos++;
      continue;
    }
    if (c == close) {
      r->pos++;
      return true;
    }
    return jfail(r, object ? "',' or '}' expected after a member" : "',' or ']' expected after an element");
  }
}

/* The value at r->pos (after white space), or NULL with r->problem set. */
static jvalue *jread_value(jreader *r, unsigned depth) {
  jskip_space(r);
  int c = jpeek(r);
  if (c < 0) {
    jfail(r, "a value expected");
    return NULL;
  }
  jvalue *v = calloc(1, sizeof *v);
  if (!v) {
    r->out_of_memory = true;
    jfail(r, "out of memory");
    return NULL;
  }
  bool ok;
  switch (c) {
    case '{':
    case '[':
      v->kind = c == '{' ? J_OBJECT : J_ARRAY;
      ok = depth < JSON_MAX_DEPTH ? jread_container(r, v, depth)
                                  : jfail(r, "objects and arrays nested deeper than 64 levels");
      break;
    case '"':
      v->kind = J_STRING;
      ok = jread_string(r, &v->str, &v->str_len);
      break;
    case 't':
      v->kind = J_TRUE;
      ok = jread_literal(r, "true");
      break;
    case 'f':
      v->kind = J_FALSE;
      ok = jread_literal(r, "false");
      break;
    case 'n':
      v->kind = J_NULL;
      ok = jread_literal(r, "null");
      break;
    default:
      v->kind = J_NUMBER;
      ok = c == '-' || IS_DIGIT(c)
               ? jread_number(r, v)
               : jfail(r, "a value expected (a string, number, object, array, true, false or null)");
  }
  if (!ok) {
    _brt_config_jvalue_free(v);
    return NULL;
  }
  return v;
}

/* Line and column (in characters) of a byte offset. */
static void position_of(const char *text, size_t offset, int *line, int *column) {
  *line = 1;
  *column = 1;
  for (size_t i = 0; i < offset; i++) {
    if (text[i] == '\n') {
      ++*line;
      *column = 1;
    } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
      ++*column;
    }
  }
}

/* Reads one JSON value filling the whole text (white space around it). */
brt_status _brt_config_json_read(const char *text, size_t len, const char *source, jvalue **out) {
  jreader r = {.text = text, .len = len};
  jvalue *root = NULL;
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
    jfail(&r, "the text starts with a UTF-8 byte order mark; save it without one");
  else if ((root = jread_value(&r, 0)) != NULL) {
    jskip_space(&r);
    if (r.pos < len) {
      jfail(&r, "only white space may follow the value");
      _brt_config_jvalue_free(root);
      root = NULL;
    }
  }
  if (r.out_of_memory)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL, "%s: out of memory reading it",
                         source);
  if (!root) {
    int line, column;
    position_of(text, r.pos, &line, &column);
    char excerpt[24] = "";
    size_t n = 0;
    for (size_t i = r.pos; i < len && n < 20 && text[i] != '\n'; i++)
      excerpt[n++] = isprint((unsigned char)text[i]) ? text[i] : '?';
    excerpt[n] = '\0';
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: malformed JSON at line %d, column %d: %s (near \"%s\")", source, line,
                         column, r.problem, r.pos >= len ? "end of input" : excerpt);
  }
  *out = root;
  return BRT_OK;
}

const char *_brt_config_json_kind(const jvalue *v) {
  switch (v->kind) {
    case J_NULL: return "null";
    case J_FALSE:
    case J_TRUE: return "a boolean";
    case J_NUMBER: return "a number";
    case J_STRING: return "a string";
    case J_ARRAY: return "an array";
    case J_OBJECT: return "an object";
  }
  return "an invalid value";
}

