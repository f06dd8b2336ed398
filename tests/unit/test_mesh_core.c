/*
** test_mesh_core.c: the suite `mesh core`: meshing in the heap core
** (rcl_mesh_core.c, docs/mesh.md step 3) through the test hook
** rcl_test_mesh_page. Contents survive meshing and are seen through both
** addresses; frees through the secondary and the primary; realloc of a
** meshed block; new blocks never land on a slot a secondary holds; a
** secondary unmeshes when its last block is freed; purges punch a shared
** page only once every mapper is empty; fork() after meshing; three
** secondaries on one primary; an L(B) too large for its entry spills and
** comes back; refused meshes (rules, an injected alias
** failure) change nothing. Every step ends with rcl_test_check, which
** proves the mesh table's invariants (disjointness, the union rule).
*/
#include "unit_util.h"
#include "rcl_internal.h"     /* mesh_armed: whether a GC-step pass is under way */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SZ 64            /* a class whose blocks tile every page size */
#define NPAGES 8         /* pages with survivors */
#define KEEP 6           /* survivors a page may keep (slots k + j * NPAGES, j < KEEP) */
#define TAG(i) (0x5100u + (uint64_t)(i))

typedef struct mesh_fixture {
  rcl_heap *h;
  size_t ps;
  char *page[NPAGES];    /* pages, each with survivors */
  char *first[NPAGES];   /* the first block of each page (slot 0) */
  void *blk[NPAGES][KEEP];  /* survivors of page k: slots k + j * NPAGES, j < keep */
} mesh_fixture;

static rcl_heap *file_heap(void)
{
  rcl_config cfg;
  rcl_heap *h;
  rcl_config_default(&cfg);
  cfg.decay_ms = 0;
  rcl_test_set_backing(RCL_BACKING_FILE);
  h = rcl_heap_create(&cfg, 11);
  rcl_test_set_backing(RCL_BACKING_ENV);
  return h;
}

/* Allocate pages of SZ-byte blocks and keep, on each page k of NPAGES, the
** blocks at slots k + j * NPAGES for j < keep (1..KEEP): the pages'
** survivors are pairwise disjoint. Everything else is freed, and a purge
** retires the current span, so no page is in a current span. */
static void fixture_make(mesh_fixture *f, size_t keep)
{
  size_t i, n = 0, per = rcl_page_size() / SZ, N = per * (NPAGES + 8) > 8192 ? per * (NPAGES + 8) : 8192;
  (void)per;
  void **all = (void **)calloc(N, sizeof(void *));
  memset(f, 0, sizeof(*f));
  CU_ASSERT_FATAL(keep >= 1 && keep <= KEEP);
  f->h = file_heap();
  CU_ASSERT_PTR_NOT_NULL_FATAL(f->h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(all);
  f->ps = rcl_page_size();
  for (i = 0; i < N; i++) all[i] = rcl_malloc(f->h, SZ);
  /* Pages wholly ours (every block that starts in them; a dense span's
  ** first page may start after its reserved bitmap bytes, so the page
  ** with the most blocks tells), in allocation order. */
  {
    size_t most = 0, pass;
    for (pass = 0; pass < 2; pass++)
      for (i = 0; i < N && n < NPAGES; i++) {
        char *p = (char *)all[i], *pg = (char *)((uintptr_t)p & ~(uintptr_t)(f->ps - 1));
        size_t k, j, found = 0, lowest = 1;
        for (j = 0; j < N; j++)
          if ((char *)all[j] >= pg && (char *)all[j] < pg + f->ps) {
            found++;
            if ((char *)all[j] < p) lowest = 0;
          }
        if (!lowest) continue;
        if (pass == 0) { if (found > most) most = found; continue; }
        for (k = 0; k < n; k++) if (f->page[k] == pg) break;
        if (k < n || found != most || found < 2 * NPAGES) continue;
        f->first[n] = p;
        f->page[n++] = pg;
      }
  }
  CU_ASSERT_EQUAL_FATAL(n, NPAGES);
  for (i = 0; i < N; i++) {
    char *p = (char *)all[i];
    size_t k, slot;
    int kept = 0;
    for (k = 0; k < NPAGES; k++) {
      if (p < f->page[k] || p >= f->page[k] + f->ps) continue;
      slot = (size_t)(p - f->first[k]) / SZ;
      if (slot >= k && (slot - k) % NPAGES == 0 && (slot - k) / NPAGES < keep) {
        f->blk[k][(slot - k) / NPAGES] = p;
        kept = 1;
      }
    }
    if (kept) tu_fill(p, SZ, TAG((size_t)(p - (char *)0) / SZ));
    else rcl_free(f->h, p, SZ);
  }
  free(all);
  rcl_purge(f->h);
  TU_CHECK_HEAP(f->h);
}

static uint64_t tag_of(const void *p) { return TAG((size_t)((const char *)p - (const char *)0) / SZ); }

static int survivors_intact(const mesh_fixture *f)
{
  size_t k, j, bad = 0;
  for (k = 0; k < NPAGES; k++)
    for (j = 0; j < KEEP; j++)
      if (f->blk[k][j]) bad += !tu_verify(f->blk[k][j], SZ, tag_of(f->blk[k][j]));
  return bad == 0;
}

/* The address of p's slot in page a (the primary's copy of p). */
static char *in_primary(const mesh_fixture *f, const void *p, const char *a)
{
  return (char *)a + ((uintptr_t)p & (f->ps - 1));
}

static rcl_stats stats_of(rcl_heap *h)
{
  rcl_stats st;
  rcl_stats_get(h, &st);
  return st;
}

static size_t aliases_of(rcl_heap *h)
{
  rcl_backing_info bi;
  CU_ASSERT_EQUAL(rcl_test_backing(h, &bi), 0);
  return bi.aliases;
}

/* After the test freed every block: a purge unmeshes everything, the heap
** checks out empty with no alias left, and is destroyed. */
static void purge_expect_empty_and_destroy(rcl_heap *h)
{
  rcl_purge(h);
  TU_CHECK_HEAP(h);
  CU_ASSERT_EQUAL(stats_of(h).mesh_pages, 0);
  CU_ASSERT_EQUAL(stats_of(h).in_use, 0);
  CU_ASSERT_EQUAL(aliases_of(h), 0);
  rcl_heap_destroy(h);
}

/* Meshing copies B's blocks into A; both addresses show the same bytes. */
static void test_contents_survive(void)
{
  mesh_fixture f;
  rcl_stats before, st;
  char *b;
  fixture_make(&f, 1);
  before = stats_of(f.h);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), 0);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT(survivors_intact(&f));
  b = (char *)f.blk[1][0];
  CU_ASSERT(tu_verify(in_primary(&f, b, f.page[0]), SZ, tag_of(b)));
  tu_fill(b, SZ, 77);                                  /* through B ... */
  CU_ASSERT(tu_verify(in_primary(&f, b, f.page[0]), SZ, 77));   /* ... seen through A */
  tu_fill(b, SZ, tag_of(b));
  st = stats_of(f.h);
  CU_ASSERT_EQUAL(st.mesh_pages, 1);
  CU_ASSERT_EQUAL(st.mesh_released, 1);
  CU_ASSERT_EQUAL(st.mesh_mappings, 2);
  CU_ASSERT_EQUAL(aliases_of(f.h), 1);
  CU_ASSERT_EQUAL(st.in_use, before.in_use);            /* counted once */
  CU_ASSERT_EQUAL(st.resident + f.ps, before.resident); /* B's page is not resident */
  CU_ASSERT_EQUAL(st.floor + f.ps, before.floor);
  /* The rules: a meshed page meshes no more; overlapping slots never. */
  CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[1], f.page[2]), -1);   /* B is a secondary */
  CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[2], f.page[1]), -1);   /* onto a secondary */
  CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[0], f.page[2]), -1);   /* a primary moves */
  CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[2], f.page[2]), -1);
  CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[2] + 64, f.page[3]), -1);  /* not a page */
  {
    /* A block of another class: its page never meshes with ours. */
    void *o = rcl_malloc(f.h, 200);
    char *op = (char *)((uintptr_t)o & ~(uintptr_t)(f.ps - 1));
    rcl_purge(f.h);
    CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, op, f.page[3]), -1);
    CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[3], op), -1);
    rcl_free(f.h, o, 200);
  }
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 1);
  TU_CHECK_HEAP(f.h);
  rcl_heap_destroy(f.h);
}

