/*
** test_alloc.c: realloc across every kind (classes, single-block spans,
** mappings), in-place resizing, the lua_Alloc contract, in_use accounting,
** several heaps, placement (colors, lanes, lowest first, the refill cap,
** unit affinity, coarse start), and rejection of invalid frees (in child
** processes).
*/
#include "unit_util.h"
#include "rcl_internal.h"     /* rcl_lowest_bits, rcl_popcount64: the refill's bit helpers */

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const size_t realloc_sizes[] = {
  1, 15, 16, 17, 100, 128, 129, 1000, 4096, 4097, 32767, 32768, 32769, 65536, 65537,
  200000, 1048575, 1048576, 1048577, 3000000, 5000001
};
#define NREALLOC (sizeof(realloc_sizes) / sizeof(realloc_sizes[0]))

/* Every pair (a, b): grow and shrink keep the common prefix. */
static void test_realloc_matrix(void)
{
  rcl_heap *h = rcl_heap_create(NULL, 10);
  size_t i, j;
  int bad = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < NREALLOC; i++)
    for (j = 0; j < NREALLOC; j++) {
      size_t a = realloc_sizes[i], b = realloc_sizes[j];
      void *p = rcl_malloc(h, a), *q;
      void *guard = rcl_malloc(h, 100);   /* a neighbour that must survive */
      CU_ASSERT_PTR_NOT_NULL_FATAL(p);
      tu_fill(p, a, i * 100 + j);
      tu_fill(guard, 100, 7);
      q = rcl_realloc(h, p, a, b);
      CU_ASSERT_PTR_NOT_NULL_FATAL(q);
      if (!tu_verify(q, a < b ? a : b, i * 100 + j)) bad++;
      tu_fill(q, b, 1);                   /* the new size is writable */
      if (!tu_verify(guard, 100, 7)) bad++;
      CU_ASSERT_EQUAL((uintptr_t)q & 15, 0);
      rcl_free(h, q, b);
      rcl_free(h, guard, 100);
    }
  CU_ASSERT_EQUAL(bad, 0);
  TU_CHECK_HEAP(h);
  rcl_purge(h);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* A single-block span grows into free units after it and shrinks in place. */
static void test_medium_in_place(void)
{
  rcl_heap *h = rcl_heap_create(NULL, 11);
  char *p, *q;
  rcl_stats st;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  p = (char *)rcl_malloc(h, 40000);
  tu_fill(p, 40000, 3);
  q = (char *)rcl_realloc(h, p, 40000, 300000);
  CU_ASSERT_PTR_EQUAL(q, p);                /* units after it were free */
  CU_ASSERT(tu_verify(q, 40000, 3));
  tu_fill(q, 300000, 4);
  TU_CHECK_HEAP(h);
  p = (char *)rcl_realloc(h, q, 300000, 70000);
  CU_ASSERT_PTR_EQUAL(p, q);                /* shrinks in place, tail units freed */
  CU_ASSERT(tu_verify(p, 70000, 4));
  TU_CHECK_HEAP(h);
  q = (char *)rcl_malloc(h, 100000);         /* reuses the freed tail units */
  CU_ASSERT(q > p && q < p + 300000);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, rcl_usable_size(70000) + rcl_usable_size(100000));
  rcl_free(h, q, 100000);
  rcl_free(h, p, 70000);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* Large blocks keep content across growth (mremap or copy) and shrink. */
