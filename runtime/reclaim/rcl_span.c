/*
** rcl_span.c: the heap core: segments, units, spans, small and medium
** blocks.
**
** Owns: the segment list (ascending addresses), each segment's unit map,
** header pool and clean-page bitmap, the span descriptors and their
** bitmaps, the partial lists, the owner's class caches and the mixed run
** (rcl_internal.h glossary: cells of class 0's current span).
**
** Placement for density: a new span takes the lowest run of free units of
** the lowest-address segment that has one; a class that needs a new current
** span first takes the head of its partial list, which a GC cycle end sorts
** by address (rcl_sort_partials), so survivors pack into low spans and high
** spans drain.
**
** Span life cycle (rcl_internal.h, RCL_SPAN_*): units -> CURRENT -> (bitmap
** drained) FULL -> (first free) PARTIAL -> (last free) units again. Only the
** owner changes states, under the heap lock when the heap is locking. The
** hot paths (rcl_alloc_small, rcl_free_span_block in rcl_internal.h) take
** no lock and make no system call; everything here that changes shared
** structure does.
**
** Layer: calls the OS layer, the size classes (layouts in the class
** caches) and the large-block layer (kept mappings go before a new segment
** is mapped, and when a span grows back into purged units). Before mapping
** a segment that the soft limit wants room for it stops with
** h->room_request set; after a failed mapping it sets h->map_failed; the
** public API layer (rcl_api.c) runs the policy and calls again.
*/
#include "rcl_internal.h"

#include <string.h>

/* -- Partial lists ------------------------------------------------------------------ */

static void rcl_partial_push(rcl_heap *h, rcl_span *s)
{
  unsigned cls = s->cls;
  s->state = RCL_SPAN_PARTIAL;
  s->next = NULL;
  s->prev = h->partial_tail[cls];
  if (s->prev) s->prev->next = s; else h->partial_head[cls] = s;
  h->partial_tail[cls] = s;
}

static void rcl_partial_remove(rcl_heap *h, rcl_span *s)
{
  unsigned cls = s->cls;
  if (s->prev) s->prev->next = s->next; else h->partial_head[cls] = s->next;
  if (s->next) s->next->prev = s->prev; else h->partial_tail[cls] = s->prev;
  s->next = s->prev = NULL;
}

/* Merge sort of a partial list by address (lowest first). */
static rcl_span *rcl_span_merge(rcl_span *a, rcl_span *b)
{
  rcl_span head, *t = &head;
  while (a && b) {
    if ((uintptr_t)a->base < (uintptr_t)b->base) { t->next = a; a = a->next; }
    else { t->next = b; b = b->next; }
    t = t->next;
  }
  t->next = a ? a : b;
  return head.next;
}

static rcl_span *rcl_span_sort(rcl_span *list)
{
  rcl_span *slow = list, *fast, *second;
  if (!list || !list->next) return list;
  for (fast = list->next; fast && fast->next; fast = fast->next->next) slow = slow->next;
  second = slow->next;
  slow->next = NULL;
  return rcl_span_merge(rcl_span_sort(list), rcl_span_sort(second));
}

RCL_INTERN void rcl_sort_partials(rcl_heap *h)
{
  unsigned cls;
  for (cls = 0; cls < RCL_NCLASSES; cls++) {
    rcl_span *s, *prev = NULL;
    if (!h->partial_head[cls] || !h->partial_head[cls]->next) continue;
    h->partial_head[cls] = rcl_span_sort(h->partial_head[cls]);
    for (s = h->partial_head[cls]; s; prev = s, s = s->next) s->prev = prev;
    h->partial_tail[cls] = prev;
  }
}

/* -- Segments -------------------------------------------------------------------------- */

/* Header pages touched when a segment is made: the descriptors. */
static size_t rcl_header_pages(rcl_heap *h)
{
  return rcl_align_up(RCL_POOL_START, h->page_size) >> h->page_shift;
}

static void rcl_seg_hint_offer(rcl_heap *h, rcl_segment *seg)
{
  if (!h->seg_hint || (uintptr_t)seg < (uintptr_t)h->seg_hint) h->seg_hint = seg;
}

static rcl_segment *rcl_segment_new(rcl_heap *h)
{
  rcl_segment *seg, *after;
  size_t pages, hdr;
  rcl_kept_release(h, rcl_decay_all(), RCL_SEGMENT_SIZE);
  if (rcl_room_needed(h, RCL_SEGMENT_SIZE)) {
    h->room_request = RCL_SEGMENT_SIZE;
    return NULL;
  }
  seg = (rcl_segment *)rcl_os_map_segment(h);
  if (!seg) {
    h->map_failed = 1;
    return NULL;
  }
  rcl_os_no_hugepages(seg, RCL_SEGMENT_SIZE);
  /* Fresh memory is zero (anonymous, or a punched file range): unit map empty, spans[] unused, and the
  ** poison spans[0] has nblocks == 0 so every free that reaches it fails. */
  seg->heap = h;
  seg->free_units = RCL_ALL_UNITS;
  pages = RCL_SEGMENT_SIZE >> h->page_shift;
  hdr = rcl_header_pages(h);
  seg->hdr_pages = (uint32_t)hdr;
  memset(seg->pool_free, 0xff, sizeof(seg->pool_free));
  rcl_clean_set(seg, hdr, pages);     /* nothing but the descriptors was touched */
  /* Link in address order. */
  for (after = h->seg_last; after && (uintptr_t)after > (uintptr_t)seg; after = after->prev) {}
  seg->prev = after;
  seg->next = after ? after->next : h->seg_first;
  if (seg->next) seg->next->prev = seg; else h->seg_last = seg;
  if (after) after->next = seg; else h->seg_first = seg;
  h->mapped += RCL_SEGMENT_SIZE;
  rcl_mapped_grew(h);
  h->metadata += hdr << h->page_shift;
  h->nsegments++;
  h->nfree_segments++;
  rcl_seg_hint_offer(h, seg);
  RCL_VG_NOACCESS((char *)seg + RCL_UNIT_SIZE, RCL_SEGMENT_SIZE - RCL_UNIT_SIZE);
  return seg;
}

