/*
** rcl_registry.c: the per-process heap registry that luajit-memstat reads
** from outside (format and reading rules: rcl_registry.h).
**
** Owns: the one registry mapping of the process (made on first use, never
** unmapped: a reader may hold its address), slot ownership (a heap claims
** a free slot with compare-and-swap and clears it when destroyed) and the
** publishing of a heap's figures into its slot.
**
** Invariants: a slot is written only by its heap's writers, which are
** serialised by the heap lock (the owner and the background thread) or
** are the owner alone while the heap is not locking; seq is odd exactly
** while a write is in progress. A heap without a slot (registry full or
** not mappable) publishes nothing and is counted in heaps_unlisted.
**
** Cost: a cheap publish copies counters the heap keeps anyway (mapped,
** metadata, purges, failures, the host's GC figures); a walked publish
** also computes in_use, free_dirty, free_clean and floor by a heap walk
** (rcl_stats_walk, O(heap)) at GC cycle ends when the last walk is
** RCL_REGISTRY_WALK_MS old, at cycle ends, GC steps and allocation slow
** paths when mapped has moved by more than 1/8 since it (so a heap that grew or shrank fast is
** not shown with old figures while it then goes quiet; that condition
** walks O(log) times per doubling), and on every purge() or full GC.
**
** Layer: observation (with rcl_stats.c): calls the OS-facing libc and
** rcl_stats_walk; called by the background thread and the public API
** (rcl_heap_snapshot is public: reclaim.metrics() formats it).
*/
#include "rcl_internal.h"
#include "rcl_registry.h"

#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef PR_SET_VMA
#define PR_SET_VMA 0x53564d41
#define PR_SET_VMA_ANON_NAME 0
#endif

#define RCL_REGISTRY_WALK_MS 1000   /* least age of a walk before a cycle end walks again */

typedef char rcl_registry_fits[RCL_REGISTRY_SLOTS >= 64 ? 1 : -1];

static rcl_registry_header *rcl_reg;       /* NULL until made, or if it cannot be */
static pthread_once_t rcl_reg_once = PTHREAD_ONCE_INIT;

static rcl_registry_slot *rcl_reg_slots(void)
{
  return (rcl_registry_slot *)(void *)((char *)rcl_reg + sizeof(rcl_registry_header));
}

