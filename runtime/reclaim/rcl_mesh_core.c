/*
** rcl_mesh_core.c: the heap core's side of meshing (docs/mesh.md): the
** mesh table, meshing one OS page onto another, remeshing (a primary with
** its secondaries onto another page), and the reconciliation that frees
** through meshed pages and unmeshes them.
**
** Words. Meshing OS page B onto OS page A (one size class, one slot grid)
** copies B's live blocks to the same offsets of A and makes B's virtual
** page map A's physical page (rcl_os_page_alias); B is a secondary, A its
** primary. A slot is the k-th whole block of a page after the page's first
** block start (its phase); L(B) is the set of B's slots still live.
**
** Invariants (rcl_test_check proves them):
**  - a primary has 1..RCL_MESH_MAX_SECONDARIES secondaries, is no alias
**    and no secondary; a secondary is no primary;
**  - the L(B) of the secondaries of one primary are pairwise disjoint, and
**    each is used in A's bitmap (a slot of A is free iff no mapper, A or a
**    secondary, holds it: the union rule);
**  - every bit of a block that overlaps a secondary page is used in B's
**    bitmap except the slots of L(B) freed since the last reconciliation
**    ("lazy reconciliation": a free through B's address is the ordinary
**    fast path, which sets B's bit and still catches a double free; the
**    owner, under the lock, moves those frees to A at the next mesh pass,
**    purge or full GC). So nothing is ever handed out on B's page, and B's
**    span is MESHED: on no list, never current, never released;
**  - a secondary page is clean in the clean-page bitmap: its own physical
**    page was punched, so it is not resident and purges skip it. The stats
**    count its blocks in neither in_use nor floor (their bytes are in A's
**    page, counted there through A's used bits);
**  - unmeshing maps B back onto its own (zero) range BEFORE the last slots
**    are freed in A, so a purge of A's page never punches a page B maps.
**
** Memory: the table is an open-addressing hash (linear probing, tombstones)
** of 24-byte entries in a plain mapping, like the backing's tables; it is
** not counted in `mapped`. A secondary keeps L(B) in its entry as up to
** RCL_MESH_INLINE slot numbers; a larger L(B) is a bitmap in the spill
** array (see "L(B)"), which is unmapped whenever no entry uses it. The
** table's slots fill whole OS pages (any count, not a power of two)
** and at most 3/4 of them are in use, tombstones included; a new table
** is sized to twice the entries it will hold (at least a quarter of the
** one it replaces), so it shrinks too when unmeshing left tombstones, and
** a table less than an eighth full is replaced by a smaller one at the
** next reconciliation (rcl_mtab_upkeep). It is replaced incrementally (a
** few entries move per insertion and per reconciliation slice, see "The
** table"), and only before an insertion or before a reconciliation slice
** starts its walk. Mapping count: every maximal run of secondaries whose
** primaries are consecutive too (B+1 on A+1) splits its segment's mapping
** into at most two more: h->mesh_mappings is that upper count, and the
** process-wide sum is kept against a budget of three quarters of
** vm.max_map_count (RCL_MESH_BUDGET_QUARTERS): the rest of the process
** keeps the last quarter (16382 mappings at Linux's default 65530).
**
** Layer: heap core (after rcl_span.c); calls the OS layer (aliases) and
** rcl_span.c's span-state helpers. Owner only, under the heap lock (the
** background thread never meshes: the owner writes blocks without locks).
*/
#include "rcl_internal.h"

#include <string.h>
#include <sys/mman.h>

#define RCL_MESH_EMPTY ((uintptr_t)0)
#define RCL_MESH_TOMB  ((uintptr_t)1)

/* A table entry: a secondary (primary != 0: its primary, count = |L(B)|)
** or a primary (primary == 0, count = its secondaries). A secondary's
** L(B): while count <= RCL_MESH_INLINE, slot[0..count) are its slots in
** ascending order; above, slot[0] | slot[1] << 16 is the index of its
** bitmap in the spill array. count fits 16 bits: a page has at most
** RCL_MAX_PAGE / 16 slots. */
#define RCL_MESH_INLINE 3
typedef struct rcl_mesh_entry {
  uintptr_t page;         /* RCL_MESH_EMPTY, RCL_MESH_TOMB or an OS page */
  uintptr_t primary;
  uint16_t count;
  uint16_t slot[RCL_MESH_INLINE];
} rcl_mesh_entry;

/* Words of a bitmap of one page's slots (the largest page's). */
#define RCL_MESH_WORDS (RCL_MAX_PAGE / 16 / 64)

/* Process-wide mapping budget (the mappings aliases add, all heaps):
** RCL_MESH_BUDGET_QUARTERS quarters of vm.max_map_count. */
#define RCL_MESH_BUDGET_QUARTERS 3
static size_t rcl_mesh_map_used;            /* atomic */
static size_t rcl_mesh_map_budget;          /* read once (rcl_mesh_budget) */

static size_t rcl_mesh_budget(void)
{
  size_t b = rcl_load(&rcl_mesh_map_budget);
  if (!b) {
    b = rcl_os_max_map_count() / 4 * RCL_MESH_BUDGET_QUARTERS;
    rcl_store(&rcl_mesh_map_budget, b);
  }
  return b;
}

/* -- Page geometry ------------------------------------------------------------------ */

/* Where the slots of one OS page lie in its span. idx0 + k is the bitmap
** index of slot k; a block crossing the page's start or end (dense
** layouts only) has index lo_cross or hi_cross, else RCL_MESH_NONE. */
#define RCL_MESH_NONE 0xffffffffu
typedef struct rcl_mesh_geom {
  rcl_span *s;
  char *page, *first;     /* the page; its slot 0 */
  uint32_t nslots, idx0, lo_cross, hi_cross;
} rcl_mesh_geom;

/* Fills g for OS page `page` of a small span that is not current (or, with
** current_ok, one that is: the checker's view of a primary). Returns 0, or
** -1 if the page cannot mesh: no small span, a current one, a page holding
** an in-span bitmap, groups that are not OS pages. */
static int rcl_mesh_geom_in(const rcl_heap *h, char *page, rcl_mesh_geom *g, int current_ok)
{
  rcl_segment *seg = rcl_segment_of(page);
  rcl_span *s = rcl_span_at(seg, page);
  size_t ps = h->os_page_size;
  char *start;
  if (s == &seg->spans[0] || s->cls >= RCL_NCLASSES || s->nbits == 0) return -1;
  if (s->state != RCL_SPAN_PARTIAL && s->state != RCL_SPAN_FULL && s->state != RCL_SPAN_MESHED &&
      !(current_ok && s->state == RCL_SPAN_CURRENT)) return -1;
  start = rcl_span_start(s);
  if (rcl_span_bitmap_bytes(s) && page < start + s->bits_bytes) return -1;
  g->s = s;
  g->page = page;
  g->lo_cross = g->hi_cross = RCL_MESH_NONE;
  if (s->ngroups > 1) {
    uint32_t gi;
    if (((size_t)1 << s->group_shift) != ps) return -1;
    gi = (uint32_t)((size_t)(page - s->base) >> s->group_shift);
    if (page < s->base || rcl_group_base(s, gi) != page) return -1;
    g->first = page;
    g->nslots = s->group_blocks;
    g->idx0 = gi << s->group_bits_log2;
  } else {
    size_t size = s->block_size, i0, i1;
    i0 = page <= s->base ? 0 : ((size_t)(page - s->base) + size - 1) / size;
    i1 = (size_t)(page + ps - s->base) / size;
    if (page + ps <= s->base) return -1;
    if (i1 > s->nblocks) i1 = s->nblocks;
    if (i1 <= i0) return -1;
    g->first = s->base + i0 * size;
    g->nslots = (uint32_t)(i1 - i0);
    g->idx0 = (uint32_t)i0;
    if (i0 > 0 && g->first > page) g->lo_cross = (uint32_t)(i0 - 1);
    if (i1 < s->nblocks && s->base + i1 * size < page + ps) g->hi_cross = (uint32_t)i1;
  }
  return 0;
}

/* rcl_mesh_geom_in of a page whose span is not current. */
static int rcl_mesh_geom_of(const rcl_heap *h, char *page, rcl_mesh_geom *g)
{
  return rcl_mesh_geom_in(h, page, g, 0);
}

static int rcl_bit_get(const rcl_span *s, uint32_t idx)
{
  return (int)((rcl_load(&rcl_span_bits(s)[idx >> 6]) >> (idx & 63)) & 1);
}
static void rcl_bit_put(rcl_span *s, uint32_t idx, int free_bit)
{
  uint64_t *wp = &rcl_span_bits(s)[idx >> 6], bit = (uint64_t)1 << (idx & 63);
  rcl_store(wp, free_bit ? rcl_load(wp) | bit : rcl_load(wp) & ~bit);
}

/* -- The table ------------------------------------------------------------------------ */

/* Growth is incremental, so no insertion moves more than a few entries:
** a table that needs room (more than RCL_MTAB_MAX_LOAD of its slots not
** empty) is replaced by a new one (at most half full with every entry of
** both tables, at least a quarter as large), and each later insertion
** moves mesh_old_rate (at most 33) slots of the old table into it; a
** lookup tries the new table, then the old. The old table is gone before
** the new one needs room again (it is emptied within cap/8 insertions; the
** new one needs room after cap/4).
** Entries move only in rcl_mtab_room and rcl_mtab_upkeep, so an entry
** pointer stays valid until the next call of either, and a walk of both
** tables (rcl_mtab_slot) between them sees each entry once. */

