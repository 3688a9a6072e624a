/* Configuration: the loaders, JSON text, JSON files, BRT_* environment
 * variables, and brt_config_resolve (BRT_CONFIG, then the environment).
 *
 * Each loader applies its source to a private copy through
 * _brt_config_transaction: the caller's config changes only when every key
 * was accepted. A key appears at most once in a JSON object; an unknown key
 * is refused with the list of the known ones. */
#include "bridgert/config.h"
#include "internal.h"
#include "bridgert/error.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A config file larger than this is certainly a mistake (wrong path). */
#define CONFIG_FILE_MAX (1u << 20)

static brt_status apply_json_value(brt_config *cfg, const config_key *key, const jvalue *item,
                                   const char *source) {
  char buf[SHOWN_MAX];
  switch (key->kind) {
    case KIND_SIZE:
    case KIND_U32: {
      if (item->kind == J_STRING && key->kind == KIND_SIZE)
        return _brt_config_apply_number_text(cfg, key, item->str, item->str_len, source);
      if (item->kind != J_NUMBER)
        return _brt_config_invalid(
            "%s: key \"%s\": expected %s (a number%s), got %s", source, key->name, key->meaning,
            key->kind == KIND_SIZE ? " or a size string" : "", _brt_config_json_kind(item));
      uint64_t value = 0;
      uint_read read = _brt_config_read_uint(item->num, item->num_len, &value);
      if (read == UINT_OVERFLOW)
        return _brt_config_out_of_range_text(key, item->num, item->num_len, source);
      if (read != UINT_OK)
        return _brt_config_invalid(
            "%s: key \"%s\": %s is not valid; expected %s (a whole number: %s%s)", source,
            key->name, _brt_config_shown(item->num, item->num_len, buf, sizeof buf), key->meaning,
            WHOLE_RULE, key->kind == KIND_SIZE ? "; or a size string such as \"512MiB\"" : "");
      return _brt_config_store_u64(cfg, key, value, source);
    }
    case KIND_BOOL:
      if (item->kind != J_TRUE && item->kind != J_FALSE)
        return _brt_config_invalid("%s: key \"%s\": expected true or false, got %s", source,
                                   key->name, _brt_config_json_kind(item));
      *(bool *)_brt_config_field_at(cfg, key) = item->kind == J_TRUE;
      return BRT_OK;
    case KIND_FRACTION: {
      double value;
      if (item->kind != J_NUMBER)
        return _brt_config_invalid("%s: key \"%s\": expected %s, got %s", source, key->name,
                                   key->meaning, _brt_config_json_kind(item));
      if (!_brt_config_parse_fraction_text(item->num, item->num_len, &value))
        return _brt_config_invalid(
            "%s: key \"%s\": %s cannot be read as a number; expected %s", source, key->name,
            _brt_config_shown(item->num, item->num_len, buf, sizeof buf), key->meaning);
      brt_status status = _brt_config_check_fraction(key, value, source);
      if (status == BRT_OK) *(double *)_brt_config_field_at(cfg, key) = value;
      return status;
    }
    case KIND_NAMED:
      if (item->kind != J_STRING || !_brt_config_parse_named_text(key, item->str, item->str_len,
                                                                  _brt_config_field_at(cfg, key)))
        return _brt_config_invalid(
            "%s: key \"%s\": expected %s, got %s%s%s", source, key->name, key->meaning,
            item->kind == J_STRING ? "\"" : _brt_config_json_kind(item),
            item->kind == J_STRING ? _brt_config_shown(item->str, item->str_len, buf, sizeof buf)
                                   : "",
            item->kind == J_STRING ? "\"" : "");
      return BRT_OK;
    case KIND_PATHS: {
      if (item->kind != J_ARRAY)
        return _brt_config_invalid(
            "%s: key \"plugin_dirs\": expected an array of directory paths, got %s", source,
            _brt_config_json_kind(item));
      /* a file replaces the list */
      _brt_config_paths_free(cfg->plugin_dirs, cfg->plugin_dir_count);
      cfg->plugin_dirs = NULL;
      cfg->plugin_dir_count = 0;
      int index = 0;
      for (const jvalue *entry = item->child; entry; entry = entry->next, index++) {
        char where[256];
        snprintf(where, sizeof where, "%s: key \"plugin_dirs[%d]\"", source, index);
        if (entry->kind != J_STRING)
          return _brt_config_invalid("%s: expected a directory path (a string), got %s", where,
                                     _brt_config_json_kind(entry));
        if (memchr(entry->str, '\0', entry->str_len))
          return _brt_config_invalid(
              "%s: \"%s\" has a NUL character (\\u0000) in it, which no path can have", where,
              _brt_config_shown(entry->str, entry->str_len, buf, sizeof buf));
        brt_status status = _brt_config_paths_append(cfg, entry->str, where);
        if (status != BRT_OK) return status;
      }
      return BRT_OK;
    }
  }
  return brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "config: key kind %d unhandled",
                       (int)key->kind);
}

