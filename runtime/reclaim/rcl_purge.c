/*
** rcl_purge.c: the reclaim policy: what free memory goes back to the OS,
** and when.
**
** What is purged (madvise MADV_DONTNEED, or MADV_FREE by mode; mode off =
** never madvise):
**  - free units of a segment (whole units, runs coalesced);
**  - in spans: runs of free blocks taken from the bitmap, the span's slack
**    included, converted to byte ranges rounded INWARD to the OS page, so
**    only OS pages entirely free are touched; in a span with secondary
**    pages, the blocks across their edges read as free (they hold nothing:
**    rcl_mesh_free_crossings), never the secondaries' whole slots;
**  - the tail of a single-block span beyond its block;
**  - fully free segments beyond RCL_RESERVE_SEGMENTS are unmapped, and so
**    are kept mappings (glossary in rcl_internal.h).
** Adjacent ranges are coalesced into one madvise call; pages already clean
** are skipped (nothing is purged twice). A failed madvise is counted and
** its pages stay dirty. Current spans are never examined.
**
** When:
**  - a GC cycle end (rcl_pass_arm) flushes the class caches, sorts the
**    partial lists and arms an incremental pass; each GC step
**    (rcl_pass_step) advances it by step_budget bytes of units examined.
**    Memory freed less than decay_ms ago (by the heap clock) is skipped
**    and stays dirty. A span this pass examined whole and that nothing was
**    freed into since is not examined again (rcl_examined): a small heap
**    collected often would otherwise rescan its idle spans every cycle.
**  - a full GC or purge() (rcl_purge_now) does everything now, ignoring
**    decay.
**  - soft limit (rcl_make_room): before mapping new memory while mapped +
**    request exceeds soft_limit, everything is purged first (then the
**    mapping is made anyway: the limit is soft). To keep this O(1)
**    amortised, the next such purge waits until mapped has grown by
**    max(4 MiB, mapped/16) from where the purge left it; a heap that falls
**    back within its limit or below that level re-arms the check at once.
**  - a failed mapping (rcl_release_free_segments): every fully free
**    segment and kept mapping goes, so the caller can try again.
**
** Layer: above the heap core and the large blocks, whose structures it
** walks and whose memory it purges and unmaps; below the background thread
** and the public API, which call it. It calls nothing above itself.
**
** Defaults (rcl_config.c): decay 1000 ms, so memory that churns within a
** second is not purged and refaulted (each purge of a reused page costs a
** zero-fill fault), while a burst that is over is returned about one GC
** cycle after a second has passed. step_budget 1 MiB: examining one unit
** costs at most 64 bitmap words plus possibly one madvise, so a step stays
** in the microseconds, a small fraction of a LuaJIT GC step.
**
** Every function here runs with the heap lock held (when locking).
*/
#include "rcl_internal.h"

#include <string.h>

/* Collects dirty page ranges of one segment and madvises them coalesced. */
typedef struct rcl_purger {
  rcl_heap *h;
  rcl_segment *seg;
  size_t lo, hi;            /* pending run of pages [lo, hi); empty if lo == hi */
  size_t released;          /* bytes successfully purged */
} rcl_purger;

static void rcl_purger_flush(rcl_purger *pg)
{
  rcl_heap *h = pg->h;
  rcl_segment *seg = pg->seg;
  unsigned shift = h->page_shift;
  size_t lo = pg->lo, hi = pg->hi;
  pg->lo = pg->hi = 0;
  if (lo == hi) return;
  if (rcl_os_purge(h, (char *)seg + (lo << shift), (hi - lo) << shift) != 0) return;
  rcl_clean_set(seg, lo, hi);
  pg->released += (hi - lo) << shift;
  /* Credit the newly clean pages to their spans, unit by unit. */
  {
    size_t ppu_shift = RCL_UNIT_SHIFT - shift, p = lo;
    while (p < hi) {
      size_t u = p >> ppu_shift, uend = (u + 1) << ppu_shift, e = uend < hi ? uend : hi;
      unsigned head = seg->unit_span[u];
      if (head) seg->spans[head].nclean = (uint16_t)(seg->spans[head].nclean + (e - p));
      p = e;
    }
  }
}

