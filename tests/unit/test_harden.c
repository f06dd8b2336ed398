/*
** test_harden.c: regression tests for faults found by review (issue
** "Hardening"), each failing on the code before its fix:
**  - a pool-slot shortfall: units freed by spans that hold no header pool
**    slot must not leave a page-fit span without a bitmap (it aborted);
**  - the soft limit re-arms once the heap is back within its limit;
**  - a GC step refreshes the heap clock, so blocks freed after a quiet
**    period are young to decay;
**  - a moving large realloc never vacates the block's range before the
**    new one is reserved (another thread's mapping could land there);
**  - the background thread exits when the last heap it serves is gone;
**  - a large block shrunk to a span block's size while the OS refuses every
**    mapping stays where it is (realloc returned NULL: a failed shrink,
**    which lua_Alloc's contract forbids), and its later frees and reallocs
**    with the small size find it.
*/
#define _GNU_SOURCE
#include "unit_util.h"

#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

static void check_or_report(rcl_heap *h, const char *when)
{
  char err[256];
  int r = rcl_test_check(h, err, sizeof(err));
  if (r != 0) fprintf(stderr, "\n  %s: %s\n", when, err);
  CU_ASSERT_EQUAL(r, 0);
}

/* The sequence from the report (4 KiB pages): a medium block, 22 dense
** spans of 16-byte blocks (each holding 4 pool slots), the medium block
** freed, then a page-fit class needs a slot. */
static int child_pool_shortfall(void *arg)
{
  enum { DENSE = 22 * 4064 };
  static void *p[DENSE];
  rcl_heap *h = rcl_heap_create(NULL, 90);
  char err[256];
  void *m, *q;
  int i;
  (void)arg;
  if (!h) return 2;
  m = rcl_malloc(h, 40000);
  if (!m) return 3;
  for (i = 0; i < DENSE; i++) if (!(p[i] = rcl_malloc(h, 16))) return 4;
  rcl_free(h, m, 40000);
  if (rcl_test_check(h, err, sizeof(err)) != 0) { fprintf(stderr, "\n  after free: %s\n", err); return 5; }
  q = rcl_malloc(h, 64);                   /* aborted: "no room for a span bitmap" */
  if (!q) return 6;
  memset(q, 0x5a, 64);
  if (rcl_test_check(h, err, sizeof(err)) != 0) { fprintf(stderr, "\n  after 64: %s\n", err); return 7; }
  rcl_free(h, q, 64);
  for (i = 0; i < DENSE; i++) rcl_free(h, p[i], 16);
  rcl_heap_destroy(h);
  return 0;
}

static void test_pool_shortfall(void)
{
  int st;
  if (rcl_page_size() != 4096) {
    CU_FAIL("the reported sequence is for 4 KiB pages (the generic form is the next test)");
    return;
  }
  st = tu_child(child_pool_shortfall, NULL, 60);
  CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0))
    fprintf(stderr, "\n  child status %d (signal %d)\n", st, WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

/* The same shape for any page size and every class: medium blocks and
** spans of each class interleaved, medium blocks freed, then every class
** allocates again; the invariants hold after each step. */
static int child_pool_mixed(void *arg)
{
  enum { PER = 3000 };
  static void *small[PER * 8];
  static void *med[64];
  static const size_t sizes[] = { 16, 32, 48, 64, 96, 128, 200, 256, 320, 512, 700, 1024,
                                  1500, 2048, 3000, 4096, 6000, 8192 };
  rcl_heap *h = rcl_heap_create(NULL, 91);
  char err[256];
  unsigned i, k, nsmall = 0, nmed = 0;
  (void)arg;
  if (!h) return 2;
  for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    if (nmed < 64 && (med[nmed] = rcl_malloc(h, 40000 + k * 1000)) != NULL) nmed++;
    for (i = 0; i < PER && nsmall < PER * 8; i++) {
      size_t n = k & 1 ? 16 : 32;
      if (!(small[nsmall] = rcl_malloc(h, n))) return 3;
      nsmall++;
    }
    if (rcl_test_check(h, err, sizeof(err)) != 0) { fprintf(stderr, "\n  fill: %s\n", err); return 4; }
  }
  for (i = 0; i < nmed; i++) rcl_free(h, med[i], 40000 + i * 1000);
  for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    void *q = rcl_malloc(h, sizes[k]);
    if (!q) return 5;
    memset(q, 1, sizes[k]);
    if (rcl_test_check(h, err, sizeof(err)) != 0) { fprintf(stderr, "\n  class %zu: %s\n", sizes[k], err); return 6; }
  }
  rcl_heap_destroy(h);
  return 0;
}

