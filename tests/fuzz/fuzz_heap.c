/*
** fuzz_heap.c: libFuzzer target for one heap of the standalone allocator
** (runtime/reclaim, built with -DRCL_FAULT_INJECTION and the OS shim of
** fuzz_os.c). The input encoding is in fuzz_ops.h.
**
** What a run must never see (each is a crash with a message):
**  - a live block's content pattern changed (checked on every free and
**    realloc, for every live block after every purge, GC step, config
**    change, fault arming and sleep; realloc keeps the common prefix);
**  - rcl_test_check failing, or the stats identities broken, after any op;
**    rcl_heap_get_config not returning the config just set;
**  - a block misaligned, above 2^47 or outside the memory the allocator
**    mapped; an OS call on a page that holds a live block (fuzz_os.h);
**  - an allocation returning NULL without an injected mmap failure during
**    that call, or a shrinking realloc of a span block failing;
**  - the failure counters not accounting for the injected failures. With
**    i(k) the failures injected since the heap was created (rcl_test_fault_
**    injected deltas) and the counters of rcl_stats_get:
**      madvise_failed == i(madvise), munmap_failed == i(munmap),
**      mremap_failed == i(mremap) (an in-place mremap failing with ENOMEM is
**        not counted, but injected failures are EINVAL, so all count),
**      mmap_failed == i(mmap) - (misaligned - below), where misaligned counts
**        segment mappings that came back misaligned and below the real
**        retries at the aligned address just below them (fuzz_os.c):
**        rcl_os_map makes that one retry per misaligned segment without
**        counting its failure, so each injected failure of it is the one
**        uncounted injection. A 4 MiB mapping is thus taken for a segment:
**        the harness never requests a large block of exactly that size
**        (fz_legal_size). Also mmap_failed >= the NULL results seen;
**    with the background thread on, madvise and munmap are bracketed
**    (injected before <= counted <= injected after the stats walk);
**  - mapped (stats) differing from the bytes the shim saw mapped (less is
**    allowed once a munmap failure was injected: the range leaks);
**  - after rcl_purge with madvise faults off and mode != off, free dirty
**    memory beyond what shares an OS page with a live block or an in-span
**    bitmap (free_dirty <= floor - in_use + spans * page);
**  - at the end (faults disarmed, background off): a probe allocation of
**    each size range failing, in_use != 0 or a span, large block or more
**    than RCL_RESERVE_SEGMENTS segments left after freeing everything and
**    purging, or a mapping left after rcl_heap_destroy that no injected
**    munmap failure explains (leaked ranges are then unmapped). Mappings the
**    library makes once per process (the heap registry) are made by a
**    throwaway heap at start-up and not tracked.
** FUZZ_HEAP_TRACE=1 prints the decoded ops to stderr (for reproducers).
*/
#define _GNU_SOURCE
#include "rcl.h"
#include "rcl_test.h"         /* fault injection, rcl_test_check */
#include "rcl_internal.h"     /* layout constants: segment, class and large limits */
#include "fuzz_ops.h"
#include "fuzz_os.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct fz_block {
  unsigned char *p;
  size_t n;            /* requested size: what free/realloc are passed */
  size_t fill;         /* rcl_usable_size(n): bytes carrying the pattern */
  uint64_t tag;
} fz_block;

static fz_block fz_blocks[FZ_MAX_SLOTS];
static size_t fz_nlive, fz_live_bytes;
static uint64_t fz_live_cost;          /* sum of fz_sampled() of the live blocks */

typedef struct fz_state {
  const uint8_t *in;
  size_t len, pos;
  rcl_heap *h;
  rcl_config cfg;
  size_t page;
  uint64_t work, op, failed_allocs, tag, churn_rng;
  unsigned slept_ms;
  uint32_t rate[RCL_FAULT__MAX];        /* armed per-million rates */
  uint64_t inj0[RCL_FAULT__MAX];        /* injected counts at heap creation */
  fuzz_os_counts os0;
} fz_state;

static int fz_trace;

#define FZ_TRACE(...) do { if (fz_trace) fprintf(stderr, __VA_ARGS__); } while (0)

