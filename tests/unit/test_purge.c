/*
** test_purge.c: purging never changes live contents; stats add up; RSS
** really falls after a purge (also with 2% scattered survivors); decay,
** step budget, soft limit, full GC and the purge modes behave as specified.
*/
#include "unit_util.h"
#include "rcl_internal.h"     /* rcl_decayed: the free-stamp age rule */

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define MIB ((size_t)1 << 20)

typedef struct blk { void *p; size_t n; } blk;

static uint64_t xs_state = 99;
static uint64_t xs(void)
{
  xs_state ^= xs_state << 13; xs_state ^= xs_state >> 7; xs_state ^= xs_state << 17;
  return xs_state;
}

/* Sizes like a Lua heap: mostly small, some strings/arrays, a few big. */
static size_t mixed_size(void)
{
  uint64_t r = xs() % 1000;
  if (r < 700) return 16 + (size_t)(xs() % 112);
  if (r < 950) return 128 + (size_t)(xs() % 2000);
  if (r < 998) return 2048 + (size_t)(xs() % 30000);
  return 40000 + (size_t)(xs() % 400000);
}

static size_t alloc_mixed(rcl_heap *h, blk *b, size_t count)
{
  size_t i, total = 0;
  for (i = 0; i < count; i++) {
    b[i].n = mixed_size();
    b[i].p = rcl_malloc(h, b[i].n);
    tu_fill(b[i].p, b[i].n, i);
    total += b[i].n;
  }
  return total;
}

