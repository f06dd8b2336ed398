/*
** rcl_api.c: the public API: heap lifecycle, alloc/free/realloc dispatch
** by size range, and the GC hooks (cycle end, step, full GC, purge).
**
** Owns: the order in which the layers below are asked. A layer below never
** calls a policy: when it stops before mapping memory that the soft limit
** wants room for (h->room_request) or after a mapping failed
** (h->map_failed), it returns NULL and this layer asks the reclaim policy
** (rcl_make_room, rcl_release_free_segments) and calls again, at most
** twice. Only the owner thread calls in here (rcl.h); the heap lock is
** taken where the layers below need it, never across a call into the
** background layer (which takes the global lock first).
**
** Layer: the top. Calls every layer below: background thread (rcl_bg.c),
** observation (rcl_stats.c, rcl_registry.c), reclaim policy
** (rcl_purge.c), heap core (rcl_span.c), large blocks (rcl_large.c), size
** classes and OS.
*/
#include "rcl_internal.h"

#include <string.h>

/* -- Asking the policy ------------------------------------------------------------------ */

/* A layer below returned NULL: run the policy it asked for. Returns 1 if
** the call may succeed when made again. */
static RCL_NOINLINE int rcl_policy_retry(rcl_heap *h)
{
  size_t room = h->room_request;
  int failed = h->map_failed, retry = 0;
  h->room_request = 0;
  h->map_failed = 0;
  if (!room && !failed) return 0;
  rcl_lock(h);
  if (room) {
    rcl_make_room(h, room);
    retry = 1;
  } else {
    retry = rcl_release_free_segments(h) != 0;
  }
  rcl_unlock(h);
  return retry;
}

/* -- Blocks ------------------------------------------------------------------------------- */

RCL_API size_t rcl_usable_size(size_t n)
{
  if (rcl_is_wide(n, rcl_wide_min(rcl_os_purge_granule())))
    return rcl_align_up(n, (size_t)1 << rcl_run_cell_log2(RCL_RUN_WIDE));
  if (n <= RCL_SMALL_MAX) return rcl_class_size(rcl_class_of(n));
  if (n <= RCL_LARGE_MIN) return rcl_align_up(n, 16);
  return rcl_align_up(n, rcl_os_page_size());
}

static void *rcl_alloc_any(rcl_heap *h, size_t n)
{
  if (rcl_is_wide(n, h->wide_min)) {
    void *p = rcl_alloc_run(h, RCL_RUN_WIDE, n);
    if (p) RCL_VG_MALLOC(p, n, 0);
    return p;
  }
  if (n <= RCL_SMALL_MAX) {
    void *p = rcl_alloc_small(h, rcl_class_of(n), RCL_LANE_DATA);
    if (p) RCL_VG_MALLOC(p, n, 0);
    return p;
  }
  if (n <= RCL_LARGE_MIN) return rcl_alloc_medium(h, n);
  return rcl_alloc_large(h, n);
}

/* Everything but the size-class fast path is kept out of line, so the hot
** functions stay small (no big prologue on the common path). `tried`: the
** size-class fast path already failed once for n. */
static RCL_NOINLINE void *rcl_malloc_slow(rcl_heap *h, size_t n, int tried)
{
  void *p = tried ? NULL : rcl_alloc_any(h, n);
  int tries;
  for (tries = 0; !p && tries < 2 && rcl_policy_retry(h); tries++) p = rcl_alloc_any(h, n);
  rcl_registry_follow(h);
  return p;
}

static RCL_NOINLINE void rcl_free_big(rcl_heap *h, void *p, size_t n)
{
  RCL_VG_FREE(p);
  rcl_free_large(h, p, n);
}

static void *rcl_realloc_large_retry(rcl_heap *h, void *p, size_t oldn, size_t newn)
{
  void *q = rcl_realloc_large(h, p, oldn, newn);
  int tries;
  for (tries = 0; !q && tries < 2 && rcl_policy_retry(h); tries++)
    q = rcl_realloc_large(h, p, oldn, newn);
  rcl_registry_follow(h);
  return q;
}