/* -- Input ------------------------------------------------------------------- */

static uint32_t fz_u8(fz_state *s) { return s->pos < s->len ? s->in[s->pos++] : 0; }
static uint32_t fz_u16(fz_state *s) { uint32_t a = fz_u8(s); return a | fz_u8(s) << 8; }
static uint32_t fz_u24(fz_state *s) { uint32_t a = fz_u16(s); return a | fz_u8(s) << 16; }

static uint32_t fz_varint(fz_state *s)
{
  uint32_t v = 0, b;
  int i;
  for (i = 0; i < 4; i++) {
    b = fz_u8(s);
    v |= (b & 0x7f) << (7 * i);
    if (!(b & 0x80)) break;
  }
  if (v == 0) v = 1;
  return v > FZ_MAX_REPEAT ? FZ_MAX_REPEAT : v;
}

/* A large block of exactly a segment's size would look like a segment to
** the mmap accounting (see the header): take one page more. */
static size_t fz_legal_size(fz_state *s, size_t n)
{
  if (n > RCL_LARGE_MIN && ((n + s->page - 1) & ~(s->page - 1)) == RCL_SEGMENT_SIZE) n += s->page;
  return n;
}

static size_t fz_size(fz_state *s)
{
  uint32_t k = fz_u8(s), e = k >> 3;
  size_t n;
  switch (k & 7) {
  case FZ_SIZE_TINY: n = 1 + fz_u8(s); break;
  case FZ_SIZE_SMALL: n = 1 + fz_u16(s) % RCL_SMALL_MAX; break;
  case FZ_SIZE_EDGE: n = rcl_usable_size(1 + fz_u16(s) % RCL_SMALL_MAX) - 1 + e % 3; break;
  case FZ_SIZE_MEDIUM: n = RCL_SMALL_MAX + 1 + fz_u24(s) % (RCL_LARGE_MIN - RCL_SMALL_MAX); break;
  case FZ_SIZE_LARGE: n = RCL_LARGE_MIN + 1 + (size_t)64 * fz_u16(s); break;
  case FZ_SIZE_HUGE: n = RCL_LARGE_MIN + 1 + ((size_t)(e % 32) << 20) + fz_u16(s); break;
  case FZ_SIZE_EXACT: n = fz_u24(s); break;
  default:
    n = fz_special_sizes[fz_u8(s) % FZ_NSPECIAL];
    if (n == FZ_PAGE) n = s->page;
    break;
  }
  return fz_legal_size(s, n);
}

/* -- Blocks ------------------------------------------------------------------- */

static unsigned char fz_pattern(uint64_t tag, size_t off)
{
  uint64_t v = (tag + off) * 0x9e3779b97f4a7c15ull;
  return (unsigned char)(v >> 56);
}

/* Offsets carrying the pattern: every byte up to 256, else the first and
** last 64 bytes and every 64th byte (a purge drops whole OS pages, and a
** block overlapping another overlaps it by more than 64 bytes or at one
** end, so neither hides between samples). */
static size_t fz_next_offset(size_t n, size_t i)
{
  size_t j;
  if (n <= 256 || i < 63 || i + 1 >= n - 64) return i + 1;
  j = (i + 64) & ~(size_t)63;
  return j < n - 64 ? j : n - 64;
}

/* The number of offsets fz_next_offset visits in a block of n bytes, give or take one. */
static uint64_t fz_sampled(size_t n)
{
  return n <= 256 ? n : 128 + n / 64;
}

/* Work of patterning or verifying a block and updating its live pages. */
static uint64_t fz_block_work(const fz_state *s, size_t fill)
{
  return FZ_WORK_CALL + 16 + fz_sampled(fill) + fill / s->page * FZ_WORK_PAGE;
}

/* The work so far, OS calls included. */
static uint64_t fz_work(const fz_state *s)
{
  fuzz_os_counts c;
  fuzz_os_get(&c);
  return s->work + (c.owner_calls - s->os0.owner_calls) * FZ_WORK_SYSCALL +
         (c.owner_pages - s->os0.owner_pages) * FZ_WORK_OS_PAGE;
}