/* Unmap a fully free segment (caller holds the lock). On munmap failure
** (counted in munmap_failed), or while an alias in another segment maps one
** of its pages (rcl_os.c), the segment stays as a free segment. */
RCL_INTERN int rcl_segment_unmap(rcl_heap *h, rcl_segment *seg)
{
  rcl_segment *prev = seg->prev, *next = seg->next;
  size_t hdr = (size_t)seg->hdr_pages << h->page_shift;
  unsigned i;
  RCL_ASSERT(seg->free_units == RCL_ALL_UNITS, "unmapping a segment in use");
  if (rcl_os_unmap(h, seg, RCL_SEGMENT_SIZE) != 0) return -1;
  if (prev) prev->next = next; else h->seg_first = next;
  if (next) next->prev = prev; else h->seg_last = prev;
  if (h->seg_hint == seg) h->seg_hint = next;
  if (h->pass_seg == seg) h->pass_seg = next;
  if (h->bg_seg == seg) h->bg_seg = next;
  if (h->slice_seg == seg) h->slice_seg = next;
  if (h->mesh_seg == seg) h->mesh_seg = next;
  for (i = 0; i < RCL_NCLASSES; i++)
    if (rcl_segment_of(h->unit_hint[i]) == seg) h->unit_hint[i] = NULL;
  for (i = 0; i <= 16; i++)
    if (rcl_segment_of(h->medium_hint[i]) == seg) h->medium_hint[i] = NULL;
  h->mapped -= RCL_SEGMENT_SIZE;
  h->metadata -= hdr;
  h->nsegments--;
  h->nfree_segments--;
  return 0;
}

/* -- Units ------------------------------------------------------------------------------ */

static uint64_t rcl_unit_mask(unsigned first, unsigned k)
{
  return (((uint64_t)1 << k) - 1) << first;
}

/* The run of k units at *hint (unit affinity, glossary) if it is still free
** and has a dirty page; clears *hint. Returns its unit, 0 if none. */
static unsigned rcl_units_hinted(rcl_heap *h, char **hint, unsigned k, rcl_segment **segp)
{
  char *p = *hint;
  rcl_segment *seg;
  unsigned u;
  size_t first, pages = (size_t)k << (RCL_UNIT_SHIFT - h->page_shift);
  *hint = NULL;
  if (!p) return 0;
  seg = rcl_segment_of(p);
  u = (unsigned)(((uintptr_t)p >> RCL_UNIT_SHIFT) & (RCL_SEGMENT_UNITS - 1));
  if ((seg->free_units & rcl_unit_mask(u, k)) != rcl_unit_mask(u, k)) return 0;
  first = (size_t)u << (RCL_UNIT_SHIFT - h->page_shift);
  if (rcl_clean_count(seg, first, first + pages) == pages) return 0;
  *segp = seg;
  return u;
}

/* Take k free units (k <= 16): the run at *hint if rcl_units_hinted allows,
** else the lowest run, mapping a segment if needed. */
static rcl_span *rcl_units_acquire(rcl_heap *h, unsigned k, char **hint)
{
  rcl_segment *seg = NULL;
  unsigned u = rcl_units_hinted(h, hint, k, &seg), i;
  rcl_span *s;
  if (u) goto found;
  seg = h->seg_hint;
  while (seg && seg->free_units == 0) seg = seg->next;
  h->seg_hint = seg;
  for (; seg; seg = seg->next) {
    uint64_t f = seg->free_units, m = f;
    for (i = 1; i < k && m; i++) m &= f >> i;
    if (m) { u = rcl_ctz64(m); break; }
  }
  if (!seg) {
    seg = rcl_segment_new(h);
    if (!seg) return NULL;
    u = 1;
  }
found:
  if (seg->free_units == RCL_ALL_UNITS) h->nfree_segments--;
  seg->free_units &= ~rcl_unit_mask(u, k);
  for (i = 0; i < k; i++) seg->unit_span[u + i] = (uint8_t)u;
  s = &seg->spans[u];
  s->base = (char *)seg + ((size_t)u << RCL_UNIT_SHIFT);
  rcl_span_set_bits(s, s->inline_bits);
  s->bits_bytes = 0;
  s->pool_slot = 0;
  s->units = (uint8_t)k;
  s->next = s->prev = NULL;
  s->scan = 0;
  s->freed_at = (uint32_t)h->clock;
  rcl_span_unexamined(s);
  s->nclean = (uint16_t)rcl_clean_count(seg, (size_t)u << (RCL_UNIT_SHIFT - h->page_shift),
                                        (size_t)(u + k) << (RCL_UNIT_SHIFT - h->page_shift));
  h->nspans++;
  if (h->nkept && s->nclean) {
    /* The heap grows back into purged memory: kept mappings left unused
    ** for RCL_KEPT_STALE_MS only add to its peak (glossary). */
    rcl_kept_release(h, rcl_decay_of(h->clock, RCL_KEPT_STALE_MS), (size_t)-1);
  }
  return s;
}

/* Give the units of span s back to its segment (caller holds the lock). */
static void rcl_units_release(rcl_heap *h, rcl_span *s)
{
  char *start = rcl_span_start(s);
  rcl_segment *seg = rcl_segment_of(start);
  unsigned u = (unsigned)(((uintptr_t)start >> RCL_UNIT_SHIFT) & (RCL_SEGMENT_UNITS - 1));
  unsigned k = s->units, i;
  if (s->pool_slot) {
    unsigned n = rcl_span_pool_n(s);
    for (i = 0; i < n; i++) {
      unsigned slot = s->pool_slot - 1u + i;
      seg->pool_free[slot >> 6] |= (uint64_t)1 << (slot & 63);
    }
    seg->pool_covered = (uint16_t)(seg->pool_covered - (k < n ? k : n));
  } else if (s->bits_bytes) {
    h->metadata -= s->bits_bytes;
    RCL_VG_NOACCESS(start, s->bits_bytes);
  }
  s->base = start;
  rcl_span_set_bits(s, s->inline_bits);
  s->bits_bytes = 0;
  s->pool_slot = 0;
  for (i = 0; i < k; i++) {
    seg->unit_span[u + i] = 0;
    seg->unit_stamp[u + i] = (uint32_t)h->clock;
  }
  seg->free_units |= rcl_unit_mask(u, k);
  if (seg->free_units == RCL_ALL_UNITS) h->nfree_segments++;
  if (s->state == RCL_SPAN_MEDIUM) h->medium_hint[k] = start;
  else h->unit_hint[s->cls] = start;
  s->state = RCL_SPAN_NONE;
  s->nblocks = 0;             /* a stale pointer into it now fails the free checks */
  s->group_blocks = 0;
  s->ngroups = 0;
  s->nbits = 0;
  s->block_size = 0;
  h->nspans--;
  rcl_seg_hint_offer(h, seg);
}

