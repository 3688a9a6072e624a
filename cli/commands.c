/* The commands that open a runtime: health, list, metrics (call is in
 * call.c, demo in demo.c, serve in serve.c). */
#include "cli.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* --- health ------------------------------------------------------------------ */

int cli_print_health(const char *report, brt_health_level level) {
  cJSON *root = cJSON_Parse(report);
  if (!root) {
    fprintf(stderr, "bridgert health: the report is not JSON:\n%s\n", report);
    return CLI_EXIT_SOFTWARE;
  }
  cJSON *uptime = cJSON_GetObjectItem(root, "uptime_seconds");
  char duration[32];
  cli_format_duration(duration, sizeof duration, cJSON_IsNumber(uptime) ? uptime->valuedouble * 1e9 : 0);
  printf("Status: %s (uptime %s)\n\n", brt_health_level_name(level), duration);
  static const char *const headers[] = {"CHECK", "SUBJECT", "STATUS", "REASON"};
  cli_table *table = cli_table_new(4, headers);
  cJSON *check;
  cJSON_ArrayForEach(check, cJSON_GetObjectItem(root, "checks")) {
    const char *cells[4] = {cJSON_GetStringValue(cJSON_GetObjectItem(check, "name")),
                            cJSON_GetStringValue(cJSON_GetObjectItem(check, "subject")),
                            cJSON_GetStringValue(cJSON_GetObjectItem(check, "status")),
                            cJSON_GetStringValue(cJSON_GetObjectItem(check, "reason"))};
    if (!cells[1]) cells[1] = "-";
    if (table && !cli_table_add(table, cells)) break;
  }
  if (table) cli_table_print(table, stdout);
  cli_table_free(table);
  cJSON_Delete(root);
  return CLI_EXIT_OK;
}

static int run_health(brt_runtime *rt, const cli_options *options) {
  brt_health_level level = BRT_UNHEALTHY;
  char *report = NULL;
  if (brt_health_check_level(rt, &level, &report) != BRT_OK) {
    cli_print_error("health: the health check itself failed, which counts as UNHEALTHY");
    return CLI_EXIT_UNHEALTHY;
  }
  int code = CLI_EXIT_OK;
  if (options->json)
    printf("%s\n", report);
  else
    code = cli_print_health(report, level);
  brt_release(report);
  if (code) return code;
  return level == BRT_HEALTHY ? CLI_EXIT_OK : level == BRT_DEGRADED ? CLI_EXIT_DEGRADED : CLI_EXIT_UNHEALTHY;
}

/* --- list -------------------------------------------------------------------- */

/* "object{matrix_a*, matrix_b*}" (* = required), "array", "-" for none. */
static void schema_summary(const char *schema_text, char *buf, size_t size) {
  snprintf(buf, size, "-");
  if (!schema_text) return;
  cJSON *schema = cJSON_Parse(schema_text);
  if (!schema) {
    snprintf(buf, size, "(unreadable)");
    return;
  }
  const char *type = cJSON_GetStringValue(cJSON_GetObjectItem(schema, "type"));
  cJSON *properties = cJSON_GetObjectItem(schema, "properties");
  cJSON *required = cJSON_GetObjectItem(schema, "required");
  size_t used = (size_t)snprintf(buf, size, "%s", type ? type : "any");
  if (cJSON_IsObject(properties) && used < size) {
    used += (size_t)snprintf(buf + used, size - used, "{");
    cJSON *property;
    bool first = true;
    cJSON_ArrayForEach(property, properties) {
      bool is_required = false;
      cJSON *name;
      cJSON_ArrayForEach(name, required) {
        if (cJSON_IsString(name) && strcmp(name->valuestring, property->string) == 0) is_required = true;
      }
      if (used < size)
        used += (size_t)snprintf(buf + used, size - used, "%s%s%s", first ? "" : ", ",
                                 property->string, is_required ? "*" : "");
      first = false;
    }
    if (used < size) snprintf(buf + used, size - used, "}");
  }
  cJSON_Delete(schema);
}

static const char *algorithm_kind(const brt_algorithm *algorithm) {
  if (algorithm->value_fn && algorithm->native_fn) return "value+native";
  return algorithm->value_fn ? "value" : "native";
}

typedef struct list_state {
  cli_table *table;
  cJSON *array;
  bool failed;
} list_state;