/* Add the dirty pages of page range [first, end) to the pending run; a
** clean page ends it. Runs of clean and of dirty pages are taken a bitmap
** word at a time: a free unit examined again by every pass is mostly clean. */
static void rcl_purger_add_pages(rcl_purger *pg, size_t first, size_t end)
{
  size_t p = first;
  while (p < end) {
    uint64_t clean = rcl_load(&pg->seg->clean[p >> 6]) >> (p & 63);
    size_t room = 64 - (p & 63), n, q;
    if (clean & 1) {
      /* Bits shifted in above the word read as dirty in ~clean: n <= room. */
      n = ~clean ? (size_t)rcl_ctz64(~clean) : room;
      if (pg->lo != pg->hi) rcl_purger_flush(pg);
      p += n;
      continue;
    }
    n = clean ? (size_t)rcl_ctz64(clean) : room;
    q = p + n < end ? p + n : end;
    if (pg->lo != pg->hi && pg->hi == p) {
      pg->hi = q;
    } else {
      if (pg->lo != pg->hi) rcl_purger_flush(pg);
      pg->lo = p;
      pg->hi = q;
    }
    p = q;
  }
}

/* Add the OS pages lying entirely inside the free byte range [lo, hi). */
static void rcl_purger_add_bytes(rcl_purger *pg, const char *lo, const char *hi)
{
  size_t off_lo = (size_t)(lo - (char *)pg->seg), off_hi = (size_t)(hi - (char *)pg->seg);
  size_t first = rcl_align_up(off_lo, pg->h->page_size) >> pg->h->page_shift;
  size_t end = off_hi >> pg->h->page_shift;
  if (first < end) rcl_purger_add_pages(pg, first, end);
}

static void rcl_purge_span(rcl_purger *pg, rcl_span *s)
{
  char *end = rcl_span_end(s);
  size_t size = s->block_size, nfree = rcl_load(&s->nfree);
  uint32_t nb = s->group_blocks, g, i, j;
  const uint64_t *bits = rcl_span_bits(s);
  uint64_t view[RCL_SPAN_WORDS];
  if (s->cls == RCL_CLASS_MEDIUM) {
    if (rcl_load(&bits[0]) & 1) rcl_purger_add_bytes(pg, s->base, end);
    else rcl_purger_add_bytes(pg, s->base + size, end);
    return;
  }
  if (s->state == RCL_SPAN_MESHED) {
    /* The blocks across its secondary pages' edges hold nothing. */
    uint32_t w, nw = rcl_span_nwords(s);
    for (w = 0; w < nw; w++) view[w] = rcl_load(&bits[w]);
    nfree += rcl_mesh_free_crossings(pg->h, s, view);
    bits = view;
  }
  /* No run of free blocks (slack included) can cover an OS page: skip. */
  if ((nfree + 1) * size + (s->pool_slot ? s->bits_bytes : 0) < pg->h->page_size) return;
  /* Group by group; a group's unused tail (slack) is free. Runs start at
  ** block 0 or later, after an in-span bitmap: rounding inward keeps the
  ** bitmap's page out of every purge range (a pooled bitmap is not there). */
  for (g = 0; g < s->ngroups; g++) {
    uint32_t from = g << s->group_bits_log2;
    char *base = rcl_group_base(s, g);
    char *gend = s->ngroups == 1 ? end : base + ((size_t)1 << s->group_shift);
    int last_free = 0;
    for (i = rcl_bits_next(bits, from, 0, nb, 0); i < nb; i = rcl_bits_next(bits, from, j, nb, 0)) {
      /* A run from block 0 of a span whose bitmap is in the header pool
      ** also covers the unused bytes before block 0. */
      char *lo = g == 0 && i == 0 && s->pool_slot ? rcl_span_start(s) : base + (size_t)i * size;
      j = rcl_bits_next(bits, from, i, nb, 1);
      last_free = j == nb;
      rcl_purger_add_bytes(pg, lo, last_free ? gend : base + (size_t)j * size);
    }
    if (!last_free && base + (size_t)nb * size < gend)
      rcl_purger_add_bytes(pg, base + (size_t)nb * size, gend);
  }
}

