/*
** rcl_mesh.c: the mesh estimate: how many OS pages meshing (Powers et al.,
** "Mesh: Compacting Memory Management for C/C++ Applications", PLDI 2019)
** would give back on the heap as it is now. Analysis only: nothing is
** meshed, remapped or changed (issue 17, step 1).
**
** Candidates: the OS pages of small spans that are not current and hold
** live blocks, each as a bitmap of its live slots (slot = offset in the page
** / block size). Two candidate pages of one class mesh when their bitmaps
** do not overlap: their slot grids coincide, so the live blocks of one can
** be copied to the same offsets of the other and its virtual page pointed
** at the other's physical page. Pages of one class share a slot grid when
** their first block starts at the same offset in the page (the phase):
** always 0 in page-fit spans (one group per OS page), any value in dense
** spans whose block size does not divide P. So candidates are grouped by
** (class, phase) and only pages of one group mesh. A live page is not a
** candidate when a live block straddles its edge (that block's bytes cannot
** move with the page), when it is a dense span's first page holding the
** span's bitmap (metadata), when its span is current (the owner allocates
** there without locks) or medium (one block over many pages); those pages
** are counted apart.
**
** Algorithms, per class, on a copy of the bitmaps taken under the heap lock
** (the planning runs after it is released):
**   split   the paper's SplitMesher: shuffle (fixed seed), split the list
**           in halves L and R, for rounds i < t try L[j] with R[(j+i) mod
**           |R|], mesh each pair found once per pass; passes repeat on the
**           merged pages (a physical page may carry several virtual pages)
**           until a pass meshes nothing;
**   greedy  first-fit decreasing: pages by live slots, most first, each into
**           the first physical page it does not overlap;
**   bound   pages minus a lower bound on the physical pages any meshing
**           needs (live slots / slots per page, the most pages sharing one
**           slot, pages / share cap): no algorithm releases more.
** A physical page carries at most RCL_MESH_MAX_SHARE virtual pages in every
** algorithm. Mappings added: each maximal run of remapped virtual pages
** (consecutive addresses onto consecutive physical pages) splits its
** segment's one memory-file mapping into at most two more (an upper count;
** a run at a segment edge adds one).
**
** Layer: observation (beside rcl_stats.c): reads the heap core's structures
** under the heap lock, calls no function of ours, so it can also be compiled
** alone into a tool that is handed a heap of the same build (RCL_EMBED +
** RCL_MESH_ESTIMATE: tests/bench/mesh). Compiled only in test builds
** (RCL_TEST_HOOKS) or with RCL_MESH_ESTIMATE; production builds have none of
** it. Memory for the copy and the plans comes from the C library's malloc,
** never from the heap analysed.
*/
#if defined(RCL_TEST_HOOKS) || defined(RCL_MESH_ESTIMATE)

#include "rcl_internal.h"
#include "rcl_test.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef char rcl_mesh_classes_check[RCL_MESH_CLASSES == RCL_NCLASSES ? 1 : -1];

#define RCL_MESH_SEED 0x9e3779b97f4a7c15ull   /* shuffles are reproducible */
#define RCL_MESH_MAX_PASSES 64                /* split passes: each meshes >= 1 pair */
#define RCL_MESH_ROUNDS     64                /* SplitMesher's t (the paper's default) */
#define RCL_MESH_MAX_SHARE  16                /* virtual pages on one physical page */

/* Candidate pages of one class (or, once sorted, of one phase of it): n
** pages of `words` bitmap words each. Bit k: the k-th block slot after
** the page's phase is live. */
typedef struct rcl_mesh_class_pages {
  uint64_t *bits;         /* n * words words, page i at bits + i * words */
  uintptr_t *vpage;       /* virtual address of page i */
  uint32_t *phase;        /* bytes from page i's start to its first slot */
  size_t n, cap;
  uint32_t words, slots;
} rcl_mesh_class_pages;

/* A plan: which physical page each virtual page ends on. */
typedef struct rcl_mesh_plan {
  uint32_t *root;         /* union-find parent: page i is on the physical page
                             of its root (rcl_mesh_find) */
  uint32_t *share;        /* of a root: virtual pages on its physical page */
  uint64_t *bits;         /* of a root: the union of its pages' bitmaps */
  size_t released;
  unsigned max_share, passes;
} rcl_mesh_plan;

static uint64_t rcl_mesh_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t rcl_mesh_rand(uint64_t *state)
{
  uint64_t x = *state;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *state = x;
}

