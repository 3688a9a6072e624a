/* bridgert — runtime, algorithm registry, plugins and calls (docs/plugins.md,
 * docs/plugins.md).
 *
 * A host opens a runtime, loads plugins (shared objects exporting
 * brt_plugin_init_v1) or registers algorithms itself, and calls them by name
 * with a value (brt_call), with JSON text (brt_call_json), or — for native
 * functions — through a prepared handle (brt_prepare + brt_invoke) at close
 * to the cost of a call through a function pointer.
 *
 * Thread safety: every function is thread-safe. Calls take no global lock:
 * a call by name looks its algorithm up in an immutable snapshot of the
 * registry and holds a reference to the entry for the duration of the call,
 * so unregistering an algorithm, unloading its plugin or closing the runtime
 * while calls are in flight is safe: the entry (and the plugin's code) stays
 * alive until the last such call returns, and only then is the plugin
 * dlclose()d. Several runtimes may be open in one process. */
#ifndef BRIDGERT_RUNTIME_H
#define BRIDGERT_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "bridgert/config.h"
#include "bridgert/export.h"
#include "bridgert/monitor.h"
#include "bridgert/status.h"
#include "bridgert/value.h"
#include "bridgert/version.h"

typedef struct brt_runtime brt_runtime;   /* opaque */
typedef struct brt_prepared brt_prepared; /* opaque: a resolved native algorithm */

/* A value algorithm: reads `params` (borrowed, already validated against the
 * algorithm's input schema) and stores a new value in *result (the caller of
 * brt_call owns it). On failure it returns the status and records a
 * brt_error (brt_error_set); *result is then ignored. */
typedef brt_status (*brt_value_fn)(void *ctx, const brt_value *params, brt_value **result);

/* A compiled thunk for a native function (the C++ shim writes one from the
 * function's type): calls `native_fn` with the arguments args[i] (each a
 * pointer to an argument of the signature's i-th type), stores the return
 * value at `ret` (a pointer to storage of the return type; unused for void)
 * and returns BRT_OK, or catches what the function threw and returns its
 * status with the error recorded. The same convention as ffi_call. */
typedef brt_status (*brt_native_thunk)(void *native_fn, void *ret, void **args);

/* The largest number of arguments a native signature may have. */
#define BRT_SIGNATURE_MAX_ARGS 32
/* The longest algorithm name and version string (bytes, without the NUL). */
#define BRT_ALGORITHM_NAME_MAX 128
#define BRT_ALGORITHM_VERSION_MAX 64

/* What brt_register copies into the registry. Every string is copied; the
 * struct may live on the stack.
 *
 * name        [a-z0-9_.-]{1,128}
 * version     semantic version "MAJOR.MINOR.PATCH[-pre][+build]"
 * description free text or NULL
 * input_schema JSON Schema (the DESIGN §5 subset) checked against the params
 *             of every value call, compiled once here; NULL: no check
 * value_fn    for brt_call / brt_call_json, or NULL
 * native_fn   for brt_prepare / brt_invoke, or NULL (at least one of the two)
 * signature   the native function's C type, required with native_fn:
 *             RET "(" [ARG {"," ARG}] ")" where each type is one of void
 *             (return only), i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 bool ptr
 *             str, e.g. "f64(ptr,ptr,u64)"; "(void)" means no arguments
 * timeout_ms  deadline of each call; 0: the runtime's default_timeout_ms for
 *             value calls, and no deadline for native calls (which then skip
 *             the clock entirely: that is the fast path). In process a late
 *             call is reported TIMEOUT when it returns; an isolated plugin's
 *             worker is killed at the deadline
 * memory_limit bytes one call may hold, 0: none. A per-call budget of the
 *             net bridgert heap bytes (C, Rust, C++ heap blocks) the
 *             calling thread allocates during the call; an allocation past
 *             it fails with BRT_E_LIMIT_EXCEEDED. Not counted: plain
 *             malloc, other threads the algorithm starts, SHARED and MAPPED
 *             blocks (docs/plugins.md). For a hard limit on everything a
 *             plugin allocates, run it isolated (brt_plugin_options
 *             memory_limit, per worker process)
 * flags       must be 0 in this version
 * ctx         passed to value_fn as is
 * native_thunk (since struct_size covers it) a compiled thunk for native_fn;
 *             NULL: calls go through libffi with a cif prepared here.
 * output_schema (since struct_size covers it) JSON Schema checked against
 *             the result of every value call, compiled once here; a result
 *             that does not match is released and the call fails
 *             BRT_E_VALIDATION naming the algorithm and the JSON Pointer.
 *             NULL: no check. */
