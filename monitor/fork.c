/* fork() and the monitor's locks. Registering an algorithm, recording a
 * failure or exporting takes a monitor's lock or a statistic's lock for a
 * moment; a fork() by another thread in that moment would leave the child
 * a lock nobody there will release. Every live monitor is listed here, and
 * around fork() the forking thread takes all of these locks (the pool of
 * shard slots, each monitor's, each statistic's) and releases them in both
 * processes afterwards. No code holds two of them at once, so the order of
 * prepare cannot deadlock with a thread that holds one. The runtime's own
 * handler (bridge/fork.c) is installed after this one, so its write locks
 * are taken first, as writers take them before a monitor's lock. */
#include "internal.h"

#include <stdlib.h>

typedef struct tracked_monitor {
  brt_monitor *monitor;
  struct tracked_monitor *next;
} tracked_monitor;

static pthread_mutex_t monitors_lock = PTHREAD_MUTEX_INITIALIZER;
static tracked_monitor *monitors;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;

static void before_fork(void) {
  pthread_mutex_lock(&monitors_lock);
  _brt_monitor_slot_pool_lock(true);
  for (tracked_monitor *t = monitors; t; t = t->next) {
    pthread_mutex_lock(&t->monitor->lock);
    for (size_t i = 0; i < t->monitor->algorithm_count; i++)
      pthread_mutex_lock(&t->monitor->algorithms[i]->lock);
  }
}

static void after_fork(void) {
  for (tracked_monitor *t = monitors; t; t = t->next) {
    for (size_t i = 0; i < t->monitor->algorithm_count; i++)
      pthread_mutex_unlock(&t->monitor->algorithms[i]->lock);
    pthread_mutex_unlock(&t->monitor->lock);
  }
  _brt_monitor_slot_pool_lock(false);
  pthread_mutex_unlock(&monitors_lock);
}

static void install_handlers(void) { pthread_atfork(before_fork, after_fork, after_fork); }

void _brt_monitor_fork_track(brt_monitor *monitor) {
  pthread_once(&handlers_once, install_handlers);
  tracked_monitor *t = malloc(sizeof *t);
  if (!t) return; /* unprotected across fork(), working otherwise */
  t->monitor = monitor;
  pthread_mutex_lock(&monitors_lock);
  t->next = monitors;
  monitors = t;
  pthread_mutex_unlock(&monitors_lock);
}

void _brt_monitor_fork_forget(brt_monitor *monitor) {
  pthread_mutex_lock(&monitors_lock);
  for (tracked_monitor **link = &monitors; *link; link = &(*link)->next) {
    if ((*link)->monitor != monitor) continue;
    tracked_monitor *gone = *link;
    *link = gone->next;
    free(gone);
    break;
  }
  pthread_mutex_unlock(&monitors_lock);
}
