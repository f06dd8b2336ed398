/*
** rcl_mesher.c: the mesher: which OS pages mesh, and when (docs/mesh.md,
** step 4). The mechanism, its rules and the mesh table are the heap
** core's (rcl_mesh_core.c); this file only chooses pairs.
**
** Pairing: first fit by span, in address order. A pass walks the spans
** that are not current; a page is a candidate when no more than half of
** its slots are used and it is neither primary nor secondary. A candidate
** page at offset o of its span tries the page at offset o of each open
** span of its class (the last RCL_MESHER_OPEN spans with a candidate that
** meshed nowhere, oldest replaced first), starting with the open span the
** span's previous page went to. Spans of one class have one layout, so
** pages at one offset have one phase, and consecutive pages meshed onto
** consecutive pages form runs: a run adds two mappings however long it
** is (a page-fit span of 16 pages onto another: 2 instead of 32). Up to
** RCL_MESH_MAX_GAP empty pages between two pages meshed onto one span are
** meshed too, as fillers (rcl_mesh_core.c), so the gap does not split the
** run: at 2% survivors a quarter of a 64-byte class's pages are empty.
** A full pass (rcl_mesher_full) walks four times, leaving alone runs of
** fewer than 8, then 4, 2 and 1 pages with live blocks, so the mapping
** budget goes first to the runs that release the most pages per mapping.
** The mapping budget is shared by every heap of the process: while a
** quarter of it is in use, runs of one page with live blocks are meshed;
** then only runs of two, then (half used) of three or more, so the pages
** it buys per mapping rise as it runs out.
** The split pass ends a full pass: every candidate the walks left tries
** the pages of its slot grid (class, slots, phase) whatever their offsets,
** the fuller ones first, and several candidates may mesh onto one primary
** (the Mesh paper's SplitMesher, with its probes bounded). Remeshing ends
** it: a primary, least used first, with its secondaries meshes onto a
** fuller primary of its grid whose used slots are disjoint from its own
** (rcl_mesh_primary), so sparse primaries release pages too. Each mesh it
** makes extends both ways: the pages beside the secondary mesh onto the
** pages beside its primary while they fit, across gaps of empty pages
** (fillers), and so add no mapping. A secondary left alone costs up to two
** mappings for one page, so the pass stops once three quarters of the
** mapping budget are in use. In a full pass no empty page
** becomes a primary (it would release nothing); GC steps do not check.
**
** When (owner only, heap lock held; the background thread never meshes):
**  - a GC cycle end arms a pass (rcl_mesher_arm, after the reconciliation
**    and the sorting of the partial lists), and each GC step advances it by
**    a budget: RCL_MESHER_STEP_WORK bitmap words examined and compared and
**    at most RCL_MESHER_STEP_MESHES meshes (each copies at most a page and
**    makes two system calls). The cursor resumes at the next step;
**    mesh_max_pause_ns keeps the longest step. A cycle end starts no pass
**    while the back-off skips cycles (rcl_mesher_skip_cycle: the heap
**    unmeshes about as many pages as the passes mesh). A GC-step pass
**    skips every span freed into less than decay_ms ago (its freed_at, the
**    age purging honours): its survivors are as young as its garbage and
**    its free slots are about to be handed out again, so meshing it would
**    buy a copy, two mappings, a TLB flush and a refault for a page the
**    heap unmeshes within a cycle or two. Except after a quiet cycle: one
**    with at most RCL_MESHER_QUIET_REFILLS allocation slow paths (chunk
**    refills, runs, medium blocks) was a collection the host ran without
**    allocating (collectgarbage("step") in an idle moment, reclaim.idle()),
**    after which nothing refills the pages, so its pass meshes every
**    span, and the first quiet cycle after a busy one starts a pass
**    whatever the back-off says. Full passes mesh every span;
**  - the reconciliation (rcl_mesh_core.c) runs in slices too: while one
**    is under way, a GC step advances it instead of the pass;
**  - a full GC and purge() finish the reconciliation and run a whole pass
**    at once (rcl_mesher_full: the walks, then the split pass), before they
**    purge, so the pages of emptied spans go back too. GC steps run the
**    walks only.
** Nothing meshes with mesh=off, on the anonymous backing, or once the
** process-wide mapping budget (rcl_mesh_core.c) is spent.
**
** Layer: reclaim policy, below rcl_purge.c (which arms it and runs it
** before a full purge); calls the heap core (rcl_mesh_core.c) and the OS
** layer (clock, plain mappings).
*/
#include "rcl_internal.h"

#include <string.h>
#include <sys/mman.h>