/* -- Spans -------------------------------------------------------------------------------- */

/* Take n contiguous header pool slots of seg, lowest first, for a span of
** k units, if the pool keeps a slot for every uncovered unit afterwards
** (glossary: "pool"); touches (and counts as metadata) the header pages
** they reach. Returns 1 + the first slot, or 0. */
static unsigned rcl_pool_take(rcl_heap *h, rcl_segment *seg, unsigned n, unsigned k)
{
  unsigned first, i, covers = k < n ? k : n;
  unsigned uncovered = RCL_SEGMENT_UNITS - 1u - seg->pool_covered - covers;
  size_t end_page;
  if (rcl_pool_nfree(seg) < n + uncovered) return 0;
  for (first = 0; first + n <= RCL_POOL_SLOTS; first++) {
    for (i = 0; i < n && rcl_pool_is_free(seg, first + i); i++) {}
    if (i == n) break;
    first += i;                       /* slot first + i is taken: skip past it */
  }
  if (first + n > RCL_POOL_SLOTS) return 0;
  for (i = 0; i < n; i++)
    seg->pool_free[(first + i) >> 6] &= ~((uint64_t)1 << ((first + i) & 63));
  seg->pool_covered = (uint16_t)(seg->pool_covered + covers);
  end_page = (rcl_pool_offset(first + n) + h->page_size - 1) >> h->page_shift;
  if (end_page > seg->hdr_pages) {
    rcl_clean_clear(seg, seg->hdr_pages, end_page);
    h->metadata += (end_page - seg->hdr_pages) << h->page_shift;
    seg->hdr_pages = (uint32_t)end_page;
  }
  return first + 1;
}

/* Make s (fresh units, base = span start) a span of class cls, all free.
** Its bitmap goes to the descriptor if it fits, else to header pool slots,
** else (dense layouts only) to the bitmap bytes reserved at the span start. */
static void rcl_span_init_small(rcl_heap *h, rcl_span *s, unsigned cls)
{
  rcl_cache *c = &h->cache[cls];
  uint32_t nb = c->nblocks, w, nw, words = RCL_INLINE_WORDS;
  char *start = s->base;
  rcl_segment *seg = rcl_segment_of(start);
  s->block_size = c->size;
  s->magic = c->magic;
  s->nblocks = (uint16_t)nb;
  s->cls = (uint8_t)cls;
  s->group_shift = c->group_shift;
  s->group_bits_log2 = c->group_bits_log2;
  s->ngroups = c->ngroups;
  s->group_blocks = c->group_blocks;
  s->nbits = (uint16_t)((uint32_t)c->ngroups << c->group_bits_log2);
  nw = rcl_span_nwords(s);
  if (c->bits_bytes) {
    s->bits_bytes = (uint16_t)c->bits_bytes;
    s->base = start + c->bits_bytes;
  }
  if (nw > RCL_INLINE_WORDS) {
    unsigned n = rcl_pool_need(nw);
    unsigned slot = n <= RCL_POOL_MAX_RUN ? rcl_pool_take(h, seg, n, s->units) : 0;
    if (slot) {
      /* The span's first bytes (if reserved) stay untouched, so they cost
      ** no page while no block lives there. */
      s->pool_slot = (uint8_t)slot;
      rcl_span_set_bits(s, rcl_pool_slot(seg, slot - 1));
      words = n * RCL_POOL_SLOT_WORDS;
    } else if (c->bits_bytes) {
      /* The bitmap takes the first bytes of the span: metadata, kept dirty. */
      rcl_span_set_bits(s, start);
      words = c->bits_bytes / 8;
      h->metadata += c->bits_bytes;
      RCL_VG_DEFINED(start, c->bits_bytes);
      rcl_unclean_block(h, s, start, c->bits_bytes);
    } else {
      /* Only a page-fit span has neither (one unit, one slot), and the
      ** pool invariant keeps a slot for it (glossary "pool"). */
      rcl_internal_error("no room for a span bitmap");
    }
  }
  for (w = 0; w < words; w++)
    rcl_store(&rcl_span_bits(s)[w], w < nw ? rcl_word_valid(s, w) : (uint64_t)0);
  rcl_store(&s->nfree, (uint16_t)nb);
}

/* Mark the pages under [p, p+size) of span s dirty: a live block is there. */
RCL_INTERN RCL_NOINLINE void rcl_unclean_block(rcl_heap *h, rcl_span *s, const char *p, size_t size)
{
  rcl_segment *seg = rcl_segment_of(p);
  size_t off = (size_t)(p - (char *)seg);
  size_t n = rcl_clean_clear(seg, off >> h->page_shift, ((off + size - 1) >> h->page_shift) + 1);
  s->nclean = (uint16_t)(s->nclean - n);
  if (s->nclean == 0 && s->cls != RCL_CLASS_MEDIUM && h->cache[s->cls].span == s) {
    unsigned lane;
    for (lane = 0; lane < RCL_LANES; lane++) h->cache[s->cls].held[lane].clean = 0;
  }
}