static int fz_spent(const fz_state *s) { return fz_work(s) >= FZ_MAX_WORK; }

static void fz_fill(fz_block *b)
{
  size_t i;
  for (i = 0; i < b->fill; i = fz_next_offset(b->fill, i)) b->p[i] = fz_pattern(b->tag, i);
}

/* Check b's pattern at offsets below min(upto, b->fill), the block being at p. */
static void fz_verify_at(const fz_block *b, const unsigned char *p, size_t upto, const char *when,
                         uint64_t op)
{
  size_t i, n = upto < b->fill ? upto : b->fill;
  for (i = 0; i < n; i = fz_next_offset(b->fill, i))
    if (p[i] != fz_pattern(b->tag, i))
      fuzz_fail("corruption %s at op %" PRIu64 ": block %p (size %zu, moved from %p) offset %zu "
                "holds %02x, expected %02x", when, op, (const void *)p, b->n, (void *)b->p, i, p[i],
                fz_pattern(b->tag, i));
}

static void fz_verify_all(fz_state *s, const char *when)
{
  size_t i;
  s->work += fz_live_cost;
  for (i = 0; i < fz_nlive; i++) fz_verify_at(&fz_blocks[i], fz_blocks[i].p, (size_t)-1, when, s->op);
}

static void fz_check_block(fz_state *s, const void *p, size_t n, size_t fill)
{
  if (((uintptr_t)p & (n >= 16 ? 15 : 7)) != 0 ||
      (uint64_t)(uintptr_t)p + fill > RCL_ADDR_LIMIT_DEFAULT)
    fuzz_fail("bad address %p for a block of %zu bytes at op %" PRIu64, p, n, s->op);
  if (!fuzz_os_inside(p, fill))
    fuzz_fail("block %p of %zu bytes at op %" PRIu64 " is not inside one mapping of the heap",
              p, fill, s->op);
}

/* NULL from an allocation of n bytes: legal only when an mmap failure was
** injected during the call. */
static void fz_alloc_failed(fz_state *s, size_t n, uint64_t injected_before, const char *what)
{
  if (rcl_test_fault_injected(RCL_FAULT_MMAP) == injected_before)
    fuzz_fail("%s of %zu bytes returned NULL at op %" PRIu64 " with no injected mmap failure",
              what, n, s->op);
  s->failed_allocs++;
}

static void fz_alloc(fz_state *s, size_t n, int api)
{
  uint64_t inj = rcl_test_fault_injected(RCL_FAULT_MMAP);
  fz_block *b;
  void *p;
  if (fz_nlive == FZ_MAX_SLOTS || n > FZ_MAX_LIVE - fz_live_bytes) return;
  s->work += FZ_WORK_CALL;
  if (n == 0 || api == 0 || api == 3) p = rcl_malloc(s->h, n);
  else if (api == 1) p = rcl_alloc_f(s->h, NULL, 0, n);
  else p = rcl_realloc(s->h, NULL, 0, n);
  if (!p) { fz_alloc_failed(s, n, inj, "allocation"); return; }
  b = &fz_blocks[fz_nlive];
  b->p = (unsigned char *)p;
  b->n = n;
  b->fill = rcl_usable_size(n);
  b->tag = ++s->tag * 0xd6e8feb86659fd93ull;
  fz_check_block(s, p, n, b->fill);
  fuzz_live_add(p, b->fill);
  fz_fill(b);
  s->work += fz_block_work(s, b->fill);
  fz_nlive++;
  fz_live_bytes += n;
  fz_live_cost += fz_sampled(b->fill);
}

static size_t fz_select(uint32_t sel)
{
  return sel < 128 ? sel % fz_nlive : fz_nlive - 1 - (sel - 128) % fz_nlive;
}

static void fz_remove_slot(size_t i)
{
  fz_live_bytes -= fz_blocks[i].n;
  fz_live_cost -= fz_sampled(fz_blocks[i].fill);
  fz_blocks[i] = fz_blocks[--fz_nlive];
}

