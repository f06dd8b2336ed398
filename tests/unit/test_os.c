/*
** test_os.c: run-time page size, the 47-bit address rule (with a lowered
** limit so it is provable on x86_64), fault injection for mmap, madvise,
** munmap and mremap (build with -DRCL_FAULT_INJECTION), the
** LUAJIT_RECLAIM_FAULT variable, and the large-block table.
*/
#include "unit_util.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)
#define LOW_LIMIT ((uint64_t)1 << 40)

static void test_page_size(void)
{
  size_t p = rcl_page_size();
  rcl_heap *h = rcl_heap_create(NULL, 40);
  rcl_stats st;
  CU_ASSERT_EQUAL(p, (size_t)sysconf(_SC_PAGESIZE));
  CU_ASSERT(p >= 4096 && p <= 65536 && (p & (p - 1)) == 0);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.page_size, p);
  rcl_heap_destroy(h);
}

/* Without hints the kernel places mappings near the top of the address
** space (above 2^40 on x86_64): every one must be rejected, counted, and
** the allocation must fail cleanly. */
static void test_high_addresses_rejected(void)
{
  rcl_heap *h;
  rcl_stats st;
  rcl_test_set_addr_limit(LOW_LIMIT);
  rcl_test_set_hints(0);
  h = rcl_heap_create(NULL, 41);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NULL(rcl_malloc(h, 100));
  CU_ASSERT_PTR_NULL(rcl_malloc(h, 200000));
  CU_ASSERT_PTR_NULL(rcl_malloc(h, 3 * MIB));
  rcl_stats_get(h, &st);
  CU_ASSERT(st.high_mappings_rejected >= 3 * 16);
  CU_ASSERT(st.mmap_failed >= 3);
  CU_ASSERT_EQUAL(st.segments, 0);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
  rcl_test_set_hints(1);
  rcl_test_set_addr_limit(0);
}

/* With hints every block, of every kind, stays below the limit. */
static void test_blocks_below_limit(void)
{
  enum { N = 20000 };
  static void *p[N];
  static size_t n[N];
  rcl_heap *h;
  uint64_t x = 4242;
  int i, above = 0;
  rcl_test_set_addr_limit(LOW_LIMIT);
  h = rcl_heap_create(NULL, 42);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < N; i++) {
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    n[i] = i % 500 == 0 ? 1 * MIB + (size_t)(x % (4 * MIB)) : (size_t)(x % (i % 20 ? 4000 : 300000));
    p[i] = rcl_malloc(h, n[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
    if ((uint64_t)(uintptr_t)p[i] + n[i] > LOW_LIMIT) above++;
  }
  for (i = 0; i < N; i += 500) {          /* large growth: mremap may move */
    p[i] = rcl_realloc(h, p[i], n[i], n[i] * 3);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
    n[i] *= 3;
    if ((uint64_t)(uintptr_t)p[i] + n[i] > LOW_LIMIT) above++;
  }
  CU_ASSERT_EQUAL(above, 0);
  TU_CHECK_HEAP(h);                        /* also checks segments and large table */
  for (i = 0; i < N; i++) rcl_free(h, p[i], n[i]);
  rcl_heap_destroy(h);
  rcl_test_set_addr_limit(0);
}

#ifdef RCL_FAULT_INJECTION
/* mmap failure -> NULL, counted, heap still usable. */
static void test_fault_mmap(void)
{
  rcl_heap *h = rcl_heap_create(NULL, 43);
  rcl_stats st;
  void *keep = rcl_malloc(h, 100), *p, *q;
  int i;
  CU_ASSERT_PTR_NOT_NULL_FATAL(keep);
  tu_fill(keep, 100, 1);
  CU_ASSERT_EQUAL(rcl_test_fault(RCL_FAULT_MMAP, 1, 1), 0);
  CU_ASSERT_PTR_NULL(rcl_malloc(h, 2 * MIB));           /* large: its mapping fails */
  p = rcl_malloc(h, 2 * MIB);                            /* the next one works */
  CU_ASSERT_PTR_NOT_NULL(p);
  rcl_free(h, p, 2 * MIB);
  /* A new segment is needed after 63 units: fail it. */
  {
    void *m[70];
    for (i = 0; i < 62; i++) m[i] = rcl_malloc(h, 60000);   /* one unit each */
    CU_ASSERT_EQUAL(rcl_test_fault(RCL_FAULT_MMAP, 1, 2), 0);
    q = rcl_malloc(h, 60000);
    CU_ASSERT_PTR_NULL(q);
    q = rcl_malloc(h, 60000);
    CU_ASSERT_PTR_NULL(q);
    q = rcl_malloc(h, 60000);
    CU_ASSERT_PTR_NOT_NULL(q);
    rcl_free(h, q, 60000);
    for (i = 0; i < 62; i++) rcl_free(h, m[i], 60000);
  }
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.mmap_failed, 3);
  CU_ASSERT(tu_verify(keep, 100, 1));
  TU_CHECK_HEAP(h);
  rcl_test_fault(RCL_FAULT_MMAP, 0, 0);
  rcl_free(h, keep, 100);
  rcl_heap_destroy(h);
}