static int rcl_mesh_push(rcl_mesh_class_pages *cp, uintptr_t vpage, uint32_t phase, const uint64_t *bits)
{
  if (cp->n == cp->cap) {
    size_t cap = cp->cap ? cp->cap * 2 : 64;
    uint64_t *nb = (uint64_t *)realloc(cp->bits, cap * cp->words * sizeof(uint64_t));
    uintptr_t *nv;
    uint32_t *np;
    if (!nb) return -1;
    cp->bits = nb;
    nv = (uintptr_t *)realloc(cp->vpage, cap * sizeof(uintptr_t));
    if (!nv) return -1;
    cp->vpage = nv;
    np = (uint32_t *)realloc(cp->phase, cap * sizeof(uint32_t));
    if (!np) return -1;
    cp->phase = np;
    cp->cap = cap;
  }
  memcpy(cp->bits + cp->n * cp->words, bits, cp->words * sizeof(uint64_t));
  cp->vpage[cp->n] = vpage;
  cp->phase[cp->n++] = phase;
  return 0;
}

/* The first block start at or after ps in span s, or NULL if the page's
** blocks do not lie on one grid (groups smaller than the OS page: only the
** fixed-granule test build). */
static char *rcl_mesh_first_slot(const rcl_span *s, const char *ps, size_t page)
{
  size_t gsize = (size_t)1 << s->group_shift;
  if (s->ngroups > 1) {
    char *gb;
    if (gsize != page) return NULL;
    gb = rcl_group_base(s, (uint32_t)((size_t)(ps - rcl_span_start(s)) / page));
    return gb;
  }
  if (s->base >= ps) return s->base;
  return s->base + ((size_t)(ps - s->base) + s->block_size - 1) / s->block_size * s->block_size;
}

/* Records the live pages of small span s (at unit u of seg): candidates
** into pages[cls], the others into the exclusion counts of r. */
static int rcl_mesh_collect_span(rcl_heap *h, rcl_segment *seg, rcl_span *s, rcl_mesh_class_pages *pages,
                                 rcl_mesh_report *r)
{
  enum { MAX_PAGES = 16 * RCL_UNIT_SIZE / RCL_MIN_PAGE, PAGE_WORDS = RCL_MAX_PAGE / 16 / 64 };
  uint64_t bits[RCL_SPAN_WORDS], slot_bits[PAGE_WORDS];
  uint8_t live[MAX_PAGES], straddle[MAX_PAGES];
  size_t page = h->os_page_size, npages = ((size_t)s->units << RCL_UNIT_SHIFT) / page, p;
  char *start = rcl_span_start(s);
  uint32_t nb = s->group_blocks, g, w, nw = rcl_span_nwords(s);
  int current = s->state == RCL_SPAN_CURRENT;
  rcl_mesh_class_pages *cp = &pages[s->cls];
  (void)seg;
  memset(live, 0, npages);
  memset(straddle, 0, npages);
  for (w = 0; w < RCL_SPAN_WORDS; w++) bits[w] = w < nw ? rcl_load(&rcl_span_bits(s)[w]) : 0;
  if (current && h->cache[s->cls].span == s) {  /* the owner's cached blocks are free */
    const rcl_cache *c = &h->cache[s->cls];
    unsigned lane;
    for (lane = 0; lane < RCL_LANES; lane++) {
      uint32_t ci = c->word_index[lane];
      if (c->held[lane].word) bits[rcl_chunk_word(s, ci)] |= c->held[lane].word << rcl_chunk_shift(s, ci);
    }
  }
  for (g = 0; g < s->ngroups; g++) {
    uint32_t from = g << s->group_bits_log2, i = 0;
    char *base = rcl_group_base(s, g);
    while ((i = rcl_bits_next(bits, from, i, nb, 1)) < nb) {
      char *a = base + (size_t)i * s->block_size;
      size_t first = (size_t)(a - start) / page, last = (size_t)(a + s->block_size - 1 - start) / page;
      r->live_blocks++;
      for (p = first; p <= last; p++) {
        live[p] = 1;
        if (first != last) straddle[p] = 1;
      }
      i++;
    }
  }
  for (p = 0; p < npages; p++) {
    char *ps = start + p * page, *first;
    if (!live[p]) continue;
    r->floor_pages++;
    if (current) { r->excluded_current++; continue; }
    first = rcl_mesh_first_slot(s, ps, page);
    if (!first || straddle[p] || (p == 0 && rcl_span_bitmap_bytes(s))) { r->excluded_layout++; continue; }
    /* The live slots of page p: a second walk restricted to the page. */
    memset(slot_bits, 0, cp->words * sizeof(uint64_t));
    for (g = 0; g < s->ngroups; g++) {
      char *base = rcl_group_base(s, g);
      uint32_t from = g << s->group_bits_log2, i, end;
      if (base >= ps + page || base + (size_t)nb * s->block_size <= ps) continue;
      i = base >= ps ? 0 : (uint32_t)((size_t)(ps - base) / s->block_size);
      end = (uint32_t)(((size_t)(ps + page - base) + s->block_size - 1) / s->block_size);
      if (end > nb) end = nb;
      while ((i = rcl_bits_next(bits, from, i, end, 1)) < end) {
        size_t slot = (size_t)(base + (size_t)i * s->block_size - first) / s->block_size;
        slot_bits[slot >> 6] |= (uint64_t)1 << (slot & 63);
        i++;
      }
    }
    if (rcl_mesh_push(cp, (uintptr_t)ps, (uint32_t)(first - ps), slot_bits)) return -1;
  }
  return 0;
}