/* Overlapping live slots never mesh. */
static void test_overlap_refused(void)
{
  mesh_fixture f;
  void *extra;
  fixture_make(&f, 1);
  /* Page 0 has slot 0 live; give page 1 its slot 0 too: not disjoint. */
  extra = NULL;
  {
    size_t i, n = 0, max = 32768;
    void **got = (void **)malloc(max * sizeof(void *));
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    for (i = 0; i < max && !extra; i++) {
      void *p = rcl_malloc(f.h, SZ);
      if ((char *)p == f.first[1]) extra = p; else got[n++] = p;
    }
    for (i = 0; i < n; i++) rcl_free(f.h, got[i], SZ);
    free(got);
  }
  CU_ASSERT_PTR_NOT_NULL_FATAL(extra);
  tu_fill(extra, SZ, 99);
  rcl_purge(f.h);
  CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), -1);
  CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[0], f.page[1]), -1);
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 0);
  CU_ASSERT(tu_verify(extra, SZ, 99) && survivors_intact(&f));
  TU_CHECK_HEAP(f.h);
  rcl_heap_destroy(f.h);
}

/* Frees through B move to A at the next purge; the last one unmeshes B,
** whose page then reads zeros; frees through A are ordinary. */
static void test_frees_and_unmesh(void)
{
  mesh_fixture f;
  size_t i;
  fixture_make(&f, 2);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), 0);
  TU_CHECK_HEAP(f.h);
  rcl_free(f.h, f.blk[1][0], SZ);                 /* through B: one of two */
  TU_CHECK_HEAP(f.h);                             /* before reconciliation */
  rcl_purge(f.h);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 1);
  CU_ASSERT(tu_verify(f.blk[1][1], SZ, tag_of(f.blk[1][1])));
  f.blk[1][0] = NULL;
  rcl_free(f.h, f.blk[0][0], SZ);                 /* through A: its own block */
  f.blk[0][0] = NULL;
  rcl_purge(f.h);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT(survivors_intact(&f));
  rcl_free(f.h, f.blk[1][1], SZ);                 /* B's last: unmesh */
  f.blk[1][1] = NULL;
  rcl_purge(f.h);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 0);
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_mappings, 0);
  CU_ASSERT_EQUAL(aliases_of(f.h), 0);
  for (i = 0; i < f.ps && f.page[1][i] == 0; i++) {}
  CU_ASSERT_EQUAL(i, f.ps);                       /* B maps its own (punched) range */
  CU_ASSERT(survivors_intact(&f));
  /* B's page can be meshed again, now onto another page. */
  CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[3], f.page[2]), 0);
  TU_CHECK_HEAP(f.h);
  rcl_heap_destroy(f.h);
}

static size_t table_bytes_of(rcl_heap *h)
{
  rcl_backing_info bi;
  CU_ASSERT_EQUAL(rcl_test_backing(h, &bi), 0);
  return bi.table_bytes;
}

/* An L(B) of more than three slots (what a table entry holds) lives in
** the spill array, counted in the backing's table bytes; frees through B
** shrink it back into the entry, and the array is unmapped when no entry
** uses it. */
static void test_large_live(void)
{
  mesh_fixture f;
  size_t j, k, small_tables;
  fixture_make(&f, KEEP);
  for (j = 2; j < KEEP; j++) {                    /* page 3 keeps two blocks */
    rcl_free(f.h, f.blk[3][j], SZ);
    f.blk[3][j] = NULL;
  }
  rcl_purge(f.h);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[3], f.page[2]), 0);
  TU_CHECK_HEAP(f.h);
  small_tables = table_bytes_of(f.h);             /* the table, no spill array */
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), 0);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT(table_bytes_of(f.h) > small_tables);
  CU_ASSERT(survivors_intact(&f));
  for (j = 0; j < KEEP; j++)
    CU_ASSERT(tu_verify(in_primary(&f, f.blk[1][j], f.page[0]), SZ, tag_of(f.blk[1][j])));
  for (j = 0; j < KEEP; j++) {                    /* through B, one at a time */
    rcl_free(f.h, f.blk[1][j], SZ);
    f.blk[1][j] = NULL;
    rcl_purge(f.h);
    TU_CHECK_HEAP(f.h);
    CU_ASSERT(survivors_intact(&f));
    CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, j + 1 < KEEP ? 2 : 1);
    if (KEEP - (j + 1) > 3) {
      CU_ASSERT(table_bytes_of(f.h) > small_tables);
    } else {
      CU_ASSERT_EQUAL(table_bytes_of(f.h), small_tables);
    }
  }
  for (k = 0; k < NPAGES; k++)
    for (j = 0; j < KEEP; j++)
      if (f.blk[k][j]) rcl_free(f.h, f.blk[k][j], SZ);
  purge_expect_empty_and_destroy(f.h);
}

/* Realloc moves a meshed block (the free goes through B); new blocks never
** land on a slot that a secondary holds. */
static void test_realloc_and_reuse(void)
{
  mesh_fixture f;
  void *q, *fresh[8192];
  size_t i, n = 0;
  fixture_make(&f, 2);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), 0);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[3], f.page[2]), 0);
  q = rcl_realloc(f.h, f.blk[1][0], SZ, 300);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT(tu_verify(q, SZ, tag_of(f.blk[1][0])));
  f.blk[1][0] = NULL;
  TU_CHECK_HEAP(f.h);
  /* Fill the heap's free SZ slots; A's free slots are among them. */
  for (i = 0; i < 8192; i++) {
    char *p = (char *)rcl_malloc(f.h, SZ);
    size_t k, j;
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (k = 0; k < NPAGES; k++)
      for (j = 0; j < 2; j++) {
        const char *b = (const char *)f.blk[k][j];
        if (b && (k == 1 || k == 3))
          CU_ASSERT(p != in_primary(&f, b, f.page[k - 1]));  /* a slot B holds */
      }
    tu_fill(p, SZ, 0xabc000 + i);
    fresh[n++] = p;
  }
  CU_ASSERT(survivors_intact(&f));
  TU_CHECK_HEAP(f.h);
  for (i = 0; i < n; i++) {
    CU_ASSERT(tu_verify(fresh[i], SZ, 0xabc000 + i));
    rcl_free(f.h, fresh[i], SZ);
  }
  rcl_free(f.h, q, 300);
  rcl_purge(f.h);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT(survivors_intact(&f));
  rcl_heap_destroy(f.h);
}