static void test_large_resize(void)
{
  rcl_heap *h = rcl_heap_create(NULL, 12);
  char *p;
  size_t n = 2u << 20;
  int round;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  p = (char *)rcl_malloc(h, n);
  tu_fill(p, n, 5);
  for (round = 0; round < 4; round++) {
    char *q = (char *)rcl_realloc(h, p, n, n * 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT(tu_verify(q, n, 5));
    tu_fill(q + n, n, 99);
    tu_fill(q, n * 2, 5);
    p = q;
    n *= 2;
  }
  p = (char *)rcl_realloc(h, p, n, 1500000);
  CU_ASSERT(tu_verify(p, 1500000, 5));
  TU_CHECK_HEAP(h);
  rcl_free(h, p, 1500000);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* lua_Alloc: nsize 0 frees and returns NULL, otherwise non-NULL. */
static void test_lua_alloc_contract(void)
{
  rcl_heap *h = rcl_heap_create(NULL, 13);
  void *p, *q;
  rcl_stats st;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  p = rcl_alloc_f(h, NULL, 0, 56);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  tu_fill(p, 56, 1);
  q = rcl_alloc_f(h, p, 56, 300);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT(tu_verify(q, 56, 1));
  CU_ASSERT_PTR_NULL(rcl_alloc_f(h, q, 300, 0));
  CU_ASSERT_PTR_NULL(rcl_alloc_f(h, NULL, 0, 0));
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, 0);
  /* malloc(0) gives distinct blocks. */
  p = rcl_malloc(h, 0);
  q = rcl_malloc(h, 0);
  CU_ASSERT(p && q && p != q);
  rcl_free(h, p, 0);
  rcl_free(h, q, 0);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* in_use is exactly the sum of usable sizes of live blocks. */
static void test_in_use_accounting(void)
{
  enum { N = 30000 };
  static void *p[N];
  static size_t n[N];
  rcl_heap *h = rcl_heap_create(NULL, 14);
  uint64_t x = 777;
  size_t expect = 0;
  rcl_stats st;
  int i, round;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  memset(p, 0, sizeof(p));
  for (round = 0; round < 5; round++) {
    for (i = 0; i < N; i++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      if (p[i] && (x & 1)) {
        expect -= rcl_test_block_size(p[i], n[i]);
        rcl_free(h, p[i], n[i]);
        p[i] = NULL;
      } else if (!p[i]) {
        n[i] = (size_t)(x % (x % 97 == 0 ? 150000 : 2000));
        p[i] = rcl_malloc(h, n[i]);
        CU_ASSERT_FATAL(rcl_test_block_size(p[i], n[i]) >= rcl_usable_size(n[i]));
        expect += rcl_test_block_size(p[i], n[i]);
      }
    }
    rcl_stats_get(h, &st);
    CU_ASSERT_EQUAL(st.in_use, expect);
    TU_CHECK_HEAP(h);
    if (round == 2) rcl_cycle_end(h);   /* flushes the class caches */
  }
  for (i = 0; i < N; i++) if (p[i]) rcl_free(h, p[i], n[i]);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, 0);
  rcl_heap_destroy(h);
}

/* Independent heaps; destroying one with live blocks unmaps them. */
static void test_several_heaps(void)
{
  rcl_heap *a = rcl_heap_create(NULL, 15), *b = rcl_heap_create(NULL, 16);
  void *pa[100], *pb[100];
  size_t before = tu_rss();
  int i;
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  for (i = 0; i < 100; i++) {
    pa[i] = rcl_malloc(a, 1000);
    pb[i] = rcl_malloc(b, 1000);
    tu_fill(pa[i], 1000, (uint64_t)i);
    tu_fill(pb[i], 1000, (uint64_t)i + 1000);
  }
  for (i = 0; i < 100; i++) CU_ASSERT_PTR_NOT_EQUAL(pa[i], pb[i]);
  for (i = 0; i < 100; i++) rcl_free(a, pa[i], 1000);
  for (i = 0; i < 100; i++) CU_ASSERT(tu_verify(pb[i], 1000, (uint64_t)i + 1000));
  {
    void *big = rcl_malloc(b, 50u << 20);    /* large block left live */
    tu_fill(big, 50u << 20, 1);
    CU_ASSERT(tu_rss() > before + (40u << 20));
  }
  rcl_heap_destroy(b);
  CU_ASSERT(tu_rss() < before + (10u << 20));
  TU_CHECK_HEAP(a);
  rcl_heap_destroy(a);
}

/* -- Invalid frees abort (checked in children) --------------------------------- */

static int child_double_free(void *arg)
{
  rcl_heap *h = rcl_heap_create(NULL, 17);
  void *p = rcl_malloc(h, 64), *keep = rcl_malloc(h, 64);
  (void)arg; (void)keep;
  rcl_free(h, p, 64);
  rcl_free(h, p, 64);
  return 0;
}

static int child_interior_free(void *arg)
{
  rcl_heap *h = rcl_heap_create(NULL, 18);
  char *p = (char *)rcl_malloc(h, 64);
  (void)arg;
  rcl_free(h, p + 16, 48);
  return 0;
}

static int child_wrong_size_free(void *arg)
{
  rcl_heap *h = rcl_heap_create(NULL, 19);
  char *p = (char *)rcl_malloc(h, 64);
  (void)arg;
  rcl_free(h, p, 200);          /* larger than the block */
  return 0;
}

static int child_large_unknown(void *arg)
{
  rcl_heap *h = rcl_heap_create(NULL, 20);
  char *p = (char *)rcl_malloc(h, 3u << 20);
  (void)arg;
  rcl_free(h, p, 5u << 20);     /* not this block's size */
  return 0;
}

static int child_mixed_double_free(void *arg)
{
  rcl_heap *h = rcl_heap_create(NULL, 21);
  void *p = rcl_malloc_mixed(h, 100), *keep = rcl_malloc_mixed(h, 300);
  (void)arg; (void)keep;
  rcl_free(h, p, 100);
  rcl_free(h, p, 100);
  return 0;
}

/* A pointer inside a mixed block, off its 16-byte cells. */
static int child_mixed_misaligned_free(void *arg)
{
  rcl_heap *h = rcl_heap_create(NULL, 21);
  char *p = (char *)rcl_malloc_mixed(h, 100);
  (void)arg;
  rcl_free(h, p + 8, 92);
  return 0;
}

/* A mixed block freed with a size above the mixed run's largest block. */
static int child_mixed_oversize_free(void *arg)
{
  rcl_heap *h = rcl_heap_create(NULL, 21);
  void *p = rcl_malloc_mixed(h, 100);
  (void)arg;
  rcl_free(h, p, 4000);
  return 0;
}

/* Runs (mixed or wide) of N blocks p[i] of n[i] bytes, in_use `sum` (each
** block its request rounded up to `cell`): free every other block (in_use
** follows, the others keep their contents), then make each freed block
** again at the smallest size `lo` plus half its excess, with `alloc`: the
** freed cells take them without mapping more. */
static void runs_free_half_and_refill(rcl_heap *h, char **p, size_t *n, size_t N, size_t sum,
                                      size_t lo, size_t cell, void *(*alloc)(rcl_heap *, size_t))
{
  size_t i, mapped;
  rcl_stats st;
  for (i = 0; i < N; i += 2) {
    rcl_free(h, p[i], n[i]);
    sum -= (n[i] + cell - 1) / cell * cell;
  }
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, sum);
  mapped = st.mapped;
  TU_CHECK_HEAP(h);
  for (i = 1; i < N; i += 2) CU_ASSERT_FATAL(tu_verify(p[i], n[i], i));
  for (i = 0; i < N; i += 2) {
    n[i] = lo + (n[i] - lo) / 2;
    p[i] = (char *)alloc(h, n[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
    tu_fill(p[i], n[i], i);
  }
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.mapped, mapped);
  TU_CHECK_HEAP(h);
  for (i = 0; i < N; i++) CU_ASSERT_FATAL(tu_verify(p[i], n[i], i));
}

/* Every block still has its contents; freed, nothing is in use; a purge
** keeps the heap consistent; then the arrays and the heap go. */
static void runs_free_all(rcl_heap *h, char **p, size_t *n, size_t N)
{
  size_t i;
  rcl_stats st;
  for (i = 0; i < N; i++) {
    CU_ASSERT_FATAL(tu_verify(p[i], n[i], i));
    rcl_free(h, p[i], n[i]);
  }
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, 0);
  TU_CHECK_HEAP(h);
  rcl_purge(h);
  TU_CHECK_HEAP(h);
  free(p);
  free(n);
  rcl_heap_destroy(h);
}