/* Applies a parsed object to `work` (a private copy). */
static brt_status apply_json_object(brt_config *work, const jvalue *root, const char *source) {
  if (root->kind != J_OBJECT)
    return _brt_config_invalid("%s: the configuration must be one JSON object, got %s", source,
                               _brt_config_json_kind(root));
  char buf[SHOWN_MAX];
  for (const jvalue *item = root->child; item; item = item->next) {
    for (const jvalue *other = root->child; other != item; other = other->next)
      if (other->key_len == item->key_len && memcmp(other->key, item->key, item->key_len) == 0)
        return _brt_config_invalid("%s: key \"%s\" appears twice", source,
                                   _brt_config_shown(item->key, item->key_len, buf, sizeof buf));
    const config_key *key = _brt_config_key_named(item->key, item->key_len);
    if (!key) {
      char known[512] = "";
      for (int i = 0; i < _brt_config_key_count; i++) {
        strncat(known, _brt_config_keys[i].name, sizeof known - strlen(known) - 1);
        if (i + 1 < _brt_config_key_count) strncat(known, ", ", sizeof known - strlen(known) - 1);
      }
      return _brt_config_invalid("%s: unknown key \"%s\"; the known keys are: %s", source,
                                 _brt_config_shown(item->key, item->key_len, buf, sizeof buf),
                                 known);
    }
    brt_status status = apply_json_value(work, key, item, source);
    if (status != BRT_OK) return status;
  }
  return _brt_config_validate_cross_fields(work, source);
}

typedef struct json_job {
  const char *text;
  size_t len;
  const char *source;
} json_job;

static brt_status apply_json_text(brt_config *work, const void *arg) {
  const json_job *job = arg;
  if (memchr(job->text, '\0', job->len))
    return _brt_config_invalid(
        "%s: the text contains a NUL byte; a configuration is UTF-8 JSON text", job->source);
  jvalue *root = NULL;
  brt_status status = _brt_config_json_read(job->text, job->len, job->source, &root);
  if (status != BRT_OK) return status;
  status = apply_json_object(work, root, job->source);
  _brt_config_jvalue_free(root);
  return status;
}

brt_status brt_config_load_json_text(const char *text, size_t len, const char *source,
                                     brt_config *cfg) {
  if (!_brt_config_usable(cfg, "brt_config_load_json_text")) return BRT_E_INVALID_ARGUMENT;
  if (!text) return _brt_config_invalid("brt_config_load_json_text: text is NULL");
  if (len > CONFIG_FILE_MAX)
    return brt_error_set(BRT_E_LIMIT_EXCEEDED, BRT_ORIGIN_C, NULL,
                         "%s: %zu bytes of configuration is more than the %u a config may have",
                         source ? source : "config text", len, CONFIG_FILE_MAX);
  char label[PATH_MAX + 32];
  snprintf(label, sizeof label, "%s", source ? source : "config text");
  json_job job = {text, len, label};
  return _brt_config_transaction(cfg, apply_json_text, &job);
}

/* An error about the config file at `path`, which it names (message and
 * the error's path). */
static brt_status file_error(brt_status code, int os_code, const char *path, const char *fmt, ...)
    BRT_PRINTF(4, 5);