/* Decay d lets every unit of a fully free segment go. */
static int rcl_segment_decayed(const rcl_segment *seg, rcl_decay d)
{
  unsigned u;
  for (u = 1; u < RCL_SEGMENT_UNITS; u++) if (!rcl_decayed(d, seg->unit_stamp[u])) return 0;
  return 1;
}

/* Unmap a fully free segment beyond the reserve whose units decay d lets
** go. Returns 1 if it is gone (*released += its dirty bytes), 0 if it
** stays mapped. */
static int rcl_segment_try_unmap(rcl_heap *h, rcl_segment *seg, rcl_decay d, size_t *released)
{
  size_t pages = RCL_SEGMENT_SIZE >> h->page_shift, dirty;
  if (seg->free_units != RCL_ALL_UNITS || h->nfree_segments <= RCL_RESERVE_SEGMENTS) return 0;
  if (!rcl_segment_decayed(seg, d)) return 0;
  dirty = (pages - rcl_clean_count(seg, 0, pages)) << h->page_shift;
  if (rcl_segment_unmap(h, seg) != 0) return 0;
  h->purged_total += dirty;
  *released += dirty;
  return 1;
}

/*
** Whether the GC-step pass may skip span s (first unit u), last freed at
** f: it examined s whole when s's last free was the same one. Since then
** s has not been current (that changes the record) and nothing was freed
** in it, and nothing else makes a page of a span that is not current free:
** the owner allocates from current spans only, and meshing frees blocks
** with a stamp (rcl_mesh_core.c's reconciliation) or, where an unmesh frees
** the slots of a secondary's page, marks the span unexamined. Every page the
** pass could purge then was purged (or its madvise failed and was
** counted). A record is kept only for f older than d.now: later frees
** stamp a heap clock of at least d.now, so a free changes freed_at,
** barring a wrap of the 32-bit stamp onto the recorded value (2^32
** milliseconds later, to the millisecond); a full GC, purge() and the
** background pass examine every span whatever the record says.
*/
static int rcl_examined(const rcl_segment *seg, unsigned u, uint32_t f)
{
  return seg->unit_stamp[u] == f;
}

static void rcl_examined_set(rcl_segment *seg, unsigned u, uint32_t f, rcl_decay d)
{
  if (f != d.now) seg->unit_stamp[u] = f;
}

/*
** Purge units [*unit, ...) of seg whose memory decay d lets go, examining
** at most *budget bytes of units. Updates *unit (64 when the segment is
** done) and *budget. Returns bytes released. With `remember` (the owner's
** GC-step pass), spans examined before and not freed into since are
** skipped (rcl_examined).
*/
static size_t rcl_purge_units(rcl_heap *h, rcl_segment *seg, unsigned *unit, size_t *budget,
                              rcl_decay d, int remember)
{
  rcl_purger pg;
  unsigned u = *unit;
  pg.h = h; pg.seg = seg; pg.lo = pg.hi = 0; pg.released = 0;
  while (u < RCL_SEGMENT_UNITS && *budget > 0) {
    unsigned head = seg->unit_span[u], k = 1;
    if (head == 0) {
      if (rcl_decayed(d, seg->unit_stamp[u]))
        rcl_purger_add_pages(&pg, (size_t)u << (RCL_UNIT_SHIFT - h->page_shift),
                             (size_t)(u + 1) << (RCL_UNIT_SHIFT - h->page_shift));
    } else {
      rcl_span *s = &seg->spans[head];
      /* A cursor kept between GC steps may point inside a span made since
      ** (its head is below u): that span was passed over; go on unit by
      ** unit to the next head. */
      if (head != u) k = 1;
      else {
        uint32_t f = rcl_load(&s->freed_at);
        k = s->units;
        if (s->state != RCL_SPAN_CURRENT && rcl_decayed(d, f) && !(remember && rcl_examined(seg, u, f))) {
          rcl_purge_span(&pg, s);
          h->spans_examined++;
          if (remember) rcl_examined_set(seg, u, f, d);
        }
      }
    }
    u += k;
    *budget = *budget > ((size_t)k << RCL_UNIT_SHIFT) ? *budget - ((size_t)k << RCL_UNIT_SHIFT) : 0;
  }
  rcl_purger_flush(&pg);
  *unit = u;
  return pg.released;
}