/* madvise failure -> counted, pages stay dirty, nothing corrupted. */
static void test_fault_madvise(void)
{
  enum { N = 6000 };
  static void *p[N];
  rcl_heap *h = rcl_heap_create(NULL, 44);
  rcl_stats s0, s1, s2;
  int i;
  for (i = 0; i < N; i++) { p[i] = rcl_malloc(h, 3000); tu_fill(p[i], 3000, (uint64_t)i); }
  for (i = 0; i < N; i++) if (i % 7) rcl_free(h, p[i], 3000);
  rcl_stats_get(h, &s0);
  CU_ASSERT_EQUAL(rcl_test_fault(RCL_FAULT_MADVISE, 2, 3), 0);   /* calls 2, 3, 4 fail */
  rcl_purge(h);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.madvise_failed, 3);
  CU_ASSERT(s1.purge_calls > 0);
  CU_ASSERT(s1.free_dirty > 0);
  TU_CHECK_HEAP(h);
  rcl_purge(h);                                                  /* retries the dirty ranges */
  rcl_stats_get(h, &s2);
  CU_ASSERT_EQUAL(s2.madvise_failed, 3);
  CU_ASSERT(s2.free_dirty < s1.free_dirty);
  for (i = 0; i < N; i += 7) CU_ASSERT(tu_verify(p[i], 3000, (uint64_t)i));
  TU_CHECK_HEAP(h);
  rcl_test_fault(RCL_FAULT_MADVISE, 0, 0);
  rcl_heap_destroy(h);
  (void)s0;
}