static void fz_free(fz_state *s, size_t i, int api)
{
  fz_block *b = &fz_blocks[i];
  void *r = NULL;
  s->work += fz_block_work(s, b->fill);
  fz_verify_at(b, b->p, (size_t)-1, "before free", s->op);
  fuzz_live_remove(b->p, b->fill);
  if (api == 1) r = rcl_alloc_f(s->h, b->p, b->n, 0);
  else if (api == 2) r = rcl_realloc(s->h, b->p, b->n, 0);
  else rcl_free(s->h, b->p, b->n);
  if (r) fuzz_fail("a free through the API variant %d returned %p at op %" PRIu64, api, r, s->op);
  fz_remove_slot(i);
}

static void fz_realloc(fz_state *s, size_t i, size_t nn, int api)
{
  fz_block *b = &fz_blocks[i], old = *b;
  uint64_t inj;
  unsigned char *q;
  if (nn == 0) { fz_free(s, i, api & 1 ? 1 : 2); return; }
  if (nn > b->n && nn - b->n > FZ_MAX_LIVE - fz_live_bytes) return;
  s->work += fz_block_work(s, b->fill) + fz_block_work(s, rcl_usable_size(nn)) + (nn < b->n ? nn : b->n) / 64;
  fz_verify_at(b, b->p, (size_t)-1, "before realloc", s->op);
  fuzz_live_remove(b->p, b->fill);
  inj = rcl_test_fault_injected(RCL_FAULT_MMAP);
  q = (unsigned char *)(api & 1 ? rcl_alloc_f(s->h, b->p, b->n, nn) : rcl_realloc(s->h, b->p, b->n, nn));
  if (!q) {
    if (nn < b->n && b->n <= RCL_LARGE_MIN)
      fuzz_fail("shrinking realloc of a span block %zu -> %zu failed at op %" PRIu64, b->n, nn, s->op);
    fz_alloc_failed(s, nn, inj, "realloc");
    fuzz_live_add(b->p, b->fill);
    fz_verify_at(b, b->p, (size_t)-1, "after a failed realloc", s->op);
    return;
  }
  fz_verify_at(&old, q, nn < old.n ? nn : old.n, "after realloc (common prefix)", s->op);
  b->p = q;
  b->n = nn;
  b->fill = rcl_usable_size(nn);
  b->tag = ++s->tag * 0xd6e8feb86659fd93ull;
  fz_check_block(s, q, nn, b->fill);
  fuzz_live_add(q, b->fill);
  fz_fill(b);
  fz_live_bytes = fz_live_bytes - old.n + nn;
  fz_live_cost = fz_live_cost - fz_sampled(old.fill) + fz_sampled(b->fill);
}

static void fz_free_all(fz_state *s, int oldest_first, int api)
{
  while (fz_nlive) fz_free(s, oldest_first ? 0 : fz_nlive - 1, api);
}

/* -- The stress test's op mix (tests/unit/stress.c) ---------------------------- */

static uint64_t fz_rng(fz_state *s)
{
  uint64_t x = s->churn_rng;
  x ^= x << 13; x ^= x >> 7; x ^= x << 17;
  return s->churn_rng = x;
}

static size_t fz_churn_size(fz_state *s)
{
  uint64_t r = fz_rng(s) % 10000;
  size_t n;
  if (r < 7000) n = (size_t)(fz_rng(s) % 256);
  else if (r < 9300) n = (size_t)(fz_rng(s) % 4096);
  else if (r < 9950) n = (size_t)(fz_rng(s) % 32768) + 1;
  else if (r < 9995) n = (size_t)(fz_rng(s) % (1u << 20)) + 32768;
  else n = (size_t)(fz_rng(s) % (3u << 20)) + (1u << 20);
  if (n > (1u << 20) && fz_live_bytes + n > FZ_MAX_LIVE / 2) n = 100;
  return fz_legal_size(s, n);
}

#define FZ_CHURN_SLOTS 512

static void fz_churn(fz_state *s)
{
  uint64_t k = fz_rng(s) % FZ_CHURN_SLOTS, r = fz_rng(s) % 1000;
  if (k >= fz_nlive) {
    fz_alloc(s, fz_churn_size(s), (int)(r & 1));
  } else if (r < 600) {
    fz_free(s, (size_t)k, (int)(r & 1));
  } else {
    size_t n = fz_blocks[k].n;
    size_t nn = r < 800 ? fz_churn_size(s) : n + (size_t)(fz_rng(s) % 512) - (n >= 256 ? 256 : n);
    fz_realloc(s, (size_t)k, fz_legal_size(s, nn ? nn : 1), (int)(r & 1));
  }
}