/* A's page is punched only when every mapper is empty: A's own blocks
** freed first leave B's blocks there. */
static void test_purge_after_mesh(void)
{
  mesh_fixture f;
  rcl_backing_info b0, b1;
  fixture_make(&f, 1);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), 0);
  rcl_free(f.h, f.blk[0][0], SZ);
  f.blk[0][0] = NULL;
  rcl_purge(f.h);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT(survivors_intact(&f));                /* B's block lives on A's page */
  CU_ASSERT_EQUAL(rcl_test_backing(f.h, &b0), 0);
  rcl_free(f.h, f.blk[1][0], SZ);
  f.blk[1][0] = NULL;
  rcl_purge(f.h);                                 /* unmesh, then A's page is free */
  TU_CHECK_HEAP(f.h);
  CU_ASSERT_EQUAL(rcl_test_backing(f.h, &b1), 0);
  /* The file's pages under A's blocks go (under pagesim, the kernel's
  ** pages that were touched, not a whole emulated page). */
  CU_ASSERT(b1.file_allocated < b0.file_allocated);
  CU_ASSERT_EQUAL(b1.aliases, 0);
  CU_ASSERT(survivors_intact(&f));
  rcl_heap_destroy(f.h);
}

/* The GC-step purge pass of a heap with a memory file skips a span it
** examined whole and that nothing was freed into since, as on the
** anonymous backing, and still purges what meshing frees: a free through
** secondary B reaches A's span at the reconciliation (stamped like a
** free), the unmesh frees B's slots (and marks B's span for the next
** pass), and A's page, empty then, is punched by GC steps alone. */
static void test_pass_after_unmesh(void)
{
  mesh_fixture f;
  rcl_backing_info b0, b1;
  uint64_t e0, e1, e2;
  fixture_make(&f, 1);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), 0);
  rcl_free(f.h, f.blk[0][0], SZ);                 /* A's page keeps B's block only */
  f.blk[0][0] = NULL;
  tu_cycle_and_pass(f.h, 3);
  tu_cycle_and_pass(f.h, 3);
  e0 = rcl_test_spans_examined(f.h);
  tu_cycle_and_pass(f.h, 3);
  e1 = rcl_test_spans_examined(f.h);
  CU_ASSERT_EQUAL(e1, e0);                        /* nothing freed: nothing examined */
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 1);
  CU_ASSERT(survivors_intact(&f));
  CU_ASSERT_EQUAL(rcl_test_backing(f.h, &b0), 0);
  rcl_free(f.h, f.blk[1][0], SZ);                 /* B's last block: unmesh */
  f.blk[1][0] = NULL;
  tu_cycle_and_pass(f.h, 3);
  tu_cycle_and_pass(f.h, 3);
  e2 = rcl_test_spans_examined(f.h);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT(e2 > e1);
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 0);
  CU_ASSERT_EQUAL(rcl_test_backing(f.h, &b1), 0);
  CU_ASSERT_EQUAL(b1.aliases, 0);
  CU_ASSERT(b1.file_allocated < b0.file_allocated);   /* A's page was punched */
  CU_ASSERT(survivors_intact(&f));
  rcl_heap_destroy(f.h);
}

/* Three secondaries on one primary: disjoint, the union rule, each freed
** in turn. */
static void test_three_secondaries(void)
{
  mesh_fixture f;
  size_t k;
  fixture_make(&f, 2);
  for (k = 1; k <= 4; k++) CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[k], f.page[0]), 0);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 4);
  CU_ASSERT_EQUAL(aliases_of(f.h), 4);
  CU_ASSERT(survivors_intact(&f));
  for (k = 1; k <= 4; k++) {
    size_t j;
    for (j = 0; j < 2; j++)
      CU_ASSERT(tu_verify(in_primary(&f, f.blk[k][j], f.page[0]), SZ, tag_of(f.blk[k][j])));
  }
  rcl_free(f.h, f.blk[2][0], SZ);
  rcl_free(f.h, f.blk[2][1], SZ);
  f.blk[2][0] = f.blk[2][1] = NULL;
  rcl_free(f.h, f.blk[3][1], SZ);
  f.blk[3][1] = NULL;
  rcl_purge(f.h);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 3);
  CU_ASSERT(survivors_intact(&f));
  /* Page 2 is free again: it meshes once more, onto page 0. */
  rcl_heap_destroy(f.h);
}

/* Remeshing: primary 2 (with secondary 3) meshes onto primary 0 (with
** secondary 1): every block reads the same through its own address and
** in page 0; page 2 becomes a secondary holding its own block; frees
** through every page unmesh to empty. Primary 4, whose own block was
** freed, moves its secondary 5 and is left without blocks. Refused: a
** secondary as B or as A, a page that is no primary as B. */
static void test_remesh_primaries(void)
{
  mesh_fixture f;
  rcl_stats st0, st;
  size_t k, j;
  fixture_make(&f, 1);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), 0);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[3], f.page[2]), 0);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[5], f.page[4]), 0);
  TU_CHECK_HEAP(f.h);
  st0 = stats_of(f.h);
  CU_ASSERT_EQUAL(rcl_test_mesh_primary(f.h, f.page[3], f.page[0]), -1);   /* B a secondary */
  CU_ASSERT_EQUAL(rcl_test_mesh_primary(f.h, f.page[2], f.page[1]), -1);   /* A a secondary */
  CU_ASSERT_EQUAL(rcl_test_mesh_primary(f.h, f.page[6], f.page[0]), -1);   /* B no primary */
  TU_CHECK_HEAP(f.h);
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 3);
  CU_ASSERT_EQUAL(rcl_test_mesh_remeshed(f.h), 0);     /* refusals count nothing */
  CU_ASSERT_EQUAL(rcl_test_mesh_primary(f.h, f.page[2], f.page[0]), 1);
  CU_ASSERT_EQUAL(rcl_test_mesh_remeshed(f.h), 1);
  TU_CHECK_HEAP(f.h);
  st = stats_of(f.h);
  CU_ASSERT_EQUAL(st.mesh_pages, 4);                /* 1, 2, 3 on 0; 5 on 4 */
  CU_ASSERT_EQUAL(st.mesh_released, st0.mesh_released + 1);
  CU_ASSERT_EQUAL(aliases_of(f.h), 4);
  CU_ASSERT(survivors_intact(&f));
  for (k = 1; k <= 3; k++)
    CU_ASSERT(tu_verify(in_primary(&f, f.blk[k][0], f.page[0]), SZ, tag_of(f.blk[k][0])));
  /* Primary 4 without its own block: 5 moves, 4 is left without blocks. */
  rcl_free(f.h, f.blk[4][0], SZ);
  f.blk[4][0] = NULL;
  CU_ASSERT_EQUAL(rcl_test_mesh_primary(f.h, f.page[4], f.page[0]), 1);
  TU_CHECK_HEAP(f.h);
  CU_ASSERT_EQUAL(rcl_test_mesh_remeshed(f.h), 2);
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 4);     /* 1, 2, 3, 5 on 0 */
  CU_ASSERT_EQUAL(aliases_of(f.h), 4);
  CU_ASSERT(survivors_intact(&f));
  CU_ASSERT(tu_verify(in_primary(&f, f.blk[5][0], f.page[0]), SZ, tag_of(f.blk[5][0])));
  /* Writes through a secondary land in the shared page. */
  tu_fill(f.blk[2][0], SZ, 0x7777);
  CU_ASSERT(tu_verify(in_primary(&f, f.blk[2][0], f.page[0]), SZ, 0x7777));
  tu_fill(f.blk[2][0], SZ, tag_of(f.blk[2][0]));
  for (k = 0; k < NPAGES; k++)
    for (j = 0; j < KEEP; j++)
      if (f.blk[k][j]) {
        rcl_free(f.h, f.blk[k][j], SZ);
        f.blk[k][j] = NULL;
        rcl_purge(f.h);
        TU_CHECK_HEAP(f.h);
        CU_ASSERT(survivors_intact(&f));
      }
  purge_expect_empty_and_destroy(f.h);
}

