/* The algorithm registry: names, versions, entries and the copy-on-write
 * snapshot that calls read without a lock. */
#include "internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- Names and versions ---------------------------------------------------- */

bool _brt_bridge_name_valid(const char *name, size_t len) {
  if (len == 0 || len > BRT_ALGORITHM_NAME_MAX) return false;
  for (size_t i = 0; i < len; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
      return false;
  }
  return true;
}

static bool parse_number(const char **at, uint64_t *out) {
  const char *p = *at;
  if (*p < '0' || *p > '9') return false;
  if (*p == '0' && p[1] >= '0' && p[1] <= '9') return false; /* no leading zeros */
  uint64_t value = 0;
  for (; *p >= '0' && *p <= '9'; p++) {
    if (value > (UINT64_MAX - 9) / 10) return false;
    value = value * 10 + (uint64_t)(*p - '0');
  }
  *at = p;
  *out = value;
  return true;
}

/* Dot-separated identifiers of [0-9A-Za-z-], none empty, up to `end`. */
static bool identifiers_valid(const char *p, const char *end) {
  if (p == end) return false;
  bool empty = true;
  for (; p < end; p++) {
    if (*p == '.') {
      if (empty) return false;
      empty = true;
      continue;
    }
    bool ok = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              *p == '-';
    if (!ok) return false;
    empty = false;
  }
  return !empty;
}

brt_status _brt_bridge_semver_parse(const char *text, brt_semver *out) {
  if (!text)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "version is NULL: expected a semantic version such as \"1.0.0\"");
  size_t len = strlen(text);
  const char *p = text;
  brt_semver v = {0};
  bool ok = len <= BRT_ALGORITHM_VERSION_MAX && parse_number(&p, &v.major) && *p++ == '.' &&
            parse_number(&p, &v.minor) && *p++ == '.' && parse_number(&p, &v.patch);
  if (ok && *p == '-') {
    const char *start = ++p;
    const char *end = strchr(start, '+');
    if (!end) end = text + len;
    ok = identifiers_valid(start, end);
    v.prerelease = start;
    v.prerelease_len = (size_t)(end - start);
    p = end;
  }
  if (ok && *p == '+') {
    ok = identifiers_valid(p + 1, text + len);
    p = text + len;
  }
  if (!ok || *p != '\0')
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "version \"%.80s\" is not a semantic version: expected "
                         "MAJOR.MINOR.PATCH[-prerelease][+build], e.g. \"1.2.0\", at most %d bytes",
                         text, BRT_ALGORITHM_VERSION_MAX);
  *out = v;
  return BRT_OK;
}

static bool all_digits(const char *p, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (p[i] < '0' || p[i] > '9') return false;
  return true;
}

/* Semantic Versioning 2.0.0 §11 precedence; build metadata is ignored. */
static int prerelease_compare(const brt_semver *a, const brt_semver *b) {
  if (!a->prerelease || !b->prerelease) return (a->prerelease == NULL) - (b->prerelease == NULL);
  const char *pa = a->prerelease, *ea = pa + a->prerelease_len;
  const char *pb = b->prerelease, *eb = pb + b->prerelease_len;
  while (pa < ea && pb < eb) {
    const char *na = memchr(pa, '.', (size_t)(ea - pa)), *nb = memchr(pb, '.', (size_t)(eb - pb));
    if (!na) na = ea;
    if (!nb) nb = eb;
    size_t la = (size_t)(na - pa), lb = (size_t)(nb - pb);
    bool da = all_digits(pa, la), db = all_digits(pb, lb);
    int order;
    if (da && db) order = la != lb ? (la > lb) - (la < lb) : memcmp(pa, pb, la);
    else if (da != db) order = da ? -1 : 1; /* numeric identifiers sort first */
    else {
      order = memcmp(pa, pb, la < lb ? la : lb);
      if (order == 0) order = (la > lb) - (la < lb);
    }
    if (order) return order > 0 ? 1 : -1;
    pa = na < ea ? na + 1 : ea;
    pb = nb < eb ? nb + 1 : eb;
  }
  return (pa < ea) - (pb < eb);
}

int _brt_bridge_semver_compare(const brt_semver *a, const brt_semver *b) {
  if (a->major != b->major) return a->major > b->major ? 1 : -1;
  if (a->minor != b->minor) return a->minor > b->minor ? 1 : -1;
  if (a->patch != b->patch) return a->patch > b->patch ? 1 : -1;
  return prerelease_compare(a, b);
}

