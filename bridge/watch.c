/* Watch mode (config plugin_watch, BRT_PLUGIN_WATCH, `bridgert serve
 * --watch`): one thread per runtime follows the directories loaded with
 * brt_plugin_load_dir through inotify. A "*.so" or manifest that appears
 * (created and closed, or renamed into place) is loaded; one that changes
 * (rewritten and closed, or replaced by a rename) is reloaded; one that
 * goes (deleted, or renamed away) is unloaded. Each outcome is counted in
 * bridgert_plugin_reloads_total{result}.
 *
 * Settling: the events of a name are gathered until none came for
 * SETTLE_MS, then acted on once. A copy tool that writes in several
 * closes, or a rename right after a write, is then one reload, and a file
 * is never read while its writer is still at work (a writer that pauses
 * longer than the delay between its writes is read early: write, then
 * rename into place, which the watcher sees as one event). */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

/* How long a name must stay quiet before the watcher acts on it. */
#define SETTLE_MS 100
#define WATCH_DIRS_MAX 64
#define PENDING_MAX 256

typedef struct pending {
  char path[PATH_MAX];
  uint64_t due_ns;
} pending;

typedef struct watched {
  int wd;
  char path[PATH_MAX];
} watched;

struct brt_watch {
  brt_runtime *rt;
  int inotify, wake;
  pthread_t thread;
  pthread_mutex_t lock; /* dirs */
  watched dirs[WATCH_DIRS_MAX];
  size_t dir_count;
  pending queue[PENDING_MAX]; /* the watcher thread's own */
  size_t queued;
};

static bool watched_name(const char *name) {
  size_t len = strlen(name);
  size_t so = strlen(".so"), manifest = strlen(BRT_MANIFEST_SUFFIX);
  return (len > so && strcmp(name + len - so, ".so") == 0) ||
         (len > manifest && strcmp(name + len - manifest, BRT_MANIFEST_SUFFIX) == 0);
}

static void enqueue(struct brt_watch *w, const char *dir, const char *name) {
  char path[PATH_MAX];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return;
  uint64_t due = _brt_now_ns() + (uint64_t)SETTLE_MS * 1000000u;
  for (size_t i = 0; i < w->queued; i++)
    if (strcmp(w->queue[i].path, path) == 0) {
      w->queue[i].due_ns = due;
      return;
    }
  if (w->queued == PENDING_MAX) return; /* the next event of the name queues it */
  memcpy(w->queue[w->queued].path, path, strlen(path) + 1);
  w->queue[w->queued++].due_ns = due;
}

/* Loads, reloads or unloads `path` as the file system now has it. */
static void act(struct brt_watch *w, const char *path) {
  brt_core *core = NULL;
  if (_brt_bridge_core_get(w->rt, "plugin watch", &core) != BRT_OK) {
    brt_error_clear();
    return;
  }
  struct stat st;
  bool exists = stat(path, &st) == 0 && S_ISREG(st.st_mode);
  pthread_mutex_lock(&core->write_lock);
  bool loaded = !core->closed && _brt_bridge_find_by_path(core, path) != NULL;
  pthread_mutex_unlock(&core->write_lock);
  if (exists && loaded) {
    (void)brt_plugin_reload(w->rt, path); /* counts itself */
  } else if (exists) {
    brt_status status = brt_plugin_load(w->rt, path);
    _brt_bridge_reload_count(core, status == BRT_OK ? BRT_RELOAD_LOADED : BRT_RELOAD_FAILED, path);
  } else if (loaded) {
    brt_status status = brt_plugin_unload(w->rt, path);
    _brt_bridge_reload_count(core, status == BRT_OK ? BRT_RELOAD_UNLOADED : BRT_RELOAD_FAILED,
                             path);
  }
  brt_error_clear();
  _brt_bridge_core_release(core);
}

static void read_events(struct brt_watch *w) {
  _Alignas(struct inotify_event) char buf[16384];
  for (;;) {
    ssize_t got = read(w->inotify, buf, sizeof buf);
    if (got <= 0) return;
    for (char *at = buf; at < buf + got;) {
      const struct inotify_event *event = (const struct inotify_event *)at;
      at += sizeof *event + event->len;
      if (!event->len || !watched_name(event->name)) continue;
      pthread_mutex_lock(&w->lock);
      for (size_t i = 0; i < w->dir_count; i++)
        if (w->dirs[i].wd == event->wd) enqueue(w, w->dirs[i].path, event->name);
      pthread_mutex_unlock(&w->lock);
    }
  }
}