#define RCL_MESHER_OPEN        32     /* open primaries per class */
#define RCL_MESHER_STEP_WORK   2048   /* bitmap words examined per GC step */
#define RCL_MESHER_STEP_MESHES 8      /* meshes per GC step (a mesh makes 2 system calls) */
#define RCL_MESHER_ROUNDS      3      /* open spans one span's pages may go to */
#define RCL_MESHER_SPLIT_PROBES 32    /* pages one candidate tries (split pass) */
#define RCL_MESHER_SPLIT_QUARTERS 3   /* the split pass leaves the last quarter of the budget to runs */
#define RCL_MESHER_CHURN_MIN   16     /* secondaries a GC-step pass makes before the back-off judges it */
#define RCL_MESHER_IDLE_PASSES 4      /* GC-step passes judged idle when they made fewer */
#define RCL_MESHER_BACKOFF_MAX 16     /* most cycles skipped after a GC-step pass */
#define RCL_MESHER_QUIET_REFILLS 2    /* allocation slow paths of a cycle the host ran without allocating */

/* Open primary spans of each class (span starts), 0 = none. */
struct rcl_mesher {
  uintptr_t open[RCL_NCLASSES][RCL_MESHER_OPEN];
  uint8_t next[RCL_NCLASSES];     /* the slot the next open span replaces */
  unsigned min_run;               /* runs shorter than this are left alone (full passes) */
};

typedef struct rcl_mesher_budget {
  size_t work, meshes;            /* spent */
  size_t max_work, max_meshes;    /* allowed */
  rcl_decay settled;              /* GC-step passes: a span whose last free is younger
                                     than decay_ms is unsettled and skipped */
} rcl_mesher_budget;

/* Whether h meshes now; makes the open-span table at the first pass. */
static int rcl_mesher_ready(rcl_heap *h)
{
  if (!h->cfg.mesh || !rcl_os_file_backed(h)) return 0;
  if (!h->mesher && !(h->mesher = (struct rcl_mesher *)rcl_os_map_plain(sizeof(struct rcl_mesher))))
    h->mmap_failed++;
  return h->mesher != NULL;
}

static void rcl_mesher_restart(rcl_heap *h)
{
  memset(h->mesher, 0, sizeof(*h->mesher));
  h->mesh_seg = h->seg_first;
  h->mesh_unit = 1;
  h->mesh_passes++;
}

/* Whether candidate b would mesh onto a now. In a full pass a must hold a
** live block or be a primary already: meshing onto an empty page releases
** nothing (the empty page would be purged). GC steps leave that check out
** (it reads a's whole bitmap for every pair a dry run counts). */
static int rcl_mesher_fits(rcl_heap *h, char *b, char *a, int full)
{
  if (full) {
    rcl_mesh_page_info ai;
    if (rcl_mesh_page_info_of(h, a, &ai) || (ai.role == RCL_MESH_ROLE_NONE && ai.nused == 0)) return 0;
  }
  return rcl_mesh_page_fits(h, b, a);
}

