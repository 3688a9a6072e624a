/* The allocator's invariant checks (meson option debug_level; BRT_DEBUG_LEVEL
 * is the level the library was built with, passed to this test too):
 *  - a broken invariant stops the process with the invariant's name (as
 *    docs/memory.md spells it), the file and line: a child process damages
 *    a free list through the public ABI (a write into a freed block's link
 *    word, a use after free) and must die with "invariant free-list";
 *  - errors the contract reports are not invariant violations: a double
 *    release, a foreign pointer and an interior pointer still return their
 *    status at every level.
 * At level 0 (release builds) there is nothing to stop the damaged list,
 * so the death test is skipped there and at level 1 (it checks slow paths
 * only, and the damage is found on a fast path). */
#include "brt_test.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef BRT_DEBUG_LEVEL
#define BRT_DEBUG_LEVEL 0
#endif

/* A freed 64-byte block's link word is overwritten with an address inside
 * the same page that starts no block; then the class is allocated from
 * until the allocator reaches the damaged link. */
static void damage_free_list(void) {
  unsigned char *p = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  if (!p) _exit(2);
  if (brt_release(p) != BRT_OK) _exit(3);
  uintptr_t bad = (uintptr_t)p + 8;
  memcpy(p, &bad, sizeof bad); /* the use after free: the link word only */
  for (int i = 0; i < 100000; i++)
    if (!brt_alloc(64, 16, BRT_MEM_C_HEAP, 0)) _exit(4);
  _exit(0); /* not reached when the check is on */
}

static void test_damaged_free_list_stops_the_process(void **state) {
  (void)state;
  if (BRT_DEBUG_LEVEL < 2) skip();
  char report[4096];
  int status = brt_test_stderr_of_child(damage_free_list, report, sizeof report);
  if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT)
    fail_msg("the child was not stopped by abort (status 0x%x); its stderr:\n%s", status, report);
  if (!strstr(report, "bridgert: invariant free-list violated at ") ||
      !strstr(report, "memory_manager/"))
    fail_msg("the report does not name the invariant and its place:\n%s", report);
}

/* What the contract reports stays a status, at every level. */
static void test_reported_errors_are_not_violations(void **state) {
  (void)state;
  void *p = brt_alloc(64, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(p);
  assert_ok(brt_retain(p));
  assert_ok(brt_release(p));
  assert_ok(brt_release(p));
  assert_status(brt_release(p), BRT_E_DOUBLE_FREE);
  assert_status(brt_retain(p), BRT_E_DOUBLE_FREE);
  int local = 0;
  assert_status(brt_release(&local), BRT_E_INVALID_POINTER);
  unsigned char *q = brt_alloc(100, 16, BRT_MEM_C_HEAP, 0);
  assert_non_null(q);
  assert_status(brt_release(q + 16), BRT_E_INVALID_POINTER);
  assert_ok(brt_release(q));
  assert_int_equal(brt_mem_collect(), BRT_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_damaged_free_list_stops_the_process),
      cmocka_unit_test(test_reported_errors_are_not_violations),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
