// The exception boundary's slow path: turning the exception being handled
// into the thread's brt_error.
//
// Cost of a translation, on top of the throw itself: one per-thread cache
// lookup for the type's name and default status, what(), one pass over the
// translator registry (a read lock; each user translator that is consulted
// rethrows once to test its type), and brt_error_record copying the strings.
// Nested causes are rethrown once per level. Nothing here may throw: every
// call that could (translators, rethrows) sits in its own try block.
#include "internal.hpp"

#include <pthread.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <string>
#include <system_error>

namespace brt {
namespace detail {
namespace {

// The boundary's bookkeeping is not a cancellation point: a pthread_cancel
// that arrives while an error is being recorded acts at the next one, after
// the guard returned, instead of unwinding through the C registry.
class cancellation_disabled {
 public:
  cancellation_disabled() noexcept { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &previous_); }
  ~cancellation_disabled() { pthread_setcancelstate(previous_, nullptr); }
  cancellation_disabled(const cancellation_disabled &) = delete;
  cancellation_disabled &operator=(const cancellation_disabled &) = delete;

 private:
  int previous_ = PTHREAD_CANCEL_ENABLE;
};

brt_status record_handled(const std::exception *as_std, int depth) noexcept;

// The exception being translated on this thread (see handled_exception_for).
thread_local handled_exception *thread_handled;

// Records the exception inside `ptr` and moves the record out of the thread.
brt_error *describe_exception_ptr(const std::exception_ptr &ptr, int depth) noexcept {
  try {
    std::rethrow_exception(ptr);
  } catch (const std::exception &e) {
    record_handled(&e, depth);
  } catch (...) {
    record_handled(nullptr, depth);
  }
  return brt_error_take();
}

// A brt::error carries a complete record: restore a copy of it. When it was
// thrown with std::throw_with_nested and has no cause of its own, the nested
// exception becomes its cause.
brt_status restore_brt_error(const std::exception &e, unsigned kinds, int depth) noexcept {
  const brt_error *carried = dynamic_cast<const brt::error &>(e).raw();
  std::exception_ptr nested;
  if ((kinds & kind_nested) && !brt_error_cause(carried) && depth + 1 < BRT_ERROR_CAUSE_DEPTH_MAX)
    nested = dynamic_cast<const std::nested_exception &>(e).nested_ptr();
  if (!nested) {
    brt_error *copy = brt_error_clone(carried);
    if (!copy) return BRT_E_OUT_OF_MEMORY;  // brt_error_clone recorded it
    brt_error_restore(copy);
    return brt_error_code(copy);
  }
  brt_error_info info{};
  info.struct_size = sizeof info;
  info.code = brt_error_code(carried);
  info.origin = brt_error_origin(carried);
  info.type = brt_error_type(carried);
  info.message = brt_error_message(carried);
  info.os_code = brt_error_os_code(carried);
  info.os_category = brt_error_os_category(carried);
  info.path1 = brt_error_path(carried, 0);
  info.path2 = brt_error_path(carried, 1);
  info.cause = describe_exception_ptr(nested, depth + 1);
  return brt_error_record(&info);
}

void add_error_code(const std::error_code &code, brt_error_info *info) noexcept {
  info->os_code = code.value();
  info->os_category = code.category().name();
}

brt_status record_handled(const std::exception *as_std, int depth) noexcept {
  const std::type_info *type = abi::__cxa_current_exception_type();
  exception_facts facts;
  exception_facts_get(type ? *type : typeid(void), as_std, &facts);
  if (as_std && (facts.kinds & kind_brt_error)) return restore_brt_error(*as_std, facts.kinds, depth);

  brt_error_info info{};
  info.struct_size = sizeof info;
  info.code = facts.code;
  info.origin = BRT_ORIGIN_CPP;
  info.type = facts.name;
  char message[BRT_ERROR_MESSAGE_MAX];
  std::exception_ptr nested;
  info.message = current_exception_message(as_std, facts.name, message, sizeof message, &nested);

  if (as_std) {
    if (facts.kinds & kind_system_error)
      add_error_code(dynamic_cast<const std::system_error *>(as_std)->code(), &info);
    if (facts.kinds & kind_future_error)
      add_error_code(dynamic_cast<const std::future_error *>(as_std)->code(), &info);
    if (facts.kinds & kind_filesystem_error) {
      const auto *fs_error = dynamic_cast<const std::filesystem::filesystem_error *>(as_std);
      if (!fs_error->path1().empty()) info.path1 = fs_error->path1().c_str();
      if (!fs_error->path2().empty()) info.path2 = fs_error->path2().c_str();
    }
    if (facts.kinds & kind_nested)
      nested = dynamic_cast<const std::nested_exception *>(as_std)->nested_ptr();
  }

  // User translators first (most recent registration first); the default
  // table above is the fallback.
  brt_translation translation;
  {
    std::exception_ptr current = std::current_exception();
    handled_exception handled{&current, type,
                              as_std && type ? const_cast<void *>(dynamic_cast<const void *>(as_std))
                                             : nullptr};
    handled_exception *outer = thread_handled;  // a guard inside a translator nests
    thread_handled = handled.object ? &handled : nullptr;
    if (current && brt_error_translate(BRT_ORIGIN_CPP, &current, &translation) == BRT_OK) {
      info.code = translation.code;
      if (translation.message[0]) info.message = translation.message;
    }
    thread_handled = outer;
  }

  if (nested && depth + 1 < BRT_ERROR_CAUSE_DEPTH_MAX) {
    info.cause = describe_exception_ptr(nested, depth + 1);
  } else if (as_std && (facts.kinds & kind_brt_bad_alloc)) {
    const brt_error *why = dynamic_cast<const brt::bad_alloc *>(as_std)->raw();
    if (why) info.cause = brt_error_clone(why);
  }
  return brt_error_record(&info);
}

// The message of a thrown value that is not a std::exception. Rethrowing is
// the only way to reach its value; this path is rare, so it may cost a throw.
const char *describe_foreign(const char *type_name, char *buf, std::size_t size,
                             std::exception_ptr *nested) noexcept {
  try {
    throw;
  } catch (const char *text) {
    copy_utf8_bounded(buf, size, text ? text : "C++ code threw a null char pointer");
  } catch (const std::string &text) {
    copy_utf8_bounded(buf, size, text.c_str());
  } catch (bool value) {
    std::snprintf(buf, size, "C++ code threw bool %s", value ? "true" : "false");
  } catch (char value) {
    std::snprintf(buf, size, "C++ code threw char %d", value);
  } catch (int value) {
    std::snprintf(buf, size, "C++ code threw %s %d", type_name, value);
  } catch (long value) {
    std::snprintf(buf, size, "C++ code threw %s %ld", type_name, value);
  } catch (long long value) {
    std::snprintf(buf, size, "C++ code threw %s %lld", type_name, value);
  } catch (unsigned value) {
    std::snprintf(buf, size, "C++ code threw %s %u", type_name, value);
  } catch (unsigned long value) {
    std::snprintf(buf, size, "C++ code threw %s %lu", type_name, value);
  } catch (unsigned long long value) {
    std::snprintf(buf, size, "C++ code threw %s %llu", type_name, value);
  } catch (double value) {
    std::snprintf(buf, size, "C++ code threw %s %g", type_name, value);
  } catch (const std::nested_exception &e) {
    *nested = e.nested_ptr();
    std::snprintf(buf, size, "C++ code threw an object of type %s (not a std::exception)",
                  type_name);
  } catch (...) {
    std::snprintf(buf, size, "C++ code threw an object of type %s (not a std::exception)",
                  type_name);
  }
  return buf;
}

}  // namespace

const char *current_exception_message(const std::exception *as_std, const char *type_name,
                                      char *buf, std::size_t size,
                                      std::exception_ptr *nested) noexcept {
  if (!as_std) return describe_foreign(type_name, buf, size, nested);
  // what() is noexcept in every override (the language enforces it), so it
  // needs no try block; it may still return NULL or "".
  const char *what = as_std->what();
  if (what && *what) return what;
  std::snprintf(buf, size, "%s (its what() %s)", type_name,
                what ? "is empty" : "returned a null pointer");
  return buf;
}

const handled_exception *handled_exception_for(const void *exception) noexcept {
  return thread_handled && thread_handled->ptr == exception ? thread_handled : nullptr;
}

brt_status record_current_exception(const std::exception *as_std) noexcept {
  cancellation_disabled no_cancellation;
  return record_handled(as_std, 0);
}

}  // namespace detail
}  // namespace brt
