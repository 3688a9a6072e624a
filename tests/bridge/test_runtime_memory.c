/* A runtime hands its allocator settings (max_memory, gc_threshold,
 * gc_interval_ms, tracking, hardened) to the process's allocator, whether
 * they come from code (brt_runtime_open(&cfg)), from a file
 * (brt_config_load_json, BRT_CONFIG) or from the environment; and what
 * several open runtimes do to those process-wide settings: the strictest of
 * the base (environment, brt_mem_configure, brt_mem_set_limit) and of every
 * open runtime applies, and closing a runtime drops what it asked for
 * (docs/config.md "Allocator settings are process-wide"). */
#include "brt_test.h"

#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>

static char temp_dir[PATH_MAX];

static int make_temp_dir(void **state) {
  (void)state;
  return brt_test_temp_dir_make(temp_dir, sizeof temp_dir, "brt-runtime-memory");
}

static int remove_temp_dir(void **state) {
  (void)state;
  return brt_test_temp_dir_remove(temp_dir);
}

static const char *write_file(const char *name, const char *text) {
  return brt_test_write_file(temp_dir, name, text);
}

static brt_mem_stats stats_now(void) {
  brt_mem_stats st = {.struct_size = sizeof st};
  assert_ok(brt_mem_stats_get(&st));
  return st;
}

/* A limit that leaves 1 MiB above what the process commits now. */
static uint64_t limit_near_committed(void) {
  assert_ok(brt_mem_collect());
  return (stats_now().committed_bytes + (1u << 20) + 4095) & ~(uint64_t)4095;
}

/* Whether a 4 MiB block can be had now (it is released at once). */
static bool four_mib_allocates(void) {
  void *p = brt_alloc(4u << 20, 64, BRT_MEM_C_HEAP, 0);
  if (!p) {
    assert_last_error(BRT_E_LIMIT_EXCEEDED, "limit");
    return false;
  }
  assert_ok(brt_release(p));
  return true;
}

static void expect_health_names_limit(brt_runtime *rt) {
  char *report = NULL;
  assert_ok(brt_health_check(rt, &report));
  assert_non_null(report);
  if (strstr(report, "no memory limit is set")) fail_msg("health: %s", report);
  brt_release(report);
}

/* The runtime's max_memory, set in code, limits the allocator while the
 * runtime is open. */
static void test_max_memory_from_code(void **state) {
  (void)state;
  assert_int_equal(stats_now().limit_bytes, 0);
  assert_true(four_mib_allocates());
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.max_memory = limit_near_committed();
  brt_runtime *rt = brt_runtime_open(&cfg);
  assert_non_null(rt);
  assert_int_equal(stats_now().limit_bytes, cfg.max_memory);
  assert_false(four_mib_allocates());
  expect_health_names_limit(rt);
  brt_runtime_close(rt);
  assert_int_equal(stats_now().limit_bytes, 0);
  assert_true(four_mib_allocates());
  brt_config_dispose(&cfg);
}

/* The same from a file, through brt_config_load_json and through
 * BRT_CONFIG (brt_runtime_open(NULL)). */
static void test_max_memory_from_a_file(void **state) {
  (void)state;
  char text[128];
  uint64_t limit = limit_near_committed();
  snprintf(text, sizeof text, "{\"max_memory\": %llu}", (unsigned long long)limit);
  const char *path = write_file("limit.json", text);
  brt_config cfg;
  brt_config_default(&cfg);
  assert_ok(brt_config_load_json(path, &cfg));
  brt_runtime *rt = brt_runtime_open(&cfg);
  assert_non_null(rt);
  assert_int_equal(stats_now().limit_bytes, limit);
  assert_false(four_mib_allocates());
  expect_health_names_limit(rt);
  brt_runtime_close(rt);
  assert_true(four_mib_allocates());
  brt_config_dispose(&cfg);

  setenv("BRT_CONFIG", path, 1);
  rt = brt_runtime_open(NULL);
  assert_non_null(rt);
  assert_int_equal(stats_now().limit_bytes, limit);
  assert_false(four_mib_allocates());
  brt_runtime_close(rt);
  unsetenv("BRT_CONFIG");
  assert_int_equal(stats_now().limit_bytes, 0);
}

/* A variable set after the allocator started reaches it through the
 * runtime that reads it. */
static void test_max_memory_from_the_environment(void **state) {
  (void)state;
  char text[32];
  uint64_t limit = limit_near_committed();
  snprintf(text, sizeof text, "%llu", (unsigned long long)limit);
  setenv("BRT_MAX_MEMORY", text, 1);
  brt_runtime *rt = brt_runtime_open(NULL);
  unsetenv("BRT_MAX_MEMORY");
  assert_non_null(rt);
  assert_int_equal(stats_now().limit_bytes, limit);
  assert_false(four_mib_allocates());
  brt_runtime_close(rt);
  assert_int_equal(stats_now().limit_bytes, 0);
}