/* Whether a block cached in hd (a chunk of class cache c) lies on a clean
** page: from the lowest to the highest cached block. */
static int rcl_held_on_clean(const rcl_heap *h, const rcl_cache *c, const rcl_held *hd)
{
  const char *lo, *hi;
  rcl_segment *seg;
  size_t first, last;
  if (!hd->word) return 0;
  lo = hd->base + (size_t)rcl_ctz64(hd->word) * c->size;
  hi = hd->base + (size_t)(63u - (unsigned)__builtin_clzll(hd->word)) * c->size + c->size - 1;
  seg = rcl_segment_of(lo);
  first = (size_t)(lo - (char *)seg) >> h->page_shift;
  last = (size_t)(hi - (char *)seg) >> h->page_shift;
  return rcl_clean_any(seg, first, last + 1);
}

/* Block p was just handed out by lane's chunk, which may lie on clean
** pages: make p's pages dirty, and stop calling here once no cached block
** of the lane lies on a clean page (a page-fit chunk is one page: after its
** first block). */
RCL_INTERN RCL_NOINLINE void rcl_unclean_held(rcl_heap *h, rcl_cache *c, unsigned lane, const char *p)
{
  rcl_held *hd = &c->held[lane];
  rcl_unclean_block(h, c->span, p, c->size);
  hd->clean = c->span->nclean != 0 && rcl_held_on_clean(h, c, hd);
}

/* Move the free blocks of the first non-empty chunk of the current span at
** or after chunk `start` (wrapping around), at most c->held_max of them, the
** lowest first (glossary "refill cap"), into the cache's lane; in chunk
** `start` only blocks from bit `from` on count (the color of a fresh span).
** Refills start at the span's scan word, below which only blocks below the
** color are free: so freed blocks are reused lowest address first, and a
** span whose blocks are freed and allocated again keeps its survivors and
** its dirty pages in its lowest pages instead of sweeping through all of
** them. */
static void rcl_take_word(rcl_heap *h, rcl_cache *c, rcl_span *s, unsigned lane, unsigned start,
                          unsigned from)
{
  unsigned n = rcl_span_nchunks(s), i = start, tries, sh = 0, count;
  uint64_t w = 0, *wp = NULL, cmask = s->group_bits_log2 < 6 ? rcl_chunk_valid(s, 0) : ~(uint64_t)0;
  uint64_t first = ~(uint64_t)0 << from;   /* the mask of chunk `start` on the first try */
  for (tries = 0; tries <= n; tries++, i++) {
    if (i >= n) i = 0;
    wp = &rcl_span_bits(s)[rcl_chunk_word(s, i)];
    sh = rcl_chunk_shift(s, i);
    w = (rcl_load(wp) >> sh) & cmask & first;
    if (w) break;
    first = ~(uint64_t)0;
  }
  RCL_ASSERT(w != 0, "span free count without free bits");
  count = rcl_popcount64(w);
  if (count > c->held_max) {
    w = rcl_lowest_bits(w, c->held_max);
    count = c->held_max;
  }
  rcl_store(wp, rcl_load(wp) & ~(w << sh));
  rcl_store(&s->nfree, (uint16_t)(rcl_load(&s->nfree) - count));
  c->held[lane].word = w;
  c->held[lane].base = rcl_chunk_base(s, i);
  c->word_index[lane] = i;
  c->held[lane].clean = s->nclean != 0 && rcl_held_on_clean(h, c, &c->held[lane]);
  s->scan = (uint8_t)((i << rcl_span_chunk_log2(s)) >> 6);
}

/* The chunk holding bitmap word s->scan's bit 0: where refills start. */
static unsigned rcl_scan_chunk(const rcl_span *s)
{
  return ((unsigned)s->scan << 6) >> rcl_span_chunk_log2(s);
}

static inline void *rcl_cache_pop(rcl_heap *h, rcl_cache *c, unsigned lane)
{
  rcl_held *hd = &c->held[lane];
  uint64_t w = hd->word;
  char *p = hd->base + (size_t)rcl_ctz64(w) * c->size;
  hd->word = w & (w - 1);
  if (hd->clean) rcl_unclean_held(h, c, lane, p);
  return p;
}

/* Give the cached bits `bits` (a subset of lane's chunk c->word_index[lane])
** back to the bitmap of s: they are free again there. */
static void rcl_cache_give_back(rcl_cache *c, rcl_span *s, unsigned lane, uint64_t bits)
{
  uint32_t ci = c->word_index[lane], word = rcl_chunk_word(s, ci);
  uint64_t *wp = &rcl_span_bits(s)[word];
  rcl_store(wp, rcl_load(wp) | (bits << rcl_chunk_shift(s, ci)));
  if (word < s->scan) s->scan = (uint8_t)word;
  rcl_store(&s->nfree, (uint16_t)(rcl_load(&s->nfree) + rcl_popcount64(bits)));
  c->held[lane].word &= ~bits;
}

/* -- Mixed and wide runs (glossary): blocks of many sizes side by side ------------- */

/* Give the rest of run r back to the bitmap of its class's current span s:
** those cells are free again. */
static void rcl_run_give_back(rcl_heap *h, unsigned r, rcl_span *s)
{
  rcl_run *run = &h->run[r];
  unsigned sh = rcl_run_cell_log2(r);
  if (run->cur != run->end) {
    uint32_t i = (uint32_t)((size_t)(run->cur - s->base) >> sh);
    uint32_t k = (uint32_t)((size_t)(run->end - run->cur) >> sh);
    rcl_bits_range(rcl_span_bits(s), i, k, 1);
    if ((i >> 6) < s->scan) s->scan = (uint8_t)(i >> 6);
    rcl_store(&s->nfree, (uint16_t)(rcl_load(&s->nfree) + k));
  }
  run->cur = run->end = NULL;
}

