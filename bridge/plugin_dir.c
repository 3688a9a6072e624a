/* Plugins: brt_plugin_load_dir, every "*.so" and "*.algorithm.json" of a
 * directory.
 *
 * The names are loaded in sorted order, each as brt_plugin_load would; a
 * failure does not stop the others. The failures are returned as one error
 * whose causes are the failures themselves, in the order they happened;
 * the directory is watched (plugin_watch) even when some failed. */
#include "internal.h"

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Lists the "*.so" and "*.algorithm.json" names in `dir`, sorted; caller
 * frees. */
static brt_status list_plugins(const char *dir, char ***names_out, size_t *count_out) {
  DIR *stream = opendir(dir);
  if (!stream) return _brt_bridge_path_error("cannot open plugin directory", dir);
  char **names = NULL;
  size_t count = 0, capacity = 0;
  brt_status status = BRT_OK;
  bool out_of_memory = false;
  for (struct dirent *item; !out_of_memory && (item = readdir(stream));) {
    if (!_brt_bridge_has_suffix(item->d_name, ".so") &&
        !_brt_bridge_has_suffix(item->d_name, BRT_MANIFEST_SUFFIX))
      continue;
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
  brt_core *core = NULL;
  brt_status opened = _brt_bridge_core_get(rt, "brt_plugin_load_dir", &core);
  if (opened != BRT_OK) return opened;
  char resolved[PATH_MAX];
  struct stat st;
  brt_status status = BRT_OK;
  if (!dir || !*dir)
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load_dir: dir is %s; expected a directory path",
                           dir ? "empty" : "NULL");
  else if (!realpath(dir, resolved))
    status = _brt_bridge_path_error("cannot resolve plugin directory", dir);
  else if (stat(resolved, &st) != 0)
    status = _brt_bridge_path_error("cannot stat plugin directory", resolved);
  else if (!S_ISDIR(st.st_mode))
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_plugin_load_dir: \"%s\" is %s, not a directory", resolved,
                           _brt_bridge_file_kind(st.st_mode));
  brt_plugin_options options;
  if (status == BRT_OK) status = _brt_bridge_plugin_options_resolve(core, NULL, &options);
  if (status == BRT_OK) status = _brt_bridge_check_confinement(core, dir, resolved);
  if (status == BRT_OK)
    status = _brt_bridge_check_owner_and_mode(core, "plugin directory", resolved, &st);
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
            ? _brt_bridge_load_path(rt, core, path, &options)
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
  /* Watched even when some plugins failed: fixing them is a change. */
  if (status == BRT_OK || failed) {
    brt_status watching = _brt_bridge_watch_dir(rt, core, resolved);
    if (watching != BRT_OK && status == BRT_OK && !failed) status = watching;
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
