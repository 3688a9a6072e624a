/* bridge/ internals shared between its files. Other components use the
 * public ABI (bridgert/runtime.h) only.
 *
 * Ownership, from the outside in:
 *   brt_runtime  a tiny shell that is never freed (so a stale handle fails
 *                cleanly); it points at its core until it is closed.
 *   core         the runtime's state: config, registry snapshot, plugins,
 *                monitor. Refcounted: the open shell holds one reference
 *                and every entry holds one, so in-flight calls can still
 *                record into the monitor after the runtime was closed.
 *   snapshot     an immutable, sorted array of entries, replaced as a whole
 *                by writers (copy on write) and read without a lock.
 *   entry        one registered name@version. Refcounted: the snapshot that
 *                lists it, every in-flight call and every prepared handle.
 *   plugin       one dlopen()ed file. Refcounted: the core's plugin list and
 *                each of its entries; dlclose() at zero.
 *
 * Lock-free reads: a reader (call by name, prepare) enters a read section —
 * one atomic increment of its thread's own slot counter — loads the core and
 * the snapshot, looks the name up, retains the entry and leaves. A writer
 * publishes a new snapshot and then waits for a grace period (every slot
 * seen at zero once) before it frees the old one: no reader can still hold
 * it. Read sections never run user code, so a grace period is short and an
 * algorithm may register or unregister from inside a call. */
#ifndef BRT_BRIDGE_INTERNAL_H
#define BRT_BRIDGE_INTERNAL_H

#include "bridgert/error.h"
#include "bridgert/memory.h"
#include "bridgert/runtime.h"
#include "core/clock.h"
#include "core/compiler.h"
#include "exception/null_status.h"
#include "guard.h"
#include "../isolation/isolation.h"

#include <ffi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>

/* Internal functions that can fail return a brt_status (recorded) and fill
 * out-parameters only on BRT_OK; after a public function of a lower floor
 * returned NULL, _brt_null_status gives its status. */
#include <sys/types.h>

/* --- signature.c ---------------------------------------------------------- */

typedef enum brt_native_type {
  BRT_NT_VOID, BRT_NT_I8, BRT_NT_I16, BRT_NT_I32, BRT_NT_I64, BRT_NT_U8, BRT_NT_U16,
  BRT_NT_U32, BRT_NT_U64, BRT_NT_F32, BRT_NT_F64, BRT_NT_BOOL, BRT_NT_PTR, BRT_NT_STR,
  BRT_NT_COUNT
} brt_native_type;

/* A parsed native signature with its libffi call interface. */
typedef struct brt_signature {
  brt_native_type ret;
  uint32_t arg_count;
  brt_native_type args[BRT_SIGNATURE_MAX_ARGS];
  ffi_type *ffi_args[BRT_SIGNATURE_MAX_ARGS];
  ffi_cif cif;
  /* libffi widens integral returns narrower than a register to ffi_arg; for
   * those the call goes through a word-sized buffer copied to `ret`. */
  bool ret_needs_widening;
  size_t ret_size;
  char text[256]; /* canonical text, e.g. "f64(ptr,u64)" */
} brt_signature;

/* Parses `text` into `sig` and prepares its cif. INVALID_ARGUMENT (recorded,
 * naming the position and what was expected) on any error. */
brt_status _brt_bridge_signature_parse(const char *text, brt_signature *sig);

/* --- registry.c ----------------------------------------------------------- */

typedef struct brt_semver {
  uint64_t major, minor, patch;
  const char *prerelease; /* points into the entry's version text, or NULL */
  size_t prerelease_len;
} brt_semver;

typedef struct brt_core brt_core;
typedef struct brt_plugin brt_plugin;

typedef struct brt_entry {
  _Atomic uint32_t refs;
  _Atomic bool removed; /* unregistered, unloaded or runtime closed */
  brt_core *core;       /* referenced */
  brt_plugin *plugin;   /* referenced, NULL for host registrations */
  brt_algorithm desc;   /* strings point at the owned copies below */
  char *name, *version, *description, *schema_text;
  char *label; /* "algorithm \"name@version\"": names its memory budget in errors */
  brt_semver semver;
  struct brt_schema *schema; /* compiled input schema, or NULL */
  struct brt_schema *output_schema; /* compiled output schema, or NULL */
  char *output_schema_text;
  struct brt_algo_stats *stats; /* owned by core->monitor; every call records here */
  bool has_native;
  brt_signature sig;
} brt_entry;