/* Take the lowest run of at least `need` free cells of span s (of run r's
** class), at or after its scan word (then from its start), at most
** rcl_run_bytes(r) of it, as run r. Returns 0 if s has none. */
static int rcl_run_take(rcl_heap *h, unsigned r, rcl_span *s, uint32_t need)
{
  uint64_t *bits = rcl_span_bits(s);
  unsigned sh = rcl_run_cell_log2(r);
  uint32_t nb = s->nblocks, i = (uint32_t)s->scan << 6, j, pass, cap = (uint32_t)(rcl_run_bytes(r) >> sh);
  for (pass = 0; pass < 2; pass++, i = 0) {
    while ((i = rcl_bits_next(bits, 0, i, nb, 0)) < nb) {
      j = rcl_bits_next(bits, 0, i, nb, 1);
      if (j - i >= need) {
        uint32_t k = j - i < cap ? j - i : cap;
        rcl_run *run = &h->run[r];
        if (k < need) k = need;
        rcl_bits_range(bits, i, k, 0);
        rcl_store(&s->nfree, (uint16_t)(rcl_load(&s->nfree) - k));
        run->cur = s->base + ((size_t)i << sh);
        run->end = run->cur + ((size_t)k << sh);
        if (s->nclean) rcl_unclean_block(h, s, run->cur, (size_t)k << sh);
        return 1;
      }
      i = j;
    }
  }
  return 0;
}

/* Retire the current span of a class; returns it to the right place. */
static void rcl_cache_retire(rcl_heap *h, rcl_cache *c)
{
  rcl_span *s = c->span;
  uint32_t nf;
  unsigned lane;
  if (!s) return;
  int r = rcl_run_of_class((unsigned)(c - h->cache));
  if (r >= 0) rcl_run_give_back(h, (unsigned)r, s);
  for (lane = 0; lane < RCL_LANES; lane++) {
    if (c->held[lane].word) rcl_cache_give_back(c, s, lane, c->held[lane].word);
    c->held[lane].clean = 0;
  }
  c->span = NULL;
  nf = rcl_load(&s->nfree);
  if (nf == s->nblocks) rcl_units_release(h, s);
  else if (nf) rcl_partial_push(h, s);
  else s->state = RCL_SPAN_FULL;
}

/* Caller holds the lock. */
RCL_INTERN void rcl_flush_caches(rcl_heap *h)
{
  unsigned cls;
  for (cls = 0; cls < RCL_NCLASSES; cls++) rcl_cache_retire(h, &h->cache[cls]);
}

/* Bitmap index of span s's first block that starts at or after page
** `color` of its first unit (glossary: "color"); 0 if there is none. */
static uint32_t rcl_color_index(const rcl_heap *h, const rcl_span *s, size_t color)
{
  size_t t = color << h->page_shift, g, r, slot;
  if (t <= s->bits_bytes) return 0;
  t -= s->bits_bytes;                         /* offset from block 0 */
  g = t >> s->group_shift;
  r = t & rcl_span_group_mask(s);
  slot = (r + s->block_size - 1) / s->block_size;
  if (slot >= s->group_blocks) { g++; slot = 0; }
  return g < s->ngroups ? (uint32_t)((g << s->group_bits_log2) | slot) : 0;
}

/* Cache the first chunk of the fresh span s in lane, starting at its
** colored block: the chunk holding it goes to the owner without the bits
** below it, which stay free in the bitmap for the next refill. A long span
** (glossary) starts at its first block. */
static void rcl_take_colored(rcl_heap *h, rcl_cache *c, rcl_span *s, unsigned lane)
{
  size_t pages = RCL_UNIT_SIZE >> h->page_shift;
  int colored = pages > 1 && (s->ngroups > 1 || c->size < RCL_LONG_SPAN_MIN);
  uint32_t idx = colored ? rcl_color_index(h, s, h->span_color++ & (pages - 1)) : 0;
  unsigned chunk_log2 = rcl_span_chunk_log2(s), pos = idx & ((1u << chunk_log2) - 1);
  rcl_take_word(h, c, s, lane, idx >> chunk_log2, pos);
}

/* Retire class cls's current span and make another one current: the head
** of its partial list (unless fresh_only), else a fresh span of free units
** (*fresh set). NULL if no units could be had (h->room_request or
** h->map_failed says why). Caller holds the lock. */
static rcl_span *rcl_class_next_span(rcl_heap *h, unsigned cls, int fresh_only, int *fresh)
{
  rcl_cache *c = &h->cache[cls];
  rcl_span *s;
  h->clock = rcl_os_now_ms();
  if (c->span) c->object_lane = RCL_LANE_OBJECT;    /* the class used up a span */
  rcl_cache_retire(h, c);
  s = fresh_only ? NULL : h->partial_head[cls];
  *fresh = s == NULL;
  if (s) {
    rcl_partial_remove(h, s);
  } else {
    s = rcl_units_acquire(h, c->units, &h->unit_hint[cls]);
    if (!s) return NULL;
    rcl_span_init_small(h, s, cls);
  }
  s->state = RCL_SPAN_CURRENT;
  rcl_span_unexamined(s);   /* its allocations end with a give-back, no free */
  c->span = s;
  return s;
}

static RCL_NOINLINE void *rcl_alloc_new_span(rcl_heap *h, unsigned cls, unsigned lane)
{
  rcl_cache *c = &h->cache[cls];
  rcl_span *s;
  int fresh;
  rcl_lock_active(h);
  s = rcl_class_next_span(h, cls, 0, &fresh);
  if (s && fresh) rcl_take_colored(h, c, s, lane);
  else if (s) rcl_take_word(h, c, s, lane, rcl_scan_chunk(s), 0);
  rcl_unlock(h);
  return s ? rcl_cache_pop(h, c, lane) : NULL;
}

/* Run r (RCL_RUN_*) cannot serve n bytes: give its rest back and take a
** run of its class's current span, else of the head of its partial list,
** else of a fresh span (which always has one). NULL if no units could be
** had. */
RCL_INTERN RCL_NOINLINE void *rcl_alloc_run(rcl_heap *h, unsigned r, size_t n)
{
  unsigned cls = rcl_run_class(r), sh = rcl_run_cell_log2(r);
  rcl_span *s = h->cache[cls].span;
  uint32_t need = (uint32_t)((n + ((size_t)1 << sh) - 1) >> sh);
  char *p;
  h->alloc_refills++;
  if (s) rcl_run_give_back(h, r, s);
  if (!s || rcl_load(&s->nfree) < need || !rcl_run_take(h, r, s, need)) {
    int fresh_only, fresh, ok = 0;
    for (fresh_only = 0; !ok && fresh_only < 2; fresh_only++) {
      rcl_lock_active(h);
      s = rcl_class_next_span(h, cls, fresh_only, &fresh);
      ok = s && rcl_run_take(h, r, s, need);
      rcl_unlock(h);
      if (!s) return NULL;
      RCL_ASSERT(ok || !fresh, "a fresh span without a run of cells");
    }
  }
  p = h->run[r].cur;
  h->run[r].cur = p + ((size_t)need << sh);
  return p;
}