/* Free ~70% at random, purge (and run a decay-0 pass), verify the rest. */
static void test_purge_keeps_contents(void)
{
  enum { N = 60000 };
  static blk b[N];
  rcl_config cfg;
  rcl_heap *h;
  size_t i, released;
  int bad = 0;
  rcl_config_default(&cfg);
  cfg.decay_ms = 0;
  h = rcl_heap_create(&cfg, 30);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  alloc_mixed(h, b, N);
  for (i = 0; i < N; i++)
    if (xs() % 10 < 7) { rcl_free(h, b[i].p, b[i].n); b[i].p = NULL; }
  released = rcl_purge(h);
  CU_ASSERT(released > 0);
  for (i = 0; i < N; i++) if (b[i].p && !tu_verify(b[i].p, b[i].n, i)) bad++;
  CU_ASSERT_EQUAL(bad, 0);
  TU_CHECK_HEAP(h);
  /* Free more, then a cycle-end pass purges incrementally. */
  for (i = 0; i < N; i += 3) if (b[i].p) { rcl_free(h, b[i].p, b[i].n); b[i].p = NULL; }
  rcl_cycle_end(h);
  for (i = 0; i < 10000; i++) rcl_step(h);
  for (i = 0; i < N; i++) if (b[i].p && !tu_verify(b[i].p, b[i].n, i)) bad++;
  CU_ASSERT_EQUAL(bad, 0);
  TU_CHECK_HEAP(h);
  /* Reallocating into purged pages works and they read as ours. */
  for (i = 0; i < N; i++) if (!b[i].p) { b[i].p = rcl_malloc(h, b[i].n); tu_fill(b[i].p, b[i].n, i); }
  for (i = 0; i < N; i++) if (!tu_verify(b[i].p, b[i].n, i)) bad++;
  CU_ASSERT_EQUAL(bad, 0);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* rcl_purge_some: slices of a full purge. Each slice purges at most its
** budget or unmaps one segment; the pass ends having purged all that
** rcl_purge would (a purge right after returns nothing); allocation and
** frees between slices keep every content; restart begins from the top. */
static void test_purge_some(void)
{
  enum { N = 40000 };
  static blk b[N];
  const size_t budget = 256 << 10;
  rcl_config cfg;
  rcl_heap *h;
  size_t i, total, slice, most = 0, slices = 0;
  int bad = 0, done = 0;
  rcl_config_default(&cfg);
  cfg.decay_ms = 1000000;                     /* cycle-end passes purge nothing here */
  cfg.background = 0;
  h = rcl_heap_create(&cfg, 31);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < N; i++) {                   /* small blocks only: no large mapping */
    b[i].n = 16 + (size_t)(xs() % 3000);
    b[i].p = rcl_malloc(h, b[i].n);
    tu_fill(b[i].p, b[i].n, i);
  }
  for (i = 0; i < N; i++)
    if (xs() % 10 < 8) { rcl_free(h, b[i].p, b[i].n); b[i].p = NULL; }
  /* A quiet pass, slice by slice. */
  total = 0;
  while (!done && slices < 100000) {
    slice = 0;
    done = rcl_purge_some(h, budget, slices == 0, &slice);
    if (slice > most) most = slice;
    total += slice;
    slices++;
  }
  CU_ASSERT(done);
  CU_ASSERT(slices > 4);
  CU_ASSERT(total > 8 * MIB);
  CU_ASSERT(most <= budget + RCL_SEGMENT_SIZE);
  CU_ASSERT_EQUAL(rcl_purge(h), 0);          /* nothing free was left dirty */
  TU_CHECK_HEAP(h);
  /* Activity between slices; then a restarted pass finishes. */
  for (i = 0; i < N; i += 2) if (b[i].p) { rcl_free(h, b[i].p, b[i].n); b[i].p = NULL; }
  slice = 0;
  CU_ASSERT_EQUAL(rcl_purge_some(h, budget, 1, &slice), 0);
  for (i = 1; i < N; i += 4) if (!b[i].p) { b[i].p = rcl_malloc(h, b[i].n); tu_fill(b[i].p, b[i].n, i); }
  for (i = 3; i < N; i += 8) if (b[i].p) { rcl_free(h, b[i].p, b[i].n); b[i].p = NULL; }
  for (slices = 0, done = 0; !done && slices < 100000; slices++)
    done = rcl_purge_some(h, budget, 0, &slice);
  CU_ASSERT(done);
  for (i = 0; i < N; i++) if (b[i].p && !tu_verify(b[i].p, b[i].n, i)) bad++;
  CU_ASSERT_EQUAL(bad, 0);
  TU_CHECK_HEAP(h);
  /* restart: a pass cut short begins again from the first segment. */
  for (i = 1; i < N; i += 4) if (b[i].p) { rcl_free(h, b[i].p, b[i].n); b[i].p = NULL; }
  slice = 0;
  CU_ASSERT_EQUAL(rcl_purge_some(h, budget, 1, &slice), 0);
  for (slices = 0, done = 0; !done && slices < 100000; slices++)
    done = rcl_purge_some(h, budget, slices == 0, &slice);
  CU_ASSERT(done);
  CU_ASSERT_EQUAL(rcl_purge(h), 0);
  for (i = 0; i < N; i++) if (b[i].p && !tu_verify(b[i].p, b[i].n, i)) bad++;
  CU_ASSERT_EQUAL(bad, 0);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* The identities and the meaning of each field across a life cycle. */
static void test_stats_add_up(void)
{
  enum { N = 40000 };
  static blk b[N];
  rcl_heap *h = rcl_heap_create(NULL, 31);
  rcl_stats s0, s1, s2, s3;
  size_t i, usable = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  rcl_stats_get(h, &s0);
  CU_ASSERT_EQUAL(s0.in_use, 0);
  CU_ASSERT_EQUAL(s0.segments, 0);
  CU_ASSERT(s0.metadata > 0 && s0.mapped == s0.metadata);
  alloc_mixed(h, b, N);
  for (i = 0; i < N; i++) usable += rcl_test_block_size(b[i].p, b[i].n);
  TU_CHECK_HEAP(h);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.in_use, usable);
  CU_ASSERT(s1.resident >= s1.in_use + s1.metadata);
  CU_ASSERT(s1.floor >= s1.in_use / 2 && s1.floor <= s1.resident);
  CU_ASSERT(s1.fragmentation < 0.2);
  for (i = 0; i < N; i++) if (i % 50) { usable -= rcl_test_block_size(b[i].p, b[i].n); rcl_free(h, b[i].p, b[i].n); }
  rcl_stats_get(h, &s2);
  TU_CHECK_HEAP(h);
  CU_ASSERT_EQUAL(s2.in_use, usable);
  CU_ASSERT(s2.free_dirty > s1.free_dirty);
  CU_ASSERT(s2.fragmentation > 0.5);          /* freed but not purged yet */
  CU_ASSERT(rcl_purge(h) > 0);
  rcl_stats_get(h, &s3);
  TU_CHECK_HEAP(h);
  CU_ASSERT_EQUAL(s3.in_use, usable);
  CU_ASSERT(s3.free_dirty < s2.free_dirty / 4);
  CU_ASSERT(s3.resident < s2.resident);
  CU_ASSERT(s3.purged_total > s2.purged_total && s3.purge_calls > s2.purge_calls);
  /* After a purge the resident estimate is close to the floor. */
  CU_ASSERT(s3.resident <= s3.floor + s3.floor / 10 + s3.metadata + MIB);
  for (i = 0; i < N; i += 50) rcl_free(h, b[i].p, b[i].n);
  rcl_purge(h);
  rcl_stats_get(h, &s3);
  CU_ASSERT_EQUAL(s3.in_use, 0);
  CU_ASSERT_EQUAL(s3.floor, 0);
  CU_ASSERT(s3.segments <= 1);                 /* only the reserve stays mapped */
  CU_ASSERT(s3.resident <= s3.metadata);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/*
** Tiny classes (more blocks than a descriptor's bitmap holds) keep their
** bitmap in the segment header's pool: a sparse tiny span whose only live
** block is on its last page must not keep its first page resident. Checked
** with mincore() on the span start and with the stats identity resident ==
** metadata + floor (every resident non-header page holds a live block).
*/
static void test_tiny_bitmap_pooled(void)
{
  enum { SPANS = 3, SIZE = 48 };
  size_t per_span = 65536 / SIZE + 1, count = SPANS * per_span, i, kept = 0;
  void **p = (void **)malloc(count * sizeof(*p));
  rcl_heap *h = rcl_heap_create(NULL, 43);
  rcl_stats s0, s1, s2;
  uintptr_t last_in_span[SPANS + 2];
  size_t nspan = 0;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  rcl_stats_get(h, &s0);
  for (i = 0; i < count; i++) {
    p[i] = rcl_malloc(h, SIZE);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[i]);
    tu_fill(p[i], SIZE, i);
  }
  rcl_stats_get(h, &s1);
  TU_CHECK_HEAP(h);
  /* One segment header (whole pages) and no bitmap bytes inside spans
  ** (those would add 176 bytes per span). */
  CU_ASSERT_EQUAL(s1.segments, 1);
  CU_ASSERT(s1.metadata > s0.metadata);
  CU_ASSERT_EQUAL((s1.metadata - s0.metadata) % s1.page_size, 0);
  /* Blocks come lowest address first: the highest block of each 64 KiB span
  ** is the last one allocated there. Keep it, free the rest. */
  for (i = 0; i < count; i++) {
    uintptr_t a = (uintptr_t)p[i];
    if (i + 1 == count || ((uintptr_t)p[i + 1] >> 16) != (a >> 16)) {
      if (nspan < SPANS + 2) last_in_span[nspan++] = a;
      kept++;
      continue;
    }
    CU_ASSERT(tu_verify(p[i], SIZE, i));
    rcl_free(h, p[i], SIZE);
  }
  CU_ASSERT(nspan >= SPANS && nspan <= SPANS + 1);
  rcl_purge(h);
  rcl_stats_get(h, &s2);
  TU_CHECK_HEAP(h);
  CU_ASSERT_EQUAL(s2.in_use, kept * SIZE);
  CU_ASSERT_EQUAL(s2.resident, s2.metadata + s2.floor);
  if (s2.page_size < 65536) {
    unsigned char vec;
    size_t k;
    for (k = 0; k < nspan; k++) {
      char *start = (char *)(last_in_span[k] & ~(uintptr_t)65535);
      if (last_in_span[k] - (uintptr_t)start < s2.page_size) continue;  /* same page */
      CU_ASSERT_EQUAL_FATAL(mincore(start, s2.page_size, &vec), 0);
      CU_ASSERT_EQUAL(vec & 1, 0);
    }
  }
  for (i = 0; i < count; i++) {
    uintptr_t a = (uintptr_t)p[i];
    if (i + 1 == count || ((uintptr_t)p[i + 1] >> 16) != (a >> 16)) {
      CU_ASSERT(tu_verify(p[i], SIZE, i));
      rcl_free(h, p[i], SIZE);
    }
  }
  TU_CHECK_HEAP(h);
  free(p);
  rcl_heap_destroy(h);
}

