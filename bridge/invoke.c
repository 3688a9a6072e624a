/* Native calls through prepared handles, and the per-thread call frames that
 * algorithms read their deadline from.
 *
 * Hot path (brt_invoke without a deadline): check the handle, one relaxed
 * load of the entry's `removed` flag, the argument pointers, then the thunk
 * (a direct indirect call) or ffi_call through the boundary. No lock, no
 * atomic read-modify-write: the handle's reference keeps the entry and its
 * plugin's code alive.
 *
 * Isolated algorithms take the same path: an algorithm of a plugin loaded
 * with BRT_ISOLATION_PROCESS or _SANDBOX (or of an external program's
 * manifest) is registered as an ordinary entry whose native thunk is a
 * proxy (isolation/proxy.c) that sends the call to a worker process, so
 * nothing here knows where the algorithm runs. */
#include "internal.h"

#include "bridgert/monitor.h"

#include <stdlib.h>
#include <string.h>

#define PREPARED_MAGIC 0x6272745f70726570ull /* "brt_prep" */

struct brt_prepared {
  uint64_t magic;
  brt_entry *entry; /* referenced */
};

/* --- Call frames ---------------------------------------------------------------- */

static _Thread_local brt_call_frame *current_frame;

brt_status _brt_bridge_budget_begin(const brt_entry *entry, brt_mem_budget *budget) {
  memset(budget, 0, sizeof *budget);
  budget->struct_size = sizeof *budget;
  budget->limit = entry->desc.memory_limit;
  budget->label = entry->label;
  brt_status status = brt_mem_budget_begin(budget);
  if (status != BRT_OK)
    return brt_error_wrap(status, BRT_ORIGIN_C, NULL,
                          "algorithm \"%s@%s\": its memory budget could not be opened: %s",
                          entry->name, entry->version, brt_error_message(brt_last_error()));
  return BRT_OK;
}

void _brt_bridge_frame_push(brt_call_frame *frame, const brt_entry *entry, uint64_t deadline_ns) {
  frame->deadline_ns = deadline_ns;
  frame->entry = entry;
  frame->outer = current_frame;
  current_frame = frame;
}

void _brt_bridge_frame_pop(brt_call_frame *frame) {
  current_frame = frame->outer;
}

uint64_t brt_call_deadline(void) {
  return current_frame ? current_frame->deadline_ns : 0;
}

int brt_call_cancelled(void) {
  const brt_call_frame *frame = current_frame;
  if (!frame) return 0;
  if (atomic_load_explicit(&frame->entry->removed, memory_order_relaxed)) return 1;
  return frame->deadline_ns != 0 && _brt_now_ns() >= frame->deadline_ns;
}

brt_status _brt_bridge_deadline_check(const brt_entry *entry, uint64_t started_ns,
                                      uint64_t deadline_ns, uint64_t now_ns) {
  if (deadline_ns == 0 || now_ns <= deadline_ns) return BRT_OK;
  return brt_error_set(BRT_E_TIMEOUT, BRT_ORIGIN_C, NULL,
                       "algorithm \"%s@%s\" returned after %.3f ms, past its deadline of %.3f ms; "
                       "its result was discarded",
                       entry->name, entry->version, (double)(now_ns - started_ns) / 1e6,
                       (double)(deadline_ns - started_ns) / 1e6);
}

/* --- Prepared handles ---------------------------------------------------------- */

brt_prepared *brt_prepare(brt_runtime *rt, const char *name) {
  brt_entry *entry = NULL;
  if (_brt_bridge_lookup(rt, name, "brt_prepare", &entry) != BRT_OK) return NULL;
  if (!entry->has_native) {
    brt_error_set(BRT_E_UNSUPPORTED, BRT_ORIGIN_C, NULL,
                  "brt_prepare: algorithm \"%s@%s\" has no native function; call it with "
                  "brt_call or brt_call_json",
                  entry->name, entry->version);
    _brt_bridge_entry_release(entry);
    return NULL;
  }
  brt_prepared *prepared = malloc(sizeof *prepared);
  if (!prepared) {
    brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                  "brt_prepare: out of memory preparing \"%s\"", name);
    _brt_bridge_entry_release(entry);
    return NULL;
  }
  prepared->magic = PREPARED_MAGIC;
  prepared->entry = entry;
  return prepared;
}