/* Resize a shrunk large block (glossary): it stays where it is when it
** shrinks again, and moves to a block of its new size otherwise. */
static RCL_NOINLINE void *rcl_realloc_shrunk(rcl_heap *h, void *p, size_t oldn, size_t newn)
{
  void *q;
  if (newn <= oldn) {
    RCL_VG_RESIZE(p, oldn, newn);
    return p;
  }
  q = rcl_malloc(h, newn);
  if (!q) return NULL;
  memcpy(q, p, oldn);
  rcl_large_free_shrunk(h, p);
  return q;
}

/* Resize a block of a mixed or wide run in span s: it keeps its first
** cells when it shrinks (the rest are freed); a wide block growing to a
** wide size takes the cells after it when they are free in its class's
** current span (rcl_run_grow), else it moves, as every growth of a mixed
** block does. */
static RCL_NOINLINE void *rcl_realloc_run(rcl_heap *h, rcl_span *s, void *p, size_t oldn, size_t newn)
{
  unsigned sh = rcl_run_cell_log2((unsigned)rcl_run_of_class(s->cls));
  size_t cell = (size_t)1 << sh, ko = (oldn + cell - 1) >> sh, kn = (newn + cell - 1) >> sh;
  void *q;
  if (kn <= ko) {
    if (kn < ko) rcl_free_cells(h, s, (char *)p + (kn << sh), ko - kn);
    RCL_VG_RESIZE(p, oldn, newn);
    return p;
  }
  /* A wide block staying wide grows in place where its cells allow. */
  if ((unsigned)rcl_run_of_class(s->cls) == RCL_RUN_WIDE && rcl_is_wide(newn, h->wide_min) &&
      rcl_run_grow(h, RCL_RUN_WIDE, s, (char *)p, (uint32_t)ko, (uint32_t)kn)) {
    RCL_VG_RESIZE(p, oldn, newn);
    return p;
  }
  q = rcl_malloc(h, newn);
  if (!q) return NULL;
  memcpy(q, p, oldn);
  rcl_free(h, p, oldn);
  return q;
}

static RCL_NOINLINE void *rcl_realloc_block(rcl_heap *h, void *p, size_t oldn, size_t newn)
{
  void *q;
  rcl_span *s;
  if (oldn <= RCL_LARGE_MIN && rcl_is_shrunk(h, p))
    return rcl_realloc_shrunk(h, p, oldn, newn);
  if (oldn > 16 && oldn <= RCL_WIDE_MAX && (s = rcl_run_span_of(p, oldn)) != NULL)
    return rcl_realloc_run(h, s, p, oldn, newn);
  if (oldn <= RCL_SMALL_MAX && newn <= RCL_SMALL_MAX) {
    if (rcl_class_of(oldn) == rcl_class_of(newn)) {
      RCL_VG_RESIZE(p, oldn, newn);
      return p;
    }
  } else if (oldn > RCL_SMALL_MAX && oldn <= RCL_LARGE_MIN &&
             newn > RCL_SMALL_MAX && newn <= RCL_LARGE_MIN) {
    if ((q = rcl_realloc_medium(h, p, oldn, newn)) != NULL) return q;
  } else if (oldn > RCL_LARGE_MIN && newn > RCL_LARGE_MIN) {
    return rcl_realloc_large_retry(h, p, oldn, newn);
  }
  q = rcl_malloc(h, newn);
  if (!q) {
    /* Shrinking must not fail: a span block stays where it is (frees accept
    ** any size up to the block size), and so does a large block, as a
    ** shrunk large block (glossary) that frees recognize. */
    if (newn < oldn) {
      if (oldn > RCL_LARGE_MIN) return rcl_large_keep_shrunk(h, p, oldn, newn);
      RCL_VG_RESIZE(p, oldn, newn);
      return p;
    }
    return NULL;
  }
  memcpy(q, p, oldn < newn ? oldn : newn);
  rcl_free(h, p, oldn);
  return q;
}

