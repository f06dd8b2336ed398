/*
** stress.c: randomized stress test of the reclaiming allocator.
**
** Usage: stress [-n OPS] [-s SEED] [-q]
** A table of live blocks is churned with alloc/free/realloc (via rcl_malloc,
** rcl_malloc_object, rcl_malloc_mixed, rcl_malloc_array, rcl_realloc and the lua_Alloc entry point) over all
** size ranges: classes,
** single-block spans and large mappings. Every block carries a content
** pattern derived from its tag; it is verified on every free and realloc and
** for ALL live blocks after every purge and cycle-end pass, so a purge that
** touched a live byte (or any other corruption) fails at once. rcl_test_check
** verifies the heap invariants periodically. The middle third of the run
** has the background thread on (1 ms interval, no decay) purging concurrently.
** After purges and some cycle ends, random pairs of pages of one class are
** meshed (rcl_test_mesh_page; on the memory-file backing), then every block
** is verified and the invariants checked; the later frees through meshed
** pages unmesh them.
** Exit status 0 on success; the seed is printed first so a failure replays.
** Built with -fsanitize=address,undefined by tests/unit/unit.mk.
*/
#include "rcl_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NSLOTS 20000

typedef struct slot { unsigned char *p; size_t n; uint64_t tag; } slot;

static slot slots[NSLOTS];
static uint64_t rng_state;
static size_t live_bytes;

static uint64_t rng(void)
{
  uint64_t x = rng_state;
  x ^= x << 13; x ^= x >> 7; x ^= x << 17;
  return rng_state = x;
}

static unsigned char pattern(uint64_t tag, size_t off)
{
  uint64_t v = (tag + off) * 0x9e3779b97f4a7c15ull;
  return (unsigned char)(v >> 56);
}

/* Offsets that carry the pattern: every byte of blocks up to 2 KiB, else
** the first and last 64 bytes and every 256th byte (a purge zeroes whole
** OS pages, >= 4 KiB, so it cannot hide between samples). */
static size_t next_offset(size_t n, size_t i)
{
  size_t j;
  if (n <= 2048 || i < 63 || i + 1 >= n - 64) return i + 1;
  j = (i + 256) & ~(size_t)255;
  return j < n - 64 ? j : n - 64;
}

static void fill(slot *s)
{
  size_t i;
  for (i = 0; i < s->n; i = next_offset(s->n, i)) s->p[i] = pattern(s->tag, i);
}

/* Check the pattern of s at offsets below min(upto, s->n). */
static void verify(const slot *s, size_t upto, const char *when, uint64_t op)
{
  size_t i, n = upto < s->n ? upto : s->n;
  for (i = 0; i < n; i = next_offset(s->n, i))
    if (s->p[i] != pattern(s->tag, i)) {
      fprintf(stderr, "stress: corruption %s at op %" PRIu64 ": block %p size %zu offset %zu "
              "has %02x, expected %02x\n", when, op, (void *)s->p, s->n, i, s->p[i], pattern(s->tag, i));
      exit(1);
    }
}

static size_t random_size(void)
{
  uint64_t r = rng() % 10000;
  if (r < 7000) return (size_t)(rng() % 256);                     /* tiny and small */
  if (r < 9300) return (size_t)(rng() % 4096);
  if (r < 9950) return (size_t)(rng() % 32768) + 1;
  if (r < 9995) return (size_t)(rng() % (1u << 20)) + 32768;     /* single-block spans */
  return (size_t)(rng() % (3u << 20)) + (1u << 20);               /* large mappings */
}

static void check_heap(rcl_heap *h, uint64_t op)
{
  char err[256];
  rcl_stats st;
  if (rcl_test_check(h, err, sizeof(err)) != 0) {
    fprintf(stderr, "stress: invariant broken at op %" PRIu64 ": %s\n", op, err);
    exit(1);
  }
  rcl_stats_get(h, &st);
  if (st.mapped != st.metadata + st.in_use + st.free_dirty + st.free_clean ||
      st.resident != st.metadata + st.in_use + st.free_dirty || st.floor > st.resident) {
    fprintf(stderr, "stress: stats identity broken at op %" PRIu64 "\n", op);
    exit(1);
  }
}