/* -- Plans ----------------------------------------------------------------------- */

static int rcl_mesh_disjoint(const uint64_t *a, const uint64_t *b, uint32_t words)
{
  uint32_t w;
  for (w = 0; w < words; w++) if (a[w] & b[w]) return 0;
  return 1;
}

static unsigned rcl_mesh_popcount(const uint64_t *a, uint32_t words)
{
  unsigned n = 0;
  uint32_t w;
  for (w = 0; w < words; w++) n += rcl_popcount64(a[w]);
  return n;
}

static int rcl_mesh_plan_init(rcl_mesh_plan *pl, const rcl_mesh_class_pages *cp)
{
  size_t i;
  memset(pl, 0, sizeof(*pl));
  if (cp->n == 0) return 0;
  pl->root = (uint32_t *)malloc(cp->n * sizeof(uint32_t));
  pl->share = (uint32_t *)malloc(cp->n * sizeof(uint32_t));
  pl->bits = (uint64_t *)malloc(cp->n * cp->words * sizeof(uint64_t));
  if (!pl->root || !pl->share || !pl->bits) return -1;
  for (i = 0; i < cp->n; i++) { pl->root[i] = (uint32_t)i; pl->share[i] = 1; }
  memcpy(pl->bits, cp->bits, cp->n * cp->words * sizeof(uint64_t));
  pl->max_share = 1;
  return 0;
}

static void rcl_mesh_plan_free(rcl_mesh_plan *pl)
{
  free(pl->root);
  free(pl->share);
  free(pl->bits);
}

/* Can root b's pages move onto root a's physical page? */
static int rcl_mesh_fits(const rcl_mesh_plan *pl, const rcl_mesh_class_pages *cp, uint32_t a, uint32_t b)
{
  return pl->share[a] + pl->share[b] <= RCL_MESH_MAX_SHARE &&
         rcl_mesh_disjoint(pl->bits + (size_t)a * cp->words, pl->bits + (size_t)b * cp->words, cp->words);
}

static uint32_t rcl_mesh_find(rcl_mesh_plan *pl, uint32_t i)
{
  while (pl->root[i] != i) i = pl->root[i] = pl->root[pl->root[i]];
  return i;
}

/* Root b's pages move onto root a's physical page; b's is released. */
static void rcl_mesh_merge(rcl_mesh_plan *pl, const rcl_mesh_class_pages *cp, uint32_t a, uint32_t b)
{
  uint32_t w;
  for (w = 0; w < cp->words; w++) pl->bits[(size_t)a * cp->words + w] |= pl->bits[(size_t)b * cp->words + w];
  pl->root[b] = a;
  pl->share[a] += pl->share[b];
  pl->share[b] = 0;
  if (pl->share[a] > pl->max_share) pl->max_share = pl->share[a];
  pl->released++;
}

