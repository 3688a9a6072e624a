/* bench/run convert: the converter against simdjson, std::to_chars and
 * cJSON on a 1000x1000 f64 matrix and 100 000 records.
 *
 *   convert.parse_matrix     JSON text -> f64 tensor (BRT_JSON_TENSORS) vs
 *                            simdjson on-demand reading the numbers into a
 *                            double array (goal <= 1.5x) and cJSON_Parse
 *                            alone (its node tree)
 *   convert.parse_records    100 000 objects {"id","name","score","tags"}
 *                            -> values vs simdjson's DOM, walked field by
 *                            field; goal <= 2.0x
 *   convert.print_matrix     tensor -> compact text vs one std::to_chars per
 *                            element writing the same text into a new
 *                            buffer (goal <= 1.0x)
 *                            and cJSON_PrintUnformatted
 *   convert.validate_matrix  the matrix as nested arrays against an
 *                            items/items/number schema, ns per element;
 *                            goal <= 10 ns
 *   convert.wrap             brt_tensor_wrap + release of a 100 MiB block,
 *                            ns per wrap and RSS growth; goal < 1 us, none
 *
 * Only the measured call is timed (the matching free happens outside the
 * clock). The matrix holds random doubles of every magnitude in [-1e3, 1e3)
 * with full precision, printed in their shortest round-trip form. Each
 * line also carries "cpu_ns_per_op", the median over 5 runs of this
 * thread's CPU time, which a busy machine inflates far less than the
 * wall-clock median. */
#include "bench.h"
#include "peers.h"

#include <bridgert.h>
#include <cJSON.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROWS = 1000, COLS = 1000, RECORDS = 100000 };

/* The subjects time themselves with now_ns: the wall clock for the
 * harness's figures, and this thread's CPU clock for the extra
 * "cpu_ns_per_op" field, which stays meaningful on a loaded machine (the
 * wall-clock median there includes time spent descheduled). */
static uint64_t thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static uint64_t (*now_ns)(void) = bench_now_ns;

typedef struct workload {
  char *text; /* the matrix as JSON text (a managed block) */
  size_t len;
  brt_value *tensor; /* the same numbers as an f64 tensor */
  brt_value *arrays; /* ... as nested arrays of floats */
  cJSON *tree;       /* ... as a cJSON tree */
  brt_schema *schema;
  char *records; /* RECORDS objects as one JSON array (malloc'd) */
  size_t records_len;
  double *numbers; /* the peers' output: ROWS * COLS doubles, or text */
  char *peer_text;
  size_t peer_text_cap;
#if BENCH_HAVE_SIMDJSON
  void *padded_matrix, *padded_records;
#endif
} workload;

static void die(const char *what) {
  const brt_error *error = brt_last_error();
  fprintf(stderr, "bench-convert: %s: %s\n", what, error ? brt_error_message(error) : "no error recorded");
  exit(1);
}

static double parse_bridgert(void *arg, uint64_t ops) {
  workload *w = arg;
  double elapsed = 0;
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t start = now_ns();
    brt_value *value = brt_value_from_json(w->text, w->len, BRT_JSON_TENSORS);
    elapsed += (double)(now_ns() - start);
    if (!value) die("parse");
    brt_value_release(value);
  }
  return elapsed;
}

static double parse_cjson(void *arg, uint64_t ops) {
  workload *w = arg;
  double elapsed = 0;
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t start = now_ns();
    cJSON *tree = cJSON_ParseWithLength(w->text, w->len);
    elapsed += (double)(now_ns() - start);
    if (!tree) die("cJSON_Parse");
    cJSON_Delete(tree);
  }
  return elapsed;
}

static double parse_records_bridgert(void *arg, uint64_t ops) {
  workload *w = arg;
  double elapsed = 0;
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t start = now_ns();
    brt_value *value = brt_value_from_json(w->records, w->records_len, 0);
    elapsed += (double)(now_ns() - start);
    if (!value) die("parse records");
    brt_value_release(value);
  }
  return elapsed;
}

#if BENCH_HAVE_SIMDJSON
static double parse_simdjson(void *arg, uint64_t ops) {
  workload *w = arg;
  double elapsed = 0;
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t start = now_ns();
    size_t count = peer_simdjson_matrix(w->padded_matrix, w->numbers, (size_t)ROWS * COLS);
    elapsed += (double)(now_ns() - start);
    if (count != (size_t)ROWS * COLS) die("simdjson matrix");
  }
  return elapsed;
}

static double parse_records_simdjson(void *arg, uint64_t ops) {
  workload *w = arg;
  double elapsed = 0;
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t checksum = 0;
    uint64_t start = now_ns();
    size_t count = peer_simdjson_records(w->padded_records, &checksum);
    elapsed += (double)(now_ns() - start);
    if (count != RECORDS || !checksum) die("simdjson records");
  }
  return elapsed;
}
#endif

/* Like bridgert's printer, the peer writes a new text each time: into a
 * fresh malloc'd buffer large enough for any such text (allocated inside the
 * clock, freed outside), so both pay for first touching the text's pages. */