static size_t rcl_mtab_slots(const rcl_heap *h) { return h->mesh_cap + (h->mesh_old ? h->mesh_old_cap : 0); }

/* Slot i of the walk: the new table's slots, then the old table's. */
static rcl_mesh_entry *rcl_mtab_slot(const rcl_heap *h, size_t i)
{
  if (i < h->mesh_cap) return (rcl_mesh_entry *)(void *)(h->mesh_tab + i * h->mesh_stride);
  return (rcl_mesh_entry *)(void *)(h->mesh_old + (i - h->mesh_cap) * h->mesh_stride);
}

#ifdef RCL_TEST_HOOKS
/* The walk index of entry e (rcl_mtab_slot(h, index) == e). */
static size_t rcl_mtab_index(const rcl_heap *h, const rcl_mesh_entry *e)
{
  const char *p = (const char *)e;
  if (p >= h->mesh_tab && p < h->mesh_tab + h->mesh_cap * h->mesh_stride)
    return (size_t)(p - h->mesh_tab) / h->mesh_stride;
  return h->mesh_cap + (size_t)(p - h->mesh_old) / h->mesh_stride;
}
#endif

static int rcl_mtab_in_old(const rcl_heap *h, const rcl_mesh_entry *e)
{
  const char *p = (const char *)e;
  return h->mesh_old && p >= h->mesh_old && p < h->mesh_old + h->mesh_old_cap * h->mesh_stride;
}

/* At most 3/4 of a table's slots are not empty (tombstones included). */
#define RCL_MTAB_MAX_LOAD(cap) ((cap) / 4 * 3)

/* page's home slot in a table of cap slots (any count below 2^32): the
** hash's top 32 bits scaled to cap. */
static size_t rcl_mtab_hash(uintptr_t page, size_t cap)
{
  uint64_t x = ((uint64_t)(page >> 12) * 0x9e3779b97f4a7c15ull) >> 32;
  return (size_t)((x * (uint64_t)cap) >> 32);
}

static size_t rcl_mtab_next(size_t i, size_t cap) { return i + 1 == cap ? 0 : i + 1; }

/* page's entry in one table (cap slots), or NULL. */
static rcl_mesh_entry *rcl_mtab_probe(char *tab, size_t cap, size_t stride, uintptr_t page)
{
  size_t i;
  if (!cap) return NULL;
  for (i = rcl_mtab_hash(page, cap); ; i = rcl_mtab_next(i, cap)) {
    rcl_mesh_entry *e = (rcl_mesh_entry *)(void *)(tab + i * stride);
    if (e->page == page) return e;
    if (e->page == RCL_MESH_EMPTY) return NULL;
  }
}

static rcl_mesh_entry *rcl_mtab_find(const rcl_heap *h, uintptr_t page)
{
  rcl_mesh_entry *e = rcl_mtab_probe(h->mesh_tab, h->mesh_cap, h->mesh_stride, page);
  if (!e && h->mesh_old) e = rcl_mtab_probe(h->mesh_old, h->mesh_old_cap, h->mesh_stride, page);
  return e;
}

/* A slot of the new table for page (in neither table; room ensured). */
static rcl_mesh_entry *rcl_mtab_claim(rcl_heap *h, uintptr_t page)
{
  size_t i;
  rcl_mesh_entry *e;
  for (i = rcl_mtab_hash(page, h->mesh_cap); ; i = rcl_mtab_next(i, h->mesh_cap)) {
    e = (rcl_mesh_entry *)(void *)(h->mesh_tab + i * h->mesh_stride);
    if (e->page == RCL_MESH_EMPTY || e->page == RCL_MESH_TOMB) break;
  }
  if (e->page == RCL_MESH_EMPTY) h->mesh_used++;
  return e;
}

/* A new entry for page (not in the table; room ensured by rcl_mtab_room). */
static rcl_mesh_entry *rcl_mtab_insert(rcl_heap *h, uintptr_t page)
{
  rcl_mesh_entry *e = rcl_mtab_claim(h, page);
  memset(e, 0, h->mesh_stride);
  e->page = page;
  h->mesh_live++;
  return e;
}

static void rcl_mtab_remove(rcl_heap *h, rcl_mesh_entry *e)
{
  RCL_ASSERT(!e->primary || e->count <= RCL_MESH_INLINE, "a secondary left the table holding a spill bitmap");
  if (rcl_mtab_in_old(h, e)) h->mesh_old_live--;
  e->page = RCL_MESH_TOMB;
  h->mesh_live--;
}

/* Move up to n slots of the old table into the new one; the old table
** goes when it is empty. */
static void rcl_mtab_move(rcl_heap *h, size_t n)
{
  for (; n && h->mesh_old_pos < h->mesh_old_cap; n--, h->mesh_old_pos++) {
    rcl_mesh_entry *e = (rcl_mesh_entry *)(void *)(h->mesh_old + h->mesh_old_pos * h->mesh_stride);
    if (e->page > RCL_MESH_TOMB) {
      memcpy(rcl_mtab_claim(h, e->page), e, h->mesh_stride);
      e->page = RCL_MESH_TOMB;
      h->mesh_old_live--;
    }
  }
  if (h->mesh_old && (h->mesh_old_pos == h->mesh_old_cap || !h->mesh_old_live)) {
    munmap(h->mesh_old, rcl_align_up(h->mesh_old_cap * h->mesh_stride, h->os_page_size));
    h->mesh_old = NULL;
    h->mesh_old_cap = h->mesh_old_pos = h->mesh_old_live = 0;
  }
}

/* Bytes of a table that replaces the current one and has room for `want`
** slots: at least 64 slots and a quarter of the table it replaces (so
** mesh_old_rate stays at most 33), in whole pages. */
static size_t rcl_mtab_bytes_for(const rcl_heap *h, size_t want)
{
  if (want < h->mesh_cap / 4) want = h->mesh_cap / 4;
  if (want < 64) want = 64;
  return rcl_align_up(want * h->mesh_stride, h->os_page_size);
}

/* Replaces the table by one of rcl_mtab_bytes_for(want) bytes and moves
** `more` insertions' share into it; there must be no old table. 0, or -1
** if no memory (counted in mmap_failed; nothing changed). */
static int rcl_mtab_replace(rcl_heap *h, size_t want, size_t more)
{
  size_t bytes = rcl_mtab_bytes_for(h, want), cap = bytes / h->mesh_stride;
  char *nt;
  RCL_ASSERT(!h->mesh_old, "a mesh table replaced while one is still moving");
  nt = (char *)rcl_os_map_plain(bytes);
  if (!nt) { h->mmap_failed++; return -1; }
  h->mesh_old = h->mesh_tab;
  h->mesh_old_cap = h->mesh_cap;
  h->mesh_old_pos = 0;
  h->mesh_old_live = h->mesh_live;
  h->mesh_old_rate = (8 * h->mesh_old_cap + cap - 1) / cap + 1;
  h->mesh_tab = nt;
  h->mesh_cap = cap;
  h->mesh_used = 0;
  if (h->mesh_old) rcl_mtab_move(h, h->mesh_old_rate * more);
  return 0;
}

/* Room for `more` insertions: the new table's non-empty slots, with the
** entries still to move and `more`, stay at most RCL_MTAB_MAX_LOAD of it.
** Moves this insertion's share of the old table. 0, or -1 if no memory. */
static int rcl_mtab_room(rcl_heap *h, size_t more)
{
  if (!h->mesh_stride) {
    h->mesh_words = (uint32_t)((h->os_page_size / 16 + 63) / 64);
    h->mesh_stride = (uint32_t)sizeof(rcl_mesh_entry);
  }
  if (h->mesh_old) rcl_mtab_move(h, h->mesh_old_rate * more);
  if (h->mesh_cap && h->mesh_used + h->mesh_old_live + more <= RCL_MTAB_MAX_LOAD(h->mesh_cap)) return 0;
  if (h->mesh_old) rcl_mtab_move(h, (size_t)-1);      /* not reached: see above */
  return rcl_mtab_replace(h, (h->mesh_live + more) * 2, more);   /* at most half full */
}

/* Upkeep off the insertion path, at the reconciliation entry points (no
** entry pointer is held there): moves up to n slots of an old table, so a
** table replaced near the end of a burst of meshing is not kept mapped
** until the next insertion; unmaps the table when it holds no entry; and
** replaces a table whose entries fill less than an eighth of its slots
** (unmeshing emptied it) by one of twice the entries, so the table's
** memory follows the meshed pages down as well as up. A refused mapping
** keeps the table as it is. */
static void rcl_mtab_upkeep(rcl_heap *h, size_t n)
{
  if (!h->mesh_old && h->mesh_tab && !h->mesh_live) {
    munmap(h->mesh_tab, rcl_align_up(h->mesh_cap * h->mesh_stride, h->os_page_size));
    h->mesh_tab = NULL;
    h->mesh_cap = h->mesh_used = 0;
    return;
  }
  if (!h->mesh_old && h->mesh_live < h->mesh_cap / 8 &&
      rcl_mtab_bytes_for(h, h->mesh_live * 2) < h->mesh_cap * h->mesh_stride)
    rcl_mtab_replace(h, h->mesh_live * 2, 0);
  if (h->mesh_old) rcl_mtab_move(h, n);
}