/* munmap failure: a free segment stays mapped and a later purge retries
** it; a large block's address range leaks, counted. */
static void test_fault_munmap(void)
{
  enum { N = 3000 };
  static void *p[N];
  rcl_heap *h = rcl_heap_create(NULL, 45);
  rcl_stats s0, s1, s2;
  void *big;
  int i;
  for (i = 0; i < N; i++) p[i] = rcl_malloc(h, 30000);   /* 2 per unit: ~24 segments */
  for (i = 0; i < N; i++) rcl_free(h, p[i], 30000);
  rcl_stats_get(h, &s0);
  CU_ASSERT(s0.segments > 20);
  CU_ASSERT_EQUAL(rcl_test_fault(RCL_FAULT_MUNMAP, 1, 1000), 0);   /* every munmap fails */
  rcl_purge(h);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.munmap_failed, s0.segments);          /* each free segment tried once */
  CU_ASSERT_EQUAL(s1.segments, s0.segments);               /* and kept */
  CU_ASSERT_EQUAL(s1.free_dirty, 0);                       /* but purged */
  TU_CHECK_HEAP(h);
  rcl_test_fault(RCL_FAULT_MUNMAP, 0, 0);
  rcl_purge(h);
  rcl_stats_get(h, &s2);
  CU_ASSERT_EQUAL(s2.segments, 1);                         /* retried: only the reserve stays */
  CU_ASSERT_EQUAL(s2.munmap_failed, s0.segments);
  big = rcl_malloc(h, 3 * MIB);
  memset(big, 1, 3 * MIB);
  CU_ASSERT_EQUAL(rcl_test_fault(RCL_FAULT_MUNMAP, 1, 1), 0);
  rcl_free(h, big, 3 * MIB);                               /* kept (decay) ... */
  rcl_purge(h);                                            /* ... until this unmaps it */
  rcl_stats_get(h, &s2);
  CU_ASSERT_EQUAL(s2.munmap_failed, s0.segments + 1);
  CU_ASSERT_EQUAL(s2.large_blocks, 0);
  TU_CHECK_HEAP(h);
  p[0] = rcl_malloc(h, 3 * MIB);                           /* still usable */
  CU_ASSERT_PTR_NOT_NULL(p[0]);
  rcl_free(h, p[0], 3 * MIB);
  rcl_test_fault(RCL_FAULT_MUNMAP, 0, 0);
  rcl_heap_destroy(h);
}

/* mremap failures: growth falls back to map-copy-unmap, content intact. */
static void test_fault_mremap(void)
{
  rcl_heap *h = rcl_heap_create(NULL, 46);
  rcl_stats st;
  char *p = (char *)rcl_malloc(h, 2 * MIB), *q;
  tu_fill(p, 2 * MIB, 9);
  CU_ASSERT_EQUAL(rcl_test_fault(RCL_FAULT_MREMAP, 1, 2), 0);   /* in place and MAYMOVE */
  q = (char *)rcl_realloc(h, p, 2 * MIB, 6 * MIB);
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  CU_ASSERT(tu_verify(q, 2 * MIB, 9));
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.mremap_failed, 2);
  CU_ASSERT_EQUAL(st.large_blocks, 1);
  TU_CHECK_HEAP(h);
  rcl_free(h, q, 6 * MIB);
  rcl_test_fault(RCL_FAULT_MREMAP, 0, 0);
  rcl_heap_destroy(h);
}

/* When memory runs out: a shrinking realloc keeps the block in place; a
** large mapping that fails is retried after unmapping free segments. */
static void test_fault_recovery(void)
{
  rcl_heap *h = rcl_heap_create(NULL, 52);
  void *units[62], *p, *q, *big;
  rcl_stats s0, s1;
  int i;
  p = rcl_malloc(h, 60000);                 /* a single-block span: unit 1 */
  tu_fill(p, 60000, 3);
  for (i = 0; i < 62; i++) units[i] = rcl_malloc(h, 60000);   /* the other 62 units */
  rcl_stats_get(h, &s0);
  CU_ASSERT_EQUAL(s0.segments, 1);
  CU_ASSERT_EQUAL(rcl_test_fault(RCL_FAULT_MMAP, 1, 1000), 0);
  q = rcl_realloc(h, p, 60000, 100);                     /* class 112 needs a segment */
  CU_ASSERT_PTR_EQUAL(q, p);                             /* kept in place */
  CU_ASSERT(tu_verify(q, 100, 3));
  CU_ASSERT_PTR_NULL(rcl_realloc(h, q, 100, 200));        /* growth fails cleanly */
  CU_ASSERT(tu_verify(q, 100, 3));
  TU_CHECK_HEAP(h);
  rcl_free(h, q, 100);                                   /* freed with the new size */
  rcl_test_fault(RCL_FAULT_MMAP, 0, 0);
  /* Several segments, then free everything: the free segments stay mapped
  ** (decay, no purge call) until a mapping fails. */
  for (i = 0; i < 62; i++) rcl_free(h, units[i], 60000);
  for (i = 0; i < 62; i++) units[i] = rcl_malloc(h, 200000);  /* 4 units each: ~4 segments */
  for (i = 0; i < 62; i++) rcl_free(h, units[i], 200000);
  big = rcl_malloc(h, 3 * MIB);                          /* creates the large-block table */
  rcl_free(h, big, 3 * MIB);
  rcl_stats_get(h, &s0);
  CU_ASSERT(s0.segments >= 3);
  CU_ASSERT_EQUAL(rcl_test_fault(RCL_FAULT_MMAP, 1, 1), 0);   /* the next mapping fails once */
  big = rcl_malloc(h, 5 * MIB);                          /* bigger than the kept mapping */
  CU_ASSERT_PTR_NOT_NULL(big);                            /* retried after unmapping */
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mmap_failed, s0.mmap_failed + 1);
  CU_ASSERT(s1.segments < s0.segments);                   /* free segments went */
  TU_CHECK_HEAP(h);
  rcl_free(h, big, 5 * MIB);
  rcl_test_fault(RCL_FAULT_MMAP, 0, 0);
  rcl_heap_destroy(h);
}

