/*
** test_bg.c: the background purge thread: it purges an idle heap within a
** couple of intervals, survives fork() (child and parent keep working, the
** child restarts the thread lazily), serves several heaps owned by several
** threads, and can be switched on and off.
*/
#define _GNU_SOURCE
#include "unit_util.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

static uint64_t now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static rcl_heap *bg_heap(unsigned interval_ms, unsigned decay_ms, uint64_t seed)
{
  rcl_config c;
  rcl_config_default(&c);
  c.background = 1;
  c.background_interval_ms = interval_ms;
  c.decay_ms = decay_ms;
  return rcl_heap_create(&c, seed);
}

/* An idle heap (no alloc, no cycle end, no purge call) gets purged. arg
** points at the decay (ms): 50, or 60000 to show that an idle heap is purged
** regardless of decay (it was idle for a whole interval). */
static int child_idle_purge(void *arg)
{
  enum { N = 100000 };
  static void *p[N];
  unsigned decay = *(const unsigned *)arg;
  rcl_heap *h = bg_heap(100, decay, 60);
  rcl_stats s0, s1;
  size_t rss_full, rss_idle;
  uint64_t t0, waited;
  int i;
  if (!h || !rcl_test_background_running()) return 2;
  for (i = 0; i < N; i++) { p[i] = rcl_malloc(h, 500); memset(p[i], 1, 500); }
  for (i = 0; i < N; i++) if (i % 64) rcl_free(h, p[i], 500);
  rss_full = tu_rss();
  rcl_stats_get(h, &s0);
  t0 = now_ms();
  /* Done when resident is down to the pages holding survivors (the floor):
  ** 2 blocks of 128 stay in every span, so free_dirty cannot reach 0. The
  ** test asserts that an idle heap is purged at all; how many intervals it
  ** took is printed, not asserted (1-2 on a quiet machine; a machine loaded
  ** by other jobs can starve the thread for several), so the bound is 100
  ** intervals. */
  do {
    tu_sleep_ms(10);
    rcl_stats_get(h, &s1);
    waited = now_ms() - t0;
  } while (s1.resident > s1.floor + s1.metadata + MIB && waited < 10000);
  rss_idle = tu_rss();
  printf("\n  idle heap: resident %zu -> %zu KB (floor %zu KB) after %llu ms = %.1f intervals "
         "(interval 100 ms, decay %u ms); RSS %zu -> %zu KB\n", s0.resident >> 10, s1.resident >> 10,
         s1.floor >> 10, (unsigned long long)waited, (double)waited / 100.0, decay, rss_full >> 10,
         rss_idle >> 10);
  if (s1.resident > s1.floor + s1.metadata + MIB) return 3;
  if (rss_idle + 20 * MIB > rss_full) return 4;
  for (i = 0; i < N; i += 64) if (((unsigned char *)p[i])[499] != 1) return 5;
  rcl_heap_destroy(h);
  return 0;
}