typedef struct brt_snapshot {
  size_t count;
  brt_entry *entries[]; /* by name ascending, then version descending */
} brt_snapshot;

bool _brt_bridge_name_valid(const char *name, size_t len);
brt_status _brt_bridge_semver_parse(const char *text, brt_semver *out);
int _brt_bridge_semver_compare(const brt_semver *a, const brt_semver *b);
void _brt_bridge_entry_retain(brt_entry *entry);
void _brt_bridge_entry_release(brt_entry *entry);
/* Builds an entry from a description (validated) in *out. */
brt_status _brt_bridge_entry_create(brt_core *core, const brt_algorithm *algorithm,
                                    brt_entry **out);
/* Finds "name" or "name@version" in the current snapshot of `rt` and puts
 * it, retained, in *out; else NOT_FOUND (suggesting the closest name) or
 * INVALID_ARGUMENT (closed runtime, malformed name). */
brt_status _brt_bridge_lookup(brt_runtime *rt, const char *name, const char *function,
                              brt_entry **out);
/* Publishes the current snapshot plus `added` minus the entries for which
 * `remove(entry, ctx)` is true; called with core->write_lock held. Checks
 * duplicates first (EXISTS: nothing changes). Waits for a grace period and
 * drops the registry's references of the removed entries. `removed_count`
 * (optional) tells how many were removed. */
brt_status _brt_bridge_registry_update(brt_core *core, brt_entry **added, size_t added_count,
                                       bool (*remove)(const brt_entry *, const void *),
                                       const void *remove_ctx, size_t *removed_count);

/* --- runtime.c ------------------------------------------------------------ */

struct brt_core {
  _Atomic uint32_t refs;
  pthread_mutex_t write_lock; /* serialises writers: register, unregister, load */
  bool closed;                /* under write_lock */
  _Atomic(brt_snapshot *) snapshot;
  brt_plugin *plugins;        /* under write_lock */
  brt_plugin *loading;        /* under write_lock: dlopen()ed plugins whose init runs */
  brt_config config;
  struct brt_monitor *monitor; /* owned; outlives every entry (they reference the core) */
  _Atomic uint64_t reloads[5]; /* bridgert_plugin_reloads_total by brt_reload_result */
  char reload_failure[1024];   /* under write_lock: the last failed reload or watch event,
                                  "" after a success; a health check until then */
  _Atomic(struct brt_watch *) watch; /* plugin_watch: the inotify thread, or NULL */
  bool replacing; /* under write_lock: the registry update of a reload's commit */
};

/* Read sections (see the top of this file). Returns the slot to leave. */
unsigned _brt_bridge_read_enter(void);
void _brt_bridge_read_leave(unsigned slot);
/* In a fork() child: the threads that were in read sections do not exist
 * there (fork is never called inside one), so every slot is zero. */
void _brt_bridge_read_slots_reset(void);
/* Waits until every read section that began before the call has ended. */
void _brt_bridge_grace_period(void);
/* The core of an open runtime, retained, in *out; else INVALID_ARGUMENT
 * (`function` names the caller). */
brt_status _brt_bridge_core_get(brt_runtime *rt, const char *function, brt_core **out);
/* The core without retaining, inside a read section; NULL when closed. */
brt_core *_brt_bridge_core_peek(brt_runtime *rt);
void _brt_bridge_core_retain(brt_core *core);
void _brt_bridge_core_release(brt_core *core);
/* The runtime handle is valid (magic), else INVALID_ARGUMENT. */
brt_status _brt_bridge_runtime_check(const brt_runtime *rt, const char *function);

/* --- fork.c --------------------------------------------------------------- */

/* Lists a new core (and installs the fork handlers once) / forgets a core
 * being freed: every listed core's write_lock is held across fork(). */
