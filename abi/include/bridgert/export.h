/* bridgert — symbol visibility and C/C++ linkage helpers.
 *
 * Every public function is declared with BRT_API. The library is compiled
 * with -fvisibility=hidden and BRT_BUILDING_LIBRARY defined, so only the
 * functions marked here (all named brt_*) are exported; the linker version
 * script abi/bridgert.map enforces the same from the other side. */
#ifndef BRIDGERT_EXPORT_H
#define BRIDGERT_EXPORT_H

#if defined(BRT_BUILDING_LIBRARY) && defined(__GNUC__)
#define BRT_API __attribute__((visibility("default")))
#else
#define BRT_API
#endif

#ifdef __cplusplus
#define BRT_BEGIN_DECLS extern "C" {
#define BRT_END_DECLS }
#else
#define BRT_BEGIN_DECLS
#define BRT_END_DECLS
#endif

#if defined(__GNUC__)
#define BRT_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#define BRT_NODISCARD __attribute__((warn_unused_result))
#else
#define BRT_PRINTF(fmt_index, first_arg)
#define BRT_NODISCARD
#endif

#endif /* BRIDGERT_EXPORT_H */