/* The Rust shim mirrors brt_algorithm; its layout is part of the ABI.
 * Fields are only ever appended (callers say how much they have in
 * struct_size): output_schema came after native_thunk. */
#if UINTPTR_MAX == UINT64_MAX
_Static_assert(offsetof(brt_algorithm, timeout_ms) == 64 && offsetof(brt_algorithm, ctx) == 88 &&
                   offsetof(brt_algorithm, native_thunk) == 96 &&
                   offsetof(brt_algorithm, output_schema) == 104 && sizeof(brt_algorithm) == 112,
               "brt_algorithm's layout changed: that is an ABI change");
#endif

/* --- Entries ---------------------------------------------------------------- */

void _brt_bridge_entry_retain(brt_entry *entry) {
  atomic_fetch_add_explicit(&entry->refs, 1, memory_order_relaxed);
}

static void entry_free(brt_entry *entry) {
  _brt_bridge_entry_detach_value(entry);
  if (entry->plugin) _brt_bridge_plugin_release(entry->plugin);
  if (entry->core) _brt_bridge_core_release(entry->core);
  free(entry->name);
  free(entry->version);
  free(entry->description);
  free(entry->label);
  free(entry);
}

void _brt_bridge_entry_release(brt_entry *entry) {
  if (atomic_fetch_sub_explicit(&entry->refs, 1, memory_order_acq_rel) == 1) entry_free(entry);
}

static char *copy_text(const char *text) {
  if (!text) return NULL;
  size_t len = strlen(text) + 1;
  char *copy = malloc(len);
  if (copy) memcpy(copy, text, len);
  return copy;
}

static brt_status check_description(const brt_algorithm *a) {
  if (a->struct_size < offsetof(brt_algorithm, native_thunk))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_register: algorithm->struct_size is %u; expected sizeof(brt_algorithm) "
                         "(%zu, or at least %zu for callers built before native_thunk)",
                         a->struct_size, sizeof(brt_algorithm), offsetof(brt_algorithm, native_thunk));
  if (!a->name || !_brt_bridge_name_valid(a->name, strlen(a->name)))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_register: name \"%.140s\" is invalid: expected 1 to %d characters "
                         "of [a-z0-9_.-]",
                         a->name ? a->name : "(NULL)", BRT_ALGORITHM_NAME_MAX);
  if (!a->value_fn && !a->native_fn)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_register: algorithm \"%s\" has neither value_fn nor native_fn",
                         a->name);
  if (a->signature && !a->native_fn)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_register: algorithm \"%s\" has a signature but no native_fn", a->name);
  if (a->flags != 0)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_register: algorithm \"%s\" has flags 0x%x; no flag is defined in "
                         "this version, expected 0",
                         a->name, a->flags);
  return BRT_OK;
}

brt_status _brt_bridge_entry_create(brt_core *core, const brt_algorithm *a, brt_entry **out) {
  brt_status status = check_description(a);
  brt_semver semver;
  if (status == BRT_OK) status = _brt_bridge_semver_parse(a->version, &semver);
  if (status != BRT_OK) return status;
  brt_entry *entry = calloc(1, sizeof *entry);
  if (!entry) goto out_of_memory;
  atomic_init(&entry->refs, 1);
  /* An older caller's struct is shorter: read only what it has. */
  memcpy(&entry->desc, a, a->struct_size < sizeof *a ? a->struct_size : sizeof *a);
  entry->desc.struct_size = sizeof entry->desc;
  entry->name = copy_text(a->name);
  entry->version = copy_text(a->version);
  entry->description = copy_text(a->description);
  size_t label_size = strlen(a->name) + strlen(a->version) + sizeof "algorithm \"@\"";
  entry->label = malloc(label_size);
  if (entry->label) snprintf(entry->label, label_size, "algorithm \"%s@%s\"", a->name, a->version);
  if (!entry->name || !entry->version || (a->description && !entry->description) || !entry->label) {
    entry_free(entry);
    goto out_of_memory;
  }
  entry->desc.name = entry->name;
  entry->desc.version = entry->version;
  entry->desc.description = entry->description;
  entry->desc.input_schema = NULL;
  entry->desc.output_schema = NULL;
  entry->desc.signature = NULL;
  /* The prerelease points into our own copy of the version text. */
  status = _brt_bridge_semver_parse(entry->version, &entry->semver);
  if (status == BRT_OK && a->native_fn) {
    if (_brt_bridge_signature_parse(a->signature, &entry->sig) != BRT_OK)
      status = brt_error_wrap(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                              "brt_register: algorithm \"%s\": invalid signature: %s", a->name,
                              brt_error_message(brt_last_error()));
    entry->has_native = status == BRT_OK;
    entry->desc.signature = entry->sig.text;
  }
  if (status == BRT_OK) status = _brt_bridge_entry_attach_monitor(core, entry);
  const char *output_schema =
      a->struct_size >= offsetof(brt_algorithm, output_schema) + sizeof a->output_schema
          ? a->output_schema
          : NULL;
  if (status == BRT_OK)
    status = _brt_bridge_entry_attach_value(entry, a->input_schema, output_schema);
  if (status != BRT_OK) {
    entry_free(entry);
    return status;
  }
  _brt_bridge_core_retain(core);
  entry->core = core;
  *out = entry;
  return BRT_OK;

out_of_memory:
  return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                       "brt_register: out of memory copying algorithm \"%s\"", a->name);
}