/* -- Checks after each op ------------------------------------------------------ */

static const char *const fz_kind_names[RCL_FAULT__MAX] = { "mmap", "madvise", "munmap", "mremap" };

static void fz_check(fz_state *s, const char *what, int after_purge)
{
  char err[256];
  rcl_stats st;
  uint64_t i1[RCL_FAULT__MAX], i2[RCL_FAULT__MAX], counted[RCL_FAULT__MAX], uncounted;
  fuzz_os_counts os1, os2;
  int k;
  s->work += 4096;
  if (rcl_test_check(s->h, err, sizeof(err)) != 0)
    fuzz_fail("invariant broken after %s (op %" PRIu64 "): %s", what, s->op, err);
  for (k = 0; k < RCL_FAULT__MAX; k++) i1[k] = rcl_test_fault_injected(k) - s->inj0[k];
  fuzz_os_get(&os1);
  rcl_stats_get(s->h, &st);
  fuzz_os_get(&os2);
  s->work += 2 * (st.mapped >> 8);     /* the check's and the stats' heap walks */
  for (k = 0; k < RCL_FAULT__MAX; k++) i2[k] = rcl_test_fault_injected(k) - s->inj0[k];
  if (st.mapped != st.metadata + st.in_use + st.free_dirty + st.free_clean ||
      st.resident != st.metadata + st.in_use + st.free_dirty || st.floor > st.resident)
    fuzz_fail("stats identity broken after %s (op %" PRIu64 "): mapped %zu metadata %zu in_use %zu "
              "free_dirty %zu free_clean %zu resident %zu floor %zu", what, s->op, st.mapped,
              st.metadata, st.in_use, st.free_dirty, st.free_clean, st.resident, st.floor);
  if (st.high_mappings_rejected)
    fuzz_fail("a mapping above 2^47 after %s (op %" PRIu64 ")", what, s->op);
  counted[RCL_FAULT_MMAP] = st.mmap_failed;
  counted[RCL_FAULT_MADVISE] = st.madvise_failed;
  counted[RCL_FAULT_MUNMAP] = st.munmap_failed;
  counted[RCL_FAULT_MREMAP] = st.mremap_failed;
  for (k = RCL_FAULT_MADVISE; k < RCL_FAULT__MAX; k++)
    if (counted[k] < i1[k] || counted[k] > i2[k])
      fuzz_fail("%s_failed %" PRIu64 " but %" PRIu64 "..%" PRIu64 " %s failures injected, after %s "
                "(op %" PRIu64 ")", fz_kind_names[k], counted[k], i1[k], i2[k], fz_kind_names[k],
                what, s->op);
  /* Only the owner maps, so os1 == os2 for these counts. */
  uncounted = (os1.seg_misaligned - s->os0.seg_misaligned) - (os1.seg_below_calls - s->os0.seg_below_calls);
  if (counted[RCL_FAULT_MMAP] + uncounted != i1[RCL_FAULT_MMAP] || i1[RCL_FAULT_MMAP] != i2[RCL_FAULT_MMAP])
    fuzz_fail("mmap_failed %" PRIu64 " + %" PRIu64 " uncounted retries below a misaligned segment != "
              "%" PRIu64 " mmap failures injected, after %s (op %" PRIu64 ")", counted[RCL_FAULT_MMAP],
              uncounted, i1[RCL_FAULT_MMAP], what, s->op);
  if (counted[RCL_FAULT_MMAP] < s->failed_allocs)
    fuzz_fail("mmap_failed %" PRIu64 " < %" PRIu64 " allocations that returned NULL (op %" PRIu64 ")",
              counted[RCL_FAULT_MMAP], s->failed_allocs, s->op);
  /* The background thread only unmaps: os2 <= stats <= os1. */
  if (i2[RCL_FAULT_MUNMAP] == 0 ? (st.mapped < os2.mapped_bytes || st.mapped > os1.mapped_bytes)
                                : st.mapped > os1.mapped_bytes)
    fuzz_fail("stats say %zu bytes mapped, the OS shim saw %zu..%zu (munmap failures injected: "
              "%" PRIu64 "), after %s (op %" PRIu64 ")", st.mapped, os2.mapped_bytes,
              os1.mapped_bytes, i2[RCL_FAULT_MUNMAP], what, s->op);
  if (after_purge && s->cfg.mode != RCL_MODE_OFF && s->rate[RCL_FAULT_MADVISE] == 0 &&
      st.free_dirty > st.floor - st.in_use + st.spans * s->page)
    fuzz_fail("after %s (op %" PRIu64 ", mode %d) free_dirty %zu > floor %zu - in_use %zu + %zu spans "
              "* page: a purge left free pages dirty", what, s->op, s->cfg.mode, st.free_dirty,
              st.floor, st.in_use, st.spans);
}