/* Grow the block at p of ko cells of span s (of run r's class) to kn cells
** in place; 1 if it grew. Only in the current span of its class, whose
** cells the owner takes without the lock (as rcl_run_take does; no purge
** or mesh touches a current span): either the block ends where run r's
** rest starts and the rest holds the cells added, or those cells are free
** in the bitmap (held cells of a class cache read as used there). */
RCL_INTERN int rcl_run_grow(rcl_heap *h, unsigned r, rcl_span *s, char *p, uint32_t ko, uint32_t kn)
{
  rcl_run *run = &h->run[r];
  unsigned sh = rcl_run_cell_log2(r);
  uint32_t i = (uint32_t)((size_t)(p - s->base) >> sh), add = kn - ko;
  char *end = p + ((size_t)ko << sh);
  if (h->cache[s->cls].span != s || i + kn > s->nblocks) return 0;
  if (end == run->cur) {
    if ((size_t)(run->end - run->cur) < ((size_t)add << sh)) return 0;
    run->cur += (size_t)add << sh;
    return 1;
  }
  if (rcl_bits_next(rcl_span_bits(s), 0, i + ko, i + kn, 1) != i + kn) return 0;
  rcl_bits_range(rcl_span_bits(s), i + ko, add, 0);
  rcl_store(&s->nfree, (uint16_t)(rcl_load(&s->nfree) - add));
  if (s->nclean) rcl_unclean_block(h, s, end, (size_t)add << sh);
  return 1;
}

/* Whether p, n is a block of more than one cell of a mixed or wide run in
** span s: s is a live span of a run's class, n is above its block size and
** at most the run's largest block, and the block's cells lie inside it. */
RCL_INTERN int rcl_run_block(const rcl_span *s, const void *p, size_t n)
{
  size_t off = (size_t)((const char *)p - s->base);
  int r = s->nbits != 0 ? rcl_run_of_class(s->cls) : -1;
  unsigned sh;
  if (r < 0 || n <= s->block_size || n > rcl_run_max((unsigned)r)) return 0;
  sh = rcl_run_cell_log2((unsigned)r);
  return (off & (((size_t)1 << sh) - 1)) == 0 && off < ((size_t)s->nblocks << sh) &&
         (off >> sh) + ((n + ((size_t)1 << sh) - 1) >> sh) <= s->nblocks;
}

/* The span holding a block of a mixed or wide run at p of n bytes, or
** NULL if there is none such. */
RCL_INTERN rcl_span *rcl_run_span_of(const void *p, size_t n)
{
  rcl_segment *seg = rcl_segment_of(p);
  rcl_span *s = rcl_span_at(seg, p);
  return rcl_run_block(s, p, n) ? s : NULL;
}

/* Free the k cells of span s (of a run's class, cells of 2^cell_log2
** bytes) from cell i on: what the free path does for k blocks of the class
** (its checks, its transitions; frees on meshed pages only set bits, as
** there). Up to 64 cells (every mixed block, wide blocks up to 16 KiB) lie
** on one or two bitmap words; more take a loop over the words. */
static inline __attribute__((always_inline)) void rcl_free_cells_at(rcl_heap *h, rcl_span *s, uint32_t i, uint32_t k, unsigned cell_log2)
{
  uint64_t *wp = rcl_span_bits(s);
  uint32_t sh = i & 63, nf;
  uint64_t lo = k >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << k) - 1;
  uint64_t m0 = lo << sh, m1 = sh ? lo >> (64 - sh) : 0, w0, w1 = 0;
  if (RCL_UNLIKELY(k > 64)) {
    if (rcl_bits_next(wp, 0, i, i + k, 0) != i + k)
      rcl_bad_free(s->base + ((size_t)i << cell_log2), (size_t)k << cell_log2, "double free");
    rcl_bits_range(wp, i, k, 1);
    goto counted;
  }
  wp += i >> 6;
  w0 = rcl_load(wp);
  if (m1) w1 = rcl_load(wp + 1);
  if (RCL_UNLIKELY((w0 & m0) | (w1 & m1)))
    rcl_bad_free(s->base + ((size_t)i << cell_log2), (size_t)k << cell_log2, "double free");
  rcl_store(wp, w0 | m0);
  if (m1) rcl_store(wp + 1, w1 | m1);
counted:
  if ((i >> 6) < s->scan) s->scan = (uint8_t)(i >> 6);
  nf = rcl_load(&s->nfree) + k;
  rcl_store(&s->nfree, (uint16_t)nf);
  rcl_store(&s->freed_at, (uint32_t)h->clock);
  if (RCL_UNLIKELY(nf == k || nf == s->nblocks)) rcl_free_transition(h, s, nf);
}

/* Free the k cells of span s (of a run's class) from p on. */
RCL_INTERN void rcl_free_cells(rcl_heap *h, rcl_span *s, char *p, size_t k)
{
  unsigned cell_log2 = rcl_run_cell_log2((unsigned)rcl_run_of_class(s->cls));
  rcl_free_cells_at(h, s, (uint32_t)((size_t)(p - s->base) >> cell_log2), (uint32_t)k, cell_log2);
}