/* Double free through a secondary is caught at once (the fast path) or at
** reconciliation. */
static int double_free_child(void *arg)
{
  mesh_fixture *f = (mesh_fixture *)arg;
  rcl_free(f->h, f->blk[1][0], SZ);
  rcl_purge(f->h);
  rcl_free(f->h, f->blk[1][0], SZ);     /* B's bit was used again: looks live */
  rcl_purge(f->h);                      /* reconciliation: not in L(B) */
  return 0;
}

static void test_double_free(void)
{
  mesh_fixture f;
  int st;
  fixture_make(&f, 2);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), 0);
  st = tu_child(double_free_child, &f, 20);
  CU_ASSERT(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
  rcl_heap_destroy(f.h);
}

/* fork() after meshing: parent and child write the same objects, each
** sees only its own writes; the child's heap stays consistent. */
static void test_fork_after_mesh(void)
{
  mesh_fixture f;
  int to_child[2], to_parent[2], status;
  pid_t pid;
  char c = 1;
  fixture_make(&f, 1);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), 0);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(f.h, f.page[2], f.page[0]), 0);
  CU_ASSERT_FATAL(pipe(to_child) == 0 && pipe(to_parent) == 0);
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  CU_ASSERT_FATAL(pid >= 0);
  if (pid == 0) {
    char err[256];
    int bad = 0;
    alarm(30);
    tu_fill(f.blk[1][0], SZ, 1001);       /* through B */
    tu_fill(f.blk[0][0], SZ, 1000);       /* A's own */
    if (write(to_parent[1], &c, 1) != 1) _exit(10);
    if (read(to_child[0], &c, 1) != 1) _exit(11);   /* the parent wrote meanwhile */
    bad += !tu_verify(f.blk[1][0], SZ, 1001);
    bad += !tu_verify(f.blk[0][0], SZ, 1000);
    bad += !tu_verify(in_primary(&f, f.blk[1][0], f.page[0]), SZ, 1001);
    bad += !tu_verify(f.blk[2][0], SZ, tag_of(f.blk[2][0]));
    if (bad) _exit(12);
    rcl_free(f.h, f.blk[2][0], SZ);
    rcl_purge(f.h);
    if (rcl_test_check(f.h, err, sizeof(err)) != 0) _exit(13);
    _exit(0);
  }
  if (read(to_parent[0], &c, 1) != 1) CU_FAIL("no byte from the child");
  tu_fill(f.blk[1][0], SZ, 2001);
  tu_fill(f.blk[0][0], SZ, 2000);
  if (write(to_child[1], &c, 1) != 1) CU_FAIL("cannot write to the child");
  CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
  CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status)) fprintf(stderr, "\n  child status %#x\n", (unsigned)status);
  CU_ASSERT(tu_verify(f.blk[1][0], SZ, 2001));
  CU_ASSERT(tu_verify(f.blk[0][0], SZ, 2000));
  CU_ASSERT(tu_verify(f.blk[2][0], SZ, tag_of(f.blk[2][0])));
  CU_ASSERT_EQUAL(stats_of(f.h).mesh_pages, 2);
  TU_CHECK_HEAP(f.h);
  close(to_child[0]); close(to_child[1]); close(to_parent[0]); close(to_parent[1]);
  rcl_heap_destroy(f.h);
}

/* An alias the OS refuses (injected) leaves everything as it was. */
static void test_refused_alias(void)
{
  mesh_fixture f;
  rcl_stats before, st;
  fixture_make(&f, 1);
  before = stats_of(f.h);
  CU_ASSERT_EQUAL_FATAL(rcl_test_fault(RCL_FAULT_BACKING, 1, 1), 0);
  CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), -1);
  rcl_test_fault(RCL_FAULT_BACKING, 0, 0);
  st = stats_of(f.h);
  CU_ASSERT_EQUAL(st.mesh_pages, 0);
  CU_ASSERT_EQUAL(st.in_use, before.in_use);
  CU_ASSERT_EQUAL(st.resident, before.resident);
  CU_ASSERT_EQUAL(st.free_clean, before.free_clean);
  CU_ASSERT_EQUAL(aliases_of(f.h), 0);
  CU_ASSERT(survivors_intact(&f));
  TU_CHECK_HEAP(f.h);
  CU_ASSERT_EQUAL(rcl_test_mesh_page(f.h, f.page[1], f.page[0]), 0);   /* and then works */
  TU_CHECK_HEAP(f.h);
  rcl_heap_destroy(f.h);
}

/* The anonymous backing never meshes. */
static void test_anonymous_refused(void)
{
  rcl_config cfg;
  rcl_heap *h;
  void *p[600];
  size_t i;
  rcl_config_default(&cfg);
  rcl_test_set_backing(RCL_BACKING_ANON);
  h = rcl_heap_create(&cfg, 3);
  rcl_test_set_backing(RCL_BACKING_ENV);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < 600; i++) p[i] = rcl_malloc(h, SZ);
  rcl_purge(h);
  {
    size_t ps = rcl_page_size();
    char *a = (char *)((uintptr_t)p[0] & ~(uintptr_t)(ps - 1));
    for (i = 0; i < 600; i++) {
      char *b = (char *)((uintptr_t)p[i] & ~(uintptr_t)(ps - 1));
      if (b != a) { CU_ASSERT_EQUAL(rcl_test_mesh_page(h, b, a), -1); break; }
    }
  }
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* -- The mesher (rcl_mesher.c) -- */

enum { SCATTER_N = 60000 };

/* A heap with mesh on/off (the backing follows the option), SCATTER_N
** blocks of mixed small sizes, 2% kept at random. */
static rcl_heap *scattered(int mesh, unsigned decay_ms, void **keep, size_t *sizes, size_t *nkeep)
{
  static const size_t szs[] = { 16, 48, 64, 96, 192, 700 };
  rcl_config cfg;
  rcl_heap *h;
  void **all = (void **)malloc(SCATTER_N * sizeof(void *));
  uint64_t x = 88172645463325252ull;
  size_t i, n = 0;
  rcl_config_default(&cfg);
  cfg.decay_ms = decay_ms;
  cfg.mesh = mesh;
  h = rcl_heap_create(&cfg, 5);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(all);
  for (i = 0; i < SCATTER_N; i++) all[i] = rcl_malloc(h, szs[i % 6]);
  for (i = 0; i < SCATTER_N; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    if (x % 50 == 0) {
      keep[n] = all[i];
      sizes[n] = szs[i % 6];
      tu_fill(keep[n], sizes[n], 0x7000 + n);
      n++;
    } else {
      rcl_free(h, all[i], szs[i % 6]);
    }
  }
  free(all);
  *nkeep = n;
  return h;
}

static int kept_intact(void **keep, size_t *sizes, size_t n)
{
  size_t i, bad = 0;
  for (i = 0; i < n; i++) bad += !tu_verify(keep[i], sizes[i], 0x7000 + i);
  return bad == 0;
}

