#ifndef FIELDSYNC_CGEOS_SHIM_H
#define FIELDSYNC_CGEOS_SHIM_H
// Only the re-entrant (context handle) API: one context per owner, never global state.
#define GEOS_USE_ONLY_R_API
#include <geos_c.h>
#endif