/* A block of the wide run (rcl_internal.h, "wide run"): the classes of its
** sizes have no span, so the fast path below always misses them. */
static RCL_NOINLINE void *rcl_malloc_wide(rcl_heap *h, size_t n)
{
  rcl_run *run = &h->run[RCL_RUN_WIDE];
  size_t b = rcl_align_up(n, (size_t)1 << rcl_run_cell_log2(RCL_RUN_WIDE));
  char *p = run->cur;
  if (RCL_LIKELY((size_t)(run->end - p) >= b)) {
    run->cur = p + b;
  } else {
    p = (char *)rcl_alloc_run(h, RCL_RUN_WIDE, n);
    if (RCL_UNLIKELY(p == NULL)) return rcl_malloc_slow(h, n, 1);
  }
  RCL_VG_MALLOC(p, n, 0);
  return p;
}

/* A request the fast path below does not serve: a size-class block whose
** lane's chunk is empty or may lie on a clean page, or a larger block.
** Tail-called, so the fast path needs no stack frame. */
static RCL_NOINLINE void *rcl_malloc_miss(rcl_heap *h, size_t n, int object)
{
  if (rcl_is_wide(n, h->wide_min)) return rcl_malloc_wide(h, n);
  if (n <= RCL_SMALL_MAX) {
    unsigned cls = rcl_class_of(n);
    void *p;
    rcl_cache *c = &h->cache[cls];
    if (RCL_UNLIKELY(c->coarse_left != 0)) {
      /* Coarse start (rcl_internal.h): the class has no span yet. */
      c->coarse_left--;
      cls = c->coarse_cls;
    }
    p = rcl_alloc_small(h, cls, object ? h->cache[cls].object_lane : RCL_LANE_DATA);
    if (RCL_LIKELY(p != NULL)) {
      RCL_VG_MALLOC(p, n, 0);
      return p;
    }
    return rcl_malloc_slow(h, n, 1);
  }
  return rcl_malloc_slow(h, n, 0);
}

/* The allocation fast path: the next block of the lane's cached chunk when
** none of the chunk's blocks lies on a clean page (rcl_alloc_small's common
** case, without its calls). */
static inline __attribute__((always_inline)) void *rcl_malloc_fast(rcl_heap *h, size_t n, int object)
{
  if (RCL_LIKELY(n <= RCL_SMALL_MAX)) {
    rcl_cache *c = &h->cache[rcl_class_of(n)];
    unsigned lane = object ? c->object_lane : RCL_LANE_DATA;
    rcl_held *hd = &c->held[lane];
    uint64_t w = hd->word;
    if (RCL_LIKELY(w != 0 && !hd->clean)) {
      char *p = hd->base + (size_t)rcl_ctz64(w) * c->size;
      hd->word = w & (w - 1);
      /* The caller writes its block first (a GC header, then a zero fill
      ** or copy to its end), and the block after it is most often the
      ** lane's next one; with several classes allocated in turn no
      ** hardware prefetcher follows each class's run, so ask for that
      ** block's first three lines and its last one now. Hints: a prefetch
      ** never faults, even past the span's end. */
      __builtin_prefetch(p + c->size, 1, 3);
      __builtin_prefetch(p + c->size + 64, 1, 3);
      __builtin_prefetch(p + c->size + 128, 1, 3);
      __builtin_prefetch(p + 2 * c->size - 1, 1, 3);
      RCL_VG_MALLOC(p, n, 0);
      return p;
    }
    return rcl_malloc_miss(h, n, object);
  }
  return rcl_malloc_slow(h, n, 0);
}

RCL_API void *rcl_malloc(rcl_heap *h, size_t n)
{
  return rcl_malloc_fast(h, n, 0);
}

/* The mixed run cannot serve an object of n bytes (RCL_MIX_MIN..MAX). */
static RCL_NOINLINE void *rcl_malloc_mixed_miss(rcl_heap *h, size_t n)
{
  void *p = rcl_alloc_run(h, RCL_RUN_MIXED, n);
  if (RCL_LIKELY(p != NULL)) {
    RCL_VG_MALLOC(p, n, 0);
    return p;
  }
  return rcl_malloc_slow(h, n, 0);
}