/* purge() meshes the scattered survivors' pages; mesh=off does not. */
static void test_mesher_full(void)
{
  static void *keep[SCATTER_N / 20];
  static size_t sizes[SCATTER_N / 20];
  size_t n, i;
  rcl_stats off_st, on_st;
  rcl_heap *h;
  const char *env = getenv("LUAJIT_RECLAIM_TEST_BACKING");
  if (env && *env) {
    /* The backing follows the option only without the override. */
    CU_PASS("backing forced by LUAJIT_RECLAIM_TEST_BACKING: run without it");
    return;
  }
  h = scattered(0, 0, keep, sizes, &n);
  rcl_purge(h);
  off_st = stats_of(h);
  CU_ASSERT_EQUAL(off_st.mesh_pages, 0);
  CU_ASSERT_EQUAL(off_st.mesh_passes, 0);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
  h = scattered(1, 0, keep, sizes, &n);
  {
    rcl_backing_info bi;
    CU_ASSERT(rcl_test_backing(h, &bi) == 0 && bi.file && bi.fd >= 0);   /* mesh=on: the file */
  }
  rcl_purge(h);
  on_st = stats_of(h);
  TU_CHECK_HEAP(h);
  CU_ASSERT(kept_intact(keep, sizes, n));
  CU_ASSERT(on_st.mesh_pages > 0);
  CU_ASSERT_EQUAL(on_st.mesh_passes, 4);          /* a full pass walks for runs of 8, 4, 2, 1 pages */
  /* Fillers that were clean already release nothing: released <= pages may hold. */
  CU_ASSERT(on_st.mesh_released > 0);
  CU_ASSERT_EQUAL(on_st.in_use, off_st.in_use);
  /* Most survivors' pages are merged: resident falls well below the floor without meshing. */
  CU_ASSERT(on_st.resident < off_st.resident - off_st.resident / 3);
  printf("\n  mesher: resident %zu -> %zu KiB, %zu secondaries, %zu mappings ",
         off_st.resident >> 10, on_st.resident >> 10, on_st.mesh_pages, on_st.mesh_mappings);
  /* Frees through every address; each purge unmeshes what emptied. */
  for (i = 0; i < n; i += 2) rcl_free(h, keep[i], sizes[i]);
  rcl_purge(h);
  TU_CHECK_HEAP(h);
  for (i = 1; i < n; i += 2) CU_ASSERT(tu_verify(keep[i], sizes[i], 0x7000 + i));
  for (i = 1; i < n; i += 2) rcl_free(h, keep[i], sizes[i]);
  purge_expect_empty_and_destroy(h);
}

/* A mesh=on heap (decay 0) with n blocks of SZ bytes in all[], for the
** split-pass tests; NULL (the test passes, saying why) when the backing
** is forced by LUAJIT_RECLAIM_TEST_BACKING, whose layout they do not know. */
static rcl_heap *split_heap(void **all, size_t n, uint64_t seed)
{
  rcl_config cfg;
  rcl_heap *h;
  size_t i;
  const char *env = getenv("LUAJIT_RECLAIM_TEST_BACKING");
  if (env && *env) {
    CU_PASS("backing forced by LUAJIT_RECLAIM_TEST_BACKING: run without it");
    return NULL;
  }
  rcl_config_default(&cfg);
  cfg.decay_ms = 0;
  cfg.mesh = 1;
  h = rcl_heap_create(&cfg, seed);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < n; i++) all[i] = rcl_malloc(h, SZ);
  return h;
}

/* The split pass: three pages of one class with one survivor each, at
** different offsets of their spans (where the page size leaves a unit
** several pages) and in disjoint slots: the same-offset walk finds no
** partner with live blocks, the split pass meshes two onto the third. */
static void test_mesher_split(void)
{
  enum { N = 16 * 65536 / SZ };
  static void *all[N];
  static const size_t want_slot[3] = { 0, 1, 5 };
  rcl_heap *h;
  rcl_stats st;
  size_t ps = rcl_page_size(), m = 65536 / ps > 1 ? 65536 / ps : 1, i, k;
  void *keep[3] = { NULL, NULL, NULL };
  if (!(h = split_heap(all, N, 17))) return;
  /* Survivor k: slot want_slot[k] of a page at offset (1 + 3k) mod m of
  ** its unit, on a page no other survivor uses. */
  for (k = 0; k < 3; k++)
    for (i = 0; i < N && !keep[k]; i++) {
      uintptr_t a = (uintptr_t)all[i], page = a & ~(uintptr_t)(ps - 1);
      size_t j;
      int taken = 0;
      if (!all[i] || (a & (ps - 1)) / SZ != want_slot[k] || (a & 65535) / ps != (1 + 3 * k) % m) continue;
      for (j = 0; j < k; j++) taken |= ((uintptr_t)keep[j] & ~(uintptr_t)(ps - 1)) == page;
      if (taken) continue;
      keep[k] = all[i];
      all[i] = NULL;
    }
  CU_ASSERT_FATAL(keep[0] && keep[1] && keep[2]);
  for (k = 0; k < 3; k++) tu_fill(keep[k], SZ, TAG(k));
  for (i = 0; i < N; i++)
    if (all[i]) rcl_free(h, all[i], SZ);
  rcl_purge(h);
  st = stats_of(h);
  TU_CHECK_HEAP(h);
  CU_ASSERT_EQUAL(st.mesh_pages, 2);
  CU_ASSERT_EQUAL(st.mesh_mappings, 4);             /* two isolated secondaries */
  for (k = 0; k < 3; k++) CU_ASSERT(tu_verify(keep[k], SZ, TAG(k)));
  for (k = 0; k < 3; k++) rcl_free(h, keep[k], SZ);
  purge_expect_empty_and_destroy(h);
}

/* The lowest 64 KiB unit above `above` holding one of all[0..n) on its
** page `page`; 0 if none. */
static uintptr_t unit_with_page(void *const *all, size_t n, size_t page, uintptr_t above)
{
  uintptr_t best = 0;
  size_t i;
  for (i = 0; i < n; i++) {
    uintptr_t u = (uintptr_t)all[i] & ~(uintptr_t)65535;
    if (!all[i] || ((uintptr_t)all[i] & 65535) / rcl_page_size() != page || u <= above) continue;
    if (!best || u < best) best = u;
  }
  return best;
}

