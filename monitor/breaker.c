/* The circuit breaker and the failure path of a call, under the algorithm's
 * lock.
 *
 * The sliding window is kept without touching shared memory on successful
 * calls: each breaker-counted failure stores the algorithm's completion
 * number at that moment (the count of completed calls, summed over the
 * shards). The last `failures_to_trip` = floor(threshold * window) + 1 of
 * them are kept in a ring; when the oldest of a full ring is less than
 * `window` completions old, more than threshold * window of the last window
 * calls failed, and the circuit opens. Under concurrent load a completion
 * number may lag by the calls other threads are finishing at that instant,
 * which shifts the window by those few calls and nothing more. */
#include "internal.h"

#include "core/utf8.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Failures the caller caused do not count against the algorithm. */
static bool counts_against_algorithm(brt_status result) {
  return result != BRT_OK && result != BRT_E_INVALID_ARGUMENT && result != BRT_E_VALIDATION;
}

static uint64_t completed_now(const brt_algo_stats *stats) {
  uint64_t completed = 0;
  for (unsigned slot = 0; slot < MONITOR_SHARDS; slot++) {
    const monitor_shard *shard = atomic_load_explicit(&stats->shards[slot], memory_order_acquire);
    if (!shard) continue;
    for (unsigned i = 0; i < STATUS_SLOTS; i++)
      completed += atomic_load_explicit(&shard->by_status[i], memory_order_relaxed);
  }
  return completed;
}

