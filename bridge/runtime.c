/* Runtime handles, their cores, and the read sections that let calls look up
 * algorithms without a lock (see internal.h for the whole scheme). */
#include "internal.h"
#include "../memory_manager/settings.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RUNTIME_MAGIC 0x6272745f72756e74ull /* "brt_runt" */

/* The handle a host holds. It is never freed: after brt_runtime_close its
 * core is NULL and every function fails cleanly with "runtime is closed".
 * Closed shells are chained here so they stay reachable (16 bytes each). */
struct brt_runtime {
  uint64_t magic;
  _Atomic(brt_core *) core;
  brt_runtime *next_closed;
  /* The config's allocator settings, held from open to close
   * (memory_manager/settings.h). */
  brt_mem_hold *memory;
};

static pthread_mutex_t closed_shells_lock = PTHREAD_MUTEX_INITIALIZER;
static brt_runtime *closed_shells;

/* --- Read sections -----------------------------------------------------------
 * One counter per slot, each on its own cache line; a thread keeps the slot
 * it was given first, so two threads calling concurrently touch different
 * lines (the counters are process-wide: a grace period covers every
 * runtime, which is fine because read sections last a lookup). With more
 * than READ_SLOTS threads, slots are shared, which stays correct. */
#define READ_SLOTS 64

static struct {
  _Alignas(64) _Atomic uint64_t active;
} read_slots[READ_SLOTS];

static _Atomic unsigned next_read_slot;
static _Thread_local unsigned thread_read_slot_plus_one;

unsigned _brt_bridge_read_enter(void) {
  unsigned slot = thread_read_slot_plus_one;
  if (BRT_UNLIKELY(slot == 0)) {
    slot = atomic_fetch_add_explicit(&next_read_slot, 1, memory_order_relaxed) % READ_SLOTS + 1;
    thread_read_slot_plus_one = slot;
  }
  /* Sequentially consistent: the increment must be ordered before the loads
   * of the core and the snapshot that follow (see _brt_bridge_grace_period). */
  atomic_fetch_add(&read_slots[slot - 1].active, 1);
  return slot - 1;
}

void _brt_bridge_read_slots_reset(void) {
  for (unsigned i = 0; i < READ_SLOTS; i++) atomic_store(&read_slots[i].active, 0);
}

void _brt_bridge_read_leave(unsigned slot) {
  atomic_fetch_sub_explicit(&read_slots[slot].active, 1, memory_order_release);
}

/* A writer has already replaced the pointer readers load (seq_cst store).
 * A slot seen at zero after that store has no reader that loaded the old
 * pointer: a reader that incremented it later loads the new pointer, one
 * that incremented it earlier has left. So once every slot was seen at
 * zero, the old object is unreachable. */
void _brt_bridge_grace_period(void) {
  atomic_thread_fence(memory_order_seq_cst);
  for (unsigned i = 0; i < READ_SLOTS; i++) {
    unsigned spins = 0;
    while (atomic_load(&read_slots[i].active) != 0) {
      if (++spins < 64) continue;
      sched_yield();
    }
  }
}

/* --- Cores ----------------------------------------------------------------- */

void _brt_bridge_core_retain(brt_core *core) {
  atomic_fetch_add_explicit(&core->refs, 1, memory_order_relaxed);
}

void _brt_bridge_core_release(brt_core *core) {
  if (atomic_fetch_sub_explicit(&core->refs, 1, memory_order_acq_rel) != 1) return;
  _brt_bridge_monitor_free(core);
  free(atomic_load_explicit(&core->snapshot, memory_order_relaxed));
  brt_config_dispose(&core->config);
  _brt_bridge_fork_forget(core);
  pthread_mutex_destroy(&core->write_lock);
  free(core);
}

brt_status _brt_bridge_runtime_check(const brt_runtime *rt, const char *function) {
  if (!rt)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: runtime is NULL",
                         function);
  if (rt->magic != RUNTIME_MAGIC)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: %p is not a runtime handle from brt_runtime_open", function,
                         (const void *)rt);
  return BRT_OK;
}

brt_core *_brt_bridge_core_peek(brt_runtime *rt) {
  return atomic_load(&rt->core);
}

