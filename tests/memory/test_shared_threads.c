/* The shared arena under threads (also run under ThreadSanitizer): blocks
 * allocated by one thread and released by another, several threads
 * allocating and handing blocks to each other while one collects, and
 * the fds and statistics afterwards. */
#include "brt_test.h"

#include <pthread.h>

static uint64_t shared_live_bytes(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  return st.live_bytes_by_type[BRT_MEM_SHARED];
}

static size_t size_of(int i) { return (size_t)(i * 37 % 4000) + 1; }

static unsigned char pattern(int i, size_t b) { return (unsigned char)(i * 13 + (int)b); }

enum { HANDED = 2000 };
static unsigned char *handed[HANDED];

static void *release_all(void *arg) {
  int *bad = arg;
  for (int i = 0; i < HANDED; i++) {
    for (size_t b = 0; b < size_of(i); b++)
      if (handed[i][b] != pattern(i, b)) ++*bad;
    if (brt_release(handed[i]) != BRT_OK) ++*bad;
  }
  return NULL;
}

/* One thread allocates, another verifies and releases; the allocating
 * thread then reuses the freed space and collection closes the fds. */
static void test_release_from_other_thread(void **state) {
  (void)state;
  assert_ok(brt_mem_collect());
  int fds_before = brt_test_open_fds();
  uint64_t live_before = shared_live_bytes();
  for (int i = 0; i < HANDED; i++) {
    handed[i] = brt_alloc_shared(size_of(i));
    assert_non_null(handed[i]);
    for (size_t b = 0; b < size_of(i); b++) handed[i][b] = pattern(i, b);
  }
  assert_true(brt_test_open_fds() - fds_before <= 4);
  int bad = 0;
  pthread_t releaser;
  assert_int_equal(pthread_create(&releaser, NULL, release_all, &bad), 0);
  assert_int_equal(pthread_join(releaser, NULL), 0);
  assert_int_equal(bad, 0);
  assert_int_equal(shared_live_bytes(), live_before);
  /* The other thread's releases are reused here (no new fd). */
  int fds_mid = brt_test_open_fds();
  for (int i = 0; i < HANDED; i++) {
    handed[i] = brt_alloc_shared(size_of(i));
    assert_non_null(handed[i]);
  }
  assert_int_equal(brt_test_open_fds(), fds_mid);
  for (int i = 0; i < HANDED; i++) assert_ok(brt_release(handed[i]));
  assert_ok(brt_mem_collect());
  assert_int_equal(brt_test_open_fds(), fds_before);
}

/* Threads allocate batches, fill them, and hand each batch to the next
 * thread, which checks and releases it; thread 0 also collects now and
 * then. */
enum { THREADS = 3, ROUNDS = 150, BATCH = 32 };

typedef struct mailbox {
  pthread_mutex_t lock;
  pthread_cond_t ready;
  unsigned char *blocks[BATCH];
  int owner_tag[BATCH];
  int full;
} mailbox;

static mailbox boxes[THREADS];
static _Atomic int failures;

typedef struct worker {
  int id;
} worker;

static void *exchange(void *arg) {
  worker *w = arg;
  mailbox *out = &boxes[(w->id + 1) % THREADS];
  mailbox *in = &boxes[w->id];
  for (int round = 0; round < ROUNDS; round++) {
    unsigned char *mine[BATCH];
    int tags[BATCH];
    for (int i = 0; i < BATCH; i++) {
      tags[i] = w->id * 100000 + round * BATCH + i;
      size_t size = size_of(tags[i]);
      mine[i] = brt_alloc_shared(size);
      if (!mine[i]) {
        failures++;
        return NULL;
      }
      for (size_t b = 0; b < size; b++) mine[i][b] = pattern(tags[i], b);
    }
    pthread_mutex_lock(&out->lock);
    while (out->full) pthread_cond_wait(&out->ready, &out->lock);
    memcpy(out->blocks, mine, sizeof mine);
    memcpy(out->owner_tag, tags, sizeof tags);
    out->full = 1;
    pthread_cond_broadcast(&out->ready);
    pthread_mutex_unlock(&out->lock);

    pthread_mutex_lock(&in->lock);
    while (!in->full) pthread_cond_wait(&in->ready, &in->lock);
    unsigned char *got[BATCH];
    int got_tags[BATCH];
    memcpy(got, in->blocks, sizeof got);
    memcpy(got_tags, in->owner_tag, sizeof got_tags);
    in->full = 0;
    pthread_cond_broadcast(&in->ready);
    pthread_mutex_unlock(&in->lock);
    for (int i = 0; i < BATCH; i++) {
      for (size_t b = 0; b < size_of(got_tags[i]); b++)
        if (got[i][b] != pattern(got_tags[i], b)) failures++;
      if (brt_release(got[i]) != BRT_OK) failures++;
    }
    if (w->id == 0 && round % 25 == 0 && brt_mem_collect() != BRT_OK) failures++;
  }
  return NULL;
}

static void test_threads_exchange(void **state) {
  (void)state;
  assert_ok(brt_mem_collect());
  int fds_before = brt_test_open_fds();
  uint64_t live_before = shared_live_bytes();
  pthread_t threads[THREADS];
  worker workers[THREADS];
  for (int t = 0; t < THREADS; t++) {
    pthread_mutex_init(&boxes[t].lock, NULL);
    pthread_cond_init(&boxes[t].ready, NULL);
    boxes[t].full = 0;
    workers[t].id = t;
  }
  for (int t = 0; t < THREADS; t++)
    assert_int_equal(pthread_create(&threads[t], NULL, exchange, &workers[t]), 0);
  for (int t = 0; t < THREADS; t++) assert_int_equal(pthread_join(threads[t], NULL), 0);
  assert_int_equal(failures, 0);
  assert_int_equal(shared_live_bytes(), live_before);
  assert_ok(brt_mem_collect());
  assert_int_equal(brt_test_open_fds(), fds_before);
  for (int t = 0; t < THREADS; t++) {
    pthread_mutex_destroy(&boxes[t].lock);
    pthread_cond_destroy(&boxes[t].ready);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_release_from_other_thread),
      cmocka_unit_test(test_threads_exchange),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