/* LUAJIT_RECLAIM_FAULT is read at heap creation. Call 1 maps the heap. */
static void test_fault_env(void)
{
  rcl_heap *h;
  rcl_stats st;
  setenv("LUAJIT_RECLAIM_FAULT", "mmap=2,madvise=1:2", 1);
  h = rcl_heap_create(NULL, 47);
  unsetenv("LUAJIT_RECLAIM_FAULT");
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NULL(rcl_malloc(h, 100));         /* its segment is mmap call 2 */
  CU_ASSERT_PTR_NOT_NULL(rcl_malloc(h, 100));
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.mmap_failed, 1);
  rcl_test_fault(RCL_FAULT_MMAP, 0, 0);
  rcl_test_fault(RCL_FAULT_MADVISE, 0, 0);
  rcl_heap_destroy(h);
}

static int child_bad_fault_env(void *arg)
{
  (void)arg;
  setenv("LUAJIT_RECLAIM_FAULT", "mmap=x", 1);
  rcl_heap_create(NULL, 48);
  return 0;
}

static void test_fault_env_bad(void)
{
  int st = tu_child(child_bad_fault_env, NULL, 10);
  CU_ASSERT(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT);
}
#endif

#ifndef RCL_FAULT_INJECTION
static void test_fault_missing(void)
{
  CU_FAIL("built without -DRCL_FAULT_INJECTION: the fault tests cannot run");
}
#endif

/* In a child under RLIMIT_AS: allocate until the address space is gone,
** free everything, and a large allocation still succeeds (free segments
** are unmapped to make room), as LuaJIT's OOM recovery needs. */
static int child_address_space(void *arg)
{
  enum { N = 200000 };
  static void *p[N];
  struct rlimit rl;
  rcl_heap *h = rcl_heap_create(NULL, 53);
  rcl_stats st;
  size_t i, n = 0;
  void *big;
  (void)arg;
  memset(p, 0, sizeof(p));
  rl.rlim_cur = rl.rlim_max = 256u << 20;
  if (setrlimit(RLIMIT_AS, &rl) != 0) return 2;
  for (n = 0; n < N; n++) {
    p[n] = rcl_malloc(h, n % 2 ? 4000 : 1500);
    if (!p[n]) break;
  }
  if (n == N) return 3;                                 /* never ran out */
  rcl_stats_get(h, &st);
  printf("\n  ran out after %zu blocks, %zu MB mapped, mmap_failed %llu\n", n, st.mapped >> 20,
         (unsigned long long)st.mmap_failed);
  if (st.mmap_failed == 0) return 4;
  for (i = 0; i < n; i++) rcl_free(h, p[i], i % 2 ? 4000 : 1500);
  big = rcl_malloc(h, 64u << 20);
  if (!big) return 5;
  memset(big, 1, 64u << 20);
  rcl_free(h, big, 64u << 20);
  return 0;
}