/*
** Advance a pass cursor (a heap field: pass_seg/pass_unit, slice_seg/
** slice_unit or bg_seg/bg_unit, kept valid by rcl_segment_unmap) by about
** `budget` bytes of units. Adds the bytes released to *released if not
** NULL. Returns 1 when the pass has reached the end of the segment list.
** `remember` is set by the owner's GC-step pass only: it skips spans it
** examined before and that nothing was freed into since (rcl_examined).
*/
RCL_INTERN int rcl_pass_advance(rcl_heap *h, rcl_segment **cursor, unsigned *unit,
                                size_t budget, rcl_decay d, int remember, size_t *released_out)
{
  size_t released = 0;
  int done;
  while (budget > 0 && *cursor) {
    rcl_segment *seg = *cursor;
    if (*unit <= 1) {
      size_t before = released, cost;
      *unit = 1;
      if (rcl_segment_try_unmap(h, seg, d, &released)) {
        /* Unmapping costs about what purging its dirty pages would. */
        cost = released - before > RCL_UNIT_SIZE ? released - before : RCL_UNIT_SIZE;
        budget = budget > cost ? budget - cost : 0;
        continue;                      /* *cursor moved to the next segment */
      }
    }
    if (h->cfg.mode != RCL_MODE_OFF) released += rcl_purge_units(h, seg, unit, &budget, d, remember);
    else *unit = RCL_SEGMENT_UNITS;
    if (*unit >= RCL_SEGMENT_UNITS) {
      *cursor = seg->next;
      *unit = 1;
    }
  }
  done = *cursor == NULL;
  if (done) released += rcl_kept_release(h, d, (size_t)-1);
  if (released_out) *released_out += released;
  return done;
}

/* Memory freed at or before the returned heap-clock value is old enough. */
RCL_INTERN rcl_decay rcl_decay_at(const rcl_heap *h, uint64_t now)
{
  return rcl_decay_of(now, h->cfg.decay_ms);
}

/* Purge everything free now, ignoring decay; unmaps free segments beyond
** the reserve. Current spans are skipped (rcl_purge flushes them first). */
RCL_INTERN size_t rcl_purge_all_locked(rcl_heap *h)
{
  rcl_segment *seg = h->seg_first;
  size_t released = rcl_kept_release(h, rcl_decay_all(), (size_t)-1);
  while (seg) {
    rcl_segment *next = seg->next;
    if (!rcl_segment_try_unmap(h, seg, rcl_decay_all(), &released) && h->cfg.mode != RCL_MODE_OFF) {
      /* Still mapped (in use, the reserve, or munmap failed): purge it. */
      unsigned u = 1;
      size_t budget = (size_t)-1;
      released += rcl_purge_units(h, seg, &u, &budget, rcl_decay_all(), 0);
    }
    seg = next;
  }
  return released;
}

/* A mapping failed (address space or memory exhausted): unmap every fully
** free segment, the reserve included, whatever its age, so the caller can
** retry. LuaJIT allocates during a full GC (the string table shrinks by
** allocating a new one while swept segments are still mapped), so this is
** what keeps an out-of-memory error recoverable. Kept mappings go too.
** Returns the segments unmapped, plus 1 if kept mappings were unmapped. */
RCL_INTERN size_t rcl_release_free_segments(rcl_heap *h)
{
  rcl_segment *seg = h->seg_first;
  size_t n = rcl_kept_release(h, rcl_decay_all(), (size_t)-1) ? 1 : 0;
  while (seg) {
    rcl_segment *next = seg->next;
    if (seg->free_units == RCL_ALL_UNITS) {
      size_t pages = RCL_SEGMENT_SIZE >> h->page_shift;
      size_t dirty = (pages - rcl_clean_count(seg, 0, pages)) << h->page_shift;
      if (rcl_segment_unmap(h, seg) == 0) { h->purged_total += dirty; n++; }
    }
    seg = next;
  }
  return n;
}