/* -- L(B) ------------------------------------------------------------------------------ */

/* The spill array holds the L(B) too large for an entry: mesh_spill_cap
** bitmaps of mesh_words words in one plain mapping (not counted in
** `mapped`), mesh_spill_live of them in use. A free bitmap's first word
** is the free list's next link (index + 1; 0 ends it; mesh_spill_free is
** the head). It grows by doubling (entries hold indices, so it may move)
** and is unmapped when its last bitmap is freed. */

static uint64_t *rcl_mesh_spill_at(const rcl_heap *h, uint32_t i)
{
  return h->mesh_spill + (size_t)i * h->mesh_words;
}

static uint32_t rcl_mesh_spill_index(const rcl_mesh_entry *e)
{
  return (uint32_t)e->slot[0] | (uint32_t)e->slot[1] << 16;
}

static size_t rcl_mesh_spill_bytes(const rcl_heap *h, size_t cap)
{
  return rcl_align_up(cap * h->mesh_words * sizeof(uint64_t), h->os_page_size);
}

/* A free bitmap in the spill array (it grows if none is). 0, or -1 if no
** memory (counted in mmap_failed; nothing changed). */
static int rcl_mesh_spill_room(rcl_heap *h)
{
  size_t cap, bytes, i, words = h->mesh_words;
  uint64_t *ns;
  if (h->mesh_spill_free) return 0;
  bytes = rcl_mesh_spill_bytes(h, h->mesh_spill_cap ? h->mesh_spill_cap * 2 : 1);
  cap = bytes / (words * sizeof(uint64_t));
  if (cap > UINT32_MAX) return -1;
  ns = (uint64_t *)rcl_os_map_plain(bytes);
  if (!ns) { h->mmap_failed++; return -1; }
  if (h->mesh_spill) {
    memcpy(ns, h->mesh_spill, h->mesh_spill_cap * words * sizeof(uint64_t));
    munmap(h->mesh_spill, rcl_mesh_spill_bytes(h, h->mesh_spill_cap));
  }
  for (i = cap; i-- > h->mesh_spill_cap; ) {       /* the list in ascending order */
    ns[i * words] = h->mesh_spill_free;
    h->mesh_spill_free = i + 1;
  }
  h->mesh_spill = ns;
  h->mesh_spill_cap = cap;
  return 0;
}

static void rcl_mesh_spill_put(rcl_heap *h, uint32_t i)
{
  rcl_mesh_spill_at(h, i)[0] = h->mesh_spill_free;
  h->mesh_spill_free = (size_t)i + 1;
  if (--h->mesh_spill_live == 0) {
    munmap(h->mesh_spill, rcl_mesh_spill_bytes(h, h->mesh_spill_cap));
    h->mesh_spill = NULL;
    h->mesh_spill_cap = h->mesh_spill_free = 0;
  }
}

/* L(B) of secondary e as a bitmap of RCL_MESH_WORDS words. */
static void rcl_mesh_live_get(const rcl_heap *h, const rcl_mesh_entry *e, uint64_t *bits)
{
  uint32_t i;
  memset(bits, 0, RCL_MESH_WORDS * sizeof(uint64_t));
  if (e->count > RCL_MESH_INLINE) {
    memcpy(bits, rcl_mesh_spill_at(h, rcl_mesh_spill_index(e)), h->mesh_words * sizeof(uint64_t));
    return;
  }
  for (i = 0; i < e->count; i++) bits[e->slot[i] >> 6] |= (uint64_t)1 << (e->slot[i] & 63);
}

/* Set L(B) of secondary e to `bits`, n slots of a page. Needs a free
** spill bitmap (rcl_mesh_spill_room) only when n > RCL_MESH_INLINE and e
** holds none: an L(B) that shrinks never needs one. */
static void rcl_mesh_live_set(rcl_heap *h, rcl_mesh_entry *e, const uint64_t *bits, uint32_t n)
{
  uint32_t i, k, x;
  if (e->count > RCL_MESH_INLINE) {
    x = rcl_mesh_spill_index(e);
    if (n > RCL_MESH_INLINE) {
      memcpy(rcl_mesh_spill_at(h, x), bits, h->mesh_words * sizeof(uint64_t));
      e->count = (uint16_t)n;
      return;
    }
    rcl_mesh_spill_put(h, x);
  }
  e->count = (uint16_t)n;
  if (n > RCL_MESH_INLINE) {
    RCL_ASSERT(h->mesh_spill_free, "no spill bitmap for a large L(B)");
    x = (uint32_t)(h->mesh_spill_free - 1);
    h->mesh_spill_free = rcl_mesh_spill_at(h, x)[0];
    h->mesh_spill_live++;
    memcpy(rcl_mesh_spill_at(h, x), bits, h->mesh_words * sizeof(uint64_t));
    e->slot[0] = (uint16_t)x;
    e->slot[1] = (uint16_t)(x >> 16);
    return;
  }
  for (i = k = 0; i < n && k < h->mesh_words * 64; k++)
    if ((bits[k >> 6] >> (k & 63)) & 1) e->slot[i++] = (uint16_t)k;
}

/* Whether secondary b's neighbour at b + dir pages is a secondary of the
** page next to b's primary a in the same direction, within the same
** segments (one mapping run). */
static int rcl_mesh_run_neighbour(const rcl_heap *h, uintptr_t b, uintptr_t a, int dir)
{
  size_t ps = h->os_page_size;
  uintptr_t nb = dir > 0 ? b + ps : b - ps, na = dir > 0 ? a + ps : a - ps;
  rcl_mesh_entry *e;
  if (rcl_segment_of((void *)nb) != rcl_segment_of((void *)b) ||
      rcl_segment_of((void *)na) != rcl_segment_of((void *)a)) return 0;
  e = rcl_mtab_find(h, nb);
  return e && e->primary == na;
}

/* Mappings that secondary b on a adds, given its neighbours (4 states of
** a run: alone 2, extends one run 0, joins two runs -2). */
static long rcl_mesh_map_delta(const rcl_heap *h, uintptr_t b, uintptr_t a)
{
  return 2 - 2 * (long)(rcl_mesh_run_neighbour(h, b, a, -1) + rcl_mesh_run_neighbour(h, b, a, 1));
}

static void rcl_mesh_count_mappings(rcl_heap *h, long delta)
{
  h->mesh_mappings = (size_t)((long)h->mesh_mappings + delta);
  __atomic_fetch_add(&rcl_mesh_map_used, (size_t)delta, __ATOMIC_RELAXED);
}

/* -- Meshing ---------------------------------------------------------------------------- */

/* Whether bit idx of span s is reserved by a secondary other than `page`
** (a block crossing the edge between two secondary pages). */
static int rcl_mesh_cross_reserved(const rcl_heap *h, const rcl_mesh_geom *g, uint32_t idx)
{
  size_t ps = h->os_page_size;
  const rcl_span *s = g->s;
  char *lo = rcl_idx_addr(s, idx), *hi = lo + s->block_size - 1;
  uintptr_t p = rcl_align_down((uintptr_t)lo, ps), q = rcl_align_down((uintptr_t)hi, ps);
  rcl_mesh_entry *e;
  if (p != (uintptr_t)g->page && (e = rcl_mtab_find(h, p)) && e->primary) return 1;
  if (q != (uintptr_t)g->page && (e = rcl_mtab_find(h, q)) && e->primary) return 1;
  return 0;
}

/*
** Mesh OS page b_page onto OS page a_page (owner, heap lock held). Both
** are pages of small spans of one class that are not current, with one
** slot grid (phase), on the memory file; A is no secondary and has fewer
** than RCL_MESH_MAX_SECONDARIES; B is neither, holds live blocks, no live
** block crosses its edges, and its live slots are free in A. Copies B's
** live blocks into A, aliases B onto A, and records B. Returns 0, or -1
** with nothing changed (a rule broken, the mapping budget spent, no memory
** for the table, or the OS refused the alias).
*/
/* Copy the blocks of B's slots set in `slots` to the same slots of A. */
static void rcl_mesh_copy_slots(const rcl_mesh_geom *gb, const rcl_mesh_geom *ga, const uint64_t *slots)
{
  size_t size = gb->s->block_size;
  uint32_t k;
  for (k = 0; k < gb->nslots; k++)
    if ((slots[k >> 6] >> (k & 63)) & 1) {
      char *dst = ga->first + (size_t)k * size;
      RCL_VG_DEFINED(dst, size);
      /* The whole block: memcheck marks its tail past the size asked for
      ** inaccessible at B's address, and the copy reads it on purpose. */
      RCL_VG_QUIET_BEGIN();
      memcpy(dst, gb->first + (size_t)k * size, size);
      RCL_VG_QUIET_END();
      RCL_VG_NOACCESS(dst, size);
    }
}

/* Whether the blocks crossing B's edges are free or reserved by a
** neighbouring secondary (no live block may cross the edge of a page
** that meshes). */
static int rcl_mesh_edges_free(const rcl_heap *h, const rcl_mesh_geom *gb)
{
  return !((gb->lo_cross != RCL_MESH_NONE && !rcl_bit_get(gb->s, gb->lo_cross) &&
            !rcl_mesh_cross_reserved(h, gb, gb->lo_cross)) ||
           (gb->hi_cross != RCL_MESH_NONE && !rcl_bit_get(gb->s, gb->hi_cross) &&
            !rcl_mesh_cross_reserved(h, gb, gb->hi_cross)));
}

