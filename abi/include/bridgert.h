/* bridgert — the whole public C ABI. Include this one header.
 * See docs/abi.md for the conventions every function follows. */
#ifndef BRIDGERT_H
#define BRIDGERT_H

#include "bridgert/export.h"
#include "bridgert/version.h"
#include "bridgert/status.h"
#include "bridgert/error.h"
#include "bridgert/config.h"
#include "bridgert/memory.h"
#include "bridgert/value.h"
#include "bridgert/schema.h"
#include "bridgert/monitor.h"
#include "bridgert/runtime.h"

#endif /* BRIDGERT_H */
