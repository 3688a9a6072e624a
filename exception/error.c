/* The per-thread last error, its accessors and the process-wide counters.
 *
 * Each thread owns one heap record (allocated on its first failure, reused
 * by later ones, freed by a pthread key destructor when the thread exits), so
 * recording an error costs a vsnprintf and no allocation in the steady state.
 * Thread-local storage holds only two words: a large _Thread_local buffer
 * would eat the static TLS surplus that glibc reserves for dlopen()ed
 * libraries, and bridgert is itself often dlopen()ed. */
#include "internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local brt_error *tls_record;   /* owned by this thread, or NULL */
static _Thread_local bool tls_record_present; /* does tls_record hold the last error? */
static _Thread_local bool tls_oom;            /* last failure could not even be recorded */

static pthread_key_t record_key;
static pthread_once_t record_key_once = PTHREAD_ONCE_INIT;

static _Atomic uint64_t error_counts[BRT_STATUS_COUNT][BRT_ORIGIN_COUNT];

/* Returned by brt_last_error() when recording itself ran out of memory. It is
 * static and immutable; brt_error_free() recognises and ignores it. */
static const brt_error oom_record = {
    .code = BRT_E_OUT_OF_MEMORY,
    .origin = BRT_ORIGIN_C,
    .message = "out of memory while recording an error (the original message is lost)",
};

static void error_free_fields(brt_error *error) {
  free(error->paths[0]);
  free(error->paths[1]);
  error->paths[0] = error->paths[1] = NULL;
  brt_error_free(error->cause);
  error->cause = NULL;
}

static void record_destroy(void *record) {
  brt_error *error = record;
  error_free_fields(error);
  free(error);
}

static void record_key_create(void) { (void)pthread_key_create(&record_key, record_destroy); }

/* The thread's record, allocated on first use, or NULL when out of memory. */
static brt_error *thread_record(void) {
  if (tls_record) return tls_record;
  pthread_once(&record_key_once, record_key_create);
  brt_error *error = calloc(1, sizeof *error);
  if (!error) return NULL;
  tls_record = error;
  (void)pthread_setspecific(record_key, error);
  return error;
}

/* Detaches the thread's record so it can be handed out. */
static brt_error *thread_record_detach(void) {
  brt_error *error = tls_record;
  tls_record = NULL;
  tls_record_present = false;
  if (error) (void)pthread_setspecific(record_key, NULL);
  return error;
}

/* Copies text into a field of the record: cut on a character boundary and
 * marked when it does not fit (core/text.h). */
static void copy_field(char *dst, size_t cap, const char *src) {
  _brt_text_copy(dst, cap, src, BRT_ERROR_TRUNCATION_MARK);
}

/* Formats into the record's message; a message that does not fit is cut
 * on a character boundary and marked. */
static void format_message(brt_error *error, brt_status code, const char *fmt, va_list args) {
  if (!fmt) {
    copy_field(error->message, sizeof error->message, brt_status_describe(code));
    return;
  }
  if (_brt_text_vformat(error->message, sizeof error->message, BRT_ERROR_TRUNCATION_MARK, fmt, args) < 0)
    copy_field(error->message, sizeof error->message, "(the error message could not be formatted)");
}

void _brt_error_count(brt_status code, brt_origin origin) {
  atomic_fetch_add_explicit(&error_counts[code][origin], 1, memory_order_relaxed);
}

/* Casting to unsigned long long sends negative values (from careless casts)
 * far out of range whatever the enum's underlying type is. */
static bool status_is_error(brt_status code) {
  unsigned long long value = (unsigned long long)code;
  return value > 0 && value < BRT_STATUS_COUNT;
}

static bool origin_is_valid(brt_origin origin) {
  return (unsigned long long)origin < BRT_ORIGIN_COUNT;
}

/* Prepares the thread's record for a new error: frees what the previous one
 * owned. Returns NULL (and marks the thread out of memory) on failure. */
static brt_error *record_begin(brt_status code, brt_origin origin) {
  brt_error *error = thread_record();
  if (!error) {
    tls_oom = true;
    tls_record_present = false;
    _brt_error_count(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C);
    return NULL;
  }
  error_free_fields(error);
  error->code = code;
  error->origin = origin;
  error->os_code = 0;
  error->has_type = false;
  error->has_category = false;
  error->type[0] = '\0';
  error->os_category[0] = '\0';
  error->message[0] = '\0';
  tls_oom = false;
  tls_record_present = true;
  _brt_error_count(code, origin);
  return error;
}

static void record_set_type(brt_error *error, const char *type) {
  if (!type) return;
  copy_field(error->type, sizeof error->type, type);
  error->has_type = true;
}

