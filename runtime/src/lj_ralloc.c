/*
** luajit-reclaim allocator adapter: lj_alloc_* on top of the rcl heap.
** Included by lj_alloc.c (patch 0002) in place of dlmalloc.
**
** One rcl heap per state created through luaL_newstate(). LuaJIT passes the
** exact old size on every free and realloc, which the heap relies on.
** LUAJIT_RECLAIM="key=value,..." is read at every state creation. As with
** jemalloc's MALLOC_CONF, a bad item never stops a state: it is reported on
** stderr (unknown key or bad value, by name, with what is accepted) and
** skipped; the other items apply. A process reports at most once.
** With show_stats on, lj_alloc_destroy prints the heap's statistics to
** stderr (one block, every line prefixed "luajit-reclaim:") before it
** unmaps the heap: the allocator itself never prints.
*/

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "luajit-reclaim.h"

#define RCL_EMBED	1
#include "rcl_all.c"

/* Set by the first state creation that reports a bad LUAJIT_RECLAIM item;
** later ones (any thread) stay silent. */
static int lj_alloc_envwarned;

static void lj_alloc_envwarn(int *warn, const char *msg)
{
  if (*warn < 0)  /* First bad item of this call: does it report? */
    *warn = !__atomic_exchange_n(&lj_alloc_envwarned, 1, __ATOMIC_RELAXED);
  if (*warn)
    fprintf(stderr, "luajit-reclaim: warning: LUAJIT_RECLAIM: %s; ignored\n", msg);
}

/* Apply LUAJIT_RECLAIM to cfg one item at a time: rcl_config_parse() checks
** each item alone, so a bad one changes nothing and is skipped. */
static void lj_alloc_readenv(rcl_config *cfg)
{
  const char *env = getenv("LUAJIT_RECLAIM");
  char err[256], *spec, *p, *end;
  size_t len;
  int warn = -1;
  if (!env || !*env) return;
  len = strlen(env);
  spec = (char *)malloc(len + 1);
  if (!spec) {
    lj_alloc_envwarn(&warn, "out of memory reading it");
    return;
  }
  memcpy(spec, env, len + 1);
  for (p = spec; ; p = end + 1) {
    end = strchr(p, ',');
    if (end) *end = '\0';
    if (rcl_config_parse(cfg, p, err, sizeof(err)) != 0)
      lj_alloc_envwarn(&warn, err);
    if (!end) break;
  }
  free(spec);
}

void *lj_alloc_create(PRNGState *rs)
{
  rcl_config cfg;
  rcl_config_default(&cfg);
  lj_alloc_readenv(&cfg);
  return rcl_heap_create(&cfg, rs->u[0] ^ (rs->u[1] << 1));
}

void lj_alloc_setprng(void *msp, PRNGState *rs)
{
  UNUSED(msp); UNUSED(rs);  /* The heap keeps its own placement seed. */
}

/* Append printf-style text to buf at *pos (len bytes in all); text that
** does not fit is cut. */
static void lj_alloc_addf(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
  va_list ap;
  int n;
  if (*pos >= len) return;
  va_start(ap, fmt);
  n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
  va_end(ap);
  if (n > 0) *pos = *pos + (size_t)n < len ? *pos + (size_t)n : len - 1;
}

#define LJ_ALLOC_MIB(n)	((double)(n) / 1048576.0)