static brt_status file_error(brt_status code, int os_code, const char *path, const char *fmt, ...) {
  char what[256];
  va_list args;
  va_start(args, fmt);
  vsnprintf(what, sizeof what, fmt, args);
  va_end(args);
  char message[PATH_MAX + 320];
  snprintf(message, sizeof message, "config file %s: %s", path, what);
  brt_error_info info = {.struct_size = sizeof info, .code = code,
                         .origin = os_code ? BRT_ORIGIN_OS : BRT_ORIGIN_C, .message = message,
                         .os_code = os_code, .os_category = os_code ? "generic" : NULL,
                         .path1 = path};
  brt_error_record(&info);
  return code;
}

static const char *file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "is a socket";
  if (S_ISCHR(mode)) return "is a character device";
  if (S_ISBLK(mode)) return "is a block device";
  return "is of an unknown kind";
}

brt_status brt_config_load_json(const char *path, brt_config *cfg) {
  if (!_brt_config_usable(cfg, "brt_config_load_json")) return BRT_E_INVALID_ARGUMENT;
  if (!path || !*path)
    return _brt_config_invalid("brt_config_load_json: path is %s", path ? "empty" : "NULL");
  /* O_NONBLOCK: opening a FIFO for reading would wait for a writer, for
   * ever; it is refused below like every file that is not a regular one.
   * O_NOCTTY: a terminal named by mistake does not become ours. (On a
   * regular file O_NONBLOCK changes nothing.) */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    int err = errno;
    return file_error(err == ENOENT ? BRT_E_NOT_FOUND : BRT_E_IO, err, path,
                      "cannot open it: %s", strerror(err));
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return file_error(BRT_E_IO, err, path, "cannot stat it: %s", strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    return file_error(BRT_E_IO, S_ISDIR(st.st_mode) ? EISDIR : EINVAL, path,
                      "%s, not a regular file; a configuration is a JSON file",
                      file_kind(st.st_mode));
  }
  if ((uint64_t)st.st_size > CONFIG_FILE_MAX) {
    close(fd);
    return file_error(BRT_E_LIMIT_EXCEEDED, 0, path,
                      "%lld bytes is more than the %u a config may have", (long long)st.st_size,
                      CONFIG_FILE_MAX);
  }
  char *text = malloc((size_t)st.st_size + 1);
  if (!text) {
    close(fd);
    return file_error(BRT_E_OUT_OF_MEMORY, 0, path, "out of memory");
  }
  size_t length = 0;
  while (length < (size_t)st.st_size) {
    ssize_t n = read(fd, text + length, (size_t)st.st_size - length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int saved = n < 0 ? errno : EIO;
      free(text);
      close(fd);
      return file_error(BRT_E_IO, saved, path, "read failed: %s",
                        n < 0 ? strerror(saved) : "the file is shorter than its size");
    }
    length += (size_t)n;
  }
  close(fd);
  text[length] = '\0';
  char label[PATH_MAX + 32];
  snprintf(label, sizeof label, "config file %s", path);
  json_job job = {text, length, label};
  brt_status status = _brt_config_transaction(cfg, apply_json_text, &job);
  free(text);
  return status;
}

/* --- Environment ------------------------------------------------------------ */

