/*
** rcl.h: public API of the reclaiming allocator (luajit-reclaim).
**
** A per-Lua-state heap that hands out blocks under the lua_Alloc contract
** (the caller always passes the exact old size; nsize == 0 frees) and gives
** free memory back to the OS: madvise() on free OS pages, munmap() of free
** segments and large blocks. One heap is used by one thread at a time (its
** owner); an optional global background thread may purge it concurrently.
**
** Invariants this API keeps:
**  - every block address is below 2^47 and 16-byte aligned (8 for n < 16);
**  - a failed allocation returns NULL and leaves the heap usable;
**  - purging never changes a byte of a live block;
**  - the OS page size is read at run time (rcl_page_size()).
**
** Embedding: with RCL_EMBED defined, every function below becomes static
** (compile rcl_all.c into the embedding translation unit).
*/
#ifndef RCL_H
#define RCL_H

#include <stddef.h>
#include <stdint.h>

#ifdef RCL_EMBED
#define RCL_API static __attribute__((unused))
#else
#define RCL_API extern
#endif

#define RCL_VERSION "0.1.0"

typedef struct rcl_heap rcl_heap;

/* Purge modes: how free OS pages are given back. */
enum { RCL_MODE_DONTNEED, RCL_MODE_FREE, RCL_MODE_OFF };

typedef struct rcl_config {
  uint32_t decay_ms;       /* cycle-end/background purges skip memory freed less than this ago */
  int mode;                /* RCL_MODE_*: madvise(MADV_DONTNEED) default, MADV_FREE, or no purge */
  size_t soft_limit;       /* 0 = none; before mapping new memory above it, purge everything
                              first; RCL_SOFT_LIMIT_AUTO: a share of the cgroup memory limit */
  int background;          /* 1 = global background purge thread serves this heap */
  uint32_t background_interval_ms;
  size_t step_budget;      /* max bytes of span memory examined per rcl_step() */
  int full_gc_purge;       /* rcl_full_gc() purges everything (1, default) or behaves like cycle end */
  int show_stats;          /* 1 = the host prints the heap's statistics when it destroys it (the
                              heap itself never prints: lj_ralloc.c does, at lua_close) */
  int mesh;                /* 1 = meshing (docs/mesh.md): a heap created with it maps its segments
                              from a memory file, and GC cycle ends, full GCs and purges merge
                              sparse pages of one class; 0 on a running heap stops meshing */
} rcl_config;

/* soft_limit = "auto": RCL_SOFT_LIMIT_AUTO_PERCENT percent of the memory
** limit of the process's cgroup (v2 memory.high, else memory.max; v1
** memory.limit_in_bytes; the tightest on the path to the root), read when
** the heap is created or configured; no limit if there is none. */
#define RCL_SOFT_LIMIT_AUTO ((size_t)-1)
#define RCL_SOFT_LIMIT_AUTO_PERCENT 50

typedef struct rcl_stats {
  size_t page_size;        /* run-time OS page size */
  size_t mapped;           /* bytes mapped from the OS (segments, large blocks, metadata) */
  size_t peak_mapped;      /* the most `mapped` has been since the heap was created */
  size_t resident;         /* estimate: metadata + in_use + free_dirty */
  size_t in_use;           /* sum of the block sizes of live blocks (each at least
                              rcl_usable_size of its request) */
  size_t free_dirty;       /* free bytes in OS pages that may be resident */
  size_t free_clean;       /* free bytes in purged or never-touched OS pages (mapped - resident) */
  size_t floor;            /* bytes of OS pages holding >= 1 live block (best RSS without moving) */
  size_t metadata;         /* segment headers, heap struct, large-block table */
  size_t segments, spans, large_blocks;
  uint64_t purged_total;   /* bytes given back by purges (madvise, free-segment unmaps) */
  uint64_t purge_calls;    /* successful madvise calls made by purges */
  uint64_t madvise_failed, mmap_failed, munmap_failed, mremap_failed;
  uint64_t high_mappings_rejected; /* mappings refused for ending above the address limit */
  /* Meshing (mesh=on, docs/mesh.md): a secondary page maps another page's
  ** physical page; it is not resident, its bytes are free_clean and its
  ** blocks count in in_use once, in the page they share. */
  size_t mesh_pages;       /* secondary pages now */
  size_t mesh_mappings;    /* mappings the secondaries add (upper count: 2 per run) */
  uint64_t mesh_released;  /* pages given back by meshing, since the heap was created */
  uint64_t mesh_passes;    /* mesh passes run */
  uint64_t mesh_max_pause_ns; /* the longest GC step's meshing or reconciliation (thread CPU time) */
  double fragmentation;    /* 1 - in_use/resident (0 if resident == 0) */
} rcl_stats;

/* Configuration knobs (one table in rcl_config.c). Keys: decay, mode,
** soft_limit, background, background_interval, step_budget, full_gc_purge,
** show_stats, mesh. Errors name the key or value; on error the config is unchanged. */
#define RCL_CONFIG_NKEYS 9   /* rcl_config.c checks it against its table when compiled */
enum { RCL_KIND_NUMBER, RCL_KIND_BOOLEAN, RCL_KIND_STRING };
RCL_API void rcl_config_default(rcl_config *c);
RCL_API int rcl_config_parse(rcl_config *c, const char *spec, char *err, size_t errlen);
RCL_API int rcl_config_set(rcl_config *c, const char *key, const char *value,
                           char *err, size_t errlen);
