/* `bridgert metrics --format summary` (and the demo's last section): the
 * JSON export as aligned tables with units, for people. */
#include "cli.h"

#include <cjson/cJSON.h>
#include <string.h>

static double number(const cJSON *object, const char *key) {
  const cJSON *item = cJSON_GetObjectItem(object, key);
  return cJSON_IsNumber(item) ? item->valuedouble : 0;
}

static void latency_cell(char *buf, size_t size, const cJSON *latency, const char *key) {
  if (number(latency, "count") == 0) snprintf(buf, size, "-");
  else cli_format_duration(buf, size, number(latency, key));
}

static void print_algorithms(const cJSON *algorithms) {
  static const char *const headers[] = {"ALGORITHM", "STATE", "CALLS", "ERRORS", "REJECTED",
                                        "P50", "P99", "MAX", "LAST ERROR"};
  cli_table *table = cli_table_new(9, headers);
  if (!table) return;
  const cJSON *algorithm;
  cJSON_ArrayForEach(algorithm, algorithms) {
    char name[256], calls[24], errors[24], rejected[24], p50[24], p99[24], max[24], last[160];
    const cJSON *latency = cJSON_GetObjectItem(algorithm, "latency");
    snprintf(name, sizeof name, "%s@%s", cJSON_GetStringValue(cJSON_GetObjectItem(algorithm, "name")),
             cJSON_GetStringValue(cJSON_GetObjectItem(algorithm, "version")));
    snprintf(calls, sizeof calls, "%.0f", number(algorithm, "calls"));
    snprintf(errors, sizeof errors, "%.0f", number(algorithm, "errors"));
    snprintf(rejected, sizeof rejected, "%.0f", number(algorithm, "rejected"));
    latency_cell(p50, sizeof p50, latency, "p50_ns");
    latency_cell(p99, sizeof p99, latency, "p99_ns");
    latency_cell(max, sizeof max, latency, "max_ns");
    const char *message = cJSON_GetStringValue(
        cJSON_GetObjectItem(cJSON_GetObjectItem(algorithm, "last_error"), "message"));
    snprintf(last, sizeof last, "%.100s%s", message ? message : "-",
             message && strlen(message) > 100 ? "..." : "");
    const char *cells[9] = {name, cJSON_GetStringValue(cJSON_GetObjectItem(algorithm, "state")),
                            calls, errors, rejected, p50, p99, max, last};
    if (!cli_table_add(table, cells)) break;
  }
  cli_table_print(table, stdout);
  cli_table_free(table);
}

static void print_memory(const cJSON *memory) {
  char live[32], committed[32], peak[32], limit[32];
  cli_format_bytes(live, sizeof live, number(memory, "live_bytes"));
  cli_format_bytes(committed, sizeof committed, number(memory, "committed_bytes"));
  cli_format_bytes(peak, sizeof peak, number(memory, "peak_bytes"));
  cli_format_bytes(limit, sizeof limit, number(memory, "limit_bytes"));
  printf("Memory: %s live in %.0f blocks (peak %s), %s committed, limit %s\n", live,
         number(memory, "live_blocks"), peak, committed,
         number(memory, "limit_bytes") > 0 ? limit : "none");
  const cJSON *type;
  printf("  by type:");
  cJSON_ArrayForEach(type, cJSON_GetObjectItem(memory, "live_bytes_by_type")) {
    char bytes[32];
    cli_format_bytes(bytes, sizeof bytes, cJSON_IsNumber(type) ? type->valuedouble : 0);
    printf(" %s %s%s", type->string, bytes, type->next ? "," : "\n");
  }
}

static void print_errors(const cJSON *errors) {
  if (cJSON_GetArraySize(errors) == 0) {
    printf("Errors: none recorded\n");
    return;
  }
  printf("Errors recorded in this process:\n");
  static const char *const headers[] = {"CODE", "ORIGIN", "COUNT"};
  cli_table *table = cli_table_new(3, headers);
  if (!table) return;
  const cJSON *error;
  cJSON_ArrayForEach(error, errors) {
    char count[24];
    snprintf(count, sizeof count, "%.0f", number(error, "count"));
    const char *cells[3] = {cJSON_GetStringValue(cJSON_GetObjectItem(error, "code")),
                            cJSON_GetStringValue(cJSON_GetObjectItem(error, "origin")), count};
    if (!cli_table_add(table, cells)) break;
  }
  cli_table_print(table, stdout);
  cli_table_free(table);
}

int cli_print_summary(brt_runtime *rt) {
  char *text = NULL;
  brt_status status = brt_metrics_export(rt, BRT_FORMAT_JSON, &text);
  if (status != BRT_OK) {
    cli_print_error("metrics: the export failed");
    return cli_exit_code(status);
  }
  cJSON *root = cJSON_Parse(text);
  brt_release(text);
  if (!root) {
    fprintf(stderr, "bridgert metrics: the JSON export could not be read back\n");
    return CLI_EXIT_SOFTWARE;
  }
  char uptime[32];
  cli_format_duration(uptime, sizeof uptime, number(root, "uptime_seconds") * 1e9);
  const cJSON *gauges = cJSON_GetObjectItem(root, "gauges");
  printf("bridgert %s, up %s", cJSON_GetStringValue(cJSON_GetObjectItem(root, "bridgert_version")),
         uptime);
  const cJSON *gauge;
  cJSON_ArrayForEach(gauge, gauges) printf(", %s %g", gauge->string, gauge->valuedouble);
  printf("\n\n");
  print_algorithms(cJSON_GetObjectItem(root, "algorithms"));
  printf("\n");
  print_memory(cJSON_GetObjectItem(root, "memory"));
  printf("\n");
  print_errors(cJSON_GetObjectItem(root, "errors"));
  cJSON_Delete(root);
  return CLI_EXIT_OK;
}
