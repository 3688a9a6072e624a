/* Plugins: their objects, the load transaction (libdl), unloading.
 *
 * A load is all or nothing: the entries the plugin's init registers are
 * staged on the loading thread and published in one registry update after
 * the init succeeded; a failure releases them and dlclose()s the file. A
 * plugin object lives while the core's list or one of its entries holds it:
 * the fini hook and dlclose() run at the last release, never earlier.
 * The public entry points that validate a load's arguments are in
 * plugin_load.c, directory loads in plugin_dir.c. */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --- Plugin objects --------------------------------------------------------- */

void _brt_bridge_plugin_retain(brt_plugin *plugin) {
  atomic_fetch_add_explicit(&plugin->refs, 1, memory_order_relaxed);
}

void _brt_bridge_plugin_release(brt_plugin *plugin) {
  if (atomic_fetch_sub_explicit(&plugin->refs, 1, memory_order_acq_rel) != 1) return;
  /* The last entry, call and prepared handle are gone: no code of the
   * plugin can be running on behalf of bridgert any more. The fini hook
   * runs first, while the image is still mapped. */
  if (plugin->fini) _brt_bridge_guard_fini(plugin->fini, plugin->rt);
  if (plugin->handle) {
    dlclose(plugin->handle);
    /* An image that stays mapped after dlclose (RTLD_NODELETE, or C++
     * STB_GNU_UNIQUE symbols) keeps the name "/proc/self/fd/N/FILE" (or
     * "/proc/self/fd/N" for a private copy) in the dynamic loader's list:
     * its descriptor stays open for good, so that number can never name
     * another file that dlopen would then mistake for this one. Whether it
     * stayed is read from the process's mappings (this file, at its base),
     * not asked of dlopen(RTLD_NOLOAD), which would match the file its name
     * names now, maybe another loaded image, by its inode. */
    struct stat mapped = {.st_dev = plugin->dev, .st_ino = plugin->ino};
    if (plugin->copy && fstat(plugin->fd, &mapped) != 0) mapped.st_ino = 0;
    if (plugin->base && mapped.st_ino &&
        _brt_bridge_image_mapped(plugin->base, mapped.st_dev, mapped.st_ino)) {
      plugin->fd = -1;
      atomic_fetch_add_explicit(&_brt_bridge_images_pinned, 1, memory_order_relaxed);
    }
  }
  if (plugin->image) plugin->image_release(plugin->image);
  if (plugin->fd >= 0) close(plugin->fd);
  free(plugin->path);
  free(plugin->given_path);
  free(plugin);
}

static brt_status plugin_new(const char *resolved, const char *given, const struct stat *st,
                             brt_plugin **out) {
  brt_plugin *plugin = calloc(1, sizeof *plugin);
  char *path = strdup(resolved);
  char *given_copy = given ? strdup(given) : NULL;
  if (!plugin || !path || (given && !given_copy)) {
    free(plugin);
    free(path);
    free(given_copy);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "out of memory loading plugin \"%s\"", resolved);
  }
  atomic_init(&plugin->refs, 1);
  plugin->fd = -1;
  plugin->path = path;
  plugin->given_path = given_copy;
  plugin->dev = st->st_dev;
  plugin->ino = st->st_ino;
  *out = plugin;
  return BRT_OK;
}

static bool belongs_to(const brt_entry *entry, const void *plugin) {
  return entry->plugin == plugin;
}

/* --- The load in progress on this thread ------------------------------------ */

typedef struct loading {
  brt_core *core;
  brt_plugin *plugin;
  brt_entry **staged;
  size_t count, capacity;
  struct loading *outer; /* a plugin's init may load another plugin */
  brt_plugin *replaces;  /* a reload: the plugin the commit replaces, or NULL */
} loading;

static _Thread_local loading *current_loading;
static _Thread_local brt_plugin *reload_target;

void _brt_bridge_reload_target(brt_plugin *plugin) { reload_target = plugin; }

/* The reload target, for the outermost load only: the loads that an init
 * makes are loads. */
static brt_plugin *take_reload_target(void) {
  brt_plugin *target = reload_target;
  reload_target = NULL;
  return target;
}

brt_plugin *_brt_bridge_loading_plugin(const brt_core *core) {
  return current_loading && current_loading->core == core ? current_loading->plugin : NULL;
}

