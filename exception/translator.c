/* The translator registry: language shims and plugins register functions
 * that turn their exception types into statuses.
 *
 * Translation happens only when an exception was thrown (microseconds
 * already), so a reader-writer lock is cheap enough here. Readers hold it
 * while the translators run: that is what makes unregistering safe, since
 * brt_error_translator_unregister waits for running translations before it
 * returns and the plugin that owned the function may then be unloaded. A
 * translator that tried to (un)register from inside a translation would
 * deadlock on that lock, so a thread-local flag refuses it with an error. */
#include "internal.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct translator_entry {
  brt_error_translator fn;
  void *ctx;
} translator_entry;

static pthread_rwlock_t registry_lock = PTHREAD_RWLOCK_INITIALIZER;
static translator_entry *registry_entries; /* oldest first */
static size_t registry_count, registry_capacity;
static _Thread_local bool translating;

/* Translators of a process are few (one per exception type a plugin cares
 * about); this bound turns a registration loop bug into a clear error. */
enum { TRANSLATORS_MAX = 4096 };

static brt_status refuse_inside_translation(const char *function) {
  return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                       "%s: called from inside a translator; translators must not change the "
                       "registry",
                       function);
}

static ptrdiff_t registry_find(brt_error_translator fn, void *ctx) {
  for (size_t i = 0; i < registry_count; i++)
    if (registry_entries[i].fn == fn && registry_entries[i].ctx == ctx) return (ptrdiff_t)i;
  return -1;
}

brt_status brt_error_translator_register(brt_error_translator fn, void *ctx) {
  if (!fn)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_error_translator_register: fn is NULL");
  if (translating) return refuse_inside_translation("brt_error_translator_register");
  brt_status status = BRT_OK;
  pthread_rwlock_wrlock(&registry_lock);
  if (registry_find(fn, ctx) >= 0) {
    status = brt_error_set(BRT_E_EXISTS, BRT_ORIGIN_C, NULL,
                           "brt_error_translator_register: this (fn, ctx) pair is already "
                           "registered");
  } else if (registry_count == TRANSLATORS_MAX) {
    status = brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                           "brt_error_translator_register: %d translators are registered, the "
                           "most a process may have",
                           TRANSLATORS_MAX);
  } else {
    if (registry_count == registry_capacity) {
      size_t capacity = registry_capacity ? registry_capacity * 2 : 16;
      translator_entry *grown = realloc(registry_entries, capacity * sizeof *grown);
      if (!grown) {
        status = brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                               "brt_error_translator_register: out of memory growing the "
                               "registry to %zu entries",
                               capacity);
        goto done;
      }
      registry_entries = grown;
      registry_capacity = capacity;
    }
    registry_entries[registry_count++] = (translator_entry){fn, ctx};
  }
done:
  pthread_rwlock_unlock(&registry_lock);
  return status;
}

brt_status brt_error_translator_unregister(brt_error_translator fn, void *ctx) {
  if (!fn)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_error_translator_unregister: fn is NULL");
  if (translating) return refuse_inside_translation("brt_error_translator_unregister");
  brt_status status = BRT_OK;
  pthread_rwlock_wrlock(&registry_lock);
  ptrdiff_t index = registry_find(fn, ctx);
  if (index < 0) {
    status = brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL,
                           "brt_error_translator_unregister: this (fn, ctx) pair is not "
                           "registered");
  } else {
    memmove(&registry_entries[index], &registry_entries[index + 1],
            (registry_count - (size_t)index - 1) * sizeof *registry_entries);
    registry_count--;
  }
  pthread_rwlock_unlock(&registry_lock);
  return status;
}

brt_status brt_error_translate(brt_origin origin, const void *exception, brt_translation *out) {
  if (!out)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_error_translate: out is NULL");
  if ((unsigned long long)origin >= BRT_ORIGIN_COUNT)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_error_translate: origin %lld is not valid", (long long)origin);
  if (translating) return BRT_E_NOT_FOUND; /* a translator's own exception: no recursion */
  brt_status result = BRT_E_NOT_FOUND;
  translating = true;
  pthread_rwlock_rdlock(&registry_lock);
  for (size_t i = registry_count; i-- > 0;) {
    out->struct_size = sizeof *out;
    out->code = BRT_OK;
    out->message[0] = '\0';
    if (registry_entries[i].fn(registry_entries[i].ctx, origin, exception, out)) {
      unsigned long long code = (unsigned long long)out->code;
      /* A translator that claims the exception but sets no valid error code
       * is a bug in the translator; the exception still becomes an error. */
      if (code == 0 || code >= BRT_STATUS_COUNT) out->code = BRT_E_INTERNAL;
      out->message[sizeof out->message - 1] = '\0';
      result = BRT_OK;
      break;
    }
  }
  pthread_rwlock_unlock(&registry_lock);
  translating = false;
  return result;
}