/*
** Mesh the candidate pages of span s (class cls) onto the pages at the
** same offsets of one open span: the one that takes the most of them (a
** dry run counts), then, for the candidates left, the next best, for at
** most RCL_MESHER_ROUNDS open spans. Gaps of empty pages between two pages
** meshed onto one span become fillers. A span none of whose candidates
** meshed opens (replacing the oldest open span): its pages are primaries
** for the spans after it. A span that gave some pages away does not open:
** it is MESHED (on no list, its free blocks not handed out), so its
** leftovers stay candidates (for open spans and the split pass) instead
** of becoming primaries in it. Returns 0 if the budget ran out inside
** the span (the next step examines it again: its meshed pages are skipped
** at once), else 1.
*/
static int rcl_mesher_span(rcl_heap *h, rcl_span *s, rcl_mesher_budget *bu)
{
  enum { MAX_PAGES = 16 * RCL_UNIT_SIZE / RCL_MIN_PAGE };
  struct rcl_mesher *m = h->mesher;
  size_t ps = h->os_page_size, off, size = (size_t)s->units << RCL_UNIT_SHIFT;
  char *start = rcl_span_start(s);
  unsigned cls = s->cls, j, round, c, nc = 0, left, quarters = rcl_mesh_budget_quarters();
  unsigned min_run = quarters >= 2 ? 3 : quarters + 1;
  if (m->min_run > min_run) min_run = m->min_run;
  uint32_t cand[MAX_PAGES];       /* candidate pages: offsets in the span */
  uint8_t done[MAX_PAGES], fit[MAX_PAGES], empty[MAX_PAGES];
  size_t cost = 1;
  for (off = 0; off < size; off += ps) {
    rcl_mesh_page_info bi;
    bu->work++;
    empty[off / ps] = 0;
    if (rcl_mesh_page_info_of(h, start + off, &bi)) continue;
    cost = 1 + bi.nslots / 64;
    bu->work += cost - 1;
    empty[off / ps] = bi.role == RCL_MESH_ROLE_NONE && bi.nused == 0;
    if (bi.role != RCL_MESH_ROLE_NONE || bi.nused == 0 || bi.nused * 2 > bi.nslots) continue;
    done[nc] = 0;
    cand[nc++] = (uint32_t)off;
  }
  for (left = nc, round = 0; left && round < RCL_MESHER_ROUNDS; round++) {
    unsigned best = RCL_MESHER_OPEN, best_n = 0, first, last, n, g;
    char *t;
    for (j = 0; j < RCL_MESHER_OPEN; j++) {
      n = 0;
      t = (char *)m->open[cls][j];
      if (!t || t == start) continue;
      for (c = 0; c < nc; c++)
        if (!done[c]) n += rcl_mesher_fits(h, start + cand[c], t + cand[c], m->min_run != 0);
      bu->work += (size_t)left * cost;
      if (n > best_n) { best_n = n; best = j; }
    }
    if (best == RCL_MESHER_OPEN) break;
    t = (char *)m->open[cls][best];
    for (c = 0; c < nc; c++) fit[c] = !done[c] && rcl_mesher_fits(h, start + cand[c], t + cand[c], m->min_run != 0);
    bu->work += (size_t)left * cost;
    /* Runs: fitting candidates whose gaps are at most RCL_MESH_MAX_GAP
    ** empty pages. A run shorter than min_run pages with live blocks is
    ** left alone: it would spend two mappings on few pages. */
    for (first = 0; first < nc; first = last + 1) {
      char *prev = NULL;
      while (first < nc && !fit[first]) first++;
      if (first == nc) break;
      for (last = first, n = 1; last + 1 < nc && fit[last + 1]; last++, n++) {
        size_t gap = (cand[last + 1] - cand[last]) / ps - 1, p;
        if (gap > RCL_MESH_MAX_GAP) break;
        for (p = cand[last] / ps + 1; p < cand[last + 1] / ps && empty[p]; p++) {}
        if (p < cand[last + 1] / ps) break;
      }
      if (n < min_run) continue;
      for (g = first; g <= last; g++) {
        if (bu->meshes >= bu->max_meshes) return 0;
        bu->work += cost;
        if (rcl_mesh_page(h, start + cand[g], t + cand[g]) != 0) { prev = NULL; continue; }
        done[g] = 1;
        left--;
        bu->meshes++;
        /* Empty pages since the previous page meshed onto t: fillers. */
        if (prev) {
          size_t gap = (size_t)(start + cand[g] - prev) / ps - 1;
          if (gap && rcl_mesh_fill_gap(h, prev + ps, t + (prev + ps - start), (unsigned)gap) == 0)
            bu->meshes += gap;
        }
        prev = start + cand[g];
      }
    }
  }
  if (left && left == nc) {
    for (j = 0; j < RCL_MESHER_OPEN && m->open[cls][j] != (uintptr_t)start; j++) {}
    if (j == RCL_MESHER_OPEN) m->open[cls][m->next[cls]++ % RCL_MESHER_OPEN] = (uintptr_t)start;
  }
  return 1;
}

/* Walk from the cursor until the budget is spent; 1 when the pass is done
** (the end of the segment list, or the mapping budget spent). */
static int rcl_mesher_advance(rcl_heap *h, rcl_mesher_budget *bu)
{
  while (h->mesh_seg) {
    rcl_segment *seg = h->mesh_seg;
    while (h->mesh_unit < RCL_SEGMENT_UNITS) {
      unsigned u = h->mesh_unit, head = seg->unit_span[u];
      rcl_span *s = &seg->spans[head];
      if (!rcl_mesh_budget_left(2)) return 1;
      if (bu->work >= bu->max_work || bu->meshes >= bu->max_meshes) return 0;
      bu->work++;
      /* A cursor kept between steps may point inside a span made since. */
      if (!head || head != u || s->cls >= RCL_NCLASSES || s->state == RCL_SPAN_CURRENT) {
        h->mesh_unit = u + 1;
        continue;
      }
      if (!h->mesher->min_run && !rcl_decayed(bu->settled, rcl_load(&s->freed_at))) {
        h->mesh_unit = u + s->units;             /* unsettled: see rcl_mesher_budget */
        continue;
      }
      if (!rcl_mesher_span(h, s, bu)) return 0;
      h->mesh_unit = u + s->units;
    }
    h->mesh_seg = seg->next;
    h->mesh_unit = 1;
  }
  return 1;
}

/* Whether the GC-step pass this cycle end would start is skipped (the
** back-off). A window opens when the last judgement was made: GC-step
** passes made mesh_step_made secondaries since, and mesh_unmeshed -
** mesh_unmeshed_mark secondaries were dropped. Once the passes have made
** RCL_MESHER_CHURN_MIN, or RCL_MESHER_IDLE_PASSES passes have made fewer,
** the window is judged and a new one opens. The cycles skipped after each
** pass double, up to RCL_MESHER_BACKOFF_MAX, when the passes were idle
** (each walked the heap for nearly nothing: a small heap has a cycle end
** every few thousand allocations) or when as many were dropped as half of
** those made: the heap is churning (its sparse pages fill and empty again
** within a cycle or two, so each mesh bought a copy, a mapping and a
** refault for nothing). Otherwise they halve. A window spans two cycles or more (a pass after skipped
** cycles, or several passes to reach the minimum), so the drops of its own
** secondaries, found by the next cycle's reconciliation, are mostly in
** it. Full passes (full GC, purge()) are never skipped and do not count. */
static int rcl_mesher_skip_cycle(rcl_heap *h)
{
  size_t made = h->mesh_step_made;
  uint64_t dropped = h->mesh_unmeshed - h->mesh_unmeshed_mark;
  if (h->mesh_skip) {
    h->mesh_skip--;
    return 1;
  }
  if (made >= RCL_MESHER_CHURN_MIN || h->mesh_step_passes >= RCL_MESHER_IDLE_PASSES) {
    if (made < RCL_MESHER_CHURN_MIN || 2 * dropped >= made) {
      h->mesh_backoff = h->mesh_backoff ? 2 * h->mesh_backoff : 1;
      if (h->mesh_backoff > RCL_MESHER_BACKOFF_MAX) h->mesh_backoff = RCL_MESHER_BACKOFF_MAX;
    } else {
      h->mesh_backoff /= 2;
    }
    h->mesh_unmeshed_mark = h->mesh_unmeshed;
    h->mesh_step_made = 0;
    h->mesh_step_passes = 0;
  }
  h->mesh_skip = h->mesh_backoff;
  h->mesh_step_passes++;
  return 0;
}