static void test_pool_mixed(void)
{
  int st = tu_child(child_pool_mixed, NULL, 60);
  CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* A heap that peaked far above its soft limit and drained must purge again
** when it grows past the limit, not only past its old peak. */
static void test_soft_limit_rearms(void)
{
  enum { BIG = 96, SMALL = 20000 };
  static void *big[BIG], *small[SMALL];
  rcl_config c;
  rcl_heap *h;
  rcl_stats s0, s1;
  size_t n = 512 * 1024;
  int i;
  rcl_config_default(&c);
  c.soft_limit = 16 * MIB;
  c.decay_ms = 60000;                         /* no purge but the soft limit's */
  h = rcl_heap_create(&c, 92);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  /* Peak at ~48 MiB, far above the limit, then drain. */
  for (i = 0; i < BIG; i++) { big[i] = rcl_malloc(h, n); CU_ASSERT_PTR_NOT_NULL_FATAL(big[i]); memset(big[i], 3, n); }
  for (i = 0; i < BIG; i++) rcl_free(h, big[i], n);
  rcl_purge(h);
  rcl_stats_get(h, &s0);
  CU_ASSERT(s0.mapped < 16 * MIB);
  /* Dirty free memory the next growth will not reuse: 1 KiB blocks, 63 of
  ** every 64 freed (pages stay mostly free, spans partial). */
  for (i = 0; i < SMALL; i++) { small[i] = rcl_malloc(h, 1024); memset(small[i], 4, 1024); }
  for (i = 0; i < SMALL; i++) if (i % 64) rcl_free(h, small[i], 1024);
  rcl_stats_get(h, &s0);
  /* Grow past the limit by 12 MiB with medium blocks. */
  for (i = 0; i < BIG; i++) {
    big[i] = rcl_malloc(h, n);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big[i]);
    memset(big[i], 5, n);
    rcl_stats_get(h, &s1);
    if (s1.mapped > 28 * MIB) break;
  }
  rcl_stats_get(h, &s1);
  CU_ASSERT(s1.mapped > 28 * MIB);
  CU_ASSERT(s1.purge_calls > s0.purge_calls);       /* a soft-limit purge ran */
  CU_ASSERT(s1.free_dirty < s0.free_dirty);
  check_or_report(h, "soft limit");
  rcl_heap_destroy(h);
}

/* Blocks freed after a quiet period are stamped with the time of the GC
** step that frees them, so a decay-aware pass leaves them alone. */
static void test_fresh_free_stamps(void)
{
  enum { N = 20000 };
  static void *p[N];
  rcl_config c;
  rcl_heap *h;
  rcl_stats s0, s1;
  int i, steps;
  rcl_config_default(&c);
  c.decay_ms = 1000;
  h = rcl_heap_create(&c, 93);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < N; i++) { p[i] = rcl_malloc(h, 256); memset(p[i], 6, 256); }
  rcl_cycle_end(h);
  for (steps = 0; steps < 1000; steps++) rcl_step(h);
  tu_sleep_ms(1300);                          /* quiet: no allocator call at all */
  rcl_step(h);                                /* a GC step starts, then sweeps */
  for (i = 0; i < N; i++) if (i % 64) rcl_free(h, p[i], 256);
  rcl_stats_get(h, &s0);
  rcl_cycle_end(h);
  for (steps = 0; steps < 1000; steps++) rcl_step(h);
  rcl_stats_get(h, &s1);
  CU_ASSERT(s0.free_dirty > 4 * MIB);
  CU_ASSERT_EQUAL(s1.purged_total, s0.purged_total);  /* freed 0 ms ago: kept */
  for (i = 0; i < N; i += 64) rcl_free(h, p[i], 256);
  check_or_report(h, "fresh stamps");
  rcl_heap_destroy(h);
}

/* A thread that keeps trying to map a page inside the range of a large
** block being grown, and keeps the page once it gets it. The old growth
** path moved the block away (mremap MAYMOVE), then moved it back with
** MREMAP_FIXED, silently replacing a mapping made in between. Now the
** range is never vacated while the block lives there: if the block ends
** where it was, the intruder cannot have got in. */
typedef struct intruder {
  volatile int stop;
  volatile long tries;        /* attempts made (the grower waits for the first) */
  char *target;               /* an address inside the block (page aligned) */
  int landed;                 /* the target page was mapped (and kept) */
} intruder;