/* --- Snapshots ---------------------------------------------------------------- */

/* Name ascending, then version descending: the first entry of a name is its
 * highest version. */
static int entry_order(const brt_entry *a, const brt_entry *b) {
  int by_name = strcmp(a->name, b->name);
  if (by_name) return by_name;
  return -_brt_bridge_semver_compare(&a->semver, &b->semver);
}

static int entry_order_qsort(const void *a, const void *b) {
  return entry_order(*(brt_entry *const *)a, *(brt_entry *const *)b);
}

static brt_status duplicate_error(const brt_entry *entry) {
  return brt_error_set(BRT_E_EXISTS, BRT_ORIGIN_C, NULL,
                       "algorithm \"%s@%s\" is already registered (unregister it first, or "
                       "register another version)",
                       entry->name, entry->version);
}

brt_status _brt_bridge_registry_update(brt_core *core, brt_entry **added, size_t added_count,
                                       bool (*remove)(const brt_entry *, const void *),
                                       const void *remove_ctx, size_t *removed_count) {
  brt_snapshot *old = atomic_load_explicit(&core->snapshot, memory_order_relaxed);
  size_t capacity = old->count + added_count;
  brt_snapshot *next = malloc(sizeof *next + capacity * sizeof next->entries[0]);
  brt_entry **removed = malloc((old->count + 1) * sizeof *removed);
  if (!next || !removed) {
    free(next);
    free(removed);
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "out of memory updating the registry (%zu entries)", capacity);
  }
  size_t kept = 0, dropped = 0;
  for (size_t i = 0; i < old->count; i++) {
    if (remove && remove(old->entries[i], remove_ctx)) removed[dropped++] = old->entries[i];
    else next->entries[kept++] = old->entries[i];
  }
  for (size_t i = 0; i < added_count; i++) next->entries[kept + i] = added[i];
  next->count = kept + added_count;
  qsort(next->entries, next->count, sizeof next->entries[0], entry_order_qsort);
  for (size_t i = 1; i < next->count; i++) {
    if (entry_order(next->entries[i - 1], next->entries[i]) == 0) {
      brt_status status = duplicate_error(next->entries[i]);
      free(next);
      free(removed);
      return status;
    }
  }
  for (size_t i = 0; i < added_count; i++) _brt_bridge_entry_retain(added[i]);
  /* A reload's old entries are replaced, not removed: prepared handles on
   * them keep calling the old image until they are freed. */
  if (!core->replacing)
    for (size_t i = 0; i < dropped; i++) atomic_store(&removed[i]->removed, true);
  atomic_store(&core->snapshot, next);
  _brt_bridge_gauges_update(core, next->count);
  _brt_bridge_grace_period();
  free(old);
  for (size_t i = 0; i < dropped; i++) _brt_bridge_entry_release(removed[i]);
  free(removed);
  if (removed_count) *removed_count = dropped;
  return BRT_OK;
}

/* --- Lookup -------------------------------------------------------------------- */

/* Index of the first entry named `name` (length `len`), or snapshot->count. */
static size_t find_name(const brt_snapshot *snapshot, const char *name, size_t len) {
  size_t low = 0, high = snapshot->count;
  while (low < high) {
    size_t mid = low + (high - low) / 2;
    const char *candidate = snapshot->entries[mid]->name;
    int order = strncmp(candidate, name, len);
    if (order == 0 && candidate[len] != '\0') order = 1;
    if (order < 0) low = mid + 1;
    else high = mid;
  }
  if (low < snapshot->count) {
    const char *candidate = snapshot->entries[low]->name;
    if (strncmp(candidate, name, len) == 0 && candidate[len] == '\0') return low;
  }
  return snapshot->count;
}