/* A GC cycle ended (after the reconciliation's first slice and sorting):
** start a pass unless the back-off skips it, or keep the one under way
** (h->mesh_seg is its cursor, NULL when none is). GC steps go on while
** either has work left. */
RCL_INTERN void rcl_mesher_arm(rcl_heap *h)
{
  int quiet = h->alloc_refills - h->mesh_refills_mark <= RCL_MESHER_QUIET_REFILLS;
  int went_quiet = quiet && !h->mesh_was_quiet;
  h->mesh_refills_mark = h->alloc_refills;
  h->mesh_was_quiet = quiet;
  if (!rcl_mesher_ready(h)) {
    h->mesh_seg = NULL;
    h->mesh_armed = h->mesh_rec_armed || h->mesh_old != NULL;
    return;
  }
  if (!h->mesh_seg && (went_quiet || !rcl_mesher_skip_cycle(h))) {
    rcl_mesher_restart(h);
    h->mesh_quiet = quiet;
  }
  h->mesh_armed = h->mesh_seg != NULL || h->mesh_rec_armed || h->mesh_old != NULL;
}

/* One GC step's share: a slice of the reconciliation under way, else of
** the armed pass, else of the mesh table's upkeep while an old table is
** left (rcl_mesh_reconcile_step moves it), so a table replaced in a pass's
** last meshes is unmapped within the steps that follow. */
RCL_INTERN void rcl_mesher_step(rcl_heap *h)
{
  rcl_mesher_budget bu;
  uint64_t t0, ns;
  size_t made;
  if (h->mesh_rec_armed) {
    rcl_mesh_reconcile_step(h);                     /* times itself */
    return;
  }
  if (!rcl_mesher_ready(h) || !h->mesh_seg) {
    h->mesh_seg = NULL;
    if (h->mesh_old) rcl_mesh_reconcile_step(h);
    h->mesh_armed = h->mesh_old != NULL;
    return;
  }
  memset(&bu, 0, sizeof(bu));
  bu.max_work = RCL_MESHER_STEP_WORK;
  bu.max_meshes = RCL_MESHER_STEP_MESHES;
  bu.settled = h->mesh_quiet ? rcl_decay_all() : rcl_decay_of(h->clock, h->cfg.decay_ms);
  t0 = rcl_os_cpu_ns();
  made = h->mesh_pages;
  if (rcl_mesher_advance(h, &bu)) {
    h->mesh_seg = NULL;
    h->mesh_armed = h->mesh_old != NULL;
  }
  if (h->mesh_pages > made) h->mesh_step_made += h->mesh_pages - made;
  ns = rcl_os_cpu_ns() - t0;
  if (ns > h->mesh_max_pause_ns) h->mesh_max_pause_ns = ns;
}

/* -- The split pass (full passes only) ---------------------------------------------- */

/* A page the split pass sorts. Pages with one key (class, slots, phase)
** have one slot grid, so any of them may mesh onto any other whatever
** their offsets in their spans. */
typedef struct rcl_mesher_page {
  uintptr_t page;
  uint64_t key;           /* class << 48 | slots << 32 | phase */
  uint64_t fold;          /* used slots folded (rcl_mesh_page_info.used_fold), with its secondaries' */
  uint32_t nused;         /* used slots, with its secondaries' */
  uint8_t src;            /* 1: a candidate, may become a secondary */
  uint8_t dead;           /* 1: a secondary now, or a target with no room left */
  uint8_t nsec;           /* its secondaries */
  uint8_t unused;
  uint32_t pos;           /* its index in collection order (address order within a segment) */
} rcl_mesher_page;

/* Sort order: by key; in a key, targets that stay anyway (primaries, pages
** more than half used) first, then candidates, most used first. */
static int rcl_mesher_page_before(const rcl_mesher_page *a, const rcl_mesher_page *b)
{
  if (a->key != b->key) return a->key < b->key;
  if (a->src != b->src) return a->src < b->src;
  if (a->nused != b->nused) return a->nused > b->nused;
  return a->page < b->page;
}