/* The split pass extends a mesh into a run: after Q2 meshes onto P2, its
** neighbour Q1 meshes onto P1 (one run, two mappings) before the order of
** the candidates would send it to R alone (two more mappings). With a gap
** of g empty pages, Q1 lies g + 1 pages below Q2 and P1 as far below P2,
** and the gap's pages become fillers. Layout, one 64-byte class, every
** other block freed: P1, P2 (pages 1, 2 + g of a unit) keep slot 0,
** slot 1; Q1, Q2 (pages 5, 6 + g of a higher unit) keep slot 1, slot 0;
** R (page 9 of a third unit) keeps every slot but slot 1. No two
** candidates share an offset, so the run walks mesh nothing; the split
** pass takes the highest candidate first (Q2: R and P1 overlap it, P2 fits). */
static void split_run_case(size_t g)
{
  enum { N = 16 * 65536 / SZ };
  static void *all[N];
  static void *keep[4 + 4096 / SZ];
  rcl_heap *h;
  rcl_stats st;
  size_t ps = rcl_page_size(), i, k, nkeep = 0;
  uintptr_t unit_p, unit_q, unit_r;
  if (!(h = split_heap(all, N, 18 + g))) return;
  unit_p = unit_with_page(all, N, 9, 0);
  unit_q = unit_with_page(all, N, 9, unit_p);
  unit_r = unit_with_page(all, N, 9, unit_q);
  CU_ASSERT_FATAL(unit_p && unit_q && unit_r);
  for (i = 0; i < N; i++) {
    uintptr_t a = (uintptr_t)all[i], u = a & ~(uintptr_t)65535;
    size_t page = (a & 65535) / ps, slot = (a & (ps - 1)) / SZ;
    int hold = (u == unit_p && ((page == 1 && slot == 0) || (page == 2 + g && slot == 1))) ||
               (u == unit_q && ((page == 5 && slot == 1) || (page == 6 + g && slot == 0))) ||
               (u == unit_r && page == 9 && slot != 1);
    if (hold) {
      CU_ASSERT_FATAL(nkeep < sizeof(keep) / sizeof(keep[0]));
      keep[nkeep++] = all[i];
      all[i] = NULL;
    }
  }
  CU_ASSERT_EQUAL_FATAL(nkeep, 4 + ps / SZ - 1);
  for (k = 0; k < nkeep; k++) tu_fill(keep[k], SZ, TAG(k));
  for (i = 0; i < N; i++)
    if (all[i]) rcl_free(h, all[i], SZ);
  rcl_purge(h);
  st = stats_of(h);
  TU_CHECK_HEAP(h);
  CU_ASSERT_EQUAL(st.mesh_pages, 2 + g);            /* Q1, Q2 and the gap's fillers */
  CU_ASSERT_EQUAL(st.mesh_mappings, 2);             /* on P1.., P2: one run */
  for (k = 0; k < nkeep; k++) CU_ASSERT(tu_verify(keep[k], SZ, TAG(k)));
  for (k = 0; k < nkeep; k++) rcl_free(h, keep[k], SZ);
  purge_expect_empty_and_destroy(h);
}

static void test_mesher_split_run(void)
{
  if (65536 / rcl_page_size() < 16) {
    printf("\n  split run: the layout needs 16 OS pages a unit (4 KiB pages), not %zu-byte pages ",
           rcl_page_size());
    CU_PASS("split run layout needs 4 KiB pages");
    return;
  }
  split_run_case(0);
  split_run_case(1);
  split_run_case(3);
}

/* 1 (and the test passes, saying why) when LUAJIT_RECLAIM_TEST_BACKING
** forces a backing: the tests that read the mesher's own passes choose
** theirs through the heap's mesh option. */
static int backing_forced(void)
{
  const char *env = getenv("LUAJIT_RECLAIM_TEST_BACKING");
  if (env && *env) {
    CU_PASS("backing forced by LUAJIT_RECLAIM_TEST_BACKING: run without it");
    return 1;
  }
  return 0;
}

/* A cycle end arms a pass that GC steps advance within their budget. */
static void test_mesher_steps(void)
{
  static void *keep[SCATTER_N / 20];
  static size_t sizes[SCATTER_N / 20];
  size_t n, steps = 0, prev = 0;
  rcl_heap *h;
  rcl_stats st;
  if (backing_forced()) return;
  h = scattered(1, 0, keep, sizes, &n);
  rcl_cycle_end(h);
  do {
    rcl_step(h);
    st = stats_of(h);
    CU_ASSERT(st.mesh_pages - prev <= 8 + 4);         /* RCL_MESHER_STEP_MESHES, then a gap of fillers */
    prev = st.mesh_pages;
  } while (++steps < 100000 && (st.mesh_pages == 0 || steps < 3000));
  CU_ASSERT(st.mesh_pages > 0);
  CU_ASSERT_EQUAL(st.mesh_passes, 1);
  CU_ASSERT(st.mesh_max_pause_ns > 0);
  CU_ASSERT(kept_intact(keep, sizes, n));
  TU_CHECK_HEAP(h);
  printf("\n  mesher steps: %zu secondaries after %zu steps, longest step %.3f ms ",
         st.mesh_pages, steps, (double)st.mesh_max_pause_ns / 1e6);
  rcl_heap_destroy(h);
}

/* Runs a cycle end and GC steps until its mesher pass is done; returns the
** heap's statistics after it. */
static rcl_stats cycle_and_steps(rcl_heap *h)
{
  size_t steps;
  rcl_cycle_end(h);
  for (steps = 0; h->mesh_armed && steps < 100000; steps++) rcl_step(h);
  CU_ASSERT(!h->mesh_armed);
  return stats_of(h);
}