/* B's page becomes a secondary of A (aliased already): L(B) (`live`, nlive
** slots) is used in A; every block on B's page is used in B's bitmap; the
** page is clean (punched); B's span is MESHED; the entry eb (B's, or NULL
** for a new one) records it. Room for the entries and, for a large L(B),
** a spill bitmap are ensured. Returns B's entry. */
static rcl_mesh_entry *rcl_mesh_make_secondary(rcl_heap *h, rcl_mesh_geom *gb, rcl_mesh_geom *ga,
                                               rcl_mesh_entry *eb, const uint64_t *live, uint32_t nlive)
{
  rcl_segment *segb = rcl_segment_of(gb->page);
  size_t pb = (size_t)(gb->page - (char *)segb) >> h->page_shift;
  rcl_mesh_entry *ea;
  uint32_t k, cleared = 0;
  for (k = 0; k < gb->nslots; k++)
    if ((live[k >> 6] >> (k & 63)) & 1) rcl_bit_put(ga->s, ga->idx0 + k, 0);
  rcl_store(&ga->s->nfree, (uint16_t)(rcl_load(&ga->s->nfree) - nlive));
  rcl_span_settle(h, ga->s);
  for (k = 0; k < gb->nslots; k++)
    if (rcl_bit_get(gb->s, gb->idx0 + k)) { rcl_bit_put(gb->s, gb->idx0 + k, 0); cleared++; }
  if (gb->lo_cross != RCL_MESH_NONE && rcl_bit_get(gb->s, gb->lo_cross)) { rcl_bit_put(gb->s, gb->lo_cross, 0); cleared++; }
  if (gb->hi_cross != RCL_MESH_NONE && rcl_bit_get(gb->s, gb->hi_cross)) { rcl_bit_put(gb->s, gb->hi_cross, 0); cleared++; }
  rcl_store(&gb->s->nfree, (uint16_t)(rcl_load(&gb->s->nfree) - cleared));
  if (rcl_clean_set(segb, pb, pb + 1)) {
    gb->s->nclean = (uint16_t)(gb->s->nclean + 1);
    h->mesh_released++;                           /* its physical page was punched */
  }
  rcl_span_park(h, gb->s);
  if (!eb) eb = rcl_mtab_insert(h, (uintptr_t)gb->page);
  eb->primary = (uintptr_t)ga->page;
  rcl_mesh_live_set(h, eb, live, nlive);
  ea = rcl_mtab_find(h, (uintptr_t)ga->page);
  if (!ea) ea = rcl_mtab_insert(h, (uintptr_t)ga->page);
  ea->count++;
  h->mesh_pages++;
  return eb;
}

/* filler: B must be empty (rcl_mesh_fill_gap); dry: check only, change nothing. */
static int rcl_mesh_page_do(rcl_heap *h, char *b_page, char *a_page, int filler, int dry)
{
  rcl_mesh_geom gb, ga;
  rcl_mesh_entry *eb, *ea;
  uint64_t live[RCL_MESH_WORDS];
  uint32_t k, nlive = 0;
  size_t ps = h->os_page_size, pb, pa;
  rcl_segment *segb = rcl_segment_of(b_page), *sega = rcl_segment_of(a_page);
  long delta;
  if ((((uintptr_t)b_page | (uintptr_t)a_page) & (ps - 1)) || b_page == a_page) return -1;
  if (rcl_mesh_geom_of(h, b_page, &gb) || rcl_mesh_geom_of(h, a_page, &ga)) return -1;
  if (gb.s->cls != ga.s->cls || gb.first - gb.page != ga.first - ga.page || gb.nslots != ga.nslots)
    return -1;
  eb = rcl_mtab_find(h, (uintptr_t)b_page);
  ea = rcl_mtab_find(h, (uintptr_t)a_page);
  if (eb || (ea && (ea->primary || ea->count >= RCL_MESH_MAX_SECONDARIES))) return -1;
  pb = (size_t)(b_page - (char *)segb) >> h->page_shift;
  pa = (size_t)(a_page - (char *)sega) >> h->page_shift;
  if (!filler && (rcl_page_is_clean(segb, pb) || rcl_page_is_clean(sega, pa))) return -1;
  if (!rcl_mesh_edges_free(h, &gb)) return -1;
  memset(live, 0, sizeof(live));
  for (k = 0; k < gb.nslots; k++)
    if (!rcl_bit_get(gb.s, gb.idx0 + k)) {
      if (!rcl_bit_get(ga.s, ga.idx0 + k)) return -1;    /* used in both */
      live[k >> 6] |= (uint64_t)1 << (k & 63);
      nlive++;
    }
  if ((filler ? nlive != 0 : nlive == 0) || !rcl_os_on_file(h, b_page) || !rcl_os_on_file(h, a_page))
    return -1;
  delta = rcl_mesh_map_delta(h, (uintptr_t)b_page, (uintptr_t)a_page);
  if (delta > 0 && rcl_load(&rcl_mesh_map_used) + (size_t)delta > rcl_mesh_budget()) return -1;
  if (dry) return 0;
  if (rcl_mtab_room(h, 2) || (nlive > RCL_MESH_INLINE && rcl_mesh_spill_room(h))) return -1;
  /* Copy, then alias at once: no write of B's blocks comes between. */
  rcl_mesh_copy_slots(&gb, &ga, live);
  if (rcl_os_page_alias(h, b_page, a_page) != 0) return -1;
  rcl_mesh_make_secondary(h, &gb, &ga, NULL, live, nlive);
  rcl_mesh_count_mappings(h, delta);
  return 0;
}

RCL_INTERN int rcl_mesh_page(rcl_heap *h, char *b_page, char *a_page)
{
  return rcl_mesh_page_do(h, b_page, a_page, 0, 0);
}

/* Whether rcl_mesh_page(h, b_page, a_page) would mesh now (nothing changed). */
RCL_INTERN int rcl_mesh_page_fits(rcl_heap *h, char *b_page, char *a_page)
{
  return rcl_mesh_page_do(h, b_page, a_page, 0, 1) == 0;
}

/* -- Reconciliation ------------------------------------------------------------------ */

/* Free bitmap index idx of span s, which is not current, under the lock:
** the ordinary free's effect, with the span's transition. */
static void rcl_mesh_free_idx(rcl_heap *h, rcl_span *s, uint32_t idx)
{
  unsigned word = idx >> 6;
  rcl_bit_put(s, idx, 1);
  if (word < s->scan) s->scan = (uint8_t)word;
  rcl_store(&s->nfree, (uint16_t)(rcl_load(&s->nfree) + 1));
  rcl_store(&s->freed_at, (uint32_t)h->clock);
}

/* Whether span s has a secondary page. */
RCL_INTERN int rcl_mesh_span_meshed(const rcl_heap *h, const rcl_span *s)
{
  size_t ps = h->os_page_size;
  uintptr_t p = (uintptr_t)rcl_span_start(s), end = (uintptr_t)rcl_span_end(s);
  for (; p < end; p += ps) {
    rcl_mesh_entry *e = rcl_mtab_find(h, p);
    if (e && e->primary) return 1;
  }
  return 0;
}

/* The secondary e (geometry gb), already unaliased and with L(B) empty,
** leaves the table: B maps its own range again (zeros, still clean), and
** every block of its page is free, except a block crossing into another
** secondary; B's span settles when it has no secondary left. */
static void rcl_mesh_drop(rcl_heap *h, rcl_mesh_entry *e, rcl_mesh_geom *gb)
{
  uint32_t k, freed_b = 0;
  uintptr_t primary = e->primary;
  long delta = rcl_mesh_map_delta(h, e->page, primary);
  rcl_mesh_entry *ea;
  rcl_mtab_remove(h, e);
  for (k = 0; k < gb->nslots; k++) { rcl_bit_put(gb->s, gb->idx0 + k, 1); freed_b++; }
  if (gb->lo_cross != RCL_MESH_NONE && !rcl_mesh_cross_reserved(h, gb, gb->lo_cross)) {
    rcl_bit_put(gb->s, gb->lo_cross, 1);
    freed_b++;
  }
  if (gb->hi_cross != RCL_MESH_NONE && !rcl_mesh_cross_reserved(h, gb, gb->hi_cross)) {
    rcl_bit_put(gb->s, gb->hi_cross, 1);
    freed_b++;
  }
  rcl_store(&gb->s->nfree, (uint16_t)(rcl_load(&gb->s->nfree) + freed_b));
  if (gb->idx0 >> 6 < gb->s->scan) gb->s->scan = (uint8_t)(gb->idx0 >> 6);
  rcl_span_unexamined(gb->s);     /* slots freed without a free's stamp (rcl_purge.c) */
  rcl_mesh_count_mappings(h, -delta);
  h->mesh_pages--;
  h->mesh_unmeshed++;
  ea = rcl_mtab_find(h, primary);
  RCL_ASSERT(ea && !ea->primary && ea->count > 0, "a secondary without its primary");
  if (--ea->count == 0) rcl_mtab_remove(h, ea);
  if (!rcl_mesh_span_meshed(h, gb->s)) {
    gb->s->state = RCL_SPAN_FULL;
    rcl_span_settle(h, gb->s);
  }
}