static void *watch_thread(void *arg) {
  struct brt_watch *w = arg;
  for (;;) {
    uint64_t now = _brt_now_ns();
    int timeout = -1;
    for (size_t i = 0; i < w->queued; i++) {
      uint64_t left = w->queue[i].due_ns > now ? w->queue[i].due_ns - now : 0;
      int ms = (int)(left / 1000000u) + 1;
      if (timeout < 0 || ms < timeout) timeout = ms;
    }
    struct pollfd fds[2] = {{.fd = w->inotify, .events = POLLIN}, {.fd = w->wake, .events = POLLIN}};
    int ready = poll(fds, 2, timeout);
    if (ready < 0 && errno != EINTR) break;
    if (fds[1].revents) break; /* stop */
    if (fds[0].revents) read_events(w);
    now = _brt_now_ns();
    for (size_t i = 0; i < w->queued;) {
      if (w->queue[i].due_ns > now) {
        i++;
        continue;
      }
      char path[PATH_MAX];
      memcpy(path, w->queue[i].path, sizeof path);
      w->queue[i] = w->queue[--w->queued];
      act(w, path);
    }
  }
  return NULL;
}

static brt_status watch_start(brt_runtime *rt, brt_core *core, struct brt_watch **out) {
  struct brt_watch *w = calloc(1, sizeof *w);
  if (!w)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "plugin_watch: out of memory for the watcher");
  w->rt = rt;
  w->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  w->wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  pthread_mutex_init(&w->lock, NULL);
  int error = w->inotify < 0 || w->wake < 0 ? errno : 0;
  if (!error) error = pthread_create(&w->thread, NULL, watch_thread, w);
  if (error) {
    if (w->inotify >= 0) close(w->inotify);
    if (w->wake >= 0) close(w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return brt_error_set_os(BRT_E_IO, error, "plugin_watch: cannot start the watcher");
  }
  (void)core;
  *out = w;
  return BRT_OK;
}

brt_status _brt_bridge_watch_dir(brt_runtime *rt, brt_core *core, const char *dir) {
  if (!core->config.plugin_watch) return BRT_OK;
  /* Started under write_lock so that two first loads start one watcher. */
  pthread_mutex_lock(&core->write_lock);
  struct brt_watch *w = atomic_load(&core->watch);
  brt_status status = BRT_OK;
  if (!w && !core->closed && (status = watch_start(rt, core, &w)) == BRT_OK)
    atomic_store(&core->watch, w);
  pthread_mutex_unlock(&core->write_lock);
  if (status != BRT_OK || !w) return status;
  pthread_mutex_lock(&w->lock);
  bool known = false;
  for (size_t i = 0; i < w->dir_count; i++) known |= strcmp(w->dirs[i].path, dir) == 0;
  if (!known && w->dir_count == WATCH_DIRS_MAX) {
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "plugin_watch: at most %d directories are watched; \"%s\" is not",
                           WATCH_DIRS_MAX, dir);
  } else if (!known) {
    int wd = inotify_add_watch(w->inotify, dir,
                               IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                   IN_ONLYDIR);
    if (wd < 0) {
      status = brt_error_set_os(BRT_E_IO, errno, "plugin_watch: cannot watch \"%s\"", dir);
    } else {
      w->dirs[w->dir_count].wd = wd;
      snprintf(w->dirs[w->dir_count].path, sizeof w->dirs[0].path, "%s", dir);
      w->dir_count++;
    }
  }
  pthread_mutex_unlock(&w->lock);
  return status;
}

void _brt_bridge_watch_stop(brt_core *core) {
  struct brt_watch *w = atomic_exchange(&core->watch, NULL);
  if (!w) return;
  uint64_t one = 1;
  ssize_t written = write(w->wake, &one, sizeof one);
  (void)written;
  pthread_join(w->thread, NULL);
  close(w->inotify);
  close(w->wake);
  pthread_mutex_destroy(&w->lock);
  free(w);
}
