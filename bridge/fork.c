/* fork() and the registry's writers. A writer holds its core's write_lock
 * while it publishes a snapshot; a fork() by another thread at that moment
 * would give the child a lock that nobody there will ever release, and the
 * child's next brt_register, load or unload would wait for good. So every
 * live core is listed here, and around fork() the forking thread takes
 * every core's write_lock (prepare) and releases them in both processes
 * afterwards: the child starts with consistent registries and free locks.
 * The read sections of threads that do not exist in the child are cleared
 * there too, or its first grace period would wait for them for good.
 *
 * Lock order: cores_lock, then each write_lock in list order. Nothing else
 * takes two write_locks, and no writer takes cores_lock while it holds a
 * write_lock, so prepare cannot deadlock with a writer. */
#include "internal.h"

#include <stdlib.h>

typedef struct tracked_core {
  brt_core *core;
  struct tracked_core *next;
} tracked_core;

static pthread_mutex_t cores_lock = PTHREAD_MUTEX_INITIALIZER;
static tracked_core *cores;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void before_fork(void) {
  pthread_mutex_lock(&cores_lock);
  for (tracked_core *t = cores; t; t = t->next) pthread_mutex_lock(&t->core->write_lock);
}

static void after_fork(void) {
  for (tracked_core *t = cores; t; t = t->next) pthread_mutex_unlock(&t->core->write_lock);
  pthread_mutex_unlock(&cores_lock);
}

static void in_child(void) {
  _brt_bridge_read_slots_reset();
  after_fork();
}

static void install_handlers(void) { pthread_atfork(before_fork, after_fork, in_child); }

void _brt_bridge_fork_track(brt_core *core) {
  pthread_once(&handlers_once, install_handlers);
  tracked_core *t = malloc(sizeof *t);
  /* Without memory for the node the core is not protected across fork();
   * everything else works, so the open does not fail for it. */
  if (!t) return;
  t->core = core;
  pthread_mutex_lock(&cores_lock);
  t->next = cores;
  cores = t;
  pthread_mutex_unlock(&cores_lock);
}

void _brt_bridge_fork_forget(brt_core *core) {
  pthread_mutex_lock(&cores_lock);
  for (tracked_core **link = &cores; *link; link = &(*link)->next) {
    if ((*link)->core != core) continue;
    tracked_core *gone = *link;
    *link = gone->next;
    free(gone);
    break;
  }
  pthread_mutex_unlock(&cores_lock);
}