/* The free path found n above span s's block size: a block of a mixed or
** wide run, or a bad free. The checks are rcl_run_block's, with the cell
** index and count computed once: n above the block size (the caller's
** test) is at least two cells, and a block whose cells end inside the
** span starts inside it (an address below s->base wraps off to above
** the span's cells). */
RCL_INTERN RCL_NOINLINE void rcl_free_wide(rcl_heap *h, rcl_span *s, void *p, size_t n)
{
  int r = s->nbits != 0 ? rcl_run_of_class(s->cls) : -1;
  size_t off = (size_t)((char *)p - s->base), k;
  unsigned sh;
  if (RCL_UNLIKELY(r < 0 || n > rcl_run_max((unsigned)r))) rcl_bad_free(p, n, "not a live block of this size");
  sh = rcl_run_cell_log2((unsigned)r);
  k = (n + ((size_t)1 << sh) - 1) >> sh;
  if (RCL_UNLIKELY((off & (((size_t)1 << sh) - 1)) != 0 || (off >> sh) + k > s->nblocks))
    rcl_bad_free(p, n, "not a live block of this size");
  rcl_free_cells_at(h, s, (uint32_t)(off >> sh), (uint32_t)k, sh);
}

/* The lane's cached chunk is empty: take the next chunk of the current span
** (the other lane may hold one too: the lanes take turns at the span's
** scan), or retire the span, giving back both lanes' bits. */
RCL_INTERN RCL_NOINLINE void *rcl_alloc_refill(rcl_heap *h, unsigned cls, unsigned lane)
{
  rcl_cache *c = &h->cache[cls];
  rcl_span *s = c->span;
  h->alloc_refills++;
  if (s && rcl_load(&s->nfree)) {
    rcl_take_word(h, c, s, lane, rcl_scan_chunk(s), 0);
    return rcl_cache_pop(h, c, lane);
  }
  return rcl_alloc_new_span(h, cls, lane);
}

/* A free made a span leave FULL (nfree 0 -> 1) or become all free. A
** meshed span stays where it is: the mesh table's reconciliation frees
** through it (rcl_mesh_core.c) and settles it when its last secondary
** page goes. */
RCL_INTERN RCL_NOINLINE void rcl_free_transition(rcl_heap *h, rcl_span *s, uint32_t nfree)
{
  if (s->state == RCL_SPAN_CURRENT || s->state == RCL_SPAN_MESHED) return;
  rcl_lock_active(h);
  if (nfree == s->nblocks) {
    if (s->state == RCL_SPAN_PARTIAL) rcl_partial_remove(h, s);
    rcl_units_release(h, s);
  } else if (s->state == RCL_SPAN_FULL) {
    rcl_partial_push(h, s);
  }
  rcl_unlock(h);
}

/* Put the small span s, if PARTIAL or FULL (not current, meshed or released), where its
** free count says: released when all free, on the partial list when some
** are free, FULL when none is. Caller holds the lock (rcl_mesh_core.c
** changes bitmaps of spans that are not current). */
RCL_INTERN void rcl_span_settle(rcl_heap *h, rcl_span *s)
{
  uint32_t nf = rcl_load(&s->nfree);
  if (s->state != RCL_SPAN_PARTIAL && s->state != RCL_SPAN_FULL) return;
  if (nf == s->nblocks) {
    if (s->state == RCL_SPAN_PARTIAL) rcl_partial_remove(h, s);
    rcl_units_release(h, s);
  } else if (nf == 0) {
    if (s->state == RCL_SPAN_PARTIAL) rcl_partial_remove(h, s);
    s->state = RCL_SPAN_FULL;
  } else if (s->state == RCL_SPAN_FULL) {
    rcl_partial_push(h, s);
  }
}

/* The small span s (PARTIAL or FULL) gets a secondary page: off its list,
** MESHED until rcl_mesh_core.c makes it FULL and settles it again. */
RCL_INTERN void rcl_span_park(rcl_heap *h, rcl_span *s)
{
  if (s->state == RCL_SPAN_PARTIAL) rcl_partial_remove(h, s);
  s->state = RCL_SPAN_MESHED;
}

/* -- Medium blocks: one block per span of 1..16 units --------------------------------- */

static uint32_t rcl_medium_units(size_t n)
{
  return (uint32_t)((n + RCL_UNIT_SIZE - 1) >> RCL_UNIT_SHIFT);
}

static void rcl_span_recount_clean(rcl_heap *h, rcl_span *s)
{
  rcl_segment *seg = rcl_segment_of(s->base);
  size_t first = (size_t)(s->base - (char *)seg) >> h->page_shift;
  s->nclean = (uint16_t)rcl_clean_count(seg, first,
                                        first + (((size_t)s->units << RCL_UNIT_SHIFT) >> h->page_shift));
}

RCL_INTERN void *rcl_alloc_medium(rcl_heap *h, size_t n)
{
  rcl_span *s;
  rcl_lock_active(h);
  h->clock = rcl_os_now_ms();
  h->alloc_refills++;
  s = rcl_units_acquire(h, rcl_medium_units(n), &h->medium_hint[rcl_medium_units(n)]);
  if (!s) { rcl_unlock(h); return NULL; }
  s->block_size = (uint32_t)rcl_align_up(n, 16);
  s->magic = 0;
  s->nblocks = 1;
  s->cls = RCL_CLASS_MEDIUM;
  s->state = RCL_SPAN_MEDIUM;
  s->group_shift = 21;             /* one group: a medium block is at most 2^20 bytes */
  s->group_bits_log2 = 6;
  s->ngroups = 1;
  s->group_blocks = 1;
  s->nbits = (uint16_t)1 << 6;
  memset(s->inline_bits, 0, sizeof(s->inline_bits));   /* stale bits of an earlier span */
  rcl_store(&s->nfree, (uint16_t)0);
  rcl_unclean_block(h, s, s->base, s->block_size);
  rcl_unlock(h);
  RCL_VG_MALLOC(s->base, n, 0);
  return s->base;
}

static rcl_span *rcl_medium_span(void *p, size_t n)
{
  rcl_segment *seg = rcl_segment_of(p);
  rcl_span *s = rcl_span_at(seg, p);
  if (s->state != RCL_SPAN_MEDIUM || s->base != (char *)p || n > s->block_size)
    rcl_bad_free(p, n, "not a live block of this size");
  return s;
}

