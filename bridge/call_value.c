/* Value calls by name: brt_call and brt_call_json, and the input schemas
 * compiled at registration.
 *
 * Path of a call: lookup in the snapshot (no lock) and one reference on the
 * entry; the monitor's circuit check; schema validation; the function in
 * the exception boundary under a call frame with its deadline; the deadline
 * check; the monitor's record; the entry's reference dropped. An isolated
 * algorithm (a plugin loaded with BRT_ISOLATION_PROCESS or _SANDBOX, or an
 * external program's manifest) is an ordinary entry whose value function is
 * a proxy (isolation/proxy.c) that runs the call in a worker process, so the
 * path is the same. */
#include "internal.h"

#include "bridgert/memory.h"
#include "bridgert/monitor.h"
#include "bridgert/schema.h"
#include "bridgert/value.h"

#include <stdlib.h>
#include <string.h>

/* Compiles `text` (which) into *schema and keeps a copy of it in *copy. */
static brt_status attach_schema(brt_entry *entry, const char *which, const char *text,
                                struct brt_schema **schema, char **copy) {
  brt_schema *compiled = brt_schema_compile(text);
  if (!compiled) {
    brt_status code = _brt_null_status("brt_schema_compile");
    return brt_error_wrap(code, BRT_ORIGIN_C, NULL,
                          "brt_register: algorithm \"%s\": %s does not compile: %s", entry->name,
                          which, brt_error_message(brt_last_error()));
  }
  size_t len = strlen(text) + 1;
  *copy = malloc(len);
  if (!*copy) {
    brt_schema_free(compiled);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "brt_register: out of memory copying the %s of \"%s\"", which,
                         entry->name);
  }
  memcpy(*copy, text, len);
  *schema = compiled;
  return BRT_OK;
}

brt_status _brt_bridge_entry_attach_value(brt_entry *entry, const char *input_schema,
                                          const char *output_schema) {
  if (input_schema) {
    brt_status status =
        attach_schema(entry, "input_schema", input_schema, &entry->schema, &entry->schema_text);
    if (status != BRT_OK) return status;
    entry->desc.input_schema = entry->schema_text; /* listed by brt_algorithms_list */
  }
  if (output_schema) {
    brt_status status = attach_schema(entry, "output_schema", output_schema,
                                      &entry->output_schema, &entry->output_schema_text);
    if (status != BRT_OK) return status;
    entry->desc.output_schema = entry->output_schema_text;
  }
  return BRT_OK;
}

void _brt_bridge_entry_detach_value(brt_entry *entry) {
  brt_schema_free(entry->schema);
  entry->schema = NULL;
  free(entry->schema_text);
  entry->schema_text = NULL;
  brt_schema_free(entry->output_schema);
  entry->output_schema = NULL;
  free(entry->output_schema_text);
  entry->output_schema_text = NULL;
}

static brt_status run_value(const brt_entry *entry, const brt_value *params, brt_value **result) {
  uint32_t timeout_ms = entry->desc.timeout_ms ? entry->desc.timeout_ms
                                               : entry->core->config.default_timeout_ms;
  uint64_t started = timeout_ms ? _brt_now_ns() : 0;
  uint64_t deadline = timeout_ms ? started + (uint64_t)timeout_ms * 1000000u : 0;
  brt_value *out = NULL;
  brt_mem_budget budget;
  if (entry->desc.memory_limit) {
    brt_status opened = _brt_bridge_budget_begin(entry, &budget);
    if (opened != BRT_OK) return opened;
  }
  brt_call_frame frame;
  _brt_bridge_frame_push(&frame, entry, deadline);
  brt_error_clear(); /* so a failure without a recorded error is recognised */
  brt_status status = _brt_bridge_guard_value(entry->desc.value_fn, entry->desc.ctx, params, &out);
  _brt_bridge_frame_pop(&frame);
  if (entry->desc.memory_limit) brt_mem_budget_end(&budget);
  if (status == BRT_OK && !out)
    status = brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                           "algorithm \"%s@%s\" returned BRT_OK without a result", entry->name,
                           entry->version);
  else if (status != BRT_OK)
    status = _brt_bridge_algorithm_failed(entry, status);
  else if (deadline)
    status = _brt_bridge_deadline_check(entry, started, deadline, _brt_now_ns());
  if (status == BRT_OK && entry->output_schema &&
      (status = brt_validate(entry->output_schema, out)) != BRT_OK)
    status = brt_error_wrap(status, BRT_ORIGIN_C, NULL,
                            "algorithm \"%s@%s\" returned a result that does not match its "
                            "output_schema: %s",
                            entry->name, entry->version, brt_error_message(brt_last_error()));
  if (status != BRT_OK) {
    if (out) brt_value_release(out);
    return status;
  }
  *result = out;
  return BRT_OK;
}