/* GC-step passes of a heap that allocates mesh only settled spans: a span
** freed into less than decay_ms ago (its survivors are as young as its
** garbage, and its free slots are about to be handed out again) is left
** alone, so a churning heap pays no copy, mapping and refault for pages it
** refills at once; once the frees are decay_ms old, the pass of a busy
** cycle meshes the same pages. A quiet cycle (the host collected without
** allocating: nothing will refill the pages) meshes them at once. */
static void test_mesher_steps_settled(void)
{
  enum { DECAY_MS = 150, MEDIUM = 40000, NMEDIUM = 16 };
  static void *keep[SCATTER_N / 20];
  static size_t sizes[SCATTER_N / 20];
  void *medium[NMEDIUM];
  size_t n, i;
  rcl_heap *h;
  rcl_stats st;
  if (backing_forced()) return;
  /* Busy: the cycle that follows the allocations. */
  h = scattered(1, DECAY_MS, keep, sizes, &n);
  st = cycle_and_steps(h);
  CU_ASSERT_EQUAL(st.mesh_passes, 1);
  CU_ASSERT_EQUAL(st.mesh_pages, 0);                /* every span freed into just now */
  /* Busy again (medium blocks turn spans), the frees now decay_ms old. */
  tu_sleep_ms(DECAY_MS + 50);
  for (i = 0; i < NMEDIUM; i++) CU_ASSERT_PTR_NOT_NULL_FATAL(medium[i] = rcl_malloc(h, MEDIUM));
  st = cycle_and_steps(h);
  CU_ASSERT_EQUAL(st.mesh_passes, 2);
  CU_ASSERT(st.mesh_pages > 0);                     /* settled now: the same pages mesh */
  CU_ASSERT(st.mesh_released > 0);
  CU_ASSERT(kept_intact(keep, sizes, n));
  TU_CHECK_HEAP(h);
  for (i = 0; i < NMEDIUM; i++) rcl_free(h, medium[i], MEDIUM);
  rcl_heap_destroy(h);
  /* Quiet: a second cycle end with no allocation in between. */
  h = scattered(1, DECAY_MS, keep, sizes, &n);
  st = cycle_and_steps(h);
  CU_ASSERT_EQUAL(st.mesh_pages, 0);
  st = cycle_and_steps(h);
  CU_ASSERT_EQUAL(st.mesh_passes, 2);
  CU_ASSERT(st.mesh_pages > 0);                     /* frees still fresh, nothing refills */
  CU_ASSERT(kept_intact(keep, sizes, n));
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* The back-off spaces GC-step passes out when they are idle or their
** secondaries unmesh as fast as they are made (churn), and keeps one pass
** per cycle while each cycle leaves new scattered survivors for good. A
** round allocates BATCH blocks, keeps one in 50 and frees the rest, ends a
** cycle and steps until its pass is done; churn frees the survivors of the
** round before. */
enum { BO_BATCH = 6000, BO_ROUNDS = 48 };

static uint64_t backoff_passes(int mode, size_t *secondaries)
{
  static void *keep[BO_ROUNDS][BO_BATCH / 25];
  static size_t nkeep[BO_ROUNDS];
  static void *batch[BO_BATCH];
  rcl_config cfg;
  rcl_heap *h;
  uint64_t x = 88172645463325252ull, passes0;
  size_t r, i, k;
  rcl_config_default(&cfg);
  cfg.decay_ms = 0;
  cfg.mesh = 1;
  h = rcl_heap_create(&cfg, 23);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  rcl_purge(h);
  passes0 = stats_of(h).mesh_passes;
  for (r = 0; r < BO_ROUNDS; r++) {
    nkeep[r] = 0;
    if (mode != 2) {                      /* 2: idle, no allocation at all */
      for (i = 0; i < BO_BATCH; i++) batch[i] = rcl_malloc(h, SZ);
      for (i = 0; i < BO_BATCH; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        if (x % 50 == 0 && nkeep[r] < BO_BATCH / 25) {
          keep[r][nkeep[r]] = batch[i];
          tu_fill(batch[i], SZ, TAG(r * BO_BATCH + nkeep[r]));
          nkeep[r]++;
        } else {
          rcl_free(h, batch[i], SZ);
        }
      }
    }
    if (mode == 1 && r > 0)               /* 1: churn, the last round's survivors die */
      for (k = 0; k < nkeep[r - 1]; k++) rcl_free(h, keep[r - 1][k], SZ);
    cycle_and_steps(h);
  }
  TU_CHECK_HEAP(h);
  for (r = mode == 1 ? BO_ROUNDS - 1 : 0; r < BO_ROUNDS; r++)
    for (k = 0; k < nkeep[r]; k++) CU_ASSERT(tu_verify(keep[r][k], SZ, TAG(r * BO_BATCH + k)));
  *secondaries = stats_of(h).mesh_pages;
  passes0 = stats_of(h).mesh_passes - passes0;
  for (r = mode == 1 ? BO_ROUNDS - 1 : 0; r < BO_ROUNDS; r++)
    for (k = 0; k < nkeep[r]; k++) rcl_free(h, keep[r][k], SZ);
  purge_expect_empty_and_destroy(h);
  return passes0;
}

/* Lines of /proc/self/maps: the process's mappings. */
static size_t maps_count(void)
{
  FILE *f = fopen("/proc/self/maps", "r");
  size_t n = 0;
  int ch;
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  while ((ch = fgetc(f)) != EOF) n += ch == '\n';
  fclose(f);
  return n;
}

/* The mapping budget: three quarters of vm.max_map_count by default; a
** pass stops at it (the mappings meshing holds never pass it, and the
** process gains no more mappings than meshing counts), and a later pass
** with room meshes on. */
static void test_mesh_budget(void)
{
  enum { N = 16 * 65536 / SZ, LIMIT = 6 };
  static void *all[N];
  rcl_heap *h;
  rcl_stats st;
  size_t ps = rcl_page_size(), slots = ps / SZ, i, used0, used, budget, maps0, limited_pages;
  unsigned long long max_map = 65530;
  FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
  if (f) {
    CU_ASSERT_EQUAL(fscanf(f, "%llu", &max_map), 1);
    fclose(f);
  }
  if (!(h = split_heap(all, N, 31))) return;
  budget = rcl_test_mesh_budget(0, &used0);
  CU_ASSERT_EQUAL(budget, (size_t)max_map / 4 * 3);
  /* One survivor a page, in a slot that moves with the page: pages whose
  ** slots differ mesh, at any offset. */
  for (i = 0; i < N; i++) {
    uintptr_t a = (uintptr_t)all[i];
    if (((a & (ps - 1)) / SZ) == (a / ps) % slots) tu_fill(all[i], SZ, TAG(i));
    else { rcl_free(h, all[i], SZ); all[i] = NULL; }
  }
  maps0 = maps_count();
  rcl_test_mesh_budget(used0 + LIMIT, NULL);
  rcl_purge(h);
  st = stats_of(h);
  rcl_test_mesh_budget(0, &used);
  TU_CHECK_HEAP(h);
  CU_ASSERT(st.mesh_pages > 0);
  CU_ASSERT(st.mesh_mappings > 0 && st.mesh_mappings <= LIMIT);
  CU_ASSERT(used <= used0 + LIMIT);
  CU_ASSERT(maps_count() <= maps0 + st.mesh_mappings);
  limited_pages = st.mesh_pages;
  rcl_test_mesh_budget(budget, NULL);
  rcl_purge(h);
  st = stats_of(h);
  TU_CHECK_HEAP(h);
  CU_ASSERT(st.mesh_pages > limited_pages);       /* the budget, not the heap, stopped it */
  for (i = 0; i < N; i++)
    if (all[i]) {
      CU_ASSERT(tu_verify(all[i], SZ, TAG(i)));
      rcl_free(h, all[i], SZ);
    }
  purge_expect_empty_and_destroy(h);
}

/* A dense class (48-byte blocks cross page boundaries): meshing page B
** holds the block across B's start used, though it holds nothing, so that
** nothing is allocated across the edge. The free page X before B holds the
** first bytes of that block; a purge still gives X back (it did not: the
** block kept X from ever being purged). */
static void test_purge_beside_crossing(void)
{
  enum { CSZ = 48 };
  size_t ps = rcl_page_size(), n = 8 * 65536 / CSZ + 4 * ps / CSZ, i;
  void **all = (void **)calloc(n, sizeof(void *));
  rcl_heap *h = file_heap();
  rcl_mesh_page_info pb, pa, px;
  char *b = NULL, *a = NULL, *x, *keep_b = NULL, *keep_a = NULL;
  unsigned char vec = 1;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(all);
  for (i = 0; i < n; i++) {
    all[i] = rcl_malloc(h, CSZ);
    CU_ASSERT_PTR_NOT_NULL_FATAL(all[i]);
    tu_fill(all[i], CSZ, TAG(i));               /* every page resident */
  }
  rcl_purge(h);                                 /* retires the current span */
  /* B: a page whose first bytes belong to a block starting on the page
  ** before (X), all three blocks ours; A: another page of the same grid,
  ** not beside B or X. */
  for (i = 0; i < n && !b; i++) {
    char *q = (char *)all[i], *p = (char *)(((uintptr_t)q + CSZ - 1) & ~(uintptr_t)(ps - 1));
    size_t j;
    if (p <= q || rcl_mesh_page_info_of(h, p, &pb) || pb.phase == 0 ||
        rcl_mesh_page_info_of(h, p - ps, &px)) continue;
    for (j = 0; j < n && !a; j++) {
      char *r = (char *)(((uintptr_t)all[j]) & ~(uintptr_t)(ps - 1));
      if (r + ps < p - ps || r > p + ps) {
        if (!rcl_mesh_page_info_of(h, r, &pa) && pa.phase == pb.phase && pa.nslots == pb.nslots) a = r;
      }
    }
    if (a) b = p;
  }
  CU_ASSERT_FATAL(b != NULL && a != NULL);
  x = b - ps;
  /* Keep slot 0 of B and slot 1 of A; free the rest. */
  for (i = 0; i < n; i++) {
    char *q = (char *)all[i];
    if (q == b + pb.phase) keep_b = q;
    else if (q == a + pb.phase + CSZ) keep_a = q;
    else rcl_free(h, q, CSZ);
  }
  CU_ASSERT_FATAL(keep_b != NULL && keep_a != NULL);
  CU_ASSERT_EQUAL_FATAL(rcl_test_mesh_page(h, b, a), 0);
  rcl_purge(h);
  TU_CHECK_HEAP(h);
  CU_ASSERT_EQUAL(mincore(x, ps, &vec), 0);
  CU_ASSERT_EQUAL(vec & 1, 0);                  /* X went back to the OS */
  CU_ASSERT_EQUAL(stats_of(h).mesh_pages, 1);
  for (i = 0; i < n; i++)
    if (all[i] == keep_b || all[i] == keep_a) CU_ASSERT(tu_verify(all[i], CSZ, TAG(i)));
  rcl_free(h, keep_b, CSZ);
  rcl_free(h, keep_a, CSZ);
  free(all);
  purge_expect_empty_and_destroy(h);
}

static void test_mesher_backoff(void)
{
  size_t sec_grow, sec_churn, sec_idle;
  uint64_t grow, churn, idle;
  if (backing_forced()) return;
  grow = backoff_passes(0, &sec_grow);
  churn = backoff_passes(1, &sec_churn);
  idle = backoff_passes(2, &sec_idle);
  printf("\n  mesher back-off over %d cycles: passes %llu growing (%zu secondaries), "
         "%llu churning, %llu idle ", BO_ROUNDS, (unsigned long long)grow, sec_grow,
         (unsigned long long)churn, (unsigned long long)idle);
  CU_ASSERT_EQUAL(grow, BO_ROUNDS);                 /* every cycle's pass meshes new pages */
  CU_ASSERT(sec_grow >= BO_ROUNDS);
  CU_ASSERT(churn >= 2 && churn <= BO_ROUNDS / 2);
  CU_ASSERT(idle >= 2 && idle <= BO_ROUNDS / 2);
}

/* The mesh table of h after GC steps: no old table left, and (once the
** steps had a few cycles) no more than eight slots an entry unless it is
** one OS page. Returns its entries. */
static size_t table_settled(rcl_heap *h, const char *when)
{
  size_t slots, old_slots, entries, bytes, ps = rcl_page_size();
  bytes = rcl_test_mesh_table(h, &slots, &old_slots, &entries);
  printf("\n  mesh table %s: %zu entries, %zu slots, %zu bytes ", when, entries, slots, bytes);
  CU_ASSERT_EQUAL(old_slots, 0);
  CU_ASSERT(entries * 4 <= slots * 3);
  CU_ASSERT(bytes <= ps || entries * 8 >= slots);
  CU_ASSERT_EQUAL(entries == 0, bytes == 0);
  return entries;
}

/* The mesh table follows the meshed pages: GC-step passes leave no old
** table mapped once their steps are done (a table replaced by a pass's
** last meshes is moved out of by the steps after it, without insertions);
** when unmeshing empties most of it, the next cycles replace it by a
** smaller one; with nothing meshed it is unmapped. */
static void test_mesh_table_follows(void)
{
  static void *keep[SCATTER_N / 20];
  static size_t sizes[SCATTER_N / 20];
  size_t n, i, c, full_slots, full_bytes, bytes, slots, old_slots, entries;
  rcl_heap *h;
  if (backing_forced()) return;
  h = scattered(1, 0, keep, sizes, &n);
  for (c = 0; c < 6; c++) cycle_and_steps(h);
  CU_ASSERT(stats_of(h).mesh_pages > 0);
  CU_ASSERT_FATAL(table_settled(h, "after meshing") > 0);
  full_bytes = rcl_test_mesh_table(h, &full_slots, &old_slots, &entries);
  TU_CHECK_HEAP(h);
  for (i = 0; i < n; i++)                           /* 15 of 16 survivors go */
    if (i % 16) { rcl_free(h, keep[i], sizes[i]); keep[i] = NULL; }
  for (c = 0; c < 6; c++) {
    cycle_and_steps(h);
    TU_CHECK_HEAP(h);
  }
  table_settled(h, "after unmeshing");
  bytes = rcl_test_mesh_table(h, &slots, &old_slots, &entries);
  if (bytes > rcl_page_size()) CU_ASSERT(slots < full_slots);
  CU_ASSERT(bytes <= full_bytes);
  for (i = 0; i < n; i += 16) CU_ASSERT(tu_verify(keep[i], sizes[i], 0x7000 + i));
  for (i = 0; i < n; i += 16) rcl_free(h, keep[i], sizes[i]);
  for (c = 0; c < 4; c++) cycle_and_steps(h);      /* unmeshing is lazy: a few cycles */
  CU_ASSERT_EQUAL(table_settled(h, "with nothing meshed"), 0);
  TU_CHECK_HEAP(h);
  purge_expect_empty_and_destroy(h);
}

int tu_register_mesh_core(void)
{
  CU_pSuite s = CU_add_suite("mesh core", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "contents survive, seen through both addresses; rules", test_contents_survive) ||
      !CU_add_test(s, "overlapping pages never mesh", test_overlap_refused) ||
      !CU_add_test(s, "frees via B and A; unmesh when B empties", test_frees_and_unmesh) ||
      !CU_add_test(s, "a large L(B) spills out of its entry and comes back", test_large_live) ||
      !CU_add_test(s, "realloc of meshed blocks; reuse never overlaps L(B)", test_realloc_and_reuse) ||
      !CU_add_test(s, "purge after mesh: A punched only when all empty", test_purge_after_mesh) ||
      !CU_add_test(s, "GC-step pass: skips spans not freed into, purges A after an unmesh", test_pass_after_unmesh) ||
      !CU_add_test(s, "four secondaries on one primary", test_three_secondaries) ||
      !CU_add_test(s, "remeshing: a primary with its secondaries meshes onto another", test_remesh_primaries) ||
      !CU_add_test(s, "double free through a secondary aborts", test_double_free) ||
      !CU_add_test(s, "fork after mesh: each sees its own writes", test_fork_after_mesh) ||
      !CU_add_test(s, "refused alias (fault) changes nothing", test_refused_alias) ||
      !CU_add_test(s, "anonymous backing never meshes", test_anonymous_refused) ||
      !CU_add_test(s, "mesher: purge() meshes scattered survivors; mesh=off does not", test_mesher_full) ||
      !CU_add_test(s, "mesher: GC steps advance an armed pass within budget", test_mesher_steps) ||
      !CU_add_test(s, "mesher: the split pass meshes pages at different offsets", test_mesher_split) ||
      !CU_add_test(s, "mesher: the split pass extends a mesh into a run (gaps of 0, 1, 3 pages)", test_mesher_split_run) ||
      !CU_add_test(s, "mesher: GC-step passes back off when idle or churning", test_mesher_backoff) ||
      !CU_add_test(s, "mesh table: no old table after the steps; shrinks, then goes, as pages unmesh",
                   test_mesh_table_follows) ||
      !CU_add_test(s, "mesher: GC steps mesh settled spans, or any after a quiet cycle",
                   test_mesher_steps_settled) ||
      !CU_add_test(s, "mesher: a pass stops at the mapping budget (3/4 of vm.max_map_count)", test_mesh_budget) ||
      !CU_add_test(s, "purge gives back the free page beside a secondary's crossing block", test_purge_beside_crossing))
    return -1;
  return 0;
}