static double print_to_chars(void *arg, uint64_t ops) {
  workload *w = arg;
  const double *data = brt_tensor_data(w->tensor);
  double elapsed = 0;
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t start = now_ns();
    char *text = malloc(w->peer_text_cap);
    size_t len = text ? peer_to_chars_matrix(data, ROWS, COLS, text, w->peer_text_cap) : 0;
    elapsed += (double)(now_ns() - start);
    if (!len) die("to_chars");
    free(text);
  }
  return elapsed;
}

static double print_bridgert(void *arg, uint64_t ops) {
  workload *w = arg;
  double elapsed = 0;
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t start = now_ns();
    char *text = brt_value_to_json(w->tensor, 0);
    elapsed += (double)(now_ns() - start);
    if (!text) die("print");
    brt_release(text);
  }
  return elapsed;
}

static double print_cjson(void *arg, uint64_t ops) {
  workload *w = arg;
  double elapsed = 0;
  for (uint64_t i = 0; i < ops; i++) {
    uint64_t start = now_ns();
    char *text = cJSON_PrintUnformatted(w->tree);
    elapsed += (double)(now_ns() - start);
    if (!text) die("cJSON_PrintUnformatted");
    cJSON_free(text);
  }
  return elapsed;
}

/* ns per element: the harness divides by ops, so ops counts elements. */
static double validate_arrays(void *arg, uint64_t ops) {
  workload *w = arg;
  uint64_t rounds = ops / (ROWS * COLS) ? ops / (ROWS * COLS) : 1;
  uint64_t start = now_ns();
  for (uint64_t i = 0; i < rounds; i++)
    if (brt_validate(w->schema, w->arrays) != BRT_OK) die("validate");
  return (double)(now_ns() - start) * ((double)ops / (double)(rounds * ROWS * COLS));
}

typedef struct wrap_workload {
  void *block;
} wrap_workload;

static double wrap_block(void *arg, uint64_t ops) {
  wrap_workload *w = arg;
  size_t shape[2] = {(size_t)100 << 20 >> 3 >> 10, 1024}; /* 100 MiB of f64 */
  uint64_t start = now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    brt_value *tensor = brt_tensor_wrap(w->block, BRT_DTYPE_F64, 2, shape, NULL);
    if (!tensor) die("wrap");
    brt_value_release(tensor);
  }
  return (double)(now_ns() - start);
}

static long rss_bytes(void) {
  long pages = 0, resident = 0;
  FILE *statm = fopen("/proc/self/statm", "r");
  if (!statm) return -1;
  if (fscanf(statm, "%ld %ld", &pages, &resident) != 2) resident = -1;
  fclose(statm);
  return resident * sysconf(_SC_PAGESIZE);
}

static void build_workload(workload *w) {
  size_t shape[2] = {ROWS, COLS};
  w->tensor = brt_tensor_new(BRT_DTYPE_F64, 2, shape);
  if (!w->tensor) die("tensor");
  double *data = brt_tensor_data(w->tensor);
  uint64_t state = 0x243F6A8885A308D3u;
  for (size_t i = 0; i < (size_t)ROWS * COLS; i++) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    double unit = (double)(state >> 11) / 9007199254740992.0; /* [0, 1) */
    data[i] = (unit * 2 - 1) * 1e3;
  }
  w->text = brt_value_to_json(w->tensor, 0);
  if (!w->text) die("print");
  w->len = strlen(w->text);
  w->arrays = brt_value_from_json(w->text, w->len, 0);
  if (!w->arrays) die("parse arrays");
  w->tree = cJSON_ParseWithLength(w->text, w->len);
  if (!w->tree) die("cJSON_Parse");
  /* The records: an escape and non-ASCII text in every name, a
   * full-precision score, one to three tags. */
  size_t cap = (size_t)RECORDS * 160;
  w->records = malloc(cap);
  if (!w->records) die("malloc records");
  static const char *const tags[] = {"alpha", "b\\u00e9ta", "\\\"gamma\\\"", "δέλτα", "e\\tpsilon"};
  size_t len = 0;
  w->records[len++] = '[';
  for (int i = 0; i < RECORDS; i++) {
    state = state * 6364136223846793005u + 1442695040888963407u;
    double score = (double)(state >> 11) / 9007199254740992.0 * 100;
    len += (size_t)snprintf(w->records + len, cap - len,
                            "%s{\"id\":%d,\"name\":\"Zoë \\\"%d\\\" Müller\\n\",\"score\":%.17g,\"tags\":[\"%s\"",
                            i ? "," : "", i * 7 + 1, i, score, tags[i % 5]);
    for (int t = 1; t <= i % 3; t++)
      len += (size_t)snprintf(w->records + len, cap - len, ",\"%s\"", tags[(i + t) % 5]);
    len += (size_t)snprintf(w->records + len, cap - len, "]}");
  }
  w->records[len++] = ']';
  w->records_len = len;
  brt_value *records = brt_value_from_json(w->records, w->records_len, 0);
  if (!records) die("parse records");
  brt_value_release(records);
  w->numbers = malloc(sizeof(double) * ROWS * COLS);
  w->peer_text_cap = (size_t)ROWS * COLS * 25; /* the longest f64 text and a comma */
  w->peer_text = malloc(w->peer_text_cap);
  if (!w->numbers || !w->peer_text) die("malloc");
  /* The peer writes the very text bridgert writes. */
  if (peer_to_chars_matrix(data, ROWS, COLS, w->peer_text, w->peer_text_cap) != w->len ||
      memcmp(w->peer_text, w->text, w->len) != 0)
    fprintf(stderr, "bench-convert: note: std::to_chars's text differs from bridgert's\n");