typedef struct brt_algorithm {
  uint32_t struct_size; /* sizeof(brt_algorithm) */
  const char *name, *version, *description;
  const char *input_schema;
  brt_value_fn value_fn;
  void *native_fn;
  const char *signature;
  uint32_t timeout_ms;
  uint64_t memory_limit;
  uint32_t flags;
  void *ctx;
  /* Fields after ctx are read only when struct_size includes them. */
  brt_native_thunk native_thunk;
  const char *output_schema;
} brt_algorithm;

/* Visits one registered algorithm; its strings are valid during the call
 * only. Return 0 to go on, anything else to stop the listing. */
typedef int (*brt_algorithm_visitor)(void *ctx, const brt_algorithm *algorithm);

/* What a plugin exports (with C linkage). The runtime calls it once per load
 * with its own BRT_ABI_VERSION; the plugin registers its algorithms with
 * brt_register(rt, ...) from this same thread and returns BRT_OK, or returns
 * BRT_E_ABI_MISMATCH when it does not support `abi_version`, or any error
 * (recorded with brt_error_set) to refuse the load. The C++ shim's
 * BRT_PLUGIN(rt) { ... } macro (<bridgert/plugin.hpp>) writes it. */
typedef brt_status (*brt_plugin_init_fn)(brt_runtime *rt, uint32_t abi_version);
/* A plugin may also export `const uint32_t brt_plugin_abi_version` (the
 * BRT_ABI_VERSION it was built with): the loader refuses a different value
 * with BRT_E_ABI_MISMATCH before running any of the plugin's code. */
#define BRT_PLUGIN_INIT_SYMBOL "brt_plugin_init_v1"
#define BRT_PLUGIN_ABI_SYMBOL "brt_plugin_abi_version"
/* A plugin may also export brt_plugin_fini_v1: the runtime calls it once,
 * before the plugin's image is dropped (unloaded, replaced by a reload, or
 * its runtime closed), after the last call and prepared handle on it, and
 * only when its init succeeded. It undoes what the init did outside the
 * registry (translators, threads, files); algorithms need no unregistering.
 * `rt` may be closed by then: calls through it fail cleanly. Exceptions are
 * caught and dropped. The C++ shim's BRT_PLUGIN_FINI(rt) { ... } writes it. */
typedef void (*brt_plugin_fini_fn)(brt_runtime *rt);
#define BRT_PLUGIN_FINI_SYMBOL "brt_plugin_fini_v1"

/* Exports a plugin's entry points even when it is built with
 * -fvisibility=hidden. */
#if defined(__GNUC__)
#define BRT_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define BRT_PLUGIN_EXPORT
#endif

/* ISO C has no conversion between function and object pointers; these go
 * through uintptr_t (exact on every platform bridgert supports) so plugins
 * build warning-free with -Wpedantic: .native_fn = BRT_NATIVE_FN(dot), and
 * in a thunk BRT_NATIVE_AS(double (*)(double), fn). */
#define BRT_NATIVE_FN(fn) ((void *)(uintptr_t)(fn))
#define BRT_NATIVE_AS(type, pointer) ((type)(uintptr_t)(pointer))

BRT_BEGIN_DECLS

/* Declared here so a plugin's definitions are checked against them and
 * exported; defined by the plugin, never by libbridgert. */
BRT_PLUGIN_EXPORT brt_status brt_plugin_init_v1(brt_runtime *rt, uint32_t abi_version);
BRT_PLUGIN_EXPORT extern const uint32_t brt_plugin_abi_version;
BRT_PLUGIN_EXPORT void brt_plugin_fini_v1(brt_runtime *rt);

/* --- Runtime -------------------------------------------------------------- */