static int count_class(void *ctx, const brt_mem_class_stats *cls) {
  (void)cls;
  ++*(int *)ctx;
  return 0;
}

/* Tracking can change while the process runs (blocks allocated before have
 * no id); a runtime asking for it gets it, and loses it when it closes. */
static void test_tracking(void **state) {
  (void)state;
  int classes = 0;
  assert_status(brt_mem_visit_classes(count_class, &classes), BRT_E_UNSUPPORTED);
  void *before = brt_alloc(3000, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(before);
  brt_config cfg;
  brt_config_default(&cfg);
  const char *text = "{\"tracking\": \"blocks\"}";
  assert_ok(brt_config_load_json_text(text, strlen(text), "inline", &cfg));
  brt_runtime *rt = brt_runtime_open(&cfg);
  assert_non_null(rt);
  assert_int_equal(stats_now().tracking, BRT_TRACKING_BLOCKS);
  assert_ok(brt_mem_visit_classes(count_class, &classes));
  assert_true(classes > 0);
  /* A thread's pages take the new level at its next slow path: after at
   * most a page of blocks. */
  void *after[64];
  for (int i = 0; i < 64; i++) assert_non_null(after[i] = brt_alloc(3000, 16, BRT_MEM_C_HEAP, 0));
  brt_block_info info = {.struct_size = sizeof info};
  assert_ok(brt_block_info_get(after[63], &info));
  assert_true(info.id != 0);
  assert_ok(brt_block_info_get(before, &info));
  assert_int_equal(info.id, 0);
  brt_runtime_close(rt);
  assert_int_equal(stats_now().tracking, BRT_TRACKING_OFF);
  assert_status(brt_mem_visit_classes(count_class, &classes), BRT_E_UNSUPPORTED);
  for (int i = 0; i < 64; i++) assert_ok(brt_release(after[i]));
  assert_ok(brt_release(before));
  brt_config_dispose(&cfg);
}

/* Hardened mode from a runtime: a freed block waits in the quarantine, so
 * the next 200 allocations of its size do not hand it out again. */
static void test_hardened(void **state) {
  (void)state;
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.hardened = true;
  brt_runtime *rt = brt_runtime_open(&cfg);
  assert_non_null(rt);
  void *warm[64]; /* past this thread's next slow path, its pages are hardened */
  for (int i = 0; i < 64; i++) assert_non_null(warm[i] = brt_alloc(7000, 16, BRT_MEM_C_HEAP, 0));
  for (int i = 0; i < 64; i++) assert_ok(brt_release(warm[i]));
  void *victim = brt_alloc(7000, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(victim);
  assert_ok(brt_release(victim));
  for (int i = 0; i < 200; i++) {
    void *other = brt_alloc(7000, 16, BRT_MEM_C_HEAP, 0);
    assert_non_null(other);
    assert_ptr_not_equal(other, victim);
    assert_ok(brt_release(other));
  }
  assert_status(brt_release(victim), BRT_E_DOUBLE_FREE);
  brt_runtime_close(rt);
  assert_ok(brt_mem_collect());
  brt_config_dispose(&cfg);
}

/* gc_threshold and gc_interval_ms: passing the threshold collects once per
 * interval. */
static void test_gc_threshold(void **state) {
  (void)state;
  brt_config cfg;
  brt_config_default(&cfg);
  const char *text = "{\"gc_threshold\": \"16MiB\", \"gc_interval_ms\": 3600000}";
  assert_ok(brt_config_load_json_text(text, strlen(text), "inline", &cfg));
  brt_runtime *rt = brt_runtime_open(&cfg);
  assert_non_null(rt);
  enum { COUNT = 40 * 1024 };
  void **blocks = calloc(COUNT, sizeof *blocks);
  assert_non_null(blocks);
  uint64_t before = stats_now().collections;
  for (int i = 0; i < COUNT; i++) assert_non_null(blocks[i] = brt_alloc(1024, 16, BRT_MEM_C_HEAP, 0));
  assert_int_equal(stats_now().collections, before + 1);
  for (int i = 0; i < COUNT; i++) assert_ok(brt_release(blocks[i]));
  free(blocks);
  brt_runtime_close(rt);
  brt_config_dispose(&cfg);
}

/* Two runtimes: the lower limit, the higher tracking level and hardened of
 * either hold while both are open; closing one leaves the other's. A
 * runtime with the defaults asks for nothing and loosens nothing. */
static void test_two_runtimes_strictest_wins(void **state) {
  (void)state;
  brt_config low, high, plain;
  brt_config_default(&low);
  brt_config_default(&high);
  brt_config_default(&plain);
  low.max_memory = (uint64_t)1 << 40;
  low.tracking = BRT_TRACKING_COUNTERS;
  high.max_memory = (uint64_t)2 << 40;
  high.tracking = BRT_TRACKING_BLOCKS;
  brt_runtime *a = brt_runtime_open(&high);
  assert_non_null(a);
  assert_int_equal(stats_now().limit_bytes, (uint64_t)2 << 40);
  brt_runtime *b = brt_runtime_open(&low);
  assert_non_null(b);
  brt_runtime *c = brt_runtime_open(&plain);
  assert_non_null(c);
  assert_int_equal(stats_now().limit_bytes, (uint64_t)1 << 40);
  assert_int_equal(stats_now().tracking, BRT_TRACKING_BLOCKS);
  brt_runtime_close(b);
  assert_int_equal(stats_now().limit_bytes, (uint64_t)2 << 40);
  assert_int_equal(stats_now().tracking, BRT_TRACKING_BLOCKS);
  brt_runtime_close(a);
  assert_int_equal(stats_now().limit_bytes, 0);
  assert_int_equal(stats_now().tracking, BRT_TRACKING_OFF);
  brt_runtime_close(c);
  /* Reopening with other settings (a reload) takes the new ones. */
  a = brt_runtime_open(&low);
  assert_int_equal(stats_now().limit_bytes, (uint64_t)1 << 40);
  brt_runtime_close(a);
  a = brt_runtime_open(&high);
  assert_int_equal(stats_now().limit_bytes, (uint64_t)2 << 40);
  brt_runtime_close(a);
  assert_int_equal(stats_now().limit_bytes, 0);
  brt_config_dispose(&low);
  brt_config_dispose(&high);
  brt_config_dispose(&plain);
}

/* brt_mem_set_limit and brt_mem_configure set the base: a stricter open
 * runtime still bounds it, and the base is what is left when it closes. */
static void test_base_and_runtimes(void **state) {
  (void)state;
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.max_memory = (uint64_t)1 << 40;
  assert_ok(brt_mem_set_limit((size_t)3 << 40));
  brt_runtime *rt = brt_runtime_open(&cfg);
  assert_non_null(rt);
  assert_int_equal(stats_now().limit_bytes, (uint64_t)1 << 40);
  assert_ok(brt_mem_set_limit((size_t)2 << 40));
  assert_int_equal(stats_now().limit_bytes, (uint64_t)1 << 40);
  assert_ok(brt_mem_set_limit((size_t)1 << 39));
  assert_int_equal(stats_now().limit_bytes, (uint64_t)1 << 39);
  assert_ok(brt_mem_set_limit(0));
  assert_int_equal(stats_now().limit_bytes, (uint64_t)1 << 40);
  brt_config base;
  brt_config_default(&base);
  base.tracking = BRT_TRACKING_COUNTERS;
  assert_ok(brt_mem_configure(&base));
  assert_int_equal(stats_now().tracking, BRT_TRACKING_COUNTERS);
  assert_int_equal(stats_now().limit_bytes, (uint64_t)1 << 40);
  brt_runtime_close(rt);
  assert_int_equal(stats_now().limit_bytes, 0);
  assert_int_equal(stats_now().tracking, BRT_TRACKING_COUNTERS);
  base.tracking = BRT_TRACKING_OFF;
  assert_ok(brt_mem_configure(&base));
  assert_int_equal(stats_now().tracking, BRT_TRACKING_OFF);
  brt_config_dispose(&base);
  brt_config_dispose(&cfg);
}

/* A runtime that does not open changes nothing. */
static void test_refused_config_changes_nothing(void **state) {
  (void)state;
  brt_config cfg;
  brt_config_default(&cfg);
  cfg.max_memory = 1u << 20;
  cfg.error_window = 0; /* out of range */
  assert_null(brt_runtime_open(&cfg));
  assert_last_error(BRT_E_INVALID_ARGUMENT, "configuration refused");
  assert_non_null(strstr(brt_error_message(brt_error_cause(brt_last_error())), "error_window"));
  assert_int_equal(stats_now().limit_bytes, 0);
  brt_config_dispose(&cfg);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_max_memory_from_code),
      cmocka_unit_test(test_max_memory_from_a_file),
      cmocka_unit_test(test_max_memory_from_the_environment),
      cmocka_unit_test(test_tracking),
      cmocka_unit_test(test_hardened),
      cmocka_unit_test(test_gc_threshold),
      cmocka_unit_test(test_two_runtimes_strictest_wins),
      cmocka_unit_test(test_base_and_runtimes),
      cmocka_unit_test(test_refused_config_changes_nothing),
  };
  return cmocka_run_group_tests_name("runtime_memory", tests, make_temp_dir, remove_temp_dir);
}
