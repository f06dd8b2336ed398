/*
** test_backing.c: the memory-file backing (rcl_os.c, docs/mesh.md step 2).
** Segments map the heap's memory file; purging on it releases the file's
** pages in every mode that purges (st_blocks falls, not only RSS); an
** unmapped segment's range is punched and reused as zeros; every backing
** failure leaves memory anonymous and working; large blocks stay anonymous
** and keep their contents through mremap; after fork() parent and child
** each see only their own writes. Aliases (the OS side of meshing): a page
** maps another page's physical page, purges never punch through an alias,
** fork() keeps aliases in the child (or gives each page its own copy when
** the child has no file), unaliasing maps zeros. The other suites run on
** this backing too (check-unit runs them again with
** LUAJIT_RECLAIM_TEST_BACKING=file).
*/
#include "unit_util.h"
#include "rcl_internal.h"     /* rcl_os_purge: a purge range through an alias */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

/* 1 if the mapping holding p is the memory file, 0 if anonymous, -1 if
** /proc/self/maps has no mapping holding it. */
static int mapped_from_file(const void *p)
{
  char line[512];
  FILE *f = fopen("/proc/self/maps", "r");
  int r = -1;
  uintptr_t a = (uintptr_t)p;
  if (!f) return -1;
  while (fgets(line, sizeof(line), f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx", &lo, &hi) != 2 || a < lo || a >= hi) continue;
    r = strstr(line, "memfd:luajit-reclaim") != NULL;
    break;
  }
  fclose(f);
  return r;
}

static rcl_heap *heap_on(int backing, int mode)
{
  rcl_config cfg;
  rcl_heap *h;
  rcl_config_default(&cfg);
  cfg.decay_ms = 0;
  cfg.mode = mode;
  rcl_test_set_backing(backing);
  h = rcl_heap_create(&cfg, 7);
  rcl_test_set_backing(RCL_BACKING_ENV);
  return h;
}

static rcl_backing_info info_of(rcl_heap *h)
{
  rcl_backing_info bi;
  CU_ASSERT_EQUAL(rcl_test_backing(h, &bi), 0);
  return bi;
}

/* Segments come from the file on the file backing, never on the anonymous one. */
static void test_segments_on_file(void)
{
  rcl_heap *h = heap_on(RCL_BACKING_FILE, RCL_MODE_DONTNEED), *a;
  rcl_backing_info bi;
  void *p;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  p = rcl_malloc(h, 100);
  tu_fill(p, 100, 1);
  bi = info_of(h);
  CU_ASSERT(bi.file && bi.fd >= 0 && bi.file_ino != 0);
  CU_ASSERT_EQUAL(bi.file_segments, 1);
  CU_ASSERT_EQUAL(bi.file_size, 4 * MIB);
  CU_ASSERT_EQUAL(bi.fallbacks, 0);
  CU_ASSERT_EQUAL(mapped_from_file(p), 1);
  TU_CHECK_HEAP(h);
  a = heap_on(RCL_BACKING_ANON, RCL_MODE_DONTNEED);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  p = rcl_malloc(a, 100);
  bi = info_of(a);
  CU_ASSERT(!bi.file && bi.fd == -1 && bi.file_segments == 0);
  CU_ASSERT_EQUAL(mapped_from_file(p), 0);
  rcl_heap_destroy(a);
  rcl_heap_destroy(h);
}

/* Keep one of n blocks of `size` bytes every 8 OS pages (each segment
** keeps survivors, so it stays mapped), free the rest; returns the file's
** allocated bytes before and after rcl_purge. */
static void purge_survivors(rcl_heap *h, size_t n, size_t size, uint64_t *before, uint64_t *after)
{
  void **p = calloc(n, sizeof(*p));
  size_t i, keep = 8 * rcl_page_size() / size;
  int bad = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  for (i = 0; i < n; i++) {
    p[i] = rcl_malloc(h, size);
    tu_fill(p[i], size, i);
  }
  for (i = 0; i < n; i++)
    if (i % keep) rcl_free(h, p[i], size);
  *before = info_of(h).file_allocated;
  rcl_purge(h);
  *after = info_of(h).file_allocated;
  for (i = 0; i < n; i += keep) {
    bad += !tu_verify(p[i], size, i);
    rcl_free(h, p[i], size);
  }
  CU_ASSERT_EQUAL(bad, 0);
  TU_CHECK_HEAP(h);
  free(p);
}

/* A purge on the file releases the file's pages (MADV_DONTNEED would only
** drop RSS): mode dontneed and mode free both punch; mode off keeps them. */
static void test_purge_releases_file_pages(void)
{
  static const int modes[] = { RCL_MODE_DONTNEED, RCL_MODE_FREE, RCL_MODE_OFF };
  static const char *const names[] = { "dontneed", "free", "off" };
  unsigned m;
  printf("\n");
  for (m = 0; m < 3; m++) {
    rcl_heap *h = heap_on(RCL_BACKING_FILE, modes[m]);
    uint64_t before, after;
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    purge_survivors(h, 40000, 1000, &before, &after);  /* 40 MB in 10 segments */
    printf("  mode %s: file holds %.1f MiB before purge, %.1f after\n", names[m],
           (double)before / (double)MIB, (double)after / (double)MIB);
    CU_ASSERT(before >= 36 * MIB);
    if (modes[m] == RCL_MODE_OFF) {
      CU_ASSERT(after >= before - before / 20);
    } else {
      CU_ASSERT(after <= before / 4);   /* a survivor every 8 pages, headers */
    }
    CU_ASSERT_EQUAL(info_of(h).fallbacks, 0);
    rcl_heap_destroy(h);
  }
}

/* Unmapped segments punch their ranges, which new segments reuse: the file
** does not grow, holds no page of the old contents, and reads as zeros. */
static void test_ranges_reused_as_zeros(void)
{
  enum { N = 12000, SIZE = 1000 };
  static void *p[N];
  rcl_heap *h = heap_on(RCL_BACKING_FILE, RCL_MODE_DONTNEED);
  rcl_backing_info bi;
  uint64_t size;
  size_t i, j, nonzero = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < N; i++) {
    p[i] = rcl_malloc(h, SIZE);
    memset(p[i], 0xa5, SIZE);
  }
  bi = info_of(h);
  size = bi.file_size;
  CU_ASSERT(bi.file_segments >= 3);
  for (i = 0; i < N; i++) rcl_free(h, p[i], SIZE);
  rcl_purge(h);                           /* unmaps all free segments but one */
  bi = info_of(h);
  CU_ASSERT_EQUAL(bi.file_segments, 1);
  CU_ASSERT(bi.file_allocated <= 2 * MIB);
  CU_ASSERT_EQUAL(bi.punch_failed, 0);
  for (i = 0; i < N; i++) {
    const unsigned char *b;
    p[i] = rcl_malloc(h, SIZE);
    b = (const unsigned char *)p[i];
    for (j = 0; j < SIZE; j++) nonzero += b[j] != 0;
  }
  CU_ASSERT_EQUAL(nonzero, 0);
  CU_ASSERT_EQUAL(info_of(h).file_size, size);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* Fill, check and free a few megabytes, then purge: the heap works. */
static void churn(rcl_heap *h)
{
  enum { N = 6000 };
  static void *p[N];
  size_t i;
  int bad = 0;
  for (i = 0; i < N; i++) {
    p[i] = rcl_malloc(h, 1000);
    tu_fill(p[i], 1000, i);
  }
  for (i = 0; i < N; i += 2) rcl_free(h, p[i], 1000);
  rcl_purge(h);
  for (i = 1; i < N; i += 2) {
    bad += !tu_verify(p[i], 1000, i);
    rcl_free(h, p[i], 1000);
  }
  CU_ASSERT_EQUAL(bad, 0);
  TU_CHECK_HEAP(h);
}

/* memfd_create, ftruncate or the file mapping failing: counted, and the
** heap (or the segment) continues on anonymous memory. */
static void test_fallbacks(void)
{
  rcl_heap *h;
  rcl_backing_info bi;
  void *p;
  /* No memory file: every segment anonymous. */
  CU_ASSERT_EQUAL_FATAL(rcl_test_fault(RCL_FAULT_BACKING, 1, 1), 0);
  h = heap_on(RCL_BACKING_FILE, RCL_MODE_DONTNEED);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  p = rcl_malloc(h, 64);
  bi = info_of(h);
  CU_ASSERT(bi.file && bi.fd == -1 && bi.fallbacks == 1 && bi.file_segments == 0);
  CU_ASSERT_EQUAL(mapped_from_file(p), 0);
  churn(h);
  rcl_heap_destroy(h);
  /* The file cannot grow (call 2: the first segment's ftruncate). */
  CU_ASSERT_EQUAL_FATAL(rcl_test_fault(RCL_FAULT_BACKING, 2, 1), 0);
  h = heap_on(RCL_BACKING_FILE, RCL_MODE_DONTNEED);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  p = rcl_malloc(h, 64);
  bi = info_of(h);
  CU_ASSERT(bi.fd >= 0 && bi.fallbacks == 1 && bi.file_segments == 0 && bi.file_size == 0);
  CU_ASSERT_EQUAL(mapped_from_file(p), 0);
  churn(h);                               /* later segments come from the file */
  bi = info_of(h);
  CU_ASSERT(bi.file_segments >= 1);
  rcl_heap_destroy(h);
  /* The file mapping fails (call 3): the range is kept for the next segment. */
  CU_ASSERT_EQUAL_FATAL(rcl_test_fault(RCL_FAULT_BACKING, 3, 1), 0);
  h = heap_on(RCL_BACKING_FILE, RCL_MODE_DONTNEED);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  p = rcl_malloc(h, 64);
  bi = info_of(h);
  CU_ASSERT(bi.fallbacks == 1 && bi.file_segments == 0 && bi.file_size == 4 * MIB);
  churn(h);
  bi = info_of(h);
  CU_ASSERT(bi.file_segments >= 1);
  CU_ASSERT_EQUAL(bi.file_size, (uint64_t)bi.file_segments * 4 * MIB);
  rcl_heap_destroy(h);
  rcl_test_fault(RCL_FAULT_BACKING, 0, 0);
}

/* Large blocks stay anonymous on the file backing; growing and shrinking
** them (mremap, or map-copy-unmap) keeps their contents. */
static void test_large_blocks_anonymous(void)
{
  static const size_t sizes[] = { 2 * MIB, 6 * MIB, 20 * MIB + 123, 3 * MIB, 1 * MIB + 4096, 9 * MIB };
  rcl_heap *h = heap_on(RCL_BACKING_FILE, RCL_MODE_DONTNEED);
  char *p, *q;
  size_t i;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  q = rcl_malloc(h, 100);                 /* a segment, so the heap has a file mapping */
  CU_ASSERT_EQUAL(mapped_from_file(q), 1);
  p = rcl_malloc(h, sizes[0]);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  tu_fill(p, sizes[0], 77);
  for (i = 1; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    size_t keep = sizes[i] < sizes[i - 1] ? sizes[i] : sizes[i - 1];
    p = rcl_realloc(h, p, sizes[i - 1], sizes[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT(tu_verify(p, keep, 77));
    CU_ASSERT_EQUAL(mapped_from_file(p), 0);
    tu_fill(p, sizes[i], 77);
  }
  rcl_free(h, p, sizes[i - 1]);
  rcl_free(h, q, 100);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}


/* -- aliases -- */

/* Three OS pages inside one medium block: the test owns their contents. */
typedef struct alias_pages { rcl_heap *h; void *block; char *pg[3]; size_t ps; } alias_pages;

static void alias_setup(alias_pages *a)
{
  size_t i;
  a->ps = rcl_page_size();
  a->h = heap_on(RCL_BACKING_FILE, RCL_MODE_DONTNEED);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a->h);
  a->block = rcl_malloc(a->h, 4 * 65536);       /* a medium block: 4 units */
  CU_ASSERT_PTR_NOT_NULL_FATAL(a->block);
  for (i = 0; i < 3; i++) {
    a->pg[i] = (char *)(((uintptr_t)a->block + a->ps - 1) & ~(uintptr_t)(a->ps - 1)) + i * a->ps;
    tu_fill(a->pg[i], a->ps, 100 + i);
  }
}

static int all_zero(const char *p, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

/* The rules, sharing, purges around aliases, unaliasing. */
static void test_aliases(void)
{
  alias_pages a;
  rcl_backing_info bi;
  uint64_t before;
  alias_setup(&a);
  before = info_of(a.h).file_allocated;
  CU_ASSERT_EQUAL(rcl_test_page_alias(a.h, a.pg[0], a.pg[0]), -1);
  CU_ASSERT_EQUAL(rcl_test_page_alias(a.h, a.pg[1] + 8, a.pg[0]), -1);
  CU_ASSERT_EQUAL(rcl_test_page_unalias(a.h, a.pg[1]), -1);
  CU_ASSERT_EQUAL_FATAL(rcl_test_page_alias(a.h, a.pg[1], a.pg[0]), 0);
  bi = info_of(a.h);
  CU_ASSERT_EQUAL(bi.aliases, 1);
  CU_ASSERT_EQUAL(bi.file_allocated, before - a.ps);   /* pg1's own page punched */
  CU_ASSERT(tu_verify(a.pg[1], a.ps, 100));            /* pg1 shows pg0's page */
  tu_fill(a.pg[0], a.ps, 200);
  CU_ASSERT(tu_verify(a.pg[1], a.ps, 200));
  tu_fill(a.pg[1], a.ps, 201);
  CU_ASSERT(tu_verify(a.pg[0], a.ps, 201));
  CU_ASSERT(tu_verify(a.pg[2], a.ps, 102));
  /* A target is no alias, an alias no target, an alias is one once. */
  CU_ASSERT_EQUAL(rcl_test_page_alias(a.h, a.pg[2], a.pg[1]), -1);
  CU_ASSERT_EQUAL(rcl_test_page_alias(a.h, a.pg[0], a.pg[2]), -1);
  CU_ASSERT_EQUAL(rcl_test_page_alias(a.h, a.pg[1], a.pg[2]), -1);
  CU_ASSERT_EQUAL_FATAL(rcl_test_page_alias(a.h, a.pg[2], a.pg[0]), 0);  /* 3 pages, 1 physical */
  CU_ASSERT(tu_verify(a.pg[2], a.ps, 201));
  CU_ASSERT_EQUAL(info_of(a.h).aliases, 2);
  /* A purge of an alias leaves the target's page alone; one of the target frees it. */
  CU_ASSERT_EQUAL(rcl_os_purge(a.h, a.pg[1], a.ps), 0);
  CU_ASSERT(tu_verify(a.pg[0], a.ps, 201));
  CU_ASSERT_EQUAL(rcl_os_purge(a.h, a.pg[0], 3 * a.ps), 0);
  CU_ASSERT(all_zero(a.pg[1], a.ps) && all_zero(a.pg[2], a.ps));
  tu_fill(a.pg[0], a.ps, 300);
  CU_ASSERT(tu_verify(a.pg[2], a.ps, 300));
  /* Unaliased: its own range, zeros, no longer shared. */
  CU_ASSERT_EQUAL(rcl_test_page_unalias(a.h, a.pg[1]), 0);
  CU_ASSERT(all_zero(a.pg[1], a.ps));
  tu_fill(a.pg[1], a.ps, 301);
  CU_ASSERT(tu_verify(a.pg[0], a.ps, 300) && tu_verify(a.pg[2], a.ps, 300));
  CU_ASSERT_EQUAL(rcl_test_page_unalias(a.h, a.pg[1]), -1);
  bi = info_of(a.h);
  CU_ASSERT(bi.aliases == 1 && bi.alias_failed == 0);
  /* A failing OS call changes nothing. */
  CU_ASSERT_EQUAL_FATAL(rcl_test_fault(RCL_FAULT_BACKING, 1, 1), 0);
  CU_ASSERT_EQUAL(rcl_test_page_alias(a.h, a.pg[1], a.pg[0]), -1);
  rcl_test_fault(RCL_FAULT_BACKING, 0, 0);
  CU_ASSERT(tu_verify(a.pg[1], a.ps, 301));
  CU_ASSERT_EQUAL(info_of(a.h).alias_failed, 1);
  rcl_free(a.h, a.block, 4 * 65536);
  TU_CHECK_HEAP(a.h);
  rcl_heap_destroy(a.h);                  /* unmaps a segment with an alias */
}

/* The aliases one target may have: rcl_os.c's RCL_ALIAS_COUNT_MAX (its
** alias word keeps the count in 5 bits; the mesher stays far below it). */
#define ALIAS_COUNT_MAX 31

/* A target takes ALIAS_COUNT_MAX aliases and refuses one more, changing
** nothing; after an unalias it takes one again. */
static void test_alias_count_limit(void)
{
  size_t ps = rcl_page_size(), i, bytes = (size_t)1 << 20;   /* a medium block */
  rcl_heap *h = heap_on(RCL_BACKING_FILE, RCL_MODE_DONTNEED);
  char *block, *pg;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  block = (char *)rcl_malloc(h, bytes);
  CU_ASSERT_PTR_NOT_NULL_FATAL(block);
  pg = (char *)(((uintptr_t)block + ps - 1) & ~(uintptr_t)(ps - 1));
  if ((size_t)(block + bytes - pg) / ps < ALIAS_COUNT_MAX + 2) {   /* 64 KiB pages: too few */
    rcl_free(h, block, bytes);
    rcl_heap_destroy(h);
    return;
  }
  tu_fill(pg, ps, 7);
  for (i = 1; i <= ALIAS_COUNT_MAX; i++)
    CU_ASSERT_EQUAL_FATAL(rcl_test_page_alias(h, pg + i * ps, pg), 0);
  tu_fill(pg + (ALIAS_COUNT_MAX + 1) * ps, ps, 8);
  CU_ASSERT_EQUAL(rcl_test_page_alias(h, pg + (ALIAS_COUNT_MAX + 1) * ps, pg), -1);
  CU_ASSERT(tu_verify(pg + (ALIAS_COUNT_MAX + 1) * ps, ps, 8));     /* unchanged */
  CU_ASSERT_EQUAL(info_of(h).aliases, ALIAS_COUNT_MAX);
  CU_ASSERT_EQUAL(info_of(h).alias_failed, 0);                       /* a rule, no OS failure */
  CU_ASSERT(tu_verify(pg + ALIAS_COUNT_MAX * ps, ps, 7));
  CU_ASSERT_EQUAL(rcl_test_page_unalias(h, pg + ps), 0);
  CU_ASSERT_EQUAL(rcl_test_page_alias(h, pg + (ALIAS_COUNT_MAX + 1) * ps, pg), 0);
  CU_ASSERT(tu_verify(pg + (ALIAS_COUNT_MAX + 1) * ps, ps, 7));
  CU_ASSERT_EQUAL(info_of(h).aliases, ALIAS_COUNT_MAX);
  for (i = 2; i <= ALIAS_COUNT_MAX + 1; i++)
    CU_ASSERT_EQUAL(rcl_test_page_unalias(h, pg + i * ps), 0);
  CU_ASSERT_EQUAL(info_of(h).aliases, 0);
  rcl_free(h, block, bytes);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* A segment that an alias in another segment maps is not unmapped (its
** file range would be handed out again under that alias): the OS layer
** refuses, changing nothing and counting no munmap failure; once the alias
** is gone the refusal ends. Called on a live segment, as the OS layer
** alone: the refusal must come before anything is unmapped. */
static void test_alias_pins_target_segment(void)
{
  size_t ps = rcl_page_size(), mb = (size_t)1 << 20, i, n = 0;
  rcl_heap *h = heap_on(RCL_BACKING_FILE, RCL_MODE_DONTNEED);
  char *blk[8], *pa = NULL, *pb = NULL;
  rcl_stats st, st2;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < 8 && !pb; i++) {                /* two 1 MiB blocks in two segments */
    blk[n] = (char *)rcl_malloc(h, mb);
    CU_ASSERT_PTR_NOT_NULL_FATAL(blk[n]);
    if (!pa) pa = blk[n];
    else if (rcl_segment_of(blk[n]) != rcl_segment_of(pa)) pb = blk[n];
    n++;
  }
  CU_ASSERT_PTR_NOT_NULL_FATAL(pb);
  pa = (char *)(((uintptr_t)pa + ps - 1) & ~(uintptr_t)(ps - 1));
  pb = (char *)(((uintptr_t)pb + ps - 1) & ~(uintptr_t)(ps - 1));
  tu_fill(pa, ps, 31);
  tu_fill(pb, ps, 32);
  CU_ASSERT_EQUAL_FATAL(rcl_test_page_alias(h, pb, pa), 0);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(rcl_os_unmap(h, rcl_segment_of(pa), RCL_SEGMENT_SIZE), -1);
  CU_ASSERT(tu_verify(pa, ps, 31) && tu_verify(pb, ps, 31));   /* still mapped, still shared */
  CU_ASSERT_EQUAL(info_of(h).aliases, 1);
  rcl_stats_get(h, &st2);
  CU_ASSERT_EQUAL(st2.munmap_failed, st.munmap_failed);
  CU_ASSERT_EQUAL(rcl_test_page_unalias(h, pb), 0);
  CU_ASSERT(tu_verify(pa, ps, 31) && all_zero(pb, ps));
  for (i = 0; i < n; i++) rcl_free(h, blk[i], mb);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

typedef struct alias_fork { alias_pages *a; int anonymous; } alias_fork;

/* In the child: the aliases hold (or, without a file, each page kept what
** it showed); the parent's pages are not the child's. */
static int alias_child(void *arg)
{
  alias_fork *f = (alias_fork *)arg;
  alias_pages *a = f->a;
  rcl_backing_info bi;
  if (rcl_test_backing(a->h, &bi) != 0 || bi.fork_copies != 1) return 10;
  if (!tu_verify(a->pg[0], a->ps, 400) || !tu_verify(a->pg[1], a->ps, 400) ||
      !tu_verify(a->pg[2], a->ps, 402)) return 11;
  tu_fill(a->pg[0], a->ps, 500);
  if (f->anonymous) {
    if (bi.fd != -1 || bi.aliases != 0) return 12;
    if (!tu_verify(a->pg[1], a->ps, 400)) return 13;   /* its own copy now */
  } else {
    if (bi.fd < 0 || bi.aliases != 1) return 14;
    if (!tu_verify(a->pg[1], a->ps, 500)) return 15;   /* still one physical page */
    if (rcl_test_page_unalias(a->h, a->pg[1]) != 0 || !all_zero(a->pg[1], a->ps)) return 16;
  }
  return 0;
}

/* fork() after aliasing: the child keeps the aliases on its own file, or
** (no file: memfd_create fails in the child) a private copy per page. */
static void test_alias_fork(void)
{
  alias_pages a;
  alias_fork f;
  int mode, st;
  for (mode = 0; mode < 2; mode++) {
    alias_setup(&a);
    tu_fill(a.pg[0], a.ps, 400);
    tu_fill(a.pg[2], a.ps, 402);
    CU_ASSERT_EQUAL_FATAL(rcl_test_page_alias(a.h, a.pg[1], a.pg[0]), 0);
    f.a = &a;
    f.anonymous = mode;
    if (mode) rcl_test_fault(RCL_FAULT_BACKING, 1, 1);  /* the child's memfd_create */
    st = tu_child(alias_child, &f, 20);
    rcl_test_fault(RCL_FAULT_BACKING, 0, 0);
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
      fprintf(stderr, "\n  alias fork child (anonymous %d): status %#x\n", mode, (unsigned)st);
    CU_ASSERT(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    CU_ASSERT(tu_verify(a.pg[0], a.ps, 400) && tu_verify(a.pg[1], a.ps, 400));
    CU_ASSERT(tu_verify(a.pg[2], a.ps, 402));
    CU_ASSERT_EQUAL(info_of(a.h).aliases, 1);
    rcl_free(a.h, a.block, 4 * 65536);
    rcl_heap_destroy(a.h);
  }
}

/* -- fork -- */

enum { FORK_N = 3000 };
static const size_t fork_sizes[] = { 16, 48, 100, 700, 3000, 40000 };
#define FORK_SIZE(i) fork_sizes[(i) % (sizeof(fork_sizes) / sizeof(fork_sizes[0]))]

static void fill_all(void **p, uint64_t tag)
{
  size_t i;
  for (i = 0; i < FORK_N; i++)
    if (p[i]) tu_fill(p[i], FORK_SIZE(i), tag + i);
}

static int verify_all(void **p, uint64_t tag)
{
  size_t i;
  int bad = 0;
  for (i = 0; i < FORK_N; i++)
    if (p[i]) bad += !tu_verify(p[i], FORK_SIZE(i), tag + i);
  return bad;
}

static int wait_byte(int fd)
{
  char c;
  ssize_t r;
  while ((r = read(fd, &c, 1)) < 0 && errno == EINTR) {}
  return r == 1 ? 0 : -1;
}

static void send_byte(int fd)
{
  char c = 1;
  while (write(fd, &c, 1) < 0 && errno == EINTR) {}
}

/* RCL_FAULT_BACKING failures the child must have seen, process-wide. */
static uint64_t fork_injected_want;

/* The child's side: exit codes name the first check that failed. */
static int fork_child(rcl_heap *h, void **p, uint64_t parent_ino, int to_parent, int from_parent)
{
  rcl_backing_info bi;
  void *extra[200];
  size_t i;
  alarm(30);
  if (rcl_test_backing(h, &bi) != 0) return 10;
  if (bi.fd < 0 || bi.file_ino == 0 || bi.file_ino == parent_ino) return 11;  /* a file of its own */
  if (bi.fork_copies != 1 || bi.fallbacks != 0) return 12;
  if (rcl_test_fault_injected(RCL_FAULT_BACKING) != fork_injected_want) return 19;
  if (verify_all(p, 1000)) return 13;             /* the parent's contents, copied */
  fill_all(p, 2000);                              /* the child's writes */
  for (i = 0; i < 200; i++) {                     /* into pages purged before fork */
    extra[i] = rcl_malloc(h, 700);
    tu_fill(extra[i], 700, 5000 + i);
  }
  send_byte(to_parent);
  if (wait_byte(from_parent) != 0) return 14;     /* the parent wrote 3000 meanwhile */
  if (verify_all(p, 2000)) return 15;
  for (i = 0; i < 200; i++)
    if (!tu_verify(extra[i], 700, 5000 + i)) return 16;
  for (i = 0; i < FORK_N; i += 3)
    if (p[i]) { rcl_free(h, p[i], FORK_SIZE(i)); p[i] = NULL; }
  rcl_purge(h);                                   /* punches the child's file only */
  if (verify_all(p, 2000)) return 17;
  {
    char err[256];
    if (rcl_test_check(h, err, sizeof(err)) != 0) return 18;
  }
  return 0;
}

/* Parent and child write the same blocks after fork() and each sees only
** its own writes, also on pages purged (punched) before the fork and after
** the child punches its own file. Run with and without the background
** thread serving the heap (whose fork handlers hold the heap locks), and
** with the kernel's file-to-file copy refused for the first segment (the
** child's second RCL_FAULT_BACKING call; its first is memfd_create), which
** the child then copies through mappings. */
static void fork_case(int background, int refuse_copy)
{
  static void *p[FORK_N];
  rcl_config cfg;
  rcl_heap *h;
  rcl_backing_info bi;
  int to_parent[2], from_parent[2], status = 0;
  void (*old_pipe)(int);
  size_t i;
  pid_t pid;
  rcl_config_default(&cfg);
  cfg.decay_ms = 0;
  cfg.background = background;
  cfg.background_interval_ms = 1;
  rcl_test_set_backing(RCL_BACKING_FILE);
  h = rcl_heap_create(&cfg, 11);
  rcl_test_set_backing(RCL_BACKING_ENV);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < FORK_N; i++) p[i] = rcl_malloc(h, FORK_SIZE(i));
  for (i = 0; i < FORK_N; i += 2) { rcl_free(h, p[i], FORK_SIZE(i)); p[i] = NULL; }
  rcl_purge(h);                                   /* holes in the file before fork */
  fill_all(p, 1000);
  bi = info_of(h);
  CU_ASSERT_FATAL(bi.fd >= 0 && bi.file_ino != 0);
  CU_ASSERT_FATAL(pipe(to_parent) == 0 && pipe(from_parent) == 0);
  old_pipe = signal(SIGPIPE, SIG_IGN);    /* a child that failed early closed its end */
  fflush(stdout);
  fflush(stderr);
  fork_injected_want = rcl_test_fault_injected(RCL_FAULT_BACKING) + (refuse_copy ? 1 : 0);
  if (refuse_copy) CU_ASSERT_EQUAL_FATAL(rcl_test_fault(RCL_FAULT_BACKING, 2, 1), 0);
  pid = fork();
  if (refuse_copy) rcl_test_fault(RCL_FAULT_BACKING, 0, 0);
  CU_ASSERT_FATAL(pid >= 0);
  if (pid == 0) {
    close(to_parent[0]);
    close(from_parent[1]);
    _exit(fork_child(h, p, bi.file_ino, to_parent[1], from_parent[0]));
  }
  close(to_parent[1]);
  close(from_parent[0]);
  CU_ASSERT_EQUAL(info_of(h).file_ino, bi.file_ino);   /* the parent keeps its file */
  CU_ASSERT_EQUAL(info_of(h).fork_copies, 0);
  if (wait_byte(to_parent[0]) == 0) {
    CU_ASSERT_EQUAL(verify_all(p, 1000), 0);           /* the child's writes are not ours */
    fill_all(p, 3000);
  } else {
    CU_FAIL("the child died before writing");
  }
  send_byte(from_parent[1]);
  close(from_parent[1]);
  close(to_parent[0]);
  CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
  signal(SIGPIPE, old_pipe);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fprintf(stderr, "\n  fork child (background %d, copy refused %d): status %#x\n", background,
            refuse_copy, status);
  CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  CU_ASSERT_EQUAL(verify_all(p, 3000), 0);             /* the child's purge is not ours */
  TU_CHECK_HEAP(h);
  for (i = 0; i < FORK_N; i++)
    if (p[i]) rcl_free(h, p[i], FORK_SIZE(i));
  rcl_heap_destroy(h);
}

static void test_fork_private(void) { fork_case(0, 0); }
static void test_fork_private_background(void) { fork_case(1, 0); }
static void test_fork_copy_refused(void) { fork_case(0, 1); }

int tu_register_backing(void)
{
  CU_pSuite s = CU_add_suite("backing", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "segments on the memory file (file backing only)", test_segments_on_file) ||
      !CU_add_test(s, "purge releases the file's pages (st_blocks), modes", test_purge_releases_file_pages) ||
      !CU_add_test(s, "unmapped ranges punched, reused as zeros", test_ranges_reused_as_zeros) ||
      !CU_add_test(s, "fault: memfd, ftruncate, mapping: anonymous fallback", test_fallbacks) ||
      !CU_add_test(s, "large blocks anonymous, realloc keeps contents", test_large_blocks_anonymous) ||
      !CU_add_test(s, "fork: parent and child see only their own writes", test_fork_private) ||
      !CU_add_test(s, "fork with the background thread on", test_fork_private_background) ||
      !CU_add_test(s, "fork: the kernel's file copy refused, copied through mappings", test_fork_copy_refused) ||
      !CU_add_test(s, "aliases: rules, sharing, purges around them, unalias", test_aliases) ||
      !CU_add_test(s, "aliases: a target's count limit refuses one more", test_alias_count_limit) ||
      !CU_add_test(s, "aliases: a segment an outside alias maps stays mapped", test_alias_pins_target_segment) ||
      !CU_add_test(s, "aliases after fork: kept on the child's file, copies without", test_alias_fork))
    return -1;
  return 0;
}