static brt_status misuse(const char *what, long long value) {
  brt_error *error = record_begin(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C);
  if (error)
    snprintf(error->message, sizeof error->message, "%s: %lld is not a valid value", what, value);
  return BRT_E_INVALID_ARGUMENT;
}

brt_status brt_error_setv(brt_status code, brt_origin origin, const char *type, const char *fmt,
                          va_list args) {
  if (!status_is_error(code))
    return misuse("brt_error_set: the status must be an error code (not BRT_OK)", (long long)code);
  if (!origin_is_valid(origin)) return misuse("brt_error_set: origin", (long long)origin);
  brt_error *error = record_begin(code, origin);
  if (!error) return code;
  record_set_type(error, type);
  format_message(error, code, fmt, args);
  return code;
}

brt_status brt_error_set(brt_status code, brt_origin origin, const char *type, const char *fmt,
                         ...) {
  va_list args;
  va_start(args, fmt);
  brt_status result = brt_error_setv(code, origin, type, fmt, args);
  va_end(args);
  return result;
}

brt_status brt_error_set_os(brt_status code, int os_code, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  brt_status result = brt_error_setv(code, BRT_ORIGIN_OS, NULL, fmt, args);
  va_end(args);
  if (result == code && tls_record_present) {
    tls_record->os_code = os_code;
    copy_field(tls_record->os_category, sizeof tls_record->os_category, "generic");
    tls_record->has_category = true;
  }
  return result;
}

/* Cuts a chain that is deeper than the limit, freeing what lies below. */
static void cause_chain_bound(brt_error *error) {
  brt_error *node = error;
  for (int depth = 0; node && node->cause; depth++, node = node->cause) {
    if (depth + 1 >= BRT_ERROR_CAUSE_DEPTH_MAX) {
      brt_error_free(node->cause);
      node->cause = NULL;
      return;
    }
  }
}

brt_status brt_error_wrap(brt_status code, brt_origin origin, const char *type, const char *fmt,
                          ...) {
  if (!status_is_error(code) || !origin_is_valid(origin)) {
    va_list ignored;
    va_start(ignored, fmt);
    brt_status result = brt_error_setv(code, origin, type, fmt, ignored);
    va_end(ignored);
    return result;
  }
  brt_error *cause = brt_error_take();
  va_list args;
  va_start(args, fmt);
  brt_status result = brt_error_setv(code, origin, type, fmt, args);
  va_end(args);
  if (tls_record_present) {
    tls_record->cause = cause;
    cause_chain_bound(tls_record);
  } else {
    brt_error_free(cause);
  }
  return result;
}

static char *dup_bounded(const char *text) {
  if (!text) return NULL;
  char *copy = malloc(BRT_ERROR_NAME_MAX);
  if (copy) copy_field(copy, BRT_ERROR_NAME_MAX, text);
  return copy;
}

brt_status brt_error_record(const brt_error_info *info) {
  if (!info) return misuse("brt_error_record: info is NULL", 0);
  brt_error *cause = NULL;
  if (info->struct_size >= sizeof *info) cause = info->cause;
  if (cause == tls_record && cause) cause = thread_record_detach(); /* the caller passed the live record */
  if (info->struct_size < sizeof *info) {
    brt_error_free(cause);
    return misuse("brt_error_record: info->struct_size is smaller than sizeof(brt_error_info)",
                  (long long)info->struct_size);
  }
  if (!status_is_error(info->code) || !origin_is_valid(info->origin)) {
    brt_error_free(cause);
    return misuse(status_is_error(info->code) ? "brt_error_record: origin"
                                              : "brt_error_record: code must be an error code",
                  status_is_error(info->code) ? (long long)info->origin : (long long)info->code);
  }
  brt_error *error = record_begin(info->code, info->origin);
  if (!error) {
    brt_error_free(cause);
    return info->code;
  }
  record_set_type(error, info->type);
  copy_field(error->message, sizeof error->message,
             info->message ? info->message : brt_status_describe(info->code));
  error->os_code = info->os_code;
  if (info->os_category) {
    copy_field(error->os_category, sizeof error->os_category, info->os_category);
    error->has_category = true;
  }
  error->paths[0] = dup_bounded(info->path1);
  error->paths[1] = dup_bounded(info->path2);
  error->cause = cause;
  cause_chain_bound(error);
  return info->code;
}

brt_status brt_error_restore(brt_error *error) {
  if (!error) return misuse("brt_error_restore: error is NULL", 0);
  if (error == (brt_error *)&oom_record) {
    tls_record_present = false;
    tls_oom = true;
    return BRT_OK;
  }
  if (error == tls_record) { /* restoring the live record: nothing moves */
    tls_record_present = true;
    return BRT_OK;
  }
  brt_error *old = thread_record_detach();
  if (old) record_destroy(old);
  pthread_once(&record_key_once, record_key_create);
  tls_record = error;
  tls_record_present = true;
  tls_oom = false;
  (void)pthread_setspecific(record_key, error);
  return BRT_OK;
}