static void rcl_mesher_sift(rcl_mesher_page *v, size_t i, size_t n)
{
  for (;;) {
    size_t c = 2 * i + 1;
    rcl_mesher_page t;
    if (c >= n) return;
    if (c + 1 < n && rcl_mesher_page_before(&v[c], &v[c + 1])) c++;
    if (!rcl_mesher_page_before(&v[i], &v[c])) return;
    t = v[i]; v[i] = v[c]; v[c] = t;
    i = c;
  }
}

/* Heapsort (no allocation, O(n log n) whatever the input). */
static void rcl_mesher_sort(rcl_mesher_page *v, size_t n)
{
  size_t i;
  for (i = n / 2; i-- > 0; ) rcl_mesher_sift(v, i, n);
  while (n > 1) {
    rcl_mesher_page t = v[0];
    v[0] = v[n - 1]; v[n - 1] = t;
    rcl_mesher_sift(v, 0, --n);
  }
}

/* Calls visit(ctx, page, &info) for every OS page of every small span that
** is not current, in collection order (segment by segment, in address
** order within one), skipping pages whose mesh info cannot be read. */
typedef void (*rcl_mesher_visit)(void *ctx, char *page, const rcl_mesh_page_info *bi);

static void rcl_mesher_walk_pages(rcl_heap *h, rcl_mesher_visit visit, void *ctx)
{
  size_t ps = h->os_page_size;
  rcl_segment *seg;
  for (seg = h->seg_first; seg; seg = seg->next) {
    unsigned u, head;
    for (u = 1; u < RCL_SEGMENT_UNITS; u += head == u ? seg->spans[head].units : 1) {
      rcl_span *s = &seg->spans[head = seg->unit_span[u]];
      size_t off, size;
      char *start;
      if (!head || head != u) { head = 0; continue; }
      if (s->cls >= RCL_NCLASSES || s->state == RCL_SPAN_CURRENT) continue;
      start = rcl_span_start(s);
      size = (size_t)s->units << RCL_UNIT_SHIFT;
      for (off = 0; off < size; off += ps) {
        rcl_mesh_page_info bi;
        if (!rcl_mesh_page_info_of(h, start + off, &bi)) visit(ctx, start + off, &bi);
      }
    }
  }
}

/* Fills *p for page with mesh info bi: key (class, slots, phase), fold,
** nused and secondaries from bi; pos = the page's index in its list. */
static void rcl_mesher_page_fill(rcl_mesher_page *p, char *page, const rcl_mesh_page_info *bi,
                                 int src, size_t pos)
{
  memset(p, 0, sizeof(*p));
  p->page = (uintptr_t)page;
  p->key = (uint64_t)bi->cls << 48 | (uint64_t)bi->nslots << 32 | bi->phase;
  p->fold = bi->used_fold;
  p->nused = bi->nused;
  p->src = (uint8_t)src;
  p->nsec = (uint8_t)bi->secondaries;
  p->pos = (uint32_t)pos;
}

/* What a walk collects: pages into v (primaries, or candidates and
** targets) and secondaries into sec; either may be NULL (count only). */
typedef struct rcl_mesher_collection {
  rcl_mesher_page *v, *sec;
  size_t n, nsec;
} rcl_mesher_collection;

/* A candidate (used, at most half of the slots, neither primary nor
** secondary) or a target (a primary with room, a page with a free slot). */
static void rcl_mesher_visit_mesh(void *ctx, char *page, const rcl_mesh_page_info *bi)
{
  rcl_mesher_collection *c = (rcl_mesher_collection *)ctx;
  if (bi->role == RCL_MESH_ROLE_SECONDARY || bi->nused == 0 || bi->nused >= bi->nslots ||
      bi->secondaries >= RCL_MESH_MAX_SECONDARIES)
    return;
  if (c->v)
    rcl_mesher_page_fill(&c->v[c->n], page, bi,
                         bi->role == RCL_MESH_ROLE_NONE && bi->nused * 2 <= bi->nslots, c->n);
  c->n++;
}

/* Fills v (if not NULL) with the pages of non-current small spans that may
** take part: candidates (used, at most half of the slots) and targets
** (primaries with room, pages with a free slot). Returns their count. */
static size_t rcl_mesher_collect(rcl_heap *h, rcl_mesher_page *v)
{
  rcl_mesher_collection c;
  memset(&c, 0, sizeof(c));
  c.v = v;
  rcl_mesher_walk_pages(h, rcl_mesher_visit_mesh, &c);
  return c.n;
}

/* The split pass's pages: v sorted by key, and ord, where ord[p] is the
** index in v of the page collected p-th. Pages collected one after the
** other lie in one segment in ascending order, so the page after (before)
** v[i] in memory, if collected, is v[ord[v[i].pos + 1]] (- 1). */
typedef struct rcl_mesher_split_set {
  rcl_mesher_page *v;
  uint32_t *ord;
  size_t n;
} rcl_mesher_split_set;