/* show_stats: the heap's statistics and options, as one write to stderr so
** blocks of states closing in different threads do not interleave. */
static void lj_alloc_showstats(rcl_heap *h)
{
  char buf[1536], val[64];
  const char *const *k;
  size_t pos = 0;
  rcl_stats s;
  rcl_config cfg;
  rcl_stats_get(h, &s);
  rcl_heap_get_config(h, &cfg);
  lj_alloc_addf(buf, sizeof(buf), &pos,
    "luajit-reclaim: allocator statistics at state close (pid %ld, heap %p)\n"
    "luajit-reclaim:   peak mapped %zu bytes (%.1f MiB)\n"
    "luajit-reclaim:   mapped %zu bytes (%.1f MiB)\n"
    "luajit-reclaim:   resident %zu bytes (%.1f MiB)\n"
    "luajit-reclaim:   in use %zu bytes (%.1f MiB)\n"
    "luajit-reclaim:   purged %llu bytes (%.1f MiB) in %llu calls\n"
    "luajit-reclaim:   segments %zu, large blocks %zu\n"
    "luajit-reclaim:   failures: madvise %llu, mmap %llu, munmap %llu, mremap %llu, "
    "high mappings rejected %llu\n"
    "luajit-reclaim:   options: ",
    (long)getpid(), (void *)h,
    s.peak_mapped, LJ_ALLOC_MIB(s.peak_mapped), s.mapped, LJ_ALLOC_MIB(s.mapped),
    s.resident, LJ_ALLOC_MIB(s.resident), s.in_use, LJ_ALLOC_MIB(s.in_use),
    (unsigned long long)s.purged_total, LJ_ALLOC_MIB(s.purged_total),
    (unsigned long long)s.purge_calls, s.segments, s.large_blocks,
    (unsigned long long)s.madvise_failed, (unsigned long long)s.mmap_failed,
    (unsigned long long)s.munmap_failed, (unsigned long long)s.mremap_failed,
    (unsigned long long)s.high_mappings_rejected);
  for (k = rcl_config_keys; *k; k++)
    if (rcl_config_format(&cfg, *k, val, sizeof(val)) == 0)
      lj_alloc_addf(buf, sizeof(buf), &pos, "%s%s=%s", k == rcl_config_keys ? "" : ",", *k, val);
  lj_alloc_addf(buf, sizeof(buf), &pos, "\n");
  if (cfg.mesh || s.mesh_passes)
    lj_alloc_addf(buf, sizeof(buf), &pos,
      "luajit-reclaim:   meshing: %zu secondary pages, %zu mappings added, %llu pages released "
      "in all, %llu passes, longest step %.3f ms\n",
      s.mesh_pages, s.mesh_mappings, (unsigned long long)s.mesh_released,
      (unsigned long long)s.mesh_passes, (double)s.mesh_max_pause_ns / 1e6);
  fwrite(buf, 1, pos, stderr);
  fflush(stderr);
}

void lj_alloc_destroy(void *msp)
{
  rcl_heap *h = (rcl_heap *)msp;
  rcl_config cfg;
  rcl_heap_get_config(h, &cfg);
  if (cfg.show_stats) lj_alloc_showstats(h);
  rcl_heap_destroy(h);
}

void *lj_alloc_f(void *msp, void *ptr, size_t osize, size_t nsize)
{
  return rcl_alloc_f(msp, ptr, osize, nsize);
}

/* lj_mem_newgco's allocation (patch 0008): GC objects take the object lane. */
void *lj_alloc_newgco(void *msp, size_t size)
{
  return rcl_malloc_object((rcl_heap *)msp, size);
}

/* lj_alloc_mixed's allocation (patch 0011): cdata of every size in one run. */
void *lj_alloc_newmixed(void *msp, size_t size)
{
  return rcl_malloc_mixed((rcl_heap *)msp, size);
}

/* lj_alloc_array's allocation (patch 0012): a table's array part. */
void *lj_alloc_newarray(void *msp, size_t size)
{
  return rcl_malloc_array((rcl_heap *)msp, size);
}

/* Bytes usable in the block of a request of size bytes (patch 0009). */
size_t lj_alloc_usable(size_t size)
{
  return rcl_usable_size(size);
}

/* -- GC hooks (patch 0003) ----------------------------------------------- */

/* Each hook gets the GC's figures (bytes allocated, live estimate), which
** the heap registry shows to luajit-memstat. */
void lj_alloc_cycle_end(void *msp, size_t total, size_t estimate)
{
  rcl_heap_note_gc((rcl_heap *)msp, total, estimate);
  rcl_cycle_end((rcl_heap *)msp);
}

void lj_alloc_step(void *msp, size_t total, size_t estimate)
{
  UNUSED(total); UNUSED(estimate);
  rcl_step((rcl_heap *)msp);
}

void lj_alloc_fullgc(void *msp, size_t total, size_t estimate)
{
  rcl_heap_note_gc((rcl_heap *)msp, total, estimate);
  rcl_full_gc((rcl_heap *)msp);
}

/* -- Statistics and options (lib_reclaim.c) ------------------------------ */

LJ_FUNC void lj_alloc_snapshot(void *msp, size_t total, size_t estimate, void *out);

/* The heap's figures now (a walk) in the registry's slot layout, with the
** GC's figures; reclaim.metrics() formats them. out: an rcl_registry_slot. */
void lj_alloc_snapshot(void *msp, size_t total, size_t estimate, void *out)
{
  rcl_heap_note_gc((rcl_heap *)msp, total, estimate);
  rcl_heap_snapshot((rcl_heap *)msp, (rcl_registry_slot *)out);
}