/* Fillers (docs/mesh.md): a secondary with L(B) empty, an empty page
** meshed only to join two runs, so that a gap of empty pages between two
** secondaries costs no mapping. A filler is valid while walking from it
** through consecutive partners (B+-k on A+-k) reaches a secondary with
** live blocks on each side within RCL_MESH_MAX_GAP pages. Its primary
** lies in the span of those secondaries' primaries (the mesher fills gaps
** inside one span), whose used bits keep that span from being released;
** only a reconciliation can release it, and the unmesh that breaks the run
** drops the filler (a drop the OS refuses waits for the walk; meanwhile
** the OS layer keeps the primary's segment mapped). A purge may punch the
** primary's page while a filler maps it: the filler holds no block. */
static int rcl_mesh_filler_side(const rcl_heap *h, uintptr_t b, uintptr_t a, int dir)
{
  size_t ps = h->os_page_size;
  unsigned n;
  for (n = 0; n < RCL_MESH_MAX_GAP; n++) {
    rcl_mesh_entry *e;
    if (!rcl_mesh_run_neighbour(h, b, a, dir)) return 0;
    b = dir > 0 ? b + ps : b - ps;
    a = dir > 0 ? a + ps : a - ps;
    e = rcl_mtab_find(h, b);
    if (e->count) return 1;
  }
  return 0;
}

static int rcl_mesh_filler_valid(const rcl_heap *h, const rcl_mesh_entry *e)
{
  return rcl_mesh_filler_side(h, e->page, e->primary, -1) && rcl_mesh_filler_side(h, e->page, e->primary, 1);
}

/* Unmesh filler e; 0, or -1 if the OS refused (it stays, retried later). */
static int rcl_mesh_filler_drop(rcl_heap *h, rcl_mesh_entry *e)
{
  rcl_mesh_geom gb;
  RCL_ASSERT(!rcl_mesh_geom_of(h, (char *)e->page, &gb), "a filler lost its span");
  if (rcl_os_page_unalias(h, (void *)e->page) != 0) return -1;
  rcl_mesh_drop(h, e, &gb);
  return 0;
}

/*
** Mesh the n empty pages b.. onto a.. as fillers (owner, heap lock held):
** the page before b is a secondary with live blocks on the page before a,
** and the page after the gap one on the page after. 0, or -1 with nothing
** changed.
*/
RCL_INTERN int rcl_mesh_fill_gap(rcl_heap *h, char *b, char *a, unsigned n)
{
  size_t ps = h->os_page_size;
  rcl_mesh_entry *l, *r;
  unsigned i;
  if (n == 0 || n > RCL_MESH_MAX_GAP ||
      !rcl_mesh_run_neighbour(h, (uintptr_t)b, (uintptr_t)a, -1) ||
      !rcl_mesh_run_neighbour(h, (uintptr_t)b + (n - 1) * ps, (uintptr_t)a + (n - 1) * ps, 1))
    return -1;
  l = rcl_mtab_find(h, (uintptr_t)b - ps);
  r = rcl_mtab_find(h, (uintptr_t)b + n * ps);
  if (!l->count || !r->count) return -1;
  for (i = 0; i < n; i++)
    if (rcl_mesh_page_do(h, b + i * ps, a + i * ps, 1, 0) != 0) {
      /* Undo the fillers made so far. One the OS refuses to unmesh stays
      ** (an empty page mapped onto a primary: no block lives on it), and
      ** is dropped with its run; the process never aborts on it. */
      while (i-- > 0) {
        rcl_mesh_entry *e = rcl_mtab_find(h, (uintptr_t)b + i * ps);
        if (rcl_mesh_filler_drop(h, e) != 0) break;
      }
      return -1;
    }
  return 0;
}

/* One secondary: move the frees made through B to A; unmesh B when L(B)
** is empty. Returns 1 if B was unmeshed. */
static int rcl_mesh_reconcile_one(rcl_heap *h, rcl_mesh_entry *e)
{
  rcl_mesh_geom gb, ga;
  uint64_t freed[RCL_MESH_WORDS], lb[RCL_MESH_WORDS];
  uint32_t k, nfreed = 0, stray = RCL_MESH_NONE;
  char *b_page = (char *)e->page, *a_page = (char *)e->primary;
  int unmesh;
  RCL_ASSERT(!rcl_mesh_geom_of(h, b_page, &gb), "a meshed page lost its span");
  if (rcl_mesh_geom_of(h, a_page, &ga)) {
    /* Between GC steps A's span may be current (a class cache hands out
    ** its free slots): the frees through B wait for the next round. */
    rcl_segment *sa = rcl_segment_of(a_page);
    RCL_ASSERT(rcl_span_at(sa, a_page)->state == RCL_SPAN_CURRENT, "a primary lost its span");
    return 0;
  }
  memset(freed, 0, sizeof(freed));
  rcl_mesh_live_get(h, e, lb);
  for (k = 0; k < gb.nslots; k++) {
    if (!rcl_bit_get(gb.s, gb.idx0 + k)) continue;
    if (!((lb[k >> 6] >> (k & 63)) & 1)) { stray = k; break; }
    freed[k >> 6] |= (uint64_t)1 << (k & 63);
    nfreed++;
  }
  if (stray != RCL_MESH_NONE) rcl_bad_free(gb.first + (size_t)stray * gb.s->block_size, 0, "double free");
  if (!nfreed) return 0;
  unmesh = nfreed == e->count;
  /* Unalias first: then no virtual page maps A's page through B when
  ** its last slots are freed (a purge may punch A's page after that). */
  if (unmesh && rcl_os_page_unalias(h, b_page) != 0) return 0;   /* retried next time */
  for (k = 0; k < gb.nslots; k++)
    if ((freed[k >> 6] >> (k & 63)) & 1) {
      rcl_bit_put(gb.s, gb.idx0 + k, 0);
      lb[k >> 6] &= ~((uint64_t)1 << (k & 63));
      rcl_mesh_free_idx(h, ga.s, ga.idx0 + k);
    }
  rcl_store(&gb.s->nfree, (uint16_t)(rcl_load(&gb.s->nfree) - nfreed));
  rcl_mesh_live_set(h, e, lb, e->count - nfreed);   /* shrinks: no spill bitmap taken */
  if (!unmesh) {
    rcl_span_settle(h, ga.s);
    return 0;
  }
  rcl_mesh_drop(h, e, &gb);
  /* A last: its span may be released now (B's span is another, or this
  ** one, settled above and then seen by the settle below). */
  rcl_span_settle(h, ga.s);
  return 1;
}

/* After secondary b left the table: the fillers next to it (walking away
** from b) that join no run any more leave too. Returns the unmeshes made. */
static unsigned rcl_mesh_drop_stale_fillers(rcl_heap *h, uintptr_t b)
{
  size_t ps = h->os_page_size;
  unsigned n = 0, k;
  int dir;
  for (dir = -1; dir <= 1; dir += 2)
    for (k = 1; k <= RCL_MESH_MAX_GAP; k++) {
      uintptr_t p = dir > 0 ? b + k * ps : b - k * ps;
      rcl_mesh_entry *e;
      if (rcl_segment_of((void *)p) != rcl_segment_of((void *)b)) break;
      e = rcl_mtab_find(h, p);
      if (!e || !e->primary || e->count || rcl_mesh_filler_valid(h, e) || rcl_mesh_filler_drop(h, e) != 0)
        break;
      n++;
    }
  return n;
}

/* -- Remeshing ---------------------------------------------------------------------- */

#define RCL_MESH_REMESH_MAPS 2    /* mappings moving a primary's secondaries may add */

/* Whether a filler lies within RCL_MESH_MAX_GAP pages of page b. */
static int rcl_mesh_filler_near(const rcl_heap *h, uintptr_t b)
{
  size_t ps = h->os_page_size;
  unsigned k;
  for (k = 1; k <= RCL_MESH_MAX_GAP; k++) {
    rcl_mesh_entry *e;
    if (rcl_segment_of((void *)(b + k * ps)) == rcl_segment_of((void *)b) &&
        (e = rcl_mtab_find(h, b + k * ps)) && e->primary && !e->count) return 1;
    if (rcl_segment_of((void *)(b - k * ps)) == rcl_segment_of((void *)b) &&
        (e = rcl_mtab_find(h, b - k * ps)) && e->primary && !e->count) return 1;
  }
  return 0;
}