/* Records that b meshed onto a (the split pass's bookkeeping). */
static void rcl_mesher_split_took(rcl_mesher_page *b, rcl_mesher_page *a)
{
  uint32_t nslots = (uint32_t)(a->key >> 32) & 0xffff;
  uint64_t full = nslots >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << nslots) - 1;
  b->dead = 1;
  a->src = 0;                           /* a primary now */
  a->fold |= b->fold;
  a->nused += b->nused;
  if (++a->nsec >= RCL_MESH_MAX_SECONDARIES || a->nused >= nslots ||
      (nslots <= 64 && a->fold == full)) a->dead = 1;
}

/* The collected page k pages from p in direction dir (+1 or -1), in p's
** segment, or NULL. */
static rcl_mesher_page *rcl_mesher_split_at(const rcl_heap *h, const rcl_mesher_split_set *ss,
                                            const rcl_mesher_page *p, int dir, size_t k)
{
  uintptr_t want = dir > 0 ? p->page + k * h->os_page_size : p->page - k * h->os_page_size;
  size_t pos = p->pos, step;
  for (step = 0; step < k; step++) {
    rcl_mesher_page *q;
    pos += (size_t)(long)dir;
    if (pos >= ss->n) return NULL;              /* also wraps below 0 */
    q = &ss->v[ss->ord[pos]];
    if (q->page == want)
      return rcl_segment_of((void *)q->page) == rcl_segment_of((void *)p->page) ? q : NULL;
    if (dir > 0 ? q->page > want : q->page < want) return NULL;
  }
  return NULL;
}

/* How many pages from b in direction dir lies the next collected page, if
** the pages between are empty (no live block, no mesh role) and at most
** RCL_MESH_MAX_GAP; 0 if none. */
static size_t rcl_mesher_split_step(rcl_heap *h, const rcl_mesher_split_set *ss, const rcl_mesher_page *b, int dir)
{
  size_t pos = (size_t)b->pos + (size_t)(long)dir, ps = h->os_page_size, k, i;
  const rcl_mesher_page *q;
  if (pos >= ss->n) return 0;
  q = &ss->v[ss->ord[pos]];
  if (rcl_segment_of((void *)q->page) != rcl_segment_of((void *)b->page)) return 0;
  if (dir > 0 ? q->page <= b->page : q->page >= b->page) return 0;
  k = (dir > 0 ? q->page - b->page : b->page - q->page) / ps;
  if (k > RCL_MESH_MAX_GAP + 1) return 0;
  for (i = 1; i < k; i++) {
    rcl_mesh_page_info bi;
    char *g = (char *)(dir > 0 ? b->page + i * ps : b->page - i * ps);
    if (rcl_mesh_page_info_of(h, g, &bi) || bi.role != RCL_MESH_ROLE_NONE || bi.nused) return 0;
  }
  return k;
}

/* After b meshed onto a: the pages beside b in direction dir mesh onto the
** pages as far beside a, one after another while they fit, across gaps of
** at most RCL_MESH_MAX_GAP empty pages (meshed as fillers). Each extends
** the run b on a (B+1 on A+1), so it adds no mapping (rcl_mesh_core.c),
** where a secondary meshed alone adds two: the budget buys several pages
** a run. If a gap cannot be filled, the page beyond it stays meshed alone. */
static void rcl_mesher_split_extend(rcl_heap *h, const rcl_mesher_split_set *ss,
                                    rcl_mesher_page *b, rcl_mesher_page *a, int dir)
{
  size_t ps = h->os_page_size;
  for (;;) {
    size_t k = rcl_mesher_split_step(h, ss, b, dir);
    rcl_mesher_page *nb, *na;
    if (!k) return;
    nb = &ss->v[ss->ord[(size_t)b->pos + (size_t)(long)dir]];
    na = rcl_mesher_split_at(h, ss, a, dir, k);
    if (!na || !nb->src || nb->dead || na->dead || nb->key != na->key) return;
    if (((uint32_t)(na->key >> 32) & 0xffff) <= 64 && (na->fold & nb->fold)) return;
    if (rcl_mesh_page(h, (char *)nb->page, (char *)na->page) != 0) return;
    rcl_mesher_split_took(nb, na);
    if (k > 1) {
      uintptr_t gb = dir > 0 ? b->page + ps : nb->page + ps, ga = dir > 0 ? a->page + ps : na->page + ps;
      (void)rcl_mesh_fill_gap(h, (char *)gb, (char *)ga, (unsigned)(k - 1));
    }
    b = nb;
    a = na;
  }
}