static void *intruder_main(void *arg)
{
  intruder *in = (intruder *)arg;
  size_t page = rcl_page_size();
  while (!in->stop) {
    void *r;
    in->tries++;
    r = mmap(in->target, page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (r == MAP_FAILED) continue;
    if ((char *)r == in->target) { in->landed = 1; break; }
    munmap(r, page);          /* old kernels treat the flag as a hint */
  }
  return NULL;
}

static void test_remap_reserves_first(void)
{
  enum { ROUNDS = 2000 };
  size_t page = rcl_page_size(), oldn = 3 * MIB, newn = 6 * MIB;
  rcl_heap *h = rcl_heap_create(NULL, 94);
  intruder in;
  pthread_t t;
  long rounds, moved = 0, failed = 0, clobbered = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  /* Blocks end below 2^46, so the kernel's own choice for a moving mremap
  ** (top-down, near the stack) is above the limit: the path that moved the
  ** block back. mmap faults make the new mapping fail half of the time. */
  rcl_test_set_addr_limit((uint64_t)1 << 46);
  for (rounds = 0; rounds < ROUNDS; rounds++) {
    char *p = (char *)rcl_malloc(h, oldn), *guard, *q;
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    memset(p, 7, oldn);
    /* A neighbour right after the block so that it cannot grow in place. */
    guard = (char *)mmap(p + rcl_usable_size(oldn), page, PROT_READ,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    memset(&in, 0, sizeof(in));
    in.target = p + page;
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, intruder_main, &in), 0);
    while (in.tries < 2) sched_yield();
    rcl_test_fault_rate(RCL_FAULT_MMAP, 500000, (uint64_t)rounds);
    q = (char *)rcl_realloc(h, p, oldn, newn);
    rcl_test_fault_rate(RCL_FAULT_MMAP, 0, 0);
    in.stop = 1;
    pthread_join(t, NULL);
    if (q) {
      CU_ASSERT(q[0] == 7 && q[oldn - 1] == 7 && q[page] == 7);
      CU_ASSERT((uint64_t)(uintptr_t)q + newn <= ((uint64_t)1 << 46));
      moved += q != p;
      clobbered += q == p && in.landed;
      rcl_free(h, q, newn);
    } else {
      failed++;
      clobbered += in.landed;
      CU_ASSERT(p[0] == 7 && p[oldn - 1] == 7 && p[page] == 7);
      rcl_free(h, p, oldn);
    }
    if (in.landed && (!q || q == p)) {
      /* The intruder's page was replaced by the block and just unmapped with it. */
    } else if (in.landed) {
      munmap(in.target, page);
    }
    if (guard != MAP_FAILED) munmap(guard, page);
  }
  rcl_test_set_addr_limit(0);
  if (clobbered) fprintf(stderr, "\n  %ld of %d growths replaced another thread's mapping\n", clobbered, ROUNDS);
  CU_ASSERT_EQUAL(clobbered, 0);
  CU_ASSERT(moved > 0);                       /* both paths were taken */
  CU_ASSERT(failed > 0);
  check_or_report(h, "remap");
  rcl_heap_destroy(h);
}

static int thread_count(void)
{
  DIR *d = opendir("/proc/self/task");
  struct dirent *e;
  int n = 0;
  if (!d) return -1;
  while ((e = readdir(d)) != NULL) if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

/* 1 once the task count is back to base. pthread_join returns when the
** kernel clears the thread's tid, which is before its task leaves
** /proc/self/task, so a joined thread can still be listed for a moment
** (seen under load): poll for up to 2 s. */
static int thread_gone(int base)
{
  int i;
  for (i = 0; i < 200; i++) {
    if (thread_count() == base) return 1;
    tu_sleep_ms(10);
  }
  return 0;
}

static int child_bg_retired(void *arg)
{
  rcl_config c;
  rcl_heap *a, *b;
  int base = thread_count(), round;
  (void)arg;
  rcl_config_default(&c);
  c.background = 1;
  c.background_interval_ms = 1;
  for (round = 0; round < 3; round++) {
    a = rcl_heap_create(&c, 95);
    b = rcl_heap_create(&c, 96);
    if (!a || !b || !rcl_test_background_running()) return 2;
    if (thread_count() != base + 1) return 3;
    rcl_heap_destroy(a);
    if (!rcl_test_background_running()) return 4;     /* b is still served */
    rcl_heap_destroy(b);
    if (rcl_test_background_running()) return 5;      /* the last heap is gone */
    if (!thread_gone(base)) return 6;                 /* joined, not just idle */
  }
  return 0;
}

static void test_bg_retired(void)
{
  int st = tu_child(child_bg_retired, NULL, 30);
  CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0)
    fprintf(stderr, "\n  child exit %d\n", WEXITSTATUS(st));
}