/* Mixed runs: blocks of 17..1024 bytes from rcl_malloc_mixed follow each
** other in allocation order whatever their sizes (16-byte cells), keep
** their contents, are counted exactly in in_use, are freed and resized
** like other blocks (a shrink stays in place, a growth moves), and their
** freed cells are reused before the heap grows. */
static void test_mixed_runs(void)
{
  enum { N = 4000 };
  rcl_heap *h = rcl_heap_create(NULL, 23);
  char **p = malloc(N * sizeof(char *));
  size_t *n = malloc(N * sizeof(size_t)), i, adjacent = 0, sum = 0;
  uint64_t x = 12345;
  rcl_stats st;
  char *q;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n);
  for (i = 0; i < N; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    n[i] = 17 + (size_t)(x >> 33) % 1008;
    p[i] = (char *)rcl_malloc_mixed(h, n[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
    CU_ASSERT_EQUAL((uintptr_t)p[i] & 15, 0);
    tu_fill(p[i], n[i], i);
    sum += (n[i] + 15) & ~(size_t)15;
    if (i && p[i] == p[i - 1] + ((n[i - 1] + 15) & ~(size_t)15)) adjacent++;
  }
  /* Runs end at most every 16 KiB and at span ends. */
  CU_ASSERT(adjacent * 10 >= (size_t)(N - 1) * 9);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, sum);
  TU_CHECK_HEAP(h);
  /* Freed cells are reused (runs are taken at or above a span's lowest free word). */
  runs_free_half_and_refill(h, p, n, N, sum, 17, 16, rcl_malloc_mixed);
  /* Resizes: shrink in place (to a cell, too), grow by moving. */
  q = (char *)rcl_realloc(h, p[1], n[1], 20);
  CU_ASSERT_PTR_EQUAL(q, p[1]);
  CU_ASSERT(tu_verify(q, 20, 1) || n[1] < 20);
  n[1] = 20;
  tu_fill(q, 20, 1);
  q = (char *)rcl_realloc(h, p[3], n[3], 10);
  CU_ASSERT_PTR_EQUAL(q, p[3]);
  n[3] = 10;
  tu_fill(q, 10, 3);
  q = (char *)rcl_realloc(h, p[5], n[5], 2000);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT(tu_verify(q, n[5], 5));
  p[5] = q;
  n[5] = 2000;
  tu_fill(q, 2000, 5);
  TU_CHECK_HEAP(h);
  /* Sizes outside 17..1024 take the object lane. */
  q = (char *)rcl_malloc_mixed(h, 8);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  rcl_free(h, q, 8);
  q = (char *)rcl_malloc_mixed(h, 5000);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  rcl_free(h, q, 5000);
  runs_free_all(h, p, n, N);
}

static size_t wide_usable(size_t n) { return (n + 255) & ~(size_t)255; }