void _brt_bridge_fork_track(brt_core *core);
void _brt_bridge_fork_forget(brt_core *core);

/* --- call_value.c --------------------------------------------------------- */

/* Compiles the input and output schemas (NULL: none) into the entry. */
brt_status _brt_bridge_entry_attach_value(brt_entry *entry, const char *input_schema,
                                          const char *output_schema);
void _brt_bridge_entry_detach_value(brt_entry *entry);

/* --- observe.c ------------------------------------------------------------ */

brt_status _brt_bridge_monitor_create(brt_core *core);
void _brt_bridge_monitor_free(brt_core *core);
brt_status _brt_bridge_entry_attach_monitor(brt_core *core, brt_entry *entry);
/* Publishes the registry's gauges; under write_lock. */
void _brt_bridge_gauges_update(brt_core *core, size_t algorithms);

/* --- plugin.c ------------------------------------------------------------- */

struct brt_plugin {
  _Atomic uint32_t refs;
  void *handle; /* dlopen() handle, or NULL for an adopted image */
  int fd;       /* the checked descriptor that was loaded, or -1 */
  void *image;  /* what runs the algorithms elsewhere (workers, a program), or NULL */
  void (*image_release)(void *image);
  char *path;       /* realpath */
  char *given_path; /* the path as the host gave it, or NULL */
  const void *base; /* where the shared object is mapped (dladdr's dli_fbase), or NULL */
  brt_plugin *next_loading; /* in core->loading, under write_lock */
  dev_t dev;
  ino_t ino;
  brt_plugin *next; /* in core->plugins, under write_lock */
  brt_runtime *rt;  /* handed to the fini hook (a closed runtime fails cleanly) */
  brt_plugin_fini_fn fini; /* brt_plugin_fini_v1 once the init succeeded, or NULL */
  brt_plugin_fini_fn pending_fini; /* the exported one, while the init runs */
  bool copy;        /* fd is a sealed private copy (memfd) loaded as /proc/self/fd/FD */
  brt_plugin_options options; /* how it was loaded; a reload loads the new file alike */
  char pinned[192]; /* why the image cannot leave the process (NODELETE), or "" */
};

void _brt_bridge_plugin_retain(brt_plugin *plugin);
void _brt_bridge_plugin_release(brt_plugin *plugin);
/* The plugin being loaded on this thread for `core` (its init is running),
 * or NULL. brt_register stages the entries of such a plugin. */
brt_plugin *_brt_bridge_loading_plugin(const brt_core *core);
/* Stages an entry of the plugin being loaded; takes the reference. */
brt_status _brt_bridge_loading_stage(brt_entry *entry);
/* The loaded (or loading) plugin whose shared object holds one of the
 * algorithm's functions, retained, or NULL: a registration made from
 * inside a call or by a plugin's helper thread belongs to the plugin whose
 * code it would run, and goes when that plugin goes. Under write_lock. */
brt_plugin *_brt_bridge_plugin_of_code(brt_core *core, const brt_algorithm *algorithm);

/* What names an external program's manifest. */
#define BRT_MANIFEST_SUFFIX ".algorithm.json"

/* plugin_check.c: the loader's checks. The error of a failed path
 * operation (NOT_FOUND, PERMISSION or IO by errno, naming `path`). */
brt_status _brt_bridge_path_error(const char *what, const char *path);
/* `resolved` lies in one of the configured plugin_dirs (any, when none is
 * configured); PERMISSION naming both paths otherwise. */
brt_status _brt_bridge_check_confinement(const brt_core *core, const char *path,
                                         const char *resolved);
/* Owned by root or by us, and writable by nobody else unless allowed. */
brt_status _brt_bridge_check_owner_and_mode(const brt_core *core, const char *what,
                                            const char *path, const struct stat *st);
/* "a directory", "a FIFO", ... for messages. */
const char *_brt_bridge_file_kind(mode_t mode);
/* _brt_bridge_open_checked for a shared object: also returns the checked
 * directory (O_PATH) in *dir. */
brt_status _brt_bridge_open_plugin(const brt_core *core, const char *path, char *resolved,
                                   struct stat *st, int *fd, int *dir);