/* SplitMesher with t rounds, passes repeated while they mesh something. */
static int rcl_mesh_split(rcl_mesh_plan *pl, const rcl_mesh_class_pages *cp, unsigned t, uint64_t *rng)
{
  uint32_t *list, *next;
  uint8_t *taken;
  size_t n = cp->n, i;
  if (rcl_mesh_plan_init(pl, cp)) return -1;
  if (n < 2) return 0;
  list = (uint32_t *)malloc(n * sizeof(uint32_t));
  next = (uint32_t *)malloc(n * sizeof(uint32_t));
  taken = (uint8_t *)malloc(n);
  if (!list || !next || !taken) { free(list); free(next); free(taken); return -1; }
  for (i = 0; i < n; i++) list[i] = (uint32_t)i;
  while (n >= 2 && pl->passes < RCL_MESH_MAX_PASSES) {
    size_t half = n / 2, nr = n - half, j, m = 0, meshed = 0;
    unsigned round;
    for (i = n - 1; i > 0; i--) {   /* Fisher-Yates */
      size_t k = (size_t)(rcl_mesh_rand(rng) % (i + 1));
      uint32_t x = list[i];
      list[i] = list[k];
      list[k] = x;
    }
    memset(taken, 0, n);
    for (round = 0; round < t; round++)
      for (j = 0; j < half; j++) {
        size_t k = half + (j + round) % nr;
        if (taken[j] || taken[k]) continue;
        if (rcl_mesh_fits(pl, cp, list[j], list[k])) {
          rcl_mesh_merge(pl, cp, list[j], list[k]);
          taken[j] = taken[k] = 1;
          meshed++;
        }
      }
    pl->passes++;
    for (j = 0; j < n; j++)
      if (pl->share[list[j]]) next[m++] = list[j];   /* roots stay; released pages go */
    memcpy(list, next, m * sizeof(uint32_t));
    n = m;
    if (!meshed) break;
  }
  free(list);
  free(next);
  free(taken);
  return 0;
}

typedef struct rcl_mesh_order { unsigned live; uint32_t page; } rcl_mesh_order;

static int rcl_mesh_order_cmp(const void *a, const void *b)
{
  const rcl_mesh_order *x = (const rcl_mesh_order *)a, *y = (const rcl_mesh_order *)b;
  if (x->live != y->live) return x->live > y->live ? -1 : 1;
  return x->page < y->page ? -1 : x->page > y->page;
}

/* First-fit decreasing; a physical page leaves the open list once full. */
static int rcl_mesh_greedy(rcl_mesh_plan *pl, const rcl_mesh_class_pages *cp)
{
  rcl_mesh_order *order;
  uint32_t *open;
  size_t n = cp->n, nopen = 0, i, k;
  if (rcl_mesh_plan_init(pl, cp)) return -1;
  if (n < 2) return 0;
  order = (rcl_mesh_order *)malloc(n * sizeof(*order));
  open = (uint32_t *)malloc(n * sizeof(uint32_t));
  if (!order || !open) { free(order); free(open); return -1; }
  for (i = 0; i < n; i++) {
    order[i].live = rcl_mesh_popcount(cp->bits + i * cp->words, cp->words);
    order[i].page = (uint32_t)i;
  }
  qsort(order, n, sizeof(*order), rcl_mesh_order_cmp);
  for (i = 0; i < n; i++) {
    uint32_t b = order[i].page;
    for (k = 0; k < nopen; k++)
      if (rcl_mesh_fits(pl, cp, open[k], b)) break;
    if (k == nopen) {
      open[nopen++] = b;
      continue;
    }
    rcl_mesh_merge(pl, cp, open[k], b);
    if (pl->share[open[k]] == RCL_MESH_MAX_SHARE ||
        rcl_mesh_popcount(pl->bits + (size_t)open[k] * cp->words, cp->words) == cp->slots) {
      memmove(open + k, open + k + 1, (nopen - k - 1) * sizeof(uint32_t));
      nopen--;
    }
  }
  pl->passes = 1;
  free(order);
  free(open);
  return 0;
}

/* Pages minus a lower bound on the physical pages any plan needs. */
static size_t rcl_mesh_bound(const rcl_mesh_class_pages *cp)
{
  uint32_t *use;
  size_t i, total = 0, most = 0, need;
  uint32_t slot;
  if (cp->n == 0) return 0;
  use = (uint32_t *)calloc(cp->slots, sizeof(uint32_t));
  if (!use) return 0;
  for (i = 0; i < cp->n; i++)
    for (slot = 0; slot < cp->slots; slot++)
      if ((cp->bits[i * cp->words + (slot >> 6)] >> (slot & 63)) & 1) {
        use[slot]++;
        total++;
      }
  for (slot = 0; slot < cp->slots; slot++) if (use[slot] > most) most = use[slot];
  free(use);
  need = (total + cp->slots - 1) / cp->slots;
  if (most > need) need = most;
  if ((cp->n + RCL_MESH_MAX_SHARE - 1) / RCL_MESH_MAX_SHARE > need)
    need = (cp->n + RCL_MESH_MAX_SHARE - 1) / RCL_MESH_MAX_SHARE;
  return cp->n - need;
}