/* Wide runs: blocks above half a page (and 1 KiB) up to 32768 bytes, from
** every entry (rcl_malloc, rcl_malloc_object, rcl_malloc_mixed), follow
** each other in allocation order whatever their sizes (256-byte cells),
** keep their contents, are counted exactly in in_use, are freed and
** resized like other blocks (a shrink stays in place, down to one cell; a
** growth moves when the cells after it are used), a freed block leaves its cells free for the next run, and
** a double free aborts. At pages of 16 KiB and more no size is wide: the
** sizes keep their classes (page-fit up to half a page). */
static void test_wide_runs(void)
{
  enum { N = 3000, WMAX = 32768 };
  size_t half = rcl_page_size() / 2, lo = (half > 1024 ? half : 1024) + 1;
  rcl_heap *h = rcl_heap_create(NULL, 24);
  char **p = malloc(N * sizeof(char *)), *q;
  size_t *n = malloc(N * sizeof(size_t)), i, adjacent = 0, sum = 0;
  uint64_t x = 777;
  rcl_stats st;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n);
  if (rcl_page_size() > 4096) {
    printf("\n  %zu-byte pages: no wide run; 5000 bytes take a class of %zu\n", 2 * half, rcl_usable_size(5000));
    CU_ASSERT_EQUAL(rcl_usable_size(5000), 5120);   /* its class: 16 per doubling */
    q = (char *)rcl_malloc(h, 5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT_EQUAL(rcl_test_block_size(q, 5000), 5120);
    rcl_free(h, q, 5000);
    TU_CHECK_HEAP(h);
    free(p);
    free(n);
    rcl_heap_destroy(h);
    return;
  }
  for (i = 0; i < N; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    n[i] = lo + (size_t)(x >> 33) % (WMAX - lo + 1);
    p[i] = (char *)(i % 3 == 0 ? rcl_malloc(h, n[i]) : i % 3 == 1 ? rcl_malloc_object(h, n[i]) :
                    rcl_malloc_mixed(h, n[i]));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
    CU_ASSERT_EQUAL((uintptr_t)p[i] & 15, 0);
    CU_ASSERT_EQUAL(rcl_test_block_size(p[i], n[i]), wide_usable(n[i]));
    CU_ASSERT_EQUAL(rcl_usable_size(n[i]), wide_usable(n[i]));
    tu_fill(p[i], n[i], i);
    sum += wide_usable(n[i]);
    if (i && p[i] == p[i - 1] + wide_usable(n[i - 1])) adjacent++;
  }
  /* A run that cannot fit a block continues where it ended if the cells
  ** after it are free: only span ends (about 256 KiB) break the chain. */
  CU_ASSERT(adjacent * 10 >= (size_t)(N - 1) * 9);
  if (adjacent * 10 < (size_t)(N - 1) * 9) printf("\n  %zu of %d wide blocks follow the previous one\n", adjacent, N - 1);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, sum);
  TU_CHECK_HEAP(h);
  runs_free_half_and_refill(h, p, n, N, sum, lo, 256, rcl_malloc);
  /* Resizes: shrink in place (to 2 cells and to 1, a block of the cells'
  ** class), grow by moving. */
  q = (char *)rcl_realloc(h, p[1], n[1], 300);
  CU_ASSERT_PTR_EQUAL(q, p[1]);
  CU_ASSERT(tu_verify(q, 300, 1));
  n[1] = 300;
  q = (char *)rcl_realloc(h, p[3], n[3], 100);
  CU_ASSERT_PTR_EQUAL(q, p[3]);
  CU_ASSERT(tu_verify(q, 100, 3));
  n[3] = 100;
  q = (char *)rcl_realloc(h, p[7], n[7], 1030);
  CU_ASSERT_PTR_EQUAL(q, p[7]);
  CU_ASSERT(tu_verify(q, n[7] < 1030 ? n[7] : 1030, 7));
  n[7] = 1030;
  q = (char *)rcl_realloc(h, p[5], n[5], 8192);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT(tu_verify(q, n[5], 5));
  p[5] = q;
  n[5] = 8192;
  tu_fill(q, 8192, 5);
  q = (char *)rcl_realloc(h, p[9], n[9], 40000);    /* out of the wide range */
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT(tu_verify(q, n[9], 9));
  p[9] = q;
  n[9] = 40000;
  tu_fill(q, 40000, 9);
  TU_CHECK_HEAP(h);
  runs_free_all(h, p, n, N);
}

/* Cdata and array parts of 1025..2048 bytes (rcl_malloc_mixed above the
** mixed run's 1024, rcl_malloc_array) take the wide run at 4 KiB pages,
** side by side with larger ones,
** each its request rounded up to 256; they are counted exactly, freed and
** their cells reused before the heap grows. rcl_malloc keeps the classes
** for those sizes. At larger pages there is no wide run: classes. */
static void test_wide_cdata(void)
{
  enum { N = 2000, LO = 1025, HI = 8192 };
  int wide = rcl_page_size() <= 4096;
  rcl_heap *h = rcl_heap_create(NULL, 26);
  char **p = malloc(N * sizeof(char *)), *q;
  size_t *n = malloc(N * sizeof(size_t)), i, adjacent = 0, small = 0, sum = 0;
  uint64_t x = 4242;
  rcl_stats st;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n);
  for (i = 0; i < N; i++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    n[i] = LO + (size_t)(x >> 33) % (HI - LO + 1);
    p[i] = (char *)(i % 2 ? rcl_malloc_array(h, n[i]) : rcl_malloc_mixed(h, n[i]));
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
    CU_ASSERT_EQUAL((uintptr_t)p[i] & 15, 0);
    if (wide) CU_ASSERT_EQUAL(rcl_test_block_size(p[i], n[i]), wide_usable(n[i]));
    CU_ASSERT(rcl_test_block_size(p[i], n[i]) >= n[i]);
    tu_fill(p[i], n[i], i);
    sum += wide_usable(n[i]);
    if (n[i] <= 2048) small++;
    if (i && p[i] == p[i - 1] + wide_usable(n[i - 1])) adjacent++;
  }
  CU_ASSERT(small * 10 >= N);      /* the sizes that left the classes are there */
  q = (char *)rcl_malloc(h, 1500);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT_EQUAL(rcl_test_block_size(q, 1500), rcl_usable_size(1500));
  rcl_free(h, q, 1500);
  if (!wide) {
    printf("\n  %zu-byte pages: no wide run; cdata of 1025..8192 bytes take classes\n", rcl_page_size());
    runs_free_all(h, p, n, N);
    return;
  }
  /* Only span ends break the chain. */
  CU_ASSERT(adjacent * 10 >= (size_t)(N - 1) * 9);
  if (adjacent * 10 < (size_t)(N - 1) * 9) printf("\n  %zu of %d cdata follow the previous one\n", adjacent, N - 1);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, sum);
  TU_CHECK_HEAP(h);
  runs_free_half_and_refill(h, p, n, N, sum, LO, 256, rcl_malloc_array);
  runs_free_all(h, p, n, N);
}