size_t lj_alloc_purge(void *msp)
{
  return rcl_purge((rcl_heap *)msp);
}

LJ_FUNC int lj_alloc_purge_some(void *msp, size_t budget, int restart, size_t *released);

/* One slice of a purge (luaJIT_reclaim_idle); see rcl_purge_some. */
int lj_alloc_purge_some(void *msp, size_t budget, int restart, size_t *released)
{
  return rcl_purge_some((rcl_heap *)msp, budget, restart, released);
}

/* lib_reclaim.c: both public stats structs from one heap walk; x may be
** NULL. x->size is left to the caller (lib_reclaim.c sets it). */
LJ_FUNC void lj_alloc_stats_all(void *msp, luajit_reclaim_stats *st,
				luajit_reclaim_stats_ext *x);

void lj_alloc_stats(void *msp, luajit_reclaim_stats *st)
{
  lj_alloc_stats_all(msp, st, NULL);
}

void lj_alloc_stats_all(void *msp, luajit_reclaim_stats *st,
			luajit_reclaim_stats_ext *x)
{
  rcl_stats s;
  rcl_stats_get((rcl_heap *)msp, &s);
  if (x) {
    x->mesh_pages = s.mesh_pages;
    x->mesh_mappings = s.mesh_mappings;
    x->mesh_released = s.mesh_released;
    x->mesh_passes = s.mesh_passes;
    x->mesh_max_pause_ns = s.mesh_max_pause_ns;
  }
  st->page_size = s.page_size;
  st->mapped = s.mapped;
  st->resident = s.resident;
  st->in_use = s.in_use;
  st->free_dirty = s.free_dirty;
  st->free_clean = s.free_clean;
  st->floor = s.floor;
  st->metadata = s.metadata;
  st->segments = s.segments;
  st->spans = s.spans;
  st->large_blocks = s.large_blocks;
  st->purged_total = s.purged_total;
  st->purge_calls = s.purge_calls;
  st->madvise_failed = s.madvise_failed;
  st->mmap_failed = s.mmap_failed;
  st->munmap_failed = s.munmap_failed;
  st->mremap_failed = s.mremap_failed;
  st->high_mappings_rejected = s.high_mappings_rejected;
  st->fragmentation = s.fragmentation;
}

/* Apply "key=value,..." to the heap's options: all of them or none. */
int lj_alloc_configure(void *msp, const char *spec, char *err, size_t errlen)
{
  rcl_config cfg;
  rcl_heap_get_config((rcl_heap *)msp, &cfg);
  if (rcl_config_parse(&cfg, spec, err, errlen) != 0)
    return -1;
  rcl_heap_configure((rcl_heap *)msp, &cfg);
  return 0;
}

int lj_alloc_getopt(void *msp, const char *key, char *buf, size_t len)
{
  rcl_config cfg;
  rcl_heap_get_config((rcl_heap *)msp, &cfg);
  return rcl_config_format(&cfg, key, buf, len);
}

const char *const *lj_alloc_optnames(void)
{
  return rcl_config_keys;
}

LJ_FUNC const char *lj_alloc_optdefault(const char *key);
LJ_FUNC int lj_alloc_optboolean(const char *key);

/* The default of an option as text (what setopt(key, NULL) restores); NULL
** for an unknown key. */
const char *lj_alloc_optdefault(const char *key)
{
  return rcl_config_default_text(key);
}

/* 1 if key is a boolean option (reclaim.config() gives a Lua boolean). */
int lj_alloc_optboolean(const char *key)
{
  return rcl_config_kind(key) == RCL_KIND_BOOLEAN;
}

size_t lj_alloc_pagesize(void)
{
  return rcl_page_size();
}

#ifdef RCL_FAULT_INJECTION
/* -- Fault injection (test builds, reclaim.stats()) ---------------------- */

LJ_FUNC const char *lj_alloc_faultcount(int i, uint64_t *n);

/* Name of fault kind i and the failures injected so far in this process;
** NULL past the last kind. */
const char *lj_alloc_faultcount(int i, uint64_t *n)
{
  static const char *const names[RCL_FAULT__MAX] = {
    [RCL_FAULT_MMAP] = "mmap", [RCL_FAULT_MADVISE] = "madvise",
    [RCL_FAULT_MUNMAP] = "munmap", [RCL_FAULT_MREMAP] = "mremap"
  };
  if (i < 0 || i >= RCL_FAULT__MAX || !names[i]) return NULL;
  *n = rcl_test_fault_injected(i);
  return names[i];
}
#endif