/* Opens a runtime with a copy of `cfg` (validated), or with the defaults
 * overridden by the BRT_CONFIG file and the environment when `cfg` is NULL.
 * Its allocator settings (max_memory, gc_*, tracking, hardened) apply to
 * the process's allocator until it is closed, the strictest of the open
 * runtimes' winning (config.h). NULL on failure (INVALID_ARGUMENT for a bad
 * config; the BRT_CONFIG file's IO or NOT_FOUND; OUT_OF_MEMORY); nothing
 * is applied then. Since 0.1.0. */
BRT_API brt_runtime *brt_runtime_open(const brt_config *cfg);
/* Closes a runtime: unregisters everything and drops its plugins (each is
 * dlclose()d when its last in-flight call or prepared handle is gone).
 * Later calls through `rt` fail with BRT_E_INVALID_ARGUMENT ("runtime is
 * closed") instead of touching freed memory: the handle itself stays a small
 * inert object for the life of the process. Calls in flight on other threads
 * finish normally; prepared handles keep working memory but their
 * brt_invoke fails. NULL and a second close are ignored. Must not be called
 * from inside an algorithm of the same runtime. Since 0.1.0. */
BRT_API void brt_runtime_close(brt_runtime *rt);

/* --- Plugins -------------------------------------------------------------- */

/* Loads the shared object at `path` and runs its brt_plugin_init_v1. The
 * algorithms it registers appear all at once when the init succeeds; a
 * failed load leaves nothing registered. Refusals, each with its own error:
 *  NOT_FOUND   the path does not exist (OS code set)
 *  PERMISSION  after realpath() the file is outside the configured
 *              plugin_dirs; the file or its directory is world-writable
 *              (unless allow_world_writable) or owned by a user other than
 *              root and the runtime's effective user
 *  PLUGIN      not a regular file; not a loadable shared object (the
 *              dlerror() text is in the message); no brt_plugin_init_v1;
 *              the init failed (the plugin's error is the cause)
 *  ABI_MISMATCH the plugin was built for another BRT_ABI_VERSION, or its
 *              init answered BRT_E_ABI_MISMATCH
 *  EXISTS      the same file is already loaded in this runtime, or it
 *              registers a name@version that is already registered
 * After dlopen the file is stat()ed again: if its device and inode changed
 * since the checks (it was replaced), the load is refused with PERMISSION.
 * Since 0.1.0. */
BRT_API brt_status brt_plugin_load(brt_runtime *rt, const char *path);
/* Options of brt_plugin_load_ex (docs/isolation.md). */
typedef struct brt_plugin_options {
  uint32_t struct_size;    /* sizeof(brt_plugin_options) */
  brt_isolation isolation; /* NONE: in this process; PROCESS: in worker processes; SANDBOX:
                              PROCESS inside namespaces with seccomp */
  uint32_t workers;        /* worker processes for this plugin; 0 = 1 */
  uint64_t memory_limit;   /* bytes per worker (RLIMIT_DATA); 0 = none. Needs PROCESS or
                              SANDBOX: with NONE a non-zero value is INVALID_ARGUMENT */
  uint32_t timeout_ms;     /* hard deadline of each call: past it the worker is killed;
                              0 = the algorithm's timeout_ms, else the runtime default */
  uint32_t flags;          /* 0 in this version */
} brt_plugin_options;

/* brt_plugin_load with options. NULL options behave as brt_plugin_load
 * (which uses the config's `isolation`). With PROCESS or SANDBOX the file
 * passes the same checks, is opened once by the host, and that descriptor
 * is loaded by each worker (a fresh process started by exec of the worker
 * program, never a fork of the host); the plugin's algorithms are
 * registered under their own names, versions, schemas and signatures and
 * are called as usual. A crash, exit, hang past the hard deadline or
 * memory exhaustion in a worker fails the calls on it (CRASHED, TIMEOUT,
 * OUT_OF_MEMORY) and the worker is restarted; the host is unaffected.
 * `path` may also name an external program's manifest
 * ("NAME.algorithm.json"). Errors: as brt_plugin_load, plus
 * INVALID_ARGUMENT for bad options (naming the field), UNSUPPORTED when
 * the sandbox cannot be built here (the reason given; never a silent
 * fallback to less isolation), CRASHED when the worker dies while loading.
 * Since 0.1.0. */
BRT_API brt_status brt_plugin_load_ex(brt_runtime *rt, const char *path,
                                      const brt_plugin_options *options);