/* A wide block growing to a wide size stays where it is when the cells
** after it are free in its class's current span: the rest of the run
** (the newest block), or cells a freed block gave back; else it moves.
** Contents and in_use follow each case. */
static void test_wide_grow_in_place(void)
{
  size_t half = rcl_page_size() / 2;
  rcl_heap *h;
  char *a, *b, *c, *q;
  rcl_stats st;
  if (half + 1 > 3000) return;                    /* 16 KiB pages and more: no wide run */
  h = rcl_heap_create(NULL, 26);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  a = (char *)rcl_malloc(h, 3000);                /* 12 cells at the start of a fresh run */
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  tu_fill(a, 3000, 1);
  q = (char *)rcl_realloc(h, a, 3000, 5000);      /* 20 cells: from the run's rest */
  CU_ASSERT_PTR_EQUAL_FATAL(q, a);
  CU_ASSERT(tu_verify(a, 3000, 1));
  tu_fill(a, 5000, 2);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, wide_usable(5000));
  b = (char *)rcl_malloc(h, 3000);
  c = (char *)rcl_malloc(h, 3000);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_PTR_EQUAL(b, a + wide_usable(5000));
  CU_ASSERT_PTR_EQUAL(c, b + wide_usable(3000));
  tu_fill(b, 3000, 3);
  tu_fill(c, 3000, 4);
  q = (char *)rcl_realloc(h, b, 3000, 4000);      /* c's cells are used: it moves */
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT(q != b);
  CU_ASSERT(tu_verify(q, 3000, 3));
  b = q;
  q = (char *)rcl_realloc(h, b, 4000, 7000);      /* the newest block: the run's rest */
  CU_ASSERT_PTR_EQUAL_FATAL(q, b);
  tu_fill(b, 7000, 5);
  rcl_free(h, c, 3000);                           /* after a: b's old cells and c's, free */
  q = (char *)rcl_realloc(h, a, 5000, 8192);      /* 12 of those 24 cells */
  CU_ASSERT_PTR_EQUAL_FATAL(q, a);
  CU_ASSERT(tu_verify(a, 5000, 2));
  tu_fill(a, 8192, 6);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, wide_usable(8192) + wide_usable(7000));
  TU_CHECK_HEAP(h);
  CU_ASSERT(tu_verify(a, 8192, 6) && tu_verify(b, 7000, 5));
  rcl_free(h, a, 8192);
  rcl_free(h, b, 7000);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, 0);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

static int child_wide_double_free(void *arg)
{
  rcl_heap *h = rcl_heap_create(NULL, 25);
  void *p = rcl_malloc(h, 3000), *keep = rcl_malloc(h, 5000);
  (void)arg; (void)keep;
  rcl_free(h, p, 3000);
  rcl_free(h, p, 3000);
  return 0;
}

/* A block of more than 64 cells (above 16 KiB) is freed word by word. */
static int child_wide_long_double_free(void *arg)
{
  rcl_heap *h = rcl_heap_create(NULL, 25);
  void *p = rcl_malloc(h, 20000), *keep = rcl_malloc(h, 5000);
  (void)arg; (void)keep;
  rcl_free(h, p, 20000);
  rcl_free(h, p, 20000);
  return 0;
}

/* Span colors: the first blocks of fresh spans sit on different pages of
** their units (one TLB set each), and a colored span still hands out every
** block, those below the color last. */
static int cmp_addr(const void *a, const void *b)
{
  uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
  return x < y ? -1 : x > y;
}

