/* Plugins: checking, loading (libdl), initialising, unloading.
 *
 * A load is all or nothing: the entries the plugin's init registers are
 * staged on the loading thread and published in one registry update after
 * the init succeeded; a failure releases them and dlclose()s the file. */
#include "internal.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
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
   * plugin can be running on behalf of bridgert any more. */
  if (plugin->handle) dlclose(plugin->handle);
  free(plugin->path);
  free(plugin);
}

/* --- The load in progress on this thread ------------------------------------ */

typedef struct loading {
  brt_core *core;
  brt_plugin *plugin;
  brt_entry **staged;
  size_t count, capacity;
  struct loading *outer; /* a plugin's init may load another plugin */
} loading;

static _Thread_local loading *current_loading;

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

/* --- Checks -------------------------------------------------------------------- */

static brt_status path_error(const char *what, const char *path) {
  int err = errno;
  brt_status code = err == ENOENT || err == ENOTDIR ? BRT_E_NOT_FOUND
                    : err == EACCES || err == EPERM ? BRT_E_PERMISSION
                                                    : BRT_E_IO;
  return brt_error_set_os(code, err, "%s \"%s\": %s", what, path, strerror(err));
}

/* Inside one of the configured plugin_dirs (after realpath), or any
 * directory when none is configured. */
static brt_status check_confinement(const brt_core *core, const char *path, const char *resolved) {
  const brt_config *cfg = &core->config;
  if (cfg->plugin_dir_count == 0) return BRT_OK;
  char dir[PATH_MAX], listed[768];
  size_t used = 0;
  listed[0] = '\0';
  for (size_t i = 0; i < cfg->plugin_dir_count; i++) {
    if (used < sizeof listed)
      used += (size_t)snprintf(listed + used, sizeof listed - used, "%s%s", i ? ", " : "",
                               cfg->plugin_dirs[i]);
    if (!realpath(cfg->plugin_dirs[i], dir)) continue;
    size_t len = strlen(dir);
    if (len == 1) return BRT_OK; /* "/" */
    if (strncmp(resolved, dir, len) == 0 && (resolved[len] == '/' || resolved[len] == '\0'))
      return BRT_OK;
  }
  return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                       "plugin path \"%s\" resolves to \"%s\", which is outside the configured "
                       "plugin_dirs (%s)",
                       path, resolved, listed);
}

/* Not world-writable (unless allowed) and owned by root or by us: anyone
 * else could replace the code we are about to run. */
static brt_status check_owner_and_mode(const brt_core *core, const char *what, const char *path,
                                       const struct stat *st) {
  if ((st->st_mode & S_IWOTH) && !core->config.allow_world_writable)
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "%s \"%s\" is world-writable (mode %04o): anyone could replace the plugin; "
                         "fix its mode or set allow_world_writable",
                         what, path, (unsigned)(st->st_mode & 07777));
  uid_t me = geteuid();
  if (st->st_uid != 0 && st->st_uid != me)
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "%s \"%s\" is owned by uid %u, which is neither root nor the runtime's "
                         "user (uid %u)",
                         what, path, (unsigned)st->st_uid, (unsigned)me);
  return BRT_OK;
}

static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

static brt_status check_directory(const brt_core *core, const char *resolved_file) {
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", resolved_file);
  char *slash = strrchr(dir, '/');
  if (!slash) return BRT_OK;
  if (slash == dir) slash[1] = '\0';
  else *slash = '\0';
  struct stat st;
  if (stat(dir, &st) != 0) return path_error("cannot stat the plugin directory", dir);
  return check_owner_and_mode(core, "plugin directory", dir, &st);
}

/* Every check that needs no code of the plugin to run. Fills `resolved` and
 * `st` (of the file). */
static brt_status check_file(const brt_core *core, const char *path, char *resolved,
                             struct stat *st) {
  if (!realpath(path, resolved)) return path_error("cannot resolve plugin path", path);
  brt_status status = check_confinement(core, path, resolved);
  if (status != BRT_OK) return status;
  if (stat(resolved, st) != 0) return path_error("cannot stat plugin", resolved);
  if (!S_ISREG(st->st_mode))
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\" is %s; a plugin must be a regular shared object file",
                         resolved, file_kind(st->st_mode));
  status = check_owner_and_mode(core, "plugin file", resolved, st);
  if (status != BRT_OK) return status;
  return check_directory(core, resolved);
}