void brt_prepared_free(brt_prepared *prepared) {
  if (!prepared || prepared->magic != PREPARED_MAGIC) return;
  prepared->magic = 0;
  _brt_bridge_entry_release(prepared->entry);
  free(prepared);
}

const char *brt_prepared_signature(const brt_prepared *prepared) {
  if (!prepared || prepared->magic != PREPARED_MAGIC) return NULL;
  return prepared->entry->sig.text;
}

/* libffi stores integral returns narrower than a register as a whole
 * ffi_arg, so those go through a word and are copied out. Out of line so
 * the word and its register stay off brt_invoke's frame. */
BRT_NOINLINE static brt_status call_ffi_widened(const brt_entry *entry, void *ret,
                                                void **args) {
  ffi_arg word = 0;
  brt_status status =
      _brt_bridge_guard_ffi((ffi_cif *)&entry->sig.cif, entry->desc.native_fn, &word, args);
  if (status == BRT_OK) memcpy(ret, &word, entry->sig.ret_size); /* little-endian: low bytes */
  return status;
}

/* The native call proper: the thunk, or libffi with the cif prepared at
 * registration. */
static inline brt_status call_native(const brt_entry *entry, void *ret, void **args) {
  if (entry->desc.native_thunk) return entry->desc.native_thunk(entry->desc.native_fn, ret, args);
  if (BRT_UNLIKELY(entry->sig.ret_needs_widening)) return call_ffi_widened(entry, ret, args);
  return _brt_bridge_guard_ffi((ffi_cif *)&entry->sig.cif, entry->desc.native_fn, ret, args);
}

BRT_COLD static brt_status invoke_refused(const brt_prepared *prepared, const void *ret, void **args) {
  if (!prepared || prepared->magic != PREPARED_MAGIC)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_invoke: %p is not a handle from brt_prepare (or was freed)",
                         (const void *)prepared);
  const brt_entry *entry = prepared->entry;
  if (atomic_load(&entry->removed))
    return brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL,
                         "brt_invoke: algorithm \"%s@%s\" was unregistered (or its plugin "
                         "unloaded, or its runtime closed) after brt_prepare",
                         entry->name, entry->version);
  if (!ret && entry->sig.ret != BRT_NT_VOID)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_invoke: ret is NULL but \"%s\" returns a value (signature %s)",
                         entry->name, entry->sig.text);
  if (!args)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_invoke: args is NULL but \"%s\" takes %u arguments (signature %s)",
                         entry->name, entry->sig.arg_count, entry->sig.text);
  for (uint32_t i = 0; i < entry->sig.arg_count; i++)
    if (!args[i])
      return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_invoke: args[%u] is NULL; it must point to the %s argument of "
                           "\"%s\" (signature %s)",
                           i, entry->sig.text, entry->name, entry->sig.text);
  /* Not reached by a caller that keeps its arguments still: brt_invoke
   * refuses a call only for a bad handle, a removed entry (the flag is never
   * cleared) or a missing ret or args[i], and each is named above. Another
   * thread writing `args` during the call could get here; it still gets a
   * recorded error, never a bare status. */
  return brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL,
                       "brt_invoke: refused the call to \"%s\" but found every argument present "
                       "on a second look (were ret or args changed by another thread during the "
                       "call?)",
                       entry->name);
}

static bool arguments_present(const brt_entry *entry, const void *ret, void **args) {
  if (!ret && entry->sig.ret != BRT_NT_VOID) return false;
  uint32_t count = entry->sig.arg_count;
  if (count == 0) return true;
  if (!args) return false;
  for (uint32_t i = 0; i < count; i++)
    if (!args[i]) return false;
  return true;
}