brt_status _brt_bridge_loading_stage(brt_entry *entry) {
  loading *load = current_loading;
  for (size_t i = 0; i < load->count; i++) {
    const brt_entry *other = load->staged[i];
    if (strcmp(other->name, entry->name) == 0 &&
        _brt_bridge_semver_compare(&other->semver, &entry->semver) == 0) {
      _brt_bridge_entry_release(entry);
      return brt_error_set(BRT_E_EXISTS, BRT_ORIGIN_C, NULL,
                           "brt_register: plugin %s registers \"%s@%s\" twice", load->plugin->path,
                           other->name, other->version);
    }
  }
  if (load->count == load->capacity) {
    size_t capacity = load->capacity ? load->capacity * 2 : 8;
    brt_entry **grown = realloc(load->staged, capacity * sizeof *grown);
    if (!grown) {
      _brt_bridge_entry_release(entry);
      return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                           "brt_register: out of memory staging \"%s\"", entry->name);
    }
    load->staged = grown;
    load->capacity = capacity;
  }
  _brt_bridge_plugin_retain(load->plugin);
  entry->plugin = load->plugin;
  load->staged[load->count++] = entry;
  return BRT_OK;
}

/* --- Loading --------------------------------------------------------------------- */

/* A loaded plugin with that identity, other than `except`. */
static brt_plugin *find_loaded(const brt_core *core, dev_t dev, ino_t ino,
                               const brt_plugin *except) {
  for (brt_plugin *p = core->plugins; p; p = p->next)
    if (p != except && p->dev == dev && p->ino == ino) return p;
  return NULL;
}

/* dlopen()s `file` in the checked directory `dir` through
 * "/proc/self/fd/DIR/FILE": the directory is the one that was checked,
 * whatever its path names now, nobody but root or us can change its
 * entries, and $ORIGIN in the plugin's run path names it. The entry is
 * compared with the checked file first. Checks the exports. Takes `dir`:
 * the plugin keeps it (see _brt_bridge_plugin_release). */
static brt_status open_object(int dir, const char *file, const char *resolved, const char *given,
                              const struct stat *checked, const brt_plugin *replaces,
                              bool always_copy, brt_plugin **out, brt_plugin_init_fn *init) {
  brt_plugin *plugin = NULL;
  brt_status status = plugin_new(resolved, given, checked, &plugin);
  if (status != BRT_OK) {
    close(dir);
    return status;
  }
  plugin->fd = dir;
  char name[PATH_MAX + 32];
  snprintf(name, sizeof name, "/proc/self/fd/%d/%s", dir, file);
  struct stat now;
  /* O_NONBLOCK: an entry swapped for a FIFO must not block the open. */
  int file_fd = openat(dir, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (file_fd < 0 || fstat(file_fd, &now) != 0 || now.st_dev != checked->st_dev ||
      now.st_ino != checked->st_ino) {
    if (file_fd >= 0) close(file_fd);
    _brt_bridge_plugin_release(plugin);
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\" was replaced while it was being loaded", resolved);
  }
  (void)_brt_bridge_elf_pinned(file_fd, plugin->pinned, sizeof plugin->pinned);
  dlerror();
  /* A reload needs an image of its own: through the fresh directory
   * descriptor when the file is a new one, else through a private copy.
   * In watch mode every image is a private copy: a file rewritten in place
   * would otherwise change the code of the image that still serves. */
  bool same_file = replaces && replaces->dev == checked->st_dev && replaces->ino == checked->st_ino;
  bool fresh = !same_file && !always_copy && _brt_bridge_dlopen_fresh(plugin, name, replaces != NULL);
  if ((replaces || always_copy) && !fresh) {
    int copy = -1;
    status = _brt_bridge_private_copy(file_fd, resolved, &copy);
    if (status != BRT_OK) {
      close(file_fd);
      _brt_bridge_plugin_release(plugin);
      return status;
    }
    /* After an answer with another image, the dynamic loader added this
     * directory's name to that image, whose life is not ours to know: the
     * descriptor stays open, so that its number never names another file. */
    if (same_file || always_copy) close(dir);
    plugin->fd = copy;
    plugin->copy = true;
    snprintf(name, sizeof name, "/proc/self/fd/%d", copy);
    (void)_brt_bridge_dlopen_fresh(plugin, name, false);
  }
  close(file_fd);
  void *handle = plugin->handle;
  if (!handle) {
    const char *why = dlerror();
    status =
        brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                      "plugin \"%s\" is not a loadable shared object: %s%s", resolved,
                      why ? why : "dlopen failed without a message",
                      access("/proc/self/fd", F_OK) != 0 ? " (is /proc mounted? plugins are "
                                                           "loaded through /proc/self/fd)"
                                                         : "");
    _brt_bridge_plugin_release(plugin);
    return status;
  }
  const uint32_t *abi = dlsym(handle, BRT_PLUGIN_ABI_SYMBOL);
  if (abi && *abi != BRT_ABI_VERSION) {
    uint32_t built = *abi;
    _brt_bridge_plugin_release(plugin);
    return brt_error_set(BRT_E_ABI_MISMATCH, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\" was built for bridgert ABI %u; this runtime implements "
                         "ABI %u: rebuild the plugin against this bridgert",
                         resolved, built, (unsigned)BRT_ABI_VERSION);
  }
  void *symbol = dlsym(handle, BRT_PLUGIN_INIT_SYMBOL);
  if (!symbol) {
    _brt_bridge_plugin_release(plugin);
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\" does not export " BRT_PLUGIN_INIT_SYMBOL
                         " (declare it extern \"C\" and visible, or use BRT_PLUGIN)",
                         resolved);
  }
  memcpy(init, &symbol, sizeof *init);
  void *fini = dlsym(handle, BRT_PLUGIN_FINI_SYMBOL);
  memcpy(&plugin->pending_fini, &fini, sizeof fini);
  Dl_info where;
  if (dladdr(symbol, &where) && where.dli_fbase) plugin->base = where.dli_fbase;
  *out = plugin;
  return BRT_OK;
}