/* --- Loading --------------------------------------------------------------------- */

static brt_plugin *find_loaded(const brt_core *core, dev_t dev, ino_t ino) {
  for (brt_plugin *p = core->plugins; p; p = p->next)
    if (p->dev == dev && p->ino == ino) return p;
  return NULL;
}

/* dlopen()s the checked file and checks its exports. */
static brt_status open_object(const char *resolved, const struct stat *checked,
                              brt_plugin **out, brt_plugin_init_fn *init) {
  dlerror();
  void *handle = dlopen(resolved, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *why = dlerror();
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\" is not a loadable shared object: %s", resolved,
                         why ? why : "dlopen failed without a message");
  }
  /* The file was checked by path; refuse it if it changed under us. */
  struct stat now;
  if (stat(resolved, &now) != 0 || now.st_dev != checked->st_dev || now.st_ino != checked->st_ino) {
    dlclose(handle);
    return brt_error_set(BRT_E_PERMISSION, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\" was replaced while it was being loaded", resolved);
  }
  const uint32_t *abi = dlsym(handle, BRT_PLUGIN_ABI_SYMBOL);
  if (abi && *abi != BRT_ABI_VERSION) {
    uint32_t built = *abi;
    dlclose(handle);
    return brt_error_set(BRT_E_ABI_MISMATCH, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\" was built for bridgert ABI %u; this runtime implements "
                         "ABI %u: rebuild the plugin against this bridgert",
                         resolved, built, (unsigned)BRT_ABI_VERSION);
  }
  void *symbol = dlsym(handle, BRT_PLUGIN_INIT_SYMBOL);
  if (!symbol) {
    dlclose(handle);
    return brt_error_set(BRT_E_PLUGIN, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\" does not export " BRT_PLUGIN_INIT_SYMBOL
                         " (declare it extern \"C\" and visible, or use BRT_PLUGIN)",
                         resolved);
  }
  brt_plugin *plugin = calloc(1, sizeof *plugin);
  char *path = malloc(strlen(resolved) + 1);
  if (!plugin || !path) {
    free(plugin);
    free(path);
    dlclose(handle);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "out of memory loading plugin \"%s\"", resolved);
  }
  strcpy(path, resolved);
  atomic_init(&plugin->refs, 1);
  plugin->handle = handle;
  plugin->path = path;
  plugin->dev = checked->st_dev;
  plugin->ino = checked->st_ino;
  memcpy(init, &symbol, sizeof *init);
  *out = plugin;
  return BRT_OK;
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
  else if (find_loaded(core, load->plugin->dev, load->plugin->ino))
    status = brt_error_set(BRT_E_EXISTS, BRT_ORIGIN_C, NULL,
                           "plugin \"%s\" is already loaded in this runtime", load->plugin->path);
  else
    status = _brt_bridge_registry_update(core, load->staged, load->count, NULL, NULL, NULL);
  if (status == BRT_OK) {
    _brt_bridge_plugin_retain(load->plugin);
    load->plugin->next = core->plugins;
    core->plugins = load->plugin;
    _brt_bridge_gauges_update(core, atomic_load(&core->snapshot)->count);
  }
  pthread_mutex_unlock(&core->write_lock);
  if (status == BRT_E_EXISTS)
    return brt_error_wrap(BRT_E_EXISTS, BRT_ORIGIN_C, NULL, "loading plugin \"%s\": %s",
                          load->plugin->path, brt_error_message(brt_last_error()));
  return status;
}

static brt_status load_checked(brt_runtime *rt, brt_core *core, const char *path) {
  char resolved[PATH_MAX];
  struct stat st;
  brt_status status = check_file(core, path, resolved, &st);
  if (status != BRT_OK) return status;
  pthread_mutex_lock(&core->write_lock);
  const brt_plugin *loaded = find_loaded(core, st.st_dev, st.st_ino);
  pthread_mutex_unlock(&core->write_lock);
  if (loaded)
    return brt_error_set(BRT_E_EXISTS, BRT_ORIGIN_C, NULL,
                         "plugin \"%s\" is already loaded in this runtime", resolved);

  loading load = {.core = core};
  brt_plugin_init_fn init = NULL;
  status = open_object(resolved, &st, &load.plugin, &init);
  if (status != BRT_OK) return status;
  status = run_init(rt, &load, init);
  if (status == BRT_OK) status = commit_load(rt, core, &load);
  for (size_t i = 0; i < load.count; i++) _brt_bridge_entry_release(load.staged[i]);
  free(load.staged);
  _brt_bridge_plugin_release(load.plugin); /* dlclose()s it when the load failed */
  return status;
}

