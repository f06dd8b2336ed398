/*
** rcl_stats.c: statistics (a walk of the heap) and, in test builds
** (RCL_TEST_HOOKS), the invariant checker rcl_test_check.
**
** Stats identities (rcl_internal.h): mapped = metadata + in_use + free_dirty
** + free_clean and resident = metadata + in_use + free_dirty. in_use is
** computed from the span bitmaps (blocks in the owner's cached words are
** free), free_clean from the clean-page bitmaps, mapped and metadata from
** counters; rcl_test_check() proves the pieces agree (counters match the
** walk, no clean page under a live block or a header, per-span counts match
** their bitmaps), so the identities are not true merely by definition.
** Both run with the heap lock (when locking) and are O(heap).
**
** Layer: observation, above the reclaim policy and below the background
** thread and the public API; reads the structures of the heap core, the
** large blocks and the policy's counters, changes nothing.
*/
#include "rcl_internal.h"

#include <stdio.h>
#include <string.h>

/* The span's free bitmap as the owner sees it: bits cached in either lane are free.
** Another thread (outsider) cannot read the owner's cache, which changes
** without a lock: to it the cached blocks look live. */
static void rcl_span_free_view(rcl_heap *h, rcl_span *s, uint64_t *bits, int outsider)
{
  unsigned w, nw = rcl_span_nwords(s);
  for (w = 0; w < RCL_SPAN_WORDS; w++) bits[w] = w < nw ? rcl_load(&rcl_span_bits(s)[w]) : 0;
  if (!outsider && s->state == RCL_SPAN_CURRENT && s->cls < RCL_NCLASSES && h->cache[s->cls].span == s) {
    const rcl_cache *c = &h->cache[s->cls];
    unsigned lane;
    for (lane = 0; lane < RCL_LANES; lane++) {
      uint32_t ci = c->word_index[lane];
      if (c->held[lane].word) bits[rcl_chunk_word(s, ci)] |= c->held[lane].word << rcl_chunk_shift(s, ci);
    }
    int r = rcl_run_of_class(s->cls);
    if (r >= 0 && h->run[r].cur != h->run[r].end) {   /* the mixed or wide run is free too */
      unsigned sh = rcl_run_cell_log2((unsigned)r);
      rcl_bits_range(bits, (uint32_t)((size_t)(h->run[r].cur - s->base) >> sh),
                     (uint32_t)((size_t)(h->run[r].end - h->run[r].cur) >> sh), 1);
    }
  }
}

/* Calls fn for every maximal run [i, j) of live blocks of span s. */
typedef struct rcl_live_walk {
  size_t pages_seen_end;    /* floor: first page not yet counted */
  size_t floor_pages;
  size_t in_use;
  const char *error;        /* first overlap of a live block and a clean page */
  int outsider;             /* the walker is not the owner (rcl_span_free_view) */
} rcl_live_walk;

static void rcl_live_range(rcl_heap *h, rcl_segment *seg, const char *lo, const char *hi,
                           rcl_live_walk *lw)
{
  size_t first = (size_t)(lo - (char *)seg) >> h->page_shift;
  size_t end = ((size_t)(hi - (char *)seg) + h->page_size - 1) >> h->page_shift;
  if (first < lw->pages_seen_end) first = lw->pages_seen_end;
  if (first < end) {
    lw->floor_pages += end - first;
    lw->pages_seen_end = end;
    if (!lw->error && rcl_clean_count(seg, first, end)) lw->error = "a clean page holds a live block";
  }
}

static void rcl_span_walk_live(rcl_heap *h, rcl_segment *seg, rcl_span *s, rcl_live_walk *lw)
{
  uint64_t bits[RCL_SPAN_WORDS];
  uint32_t nb = s->group_blocks, g;
  if (s->cls == RCL_CLASS_MEDIUM) {
    if (!(rcl_load(&rcl_span_bits(s)[0]) & 1)) {
      lw->in_use += s->block_size;
      rcl_live_range(h, seg, s->base, s->base + s->block_size, lw);
    }
    return;
  }
  rcl_span_free_view(h, s, bits, lw->outsider);
  rcl_mesh_mask_span(h, s, bits);         /* secondary pages: counted in their primaries */
  for (g = 0; g < s->ngroups; g++) {
    uint32_t from = g << s->group_bits_log2, i = 0;
    char *base = rcl_group_base(s, g);
    while ((i = rcl_bits_next(bits, from, i, nb, 1)) < nb) {
      uint32_t j = rcl_bits_next(bits, from, i, nb, 0);
      lw->in_use += (size_t)(j - i) * s->block_size;
      rcl_live_range(h, seg, base + (size_t)i * s->block_size, base + (size_t)j * s->block_size, lw);
      i = j;
    }
  }
}

