/* The owner's merge of a BIASED block (docs/memory.md, "Owner-biased
 * counts") against another holder reading the block's references. The
 * merge folds the owner byte into the word (clearing BIASED) and then
 * zeroes the byte; a reader that takes the word from before the merge and
 * the byte from after it loses the byte's references: a holder is told
 * its block "was already freed" (brt_realloc, brt_block_info_get), or
 * brt_owns says 0, or brt_realloc takes the owner's references for gone
 * and resizes a block still shared.
 *
 * Each round: the owner allocates a block and retains it twice (word 1,
 * byte 2), hands two references to the other thread, which releases one
 * (word 0, QUEUED: the owner has a merge pending) and keeps one. While the
 * owner merges (brt_mem_stats_get), the other thread keeps asking: the
 * block must stay live with two references (brt_owns, brt_block_info_get)
 * and brt_realloc must refuse it as shared. Then the owner releases its
 * reference and the other thread, now the sole holder, resizes the block
 * and releases it. Everything goes through the public ABI. */
#include "brt_test.h"

#include <pthread.h>
#include <stdatomic.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ROUNDS 3000
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ROUNDS 3000
#endif
#endif
#ifndef ROUNDS
#define ROUNDS 20000
#endif

enum { SIZE = 48 };

typedef struct race {
  pthread_barrier_t start, queued, merged, released;
  unsigned char *block; /* written by the owner before `start` */
  atomic_int merging; /* the owner is in its merge */
  /* What the other thread saw wrong, counted (the first one is printed). */
  unsigned freed, not_owned, wrong_count, resized_shared, sole_refused, checks, noted;
} race;

static void note(race *r, unsigned *counter, const char *what, int round) {
  (*counter)++;
  if (r->noted++ < 3)
    fprintf(stderr, "round %d: %s (last error: %s)\n", round, what,
            brt_last_error() ? brt_error_message(brt_last_error()) : "no error recorded");
}

/* One look at the block by a holder that knows the owner holds one more;
 * returns the block it holds afterwards. */
static unsigned char *check_shared(race *r, unsigned char *p, int round) {
  r->checks++;
  if (!brt_owns(p)) note(r, &r->not_owned, "brt_owns says 0 for a held block", round);
  brt_block_info info = {.struct_size = sizeof info};
  if (brt_block_info_get(p, &info) != BRT_OK)
    note(r, &r->freed, "brt_block_info_get failed on a held block", round);
  else if (info.refcount != 2)
    note(r, &r->wrong_count, "refcount is not 2 while both hold the block", round);
  void *moved = brt_realloc(p, SIZE * 4, 16);
  if (moved) {
    note(r, &r->resized_shared, "brt_realloc resized a shared block", round);
    return moved; /* ours now; the owner's reference is to the old block */
  }
  if (brt_error_code(brt_last_error()) != BRT_E_UNSUPPORTED)
    note(r, &r->freed, "brt_realloc of a held, shared block: wrong error", round);
  return p;
}

static void *other_holder(void *arg) {
  race *r = arg;
  for (int round = 0; round < ROUNDS; round++) {
    pthread_barrier_wait(&r->start);
    unsigned char *p = r->block, *held = p;
    if (brt_release(p) != BRT_OK) note(r, &r->freed, "release of one of two references", round);
    pthread_barrier_wait(&r->queued);
    /* Ask while the owner merges; at least once after it is done. */
    do
      held = check_shared(r, p, round);
    while (atomic_load_explicit(&r->merging, memory_order_acquire) && held == p);
    if (held == p) held = check_shared(r, p, round);
    pthread_barrier_wait(&r->merged);
    pthread_barrier_wait(&r->released);
    /* The owner let go: ours alone, so it may move. */
    unsigned char *q = brt_realloc(held, SIZE * 8, 16);
    if (!q) {
      note(r, &r->sole_refused, "brt_realloc of a sole block failed", round);
      q = held;
    }
    if (brt_release(q) != BRT_OK) note(r, &r->freed, "release of the last reference", round);
  }
  return NULL;
}

static void test_merge_against_a_reader(void **state) {
  (void)state;
  brt_mem_stats before = {.struct_size = sizeof before};
  assert_ok(brt_mem_stats_get(&before));
  static race r;
  memset(&r, 0, sizeof r);
  assert_int_equal(pthread_barrier_init(&r.start, NULL, 2), 0);
  assert_int_equal(pthread_barrier_init(&r.queued, NULL, 2), 0);
  assert_int_equal(pthread_barrier_init(&r.merged, NULL, 2), 0);
  assert_int_equal(pthread_barrier_init(&r.released, NULL, 2), 0);
  pthread_t other;
  assert_int_equal(pthread_create(&other, NULL, other_holder, &r), 0);
  brt_mem_stats mid = {.struct_size = sizeof mid};
  for (int round = 0; round < ROUNDS; round++) {
    unsigned char *p = brt_alloc(SIZE, 16, BRT_MEM_C_HEAP, 0);
    assert_non_null(p);
    memset(p, 0x3c, SIZE);
    assert_ok(brt_retain(p)); /* BIASED: word 1, byte 1 */
    assert_ok(brt_retain(p)); /* byte 2 */
    r.block = p;
    atomic_store_explicit(&r.merging, 1, memory_order_release);
    pthread_barrier_wait(&r.start);  /* two references to the other thread */
    pthread_barrier_wait(&r.queued); /* it dropped one: word 0, QUEUED */
    assert_ok(brt_mem_stats_get(&mid)); /* merges: word 2, byte 0 */
    atomic_store_explicit(&r.merging, 0, memory_order_release);
    pthread_barrier_wait(&r.merged);
    assert_ok(brt_release(p)); /* our reference; the other holds the last */
    pthread_barrier_wait(&r.released);
  }
  assert_int_equal(pthread_join(other, NULL), 0);
  print_message("%d rounds, %u checks by the other holder\n", ROUNDS, r.checks);
  assert_int_equal(r.freed, 0);
  assert_int_equal(r.not_owned, 0);
  assert_int_equal(r.wrong_count, 0);
  assert_int_equal(r.resized_shared, 0);
  assert_int_equal(r.sole_refused, 0);
  brt_mem_stats after = {.struct_size = sizeof after};
  assert_ok(brt_mem_stats_get(&after));
  assert_int_equal(after.live_blocks, before.live_blocks);
  assert_int_equal(after.errors_double_free, before.errors_double_free);
  pthread_barrier_destroy(&r.start);
  pthread_barrier_destroy(&r.queued);
  pthread_barrier_destroy(&r.merged);
  pthread_barrier_destroy(&r.released);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(test_merge_against_a_reader)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