brt_status brt_plugin_load(brt_runtime *rt, const char *path) {
  brt_core *core = _brt_bridge_core_get(rt, "brt_plugin_load");
  if (!core) return BRT_E_INVALID_ARGUMENT;
  brt_status status;
  if (!path || !*path)
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load: path is %s; expected the path of a shared object",
                           path ? "empty" : "NULL");
  else if (strlen(path) >= PATH_MAX)
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load: path is %zu bytes long; at most %d expected",
                           strlen(path), PATH_MAX - 1);
  else
    status = load_checked(rt, core, path);
  _brt_bridge_core_release(core);
  return status;
}

/* --- Directories ------------------------------------------------------------------ */

/* snprintf that may cut (messages are bounded anyway); false when it did. */
BRT_PRINTF(3, 4) static bool text_format(char *buf, size_t size, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  int needed = vsnprintf(buf, size, fmt, args);
  va_end(args);
  return needed >= 0 && (size_t)needed < size;
}

static int name_order(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool has_so_suffix(const char *name) {
  size_t len = strlen(name);
  return len > 3 && strcmp(name + len - 3, ".so") == 0;
}

/* Lists the "*.so" names in `dir`, sorted; caller frees. */
static brt_status list_plugins(const char *dir, char ***names_out, size_t *count_out) {
  DIR *stream = opendir(dir);
  if (!stream) return path_error("cannot open plugin directory", dir);
  char **names = NULL;
  size_t count = 0, capacity = 0;
  brt_status status = BRT_OK;
  bool out_of_memory = false;
  for (struct dirent *item; !out_of_memory && (item = readdir(stream));) {
    if (!has_so_suffix(item->d_name)) continue;
    if (count == capacity) {
      char **grown = realloc(names, (capacity ? capacity * 2 : 16) * sizeof *grown);
      if (!grown) {
        out_of_memory = true;
        break;
      }
      names = grown;
      capacity = capacity ? capacity * 2 : 16;
    }
    names[count] = strdup(item->d_name);
    if (names[count]) count++;
    else out_of_memory = true;
  }
  if (out_of_memory)
    status = brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                           "out of memory listing plugin directory \"%s\"", dir);
  closedir(stream);
  if (count) qsort(names, count, sizeof *names, name_order);
  *names_out = names;
  *count_out = count;
  return status;
}

/* Chains the collected failures: failures[0] becomes the direct cause of
 * the summary, failures[1] its cause, and so on. Each link's message holds
 * the failure's full text (its own causes included). */
static brt_error *chain_failures(brt_error **failures, char **names, size_t count) {
  brt_error *chain = NULL;
  char text[BRT_ERROR_MESSAGE_MAX];
  for (size_t i = count; i-- > 0;) {
    if (i >= BRT_ERROR_CAUSE_DEPTH_MAX) {
      brt_error_free(failures[i]);
      continue;
    }
    char formatted[BRT_ERROR_MESSAGE_MAX];
    brt_error_format(failures[i], formatted, sizeof formatted);
    text_format(text, sizeof text, "%s: %s", names[i], formatted);
    brt_error_info info = {.struct_size = sizeof info,
                           .code = brt_error_code(failures[i]),
                           .origin = brt_error_origin(failures[i]),
                           .type = brt_error_type(failures[i]),
                           .message = text,
                           .os_code = brt_error_os_code(failures[i]),
                           .os_category = brt_error_os_category(failures[i]),
                           .cause = chain};
    brt_error_record(&info);
    brt_error_free(failures[i]);
    chain = brt_error_take();
  }
  return chain;
}