/* Loads the shared object `file` (a plain name) of the directory open at
 * `dir_fd` in this process, through "/proc/self/fd/DIR/FILE": the
 * directory the descriptor names, not a path that could be swapped, and
 * $ORIGIN in the plugin's run path resolves to it. The caller vouches for
 * the directory (who may write to it); only that `file` is a regular file
 * (not a symbolic link) is checked here. The plugin is named by the
 * directory's path and `file` in errors, listings and brt_plugin_unload.
 * The runtime does not take `dir_fd`. This is how a worker process loads
 * the plugin its host checked. Since 0.1.0. */
BRT_API brt_status brt_plugin_load_at(brt_runtime *rt, int dir_fd, const char *file);
/* Loads every regular "*.so" file directly in `dir`, in name order (strcmp),
 * and goes on after a failure. BRT_OK when all loaded (an empty directory
 * too). Otherwise returns the status of the first failure and records one
 * error "N of M plugins in DIR failed to load: a.so (BRT_E_PLUGIN), ..."
 * whose cause chain holds each failure in order (the first failure is the
 * direct cause, the next one its cause, and so on, up to
 * BRT_ERROR_CAUSE_DEPTH_MAX); the plugins that loaded stay loaded.
 * `dir` itself is checked like a plugin's directory. Since 0.1.0. */
BRT_API brt_status brt_plugin_load_dir(brt_runtime *rt, const char *dir);
/* Unregisters every algorithm the plugin at `path` registered and drops the
 * runtime's reference to it; it is dlclose()d after its last in-flight call
 * returns and its last prepared handle is freed. NOT_FOUND when no plugin
 * with that file is loaded. Since 0.1.0. */
BRT_API brt_status brt_plugin_unload(brt_runtime *rt, const char *path);
/* Loads the file now at `path` as a new image (even when the same path is
 * loaded), runs its init, and switches every name it registers atomically:
 * new calls go to the new image; calls in flight and prepared handles finish
 * on the old one, which is dropped (fini, then dlclose) after the last of
 * them. A failed reload (bad file, refused checks, init error, ABI
 * mismatch) leaves the old image serving and returns the reason.
 *
 * `path` names the loaded plugin as brt_plugin_unload finds it (the same
 * file, else the path it was loaded from, as given or resolved), so a file
 * replaced by a rename is found. The new file passes the checks of a load;
 * it is loaded with the options of the old one (isolated plugins start new
 * workers, then drain the old ones; a manifest starts a new program). An
 * algorithm the new image no longer registers leaves with the switch; one
 * it adds appears with it. When the file is the old image's (rewritten in
 * place) the loader maps a sealed private copy of the checked file, so the
 * new code runs; $ORIGIN then names /proc/self/fd, not the plugin's
 * directory. An old image marked NODELETE (see docs/plugins.md) is replaced
 * all the same but stays mapped: the reload returns BRT_OK and counts it as
 * bridgert_plugin_reloads_total{result="pinned"}. Errors: NOT_FOUND when
 * no plugin is loaded from `path`; otherwise the error of the failed load,
 * wrapped ("the old image keeps serving"). Since 0.1.0. */
BRT_API brt_status brt_plugin_reload(brt_runtime *rt, const char *path);

/* --- Registry ------------------------------------------------------------- */

/* Registers an algorithm (see brt_algorithm). INVALID_ARGUMENT names the
 * field that is wrong (name, version, signature, or an input schema that
 * does not compile, with the schema's JSON Pointer); EXISTS when that name
 * and version are registered. Called from a plugin's init, the algorithm belongs to that
 * plugin and becomes visible when the load succeeds. Since 0.1.0. */
BRT_API brt_status brt_register(brt_runtime *rt, const brt_algorithm *algorithm);
/* Unregisters "name@version", or every version of a plain "name". Calls in
 * flight finish; new calls fail with NOT_FOUND. Since 0.1.0. */
BRT_API brt_status brt_unregister(brt_runtime *rt, const char *name);
/* Visits each registered algorithm, by name then highest version first.
 * The visitor may call any function of the runtime. Since 0.1.0. */
BRT_API brt_status brt_algorithms_list(brt_runtime *rt, brt_algorithm_visitor visitor,
                                       void *ctx);

/* --- Calls ---------------------------------------------------------------- */

