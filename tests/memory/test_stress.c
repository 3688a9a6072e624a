/* Stress: STRESS_THREADS threads run random alloc / retain / release /
 * release_sized / realloc / cross-thread handoff operations, 10 M in total
 * by default (BRT_STRESS_OPS overrides; builds with a sanitizer default to
 * a tenth so the suite stays fast). Every block is filled with a pattern
 * derived from its seed, verified before every release, realloc and
 * handoff; at the end every thread's statistics balance to zero. */
#include "brt_test.h"

#include <pthread.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

enum { STRESS_THREADS = 3, SLOTS = 2048, MAILBOX = 1024 };

typedef struct record {
  unsigned char *p;
  size_t size, align;
  uint64_t seed;
  int shared; /* another thread holds a reference too: read only */
} record;

typedef struct mailbox {
  pthread_mutex_t lock;
  record items[MAILBOX];
  int count;
} mailbox;

static mailbox boxes[STRESS_THREADS];
static uint64_t ops_per_thread;

static uint64_t next_random(uint64_t *state) {
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

/* Byte i of a block depends only on the seed and i, so a prefix of a
 * block (what realloc keeps) has the same pattern. */
static uint64_t pattern_word(uint64_t seed, size_t k) {
  return (seed + k) * 0x9E3779B97F4A7C15u;
}

static void pattern_fill(const record *r) {
  size_t words = r->size / 8;
  for (size_t k = 0; k < words; k++) {
    uint64_t word = pattern_word(r->seed, k);
    memcpy(r->p + k * 8, &word, 8);
  }
  uint64_t last = pattern_word(r->seed, words);
  memcpy(r->p + words * 8, &last, r->size - words * 8);
}

static int pattern_ok(const record *r) {
  size_t words = r->size / 8;
  uint64_t bad = 0;
  for (size_t k = 0; k < words; k++) {
    uint64_t got;
    memcpy(&got, r->p + k * 8, 8);
    bad |= got ^ pattern_word(r->seed, k);
  }
  uint64_t last = pattern_word(r->seed, words);
  return bad == 0 && memcmp(r->p + words * 8, &last, r->size - words * 8) == 0;
}

static size_t random_size(uint64_t *rng) {
  uint64_t roll = next_random(rng) % 1000;
  if (roll < 900) return 1 + next_random(rng) % 512;
  if (roll < 995) return 1 + next_random(rng) % 4096;
  if (roll < 999) return 1 + next_random(rng) % 65536;
  return 65537 + next_random(rng) % 200000;
}

static size_t random_align(uint64_t *rng) {
  static const size_t aligns[] = {1, 8, 16, 16, 16, 16, 64, 4096};
  return aligns[next_random(rng) % 8];
}

typedef struct worker {
  int id;
  uint64_t rng;
  record slots[SLOTS];
  uint64_t failures;
  uint64_t ops;
} worker;

static void note_failure(worker *w, const char *what, const record *r) {
  if (w->failures++ < 5)
    fprintf(stderr, "thread %d: %s (block %p, size %zu, seed %llu): %s\n", w->id, what, (void *)r->p,
            r->size, (unsigned long long)r->seed,
            brt_last_error() ? brt_error_message(brt_last_error()) : "no error recorded");
}

static void drop(worker *w, record *r) {
  if (!pattern_ok(r)) note_failure(w, "pattern damaged before release", r);
  brt_status st = (next_random(&w->rng) & 1) || r->shared
                      ? brt_release(r->p)
                      : brt_release_sized(r->p, r->size, r->align);
  if (st != BRT_OK) note_failure(w, "release failed", r);
  r->p = NULL;
}

static void take_mail(worker *w) {
  mailbox *box = &boxes[w->id];
  pthread_mutex_lock(&box->lock);
  int count = box->count;
  record items[MAILBOX];
  memcpy(items, box->items, sizeof(record) * (size_t)count);
  box->count = 0;
  pthread_mutex_unlock(&box->lock);
  for (int i = 0; i < count; i++) {
    record *slot = &w->slots[next_random(&w->rng) % SLOTS];
    if (slot->p) drop(w, slot);
    *slot = items[i];
    if (!pattern_ok(slot)) note_failure(w, "pattern damaged in handoff", slot);
  }
}

/* Sends r to another thread; with `keep` the sender retains it first and
 * both sides hold it (read only from then on). */
static int send_mail(worker *w, record *r, int keep) {
  int to = (w->id + 1 + (int)(next_random(&w->rng) % (STRESS_THREADS - 1))) % STRESS_THREADS;
  mailbox *box = &boxes[to];
  if (keep && brt_retain(r->p) != BRT_OK) note_failure(w, "retain for handoff failed", r);
  pthread_mutex_lock(&box->lock);
  int sent = box->count < MAILBOX;
  if (sent) {
    box->items[box->count] = *r;
    box->items[box->count].shared |= keep;
    box->count++;
  }
  pthread_mutex_unlock(&box->lock);
  if (!sent) {
    if (keep) brt_release(r->p);
    return 0;
  }
  if (keep) r->shared = 1;
  else r->p = NULL;
  return 1;
}

static void one_op(worker *w) {
  record *r = &w->slots[next_random(&w->rng) % SLOTS];
  uint64_t roll = next_random(&w->rng) % 100;
  if (!r->p) {
    size_t align = random_align(&w->rng);
    r->size = random_size(&w->rng);
    r->seed = next_random(&w->rng);
    r->shared = 0;
    r->align = align;
    r->p = brt_alloc(r->size, align, (brt_mem_type)(next_random(&w->rng) % 3), 0);
    if (!r->p) {
      note_failure(w, "alloc failed", r);
      return;
    }
    if ((uintptr_t)r->p % (align < 16 ? 16 : align)) note_failure(w, "misaligned", r);
    pattern_fill(r);
  } else if (roll < 40) {
    drop(w, r);
  } else if (roll < 55) {
    if (brt_retain(r->p) != BRT_OK || brt_release(r->p) != BRT_OK) note_failure(w, "retain/release", r);
  } else if (roll < 70) {
    if (r->shared) {
      /* Refused while the other holder keeps its reference; once it has
       * released, the block is ours alone and may move. */
      unsigned char *moved = brt_realloc(r->p, r->size, 16);
      if (!moved) {
        if (brt_error_code(brt_last_error()) != BRT_E_UNSUPPORTED)
          note_failure(w, "realloc of a shared block: wrong error", r);
        return;
      }
      r->p = moved;
      r->align = 16;
      r->shared = 0;
      if (!pattern_ok(r)) note_failure(w, "realloc lost a shared block's contents", r);
      return;
    }
    if (!pattern_ok(r)) note_failure(w, "pattern damaged before realloc", r);
    size_t size = random_size(&w->rng);
    unsigned char *moved = brt_realloc(r->p, size, 16);
    if (!moved) {
      note_failure(w, "realloc failed", r);
      return;
    }
    record check = {moved, size < r->size ? size : r->size, 16, r->seed, 0};
    if (!pattern_ok(&check)) note_failure(w, "realloc lost the contents", &check);
    r->p = moved;
    r->size = size;
    r->align = 16;
    pattern_fill(r);
  } else if (roll < 95) {
    if (!pattern_ok(r)) note_failure(w, "pattern damaged before handoff", r);
    send_mail(w, r, !r->shared && roll >= 90);
  } else {
    take_mail(w);
  }
}

static void *run_worker(void *arg) {
  worker *w = arg;
  for (uint64_t i = 0; i < ops_per_thread; i++) {
    one_op(w);
    w->ops++;
    if ((i & 255) == 0) take_mail(w);
  }
  return NULL;
}

static void test_stress(void **state) {
  (void)state;
  const char *text = getenv("BRT_STRESS_OPS");
  uint64_t total = text ? strtoull(text, NULL, 10) : (SANITIZED ? 1000000u : 10000000u);
  ops_per_thread = total / STRESS_THREADS + 1;
  brt_mem_stats before = {.struct_size = sizeof before};
  assert_ok(brt_mem_stats_get(&before));
  static worker workers[STRESS_THREADS];
  pthread_t threads[STRESS_THREADS];
  for (int i = 0; i < STRESS_THREADS; i++) {
    pthread_mutex_init(&boxes[i].lock, NULL);
    workers[i].id = i;
    workers[i].rng = 0x1234567ull * (uint64_t)(i + 1) + 99;
  }
  for (int i = 0; i < STRESS_THREADS; i++) pthread_create(&threads[i], NULL, run_worker, &workers[i]);
  for (int i = 0; i < STRESS_THREADS; i++) pthread_join(threads[i], NULL);
  uint64_t ops = 0;
  for (int i = 0; i < STRESS_THREADS; i++) {
    worker *w = &workers[i];
    take_mail(w);
    for (int s = 0; s < SLOTS; s++)
      if (w->slots[s].p) drop(w, &w->slots[s]);
    assert_int_equal(w->failures, 0);
    ops += w->ops;
  }
  for (int i = 0; i < STRESS_THREADS; i++) assert_int_equal(boxes[i].count, 0);
  brt_mem_stats after = {.struct_size = sizeof after};
  assert_ok(brt_mem_stats_get(&after));
  print_message("%llu operations on %d threads; %llu allocations\n", (unsigned long long)ops,
                STRESS_THREADS, (unsigned long long)(after.total_allocs - before.total_allocs));
  assert_true(ops >= total);
  assert_int_equal(after.live_blocks, before.live_blocks);
  assert_int_equal(after.live_bytes, before.live_bytes);
  assert_int_equal(after.errors_invalid_pointer, before.errors_invalid_pointer);
  assert_int_equal(after.errors_double_free, before.errors_double_free);
  assert_ok(brt_mem_collect());
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_stress)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
