/* bridgert call: reads the parameters (--params, --params -, --params-file),
 * checks that they are JSON (reporting line and column), and calls the
 * algorithm: a value one with brt_call_json, a native one through
 * brt_prepare/brt_invoke with its arguments converted from a JSON array by
 * its signature. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <errno.h>
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

/* Checks that params are JSON with bridgert's own parser (the one
 * brt_call_json uses), whose error names the line, the column and what was
 * expected; then parses them with cJSON for the native path. */
static cJSON *parse_params(const char *text, size_t length, const char *what, int *code) {
  brt_value *value = brt_value_from_json(text, length, 0);
  if (!value) {
    const char *message = brt_error_message(brt_last_error());
    if (strncmp(message, "JSON: ", 6) == 0) message += 6;
    fprintf(stderr, "bridgert call: %s is not valid JSON: %s\n", what, message);
    *code = brt_error_code(brt_last_error()) == BRT_E_CONVERSION ? CLI_EXIT_DATA
                                                                  : cli_exit_code(brt_error_code(brt_last_error()));
    return NULL;
  }
  brt_value_release(value);
  cJSON *json = cJSON_ParseWithLength(text, length);
  if (!json) {
    fprintf(stderr, "bridgert call: %s could not be read (out of memory?)\n", what);
    *code = CLI_EXIT_TEMPORARY;
  }
  return json;
}

/* --- Native calls -------------------------------------------------------------- */

typedef union native_slot {
  int8_t i8; int16_t i16; int32_t i32; int64_t i64;
  uint8_t u8; uint16_t u16; uint32_t u32; uint64_t u64;
  float f32; double f64; bool b; const char *str; void *ptr;
} native_slot;

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

static int convert_argument(const char *name, int index, const char *type, const cJSON *value,
                            native_slot *slot) {
  if (strcmp(type, "ptr") == 0)
    return argument_error(name, index, type,
                          "a memory address, which cannot be given on the command line; call "
                          "this algorithm from code");
  if (strcmp(type, "bool") == 0) {
    if (!cJSON_IsBool(value)) return argument_error(name, index, type, "true or false");
    slot->b = cJSON_IsTrue(value);
    return 0;
  }
  if (strcmp(type, "str") == 0) {
    if (!cJSON_IsString(value)) return argument_error(name, index, type, "a string");
    slot->str = value->valuestring;
    return 0;
  }
  if (!cJSON_IsNumber(value)) return argument_error(name, index, type, "a number");
  double number = value->valuedouble;
  if (strcmp(type, "f64") == 0) slot->f64 = number;
  else if (strcmp(type, "f32") == 0) slot->f32 = (float)number;
  else {
    bool is_signed = type[0] == 'i';
    int bits = atoi(type + 1);
    double low = is_signed ? -ldexp(1, bits - 1) : 0, high = is_signed ? ldexp(1, bits - 1) : ldexp(1, bits);
    if (number != floor(number) || number < low || number >= high) {
      char expected[96];
      snprintf(expected, sizeof expected, "an integer in [%.0f, %.0f], got %.17g", low, high - 1, number);
      return argument_error(name, index, type, expected);
    }
    switch (bits * (is_signed ? -1 : 1)) {
      case -8: slot->i8 = (int8_t)number; break;
      case -16: slot->i16 = (int16_t)number; break;
      case -32: slot->i32 = (int32_t)number; break;
      case -64: slot->i64 = (int64_t)number; break;
      case 8: slot->u8 = (uint8_t)number; break;
      case 16: slot->u16 = (uint16_t)number; break;
      case 32: slot->u32 = (uint32_t)number; break;
      default: slot->u64 = (uint64_t)number; break;
    }
  }
  return 0;
}

static void print_native_result(const char *type, const native_slot *ret) {
  if (strcmp(type, "void") == 0) printf("null\n");
  else if (strcmp(type, "f64") == 0) printf("%.17g\n", ret->f64);
  else if (strcmp(type, "f32") == 0) printf("%.9g\n", (double)ret->f32);
  else if (strcmp(type, "bool") == 0) printf("%s\n", ret->b ? "true" : "false");
  else if (strcmp(type, "ptr") == 0) printf("\"%p\"\n", ret->ptr);
  else if (strcmp(type, "str") == 0) {
    cJSON *string = cJSON_CreateString(ret->str ? ret->str : "");
    char *text = string ? cJSON_PrintUnformatted(string) : NULL;
    printf("%s\n", ret->str && text ? text : "null");
    cJSON_free(text);
    cJSON_Delete(string);
  } else if (type[0] == 'i') {
    long long v = strcmp(type, "i8") == 0 ? ret->i8 : strcmp(type, "i16") == 0 ? ret->i16
                : strcmp(type, "i32") == 0 ? ret->i32 : ret->i64;
    printf("%lld\n", v);
  } else {
    unsigned long long v = strcmp(type, "u8") == 0 ? ret->u8 : strcmp(type, "u16") == 0 ? ret->u16
                         : strcmp(type, "u32") == 0 ? ret->u32 : ret->u64;
    printf("%llu\n", v);
  }
}

static int call_native(brt_runtime *rt, const cli_options *options, const char *text,
                       size_t length, const char *what) {
  brt_prepared *prepared = brt_prepare(rt, options->name);
  if (!prepared) {
    char context[256];
    snprintf(context, sizeof context, "call '%.128s' failed", options->name);
    cli_print_error(context);
    return cli_exit_code(brt_error_code(brt_last_error()));
  }
  int code = CLI_EXIT_OK;
  cJSON *params = parse_params(text, length, what, &code);
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
  if (params && !cJSON_IsArray(params)) {
    fprintf(stderr, "bridgert call: '%s' is native (%s): its parameters are a JSON array of the "
                    "arguments, e.g. --params '[1, 2]'\n", options->name, signature);
    code = CLI_EXIT_DATA;
  } else if (params && cJSON_GetArraySize(params) != count) {
    fprintf(stderr, "bridgert call: '%s' (%s) takes %d argument%s, %d given\n", options->name,
            signature, count, count == 1 ? "" : "s", cJSON_GetArraySize(params));
    code = CLI_EXIT_DATA;
  }
  for (int i = 0; params && !code && i < count; i++) {
    code = convert_argument(options->name, i, types[i], cJSON_GetArrayItem(params, i), &slots[i]);
    args[i] = &slots[i];
  }
  if (params && !code) {
    brt_status status = brt_invoke(prepared, &ret, args);
    if (status == BRT_OK) {
      print_native_result(return_type, &ret);
    } else {
      char context[256];
      snprintf(context, sizeof context, "call '%.128s' failed", options->name);
      cli_print_error(context);
      code = cli_exit_code(status);
    }
  }
  cJSON_Delete(params);
  brt_prepared_free(prepared);
  return code;
}

/* --- Value calls ------------------------------------------------------------------ */

static int call_value(brt_runtime *rt, const cli_options *options, const char *text,
                      size_t length, const char *what) {
  int code = CLI_EXIT_OK;
  cJSON *params = parse_params(text, length, what, &code);
  if (!params) return code;
  cJSON_Delete(params);
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