/* Levenshtein distance, capped: names are at most 128 bytes. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb) {
  size_t row[BRT_ALGORITHM_NAME_MAX + 1];
  for (size_t j = 0; j <= lb; j++) row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t above = row[j];
      size_t best = diagonal + (a[i - 1] != b[j - 1]);
      if (above + 1 < best) best = above + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      diagonal = above;
    }
  }
  return row[lb];
}

static brt_status not_found_error(const brt_snapshot *snapshot, const char *name, size_t len) {
  const char *best = NULL;
  size_t best_distance = (size_t)-1;
  for (size_t i = 0; i < snapshot->count; i++) {
    const char *candidate = snapshot->entries[i]->name;
    if (best && strcmp(best, candidate) == 0) continue;
    size_t distance = edit_distance(name, len, candidate, strlen(candidate));
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  /* Suggest only plausible typos: up to a third of the name, at least 2. */
  size_t tolerance = len / 3 > 2 ? len / 3 : 2;
  if (best && best_distance <= tolerance)
    return brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL,
                         "no algorithm named \"%.*s\" is registered; did you mean \"%s\"?",
                         (int)len, name, best);
  return brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL,
                       "no algorithm named \"%.*s\" is registered (%zu algorithms are; see "
                       "brt_algorithms_list)",
                       (int)len, name, snapshot->count);
}

static brt_status version_not_found_error(const brt_snapshot *snapshot, size_t first,
                                          const char *name, size_t len, const char *version) {
  char versions[512];
  size_t used = 0;
  versions[0] = '\0';
  for (size_t i = first; i < snapshot->count && used < sizeof versions; i++) {
    const brt_entry *entry = snapshot->entries[i];
    if (strncmp(entry->name, name, len) != 0 || entry->name[len] != '\0') break;
    used += (size_t)snprintf(versions + used, sizeof versions - used, "%s%s", used ? ", " : "",
                             entry->version);
  }
  return brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL,
                       "algorithm \"%.*s\" has no version %s; registered versions: %s", (int)len,
                       name, version, versions);
}

brt_status _brt_bridge_lookup(brt_runtime *rt, const char *name, const char *function,
                              brt_entry **out) {
  brt_status status = _brt_bridge_runtime_check(rt, function);
  if (status != BRT_OK) return status;
  if (!name)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: algorithm name is NULL: expected \"name\" or \"name@version\"",
                         function);
  const char *at = strchr(name, '@');
  size_t len = at ? (size_t)(at - name) : strlen(name);
  brt_semver wanted;
  if (!_brt_bridge_name_valid(name, len))
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: algorithm name \"%.140s\" is invalid: expected 1 to %d characters "
                         "of [a-z0-9_.-], optionally followed by @version",
                         function, name, BRT_ALGORITHM_NAME_MAX);
  if (at && (status = _brt_bridge_semver_parse(at + 1, &wanted)) != BRT_OK) return status;

  unsigned slot = _brt_bridge_read_enter();
  brt_core *core = _brt_bridge_core_peek(rt);
  brt_entry *found = NULL;
  if (!core) {
    _brt_bridge_read_leave(slot);
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "%s: runtime %p is closed (brt_runtime_close was called); cannot reach "
                         "\"%s\"",
                         function, (void *)rt, name);
  }
  const brt_snapshot *snapshot = atomic_load(&core->snapshot);
  size_t first = find_name(snapshot, name, len);
  if (first < snapshot->count) {
    if (!at) found = snapshot->entries[first];
    for (size_t i = first; at && i < snapshot->count; i++) {
      brt_entry *entry = snapshot->entries[i];
      if (strncmp(entry->name, name, len) != 0 || entry->name[len] != '\0') break;
      if (_brt_bridge_semver_compare(&entry->semver, &wanted) == 0) found = entry;
    }
  }
  if (found) _brt_bridge_entry_retain(found);
  else if (first == snapshot->count) status = not_found_error(snapshot, name, len);
  else status = version_not_found_error(snapshot, first, name, len, at + 1);
  _brt_bridge_read_leave(slot);
  if (found) *out = found;
  return status;
}

/* --- Public registry functions ----------------------------------------------- */