/* Calls the value algorithm `name` ("name" selects the highest version,
 * "name@1.2.0" that one) with `params` and stores its result in *result
 * (release it with brt_value_release). `params` is validated against the
 * input schema first (VALIDATION naming the JSON Pointer). An unknown name is
 * NOT_FOUND suggesting the closest registered name. The algorithm runs inside
 * an exception boundary; its failure is returned with its own status and an
 * error naming the algorithm whose cause is the algorithm's own error. A
 * call that returns after its deadline is TIMEOUT (its result discarded).
 * An algorithm isolated by the monitor fails fast with ISOLATED. Since 0.1.0. */
BRT_API brt_status brt_call(brt_runtime *rt, const char *name, const brt_value *params,
                            brt_value **result);
/* brt_call with JSON text: `params_json` is parsed (CONVERSION names the
 * position of a syntax error) and the result is returned as JSON text in a
 * managed block the caller frees with brt_release. Since 0.1.0. */
BRT_API brt_status brt_call_json(brt_runtime *rt, const char *name, const char *params_json,
                                 char **result_json);

/* Resolves a native algorithm once, for many brt_invoke calls. The handle
 * keeps the algorithm (and its plugin's code) alive until
 * brt_prepared_free. NULL on failure, always with the error recorded:
 * NOT_FOUND or INVALID_ARGUMENT as brt_call's lookup, UNSUPPORTED when the
 * algorithm has no native_fn, OUT_OF_MEMORY. Since 0.1.0. */
BRT_API brt_prepared *brt_prepare(brt_runtime *rt, const char *name);
/* Calls the prepared native function: args[i] points to the i-th argument
 * (of the signature's type; "str" is a const char *, "ptr" a void *, bool a
 * C bool), `ret` to storage for the return value (NULL allowed for void).
 * Through the compiled thunk when the algorithm has one, else libffi.
 * Fails with NOT_FOUND when the algorithm was unregistered (or the runtime
 * closed) since brt_prepare. Cost without a deadline: the native call plus
 * two well-predicted branches and the monitor's recording. Since 0.1.0. */
BRT_API brt_status brt_invoke(brt_prepared *prepared, void *ret, void **args);
/* The signature text of a prepared algorithm (e.g. "f64(ptr,ptr,u64)"), or
 * NULL for NULL. Since 0.1.0. */
BRT_API const char *brt_prepared_signature(const brt_prepared *prepared);
/* Frees a prepared handle. NULL is ignored. Since 0.1.0. */
BRT_API void brt_prepared_free(brt_prepared *prepared);

/* --- Monitoring ------------------------------------------------------------- */

/* Exports the runtime's metrics (every algorithm's calls, errors by status,
 * in-flight calls, latency histogram and circuit state; the registry gauges
 * bridgert_algorithms_registered and bridgert_plugins_loaded; see
 * docs/monitor.md) in `format`, BRT_FORMAT_PROMETHEUS (text exposition
 * 0.0.4) or BRT_FORMAT_JSON, into *text: a managed block the caller frees
 * with brt_release. Since 0.1.0. */
BRT_API brt_status brt_metrics_export(brt_runtime *rt, brt_format format, char **text);
/* Runs the health checks and stores the JSON report (overall "status"
 * HEALTHY / DEGRADED / UNHEALTHY, and each check) in *report_json, a managed
 * block freed with brt_release. Since 0.1.0. */
BRT_API brt_status brt_health_check(brt_runtime *rt, char **report_json);
/* brt_health_check that also stores the overall level in *level (may be
 * NULL). Since 0.1.0. */
BRT_API brt_status brt_health_check_level(brt_runtime *rt, brt_health_level *level,
                                          char **report_json);

/* --- Inside an algorithm -------------------------------------------------- */

/* The deadline of the calling thread's current call, in CLOCK_MONOTONIC
 * nanoseconds, or 0 when the call has none (or no call is running).
 * Since 0.1.0. */
BRT_API uint64_t brt_call_deadline(void);
/* Nonzero when the current call should stop early: its deadline has passed,
 * or its algorithm was unregistered or its runtime closed. 0 outside a call.
 * Long-running algorithms poll it. Since 0.1.0. */
BRT_API int brt_call_cancelled(void);

BRT_END_DECLS

#endif /* BRIDGERT_RUNTIME_H */