brt_status _brt_bridge_core_get(brt_runtime *rt, const char *function, brt_core **out) {
  brt_status status = _brt_bridge_runtime_check(rt, function);
  if (status != BRT_OK) return status;
  unsigned slot = _brt_bridge_read_enter();
  brt_core *core = _brt_bridge_core_peek(rt);
  if (core) _brt_bridge_core_retain(core);
  _brt_bridge_read_leave(slot);
  if (!core)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: runtime %p is closed (brt_runtime_close was called)", function,
                         (const void *)rt);
  *out = core;
  return BRT_OK;
}

/* --- Open and close ------------------------------------------------------------ */

brt_runtime *brt_runtime_open(const brt_config *cfg) {
  brt_core *core = calloc(1, sizeof *core);
  brt_runtime *rt = calloc(1, sizeof *rt);
  brt_snapshot *empty = calloc(1, sizeof *empty);
  if (!core || !rt || !empty) {
    free(core);
    free(rt);
    free(empty);
    brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                  "brt_runtime_open: out of memory for the runtime");
    return NULL;
  }
  brt_status status = brt_config_default(&core->config);
  if (status == BRT_OK) status = cfg ? brt_config_copy(&core->config, cfg)
                                     : brt_config_resolve(&core->config);
  if (status == BRT_OK) status = brt_config_validate(&core->config);
  if (status == BRT_OK) status = _brt_bridge_monitor_create(core);
  /* Last, so that a runtime that does not open changes nothing: the
   * allocator is the process's, and this runtime's max_memory, gc_*,
   * tracking and hardened join those of the base and the other open
   * runtimes, the strictest of each applying (config.h). */
  brt_mem_hold *memory = NULL;
  if (status == BRT_OK) {
    status = _brt_mem_settings_hold(&core->config, &memory);
    if (status != BRT_OK) _brt_bridge_monitor_free(core);
  }
  if (status != BRT_OK) {
    brt_error_wrap(status, BRT_ORIGIN_C, NULL, "brt_runtime_open: %s configuration refused",
                   cfg ? "the given" : "the BRT_CONFIG file / environment");
    brt_config_dispose(&core->config);
    free(core);
    free(rt);
    free(empty);
    return NULL;
  }
  atomic_init(&core->refs, 1);
  pthread_mutex_init(&core->write_lock, NULL);
  atomic_init(&core->snapshot, empty);
  _brt_bridge_fork_track(core);
  rt->magic = RUNTIME_MAGIC;
  rt->memory = memory;
  atomic_init(&rt->core, core);
  return rt;
}

static bool remove_everything(const brt_entry *entry, const void *ctx) {
  (void)entry;
  (void)ctx;
  return true;
}

void brt_runtime_close(brt_runtime *rt) {
  if (!rt || rt->magic != RUNTIME_MAGIC) return;
  brt_core *core = atomic_exchange(&rt->core, NULL);
  if (!core) return; /* closed already (possibly by another thread) */
  /* After this grace period no reader can reach the core through `rt`;
   * readers that got it before hold their own references. */
  _brt_bridge_grace_period();
  /* The watcher finishes the event it is acting on (its calls into `rt`
   * now fail, or hold their own reference) and stops; write_lock is not
   * held, which its reloads take. */
  _brt_bridge_watch_stop(core);

  pthread_mutex_lock(&core->write_lock);
  core->closed = true;
  (void)_brt_bridge_registry_update(core, NULL, 0, remove_everything, NULL, NULL);
  brt_plugin *plugin = core->plugins;
  core->plugins = NULL;
  pthread_mutex_unlock(&core->write_lock);
  /* A brt_plugin_load_dir that raced the close may have started a watcher
   * before `closed` was set; none can start after. */
  _brt_bridge_watch_stop(core);
  while (plugin) {
    brt_plugin *next = plugin->next;
    _brt_bridge_plugin_release(plugin);
    plugin = next;
  }

  /* Only the thread that took the core gets here: the settings this
   * runtime asked for stop applying. */
  _brt_mem_settings_release(rt->memory);
  rt->memory = NULL;

  pthread_mutex_lock(&closed_shells_lock);
  rt->next_closed = closed_shells;
  closed_shells = rt;
  pthread_mutex_unlock(&closed_shells_lock);
  _brt_bridge_core_release(core);
}
