/*
** rcl_os.c: everything that talks to the kernel.
**
** - the run-time OS page size: getauxval(AT_PAGESZ), else sysconf; it must be
**   a power of two in 4 KiB..64 KiB or the process aborts with a message
**   naming the value (no compile-time page size exists anywhere);
** - mmap/munmap/madvise/mremap wrappers that count their failures in the
**   heap and never hand out memory ending above the address limit (2^47, the
**   GC64 pointer range): mappings are placed with hints (a random 4 MiB
**   aligned start in [2^32, limit/2), then growing upward), and a result
**   above the limit is unmapped, counted (high_mappings_rejected) and retried
**   with a new random hint, RCL_MAP_TRIES times, then the mapping fails;
** - the memory-file backing of segments (heaps created with mesh=on, or a
**   test build's switch; docs/mesh.md): a memfd per heap, the table of its segments,
**   punching purges, the copy that gives a fork() child its own memory;
** - the heap clock source (CLOCK_MONOTONIC_COARSE, milliseconds);
** - fault injection (compiled only with -DRCL_FAULT_INJECTION): make calls
**   N..N+C-1 of a kind fail, or each call with a given probability
**   (rcl_test.h);
** - the two fatal reports: an invalid free (a caller's bug) and an internal
**   error (a broken invariant of ours).
** All OS calls are made with the heap lock held when the heap is locking.
**
** Layer: the bottom; calls nothing of the allocator. Of the heap it is
** given it updates only the OS-facing fields: failure and purge counters,
** the address hint state and its backing (h->backing).
*/
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif
#include "rcl_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_FREE
#define MADV_FREE 8
#endif
#ifndef MAP_ANONYMOUS
#define MAP_ANONYMOUS MAP_ANON
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000   /* Linux 4.17; older kernels take it as a hint */
#endif

static size_t rcl_os_page;                           /* 0 until first read */
static uint64_t rcl_os_limit = RCL_ADDR_LIMIT_DEFAULT; /* test hook may lower it */
static int rcl_os_hints = 1;                         /* test hook may disable hints */

RCL_INTERN size_t rcl_os_page_size(void)
{
  size_t p = rcl_load(&rcl_os_page);
  unsigned long v;
  if (RCL_LIKELY(p != 0)) return p;
  v = getauxval(AT_PAGESZ);
  if (v == 0) {
    long s = sysconf(_SC_PAGESIZE);
    v = s > 0 ? (unsigned long)s : 0;
  }
  if (v < RCL_MIN_PAGE || v > RCL_MAX_PAGE || (v & (v - 1)) != 0) {
    fprintf(stderr, "luajit-reclaim: unsupported OS page size %lu "
            "(supported: a power of two from 4096 to 65536)\n", v);
    abort();
  }
  rcl_store(&rcl_os_page, (size_t)v);
  return (size_t)v;
}

RCL_API size_t rcl_page_size(void) { return rcl_os_page_size(); }

/* The calling thread's CPU time (user and system) in ns: a pause measured
** with it leaves out the time other processes held the CPU. */
RCL_INTERN uint64_t rcl_os_cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

RCL_INTERN uint64_t rcl_os_now_ms(void)
{
  struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
  if (clock_gettime(CLOCK_MONOTONIC_COARSE, &ts) != 0)
#endif
    clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

RCL_INTERN uint64_t rcl_os_addr_limit(void) { return rcl_load(&rcl_os_limit); }

/* The granule of purge ranges and clean-page bits: the OS page, except in
** the deliberately broken RCL_TEST_FIXED_GRANULE build, which the page-size
** checks (pagesim, the QEMU matrix) must catch at 16K and 64K. */
RCL_INTERN size_t rcl_os_purge_granule(void)
{
#ifdef RCL_TEST_FIXED_GRANULE
  return RCL_TEST_FIXED_GRANULE;
#else
  return rcl_os_page_size();
#endif
}

#ifdef RCL_TEST_HOOKS
RCL_API void rcl_test_set_addr_limit(uint64_t limit)
{
  rcl_store(&rcl_os_limit, limit ? limit : RCL_ADDR_LIMIT_DEFAULT);
}

RCL_API void rcl_test_set_hints(int enabled) { rcl_store(&rcl_os_hints, enabled != 0); }
#endif

/* -- Memory cgroup limit ------------------------------------------------------- */

/* A limit file's value in bytes; 0 for "max", an absurd value, or none. */
static uint64_t rcl_os_read_limit(const char *path)
{
  char buf[64];
  FILE *f = fopen(path, "re");
  uint64_t v = 0;
  if (!f) return 0;
  if (fgets(buf, sizeof(buf), f) && buf[0] >= '0' && buf[0] <= '9') {
    v = strtoull(buf, NULL, 10);
    if (v >= ((uint64_t)1 << 62)) v = 0;    /* v1 writes "unlimited" as ~2^63 */
  }
  fclose(f);
  return v;
}

static uint64_t rcl_os_tighter(uint64_t a, uint64_t b) { return a && (!b || a < b) ? a : b; }

/* vm.max_map_count: the mappings a process may have (Linux's default
** 65530 when the file cannot be read). Meshing keeps its own mappings
** under half of it (rcl_mesh_core.c). */
RCL_INTERN size_t rcl_os_max_map_count(void)
{
  uint64_t v = rcl_os_read_limit("/proc/sys/vm/max_map_count");
  return v ? (size_t)v : 65530;
}

/* The tightest memory limit on the cgroup path of this process, in bytes,
** 0 if none: cgroup v2 (memory.high, else memory.max) when /proc/self/cgroup
** names a v2 path ("0::/path") whose directory has them, else v1
** (memory.limit_in_bytes of the "memory" controller's path). Every level
** from the process's group up to the root counts. */
RCL_INTERN uint64_t rcl_os_cgroup_limit(void)
{
  char line[512], path[640], v2[384] = "", v1[384] = "";
  FILE *f = fopen("/proc/self/cgroup", "re");
  uint64_t limit = 0;
  int tries;
  if (!f) return 0;
  while (fgets(line, sizeof(line), f)) {
    char *nl = strchr(line, '\n'), *c1, *c2;
    if (nl) *nl = '\0';
    c1 = strchr(line, ':');
    c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2 || c2[1] != '/') continue;
    if (strncmp(line, "0::", 3) == 0) snprintf(v2, sizeof(v2), "%s", c2 + 1);
    else if (strstr(c1 + 1, "memory") && strstr(c1 + 1, "memory") < c2) snprintf(v1, sizeof(v1), "%s", c2 + 1);
  }
  fclose(f);
  for (tries = 0; tries < 2; tries++) {
    const char *rel = tries == 0 ? v2 : v1;
    const char *root = tries == 0 ? "/sys/fs/cgroup" : "/sys/fs/cgroup/memory";
    char dir[384];
    if (!rel[0]) continue;
    snprintf(dir, sizeof(dir), "%s", rel);
    for (;;) {
      char *slash;
      if (tries == 0) {
        uint64_t high;
        snprintf(path, sizeof(path), "%s%s/memory.high", root, strcmp(dir, "/") ? dir : "");
        high = rcl_os_read_limit(path);
        snprintf(path, sizeof(path), "%s%s/memory.max", root, strcmp(dir, "/") ? dir : "");
        limit = rcl_os_tighter(rcl_os_tighter(limit, high), rcl_os_read_limit(path));
      } else {
        snprintf(path, sizeof(path), "%s%s/memory.limit_in_bytes", root, strcmp(dir, "/") ? dir : "");
        limit = rcl_os_tighter(limit, rcl_os_read_limit(path));
      }
      slash = strrchr(dir, '/');
      if (!slash || slash == dir) {
        if (strcmp(dir, "/") == 0) break;
        dir[1] = '\0';                      /* the root itself, last */
        continue;
      }
      *slash = '\0';
    }
    if (limit) break;
  }
  return limit;
}

/* -- Fatal reports --------------------------------------------------------------- */

RCL_INTERN RCL_NOINLINE void rcl_bad_free(const void *p, size_t n, const char *why)
{
  fprintf(stderr, "luajit-reclaim: invalid free/realloc of %p (size %zu): %s\n", p, n, why);
  abort();
}

RCL_INTERN RCL_NOINLINE void rcl_internal_error(const char *what)
{
  fprintf(stderr, "luajit-reclaim: internal error: %s\n", what);
  abort();
}

