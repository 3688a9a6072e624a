/* The native signature grammar and its libffi call interface.
 *
 *   signature := type "(" [ type { "," type } ] ")"      (blanks allowed)
 *   type      := void | i8 | i16 | i32 | i64 | u8 | u16 | u32 | u64
 *              | f32 | f64 | bool | ptr | str
 * "void" is a return type, or the whole argument list ("(void)"). Parsed once
 * at registration; the ffi_cif is prepared then, so a call pays nothing for
 * it. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  ffi_type *ffi;
  size_t size;
} native_types[BRT_NT_COUNT] = {
    [BRT_NT_VOID] = {"void", &ffi_type_void, 0},
    [BRT_NT_I8] = {"i8", &ffi_type_sint8, 1},
    [BRT_NT_I16] = {"i16", &ffi_type_sint16, 2},
    [BRT_NT_I32] = {"i32", &ffi_type_sint32, 4},
    [BRT_NT_I64] = {"i64", &ffi_type_sint64, 8},
    [BRT_NT_U8] = {"u8", &ffi_type_uint8, 1},
    [BRT_NT_U16] = {"u16", &ffi_type_uint16, 2},
    [BRT_NT_U32] = {"u32", &ffi_type_uint32, 4},
    [BRT_NT_U64] = {"u64", &ffi_type_uint64, 8},
    [BRT_NT_F32] = {"f32", &ffi_type_float, 4},
    [BRT_NT_F64] = {"f64", &ffi_type_double, 8},
    [BRT_NT_BOOL] = {"bool", &ffi_type_uint8, sizeof(_Bool)},
    [BRT_NT_PTR] = {"ptr", &ffi_type_pointer, sizeof(void *)},
    [BRT_NT_STR] = {"str", &ffi_type_pointer, sizeof(char *)},
};

typedef struct cursor {
  const char *text, *at;
} cursor;

static void skip_blanks(cursor *c) {
  while (*c->at == ' ' || *c->at == '\t') c->at++;
}

static brt_status syntax_error(const cursor *c, const char *expected) {
  const char *at = c->at;
  return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                       "signature \"%s\": at offset %zu (\"%.12s\"): expected %s", c->text,
                       (size_t)(at - c->text), *at ? at : "end of text", expected);
}

#define TYPE_LIST "one of void, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, bool, ptr, str"

static brt_status parse_type(cursor *c, brt_native_type *out) {
  skip_blanks(c);
  size_t len = 0;
  while ((c->at[len] >= 'a' && c->at[len] <= 'z') || (c->at[len] >= '0' && c->at[len] <= '9'))
    len++;
  for (int t = 0; t < BRT_NT_COUNT; t++) {
    if (strlen(native_types[t].name) == len && memcmp(native_types[t].name, c->at, len) == 0) {
      *out = (brt_native_type)t;
      c->at += len;
      skip_blanks(c);
      return BRT_OK;
    }
  }
  return syntax_error(c, "a type, " TYPE_LIST);
}

static bool expect_char(cursor *c, char ch) {
  skip_blanks(c);
  if (*c->at != ch) return false;
  c->at++;
  skip_blanks(c);
  return true;
}

static void canonical_text(brt_signature *sig) {
  size_t used = (size_t)snprintf(sig->text, sizeof sig->text, "%s(", native_types[sig->ret].name);
  for (uint32_t i = 0; i < sig->arg_count && used < sizeof sig->text; i++)
    used += (size_t)snprintf(sig->text + used, sizeof sig->text - used, "%s%s", i ? "," : "",
                             native_types[sig->args[i]].name);
  if (used < sizeof sig->text) snprintf(sig->text + used, sizeof sig->text - used, ")");
}

brt_status _brt_bridge_signature_parse(const char *text, brt_signature *sig) {
  if (!text)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "signature is NULL: a native_fn needs one, e.g. \"f64(ptr,u64)\"");
  if (strlen(text) > 1024)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "signature is %zu bytes long; at most 1024 expected", strlen(text));
  memset(sig, 0, sizeof *sig);
  cursor c = {text, text};
  brt_status status = parse_type(&c, &sig->ret);
  if (status != BRT_OK) return status;
  if (!expect_char(&c, '(')) return syntax_error(&c, "'(' after the return type");
  if (!expect_char(&c, ')')) {
    for (;;) {
      brt_native_type type;
      const char *type_at = c.at;
      status = parse_type(&c, &type);
      if (status != BRT_OK) return status;
      if (type == BRT_NT_VOID) {
        /* "(void)" is the empty list; void anywhere else is no argument type. */
        if (sig->arg_count == 0 && expect_char(&c, ')')) break;
        c.at = type_at;
        return syntax_error(&c, "an argument type (void is allowed only as \"(void)\")");
      }
      if (sig->arg_count == BRT_SIGNATURE_MAX_ARGS)
        return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                             "signature \"%s\" has more than %d arguments", text,
                             BRT_SIGNATURE_MAX_ARGS);
      sig->args[sig->arg_count++] = type;
      if (expect_char(&c, ')')) break;
      if (!expect_char(&c, ',')) return syntax_error(&c, "',' or ')' after an argument type");
    }
  }
  if (*c.at != '\0') return syntax_error(&c, "the end of the signature after ')'");

  for (uint32_t i = 0; i < sig->arg_count; i++) sig->ffi_args[i] = native_types[sig->args[i]].ffi;
  sig->ret_size = native_types[sig->ret].size;
  sig->ret_needs_widening = sig->ret != BRT_NT_VOID && sig->ret_size < sizeof(ffi_arg);
  ffi_status prepared = ffi_prep_cif(&sig->cif, FFI_DEFAULT_ABI, sig->arg_count,
                                     native_types[sig->ret].ffi, sig->ffi_args);
  if (prepared != FFI_OK)
    return brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL,
                         "ffi_prep_cif failed (%d) for the valid signature \"%s\"", (int)prepared,
                         text);
  canonical_text(sig);
  return BRT_OK;
}