brt_status brt_call(brt_runtime *rt, const char *name, const brt_value *params,
                    brt_value **result) {
  if (!result)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_call: result is NULL");
  *result = NULL;
  if (!params)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_call: params is NULL; pass a value (an empty object for none)");
  /* brt_value_kind reads nothing the allocator does not own. */
  if (brt_value_kind(params) == BRT_KIND_INVALID)
    return brt_error_set(BRT_E_INVALID_POINTER, BRT_ORIGIN_C, NULL,
                         "brt_call: params %p is not a live brt_value (freed, or not made by "
                         "bridgert)",
                         (const void *)params);
  brt_entry *entry = NULL;
  brt_status status = _brt_bridge_lookup(rt, name, "brt_call", &entry);
  if (status != BRT_OK) return status;
  uint64_t start_ns;
  if (!entry->desc.value_fn) {
    status = brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL,
                           "algorithm \"%s@%s\" has only a native function (signature %s); call "
                           "it with brt_prepare and brt_invoke",
                           entry->name, entry->version, entry->sig.text);
  } else if ((status = brt_monitor_call_begin(entry->stats, &start_ns)) == BRT_OK) {
    if (entry->schema && (status = brt_validate(entry->schema, params)) != BRT_OK)
      status = brt_error_wrap(status, BRT_ORIGIN_C, NULL, "algorithm \"%s@%s\": invalid params: %s",
                              entry->name, entry->version, brt_error_message(brt_last_error()));
    else
      status = run_value(entry, params, result);
    brt_monitor_call_end(entry->stats, start_ns, status);
  }
  _brt_bridge_entry_release(entry);
  return status;
}

brt_status brt_call_json(brt_runtime *rt, const char *name, const char *params_json,
                         char **result_json) {
  if (!result_json)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_call_json: result_json is NULL");
  *result_json = NULL;
  if (!params_json)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_call_json: params_json is NULL; pass JSON text such as \"{}\"");
  brt_value *params = brt_value_from_json(params_json, strlen(params_json), 0);
  if (!params) {
    brt_status code = _brt_null_status("brt_value_from_json");
    return brt_error_wrap(code, BRT_ORIGIN_C, NULL,
                          "brt_call_json(\"%.140s\"): params_json is not valid JSON: %s",
                          name ? name : "(NULL)", brt_error_message(brt_last_error()));
  }
  brt_value *result = NULL;
  brt_status status = brt_call(rt, name, params, &result);
  brt_value_release(params);
  if (status != BRT_OK) return status;
  char *text = brt_value_to_json(result, 0);
  brt_value_release(result);
  if (!text) {
    brt_status code = _brt_null_status("brt_value_to_json");
    return brt_error_wrap(code, BRT_ORIGIN_C, NULL,
                          "brt_call_json(\"%s\"): the result cannot be written as JSON: %s", name,
                          brt_error_message(brt_last_error()));
  }
  *result_json = text;
  return BRT_OK;
}
