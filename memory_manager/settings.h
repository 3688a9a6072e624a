/* The allocator's process-wide settings (max_memory, gc_threshold,
 * gc_interval_ms, tracking, hardened) as the base and the open runtimes
 * ask for them (heap.c). Private to the library: the memory manager's own
 * files and bridge/runtime.c include it; nothing here is exported.
 *
 * The base is the BRT_* environment read at the allocator's first use,
 * then whatever brt_mem_configure and brt_mem_set_limit set. Each open
 * runtime holds its config's memory keys. What applies is the strictest of
 * the base and every hold: the lowest non-zero limit and gc_threshold, the
 * shortest gc_interval_ms among those that set a gc_threshold, the highest
 * tracking level, and hardened when any asks for it. Every one of them can
 * change while the process runs (tracking and hardened reach each thread's
 * pages at its next allocation slow path), so a hold is never refused for
 * coming late. */
#ifndef BRT_MEMORY_SETTINGS_H
#define BRT_MEMORY_SETTINGS_H

#include "bridgert/config.h"
#include "bridgert/status.h"

#include <stdint.h>

typedef struct brt_mem_hold brt_mem_hold;

/* Adds the memory keys of `cfg` (validated by the caller) to what applies,
 * until _brt_mem_settings_release(*out). OUT_OF_MEMORY (recorded) when the
 * hold cannot be allocated; nothing changes then. */
brt_status _brt_mem_settings_hold(const brt_config *cfg, brt_mem_hold **out);
/* Drops a hold (NULL is ignored) and applies what the others and the base
 * ask for. */
void _brt_mem_settings_release(brt_mem_hold *hold);
/* brt_mem_set_limit: the base's limit (checked by the caller). */
void _brt_mem_settings_set_base_limit(uint64_t bytes);

#endif /* BRT_MEMORY_SETTINGS_H */
