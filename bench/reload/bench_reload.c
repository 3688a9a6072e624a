/* bench/run reload — what a hot reload costs (docs/plugins.md, "Reload").
 *
 * The example plugin (matrix_plugin.so) is copied twice into a private
 * directory; each reload renames the other copy over the loaded path, as a
 * deployment would, and calls brt_plugin_reload.
 *
 * Benches:
 *   reload.swap          from brt_plugin_reload called to the end of the
 *                        first call (a prepared dot) served by the new
 *                        image. Subject "bridgert"; peer "load_unload": a
 *                        brt_plugin_unload then brt_plugin_load of the same
 *                        file and the same first call, what a host does
 *                        without reload (its calls in between fail)
 *   reload.calls_during  2 threads calling dot by name (prepare, invoke,
 *                        free) for a fixed time: "reloading" reloads every
 *                        100 ms meanwhile, "steady" does not. ns_per_op is
 *                        the time per call of the two threads together;
 *                        the ratio line steady/reloading is the throughput
 *                        while reloading as a fraction of the steady one
 *
 * Run it on a quiet machine: the reload's dlopen and the threads' calls
 * share the CPUs. */
#include "bench.h"

#include <bridgert.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256], live[300], copies[2][300];

static void die(const char *what) {
  char message[1024];
  brt_error_format(brt_last_error(), message, sizeof message);
  fprintf(stderr, "bench-reload: %s: %s\n", what, message);
  exit(1);
}

static void copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  if (!in || !out) {
    perror(to);
    exit(1);
  }
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, in)) > 0) fwrite(chunk, 1, n, out);
  fclose(in);
  fclose(out);
  chmod(to, 0755);
}

/* Puts a fresh copy of the plugin at the live path by a rename. */
static void deploy(int which) {
  copy_file(MATRIX_PLUGIN_PATH, copies[which]);
  if (rename(copies[which], live) != 0) {
    perror("rename");
    exit(1);
  }
}

static double dot_once(brt_runtime *rt) {
  static double a[4] = {1, 2, 3, 4}, b[4] = {4, 3, 2, 1};
  brt_prepared *p = brt_prepare(rt, "dot");
  if (!p) die("prepare dot");
  const double *pa = a, *pb = b;
  uint64_t n = 4;
  double out = 0;
  void *args[] = {&pa, &pb, &n};
  if (brt_invoke(p, &out, args) != BRT_OK) die("invoke dot");
  brt_prepared_free(p);
  return out;
}

typedef struct swap_arg {
  brt_runtime *rt;
  int reload; /* 1: brt_plugin_reload; 0: unload then load */
} swap_arg;

static double swap(void *arg, uint64_t ops) {
  swap_arg *s = arg;
  uint64_t total = 0;
  for (uint64_t i = 0; i < ops; i++) {
    deploy((int)(i % 2));
    uint64_t start = bench_now_ns();
    if (s->reload) {
      if (brt_plugin_reload(s->rt, live) != BRT_OK) die("reload");
    } else if (brt_plugin_unload(s->rt, live) != BRT_OK || brt_plugin_load(s->rt, live) != BRT_OK) {
      die("unload and load");
    }
    BENCH_USE(dot_once(s->rt));
    total += bench_now_ns() - start;
  }
  return (double)total;
}

typedef struct during {
  brt_runtime *rt;
  _Atomic int stop;
  _Atomic uint64_t calls;
} during;

static void *caller(void *arg) {
  during *d = arg;
  uint64_t calls = 0;
  while (!atomic_load_explicit(&d->stop, memory_order_relaxed)) {
    BENCH_USE(dot_once(d->rt));
    calls++;
  }
  atomic_fetch_add(&d->calls, calls);
  return NULL;
}

/* ns per call of 2 threads over `ops` x 100 ms, reloading every 100 ms or
 * not. */
static double calls_during(void *arg, uint64_t ops) {
  swap_arg *s = arg;
  during d = {.rt = s->rt};
  pthread_t threads[2];
  uint64_t start = bench_now_ns();
  for (int i = 0; i < 2; i++) pthread_create(&threads[i], NULL, caller, &d);
  for (uint64_t i = 0; i < ops; i++) {
    usleep(100000);
    if (s->reload) {
      deploy((int)(i % 2));
      if (brt_plugin_reload(s->rt, live) != BRT_OK) die("reload");
    }
  }
  atomic_store(&d.stop, 1);
  for (int i = 0; i < 2; i++) pthread_join(threads[i], NULL);
  uint64_t elapsed = bench_now_ns() - start;
  uint64_t calls = atomic_load(&d.calls);
  /* The caller divides by ops: give back the time of one call times ops. */
  return (double)elapsed / (double)(calls ? calls : 1) * (double)ops;
}

int main(int argc, char **argv) {
  const char *only = argc > 1 ? argv[1] : NULL;
  snprintf(dir, sizeof dir, "/tmp/bench-reload-XXXXXX");
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  chmod(dir, 0755);
  snprintf(live, sizeof live, "%s/matrix_plugin.so", dir);
  for (int i = 0; i < 2; i++) snprintf(copies[i], sizeof copies[i], "%s/.next-%d", dir, i);
  if (only && strcmp(only, "swap") && strcmp(only, "reload.swap") && strcmp(only, "calls_during") &&
      strcmp(only, "reload.calls_during")) {
    fprintf(stderr, "bench-reload: no bench '%s' (swap, calls_during)\n", only);
    return 2;
  }
  /* The copies lose the build tree's run path to the C++ shim: load the
   * shim first, so the plugin's dependency is found loaded. */
  if (!dlopen(CPP_SHIM_PATH, RTLD_NOW | RTLD_GLOBAL)) {
    fprintf(stderr, "bench-reload: %s\n", dlerror());
    return 1;
  }
  brt_runtime *rt = brt_runtime_open(NULL);
  if (!rt) die("open");
  deploy(0);
  if (brt_plugin_load(rt, live) != BRT_OK) die("load");
  swap_arg reload = {rt, 1}, manual = {rt, 0};
  bench_state state;
  if (!only || strstr(only, "swap")) {
    bench_begin(&state, "reload.swap", NULL);
    bench_run_subject(&state, "bridgert", swap, &reload, 20, NULL);
    bench_run_subject(&state, "load_unload", swap, &manual, 20, NULL);
    bench_ratios(&state, "bridgert");
  }
  if (!only || strstr(only, "calls_during")) {
    bench_begin(&state, "reload.calls_during", NULL);
    bench_run_subject(&state, "steady", calls_during, &manual, 5, NULL);
    bench_run_subject(&state, "reloading", calls_during, &reload, 5, NULL);
    bench_ratios(&state, "steady");
  }
  brt_runtime_close(rt);
  unlink(live);
  rmdir(dir);
  return 0;
}