typedef struct rcl_mesh_key { uint32_t phase, page; } rcl_mesh_key;

static int rcl_mesh_key_cmp(const void *a, const void *b)
{
  const rcl_mesh_key *x = (const rcl_mesh_key *)a, *y = (const rcl_mesh_key *)b;
  if (x->phase != y->phase) return x->phase < y->phase ? -1 : 1;
  return x->page < y->page ? -1 : x->page > y->page;
}

/* Reorders cp's pages by phase (stable), so each phase is a contiguous run. */
static int rcl_mesh_sort_phases(rcl_mesh_class_pages *cp)
{
  rcl_mesh_key *key;
  uint64_t *bits;
  uintptr_t *vpage;
  size_t i;
  for (i = 1; i < cp->n && cp->phase[i] == cp->phase[0]; i++) {}
  if (i == cp->n) return 0;
  key = (rcl_mesh_key *)malloc(cp->n * sizeof(*key));
  bits = (uint64_t *)malloc(cp->n * cp->words * sizeof(uint64_t));
  vpage = (uintptr_t *)malloc(cp->n * sizeof(uintptr_t));
  if (!key || !bits || !vpage) { free(key); free(bits); free(vpage); return -1; }
  for (i = 0; i < cp->n; i++) { key[i].phase = cp->phase[i]; key[i].page = (uint32_t)i; }
  qsort(key, cp->n, sizeof(*key), rcl_mesh_key_cmp);
  for (i = 0; i < cp->n; i++) {
    memcpy(bits + i * cp->words, cp->bits + (size_t)key[i].page * cp->words, cp->words * sizeof(uint64_t));
    vpage[i] = cp->vpage[key[i].page];
    cp->phase[i] = key[i].phase;
  }
  free(cp->bits);
  free(cp->vpage);
  cp->bits = bits;
  cp->vpage = vpage;
  cp->cap = cp->n;
  free(key);
  return 0;
}

/* -- Mapping count ------------------------------------------------------------- */

typedef struct rcl_mesh_remap { uintptr_t virt, phys; } rcl_mesh_remap;

static int rcl_mesh_remap_cmp(const void *a, const void *b)
{
  uintptr_t x = ((const rcl_mesh_remap *)a)->virt, y = ((const rcl_mesh_remap *)b)->virt;
  return x < y ? -1 : x > y;
}

/* Appends the remaps of plan pl (pages not on their own physical page). */
static void rcl_mesh_remaps(rcl_mesh_plan *pl, const rcl_mesh_class_pages *cp,
                            rcl_mesh_remap *out, size_t *n)
{
  uint32_t i;
  for (i = 0; i < cp->n; i++)
    if (rcl_mesh_find(pl, i) != i) {
      out[*n].virt = cp->vpage[i];
      out[*n].phys = cp->vpage[rcl_mesh_find(pl, i)];
      (*n)++;
    }
}

/* Mappings the remaps add: two per maximal run (see the header). */
static size_t rcl_mesh_vmas(rcl_mesh_remap *m, size_t n, size_t page)
{
  size_t i, runs = 0;
  qsort(m, n, sizeof(*m), rcl_mesh_remap_cmp);
  for (i = 0; i < n; i++)
    if (i == 0 || m[i].virt != m[i - 1].virt + page || m[i].phys != m[i - 1].phys + page ||
        rcl_segment_of((void *)m[i].virt) != rcl_segment_of((void *)m[i - 1].virt))
      runs++;
  return 2 * runs;
}

/* -- Entry point ----------------------------------------------------------------- */

static void rcl_mesh_pages_free(rcl_mesh_class_pages *pages)
{
  unsigned c;
  for (c = 0; c < RCL_NCLASSES; c++) { free(pages[c].bits); free(pages[c].vpage); free(pages[c].phase); }
  free(pages);
}