/* The stats of h by a walk of the heap; the caller holds the heap lock (or
** is the owner of a heap that is not locking). An outsider (the background
** thread) counts the blocks in the owner's class caches as live. */
RCL_INTERN void rcl_stats_walk(rcl_heap *h, rcl_stats *st, int outsider)
{
  rcl_segment *seg;
  size_t pages = RCL_SEGMENT_SIZE >> h->page_shift, free_clean = 0, free_dirty = 0, in_use, floor;
  memset(st, 0, sizeof(*st));
  in_use = h->large_bytes;
  floor = h->large_bytes;
  for (seg = h->seg_first; seg; seg = seg->next) {
    rcl_live_walk lw;
    size_t clean = rcl_clean_count(seg, 0, pages) << h->page_shift, hdr, bitmaps = 0;
    unsigned u;
    memset(&lw, 0, sizeof(lw));
    lw.outsider = outsider;
    for (u = 1; u < RCL_SEGMENT_UNITS; u++)
      if (seg->unit_span[u] == u) {
        rcl_span_walk_live(h, seg, &seg->spans[u], &lw);
        bitmaps += rcl_span_bitmap_bytes(&seg->spans[u]);
      }
    hdr = (size_t)seg->hdr_pages << h->page_shift;
    free_clean += clean;
    free_dirty += RCL_SEGMENT_SIZE - hdr - bitmaps - lw.in_use - clean;
    in_use += lw.in_use;
    floor += lw.floor_pages << h->page_shift;
  }
  st->page_size = h->os_page_size;
  st->mapped = h->mapped;
  st->peak_mapped = h->peak_mapped;
  st->metadata = h->metadata;
  st->in_use = in_use;
  free_dirty += h->kept_bytes;
  st->free_dirty = free_dirty;
  st->free_clean = free_clean;
  st->resident = h->metadata + in_use + free_dirty;
  st->floor = floor;
  st->segments = h->nsegments;
  st->spans = h->nspans;
  st->large_blocks = h->nlarge;
  st->purged_total = h->purged_total;
  st->purge_calls = h->purge_calls;
  st->madvise_failed = h->madvise_failed;
  st->mmap_failed = h->mmap_failed;
  st->munmap_failed = h->munmap_failed;
  st->mremap_failed = h->mremap_failed;
  st->high_mappings_rejected = h->high_rejected;
  st->mesh_pages = h->mesh_pages;
  st->mesh_mappings = h->mesh_mappings;
  st->mesh_released = h->mesh_released;
  st->mesh_passes = h->mesh_passes;
  st->mesh_max_pause_ns = h->mesh_max_pause_ns;
  st->fragmentation = st->resident ? 1.0 - (double)in_use / (double)st->resident : 0.0;
}

RCL_API void rcl_stats_get(rcl_heap *h, rcl_stats *st)
{
  rcl_lock(h);
  rcl_stats_walk(h, st, 0);
  rcl_unlock(h);
}

/* -- Invariant checker (rcl_test.h; test builds only) ------------------------------ */

#ifdef RCL_TEST_HOOKS
RCL_API size_t rcl_test_block_size(const void *p, size_t n)
{
  rcl_segment *seg;
  rcl_span *s;
  if (n > RCL_LARGE_MIN) return rcl_usable_size(n);
  seg = rcl_segment_of(p);
  s = rcl_span_at(seg, p);
  if (rcl_run_block(s, p, n))    /* a block of a mixed or wide run: whole cells */
    return rcl_align_up(n, (size_t)1 << rcl_run_cell_log2((unsigned)rcl_run_of_class(s->cls)));
  return s->block_size;
}
#endif

#ifdef RCL_TEST_HOOKS

