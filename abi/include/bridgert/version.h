/* bridgert — version numbers.
 *
 * BRT_VERSION_* describe the headers you compiled against; brt_version() and
 * brt_version_string() describe the library loaded at run time. The ABI is
 * stable within one BRT_ABI_VERSION: it changes only on an incompatible
 * change, and it is also the shared object's SOVERSION and the name of the
 * symbol version node (BRIDGERT_<abi>), so two incompatible copies cannot be
 * mixed silently by the dynamic linker. */
#ifndef BRIDGERT_VERSION_H
#define BRIDGERT_VERSION_H

#include "bridgert/export.h"

#define BRT_VERSION_MAJOR 0
#define BRT_VERSION_MINOR 1
#define BRT_VERSION_PATCH 0
#define BRT_ABI_VERSION 1

/* One number for comparisons: 0x00MMmmpp. */
#define BRT_VERSION_HEX ((BRT_VERSION_MAJOR << 16) | (BRT_VERSION_MINOR << 8) | BRT_VERSION_PATCH)

BRT_BEGIN_DECLS

/* The library's version as BRT_VERSION_HEX would compute it. Since 0.1.0. */
BRT_API unsigned brt_version(void);
/* The library's version as "MAJOR.MINOR.PATCH"; a static string. Since 0.1.0. */
BRT_API const char *brt_version_string(void);
/* The ABI version the library implements (BRT_ABI_VERSION at its build). Since 0.1.0. */
BRT_API unsigned brt_abi_version(void);

BRT_END_DECLS

#endif /* BRIDGERT_VERSION_H */
