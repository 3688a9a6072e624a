/* bench/run alloc — bridgert's allocator against glibc, jemalloc and
 * mimalloc (issue 3). Run from bench/run; prints JSON lines (bench.h).
 *
 *   alloc.churn            1024 live slots, random sizes 8..1024 B, 10 M replacements
 *   alloc.pair64           alloc 64 B, write, free: 10 M times
 *   alloc.handoff          thread A allocates 4 M blocks of 16..264 B, thread B frees them
 *   alloc.retain_release   brt_retain + brt_release of one live block (vs an atomic inc/dec,
 *                          and a plain byte inc/dec in two calls: the floor)
 *   alloc.rss_1m64         resident bytes added by holding 1 M live 64 B blocks
 *   alloc.tracking_blocks  alloc.churn with tracking = blocks, against tracking off
 *
 * glibc is called directly. mimalloc is loaded with dlopen(RTLD_LOCAL) and
 * called through mi_malloc / mi_free: Debian's libmimalloc also exports
 * malloc, so linking it would silently replace glibc in this process.
 * jemalloc (whose Debian build exports only malloc/free) runs in a child
 * process of this program started with LD_PRELOAD=libjemalloc.so.2. The RSS
 * bench and the tracking bench run every subject in a fresh child too. A
 * child prints its JSON line; the parent forwards it and uses its figure
 * for the ratio line. bridgert runs with refcounts, type tags and
 * statistics on and tracking off, as in normal use. */
#include <bridgert.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../support/bench.h"

#define CHURN_SLOTS 1024
#define CHURN_OPS 10000000u
#define PAIR_OPS 10000000u
#define HANDOFF_BLOCKS 4000000u
#define RETAIN_OPS 20000000u
#define RSS_BLOCKS 1000000u

static const char *self_path;

/* --- Subjects ------------------------------------------------------------------ */

static void *(*mi_malloc_fn)(size_t);
static void (*mi_free_fn)(void *);

