/* Per-thread shards: the process-wide pool of thread slots and the lazy
 * creation of an algorithm's shard for a slot.
 *
 * A thread takes the lowest free slot on its first recording and gives it
 * back when it exits (a pthread key destructor), so a program that starts
 * and ends many threads reuses at most MONITOR_THREAD_SLOTS shards per
 * algorithm. The pool's mutex orders the old owner's last writes before the
 * new owner's first, which keeps the single-writer counters exact. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static pthread_mutex_t slot_pool_lock = PTHREAD_MUTEX_INITIALIZER;

void _brt_monitor_slot_pool_lock(bool take) {
  if (take) pthread_mutex_lock(&slot_pool_lock);
  else pthread_mutex_unlock(&slot_pool_lock);
}
static uint64_t slot_pool_used; /* bit i: slot i is owned by a live thread */
static pthread_key_t slot_key;
static pthread_once_t slot_key_once = PTHREAD_ONCE_INIT;
static bool slot_key_ready;

_Static_assert(MONITOR_THREAD_SLOTS == 64, "slot_pool_used is a 64-bit mask");

/* -1: no slot yet; MONITOR_TLS_SHARED: the shared shard. The thread's
 * identity for probes is this variable's address. */
_Thread_local int _brt_monitor_tls_slot BRT_TLS_INITIAL_EXEC = -1;

/* The pthread key destructor: runs on the exiting thread itself. Should
 * that thread record again afterwards (from a later TLS destructor), it
 * must not write to the slot another thread may take now: it moves to the
 * shared, atomically updated shard. */
static void slot_release(void *value) {
  unsigned slot = (unsigned)(uintptr_t)value - 1;
  if (slot >= MONITOR_THREAD_SLOTS) return;
  _brt_monitor_tls_slot = MONITOR_TLS_SHARED;
  pthread_mutex_lock(&slot_pool_lock);
  slot_pool_used &= ~(UINT64_C(1) << slot);
  pthread_mutex_unlock(&slot_pool_lock);
}

static void slot_key_create(void) {
  slot_key_ready = pthread_key_create(&slot_key, slot_release) == 0;
}

/* Slow path of _brt_monitor_thread_slot: once per thread. */
unsigned _brt_monitor_thread_slot_acquire(void) {
  pthread_once(&slot_key_once, slot_key_create);
  unsigned slot = MONITOR_SHARED_SLOT;
  /* Without the key a slot could never be given back: share instead. */
  if (slot_key_ready) {
    pthread_mutex_lock(&slot_pool_lock);
    if (~slot_pool_used) {
      slot = (unsigned)__builtin_ctzll(~slot_pool_used);
      slot_pool_used |= UINT64_C(1) << slot;
    }
    pthread_mutex_unlock(&slot_pool_lock);
    if (slot != MONITOR_SHARED_SLOT &&
        pthread_setspecific(slot_key, (void *)(uintptr_t)(slot + 1)) != 0) {
      slot_release((void *)(uintptr_t)(slot + 1));
      slot = MONITOR_SHARED_SLOT;
    }
  }
  _brt_monitor_tls_slot = slot == MONITOR_SHARED_SLOT ? MONITOR_TLS_SHARED : (int)slot;
  return slot;
}

const void *_brt_monitor_thread_id(void) { return &_brt_monitor_tls_slot; }

/* Initial-exec like the slot: the sampled branch draws a gap on every timed
 * call, and the default (global-dynamic) model would add a __tls_get_addr
 * call to each. */
static _Thread_local uint64_t tls_random BRT_TLS_INITIAL_EXEC;

uint64_t _brt_monitor_sample_gap(uint32_t every) {
  if (every <= 1) return 1;
  uint64_t x = tls_random;
  if (x == 0) x = (uint64_t)(uintptr_t)&tls_random * UINT64_C(0x9E3779B97F4A7C15) | 1;
  x ^= x << 13; /* xorshift64 */
  x ^= x >> 7;
  x ^= x << 17;
  tls_random = x;
  return 1 + x % (2u * (uint64_t)every - 1);
}

monitor_shard *_brt_monitor_shard_slow(brt_algo_stats *stats, unsigned slot) {
  monitor_shard *shard = atomic_load_explicit(&stats->shards[slot], memory_order_acquire);
  if (shard) return shard;
  /* Cache-line aligned so two threads' shards never share a line. */
  size_t size = (sizeof *shard + 63) & ~(size_t)63;
  shard = aligned_alloc(64, size);
  if (!shard) return NULL;
  memset(shard, 0, size);
  shard->shared = slot == MONITOR_SHARED_SLOT;
  monitor_shard *expected = NULL;
  /* Only the shared slot can race here: a private slot has one writer. */
  if (!atomic_compare_exchange_strong_explicit(&stats->shards[slot], &expected, shard,
                                               memory_order_acq_rel, memory_order_acquire)) {
    free(shard);
    return expected;
  }
  return shard;
}

void _brt_monitor_shards_free(brt_algo_stats *stats) {
  for (unsigned slot = 0; slot < MONITOR_SHARDS; slot++) {
    free(atomic_load_explicit(&stats->shards[slot], memory_order_relaxed));
    atomic_store_explicit(&stats->shards[slot], NULL, memory_order_relaxed);
  }
}