/* One key's pages v[0..n) (a range of ss->v): each candidate, least used
** first, tries up to RCL_MESHER_SPLIT_PROBES pages sorted before it (the
** fuller ones), starting where the previous candidate meshed; a mesh then
** extends into a run both ways (rcl_mesher_split_extend). Returns 0 when
** the pass must stop (its share of the mapping budget spent). */
static int rcl_mesher_split_key(rcl_heap *h, const rcl_mesher_split_set *ss, rcl_mesher_page *v, size_t n)
{
  size_t i, cur = 0;
  uint32_t nslots = (uint32_t)(v[0].key >> 32) & 0xffff;
  for (i = n; i-- > 0; ) {
    rcl_mesher_page *b = &v[i];
    size_t k;
    if (!b->src || b->dead) continue;
    if (rcl_mesh_budget_quarters() >= RCL_MESHER_SPLIT_QUARTERS || !rcl_mesh_budget_left(2)) return 0;
    if (cur >= i) cur = 0;
    for (k = 0; k < RCL_MESHER_SPLIT_PROBES && k < i; k++) {
      size_t j = (cur + k) % i;
      rcl_mesher_page *a = &v[j];
      if (a->dead || (nslots <= 64 && (a->fold & b->fold))) continue;
      if (rcl_mesh_page(h, (char *)b->page, (char *)a->page) != 0) continue;
      rcl_mesher_split_took(b, a);
      rcl_mesher_split_extend(h, ss, b, a, 1);
      rcl_mesher_split_extend(h, ss, b, a, -1);
      cur = j;
      break;
    }
  }
  return 1;
}

/*
** The split pass (after the run walks of a full pass): the candidates the
** walks left, whatever their offsets, mesh onto any page of their slot
** grid with the slots free, as the Mesh paper's SplitMesher pairs a class's
** pages, and several onto one primary. Each such secondary costs up to two
** mappings for one page, where a run costs two for many, so the pass stops
** once RCL_MESHER_SPLIT_QUARTERS quarters of the mapping budget are in use:
** the rest stays for the runs of later passes.
*/
static void rcl_mesher_split(rcl_heap *h)
{
  size_t n, bytes, i, j;
  rcl_mesher_split_set ss;
  if (rcl_mesh_budget_quarters() >= RCL_MESHER_SPLIT_QUARTERS) return;
  n = rcl_mesher_collect(h, NULL);
  if (n < 2 || n > UINT32_MAX) return;
  bytes = rcl_align_up(n * (sizeof(*ss.v) + sizeof(*ss.ord)), h->os_page_size);
  if (!(ss.v = (rcl_mesher_page *)rcl_os_map_plain(bytes))) { h->mmap_failed++; return; }
  ss.ord = (uint32_t *)(ss.v + n);
  ss.n = n = rcl_mesher_collect(h, ss.v);     /* the same pages: nothing changed between */
  rcl_mesher_sort(ss.v, n);
  for (i = 0; i < n; i++) ss.ord[ss.v[i].pos] = (uint32_t)i;
  for (i = 0; i < n; i = j) {
    for (j = i + 1; j < n && ss.v[j].key == ss.v[i].key; j++) {}
    if (j - i >= 2 && !rcl_mesher_split_key(h, &ss, ss.v + i, j - i)) break;
  }
  munmap(ss.v, bytes);
}

/* -- Remeshing (full passes only) ---------------------------------------------------- */

/* A primary goes to v (src = 1); a secondary to sec (key = its primary,
** page = it, unused = 1 for a filler). */
static void rcl_mesher_visit_remesh(void *ctx, char *page, const rcl_mesh_page_info *bi)
{
  rcl_mesher_collection *c = (rcl_mesher_collection *)ctx;
  if (bi->role == RCL_MESH_ROLE_NONE) return;
  if (bi->role == RCL_MESH_ROLE_SECONDARY) {
    if (c->sec) {
      rcl_mesher_page *p = &c->sec[c->nsec];
      memset(p, 0, sizeof(*p));
      p->key = bi->primary;
      p->page = (uintptr_t)page;
      p->unused = bi->live == 0;
    }
    c->nsec++;
    return;
  }
  if (c->v) rcl_mesher_page_fill(&c->v[c->n], page, bi, 1, c->n);
  c->n++;
}

/* Fills v (if not NULL) with the primaries of non-current small spans
** (key, fold and nused as in rcl_mesher_collect, src = 1) and sec (if not
** NULL) with every secondary (key = its primary, page = it, unused = 1
** for a filler). Returns the primaries' count; *nsec the secondaries'. */
static size_t rcl_mesher_collect_primaries(rcl_heap *h, rcl_mesher_page *v, rcl_mesher_page *sec, size_t *nsec)
{
  rcl_mesher_collection c;
  memset(&c, 0, sizeof(c));
  c.v = v;
  c.sec = sec;
  rcl_mesher_walk_pages(h, rcl_mesher_visit_remesh, &c);
  *nsec = c.nsec;
  return c.n;
}

/* The secondaries of primary `page` in sec (sorted by key, then page):
** *first is the index of the first; returns their count. */
static size_t rcl_mesher_secondaries_of(const rcl_mesher_page *sec, size_t nsec, uintptr_t page, size_t *first)
{
  size_t lo = 0, hi = nsec, n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (sec[mid].key < page) lo = mid + 1;
    else hi = mid;
  }
  for (n = 0; lo + n < nsec && sec[lo + n].key == page; n++) {}
  *first = lo;
  return n;
}

#define RCL_MESHER_REMESH_PROBES 32   /* primaries one primary tries (remeshing) */

