/*
** rcl_large.c: large blocks and kept mappings.
**
** Owns: blocks above RCL_LARGE_MIN, each in a mapping of its own recorded in
** the heap's open-addressing table (key: block address), and the kept
** mappings (glossary in rcl_internal.h): freed large mappings left mapped
** within decay for a large block of about their size to reuse.
**
** Invariants: every live large block has exactly one table entry whose size
** is its page-rounded mapping size, at least the block's size (more after a
** shrink the OS refused, or for a shrunk large block: glossary); a kept mapping is in no table entry;
** kept mappings are ordered oldest first, at most RCL_KEPT_SLOTS of them
** and RCL_KEPT_MAX_BYTES in all, and none exist while decay is 0. mapped
** and large_bytes count both exactly.
**
** Layer: calls only the OS layer (rcl_os.c). It takes no policy decision:
** before a new mapping that the soft limit wants room for it stops and
** sets h->room_request, and after a failed mapping it sets h->map_failed;
** the public API layer (rcl_api.c) runs the policy and calls again. All
** functions run with the heap lock held when the heap is locking (the
** alloc/free/realloc entry points take it themselves).
*/
#include "rcl_internal.h"

#include <string.h>

/* -- The large-block table ----------------------------------------------------------- */

static size_t rcl_large_slot(const rcl_heap *h, uintptr_t addr)
{
  return (size_t)(((uint64_t)(addr >> 12) * 0x9e3779b97f4a7c15ull) >> 32) & (h->large_cap - 1);
}

static rcl_large *rcl_large_find(rcl_heap *h, uintptr_t addr)
{
  size_t i;
  if (!h->large_cap) return NULL;
  for (i = rcl_large_slot(h, addr); h->large[i].addr; i = (i + 1) & (h->large_cap - 1))
    if (h->large[i].addr == addr) return &h->large[i];
  return NULL;
}

static void rcl_large_put(rcl_heap *h, uintptr_t addr, size_t size)
{
  size_t i = rcl_large_slot(h, addr);
  while (h->large[i].addr) i = (i + 1) & (h->large_cap - 1);
  h->large[i].addr = addr;
  h->large[i].size = size;
  h->large_count++;
}

/* Make room for one more entry (grow at half load). 0 ok, -1 no memory. */
static int rcl_large_reserve(rcl_heap *h)
{
  size_t ncap, nbytes, obytes = h->large_cap * sizeof(rcl_large), i;
  rcl_large *old = h->large, *nt;
  if ((h->large_count + 1) * 2 <= h->large_cap) return 0;
  ncap = h->large_cap ? h->large_cap * 2 : h->os_page_size / sizeof(rcl_large);
  nbytes = ncap * sizeof(rcl_large);
  nt = (rcl_large *)rcl_os_map_plain(nbytes);
  if (!nt) { h->mmap_failed++; return -1; }
  h->large = nt;
  h->large_cap = ncap;
  h->large_count = 0;
  for (i = 0; i < obytes / sizeof(rcl_large); i++)
    if (old[i].addr) rcl_large_put(h, old[i].addr, old[i].size);
  h->mapped += nbytes;
  rcl_mapped_grew(h);
  h->metadata += nbytes;
  if (old) {
    rcl_os_unmap(h, old, obytes);
    h->mapped -= obytes;
    h->metadata -= obytes;
  }
  return 0;
}

/* 0 if entry i is reachable by probing from its home slot. */
RCL_INTERN int rcl_large_check_slot(rcl_heap *h, size_t i)
{
  size_t k = rcl_large_slot(h, h->large[i].addr);
  for (; k != i; k = (k + 1) & (h->large_cap - 1))
    if (!h->large[k].addr) return -1;
  return 0;
}

