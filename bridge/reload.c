/* Hot reload: brt_plugin_reload, the images that cannot leave the process,
 * and the reload section of the metrics and of the health check.
 *
 * A reload is a load that replaces: the new file goes through the loader's
 * checks and its init like any load, and the commit publishes its entries
 * and removes the old plugin's in one registry update (plugin.c,
 * commit_load). Calls in flight and prepared handles hold the old entries,
 * which hold the old plugin: it is dropped (fini, then dlclose, or the old
 * workers stopped) after the last of them. */
#include "internal.h"

#include <cjson/cJSON.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

_Atomic uint64_t _brt_bridge_images_pinned;

static const char *const result_names[] = {"ok", "pinned", "failed", "loaded", "unloaded"};

/* --- The ELF check ------------------------------------------------------------- */

/* The section headers of a 64-bit ELF image of `size` bytes, or NULL. */
static const Elf64_Shdr *sections(const unsigned char *image, size_t size, size_t *count) {
  if (size < sizeof(Elf64_Ehdr) || memcmp(image, ELFMAG, SELFMAG) != 0 ||
      image[EI_CLASS] != ELFCLASS64)
    return NULL;
  const Elf64_Ehdr *header = (const Elf64_Ehdr *)image;
  if (header->e_shentsize != sizeof(Elf64_Shdr) || header->e_shoff > size ||
      (size - header->e_shoff) / sizeof(Elf64_Shdr) < header->e_shnum)
    return NULL;
  *count = header->e_shnum;
  return (const Elf64_Shdr *)(image + header->e_shoff);
}

static bool section_fits(const Elf64_Shdr *s, size_t size) {
  return s->sh_offset <= size && s->sh_size <= size - s->sh_offset;
}

bool _brt_bridge_elf_pinned(int fd, char *why, size_t size) {
  why[0] = '\0';
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size <= 0) return false;
  size_t length = (size_t)st.st_size;
  unsigned char *image = mmap(NULL, length, PROT_READ, MAP_PRIVATE, fd, 0);
  if (image == MAP_FAILED) return false;
  size_t count = 0;
  const Elf64_Shdr *table = sections(image, length, &count);
  for (size_t i = 0; table && i < count && !why[0]; i++) {
    const Elf64_Shdr *s = &table[i];
    if (!section_fits(s, length)) continue;
    if (s->sh_type == SHT_DYNAMIC) {
      const Elf64_Dyn *dyn = (const Elf64_Dyn *)(image + s->sh_offset);
      for (size_t j = 0; j < s->sh_size / sizeof *dyn && dyn[j].d_tag != DT_NULL; j++)
        if (dyn[j].d_tag == DT_FLAGS_1 && (dyn[j].d_un.d_val & DF_1_NODELETE))
          snprintf(why, size, "it is linked with -z nodelete (DF_1_NODELETE)");
    } else if (s->sh_type == SHT_DYNSYM && s->sh_link < count &&
               section_fits(&table[s->sh_link], length)) {
      const Elf64_Sym *symbols = (const Elf64_Sym *)(image + s->sh_offset);
      const Elf64_Shdr *strings = &table[s->sh_link];
      for (size_t j = 0; j < s->sh_size / sizeof *symbols; j++) {
        if (ELF64_ST_BIND(symbols[j].st_info) != STB_GNU_UNIQUE ||
            symbols[j].st_shndx == SHN_UNDEF)
          continue;
        const char *name = symbols[j].st_name < strings->sh_size
                               ? (const char *)image + strings->sh_offset + symbols[j].st_name
                               : "?";
        snprintf(why, size,
                 "it defines STB_GNU_UNIQUE symbols (%.80s...), which make glibc keep it "
                 "mapped: build it with -fno-gnu-unique",
                 memchr(name, '\0', strings->sh_size - symbols[j].st_name) ? name : "?");
        break;
      }
    }
  }
  munmap(image, length);
  return why[0] != '\0';
}

/* --- Images of their own ------------------------------------------------------ */

/* A sealed private copy of the checked file open at `file_fd`, for a reload
 * whose file dlopen would take for the old image (the same inode: the file
 * was rewritten in place). The copy is made from the checked descriptor and
 * sealed before it is mapped, so what runs is what was checked. */