/*
** Segment header (rcl_internal.h, "pool"): the descriptors and fields take
** the first 5.5 KiB (2 pages at 4 KiB); pool slots come after, lowest first, and a header page is touched
** (and counted as metadata) only when a slot on it is handed out. A segment
** with one span whose bitmap fits its descriptor (1 KiB blocks) costs 8 KiB
** (or one page, if larger) of metadata and leaves the rest of the header
** untouched (mincore). Then one segment is filled with spans of 16-byte
** blocks (each wants 4 pool slots) alternating with page-fit spans of 128
** bytes (one slot each): the pool must keep a slot for every free unit, so
** no page-fit span ever finds it empty (that would abort), and the checker
** accounts every slot and header page.
*/
static void test_header_pool_on_demand(void)
{
  enum { ROUNDS = 31 };
  rcl_heap *h = rcl_heap_create(NULL, 47);
  rcl_stats s0, s1, s2;
  size_t page, hdr_used, first_clean, hdr_end, k, n16 = 65536 / 16, n128 = 65536 / 128;
  void *one, **p16, **p128;
  int r;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  rcl_stats_get(h, &s0);
  page = s0.page_size;
  one = rcl_malloc(h, 1024);
  CU_ASSERT_PTR_NOT_NULL_FATAL(one);
  rcl_stats_get(h, &s1);
  TU_CHECK_HEAP(h);
  hdr_used = s1.metadata - s0.metadata;
  CU_ASSERT_EQUAL(hdr_used, page > 8192 ? page : 8192);
  first_clean = hdr_used;
  hdr_end = (24576 + page - 1) / page * page;   /* descriptors + 128 slots of 128 bytes */
  if (first_clean < hdr_end) {
    char *seg = (char *)((uintptr_t)one & ~(uintptr_t)(4 * 1048576 - 1));
    unsigned char vec[8];
    CU_ASSERT_EQUAL_FATAL(mincore(seg + first_clean, hdr_end - first_clean, vec), 0);
    for (k = 0; k < (hdr_end - first_clean) / page; k++) CU_ASSERT_EQUAL(vec[k] & 1, 0);
  }
  p16 = (void **)calloc(ROUNDS * n16, sizeof(void *));
  p128 = (void **)calloc(ROUNDS * n128, sizeof(void *));
  CU_ASSERT_PTR_NOT_NULL_FATAL(p16);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p128);
  for (r = 0; r < ROUNDS; r++) {
    for (k = 0; k < n16; k++) {
      p16[r * n16 + k] = rcl_malloc(h, 16);
      CU_ASSERT_PTR_NOT_NULL_FATAL(p16[r * n16 + k]);
      tu_fill(p16[r * n16 + k], 16, r * n16 + k);
    }
    for (k = 0; k < n128; k++) {
      p128[r * n128 + k] = rcl_malloc(h, 128);
      CU_ASSERT_PTR_NOT_NULL_FATAL(p128[r * n128 + k]);
      tu_fill(p128[r * n128 + k], 128, r * n128 + k);
    }
  }
  TU_CHECK_HEAP(h);
  rcl_stats_get(h, &s2);
  CU_ASSERT(s2.segments >= 1 && s2.segments <= 3);
  for (r = 0; r < ROUNDS; r++) {
    for (k = 0; k < n16; k++) {
      CU_ASSERT(tu_verify(p16[r * n16 + k], 16, r * n16 + k));
      rcl_free(h, p16[r * n16 + k], 16);
    }
    if (r % 4 == 0) TU_CHECK_HEAP(h);
  }
  for (r = 0; r < ROUNDS; r++)
    for (k = 0; k < n128; k++) {
      CU_ASSERT(tu_verify(p128[r * n128 + k], 128, r * n128 + k));
      rcl_free(h, p128[r * n128 + k], 128);
    }
  rcl_free(h, one, 1024);
  rcl_purge(h);
  TU_CHECK_HEAP(h);
  free(p16);
  free(p128);
  rcl_heap_destroy(h);
}