/*
** Mesh primary B, with its secondaries secs[0..nsecs) (every one, in
** ascending order, none a filler), onto page A (owner, heap lock held). A
** is no secondary, of B's class and slot grid, and neither span is
** current; the slots used on B's page (B's own blocks and its
** secondaries' L) are free in A; A's secondaries, B's and B itself stay
** within RCL_MESH_MAX_SECONDARIES; no live block crosses B's edges; no
** filler lies within RCL_MESH_MAX_GAP pages of a secondary of B (a move
** would break its run); moving the secondaries adds at most
** RCL_MESH_REMESH_MAPS mappings (a secondary in a run leaves it), so a
** remesh costs at most that plus two (B's alias) for the page it releases.
** Copies B's used slots into A, then points each secondary of B at A (its
** L moves from B's bitmap to A's: the union rule holds after each), then
** makes B a secondary of A with L(B) = its own live slots, or, if it has
** none, leaves it a page without blocks for the purge. A secondary moved
** is a valid state, so a refusal on the way (the OS, the mapping budget,
** the alias distance) keeps what was done. Returns 1 when B is
** no primary any more, 0 when some of its secondaries stay on it, -1 with
** nothing changed.
*/
RCL_INTERN int rcl_mesh_primary(rcl_heap *h, char *b_page, char *a_page, const uintptr_t *secs, unsigned nsecs)
{
  rcl_mesh_geom gb, ga;
  rcl_mesh_entry *eb, *ea;
  uint64_t used[RCL_MESH_WORDS], own[RCL_MESH_WORDS], lb[RCL_MESH_WORDS];
  uint32_t k, nown = 0;
  unsigned i, moved = 0;
  long dsum = 0;
  size_t ps = h->os_page_size, w;
  rcl_segment *segb = rcl_segment_of(b_page), *sega = rcl_segment_of(a_page);
  if ((((uintptr_t)b_page | (uintptr_t)a_page) & (ps - 1)) || b_page == a_page || nsecs == 0) return -1;
  if (rcl_mesh_geom_of(h, b_page, &gb) || rcl_mesh_geom_of(h, a_page, &ga)) return -1;
  if (gb.s->cls != ga.s->cls || gb.first - gb.page != ga.first - ga.page || gb.nslots != ga.nslots)
    return -1;
  if (rcl_page_is_clean(segb, (size_t)(b_page - (char *)segb) >> h->page_shift) ||
      rcl_page_is_clean(sega, (size_t)(a_page - (char *)sega) >> h->page_shift) ||
      !rcl_mesh_edges_free(h, &gb) || !rcl_os_on_file(h, b_page) || !rcl_os_on_file(h, a_page))
    return -1;
  eb = rcl_mtab_find(h, (uintptr_t)b_page);
  ea = rcl_mtab_find(h, (uintptr_t)a_page);
  if (!eb || eb->primary || eb->count != nsecs || (ea && ea->primary) ||
      (ea ? ea->count : 0) + nsecs + 1 > RCL_MESH_MAX_SECONDARIES)
    return -1;
  memset(used, 0, sizeof(used));
  for (k = 0; k < gb.nslots; k++)
    if (!rcl_bit_get(gb.s, gb.idx0 + k)) {
      if (!rcl_bit_get(ga.s, ga.idx0 + k)) return -1;    /* used in both */
      used[k >> 6] |= (uint64_t)1 << (k & 63);
    }
  memcpy(own, used, sizeof(own));
  for (i = 0; i < nsecs; i++) {
    rcl_mesh_entry *e = rcl_mtab_find(h, secs[i]);
    if (!e || e->primary != (uintptr_t)b_page || e->count == 0 || (i && secs[i] <= secs[i - 1])) return -1;
    rcl_mesh_live_get(h, e, lb);
    for (w = 0; w < RCL_MESH_WORDS; w++) own[w] &= ~lb[w];
    if (rcl_mesh_filler_near(h, secs[i])) return -1;
    dsum += rcl_mesh_map_delta(h, secs[i], (uintptr_t)a_page) - rcl_mesh_map_delta(h, secs[i], (uintptr_t)b_page);
  }
  if (dsum > RCL_MESH_REMESH_MAPS) return -1;
  for (w = 0; w < RCL_MESH_WORDS; w++) nown += (uint32_t)rcl_popcount64(own[w]);
  if (rcl_mtab_room(h, 2) || (nown > RCL_MESH_INLINE && rcl_mesh_spill_room(h))) return -1;
  eb = rcl_mtab_find(h, (uintptr_t)b_page);           /* room may have moved entries */
  rcl_mesh_copy_slots(&gb, &ga, used);
  for (i = 0; i < nsecs; i++) {
    rcl_mesh_entry *e = rcl_mtab_find(h, secs[i]);
    long d = rcl_mesh_map_delta(h, secs[i], (uintptr_t)a_page) - rcl_mesh_map_delta(h, secs[i], (uintptr_t)b_page);
    uint32_t n = 0;
    if (d > 0 && rcl_load(&rcl_mesh_map_used) + (size_t)d > rcl_mesh_budget()) break;
    if (rcl_os_page_realias(h, (void *)secs[i], a_page) != 0) break;
    rcl_mesh_live_get(h, e, lb);
    for (k = 0; k < gb.nslots; k++)
      if ((lb[k >> 6] >> (k & 63)) & 1) {
        rcl_bit_put(ga.s, ga.idx0 + k, 0);
        rcl_mesh_free_idx(h, gb.s, gb.idx0 + k);
        n++;
      }
    rcl_store(&ga.s->nfree, (uint16_t)(rcl_load(&ga.s->nfree) - n));
    e->primary = (uintptr_t)a_page;
    ea = rcl_mtab_find(h, (uintptr_t)a_page);
    if (!ea) ea = rcl_mtab_insert(h, (uintptr_t)a_page);
    ea->count++;
    eb->count--;
    rcl_mesh_count_mappings(h, d);
    moved++;
  }
  if (moved == 0) return -1;                          /* copies into A's free slots: no change */
  h->mesh_remeshed++;
  if (eb->count == 0) {
    long d = rcl_mesh_map_delta(h, (uintptr_t)b_page, (uintptr_t)a_page);
    rcl_mtab_remove(h, eb);
    eb = NULL;
    if (nown && (d <= 0 || rcl_load(&rcl_mesh_map_used) + (size_t)d <= rcl_mesh_budget()) &&
        rcl_os_page_alias(h, b_page, a_page) == 0) {
      rcl_mesh_make_secondary(h, &gb, &ga, NULL, own, nown);
      rcl_mesh_count_mappings(h, d);
    } else {
      rcl_span_settle(h, gb.s);
    }
  } else {
    rcl_span_settle(h, gb.s);
  }
  rcl_span_settle(h, ga.s);
  return eb ? 0 : 1;
}

/*
** Reconciliation in slices (owner, heap lock held): moves every free made
** through a secondary to its primary and unmeshes the secondaries left
** empty, walking the table from h->mesh_rec_pos. A slice examines at most
** RCL_MESH_REC_SLOTS slots and makes at most RCL_MESH_REC_UNMESH unmeshes
** (each a system call that edits the process's mappings), so no GC step
** waits for a whole table. Frees through a secondary that a slice has not
** reached yet stay in B's bitmap (lazy reconciliation allows that), and an
** entry that growth moves behind the cursor waits for the next round.
** Fillers whose run broke leave with the secondary that broke it
** (rcl_mesh_drop_stale_fillers), or, if the OS refused then, when the walk
** reaches them. Returns 1 when the round is done.
*/
#define RCL_MESH_REC_SLOTS  2048
#define RCL_MESH_REC_UNMESH 16

static int rcl_mesh_reconcile_slice(rcl_heap *h, size_t max_slots, size_t max_unmesh)
{
  size_t slots = 0, unmesh = 0;
  if (!h->mesh_pages) {
    h->mesh_rec_armed = 0;
    return 1;
  }
  while (h->mesh_rec_pos < rcl_mtab_slots(h)) {
    rcl_mesh_entry *e = rcl_mtab_slot(h, h->mesh_rec_pos);
    if (slots >= max_slots || unmesh >= max_unmesh) return 0;
    slots++;
    h->mesh_rec_pos++;
    if (e->page <= RCL_MESH_TOMB || !e->primary) continue;
    if (e->count) {
      uintptr_t b = e->page;
      if (rcl_mesh_reconcile_one(h, e)) unmesh += 1 + rcl_mesh_drop_stale_fillers(h, b);
    } else if (!rcl_mesh_filler_valid(h, e)) {
      uintptr_t b = e->page;
      if (rcl_mesh_filler_drop(h, e) == 0) unmesh += 1 + rcl_mesh_drop_stale_fillers(h, b);
    } else {
      rcl_mesh_reconcile_one(h, e);                 /* a free on a filler: a double free */
    }
  }
  h->mesh_rec_armed = 0;
  return 1;
}

static void rcl_mesh_pause(rcl_heap *h, uint64_t t0)
{
  uint64_t ns = rcl_os_cpu_ns() - t0;
  if (ns > h->mesh_max_pause_ns) h->mesh_max_pause_ns = ns;
}

/* A GC cycle ended: start a reconciliation round (or go on with the one
** under way) and run its first slice. */
RCL_INTERN void rcl_mesh_reconcile(rcl_heap *h)
{
  uint64_t t0;
  if (!h->mesh_pages && !h->mesh_tab && !h->mesh_old) return;
  t0 = rcl_os_cpu_ns();
  rcl_mtab_upkeep(h, RCL_MESH_REC_SLOTS);
  if (!h->mesh_rec_armed) {
    h->mesh_rec_armed = 1;
    h->mesh_rec_pos = 0;
  }
  rcl_mesh_reconcile_slice(h, RCL_MESH_REC_SLOTS, RCL_MESH_REC_UNMESH);
  rcl_mesh_pause(h, t0);
}

