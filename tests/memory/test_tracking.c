/* Tracking levels (run with BRT_TRACKING=blocks in the environment, which
 * the allocator reads once at first use): ids, ages, requested sizes,
 * exact layout checks, brt_mem_visit_live, and the BRT_LEAK_REPORT=1 report
 * (with sampled backtraces) printed by a child process at exit. Ages are
 * measured on a clock the test moves (brt_mem_set_clock), so they are
 * exact whatever the machine's load. */
#include "brt_test.h"

#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

static _Atomic uint64_t fake_now_ns = 5000000000u;

static uint64_t fake_clock(void *ctx) { return atomic_load((_Atomic uint64_t *)ctx); }

static void advance_ms(uint64_t ms) { atomic_fetch_add(&fake_now_ns, ms * 1000000u); }

static int use_fake_clock(void **state) {
  (void)state;
  return brt_mem_set_clock(fake_clock, &fake_now_ns) == BRT_OK ? 0 : -1;
}

static int use_real_clock(void **state) {
  (void)state;
  return brt_mem_set_clock(NULL, NULL) == BRT_OK ? 0 : -1;
}

static void test_ids_ages_sizes(void **state) {
  (void)state;
  void *a = brt_alloc(100, 16, BRT_MEM_C_HEAP, 0);
  void *b = brt_alloc(100, 16, BRT_MEM_C_HEAP, 0);
  void *big = brt_alloc(100000, 16, BRT_MEM_CPP_HEAP, 0);
  brt_block_info ia = {.struct_size = sizeof ia}, ib = {.struct_size = sizeof ib},
                 ibig = {.struct_size = sizeof ibig};
  assert_ok(brt_block_info_get(a, &ia));
  assert_ok(brt_block_info_get(b, &ib));
  assert_ok(brt_block_info_get(big, &ibig));
  assert_true(ia.id > 0);
  assert_true(ib.id > ia.id);
  assert_true(ibig.id > ib.id);
  assert_int_equal(ia.size, 100);
  assert_int_equal(ia.usable, 112);
  assert_int_equal(ibig.size, 100000);
  assert_int_equal(ia.age_ns, 0);
  advance_ms(30);
  assert_ok(brt_block_info_get(a, &ia));
  assert_int_equal(ia.age_ns, 30u * 1000000u);
  assert_ok(brt_block_info_get(big, &ibig));
  assert_int_equal(ibig.age_ns, 30u * 1000000u);
  /* The exact requested size is now checked. */
  assert_status(brt_release_sized(a, 101, 16), BRT_E_LAYOUT_MISMATCH);
  assert_last_error(BRT_E_LAYOUT_MISMATCH, "requested 100");
  assert_ok(brt_release_sized(a, 100, 16));
  /* realloc in place records the new size. */
  assert_ptr_equal(brt_realloc(b, 70, 16), b);
  assert_ok(brt_block_info_get(b, &ib));
  assert_int_equal(ib.size, 70);
  assert_ok(brt_release_sized(b, 70, 16));
  assert_ok(brt_release(big));
}

typedef struct visit_log {
  const void *wanted[3];
  int seen[3];
  int visited;
  int stop_after;
} visit_log;

static int record_visit(void *ctx, const void *block, const brt_block_info *info) {
  visit_log *log = ctx;
  log->visited++;
  for (int i = 0; i < 3; i++)
    if (log->wanted[i] == block) {
      log->seen[i]++;
      assert_int_equal(info->refcount, i == 2 ? 2 : 1);
    }
  return log->stop_after && log->visited >= log->stop_after;
}

static void test_visit_live(void **state) {
  (void)state;
  void *old1 = brt_alloc(64, 16, BRT_MEM_RUST_HEAP, 0);
  void *old2 = brt_alloc(300000, 16, BRT_MEM_RUST_HEAP, 0);
  advance_ms(60);
  void *young = brt_alloc(64, 16, BRT_MEM_RUST_HEAP, 0);
  assert_ok(brt_retain(young));
  advance_ms(39); /* young is 39 ms old, the others 99 ms: a 40 ms bound parts them */
  visit_log log = {{old1, old2, young}, {0, 0, 0}, 0, 0};
  assert_ok(brt_mem_visit_live(40u * 1000000u, record_visit, &log));
  assert_int_equal(log.seen[0], 1);
  assert_int_equal(log.seen[1], 1);
  assert_int_equal(log.seen[2], 0);
  visit_log all = {{old1, old2, young}, {0, 0, 0}, 0, 0};
  assert_ok(brt_mem_visit_live(0, record_visit, &all));
  assert_int_equal(all.seen[2], 1);
  assert_true(all.visited >= 3);
  visit_log stop = {{NULL, NULL, NULL}, {0, 0, 0}, 0, 1};
  assert_ok(brt_mem_visit_live(0, record_visit, &stop));
  assert_int_equal(stop.visited, 1);
  assert_ok(brt_release(young));
  assert_ok(brt_release(young));
  assert_ok(brt_release(old1));
  assert_ok(brt_release(old2));
  /* Tracking off: no ages, so an age filter is refused; blocks made
   * afterwards carry no id. */
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.tracking = BRT_TRACKING_OFF;
  assert_ok(brt_mem_configure(&cfg));
  assert_status(brt_mem_visit_live(1, record_visit, &log), BRT_E_UNSUPPORTED);
  assert_last_error(BRT_E_UNSUPPORTED, "tracking");
  void *untracked = brt_alloc(5000, 16, BRT_MEM_C_HEAP, 0);
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(untracked, &info));
  assert_int_equal(info.id, 0);
  assert_int_equal(info.age_ns, 0);
  assert_ok(brt_release(untracked));
  cfg.tracking = BRT_TRACKING_BLOCKS;
  assert_ok(brt_mem_configure(&cfg));
  brt_config_dispose(&cfg);
}

/* Without the test's clock, ages come from the coarse monotonic clock
 * again: a block just allocated is young (no sleep needed to tell). */
static void test_real_clock_restored(void **state) {
  (void)state;
  void *p = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(p);
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(p, &info));
  assert_true(info.age_ns < 10u * 1000000000u);
  assert_ok(brt_release(p));
}

/* The child leaks 64 blocks and exits; BRT_LEAK_REPORT=1 makes the
 * allocator list them on stderr, with sampled backtraces. */
static void test_leak_report(void **state) {
  (void)state;
  char output[65536];
  brt_test_leak_report_of_self(output, sizeof output);
  if (!strstr(output, "64 blocks (6400 bytes) still live at exit")) fail_msg("report: %s", output);
  assert_non_null(strstr(output, "RUST_HEAP"));
  assert_non_null(strstr(output, "100 bytes"));
  assert_non_null(strstr(output, "#0 "));
  assert_non_null(strstr(output, "libbridgert"));
  assert_non_null(strstr(output, "leak report"));
}

static int leak_and_exit(void) {
  for (int i = 0; i < 64; i++)
    if (!brt_alloc(100, 16, BRT_MEM_RUST_HEAP, 0)) return 1;
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--leak") == 0) return leak_and_exit();
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_ids_ages_sizes, use_fake_clock, use_real_clock),
      cmocka_unit_test_setup_teardown(test_visit_live, use_fake_clock, use_real_clock),
      cmocka_unit_test(test_leak_report), cmocka_unit_test(test_real_clock_restored),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
