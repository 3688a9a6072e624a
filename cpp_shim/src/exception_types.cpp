// Names and default statuses of thrown types.
//
// Demangling allocates and parses (hundreds of nanoseconds) and classifying
// takes a dozen dynamic_casts, so both are done once per type and thread and
// kept in a small per-thread cache. The cache is keyed by a copy of the
// mangled name, not by the std::type_info address: a plugin can be unloaded
// and another type loaded at the same address, but equal mangled names mean
// the same type (one definition rule). Only a pointer lives in thread-local
// storage, because bridgert_cpp is often dlopen()ed with a plugin and static
// TLS is scarce there.
#include "internal.hpp"

#include <cxxabi.h>

#include <any>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <new>
#include <stdexcept>
#include <system_error>
#include <variant>

namespace brt {
namespace detail {
namespace {

struct cached_facts {
  char mangled[128];  // empty: a free slot
  exception_facts facts;
};

// Exception types a thread sees are few; 32 slots replaced round-robin keep
// a lookup to a short scan of first characters.
struct facts_cache {
  cached_facts slots[32];
  unsigned next_victim;
};

thread_local std::unique_ptr<facts_cache> thread_cache;

// Removes `what` everywhere in `text` (in place).
void erase_all(char *text, const char *what) {
  std::size_t len = std::strlen(what);
  for (char *hit = std::strstr(text, what); hit; hit = std::strstr(hit, what))
    std::memmove(hit, hit + len, std::strlen(hit + len) + 1);
}

// "std::__cxx11::basic_string<...>" reads better as "std::basic_string<...>",
// and the libstdc++ wrapper that std::throw_with_nested puts around a type
// is an implementation detail: "std::_Nested_exception<std::runtime_error>"
// is reported as "std::runtime_error" (the nesting shows as the cause).
void normalize_name(char *name) {
  erase_all(name, "__cxx11::");
  erase_all(name, "[abi:cxx11]");
  static const char wrapper[] = "std::_Nested_exception<";
  std::size_t prefix = sizeof wrapper - 1, len = std::strlen(name);
  if (len > prefix + 1 && std::strncmp(name, wrapper, prefix) == 0 && name[len - 1] == '>') {
    std::memmove(name, name + prefix, len - prefix - 1);
    name[len - prefix - 1] = '\0';
  }
}

void demangle_into(const std::type_info &type, char *out, std::size_t size) {
  const char *mangled = type.name();
  if (*mangled == '*') mangled++;  // GCC marks types local to a translation unit
  int status = 0;
  char *readable = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  copy_utf8_bounded(out, size, status == 0 && readable ? readable : mangled);
  std::free(readable);
  normalize_name(out);
}

brt_status default_code(const std::exception &e) {
  if (dynamic_cast<const std::bad_alloc *>(&e)) return BRT_E_OUT_OF_MEMORY;
  if (dynamic_cast<const std::system_error *>(&e)) return BRT_E_IO;
  if (dynamic_cast<const std::invalid_argument *>(&e) || dynamic_cast<const std::domain_error *>(&e))
    return BRT_E_INVALID_ARGUMENT;
  if (dynamic_cast<const std::out_of_range *>(&e) || dynamic_cast<const std::length_error *>(&e))
    return BRT_E_OUT_OF_RANGE;
  // std::bad_any_cast derives from std::bad_cast.
  if (dynamic_cast<const std::bad_cast *>(&e) || dynamic_cast<const std::bad_variant_access *>(&e))
    return BRT_E_TYPE_MISMATCH;
  return BRT_E_CPP_EXCEPTION;
}

unsigned kinds_of(const std::exception &e) {
  unsigned kinds = 0;
  if (dynamic_cast<const brt::error *>(&e)) kinds |= kind_brt_error;
  if (dynamic_cast<const std::system_error *>(&e)) kinds |= kind_system_error;
  if (dynamic_cast<const std::filesystem::filesystem_error *>(&e)) kinds |= kind_filesystem_error;
  if (dynamic_cast<const std::future_error *>(&e)) kinds |= kind_future_error;
  if (dynamic_cast<const std::nested_exception *>(&e)) kinds |= kind_nested;
  if (dynamic_cast<const brt::bad_alloc *>(&e)) kinds |= kind_brt_bad_alloc;
  return kinds;
}

void compute_facts(const std::type_info &type, const std::exception *as_std, exception_facts *out) {
  demangle_into(type, out->name, sizeof out->name);
  out->code = as_std ? default_code(*as_std) : BRT_E_CPP_EXCEPTION;
  out->kinds = as_std ? kinds_of(*as_std) : 0;
}

}  // namespace

void copy_utf8_bounded(char *dst, std::size_t cap, const char *text) noexcept {
  std::size_t len = std::strlen(text);
  if (len >= cap) {
    len = cap - 1;
    // Back off to the first byte of the character that would be cut.
    while (len > 0 && (static_cast<unsigned char>(text[len]) & 0xC0u) == 0x80u) len--;
  }
  std::memcpy(dst, text, len);
  dst[len] = '\0';
}

void exception_facts_get(const std::type_info &type, const std::exception *as_std,
                         exception_facts *out) noexcept {
  const char *mangled = type.name();
  facts_cache *cache = thread_cache.get();
  if (!cache) {
    thread_cache.reset(new (std::nothrow) facts_cache());
    cache = thread_cache.get();
  }
  if (cache) {
    for (const cached_facts &slot : cache->slots) {
      if (slot.mangled[0] == mangled[0] && std::strcmp(slot.mangled, mangled) == 0) {
        *out = slot.facts;
        return;
      }
    }
  }
  compute_facts(type, as_std, out);
  std::size_t mangled_len = std::strlen(mangled);
  if (cache && mangled_len < sizeof cache->slots[0].mangled) {
    cached_facts &slot = cache->slots[cache->next_victim++ % std::size(cache->slots)];
    std::memcpy(slot.mangled, mangled, mangled_len + 1);
    slot.facts = *out;
  }
}

const char *type_name(const std::type_info &type, char *buf, std::size_t size) noexcept {
  if (!buf || size == 0) return "";
  exception_facts facts;
  // Without an object the classification is unknown, so do not cache it:
  // demangle directly.
  demangle_into(type, facts.name, sizeof facts.name);
  copy_utf8_bounded(buf, size, facts.name);
  return buf;
}

}  // namespace detail
}  // namespace brt