/* Resize a medium block in place if its units allow; NULL = move it. */
RCL_INTERN void *rcl_realloc_medium(rcl_heap *h, void *p, size_t oldn, size_t newn)
{
  rcl_span *s = rcl_medium_span(p, oldn);
  rcl_segment *seg = rcl_segment_of(p);
  unsigned u = (unsigned)(((uintptr_t)p >> RCL_UNIT_SHIFT) & (RCL_SEGMENT_UNITS - 1));
  unsigned k = s->units, nk = rcl_medium_units(newn), i;
  uint32_t nb = (uint32_t)rcl_align_up(newn, 16);
  rcl_lock_active(h);
  h->clock = rcl_os_now_ms();
  if (nk < k) {
    for (i = nk; i < k; i++) {
      seg->unit_span[u + i] = 0;
      seg->unit_stamp[u + i] = (uint32_t)h->clock;
    }
    seg->free_units |= rcl_unit_mask(u + nk, k - nk);
    rcl_seg_hint_offer(h, seg);
  } else if (nk > k) {
    uint64_t m = u + nk <= RCL_SEGMENT_UNITS ? rcl_unit_mask(u + k, nk - k) : 0;
    if (!m || (seg->free_units & m) != m) {
      rcl_unlock(h);
      return NULL;
    }
    seg->free_units &= ~m;
    for (i = k; i < nk; i++) seg->unit_span[u + i] = (uint8_t)u;
  }
  s->units = (uint8_t)nk;
  rcl_span_recount_clean(h, s);
  if (nb > s->block_size) rcl_unclean_block(h, s, s->base + s->block_size, nb - s->block_size);
  s->block_size = nb;
  rcl_store(&s->freed_at, (uint32_t)h->clock);    /* the tail changed */
  rcl_unlock(h);
  RCL_VG_RESIZE(p, oldn, newn);
  return p;
}

/* Unmap every segment, live blocks included (heap destroy; the caller has
** flushed the class caches). A segment that an alias in another one still
** maps (an unmesh the OS refused) is refused by the OS layer: such
** segments are unmapped again, in rounds, after the segments holding
** those aliases are gone, until a round unmaps none. */
RCL_INTERN void rcl_segments_destroy(rcl_heap *h)
{
  rcl_segment *seg, *next, *kept = NULL;
  int progress = 1;
  for (seg = h->seg_first; seg; seg = next) {
    next = seg->next;
#ifdef RCL_VALGRIND
    {
      /* Tell memcheck the blocks still live in the segment are gone. In
      ** a span of the mixed or wide run's class a block may be several
      ** cells, and the bitmap does not say where blocks start: every
      ** live cell is freed with error reports off, which frees the
      ** blocks that start there and ignores the other cells. */
      unsigned u;
      for (u = 1; u < RCL_SEGMENT_UNITS; u++) {
        rcl_span *s = &seg->spans[u];
        uint32_t w, nw;
        int cells = s->cls < RCL_NCLASSES && rcl_run_of_class(s->cls) >= 0;
        if (seg->unit_span[u] != u || s->state == RCL_SPAN_NONE) continue;
        if (cells) RCL_VG_QUIET_BEGIN();
        for (w = 0, nw = rcl_span_nwords(s); w < nw; w++) {
          uint64_t live = rcl_word_valid(s, w) & ~rcl_span_bits(s)[w];
          for (; live; live &= live - 1)
            RCL_VG_FREE(rcl_idx_addr(s, w * 64 + rcl_ctz64(live)));
        }
        if (cells) RCL_VG_QUIET_END();
      }
    }
#endif
    if (rcl_os_unmap(h, seg, RCL_SEGMENT_SIZE) != 0) { seg->next = kept; kept = seg; }
  }
  while (kept && progress) {
    rcl_segment *again = NULL;
    progress = 0;
    for (seg = kept; seg; seg = next) {
      next = seg->next;
      if (rcl_os_unmap(h, seg, RCL_SEGMENT_SIZE) != 0) { seg->next = again; again = seg; }
      else progress = 1;
    }
    kept = again;
  }
  h->seg_first = h->seg_last = h->seg_hint = NULL;
}

/* Class caches of a new heap: each class's layout at the purge granule,
** with the page-fit bound of the heap's mesh setting at creation (a later
** reclaim.config{mesh=...} keeps the layout). */
RCL_INTERN void rcl_caches_init(rcl_heap *h)
{
  unsigned cls;
  for (cls = 0; cls < RCL_NCLASSES; cls++) {
    rcl_cache *c = &h->cache[cls];
    c->size = (uint32_t)rcl_class_size(cls);
    rcl_class_layout(cls, h->page_size, h->cfg.mesh ? RCL_PAGEFIT_WASTE_MESH : RCL_PAGEFIT_WASTE, c);
    c->magic = rcl_class_magic(c->size);
    c->held_max = (uint8_t)(c->size >= RCL_HELD_BYTES ? 1 :
                            c->size * 64 <= RCL_HELD_BYTES ? 64 : RCL_HELD_BYTES / c->size);
  }
  /* Mixed and wide runs (glossary) index their class's bitmap by cell. */
  RCL_ASSERT(h->cache[0].size == 16 && h->cache[0].ngroups == 1, "class 0 is not one group of 16-byte blocks");
  RCL_ASSERT(h->cache[RCL_WIDE_CLASS].size == 256 && h->cache[RCL_WIDE_CLASS].ngroups == 1,
             "the wide run's class is not one group of 256-byte blocks");
  h->wide_min = rcl_wide_min(h->page_size);
  /* Coarse start (glossary): the group's largest class serves up to a
  ** page of a smaller class's first blocks. */
  for (cls = RCL_COARSE_MIN_CLASS; cls < RCL_NCLASSES; cls++) {
    rcl_cache *c = &h->cache[cls];
    unsigned top = cls | (RCL_COARSE_GROUP - 1);
    size_t top_size = rcl_class_size(top);
    if (top == cls || top_size > h->page_size / 2) continue;
    c->coarse_cls = (uint8_t)top;
    c->coarse_left = (uint16_t)(h->page_size / top_size);
  }
}