static int rcl_check_span(rcl_heap *h, rcl_segment *seg, unsigned u, char *err, size_t errlen)
{
  rcl_span *s = &seg->spans[u];
  char *start = (char *)seg + ((size_t)u << RCL_UNIT_SHIFT);
  size_t first = ((size_t)u << RCL_UNIT_SHIFT) >> h->page_shift;
  size_t end = ((size_t)(u + s->units) << RCL_UNIT_SHIFT) >> h->page_shift;
  uint32_t nfree = 0, w, nw = rcl_span_nwords(s);
  unsigned pool_n = rcl_span_pool_n(s);
  uint32_t words = s->pool_slot ? (uint32_t)pool_n * RCL_POOL_SLOT_WORDS :
                   s->bits_bytes ? s->bits_bytes / 8 : RCL_INLINE_WORDS;
  if (s->state == RCL_SPAN_NONE || s->units == 0 || u + s->units > RCL_SEGMENT_UNITS)
    return rcl_errorf(err, errlen, "span at unit %u: bad state %d / units %d", u, s->state, s->units);
  if (rcl_span_start(s) != start)
    return rcl_errorf(err, errlen, "span at unit %u: wrong base", u);
  if (s->pool_slot && (pool_n == 0 || pool_n > RCL_POOL_MAX_RUN ||
                       s->pool_slot - 1u + pool_n > RCL_POOL_SLOTS || nw <= RCL_INLINE_WORDS ||
                       rcl_pool_offset(s->pool_slot - 1u + pool_n) >
                       ((size_t)seg->hdr_pages << h->page_shift)))
    return rcl_errorf(err, errlen, "span at unit %u: pool slot %u (%u)", u, s->pool_slot, pool_n);
  if (rcl_span_bits(s) != (s->pool_slot ? rcl_pool_slot(seg, s->pool_slot - 1u) :
                  s->bits_bytes ? (uint64_t *)(void *)start : s->inline_bits) || nw > words)
    return rcl_errorf(err, errlen, "span at unit %u: bitmap placement", u);
  if (rcl_span_bitmap_bytes(s) && rcl_clean_count(seg, first, first + ((s->bits_bytes - 1) >> h->page_shift) + 1))
    return rcl_errorf(err, errlen, "span at unit %u: its bitmap is on a clean page", u);
  if (s->nclean != rcl_clean_count(seg, first, end))
    return rcl_errorf(err, errlen, "span at unit %u: nclean %u != %zu", u, s->nclean,
                    rcl_clean_count(seg, first, end));
  if (s->ngroups == 0 || (s->group_bits_log2 < 6 && s->ngroups == 1) || s->group_bits_log2 > s->group_shift ||
      (s->group_bits_log2 < 6 && (1u << s->group_bits_log2) < s->group_blocks) ||
      s->nbits != (uint32_t)s->ngroups << s->group_bits_log2 || (size_t)s->group_blocks * s->ngroups != s->nblocks ||
      (s->group_bits_log2 >= 6 && (rcl_span_group_words(s) > (1u << (s->group_bits_log2 - 6)) ||
                           (1u << (s->group_bits_log2 - 6)) >= 2 * rcl_span_group_words(s))) ||
      (s->ngroups > 1 && ((size_t)s->ngroups << s->group_shift) != ((size_t)s->units << RCL_UNIT_SHIFT)) ||
      (size_t)s->group_blocks * s->block_size > (s->ngroups > 1 ? (size_t)1 << s->group_shift :
                                            ((size_t)s->units << RCL_UNIT_SHIFT) - s->bits_bytes))
    return rcl_errorf(err, errlen, "span at unit %u: bad group layout", u);
  for (w = 0; w < words; w++) {
    uint64_t v = rcl_span_bits(s)[w], valid = w < nw ? rcl_word_valid(s, w) : 0;
    if (v & ~valid) return rcl_errorf(err, errlen, "span at unit %u: free bit beyond nblocks", u);
    nfree += rcl_popcount64(v);
  }
  if (nfree != s->nfree) return rcl_errorf(err, errlen, "span at unit %u: nfree %u != %u bits", u, s->nfree, nfree);
  if (s->cls == RCL_CLASS_MEDIUM) {
    if (s->state != RCL_SPAN_MEDIUM || s->nblocks != 1 || nfree != 0 ||
        s->block_size > ((size_t)s->units << RCL_UNIT_SHIFT) ||
        (size_t)s->block_size <= ((size_t)(s->units - 1) << RCL_UNIT_SHIFT))
      return rcl_errorf(err, errlen, "medium span at unit %u: inconsistent", u);
    return 0;
  }
  if (s->cls >= RCL_NCLASSES || s->block_size != h->cache[s->cls].size ||
      s->nblocks != h->cache[s->cls].nblocks || s->units != h->cache[s->cls].units ||
      s->bits_bytes != h->cache[s->cls].bits_bytes || s->group_shift != h->cache[s->cls].group_shift ||
      s->group_bits_log2 != h->cache[s->cls].group_bits_log2 || s->ngroups != h->cache[s->cls].ngroups ||
      s->group_blocks != h->cache[s->cls].group_blocks)
    return rcl_errorf(err, errlen, "span at unit %u: layout does not match class %u", u, s->cls);
  if (s->state != RCL_SPAN_MESHED && rcl_mesh_span_meshed(h, s))
    return rcl_errorf(err, errlen, "span at unit %u: a secondary page in a span in state %d", u, s->state);
  switch (s->state) {
  case RCL_SPAN_CURRENT: {
    rcl_cache *c = &h->cache[s->cls];
    unsigned lane;
    if (c->span != s) return rcl_errorf(err, errlen, "span at unit %u: CURRENT but not cached", u);
    for (lane = 0; lane < RCL_LANES; lane++) {
      uint32_t ci = c->word_index[lane];
      uint64_t w = c->held[lane].word;
      if (!w) continue;
      if (ci >= rcl_span_nchunks(s) || (w & ~rcl_chunk_valid(s, ci)) ||
          ((w << rcl_chunk_shift(s, ci)) & rcl_span_bits(s)[rcl_chunk_word(s, ci)]))
        return rcl_errorf(err, errlen, "span at unit %u: cached bits also in bitmap", u);
      if (c->held[lane].base != rcl_chunk_base(s, ci))
        return rcl_errorf(err, errlen, "span at unit %u: cached chunk base", u);
    }
    if (c->held[0].word && c->held[1].word && c->word_index[0] == c->word_index[1] &&
        (c->held[0].word & c->held[1].word))
      return rcl_errorf(err, errlen, "span at unit %u: a block cached in both lanes", u);
    break;
  }
  case RCL_SPAN_PARTIAL:
    if (nfree == 0 || nfree >= s->nblocks)
      return rcl_errorf(err, errlen, "span at unit %u: PARTIAL with %u free", u, nfree);
    break;
  case RCL_SPAN_FULL:
    if (nfree != 0) return rcl_errorf(err, errlen, "span at unit %u: FULL with %u free", u, nfree);
    break;
  case RCL_SPAN_MESHED:
    if (!rcl_mesh_span_meshed(h, s)) return rcl_errorf(err, errlen, "span at unit %u: MESHED without a secondary page", u);
    break;
  default:
    return rcl_errorf(err, errlen, "span at unit %u: small span in state %d", u, s->state);
  }
  return 0;
}

