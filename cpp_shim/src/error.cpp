// brt::error and the helpers that move errors between the thread's record,
// C++ exceptions and user translators.
#include "internal.hpp"

#include <cstdio>
#include <cstring>
#include <string>

namespace brt {

// The classifier reads the record of a brt::error or brt::bad_alloc that
// crosses the core's boundary at its place in the layout
// (exception/cpp_classify.hpp): the one member, right after the base. These
// sizes leave it no other place.
static_assert(sizeof(error) == classify::brt_error_record_offset +
                                   sizeof(std::shared_ptr<const brt_error>),
              "brt::error: exception/cpp_classify.hpp reads its record after the base");
static_assert(sizeof(bad_alloc) == classify::brt_bad_alloc_record_offset + sizeof(brt_error *),
              "brt::bad_alloc: exception/cpp_classify.hpp reads its record after the base");

namespace {

std::shared_ptr<const brt_error> adopt(brt_error *owned) {
  return std::shared_ptr<const brt_error>(
      owned, [](const brt_error *e) { brt_error_free(const_cast<brt_error *>(e)); });
}

// Records `info` and moves the record out, leaving the thread's last error
// as it was: building an exception object must not clobber it.
brt_error *detached_record(const brt_error_info &info) {
  brt_error *previous = brt_error_take();
  brt_error_record(&info);
  brt_error *fresh = brt_error_take();
  if (previous) brt_error_restore(previous);
  return fresh;
}

brt_error *missing_record(brt_status status, brt_error *stale) {
  char message[BRT_ERROR_MESSAGE_MAX];
  std::snprintf(message, sizeof message,
                "a bridgert call failed with %s but recorded %s; the thread's last error is the "
                "cause, if any",
                brt_status_name(status), stale ? "a different error" : "no error");
  brt_error_info info{};
  info.struct_size = sizeof info;
  info.code = status == BRT_OK ? BRT_E_INTERNAL : status;
  info.origin = BRT_ORIGIN_C;
  info.message = message;
  info.cause = stale;
  return detached_record(info);
}

}  // namespace

error::error(brt_error *owned) : error(adopt(owned ? owned : missing_record(BRT_E_INTERNAL, nullptr))) {}

error::error(brt_status code, const std::string &message)
    : error(adopt([&] {
        brt_error_info info{};
        info.struct_size = sizeof info;
        info.code = code;
        info.origin = BRT_ORIGIN_CPP;
        info.type = "brt::error";
        info.message = message.c_str();
        return detached_record(info);
      }())) {}

error::error(std::shared_ptr<const brt_error> record)
    : std::runtime_error(brt_error_message(record.get())), record_(std::move(record)) {}

error::~error() = default;

std::optional<error> error::cause() const {
  const brt_error *inner = brt_error_cause(record_.get());
  if (!inner) return std::nullopt;
  return error(std::shared_ptr<const brt_error>(record_, inner));  // shares the root's ownership
}

std::string error::describe() const {
  std::size_t needed = brt_error_format(record_.get(), nullptr, 0);
  std::string text(needed, '\0');
  brt_error_format(record_.get(), text.data(), needed + 1);
  return text;
}

namespace detail {

void throw_last_error(brt_status status) {
  brt_error *taken = brt_error_take();
  if (taken && (status == BRT_OK || brt_error_code(taken) == status)) throw error(taken);
  throw error(missing_record(status, taken));
}

error current_exception_as_error() {
  brt_error *previous = brt_error_take();
  try {
    throw;
  } catch (const std::exception &e) {
    record_current_exception(&e);
  } catch (...) {
    record_current_exception(nullptr);
  }
  brt_error *fresh = brt_error_take();
  if (previous) brt_error_restore(previous);
  return error(fresh);
}

void translation_set_message(brt_translation *out, const char *text) noexcept {
  copy_utf8_bounded(out->message, sizeof out->message, text ? text : "");
}

void translation_failed(brt_translation *out, const std::type_info &handled) noexcept {
  char handled_name[BRT_ERROR_NAME_MAX], thrown_name[BRT_ERROR_NAME_MAX];
  const std::type_info *thrown = abi::__cxa_current_exception_type();
  type_name(handled, handled_name, sizeof handled_name);
  if (thrown)
    type_name(*thrown, thrown_name, sizeof thrown_name);
  else
    std::snprintf(thrown_name, sizeof thrown_name, "an exception");
  const std::exception *as_std = nullptr;
  try {
    throw;
  } catch (const std::exception &e) {
    as_std = &e;
    char what[BRT_ERROR_MESSAGE_MAX / 2];
    std::exception_ptr ignored;
    const char *text = current_exception_message(as_std, thrown_name, what, sizeof what, &ignored);
    std::snprintf(out->message, sizeof out->message,
                  "the translator registered for %s threw %s (%s)", handled_name, thrown_name, text);
  } catch (...) {
    std::snprintf(out->message, sizeof out->message, "the translator registered for %s threw %s",
                  handled_name, thrown_name);
  }
  out->code = BRT_E_INTERNAL;
}

brt_status translator_register_or_throw(brt_error_translator fn, void *ctx) {
  check(brt_error_translator_register(fn, ctx));
  return BRT_OK;
}

}  // namespace detail
}  // namespace brt