cJSON *cli_algorithm_json(const brt_algorithm *algorithm) {
  cJSON *entry = cJSON_CreateObject();
  if (!entry) return NULL;
  cJSON_AddStringToObject(entry, "name", algorithm->name);
  cJSON_AddStringToObject(entry, "version", algorithm->version);
  cJSON_AddStringToObject(entry, "kind", algorithm_kind(algorithm));
  if (algorithm->signature) cJSON_AddStringToObject(entry, "signature", algorithm->signature);
  else cJSON_AddNullToObject(entry, "signature");
  cJSON *schema = algorithm->input_schema ? cJSON_Parse(algorithm->input_schema) : NULL;
  if (schema) cJSON_AddItemToObject(entry, "input_schema", schema);
  else cJSON_AddNullToObject(entry, "input_schema");
  cJSON_AddNumberToObject(entry, "timeout_ms", algorithm->timeout_ms);
  if (algorithm->description) cJSON_AddStringToObject(entry, "description", algorithm->description);
  else cJSON_AddNullToObject(entry, "description");
  return entry;
}

static int list_visit(void *ctx, const brt_algorithm *algorithm) {
  list_state *state = ctx;
  if (state->array) {
    cJSON *entry = cli_algorithm_json(algorithm);
    if (!entry || !cJSON_AddItemToArray(state->array, entry)) {
      cJSON_Delete(entry);
      state->failed = true;
      return 1;
    }
    return 0;
  }
  char schema[256];
  schema_summary(algorithm->input_schema, schema, sizeof schema);
  const char *cells[6] = {algorithm->name, algorithm->version, algorithm_kind(algorithm),
                          algorithm->signature ? algorithm->signature : "-", schema,
                          algorithm->description ? algorithm->description : ""};
  if (!cli_table_add(state->table, cells)) {
    state->failed = true;
    return 1;
  }
  return 0;
}

static int run_list(brt_runtime *rt, const cli_options *options) {
  static const char *const headers[] = {"NAME", "VERSION", "KIND", "SIGNATURE", "INPUT", "DESCRIPTION"};
  list_state state = {0};
  if (options->json) state.array = cJSON_CreateArray();
  else state.table = cli_table_new(6, headers);
  if (!state.array && !state.table) {
    fprintf(stderr, "bridgert list: out of memory\n");
    return CLI_EXIT_TEMPORARY;
  }
  brt_status status = brt_algorithms_list(rt, list_visit, &state);
  int code = CLI_EXIT_OK;
  if (status != BRT_OK) {
    cli_print_error("list: cannot list the algorithms");
    code = cli_exit_code(status);
  } else if (state.failed) {
    fprintf(stderr, "bridgert list: out of memory\n");
    code = CLI_EXIT_TEMPORARY;
  } else if (state.array) {
    char *text = cJSON_Print(state.array);
    if (text) printf("%s\n", text);
    cJSON_free(text);
  } else {
    cli_table_print(state.table, stdout);
  }
  cJSON_Delete(state.array);
  cli_table_free(state.table);
  return code;
}

/* --- metrics ----------------------------------------------------------------- */

static int run_metrics(brt_runtime *rt, const cli_options *options) {
  if (options->format == CLI_FORMAT_SUMMARY) return cli_print_summary(rt);
  char *text = NULL;
  brt_status status = brt_metrics_export(rt, options->format, &text);
  if (status != BRT_OK) {
    cli_print_error("metrics: the export failed");
    return cli_exit_code(status);
  }
  fputs(text, stdout);
  if (options->format == BRT_FORMAT_JSON) fputc('\n', stdout);
  brt_release(text);
  return CLI_EXIT_OK;
}

int cli_run(const cli_options *options) {
  brt_runtime *rt = NULL;
  int code = cli_open_runtime(options, &rt);
  if (code) return code;
  switch (options->command) {
    case CLI_HEALTH: code = run_health(rt, options); break;
    case CLI_LIST: code = run_list(rt, options); break;
    case CLI_METRICS: code = run_metrics(rt, options); break;
    case CLI_CALL: code = cli_call(rt, options); break;
    case CLI_SERVE: code = cli_serve(rt, options); break;
    case CLI_DEMO: code = cli_demo(options, rt); break;
    case CLI_NONE: code = CLI_EXIT_USAGE; break;
  }
  code = cli_check_output(code);
  brt_runtime_close(rt);
  return code;
}