static int load_mimalloc(void) {
  void *lib = dlopen("libmimalloc.so.2", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return 0;
  *(void **)&mi_malloc_fn = dlsym(lib, "mi_malloc"); /* POSIX: dlsym returns object pointers */
  *(void **)&mi_free_fn = dlsym(lib, "mi_free");
  return mi_malloc_fn && mi_free_fn;
}

#define BRT_ALLOC(size) brt_alloc((size), 16, BRT_MEM_C_HEAP, 0)
#define BRT_FREE(p) brt_release(p)
#define LIBC_ALLOC(size) malloc(size)
#define LIBC_FREE(p) free(p)
#define MI_ALLOC(size) mi_malloc_fn(size)
#define MI_FREE(p) mi_free_fn(p)

static inline uint32_t xorshift(uint32_t *state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

/* Each workload is written once as a macro over (ALLOC, FREE) so every
 * subject runs the same loop with direct calls. */
#define DEFINE_CHURN(name, ALLOC, FREE)                                          \
  static double name(void *arg, uint64_t ops) {                                   \
    (void)arg;                                                                    \
    static void *slots[CHURN_SLOTS];                                              \
    uint32_t rng = 2463534242u;                                                   \
    for (int i = 0; i < CHURN_SLOTS; i++) slots[i] = ALLOC(8 + xorshift(&rng) % 1017); \
    uint64_t start = bench_now_ns();                                              \
    for (uint64_t i = 0; i < ops; i++) {                                          \
      uint32_t r = xorshift(&rng);                                                \
      uint32_t slot = r & (CHURN_SLOTS - 1);                                      \
      FREE(slots[slot]);                                                          \
      slots[slot] = ALLOC(8 + (r >> 10) % 1017);                                  \
      *(char *)slots[slot] = (char)i;                                             \
    }                                                                             \
    uint64_t elapsed = bench_now_ns() - start;                                    \
    for (int i = 0; i < CHURN_SLOTS; i++) FREE(slots[i]);                         \
    return (double)elapsed;                                                       \
  }

#define DEFINE_PAIR64(name, ALLOC, FREE)                    \
  static double name(void *arg, uint64_t ops) {              \
    (void)arg;                                               \
    uint64_t start = bench_now_ns();                         \
    for (uint64_t i = 0; i < ops; i++) {                     \
      char *p = ALLOC(64);                                   \
      p[0] = (char)i;                                        \
      p[63] = (char)i;                                       \
      BENCH_USE(p);                                          \
      FREE(p);                                               \
    }                                                        \
    return (double)(bench_now_ns() - start);                 \
  }

DEFINE_CHURN(churn_bridgert, BRT_ALLOC, BRT_FREE)
DEFINE_CHURN(churn_libc, LIBC_ALLOC, LIBC_FREE)
DEFINE_CHURN(churn_mimalloc, MI_ALLOC, MI_FREE)
DEFINE_PAIR64(pair64_bridgert, BRT_ALLOC, BRT_FREE)
DEFINE_PAIR64(pair64_libc, LIBC_ALLOC, LIBC_FREE)
DEFINE_PAIR64(pair64_mimalloc, MI_ALLOC, MI_FREE)

/* --- Handoff: A allocates, B frees, through a single-producer ring ----------- */

#define RING 4096
typedef struct handoff {
  void *slots[RING];
  _Atomic uint64_t head; /* written by the producer */
  _Atomic uint64_t tail; /* written by the consumer */
  uint64_t count;
  void (*free_fn)(void *);
} handoff;

static void brt_free_fn(void *p) { brt_release(p); }
static void libc_free_fn(void *p) { free(p); }
static void mi_free_wrap(void *p) { mi_free_fn(p); }

static void *handoff_consumer(void *arg) {
  handoff *h = arg;
  uint64_t tail = 0;
  while (tail < h->count) {
    uint64_t head = atomic_load_explicit(&h->head, memory_order_acquire);
    if (head == tail) {
      sched_yield();
      continue;
    }
    for (; tail < head; tail++) h->free_fn(h->slots[tail % RING]);
    atomic_store_explicit(&h->tail, tail, memory_order_release);
  }
  return NULL;
}

#define DEFINE_HANDOFF(name, ALLOC, FREE_FN)                                         \
  static double name(void *arg, uint64_t ops) {                                       \
    (void)arg;                                                                        \
    static handoff h;                                                                 \
    atomic_store(&h.head, 0);                                                         \
    atomic_store(&h.tail, 0);                                                         \
    h.count = ops;                                                                    \
    h.free_fn = FREE_FN;                                                              \
    uint32_t rng = 88172645u;                                                         \
    pthread_t consumer;                                                               \
    uint64_t start = bench_now_ns();                                                  \
    pthread_create(&consumer, NULL, handoff_consumer, &h);                           \
    for (uint64_t i = 0; i < ops; i++) {                                              \
      while (i - atomic_load_explicit(&h.tail, memory_order_acquire) >= RING) sched_yield(); \
      char *p = ALLOC(16 + xorshift(&rng) % 249);                                     \
      p[0] = (char)i;                                                                 \
      h.slots[i % RING] = p;                                                          \
      if ((i & 63) == 63 || i + 1 == ops)                                             \
        atomic_store_explicit(&h.head, i + 1, memory_order_release);                  \
    }                                                                                 \
    pthread_join(consumer, NULL);                                                     \
    return (double)(bench_now_ns() - start);                                          \
  }

DEFINE_HANDOFF(handoff_bridgert, BRT_ALLOC, brt_free_fn)
DEFINE_HANDOFF(handoff_libc, LIBC_ALLOC, libc_free_fn)
DEFINE_HANDOFF(handoff_mimalloc, MI_ALLOC, mi_free_wrap)

/* --- Retain + release ---------------------------------------------------------- */

static double retain_release_bridgert(void *arg, uint64_t ops) {
  void *block = arg;
  uint64_t start = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    brt_retain(block);
    brt_release(block);
  }
  return (double)(bench_now_ns() - start);
}

/* The floor any shared refcount pays: one atomic increment and decrement. */
static double retain_release_atomic(void *arg, uint64_t ops) {
  _Atomic uint32_t *count = arg;
  uint64_t start = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    atomic_fetch_add_explicit(count, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(count, 1, memory_order_release);
  }
  return (double)(bench_now_ns() - start);
}

/* The floor of any count kept in memory and changed through calls, as
 * brt_retain and brt_release change the owner's byte: a plain (unlocked)
 * byte increment and decrement, each in a function of its own. What
 * separates the two back-to-back calls is the store-to-load forwarding of
 * the byte, twice per pair, so this shows how much of bridgert's figure is
 * the lookup and the validation and how much is the host. */
static __attribute__((noinline)) void plain_inc(_Atomic uint8_t *count) {
  atomic_store_explicit(count, (uint8_t)(atomic_load_explicit(count, memory_order_relaxed) + 1),
                        memory_order_relaxed);
}
static __attribute__((noinline)) void plain_dec(_Atomic uint8_t *count) {
  atomic_store_explicit(count, (uint8_t)(atomic_load_explicit(count, memory_order_relaxed) - 1),
                        memory_order_relaxed);
}
static double retain_release_plain(void *arg, uint64_t ops) {
  _Atomic uint8_t *count = arg;
  uint64_t start = bench_now_ns();
  for (uint64_t i = 0; i < ops; i++) {
    plain_inc(count);
    plain_dec(count);
  }
  return (double)(bench_now_ns() - start);
}

/* --- RSS ---------------------------------------------------------------------------- */

static double resident_bytes(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, resident = 0;
  if (f) {
    if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
    fclose(f);
  }
  return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

#define DEFINE_RSS(name, ALLOC)                                      \
  static double name(void) {                                         \
    static void *blocks[RSS_BLOCKS];                                 \
    double before = resident_bytes();                                \
    for (uint32_t i = 0; i < RSS_BLOCKS; i++) {                      \
      blocks[i] = ALLOC(64);                                         \
      memset(blocks[i], (int)i, 64);                                 \
    }                                                                \
    return resident_bytes() - before;                                \
  }

DEFINE_RSS(rss_bridgert, BRT_ALLOC)
DEFINE_RSS(rss_libc, LIBC_ALLOC)
DEFINE_RSS(rss_mimalloc, MI_ALLOC)

/* --- Children -------------------------------------------------------------------------- */

/* In a child: runs one bench for one subject and prints its JSON line.
 * `allocator` is "bridgert", "libc" (glibc, or jemalloc when preloaded) or
 * "mimalloc"; `subject` is the name printed. */
static int child_main(const char *bench, const char *allocator, const char *subject) {
  bench_state state;
  int is_brt = strcmp(allocator, "bridgert") == 0, is_mi = strcmp(allocator, "mimalloc") == 0;
  if (is_mi && !load_mimalloc()) return 1;
  if (strcmp(bench, "alloc.rss_1m64") == 0) {
    bench_begin(&state, bench, "bytes");
    double sample = is_brt ? rss_bridgert() : is_mi ? rss_mimalloc() : rss_libc();
    double samples[5] = {sample, sample, sample, sample, sample};
    bench_report(&state, subject, samples, 5, "\"blocks\":1000000,\"block_size\":64");
    return 0;
  }
  bench_begin(&state, bench, NULL);
  if (strcmp(bench, "alloc.churn") == 0 || strcmp(bench, "alloc.tracking_blocks") == 0)
    bench_run_subject(&state, subject, is_brt ? churn_bridgert : is_mi ? churn_mimalloc : churn_libc,
                      NULL, CHURN_OPS, NULL);
  else if (strcmp(bench, "alloc.pair64") == 0)
    bench_run_subject(&state, subject, is_brt ? pair64_bridgert : is_mi ? pair64_mimalloc : pair64_libc,
                      NULL, PAIR_OPS, NULL);
  else if (strcmp(bench, "alloc.handoff") == 0)
    bench_run_subject(&state, subject,
                      is_brt ? handoff_bridgert : is_mi ? handoff_mimalloc : handoff_libc, NULL,
                      HANDOFF_BLOCKS, NULL);
  else
    return 2;
  return 0;
}

/* Runs this program as a child (with extra environment), forwards its JSON
 * line and records its figure in `state`. */
static void run_child(bench_state *state, const char *bench, const char *allocator,
                      const char *subject, const char *env_name, const char *env_value) {
  char command[4096];
  snprintf(command, sizeof command, "%s%s%s%s '%s' --child %s %s %s", env_name ? env_name : "",
           env_name ? "='" : "", env_value ? env_value : "", env_name ? "'" : "", self_path, bench,
           allocator, subject);
  FILE *child = popen(command, "r");
  if (!child) return;
  char line[1024];
  while (fgets(line, sizeof line, child)) {
    const char *key = strcmp(state->unit, "bytes") == 0 ? "\"bytes\":" : "\"ns_per_op\":";
    const char *at = strstr(line, key);
    if (!at || state->count >= BENCH_MAX_SUBJECTS) continue;
    fputs(line, stdout);
    fflush(stdout);
    state->results[state->count++] = (bench_result){subject, strtod(at + strlen(key), NULL)};
  }
  pclose(child);
}

static const char *jemalloc_path(void) {
  static const char *const candidates[] = {"/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
                                           "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
                                           "/usr/lib/libjemalloc.so.2"};
  for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
    if (access(candidates[i], R_OK) == 0) return candidates[i];
  return NULL;
}

static void bench_in_process(const char *bench, double (*brt)(void *, uint64_t),
                             double (*libc)(void *, uint64_t), double (*mi)(void *, uint64_t),
                             uint64_t ops, int have_mimalloc) {
  bench_state state;
  bench_begin(&state, bench, NULL);
  bench_run_subject(&state, "bridgert", brt, NULL, ops, NULL);
  bench_run_subject(&state, "glibc", libc, NULL, ops, NULL);
  if (have_mimalloc) bench_run_subject(&state, "mimalloc", mi, NULL, ops, NULL);
  const char *je = jemalloc_path();
  if (je) run_child(&state, bench, "libc", "jemalloc", "LD_PRELOAD", je);
  bench_ratios(&state, "bridgert");
}

int main(int argc, char **argv) {
  self_path = argv[0];
  if (argc == 5 && strcmp(argv[1], "--child") == 0) return child_main(argv[2], argv[3], argv[4]);
  /* One bench by name, with or without the "alloc." prefix. */
  static const char *const names[] = {"alloc.churn",          "alloc.pair64",
                                      "alloc.handoff",        "alloc.retain_release",
                                      "alloc.rss_1m64",       "alloc.tracking_blocks"};
  const char *only = NULL;
  if (argc > 1) {
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
      if (strcmp(argv[1], names[i]) == 0 || strcmp(argv[1], names[i] + strlen("alloc.")) == 0)
        only = names[i];
    if (!only) {
      fprintf(stderr, "bench-alloc: no bench '%s'; one of:", argv[1]);
      for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) fprintf(stderr, " %s", names[i]);
      fprintf(stderr, " (or none for all)\n");
      return 2;
    }
  }
  int have_mimalloc = load_mimalloc();
  if (!have_mimalloc) fprintf(stderr, "bench-alloc: libmimalloc.so.2 not found; mimalloc skipped\n");
#define WANT(name) (!only || strcmp(only, name) == 0)
  if (WANT("alloc.churn"))
    bench_in_process("alloc.churn", churn_bridgert, churn_libc, churn_mimalloc, CHURN_OPS, have_mimalloc);
  if (WANT("alloc.pair64"))
    bench_in_process("alloc.pair64", pair64_bridgert, pair64_libc, pair64_mimalloc, PAIR_OPS,
                     have_mimalloc);
  if (WANT("alloc.handoff"))
    bench_in_process("alloc.handoff", handoff_bridgert, handoff_libc, handoff_mimalloc,
                     HANDOFF_BLOCKS, have_mimalloc);
  if (WANT("alloc.retain_release")) {
    bench_state state;
    bench_begin(&state, "alloc.retain_release", NULL);
    void *block = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
    bench_run_subject(&state, "bridgert", retain_release_bridgert, block, RETAIN_OPS,
                      "\"op\":\"retain+release\"");
    brt_release(block);
    static _Atomic uint32_t count = 1;
    bench_run_subject(&state, "atomic_inc_dec", retain_release_atomic, (void *)&count, RETAIN_OPS,
                      "\"op\":\"fetch_add+fetch_sub\"");
    static _Atomic uint8_t byte = 1;
    bench_run_subject(&state, "plain_inc_dec", retain_release_plain, (void *)&byte, RETAIN_OPS,
                      "\"op\":\"byte load+store, twice, in two calls\"");
    bench_ratios(&state, "bridgert");
  }
  if (WANT("alloc.rss_1m64")) {
    bench_state state;
    bench_begin(&state, "alloc.rss_1m64", "bytes");
    run_child(&state, "alloc.rss_1m64", "bridgert", "bridgert", NULL, NULL);
    run_child(&state, "alloc.rss_1m64", "libc", "glibc", NULL, NULL);
    if (have_mimalloc) run_child(&state, "alloc.rss_1m64", "mimalloc", "mimalloc", NULL, NULL);
    const char *je = jemalloc_path();
    if (je) run_child(&state, "alloc.rss_1m64", "libc", "jemalloc", "LD_PRELOAD", je);
    bench_ratios(&state, "bridgert");
  }
  if (WANT("alloc.tracking_blocks")) {
    bench_state state;
    bench_begin(&state, "alloc.tracking_blocks", NULL);
    run_child(&state, "alloc.tracking_blocks", "bridgert", "bridgert_tracking_blocks",
              "BRT_TRACKING", "blocks");
    run_child(&state, "alloc.tracking_blocks", "bridgert", "bridgert_tracking_off", "BRT_TRACKING",
              "off");
    bench_ratios(&state, "bridgert_tracking_blocks");
  }
  return 0;
}
