/*
** microbench.c: alloc/free speed of the reclaiming allocator against glibc
** malloc and (when built with -DWITH_LJ_ALLOC and linked with LuaJIT's
** lj_alloc.o/lj_prng.o) LuaJIT's own dlmalloc-derived lj_alloc.
**
** Usage: microbench [REPEATS]. Prints ns per operation (process CPU time,
** best of REPEATS) for three allocation-heavy shapes:
**   trees   build/free binary trees of 24-byte nodes (depth 16), LIFO-ish
**   churn   a 100k-slot ring: free a random slot, allocate 16..512 bytes
**   strings realloc-doubling buffers (32 B .. 64 KiB) among small strings
** Figures only: nothing is asserted (timings are noisy on shared machines).
*/
#include "rcl.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct allocator {
  const char *name;
  void *(*create)(void);
  void (*destroy)(void *ud);
  void *(*f)(void *ud, void *p, size_t osize, size_t nsize);   /* lua_Alloc */
} allocator;

static void *rcl_create(void) { return rcl_heap_create(NULL, 12345); }
static void rcl_destroy(void *ud) { rcl_heap_destroy((rcl_heap *)ud); }

static void *glibc_create(void) { return NULL; }
static void glibc_destroy(void *ud) { (void)ud; }
static void *glibc_f(void *ud, void *p, size_t osize, size_t nsize)
{
  (void)ud; (void)osize;
  if (nsize == 0) { free(p); return NULL; }
  return realloc(p, nsize);
}

#ifdef WITH_LJ_ALLOC
typedef struct PRNGState { uint64_t u[4]; } PRNGState;
void *lj_alloc_create(PRNGState *rs);
void lj_alloc_destroy(void *msp);
void *lj_alloc_f(void *msp, void *ptr, size_t osize, size_t nsize);
static PRNGState lj_prng = { { 0x1234567, 0x89abcdef, 0x13579bdf, 0x2468ace0 } };
static void *lj_create(void) { return lj_alloc_create(&lj_prng); }
#endif

static const allocator allocators[] = {
  { "reclaim", rcl_create, rcl_destroy, rcl_alloc_f },
#ifdef WITH_LJ_ALLOC
  { "lj_alloc", lj_create, lj_alloc_destroy, lj_alloc_f },
#endif
  { "glibc", glibc_create, glibc_destroy, glibc_f },
};

static double cpu_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state = 88172645463325252ull;
static uint64_t rng(void)
{
  rng_state ^= rng_state << 13; rng_state ^= rng_state >> 7; rng_state ^= rng_state << 17;
  return rng_state;
}

typedef struct node { struct node *l, *r; long v; } node;
static const allocator *cur;
static void *cur_ud;

static node *tree_make(int d)
{
  node *n = (node *)cur->f(cur_ud, NULL, 0, sizeof(node));
  n->v = d;
  n->l = d ? tree_make(d - 1) : NULL;
  n->r = d ? tree_make(d - 1) : NULL;
  return n;
}

static long tree_free(node *n)
{
  long c = 1;
  if (n->l) c += tree_free(n->l) + tree_free(n->r);
  cur->f(cur_ud, n, sizeof(node), 0);
  return c;
}

/* Each returns the number of allocator calls it made. */
static uint64_t bench_trees(void)
{
  uint64_t ops = 0;
  int i;
  node *longlived = tree_make(14);
  for (i = 0; i < 40; i++) ops += 2 * (uint64_t)tree_free(tree_make(16));
  ops += 2 * (uint64_t)tree_free(longlived);
  return ops;
}

#define RING 100000
static uint64_t bench_churn(void)
{
  static void *p[RING];
  static size_t n[RING];
  uint64_t ops = 0;
  int i;
  for (i = 0; i < RING; i++) { n[i] = 16 + rng() % 497; p[i] = cur->f(cur_ud, NULL, 0, n[i]); ops++; }
  for (i = 0; i < 4000000; i++) {
    int k = (int)(rng() % RING);
    cur->f(cur_ud, p[k], n[k], 0);
    n[k] = 16 + rng() % 497;
    p[k] = cur->f(cur_ud, NULL, 0, n[k]);
    *(char *)p[k] = 1;
    ops += 2;
  }
  for (i = 0; i < RING; i++) { cur->f(cur_ud, p[i], n[i], 0); ops++; }
  return ops;
}

static uint64_t bench_strings(void)
{
  static void *small[4096];
  static size_t sn[4096];
  uint64_t ops = 0;
  int i, j;
  memset(small, 0, sizeof(small));
  for (i = 0; i < 3000; i++) {
    size_t sz = 32;
    char *b = (char *)cur->f(cur_ud, NULL, 0, sz);
    ops++;
    while (sz < 65536) {
      b = (char *)cur->f(cur_ud, b, sz, sz * 2);
      b[sz] = 1;
      sz *= 2;
      ops++;
      for (j = 0; j < 40; j++) {
        int k = (int)(rng() % 4096);
        if (small[k]) { cur->f(cur_ud, small[k], sn[k], 0); ops++; }
        sn[k] = 16 + rng() % 300;
        small[k] = cur->f(cur_ud, NULL, 0, sn[k]);
        ops++;
      }
    }
    cur->f(cur_ud, b, sz, 0);
    ops++;
  }
  for (i = 0; i < 4096; i++) if (small[i]) { cur->f(cur_ud, small[i], sn[i], 0); ops++; }
  return ops;
}

typedef struct bench { const char *name; uint64_t (*run)(void); } bench;
static const bench benches[] = {
  { "trees", bench_trees }, { "churn", bench_churn }, { "strings", bench_strings },
};

int main(int argc, char **argv)
{
  int repeats = argc > 1 ? atoi(argv[1]) : 3, r;
  size_t a, b;
  printf("%-8s", "ns/op");
  for (a = 0; a < sizeof(allocators) / sizeof(allocators[0]); a++) printf(" %10s", allocators[a].name);
  printf("\n");
  for (b = 0; b < sizeof(benches) / sizeof(benches[0]); b++) {
    printf("%-8s", benches[b].name);
    for (a = 0; a < sizeof(allocators) / sizeof(allocators[0]); a++) {
      double best = 1e30;
      for (r = 0; r < repeats; r++) {
        double t0, t;
        uint64_t ops;
        cur = &allocators[a];
        cur_ud = cur->create();
        rng_state = 88172645463325252ull;
        t0 = cpu_seconds();
        ops = benches[b].run();
        t = (cpu_seconds() - t0) * 1e9 / (double)ops;
        cur->destroy(cur_ud);
        if (t < best) best = t;
      }
      printf(" %10.2f", best);
    }
    printf("\n");
  }
  return 0;
}