brt_status brt_plugin_load_dir(brt_runtime *rt, const char *dir) {
  brt_core *core = _brt_bridge_core_get(rt, "brt_plugin_load_dir");
  if (!core) return BRT_E_INVALID_ARGUMENT;
  char resolved[PATH_MAX];
  struct stat st;
  brt_status status = BRT_OK;
  if (!dir || !*dir)
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load_dir: dir is %s; expected a directory path",
                           dir ? "empty" : "NULL");
  else if (!realpath(dir, resolved))
    status = path_error("cannot resolve plugin directory", dir);
  else if (stat(resolved, &st) != 0)
    status = path_error("cannot stat plugin directory", resolved);
  else if (!S_ISDIR(st.st_mode))
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load_dir: \"%s\" is %s, not a directory", resolved,
                           file_kind(st.st_mode));
  if (status == BRT_OK) status = check_confinement(core, dir, resolved);
  if (status == BRT_OK) status = check_owner_and_mode(core, "plugin directory", resolved, &st);
  char **names = NULL;
  size_t count = 0;
  if (status == BRT_OK) status = list_plugins(resolved, &names, &count);
  brt_error **failures = count ? calloc(count, sizeof *failures) : NULL;
  char **failed_names = count ? calloc(count, sizeof *failed_names) : NULL;
  if (status == BRT_OK && count && (!failures || !failed_names))
    status = brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load_dir: out of memory for %zu plugins", count);
  size_t failed = 0;
  brt_status first_failure = BRT_OK;
  char summary[BRT_ERROR_MESSAGE_MAX];
  size_t used = 0;
  for (size_t i = 0; status == BRT_OK && i < count; i++) {
    char path[PATH_MAX];
    brt_status loaded =
        text_format(path, sizeof path, "%s/%s", resolved, names[i])
            ? load_checked(rt, core, path)
            : brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                            "plugin path \"%s/%s\" is longer than PATH_MAX", resolved, names[i]);
    if (loaded == BRT_OK) continue;
    if (first_failure == BRT_OK) first_failure = loaded;
    if (used < sizeof summary)
      used += (size_t)snprintf(summary + used, sizeof summary - used, "%s%s (%s)",
                               failed ? ", " : "", names[i], brt_status_name(loaded));
    failed_names[failed] = names[i];
    failures[failed++] = brt_error_take();
  }
  if (status == BRT_OK && failed) {
    brt_error *chain = chain_failures(failures, failed_names, failed);
    brt_error_info info = {.struct_size = sizeof info,
                           .code = first_failure,
                           .origin = BRT_ORIGIN_C,
                           .message = NULL,
                           .cause = chain};
    char message[BRT_ERROR_MESSAGE_MAX];
    text_format(message, sizeof message, "%zu of %zu plugins in \"%s\" failed to load: %s", failed,
             count, resolved, summary);
    info.message = message;
    brt_error_record(&info);
    status = first_failure;
  }
  for (size_t i = 0; i < count; i++) free(names[i]);
  free(names);
  free(failures);
  free(failed_names);
  _brt_bridge_core_release(core);
  return status;
}

/* --- Unloading ---------------------------------------------------------------- */

static bool belongs_to(const brt_entry *entry, const void *plugin) {
  return entry->plugin == plugin;
}

brt_status brt_plugin_unload(brt_runtime *rt, const char *path) {
  brt_core *core = _brt_bridge_core_get(rt, "brt_plugin_unload");
  if (!core) return BRT_E_INVALID_ARGUMENT;
  char resolved[PATH_MAX];
  struct stat st;
  brt_status status = BRT_OK;
  if (!path || !*path)
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_unload: path is %s", path ? "empty" : "NULL");
  else if (!realpath(path, resolved) || stat(resolved, &st) != 0)
    status = path_error("brt_plugin_unload: cannot resolve plugin path", path);
  brt_plugin *plugin = NULL;
  if (status == BRT_OK) {
    pthread_mutex_lock(&core->write_lock);
    brt_plugin **link = &core->plugins;
    while (*link && ((*link)->dev != st.st_dev || (*link)->ino != st.st_ino)) link = &(*link)->next;
    if (*link && !core->closed) {
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
                             "brt_plugin_unload: no plugin \"%s\" is loaded in this runtime",
                             resolved);
    }
    pthread_mutex_unlock(&core->write_lock);
  }
  if (plugin) _brt_bridge_plugin_release(plugin);
  _brt_bridge_core_release(core);
  return status;
}
