/* Opening the runtime the way every command does: the configuration
 * (--config, else BRT_CONFIG; BRT_* variables on top), then the plugins of
 * each --plugin-dir (else the config's plugin_dirs, else the example
 * plugins: the build tree's when the tool runs from it, else the installed
 * ${libdir}/bridgert/plugins). brt_runtime_open hands
 * the config's memory keys (max_memory, gc_*, tracking, hardened) to the
 * allocator before any plugin loads, so plugins allocate under the file's
 * limit; the loader refuses a FIFO or a device as the file without
 * waiting on it. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Missing or not a directory: a bad invocation, said before anything loads. */
static int check_directory(const char *dir) {
  struct stat st;
  if (stat(dir, &st) != 0) {
    fprintf(stderr, "bridgert: plugin directory '%s' does not exist (%s); see 'bridgert --help'\n",
            dir, strerror(errno));
    return CLI_EXIT_NO_INPUT;
  }
  if (!S_ISDIR(st.st_mode)) {
    fprintf(stderr, "bridgert: plugin directory '%s' is not a directory; see 'bridgert --help'\n",
            dir);
    return CLI_EXIT_NO_INPUT;
  }
  return CLI_EXIT_OK;
}

static int load_config(const cli_options *options, brt_config *cfg) {
  brt_config_default(cfg);
  brt_status status;
  if (options->config_path) {
    if (access(options->config_path, R_OK) != 0) {
      fprintf(stderr, "bridgert: cannot read the config file '%s': %s\n", options->config_path,
              strerror(errno));
      return CLI_EXIT_NO_INPUT;
    }
    status = brt_config_load_json(options->config_path, cfg);
    if (status == BRT_OK) status = brt_config_load_env(cfg);
  } else {
    status = brt_config_resolve(cfg);
  }
  if (status != BRT_OK) {
    cli_print_error("the configuration is not valid");
    return CLI_EXIT_CONFIG;
  }
  return CLI_EXIT_OK;
}

const char *cli_build_tree_dir(const char *relative, char *buf, size_t size) {
  char exe[PATH_MAX];
  ssize_t length = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (length <= 0) return NULL;
  exe[length] = '\0';
  size_t root_length = strlen(BRT_CLI_BUILD_ROOT);
  if (strncmp(exe, BRT_CLI_BUILD_ROOT, root_length) != 0 || exe[root_length] != '/') return NULL;
  snprintf(buf, size, "%s/%s", BRT_CLI_BUILD_ROOT, relative);
  struct stat st;
  return stat(buf, &st) == 0 && S_ISDIR(st.st_mode) ? buf : NULL;
}

/* True when the installed example plugin directory exists. Asked only when
 * the build tree's did not answer: the build tree always has its own. */
static bool installed_plugin_dir(void) {
  struct stat st;
  return stat(BRT_CLI_INSTALLED_PLUGIN_DIR, &st) == 0 && S_ISDIR(st.st_mode);
}

int cli_open_runtime(const cli_options *options, brt_runtime **out) {
  for (size_t i = 0; i < options->plugin_dir_count; i++) {
    int code = check_directory(options->plugin_dirs[i]);
    if (code) return code;
  }
  brt_config cfg;
  int config_code = load_config(options, &cfg);
  if (config_code) {
    brt_config_dispose(&cfg);
    return config_code;
  }
  if (options->isolation >= 0) cfg.isolation = (brt_isolation)options->isolation;
  if (options->watch) cfg.plugin_watch = true;
  brt_runtime *rt = brt_runtime_open(&cfg);
  if (!rt) {
    cli_print_error("cannot open the runtime");
    brt_config_dispose(&cfg);
    return CLI_EXIT_CONFIG;
  }
  const char *dirs[CLI_MAX_PLUGIN_DIRS + BRT_CONFIG_MAX_PLUGIN_DIRS];
  size_t count = 0;
  char example_dir[PATH_MAX];
  for (size_t i = 0; i < options->plugin_dir_count; i++) dirs[count++] = options->plugin_dirs[i];
  for (size_t i = 0; count == 0 && i < cfg.plugin_dir_count; i++) dirs[count++] = cfg.plugin_dirs[i];
  if (count == 0 && cli_build_tree_dir(BRT_CLI_EXAMPLE_PLUGIN_DIR, example_dir, sizeof example_dir))
    dirs[count++] = example_dir;
  /* Installed: the directory the example plugin is installed in (fixed at
   * build time, like the worker's path), when nothing else was named. */
  if (count == 0 && installed_plugin_dir()) dirs[count++] = BRT_CLI_INSTALLED_PLUGIN_DIR;
  /* The example plugins (build tree or installed) were not asked for: their
   * failure is a warning; a directory the user named must load whole, or the
   * command would answer from a partial (often empty) registry as if all
   * were well. */
  size_t requested = options->plugin_dir_count ? options->plugin_dir_count : cfg.plugin_dir_count;
  int code = CLI_EXIT_OK;
  for (size_t i = 0; i < count; i++) {
    if (brt_plugin_load_dir(rt, dirs[i]) != BRT_OK) {
      bool fatal = i < requested && !options->keep_going;
      char context[PATH_MAX + 128];
      snprintf(context, sizeof context, "%splugins in '%s' did not load%s",
               fatal ? "" : "warning: some ", dirs[i],
               fatal ? " (--keep-going to go on with the others)" : "");
      cli_print_error(context);
      if (fatal) code = CLI_EXIT_UNAVAILABLE;
    }
  }
  brt_config_dispose(&cfg);
  if (code) {
    brt_runtime_close(rt);
    return code;
  }
  *out = rt;
  return CLI_EXIT_OK;
}
