/*
** test_mesh.c: the mesh estimate (rcl_mesh_estimate) on constructed heaps:
** pages whose live slots do not overlap mesh, overlapping ones do not, k
** pages with one distinct slot each give back k - 1, pages of different
** classes never mesh, the live pages of current and medium spans are
** counted but never meshed, and on a random heap the floor agrees with
** the stats walk and no algorithm beats the lower bound.
**
** Layouts used: blocks of 1024 and 2048 bytes, whose spans are one unit
** (64 KiB) and whose slots start at every OS page (size divides 4, 16 and
** 64 KiB), so a block's slot is its offset in its page / size.
*/
#include "unit_util.h"

#include <stdlib.h>
#include <string.h>

#define UNIT_BYTES ((uintptr_t)1 << 16)

typedef struct kept_block { unsigned page, slot; } kept_block;

typedef struct built_class {
  size_t size;
  void **blocks;
  size_t n;
} built_class;

static int cmp_uintptr(const void *a, const void *b)
{
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

/* Allocates `spans` spans' worth of blocks of `size` plus one (whose span
** stays current), then frees every block except, on the k-th lowest OS page
** outside the current span, the slots named in keep. Returns the number of
** distinct pages kept, or -1 if a named page or slot has no block. */
static int build_class(rcl_heap *h, built_class *bc, size_t size, unsigned spans,
                       const kept_block *keep, unsigned nkeep)
{
  size_t page = rcl_page_size(), per_span = UNIT_BYTES / size, i, npages = 0;
  uintptr_t current_unit, *pages;
  unsigned k, found = 0, distinct = 0;
  bc->size = size;
  bc->n = per_span * spans + 1;
  bc->blocks = (void **)calloc(bc->n, sizeof(void *));
  pages = (uintptr_t *)calloc(bc->n, sizeof(uintptr_t));
  if (!bc->blocks || !pages) return -1;
  for (i = 0; i < bc->n; i++) {
    bc->blocks[i] = rcl_alloc_f(h, NULL, 0, size);
    if (!bc->blocks[i]) return -1;
  }
  current_unit = (uintptr_t)bc->blocks[bc->n - 1] & ~(UNIT_BYTES - 1);
  for (i = 0; i < bc->n; i++) {
    uintptr_t a = (uintptr_t)bc->blocks[i];
    if ((a & ~(UNIT_BYTES - 1)) != current_unit) pages[npages++] = a & ~(uintptr_t)(page - 1);
  }
  qsort(pages, npages, sizeof(uintptr_t), cmp_uintptr);
  {
    size_t m = 0;
    for (i = 0; i < npages; i++) if (m == 0 || pages[m - 1] != pages[i]) pages[m++] = pages[i];
    npages = m;
  }
  for (i = 0; i < bc->n; i++) {
    uintptr_t a = (uintptr_t)bc->blocks[i], pg = a & ~(uintptr_t)(page - 1);
    unsigned slot = (unsigned)((a - pg) / size);
    int kept = 0;
    for (k = 0; k < nkeep; k++)
      if (keep[k].page < npages && pages[keep[k].page] == pg && keep[k].slot == slot) kept = 1;
    if (kept) { found++; continue; }
    rcl_alloc_f(h, bc->blocks[i], size, 0);
    bc->blocks[i] = NULL;
  }
  for (k = 0; k < nkeep; k++) {
    unsigned j, seen = 0;
    for (j = 0; j < k; j++) if (keep[j].page == keep[k].page) seen = 1;
    distinct += !seen;
  }
  free(pages);
  return found == nkeep ? (int)distinct : -1;
}

static void free_class(rcl_heap *h, built_class *bc)
{
  size_t i;
  for (i = 0; i < bc->n; i++) if (bc->blocks[i]) rcl_alloc_f(h, bc->blocks[i], bc->size, 0);
  free(bc->blocks);
}

/* The estimate of a heap holding exactly the kept blocks of one class. */
static void estimate_one_class(const kept_block *keep, unsigned nkeep, unsigned spans,
                               rcl_mesh_report *r, int *pages_kept)
{
  rcl_heap *h = rcl_heap_create(NULL, 11);
  built_class bc;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  *pages_kept = build_class(h, &bc, 1024, spans, keep, nkeep);
  CU_ASSERT_FATAL(*pages_kept > 0);
  CU_ASSERT_EQUAL(rcl_mesh_estimate(h, r), 0);
  TU_CHECK_HEAP(h);
  free_class(h, &bc);
  rcl_heap_destroy(h);
}

static void assert_only_candidates(const rcl_mesh_report *r, int pages_kept)
{
  CU_ASSERT_EQUAL(r->floor_pages, (size_t)pages_kept);
  CU_ASSERT_EQUAL(r->candidate_pages, (size_t)pages_kept);
  CU_ASSERT_EQUAL(r->excluded_current + r->excluded_layout + r->excluded_medium, 0);
}

static void test_disjoint_pair(void)
{
  const kept_block keep[] = { { 0, 0 }, { 1, 1 } };
  rcl_mesh_report r;
  int n;
  estimate_one_class(keep, 2, 3, &r, &n);
  CU_ASSERT_EQUAL(n, 2);
  assert_only_candidates(&r, n);
  CU_ASSERT_EQUAL(r.split_released, 1);
  CU_ASSERT_EQUAL(r.greedy_released, 1);
  CU_ASSERT_EQUAL(r.bound_released, 1);
  CU_ASSERT_EQUAL(r.split_share, 2);
  CU_ASSERT(r.split_vmas >= 1 && r.split_vmas <= 2);
}

static void test_overlapping_pair(void)
{
  const kept_block keep[] = { { 0, 0 }, { 1, 0 }, { 1, 2 } };
  rcl_mesh_report r;
  int n;
  estimate_one_class(keep, 3, 3, &r, &n);
  CU_ASSERT_EQUAL(n, 2);
  assert_only_candidates(&r, n);
  CU_ASSERT_EQUAL(r.split_released, 0);
  CU_ASSERT_EQUAL(r.greedy_released, 0);
  CU_ASSERT_EQUAL(r.bound_released, 0);
  CU_ASSERT_EQUAL(r.split_vmas, 0);
  CU_ASSERT_EQUAL(r.greedy_vmas, 0);
}

/* 4 pages (a 1 KiB block has at least 4 slots per page), slot i on page i:
** one physical page holds them all. */
static void test_distinct_slots(void)
{
  const kept_block keep[] = { { 0, 0 }, { 1, 1 }, { 2, 2 }, { 3, 3 } };
  rcl_mesh_report r;
  int n;
  estimate_one_class(keep, 4, 5, &r, &n);
  CU_ASSERT_EQUAL(n, 4);
  assert_only_candidates(&r, n);
  CU_ASSERT_EQUAL(r.greedy_released, 3);
  CU_ASSERT_EQUAL(r.bound_released, 3);
  CU_ASSERT_EQUAL(r.split_released, 3);   /* every pair is disjoint: passes repeat to one page */
  CU_ASSERT_EQUAL(r.greedy_share, 4);
  CU_ASSERT(r.split_passes >= 2);
}

/* Pages 0, 1 share slot 0; pages 2, 3 have slots 1 and 2: page 0 or 1 can
** take both of those, so 2 of the 4 go back, not 3. */
static void test_partial_overlap(void)
{
  const kept_block keep[] = { { 0, 0 }, { 1, 0 }, { 2, 1 }, { 3, 2 } };
  rcl_mesh_report r;
  int n;
  estimate_one_class(keep, 4, 5, &r, &n);
  CU_ASSERT_EQUAL(n, 4);
  CU_ASSERT_EQUAL(r.bound_released, 2);
  CU_ASSERT_EQUAL(r.greedy_released, 2);
  CU_ASSERT(r.split_released >= 1 && r.split_released <= 2);
}

/* Slot 0 of a 1 KiB page and slot 1 of a 512-byte page do not overlap as
** bitmaps, but the classes differ: nothing meshes. */
static void test_classes_never_mesh(void)
{
  const kept_block keep_a[] = { { 0, 0 } }, keep_b[] = { { 0, 1 } };
  rcl_heap *h = rcl_heap_create(NULL, 12);
  built_class a, b;
  rcl_mesh_report r;
  unsigned c, used = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_EQUAL_FATAL(build_class(h, &a, 1024, 2, keep_a, 1), 1);
  CU_ASSERT_EQUAL_FATAL(build_class(h, &b, 512, 2, keep_b, 1), 1);
  CU_ASSERT_EQUAL(rcl_mesh_estimate(h, &r), 0);
  assert_only_candidates(&r, 2);
  CU_ASSERT_EQUAL(r.split_released + r.greedy_released + r.bound_released, 0);
  for (c = 0; c < RCL_MESH_CLASSES; c++)
    if (r.cls[c].pages) {
      used++;
      CU_ASSERT_EQUAL(r.cls[c].pages, 1);
      CU_ASSERT_EQUAL(r.cls[c].live_slots, 1);
      CU_ASSERT(r.cls[c].block_size == 1024 || r.cls[c].block_size == 512);
      CU_ASSERT_EQUAL(r.cls[c].slots, rcl_page_size() / r.cls[c].block_size);
    }
  CU_ASSERT_EQUAL(used, 2);
  free_class(h, &a);
  free_class(h, &b);
  rcl_heap_destroy(h);
}

/* Blocks in the current span and a medium block pin pages that are
** counted in the floor, never meshed. */
static void test_excluded_pages(void)
{
  rcl_heap *h = rcl_heap_create(NULL, 13);
  size_t page = rcl_page_size(), medium = 100 * 1024;
  void *cur1, *cur2, *med;
  rcl_mesh_report r;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  cur1 = rcl_alloc_f(h, NULL, 0, 1024);
  cur2 = rcl_alloc_f(h, NULL, 0, 1024);
  med = rcl_alloc_f(h, NULL, 0, medium);
  CU_ASSERT_PTR_NOT_NULL_FATAL(cur1);
  CU_ASSERT_PTR_NOT_NULL_FATAL(cur2);
  CU_ASSERT_PTR_NOT_NULL_FATAL(med);
  CU_ASSERT_EQUAL(rcl_mesh_estimate(h, &r), 0);
  CU_ASSERT_EQUAL(r.candidate_pages, 0);
  CU_ASSERT_EQUAL(r.excluded_medium, (medium + page - 1) / page);
  CU_ASSERT(r.excluded_current >= 1 && r.excluded_current <= 2);
  CU_ASSERT_EQUAL(r.floor_pages, r.excluded_current + r.excluded_medium);
  CU_ASSERT_EQUAL(r.live_blocks, 3);
  rcl_alloc_f(h, cur1, 1024, 0);
  rcl_alloc_f(h, cur2, 1024, 0);
  rcl_alloc_f(h, med, medium, 0);
  rcl_heap_destroy(h);
}

/* A burst of mixed sizes with 2% scattered survivors: the floor equals the
** stats walk's, the pages add up, split and greedy never beat the bound,
** and meshing gives back something (the pages hold one or two blocks). */
static void test_random_heap(void)
{
  enum { N = 60000 };
  rcl_heap *h = rcl_heap_create(NULL, 14);
  void **p = (void **)calloc(N, sizeof(void *));
  size_t *n = (size_t *)calloc(N, sizeof(size_t)), i, page = rcl_page_size(), total = 0;
  uint64_t x = 88172645463325252ull;
  rcl_mesh_report r;
  rcl_stats st;
  unsigned c;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n);
  for (i = 0; i < N; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    n[i] = i % 1000 == 0 ? 40000 + x % 2000000 : 16 + x % 2000;
    p[i] = rcl_alloc_f(h, NULL, 0, n[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
  }
  for (i = 0; i < N; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    if (x % 100 >= 2) { rcl_alloc_f(h, p[i], n[i], 0); p[i] = NULL; }
  }
  rcl_full_gc(h);
  CU_ASSERT_EQUAL(rcl_mesh_estimate(h, &r), 0);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL((r.floor_pages + r.large_pages) * page, st.floor);
  CU_ASSERT_EQUAL(r.floor_pages, r.candidate_pages + r.excluded_current + r.excluded_layout +
                  r.excluded_medium);
  CU_ASSERT(r.split_released <= r.bound_released);
  CU_ASSERT(r.greedy_released <= r.bound_released);
  CU_ASSERT(r.split_released > 0);
  CU_ASSERT(r.split_share <= r.max_share && r.greedy_share <= r.max_share);
  CU_ASSERT(r.split_vmas <= 2 * r.split_released && r.greedy_vmas <= 2 * r.greedy_released);
  for (c = 0; c < RCL_MESH_CLASSES; c++) {
    CU_ASSERT(r.cls[c].split_released <= r.cls[c].bound_released);
    CU_ASSERT(r.cls[c].greedy_released <= r.cls[c].bound_released);
    CU_ASSERT(r.cls[c].live_slots >= r.cls[c].pages);
    total += r.cls[c].pages;
  }
  CU_ASSERT_EQUAL(total, r.candidate_pages);
  TU_CHECK_HEAP(h);
  for (i = 0; i < N; i++) if (p[i]) rcl_alloc_f(h, p[i], n[i], 0);
  free(p);
  free(n);
  rcl_heap_destroy(h);
}

int tu_register_mesh(void)
{
  CU_pSuite s = CU_add_suite("mesh estimate", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "two pages, disjoint slots: one released", test_disjoint_pair) ||
      !CU_add_test(s, "two pages, a shared slot: none released", test_overlapping_pair) ||
      !CU_add_test(s, "k pages, one distinct slot each: k-1 released", test_distinct_slots) ||
      !CU_add_test(s, "partial overlap: greedy meets the bound", test_partial_overlap) ||
      !CU_add_test(s, "pages of different classes never mesh", test_classes_never_mesh) ||
      !CU_add_test(s, "current and medium spans: counted, never meshed", test_excluded_pages) ||
      !CU_add_test(s, "2% survivors: floor = stats floor, plans within the bound", test_random_heap))
    return -1;
  return 0;
}