/* Names the algorithm in the error of a failed call; the function's own
 * error (recorded by the thunk, the function or the boundary) becomes the
 * cause and keeps its status. Shared by native and value calls. */
BRT_COLD brt_status _brt_bridge_algorithm_failed(const brt_entry *entry, brt_status status) {
  if ((unsigned long long)status >= BRT_STATUS_COUNT) {
    /* A code this library does not define cannot reach the caller: it
     * would be no status at all. The algorithm's own error stays the cause. */
    int code = (int)status;
    if (!brt_last_error())
      return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                           "algorithm \"%s@%s\" failed with status %d, which is not a brt_status "
                           "(0..%d)",
                           entry->name, entry->version, code, BRT_STATUS_COUNT - 1);
    return brt_error_wrap(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                          "algorithm \"%s@%s\" failed with status %d, which is not a brt_status "
                          "(0..%d): %s",
                          entry->name, entry->version, code, BRT_STATUS_COUNT - 1,
                          brt_error_message(brt_last_error()));
  }
  if (!brt_last_error())
    return brt_error_set(status, BRT_ORIGIN_PLUGIN, NULL,
                         "algorithm \"%s@%s\" failed with %s without recording an error",
                         entry->name, entry->version, brt_status_name(status));
  return brt_error_wrap(status, BRT_ORIGIN_C, NULL, "algorithm \"%s@%s\" failed: %s", entry->name,
                        entry->version, brt_error_message(brt_last_error()));
}

/* The slow path of a native call with a deadline (the algorithm's own
 * timeout_ms: two clock reads and a call frame) or a memory budget (its
 * memory_limit: the call's allocations leave the allocator's fast path to
 * be counted). */
BRT_NOINLINE static brt_status invoke_limited(const brt_entry *entry, void *ret,
                                              void **args) {
  brt_mem_budget budget;
  bool budgeted = entry->desc.memory_limit != 0;
  if (budgeted) {
    brt_status opened = _brt_bridge_budget_begin(entry, &budget);
    if (opened != BRT_OK) return opened;
  }
  uint64_t started = entry->desc.timeout_ms ? _brt_now_ns() : 0;
  uint64_t deadline = started ? started + (uint64_t)entry->desc.timeout_ms * 1000000u : 0;
  brt_call_frame frame;
  _brt_bridge_frame_push(&frame, entry, deadline);
  brt_status status = call_native(entry, ret, args);
  _brt_bridge_frame_pop(&frame);
  if (budgeted) brt_mem_budget_end(&budget);
  if (status != BRT_OK) return _brt_bridge_algorithm_failed(entry, status);
  return _brt_bridge_deadline_check(entry, started, deadline, deadline ? _brt_now_ns() : 0);
}

brt_status brt_invoke(brt_prepared *prepared, void *ret, void **args) {
  if (BRT_UNLIKELY(!prepared || prepared->magic != PREPARED_MAGIC))
    return invoke_refused(prepared, ret, args);
  const brt_entry *entry = prepared->entry;
  if (BRT_UNLIKELY(atomic_load_explicit(&entry->removed, memory_order_relaxed) ||
                   !arguments_present(entry, ret, args)))
    return invoke_refused(prepared, ret, args);
  uint64_t start_ns;
  brt_status status = brt_monitor_call_begin(entry->stats, &start_ns);
  if (BRT_UNLIKELY(status != BRT_OK)) return status; /* isolated: fail fast */
  if (BRT_UNLIKELY((entry->desc.timeout_ms | entry->desc.memory_limit) != 0)) {
    status = invoke_limited(entry, ret, args);
  } else {
    status = call_native(entry, ret, args);
    if (BRT_UNLIKELY(status != BRT_OK)) status = _brt_bridge_algorithm_failed(entry, status);
  }
  brt_monitor_call_end(entry->stats, start_ns, status);
  return status;
}