const brt_error *brt_last_error(void) {
  if (tls_record_present) return tls_record;
  if (tls_oom) return &oom_record;
  return NULL;
}

brt_error *brt_error_take(void) {
  if (tls_oom) {
    tls_oom = false;
    return (brt_error *)&oom_record;
  }
  if (!tls_record_present) return NULL;
  return thread_record_detach();
}

void brt_error_clear(void) {
  tls_oom = false;
  if (tls_record_present) {
    tls_record_present = false;
    error_free_fields(tls_record);
  }
}

void brt_error_free(brt_error *error) {
  /* Iterative, so a long chain cannot exhaust the stack. */
  while (error) {
    if (error == &oom_record) return;
    brt_error *cause = error->cause;
    error->cause = NULL;
    if (error == tls_record) { /* misuse: freeing the live record; detach first */
      thread_record_detach();
    }
    free(error->paths[0]);
    free(error->paths[1]);
    free(error);
    error = cause;
  }
}

brt_error *brt_error_clone(const brt_error *error) {
  if (!error) {
    brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL, "brt_error_clone: error is NULL");
    return NULL;
  }
  brt_error *head = NULL, **link = &head;
  for (const brt_error *node = error; node; node = node->cause) {
    brt_error *copy = malloc(sizeof *copy);
    if (!copy) goto out_of_memory;
    memcpy(copy, node, sizeof *copy);
    copy->cause = NULL;
    copy->paths[0] = copy->paths[1] = NULL;
    *link = copy;
    link = &copy->cause;
    for (int i = 0; i < 2; i++) {
      if (node->paths[i] && !(copy->paths[i] = dup_bounded(node->paths[i]))) goto out_of_memory;
    }
  }
  return head;
out_of_memory:
  brt_error_free(head);
  brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL, "brt_error_clone: out of memory");
  return NULL;
}

brt_status brt_error_code(const brt_error *error) { return error ? error->code : BRT_OK; }
const char *brt_error_message(const brt_error *error) { return error ? error->message : ""; }
brt_origin brt_error_origin(const brt_error *error) {
  return error ? error->origin : BRT_ORIGIN_C;
}
const char *brt_error_type(const brt_error *error) {
  return error && error->has_type ? error->type : NULL;
}
int brt_error_os_code(const brt_error *error) { return error ? error->os_code : 0; }
const char *brt_error_os_category(const brt_error *error) {
  return error && error->has_category ? error->os_category : NULL;
}
const char *brt_error_path(const brt_error *error, unsigned index) {
  return error && index < 2 ? error->paths[index] : NULL;
}
const brt_error *brt_error_cause(const brt_error *error) { return error ? error->cause : NULL; }

size_t brt_error_format(const brt_error *error, char *buf, size_t size) {
  brt_text_sink sink = {.buf = buf, .size = buf ? size : 0, .length = 0};
  if (sink.size) buf[0] = '\0';
  if (!error) {
    _brt_text_sink_printf(&sink, "no error");
    return sink.length;
  }
  for (const brt_error *node = error; node; node = node->cause) {
    if (node != error) _brt_text_sink_printf(&sink, "; caused by: ");
    _brt_text_sink_printf(&sink, "%s (%s", brt_status_name(node->code), brt_origin_name(node->origin));
    if (node->has_type) _brt_text_sink_printf(&sink, ", %s", node->type);
    _brt_text_sink_printf(&sink, "): %s", node->message);
    if (node->os_code)
      _brt_text_sink_printf(&sink, " [%s error %d: %s]", node->has_category ? node->os_category : "os",
                  node->os_code, strerror(node->os_code));
    if (node->paths[0]) _brt_text_sink_printf(&sink, " [path: %s]", node->paths[0]);
    if (node->paths[1]) _brt_text_sink_printf(&sink, " [path2: %s]", node->paths[1]);
  }
  return sink.length;
}

brt_status brt_error_count_get(brt_status code, brt_origin origin, uint64_t *count) {
  if (!count)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_error_count_get: count (the output pointer) is NULL");
  if (!status_is_error(code))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_error_count_get: code %lld is not an error code (1..%d)",
                         (long long)code, BRT_STATUS_COUNT - 1);
  if (!origin_is_valid(origin))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_error_count_get: origin %lld is not valid (0..%d)", (long long)origin,
                         BRT_ORIGIN_COUNT - 1);
  *count = atomic_load_explicit(&error_counts[code][origin], memory_order_relaxed);
  return BRT_OK;
}