static int rcl_check_segment(rcl_heap *h, rcl_segment *seg, size_t *nspans, size_t *npartial,
                             size_t *bitmaps, char *err, size_t errlen)
{
  size_t hdr_pages = seg->hdr_pages, hdr_max = rcl_align_up(RCL_HEADER_BYTES, h->page_size) >> h->page_shift;
  rcl_live_walk lw;
  unsigned u;
  if (seg->heap != h) return rcl_errorf(err, errlen, "segment %p: wrong heap", (void *)seg);
  if (seg->free_units & 1) return rcl_errorf(err, errlen, "segment %p: unit 0 free", (void *)seg);
  if (seg->spans[0].nblocks != 0) return rcl_errorf(err, errlen, "segment %p: poison span", (void *)seg);
  if (hdr_pages < (rcl_align_up(RCL_POOL_START, h->page_size) >> h->page_shift) || hdr_pages > hdr_max ||
      rcl_clean_count(seg, 0, hdr_pages) || rcl_clean_count(seg, hdr_pages, hdr_max) != hdr_max - hdr_pages)
    return rcl_errorf(err, errlen, "segment %p: header pages (%zu touched) not dirty/clean as counted",
                    (void *)seg, hdr_pages);
  {
    /* Every pool slot is held by exactly one span or free; pool_covered
    ** adds up the spans holding slots; free slots >= uncovered units (the
    ** page-fit guarantee, glossary "pool"). */
    uint64_t held[RCL_POOL_SLOTS / 64];
    unsigned i, covered = 0;
    memset(held, 0, sizeof(held));
    for (u = 1; u < RCL_SEGMENT_UNITS; u++)
      if (seg->unit_span[u] == u && seg->spans[u].pool_slot) {
        unsigned n = rcl_span_pool_n(&seg->spans[u]), k = seg->spans[u].units;
        covered += k < n ? k : n;
        for (i = 0; i < n; i++) {
          unsigned slot = seg->spans[u].pool_slot - 1u + i;
          uint64_t bit = (uint64_t)1 << (slot & 63);
          if (slot >= RCL_POOL_SLOTS || (held[slot >> 6] & bit))
            return rcl_errorf(err, errlen, "segment %p: pool slot %u shared", (void *)seg, slot);
          held[slot >> 6] |= bit;
        }
      }
    if (covered != seg->pool_covered)
      return rcl_errorf(err, errlen, "segment %p: pool covers %u units, counted %u", (void *)seg,
                      covered, (unsigned)seg->pool_covered);
    for (i = 0; i < RCL_POOL_SLOTS / 64; i++)
      if (~(held[i] ^ seg->pool_free[i]))
        return rcl_errorf(err, errlen, "segment %p: pool slots held %llx free %llx (word %u)", (void *)seg,
                        (unsigned long long)held[i], (unsigned long long)seg->pool_free[i], i);
    if (rcl_pool_nfree(seg) < RCL_SEGMENT_UNITS - 1u - covered)
      return rcl_errorf(err, errlen, "segment %p: %u free pool slots for %u uncovered units", (void *)seg,
                      rcl_pool_nfree(seg), RCL_SEGMENT_UNITS - 1u - covered);
  }
  memset(&lw, 0, sizeof(lw));
  for (u = 1; u < RCL_SEGMENT_UNITS; ) {
    unsigned head = seg->unit_span[u], i;
    if ((seg->free_units >> u) & 1) {
      if (head) return rcl_errorf(err, errlen, "segment %p unit %u: free but mapped", (void *)seg, u);
      u++;
      continue;
    }
    if (head != u) return rcl_errorf(err, errlen, "segment %p unit %u: not a span head", (void *)seg, u);
    if (rcl_check_span(h, seg, u, err, errlen)) return -1;
    for (i = 1; i < seg->spans[u].units; i++)
      if (seg->unit_span[u + i] != u || ((seg->free_units >> (u + i)) & 1))
        return rcl_errorf(err, errlen, "segment %p unit %u: span map", (void *)seg, u + i);
    if (seg->spans[u].state == RCL_SPAN_PARTIAL) (*npartial)++;
    *bitmaps += rcl_span_bitmap_bytes(&seg->spans[u]);
    rcl_span_walk_live(h, seg, &seg->spans[u], &lw);
    if (lw.error) return rcl_errorf(err, errlen, "segment %p span at unit %u: %s", (void *)seg, u, lw.error);
    (*nspans)++;
    u += seg->spans[u].units;
  }
  return 0;
}