/* Mesh at random (rcl_test_mesh_page): the page of a live small block onto
** the page of another live block of the same class. Most pairs are refused
** (overlapping slots, a current span, the anonymous backing); the meshes
** made are counted, and every block is verified afterwards. Right after a
** purge or cycle end no span is current. */
static uint64_t meshed, mesh_tries;

/* A pair of sparse pages made on purpose and meshed (the random pairs of
** this dense heap almost never mesh at 64 KiB pages): blocks of one size
** fill whole pages (after the holes of the class's partial spans), all but
** one block of two full pages outside the current span are freed (at
** different slots), and the second page is meshed onto the first. The two
** kept blocks join the slots, so they are verified, resized and freed
** through the meshed pages like any other block. */
#define PAIR_SIZE 1024
#define PAIR_BLOCKS 2048
static int cmp_ptr(const void *a, const void *b)
{
  uintptr_t x = (uintptr_t)*(unsigned char *const *)a, y = (uintptr_t)*(unsigned char *const *)b;
  return x < y ? -1 : x > y;
}

static void mesh_made_pair(rcl_heap *h, size_t ps)
{
  static unsigned char *b[PAIR_BLOCKS];
  unsigned char *keep[2] = { NULL, NULL };
  uintptr_t page[2] = { 0, 0 }, last_unit;
  size_t i, j, k, per_page = ps / PAIR_SIZE, npages = 0, empty[2], nempty = 0;
  for (i = 0; i < PAIR_BLOCKS; i++) {
    b[i] = (unsigned char *)rcl_malloc(h, PAIR_SIZE);
    if (!b[i]) { fprintf(stderr, "stress: mesh pair: allocation failed\n"); exit(1); }
  }
  last_unit = (uintptr_t)b[PAIR_BLOCKS - 1] >> 16;
  qsort(b, PAIR_BLOCKS, sizeof(b[0]), cmp_ptr);
  for (i = 0; i + per_page <= PAIR_BLOCKS && npages < 2; i = j) {
    uintptr_t pg = (uintptr_t)b[i] & ~(uintptr_t)(ps - 1);
    for (j = i + 1; j < PAIR_BLOCKS && ((uintptr_t)b[j] & ~(uintptr_t)(ps - 1)) == pg; j++) {}
    if (j - i == per_page && ((uintptr_t)b[i] >> 16) != last_unit &&
        rcl_test_block_size(b[i], PAIR_SIZE) == PAIR_SIZE) {
      /* Keep block k of page k: the slots differ. */
      keep[npages] = b[i + npages];
      b[i + npages] = NULL;
      page[npages++] = pg;
    }
  }
  for (i = 0; i < NSLOTS && nempty < 2; i++) if (!slots[i].p) empty[nempty++] = i;
  for (k = 0; k < 2; k++) {
    if (!keep[k] || npages < 2 || nempty < 2) continue;
    slots[empty[k]].p = keep[k];
    slots[empty[k]].n = PAIR_SIZE;
    slots[empty[k]].tag = 0x5eed0000u + mesh_tries + k;
    fill(&slots[empty[k]]);
    live_bytes += PAIR_SIZE;
    keep[k] = NULL;
  }
  for (k = 0; k < 2; k++) if (keep[k]) rcl_free(h, keep[k], PAIR_SIZE);
  for (i = 0; i < PAIR_BLOCKS; i++) if (b[i]) rcl_free(h, b[i], PAIR_SIZE);
  if (npages == 2 && nempty == 2) {
    mesh_tries++;
    if (rcl_test_mesh_page(h, (void *)page[1], (void *)page[0]) == 0) meshed++;
  }
}