brt_plugin *_brt_bridge_plugin_of_code(brt_core *core, const brt_algorithm *algorithm) {
  const void *code[3] = {NULL, NULL, NULL};
  memcpy(&code[0], &algorithm->value_fn, sizeof code[0]);
  code[1] = algorithm->native_fn;
  if (algorithm->struct_size >= offsetof(brt_algorithm, native_thunk) + sizeof(brt_native_thunk))
    memcpy(&code[2], &algorithm->native_thunk, sizeof code[2]);
  for (int i = 0; i < 3; i++) {
    Dl_info where;
    if (!code[i] || !dladdr(code[i], &where) || !where.dli_fbase) continue;
    brt_plugin *lists[2] = {core->plugins, core->loading};
    for (int l = 0; l < 2; l++)
      for (brt_plugin *p = lists[l]; p; p = l ? p->next_loading : p->next)
        if (p->base == where.dli_fbase) {
          _brt_bridge_plugin_retain(p);
          return p;
        }
  }
  return NULL;
}

/* Lists a plugin whose init is about to run (or removes it, and whatever a
 * failed load's helper threads registered for it). */
static void loading_list(brt_core *core, brt_plugin *plugin, bool add, bool failed) {
  pthread_mutex_lock(&core->write_lock);
  if (add) {
    plugin->next_loading = core->loading;
    core->loading = plugin;
  } else {
    for (brt_plugin **link = &core->loading; *link; link = &(*link)->next_loading)
      if (*link == plugin) {
        *link = plugin->next_loading;
        break;
      }
    if (failed) (void)_brt_bridge_registry_update(core, NULL, 0, belongs_to, plugin, NULL);
  }
  pthread_mutex_unlock(&core->write_lock);
}

/* Runs the init with this thread's loading context; leaves the staged
 * entries in `load`. */
static brt_status run_init(brt_runtime *rt, loading *load, brt_plugin_init_fn init) {
  load->outer = current_loading;
  current_loading = load;
  brt_error_clear();
  brt_status status = _brt_bridge_guard_init(init, rt, BRT_ABI_VERSION);
  current_loading = load->outer;
  if (status == BRT_OK) return BRT_OK;
  const char *path = load->plugin->path;
  if (!brt_last_error())
    return brt_error_set(status == BRT_E_ABI_MISMATCH ? status : BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN,
                         NULL, "plugin \"%s\": " BRT_PLUGIN_INIT_SYMBOL " returned %s without "
                         "recording an error", path, brt_status_name(status));
  if (status == BRT_E_ABI_MISMATCH)
    return brt_error_wrap(BRT_E_ABI_MISMATCH, BRT_ORIGIN_PLUGIN, NULL,
                          "plugin \"%s\" does not support bridgert ABI %u: %s", path,
                          (unsigned)BRT_ABI_VERSION, brt_error_message(brt_last_error()));
  return brt_error_wrap(BRT_E_PLUGIN, BRT_ORIGIN_PLUGIN, NULL,
                        "plugin \"%s\": " BRT_PLUGIN_INIT_SYMBOL " failed with %s: %s", path,
                        brt_status_name(status), brt_error_message(brt_last_error()));
}