/* -- Ops ---------------------------------------------------------------------- */

static void fz_config(fz_state *s)
{
  uint32_t f = fz_u8(s) % FZ_CFG__N, v = fz_u8(s);
  rcl_config *c = &s->cfg;
  switch (f) {
  case FZ_CFG_DECAY: c->decay_ms = fz_decays[v % 8]; break;
  case FZ_CFG_MODE: c->mode = (int)(v % 3); break;
  case FZ_CFG_SOFT_LIMIT: c->soft_limit = (size_t)v << 18; break;
  case FZ_CFG_STEP_BUDGET: c->step_budget = v ? (size_t)v << 14 : 1; break;
  case FZ_CFG_BG_ON: c->background = 1; c->background_interval_ms = 1 + v % 4; break;
  case FZ_CFG_BG_OFF: c->background = 0; break;
  case FZ_CFG_FULL_GC: c->full_gc_purge = (int)(v & 1); break;
  default: rcl_config_default(c); break;
  }
  FZ_TRACE("  config field %u value %u: decay %u mode %d soft_limit %zu step_budget %zu "
           "background %d/%u full_gc_purge %d\n", f, v, c->decay_ms, c->mode, c->soft_limit,
           c->step_budget, c->background, c->background_interval_ms, c->full_gc_purge);
  rcl_heap_configure(s->h, c);
  {
    rcl_config g;
    rcl_heap_get_config(s->h, &g);
    if (g.decay_ms != c->decay_ms || g.mode != c->mode || g.soft_limit != c->soft_limit ||
        g.background != c->background || g.background_interval_ms != c->background_interval_ms ||
        g.step_budget != c->step_budget || g.full_gc_purge != c->full_gc_purge)
      fuzz_fail("rcl_heap_get_config differs from the config just set (op %" PRIu64 ")", s->op);
  }
}

static void fz_fault(fz_state *s)
{
  uint32_t kind = fz_u8(s) % 5, rate = fz_fault_rates[fz_u8(s) % 8], seed = fz_u8(s);
  int k;
  for (k = 0; k < RCL_FAULT__MAX; k++) {
    if (kind != FZ_FAULT_ALL && (int)kind != k) continue;
    if (rcl_test_fault_rate(k, rate, ((uint64_t)seed << 32) ^ (s->pos * 131u) ^ (uint64_t)k) != 0)
      fuzz_fail("rcl_test_fault_rate failed: built without -DRCL_FAULT_INJECTION?");
    s->rate[k] = rate;
  }
  FZ_TRACE("  fault %s rate %u/10^6 seed %u\n", kind == FZ_FAULT_ALL ? "all" : fz_kind_names[kind],
           rate, seed);
}

static void fz_sleep(fz_state *s, uint32_t ms)
{
  struct timespec ts;
  if (ms > FZ_MAX_SLEEP_MS - s->slept_ms) ms = FZ_MAX_SLEEP_MS - s->slept_ms;
  s->slept_ms += ms;
  s->work += (uint64_t)ms * 200000;
  ts.tv_sec = 0;
  ts.tv_nsec = (long)ms * 1000000L;
  if (ms) nanosleep(&ts, NULL);
}