/* One GC step's slice of the round under way; 1 when none is left. */
RCL_INTERN int rcl_mesh_reconcile_step(rcl_heap *h)
{
  uint64_t t0;
  int done;
  if (!h->mesh_rec_armed && !h->mesh_old) return 1;
  t0 = rcl_os_cpu_ns();
  rcl_mtab_upkeep(h, RCL_MESH_REC_SLOTS);
  done = !h->mesh_rec_armed || rcl_mesh_reconcile_slice(h, RCL_MESH_REC_SLOTS, RCL_MESH_REC_UNMESH);
  rcl_mesh_pause(h, t0);
  return done;
}

/* Full GC, purge(): a whole round now, from the first slot (a full GC is
** no step). */
RCL_INTERN void rcl_mesh_reconcile_finish(rcl_heap *h)
{
  rcl_mtab_upkeep(h, (size_t)-1);
  h->mesh_rec_armed = 1;                            /* from the start: every free so far */
  h->mesh_rec_pos = 0;
  rcl_mesh_reconcile_slice(h, (size_t)-1, (size_t)-1);
}

#ifdef RCL_VALGRIND
/* Heap destruction under memcheck: the bits a secondary e holds for the
** mesh only are freed, so rcl_segments_destroy tells memcheck of the live
** blocks alone: in A the slots of L(B) (the block lives at B's address),
** in B its other slots and its crossing blocks (placeholders). */
static void rcl_mesh_destroy_bits(rcl_heap *h, const rcl_mesh_entry *e)
{
  rcl_mesh_geom gb, ga;
  uint64_t lb[RCL_MESH_WORDS];
  uint32_t k;
  if (rcl_mesh_geom_in(h, (char *)e->page, &gb, 1) || rcl_mesh_geom_in(h, (char *)e->primary, &ga, 1)) return;
  rcl_mesh_live_get(h, e, lb);
  for (k = 0; k < gb.nslots; k++)
    if ((lb[k >> 6] >> (k & 63)) & 1) rcl_bit_put(ga.s, ga.idx0 + k, 1);
    else rcl_bit_put(gb.s, gb.idx0 + k, 1);
  if (gb.lo_cross != RCL_MESH_NONE) rcl_bit_put(gb.s, gb.lo_cross, 1);
  if (gb.hi_cross != RCL_MESH_NONE) rcl_bit_put(gb.s, gb.hi_cross, 1);
}
#endif

/* Heap destruction: every secondary maps its own range again (segments
** are then unmapped in any order), and the table goes. */
RCL_INTERN void rcl_mesh_destroy(rcl_heap *h)
{
  size_t i;
  for (i = 0; i < rcl_mtab_slots(h); i++) {
    rcl_mesh_entry *e = rcl_mtab_slot(h, i);
    if (e->page <= RCL_MESH_TOMB || !e->primary) continue;
#ifdef RCL_VALGRIND
    rcl_mesh_destroy_bits(h, e);
#endif
    rcl_os_page_unalias(h, (void *)e->page);
  }
  __atomic_fetch_sub(&rcl_mesh_map_used, h->mesh_mappings, __ATOMIC_RELAXED);
  h->mesh_mappings = 0;
  h->mesh_pages = 0;
  if (h->mesh_tab) munmap(h->mesh_tab, rcl_align_up(h->mesh_cap * h->mesh_stride, h->os_page_size));
  if (h->mesh_old) munmap(h->mesh_old, rcl_align_up(h->mesh_old_cap * h->mesh_stride, h->os_page_size));
  if (h->mesh_spill) munmap(h->mesh_spill, rcl_mesh_spill_bytes(h, h->mesh_spill_cap));
  h->mesh_spill = NULL;
  h->mesh_spill_cap = h->mesh_spill_free = h->mesh_spill_live = 0;
  h->mesh_tab = h->mesh_old = NULL;
  h->mesh_cap = h->mesh_used = h->mesh_live = 0;
  h->mesh_old_cap = h->mesh_old_pos = h->mesh_old_live = 0;
  h->mesh_rec_armed = 0;
}

/* -- For the mesher (rcl_mesher.c) -------------------------------------------------- */

/* Fills pi for OS page `page`; -1 if it cannot mesh (rcl_mesh_geom_of). */
RCL_INTERN int rcl_mesh_page_info_of(const rcl_heap *h, char *page, rcl_mesh_page_info *pi)
{
  rcl_mesh_geom g;
  rcl_mesh_entry *e;
  uint32_t k, used = 0;
  uint64_t fold = 0;
  if (rcl_mesh_geom_of(h, page, &g)) return -1;
  for (k = 0; k < g.nslots; k++)
    if (!rcl_bit_get(g.s, g.idx0 + k)) {
      used++;
      fold |= (uint64_t)1 << (k & 63);
    }
  pi->used_fold = fold;
  pi->cls = g.s->cls;
  pi->phase = (uint32_t)(g.first - page);
  pi->nslots = g.nslots;
  pi->nused = used;
  e = rcl_mtab_find(h, (uintptr_t)page);
  pi->role = !e ? RCL_MESH_ROLE_NONE : e->primary ? RCL_MESH_ROLE_SECONDARY : RCL_MESH_ROLE_PRIMARY;
  pi->secondaries = e && !e->primary ? e->count : 0;
  pi->primary = e ? e->primary : 0;
  pi->live = e && e->primary ? e->count : 0;
  return 0;
}

/* Quarters of the process-wide mapping budget in use (0..4). */
RCL_INTERN unsigned rcl_mesh_budget_quarters(void)
{
  size_t used = rcl_load(&rcl_mesh_map_used), b = rcl_mesh_budget();
  return used >= b ? 4 : (unsigned)(used * 4 / b);
}

/* Whether the process-wide mapping budget has room for `mappings` more. */
RCL_INTERN int rcl_mesh_budget_left(size_t mappings)
{
  return rcl_load(&rcl_mesh_map_used) + mappings <= rcl_mesh_budget();
}

/* -- Purging ------------------------------------------------------------------------- */

/* Mark free in `bits` (a copy of the bitmap of span s, MESHED) the blocks
** crossing the edges of s's secondary pages: a secondary holds them used
** only so that nothing is allocated across its edge (they hold no live
** block: rcl_mesh_page meshes only when they are free), and their bytes on
** the neighbouring page would otherwise keep that page from ever being
** purged. A secondary page keeps at least one whole slot used (a page
** without one does not mesh), so no free range marked here covers it.
** Returns the bits it set. */
RCL_INTERN uint32_t rcl_mesh_free_crossings(const rcl_heap *h, const rcl_span *s, uint64_t *bits)
{
  size_t ps = h->os_page_size;
  uintptr_t p = (uintptr_t)rcl_span_start(s), end = (uintptr_t)rcl_span_end(s);
  uint32_t set = 0;
  if (s->state != RCL_SPAN_MESHED || s->ngroups > 1) return 0;   /* page-fit: nothing crosses */
  for (; p < end; p += ps) {
    rcl_mesh_entry *e = rcl_mtab_find(h, p);
    rcl_mesh_geom g;
    uint32_t c[2], i;
    if (!e || !e->primary || rcl_mesh_geom_of(h, (char *)p, &g)) continue;
    c[0] = g.lo_cross;
    c[1] = g.hi_cross;
    for (i = 0; i < 2; i++)
      if (c[i] != RCL_MESH_NONE && !((bits[c[i] >> 6] >> (c[i] & 63)) & 1)) {
        bits[c[i] >> 6] |= (uint64_t)1 << (c[i] & 63);
        set++;
      }
  }
  return set;
}

/* -- Observation ---------------------------------------------------------------------- */

/* Mark free in `bits` (a copy of span s's bitmap) every block that
** overlaps a secondary page of s: the stats count those pages as clean
** and their blocks in their primaries. */
RCL_INTERN void rcl_mesh_mask_span(const rcl_heap *h, const rcl_span *s, uint64_t *bits)
{
  size_t ps = h->os_page_size;
  uintptr_t p = (uintptr_t)rcl_span_start(s), end = (uintptr_t)rcl_span_end(s);
  if (s->state != RCL_SPAN_MESHED) return;
  for (; p < end; p += ps) {
    rcl_mesh_entry *e = rcl_mtab_find(h, p);
    rcl_mesh_geom g;
    uint32_t k;
    if (!e || !e->primary || rcl_mesh_geom_of(h, (char *)p, &g)) continue;
    for (k = 0; k < g.nslots; k++) bits[(g.idx0 + k) >> 6] |= (uint64_t)1 << ((g.idx0 + k) & 63);
    if (g.lo_cross != RCL_MESH_NONE) bits[g.lo_cross >> 6] |= (uint64_t)1 << (g.lo_cross & 63);
    if (g.hi_cross != RCL_MESH_NONE) bits[g.hi_cross >> 6] |= (uint64_t)1 << (g.hi_cross & 63);
  }
}

#ifdef RCL_TEST_HOOKS
RCL_API size_t rcl_test_mesh_budget(size_t budget, size_t *used)
{
  size_t b = rcl_mesh_budget();
  if (budget) rcl_store(&rcl_mesh_map_budget, budget);
  if (used) *used = rcl_load(&rcl_mesh_map_used);
  return b;
}

RCL_API int rcl_test_mesh_page(rcl_heap *h, void *b, void *a)
{
  int r;
  rcl_lock(h);
  r = rcl_mesh_page(h, (char *)b, (char *)a);
  rcl_unlock(h);
  return r;
}

