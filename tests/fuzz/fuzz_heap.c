/*
** fuzz_heap.c: libFuzzer target for one heap of the standalone allocator
** (runtime/reclaim, built with -DRCL_FAULT_INJECTION and the OS shim of
** fuzz_os.c). The input encoding is in fuzz_ops.h; its header byte puts
** the heap on anonymous memory or on the memory-file backing
** (docs/mesh.md), whose page aliases the ALIAS op makes and undoes. On
** the file backing the heap runs with mesh=on: purges, full GCs and GC
** steps mesh, and (header bit 2) the MESH op meshes pairs of pages of the
** harness's blocks through rcl_test_mesh_page.
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
**    that call, or a shrinking realloc failing (span or large block, and a
**    large block shrinking to a span size: lua_Alloc's contract);
**  - the failure counters not accounting for the injected failures. With
**    i(k) the failures injected since the heap was created (rcl_test_fault_
**    injected deltas) and the counters of rcl_stats_get and rcl_test_backing:
**      madvise_failed == i(madvise), munmap_failed == i(munmap),
**      fallbacks + alias_failed == i(backing) (only the owner maps segments
**        and aliases; on anonymous memory no backing call is made),
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
**  - mapped (stats) + the backing's and meshing's own tables (rcl_backing_
**    info.table_bytes, the mesher's table h->mesher) differing from the
**    bytes the shim saw mapped (less is allowed once a munmap failure was
**    injected: the range leaks), on either backing;
**  - rcl_test_backing disagreeing with the header (file asked for; a
**    descriptor unless memfd_create was made to fail) or with the harness
**    (its alias count + the meshed pages), file segments > segments,
**    allocated file bytes > file size, a fork copy; meshing, mesh tables
**    or released mesh pages on the anonymous backing;
**  - a mesh that rcl_test_mesh_page reports made while the page does not
**    map its primary's file page or mesh_pages did not grow by one;
**    meshed pages left after freeing everything and purging; a purge of
**    the input thread punching a page another page maps, unless that page
**    is a filler meshed onto it at the end of the op; fewer pages
**    released by meshing than MESH ops that meshed. Meshing changes no
**    address: every check of block contents covers meshed pages (the
**    shim lets one file page be remapped over a live page for that);
**  - an alias page reading other bytes than its target (checked with the
**    patterns), a page not reading zeros after rcl_test_page_unalias, an
**    alias call that breaks rcl_os_page_alias's rules succeeding, or a
**    refused alias or unalias without an injected backing failure. Alias
**    pages and targets lie in live blocks: before such a block is freed or
**    reallocated the harness unaliases the page and writes its pattern back;
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
** FUZZ_HEAP_TRACE=1 prints the backing and the decoded ops to stderr (for
** reproducers).
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

/* An alias made through rcl_test_page_alias: page (a whole OS page of live
** block a_blk) maps the physical page of target (one of live block t_blk).
** Slots are updated when fz_remove_slot moves a block. */
typedef struct fz_alias {
  unsigned char *page, *target;
  size_t a_blk, t_blk;
} fz_alias;

static fz_alias fz_aliases[FZ_MAX_ALIASES];
static size_t fz_naliases;