brt_status _brt_bridge_private_copy(int file_fd, const char *resolved, int *out) {
  const char *base = strrchr(resolved, '/');
  char label[64];
  snprintf(label, sizeof label, "brt-plugin:%s", base ? base + 1 : resolved);
  int copy = memfd_create(label, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (copy < 0)
    return brt_error_set_os(BRT_E_IO, errno, "plugin \"%s\": cannot make a private copy (memfd_create)",
                            resolved);
  off_t offset = 0;
  for (;;) {
    char buf[65536];
    ssize_t got = pread(file_fd, buf, sizeof buf, offset);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (got == 0) break;
      int error = errno;
      close(copy);
      return brt_error_set_os(BRT_E_IO, error, "plugin \"%s\": cannot read it for a private copy",
                              resolved);
    }
    for (ssize_t done = 0; done < got;) {
      ssize_t put = write(copy, buf + done, (size_t)(got - done));
      if (put < 0 && errno == EINTR) continue;
      if (put <= 0) {
        int error = errno;
        close(copy);
        return brt_error_set_os(BRT_E_IO, error, "plugin \"%s\": cannot write its private copy",
                                resolved);
      }
      done += put;
    }
    offset += got;
  }
  if (fcntl(copy, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0) {
    int error = errno;
    close(copy);
    return brt_error_set_os(BRT_E_IO, error, "plugin \"%s\": cannot seal its private copy",
                            resolved);
  }
  *out = copy;
  return BRT_OK;
}

/* dlopen()s `name` into `plugin`; false (nothing kept) when the dynamic
 * loader answered with an image it had loaded before under another name
 * (the same inode): a reload needs a fresh one. */
bool _brt_bridge_dlopen_fresh(brt_plugin *plugin, const char *name, bool must_be_fresh) {
  void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!handle) return true;
  struct link_map *map = NULL;
  if (must_be_fresh && dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map &&
      strcmp(map->l_name, name) != 0) {
    dlclose(handle);
    return false;
  }
  plugin->handle = handle;
  return true;
}

bool _brt_bridge_image_mapped(const void *base, dev_t dev, ino_t ino) {
  FILE *maps = fopen("/proc/self/maps", "re");
  if (!maps) return false;
  char line[PATH_MAX + 128];
  bool found = false;
  while (!found && fgets(line, sizeof line, maps)) {
    unsigned long long start, end, offset, inode;
    unsigned major_id, minor_id;
    if (sscanf(line, "%llx-%llx %*s %llx %x:%x %llu", &start, &end, &offset, &major_id, &minor_id,
               &inode) == 6)
      found = start == (unsigned long long)(uintptr_t)base && inode == (unsigned long long)ino &&
              major_id == major(dev) && minor_id == minor(dev);
    /* A line longer than the buffer: skip its rest. */
    while (!strchr(line, '\n') && fgets(line, sizeof line, maps)) {
    }
  }
  fclose(maps);
  return found;
}

/* --- Counting --------------------------------------------------------------------- */

void _brt_bridge_reload_count(brt_core *core, brt_reload_result result, const char *path) {
  atomic_fetch_add_explicit(&core->reloads[result], 1, memory_order_relaxed);
  pthread_mutex_lock(&core->write_lock);
  if (result == BRT_RELOAD_FAILED) {
    char message[BRT_ERROR_MESSAGE_MAX];
    brt_error_format(brt_last_error(), message, sizeof message);
    snprintf(core->reload_failure, sizeof core->reload_failure, "%.300s: %.700s", path, message);
  } else {
    core->reload_failure[0] = '\0';
  }
  pthread_mutex_unlock(&core->write_lock);
}

/* --- brt_plugin_reload -------------------------------------------------------------- */

brt_status brt_plugin_reload(brt_runtime *rt, const char *path) {
  brt_core *core = NULL;
  brt_status opened = _brt_bridge_core_get(rt, "brt_plugin_reload", &core);
  if (opened != BRT_OK) return opened;
  brt_status status = _brt_bridge_path_arg("brt_plugin_reload", path);
  brt_plugin *old = NULL;
  if (status == BRT_OK) {
    pthread_mutex_lock(&core->write_lock);
    brt_plugin **link = core->closed ? NULL : _brt_bridge_find_by_path(core, path);
    if (link) {
      old = *link;
      _brt_bridge_plugin_retain(old);
    }
    pthread_mutex_unlock(&core->write_lock);
    if (!old)
      status = brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL,
                             "brt_plugin_reload: no plugin loaded from \"%s\" in this runtime",
                             path);
  }
  if (status == BRT_OK) {
    brt_plugin_options options = old->options;
    if (options.struct_size != sizeof options) {
      memset(&options, 0, sizeof options);
      options.struct_size = sizeof options;
      options.isolation = BRT_ISOLATION_NONE; /* loaded in this process */
    }
    /* The path as the host names it now; a plugin found by its old name
     * (the file was removed) is reloaded from where it was loaded. */
    const char *from = access(path, F_OK) == 0 ? path : old->path;
    _brt_bridge_reload_target(old);
    status = _brt_bridge_load_path(rt, core, from, &options);
    _brt_bridge_reload_target(NULL);
    if (status != BRT_OK)
      status = brt_error_wrap(status, BRT_ORIGIN_C, NULL,
                              "brt_plugin_reload: \"%s\": the old image keeps serving: %s", path,
                              brt_error_message(brt_last_error()));
    _brt_bridge_reload_count(core,
                             status != BRT_OK ? BRT_RELOAD_FAILED
                             : old->pinned[0] ? BRT_RELOAD_PINNED
                                              : BRT_RELOAD_OK,
                             path);
    _brt_bridge_plugin_release(old);
  }
  _brt_bridge_core_release(core);
  return status;
}

/* --- Metrics and health ---------------------------------------------------------------- */

