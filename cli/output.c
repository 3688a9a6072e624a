/* Human output: durations and sizes with units, aligned tables, errors with
 * their causes, and the exit code of a failure. */
#include "cli.h"
#include "core/utf8.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void cli_format_duration(char *buf, size_t size, double ns) {
  if (ns < 1000) snprintf(buf, size, "%.0f ns", ns);
  else if (ns < 1e6) snprintf(buf, size, "%.1f \xC2\xB5s", ns / 1e3);
  else if (ns < 1e9) snprintf(buf, size, "%.2f ms", ns / 1e6);
  else snprintf(buf, size, "%.2f s", ns / 1e9);
}

void cli_format_bytes(char *buf, size_t size, double bytes) {
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) {
    snprintf(buf, size, "%.0f B", bytes);
    return;
  }
  int unit = -1;
  while (bytes >= 1024 && unit < 3) {
    bytes /= 1024;
    unit++;
  }
  snprintf(buf, size, bytes < 10 ? "%.2f %s" : "%.1f %s", bytes, units[unit]);
}

struct cli_table {
  size_t columns, rows, capacity;
  char **cells; /* rows * columns, row 0 the headers */
};

/* Display width: one column a character (no wide characters in tables). */
static size_t display_width(const char *text) { return _brt_utf8_count(text, strlen(text)); }

cli_table *cli_table_new(size_t columns, const char *const *headers) {
  cli_table *table = calloc(1, sizeof *table);
  if (!table) return NULL;
  table->columns = columns;
  if (!cli_table_add(table, headers)) {
    free(table);
    return NULL;
  }
  return table;
}

bool cli_table_add(cli_table *table, const char *const *cells) {
  if (table->rows == table->capacity) {
    size_t capacity = table->capacity ? table->capacity * 2 : 8;
    char **grown = realloc(table->cells, capacity * table->columns * sizeof *grown);
    if (!grown) return false;
    table->cells = grown;
    table->capacity = capacity;
  }
  char **row = table->cells + table->rows * table->columns;
  for (size_t i = 0; i < table->columns; i++) {
    row[i] = strdup(cells[i] ? cells[i] : "");
    if (!row[i]) {
      while (i--) free(row[i]);
      return false;
    }
  }
  table->rows++;
  return true;
}

void cli_table_print(const cli_table *table, FILE *out) {
  size_t widths[16] = {0};
  size_t columns = table->columns < 16 ? table->columns : 16;
  for (size_t r = 0; r < table->rows; r++)
    for (size_t c = 0; c < columns; c++) {
      size_t width = display_width(table->cells[r * table->columns + c]);
      if (width > widths[c]) widths[c] = width;
    }
  for (size_t r = 0; r < table->rows; r++) {
    for (size_t c = 0; c < columns; c++) {
      const char *cell = table->cells[r * table->columns + c];
      bool last = c + 1 == columns;
      fputs(cell, out);
      if (!last)
        for (size_t pad = display_width(cell); pad < widths[c] + 2; pad++) fputc(' ', out);
    }
    fputc('\n', out);
  }
}

void cli_table_free(cli_table *table) {
  if (!table) return;
  for (size_t i = 0; i < table->rows * table->columns; i++) free(table->cells[i]);
  free(table->cells);
  free(table);
}

static void print_error_fields(FILE *out, const brt_error *error, const char *indent) {
  fprintf(out, "%scode:    %s\n", indent, brt_status_name(brt_error_code(error)));
  fprintf(out, "%sorigin:  %s\n", indent, brt_origin_name(brt_error_origin(error)));
  if (brt_error_type(error)) fprintf(out, "%stype:    %s\n", indent, brt_error_type(error));
  if (brt_error_os_code(error))
    fprintf(out, "%sos code: %d (%s)\n", indent, brt_error_os_code(error),
            brt_error_os_category(error) ? brt_error_os_category(error) : "generic");
  for (unsigned i = 0; i < 2; i++)
    if (brt_error_path(error, i)) fprintf(out, "%spath:    %s\n", indent, brt_error_path(error, i));
  fprintf(out, "%smessage: %s\n", indent, brt_error_message(error));
}

void cli_describe_error(FILE *out, const brt_error *error) {
  if (!error) return;
  print_error_fields(out, error, "  ");
  int depth = 1;
  for (const brt_error *cause = brt_error_cause(error); cause; cause = brt_error_cause(cause)) {
    fprintf(out, "  caused by (%d):\n", depth++);
    print_error_fields(out, cause, "    ");
  }
}

void cli_print_error(const char *context) {
  fprintf(stderr, "bridgert: %s\n", context);
  cli_describe_error(stderr, brt_last_error());
}

int cli_exit_code(brt_status status) {
  switch (status) {
    case BRT_OK: return CLI_EXIT_OK;
    case BRT_E_INVALID_ARGUMENT:
    case BRT_E_VALIDATION:
    case BRT_E_CONVERSION:
    case BRT_E_TYPE_MISMATCH:
    case BRT_E_OUT_OF_RANGE: return CLI_EXIT_DATA;
    case BRT_E_NOT_FOUND:
    case BRT_E_PLUGIN:
    case BRT_E_ABI_MISMATCH:
    case BRT_E_UNSUPPORTED: return CLI_EXIT_UNAVAILABLE;
    case BRT_E_ISOLATED:
    case BRT_E_TIMEOUT:
    case BRT_E_OUT_OF_MEMORY:
    case BRT_E_LIMIT_EXCEEDED: return CLI_EXIT_TEMPORARY;
    case BRT_E_IO: return CLI_EXIT_IO;
    case BRT_E_PERMISSION: return CLI_EXIT_PERMISSION;
    default: return CLI_EXIT_SOFTWARE; /* exceptions, panics, crashes, internal errors */
  }
}

int cli_check_output(int code) {
  errno = 0;
  bool failed = fflush(stdout) != 0;
  int saved = failed ? errno : 0;
  if (ferror(stdout)) failed = true;
  if (!failed || code > CLI_EXIT_UNHEALTHY) return code;
  fprintf(stderr, "bridgert: writing the output failed: %s\n",
          saved ? strerror(saved) : "standard output reported a write error");
  return CLI_EXIT_IO;
}
