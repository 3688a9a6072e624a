/* A growable text buffer for the exporters, and the texts they hand out.
 *
 * Every text the monitor returns is a managed block (bridgert's allocator,
 * BRT_MEM_C_HEAP) made here, freed with brt_release or
 * brt_monitor_text_free. The text is built in malloc'ed memory and copied
 * once at the end, so a growing buffer never charges the allocator's limit
 * more than the final text does. */
#include "internal.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(text_buffer *buffer, size_t more) {
  if (buffer->failed) return false;
  size_t needed = buffer->length + more + 1;
  if (needed <= buffer->capacity) return true;
  size_t capacity = buffer->capacity ? buffer->capacity : 4096;
  while (capacity < needed) capacity *= 2;
  char *grown = realloc(buffer->data, capacity);
  if (!grown) {
    buffer->failed = true;
    return false;
  }
  buffer->data = grown;
  buffer->capacity = capacity;
  return true;
}

void _brt_text_append(text_buffer *buffer, const char *bytes, size_t length) {
  if (!reserve(buffer, length)) return;
  memcpy(buffer->data + buffer->length, bytes, length);
  buffer->length += length;
  buffer->data[buffer->length] = '\0';
}

void _brt_text_printf(text_buffer *buffer, const char *format, ...) {
  char small[256];
  va_list args;
  va_start(args, format);
  int length = vsnprintf(small, sizeof small, format, args);
  va_end(args);
  if (length < 0) {
    buffer->failed = true;
    return;
  }
  if ((size_t)length < sizeof small) {
    _brt_text_append(buffer, small, (size_t)length);
    return;
  }
  if (!reserve(buffer, (size_t)length)) return;
  va_start(args, format);
  vsnprintf(buffer->data + buffer->length, (size_t)length + 1, format, args);
  va_end(args);
  buffer->length += (size_t)length;
}

void _brt_text_label_value(text_buffer *buffer, const char *value) {
  for (const char *p = value; *p; p++) {
    switch (*p) {
      case '\\': _brt_text_append(buffer, "\\\\", 2); break;
      case '"': _brt_text_append(buffer, "\\\"", 2); break;
      case '\n': _brt_text_append(buffer, "\\n", 2); break;
      default: _brt_text_append(buffer, p, 1);
    }
  }
}

void _brt_text_seconds(text_buffer *buffer, uint64_t ns) {
  uint64_t whole = ns / 1000000000u, fraction = ns % 1000000000u;
  if (fraction == 0) {
    _brt_text_printf(buffer, "%llu", (unsigned long long)whole);
    return;
  }
  char digits[10];
  snprintf(digits, sizeof digits, "%09llu", (unsigned long long)fraction);
  size_t length = 9;
  while (digits[length - 1] == '0') length--;
  digits[length] = '\0';
  _brt_text_printf(buffer, "%llu.%s", (unsigned long long)whole, digits);
}

brt_status _brt_text_finish(text_buffer *buffer, const char *what, char **out) {
  brt_status status = BRT_OK;
  char *text = NULL;
  if (!buffer->failed && reserve(buffer, 0)) {
    text = brt_alloc(buffer->length + 1, 1, BRT_MEM_C_HEAP, 0);
    if (text) {
      memcpy(text, buffer->data, buffer->length + 1);
    } else {
      /* brt_alloc records on every NULL (OUT_OF_MEMORY, or LIMIT_EXCEEDED
       * under max_memory): its code, with this as the context. */
      brt_status cause = brt_error_code(brt_last_error());
      status = brt_error_wrap(cause != BRT_OK ? cause : BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                              "%s: no managed block for the %zu-byte text", what,
                              buffer->length + 1);
    }
  } else {
    status = brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                           "%s: out of memory after %zu bytes", what, buffer->length);
  }
  free(buffer->data);
  buffer->data = NULL;
  if (status == BRT_OK) *out = text;
  return status;
}

brt_status _brt_text_from_json(const cJSON *json, const char *what, char **out) {
  /* Copied, because cJSON's allocator may have been replaced by its hooks. */
  char *printed = json ? cJSON_Print(json) : NULL;
  text_buffer buffer = {0};
  if (printed) _brt_text_append(&buffer, printed, strlen(printed));
  else buffer.failed = true;
  cJSON_free(printed);
  return _brt_text_finish(&buffer, what, out);
}

void brt_monitor_text_free(char *text) {
  if (text) (void)brt_release(text);
}