/* Resolves `path`, checks it is inside plugin_dirs, walks it from "/"
 * without following symbolic links, checks every directory on the way and
 * the file (a regular file, owned by root or us, not group- or
 * world-writable unless allowed), and opens it O_RDONLY|O_CLOEXEC into *fd:
 * whatever is loaded afterwards is read from that descriptor, so the checks
 * cannot be raced. `what` ("plugin", "manifest", "program") names it in
 * errors. `resolved` has PATH_MAX bytes. */
brt_status _brt_bridge_open_checked(const brt_core *core, const char *what, const char *path,
                                    char *resolved, struct stat *st, int *fd);
/* Registers `count` algorithms as one plugin named `resolved` (identity
 * st_dev/st_ino; `given` is the path as the host gave it, or NULL), all or
 * nothing, as a shared object's init would. `image` is released with
 * image_release(image) when the plugin is finally dropped (after its last
 * in-flight call), and at once on failure. */
brt_status _brt_bridge_plugin_adopt(brt_runtime *rt, brt_core *core, const char *resolved,
                                    const char *given, const struct stat *st, void *image,
                                    void (*image_release)(void *),
                                    const brt_algorithm *algorithms, size_t count,
                                    const brt_plugin_options *options);
/* INVALID_ARGUMENT naming `function` for a NULL, empty or over-long path. */
brt_status _brt_bridge_path_arg(const char *function, const char *path);
/* The plugin loaded from `path` (see brt_plugin_unload), or NULL; under
 * write_lock. */
brt_plugin **_brt_bridge_find_by_path(brt_core *core, const char *path);
/* Makes the next load on this thread (not the loads its init makes) replace
 * `plugin` atomically instead of refusing EXISTS: its entries leave the
 * registry in the same update that publishes the new ones. NULL clears. */
void _brt_bridge_reload_target(brt_plugin *plugin);
/* Loads `file` of the checked directory `dir` (taken) in this process:
 * dlopen, the init, the commit, all or nothing. */
brt_status _brt_bridge_plugin_load_at(brt_runtime *rt, brt_core *core, int dir, const char *file,
                                      const char *resolved, const char *given,
                                      const struct stat *st);

/* --- plugin_load.c -------------------------------------------------------- */

/* Checks `options` (NULL: the config's isolation, defaults otherwise) into
 * *out; INVALID_ARGUMENT naming brt_plugin_load_ex otherwise. */
brt_status _brt_bridge_plugin_options_resolve(const brt_core *core,
                                              const brt_plugin_options *options,
                                              brt_plugin_options *out);
/* `name` is longer than `suffix` and ends with it. */
bool _brt_bridge_has_suffix(const char *name, const char *suffix);
/* Loads `path` (a shared object or a manifest) with `options`: what
 * brt_plugin_load_ex does after validating its arguments. */
brt_status _brt_bridge_load_path(brt_runtime *rt, brt_core *core, const char *path,
                                 const brt_plugin_options *options);

/* --- reload.c ----------------------------------------------------------------- */

typedef enum brt_reload_result {
  BRT_RELOAD_OK,       /* replaced; the old image leaves after its last call */
  BRT_RELOAD_PINNED,   /* replaced, but the old image cannot leave the process */
  BRT_RELOAD_FAILED,   /* refused; the old image keeps serving */
  BRT_RELOAD_LOADED,   /* watch mode: a new file was loaded */
  BRT_RELOAD_UNLOADED, /* watch mode: a removed file was unloaded */
} brt_reload_result;

/* Counts an outcome; a failure's message (the thread's error) stays in the
 * health check until the next success. */
void _brt_bridge_reload_count(brt_core *core, brt_reload_result result, const char *path);
/* Why the shared object open at `fd` can never be unloaded (DF_1_NODELETE,
 * or STB_GNU_UNIQUE symbols, which make glibc mark it NODELETE), written to
 * `why`; false when it can. Reads the ELF file, runs none of it. */
bool _brt_bridge_elf_pinned(int fd, char *why, size_t size);
/* A sealed memfd copy of the checked file open at `file_fd` in *out, for
 * an image that dlopen would otherwise take for a loaded one. */