static void test_idle_heap_purged(void)
{
  unsigned decay = 50;
  int st = tu_child(child_idle_purge, &decay, 30);
  CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_idle_heap_ignores_decay(void)
{
  unsigned decay = 60000;
  int st = tu_child(child_idle_purge, &decay, 30);
  CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Child after fork: allocate, purge, restart the thread, exit 0. */
static rcl_heap *fork_heap;

static int child_after_fork(void *arg)
{
  void *q[1000];
  char err[256];
  int i;
  (void)arg;
  if (rcl_test_background_running()) return 2;        /* the thread did not survive fork */
  for (i = 0; i < 1000; i++) { q[i] = rcl_malloc(fork_heap, (size_t)(16 + i * 37)); memset(q[i], 7, (size_t)(16 + i * 37)); }
  for (i = 0; i < 1000; i += 2) rcl_free(fork_heap, q[i], (size_t)(16 + i * 37));
  rcl_purge(fork_heap);                                  /* takes the heap lock: must not deadlock */
  rcl_cycle_end(fork_heap);
  if (!rcl_test_background_running()) return 3;       /* restarted lazily */
  tu_sleep_ms(30);
  for (i = 1; i < 1000; i += 2) if (((unsigned char *)q[i])[15] != 7) return 4;
  if (rcl_test_check(fork_heap, err, sizeof(err)) != 0) return 5;
  rcl_heap_destroy(fork_heap);
  return 0;
}

static void test_fork(void)
{
  enum { N = 50000 };
  static void *p[N];
  int i, round, bad = 0;
  fork_heap = bg_heap(1, 0, 61);
  CU_ASSERT_PTR_NOT_NULL_FATAL(fork_heap);
  for (round = 0; round < 20; round++) {
    int st;
    for (i = 0; i < N; i++) { p[i] = rcl_malloc(fork_heap, 300); memset(p[i], 9, 300); }
    for (i = 0; i < N; i++) if (i % 10) rcl_free(fork_heap, p[i], 300);
    /* The thread is purging this heap right now (1 ms interval, no decay). */
    st = tu_child(child_after_fork, NULL, 20);
    if (!(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
      fprintf(stderr, "\n  fork round %d: child status %d\n", round, st);
      bad++;
    }
    for (i = 0; i < N; i += 10) rcl_free(fork_heap, p[i], 300);
  }
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT(rcl_test_background_running());
  TU_CHECK_HEAP(fork_heap);
  rcl_heap_destroy(fork_heap);
}

/* Several threads, each owning a heap served by the one thread. */
static void *owner_thread(void *arg)
{
  enum { N = 20000 };
  void **p = (void **)calloc(N, sizeof(void *));
  rcl_heap *h = bg_heap(2, 0, (uint64_t)(uintptr_t)arg);
  uint64_t x = (uint64_t)(uintptr_t)arg + 1;
  char err[256];
  long bad = 0;
  int i, round;
  for (round = 0; round < 30; round++) {
    for (i = 0; i < N; i++) {
      x ^= x << 13; x ^= x >> 7; x ^= x << 17;
      if (p[i]) {
        if (((unsigned char *)p[i])[0] != (unsigned char)i) bad++;
        rcl_free(h, p[i], (size_t)(i % 700) + 1);
        p[i] = NULL;
      }
      if (x & 1) { p[i] = rcl_malloc(h, (size_t)(i % 700) + 1); memset(p[i], i, (size_t)(i % 700) + 1); }
    }
    if (round % 5 == 0) rcl_cycle_end(h);
  }
  if (rcl_test_check(h, err, sizeof(err)) != 0) { fprintf(stderr, "\n  %s\n", err); bad++; }
  for (i = 0; i < N; i++) if (p[i]) rcl_free(h, p[i], (size_t)(i % 700) + 1);
  rcl_heap_destroy(h);
  free(p);
  return (void *)bad;
}

static void test_many_heaps(void)
{
  pthread_t t[4];
  long i;
  for (i = 0; i < 4; i++) CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, owner_thread, (void *)(i + 70)), 0);
  for (i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    CU_ASSERT_EQUAL((long)r, 0);
  }
}

/* Switching background on and off under load; destroy while on. */
static void test_toggle(void)
{
  enum { N = 20000 };
  static void *p[N];
  rcl_config c;
  rcl_heap *h = rcl_heap_create(NULL, 80);
  int i, round;
  rcl_config_default(&c);
  c.background_interval_ms = 1;
  c.decay_ms = 0;
  for (round = 0; round < 20; round++) {
    c.background = round & 1;
    rcl_heap_configure(h, &c);
    for (i = 0; i < N; i++) { p[i] = rcl_malloc(h, 200); memset(p[i], round, 200); }
    tu_sleep_ms(2);
    for (i = 0; i < N; i++) if (i % 3) rcl_free(h, p[i], 200);
    tu_sleep_ms(2);
    for (i = 0; i < N; i += 3) CU_ASSERT(((unsigned char *)p[i])[199] == (unsigned char)round);
    for (i = 0; i < N; i += 3) rcl_free(h, p[i], 200);
  }
  TU_CHECK_HEAP(h);
  c.background = 1;
  rcl_heap_configure(h, &c);
  rcl_heap_destroy(h);                  /* unregisters from the running thread */
  CU_PASS("destroyed while served by the background thread");
}

int tu_register_bg(void)
{
  CU_pSuite s = CU_add_suite("background", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "idle heap purged within a few intervals (child)", test_idle_heap_purged) ||
      !CU_add_test(s, "idle heap purged although decay is 60 s (child)", test_idle_heap_ignores_decay) ||
      !CU_add_test(s, "fork while the thread purges (20 children)", test_fork) ||
      !CU_add_test(s, "four owner threads, one background thread", test_many_heaps) ||
      !CU_add_test(s, "switch on/off under load, destroy while on", test_toggle))
    return -1;
  return 0;
}
