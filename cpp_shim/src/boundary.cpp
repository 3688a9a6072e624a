// The exception boundary's slow path: turning the exception being handled
// into the thread's brt_error. The classification itself (table, type
// names, messages, causes) is exception/cpp_classify.hpp, shared with the
// core's boundary around plugin code; this file adds what only the shim
// has: its translators learn the thrown object, so they match without a
// rethrow.
//
// Cost of a translation, on top of the throw itself: one per-thread cache
// lookup for the type's name and default status, what(), one pass over the
// translator registry (a read lock; each user translator that is consulted
// and cannot use the thrown object rethrows once to test its type), and
// brt_error_record copying the strings. Nested causes are rethrown once per
// level.
#include "internal.hpp"

namespace brt {
namespace detail {
namespace {

// The exception being translated on this thread (see handled_exception_for).
thread_local handled_exception *thread_handled;

brt_status translate_with_object(std::exception_ptr *current, const std::type_info *type,
                                 void *object, brt_translation *out) noexcept {
  handled_exception handled{current, type, object};
  handled_exception *outer = thread_handled;  // a guard inside a translator nests
  thread_handled = object ? &handled : nullptr;
  brt_status status = brt_error_translate(BRT_ORIGIN_CPP, current, out);
  thread_handled = outer;
  return status;
}

}  // namespace

const handled_exception *handled_exception_for(const void *exception) noexcept {
  return thread_handled && thread_handled->ptr == exception ? thread_handled : nullptr;
}

brt_status record_current_exception(const std::exception *as_std) noexcept {
  return classify::record_current(as_std, &translate_with_object);
}

const char *current_exception_message(const std::exception *as_std, const char *type_name,
                                      char *buf, std::size_t size,
                                      std::exception_ptr *nested) noexcept {
  return classify::message_of(as_std, type_name, buf, size, nested);
}

const char *type_name(const std::type_info &type, char *buf, std::size_t size) noexcept {
  if (!buf || size == 0) return "";
  classify::type_name(type, buf, size);
  return buf;
}

}  // namespace detail
}  // namespace brt