brt_status _brt_bridge_private_copy(int file_fd, const char *resolved, int *out);
/* dlopen()s `name` into plugin->handle (NULL on failure, dlerror() set);
 * with `must_be_fresh`, false and nothing kept when the dynamic loader
 * answered with an image it had loaded under another name. */
bool _brt_bridge_dlopen_fresh(brt_plugin *plugin, const char *name, bool must_be_fresh);
/* The file (dev, ino) is mapped at `base` in this process
 * (/proc/self/maps). */
bool _brt_bridge_image_mapped(const void *base, dev_t dev, ino_t ino);
/* Images dlclose() left mapped, in this process. */
extern _Atomic uint64_t _brt_bridge_images_pinned;
/* The reload section of the metrics and of the health check. */
brt_status _brt_bridge_reload_export(brt_core *core, unsigned format, char **text);
brt_status _brt_bridge_reload_health(brt_core *core, brt_health_level *level, char **report);

/* --- watch.c ------------------------------------------------------------------ */

/* With plugin_watch: watches `dir` (resolved) for new, changed and removed
 * plugins, starting the watcher thread on first use. */
brt_status _brt_bridge_watch_dir(brt_runtime *rt, brt_core *core, const char *dir);
/* Stops and joins the watcher thread; before the runtime closes. */
void _brt_bridge_watch_stop(brt_core *core);

/* --- isolated.c ------------------------------------------------------------- */

/* Loads the checked plugin descriptor `fd` (taken) into worker processes
 * and registers its algorithms as proxies (options->isolation is PROCESS or
 * SANDBOX). */
brt_status _brt_bridge_isolated_load(brt_runtime *rt, brt_core *core, int fd, const char *resolved,
                                     const char *given, const struct stat *st,
                                     const brt_plugin_options *options);

/* --- observe_workers.c --------------------------------------------------------- */

/* Adds the workers of isolated plugins to an export (*text, a managed
 * block, is replaced) and to a health report (the level is raised to the
 * workers' worst). Nothing changes when no plugin is isolated. */
brt_status _brt_bridge_workers_export(brt_core *core, unsigned format, char **text);
brt_status _brt_bridge_workers_health(brt_core *core, brt_health_level *level, char **report);
/* A managed copy of `len` bytes of `data` and a terminating NUL (what the
 * callers of the export and the health check release), or NULL. */
char *_brt_bridge_managed_text(const char *data, size_t len);

/* --- manifest.c ------------------------------------------------------------- */

/* Loads an external program's manifest (docs/isolation.md). */
brt_status _brt_bridge_manifest_load(brt_runtime *rt, brt_core *core, const char *path,
                                     const brt_plugin_options *options);

/* --- invoke.c --------------------------------------------------------------- */

/* The call running on this thread (innermost first), for brt_call_deadline
 * and brt_call_cancelled. Lives on the caller's stack. */
typedef struct brt_call_frame {
  uint64_t deadline_ns; /* CLOCK_MONOTONIC, 0: none */
  const brt_entry *entry;
  struct brt_call_frame *outer;
} brt_call_frame;

/* Opens the entry's per-call memory budget (desc.memory_limit != 0) in
 * *budget; the error names the algorithm. */
brt_status _brt_bridge_budget_begin(const brt_entry *entry, brt_mem_budget *budget);
void _brt_bridge_frame_push(brt_call_frame *frame, const brt_entry *entry, uint64_t deadline_ns);
void _brt_bridge_frame_pop(brt_call_frame *frame);
/* TIMEOUT (recorded) when `now` is past the frame's deadline, else BRT_OK. */
brt_status _brt_bridge_deadline_check(const brt_entry *entry, uint64_t started_ns,
                                      uint64_t deadline_ns, uint64_t now_ns);

/* Records the error of a failed call naming the algorithm, with the
 * function's own error as the cause; returns `status`. */
brt_status _brt_bridge_algorithm_failed(const brt_entry *entry, brt_status status);

#endif /* BRT_BRIDGE_INTERNAL_H */