/* rcl_mesh_primary with every secondary of b (found by a walk of the table). */
RCL_API int rcl_test_mesh_primary(rcl_heap *h, void *b, void *a)
{
  uintptr_t secs[RCL_MESH_MAX_SECONDARIES + 1];
  unsigned n = 0, i, j;
  size_t k;
  int r;
  rcl_lock(h);
  for (k = 0; k < rcl_mtab_slots(h) && n <= RCL_MESH_MAX_SECONDARIES; k++) {
    rcl_mesh_entry *e = rcl_mtab_slot(h, k);
    if (e->page > RCL_MESH_TOMB && e->primary == (uintptr_t)b) secs[n++] = e->page;
  }
  for (i = 1; i < n; i++)                           /* ascending */
    for (j = i; j > 0 && secs[j - 1] > secs[j]; j--) { uintptr_t t = secs[j]; secs[j] = secs[j - 1]; secs[j - 1] = t; }
  r = n <= RCL_MESH_MAX_SECONDARIES ? rcl_mesh_primary(h, (char *)b, (char *)a, secs, n) : -1;
  rcl_unlock(h);
  return r;
}

RCL_API uint64_t rcl_test_mesh_remeshed(rcl_heap *h)
{
  uint64_t n;
  rcl_lock(h);
  n = h->mesh_remeshed;
  rcl_unlock(h);
  return n;
}

RCL_API size_t rcl_test_mesh_table(rcl_heap *h, size_t *slots, size_t *old_slots, size_t *entries)
{
  size_t bytes = 0;
  rcl_lock(h);
  *slots = h->mesh_cap;
  *old_slots = h->mesh_old ? h->mesh_old_cap : 0;
  *entries = h->mesh_live;
  if (h->mesh_tab) bytes += rcl_align_up(h->mesh_cap * h->mesh_stride, h->os_page_size);
  if (h->mesh_old) bytes += rcl_align_up(h->mesh_old_cap * h->mesh_stride, h->os_page_size);
  rcl_unlock(h);
  return bytes;
}

/* The mesh table's invariants (file header), for rcl_test_check. */
RCL_INTERN int rcl_mesh_check(rcl_heap *h, char *err, size_t errlen)
{
  size_t i, secondaries = 0, runs = 0, spilled = 0, words = h->mesh_words, scratch_bytes;
  uint64_t *scratch;        /* per table slot: [count, union of L(B) words...] */
  int r = 0;
  if (!h->mesh_cap) {
    if (h->mesh_pages || h->mesh_mappings)
      return rcl_errorf(err, errlen, "mesh: %zu pages, %zu mappings without a table",
                        h->mesh_pages, h->mesh_mappings);
    return 0;
  }
  if (h->mesh_used + h->mesh_old_live > RCL_MTAB_MAX_LOAD(h->mesh_cap) || h->mesh_live > h->mesh_used + h->mesh_old_live)
    return rcl_errorf(err, errlen, "mesh table: %zu slots used and %zu entries to move in %zu slots, %zu entries",
                      h->mesh_used, h->mesh_old_live, h->mesh_cap, h->mesh_live);
  scratch_bytes = rcl_mtab_slots(h) * (words + 1) * sizeof(uint64_t);
  /* Not through rcl_os_map_plain: the checker is no allocation path, so
  ** injected mapping faults must not reach it. */
  scratch = (uint64_t *)mmap(NULL, rcl_align_up(scratch_bytes, h->os_page_size), PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (scratch == (uint64_t *)MAP_FAILED) return rcl_errorf(err, errlen, "mesh check: no memory");
  for (i = 0; i < rcl_mtab_slots(h) && !r; i++) {
    rcl_mesh_entry *e = rcl_mtab_slot(h, i), *ea;
    rcl_mesh_geom gb, ga;
    uint64_t *acc, lb[RCL_MESH_WORDS];
    uint32_t k, n = 0;
    rcl_segment *seg;
    if (e->page <= RCL_MESH_TOMB || !e->primary) continue;
    secondaries++;
    if (e->count > RCL_MESH_INLINE) {
      if (rcl_mesh_spill_index(e) >= h->mesh_spill_cap) {
        r = rcl_errorf(err, errlen, "mesh: secondary %#lx: spill bitmap %u of %zu",
                       (unsigned long)e->page, rcl_mesh_spill_index(e), h->mesh_spill_cap);
        break;
      }
      spilled++;
    }
    rcl_mesh_live_get(h, e, lb);
    if (!rcl_mesh_run_neighbour(h, e->page, e->primary, -1)) runs++;
    ea = rcl_mtab_find(h, e->primary);
    if (!ea || ea->primary || rcl_mesh_geom_of(h, (char *)e->page, &gb) ||
        rcl_mesh_geom_in(h, (char *)e->primary, &ga, 1)) {  /* a primary's span may be
                                                           current between cache flushes */
      r = rcl_errorf(err, errlen, "mesh: secondary %#lx on %#lx: no primary entry or span",
                     (unsigned long)e->page, (unsigned long)e->primary);
      break;
    }
    seg = rcl_segment_of((void *)e->page);
    if (!rcl_os_page_aliases(h, (void *)e->page, (void *)e->primary)) {
      r = rcl_errorf(err, errlen, "mesh: secondary %#lx does not map its primary %#lx",
                     (unsigned long)e->page, (unsigned long)e->primary);
      break;
    }
    if (gb.s->state != RCL_SPAN_MESHED || gb.s->cls != ga.s->cls || gb.first - gb.page != ga.first - ga.page ||
        !rcl_page_is_clean(seg, (size_t)(e->page - (uintptr_t)seg) >> h->page_shift)) {
      r = rcl_errorf(err, errlen, "mesh: secondary %#lx: span state %d, class %u/%u, or its page is not clean",
                     (unsigned long)e->page, gb.s->state, gb.s->cls, ga.s->cls);
      break;
    }
    acc = scratch + rcl_mtab_index(h, ea) * (words + 1);
    for (k = 0; k < gb.nslots; k++) {
      int in_l = (int)((lb[k >> 6] >> (k & 63)) & 1);
      if (!in_l) {
        if (rcl_bit_get(gb.s, gb.idx0 + k)) {
          r = rcl_errorf(err, errlen, "mesh: secondary %#lx slot %u: free in B but not in L(B)",
                         (unsigned long)e->page, k);
          break;
        }
        continue;
      }
      n++;
      if (rcl_bit_get(ga.s, ga.idx0 + k)) {
        r = rcl_errorf(err, errlen, "mesh: secondary %#lx slot %u: in L(B) but free in its primary (union rule)",
                       (unsigned long)e->page, k);
        break;
      }
      if ((acc[1 + (k >> 6)] >> (k & 63)) & 1) {
        r = rcl_errorf(err, errlen, "mesh: slot %u of primary %#lx held by two secondaries",
                       k, (unsigned long)e->primary);
        break;
      }
      acc[1 + (k >> 6)] |= (uint64_t)1 << (k & 63);
    }
    if (r) break;
    for (k = gb.nslots; k < RCL_MESH_WORDS * 64; k++)
      if ((lb[k >> 6] >> (k & 63)) & 1) n = 0xffffffffu;
    /* A filler whose drop the OS refused stays until a later walk retries
    ** it (rcl_mesh_filler_drop): it holds no block and only costs its
    ** mapping, so after a refusal a filler may join no run. */
    if (n != e->count || (n == 0 && !rcl_mesh_filler_valid(h, e) && !rcl_os_alias_refusals(h)) ||
        (gb.lo_cross != RCL_MESH_NONE && rcl_bit_get(gb.s, gb.lo_cross)) ||
        (gb.hi_cross != RCL_MESH_NONE && rcl_bit_get(gb.s, gb.hi_cross))) {
      r = rcl_errorf(err, errlen, "mesh: secondary %#lx: L(B) has %u slots, counted %u, a crossing block is free, or a filler joins no run",
                     (unsigned long)e->page, n, e->count);
      break;
    }
    acc[0]++;
  }
  for (i = 0; i < rcl_mtab_slots(h) && !r; i++) {
    rcl_mesh_entry *e = rcl_mtab_slot(h, i);
    if (e->page <= RCL_MESH_TOMB || e->primary) continue;
    if (e->count == 0 || e->count > RCL_MESH_MAX_SECONDARIES || scratch[i * (words + 1)] != e->count)
      r = rcl_errorf(err, errlen, "mesh: primary %#lx counts %u secondaries, has %llu",
                     (unsigned long)e->page, e->count, (unsigned long long)scratch[i * (words + 1)]);
  }
  munmap(scratch, rcl_align_up(scratch_bytes, h->os_page_size));
  if (r) return r;
  /* Aliases a test makes by hand (rcl_test_page_alias) are not in the table. */
  if (spilled != h->mesh_spill_live)
    return rcl_errorf(err, errlen, "mesh: %zu spill bitmaps in use, %zu entries hold one", h->mesh_spill_live, spilled);
  if (secondaries != h->mesh_pages || 2 * runs != h->mesh_mappings || secondaries > rcl_os_alias_count(h))
    return rcl_errorf(err, errlen, "mesh: %zu secondaries (counted %zu), %zu mappings (counted %zu), %zu aliases",
                      secondaries, h->mesh_pages, 2 * runs, h->mesh_mappings, rcl_os_alias_count(h));
  return 0;
}
#endif

