/*
** rcl_all.c: the whole allocator as one translation unit.
**
** Embedding (LuaJIT's lj_alloc.c): define RCL_EMBED, then include this file;
** every rcl_ function becomes static (RCL_API/RCL_INTERN), so nothing clashes
** with the host's symbols. _GNU_SOURCE (for mremap) must be defined before
** the first system header of the including file; LuaJIT's lj_alloc.c and
** ljamalg.c already do so.
** Standalone: compile this file alone (or each .c separately).
*/
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

/* Layers, lowest first: each file calls only those before it (README.md). */
#include "rcl_os.c"
#include "rcl_config.c"
#include "rcl_class.c"
#include "rcl_large.c"
#include "rcl_span.c"
#include "rcl_mesh_core.c"
#include "rcl_mesher.c"
#include "rcl_purge.c"
#include "rcl_stats.c"
#include "rcl_registry.c"
#include "rcl_mesh.c"
#include "rcl_bg.c"
#include "rcl_api.c"