typedef struct fz_state {
  const uint8_t *in;
  size_t len, pos;
  int file;                             /* header: the memory-file backing asked for */
  int no_memfd;                         /* header: memfd_create made to fail */
  int mesh_ops;                         /* header: op 13 is MESH, CONFIG+flag sets mesh */
  uint64_t op_meshes;                   /* MESH ops that meshed, this input */
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

/* Meshing done by every input so far (printed at exit): by the MESH op,
** refused by it, and by the mesher (purge, full GC, cycle end). */
static uint64_t fz_total_op_meshes, fz_total_op_refused, fz_total_mesher_meshes, fz_total_inputs_meshed;
static uint64_t fz_total_op_remeshes;              /* MESH ops (variant 3) that remeshed a primary */
static uint64_t fz_total_remeshes;                 /* primaries remeshed: the MESH op and the mesher */

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

/* 1 if the OS page holding p is an alias page of live block blk. */
static int fz_in_alias(size_t blk, const unsigned char *p, size_t page)
{
  size_t j;
  const unsigned char *pg = (const unsigned char *)((uintptr_t)p & ~(uintptr_t)(page - 1));
  for (j = 0; j < fz_naliases; j++)
    if (fz_aliases[j].a_blk == blk && fz_aliases[j].page == pg) return 1;
  return 0;
}

/* Write b's pattern at its offsets in [lo, lo + n) only (the block's other
** pages may be aliases, whose writes would reach their targets). */
static void fz_fill_range(fz_block *b, size_t lo, size_t n)
{
  size_t i;
  for (i = 0; i < b->fill && i < lo + n; i = fz_next_offset(b->fill, i))
    if (i >= lo) b->p[i] = fz_pattern(b->tag, i);
}

/* Check b's pattern at offsets below min(upto, b->fill), the block being at
** p. Pages of a live block that are aliases show their target's bytes
** instead (fz_verify_all compares them with the target). */
static void fz_verify_at(const fz_block *b, const unsigned char *p, size_t upto, const char *when,
                         uint64_t op)
{
  size_t i, n = upto < b->fill ? upto : b->fill, page = rcl_page_size();
  size_t blk = (size_t)(b - fz_blocks);
  int aliased = 0;
  if (fz_naliases && b >= fz_blocks && b < fz_blocks + fz_nlive && p == b->p)
    for (i = 0; i < fz_naliases; i++) aliased |= fz_aliases[i].a_blk == blk;
  for (i = 0; i < n; i = fz_next_offset(b->fill, i))
    if (p[i] != fz_pattern(b->tag, i) && !(aliased && fz_in_alias(blk, p + i, page)))
      fuzz_fail("corruption %s at op %" PRIu64 ": block %p (size %zu, moved from %p) offset %zu "
                "holds %02x, expected %02x", when, op, (const void *)p, b->n, (void *)b->p, i, p[i],
                fz_pattern(b->tag, i));
}

static void fz_verify_all(fz_state *s, const char *when)
{
  size_t i;
  s->work += fz_live_cost + fz_naliases * s->page;
  for (i = 0; i < fz_nlive; i++) fz_verify_at(&fz_blocks[i], fz_blocks[i].p, (size_t)-1, when, s->op);
  for (i = 0; i < fz_naliases; i++)
    if (memcmp(fz_aliases[i].page, fz_aliases[i].target, s->page) != 0)
      fuzz_fail("alias page %p differs from its target %p %s at op %" PRIu64,
                (void *)fz_aliases[i].page, (void *)fz_aliases[i].target, when, s->op);
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
  size_t j;
  fz_live_bytes -= fz_blocks[i].n;
  fz_live_cost -= fz_sampled(fz_blocks[i].fill);
  fz_blocks[i] = fz_blocks[--fz_nlive];
  for (j = 0; j < fz_naliases; j++) {   /* none names slot i: unaliased before */
    if (fz_aliases[j].a_blk == fz_nlive) fz_aliases[j].a_blk = i;
    if (fz_aliases[j].t_blk == fz_nlive) fz_aliases[j].t_blk = i;
  }
}

/* -- Aliases (the OS side of meshing, rcl_test_page_alias) ---------------------- */

static void fz_set_fault_rate(fz_state *s, int k, uint32_t rate)
{
  if (rcl_test_fault_rate(k, rate, (s->op << 20) ^ (s->pos * 131u) ^ (uint64_t)k) != 0)
    fuzz_fail("rcl_test_fault_rate failed: built without -DRCL_FAULT_INJECTION?");
  s->rate[k] = rate;
}

/* Unalias fz_aliases[j]: its page maps its own range again and reads zeros;
** the harness then writes the block's pattern back (what a mesher undoing
** a mesh would copy). must: an injected backing failure is retried with
** backing faults off (the caller is about to free a block holding it);
** else a failure leaves the alias (0 is returned). */
static int fz_unalias(fz_state *s, size_t j, int must)
{
  static const unsigned char zeros[RCL_MAX_PAGE];
  fz_alias a = fz_aliases[j];
  uint64_t inj = rcl_test_fault_injected(RCL_FAULT_BACKING);
  int r;
  s->work += FZ_WORK_CALL + 2 * s->page;
  fuzz_os_allow_remap(a.page, s->page);
  r = rcl_test_page_unalias(s->h, a.page);
  if (r != 0 && must) {
    uint32_t rate = s->rate[RCL_FAULT_BACKING];
    if (rcl_test_fault_injected(RCL_FAULT_BACKING) == inj)
      fuzz_fail("rcl_test_page_unalias(%p) failed at op %" PRIu64 " with no injected backing "
                "failure", (void *)a.page, s->op);
    fz_set_fault_rate(s, RCL_FAULT_BACKING, 0);
    inj = rcl_test_fault_injected(RCL_FAULT_BACKING);
    r = rcl_test_page_unalias(s->h, a.page);
    fz_set_fault_rate(s, RCL_FAULT_BACKING, rate);
  }
  fuzz_os_allow_remap(NULL, 0);
  FZ_TRACE("  unalias %p (target %p): %d\n", (void *)a.page, (void *)a.target, r);
  if (r != 0) {
    if (must || rcl_test_fault_injected(RCL_FAULT_BACKING) == inj)
      fuzz_fail("rcl_test_page_unalias(%p) failed at op %" PRIu64 " with no injected backing "
                "failure", (void *)a.page, s->op);
    return 0;
  }
  if (memcmp(a.page, zeros, s->page) != 0)
    fuzz_fail("page %p does not read zeros after rcl_test_page_unalias at op %" PRIu64,
              (void *)a.page, s->op);
  fz_aliases[j] = fz_aliases[--fz_naliases];
  fz_fill_range(&fz_blocks[a.a_blk], (size_t)(a.page - fz_blocks[a.a_blk].p), s->page);
  s->work += fz_sampled(fz_blocks[a.a_blk].fill);
  return 1;
}

/* Before block i is freed or reallocated: no alias page or target in it. */
static void fz_unalias_block(fz_state *s, size_t i)
{
  size_t j = 0;
  while (j < fz_naliases) {
    if (fz_aliases[j].a_blk == i || fz_aliases[j].t_blk == i) fz_unalias(s, j, 1);
    else j++;
  }
}

/* The k-th whole OS page of block i (k mod their number), or NULL. */
static unsigned char *fz_block_page(const fz_state *s, size_t i, uint32_t k)
{
  const fz_block *b = &fz_blocks[i];
  uintptr_t first = ((uintptr_t)b->p + s->page - 1) & ~(uintptr_t)(s->page - 1);
  uintptr_t end = (uintptr_t)b->p + b->fill;
  size_t n = end > first ? (end - first) / s->page : 0;
  return n ? (unsigned char *)(first + (k % n) * s->page) : NULL;
}

static int fz_is_alias(const unsigned char *p)
{
  size_t j;
  for (j = 0; j < fz_naliases; j++) if (fz_aliases[j].page == p) return 1;
  return 0;
}

static int fz_is_target(const unsigned char *p)
{
  size_t j;
  for (j = 0; j < fz_naliases; j++) if (fz_aliases[j].target == p) return 1;
  return 0;
}

/* 1 if the OS page p of a file segment is a mesh primary or secondary
** (rcl_os_page_alias refuses both: an alias, or a page aliases map). */
static int fz_in_mesh(const fz_state *s, unsigned char *p)
{
  rcl_mesh_page_info pi;
  return rcl_mesh_page_info_of(s->h, (char *)p, &pi) == 0 && pi.role != RCL_MESH_ROLE_NONE;
}

/* ALIAS: make a page of block a map the physical page of a page of block b
** when rcl_os_page_alias's rules allow it (both in file segments, distinct,
** neither an alias, the page no target), else expect -1 with nothing
** changed. Variant 3 passes the page misaligned (always refused). */
static void fz_alias_op(fz_state *s, int api, uint32_t sa, uint32_t ka, uint32_t sb, uint32_t kb)
{
  size_t a, b;
  unsigned char *page, *target, *arg;
  uint64_t inj;
  int ok, r;
  if (!fz_nlive) return;
  a = fz_select(sa);
  b = fz_select(sb);
  page = fz_block_page(s, a, ka);
  target = fz_block_page(s, b, kb);
  if (!page || !target) { FZ_TRACE("  no whole page in block %zu or %zu\n", a, b); return; }
  ok = api != 3 && page != target && fuzz_os_page_file(page, NULL, NULL) &&
       fuzz_os_page_file(target, NULL, NULL) && !fz_is_alias(page) && !fz_is_alias(target) &&
       !fz_is_target(page) && !fz_in_mesh(s, page) && !fz_in_mesh(s, target);
  if (ok && fz_naliases == FZ_MAX_ALIASES) return;
  arg = api == 3 ? page + 16 : page;
  s->work += FZ_WORK_CALL + s->page;
  inj = rcl_test_fault_injected(RCL_FAULT_BACKING);
  fuzz_os_allow_remap(page, s->page);
  r = rcl_test_page_alias(s->h, arg, target);
  fuzz_os_allow_remap(NULL, 0);
  FZ_TRACE("  alias %p (block %zu) onto %p (block %zu): expected %s, got %d\n", (void *)arg, a,
           (void *)target, b, ok ? "0" : "-1", r);
  if (!ok) {
    if (r == 0)
      fuzz_fail("rcl_test_page_alias(%p, %p) broke a rule and succeeded at op %" PRIu64,
                (void *)arg, (void *)target, s->op);
    return;
  }
  if (r != 0) {
    if (rcl_test_fault_injected(RCL_FAULT_BACKING) == inj)
      fuzz_fail("rcl_test_page_alias(%p, %p) failed at op %" PRIu64 " with no injected backing "
                "failure", (void *)page, (void *)target, s->op);
    return;                             /* page unchanged: fz_verify_all checks it */
  }
  fz_aliases[fz_naliases].page = page;
  fz_aliases[fz_naliases].target = target;
  fz_aliases[fz_naliases].a_blk = a;
  fz_aliases[fz_naliases].t_blk = b;
  fz_naliases++;
}

/* UNALIAS (ALIAS with the flag): alias sel % n; variant 3: a page of live
** block sel that is no alias, which must be refused. */
static void fz_unalias_op(fz_state *s, int api, uint32_t sel)
{
  unsigned char *page;
  if (api != 3) {
    if (fz_naliases) fz_unalias(s, sel % fz_naliases, 0);
    return;
  }
  if (!fz_nlive || !(page = fz_block_page(s, fz_select(sel), 0)) || fz_is_alias(page)) return;
  s->work += FZ_WORK_CALL;
  if (rcl_test_page_unalias(s->h, page) == 0)
    fuzz_fail("rcl_test_page_unalias(%p) of a page that is no alias succeeded at op %" PRIu64,
              (void *)page, s->op);
}

/* -- Meshing (rcl_test_mesh_page; purges mesh too, with mesh=on) ------------------- */

static unsigned char *fz_page_of(const fz_state *s, const void *p)
{
  return (unsigned char *)((uintptr_t)p & ~(uintptr_t)(s->page - 1));
}

/* MESH: mesh the page holding the start of block sel_b (B) onto the page
** holding the start of the first block of the same usable size on another
** page, from slot sel_a on (A; variant 1 the page after it, 2 the page
** before). A refusal changes nothing (fz_verify_all and rcl_test_check
** follow); a mesh makes B map A's file page. Variant 3, when B is a
** primary, remeshes it with its secondaries onto A (rcl_test_mesh_primary):
** a success keeps every block's contents (fz_verify_all), and a B that
** became a secondary maps A's file page. */
static void fz_mesh_op(fz_state *s, int api, uint32_t sel_b, uint32_t sel_a)
{
  size_t x, y = 0, k, i0;
  unsigned char *b, *a = NULL;
  uint64_t ino_a, off_a, ino_b, off_b;
  rcl_stats st;
  size_t before;
  int r;
  if (!fz_nlive) return;
  x = fz_select(sel_b);
  if (fz_blocks[x].n > RCL_SMALL_MAX) return;
  b = fz_page_of(s, fz_blocks[x].p);
  i0 = fz_select(sel_a);
  for (k = 0; k < FZ_MESH_SCAN && k < fz_nlive && !a; k++) {
    y = (i0 + k) % fz_nlive;
    if (fz_blocks[y].fill == fz_blocks[x].fill && fz_page_of(s, fz_blocks[y].p) != b)
      a = fz_page_of(s, fz_blocks[y].p);
  }
  if (!a) return;
  if (api == 1) a += s->page;
  else if (api == 2) a -= s->page;
  if (a == b || !fuzz_os_page_file(a, NULL, NULL) || !fuzz_os_page_file(b, NULL, NULL)) return;
  rcl_stats_get(s->h, &st);
  before = st.mesh_pages;
  if (api == 3) {
    rcl_mesh_page_info pb;
    if (rcl_mesh_page_info_of(s->h, (char *)b, &pb) == 0 && pb.role == RCL_MESH_ROLE_PRIMARY) {
      s->work += FZ_WORK_CALL + 2 * s->page * (1 + pb.secondaries);
      r = rcl_test_mesh_primary(s->h, b, a);
      FZ_TRACE("  remesh %p (block %zu) onto %p (block %zu): %d\n", (void *)b, x, (void *)a, y, r);
      if (r < 0) {
        fz_total_op_refused++;
        return;
      }
      fz_total_op_remeshes++;
      rcl_stats_get(s->h, &st);
      if (rcl_mesh_page_info_of(s->h, (char *)b, &pb) == 0 && pb.role == RCL_MESH_ROLE_SECONDARY &&
          (!fuzz_os_page_file(b, &ino_b, &off_b) || !fuzz_os_page_file(a, &ino_a, &off_a) ||
           ino_a != ino_b || off_a != off_b || st.mesh_pages != before + 1))
        fuzz_fail("rcl_test_mesh_primary(%p, %p) made B a secondary at op %" PRIu64 " but it does not map "
                  "its primary's file page, or mesh_pages %zu -> %zu", (void *)b, (void *)a, s->op,
                  before, st.mesh_pages);
      return;
    }
  }
  s->work += FZ_WORK_CALL + 2 * s->page;
  r = rcl_test_mesh_page(s->h, b, a);
  FZ_TRACE("  mesh %p (block %zu) onto %p (block %zu, variant %d): %d\n", (void *)b, x, (void *)a, y,
           api, r);
  if (r != 0) {
    if (fz_trace) {
      rcl_mesh_page_info pa, pb;
      int ra = rcl_mesh_page_info_of(s->h, (char *)a, &pa), rb = rcl_mesh_page_info_of(s->h, (char *)b, &pb);
      FZ_TRACE("  refused: B %s class %u phase %u used %u/%u role %d; A %s class %u phase %u used "
               "%u/%u role %d\n", rb ? "cannot mesh" : "", rb ? 0 : pb.cls, rb ? 0 : pb.phase,
               rb ? 0 : pb.nused, rb ? 0 : pb.nslots, rb ? -1 : pb.role, ra ? "cannot mesh" : "",
               ra ? 0 : pa.cls, ra ? 0 : pa.phase, ra ? 0 : pa.nused, ra ? 0 : pa.nslots,
               ra ? -1 : pa.role);
    }
    fz_total_op_refused++;
    return;
  }
  s->op_meshes++;
  fz_total_op_meshes++;
  if (!fuzz_os_page_file(b, &ino_b, &off_b) || !fuzz_os_page_file(a, &ino_a, &off_a) ||
      ino_a != ino_b || off_a != off_b)
    fuzz_fail("rcl_test_mesh_page(%p, %p) succeeded at op %" PRIu64 " but the page does not map "
              "its primary's file page", (void *)b, (void *)a, s->op);
  rcl_stats_get(s->h, &st);
  if (st.mesh_pages != before + 1)
    fuzz_fail("rcl_test_mesh_page succeeded at op %" PRIu64 ": mesh_pages %zu -> %zu", s->op,
              before, st.mesh_pages);
}

static void fz_free(fz_state *s, size_t i, int api)
{
  fz_block *b = &fz_blocks[i];
  void *r = NULL;
  fz_unalias_block(s, i);
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
  fz_unalias_block(s, i);
  old = *b;
  s->work += fz_block_work(s, b->fill) + fz_block_work(s, rcl_usable_size(nn)) + (nn < b->n ? nn : b->n) / 64;
  fz_verify_at(b, b->p, (size_t)-1, "before realloc", s->op);
  fuzz_live_remove(b->p, b->fill);
  inj = rcl_test_fault_injected(RCL_FAULT_MMAP);
  q = (unsigned char *)(api & 1 ? rcl_alloc_f(s->h, b->p, b->n, nn) : rcl_realloc(s->h, b->p, b->n, nn));
  if (!q) {
    if (nn < b->n)
      fuzz_fail("shrinking realloc %zu -> %zu failed at op %" PRIu64, b->n, nn, s->op);
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

/* THIN: free every live block but about 1 in 2 << (seed & 3), chosen by a
** hash of its tag (survivors scattered over their pages). Newest slot
** first: a free moves the newest block, already kept, into the hole. */
static void fz_thin(fz_state *s, uint32_t seed, int api)
{
  unsigned shift = 1 + (seed & 3);
  size_t i = fz_nlive;
  while (i-- > 0 && !fz_spent(s)) {
    uint64_t v = (fz_blocks[i].tag ^ ((uint64_t)seed << 40)) * 0x9e3779b97f4a7c15ull;
    if ((v >> (64 - shift)) != 0) fz_free(s, i, api);
  }
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

/* A purge may punch a page that another page maps only when that page is
** a filler meshed onto it (an empty secondary: rcl_mesh_core.c). The shim
** asks at the moment of the punch (fz_punch_ok, on the thread running the
** inputs, inside the heap, which holds its lock): a reconciliation in
** several slices may drop that filler later in the same op. Anything else
** means a page was punched while a secondary with blocks mapped it: an
** unmesh that unaliases B after freeing its slots in A shows here. */
static rcl_heap *fz_punch_heap;     /* the input's heap, while it lives */

static int fz_punch_ok(uintptr_t page, uintptr_t mapper)
{
  rcl_mesh_page_info pi;
  return fz_punch_heap && rcl_mesh_page_info_of(fz_punch_heap, (char *)mapper, &pi) == 0 &&
         pi.role == RCL_MESH_ROLE_SECONDARY && pi.primary == page && pi.live == 0;
}

static void fz_check_shared_punches(fz_state *s, const char *what)
{
  uintptr_t page[1], mapper[1];
  size_t lost;
  if (fuzz_os_shared_punches(page, mapper, 1, &lost))
    fuzz_fail("a purge punched page %#lx while page %#lx mapped it, and that page was no filler "
              "meshed onto it then (%s, op %" PRIu64 ")", (unsigned long)page[0],
              (unsigned long)mapper[0], what, s->op);
}

typedef char fz_fault_kinds_match[FZ_FAULT_KINDS == RCL_FAULT__MAX ? 1 : -1];
static const char *const fz_kind_names[RCL_FAULT__MAX] = {
  "mmap", "madvise", "munmap", "mremap", "backing"
};

static void fz_check(fz_state *s, const char *what, int after_purge)
{
  char err[256];
  rcl_stats st;
  rcl_backing_info bi;
  uint64_t i1[RCL_FAULT__MAX], i2[RCL_FAULT__MAX], counted[RCL_FAULT__MAX], uncounted;
  fuzz_os_counts os1, os2;
  size_t tables;
  int k;
  s->work += 4096;
  if (rcl_test_check(s->h, err, sizeof(err)) != 0)
    fuzz_fail("invariant broken after %s (op %" PRIu64 "): %s", what, s->op, err);
  fz_check_shared_punches(s, what);
  for (k = 0; k < RCL_FAULT__MAX; k++) i1[k] = rcl_test_fault_injected(k) - s->inj0[k];
  fuzz_os_get(&os1);
  rcl_stats_get(s->h, &st);
  if (rcl_test_backing(s->h, &bi) != 0)
    fuzz_fail("rcl_test_backing: fstat of the heap's memory file failed after %s (op %" PRIu64 ")",
              what, s->op);
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
  /* Only the owner maps segments and aliases: every injected backing
  ** failure is a fallback to anonymous memory or a refused (un)alias. */
  counted[RCL_FAULT_BACKING] = bi.fallbacks + bi.alias_failed;
  if (bi.file != s->file || (s->file && (bi.fd < 0) != s->no_memfd) ||
      (!s->file && (st.mesh_pages || st.mesh_released || bi.table_bytes)) ||
      bi.aliases != fz_naliases + st.mesh_pages || bi.file_segments > st.segments ||
      bi.file_size % RCL_SEGMENT_SIZE || bi.file_allocated > bi.file_size || bi.fork_copies)
    fuzz_fail("backing after %s (op %" PRIu64 "): file %d (asked %d) fd %d (memfd made to fail %d), "
              "%zu aliases (harness %zu + %zu meshed pages), %zu file segments of %zu, file size "
              "%" PRIu64 " allocated %" PRIu64 ", %" PRIu64 " fork copies, %zu table bytes, "
              "%" PRIu64 " pages released by meshing", what, s->op, bi.file, s->file, bi.fd,
              s->no_memfd, bi.aliases, fz_naliases, st.mesh_pages, bi.file_segments, st.segments,
              bi.file_size, bi.file_allocated, bi.fork_copies, bi.table_bytes, st.mesh_released);
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
  /* The background thread only unmaps: os2 <= stats + tables <= os1. The
  ** plain mappings of the backing and of meshing (the backing struct, its
  ** segment, free-range and alias tables, the mesh table: table_bytes; the
  ** mesher's open-span table, h->mesher) are not in `mapped`; the heap
  ** struct and the large-block table are. So on either backing, with no
  ** injected munmap failure, `mapped` + those tables is exactly what the
  ** shim saw mapped: a table not unmapped on growth or destroy shows here. */
  tables = bi.table_bytes + fuzz_os_plain_bytes_at(s->h->mesher);
  if (s->h->mesher && fuzz_os_plain_bytes_at(s->h->mesher) == 0)
    fuzz_fail("the mesher's table %p is not a plain mapping of its own, after %s (op %" PRIu64 ")",
              (void *)s->h->mesher, what, s->op);
  if (i2[RCL_FAULT_MUNMAP] == 0 ? (st.mapped + tables < os2.mapped_bytes || st.mapped + tables > os1.mapped_bytes)
                                : st.mapped + tables > os1.mapped_bytes)
    fuzz_fail("stats say %zu bytes mapped + %zu bytes of backing and mesh tables, the OS shim saw "
              "%zu..%zu (%zu in %zu plain mappings; munmap failures injected: %" PRIu64 "), after "
              "%s (op %" PRIu64 ")", st.mapped, tables, os2.mapped_bytes, os1.mapped_bytes,
              os2.plain_bytes, os2.plain_ranges, i2[RCL_FAULT_MUNMAP], what, s->op);
  if (after_purge && s->cfg.mode != RCL_MODE_OFF && s->rate[RCL_FAULT_MADVISE] == 0 &&
      st.free_dirty > st.floor - st.in_use + st.spans * s->page)
    fuzz_fail("after %s (op %" PRIu64 ", mode %d) free_dirty %zu > floor %zu - in_use %zu + %zu spans "
              "* page: a purge left free pages dirty", what, s->op, s->cfg.mode, st.free_dirty,
              st.floor, st.in_use, st.spans);
}

/* -- Ops ---------------------------------------------------------------------- */

static void fz_config(fz_state *s, int flag)
{
  uint32_t f = fz_u8(s) % FZ_CFG__N, v = fz_u8(s);
  rcl_config *c = &s->cfg;
  if (flag && s->mesh_ops) c->mesh = (int)(v & 1);
  else switch (f) {
  case FZ_CFG_DECAY: c->decay_ms = fz_decays[v % 8]; break;
  case FZ_CFG_MODE: c->mode = (int)(v % 3); break;
  case FZ_CFG_SOFT_LIMIT: c->soft_limit = (size_t)v << 18; break;
  case FZ_CFG_STEP_BUDGET: c->step_budget = v ? (size_t)v << 14 : 1; break;
  case FZ_CFG_BG_ON: c->background = 1; c->background_interval_ms = 1 + v % 4; break;
  case FZ_CFG_BG_OFF: c->background = 0; break;
  case FZ_CFG_FULL_GC: c->full_gc_purge = (int)(v & 1); break;
  default: rcl_config_default(c); break;
  }
  FZ_TRACE("  config field %u value %u flag %d: decay %u mode %d soft_limit %zu step_budget %zu "
           "background %d/%u full_gc_purge %d mesh %d\n", f, v, flag, c->decay_ms, c->mode,
           c->soft_limit, c->step_budget, c->background, c->background_interval_ms,
           c->full_gc_purge, c->mesh);
  rcl_heap_configure(s->h, c);
  {
    rcl_config g;
    rcl_heap_get_config(s->h, &g);
    if (g.decay_ms != c->decay_ms || g.mode != c->mode || g.soft_limit != c->soft_limit ||
        g.background != c->background || g.background_interval_ms != c->background_interval_ms ||
        g.step_budget != c->step_budget || g.full_gc_purge != c->full_gc_purge ||
        g.mesh != c->mesh)
      fuzz_fail("rcl_heap_get_config differs from the config just set (op %" PRIu64 ")", s->op);
  }
}

static void fz_fault(fz_state *s)
{
  uint32_t kind = fz_u8(s) % (FZ_FAULT_ALL + 1), rate = fz_fault_rates[fz_u8(s) % 8], seed = fz_u8(s);
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
  "sleep", "free_all", "churn", "alloc", "free", "alias"
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
           op == FZ_OP_MESH && s->mesh_ops ? "mesh" : op == FZ_OP_THIN && s->mesh_ops ? "thin" :
           fz_op_names[op], api, (c & FZ_FLAG) != 0, rep, fz_nlive, fz_live_bytes);
  switch (op) {
  case FZ_OP_ALLOC2:
    if (s->mesh_ops) {                  /* FZ_OP_MESH */
      uint32_t sb = fz_u8(s), sa = fz_u8(s);
      FZ_TRACE("  sel %u sel %u\n", sb, sa);
      for (r = 0; r < rep && !fz_spent(s); r++) fz_mesh_op(s, api, sb + r, sa);
      purged = 2;
      break;
    }
    /* fall through */
  case FZ_OP_ALLOC: {
    size_t n = fz_size(s);
    FZ_TRACE("  size %zu\n", n);
    for (r = 0; r < rep && !fz_spent(s); r++) fz_alloc(s, n, api);
    break;
  }
  case FZ_OP_FREE2:
    if (s->mesh_ops) {                  /* FZ_OP_THIN */
      uint32_t seed = fz_u8(s);
      FZ_TRACE("  seed %u: keep 1 in %u\n", seed, 2u << (seed & 3));
      fz_thin(s, seed, api);
      break;
    }
    /* fall through */
  case FZ_OP_FREE: {
    uint32_t sel = fz_u8(s);
    for (r = 0; r < rep && fz_nlive && !fz_spent(s); r++) fz_free(s, fz_select(sel), api);
    break;
  }
  case FZ_OP_REALLOC: {
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
  case FZ_OP_CONFIG: fz_config(s, (c & FZ_FLAG) != 0); purged = 2; break;
  case FZ_OP_FAULT: fz_fault(s); purged = 2; break;
  case FZ_OP_SLEEP: fz_sleep(s, fz_u8(s) % 4); purged = 2; break;
  case FZ_OP_FREE_ALL: fz_free_all(s, (c & FZ_FLAG) != 0, api); break;
  case FZ_OP_ALIAS: {
    uint32_t sa = fz_u8(s), ka = 0, sb = 0, kb = 0;
    if (!(c & FZ_FLAG)) { ka = fz_u8(s); sb = fz_u8(s); kb = fz_u8(s); }
    /* Repeated: the next page of each block, the next alias. */
    for (r = 0; r < rep && !fz_spent(s); r++) {
      if (c & FZ_FLAG) fz_unalias_op(s, api, sa + r);
      else fz_alias_op(s, api, sa, ka + r, sb, kb + r);
    }
    purged = 2;
    break;
  }
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
  fuzz_os_counts os;
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
  if (fz_naliases) fuzz_fail("%zu aliases left after freeing every block", fz_naliases);
  rcl_purge(s->h);
  fz_check(s, "freeing everything and purging", 1);
  rcl_stats_get(s->h, &st);
  if (st.in_use || st.spans || st.large_blocks || st.segments > RCL_RESERVE_SEGMENTS)
    fuzz_fail("after freeing everything and purging: in_use %zu, %zu spans, %zu large blocks, "
              "%zu segments (expected 0, 0, 0, <= %d)", st.in_use, st.spans, st.large_blocks,
              st.segments, RCL_RESERVE_SEGMENTS);
  munmap_injected = rcl_test_fault_injected(RCL_FAULT_MUNMAP) - s->inj0[RCL_FAULT_MUNMAP];
  /* Every mesh that was no filler released B's page (mesh_released). */
  if (st.mesh_released < s->op_meshes)
    fuzz_fail("mesh_released %" PRIu64 " < %" PRIu64 " meshes made by the MESH op",
              st.mesh_released, s->op_meshes);
  fz_total_mesher_meshes += st.mesh_released - s->op_meshes;
  fz_total_inputs_meshed += st.mesh_released != 0;
  fz_total_remeshes += rcl_test_mesh_remeshed(s->h);
  if (st.mesh_pages) fuzz_fail("%zu meshed pages left after freeing everything and purging", st.mesh_pages);
  fz_punch_heap = NULL;
  rcl_heap_destroy(s->h);
  s->h = NULL;
  if (fuzz_live_pages()) fuzz_fail("%zu live pages left after freeing every block", fuzz_live_pages());
  leaked_ranges = fuzz_os_release(&leaked_bytes);
  if (leaked_ranges > munmap_injected)
    fuzz_fail("%zu ranges (%zu bytes) still mapped after rcl_heap_destroy, only %" PRIu64
              " munmap failures injected", leaked_ranges, leaked_bytes, munmap_injected);
  fuzz_os_get(&os);
  FZ_TRACE("end: %" PRIu64 " ops, work %" PRIu64 ", %" PRIu64 " failed allocations, %zu leaked "
           "ranges; %s backing: %" PRIu64 " punches, %" PRIu64 " MADV_REMOVE, %" PRIu64
           " purges checked gone\n", s->op, fz_work(s), s->failed_allocs, leaked_ranges,
           s->file ? "file" : "anon", os.punches - s->os0.punches, os.removes - s->os0.removes,
           os.resident_checks - s->os0.resident_checks);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* At exit: the meshing the run did (check-fuzz prints lines starting "fuzz_"). */
static void fz_print_totals(void)
{
  fuzz_os_counts c;
  fuzz_os_get(&c);
  fprintf(stderr, "fuzz_heap: meshing: %" PRIu64 " pages meshed by the MESH op, %" PRIu64
          " released by the mesher (%" PRIu64 " MESH ops refused, %" PRIu64 " inputs meshed, %"
          PRIu64 " remaps over live pages, %" PRIu64 " primaries remeshed, %" PRIu64 " of them by the MESH op)\n",
          fz_total_op_meshes, fz_total_mesher_meshes, fz_total_op_refused, fz_total_inputs_meshed,
          c.mesh_remaps, fz_total_remeshes, fz_total_op_remeshes);
}

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
  fuzz_os_punch_check(fz_punch_ok);
  atexit(fz_print_totals);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  fz_state s;
  size_t leaked;
  uint32_t hdr;
  int k;
  memset(&s, 0, sizeof(s));
  s.in = data;
  s.len = size;
  s.page = rcl_page_size();
  rcl_config_default(&s.cfg);
  hdr = fz_u8(&s);
  s.file = (hdr & FZ_HDR_FILE) != 0;
  s.no_memfd = s.file && (hdr & FZ_HDR_NO_MEMFD) != 0;
  s.mesh_ops = s.file && (hdr & FZ_HDR_MESH) != 0;
  s.cfg.mesh = s.file;
  FZ_TRACE("header %#x: %s backing%s, mesh=%s%s\n", hdr, s.file ? "file" : "anon",
           s.no_memfd ? " (memfd_create fails: anonymous)" : "", s.file ? "on" : "off",
           s.mesh_ops ? ", MESH ops" : "");
  if (fuzz_os_release(&leaked) != 0) fuzz_fail("mappings left over from a previous input");
  fuzz_os_allow_mesh(s.file);
  fuzz_os_get(&s.os0);
  for (k = 0; k < RCL_FAULT__MAX; k++) s.inj0[k] = rcl_test_fault_injected(k);
  rcl_test_set_backing(s.file ? RCL_BACKING_FILE : RCL_BACKING_ANON);
  if (s.no_memfd) rcl_test_fault(RCL_FAULT_BACKING, 1, 1);
  s.h = rcl_heap_create(&s.cfg, 1);
  rcl_test_fault(RCL_FAULT_BACKING, 0, 0);
  rcl_test_set_backing(RCL_BACKING_ENV);
  if (!s.h) fuzz_fail("rcl_heap_create failed");
  fz_punch_heap = s.h;
  fz_nlive = 0;
  fz_naliases = 0;
  fz_live_bytes = 0;
  fz_live_cost = 0;
  while (fz_step_op(&s)) {}
  fz_finish(&s);
  return 0;
}