/* The object lane (rcl_internal.h, "lane"); a retry after the policy ran
** takes the data lane, which is as good a place for the block. */
RCL_API void *rcl_malloc_object(rcl_heap *h, size_t n)
{
  return rcl_malloc_fast(h, n, 1);
}

/* The mixed run (rcl_internal.h, "mixed run") for RCL_MIX_MIN..RCL_MIX_MAX
** bytes, the wide run above that up to RCL_WIDE_MAX where there is one
** (glossary "wide run": blocks written whole from RCL_MIX_MAX on); other sizes take the
** object lane. */
RCL_API void *rcl_malloc_mixed(rcl_heap *h, size_t n)
{
  if (n - RCL_MIX_MIN <= (size_t)(RCL_MIX_MAX - RCL_MIX_MIN)) {
    size_t b = rcl_align_up(n, 16);
    rcl_run *run = &h->run[RCL_RUN_MIXED];
    char *p = run->cur;
    if (RCL_LIKELY((size_t)(run->end - p) >= b)) {
      run->cur = p + b;
      /* The caller writes the block to its end (a zero fill or a copy) and
      ** the next one follows it: load the next two lines now. */
      __builtin_prefetch(p + b, 1, 3);
      __builtin_prefetch(p + b + 64, 1, 3);
      RCL_VG_MALLOC(p, n, 0);
      return p;
    }
    return rcl_malloc_mixed_miss(h, n);
  }
  if (rcl_is_wide_written(n, h->wide_min)) return rcl_malloc_wide(h, n);
  return rcl_malloc_fast(h, n, 1);
}

/* rcl_malloc, with the wide run from RCL_MIX_MAX on (glossary "wide run"). */
RCL_API void *rcl_malloc_array(rcl_heap *h, size_t n)
{
  if (rcl_is_wide_written(n, h->wide_min)) return rcl_malloc_wide(h, n);
  return rcl_malloc_fast(h, n, 0);
}

RCL_API void rcl_free(rcl_heap *h, void *p, size_t n)
{
  if (RCL_LIKELY(n <= RCL_LARGE_MIN)) {
    if (RCL_UNLIKELY(!p)) return;
    if (rcl_is_shrunk(h, p)) {
      rcl_large_free_shrunk(h, p);
      return;
    }
    RCL_VG_FREE(p);
    rcl_free_span_block(h, p, n);
    return;
  }
  if (p) rcl_free_big(h, p, n);
}

/* realloc(NULL) allocates; newn == 0 frees and returns NULL. */
RCL_API void *rcl_realloc(rcl_heap *h, void *p, size_t oldn, size_t newn)
{
  if (!p) return rcl_malloc(h, newn);
  if (newn == 0) { rcl_free(h, p, oldn); return NULL; }
  return rcl_realloc_block(h, p, oldn, newn);
}

/* lua_Alloc: nsize == 0 frees and returns NULL; otherwise NULL means failure. */
RCL_API void *rcl_alloc_f(void *heap, void *ptr, size_t osize, size_t nsize)
{
  rcl_heap *h = (rcl_heap *)heap;
  if (nsize == 0) { rcl_free(h, ptr, osize); return NULL; }
  if (!ptr) return rcl_malloc(h, nsize);
  return rcl_realloc_block(h, ptr, osize, nsize);
}

/* -- Heaps -------------------------------------------------------------------------------- */