/* The soft limit: a layer below found rcl_room_needed(h, request) true
** before mapping `request` bytes (the thresholds soft_next and soft_base
** are this policy's data, read there). Purge everything, then let the
** heap grow by max(4 MiB, mapped/16) from where the purge left it before
** the next such purge; a heap that falls back within its limit or below
** that level re-arms at once (rcl_room_needed). */
RCL_INTERN void rcl_make_room(rcl_heap *h, size_t request)
{
  size_t grow;
  if (!rcl_room_needed(h, request)) return;
  rcl_purge_all_locked(h);
  grow = h->mapped / 16 > RCL_SEGMENT_SIZE ? h->mapped / 16 : RCL_SEGMENT_SIZE;
  h->soft_base = h->mapped;
  h->soft_next = h->mapped + request + grow;
}

/* The configuration changed (or the heap is new): the soft limit in force
** is cfg.soft_limit, "auto" resolved against the cgroup limit now, and its
** hysteresis starts afresh. */
RCL_INTERN void rcl_soft_limit_reset(rcl_heap *h)
{
  if (h->cfg.soft_limit == RCL_SOFT_LIMIT_AUTO)
    h->soft_limit = (size_t)(rcl_os_cgroup_limit() / 100 * RCL_SOFT_LIMIT_AUTO_PERCENT);
  else
    h->soft_limit = h->cfg.soft_limit;
  h->soft_next = 0;
  h->soft_base = 0;
}

/* -- Passes and purges, for the public API layer (heap lock held) ---------------------- */

/* A GC cycle ended: flush the class caches, sort the partial lists and arm
** (or keep going) the incremental decay-aware pass. */
RCL_INTERN void rcl_pass_arm(rcl_heap *h)
{
  rcl_flush_caches(h);
  rcl_mesh_reconcile(h);
  rcl_sort_partials(h);
  rcl_mesher_arm(h);
  if (!h->pass_armed || !h->pass_seg) {
    h->pass_seg = h->seg_first;
    h->pass_unit = 1;
  }
  h->pass_armed = h->pass_seg != NULL;
}

/* One GC step's share of the armed pass: step_budget bytes of units. */
RCL_INTERN void rcl_pass_step(rcl_heap *h)
{
  size_t budget = h->cfg.step_budget > RCL_UNIT_SIZE ? h->cfg.step_budget : RCL_UNIT_SIZE;
  if (rcl_pass_advance(h, &h->pass_seg, &h->pass_unit, budget, rcl_decay_at(h, h->clock), 1, NULL))
    h->pass_armed = 0;
}

/* Purge everything free now (full GC, purge()); disarms the pass. */
RCL_INTERN size_t rcl_purge_now(rcl_heap *h)
{
  size_t released;
  rcl_flush_caches(h);
  rcl_mesh_reconcile(h);
  rcl_sort_partials(h);
  rcl_mesher_full(h);
  released = rcl_purge_all_locked(h);
  h->pass_armed = 0;
  h->pass_seg = NULL;
  return released;
}

/* One slice of a full purge that ignores decay, for a host's idle moment
** (luaJIT_reclaim_idle): examines about `budget` bytes of units from where
** the last slice stopped, or from the start (after flushing the class
** caches and sorting the partial lists, as rcl_purge_now) when `restart`
** is set or no slice pass is armed. Adds the bytes released to *released.
** Returns 1 when the pass has reached the end: everything that was free
** when a unit was examined has been purged, as rcl_purge_now would. Frees
** and allocations between slices are safe: the pass reads the bitmaps at
** the time it examines a unit, like the GC-driven pass. */
RCL_INTERN int rcl_purge_slice(rcl_heap *h, size_t budget, int restart, size_t *released)
{
  if (restart || !h->slice_armed) {
    rcl_flush_caches(h);
    rcl_sort_partials(h);
    h->slice_seg = h->seg_first;
    h->slice_unit = 1;
    h->slice_armed = 1;
  }
  if (budget < RCL_UNIT_SIZE) budget = RCL_UNIT_SIZE;
  if (!rcl_pass_advance(h, &h->slice_seg, &h->slice_unit, budget, rcl_decay_all(), 0, released))
    return 0;
  h->slice_armed = 0;
  return 1;
}

#ifdef RCL_TEST_HOOKS
RCL_API uint64_t rcl_test_spans_examined(rcl_heap *h)
{
  uint64_t n;
  rcl_lock(h);
  n = h->spans_examined;
  rcl_unlock(h);
  return n;
}
#endif