/* Replaces the managed text *inout by *inout + `tail` (Prometheus) or by
 * *inout with `tail` inserted before its closing brace (JSON). */
static brt_status append(char **inout, const char *tail, bool json, const char *function) {
  size_t len = strlen(*inout), extra = strlen(tail);
  if (json) {
    while (len && (*inout)[len - 1] != '}') len--;
    if (!len)
      return brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "%s: the JSON text has no object",
                           function);
    len--;
  }
  char *joined = malloc(len + extra + 2);
  if (!joined)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL, "%s: out of memory", function);
  memcpy(joined, *inout, len);
  memcpy(joined + len, tail, extra);
  size_t total = len + extra;
  if (json) joined[total++] = '}';
  char *managed = _brt_bridge_managed_text(joined, total);
  free(joined);
  if (!managed)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL, "%s: out of memory", function);
  brt_release(*inout);
  *inout = managed;
  return BRT_OK;
}

brt_status _brt_bridge_reload_export(brt_core *core, unsigned format, char **text) {
  uint64_t counts[5];
  for (int i = 0; i < 5; i++) counts[i] = atomic_load_explicit(&core->reloads[i], memory_order_relaxed);
  uint64_t pinned = atomic_load_explicit(&_brt_bridge_images_pinned, memory_order_relaxed);
  char tail[1024];
  if (format == BRT_FORMAT_PROMETHEUS) {
    int used = snprintf(tail, sizeof tail,
                        "# HELP bridgert_plugin_reloads_total Plugin reloads and watch-mode "
                        "loads and unloads, by outcome.\n"
                        "# TYPE bridgert_plugin_reloads_total counter\n");
    for (int i = 0; i < 5; i++)
      used += snprintf(tail + used, sizeof tail - (size_t)used,
                       "bridgert_plugin_reloads_total{result=\"%s\"} %llu\n", result_names[i],
                       (unsigned long long)counts[i]);
    snprintf(tail + used, sizeof tail - (size_t)used,
             "# HELP bridgert_plugin_images_pinned Plugin images that stayed mapped after their "
             "last use in this process (NODELETE).\n"
             "# TYPE bridgert_plugin_images_pinned gauge\n"
             "bridgert_plugin_images_pinned %llu\n",
             (unsigned long long)pinned);
    return append(text, tail, false, "brt_metrics_export");
  }
  snprintf(tail, sizeof tail,
           ",\"reloads\":{\"ok\":%llu,\"pinned\":%llu,\"failed\":%llu,\"loaded\":%llu,"
           "\"unloaded\":%llu,\"images_pinned\":%llu}",
           (unsigned long long)counts[0], (unsigned long long)counts[1],
           (unsigned long long)counts[2], (unsigned long long)counts[3],
           (unsigned long long)counts[4], (unsigned long long)pinned);
  return append(text, tail, true, "brt_metrics_export");
}

brt_status _brt_bridge_reload_health(brt_core *core, brt_health_level *level, char **report) {
  char failure[sizeof core->reload_failure];
  pthread_mutex_lock(&core->write_lock);
  memcpy(failure, core->reload_failure, sizeof failure);
  pthread_mutex_unlock(&core->write_lock);
  if (!failure[0]) return BRT_OK;
  /* A failed reload or watch event is DEGRADED until the next success: the
   * old image still serves, but what was deployed is not what runs. */
  cJSON *root = cJSON_Parse(*report);
  cJSON *checks = root ? cJSON_GetObjectItemCaseSensitive(root, "checks") : NULL;
  cJSON *check = checks ? cJSON_CreateObject() : NULL;
  char *printed = NULL;
  brt_health_level overall = BRT_HEALTHY;
  if (check && cJSON_AddItemToArray(checks, check)) {
    cJSON_AddStringToObject(check, "name", "plugin_reload");
    cJSON_AddStringToObject(check, "subject", "plugins");
    cJSON_AddStringToObject(check, "status", brt_health_level_name(BRT_DEGRADED));
    cJSON_AddStringToObject(check, "reason", failure);
    cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
    overall = level ? *level : BRT_HEALTHY;
    if (!level && cJSON_IsString(status))
      for (int l = BRT_HEALTHY; l <= BRT_UNHEALTHY; l++)
        if (strcmp(status->valuestring, brt_health_level_name((brt_health_level)l)) == 0)
          overall = (brt_health_level)l;
    if (overall < BRT_DEGRADED) overall = BRT_DEGRADED;
    if (cJSON_IsString(status)) cJSON_SetValuestring(status, brt_health_level_name(overall));
    printed = cJSON_PrintUnformatted(root);
  } else {
    cJSON_Delete(check);
  }
  cJSON_Delete(root);
  char *managed = printed ? _brt_bridge_managed_text(printed, strlen(printed)) : NULL;
  cJSON_free(printed);
  if (!managed)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "brt_health_check: out of memory adding the reload check");
  brt_release(*report);
  *report = managed;
  if (level) *level = overall;
  return BRT_OK;
}