RCL_API rcl_heap *rcl_heap_create(const rcl_config *cfg, uint64_t seed)
{
  size_t page = rcl_os_page_size(), size = rcl_align_up(sizeof(rcl_heap), page);
  rcl_heap *h;
  rcl_os_fault_from_env();
  h = (rcl_heap *)rcl_os_map_plain(size);
  if (!h) return NULL;
  h->os_page_size = page;
  h->page_size = rcl_os_purge_granule();
  h->page_shift = (unsigned)rcl_ctz64(h->page_size);
  h->self_size = size;
  h->mapped = size;
  h->peak_mapped = size;
  h->metadata = size;
  if (cfg) h->cfg = *cfg; else rcl_config_default(&h->cfg);
  pthread_mutex_init(&h->lock, NULL);
  rcl_caches_init(h);
  rcl_soft_limit_reset(h);
  h->prng = seed ^ 0x6c75616a69742d72ull;
  h->clock = rcl_os_now_ms();
  rcl_os_backing_init(h);
  rcl_registry_attach(h);
  rcl_registry_publish(h, 1, 0);
  if (h->cfg.background) rcl_bg_update(h);
  return h;
}

RCL_API void rcl_heap_destroy(rcl_heap *h)
{
  if (!h) return;
  rcl_bg_unregister(h);
  rcl_registry_detach(h);
  rcl_flush_caches(h);
  rcl_large_destroy(h);
  rcl_mesh_destroy(h);
  rcl_mesher_destroy(h);
  rcl_segments_destroy(h);
  rcl_os_backing_destroy(h);
  pthread_mutex_destroy(&h->lock);
  rcl_os_unmap(h, h, h->self_size);
}

RCL_API void rcl_heap_configure(rcl_heap *h, const rcl_config *c)
{
  rcl_lock(h);
  h->cfg = *c;
  rcl_soft_limit_reset(h);
  if (c->decay_ms == 0) rcl_kept_release(h, rcl_decay_all(), (size_t)-1);
  rcl_registry_publish(h, 0, 0);
  rcl_unlock(h);
  rcl_bg_update(h);
}

RCL_API void rcl_heap_get_config(rcl_heap *h, rcl_config *c)
{
  *c = h->cfg;
}

/* -- GC hooks ----------------------------------------------------------------------------- */

RCL_API void rcl_cycle_end(rcl_heap *h)
{
  rcl_bg_ensure_running(h);
  rcl_lock_active(h);
  h->clock = rcl_os_now_ms();
  rcl_pass_arm(h);
  rcl_registry_cycle_end(h);
  rcl_unlock(h);
}

/* A GC step starts: the frees it makes are stamped with the heap clock, so
** the clock is refreshed here (the only place a quiet heap passes before it
** frees again; a stale clock would make fresh frees look old to decay). */
RCL_API void rcl_step(rcl_heap *h)
{
  h->clock = rcl_os_now_ms();
  rcl_registry_follow(h);
  if (RCL_LIKELY(!(h->pass_armed | h->mesh_armed))) return;
  rcl_lock(h);
  if (h->pass_armed) rcl_pass_step(h);
  if (h->mesh_armed) rcl_mesher_step(h);
  rcl_unlock(h);
}

RCL_API size_t rcl_purge(rcl_heap *h)
{
  size_t released;
  rcl_bg_ensure_running(h);
  rcl_lock(h);
  h->clock = rcl_os_now_ms();
  released = rcl_purge_now(h);
  rcl_registry_publish(h, 1, 0);
  rcl_unlock(h);
  return released;
}

RCL_API int rcl_purge_some(rcl_heap *h, size_t budget, int restart, size_t *released)
{
  int done;
  rcl_bg_ensure_running(h);
  rcl_lock(h);
  h->clock = rcl_os_now_ms();
  done = rcl_purge_slice(h, budget, restart, released);
  if (done) rcl_registry_publish(h, 1, 0);
  rcl_unlock(h);
  return done;
}

RCL_API void rcl_heap_note_gc(rcl_heap *h, size_t total, size_t estimate)
{
  rcl_store(&h->gc_total, total);         /* the background thread may publish them */
  rcl_store(&h->gc_estimate, estimate);
}

RCL_API size_t rcl_full_gc(rcl_heap *h)
{
  if (h->cfg.full_gc_purge) return rcl_purge(h);
  rcl_cycle_end(h);
  rcl_lock(h);
  rcl_registry_publish(h, 1, 0);   /* a full GC's figures are worth a walk */
  rcl_unlock(h);
  return 0;
}