static void shard_count(monitor_shard *shard, _Atomic uint64_t *counter) {
  if (shard->shared)
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
  else
    atomic_store_explicit(counter, atomic_load_explicit(counter, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static double ms_between(uint64_t from_ns, uint64_t to_ns) {
  return to_ns > from_ns ? (double)(to_ns - from_ns) / 1e6 : 0.0;
}

/* A probe that never ended (its caller lost it) must not isolate the
 * algorithm forever: after this long another call becomes the probe. */
static uint64_t probe_expiry_ns(const brt_monitor *monitor) {
  uint64_t cooldown = (uint64_t)monitor->cooldown_ms * 1000000u;
  return cooldown > 1000000000u ? cooldown : 1000000000u;
}

brt_status _brt_breaker_begin_slow(brt_algo_stats *stats, monitor_shard *shard, uint64_t now,
                                   uint64_t *start_ns) {
  const brt_monitor *monitor = stats->monitor;
  char message[BRT_ERROR_MESSAGE_MAX];
  pthread_mutex_lock(&stats->lock);
  int state = atomic_load_explicit(&stats->state, memory_order_relaxed);
  bool admit = state == BRT_CIRCUIT_CLOSED;
  if (state == BRT_CIRCUIT_OPEN && now >= stats->open_until_ns) admit = true;
  if (state == BRT_CIRCUIT_HALF_OPEN && now >= stats->probe_start_ns + probe_expiry_ns(monitor))
    admit = true;
  if (admit) {
    if (state != BRT_CIRCUIT_CLOSED) {
      atomic_store_explicit(&stats->state, BRT_CIRCUIT_HALF_OPEN, memory_order_release);
      stats->probe_start_ns = now;
      stats->probe_thread = _brt_monitor_thread_id();
    }
    shard_count(shard, &shard->begun);
    pthread_mutex_unlock(&stats->lock);
    *start_ns = now;
    return BRT_OK;
  }
  shard_count(shard, &shard->rejected);
  if (state == BRT_CIRCUIT_OPEN)
    snprintf(message, sizeof message,
             "algorithm '%s' (version '%s') is isolated: %s; it will be probed again in %.0f ms",
             stats->name, stats->version, stats->reason, ms_between(now, stats->open_until_ns));
  else
    snprintf(message, sizeof message,
             "algorithm '%s' (version '%s') is isolated: %s; a probe call has been running for "
             "%.0f ms and other calls fail fast until it succeeds",
             stats->name, stats->version, stats->reason, ms_between(stats->probe_start_ns, now));
  pthread_mutex_unlock(&stats->lock);
  return brt_error_set(BRT_E_ISOLATED, BRT_ORIGIN_C, NULL, "%s", message);
}

static void remember_last_error(brt_algo_stats *stats, uint64_t now, brt_status result) {
  const brt_error *error = brt_last_error();
  if (error && brt_error_code(error) == result) {
    /* A message is whatever its recorder passed, bytes that are not UTF-8
     * included; the exports promise valid UTF-8, so those become U+FFFD. */
    char formatted[LAST_ERROR_MAX];
    brt_error_format(error, formatted, sizeof formatted);
    _brt_utf8_copy_valid(stats->last_error, sizeof stats->last_error, formatted, strlen(formatted));
  } else {
    snprintf(stats->last_error, sizeof stats->last_error, "%s: %s", brt_status_name(result),
             brt_status_describe(result));
  }
  stats->last_error_at_ns = now;
}

/* Appends a completion number, growing the ring up to failures_to_trip. */
static void ring_push(brt_algo_stats *stats, uint64_t position) {
  uint32_t limit = stats->monitor->failures_to_trip;
  if (stats->ring_count == stats->ring_capacity && stats->ring_capacity < limit) {
    uint32_t capacity = stats->ring_capacity ? stats->ring_capacity * 2 : 8;
    if (capacity > limit) capacity = limit;
    uint64_t *grown = malloc(capacity * sizeof *grown);
    if (grown) {
      for (uint32_t i = 0; i < stats->ring_count; i++)
        grown[i] = stats->failure_positions[(stats->ring_head + i) % stats->ring_capacity];
      free(stats->failure_positions);
      stats->failure_positions = grown;
      stats->ring_capacity = capacity;
      stats->ring_head = 0;
    }
    /* Out of memory: keep the smaller ring; the breaker then trips later. */
  }
  if (stats->ring_capacity == 0) return;
  if (stats->ring_count == stats->ring_capacity) {
    stats->failure_positions[stats->ring_head] = position;
    stats->ring_head = (stats->ring_head + 1) % stats->ring_capacity;
  } else {
    stats->failure_positions[(stats->ring_head + stats->ring_count) % stats->ring_capacity] =
        position;
    stats->ring_count++;
  }
}

static void open_circuit(brt_algo_stats *stats, uint64_t now) {
  atomic_store_explicit(&stats->state, BRT_CIRCUIT_OPEN, memory_order_release);
  stats->open_until_ns = now + (uint64_t)stats->monitor->cooldown_ms * 1000000u;
}

static void close_circuit(brt_algo_stats *stats, uint64_t completed) {
  stats->ring_count = 0;
  stats->ring_head = 0;
  stats->window_start = completed;
  stats->reason[0] = '\0';
  atomic_store_explicit(&stats->state, BRT_CIRCUIT_CLOSED, memory_order_release);
}

void _brt_breaker_end_slow(brt_algo_stats *stats, uint64_t start_ns, brt_status result) {
  const brt_monitor *monitor = stats->monitor;
  uint64_t now = _brt_monitor_now(monitor);
  pthread_mutex_lock(&stats->lock);
  if (result != BRT_OK) remember_last_error(stats, now, result);
  int state = atomic_load_explicit(&stats->state, memory_order_relaxed);
  bool failed = counts_against_algorithm(result);
  if (state == BRT_CIRCUIT_HALF_OPEN && stats->probe_start_ns == start_ns &&
      stats->probe_thread == _brt_monitor_thread_id()) {
    if (failed) {
      snprintf(stats->reason, sizeof stats->reason, "the probe call failed with %s",
               brt_status_name(result));
      open_circuit(stats, now);
    } else {
      close_circuit(stats, completed_now(stats));
    }
  } else if (state == BRT_CIRCUIT_CLOSED && failed) {
    uint64_t position = completed_now(stats);
    ring_push(stats, position);
    uint32_t needed = monitor->failures_to_trip;
    if (stats->ring_count == needed &&
        position - stats->failure_positions[stats->ring_head] < monitor->error_window) {
      uint32_t window_calls, window_errors;
      _brt_breaker_window(stats, position, &window_calls, &window_errors);
      snprintf(stats->reason, sizeof stats->reason,
               "%u of its last %u calls failed (threshold %g%% of %u calls), the last with %s",
               window_errors, window_calls, monitor->error_rate_threshold * 100,
               monitor->error_window, brt_status_name(result));
      stats->trips++;
      open_circuit(stats, now);
    }
  }
  pthread_mutex_unlock(&stats->lock);
}

void _brt_breaker_window(brt_algo_stats *stats, uint64_t completed, uint32_t *window_calls,
                         uint32_t *window_errors) {
  uint32_t window = stats->monitor->error_window;
  uint64_t since_start = completed > stats->window_start ? completed - stats->window_start : 0;
  *window_calls = since_start < window ? (uint32_t)since_start : window;
  uint32_t errors = 0;
  for (uint32_t i = 0; i < stats->ring_count; i++) {
    uint64_t position = stats->failure_positions[(stats->ring_head + i) % stats->ring_capacity];
    if (position + window > completed) errors++;
  }
  *window_errors = errors < *window_calls ? errors : *window_calls;
}

void _brt_breaker_free(brt_algo_stats *stats) {
  free(stats->failure_positions);
  stats->failure_positions = NULL;
}