static brt_status apply_env_value(brt_config *cfg, const config_key *key, const char *text,
                                  const char *source) {
  char buf[SHOWN_MAX];
  size_t len = strlen(text);
  switch (key->kind) {
    case KIND_SIZE:
    case KIND_U32: {
      uint64_t value = 0;
      bool overflow, ok;
      if (key->kind == KIND_SIZE) {
        size_read read = _brt_config_parse_size_text(text, len, &value);
        ok = read == SIZE_OK;
        overflow = read == SIZE_OVERFLOW;
      } else {
        uint_read read = _brt_config_read_uint(text, len, &value);
        ok = read == UINT_OK;
        overflow = read == UINT_OVERFLOW;
      }
      if (overflow)
        return _brt_config_invalid("%s: \"%s\" is out of range; expected %s between %llu and %llu",
                                   source, _brt_config_shown(text, len, buf, sizeof buf),
                                   key->meaning, (unsigned long long)key->min,
                                   (unsigned long long)key->max);
      if (!ok)
        return _brt_config_invalid(
            "%s: \"%s\" is not valid; expected %s (%s)", source,
            _brt_config_shown(text, len, buf, sizeof buf), key->meaning,
            key->kind == KIND_SIZE ? SIZE_RULE : "a whole number: " WHOLE_RULE);
      return _brt_config_store_u64(cfg, key, value, source);
    }
    case KIND_BOOL:
      if (!_brt_config_parse_bool_text(text, (bool *)_brt_config_field_at(cfg, key)))
        return _brt_config_invalid(
            "%s: \"%s\" is not valid; expected 1/0, true/false, yes/no or on/off", source,
            _brt_config_shown(text, len, buf, sizeof buf));
      return BRT_OK;
    case KIND_FRACTION: {
      double value;
      if (!_brt_config_parse_fraction_text(text, len, &value))
        return _brt_config_invalid(
            "%s: \"%s\" is not a number; expected %s (written as in JSON, e.g. 0.5)", source,
            _brt_config_shown(text, len, buf, sizeof buf), key->meaning);
      brt_status status = _brt_config_check_fraction(key, value, source);
      if (status == BRT_OK) *(double *)_brt_config_field_at(cfg, key) = value;
      return status;
    }
    case KIND_NAMED:
      if (!_brt_config_parse_named_text(key, text, len, _brt_config_field_at(cfg, key)))
        return _brt_config_invalid("%s: \"%s\" is not valid; expected %s", source,
                                   _brt_config_shown(text, len, buf, sizeof buf), key->meaning);
      return BRT_OK;
    case KIND_PATHS: {
      _brt_config_paths_free(cfg->plugin_dirs, cfg->plugin_dir_count);
      cfg->plugin_dirs = NULL;
      cfg->plugin_dir_count = 0;
      const char *start = text;
      while (*start) { /* colon-separated; empty entries are skipped like PATH's */
        const char *colon = strchr(start, ':');
        size_t part = colon ? (size_t)(colon - start) : strlen(start);
        if (part > 0) {
          if (part >= PATH_MAX) return _brt_config_check_path(start, source);
          char dir[PATH_MAX];
          memcpy(dir, start, part);
          dir[part] = '\0';
          brt_status status = _brt_config_paths_append(cfg, dir, source);
          if (status != BRT_OK) return status;
        }
        start += part + (colon ? 1 : 0);
      }
      return BRT_OK;
    }
  }
  return brt_error_set(BRT_E_INTERNAL, BRT_ORIGIN_C, NULL, "config: key kind %d unhandled",
                       (int)key->kind);
}

static brt_status apply_environment(brt_config *work, const void *unused) {
  (void)unused;
  for (int i = 0; i < _brt_config_key_count; i++) {
    char variable[64] = "BRT_";
    for (size_t j = 0; _brt_config_keys[i].name[j] && j + 5 < sizeof variable; j++)
      variable[4 + j] = (char)toupper((unsigned char)_brt_config_keys[i].name[j]);
    const char *text = getenv(variable);
    if (!text) continue;
    char source[96];
    snprintf(source, sizeof source, "environment variable %s", variable);
    brt_status status = apply_env_value(work, &_brt_config_keys[i], text, source);
    if (status != BRT_OK) return status;
  }
  return _brt_config_validate_cross_fields(work, "environment");
}

brt_status brt_config_load_env(brt_config *cfg) {
  if (!_brt_config_usable(cfg, "brt_config_load_env")) return BRT_E_INVALID_ARGUMENT;
  return _brt_config_transaction(cfg, apply_environment, NULL);
}

static brt_status apply_file_then_env(brt_config *work, const void *unused) {
  (void)unused;
  const char *path = getenv("BRT_CONFIG");
  if (path && *path) {
    brt_status status = brt_config_load_json(path, work);
    if (status != BRT_OK) return status;
  }
  return apply_environment(work, NULL);
}

brt_status brt_config_resolve(brt_config *cfg) {
  if (!_brt_config_usable(cfg, "brt_config_resolve")) return BRT_E_INVALID_ARGUMENT;
  return _brt_config_transaction(cfg, apply_file_then_env, NULL);
}