static void test_address_space_exhaustion(void)
{
  int st = tu_child(child_address_space, NULL, 60);
  CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Segments are marked MADV_NOHUGEPAGE ("nh" in smaps VmFlags) when the
** kernel has transparent huge pages; the result is printed either way. */
static void test_segments_no_thp(void)
{
  rcl_heap *h = rcl_heap_create(NULL, 51);
  char *p = (char *)rcl_malloc(h, 100), line[512];
  FILE *f = fopen("/proc/self/smaps", "r");
  int in_range = 0, nh = -1;
  int thp = access("/sys/kernel/mm/transparent_hugepage/enabled", F_OK) == 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  while (fgets(line, sizeof(line), f)) {
    unsigned long lo, hi;
    if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) in_range = (uintptr_t)p >= lo && (uintptr_t)p < hi;
    else if (in_range && strncmp(line, "VmFlags:", 8) == 0) nh = strstr(line, " nh") != NULL;
  }
  fclose(f);
  printf("\n  segment VmFlags nh=%d (kernel THP support: %s)\n", nh, thp ? "yes" : "no");
  CU_ASSERT(nh == 1 || (!thp && nh == 0));
  rcl_free(h, p, 100);
  rcl_heap_destroy(h);
}

/* More large blocks than the first table holds; free in mixed order. */
static void test_large_table(void)
{
  enum { N = 700 };
  static void *p[N];
  rcl_heap *h = rcl_heap_create(NULL, 49);
  rcl_stats st;
  int i;
  for (i = 0; i < N; i++) {
    p[i] = rcl_malloc(h, MIB + 1 + (size_t)i);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
    ((char *)p[i])[MIB] = (char)i;
  }
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.large_blocks, N);
  TU_CHECK_HEAP(h);
  for (i = 0; i < N; i += 3) rcl_free(h, p[i], MIB + 1 + (size_t)i);
  TU_CHECK_HEAP(h);
  for (i = 1; i < N; i++) if (i % 3) CU_ASSERT(((char *)p[i])[MIB] == (char)i);
  for (i = N - 1; i > 0; i--) if (i % 3) rcl_free(h, p[i], MIB + 1 + (size_t)i);
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.large_blocks, 0);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

int tu_register_os(void)
{
  CU_pSuite s = CU_add_suite("os", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "run-time page size", test_page_size) ||
      !CU_add_test(s, "unhinted high mappings are rejected (limit 2^40)", test_high_addresses_rejected) ||
      !CU_add_test(s, "every block below the limit (limit 2^40)", test_blocks_below_limit) ||
      !CU_add_test(s, "large-block table growth", test_large_table) ||
      !CU_add_test(s, "segments opt out of transparent huge pages", test_segments_no_thp) ||
      !CU_add_test(s, "address space exhausted, then recovered (child)", test_address_space_exhaustion))
    return -1;
#ifdef RCL_FAULT_INJECTION
  if (!CU_add_test(s, "fault: mmap", test_fault_mmap) ||
      !CU_add_test(s, "fault: madvise", test_fault_madvise) ||
      !CU_add_test(s, "fault: munmap", test_fault_munmap) ||
      !CU_add_test(s, "fault: mremap", test_fault_mremap) ||
      !CU_add_test(s, "fault: shrink in place, retry after unmapping", test_fault_recovery) ||
      !CU_add_test(s, "fault: LUAJIT_RECLAIM_FAULT", test_fault_env) ||
      !CU_add_test(s, "fault: bad LUAJIT_RECLAIM_FAULT aborts", test_fault_env_bad))
    return -1;
#else
  if (!CU_add_test(s, "fault injection compiled in", test_fault_missing)) return -1;
#endif
  return 0;
}