/*
** Twenty spans whose bitmaps take one pool slot each (page-fit 128-byte
** blocks) keep a segment header on 2 pages at 4 KiB pages (one page at
** larger pages): what the mixed benchmark (d) needs per segment, and what
** 104-byte span descriptors (3 pages) did not give. Checked through the
** metadata counter and mincore on the header's next page.
*/
static void test_header_two_pages(void)
{
  enum { SPANS = 20, PER_SPAN = 65536 / 128 };
  rcl_heap *h = rcl_heap_create(NULL, 48);
  rcl_stats s0, s1;
  size_t k, page, want;
  void **p = (void **)calloc(SPANS * PER_SPAN, sizeof(void *));
  char *seg;
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  rcl_stats_get(h, &s0);
  page = s0.page_size;
  for (k = 0; k < SPANS * PER_SPAN; k++) {
    p[k] = rcl_malloc(h, 128);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p[k]);
    tu_fill(p[k], 128, k);
  }
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.segments, 1);
  want = page > 8192 ? page : 8192;
  CU_ASSERT_EQUAL(s1.metadata - s0.metadata, want);   /* s0: the heap's own tables */
  TU_CHECK_HEAP(h);
  seg = (char *)((uintptr_t)p[0] & ~(uintptr_t)(4 * 1048576 - 1));
  {
    unsigned char vec[1];
    CU_ASSERT_EQUAL_FATAL(mincore(seg + want, page, vec), 0);
    CU_ASSERT_EQUAL(vec[0] & 1, 0);       /* the page after the header: never touched */
  }
  for (k = 0; k < SPANS * PER_SPAN; k++) {
    CU_ASSERT(tu_verify(p[k], 128, k));
    rcl_free(h, p[k], 128);
  }
  TU_CHECK_HEAP(h);
  free(p);
  rcl_heap_destroy(h);
}

/* Free stamps are 32 bits of the heap clock, compared as ages modulo 2^32:
** across the wrap an age is still right, min_age 0 lets everything go. */
static void test_free_stamp_ages(void)
{
  rcl_decay d;
  d.now = 5;
  d.min_age = 200;
  CU_ASSERT(rcl_decayed(d, 0xFFFFFF00u));        /* 261 ms old across the wrap */
  CU_ASSERT(!rcl_decayed(d, 0xFFFFFFF0u));       /* 21 ms old */
  CU_ASSERT(!rcl_decayed(d, 5));
  d.min_age = 300;
  CU_ASSERT(!rcl_decayed(d, 0xFFFFFF00u));
  d.now = 0x80000010u;
  CU_ASSERT(rcl_decayed(d, 0x10u));              /* 2^31 ms old */
  CU_ASSERT(!rcl_decayed(d, 0x80000010u - 299u)); /* 299 ms old */
  d = rcl_decay_all();
  CU_ASSERT(rcl_decayed(d, 12345));
  CU_ASSERT(rcl_decayed(d, 0));
}