RCL_API int rcl_mesh_estimate(rcl_heap *h, rcl_mesh_report *r)
{
  rcl_mesh_class_pages *pages;
  rcl_mesh_remap *split_m = NULL, *greedy_m = NULL;
  rcl_segment *seg;
  size_t page = h->os_page_size, nsplit = 0, ngreedy = 0, total;
  uint64_t t0, rng = RCL_MESH_SEED;
  unsigned c;
  int err = 0;
  memset(r, 0, sizeof(*r));
  r->page_size = page;
  r->rounds = RCL_MESH_ROUNDS;
  r->max_share = RCL_MESH_MAX_SHARE;
  pages = (rcl_mesh_class_pages *)calloc(RCL_NCLASSES, sizeof(*pages));
  if (!pages) return -1;
  for (c = 0; c < RCL_NCLASSES; c++) {
    uint32_t size = h->cache[c].size;
    pages[c].slots = (uint32_t)(page / size);
    pages[c].words = (pages[c].slots + 63) / 64;
    r->cls[c].block_size = size;
    r->cls[c].slots = pages[c].slots;
  }
  t0 = rcl_mesh_now_ns();
  rcl_lock(h);
  for (seg = h->seg_first; seg && !err; seg = seg->next) {
    unsigned u;
    r->segments++;
    for (u = 1; u < RCL_SEGMENT_UNITS && !err; u++) {
      rcl_span *s = &seg->spans[u];
      if (seg->unit_span[u] != u) continue;
      if (s->cls == RCL_CLASS_MEDIUM) {
        if (!(rcl_load(&rcl_span_bits(s)[0]) & 1)) {
          size_t n = (s->block_size + page - 1) / page;
          r->floor_pages += n;
          r->excluded_medium += n;
          r->live_blocks++;
        }
        continue;
      }
      err = rcl_mesh_collect_span(h, seg, s, pages, r);
    }
  }
  r->large_pages = h->large_bytes / page;
  rcl_unlock(h);
  r->lock_ns = rcl_mesh_now_ns() - t0;
  if (err) { rcl_mesh_pages_free(pages); return -1; }

  t0 = rcl_mesh_now_ns();
  for (c = 0, total = 0; c < RCL_NCLASSES; c++) total += pages[c].n;
  r->candidate_pages = total;
  split_m = (rcl_mesh_remap *)malloc((total + 1) * sizeof(*split_m));
  greedy_m = (rcl_mesh_remap *)malloc((total + 1) * sizeof(*greedy_m));
  if (!split_m || !greedy_m) err = -1;
  for (c = 0; c < RCL_NCLASSES && !err; c++) {
    rcl_mesh_class_pages *cp = &pages[c];
    rcl_mesh_class_report *cr = &r->cls[c];
    size_t from, to, i;
    cr->pages = cp->n;
    if (cp->n == 0) continue;
    if (rcl_mesh_sort_phases(cp)) { err = -1; break; }
    for (i = 0; i < cp->n; i++) cr->live_slots += rcl_mesh_popcount(cp->bits + i * cp->words, cp->words);
    for (from = 0; from < cp->n && !err; from = to) {
      rcl_mesh_class_pages view = *cp;
      rcl_mesh_plan split, greedy;
      for (to = from + 1; to < cp->n && cp->phase[to] == cp->phase[from]; to++) {}
      view.bits = cp->bits + from * cp->words;
      view.vpage = cp->vpage + from;
      view.phase = cp->phase + from;
      view.n = view.cap = to - from;
      memset(&split, 0, sizeof(split));
      memset(&greedy, 0, sizeof(greedy));
      if (rcl_mesh_split(&split, &view, RCL_MESH_ROUNDS, &rng) || rcl_mesh_greedy(&greedy, &view)) err = -1;
      if (!err) {
        size_t bound = rcl_mesh_bound(&view);
        cr->split_released += split.released;
        cr->greedy_released += greedy.released;
        cr->bound_released += bound;
        r->split_released += split.released;
        r->greedy_released += greedy.released;
        r->bound_released += bound;
        if (split.max_share > r->split_share) r->split_share = split.max_share;
        if (greedy.max_share > r->greedy_share) r->greedy_share = greedy.max_share;
        if (split.passes > r->split_passes) r->split_passes = split.passes;
        rcl_mesh_remaps(&split, &view, split_m, &nsplit);
        rcl_mesh_remaps(&greedy, &view, greedy_m, &ngreedy);
      }
      rcl_mesh_plan_free(&split);
      rcl_mesh_plan_free(&greedy);
    }
  }
  if (!err) {
    r->split_vmas = rcl_mesh_vmas(split_m, nsplit, page);
    r->greedy_vmas = rcl_mesh_vmas(greedy_m, ngreedy, page);
  }
  free(split_m);
  free(greedy_m);
  rcl_mesh_pages_free(pages);
  r->plan_ns = rcl_mesh_now_ns() - t0;
  return err;
}

#endif