brt_status brt_register(brt_runtime *rt, const brt_algorithm *algorithm) {
  if (!algorithm)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_register: algorithm is NULL");
  brt_core *core = NULL;
  brt_status status = _brt_bridge_core_get(rt, "brt_register", &core);
  if (status != BRT_OK) return status;
  brt_entry *entry = NULL;
  status = _brt_bridge_entry_create(core, algorithm, &entry);
  if (status == BRT_OK && _brt_bridge_loading_plugin(core)) {
    status = _brt_bridge_loading_stage(entry); /* takes our reference */
  } else if (status == BRT_OK) {
    pthread_mutex_lock(&core->write_lock);
    /* Registered from inside a call or by a helper thread: an algorithm
     * whose code lives in a plugin belongs to it and goes with it. */
    entry->plugin = _brt_bridge_plugin_of_code(core, algorithm);
    status = core->closed ? brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                                          "brt_register: runtime %p is closed", (void *)rt)
                          : _brt_bridge_registry_update(core, &entry, 1, NULL, NULL, NULL);
    pthread_mutex_unlock(&core->write_lock);
    _brt_bridge_entry_release(entry);
  }
  _brt_bridge_core_release(core);
  return status;
}

typedef struct name_match {
  const char *name;
  size_t len;
  const brt_semver *version; /* NULL: every version */
} name_match;

static bool matches_name(const brt_entry *entry, const void *ctx) {
  const name_match *match = ctx;
  if (strncmp(entry->name, match->name, match->len) != 0 || entry->name[match->len] != '\0')
    return false;
  return !match->version || _brt_bridge_semver_compare(&entry->semver, match->version) == 0;
}

brt_status brt_unregister(brt_runtime *rt, const char *name) {
  brt_entry *entry = NULL;
  brt_status status = _brt_bridge_lookup(rt, name, "brt_unregister", &entry); /* explains a miss */
  if (status != BRT_OK) return status;
  const char *at = strchr(name, '@');
  name_match match = {name, at ? (size_t)(at - name) : strlen(name), at ? &entry->semver : NULL};
  brt_core *core = entry->core;
  pthread_mutex_lock(&core->write_lock);
  size_t removed = 0;
  if (core->closed)
    status = brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                           "brt_unregister: runtime %p is closed", (void *)rt);
  else
    status = _brt_bridge_registry_update(core, NULL, 0, matches_name, &match, &removed);
  pthread_mutex_unlock(&core->write_lock);
  if (status == BRT_OK && removed == 0)
    status = brt_error_set(BRT_E_NOT_FOUND, BRT_ORIGIN_C, NULL,
                           "brt_unregister: \"%s\" was unregistered concurrently", name);
  _brt_bridge_entry_release(entry);
  return status;
}

brt_status brt_algorithms_list(brt_runtime *rt, brt_algorithm_visitor visitor, void *ctx) {
  if (!visitor)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_algorithms_list: visitor is NULL");
  brt_status status = _brt_bridge_runtime_check(rt, "brt_algorithms_list");
  if (status != BRT_OK) return status;
  /* Retain the entries inside a read section and visit them outside it: the
   * visitor is user code and may register or unregister. */
  unsigned slot = _brt_bridge_read_enter();
  brt_core *core = _brt_bridge_core_peek(rt);
  const brt_snapshot *snapshot = core ? atomic_load(&core->snapshot) : NULL;
  size_t count = snapshot ? snapshot->count : 0;
  brt_entry **entries = snapshot ? malloc((count + 1) * sizeof *entries) : NULL;
  if (entries)
    for (size_t i = 0; i < count; i++) {
      entries[i] = snapshot->entries[i];
      _brt_bridge_entry_retain(entries[i]);
    }
  _brt_bridge_read_leave(slot);
  if (!core)
    return brt_error_set(BRT_E_INVALID_ARGUMENT, BRT_ORIGIN_C, NULL,
                         "brt_algorithms_list: runtime %p is closed", (void *)rt);
  if (!entries)
    return brt_error_set(BRT_E_OUT_OF_MEMORY, BRT_ORIGIN_C, NULL,
                         "brt_algorithms_list: out of memory listing %zu algorithms", count);
  size_t i = 0;
  for (; i < count; i++)
    if (visitor(ctx, &entries[i]->desc) != 0) break;
  for (size_t j = 0; j < count; j++) _brt_bridge_entry_release(entries[j]);
  free(entries);
  return BRT_OK;
}