/* In a child: a 200 MB burst, freed and purged, gives the RSS back. */
static int child_rss_burst(void *arg)
{
  enum { N = 400000 };
  static blk b[N];
  rcl_heap *h = rcl_heap_create(NULL, 32);
  size_t rss0, rss1, rss2, total = 0, i;
  rcl_stats st1, st2;
  (void)arg;
  memset(b, 0, sizeof(b));          /* the test's own table is not the heap's */
  rss0 = tu_rss();
  for (i = 0; i < N; i++) {
    b[i].n = 64 + (size_t)(xs() % 960);
    b[i].p = rcl_malloc(h, b[i].n);
    memset(b[i].p, 1, b[i].n);
    total += b[i].n;
  }
  rss1 = tu_rss();
  rcl_stats_get(h, &st1);
  for (i = 0; i < N; i++) rcl_free(h, b[i].p, b[i].n);
  rcl_purge(h);
  rss2 = tu_rss();
  rcl_stats_get(h, &st2);
  printf("\n  burst %zu MB: RSS %zu -> %zu -> %zu KB; resident estimate %zu -> %zu KB\n",
         total >> 20, rss0 >> 10, rss1 >> 10, rss2 >> 10, st1.resident >> 10, st2.resident >> 10);
  if (rss1 < rss0 + 150 * MIB) return 2;            /* the burst was resident */
  if (rss2 > rss0 + 2 * MIB) return 3;              /* and it went back */
  if (st2.resident > st1.resident / 50) return 4;
  return 0;
}