static void mesh_at_random(rcl_heap *h)
{
  size_t ps = rcl_page_size(), t;
  mesh_made_pair(h, ps);
  for (t = 0; t < 200; t++) {
    slot *x = &slots[rng() % NSLOTS], *y;
    size_t bx, k;
    if (!x->p || x->n == 0 || x->n > 2048) continue;
    bx = rcl_test_block_size(x->p, x->n);
    for (k = 0; k < 256; k++) {
      y = &slots[rng() % NSLOTS];
      if (y == x || !y->p || !y->n || y->n > 2048 || rcl_test_block_size(y->p, y->n) != bx) continue;
      mesh_tries++;
      if (rcl_test_mesh_page(h, (void *)((uintptr_t)x->p & ~(uintptr_t)(ps - 1)),
                             (void *)((uintptr_t)y->p & ~(uintptr_t)(ps - 1))) == 0) {
        meshed++;
        break;
      }
    }
  }
}

static void verify_all(const char *when, uint64_t op)
{
  size_t i;
  for (i = 0; i < NSLOTS; i++) if (slots[i].p) verify(&slots[i], (size_t)-1, when, op);
}

int main(int argc, char **argv)
{
  uint64_t ops = 10000000, seed = (uint64_t)time(NULL), op, purges = 0, passes = 0;
  int quiet = 0, i, bg = 0;
  rcl_heap *h;
  rcl_config cfg;
  rcl_stats st;
  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-n") && i + 1 < argc) ops = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "-s") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "-q")) quiet = 1;
    else { fprintf(stderr, "usage: stress [-n OPS] [-s SEED] [-q]\n"); return 2; }
  }
  printf("stress: seed %" PRIu64 " ops %" PRIu64 " (replay: stress -s %" PRIu64 " -n %" PRIu64 ")\n",
         seed, ops, seed, ops);
  fflush(stdout);
  rng_state = seed * 2654435761u + 1;
  rcl_config_default(&cfg);
  cfg.decay_ms = 0;
  h = rcl_heap_create(&cfg, seed);
  if (!h) { fprintf(stderr, "stress: heap creation failed\n"); return 1; }
  for (op = 0; op < ops; op++) {
    slot *s = &slots[rng() % NSLOTS];
    uint64_t r = rng() % 1000;
    if (op == ops / 3 || op == 2 * ops / 3) {
      bg = op == ops / 3;
      cfg.background = bg;
      cfg.background_interval_ms = 1;
      rcl_heap_configure(h, &cfg);
      if (!quiet) printf("stress: op %" PRIu64 ": background thread %s\n", op, bg ? "on" : "off");
    }
    if (!s->p) {
      s->n = random_size();
      if (s->n > (1u << 20) && live_bytes > (256u << 20)) s->n = 100;
      s->tag = rng();
      /* lua_Alloc with nsize 0 means free: use rcl_malloc for 0 bytes. A
      ** quarter of the blocks take the object lane, an eighth the mixed
      ** run (17..1024 bytes; other sizes the object lane), an eighth the
      ** array entry (the wide run from 1025 bytes at 4 KiB pages). */
      if ((r & 6) == 6) s->p = (unsigned char *)rcl_malloc_object(h, s->n);
      else if ((r & 14) == 4) s->p = (unsigned char *)rcl_malloc_mixed(h, s->n);
      else if ((r & 14) == 12) s->p = (unsigned char *)rcl_malloc_array(h, s->n);
      else s->p = (unsigned char *)((r & 1) || !s->n ? rcl_malloc(h, s->n) : rcl_alloc_f(h, NULL, 0, s->n));
      if (!s->p) {
        rcl_stats_get(h, &st);
        fprintf(stderr, "stress: allocation of %zu failed at op %" PRIu64 " (mmap_failed %" PRIu64 ", rejected %" PRIu64 ")\n",
                s->n, op, st.mmap_failed, st.high_mappings_rejected);
        return 1;
      }
      if (((uintptr_t)s->p & (s->n >= 16 ? 15 : 7)) || (uint64_t)(uintptr_t)s->p + s->n > ((uint64_t)1 << 47)) {
        fprintf(stderr, "stress: bad address %p for size %zu\n", (void *)s->p, s->n);
        return 1;
      }
      fill(s);
      live_bytes += s->n;
    } else if (r < 600) {
      verify(s, (size_t)-1, "before free", op);
      if (r & 1) rcl_free(h, s->p, s->n); else rcl_alloc_f(h, s->p, s->n, 0);
      live_bytes -= s->n;
      s->p = NULL;
    } else {
      size_t nn = r < 800 ? random_size() : s->n + (size_t)(rng() % 512) - (s->n >= 256 ? 256 : s->n);
      unsigned char *q;
      if (nn == 0) nn = 1;
      if (nn > (1u << 20) && live_bytes > (256u << 20)) nn = 100;
      verify(s, (size_t)-1, "before realloc", op);
      q = (unsigned char *)(r & 1 ? rcl_realloc(h, s->p, s->n, nn) : rcl_alloc_f(h, s->p, s->n, nn));
      if (!q) { fprintf(stderr, "stress: realloc to %zu failed at op %" PRIu64 "\n", nn, op); return 1; }
      live_bytes = live_bytes - s->n + nn;
      {
        slot t = *s;
        t.p = q;
        verify(&t, nn, "after realloc", op);    /* the common prefix moved intact */
      }
      s->p = q;
      s->n = nn;
      s->tag = rng();
      fill(s);
    }
    if (op % 100000 == 99999) {
      rcl_purge(h);
      purges++;
      verify_all("after purge", op);
      check_heap(h, op);
      mesh_at_random(h);
      verify_all("after meshing", op);
      check_heap(h, op);
    } else if (op % 20000 == 19999) {
      int k;
      rcl_cycle_end(h);
      for (k = 0; k < 50; k++) rcl_step(h);
      passes++;
      verify_all("after cycle-end pass", op);
      if (op % 40000 == 39999) mesh_at_random(h);
    }
  }
  verify_all("at the end", op);
  check_heap(h, op);
  rcl_stats_get(h, &st);
  printf("stress: ok: %" PRIu64 " ops, %" PRIu64 " purges, %" PRIu64 " cycle-end passes, mapped %zu, "
         "in_use %zu, purged_total %" PRIu64 ", purge_calls %" PRIu64 ", madvise_failed %" PRIu64 "\n",
         ops, purges, passes, st.mapped, st.in_use, st.purged_total, st.purge_calls, st.madvise_failed);
  if (st.madvise_failed || st.mmap_failed || st.munmap_failed) {
    fprintf(stderr, "stress: unexpected OS call failures\n");
    return 1;
  }
  {
    /* LUAJIT_RECLAIM_TEST_BACKING=file (check-stress runs both backings). */
    rcl_backing_info bi;
    const char *want = getenv("LUAJIT_RECLAIM_TEST_BACKING");
    int file = want && strcmp(want, "file") == 0;
    if (rcl_test_backing(h, &bi) != 0 || bi.file != file ||
        (file && (bi.fd < 0 || bi.file_segments == 0 || bi.fallbacks || bi.punch_failed))) {
      fprintf(stderr, "stress: backing: asked for %s, got file %d, fd %d, %zu file segments, "
              "%" PRIu64 " fallbacks, %" PRIu64 " failed punches\n", file ? "file" : "anon",
              bi.file, bi.fd, bi.file_segments, bi.fallbacks, bi.punch_failed);
      return 1;
    }
    printf("stress: backing %s (%zu segments on the file, file size %" PRIu64 " MiB)\n",
           file ? "file" : "anon", bi.file_segments, bi.file_size >> 20);
    printf("stress: meshed %" PRIu64 " of %" PRIu64 " pairs tried, %zu secondaries now, %zu mappings\n",
           meshed, mesh_tries, st.mesh_pages, st.mesh_mappings);
    /* The file backing meshes (a run too short to try any pair proves nothing). */
    if ((file && mesh_tries > 1000 && meshed == 0) || (!file && meshed)) {
      fprintf(stderr, "stress: meshing on the %s backing: %" PRIu64 " of %" PRIu64 " pairs\n",
              file ? "file" : "anonymous", meshed, mesh_tries);
      return 1;
    }
  }
  for (i = 0; i < NSLOTS; i++) if (slots[i].p) rcl_free(h, slots[i].p, slots[i].n);
  rcl_purge(h);
  check_heap(h, op);
  rcl_heap_destroy(h);
  return 0;
}
