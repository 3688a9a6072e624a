/* The example external program (docs/isolation.md, "External programs"):
 * matrix_multiplication as a plain program in the "files" protocol, which
 * bridgert runs in its own process (or sandbox) for each call.
 *
 *   $BRT_INPUT_DIR/input.json    {"matrix_a": [[1,2],[3,4]], "matrix_b": [[5,6],[7,8]]}
 *   $BRT_OUTPUT_DIR/result.json  [[19,22],[43,50]]
 *
 * Bad input (not rectangular, shapes that do not fit, too large) ends the
 * program with exit status 2 and a message on standard error, which the
 * host's error then quotes. The program knows nothing of bridgert: it reads
 * and writes JSON with cJSON, so any language could take its place. */
#include <cjson/cJSON.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest input read, and the largest side of a matrix (as the
 * manifest's input_schema says). */
#define INPUT_MAX ((size_t)64 << 20)
#define SIDE_MAX 4096

typedef struct matrix {
  size_t rows, cols;
  double *cells; /* row-major */
} matrix;

static _Noreturn __attribute__((format(printf, 1, 2))) void fail(const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  fputs("matrix_program: ", stderr);
  vfprintf(stderr, fmt, args);
  fputc('\n', stderr);
  va_end(args);
  exit(2);
}

static char *read_input(void) {
  const char *dir = getenv("BRT_INPUT_DIR");
  if (!dir) fail("BRT_INPUT_DIR is not set; this program is run by bridgert (files protocol)");
  char path[4096];
  snprintf(path, sizeof path, "%s/input.json", dir);
  FILE *in = fopen(path, "rb");
  if (!in) fail("cannot open %s: %s", path, strerror(errno));
  char *text = malloc(INPUT_MAX + 1);
  if (!text) fail("out of memory");
  size_t len = fread(text, 1, INPUT_MAX + 1, in);
  fclose(in);
  if (len > INPUT_MAX) fail("input.json is larger than %zu bytes", INPUT_MAX);
  text[len] = '\0';
  return text;
}

static matrix read_matrix(const cJSON *params, const char *key) {
  const cJSON *rows = cJSON_GetObjectItemCaseSensitive(params, key);
  if (!cJSON_IsArray(rows)) fail("\"%s\" must be an array of rows", key);
  matrix m = {.rows = (size_t)cJSON_GetArraySize(rows)};
  if (m.rows == 0 || m.rows > SIDE_MAX) fail("\"%s\" must have 1 to %d rows", key, SIDE_MAX);
  m.cols = (size_t)cJSON_GetArraySize(cJSON_GetArrayItem(rows, 0));
  if (m.cols == 0 || m.cols > SIDE_MAX) fail("\"%s\" must have 1 to %d columns", key, SIDE_MAX);
  m.cells = malloc(m.rows * m.cols * sizeof *m.cells);
  if (!m.cells) fail("out of memory for a %zux%zu matrix", m.rows, m.cols);
  size_t r = 0;
  for (const cJSON *row = rows->child; row; row = row->next, r++) {
    if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != m.cols)
      fail("\"%s\" is not rectangular: row %zu does not have %zu numbers", key, r, m.cols);
    size_t c = 0;
    for (const cJSON *cell = row->child; cell; cell = cell->next, c++) {
      if (!cJSON_IsNumber(cell)) fail("\"%s\"[%zu][%zu] is not a number", key, r, c);
      m.cells[r * m.cols + c] = cell->valuedouble;
    }
  }
  return m;
}

static cJSON *multiply(const matrix *a, const matrix *b) {
  if (a->cols != b->rows)
    fail(
        "cannot multiply a %zux%zu matrix by a %zux%zu one: matrix_a needs as many columns as "
        "matrix_b has rows",
        a->rows, a->cols, b->rows, b->cols);
  cJSON *product = cJSON_CreateArray();
  if (!product) fail("out of memory");
  for (size_t r = 0; r < a->rows; r++) {
    cJSON *row = cJSON_CreateArray();
    if (!row || !cJSON_AddItemToArray(product, row)) fail("out of memory");
    for (size_t c = 0; c < b->cols; c++) {
      double sum = 0;
      for (size_t k = 0; k < a->cols; k++)
        sum += a->cells[r * a->cols + k] * b->cells[k * b->cols + c];
      cJSON *cell = cJSON_CreateNumber(sum);
      if (!cell || !cJSON_AddItemToArray(row, cell)) fail("out of memory");
    }
  }
  return product;
}

static void write_result(const cJSON *product) {
  const char *dir = getenv("BRT_OUTPUT_DIR");
  if (!dir) fail("BRT_OUTPUT_DIR is not set; this program is run by bridgert (files protocol)");
  char path[4096];
  snprintf(path, sizeof path, "%s/result.json", dir);
  char *text = cJSON_PrintUnformatted(product);
  if (!text) fail("out of memory printing the result");
  FILE *out = fopen(path, "wb");
  if (!out) fail("cannot create %s: %s", path, strerror(errno));
  size_t len = strlen(text);
  if (fwrite(text, 1, len, out) != len || fclose(out) != 0)
    fail("cannot write %s: %s", path, strerror(errno));
  free(text);
}

int main(void) {
  char *text = read_input();
  cJSON *params = cJSON_Parse(text);
  if (!params) {
    const char *at = cJSON_GetErrorPtr();
    fail("input.json is not valid JSON (near \"%.20s\")", at ? at : "");
  }
  matrix a = read_matrix(params, "matrix_a");
  matrix b = read_matrix(params, "matrix_b");
  cJSON *product = multiply(&a, &b);
  write_result(product);
  cJSON_Delete(product);
  cJSON_Delete(params);
  free(a.cells);
  free(b.cells);
  free(text);
  return 0;
}