static void test_rss_falls(void)
{
  int st = tu_child(child_rss_burst, NULL, 60);
  CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* 2% scattered survivors: RSS after purge is close to the floor. */
static int child_rss_survivors(void *arg)
{
  enum { N = 300000 };
  static blk b[N];
  rcl_heap *h = rcl_heap_create(NULL, 33);
  size_t rss0, rss1, rss2, i;
  rcl_stats st;
  (void)arg;
  memset(b, 0, sizeof(b));
  rss0 = tu_rss();
  for (i = 0; i < N; i++) {
    b[i].n = mixed_size();
    if (b[i].n > 32768) b[i].n = 100;
    b[i].p = rcl_malloc(h, b[i].n);
    memset(b[i].p, 1, b[i].n);
  }
  rss1 = tu_rss();
  for (i = 0; i < N; i++) if (xs() % 50) rcl_free(h, b[i].p, b[i].n);
  rcl_purge(h);
  rss2 = tu_rss();
  rcl_stats_get(h, &st);
  printf("\n  2%% survivors: RSS %zu -> %zu -> %zu KB; floor %zu KB, resident %zu KB, metadata %zu KB\n",
         rss0 >> 10, rss1 >> 10, rss2 >> 10, st.floor >> 10, st.resident >> 10, st.metadata >> 10);
  if (rss2 > rss0 + st.floor + st.floor / 10 + st.metadata + 2 * MIB) return 2;
  if (st.resident > st.floor + st.floor / 10 + st.metadata + MIB) return 3;
  return 0;
}

static void test_rss_survivors(void)
{
  int st = tu_child(child_rss_survivors, NULL, 60);
  CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Memory freed just now is not purged by a cycle-end pass; rcl_purge does. */
static void test_decay(void)
{
  enum { N = 20000 };
  static blk b[N];
  rcl_config cfg;
  rcl_heap *h;
  rcl_stats s0, s1, s2;
  size_t i;
  rcl_config_default(&cfg);
  cfg.decay_ms = 1000;
  h = rcl_heap_create(&cfg, 34);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < N; i++) { b[i].n = 1000; b[i].p = rcl_malloc(h, 1000); memset(b[i].p, 2, 1000); }
  for (i = 0; i < N; i++) if (i % 16) rcl_free(h, b[i].p, b[i].n);
  rcl_stats_get(h, &s0);
  rcl_cycle_end(h);
  for (i = 0; i < 1000; i++) rcl_step(h);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.purged_total, s0.purged_total);   /* too recent: left dirty */
  CU_ASSERT(s1.free_dirty >= s0.free_dirty);
  CU_ASSERT(rcl_purge(h) > 10 * MIB);                     /* ignores decay */
  rcl_stats_get(h, &s2);
  CU_ASSERT(s2.free_dirty < s1.free_dirty / 4);
  TU_CHECK_HEAP(h);
  /* With a short decay, a pass after the decay time purges. */
  cfg.decay_ms = 30;
  rcl_heap_configure(h, &cfg);
  for (i = 0; i < N; i++) if (i % 16) { b[i].p = rcl_malloc(h, 1000); memset(b[i].p, 3, 1000); }
  for (i = 0; i < N; i++) if (i % 16) rcl_free(h, b[i].p, b[i].n);
  rcl_stats_get(h, &s0);
  tu_sleep_ms(120);
  rcl_cycle_end(h);
  for (i = 0; i < 1000; i++) rcl_step(h);
  rcl_stats_get(h, &s1);
  CU_ASSERT(s1.purged_total > s0.purged_total + 10 * MIB);
  for (i = 0; i < N; i += 16) CU_ASSERT(b[i].p && ((unsigned char *)b[i].p)[999] == 2);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* The cycle-end pass does not examine again a span it examined whole and
** that nothing was freed into since (on both backings; test_mesh_core.c
** covers a heap that meshes); a free into such a span makes the next pass
** examine it and purge the pages the free emptied. */
static void test_pass_skips_examined(void)
{
  enum { N = 24000 };
  static blk b[N];
  rcl_config cfg;
  rcl_heap *h;
  rcl_backing_info bi;
  rcl_stats s0, s1;
  uint64_t e0, e1, e2;
  size_t i;
  rcl_config_default(&cfg);
  cfg.decay_ms = 30;
  h = rcl_heap_create(&cfg, 35);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  CU_ASSERT_EQUAL_FATAL(rcl_test_backing(h, &bi), 0);
  /* Blocks of a size class (96 bytes, rcl_malloc) and of the mixed run
  ** (1000 bytes, rcl_malloc_mixed: cells of class 0's spans); every 16th
  ** survives, so each span keeps blocks and pages free between them. */
  for (i = 0; i < N; i++) {
    b[i].n = i & 1 ? 96 : 1000;
    b[i].p = i & 1 ? rcl_malloc(h, b[i].n) : rcl_malloc_mixed(h, b[i].n);
    tu_fill(b[i].p, b[i].n, i);
  }
  for (i = 0; i < N; i++) if (i % 16 > 1) { rcl_free(h, b[i].p, b[i].n); b[i].p = NULL; }
  tu_cycle_and_pass(h, 60);  /* examines and purges every span */
  tu_cycle_and_pass(h, 60);  /* the spans current at the first cycle end */
  e0 = rcl_test_spans_examined(h);
  tu_cycle_and_pass(h, 60);
  e1 = rcl_test_spans_examined(h);
  CU_ASSERT_EQUAL(e1, e0);        /* nothing freed: nothing examined */
  /* Free the survivors of one block in two: whole pages go free. */
  for (i = 0; i < N; i += 32) { rcl_free(h, b[i].p, b[i].n); rcl_free(h, b[i + 1].p, b[i + 1].n); b[i].p = b[i + 1].p = NULL; }
  rcl_stats_get(h, &s0);
  tu_cycle_and_pass(h, 60);
  e2 = rcl_test_spans_examined(h);
  rcl_stats_get(h, &s1);
  CU_ASSERT(e2 > e1 + 20);
  CU_ASSERT(s1.purged_total > s0.purged_total + 2 * MIB);
  CU_ASSERT(s1.free_dirty + 2 * MIB < s0.free_dirty);
  for (i = 0; i < N; i++) if (b[i].p) CU_ASSERT(tu_verify(b[i].p, b[i].n, i));
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* Kept mappings: a freed large block's mapping serves the next large block
** of about its size (same pages, no fresh faults) until decay, a purge,
** growth of the heap or a span refaulting purged units after 25 ms unmaps
** it; with decay 0 nothing is kept. */
static void test_kept_mappings(void)
{
  rcl_config cfg;
  rcl_heap *h;
  rcl_stats s0, s1;
  char *p, *q, *units[64];
  size_t i;
  rcl_config_default(&cfg);
  cfg.decay_ms = 1000;
  h = rcl_heap_create(&cfg, 35);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  p = (char *)rcl_malloc(h, 3 * MIB);
  memset(p, 5, 3 * MIB);
  rcl_stats_get(h, &s0);
  rcl_free(h, p, 3 * MIB);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mapped, s0.mapped);                  /* kept: still mapped ... */
  CU_ASSERT_EQUAL(s1.large_blocks, 0);
  CU_ASSERT_EQUAL(s1.in_use, s0.in_use - 3 * MIB);
  CU_ASSERT_EQUAL(s1.free_dirty, s0.free_dirty + 3 * MIB); /* ... free and dirty */
  TU_CHECK_HEAP(h);
  q = (char *)rcl_malloc(h, 3 * MIB - 100 * 1024);         /* reused, tail unmapped */
  CU_ASSERT_PTR_EQUAL(q, p);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mapped, s0.mapped - 25 * 4096);
  TU_CHECK_HEAP(h);
  rcl_free(h, q, 3 * MIB - 100 * 1024);
  rcl_stats_get(h, &s0);
  q = (char *)rcl_malloc(h, 2 * MIB);   /* smaller: takes it, the rest is unmapped */
  CU_ASSERT_PTR_EQUAL(q, p);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mapped, s0.mapped - (MIB - 100 * 1024));
  rcl_free(h, q, 2 * MIB);
  q = (char *)rcl_malloc(h, 4 * MIB);   /* outgrows it: unmapped before the new mapping */
  CU_ASSERT_PTR_NOT_NULL_FATAL(q);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mapped, s0.mapped - (3 * MIB - 100 * 1024) + 4 * MIB);
  TU_CHECK_HEAP(h);
  rcl_free(h, q, 4 * MIB);
  rcl_stats_get(h, &s0);
  CU_ASSERT(rcl_purge(h) >= 4 * MIB);                      /* a purge unmaps it */
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mapped, s0.mapped - 4 * MIB);
  CU_ASSERT(s1.purged_total >= s0.purged_total + 4 * MIB);
  TU_CHECK_HEAP(h);
  /* Growth: a new segment is mapped only after the kept mapping is gone. */
  p = (char *)rcl_malloc(h, 3 * MIB);
  rcl_free(h, p, 3 * MIB);
  for (i = 0; i < 64; i++) units[i] = (char *)rcl_malloc(h, 60000);
  rcl_stats_get(h, &s1);
  CU_ASSERT(s1.segments >= 2);
  CU_ASSERT(s1.free_dirty < 3 * MIB);
  TU_CHECK_HEAP(h);
  for (i = 0; i < 64; i++) rcl_free(h, units[i], 60000);
  /* Stale: a span that takes purged units unmaps a kept mapping unused for
  ** RCL_KEPT_STALE_MS (25 ms), not a younger one. */
  rcl_purge(h);
  p = (char *)rcl_malloc(h, 3 * MIB);
  rcl_free(h, p, 3 * MIB);
  rcl_stats_get(h, &s0);
  units[0] = (char *)rcl_malloc(h, 60000);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mapped, s0.mapped);                  /* young: kept */
  CU_ASSERT(s1.free_dirty >= 3 * MIB);
  tu_sleep_ms(150);
  units[1] = (char *)rcl_malloc(h, 60000);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mapped, s0.mapped - 3 * MIB);        /* stale: unmapped */
  CU_ASSERT(s1.free_dirty < 3 * MIB);
  TU_CHECK_HEAP(h);
  rcl_free(h, units[0], 60000);
  rcl_free(h, units[1], 60000);
  /* Decay: a pass after the decay time unmaps it, one before leaves it. */
  cfg.decay_ms = 50;
  rcl_heap_configure(h, &cfg);
  rcl_purge(h);
  p = (char *)rcl_malloc(h, 3 * MIB);
  rcl_free(h, p, 3 * MIB);
  rcl_stats_get(h, &s0);
  rcl_cycle_end(h);
  for (i = 0; i < 1000; i++) rcl_step(h);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mapped, s0.mapped);
  tu_sleep_ms(120);
  rcl_cycle_end(h);
  for (i = 0; i < 1000; i++) rcl_step(h);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mapped, s0.mapped - 3 * MIB);
  TU_CHECK_HEAP(h);
  /* Decay 0: nothing is kept. */
  cfg.decay_ms = 0;
  rcl_heap_configure(h, &cfg);
  p = (char *)rcl_malloc(h, 3 * MIB);
  rcl_stats_get(h, &s0);
  rcl_free(h, p, 3 * MIB);
  rcl_stats_get(h, &s1);
  CU_ASSERT_EQUAL(s1.mapped, s0.mapped - 3 * MIB);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* A step examines at most step_budget bytes; repeated steps finish the pass. */
