/*
** rcl_registry.h: the per-process heap registry, as seen from outside.
**
** Every process whose allocator has created a heap maps one registry: a
** small private mapping of a memory file named RCL_REGISTRY_NAME, so it
** shows in /proc/PID/maps as "/memfd:luajit-reclaim-registry (deleted)"
** (or, where memfd_create is refused, an anonymous mapping that starts with
** the magic and is named "[anon:luajit-reclaim-registry]" where the kernel
** names anonymous mappings). A reader in another process (luajit-memstat)
** finds it there and copies it with process_vm_readv: the target is never
** stopped. This header is the format, shared by the writer (rcl_registry.c)
** and the readers; a change of layout bumps RCL_REGISTRY_VERSION.
**
** One slot per live heap (one per lua_State). The heap's writers (its
** owner, or the background thread, both under the heap lock when the heap
** is locking) publish a slot as a sequence lock: seq is odd while the
** slot is being written and even when it is stable; a reader copies the
** slot, copies it again, and uses it only if both copies have the same even
** seq. A slot with heap == 0 is free. mapped, metadata, the counters and the
** GC figures are those of published_ms; in_use, free_dirty, free_clean,
** floor and resident are those of the last heap walk (walked_ms), so the
** identities mapped = metadata + in_use + free_dirty + free_clean and
** resident = metadata + in_use + free_dirty hold when walked_ms ==
** published_ms. Counters are bytes unless named
** otherwise; times are CLOCK_MONOTONIC milliseconds, comparable across
** processes of one boot.
**
** Fork: the mapping is private, so a child gets its own copy of the
** registry (its heaps are the parent's, copied), and its writes never
** reach the parent.
*/
#ifndef RCL_REGISTRY_H
#define RCL_REGISTRY_H

#include <stdint.h>

#define RCL_REGISTRY_NAME    "luajit-reclaim-registry"
#define RCL_REGISTRY_MAGIC   "luajit-reclaim-registry"   /* 23 chars + NUL */
#define RCL_REGISTRY_VERSION 2    /* 2: the mesh figures */
#define RCL_REGISTRY_SIZE    65536    /* bytes of the mapping */

/* Per-heap figures, one X(name, metric, type, help) row each: the slot's
** fields in this order (name), and the metric families that
** luajit-memstat --prometheus and reclaim.metrics() print:
** luajit_reclaim_<metric>, of Prometheus type <type> (counters count since
** the heap was created and end in _total; byte figures end in _bytes). */
#define RCL_REGISTRY_FIGURES(X) \
  X(mapped, "mapped_bytes", "gauge", "bytes mapped from the OS by the heap (segments, large blocks, metadata)") \
  X(resident, "resident_bytes", "gauge", "bytes of the heap that may be resident: metadata + in_use + free_dirty, at the last heap walk") \
  X(in_use, "in_use_bytes", "gauge", "bytes in live blocks, at the last heap walk") \
  X(free_dirty, "free_dirty_bytes", "gauge", "bytes free in pages that may be resident, at the last heap walk") \
  X(free_clean, "free_clean_bytes", "gauge", "bytes free in purged or never touched pages, at the last heap walk") \
  X(floor, "floor_bytes", "gauge", "bytes of pages holding a live block, at the last heap walk: the RSS reachable without moving objects") \
  X(metadata, "metadata_bytes", "gauge", "bytes of segment headers, the heap structure and the large-block table") \
  X(segments, "segments", "gauge", "4 MiB segments mapped") \
  X(large_blocks, "large_blocks", "gauge", "blocks above 1 MiB, each in its own mapping") \
  X(purged_bytes, "purged_bytes_total", "counter", "bytes given back to the OS") \
  X(purge_calls, "purge_calls_total", "counter", "successful madvise calls of purges") \
  X(madvise_failed, "madvise_failures_total", "counter", "failed madvise calls") \
  X(mmap_failed, "mmap_failures_total", "counter", "failed mmap calls") \
  X(munmap_failed, "munmap_failures_total", "counter", "failed munmap calls") \
  X(mremap_failed, "mremap_failures_total", "counter", "failed mremap calls") \
  X(soft_limit, "soft_limit_bytes", "gauge", "the soft limit in bytes (0: none)") \
  X(gc_total, "gc_allocated_bytes", "gauge", "bytes the host's GC counts as allocated (collectgarbage(\"count\") * 1024), at the last GC cycle end") \
  X(gc_estimate, "gc_estimate_bytes", "gauge", "bytes the host's GC estimated live at the end of its last cycle") \
  X(mesh_pages, "mesh_pages", "gauge", "OS pages meshed onto another page's physical page (mesh=on), now") \
  X(mesh_mappings, "mesh_mappings", "gauge", "mappings the meshed pages add to the process (an upper count)") \
  X(mesh_released, "mesh_released_pages_total", "counter", "OS pages given back by meshing") \
  X(mesh_passes, "mesh_passes_total", "counter", "mesh passes started")

typedef struct rcl_registry_header {
  char magic[24];             /* RCL_REGISTRY_MAGIC, NUL-padded */
  uint32_t version;           /* RCL_REGISTRY_VERSION */
  uint32_t header_size;       /* sizeof(rcl_registry_header) */
  uint32_t slot_size;         /* sizeof(rcl_registry_slot) */
  uint32_t nslots;            /* slots that follow the header */
  uint64_t page_size;         /* the process's OS page size */
  uint64_t heaps_created;     /* since the registry was made (atomic) */
  uint64_t heaps_destroyed;
  uint64_t heaps_unlisted;    /* live heaps that found no free slot */
  char lib_version[16];       /* the allocator's RCL_VERSION */
} rcl_registry_header;

typedef struct rcl_registry_slot {
  uint64_t seq;               /* sequence lock: odd while being written */
  uint64_t heap;              /* the heap's address (its id); 0: free slot */
  uint64_t created_ms;        /* when the heap was created */
  uint64_t published_ms;      /* when this slot was last written */
  uint64_t walked_ms;         /* when in_use, free_dirty and floor were computed */
  uint64_t publishes;         /* times the slot was written */
  uint64_t decay_ms, mode, background;  /* options: ms; RCL_MODE_*; 0/1 */
#define RCL_REGISTRY_FIELD(name, metric, type, help) uint64_t name;
  RCL_REGISTRY_FIGURES(RCL_REGISTRY_FIELD)
#undef RCL_REGISTRY_FIELD
} rcl_registry_slot;

#define RCL_REGISTRY_SLOTS \
  ((RCL_REGISTRY_SIZE - sizeof(rcl_registry_header)) / sizeof(rcl_registry_slot))

#endif