/* Remove an entry, shifting the following cluster back (no tombstones). */
static void rcl_large_remove(rcl_heap *h, rcl_large *e)
{
  size_t mask = h->large_cap - 1, i = (size_t)(e - h->large), j = i;
  for (;;) {
    size_t k;
    j = (j + 1) & mask;
    if (!h->large[j].addr) break;
    k = rcl_large_slot(h, h->large[j].addr);
    /* Move j to i unless its home slot k lies cyclically in (i, j]. */
    if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) continue;
    h->large[i] = h->large[j];
    i = j;
  }
  h->large[i].addr = 0;
  h->large[i].size = 0;
  h->large_count--;
}

/* -- Kept mappings (glossary) -------------------------------------------------------- */

static void rcl_kept_drop(rcl_heap *h, unsigned i)
{
  h->kept_bytes -= h->kept[i].size;
  h->nkept--;
  memmove(&h->kept[i], &h->kept[i + 1], (h->nkept - i) * sizeof(rcl_kept));
}

/* Unmap a kept mapping's range [p, p+size); on munmap failure drop its
** pages instead (the range leaks, counted in munmap_failed). */
static void rcl_kept_unmap(rcl_heap *h, uintptr_t p, size_t size)
{
  if (rcl_os_unmap(h, (void *)p, size) == 0) h->purged_total += size;
  else rcl_os_purge(h, (void *)p, size);     /* counts what it purges */
  h->mapped -= size;
}

/* Unmap kept mappings, oldest first, that decay d lets go, until at least
** `want` bytes are gone ((size_t)-1: all that qualify). Returns the bytes
** unmapped. */
RCL_INTERN size_t rcl_kept_release(rcl_heap *h, rcl_decay d, size_t want)
{
  size_t released = 0;
  while (h->nkept && released < want && rcl_decayed(d, h->kept[0].freed_at)) {
    size_t size = h->kept[0].size;
    rcl_kept_unmap(h, h->kept[0].addr, size);
    rcl_kept_drop(h, 0);
    released += size;
  }
  return released;
}

/* A large block of `size` bytes needs a new mapping: no kept mapping is as
** big, the program outgrows them all (a table or buffer doubling), so they
** go first and never add to its growth. */
static void rcl_kept_release_below(rcl_heap *h, size_t size)
{
  unsigned i = 0;
  while (i < h->nkept) {
    if (h->kept[i].size < size) {
      rcl_kept_unmap(h, h->kept[i].addr, h->kept[i].size);
      rcl_kept_drop(h, i);
    } else {
      i++;
    }
  }
}

/* Keep the mapping of a freed large block if decay allows; 0 if not kept. */
static int rcl_kept_put(rcl_heap *h, void *p, size_t size)
{
  if (h->cfg.decay_ms == 0 || size > RCL_KEPT_MAX_BYTES) return 0;
  while (h->nkept == RCL_KEPT_SLOTS || h->kept_bytes + size > RCL_KEPT_MAX_BYTES)
    rcl_kept_release(h, rcl_decay_all(), 1);
  h->kept[h->nkept].addr = (uintptr_t)p;
  h->kept[h->nkept].size = size;
  h->kept[h->nkept].freed_at = (uint32_t)h->clock;
  h->nkept++;
  h->kept_bytes += size;
  return 1;
}

/* A kept mapping for a large block of `size` bytes: the smallest of at
** least size; its tail beyond size is unmapped. NULL if none fits (then
** rcl_kept_release_below leaves none: no new large mapping is made while a
** kept one remains). */
static char *rcl_kept_take(rcl_heap *h, size_t size)
{
  unsigned i, best = RCL_KEPT_SLOTS;
  uintptr_t p;
  size_t have;
  for (i = 0; i < h->nkept; i++)
    if (h->kept[i].size >= size && (best == RCL_KEPT_SLOTS || h->kept[i].size < h->kept[best].size))
      best = i;
  if (best == RCL_KEPT_SLOTS) return NULL;
  p = h->kept[best].addr;
  have = h->kept[best].size;
  rcl_kept_drop(h, best);
  h->mapped -= have;              /* re-added as a large block by the caller */
  if (have > size) {
    h->mapped += have - size;     /* rcl_kept_unmap takes it off again */
    rcl_kept_unmap(h, p + size, have - size);
  }
  return (char *)p;
}