/* -- Fault injection ----------------------------------------------------------- */

#ifdef RCL_FAULT_INJECTION
/* A plan per kind: calls first..last (numbered from 1 after arming) fail,
** and every call fails with probability rate / 10^6 (a shared xorshift
** state advanced with compare-and-swap, so threads may call at once).
** injected counts the failures handed out, whichever rule caused them. */
typedef struct rcl_fault_plan {
  uint64_t calls, first, last;
  uint32_t rate;          /* per million; 0 = no random failures */
  uint64_t rng;           /* xorshift64 state; never 0 while rate != 0 */
  uint64_t injected;
} rcl_fault_plan;
static rcl_fault_plan rcl_faults[RCL_FAULT__MAX];
static const char *const rcl_fault_names[RCL_FAULT__MAX] = {
  "mmap", "madvise", "munmap", "mremap", "backing"
};

static int rcl_fault_roll(rcl_fault_plan *f, uint32_t rate)
{
  uint64_t x = rcl_load(&f->rng), y;
  do {
    y = x;
    y ^= y << 13; y ^= y >> 7; y ^= y << 17;
  } while (!__atomic_compare_exchange_n(&f->rng, &x, y, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
  return (y >> 11) % 1000000u < rate;
}

/* 1 if this call of `kind` must fail. */
static int rcl_os_fault(int kind)
{
  rcl_fault_plan *f = &rcl_faults[kind];
  uint64_t first = rcl_load(&f->first), n;
  uint32_t rate = rcl_load(&f->rate);
  int fail = 0;
  if (first == 0 && rate == 0) return 0;
  if (first) {
    n = __atomic_add_fetch(&f->calls, 1, __ATOMIC_RELAXED);
    fail = n >= first && n <= rcl_load(&f->last);
  }
  if (!fail && rate) fail = rcl_fault_roll(f, rate);
  if (fail) __atomic_add_fetch(&f->injected, 1, __ATOMIC_RELAXED);
  return fail;
}

/* Calls nth .. nth+count-1 (1-based, counted from now) of `kind` fail;
** count == 0 or nth == 0 disarms. */
RCL_API int rcl_test_fault(int kind, uint64_t nth, uint64_t count)
{
  rcl_fault_plan *f;
  if (kind < 0 || kind >= RCL_FAULT__MAX) return -1;
  f = &rcl_faults[kind];
  rcl_store(&f->first, (uint64_t)0);
  rcl_store(&f->calls, (uint64_t)0);
  rcl_store(&f->last, nth + count - 1);
  if (nth && count) rcl_store(&f->first, nth);
  return 0;
}

RCL_API int rcl_test_fault_rate(int kind, uint32_t per_million, uint64_t seed)
{
  rcl_fault_plan *f;
  if (kind < 0 || kind >= RCL_FAULT__MAX || per_million > 1000000u) return -1;
  f = &rcl_faults[kind];
  rcl_store(&f->rate, (uint32_t)0);
  rcl_store(&f->rng, (seed ^ 0x9e3779b97f4a7c15ull) | 1);
  rcl_store(&f->rate, per_million);
  return 0;
}

RCL_API uint64_t rcl_test_fault_injected(int kind)
{
  if (kind < 0 || kind >= RCL_FAULT__MAX) return 0;
  return rcl_load(&rcl_faults[kind].injected);
}

/* LUAJIT_RECLAIM_FAULT="KIND=N[:C],KIND=~PPM,..." (KIND mmap, madvise,
** munmap, mremap or backing) arms the plans at heap creation: N[:C] makes calls
** N..N+C-1 fail (C defaults to 1), ~PPM makes each call fail with
** probability PPM / 10^6 (seeded from LUAJIT_RECLAIM_FAULT_SEED, default 1).
** A malformed value is a loud failure: this is a test-only build. */
RCL_INTERN void rcl_os_fault_from_env(void)
{
  /* Armed again only when the spec or the seed changed since the last
  ** heap creation armed them: re-arming would restart the random plans at
  ** the same seed for every new heap, so each heap would see the same few
  ** rolls (always or never failing) instead of the rate. */
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  static char armed[512];
  const char *spec = getenv("LUAJIT_RECLAIM_FAULT"), *seedenv, *p;
  char key[512];
  uint64_t seed = 1;
  if (!spec) return;
  seedenv = getenv("LUAJIT_RECLAIM_FAULT_SEED");
  if (seedenv) seed = strtoull(seedenv, NULL, 10);
  snprintf(key, sizeof(key), "%s|%s", spec, seedenv ? seedenv : "");
  pthread_mutex_lock(&lock);
  if (strcmp(key, armed) == 0) {
    pthread_mutex_unlock(&lock);
    return;
  }
  memcpy(armed, key, sizeof(armed));
  pthread_mutex_unlock(&lock);
  for (p = spec; *p; ) {
    const char *eq = strchr(p, '='), *end = strchr(p, ',');
    char *num_end;
    unsigned long long nth, count = 1;
    int kind;
    if (!end) end = p + strlen(p);
    if (!eq || eq > end) goto bad;
    for (kind = 0; kind < RCL_FAULT__MAX; kind++)
      if (strlen(rcl_fault_names[kind]) == (size_t)(eq - p) &&
          memcmp(rcl_fault_names[kind], p, (size_t)(eq - p)) == 0) break;
    if (kind == RCL_FAULT__MAX) goto bad;
    if (eq[1] == '~') {
      unsigned long long ppm = strtoull(eq + 2, &num_end, 10);
      if (num_end == eq + 2 || num_end != end || ppm > 1000000u) goto bad;
      rcl_test_fault_rate(kind, (uint32_t)ppm, seed + (uint64_t)kind);
    } else {
      nth = strtoull(eq + 1, &num_end, 10);
      if (num_end == eq + 1) goto bad;
      if (*num_end == ':') {
        const char *c = num_end + 1;
        count = strtoull(c, &num_end, 10);
        if (num_end == c) goto bad;
      }
      if (num_end != end) goto bad;
      rcl_test_fault(kind, nth, count);
    }
    p = *end ? end + 1 : end;
  }
  return;
bad:
  fprintf(stderr, "luajit-reclaim: LUAJIT_RECLAIM_FAULT: cannot parse '%s' "
          "(expected kind=N[:count] or kind=~per_million,... with kind mmap, madvise, "
          "munmap, mremap or backing)\n", spec);
  abort();
}
#else
#define rcl_os_fault(kind) 0
RCL_INTERN void rcl_os_fault_from_env(void) {}
#ifdef RCL_TEST_HOOKS
RCL_API int rcl_test_fault(int kind, uint64_t nth, uint64_t count)
{
  (void)kind; (void)nth; (void)count;
  return -1;
}
RCL_API int rcl_test_fault_rate(int kind, uint32_t per_million, uint64_t seed)
{
  (void)kind; (void)per_million; (void)seed;
  return -1;
}
RCL_API uint64_t rcl_test_fault_injected(int kind)
{
  (void)kind;
  return 0;
}
#endif
#endif

/* -- Raw calls ------------------------------------------------------------------- */

static void *rcl_sys_map(uintptr_t hint, size_t size)
{
  void *p;
  if (rcl_os_fault(RCL_FAULT_MMAP)) { errno = ENOMEM; return NULL; }
  p = mmap((void *)hint, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static int rcl_sys_unmap(void *p, size_t size)
{
  if (rcl_os_fault(RCL_FAULT_MUNMAP)) { errno = EINVAL; return -1; }
  return munmap(p, size);
}


/* -- Memory-file backing: the table ------------------------------------------- */

/*
** A heap on the file backing maps each segment MAP_SHARED from a
** segment-sized range of its own memory file (memfd, close-on-exec), so
** that meshing (docs/mesh.md) can later map two virtual pages onto one
** physical page. Invariants:
** - the table lists exactly the heap's segments mapped from the file,
**   sorted by address, with their file offsets; a segment not listed is
**   anonymous. Every backing failure (memfd_create, ftruncate, the file
**   mapping) is counted in `fallbacks` and the segment, or with no file the
**   whole heap, continues on anonymous memory;
** - a file range is all zeros when a segment is mapped onto it: it lies
**   beyond the previous file size, or was punched when its segment was
**   unmapped. A range whose punch failed is never handed out again
**   (punch_failed; its pages stay allocated in the file);
** - purging a file segment punches its pages (MADV_REMOVE): MADV_DONTNEED
**   drops the page-table entries but leaves the pages in the file, and
**   MADV_FREE is refused on shared mappings, so mode=dontneed and
**   mode=free both punch. A punched page reads back as zeros, like a
**   purged anonymous page;
** - large blocks stay anonymous: they never mesh, so mremap never meets a
**   file mapping;
** - the table and the file change only under the heap's lock discipline
**   (as every OS call of the heap) and under rcl_backing_lock, which the
**   fork prepare handler holds: a child sees tables that match the mappings.
** - an alias (meshing, docs/mesh.md) is an OS page of a file segment that
**   maps the physical page of another one, its target, instead of its own
**   range. A target maps its own range and is no alias; an alias's own
**   range is punched (zero) and no alias maps it. So the alias words of a
**   segment (one array of 32 bits per OS page of it, made at its first
**   alias or target: every alias operation is a binary search of the
**   segment table and an index, never a walk of all aliases) say what every
**   virtual page maps: its own range unless listed. A page is an alias, a
**   target or neither, never both, so one word says which: 0 neither; low
**   RCL_ALIAS_COUNT_BITS bits nonzero: a target, they count its aliases;
**   else an alias, the rest its target's distance in OS pages (signed). An
**   alias whose target lies farther away, or a target with the most
**   aliases the count holds, is refused (a rule broken: nothing changes);
**   one heap's segments lie close together, and the mesher gives a target
**   at most RCL_MESH_MAX_SECONDARIES aliases. A purge never punches
**   through an alias (that would free its target's page), and a segment is
**   unmapped only when no alias outside it has a target inside it (the
**   mesher keeps that rule; rcl_backing_unmap refuses a call breaking it).
** fork() (rcl_backing_child): a shared mapping stays shared with the child,
** so the child copies the file's allocated pages into a new memory file at
** the same offsets, maps it over the same addresses (aliases included) and
** closes the parent's file; the parent waits for the child's byte on a pipe
** before it returns from fork(), so no write of the parent after fork()
** reaches the copy.
*/
/* An alias word (see above): 0, a target's count, or an alias's distance. */
#define RCL_ALIAS_COUNT_BITS 5
#define RCL_ALIAS_COUNT_MAX  ((1u << RCL_ALIAS_COUNT_BITS) - 1)
#define RCL_ALIAS_DIST_MAX   ((int32_t)1 << (31 - RCL_ALIAS_COUNT_BITS))  /* |distance| < this */

typedef struct rcl_backing_seg {
  uintptr_t addr;                 /* segment address */
  uint64_t off;                   /* its range's offset in the file */
  uint32_t *pages;                /* its alias words; NULL until its first alias or target */
  uint32_t naliases;              /* its pages that are aliases */
  uint32_t ntargeted;             /* aliases (of any segment) whose target is one of its pages */
} rcl_backing_seg;

struct rcl_backing {
  int fd;                         /* the memory file; -1: none (anonymous) */
  uint64_t ino, dev;              /* the file's identity: fd still names it */
  uint64_t size;                  /* file size: every range handed out so far */
  rcl_backing_seg *segs;          /* the table, sorted by addr */
  size_t nsegs, segs_cap;
  uint64_t *free_offs;            /* punched ranges to hand out again */
  size_t nfree, free_cap;         /* free_cap >= size / RCL_SEGMENT_SIZE */
  size_t naliases;                /* aliases in all segments */
  uint64_t fallbacks, punch_failed, fork_copies, alias_failed;
  struct rcl_backing *next;       /* every backing of the process (rcl_backing_lock) */
};
typedef struct rcl_backing rcl_backing;

static pthread_mutex_t rcl_backing_lock = PTHREAD_MUTEX_INITIALIZER;
static rcl_backing *rcl_backings;     /* under rcl_backing_lock */

/* Internal tables: plain mappings, never subject to fault injection (a
** failure here is a backing failure, counted by the caller). */
static void *rcl_backing_alloc(size_t bytes)
{
  void *p = mmap(NULL, rcl_align_up(bytes, rcl_os_page_size()), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

static void rcl_backing_dealloc(void *p, size_t bytes)
{
  if (p) munmap(p, rcl_align_up(bytes, rcl_os_page_size()));
}

/* Make *arr (of *cap elements of elem bytes, n used) hold at least want. */
static int rcl_backing_reserve(void **arr, size_t *cap, size_t n, size_t want, size_t elem)
{
  size_t ncap = *cap ? *cap : 16;
  void *na;
  if (want <= *cap) return 0;
  while (ncap < want) ncap *= 2;
  na = rcl_backing_alloc(ncap * elem);
  if (!na) return -1;
  if (*arr) {
    memcpy(na, *arr, n * elem);
    rcl_backing_dealloc(*arr, *cap * elem);
  }
  *arr = na;
  *cap = ncap;
  return 0;
}

/* The table entry of the segment at addr, or NULL; *pos (if given) is
** where such an entry is or would be inserted. */
static rcl_backing_seg *rcl_backing_find(const rcl_backing *b, uintptr_t addr, size_t *pos)
{
  size_t lo = 0, hi = b->nsegs;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (b->segs[mid].addr < addr) lo = mid + 1; else hi = mid;
  }
  if (pos) *pos = lo;
  return lo < b->nsegs && b->segs[lo].addr == addr ? &b->segs[lo] : NULL;
}

/* 1 if [p, p+size) lies in a segment mapped from h's file. */
static int rcl_backing_holds(const rcl_heap *h, const void *p)
{
  const rcl_backing *b = h->backing;
  return b && b->nsegs &&
         rcl_backing_find(b, rcl_align_down((uintptr_t)p, RCL_SEGMENT_SIZE), NULL) != NULL;
}

RCL_INTERN int rcl_os_on_file(const rcl_heap *h, const void *p)
{
  int r;
  if (!h->backing) return 0;
  pthread_mutex_lock(&rcl_backing_lock);
  r = rcl_backing_holds(h, p);
  pthread_mutex_unlock(&rcl_backing_lock);
  return r;
}

/* 1 if h has a memory file (segments may be on it). */
RCL_INTERN int rcl_os_file_backed(const rcl_heap *h)
{
  return h->backing && h->backing->fd >= 0;
}

RCL_INTERN size_t rcl_os_alias_count(const rcl_heap *h)
{
  return h->backing ? h->backing->naliases : 0;
}

RCL_INTERN uint64_t rcl_os_alias_refusals(const rcl_heap *h)
{
  return h->backing ? h->backing->alias_failed : 0;
}

/* The OS pages of a segment (the per-page arrays' length). */
static size_t rcl_backing_npages(void) { return RCL_SEGMENT_SIZE / rcl_os_page_size(); }

static size_t rcl_backing_pages_bytes(void)
{
  return rcl_backing_npages() * sizeof(uint32_t);
}

/* e's alias words, made (zero) if `make`; NULL if none (or no memory). */
static uint32_t *rcl_backing_pages_of(rcl_backing_seg *e, int make)
{
  if (e->pages || !make) return e->pages;
  e->pages = (uint32_t *)rcl_backing_alloc(rcl_backing_pages_bytes());
  return e->pages;
}

/* The target of `page` whose alias word is w, or 0 if it is no alias. */
static uintptr_t rcl_alias_word_target(uintptr_t page, uint32_t w)
{
  if (!w || (w & RCL_ALIAS_COUNT_MAX)) return 0;
  return page + (uintptr_t)((intptr_t)((int32_t)w / (1 << RCL_ALIAS_COUNT_BITS)) *
                            (intptr_t)rcl_os_page_size());
}

/* The aliases that map a page whose alias word is w. */
static uint32_t rcl_alias_word_count(uint32_t w) { return w & RCL_ALIAS_COUNT_MAX; }

/* The alias word of `page` mapping `target`; 0 if too far (see above). */
static uint32_t rcl_alias_word_of(uintptr_t page, uintptr_t target)
{
  intptr_t d = ((intptr_t)target - (intptr_t)page) / (intptr_t)rcl_os_page_size();
  if (d == 0 || d >= RCL_ALIAS_DIST_MAX || d < -RCL_ALIAS_DIST_MAX) return 0;
  return (uint32_t)((int32_t)d * (1 << RCL_ALIAS_COUNT_BITS));
}

static void rcl_backing_pages_free(rcl_backing_seg *e)
{
  if (e->pages) rcl_backing_dealloc(e->pages, rcl_backing_pages_bytes());
  e->pages = NULL;
}

/* The segment entry holding page, or NULL; *idx is the page's index in it. */
static rcl_backing_seg *rcl_backing_seg_of(const rcl_backing *b, uintptr_t page, size_t *idx)
{
  *idx = (page & (RCL_SEGMENT_SIZE - 1)) / rcl_os_page_size();
  return rcl_backing_find(b, rcl_align_down(page, RCL_SEGMENT_SIZE), NULL);
}

/* The target that page maps, or 0 if it maps its own range (or is no page
** of a file segment). */
static uintptr_t rcl_backing_alias_target(const rcl_backing *b, uintptr_t page)
{
  size_t i;
  const rcl_backing_seg *e = rcl_backing_seg_of(b, page, &i);
  return e && e->pages ? rcl_alias_word_target(page, e->pages[i]) : 0;
}

/* 1 if an alias maps page. */
static int rcl_backing_targeted(const rcl_backing *b, uintptr_t page)
{
  size_t i;
  const rcl_backing_seg *e = rcl_backing_seg_of(b, page, &i);
  return e && e->pages && rcl_alias_word_count(e->pages[i]) != 0;
}

/* 1 if OS page `page` is an alias of `target` (checks, tests). */
RCL_INTERN int rcl_os_page_aliases(const rcl_heap *h, const void *page, const void *target)
{
  const rcl_backing *b = h->backing;
  return b && target && rcl_backing_alias_target(b, (uintptr_t)page) == (uintptr_t)target;
}

/* 1 if b->fd still names b's file: a host that closes descriptors it did
** not open (closefrom) must not make us truncate or punch another file. */
static int rcl_backing_fd_ok(const rcl_backing *b)
{
  struct stat st;
  return b->fd >= 0 && fstat(b->fd, &st) == 0 &&
         (uint64_t)st.st_ino == b->ino && (uint64_t)st.st_dev == b->dev;
}

static int rcl_backing_memfd(rcl_backing *b)
{
  struct stat st;
  int fd;
  if (rcl_os_fault(RCL_FAULT_BACKING)) return -1;
  fd = memfd_create("luajit-reclaim", MFD_CLOEXEC);
  if (fd < 0) return -1;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return -1;
  }
  b->ino = (uint64_t)st.st_ino;
  b->dev = (uint64_t)st.st_dev;
  return fd;
}

/* Release the file range of an unmapped segment: punched, it is zero and
** may be handed out again; else it is never reused (counted). */
static void rcl_backing_release_range(rcl_heap *h, rcl_backing *b, uint64_t off)
{
  if (rcl_backing_fd_ok(b) &&
      fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off,
                (off_t)RCL_SEGMENT_SIZE) == 0) {
    b->free_offs[b->nfree++] = off;       /* free_cap covers every range */
    return;
  }
  b->punch_failed++;
  h->madvise_failed++;
}

/* Aliases outside segment e whose target lies inside it (lock held). */
static uint32_t rcl_backing_outside_targets(const rcl_backing_seg *e)
{
  uint32_t inside = 0;
  size_t i, n = rcl_backing_npages(), ps = rcl_os_page_size();
  for (i = 0; e->ntargeted && e->naliases && i < n; i++) {
    uintptr_t tg = rcl_alias_word_target(e->addr + i * ps, e->pages[i]);
    if (tg - e->addr < RCL_SEGMENT_SIZE) inside++;
  }
  return e->ntargeted - inside;
}

/* rcl_os_unmap of a segment that may be a file segment: 1 if it was (the
** result in *r), 0 to take the anonymous path. A segment that an alias
** outside it still maps (a filler whose unmesh the OS refused, left for a
** later reconciliation) is not unmapped: *r = -1, and the caller keeps it
** as a free segment; freeing its file range would let another segment's
** range take the pages that alias maps. */
static int rcl_backing_unmap(rcl_heap *h, void *p, int *r)
{
  rcl_backing *b = h->backing;
  rcl_backing_seg *e;
  size_t pos;
  uint64_t off;
  pthread_mutex_lock(&rcl_backing_lock);
  e = rcl_backing_find(b, (uintptr_t)p, &pos);
  if (!e) {
    pthread_mutex_unlock(&rcl_backing_lock);
    return 0;
  }
  if (e->ntargeted && rcl_backing_outside_targets(e)) {
    pthread_mutex_unlock(&rcl_backing_lock);
    *r = -1;
    return 1;
  }
  *r = rcl_sys_unmap(p, RCL_SEGMENT_SIZE);
  if (*r != 0) {
    h->munmap_failed++;
  } else {
    uint32_t *pg = e->pages;
    size_t i, n = rcl_backing_npages(), ps = rcl_os_page_size();
    /* Its aliases go (their targets count one mapper less), then no alias
    ** elsewhere may map one of its pages. */
    for (i = 0; pg && e->naliases && i < n; i++) {
      uintptr_t tg = rcl_alias_word_target(e->addr + i * ps, pg[i]);
      if (tg) {
        size_t j;
        rcl_backing_seg *t = rcl_backing_seg_of(b, tg, &j);
        RCL_ASSERT(t && t->pages && rcl_alias_word_count(t->pages[j]), "an alias without its target");
        t->pages[j]--;
        t->ntargeted--;
        pg[i] = 0;
        e->naliases--;
        b->naliases--;
      }
    }
    RCL_ASSERT(e->ntargeted == 0, "unmapping a segment whose pages other pages alias");
    rcl_backing_pages_free(e);
    off = e->off;
    memmove(&b->segs[pos], &b->segs[pos + 1], (b->nsegs - pos - 1) * sizeof(*e));
    b->nsegs--;
    rcl_backing_release_range(h, b, off);
  }
  pthread_mutex_unlock(&rcl_backing_lock);
  return 1;
}

/* -- Mappings ---------------------------------------------------------------------- */

RCL_INTERN void *rcl_os_map_plain(size_t size)
{
  return rcl_sys_map(0, size);
}

RCL_INTERN int rcl_os_unmap(rcl_heap *h, void *p, size_t size)
{
  int r;
  if (h->backing && size == RCL_SEGMENT_SIZE && rcl_backing_unmap(h, p, &r)) return r;
  if (rcl_sys_unmap(p, size) != 0) {
    h->munmap_failed++;
    return -1;
  }
  return 0;
}

/* splitmix64: the hint generator. */
static uint64_t rcl_os_random(rcl_heap *h)
{
  uint64_t z = (h->prng += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

/* A random segment-aligned hint in [2^32, limit/2). */
static uintptr_t rcl_os_random_hint(rcl_heap *h, uint64_t limit)
{
  uint64_t lo = (uint64_t)1 << 32, hi = limit / 2;
  if (hi <= lo + RCL_SEGMENT_SIZE) { lo = RCL_SEGMENT_SIZE; hi = limit / 2; }
  if (hi <= lo + RCL_SEGMENT_SIZE) return 0;
  return (uintptr_t)rcl_align_down(lo + rcl_os_random(h) % (hi - lo), RCL_SEGMENT_SIZE);
}

/*
** Map `size` bytes aligned to `align` (a power of two >= page size) entirely
** below the address limit. Returns NULL (counted in mmap_failed) on failure.
*/
RCL_INTERN void *rcl_os_map(rcl_heap *h, size_t size, size_t align)
{
  uint64_t limit = rcl_os_addr_limit();
  int hints = rcl_load(&rcl_os_hints), tries;
  for (tries = 0; tries < RCL_MAP_TRIES; tries++) {
    uintptr_t hint = 0, a;
    char *p;
    if (hints) {
      hint = rcl_align_up(h->hint, align);
      if (hint == 0 || (uint64_t)hint + size > limit) hint = rcl_os_random_hint(h, limit);
    }
    p = rcl_sys_map(hint, size);
    if (!p) { h->mmap_failed++; return NULL; }
    if (((uintptr_t)p & (align - 1)) != 0) {
      /* Misaligned: first ask for the aligned address just below (free
      ** when the kernel allocates top-down), so no extra address space is
      ** needed near an address-space limit; else over-map and trim. */
      uintptr_t below = rcl_align_down((uintptr_t)p, align);
      size_t over = size + align - h->os_page_size, head, tail;
      rcl_os_unmap(h, p, size);
      p = below ? rcl_sys_map(below, size) : NULL;
      if (p && (uintptr_t)p != below) { rcl_os_unmap(h, p, size); p = NULL; }
      if (!p) {
        p = rcl_sys_map(hint, over);
        if (!p) { h->mmap_failed++; return NULL; }
        a = rcl_align_up((uintptr_t)p, align);
        head = a - (uintptr_t)p;
        tail = over - head - size;
        if (head) rcl_os_unmap(h, p, head);
        if (tail) rcl_os_unmap(h, (char *)a + size, tail);
        p = (char *)a;
      }
    }
    if ((uint64_t)(uintptr_t)p + size > limit) {
      rcl_os_unmap(h, p, size);
      h->high_rejected++;
      h->hint = rcl_os_random_hint(h, limit);
      continue;
    }
    h->hint = (uintptr_t)p + size;
    return p;
  }
  h->mmap_failed++;
  return NULL;
}

/*
** Keep transparent huge pages out of segments: with THP "always" a touched
** byte could make 2 MiB resident, purging a 4 KiB page would split a huge
** page, and khugepaged could collapse purged ranges back into huge pages,
** re-inflating RSS. Best effort (kernels without THP say EINVAL); not a
** purge, so neither counted nor subject to fault injection. Large blocks
** are left alone: they are live as a whole and never purged inside.
*/
RCL_INTERN void rcl_os_no_hugepages(void *p, size_t size)
{
#ifdef MADV_NOHUGEPAGE
  (void)madvise(p, size, MADV_NOHUGEPAGE);
#else
  (void)p; (void)size;
#endif
}

static int rcl_os_advise(rcl_heap *h, void *p, size_t size, int advice);

/* A purge of [p, p+size) in a file segment with aliases: the pages between
** them, never an alias (its target's page is not the range's to free). */
static int rcl_backing_purge_around(rcl_heap *h, char *p, size_t size)
{
  size_t i, ps = h->os_page_size;
  const rcl_backing_seg *e = rcl_backing_seg_of(h->backing, (uintptr_t)p, &i);
  const uint32_t *pg = e ? e->pages : NULL;
  char *end = p + size, *stop;
  int r = 0;
  if (!pg || !e->naliases) return rcl_os_advise(h, p, size, MADV_REMOVE);
  for (; p < end; p = stop + ps) {
    for (stop = p; stop < end && !rcl_alias_word_target((uintptr_t)stop, pg[i]); stop += ps, i++) {}
    if (stop > p && rcl_os_advise(h, p, (size_t)(stop - p), MADV_REMOVE) != 0) r = -1;
    i++;                                            /* past the alias at stop */
  }
  return r;
}

/* Give the pages of [p, p+size) back; p and size are multiples of the page
** size, and the range lies in one segment or one large mapping. A failure
** is counted and the caller keeps the range dirty. On a file segment both
** modes punch, around aliases (the backing's rules above). */
RCL_INTERN int rcl_os_purge(rcl_heap *h, void *p, size_t size)
{
  int advice = h->cfg.mode == RCL_MODE_FREE ? MADV_FREE : MADV_DONTNEED;
  if (RCL_UNLIKELY(h->backing != NULL) && rcl_backing_holds(h, p)) {
    if (h->backing->naliases) return rcl_backing_purge_around(h, (char *)p, size);
    advice = MADV_REMOVE;
  }
  return rcl_os_advise(h, p, size, advice);
}

static int rcl_os_advise(rcl_heap *h, void *p, size_t size, int advice)
{
  int r;
  if (rcl_os_fault(RCL_FAULT_MADVISE)) {
    errno = EINVAL;
    r = -1;
  } else {
    r = madvise(p, size, advice);
    if (r != 0 && errno == EINVAL && advice == MADV_FREE)
      r = madvise(p, size, MADV_DONTNEED);   /* kernel without MADV_FREE */
  }
  if (r != 0) {
    h->madvise_failed++;
    return -1;
  }
  h->purge_calls++;
  h->purged_total += size;
  return 0;
}

/* -- Memory-file backing: segments, heaps, fork ------------------------------------ */

/* Put an anonymous mapping back at p after a failed MAP_FIXED file mapping
** over the reservation there (the kernel may have removed it first). */
static int rcl_backing_restore(char *p)
{
  char *q = (char *)mmap(p, RCL_SEGMENT_SIZE, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (q == p) return 0;                             /* it was gone: fresh zeros */
  if (q == (char *)MAP_FAILED) return errno == EEXIST ? 0 : -1;  /* still there */
  munmap(q, RCL_SEGMENT_SIZE);                      /* an old kernel's hint: taken */
  return 0;
}

/*
** Map a segment (RCL_SEGMENT_SIZE, aligned to it, below the address limit):
** rcl_os_map places an anonymous reservation; on the file backing a range
** of the file (a punched one first, else the file grows) replaces it with
** MAP_FIXED. A backing failure leaves the segment anonymous (counted).
*/
RCL_INTERN void *rcl_os_map_segment(rcl_heap *h)
{
  rcl_backing *b = h->backing;
  char *p = (char *)rcl_os_map(h, RCL_SEGMENT_SIZE, RCL_SEGMENT_SIZE);
  size_t pos, ranges;
  uint64_t off;
  int injected;
  if (!p || !b || b->fd < 0) return p;
  pthread_mutex_lock(&rcl_backing_lock);
  ranges = (size_t)(b->size / RCL_SEGMENT_SIZE) + 1;
  if (rcl_backing_reserve((void **)&b->segs, &b->segs_cap, b->nsegs, b->nsegs + 1, sizeof(*b->segs)) != 0 ||
      rcl_backing_reserve((void **)&b->free_offs, &b->free_cap, b->nfree, ranges, sizeof(uint64_t)) != 0)
    goto fallback;
  if (b->nfree) {
    off = b->free_offs[--b->nfree];
  } else {
    off = b->size;
    if (rcl_os_fault(RCL_FAULT_BACKING) || !rcl_backing_fd_ok(b) ||
        ftruncate(b->fd, (off_t)(off + RCL_SEGMENT_SIZE)) != 0)
      goto fallback;
    b->size = off + RCL_SEGMENT_SIZE;
  }
  injected = rcl_os_fault(RCL_FAULT_BACKING);
  if (injected ||
      mmap(p, RCL_SEGMENT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, b->fd, (off_t)off) != p) {
    int lost = !injected && rcl_backing_restore(p) != 0;
    b->free_offs[b->nfree++] = off;                 /* never mapped: still zero */
    if (lost) {
      b->fallbacks++;
      h->mmap_failed++;
      pthread_mutex_unlock(&rcl_backing_lock);
      return NULL;
    }
    goto fallback;
  }
  rcl_backing_find(b, (uintptr_t)p, &pos);
  memmove(&b->segs[pos + 1], &b->segs[pos], (b->nsegs - pos) * sizeof(*b->segs));
  b->segs[pos].addr = (uintptr_t)p;
  b->segs[pos].off = off;
  b->segs[pos].pages = NULL;
  b->segs[pos].naliases = b->segs[pos].ntargeted = 0;
  b->nsegs++;
  pthread_mutex_unlock(&rcl_backing_lock);
  return p;
fallback:
  b->fallbacks++;
  pthread_mutex_unlock(&rcl_backing_lock);
  return p;
}

/* The backing a new heap asks for: the memory file with mesh=on, else
** anonymous memory; in test builds a hook or LUAJIT_RECLAIM_TEST_BACKING
** overrides the option (docs/mesh.md). */
#ifdef RCL_TEST_HOOKS
static int rcl_backing_choice = RCL_BACKING_ENV;

RCL_API void rcl_test_set_backing(int backing) { rcl_store(&rcl_backing_choice, backing); }

static int rcl_backing_wanted(int mesh)
{
  int c = rcl_load(&rcl_backing_choice);
  const char *env;
  if (c != RCL_BACKING_ENV) return c == RCL_BACKING_FILE;
  env = getenv("LUAJIT_RECLAIM_TEST_BACKING");
  if (!env || !*env) return mesh;
  if (strcmp(env, "anon") == 0) return 0;
  if (strcmp(env, "file") == 0) return 1;
  fprintf(stderr, "luajit-reclaim: LUAJIT_RECLAIM_TEST_BACKING: '%s' is not a backing "
          "(expected file or anon)\n", env);
  abort();
}
#else
static int rcl_backing_wanted(int mesh) { return mesh; }
#endif

static void rcl_backing_prepare(void);
static void rcl_backing_parent(void);
static void rcl_backing_child(void);
static pthread_once_t rcl_backing_once = PTHREAD_ONCE_INIT;

static void rcl_backing_register(void)
{
  pthread_atfork(rcl_backing_prepare, rcl_backing_parent, rcl_backing_child);
}

/*
** Give a new heap its backing. The fork handlers are registered at the
** first heap creation, whatever its backing, so before rcl_bg.c's (which
** need a heap registered with the background thread): prepare handlers run
** in reverse order of registration, so rcl_bg's takes the heap locks first
** and this one takes rcl_backing_lock after them, the order of every other
** path (heap lock, then rcl_backing_lock).
*/
RCL_INTERN void rcl_os_backing_init(rcl_heap *h)
{
  rcl_backing *b;
  pthread_once(&rcl_backing_once, rcl_backing_register);
  if (!rcl_backing_wanted(h->cfg.mesh)) return;
  b = (rcl_backing *)rcl_backing_alloc(sizeof(*b));
  if (!b) return;                        /* anonymous; the heap's own maps will fail too */
  b->fd = rcl_backing_memfd(b);
  if (b->fd < 0) b->fallbacks++;
  pthread_mutex_lock(&rcl_backing_lock);
  b->next = rcl_backings;
  rcl_backings = b;
  pthread_mutex_unlock(&rcl_backing_lock);
  h->backing = b;
}

RCL_INTERN void rcl_os_backing_destroy(rcl_heap *h)
{
  rcl_backing *b = h->backing, **pp;
  if (!b) return;
  pthread_mutex_lock(&rcl_backing_lock);
  for (pp = &rcl_backings; *pp && *pp != b; pp = &(*pp)->next) {}
  if (*pp) *pp = b->next;
  pthread_mutex_unlock(&rcl_backing_lock);
  if (b->fd >= 0 && rcl_backing_fd_ok(b)) close(b->fd);
  {
    size_t i;
    for (i = 0; i < b->nsegs; i++) rcl_backing_pages_free(&b->segs[i]);
  }
  rcl_backing_dealloc(b->segs, b->segs_cap * sizeof(*b->segs));
  rcl_backing_dealloc(b->free_offs, b->free_cap * sizeof(uint64_t));
  rcl_backing_dealloc(b, sizeof(*b));
  h->backing = NULL;
}

/* -- Aliases (meshing) -- */

/*
** Make the OS page `page` an alias of `target` (both OS pages of h's file
** segments): page then maps target's physical page, and page's own range
** is punched. The caller (the mesher) has copied into target what it keeps
** of page. Rules: page != target, neither is an alias, and no alias maps
** page's own range, target lies within RCL_ALIAS_DIST_MAX pages of page and
** has fewer than RCL_ALIAS_COUNT_MAX aliases; a call breaking them returns
** -1 and changes nothing.
** A failure of the OS calls returns -1 too, with page unchanged (counted
** in alias_failed).
*/
RCL_INTERN int rcl_os_page_alias(rcl_heap *h, void *page, const void *target)
{
  rcl_backing *b = h->backing;
  rcl_backing_seg *pe, *te;
  uint32_t *pp, *tp, word;
  uintptr_t pg = (uintptr_t)page, tg = (uintptr_t)target;
  size_t ps = h->os_page_size, pi, ti;
  uint64_t own;
  int r = -1;
  if (!b || ((pg | tg) & (ps - 1)) != 0 || pg == tg || !(word = rcl_alias_word_of(pg, tg))) return -1;
  pthread_mutex_lock(&rcl_backing_lock);
  pe = rcl_backing_seg_of(b, pg, &pi);
  te = rcl_backing_seg_of(b, tg, &ti);
  if (!pe || !te || rcl_backing_alias_target(b, pg) || rcl_backing_alias_target(b, tg) ||
      rcl_backing_targeted(b, pg) ||
      (te->pages && rcl_alias_word_count(te->pages[ti]) == RCL_ALIAS_COUNT_MAX))
    goto out;                                       /* the caller broke a rule */
  own = pe->off + (pg & (RCL_SEGMENT_SIZE - 1));
  pp = rcl_backing_pages_of(pe, 1);
  tp = rcl_backing_pages_of(te, 1);
  if (!pp || !tp || !rcl_backing_fd_ok(b) || rcl_os_fault(RCL_FAULT_BACKING))
    goto failed;
  /* Map the target's file page at page's address (qemu-user does not
  ** emulate mremap's old size 0, which would duplicate target's mapping). */
  if (mmap(page, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, b->fd,
           (off_t)(te->off + (tg & (RCL_SEGMENT_SIZE - 1)))) != page) {
    /* The kernel may have unmapped page first: its own range still holds
    ** its contents (not punched yet), so map it back. */
    RCL_ASSERT(mmap(page, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, b->fd, (off_t)own) == page,
               "cannot restore a page after a failed alias");
    goto failed;
  }
  if (fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)own, (off_t)ps) != 0) {
    b->punch_failed++;                              /* stays allocated until unaliased */
    h->madvise_failed++;
  }
  pp[pi] = word;
  pe->naliases++;
  tp[ti]++;
  te->ntargeted++;
  b->naliases++;
  r = 0;
  goto out;
failed:
  b->alias_failed++;
out:
  pthread_mutex_unlock(&rcl_backing_lock);
  return r;
}

/*
** Point the alias `page` at another target: page then maps new_target's
** physical page (its own range stays punched). The caller has copied into
** new_target what page keeps. Rules: page is an alias of another target,
** new_target is no alias, lies within RCL_ALIAS_DIST_MAX pages of page and
** has fewer than RCL_ALIAS_COUNT_MAX aliases; a call breaking them returns
** -1 and changes nothing. A failure of the OS calls returns -1 too, with
** page still mapping its old target (counted in alias_failed).
*/
RCL_INTERN int rcl_os_page_realias(rcl_heap *h, void *page, const void *new_target)
{
  rcl_backing *b = h->backing;
  rcl_backing_seg *pe, *oe, *te;
  uintptr_t pg = (uintptr_t)page, tg = (uintptr_t)new_target, old;
  size_t ps = h->os_page_size, pi, oi, ti;
  uint32_t word;
  int r = -1;
  if (!b || ((pg | tg) & (ps - 1)) != 0 || pg == tg || !(word = rcl_alias_word_of(pg, tg))) return -1;
  pthread_mutex_lock(&rcl_backing_lock);
  pe = rcl_backing_seg_of(b, pg, &pi);
  te = rcl_backing_seg_of(b, tg, &ti);
  old = pe && pe->pages ? rcl_alias_word_target(pg, pe->pages[pi]) : 0;
  if (!pe || !te || !old || old == tg || rcl_backing_alias_target(b, tg) ||
      (te->pages && rcl_alias_word_count(te->pages[ti]) == RCL_ALIAS_COUNT_MAX))
    goto out;                                       /* the caller broke a rule */
  oe = rcl_backing_seg_of(b, old, &oi);
  RCL_ASSERT(oe && oe->pages && rcl_alias_word_count(oe->pages[oi]), "an alias without its target");
  if (!rcl_backing_pages_of(te, 1) || !rcl_backing_fd_ok(b) || rcl_os_fault(RCL_FAULT_BACKING))
    goto failed;
  if (mmap(page, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, b->fd,
           (off_t)(te->off + (tg & (RCL_SEGMENT_SIZE - 1)))) != page) {
    RCL_ASSERT(mmap(page, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, b->fd,
                    (off_t)(oe->off + (old & (RCL_SEGMENT_SIZE - 1)))) == page,
               "cannot restore an alias after a failed realias");
    goto failed;
  }
  pe->pages[pi] = word;
  oe->pages[oi]--;
  oe->ntargeted--;
  te->pages[ti]++;
  te->ntargeted++;
  r = 0;
  goto out;
failed:
  b->alias_failed++;
out:
  pthread_mutex_unlock(&rcl_backing_lock);
  return r;
}

/* Map the alias `page` back onto its own range, which reads as zeros.
** -1 if page is no alias; -1 with page still an alias if the mapping fails
** (counted in alias_failed). */
RCL_INTERN int rcl_os_page_unalias(rcl_heap *h, void *page)
{
  rcl_backing *b = h->backing;
  rcl_backing_seg *pe, *te;
  size_t ps = h->os_page_size, pi, ti;
  uintptr_t tg;
  uint64_t own;
  int r = -1;
  if (!b) return -1;
  pthread_mutex_lock(&rcl_backing_lock);
  pe = rcl_backing_seg_of(b, (uintptr_t)page, &pi);
  tg = pe && pe->pages ? rcl_alias_word_target((uintptr_t)page, pe->pages[pi]) : 0;
  if (!tg) goto out;
  te = rcl_backing_seg_of(b, tg, &ti);
  RCL_ASSERT(te && te->pages && rcl_alias_word_count(te->pages[ti]), "an alias without its target");
  own = pe->off + ((uintptr_t)page & (RCL_SEGMENT_SIZE - 1));
  if (!rcl_backing_fd_ok(b) || rcl_os_fault(RCL_FAULT_BACKING)) {
    b->alias_failed++;
    goto out;
  }
  if (mmap(page, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, b->fd, (off_t)own) != page) {
    RCL_ASSERT(mmap(page, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, b->fd,
                    (off_t)(te->off + (tg & (RCL_SEGMENT_SIZE - 1)))) == page,
               "cannot restore an alias after a failed unalias");
    b->alias_failed++;
    goto out;
  }
  pe->pages[pi] = 0;
  pe->naliases--;
  te->pages[ti]--;
  te->ntargeted--;
  b->naliases--;
  r = 0;
out:
  pthread_mutex_unlock(&rcl_backing_lock);
  return r;
}

/* -- fork -- */

static int rcl_backing_sync[2] = { -1, -1 };   /* the child -> parent pipe of one fork */

/* The kernel copies the allocated ranges (SEEK_DATA) of e's part of b's
** file to the same offsets of the new file nfd (copy_file_range): the child
** neither reads nor faults in a page here, so fork() returns sooner in the
** parent, and the new file's pages fault in as the child touches them.
** Aliases do not matter: a target's page is copied once, at its own
** offset. 0, or -1 when the kernel refuses (ENOSYS, EXDEV, a seccomp
** filter; a failure injected as RCL_FAULT_BACKING): the caller then copies
** through mappings, over whatever part this copied. */
static int rcl_backing_copy_file(const rcl_backing *b, const rcl_backing_seg *e, int nfd)
{
  uint64_t pos = e->off, end = e->off + RCL_SEGMENT_SIZE;
  if (rcl_os_fault(RCL_FAULT_BACKING)) return -1;
  while (pos < end) {
    off_t in = lseek(b->fd, (off_t)pos, SEEK_DATA), hole, out;
    if (in < 0) return errno == ENXIO ? 0 : -1;       /* ENXIO: no data after pos */
    if ((uint64_t)in >= end) break;
    hole = lseek(b->fd, in, SEEK_HOLE);
    if (hole < 0 || (uint64_t)hole > end) hole = (off_t)end;
    out = in;
    while (in < hole) {
      ssize_t n = copy_file_range(b->fd, &in, nfd, &out, (size_t)(hole - in), 0);
      if (n <= 0) return -1;
    }
    pos = (uint64_t)hole;
  }
  return 0;
}

/* Copy segment e into a mapping of the same range of the new file nfd, or
** of anonymous memory when nfd < 0, and move that mapping over e's
** address; 0 or -1 (e's mapping unchanged). With the old file at hand
** (old_ok), the kernel copies file to file (rcl_backing_copy_file), or,
** if it refuses, its allocated pages are read from it (SEEK_DATA); either
** way aliases do not matter: a target's page is copied once, at its own
** offset. Else every page that is no alias is copied from its address. On
** anonymous memory an alias gets its own copy of the page it maps. */
static int rcl_backing_copy_segment(rcl_backing *b, const rcl_backing_seg *e, int nfd, int old_ok)
{
  char *seg = (char *)e->addr, *t, *src = NULL;
  size_t ps = rcl_os_page_size(), x;
  const uint32_t *alias = e->pages && e->naliases ? e->pages : NULL;
  uint64_t pos = e->off, end = e->off + RCL_SEGMENT_SIZE;
  t = (char *)mmap(NULL, RCL_SEGMENT_SIZE, PROT_READ | PROT_WRITE,
                   nfd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS, nfd, nfd >= 0 ? (off_t)e->off : 0);
  if (t == (char *)MAP_FAILED) return -1;
  if (nfd >= 0 && old_ok && rcl_backing_copy_file(b, e, nfd) == 0) {
    /* Copied by the kernel. */
  } else if (old_ok &&
             (src = (char *)mmap(NULL, RCL_SEGMENT_SIZE, PROT_READ, MAP_SHARED, b->fd,
                                 (off_t)e->off)) != (char *)MAP_FAILED) {
    while (pos < end) {
      off_t data = lseek(b->fd, (off_t)pos, SEEK_DATA), hole;
      if (data < 0 || (uint64_t)data >= end) break;   /* ENXIO: no data after pos */
      hole = lseek(b->fd, data, SEEK_HOLE);
      if (hole < 0 || (uint64_t)hole > end) hole = (off_t)end;
      memcpy(t + (data - (off_t)e->off), src + (data - (off_t)e->off), (size_t)(hole - data));
      pos = (uint64_t)hole;
    }
    munmap(src, RCL_SEGMENT_SIZE);
  } else {
    for (x = 0; x < RCL_SEGMENT_SIZE; x += ps)
      if (!alias || !rcl_alias_word_target((uintptr_t)seg + x, alias[x / ps])) memcpy(t + x, seg + x, ps);
  }
  if (nfd < 0 && alias)
    for (x = 0; x < RCL_SEGMENT_SIZE; x += ps)
      if (rcl_alias_word_target((uintptr_t)seg + x, alias[x / ps])) memcpy(t + x, seg + x, ps);
  if (mremap(t, RCL_SEGMENT_SIZE, RCL_SEGMENT_SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, seg) != seg) {
    munmap(t, RCL_SEGMENT_SIZE);
    if (nfd >= 0) fallocate(nfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)e->off,
                            (off_t)RCL_SEGMENT_SIZE);
    return -1;
  }
  rcl_os_no_hugepages(seg, RCL_SEGMENT_SIZE);
  return 0;
}

/* The segment entry holding page, moved to anonymous memory (bit 0 of addr
** set) or not; NULL if none. */
static rcl_backing_seg *rcl_backing_find_any(const rcl_backing *b, uintptr_t page)
{
  size_t lo = 0, hi = b->nsegs;
  uintptr_t addr = rcl_align_down(page, RCL_SEGMENT_SIZE);
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if ((b->segs[mid].addr & ~(uintptr_t)1) < addr) lo = mid + 1; else hi = mid;
  }
  return lo < b->nsegs && (b->segs[lo].addr & ~(uintptr_t)1) == addr ? &b->segs[lo] : NULL;
}

/* In the child: give b's heap a file of its own (or anonymous memory). A
** segment that can be copied neither way would stay shared with the
** parent: the child aborts with a message instead. Segments moved to
** anonymous memory are marked (bit 0 of addr) until the aliases are
** redone: an alias whose page or target went anonymous becomes a private
** copy of the page it mapped (still right for every block through it). */
static void rcl_backing_copy(rcl_backing *b)
{
  int old_ok, nfd;
  size_t i, kept = 0, ps = rcl_os_page_size();
  rcl_backing scratch = { 0 };
  if (b->fd < 0) return;                  /* anonymous: private already */
  old_ok = rcl_backing_fd_ok(b);
  nfd = rcl_backing_memfd(&scratch);
  if (nfd >= 0 && ftruncate(nfd, (off_t)b->size) != 0) {
    close(nfd);
    nfd = -1;
  }
  for (i = 0; i < b->nsegs; i++) {
    rcl_backing_seg *e = &b->segs[i];
    if (nfd >= 0 && rcl_backing_copy_segment(b, e, nfd, old_ok) == 0) continue;
    b->fallbacks++;
    if (rcl_backing_copy_segment(b, e, -1, old_ok) != 0) {
      fprintf(stderr, "luajit-reclaim: fork: cannot copy the heap segment at %p into the "
              "child's own memory (%s)\n", (void *)e->addr, strerror(errno));
      abort();
    }
    e->addr |= 1;
  }
  /* The aliases of segments still on a file map the new file, or, when
  ** their target went anonymous, become a copy of it. Then the counts are
  ** made again from the aliases kept. */
  for (i = 0; i < b->nsegs; i++) {
    rcl_backing_seg *e = &b->segs[i];
    size_t x, n = rcl_backing_npages();
    e->ntargeted = 0;
    if (!e->pages) continue;
    for (x = 0; x < n; x++)
      if (rcl_alias_word_count(e->pages[x])) e->pages[x] = 0;
  }
  b->naliases = 0;
  for (i = 0; i < b->nsegs; i++) {
    rcl_backing_seg *e = &b->segs[i];
    uint32_t *pg = e->pages;
    size_t x, n = rcl_backing_npages();
    e->naliases = 0;
    if (!pg) continue;
    for (x = 0; x < n; x++) {
      uintptr_t page = (e->addr & ~(uintptr_t)1) + x * ps, tg = rcl_alias_word_target(page, pg[x]);
      uint32_t word = pg[x];
      rcl_backing_seg *te;
      void *m;
      if (!tg) continue;
      pg[x] = 0;
      if (e->addr & 1) continue;            /* anonymous: copied with its segment */
      te = rcl_backing_find_any(b, tg);
      RCL_ASSERT(te != NULL, "an alias without a target segment");
      if (!(te->addr & 1)) {
        m = mmap((void *)page, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, nfd,
                 (off_t)(te->off + (tg & (RCL_SEGMENT_SIZE - 1))));
        if (m == (void *)page) {
          pg[x] = word;
          e->naliases++;
          te->pages[(tg & (RCL_SEGMENT_SIZE - 1)) / ps]++;
          te->ntargeted++;
          b->naliases++;
          continue;
        }
      }
      /* The target is anonymous now (or the mapping failed): a copy of it. */
      memcpy((void *)page, (const void *)tg, ps);
    }
  }
  for (i = 0; i < b->nsegs; i++)
    if (b->segs[i].addr & 1) rcl_backing_pages_free(&b->segs[i]);
  for (i = kept = 0; i < b->nsegs; i++)
    if (!(b->segs[i].addr & 1)) b->segs[kept++] = b->segs[i];
  b->nsegs = kept;
  if (old_ok) close(b->fd);
  b->fd = nfd;
  if (nfd >= 0) {
    b->ino = scratch.ino;
    b->dev = scratch.dev;
  } else {
    b->fallbacks++;
    b->nfree = 0;                         /* no file: its ranges are gone */
  }
  b->fork_copies++;
}

static int rcl_backing_any_file(void)
{
  const rcl_backing *b;
  for (b = rcl_backings; b; b = b->next)
    if (b->fd >= 0) return 1;
  return 0;
}

static void rcl_backing_prepare(void)
{
  int saved = errno;
  pthread_mutex_lock(&rcl_backing_lock);
  rcl_backing_sync[0] = rcl_backing_sync[1] = -1;
  if (rcl_backing_any_file() && pipe2(rcl_backing_sync, O_CLOEXEC) != 0)
    rcl_backing_sync[0] = rcl_backing_sync[1] = -1;   /* the parent cannot wait */
  errno = saved;
}

/* The parent returns from fork() once the child has its copies (a byte) or
** has died (end of file). */
static void rcl_backing_parent(void)
{
  int saved = errno;
  char c;
  if (rcl_backing_sync[0] >= 0) {
    close(rcl_backing_sync[1]);
    while (read(rcl_backing_sync[0], &c, 1) < 0 && errno == EINTR) {}
    close(rcl_backing_sync[0]);
  }
  pthread_mutex_unlock(&rcl_backing_lock);
  errno = saved;
}

static void rcl_backing_child(void)
{
  int saved = errno;
  rcl_backing *b;
  char c = 1;
#ifdef RCL_VALGRIND
  VALGRIND_DISABLE_ERROR_REPORTING;     /* the copy reads free (no-access) memory */
#endif
  for (b = rcl_backings; b; b = b->next) rcl_backing_copy(b);
#ifdef RCL_VALGRIND
  VALGRIND_ENABLE_ERROR_REPORTING;
#endif
  if (rcl_backing_sync[0] >= 0) {
    close(rcl_backing_sync[0]);
    while (write(rcl_backing_sync[1], &c, 1) < 0 && errno == EINTR) {}
    close(rcl_backing_sync[1]);
  }
  pthread_mutex_unlock(&rcl_backing_lock);
  errno = saved;
}

#ifdef RCL_TEST_HOOKS
RCL_API int rcl_test_backing(rcl_heap *h, rcl_backing_info *info)
{
  const rcl_backing *b = h->backing;
  struct stat st;
  size_t ps = rcl_os_page_size(), i;
  memset(info, 0, sizeof(*info));
  info->fd = -1;
  if (h->mesh_tab) info->table_bytes = rcl_align_up(h->mesh_cap * h->mesh_stride, h->os_page_size);
  if (h->mesh_old) info->table_bytes += rcl_align_up(h->mesh_old_cap * h->mesh_stride, h->os_page_size);
  if (h->mesh_spill)
    info->table_bytes += rcl_align_up(h->mesh_spill_cap * h->mesh_words * sizeof(uint64_t), h->os_page_size);
  if (!b) return 0;
  info->table_bytes += rcl_align_up(sizeof(*b), ps);
  if (b->segs) info->table_bytes += rcl_align_up(b->segs_cap * sizeof(*b->segs), ps);
  if (b->free_offs) info->table_bytes += rcl_align_up(b->free_cap * sizeof(uint64_t), ps);
  for (i = 0; i < b->nsegs; i++)
    if (b->segs[i].pages) info->table_bytes += rcl_align_up(rcl_backing_pages_bytes(), ps);
  info->file = 1;
  info->fd = b->fd;
  info->file_segments = b->nsegs;
  info->file_size = b->size;
  info->fallbacks = b->fallbacks;
  info->punch_failed = b->punch_failed;
  info->fork_copies = b->fork_copies;
  info->aliases = b->naliases;
  info->alias_failed = b->alias_failed;
  if (b->fd < 0) return 0;
  if (fstat(b->fd, &st) != 0) return -1;
  info->file_ino = (uint64_t)st.st_ino;
  info->file_allocated = (uint64_t)st.st_blocks * 512u;
  return 0;
}

RCL_API int rcl_test_page_alias(rcl_heap *h, void *page, const void *target)
{
  return rcl_os_page_alias(h, page, target);
}

RCL_API int rcl_test_page_unalias(rcl_heap *h, void *page) { return rcl_os_page_unalias(h, page); }
#endif

/* mremap; `to` is the target of MREMAP_FIXED (NULL otherwise). */
static void *rcl_sys_remap(void *p, size_t oldsize, size_t newsize, int flags, void *to)
{
  void *r;
  if (rcl_os_fault(RCL_FAULT_MREMAP)) { errno = EINVAL; return NULL; }
  r = to ? mremap(p, oldsize, newsize, flags, to) : mremap(p, oldsize, newsize, flags);
  return r == MAP_FAILED ? NULL : r;
}

/*
** Resize the mapping of a large block (sizes page-rounded). Order: mremap in
** place; else reserve the target first (a fresh mapping placed below the
** address limit by rcl_os_map) and move the block onto it with
** MREMAP_FIXED, which replaces the reservation atomically; if that move
** fails, copy into the reservation and unmap the old block. The old range
** is never vacated before the new one is ours, so no other thread's mapping
** can land where the block was, and nothing is ever moved back. Returns the
** new address or NULL with the old mapping intact. An in-place attempt
** failing with ENOMEM (a neighbour in the way) is normal and not counted;
** every other mremap failure is.
*/
RCL_INTERN void *rcl_os_remap(rcl_heap *h, void *p, size_t oldsize, size_t newsize)
{
  size_t keep = oldsize < newsize ? oldsize : newsize;
  char *q;
  void *r;
  if (rcl_sys_remap(p, oldsize, newsize, 0, NULL)) return p;
  if (errno != ENOMEM) h->mremap_failed++;
  q = (char *)rcl_os_map(h, newsize, h->os_page_size);
  if (!q) return NULL;
  r = rcl_sys_remap(p, oldsize, newsize, MREMAP_MAYMOVE | MREMAP_FIXED, q);
  if (r == q) return q;
  h->mremap_failed++;
  memcpy(q, p, keep);
  rcl_os_unmap(h, p, oldsize);
  return q;
}