static void test_step_budget(void)
{
  enum { N = 16384, SIZE = 1024, PER_SPAN = 64 };   /* one-unit spans at every page size */
  static void *p[N];
  rcl_config cfg;
  rcl_heap *h;
  rcl_stats s0, s1, s2;
  size_t i, steps = 0;
  rcl_config_default(&cfg);
  cfg.decay_ms = 0;
  cfg.step_budget = 65536;
  h = rcl_heap_create(&cfg, 35);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < N; i++) { p[i] = rcl_malloc(h, SIZE); memset(p[i], 4, SIZE); }
  /* Keep the first block of every span: no unit becomes free. */
  for (i = 0; i < N; i++) if (i % PER_SPAN) rcl_free(h, p[i], SIZE);
  rcl_stats_get(h, &s0);
  rcl_cycle_end(h);
  rcl_step(h);
  rcl_stats_get(h, &s1);
  CU_ASSERT(s1.purged_total > s0.purged_total);
  CU_ASSERT(s1.purged_total - s0.purged_total <= 65536);   /* one unit examined */
  do {
    s0 = s1;
    rcl_step(h);
    steps++;
    rcl_stats_get(h, &s1);
  } while (steps < 10000 && s1.purged_total != s0.purged_total);
  CU_ASSERT(steps > 100);                                   /* many small steps */
  rcl_stats_get(h, &s2);
  CU_ASSERT(rcl_purge(h) < s2.purged_total / 20);           /* the pass left little */
  for (i = 0; i < N; i += PER_SPAN) CU_ASSERT(((unsigned char *)p[i])[SIZE - 1] == 4);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* Mapping beyond soft_limit purges first, with no explicit purge call. */
