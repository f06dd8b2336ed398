/*
** rcl_test.h: test hooks of the reclaiming allocator.
**
** Compiled only with -DRCL_TEST_HOOKS (the unit, stress, fuzz and
** many-states tests; -DRCL_FAULT_INJECTION implies it): production builds,
** LuaJIT's included, have none of these functions. Like rcl.h, every
** function is static with RCL_EMBED.
*/
#ifndef RCL_TEST_H
#define RCL_TEST_H

#include "rcl.h"

/* System calls whose failure can be injected. */
enum { RCL_FAULT_MMAP, RCL_FAULT_MADVISE, RCL_FAULT_MUNMAP, RCL_FAULT_MREMAP,
       RCL_FAULT_BACKING,   /* memfd_create, ftruncate, the file mapping of a segment */
       RCL_FAULT__MAX };

/* Mappings must end below limit (process-wide); 0 restores 2^47. */
RCL_API void rcl_test_set_addr_limit(uint64_t limit);
/* 0: map without address hints (the kernel chooses), 1: with (default). */
RCL_API void rcl_test_set_hints(int enabled);
/* Calls nth .. nth+count-1 of `kind`, counted from now, fail; 0 disarms.
** -1 unless built with RCL_FAULT_INJECTION. */
RCL_API int rcl_test_fault(int kind, uint64_t nth, uint64_t count);
/* Each later call of `kind` fails with probability per_million / 10^6
** (0 disarms); -1 unless RCL_FAULT_INJECTION. */
RCL_API int rcl_test_fault_rate(int kind, uint32_t per_million, uint64_t seed);
/* Failures injected so far, process-wide (0 without RCL_FAULT_INJECTION). */
RCL_API uint64_t rcl_test_fault_injected(int kind);
/* Memory-file backing (rcl_os.c, docs/mesh.md): heaps created from now on
** map their segments from a memory file (RCL_BACKING_FILE) or anonymous
** memory (RCL_BACKING_ANON); RCL_BACKING_ENV (the default) follows the
** environment variable LUAJIT_RECLAIM_TEST_BACKING=file|anon (unset: anon),
** which only builds with RCL_TEST_HOOKS read. Process-wide. */
enum { RCL_BACKING_ENV = -1, RCL_BACKING_ANON, RCL_BACKING_FILE };
RCL_API void rcl_test_set_backing(int backing);
typedef struct rcl_backing_info {
  int file;                       /* the heap asked for the file backing */
  int fd;                         /* its memory file; -1: none (anonymous) */
  uint64_t file_ino;              /* the file's inode number (0 without one) */
  size_t file_segments;           /* segments mapped from the file */
  uint64_t file_size;             /* bytes (ranges of segments, mapped or free) */
  uint64_t file_allocated;        /* bytes the file holds now (st_blocks * 512) */
  uint64_t fallbacks;             /* backing failures: anonymous memory instead */
  uint64_t punch_failed;          /* unmapped file ranges not punched (never reused) */
  uint64_t fork_copies;           /* fork children that copied this heap (counted
                                     in the child) */
  size_t aliases;                 /* OS pages mapping another page's physical page */
  uint64_t alias_failed;          /* aliasing or unaliasing calls the OS refused */
  size_t table_bytes;             /* bytes of the heap's plain mappings for the backing and
                                     meshing, page-rounded as mapped and not counted in
                                     `mapped`: the backing struct, its segment and free-range
                                     tables and each segment's alias page arrays (rcl_os.c),
                                     and the mesh table with the one it is moving out of
                                     (rcl_mesh_core.c, h->mesh_tab, h->mesh_old). Not included: the
                                     mesher's open-span table (rcl_mesher.c, h->mesher, one
                                     plain mapping once the first mesh pass ran) */
} rcl_backing_info;
/* Fills info for h; 0, or -1 if fstat of the file fails. */
RCL_API int rcl_test_backing(rcl_heap *h, rcl_backing_info *info);
/* Make the OS page `page` map the physical page of `target` (both in h's
** file segments; rcl_os_page_alias's rules), or map it back onto its own
** (zero) range. 0, or -1 with nothing changed. The heap's bitmaps are not
** told: the caller keeps both pages inside blocks it owns. */
RCL_API int rcl_test_page_alias(rcl_heap *h, void *page, const void *target);
RCL_API int rcl_test_page_unalias(rcl_heap *h, void *page);
/* Mesh OS page b onto OS page a of h (rcl_mesh_page's rules,
** rcl_mesh_core.c): the live blocks of b are copied into a and b maps a's
** physical page. 0, or -1 with nothing changed. Frees through b are moved
** to a by the next purge() or GC cycle end. */
RCL_API int rcl_test_mesh_page(rcl_heap *h, void *b, void *a);
/* Mesh primary b with all its secondaries onto a (rcl_mesh_primary): 1 when
** b is no primary any more, 0 when some secondaries stay on it, -1 with
** nothing changed. */
RCL_API int rcl_test_mesh_primary(rcl_heap *h, void *b, void *a);
/* Primaries remeshed on h so far (rcl_mesh_primary calls that moved at
** least one secondary: by rcl_test_mesh_primary and by the mesher). */
RCL_API uint64_t rcl_test_mesh_remeshed(rcl_heap *h);
/* The mesh table of h (rcl_mesh_core.c): *slots of the current table (0:
** none mapped), *old_slots of the one being moved out of (0: none),
** *entries in both. Returns the bytes both tables map. */
RCL_API size_t rcl_test_mesh_table(rcl_heap *h, size_t *slots, size_t *old_slots, size_t *entries);
/* The process-wide mapping budget of meshing (rcl_mesh_core.c) before this
** call; a non-zero `budget` replaces it (mappings). *used, if not NULL,
** receives the mappings meshing holds now (all heaps). */
RCL_API size_t rcl_test_mesh_budget(size_t budget, size_t *used);
/* Spans purge passes on h have examined so far (rcl_purge.c). */
RCL_API uint64_t rcl_test_spans_examined(rcl_heap *h);
/* Verify every invariant of h (rcl_check.c); 0 if all hold, else -1 with
** the first broken one described in err. Takes the heap lock. */
RCL_API int rcl_test_check(rcl_heap *h, char *err, size_t errlen);
/* 1 while the background thread exists. */
RCL_API int rcl_test_background_running(void);
/* Bytes of the live block p allocated with size n, as stats count them:
** at least rcl_usable_size(n), more for a block of a coarse start. */
RCL_API size_t rcl_test_block_size(const void *p, size_t n);