static void test_span_colors(void)
{
  /* Classes with spans of their own from the first block (no coarse start:
  ** 64 bytes and less, or the largest class of a group of four). */
  static const size_t sizes[] = { 16, 32, 48, 64, 128, 256, 512, 1024 };
  enum { NSIZES = sizeof(sizes) / sizeof(sizes[0]), SIZE = 192, MAXB = 65536 / SIZE };
  rcl_heap *h = rcl_heap_create(NULL, 12);
  size_t page = rcl_page_size(), ppu = 65536 / page, i, n = 0, ndistinct = 0;
  uintptr_t firsts[NSIZES], *blocks = malloc((MAXB + 1) * sizeof(uintptr_t)), unit;
  unsigned seen = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(blocks);
  for (i = 0; i < NSIZES; i++) {
    firsts[i] = (uintptr_t)rcl_malloc(h, sizes[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL((void *)firsts[i]);
    seen |= 1u << ((firsts[i] & 65535) / page);
  }
  for (i = 0; i < 16; i++) ndistinct += (seen >> i) & 1;
  CU_ASSERT_EQUAL(ndistinct, ppu < NSIZES ? ppu : NSIZES);
  /* A fresh span of another class: every block, then the next span. */
  blocks[n++] = (uintptr_t)rcl_malloc(h, SIZE);
  unit = blocks[0] & ~(uintptr_t)65535;
  if (ppu > 1) CU_ASSERT(blocks[0] - unit >= page);   /* not the unit's first page */
  for (;;) {
    uintptr_t p = (uintptr_t)rcl_malloc(h, SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL((void *)p);
    if ((p & ~(uintptr_t)65535) != unit || n == MAXB) { rcl_free(h, (void *)p, SIZE); break; }
    blocks[n++] = p;
  }
  CU_ASSERT(n * SIZE * 5 >= (size_t)65536 * 4);          /* the unit, less its waste */
  qsort(blocks, n, sizeof(uintptr_t), cmp_addr);
  for (i = 1; i < n; i++) CU_ASSERT_FATAL(blocks[i] >= blocks[i - 1] + SIZE);
  CU_ASSERT(blocks[0] - unit < page);                    /* the wrap reached page 0 */
  TU_CHECK_HEAP(h);
  for (i = 0; i < n; i++) rcl_free(h, (void *)blocks[i], SIZE);
  for (i = 0; i < NSIZES; i++) rcl_free(h, (void *)firsts[i], sizes[i]);
  TU_CHECK_HEAP(h);
  free(blocks);
  rcl_heap_destroy(h);
}

/* Lanes: in a fresh class, objects share the data lane (one page for a few
** blocks of each kind). Once the class has used up a span, objects and
** other blocks allocated alternately each come out side by side (a walk
** of the objects reads a dense run), never share a block, are freed alike,
** and together use every block of a span. */
static void test_lanes(void)
{
  enum { SIZE = 128, MAXB = 2 * (65536 / SIZE) };   /* a class without coarse start */
  rcl_heap *h = rcl_heap_create(NULL, 13);
  uintptr_t *first = malloc(MAXB * sizeof(uintptr_t)), *blocks = malloc(MAXB * sizeof(uintptr_t)), unit;
  size_t i, n = 0, nfirst = 0, adjacent = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(first);
  CU_ASSERT_PTR_NOT_NULL_FATAL(blocks);
  /* A fresh class: a data block and an object side by side. */
  first[nfirst++] = (uintptr_t)rcl_malloc(h, SIZE);
  first[nfirst++] = (uintptr_t)rcl_malloc_object(h, SIZE);
  CU_ASSERT_PTR_NOT_NULL_FATAL((void *)first[0]);
  CU_ASSERT_PTR_NOT_NULL_FATAL((void *)first[1]);
  CU_ASSERT_EQUAL(first[1], first[0] + SIZE);
  /* Use up the class's first span. */
  unit = first[0] & ~(uintptr_t)65535;
  for (;;) {
    uintptr_t p = (uintptr_t)rcl_malloc_object(h, SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL((void *)p);
    CU_ASSERT_FATAL(nfirst < MAXB);
    first[nfirst++] = p;
    if ((p & ~(uintptr_t)65535) != unit) break;
  }
  /* The next span, from its second block on: objects and data alternately. */
  blocks[n++] = (uintptr_t)rcl_malloc_object(h, SIZE);
  unit = blocks[0] & ~(uintptr_t)65535;
  for (;;) {
    int object = n % 2 == 0;
    uintptr_t p = (uintptr_t)(object ? rcl_malloc_object(h, SIZE) : rcl_malloc(h, SIZE));
    CU_ASSERT_PTR_NOT_NULL_FATAL((void *)p);
    if ((p & ~(uintptr_t)65535) != unit || n == MAXB) { rcl_free(h, (void *)p, SIZE); break; }
    blocks[n++] = p;
  }
  /* Consecutive objects (even indexes) are one block apart, except where a
  ** lane's chunk ends; the other blocks likewise. */
  for (i = 2; i < n; i++) adjacent += blocks[i] == blocks[i - 2] + SIZE;
  CU_ASSERT(adjacent * 10 >= (n - 2) * 9);
  CU_ASSERT(n * SIZE * 5 >= (size_t)65536 * 4);          /* the unit, less its waste */
  TU_CHECK_HEAP(h);
  qsort(blocks, n, sizeof(uintptr_t), cmp_addr);
  for (i = 1; i < n; i++) CU_ASSERT_FATAL(blocks[i] >= blocks[i - 1] + SIZE);
  for (i = 0; i < n; i += 2) rcl_free(h, (void *)blocks[i], SIZE);
  TU_CHECK_HEAP(h);
  /* Freed blocks are reused by either lane. */
  for (i = 0; i < n; i += 2) {
    blocks[i] = (uintptr_t)(i % 4 ? rcl_malloc(h, SIZE) : rcl_malloc_object(h, SIZE));
    CU_ASSERT_PTR_NOT_NULL_FATAL((void *)blocks[i]);
  }
  TU_CHECK_HEAP(h);
  for (i = 0; i < n; i++) rcl_free(h, (void *)blocks[i], SIZE);
  for (i = 0; i < nfirst; i++) rcl_free(h, (void *)first[i], SIZE);
  TU_CHECK_HEAP(h);
  free(blocks);
  free(first);
  rcl_heap_destroy(h);
}

/* Lowest address first: blocks freed in a span are handed out again before
** the refill moves on to higher chunks, so a span whose blocks are freed
** and allocated again stays on its lowest pages. */
static void test_lowest_first(void)
{
  enum { SIZE = 256, N = 1024 };
  rcl_heap *h = rcl_heap_create(NULL, 14);
  uintptr_t *b = malloc(N * sizeof(uintptr_t)), low = ~(uintptr_t)0, high = 0, unit;
  size_t page = rcl_page_size(), i, round;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  b[0] = (uintptr_t)rcl_malloc(h, SIZE);
  unit = b[0] & ~(uintptr_t)65535;
  /* Rounds of 32 allocations, all but the first block freed again. */
  for (round = 0; round < 64; round++) {
    for (i = 1; i <= 32; i++) {
      b[i] = (uintptr_t)rcl_malloc(h, SIZE);
      CU_ASSERT_PTR_NOT_NULL_FATAL((void *)b[i]);
      CU_ASSERT_EQUAL_FATAL(b[i] & ~(uintptr_t)65535, unit);
      if (b[i] < low) low = b[i];
      if (b[i] > high) high = b[i];
    }
    for (i = 1; i <= 32; i++) rcl_free(h, (void *)b[i], SIZE);
  }
  /* 33 blocks of 256 bytes need 3 pages (4 with the colored start). */
  CU_ASSERT(high - low < 4 * page);
  TU_CHECK_HEAP(h);
  rcl_free(h, (void *)b[0], SIZE);
  free(b);
  rcl_heap_destroy(h);
}

/* Refill cap: a class of 1536-byte blocks (dense at 4 KiB pages: 42 to a
** one-unit span, one chunk) with three blocks live at a time, allocated
** and freed in rounds, reuses a few blocks at its lowest addresses; a lane
** holding the whole chunk would hand out all 42 (and dirty all 16 pages)
** before reusing one. */
static void test_refill_cap(void)
{
  enum { SIZE = 1536, LIVE = 3, ROUNDS = 40, HELD = 16384 / SIZE };
  rcl_heap *h = rcl_heap_create(NULL, 16);
  uintptr_t seen[ROUNDS * LIVE];
  size_t nseen = 0, i, j, round;
  void *b[LIVE];
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (round = 0; round < ROUNDS; round++) {
    for (i = 0; i < LIVE; i++) {
      b[i] = rcl_malloc(h, SIZE);
      CU_ASSERT_PTR_NOT_NULL_FATAL(b[i]);
      tu_fill(b[i], SIZE, round);
      for (j = 0; j < nseen && seen[j] != (uintptr_t)b[i]; j++) {}
      if (j == nseen) seen[nseen++] = (uintptr_t)b[i];
    }
    for (i = 0; i < LIVE; i++) rcl_free(h, b[i], SIZE);
  }
  /* The live three plus at most one refill's worth (16 KiB: ten blocks
  ** of this size). */
  CU_ASSERT(nseen <= LIVE + HELD);
  printf("\n  %zu distinct blocks used for %d live\n", nseen, LIVE);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* rcl_lowest_bits and rcl_popcount64 against the obvious loops, for random
** words (dense, sparse, runs; the empty and the full word first) and every
** n below their bit count. */
static void test_lowest_bits(void)
{
  uint64_t x = 88172645463325252ull, w, ref, v;
  unsigned i, n, count;
  long bad = 0, badcount = 0;
  for (i = 0; i < 20000; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    w = i % 3 == 0 ? x & (x >> 5) : i % 3 == 1 ? ~(uint64_t)0 >> (x & 63)
                                               : (~(uint64_t)0 >> (x & 31)) << ((x >> 8) & 31);
    if (i % 2) w = x;
    if (i < 2) w = i ? ~(uint64_t)0 : 0;
    for (count = 0, v = w; v; v &= v - 1) count++;
    if (rcl_popcount64(w) != count) badcount++;
    for (n = 1; n < count; n++) {
      unsigned k = n;
      for (ref = 0, v = w; k; k--) { ref |= v & (~v + 1); v &= v - 1; }
      if (rcl_lowest_bits(w, n) != ref) bad++;
    }
  }
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT_EQUAL(badcount, 0);
}

/* Blocks of size n from h until one lies outside the unit of the first:
** stores them in b (at most max), returns how many the first span held. */
static size_t fill_span(rcl_heap *h, size_t n, void **b, size_t max)
{
  uintptr_t unit = ~(uintptr_t)65535;
  size_t i;
  for (i = 0; i < max; i++) {
    b[i] = rcl_malloc(h, n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(b[i]);
    if (i && ((uintptr_t)b[i] & unit) != ((uintptr_t)b[0] & unit)) return i;
  }
  CU_FAIL("a span with more blocks than expected");
  return max - 1;
}

/* Unit affinity: a class's next span takes the units of its last released
** span while they are free and dirty, not the lowest free run; once purged
** (clean) they are no better than any run and the lowest is taken. The
** classes (1024 and 896 bytes: one-unit spans, no coarse start) hold a
** different number of blocks a span at each page size: counted. */
static void test_unit_affinity(void)
{
  enum { XS = 1024, AS = 896, MAXN = 128, MS = 40000 };
  rcl_heap *h = rcl_heap_create(NULL, 17);
  void *x[MAXN + 1], *a[MAXN + 1], *m[3], *n;
  uintptr_t a_unit, unit = ~(uintptr_t)65535;
  size_t i, XN, AN;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  /* X fills a span and starts a second; then A does the same. */
  XN = fill_span(h, XS, x, MAXN + 1);
  AN = fill_span(h, AS, a, MAXN + 1);
  a_unit = (uintptr_t)a[0] & unit;
  CU_ASSERT((uintptr_t)x[0] < a_unit);
  CU_ASSERT_EQUAL((uintptr_t)a[AN] & unit, a_unit + 65536);
  /* Both first spans become all free: released, dirty; X's is lower. */
  for (i = 0; i < XN; i++) rcl_free(h, x[i], XS);
  for (i = 0; i < AN; i++) rcl_free(h, a[i], AS);
  /* A's AN - 1 free blocks in its current span, then a new span: its old one. */
  for (i = 0; i < AN; i++) { a[i] = rcl_malloc(h, AS); CU_ASSERT_PTR_NOT_NULL_FATAL(a[i]); }
  CU_ASSERT_EQUAL((uintptr_t)a[AN - 1] & unit, a_unit);
  TU_CHECK_HEAP(h);
  for (i = 0; i <= AN; i++) rcl_free(h, a[i], AS);
  rcl_free(h, x[XN], XS);
  rcl_heap_destroy(h);

  /* Medium spans, by their unit count. */
  h = rcl_heap_create(NULL, 18);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < 3; i++) { m[i] = rcl_malloc(h, MS); CU_ASSERT_PTR_NOT_NULL_FATAL(m[i]); tu_fill(m[i], MS, i); }
  CU_ASSERT(m[0] < m[1] && m[1] < m[2]);
  rcl_free(h, m[0], MS);
  rcl_free(h, m[1], MS);
  n = rcl_malloc(h, MS);
  CU_ASSERT_PTR_EQUAL(n, m[1]);             /* the last released, not the lowest */
  rcl_free(h, m[2], MS);
  rcl_purge(h);                             /* every free unit clean */
  m[1] = rcl_malloc(h, MS);
  CU_ASSERT_PTR_EQUAL(m[1], m[0]);          /* the lowest free run */
  TU_CHECK_HEAP(h);
  rcl_free(h, m[1], MS);
  rcl_free(h, n, MS);
  rcl_heap_destroy(h);
}

/* Coarse start: a fresh heap serves the first blocks of a class from the
** span of its group's largest class, up to a page of them, so a heap with a
** few blocks of many sizes uses a span per group, not per class; then the
** class gets a span of its own. Blocks are freed by their requested size. */
static void test_coarse_start(void)
{
  enum { FIRST = 65, LAST = 2048, STEP = 16, NB = (LAST - FIRST) / STEP + 1, SIZE = 80 };
  rcl_heap *h = rcl_heap_create(NULL, 15);
  size_t page = rcl_page_size(), i, n, nclass, classes = 0;
  void *p[NB], **q;
  uintptr_t group_unit;
  rcl_stats st;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < NB; i++) {
    size_t sz = FIRST + i * STEP;
    p[i] = rcl_malloc(h, sz);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
    CU_ASSERT(rcl_test_block_size(p[i], sz) >= rcl_usable_size(sz));
    memset(p[i], 7, sz);
    classes += i == 0 || rcl_usable_size(sz) != rcl_usable_size(sz - STEP);
  }
  /* 60 classes; fewer than half of them have spans of their own. */
  rcl_stats_get(h, &st);
  CU_ASSERT(st.spans * 2 < classes);
  TU_CHECK_HEAP(h);
  for (i = 0; i < NB; i++) rcl_free(h, p[i], FIRST + i * STEP);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, 0);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
  /* A fresh heap: of 80-byte blocks, the first page / 128 lie in the span of
  ** the 128-byte class (beside a block of 128 bytes), the next in its own. */
  h = rcl_heap_create(NULL, 16);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  nclass = page / 128;
  q = malloc((nclass + 2) * sizeof(void *));
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  q[0] = rcl_malloc(h, 128);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q[0]);
  group_unit = (uintptr_t)q[0] & ~(uintptr_t)65535;
  for (n = 1; n <= nclass + 1; n++) {
    q[n] = rcl_malloc(h, SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q[n]);
    if (n <= nclass) {
      CU_ASSERT_EQUAL(((uintptr_t)q[n] & ~(uintptr_t)65535), group_unit);
      CU_ASSERT_EQUAL(rcl_test_block_size(q[n], SIZE), 128);
    }
  }
  CU_ASSERT_NOT_EQUAL(((uintptr_t)q[nclass + 1] & ~(uintptr_t)65535), group_unit);
  CU_ASSERT_EQUAL(rcl_test_block_size(q[nclass + 1], SIZE), SIZE);
  TU_CHECK_HEAP(h);
  rcl_free(h, q[0], 128);
  for (n = 1; n <= nclass + 1; n++) rcl_free(h, q[n], SIZE);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.in_use, 0);
  TU_CHECK_HEAP(h);
  free(q);
  rcl_heap_destroy(h);
}

static void expect_abort(int (*fn)(void *))
{
  int st;
  st = tu_child(fn, NULL, 10);
  CU_ASSERT(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}

static void test_invalid_frees_abort(void)
{
  fprintf(stderr, "\n  (nine 'invalid free' messages from children are expected)\n");
  expect_abort(child_double_free);
  expect_abort(child_mixed_double_free);
  expect_abort(child_mixed_misaligned_free);
  expect_abort(child_mixed_oversize_free);
  expect_abort(child_wide_double_free);
  expect_abort(child_wide_long_double_free);
  expect_abort(child_interior_free);
  expect_abort(child_wrong_size_free);
  expect_abort(child_large_unknown);
}

int tu_register_alloc(void)
{
  CU_pSuite s = CU_add_suite("alloc", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "realloc between every kind and size", test_realloc_matrix) ||
      !CU_add_test(s, "single-block span resized in place", test_medium_in_place) ||
      !CU_add_test(s, "large block grow/shrink keeps content", test_large_resize) ||
      !CU_add_test(s, "lua_Alloc contract", test_lua_alloc_contract) ||
      !CU_add_test(s, "in_use equals the sum of usable sizes", test_in_use_accounting) ||
      !CU_add_test(s, "several heaps; destroy unmaps live blocks", test_several_heaps) ||
      !CU_add_test(s, "span colors: first blocks on different pages, every block used", test_span_colors) ||
      !CU_add_test(s, "lanes: objects side by side once a span is used up, every block used once", test_lanes) ||
      !CU_add_test(s, "freed blocks reused lowest address first", test_lowest_first) ||
      !CU_add_test(s, "mixed runs: blocks of many sizes side by side, freed and resized", test_mixed_runs) ||
      !CU_add_test(s, "wide runs: blocks of half a page to 32 KiB side by side from every entry, freed and resized", test_wide_runs) ||
      !CU_add_test(s, "wide runs: cdata and array parts of 1-2 KiB side by side with larger ones", test_wide_cdata) ||
      !CU_add_test(s, "wide runs: growth in place into free cells after the block", test_wide_grow_in_place) ||
      !CU_add_test(s, "refill cap: the lowest n set bits of a word, bit counts", test_lowest_bits) ||
      !CU_add_test(s, "refill cap: a few blocks of a large class reused, not the whole chunk", test_refill_cap) ||
      !CU_add_test(s, "unit affinity: a class's next span on its last released units while dirty", test_unit_affinity) ||
      !CU_add_test(s, "coarse start: a span per group of classes for the first blocks", test_coarse_start) ||
      !CU_add_test(s, "invalid frees abort", test_invalid_frees_abort))
    return -1;
  return 0;
}
