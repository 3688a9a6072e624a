/* Large blocks (more than 4 MiB) reuse the mappings of released ones: a
 * freed mapping is kept (at most 4, at most 64 MiB charged), still counted
 * in committed_bytes, and a block of 1 to 2 times less reuses it; the
 * limit and brt_mem_collect see through the cache. Observed through the
 * public ABI: addresses and brt_mem_stats_get. */
#include "brt_test.h"

#include <stdbool.h>

#define MIB ((size_t)1 << 20)
/* What a cached mapping of an n-byte block (a page multiple) is charged:
 * its header page and the block's pages. */
#define CHARGE(n) ((uint64_t)(n) + 4096)

static uint64_t committed_now(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  return st.committed_bytes;
}

/* Committed bytes with nothing cached (every test starts from it). */
static uint64_t baseline(void) {
  assert_ok(brt_mem_collect());
  return committed_now();
}

static void fill(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i += 4093) p[i] = (unsigned char)(seed + i);
  p[n - 1] = (unsigned char)seed;
}
static bool check(const unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i += 4093)
    if (p[i] != (unsigned char)(seed + i)) return false;
  return p[n - 1] == (unsigned char)seed;
}

/* A released 16 MiB block stays charged; the next block of about its size
 * gets the same address; a smaller one (down to half) too, charged only
 * for its own pages and zeroed when asked; collect gives everything back. */