RCL_API int rcl_config_format(const rcl_config *c, const char *key, char *buf, size_t len);
RCL_API int rcl_config_kind(const char *key);   /* RCL_KIND_*, or -1 for an unknown key */
RCL_API const char *rcl_config_doc(const char *key); /* one-line description, NULL if unknown */
RCL_API const char *rcl_config_default_text(const char *key); /* default as text, NULL if unknown */
RCL_API const char *const rcl_config_keys[RCL_CONFIG_NKEYS + 1]; /* NULL-terminated */

/* Heaps. */
RCL_API rcl_heap *rcl_heap_create(const rcl_config *c, uint64_t seed); /* NULL config = defaults */
RCL_API void rcl_heap_destroy(rcl_heap *h);     /* unmaps everything, live blocks included */
RCL_API void rcl_heap_configure(rcl_heap *h, const rcl_config *c);
RCL_API void rcl_heap_get_config(rcl_heap *h, rcl_config *c);

/* Blocks. rcl_alloc_f is lua_Alloc-compatible: (heap, ptr, osize, nsize).
** A realloc to a smaller size never returns NULL; frees and reallocs pass
** the size of the last request. */
RCL_API void *rcl_alloc_f(void *heap, void *ptr, size_t osize, size_t nsize);
RCL_API void *rcl_malloc(rcl_heap *h, size_t n);
/* As rcl_malloc, for a block that a walk visits in allocation order (a GC's
** object list): such blocks of one size class are placed side by side,
** apart from other blocks. Freed and resized like any other block. */
RCL_API void *rcl_malloc_object(rcl_heap *h, size_t n);
/* As rcl_malloc_object, for blocks of many sizes that a walk visits in
** allocation order (LuaJIT's cdata): blocks of 17..1024 bytes are placed
** one after the other in a run of 16-byte cells, whatever their sizes.
** Freed and resized like any other block; rcl_usable_size does not apply
** (a block has its request rounded up to 16 bytes). Blocks above half an
** OS page up to 32768 bytes (2049..32768 at 4 KiB pages; none at larger
** pages), from this and every other entry, are placed the same way in a
** run of 256-byte cells (rcl_usable_size: the request rounded up to 256),
** and so are this entry's blocks of 1025..2048 bytes at 4 KiB pages
** (rcl_usable_size does not apply to them: the request rounded up to 256). */
RCL_API void *rcl_malloc_mixed(rcl_heap *h, size_t n);
/* As rcl_malloc, for a block the program clears or copies whole as it gets
** it (a table's array part): blocks of 1025..2048 bytes, too, take the run
** of 256-byte cells at 4 KiB pages (rcl_usable_size does not apply to them:
** the request rounded up to 256). Freed and resized like any other block. */
RCL_API void *rcl_malloc_array(rcl_heap *h, size_t n);
RCL_API void rcl_free(rcl_heap *h, void *p, size_t n);
RCL_API void *rcl_realloc(rcl_heap *h, void *p, size_t oldn, size_t newn);
RCL_API size_t rcl_usable_size(size_t n);       /* bytes usable in the block of a request of n
                                                   bytes (its class, or n rounded up to 256
                                                   in the wide run; the first blocks of a
                                                   class may be larger: coarse start) */

/* Reclaim. */
RCL_API void rcl_cycle_end(rcl_heap *h);   /* a GC cycle ended: arm a decay-aware budgeted purge */
RCL_API void rcl_step(rcl_heap *h);        /* bounded pending purge work; ~free when none pending */
RCL_API size_t rcl_full_gc(rcl_heap *h);   /* a full GC finished; returns bytes released */
RCL_API size_t rcl_purge(rcl_heap *h);     /* purge everything free now (ignores decay) */
/* One slice of the same purge: about `budget` bytes of the heap examined from
** where the last slice stopped (from the start if `restart`); adds the bytes
** released to *released; returns 1 when the whole heap has been passed. */
RCL_API int rcl_purge_some(rcl_heap *h, size_t budget, int restart, size_t *released);

/* Observation. */
RCL_API void rcl_stats_get(rcl_heap *h, rcl_stats *s); /* walks the heap: O(heap) */
/* The host's GC figures (bytes allocated as its GC counts them, and live at
** its last cycle end), published in the heap registry (rcl_registry.h) at
** the next GC cycle end or purge. */
RCL_API void rcl_heap_note_gc(rcl_heap *h, size_t total, size_t estimate);
/* h's figures now, from a heap walk, in the registry's slot layout
** (rcl_registry.h); also published. Owner only. */
struct rcl_registry_slot;
RCL_API void rcl_heap_snapshot(rcl_heap *h, struct rcl_registry_slot *out);
RCL_API size_t rcl_page_size(void);        /* run-time OS page size */

/* Test builds (RCL_TEST_HOOKS, or RCL_FAULT_INJECTION which implies it)
** also declare the test hooks. */
#if defined(RCL_TEST_HOOKS) || defined(RCL_FAULT_INJECTION)
#include "rcl_test.h"
#endif

#endif