RCL_API int rcl_test_check(rcl_heap *h, char *err, size_t errlen)
{
  rcl_segment *seg, *prev = NULL;
  size_t nseg = 0, nfreeseg = 0, nspans = 0, npartial = 0, listed = 0, large = 0, nlarge = 0, i;
  size_t bitmaps = 0, hdr = 0;
  unsigned cls;
  int r = 0;
  rcl_lock(h);
  for (seg = h->seg_first; seg; prev = seg, seg = seg->next) {
    if (seg->prev != prev || (prev && (uintptr_t)prev >= (uintptr_t)seg)) { r = rcl_errorf(err, errlen, "segment list order"); goto out; }
    if ((uint64_t)(uintptr_t)seg + RCL_SEGMENT_SIZE > rcl_os_addr_limit() ||
        ((uintptr_t)seg & (RCL_SEGMENT_SIZE - 1))) {
      r = rcl_errorf(err, errlen, "segment %p above the address limit or misaligned", (void *)seg);
      goto out;
    }
    if (rcl_check_segment(h, seg, &nspans, &npartial, &bitmaps, err, errlen)) { r = -1; goto out; }
    nseg++;
    hdr += (size_t)seg->hdr_pages << h->page_shift;
    if (seg->free_units == RCL_ALL_UNITS) nfreeseg++;
    if (seg->free_units && h->seg_hint && (uintptr_t)seg < (uintptr_t)h->seg_hint) { r = rcl_errorf(err, errlen, "segment hint too high"); goto out; }
  }
  if (prev != h->seg_last) { r = rcl_errorf(err, errlen, "segment list tail"); goto out; }
  if (nseg != h->nsegments || nfreeseg != h->nfree_segments || nspans != h->nspans) {
    r = rcl_errorf(err, errlen, "counts: segments %zu/%zu free %zu/%zu spans %zu/%zu", nseg, h->nsegments,
                 nfreeseg, h->nfree_segments, nspans, h->nspans);
    goto out;
  }
  for (cls = 0; cls < RCL_NCLASSES; cls++) {
    rcl_span *s, *p = NULL;
    rcl_cache *c = &h->cache[cls];
    for (s = h->partial_head[cls]; s; p = s, s = s->next, listed++)
      if (s->state != RCL_SPAN_PARTIAL || s->cls != cls || s->prev != p) {
        r = rcl_errorf(err, errlen, "partial list of class %u", cls);
        goto out;
      }
    if (p != h->partial_tail[cls]) { r = rcl_errorf(err, errlen, "partial tail of class %u", cls); goto out; }
    if (c->span && (c->span->state != RCL_SPAN_CURRENT || c->span->cls != cls)) {
      r = rcl_errorf(err, errlen, "cache of class %u", cls);
      goto out;
    }
    if (!c->span && (c->held[RCL_LANE_DATA].word || c->held[RCL_LANE_OBJECT].word ||
                     c->held[RCL_LANE_DATA].clean || c->held[RCL_LANE_OBJECT].clean)) { r = rcl_errorf(err, errlen, "empty cache of class %u", cls); goto out; }
  }
  if (rcl_mesh_check(h, err, errlen)) { r = -1; goto out; }
  if (listed != npartial) { r = rcl_errorf(err, errlen, "partial spans %zu listed %zu", npartial, listed); goto out; }
  for (i = 0; i < h->large_cap; i++)
    if (h->large[i].addr) {
      if (h->large[i].addr + h->large[i].size > rcl_os_addr_limit() ||
          rcl_large_check_slot(h, i)) { r = rcl_errorf(err, errlen, "large table entry %zu", i); goto out; }
      large += h->large[i].size;
      nlarge++;
    }
  if (nlarge != h->nlarge || nlarge != h->large_count || large != h->large_bytes) {
    r = rcl_errorf(err, errlen, "large blocks %zu/%zu bytes %zu/%zu", nlarge, h->nlarge, large, h->large_bytes);
    goto out;
  }
  {
    size_t kept = 0;
    for (i = 0; i < h->nkept; i++) {
      if (!h->kept[i].addr || !h->kept[i].size || h->kept[i].addr + h->kept[i].size > rcl_os_addr_limit() ||
          (i && (int32_t)(h->kept[i].freed_at - h->kept[i - 1].freed_at) < 0)) {
        r = rcl_errorf(err, errlen, "kept mapping %zu", i);
        goto out;
      }
      kept += h->kept[i].size;
    }
    if (kept != h->kept_bytes || kept > RCL_KEPT_MAX_BYTES || h->nkept > RCL_KEPT_SLOTS ||
        (h->nkept && h->cfg.decay_ms == 0)) {
      r = rcl_errorf(err, errlen, "kept mappings: %zu bytes, %u slots", h->kept_bytes, h->nkept);
      goto out;
    }
    large += kept;
  }
  {
    size_t table = h->large_cap * sizeof(rcl_large);
    if (h->mapped != h->self_size + table + nseg * RCL_SEGMENT_SIZE + large ||
        h->metadata != h->self_size + table + hdr + bitmaps) {
      r = rcl_errorf(err, errlen, "mapped %zu / metadata %zu do not match the heap", h->mapped, h->metadata);
      goto out;
    }
  }
out:
  rcl_unlock(h);
  return r;
}
#endif