#if BENCH_HAVE_SIMDJSON
  w->padded_matrix = peer_padded(w->text, w->len);
  w->padded_records = peer_padded(w->records, w->records_len);
#endif
  w->schema = brt_schema_compile("{\"type\":\"array\",\"items\":{\"type\":\"array\",\"items\":{\"type\":\"number\"}}}");
  if (!w->schema) die("schema");
}

/* Median CPU ns per op of `fn` over 5 runs. */
static double cpu_ns_per_op(double (*fn)(void *arg, uint64_t ops), void *arg, uint64_t ops) {
  double samples[5];
  now_ns = thread_cpu_ns;
  for (int i = 0; i < 5; i++) samples[i] = fn(arg, ops) / (double)ops;
  now_ns = bench_now_ns;
  return bench_median(samples, 5);
}

/* Runs one subject: its CPU figure first, then the harness's wall-clock reps. */
static void run_subject(bench_state *state, const char *subject, double (*fn)(void *arg, uint64_t ops),
                        void *arg, uint64_t ops, const char *extra) {
  char fields[256];
  snprintf(fields, sizeof fields, "%s%s\"cpu_ns_per_op\":%.3f", extra ? extra : "", extra ? "," : "",
           cpu_ns_per_op(fn, arg, ops));
  bench_run_subject(state, subject, fn, arg, ops, fields);
}

int main(void) {
  workload w;
  build_workload(&w);
  char extra[128];
  bench_state state;

  snprintf(extra, sizeof extra, "\"elements\":%d,\"text_bytes\":%zu", ROWS * COLS, w.len);
  bench_begin(&state, "convert.parse_matrix", NULL);
  run_subject(&state, "bridgert", parse_bridgert, &w, 1, extra);
#if BENCH_HAVE_SIMDJSON
  run_subject(&state, "simdjson", parse_simdjson, &w, 1, extra);
#endif
  run_subject(&state, "cjson", parse_cjson, &w, 1, extra);
  bench_ratios(&state, "bridgert");

  char records_extra[128];
  snprintf(records_extra, sizeof records_extra, "\"records\":%d,\"text_bytes\":%zu", RECORDS, w.records_len);
  bench_begin(&state, "convert.parse_records", NULL);
  run_subject(&state, "bridgert", parse_records_bridgert, &w, 1, records_extra);
#if BENCH_HAVE_SIMDJSON
  run_subject(&state, "simdjson", parse_records_simdjson, &w, 1, records_extra);
#endif
  bench_ratios(&state, "bridgert");

  bench_begin(&state, "convert.print_matrix", NULL);
  run_subject(&state, "bridgert", print_bridgert, &w, 1, extra);
  run_subject(&state, "to_chars", print_to_chars, &w, 1, extra);
  run_subject(&state, "cjson", print_cjson, &w, 1, extra);
  bench_ratios(&state, "bridgert");

  bench_begin(&state, "convert.validate_matrix", NULL);
  run_subject(&state, "bridgert", validate_arrays, &w, (uint64_t)ROWS * COLS * 3,
                    "\"per\":\"element\"");

  wrap_workload wrap = {brt_alloc((size_t)100 << 20, 64, BRT_MEM_C_HEAP, 0)};
  if (!wrap.block) die("alloc 100 MiB");
  long rss_before = rss_bytes();
  bench_begin(&state, "convert.wrap", NULL);
  snprintf(extra, sizeof extra, "\"block_bytes\":%zu", (size_t)100 << 20);
  double samples[BENCH_MAX_REPS];
  int reps = bench_reps();
  double cpu = cpu_ns_per_op(wrap_block, &wrap, 100000);
  for (int i = 0; i < reps; i++) samples[i] = wrap_block(&wrap, 100000) / 100000.0;
  long rss_growth = rss_bytes() - rss_before;
  snprintf(extra, sizeof extra, "\"block_bytes\":%zu,\"rss_growth_bytes\":%ld,\"cpu_ns_per_op\":%.3f",
           (size_t)100 << 20, rss_growth, cpu);
  bench_report(&state, "bridgert", samples, reps, extra);

  brt_release(wrap.block);
  cJSON_Delete(w.tree);
  brt_schema_free(w.schema);
  brt_value_release(w.arrays);
  brt_value_release(w.tensor);
  brt_release(w.text);
#if BENCH_HAVE_SIMDJSON
  peer_padded_free(w.padded_matrix);
  peer_padded_free(w.padded_records);
#endif
  free(w.records);
  free(w.numbers);
  free(w.peer_text);
  return 0;
}