/*
** Remeshing (after the split pass of a full pass): the primaries of one
** slot grid, least used first, each try up to RCL_MESHER_REMESH_PROBES
** fuller primaries whose used slots are disjoint from theirs and whose
** secondaries leave room; the heap core then moves the primary with all
** its secondaries onto the other (rcl_mesh_primary), releasing its
** physical page. A primary with a filler among its secondaries (it is in
** a run) stays. The pass stops, as the split pass does, once
** RCL_MESHER_SPLIT_QUARTERS quarters of the mapping budget are in use.
*/
static void rcl_mesher_remesh(rcl_heap *h)
{
  size_t n, ns, ns2, bytes, i, j;
  rcl_mesher_page *v, *sec;
  uintptr_t ids[RCL_MESH_MAX_SECONDARIES];
  if (rcl_mesh_budget_quarters() >= RCL_MESHER_SPLIT_QUARTERS) return;
  n = rcl_mesher_collect_primaries(h, NULL, NULL, &ns);
  if (n < 2 || n + ns > UINT32_MAX) return;
  bytes = rcl_align_up((n + ns) * sizeof(*v), h->os_page_size);
  if (!(v = (rcl_mesher_page *)rcl_os_map_plain(bytes))) { h->mmap_failed++; return; }
  sec = v + n;
  n = rcl_mesher_collect_primaries(h, v, sec, &ns2);   /* the same pages: nothing changed between */
  (void)ns2;
  rcl_mesher_sort(v, n);
  rcl_mesher_sort(sec, ns);                            /* by primary, then page */
  for (i = 0; i < n; i = j) {
    size_t e, cur = i;
    uint32_t nslots = (uint32_t)(v[i].key >> 32) & 0xffff;
    for (j = i + 1; j < n && v[j].key == v[i].key; j++) {}
    for (e = j; e-- > i + 1; ) {
      rcl_mesher_page *b = &v[e];
      size_t k, first, nb;
      if (b->dead) continue;
      if (rcl_mesh_budget_quarters() >= RCL_MESHER_SPLIT_QUARTERS || !rcl_mesh_budget_left(2)) goto out;
      nb = rcl_mesher_secondaries_of(sec, ns, b->page, &first);
      if (nb == 0 || nb != b->nsec || nb > RCL_MESH_MAX_SECONDARIES) continue;
      for (k = 0; k < nb && !sec[first + k].unused; k++) ids[k] = sec[first + k].page;
      if (k < nb) continue;                            /* a filler: b is in a run */
      if (cur >= e) cur = i;
      for (k = 0; k < RCL_MESHER_REMESH_PROBES && k < e - i; k++) {
        size_t t = i + (cur - i + k) % (e - i);
        rcl_mesher_page *a = &v[t];
        int r;
        if (a->dead || (size_t)a->nsec + nb + 1 > RCL_MESH_MAX_SECONDARIES || a->nused + b->nused > nslots ||
            (nslots <= 64 && (a->fold & b->fold)))
          continue;
        r = rcl_mesh_primary(h, (char *)b->page, (char *)a->page, ids, (unsigned)nb);
        if (r < 0) continue;
        b->dead = 1;
        if (r == 0) { a->dead = 1; break; }           /* partly moved: both stay as they are */
        a->fold |= b->fold;
        a->nused += b->nused;
        a->nsec = (uint8_t)(a->nsec + nb + 1);
        if (a->nsec >= RCL_MESH_MAX_SECONDARIES || a->nused >= nslots) a->dead = 1;
        cur = t;
        break;
      }
    }
  }
out:
  munmap(v, bytes);
}

/* A whole pass now (full GC, purge()), after the whole reconciliation. */
RCL_INTERN void rcl_mesher_full(rcl_heap *h)
{
  static const unsigned rcl_mesher_full_min_runs[] = { 8, 4, 2, 1 };
  rcl_mesher_budget bu;
  size_t i;
  rcl_mesh_reconcile_finish(h);
  h->mesh_armed = 0;
  h->mesh_seg = NULL;
  if (!rcl_mesher_ready(h)) return;
  /* Longest runs first: the mapping budget then goes to the runs that
  ** release the most pages per mapping. */
  for (i = 0; i < sizeof(rcl_mesher_full_min_runs) / sizeof(rcl_mesher_full_min_runs[0]); i++) {
    memset(&bu, 0, sizeof(bu));
    bu.max_work = bu.max_meshes = (size_t)-1;
    rcl_mesher_restart(h);
    h->mesher->min_run = rcl_mesher_full_min_runs[i];
    rcl_mesher_advance(h, &bu);
    h->mesher->min_run = 0;
    h->mesh_seg = NULL;
  }
  rcl_mesher_split(h);
  rcl_mesher_remesh(h);
}

RCL_INTERN void rcl_mesher_destroy(rcl_heap *h)
{
  if (h->mesher) munmap(h->mesher, rcl_align_up(sizeof(struct rcl_mesher), h->os_page_size));
  h->mesher = NULL;
}

