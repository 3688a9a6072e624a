/* Status and origin names, generated from the X-macro tables in status.h. */
#include "bridgert/status.h"
#include "bridgert/version.h"

#include <stdio.h>

static const char *const status_names[BRT_STATUS_COUNT] = {
#define STATUS_NAME_ENTRY(name, text) "BRT_" #name,
    BRT_STATUS_MAP(STATUS_NAME_ENTRY)
#undef STATUS_NAME_ENTRY
};

static const char *const status_descriptions[BRT_STATUS_COUNT] = {
#define STATUS_TEXT_ENTRY(name, text) text,
    BRT_STATUS_MAP(STATUS_TEXT_ENTRY)
#undef STATUS_TEXT_ENTRY
};

static const char *const origin_names[BRT_ORIGIN_COUNT] = {
#define ORIGIN_NAME_ENTRY(name, text) text,
    BRT_ORIGIN_MAP(ORIGIN_NAME_ENTRY)
#undef ORIGIN_NAME_ENTRY
};

const char *brt_status_name(brt_status status) {
  /* The enum's underlying type may be unsigned: compare as a wide integer so
   * that negative values from careless casts land in the unknown branch. */
  unsigned long long value = (unsigned long long)status;
  if (value < BRT_STATUS_COUNT) return status_names[value];
  static _Thread_local char unknown[40];
  snprintf(unknown, sizeof unknown, "BRT_E_UNKNOWN(%d)", (int)status);
  return unknown;
}

const char *brt_status_describe(brt_status status) {
  if ((unsigned long long)status < BRT_STATUS_COUNT) return status_descriptions[status];
  return "An unknown status code: this library does not define it (is a newer library's code being read by an older one?).";
}

const char *brt_origin_name(brt_origin origin) {
  if ((unsigned long long)origin < BRT_ORIGIN_COUNT) return origin_names[origin];
  return "unknown";
}

unsigned brt_version(void) { return BRT_VERSION_HEX; }

#define BRT_STRINGIFY_(x) #x
#define BRT_STRINGIFY(x) BRT_STRINGIFY_(x)
const char *brt_version_string(void) {
  return BRT_STRINGIFY(BRT_VERSION_MAJOR) "." BRT_STRINGIFY(BRT_VERSION_MINOR) "." BRT_STRINGIFY(
      BRT_VERSION_PATCH);
}

unsigned brt_abi_version(void) { return BRT_ABI_VERSION; }