static void test_reused_within_a_factor(void **state) {
  (void)state;
  uint64_t base = baseline();
  unsigned char *p = brt_alloc(16 * MIB, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(p);
  fill(p, 16 * MIB, 1);
  assert_int_equal(committed_now() - base, CHARGE(16 * MIB));
  assert_ok(brt_release(p));
  assert_int_equal(committed_now() - base, CHARGE(16 * MIB)); /* cached */
  assert_false(brt_owns(p));                                   /* but not a block */

  unsigned char *q = brt_alloc(16 * MIB - 100, 64, BRT_MEM_RUST_HEAP, 0);
  assert_ptr_equal(q, p);
  assert_true(brt_owns(q));
  assert_int_equal(committed_now() - base, CHARGE(16 * MIB));
  assert_ok(brt_release(q));

  unsigned char *z = brt_alloc(9 * MIB, 16, BRT_MEM_C_HEAP, BRT_ALLOC_ZERO);
  assert_ptr_equal(z, p);
  assert_int_equal(committed_now() - base, CHARGE(9 * MIB)); /* the tail was given back */
  for (size_t i = 0; i < 9 * MIB; i += 511) assert_int_equal(z[i], 0);
  assert_int_equal(z[9 * MIB - 1], 0);
  assert_ok(brt_release(z));

  /* Less than half of the cached block: a mapping of its own. */
  unsigned char *small = brt_alloc(4 * MIB, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(small);
  assert_ptr_not_equal(small, p);
  assert_ok(brt_release(small));
  assert_ok(brt_mem_collect());
  assert_int_equal(committed_now(), base);
}

/* At most 4 mappings and 64 MiB are kept; the oldest go first, and a block
 * larger than the whole cache is unmapped at once. */
static void test_caps(void **state) {
  (void)state;
  uint64_t base = baseline();
  void *blocks[6];
  for (int i = 0; i < 6; i++) assert_non_null(blocks[i] = brt_alloc(12 * MIB, 16, BRT_MEM_C_HEAP, 0));
  for (int i = 0; i < 6; i++) assert_ok(brt_release(blocks[i]));
  assert_int_equal(committed_now() - base, 4 * CHARGE(12 * MIB));
  /* The newest four are kept: the last released is reused first. */
  void *again = brt_alloc(12 * MIB, 16, BRT_MEM_C_HEAP, 0);
  assert_true(again == blocks[2] || again == blocks[3] || again == blocks[4] || again == blocks[5]);
  assert_ok(brt_release(again));
  assert_ok(brt_mem_collect());
  assert_int_equal(committed_now(), base);

  for (int i = 0; i < 3; i++) assert_non_null(blocks[i] = brt_alloc(30 * MIB, 16, BRT_MEM_C_HEAP, 0));
  for (int i = 0; i < 3; i++) assert_ok(brt_release(blocks[i]));
  assert_int_equal(committed_now() - base, 2 * CHARGE(30 * MIB)); /* 64 MiB holds two */

  void *huge = brt_alloc(70 * MIB, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(huge);
  assert_ok(brt_release(huge));
  assert_int_equal(committed_now() - base, 2 * CHARGE(30 * MIB));
  assert_ok(brt_mem_collect());
  assert_int_equal(committed_now(), base);
}

/* brt_realloc growth keeps the contents, from a fresh and from a reused
 * mapping. */
static void test_realloc_growth_keeps_contents(void **state) {
  (void)state;
  uint64_t base = baseline();
  unsigned char *p = brt_alloc(5 * MIB, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(p);
  fill(p, 5 * MIB, 3);
  p = brt_realloc(p, 40 * MIB, 16);
  assert_non_null(p);
  assert_true(check(p, 5 * MIB, 3));
  fill(p, 40 * MIB, 4);
  p = brt_realloc(p, 90 * MIB, 16);
  assert_non_null(p);
  assert_true(check(p, 40 * MIB, 4));
  assert_ok(brt_release(p));

  unsigned char *a = brt_alloc(20 * MIB, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(a);
  assert_ok(brt_release(a));
  unsigned char *b = brt_alloc(20 * MIB, 16, BRT_MEM_C_HEAP, 0);
  assert_ptr_equal(b, a);
  fill(b, 20 * MIB, 5);
  b = brt_realloc(b, 41 * MIB, 16);
  assert_non_null(b);
  assert_true(check(b, 20 * MIB, 5));
  assert_ok(brt_release(b));
  assert_ok(brt_mem_collect());
  assert_int_equal(committed_now(), base);
}

/* The limit counts cached mappings but never refuses because of them: a
 * block that fits once the cache is dropped is given; one that does not
 * is refused and leaves nothing cached; a limit lowered below what is
 * committed refuses even a block the cache could give. */
static void test_limit(void **state) {
  (void)state;
  uint64_t base = baseline();
  void *p = brt_alloc(32 * MIB, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(p);
  assert_ok(brt_release(p));
  assert_ok(brt_mem_set_limit((size_t)base + 40 * MIB));

  void *fit = brt_alloc(24 * MIB, 16, BRT_MEM_C_HEAP, 0); /* reuses the 32 MiB mapping */
  assert_ptr_equal(fit, p);
  assert_ok(brt_release(fit));
  assert_int_equal(committed_now() - base, CHARGE(24 * MIB));

  void *other = brt_alloc(36 * MIB, 16, BRT_MEM_C_HEAP, 0); /* fits once the cache is dropped */
  assert_non_null(other);
  assert_int_equal(committed_now() - base, CHARGE(36 * MIB));
  assert_ok(brt_release(other));

  assert_null(brt_alloc(48 * MIB, 16, BRT_MEM_C_HEAP, 0));
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "limit");
  assert_int_equal(committed_now(), base);

  assert_ok(brt_mem_set_limit(0));
  p = brt_alloc(16 * MIB, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(p);
  assert_ok(brt_release(p));
  assert_ok(brt_mem_set_limit((size_t)base + MIB));
  assert_null(brt_alloc(16 * MIB, 16, BRT_MEM_C_HEAP, 0));
  assert_last_error(BRT_E_LIMIT_EXCEEDED, "limit");
  assert_int_equal(committed_now(), base);
  assert_ok(brt_mem_set_limit(0));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reused_within_a_factor),
      cmocka_unit_test(test_caps),
      cmocka_unit_test(test_realloc_growth_keeps_contents),
      cmocka_unit_test(test_limit),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
