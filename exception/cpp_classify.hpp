// The one classifier of C++ exceptions: from the exception being handled to
// the thread's brt_error (status, type, message, OS code, paths, causes).
//
// Two boundaries use it and must agree: bridge/boundary.cpp, the core's
// safety net around plugin code, and the C++ shim's brt::guard
// (cpp_shim/src/boundary.cpp, in libbridgert_cpp). The shim is a separate
// shared library that sees only libbridgert's exported symbols, so the
// classifier is header-only: each library compiles its own copy (hidden by
// -fvisibility=hidden) and the exported ABI does not change. It calls only
// the public C API and the C++ runtime. C++17; not installed.
//
// The table (docs/cpp.md, "Default translation table"), applied after the
// user translators:
//
//   brt::error and derived                 its own record, restored unchanged
//   std::bad_alloc (bad_array_new_length,  OUT_OF_MEMORY; brt::bad_alloc adds
//     brt::bad_alloc)                        the allocator's error as the cause
//   std::system_error (ios_base::failure,  IO, with code() as OS code and
//     filesystem_error)                      category, and the paths
//   std::invalid_argument, domain_error    INVALID_ARGUMENT
//   std::out_of_range, length_error        OUT_OF_RANGE
//   std::bad_cast (bad_any_cast),          TYPE_MISMATCH
//     std::bad_variant_access
//   any other std::exception               CPP_EXCEPTION (future_error keeps
//                                            its code and category "future")
//   anything else (throw 42)               CPP_EXCEPTION, the value described
//
// Type names are demangled with "__cxx11::" and "[abi:cxx11]" removed, and
// std::throw_with_nested's wrapper unwrapped: "std::ios_base::failure",
// "std::runtime_error", never "std::_Nested_exception<...>".
#ifndef BRT_EXCEPTION_CPP_CLASSIFY_HPP
#define BRT_EXCEPTION_CPP_CLASSIFY_HPP

#include <cxxabi.h>
#include <pthread.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <future>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <typeinfo>
#include <variant>

#include "bridgert/error.h"