/* Mesh estimate (rcl_mesh.c; also built alone with RCL_MESH_ESTIMATE): what
** meshing would give back on h now, nothing changed. Counts are OS pages. */
#define RCL_MESH_CLASSES 128      /* = the heap's size classes */
typedef struct rcl_mesh_class_report {
  uint32_t block_size;            /* bytes */
  uint32_t slots;                 /* block slots per OS page */
  size_t pages;                   /* candidate pages of the class */
  size_t live_slots;              /* live blocks on them */
  size_t split_released, greedy_released, bound_released;
} rcl_mesh_class_report;
typedef struct rcl_mesh_report {
  size_t page_size;               /* the OS page (bytes) */
  unsigned rounds;                /* SplitMesher's t */
  unsigned max_share;             /* cap: virtual pages on one physical page */
  size_t segments;
  size_t live_blocks;             /* in spans (large blocks not included) */
  size_t floor_pages;             /* span pages holding live bytes */
  size_t large_pages;             /* pages of large blocks (never meshed) */
  size_t candidate_pages;         /* floor pages that may mesh (non-current, on a slot grid) */
  size_t excluded_current, excluded_layout, excluded_medium; /* floor = candidates + these */
  size_t split_released, greedy_released, bound_released; /* physical pages freed */
  size_t split_vmas, greedy_vmas; /* mappings the remaps would add (upper count) */
  unsigned split_share, greedy_share; /* most virtual pages on one physical page */
  unsigned split_passes;          /* most SplitMesher passes of one class */
  uint64_t lock_ns, plan_ns;      /* time holding the heap lock; planning after it */
  rcl_mesh_class_report cls[RCL_MESH_CLASSES];
} rcl_mesh_report;
/* Fills r; takes the heap lock while it copies the bitmaps. 0, or -1 when
** the C library's malloc fails (r is then incomplete). */
RCL_API int rcl_mesh_estimate(rcl_heap *h, rcl_mesh_report *r);

#endif