/* A private mapping of a memory file, so /proc/PID/maps names it on every
** kernel with memfd; else anonymous memory, named where the kernel can. */
static void rcl_reg_make(void)
{
  void *p = MAP_FAILED;
  rcl_registry_header *r;
#ifdef MFD_CLOEXEC
  int fd = memfd_create(RCL_REGISTRY_NAME, MFD_CLOEXEC);
  if (fd >= 0) {
    if (ftruncate(fd, RCL_REGISTRY_SIZE) == 0)
      p = mmap(NULL, RCL_REGISTRY_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
  }
#endif
  if (p == MAP_FAILED) {
    p = mmap(NULL, RCL_REGISTRY_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    (void)prctl(PR_SET_VMA, PR_SET_VMA_ANON_NAME, (unsigned long)p, (unsigned long)RCL_REGISTRY_SIZE,
                (unsigned long)RCL_REGISTRY_NAME);
  }
  r = (rcl_registry_header *)p;
  memset(r, 0, sizeof(*r));
  memcpy(r->magic, RCL_REGISTRY_MAGIC, sizeof(RCL_REGISTRY_MAGIC));
  r->version = RCL_REGISTRY_VERSION;
  r->header_size = (uint32_t)sizeof(rcl_registry_header);
  r->slot_size = (uint32_t)sizeof(rcl_registry_slot);
  r->nslots = (uint32_t)RCL_REGISTRY_SLOTS;
  r->page_size = rcl_os_page_size();
  memcpy(r->lib_version, RCL_VERSION, sizeof(RCL_VERSION) < 16 ? sizeof(RCL_VERSION) : 15);
  __atomic_store_n(&rcl_reg, r, __ATOMIC_RELEASE);
}

/* Claim a free slot for h (h->reg_slot; NULL if none). */
RCL_INTERN void rcl_registry_attach(rcl_heap *h)
{
  rcl_registry_slot *slots;
  unsigned i;
  pthread_once(&rcl_reg_once, rcl_reg_make);
  h->reg_slot = NULL;
  if (!rcl_reg) return;
  __atomic_add_fetch(&rcl_reg->heaps_created, 1, __ATOMIC_RELAXED);
  slots = rcl_reg_slots();
  for (i = 0; i < RCL_REGISTRY_SLOTS; i++) {
    uint64_t free_id = 0;
    if (rcl_load(&slots[i].heap) == 0 &&
        __atomic_compare_exchange_n(&slots[i].heap, &free_id, (uint64_t)(uintptr_t)h, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED)) {
      h->reg_slot = &slots[i];
      h->reg_slot->created_ms = rcl_os_now_ms();
      h->reg_slot->publishes = 0;
      h->reg_walked_ms = 0;
      return;
    }
  }
  __atomic_add_fetch(&rcl_reg->heaps_unlisted, 1, __ATOMIC_RELAXED);
}

/* h is being destroyed: free its slot. */
RCL_INTERN void rcl_registry_detach(rcl_heap *h)
{
  rcl_registry_slot *sl = h->reg_slot;
  if (!rcl_reg) return;
  __atomic_add_fetch(&rcl_reg->heaps_destroyed, 1, __ATOMIC_RELAXED);
  if (!sl) {
    __atomic_sub_fetch(&rcl_reg->heaps_unlisted, 1, __ATOMIC_RELAXED);
    return;
  }
  rcl_store(&sl->seq, sl->seq + 1);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  memset((char *)sl + 2 * sizeof(uint64_t), 0, sizeof(*sl) - 2 * sizeof(uint64_t));
  __atomic_thread_fence(__ATOMIC_RELEASE);
  rcl_store(&sl->seq, sl->seq + 1);
  __atomic_store_n(&sl->heap, (uint64_t)0, __ATOMIC_RELEASE);
  h->reg_slot = NULL;
}

/* Fill sl with h's figures (all but seq and heap); walk: also the figures
** of a heap walk, made by the owner or an outsider (rcl_stats_walk), else
** sl keeps the walked figures it has. The caller holds the heap lock, or is
** the owner of a heap not locking. */
static void rcl_registry_fill(rcl_heap *h, rcl_registry_slot *sl, int walk, int outsider)
{
  uint64_t now = rcl_os_now_ms();
  rcl_stats st;
  if (walk) rcl_stats_walk(h, &st, outsider);
  sl->published_ms = now;
  sl->publishes++;
  sl->decay_ms = h->cfg.decay_ms;
  sl->mode = (uint64_t)h->cfg.mode;
  sl->background = (uint64_t)h->cfg.background;
  sl->mapped = h->mapped;
  sl->metadata = h->metadata;
  sl->segments = h->nsegments;
  sl->large_blocks = h->nlarge;
  sl->purged_bytes = h->purged_total;
  sl->purge_calls = h->purge_calls;
  sl->madvise_failed = h->madvise_failed;
  sl->mmap_failed = h->mmap_failed;
  sl->munmap_failed = h->munmap_failed;
  sl->mremap_failed = h->mremap_failed;
  sl->soft_limit = h->soft_limit;
  sl->gc_total = rcl_load(&h->gc_total);
  sl->gc_estimate = rcl_load(&h->gc_estimate);
  sl->mesh_pages = h->mesh_pages;
  sl->mesh_mappings = h->mesh_mappings;
  sl->mesh_released = h->mesh_released;
  sl->mesh_passes = h->mesh_passes;
  if (walk) {
    sl->walked_ms = now;
    sl->in_use = st.in_use;
    sl->free_dirty = st.free_dirty;
    sl->free_clean = st.free_clean;
    sl->floor = st.floor;
    sl->resident = st.resident;
  }
}

/* Write h's figures into its slot as a sequence-locked update (see
** rcl_registry_fill for walk and outsider and the locking rule). */
RCL_INTERN void rcl_registry_publish(rcl_heap *h, int walk, int outsider)
{
  rcl_registry_slot *sl = h->reg_slot;
  if (!sl) return;
  rcl_store(&sl->seq, sl->seq + 1);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  rcl_registry_fill(h, sl, walk, outsider);
  if (walk) {
    h->reg_walked_ms = sl->walked_ms;
    h->reg_walked_mapped = sl->mapped;
  }
  __atomic_thread_fence(__ATOMIC_RELEASE);
  rcl_store(&sl->seq, sl->seq + 1);
}

/* The owner's view now, walked, in the registry's layout (reclaim.metrics);
** publishes it too. */
RCL_API void rcl_heap_snapshot(rcl_heap *h, rcl_registry_slot *out)
{
  rcl_lock(h);
  memset(out, 0, sizeof(*out));
  out->heap = (uint64_t)(uintptr_t)h;
  if (h->reg_slot) {
    rcl_registry_publish(h, 1, 0);
    *out = *h->reg_slot;
  } else {
    rcl_registry_fill(h, out, 1, 0);
  }
  rcl_unlock(h);
}

/* mapped has moved by more than 1/8 since the last walk (heap lock held:
** the background thread unmaps segments and publishes too). */
static int rcl_registry_moved(const rcl_heap *h)
{
  size_t was = h->reg_walked_mapped, now = h->mapped;
  return (now > was ? now - was : was - now) > was / 8;
}

/* A GC cycle ended: publish, with a walk if the last one is old enough or
** the heap has moved. */
RCL_INTERN void rcl_registry_cycle_end(rcl_heap *h)
{
  if (!h->reg_slot) return;
  rcl_registry_publish(h, h->clock - h->reg_walked_ms >= RCL_REGISTRY_WALK_MS ||
                          rcl_registry_moved(h), 0);
}

/* A GC step starts, or an allocation took a slow path: a heap that moved
** since its last walk is walked and published now, so a burst that ends
** between GC steps or cycles (LuaJIT runs no step while the heap grows up to
** its pause threshold) is not shown with the figures of before it while the
** process is quiet. O(1) when it has not moved (one uncontended lock when
** the heap is locking); the walks are O(log) per doubling. */
RCL_INTERN void rcl_registry_follow(rcl_heap *h)
{
  if (!h->reg_slot) return;
  rcl_lock(h);
  if (rcl_registry_moved(h)) rcl_registry_publish(h, 1, 0);
  rcl_unlock(h);
}