static brt_status commit_load(brt_runtime *rt, brt_core *core, loading *load) {
  pthread_mutex_lock(&core->write_lock);
  brt_status status = BRT_OK;
  if (core->closed)
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load: runtime %p was closed during the load", (void *)rt);
  else if (find_loaded(core, load->plugin->dev, load->plugin->ino, load->replaces))
    status = brt_error_set(BRT_E_EXISTS, BRT_ORIGIN_C, NULL,
                           "plugin \"%s\" is already loaded in this runtime", load->plugin->path);
  brt_plugin **link = NULL;
  if (status == BRT_OK && load->replaces) {
    for (link = &core->plugins; *link && *link != load->replaces; link = &(*link)->next) {
    }
    if (!*link)
      status = brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL,
                             "plugin \"%s\" was unloaded or reloaded by another thread during "
                             "this reload", load->replaces->path);
  }
  /* One update: the old plugin's entries leave as the new ones arrive, so
   * a call by name finds one or the other, never neither. */
  if (status == BRT_OK) {
    core->replacing = load->replaces != NULL;
    status = _brt_bridge_registry_update(core, load->staged, load->count,
                                         load->replaces ? belongs_to : NULL, load->replaces, NULL);
    core->replacing = false;
  }
  if (status == BRT_OK) {
    _brt_bridge_plugin_retain(load->plugin);
    if (link) {
      load->plugin->next = load->replaces->next;
      *link = load->plugin; /* the old plugin's list reference goes to the caller */
    } else {
      load->plugin->next = core->plugins;
      core->plugins = load->plugin;
      load->replaces = NULL;
    }
    _brt_bridge_gauges_update(core, atomic_load(&core->snapshot)->count);
  }
  pthread_mutex_unlock(&core->write_lock);
  if (status == BRT_E_EXISTS)
    return brt_error_wrap(BRT_E_EXISTS, BRT_ORIGIN_C, NULL, "loading plugin \"%s\": %s",
                          load->plugin->path, brt_error_message(brt_last_error()));
  return status;
}

/* How deep plugin inits may nest loads of other plugins. */
#define LOAD_NESTING_MAX 8

/* Refuses a file that is loaded already, or that is being loaded on this
 * thread by an init that is still running (an init that loads its own file,
 * directly or through others, would recurse without end). */
static brt_status check_not_loaded(brt_core *core, const char *resolved, const struct stat *st,
                                   const brt_plugin *replaces) {
  size_t depth = 0;
  for (const loading *load = current_loading; load; load = load->outer, depth++) {
    if (load->plugin && load->plugin->dev == st->st_dev && load->plugin->ino == st->st_ino)
      return brt_error_set(BRT_E_EXISTS, BRT_ORIGIN_C, NULL,
                           "plugin \"%s\" is being loaded already: its own init (or the init of "
                           "a plugin it loads) loads it again, a cycle",
                           resolved);
  }
  if (depth >= LOAD_NESTING_MAX)
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\": plugin inits nest loads %zu deep, the most allowed is %d",
                         resolved, depth, LOAD_NESTING_MAX);
  pthread_mutex_lock(&core->write_lock);
  const brt_plugin *loaded = find_loaded(core, st->st_dev, st->st_ino, replaces);
  pthread_mutex_unlock(&core->write_lock);
  if (loaded)
    return brt_error_set(BRT_E_EXISTS, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\" is already loaded in this runtime", resolved);
  return BRT_OK;
}

/* Loads `file` of the checked directory `dir` in this process. Takes
 * `dir`. */
brt_status _brt_bridge_plugin_load_at(brt_runtime *rt, brt_core *core, int dir, const char *file,
                                      const char *resolved, const char *given,
                                      const struct stat *st) {
  loading load = {.core = core, .replaces = take_reload_target()};
  brt_status status = check_not_loaded(core, resolved, st, load.replaces);
  if (status != BRT_OK) {
    close(dir);
    return status;
  }
  brt_plugin_init_fn init = NULL;
  status = open_object(dir, file, resolved, given, st, load.replaces, core->config.plugin_watch,
                       &load.plugin, &init);
  if (status != BRT_OK) return status;
  load.plugin->rt = rt;
  loading_list(core, load.plugin, true, false);
  status = run_init(rt, &load, init);
  /* From here the fini is due, whether the commit succeeds or not. */
  if (status == BRT_OK) load.plugin->fini = load.plugin->pending_fini;
  if (status == BRT_OK) status = commit_load(rt, core, &load);
  loading_list(core, load.plugin, false, status != BRT_OK);
  for (size_t i = 0; i < load.count; i++) _brt_bridge_entry_release(load.staged[i]);
  free(load.staged);
  _brt_bridge_plugin_release(load.plugin); /* dlclose()s it when the load failed */
  if (status == BRT_OK && load.replaces) _brt_bridge_plugin_release(load.replaces);
  return status;
}