namespace brt {
namespace classify {

// What the table says about a dynamic type; it depends on nothing else, so
// it is computed once per type and thread (facts_of).
enum kind : unsigned {
  kind_brt_error = 1u << 0,         // brt::error: restored unchanged
  kind_system_error = 1u << 1,      // std::system_error: code() and category
  kind_filesystem_error = 1u << 2,  // std::filesystem::filesystem_error: paths
  kind_future_error = 1u << 3,      // std::future_error: code() and category
  kind_nested = 1u << 4,            // also a std::nested_exception
  kind_brt_bad_alloc = 1u << 5,     // brt::bad_alloc: the allocator's error is the cause
};

struct facts {
  brt_status code;
  unsigned kinds;  // kind bits
  char name[BRT_ERROR_NAME_MAX];
};

// brt::error and brt::bad_alloc as the classifier sees them. The core cannot
// name those classes (brt::error's type_info lives in libbridgert_cpp, a
// floor above it), so it finds them by mangled name (public_base) and reads
// the record each one owns at its place in the layout: the one member,
// right after the standard base (a std::shared_ptr<const brt_error> in
// brt::error, a brt_error * in brt::bad_alloc). cpp_shim/src/error.cpp
// asserts the sizes that guarantee those places, and the classifier test
// restores both through the core's boundary.
constexpr const char brt_error_mangled[] = "N3brt5errorE";
constexpr const char brt_bad_alloc_mangled[] = "N3brt9bad_allocE";
constexpr std::size_t brt_error_record_offset = sizeof(std::runtime_error);
constexpr std::size_t brt_bad_alloc_record_offset = sizeof(std::bad_alloc);

// `base`: a brt::error (sub)object, as public_base found it.
inline const brt_error *carried_by_brt_error(const void *base) noexcept {
  const void *member = static_cast<const char *>(base) + brt_error_record_offset;
  return static_cast<const std::shared_ptr<const brt_error> *>(member)->get();
}

// `base`: a brt::bad_alloc (sub)object; nullptr when it carries no error.
inline const brt_error *carried_by_brt_bad_alloc(const void *base) noexcept {
  const void *member = static_cast<const char *>(base) + brt_bad_alloc_record_offset;
  return *static_cast<brt_error *const *>(member);
}

// Copies `text` into `dst` (capacity `cap` >= 1), cutting at a UTF-8
// character boundary when it does not fit.
inline void copy_utf8_bounded(char *dst, std::size_t cap, const char *text) noexcept {
  std::size_t len = std::strlen(text);
  if (len >= cap) {
    len = cap - 1;
    // Back off to the first byte of the character that would be cut.
    while (len > 0 && (static_cast<unsigned char>(text[len]) & 0xC0u) == 0x80u) len--;
  }
  std::memcpy(dst, text, len);
  dst[len] = '\0';
}

// Removes `what` everywhere in `text` (in place).
inline void erase_all(char *text, const char *what) noexcept {
  std::size_t len = std::strlen(what);
  for (char *hit = std::strstr(text, what); hit; hit = std::strstr(hit, what))
    std::memmove(hit, hit + len, std::strlen(hit + len) + 1);
}

// The readable name of `type` into `out`: demangled (the mangled name when
// that fails), ABI tags and the nested-exception wrapper removed.
inline void type_name(const std::type_info &type, char *out, std::size_t size) noexcept {
  const char *mangled = type.name();
  if (*mangled == '*') mangled++;  // GCC marks types local to a translation unit
  int status = 0;
  char *readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  copy_utf8_bounded(out, size, status == 0 && readable ? readable : mangled);
  std::free(readable);
  erase_all(out, "__cxx11::");
  erase_all(out, "[abi:cxx11]");
  static const char wrapper[] = "std::_Nested_exception<";
  std::size_t prefix = sizeof wrapper - 1, len = std::strlen(out);
  if (len > prefix + 1 && std::strncmp(out, wrapper, prefix) == 0 && out[len - 1] == '>') {
    std::memmove(out, out + prefix, len - prefix - 1);
    out[len - prefix - 1] = '\0';
  }
}

// `object` (the most derived object, of dynamic type `thrown`) adjusted to
// its public base class with mangled name `base`, or nullptr. The question
// is the one a catch clause asks, put to the C++ runtime (libstdc++'s
// type_info::__do_catch) with a type_info that carries only the name: type
// equality is by name, so no symbol of the library that defines the class is
// needed.
inline const void *public_base(const std::type_info &thrown, const void *object,
                               const char *base) noexcept {
#if defined(__GLIBCXX__)
  if (!object) return nullptr;
  const abi::__class_type_info wanted(base);
  const std::type_info &as_catch = wanted;  // __do_catch is public on type_info only
  void *adjusted = const_cast<void *>(object);
  if (as_catch.__do_catch(&thrown, &adjusted, 1)) return adjusted;
#else
  (void)thrown, (void)object, (void)base;
#endif
  return nullptr;
}

// The table, for a std::exception with the kind bits of kinds_of.
inline brt_status table_status(const std::exception &e, unsigned kinds) noexcept {
  if (kinds & kind_brt_error) return BRT_OK;  // the record's own code
  if (dynamic_cast<const std::bad_alloc *>(&e)) return BRT_E_OUT_OF_MEMORY;
  if (kinds & kind_system_error) return BRT_E_IO;
  if (dynamic_cast<const std::invalid_argument *>(&e) || dynamic_cast<const std::domain_error *>(&e))
    return BRT_E_INVALID_ARGUMENT;
  if (dynamic_cast<const std::out_of_range *>(&e) || dynamic_cast<const std::length_error *>(&e))
    return BRT_E_OUT_OF_RANGE;
  // std::bad_any_cast derives from std::bad_cast.
  if (dynamic_cast<const std::bad_cast *>(&e) || dynamic_cast<const std::bad_variant_access *>(&e))
    return BRT_E_TYPE_MISMATCH;
  return BRT_E_CPP_EXCEPTION;
}

inline unsigned kinds_of(const std::type_info &type, const std::exception &e) noexcept {
  const void *object = dynamic_cast<const void *>(&e);
  unsigned kinds = 0;
  if (public_base(type, object, brt_error_mangled)) kinds |= kind_brt_error;
  if (dynamic_cast<const std::system_error *>(&e)) kinds |= kind_system_error;
  if (dynamic_cast<const std::filesystem::filesystem_error *>(&e)) kinds |= kind_filesystem_error;
  if (dynamic_cast<const std::future_error *>(&e)) kinds |= kind_future_error;
  if (dynamic_cast<const std::nested_exception *>(&e)) kinds |= kind_nested;
  if (public_base(type, object, brt_bad_alloc_mangled)) kinds |= kind_brt_bad_alloc;
  return kinds;
}

// Demangling allocates and parses, and classifying takes a dozen
// dynamic_casts, so both are done once per type and thread and kept in a
// small per-thread cache. It is keyed by a copy of the mangled name, not by
// the type_info address: a plugin can be unloaded and another type loaded at
// the same address, but equal mangled names mean the same type (one
// definition rule). Only a pointer lives in thread-local storage, because
// libbridgert_cpp is often dlopen()ed with a plugin and static TLS is scarce
// there. Exception types a thread sees are few; 32 slots replaced
// round-robin keep a lookup to a short scan of first characters.
struct facts_cache {
  struct slot {
    char mangled[128];  // empty: a free slot
    facts value;
  } slots[32];
  unsigned next_victim;
};
inline thread_local std::unique_ptr<facts_cache> thread_facts;

// The facts of the exception of dynamic type `type`; `as_std` is the object
// when it is a std::exception (nullptr for `throw 42`).
inline void facts_of(const std::type_info &type, const std::exception *as_std, facts *out) noexcept {
  const char *mangled = type.name();
  facts_cache *cache = thread_facts.get();
  if (!cache) {
    thread_facts.reset(new (std::nothrow) facts_cache());
    cache = thread_facts.get();
  }
  if (cache) {
    for (const facts_cache::slot &slot : cache->slots) {
      if (slot.mangled[0] == mangled[0] && std::strcmp(slot.mangled, mangled) == 0) {
        *out = slot.value;
        return;
      }
    }
  }
  type_name(type, out->name, sizeof out->name);
  out->kinds = as_std ? kinds_of(type, *as_std) : 0;
  out->code = as_std ? table_status(*as_std, out->kinds) : BRT_E_CPP_EXCEPTION;
  std::size_t mangled_len = std::strlen(mangled);
  if (cache && mangled_len < sizeof cache->slots[0].mangled) {
    facts_cache::slot &slot = cache->slots[cache->next_victim++ % std::size(cache->slots)];
    std::memcpy(slot.mangled, mangled, mangled_len + 1);
    slot.value = *out;
  }
}

// The message of a thrown value that is not a std::exception (call it from
// a catch block). Rethrowing is the only way to reach its value; this path
// is rare, so it may cost a throw. *nested receives a nested cause, if any.
inline const char *describe_foreign(const char *type, char *buf, std::size_t size,
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
    std::snprintf(buf, size, "C++ code threw %s %d", type, value);
  } catch (long value) {
    std::snprintf(buf, size, "C++ code threw %s %ld", type, value);
  } catch (long long value) {
    std::snprintf(buf, size, "C++ code threw %s %lld", type, value);
  } catch (unsigned value) {
    std::snprintf(buf, size, "C++ code threw %s %u", type, value);
  } catch (unsigned long value) {
    std::snprintf(buf, size, "C++ code threw %s %lu", type, value);
  } catch (unsigned long long value) {
    std::snprintf(buf, size, "C++ code threw %s %llu", type, value);
  } catch (double value) {
    std::snprintf(buf, size, "C++ code threw %s %g", type, value);
  } catch (const std::nested_exception &e) {
    *nested = e.nested_ptr();
    std::snprintf(buf, size, "C++ code threw an object of type %s (not a std::exception)", type);
  } catch (...) {
    std::snprintf(buf, size, "C++ code threw an object of type %s (not a std::exception)", type);
  }
  return buf;
}

// The message of the exception being handled (from a catch block): what(),
// guarded against what() returning NULL or "". `as_std` may be nullptr: then
// the thrown value itself is described (`throw 42`, `throw "text"`).
inline const char *message_of(const std::exception *as_std, const char *type, char *buf,
                              std::size_t size, std::exception_ptr *nested) noexcept {
  if (!as_std) return describe_foreign(type, buf, size, nested);
  // what() is noexcept in every override (the language enforces it), so it
  // needs no try block; it may still return NULL or "".
  const char *what = as_std->what();
  if (what && *what) return what;
  std::snprintf(buf, size, "%s (its what() %s)", type,
                what ? "is empty" : "returned a null pointer");
  return buf;
}

// Whether the exception being handled (from a catch (...) block) is not a
// C++ one: the forced unwinding of pthread_cancel and pthread_exit
// (abi::__forced_unwind) or another language's unwinding. Those must be
// rethrown: the boundary cannot describe them, and swallowing the forced
// unwinding aborts the process. std::current_exception() is empty exactly
// for them (libstdc++ never wraps a foreign exception); the type of the
// current exception is no test, because for a foreign exception the runtime
// reads it from memory that is not a C++ exception header.
inline bool foreign_exception_in_flight() noexcept { return !std::current_exception(); }

// How a boundary hands the exception to the user translators: `current` is
// the exception, `type` its dynamic type, `object` the most derived object
// (nullptr when it is not a std::exception). The core passes them to
// brt_error_translate; the shim also tells its translators the object, so
// they match without a rethrow.
using translate_fn = brt_status (*)(std::exception_ptr *current, const std::type_info *type,
                                    void *object, brt_translation *out) noexcept;

inline brt_status translate_plain(std::exception_ptr *current, const std::type_info *,
                                  void *, brt_translation *out) noexcept {
  return brt_error_translate(BRT_ORIGIN_CPP, current, out);
}

inline brt_status record_handled(const std::exception *as_std, translate_fn translate,
                                 int depth) noexcept;

// Records the exception inside `ptr` and moves the record out of the thread.
inline brt_error *describe_exception_ptr(const std::exception_ptr &ptr, translate_fn translate,
                                         int depth) noexcept {
  try {
    std::rethrow_exception(ptr);
  } catch (const std::exception &e) {
    record_handled(&e, translate, depth);
  } catch (...) {
    record_handled(nullptr, translate, depth);
  }
  return brt_error_take();
}

// A brt::error carries a complete record: restore a copy of it. When it was
// thrown with std::throw_with_nested and has no cause of its own, the nested
// exception becomes its cause.
inline brt_status restore_brt_error(const std::type_info &type, const std::exception &e,
                                    unsigned kinds, translate_fn translate, int depth) noexcept {
  const void *base = public_base(type, dynamic_cast<const void *>(&e), brt_error_mangled);
  const brt_error *carried = carried_by_brt_error(base);
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
  info.cause = describe_exception_ptr(nested, translate, depth + 1);
  return brt_error_record(&info);
}

inline void add_error_code(const std::error_code &code, brt_error_info *info) noexcept {
  info->os_code = code.value();
  info->os_category = code.category().name();
}

inline brt_status record_handled(const std::exception *as_std, translate_fn translate,
                                 int depth) noexcept {
  const std::type_info *type = abi::__cxa_current_exception_type();
  facts known;
  facts_of(type ? *type : typeid(void), as_std, &known);
  if (as_std && type && (known.kinds & kind_brt_error))
    return restore_brt_error(*type, *as_std, known.kinds, translate, depth);

  brt_error_info info{};
  info.struct_size = sizeof info;
  info.code = known.code;
  info.origin = BRT_ORIGIN_CPP;
  info.type = known.name;
  char message[BRT_ERROR_MESSAGE_MAX];
  std::exception_ptr nested;
  info.message = message_of(as_std, known.name, message, sizeof message, &nested);

  if (as_std) {
    if (known.kinds & kind_system_error)
      add_error_code(dynamic_cast<const std::system_error *>(as_std)->code(), &info);
    if (known.kinds & kind_future_error)
      add_error_code(dynamic_cast<const std::future_error *>(as_std)->code(), &info);
    if (known.kinds & kind_filesystem_error) {
      const auto *fs_error = dynamic_cast<const std::filesystem::filesystem_error *>(as_std);
      if (!fs_error->path1().empty()) info.path1 = fs_error->path1().c_str();
      if (!fs_error->path2().empty()) info.path2 = fs_error->path2().c_str();
    }
    if (known.kinds & kind_nested)
      nested = dynamic_cast<const std::nested_exception *>(as_std)->nested_ptr();
  }

  // User translators first (most recent registration first); the table is
  // the fallback.
  brt_translation translation;  // brt_error_translate fills it (no zeroing of the message buffer)
  std::exception_ptr current = std::current_exception();
  void *object = as_std && type ? const_cast<void *>(dynamic_cast<const void *>(as_std)) : nullptr;
  if (current && translate(&current, type, object, &translation) == BRT_OK) {
    info.code = translation.code;
    if (translation.message[0]) info.message = translation.message;
  }

  if (nested && depth + 1 < BRT_ERROR_CAUSE_DEPTH_MAX) {
    info.cause = describe_exception_ptr(nested, translate, depth + 1);
  } else if (as_std && type && (known.kinds & kind_brt_bad_alloc)) {
    const void *base = public_base(*type, dynamic_cast<const void *>(as_std), brt_bad_alloc_mangled);
    const brt_error *why = carried_by_brt_bad_alloc(base);
    if (why) info.cause = brt_error_clone(why);
  }
  return brt_error_record(&info);
}

// The boundary's bookkeeping is not a cancellation point: a pthread_cancel
// that arrives while an error is being recorded acts at the next one, after
// the boundary returned, instead of unwinding through the C registry.
class cancellation_disabled {
 public:
  cancellation_disabled() noexcept { pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &previous_); }
  ~cancellation_disabled() { pthread_setcancelstate(previous_, nullptr); }
  cancellation_disabled(const cancellation_disabled &) = delete;
  cancellation_disabled &operator=(const cancellation_disabled &) = delete;

 private:
  int previous_ = PTHREAD_CANCEL_ENABLE;
};

// Records the C++ exception being handled (call it from a catch block, after
// foreign_exception_in_flight() said no) as the thread's brt_error and
// returns its status. `as_std` is the exception as a std::exception, or
// nullptr. Never throws: every call that could (translators, rethrows) sits
// in its own try block.
inline brt_status record_current(const std::exception *as_std, translate_fn translate) noexcept {
  cancellation_disabled no_cancellation;
  return record_handled(as_std, translate, 0);
}

}  // namespace classify
}  // namespace brt

#endif  // BRT_EXCEPTION_CPP_CLASSIFY_HPP