/* -- Large blocks ---------------------------------------------------------------------- */

/* A large block of n bytes, or NULL with h->room_request or h->map_failed
** set when the policy may help (rcl_api.c calls again after it acted). */
RCL_INTERN void *rcl_alloc_large(rcl_heap *h, size_t n)
{
  size_t size;
  char *p = NULL;
  int reused = 0;
  if (n > ((size_t)1 << 62)) return NULL;
  size = rcl_align_up(n, h->os_page_size);
  rcl_lock_active(h);
  h->clock = rcl_os_now_ms();
  if (rcl_large_reserve(h) != 0) {
    h->map_failed = 1;
  } else {
    p = rcl_kept_take(h, size);
    if (p) {
      reused = 1;
    } else {
      rcl_kept_release_below(h, size);
      if (rcl_room_needed(h, size)) {
        h->room_request = size;
      } else {
        p = (char *)rcl_os_map(h, size, h->os_page_size);
        if (!p) h->map_failed = 1;
      }
    }
    if (p) {
      rcl_large_put(h, (uintptr_t)p, size);
      h->mapped += size;
      rcl_mapped_grew(h);
      h->large_bytes += size;
      h->nlarge++;
    }
  }
  rcl_unlock(h);
  (void)reused;                   /* for valgrind builds: a kept mapping is not zeroed */
  if (p) RCL_VG_MALLOC(p, n, !reused);
  return p;
}

/* The entry of live large block p of n bytes. Its mapping may be larger
** than n rounded up: a shrink the OS refused keeps the block's mapping. */
static rcl_large *rcl_large_lookup(rcl_heap *h, void *p, size_t n)
{
  rcl_large *e = rcl_large_find(h, (uintptr_t)p);
  if (!e || e->size < rcl_align_up(n, h->os_page_size)) {
    rcl_unlock(h);
    rcl_bad_free(p, n, "not a live large block of this size");
  }
  return e;
}

RCL_INTERN void rcl_free_large(rcl_heap *h, void *p, size_t n)
{
  rcl_large *e;
  size_t size;
  rcl_lock_active(h);
  e = rcl_large_lookup(h, p, n);
  size = e->size;
  rcl_large_remove(h, e);
  h->large_bytes -= size;
  h->nlarge--;
  h->clock = rcl_os_now_ms();
  if (!rcl_kept_put(h, p, size)) {
    h->mapped -= size;
    if (rcl_os_unmap(h, p, size) != 0) {
      /* The address range leaks (counted in munmap_failed); drop its pages. */
      rcl_os_purge(h, p, size);
    }
  }
  rcl_unlock(h);
}

/* Resize a large block (both sizes above RCL_LARGE_MIN); a shrink never
** fails. NULL leaves it as it was, with h->room_request or h->map_failed set as for
** rcl_alloc_large. */
RCL_INTERN void *rcl_realloc_large(rcl_heap *h, void *p, size_t oldn, size_t newn)
{
  rcl_large *e;
  size_t olds, news;
  char *q;
  if (newn > ((size_t)1 << 62)) return NULL;
  news = rcl_align_up(newn, h->os_page_size);
  rcl_lock_active(h);
  e = rcl_large_lookup(h, p, oldn);
  olds = e->size;
  if (olds == news) {
    rcl_unlock(h);
    RCL_VG_RESIZE(p, oldn, newn);
    return p;
  }
  h->clock = rcl_os_now_ms();
  if (news > olds && rcl_room_needed(h, news - olds)) {
    h->room_request = news - olds;
    rcl_unlock(h);
    return NULL;
  }
  q = (char *)rcl_os_remap(h, p, olds, news);
  if (!q && news < olds) {
    /* A shrink must not fail: the block keeps its whole mapping. */
    rcl_unlock(h);
    RCL_VG_RESIZE(p, oldn, newn);
    return p;
  }
  if (!q) {
    h->map_failed = 1;
    rcl_unlock(h);
    return NULL;
  }
  if (q != (char *)p) {
    rcl_large_remove(h, e);
    rcl_large_put(h, (uintptr_t)q, news);
  } else {
    e->size = news;
  }
  h->mapped = h->mapped - olds + news;
  rcl_mapped_grew(h);
  h->large_bytes = h->large_bytes - olds + news;
  rcl_unlock(h);
  if (q == (char *)p) {
    RCL_VG_RESIZE(p, oldn, newn);
  } else {
    RCL_VG_FREE(p);
    RCL_VG_MALLOC(q, newn, 1);
  }
  return q;
}