/* Fill the heap's segments with medium blocks while every mapping fails, so
** that no span block of any size can be had. Returns how many it took. */
static int fill_without_mappings(rcl_heap *h, void **fill, int max)
{
  int n = 0;
  while (n < max && (fill[n] = rcl_malloc(h, 256 * 1024)) != NULL) n++;
  return n;
}

static int content_ok(const unsigned char *p, size_t n)
{
  size_t i;
  for (i = 0; i < n; i++) if (p[i] != (unsigned char)(i * 7 + 3)) return 0;
  return 1;
}

static void test_shrink_large_without_mappings(void)
{
  static const size_t targets[] = { MIB, 64 * 1024, 100 };
  size_t t, oldn = 3 * MIB, i;
  for (t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
    enum { FILL = 64 };
    void *fill[FILL];
    rcl_heap *h = rcl_heap_create(NULL, 97);
    unsigned char *p, *q, *other, *r;
    size_t newn = targets[t];
    rcl_stats st;
    int nfill, k;
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    p = (unsigned char *)rcl_malloc(h, oldn);
    other = (unsigned char *)rcl_malloc(h, oldn);
    CU_ASSERT_FATAL(p && other);
    for (i = 0; i < oldn; i++) p[i] = other[i] = (unsigned char)(i * 7 + 3);
    CU_ASSERT_EQUAL_FATAL(rcl_test_fault(RCL_FAULT_MMAP, 1, 1u << 30), 0);
    nfill = fill_without_mappings(h, fill, FILL);
    CU_ASSERT(nfill < FILL);
    CU_ASSERT_PTR_NULL(rcl_malloc(h, newn));          /* really no span block */
    /* The shrinks: through realloc and through lua_Alloc's entry. */
    q = (unsigned char *)rcl_realloc(h, p, oldn, newn);
    CU_ASSERT_PTR_EQUAL_FATAL(q, p);
    CU_ASSERT(content_ok(q, newn));
    r = (unsigned char *)rcl_alloc_f(h, other, oldn, newn);
    CU_ASSERT_PTR_EQUAL_FATAL(r, other);
    CU_ASSERT(content_ok(r, newn));
    check_or_report(h, "after the shrinks");
    rcl_stats_get(h, &st);
    CU_ASSERT(st.mmap_failed > 0);
    /* Shrinking a shrunk block again keeps it, growing it without memory fails
    ** and leaves it as it was. */
    q = (unsigned char *)rcl_realloc(h, p, newn, newn / 2);
    CU_ASSERT_PTR_EQUAL_FATAL(q, p);
    CU_ASSERT_PTR_NULL(rcl_realloc(h, q, newn / 2, 2 * MIB));
    CU_ASSERT(content_ok(q, newn / 2));
    rcl_test_fault(RCL_FAULT_MMAP, 0, 0);
    /* With memory again: one grows away from its mapping, one is freed with
    ** its small size. */
    q = (unsigned char *)rcl_realloc(h, q, newn / 2, 2 * MIB);
    CU_ASSERT_PTR_NOT_NULL_FATAL(q);
    CU_ASSERT(content_ok(q, newn / 2));
    rcl_free(h, r, newn);
    check_or_report(h, "after growing and freeing");
    /* Span frees go on working once the window is empty. */
    for (k = 0; k < nfill; k++) rcl_free(h, fill[k], 256 * 1024);
    rcl_free(h, q, 2 * MIB);
    check_or_report(h, "after all frees");
    rcl_stats_get(h, &st);
    CU_ASSERT_EQUAL(st.large_blocks, 0);
    rcl_heap_destroy(h);
  }
}

int tu_register_harden(void)
{
  CU_pSuite s = CU_add_suite("hardening", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "pool slots: the reported shortfall sequence (4K, child)", test_pool_shortfall) ||
      !CU_add_test(s, "pool slots: medium blocks freed among dense spans (child)", test_pool_mixed) ||
      !CU_add_test(s, "soft limit re-arms after the heap drained", test_soft_limit_rearms) ||
      !CU_add_test(s, "a GC step refreshes the clock for free stamps", test_fresh_free_stamps) ||
      !CU_add_test(s, "large realloc reserves its target before moving", test_remap_reserves_first) ||
      !CU_add_test(s, "background thread joined when its last heap is gone (child)", test_bg_retired) ||
      !CU_add_test(s, "a large block shrinks to a span size without mappings", test_shrink_large_without_mappings))
    return -1;
  return 0;
}
