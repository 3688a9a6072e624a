/* alloc-instructions WORKLOAD — the alloc benches' workloads, small enough
 * to run under callgrind, whose instruction counts do not depend on how
 * busy the machine is (docs/memory.md, "Instruction counts"):
 *
 *   valgrind --tool=callgrind --separate-threads=yes \
 *       build-bench/bench/alloc/alloc-instructions churn
 *   callgrind_annotate --inclusive=yes callgrind.out.<pid>-01
 *
 * Workloads (OPS operations each, bridgert then mimalloc where a peer
 * exists; divide a function's count by OPS):
 *   churn    1024 live slots, random sizes 8..1024: release + alloc per op
 *            (churn_bridgert / churn_mimalloc, brt_alloc, brt_release)
 *   retain   brt_retain + brt_release of one live block (retain_bridgert)
 *   handoff  this thread allocates OPS blocks of 16..264 B, a second
 *            thread releases them all (its file is the -02 one:
 *            release_all_bridgert / release_all_mimalloc) */
#include <bridgert.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OPS 200000u
#define SLOTS 1024

static void *(*mi_malloc_fn)(size_t);
static void (*mi_free_fn)(void *);
static void *handoff_blocks[OPS];

static uint32_t xorshift(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

static void *brt_alloc_c(size_t size) { return brt_alloc(size, 16, BRT_MEM_C_HEAP, 0); }
static void brt_release_c(void *p) { brt_release(p); }

/* noinline: each subject is one function in callgrind's output. */
#define DEFINE_CHURN(name, ALLOC, FREE)                                        \
  static __attribute__((noinline)) void name(void) {                          \
    static void *slots[SLOTS];                                                 \
    uint32_t rng = 2463534242u;                                                \
    for (int i = 0; i < SLOTS; i++) slots[i] = ALLOC(8 + xorshift(&rng) % 1017); \
    for (uint32_t i = 0; i < OPS; i++) {                                       \
      uint32_t r = xorshift(&rng);                                             \
      uint32_t slot = r & (SLOTS - 1);                                         \
      FREE(slots[slot]);                                                       \
      slots[slot] = ALLOC(8 + (r >> 10) % 1017);                               \
      *(char *)slots[slot] = (char)i;                                          \
    }                                                                          \
    for (int i = 0; i < SLOTS; i++) FREE(slots[i]);                            \
  }

#define DEFINE_HANDOFF(name, release_all, ALLOC, FREE)                         \
  static __attribute__((noinline)) void *release_all(void *arg) {             \
    (void)arg;                                                                 \
    for (uint32_t i = 0; i < OPS; i++) FREE(handoff_blocks[i]);                \
    return NULL;                                                               \
  }                                                                            \
  static __attribute__((noinline)) void name(void) {                          \
    uint32_t rng = 88172645u;                                                  \
    for (uint32_t i = 0; i < OPS; i++) handoff_blocks[i] = ALLOC(16 + xorshift(&rng) % 249); \
    pthread_t releaser;                                                        \
    pthread_create(&releaser, NULL, release_all, NULL);                        \
    pthread_join(releaser, NULL);                                              \
  }

DEFINE_CHURN(churn_bridgert, brt_alloc_c, brt_release_c)
DEFINE_CHURN(churn_mimalloc, mi_malloc_fn, mi_free_fn)
DEFINE_HANDOFF(handoff_bridgert, release_all_bridgert, brt_alloc_c, brt_release_c)
DEFINE_HANDOFF(handoff_mimalloc, release_all_mimalloc, mi_malloc_fn, mi_free_fn)

static __attribute__((noinline)) void retain_bridgert(void) {
  void *block = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  for (uint32_t i = 0; i < OPS; i++) {
    brt_retain(block);
    brt_release(block);
  }
  brt_release(block);
}

int main(int argc, char **argv) {
  const char *workload = argc > 1 ? argv[1] : "";
  void *lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
  if (lib) {
    *(void **)&mi_malloc_fn = dlsym(lib, "mi_malloc"); /* POSIX: dlsym returns object pointers */
    *(void **)&mi_free_fn = dlsym(lib, "mi_free");
  }
  int have_mimalloc = mi_malloc_fn && mi_free_fn;
  if (strcmp(workload, "churn") == 0) {
    churn_bridgert();
    if (have_mimalloc) churn_mimalloc();
  } else if (strcmp(workload, "retain") == 0) {
    retain_bridgert();
  } else if (strcmp(workload, "handoff") == 0) {
    handoff_bridgert();
    if (have_mimalloc) handoff_mimalloc();
  } else {
    fprintf(stderr, "usage: alloc-instructions churn|retain|handoff (%u operations)\n", OPS);
    return 2;
  }
  return 0;
}