static const char *const fz_op_names[16] = {
  "alloc", "free", "realloc", "resize", "purge", "cycle", "step", "full_gc", "config", "fault",
  "sleep", "free_all", "churn", "alloc", "free", "realloc"
};

/* Decode and run one op. Returns 0 when the input is used up. */
static int fz_step_op(fz_state *s)
{
  uint32_t c, rep = 1, r, op;
  int api, purged = 0;
  if (s->pos >= s->len || fz_spent(s)) return 0;
  c = fz_u8(s);
  op = c & 15;
  api = (int)((c >> 4) & 3);
  if (c & FZ_REPEAT) rep = fz_varint(s);
  s->op++;
  FZ_TRACE("op %" PRIu64 " @%zu: %s api %d flag %d x%u (live %zu, %zu bytes)\n", s->op, s->pos,
           fz_op_names[op], api, (c & FZ_FLAG) != 0, rep, fz_nlive, fz_live_bytes);
  switch (op) {
  case FZ_OP_ALLOC: case FZ_OP_ALLOC2: {
    size_t n = fz_size(s);
    FZ_TRACE("  size %zu\n", n);
    for (r = 0; r < rep && !fz_spent(s); r++) fz_alloc(s, n, api);
    break;
  }
  case FZ_OP_FREE: case FZ_OP_FREE2: {
    uint32_t sel = fz_u8(s);
    for (r = 0; r < rep && fz_nlive && !fz_spent(s); r++) fz_free(s, fz_select(sel), api);
    break;
  }
  case FZ_OP_REALLOC: case FZ_OP_REALLOC2: {
    uint32_t sel = fz_u8(s);
    size_t n = fz_size(s);
    FZ_TRACE("  sel %u size %zu\n", sel, n);
    for (r = 0; r < rep && fz_nlive && !fz_spent(s); r++) fz_realloc(s, fz_select(sel), n, api);
    break;
  }
  case FZ_OP_RESIZE: {
    uint32_t sel = fz_u8(s);
    int d = (int16_t)fz_u16(s);
    FZ_TRACE("  sel %u delta %d\n", sel, d);
    for (r = 0; r < rep && fz_nlive && !fz_spent(s); r++) {
      size_t i = fz_select(sel), n = fz_blocks[i].n;
      size_t nn = d < 0 && (size_t)-d >= n ? 1 : n + (size_t)(ptrdiff_t)d;
      fz_realloc(s, i, fz_legal_size(s, nn), api);
    }
    break;
  }
  case FZ_OP_PURGE:
    rcl_purge(s->h);
    s->work += FZ_WORK_CALL;
    purged = 1;
    break;
  case FZ_OP_CYCLE: {
    uint32_t steps = fz_u8(s), k;
    rcl_cycle_end(s->h);
    for (k = 0; k < steps; k++) rcl_step(s->h);
    s->work += (uint64_t)(steps + 1) * FZ_WORK_CALL;
    purged = 2;
    break;
  }
  case FZ_OP_STEP:
    for (r = 0; r < rep; r++) rcl_step(s->h);
    s->work += (uint64_t)rep * FZ_WORK_CALL;
    purged = 2;
    break;
  case FZ_OP_FULL_GC:
    rcl_full_gc(s->h);
    purged = s->cfg.full_gc_purge ? 1 : 2;
    break;
  case FZ_OP_CONFIG: fz_config(s); purged = 2; break;
  case FZ_OP_FAULT: fz_fault(s); purged = 2; break;
  case FZ_OP_SLEEP: fz_sleep(s, fz_u8(s) % 4); purged = 2; break;
  case FZ_OP_FREE_ALL: fz_free_all(s, (c & FZ_FLAG) != 0, api); break;
  default: {  /* FZ_OP_CHURN */
    uint32_t seed = fz_u8(s);
    s->churn_rng = ((uint64_t)seed << 32 | (uint64_t)s->pos) * 2654435761u + 1;
    for (r = 0; r < rep && !fz_spent(s); r++) fz_churn(s);
    break;
  }
  }
  if (purged) fz_verify_all(s, "after a purge, GC step, config, fault or sleep op");
  fz_check(s, fz_op_names[op], purged == 1);
  return 1;
}