/* -- Shrunk large blocks (glossary) ------------------------------------------------- */

/* Keep large block p (oldn bytes) for a caller that shrinks it to newn <=
** RCL_LARGE_MIN bytes and got no span block: never fails. The pages past
** newn are unmapped if the OS allows (else they stay, still counted). */
RCL_INTERN void *rcl_large_keep_shrunk(rcl_heap *h, void *p, size_t oldn, size_t newn)
{
  rcl_large *e;
  size_t news = rcl_align_up(newn, h->os_page_size);
  uintptr_t lo, hi;
  rcl_lock_active(h);
  e = rcl_large_lookup(h, p, oldn);
  if (news < e->size && rcl_os_unmap(h, (char *)p + news, e->size - news) == 0) {
    h->mapped -= e->size - news;
    h->large_bytes -= e->size - news;
    h->purged_total += e->size - news;
    e->size = news;
  }
  lo = h->nshrunk ? h->shrunk_lo : (uintptr_t)p;
  hi = h->nshrunk ? h->shrunk_lo + h->shrunk_len : (uintptr_t)p + e->size;
  if ((uintptr_t)p < lo) lo = (uintptr_t)p;
  if ((uintptr_t)p + e->size > hi) hi = (uintptr_t)p + e->size;
  h->shrunk_lo = lo;
  h->shrunk_len = hi - lo;
  h->nshrunk++;
  rcl_unlock(h);
  RCL_VG_RESIZE(p, oldn, newn);
  return p;
}

/* 1 if p (in the shrunk window) is a shrunk large block: a live large block
** reached with a size <= RCL_LARGE_MIN is one on any valid call sequence. */
RCL_INTERN int rcl_large_is_shrunk(rcl_heap *h, const void *p)
{
  int found;
  rcl_lock_active(h);
  found = rcl_large_find(h, (uintptr_t)p) != NULL;
  rcl_unlock(h);
  return found;
}

/* Free shrunk large block p; the window empties with the last one. */
RCL_INTERN void rcl_large_free_shrunk(rcl_heap *h, void *p)
{
  size_t size;
  rcl_lock_active(h);
  size = rcl_large_find(h, (uintptr_t)p)->size;
  h->nshrunk--;
  if (!h->nshrunk) h->shrunk_lo = h->shrunk_len = 0;
  rcl_unlock(h);
  RCL_VG_FREE(p);
  rcl_free_large(h, p, size);
}

/* Unmap every large block and kept mapping and the table (heap destroy). */
RCL_INTERN void rcl_large_destroy(rcl_heap *h)
{
  size_t i;
  for (i = 0; i < h->large_cap; i++)
    if (h->large[i].addr) {
      RCL_VG_FREE((void *)h->large[i].addr);
      rcl_os_unmap(h, (void *)h->large[i].addr, h->large[i].size);
    }
  rcl_kept_release(h, rcl_decay_all(), (size_t)-1);
  if (h->large) rcl_os_unmap(h, h->large, h->large_cap * sizeof(rcl_large));
}