brt_status _brt_bridge_plugin_adopt(brt_runtime *rt, brt_core *core, const char *resolved,
                                    const char *given, const struct stat *st, void *image,
                                    void (*image_release)(void *),
                                    const brt_algorithm *algorithms, size_t count,
                                    const brt_plugin_options *options) {
  brt_plugin *plugin = NULL;
  brt_plugin *replaces = take_reload_target();
  brt_status status = check_not_loaded(core, resolved, st, replaces);
  if (status == BRT_OK) status = plugin_new(resolved, given, st, &plugin);
  if (status != BRT_OK) {
    image_release(image);
    return status;
  }
  plugin->image = image;
  plugin->image_release = image_release;
  plugin->rt = rt;
  if (options) plugin->options = *options;
  loading load = {.core = core, .plugin = plugin, .replaces = replaces};
  load.outer = current_loading;
  current_loading = &load;
  for (size_t i = 0; status == BRT_OK && i < count; i++) status = brt_register(rt, &algorithms[i]);
  current_loading = load.outer;
  if (status == BRT_OK) status = commit_load(rt, core, &load);
  for (size_t i = 0; i < load.count; i++) _brt_bridge_entry_release(load.staged[i]);
  free(load.staged);
  _brt_bridge_plugin_release(plugin); /* releases the image when the load failed */
  /* The old workers or program drain: they go after their last call. */
  if (status == BRT_OK && load.replaces) _brt_bridge_plugin_release(load.replaces);
  return status;
}

/* --- Unloading ---------------------------------------------------------------- */

/* The plugin loaded from `path`: the same file (device and inode) if the
 * path still names one, else the one loaded under that path, as given or
 * resolved, so a plugin whose file was replaced or deleted can still be
 * unloaded by the path it was loaded from. Under write_lock. */
brt_plugin **_brt_bridge_find_by_path(brt_core *core, const char *path) {
  char resolved[PATH_MAX];
  struct stat st;
  bool exists = realpath(path, resolved) && stat(resolved, &st) == 0;
  for (brt_plugin **link = &core->plugins; *link; link = &(*link)->next)
    if (exists && (*link)->dev == st.st_dev && (*link)->ino == st.st_ino) return link;
  for (brt_plugin **link = &core->plugins; *link; link = &(*link)->next) {
    const brt_plugin *plugin = *link;
    if (strcmp(plugin->path, path) == 0 ||
        (plugin->given_path && strcmp(plugin->given_path, path) == 0) ||
        (exists && strcmp(plugin->path, resolved) == 0))
      return link;
  }
  return NULL;
}

brt_status _brt_bridge_path_arg(const char *function, const char *path) {
  if (!path || !*path)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "%s: path is %s", function,
                         path ? "empty" : "NULL");
  if (strlen(path) >= PATH_MAX)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: path is %zu bytes long; at most %d expected", function,
                         strlen(path), PATH_MAX - 1);
  return BRT_OK;
}

brt_status brt_plugin_unload(brt_runtime *rt, const char *path) {
  brt_core *core = NULL;
  brt_status opened = _brt_bridge_core_get(rt, "brt_plugin_unload", &core);
  if (opened != BRT_OK) return opened;
  brt_status status = _brt_bridge_path_arg("brt_plugin_unload", path);
  brt_plugin *plugin = NULL;
  if (status == BRT_OK) {
    pthread_mutex_lock(&core->write_lock);
    brt_plugin **link = core->closed ? NULL : _brt_bridge_find_by_path(core, path);
    if (link) {
      plugin = *link;
      status = _brt_bridge_registry_update(core, NULL, 0, belongs_to, plugin, NULL);
      if (status == BRT_OK) {
        *link = plugin->next;
        _brt_bridge_gauges_update(core, atomic_load(&core->snapshot)->count);
      } else {
        plugin = NULL;
      }
    } else {
      status = brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL,
                             "brt_plugin_unload: no plugin loaded from \"%s\" in this runtime",
                             path);
    }
    pthread_mutex_unlock(&core->write_lock);
  }
  if (plugin) _brt_bridge_plugin_release(plugin);
  _brt_bridge_core_release(core);
  return status;
}