/* -- One input ------------------------------------------------------------------ */

static void fz_finish(fz_state *s)
{
  static const size_t probes[] = { 1, 16, 100, 4000, 32768, 40000, (size_t)1 << 20, (size_t)2 << 20 };
  rcl_stats st;
  size_t i, leaked_ranges, leaked_bytes;
  uint64_t munmap_injected;
  int k;
  for (k = 0; k < RCL_FAULT__MAX; k++) { rcl_test_fault_rate(k, 0, 0); s->rate[k] = 0; }
  s->cfg.background = 0;
  rcl_heap_configure(s->h, &s->cfg);    /* waits for a background pass in progress */
  s->op++;
  fz_verify_all(s, "at the end");
  fz_check(s, "the last op", 0);
  /* The heap is usable again: each size range allocates. */
  for (i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
    void *p = rcl_malloc(s->h, probes[i]);
    if (!p) fuzz_fail("after the faults were disarmed, rcl_malloc(%zu) failed", probes[i]);
    fz_check_block(s, p, probes[i], rcl_usable_size(probes[i]));
    memset(p, 0xa5, probes[i]);
    rcl_free(s->h, p, probes[i]);
  }
  fz_free_all(s, 0, 0);
  rcl_purge(s->h);
  fz_check(s, "freeing everything and purging", 1);
  rcl_stats_get(s->h, &st);
  if (st.in_use || st.spans || st.large_blocks || st.segments > RCL_RESERVE_SEGMENTS)
    fuzz_fail("after freeing everything and purging: in_use %zu, %zu spans, %zu large blocks, "
              "%zu segments (expected 0, 0, 0, <= %d)", st.in_use, st.spans, st.large_blocks,
              st.segments, RCL_RESERVE_SEGMENTS);
  munmap_injected = rcl_test_fault_injected(RCL_FAULT_MUNMAP) - s->inj0[RCL_FAULT_MUNMAP];
  rcl_heap_destroy(s->h);
  s->h = NULL;
  if (fuzz_live_pages()) fuzz_fail("%zu live pages left after freeing every block", fuzz_live_pages());
  leaked_ranges = fuzz_os_release(&leaked_bytes);
  if (leaked_ranges > munmap_injected)
    fuzz_fail("%zu ranges (%zu bytes) still mapped after rcl_heap_destroy, only %" PRIu64
              " munmap failures injected", leaked_ranges, leaked_bytes, munmap_injected);
  FZ_TRACE("end: %" PRIu64 " ops, work %" PRIu64 ", %" PRIu64 " failed allocations, %zu leaked "
           "ranges\n", s->op, fz_work(s), s->failed_allocs, leaked_ranges);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
  const char *t = getenv("FUZZ_HEAP_TRACE");
  (void)argc; (void)argv;
  rcl_heap *h;
  fz_trace = t && *t && strcmp(t, "0") != 0;
  fuzz_os_init(rcl_page_size(), RCL_SEGMENT_SIZE);
  /* A first heap makes the library's process-wide mappings (the heap
  ** registry); they stay, and are not any input's heap. */
  h = rcl_heap_create(NULL, 0);
  if (!h) fuzz_fail("rcl_heap_create failed");
  rcl_heap_destroy(h);
  fuzz_os_forget();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fz_state s;
  size_t leaked;
  int k;
  memset(&s, 0, sizeof(s));
  s.in = data;
  s.len = size;
  s.page = rcl_page_size();
  rcl_config_default(&s.cfg);
  if (fuzz_os_release(&leaked) != 0) fuzz_fail("mappings left over from a previous input");
  fuzz_os_get(&s.os0);
  s.h = rcl_heap_create(&s.cfg, 1);
  if (!s.h) fuzz_fail("rcl_heap_create failed");
  for (k = 0; k < RCL_FAULT__MAX; k++) s.inj0[k] = rcl_test_fault_injected(k);
  fz_nlive = 0;
  fz_live_bytes = 0;
  fz_live_cost = 0;
  while (fz_step_op(&s)) {}
  fz_finish(&s);
  return 0;
}