static void test_soft_limit(void)
{
  enum { N = 12000 };
  static void *p[N];
  rcl_config cfg;
  rcl_heap *h;
  rcl_stats s0, s1;
  size_t i;
  rcl_config_default(&cfg);
  cfg.decay_ms = 100000;
  cfg.soft_limit = 16 * MIB;
  h = rcl_heap_create(&cfg, 36);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < N; i++) { p[i] = rcl_malloc(h, 1000); memset(p[i], 5, 1000); }
  for (i = 0; i < N; i++) if (i % 64) rcl_free(h, p[i], 1000);
  rcl_stats_get(h, &s0);
  CU_ASSERT_EQUAL(s0.purged_total, 0);
  {
    void *big = rcl_malloc(h, 8 * MIB);       /* mapped + 8 MiB > 16 MiB */
    rcl_stats_get(h, &s1);
    CU_ASSERT(s1.purged_total > 5 * MIB);
    rcl_free(h, big, 8 * MIB);
  }
  for (i = 0; i < N; i += 64) CU_ASSERT(((unsigned char *)p[i])[999] == 5);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

/* mode=off never madvises; mode=free purges and keeps contents. */
static void test_modes(void)
{
  enum { N = 8000 };
  static void *p[N];
  rcl_config cfg;
  rcl_heap *h;
  rcl_stats st;
  size_t i;
  int mode;
  for (mode = RCL_MODE_DONTNEED; mode <= RCL_MODE_OFF; mode++) {
    rcl_config_default(&cfg);
    cfg.mode = mode;
    h = rcl_heap_create(&cfg, 37);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    for (i = 0; i < N; i++) { p[i] = rcl_malloc(h, 2000); tu_fill(p[i], 2000, i); }
    for (i = 0; i < N; i++) if (i % 8) rcl_free(h, p[i], 2000);
    rcl_purge(h);
    rcl_stats_get(h, &st);
    if (mode == RCL_MODE_OFF) CU_ASSERT_EQUAL(st.purge_calls, 0);
    if (mode != RCL_MODE_OFF) CU_ASSERT(st.purge_calls > 0);
    for (i = 0; i < N; i += 8) CU_ASSERT(tu_verify(p[i], 2000, i));
    TU_CHECK_HEAP(h);
    rcl_heap_destroy(h);
  }
}

/* rcl_full_gc purges everything with full_gc_purge, else arms a pass. */
static void test_full_gc(void)
{
  enum { N = 8000 };
  static void *p[N];
  rcl_config cfg;
  rcl_heap *h;
  size_t i;
  rcl_config_default(&cfg);
  h = rcl_heap_create(&cfg, 38);
  CU_ASSERT_PTR_NOT_NULL_FATAL(h);
  for (i = 0; i < N; i++) p[i] = rcl_malloc(h, 3000), memset(p[i], 6, 3000);
  for (i = 0; i < N; i++) if (i % 4) rcl_free(h, p[i], 3000);
  CU_ASSERT(rcl_full_gc(h) > 10 * MIB);
  cfg.full_gc_purge = 0;
  rcl_heap_configure(h, &cfg);
  for (i = 0; i < N; i++) if (i % 4) p[i] = rcl_malloc(h, 3000), memset(p[i], 6, 3000);
  for (i = 0; i < N; i++) if (i % 4) rcl_free(h, p[i], 3000);
  CU_ASSERT_EQUAL(rcl_full_gc(h), 0);
  TU_CHECK_HEAP(h);
  rcl_heap_destroy(h);
}

int tu_register_purge(void)
{
  CU_pSuite s = CU_add_suite("purge", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "purge never changes live contents", test_purge_keeps_contents) ||
      !CU_add_test(s, "purge in slices: bounded, complete, resumable", test_purge_some) ||
      !CU_add_test(s, "stats add up", test_stats_add_up) ||
      !CU_add_test(s, "tiny-class bitmaps pin no page (header pool)", test_tiny_bitmap_pooled) ||
      !CU_add_test(s, "header pool: a slot for every page-fit span, pages touched on demand",
                   test_header_pool_on_demand) ||
      !CU_add_test(s, "segment header: 20 pooled bitmaps stay on 2 pages", test_header_two_pages) ||
      !CU_add_test(s, "free stamps: ages across the 32-bit wrap", test_free_stamp_ages) ||
      !CU_add_test(s, "RSS falls after purge (200 MB burst, child)", test_rss_falls) ||
      !CU_add_test(s, "RSS near floor with 2% survivors (child)", test_rss_survivors) ||
      !CU_add_test(s, "decay: recent frees survive a pass, not a purge", test_decay) ||
      !CU_add_test(s, "cycle-end pass: skips spans not freed into since it examined them",
                   test_pass_skips_examined) ||
      !CU_add_test(s, "kept large mappings: reuse, purge, growth, staleness, decay", test_kept_mappings) ||
      !CU_add_test(s, "step budget bounds each step", test_step_budget) ||
      !CU_add_test(s, "soft limit purges before mapping", test_soft_limit) ||
      !CU_add_test(s, "modes dontneed/free/off", test_modes) ||
      !CU_add_test(s, "full GC purge on/off", test_full_gc))
    return -1;
  return 0;
}
