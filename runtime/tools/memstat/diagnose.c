/*
** diagnose.c: the one plain-language diagnosis line of a process, chosen by
** the first rule that holds, in the order below. luajit-memstat(1) lists
** the same rules under DIAGNOSIS; a change here changes it there.
**
**   not_reclaim     no registry in /proc/PID/maps
**   registry_error  a registry that cannot be read (permission, format)
**   no_heap         a registry with no live heap
**   busy            every listed heap was being written at every read
**   cgroup_limit    headroom below 10% of the binding cgroup limit
**   map_failed      the heaps failed to map memory (mmap/mremap) at least once
**   purge_failed    madvise/munmap failed at least once
**   then, of these four, among those whose condition holds, the one that
**   explains the most bytes (ties: this order):
**     garbage       in_use - gc_estimate >= 8 MiB and >= 25% of in_use,
**                   over heaps whose last publish was a walk
**     free_dirty    resident - metadata - floor (free pages without a live
**                   block) >= 4 MiB and >= 25% of resident
**     fragmented    floor - in_use (free space in pages that hold a live
**                   block) >= 8 MiB and >= 25% of floor
**     outside_heap  the rest of the RSS >= 32 MiB and >= 50% of VmRSS
**   live_fills      resident - floor <= max(1 MiB, 10% of resident)
**   steady          none of the above
** A rule that rests on walk figures older than the heap's last publish by
** 1 s or more says so at its end.
**
** Invariants: exactly one rule is chosen; the text names the figures it
** rests on; "idle" means the newest publish of the heaps is MS_IDLE_MS or
** more old (an owner publishes at every GC cycle end, so a working state
** publishes often).
*/
#define _GNU_SOURCE
#include <stdarg.h>
#include <string.h>

#include "memstat.h"
#include "rcl.h"

#define MIB (1024ull * 1024)

/* Human figures for the text, in rotating buffers. */
static const char *hb(uint64_t bytes)
{
  static char ring[8][24];
  static int next;
  char *b = ring[next++ & 7];
  ms_fmt_bytes(b, sizeof(ring[0]), bytes);
  return b;
}

static int pct(uint64_t part, uint64_t whole)
{
  return whole ? (int)((100.0 * (double)part / (double)whole) + 0.5) : 0;
}

static void say(ms_proc *p, const char *rule, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static void say(ms_proc *p, const char *rule, const char *fmt, ...)
{
  va_list ap;
  p->rule = rule;
  va_start(ap, fmt);
  vsnprintf(p->diagnosis, sizeof(p->diagnosis), fmt, ap);
  va_end(ap);
}

/* Facts over the readable heaps that several rules use. */
typedef struct facts {
  uint64_t newest_ms;          /* newest published_ms */
  uint64_t walked_in_use, walked_estimate;  /* heaps whose last publish walked */
  int any_off, any_background, all_background;
  uint64_t max_decay_ms;
  uint64_t walk_lag_ms;        /* most a walk predates its heap's last publish */
} facts;

static void gather(const ms_proc *p, facts *x)
{
  int i, n = 0;
  memset(x, 0, sizeof(*x));
  x->all_background = 1;
  for (i = 0; i < p->nheaps; i++) {
    const rcl_registry_slot *s = &p->heaps[i].s;
    if (p->heaps[i].busy) continue;
    n++;
    if (s->published_ms > x->newest_ms) x->newest_ms = s->published_ms;
    if (s->walked_ms == s->published_ms) {
      x->walked_in_use += s->in_use;
      x->walked_estimate += s->gc_estimate;
    }
    if (s->mode == RCL_MODE_OFF) x->any_off = 1;
    if (s->background) x->any_background = 1;
    else x->all_background = 0;
    if (s->decay_ms > x->max_decay_ms) x->max_decay_ms = s->decay_ms;
    if (s->published_ms > s->walked_ms && s->published_ms - s->walked_ms > x->walk_lag_ms)
      x->walk_lag_ms = s->published_ms - s->walked_ms;
  }
  if (!n) x->all_background = 0;
}

static int registry_rules(ms_proc *p)
{
  int i;
  uint64_t created = 0, unlisted = 0;
  if (!p->nregs) {
    if (p->luajit_lib[0])
      say(p, "not_reclaim", "not using luajit-reclaim: no registry in /proc/%d/maps; "
          "it maps %s (another LuaJIT, or no Lua state created yet)", p->pid, p->luajit_lib);
    else if (strstr(p->exe, "/luajit"))
      say(p, "not_reclaim", "not using luajit-reclaim: no registry in /proc/%d/maps; "
          "its executable %s has a LuaJIT linked in", p->pid, p->exe);
    else
      say(p, "not_reclaim", "not using luajit-reclaim: no registry in /proc/%d/maps "
          "and no libluajit-5.1.so mapped", p->pid);
    return 1;
  }
  for (i = 0; i < p->nregs; i++) {
    if (!p->regs[i].ok) {
      say(p, "registry_error", "luajit-reclaim registry unreadable: %s", p->regs[i].error);
      return 1;
    }
    created += p->regs[i].hdr.heaps_created;
    unlisted += p->regs[i].hdr.heaps_unlisted;
  }
  if (!p->nheaps) {
    if (unlisted)
      say(p, "no_heap", "%llu live heap%s not listed: the registry was full when they "
          "were created", (unsigned long long)unlisted, unlisted == 1 ? " is" : "s are");
    else
      say(p, "no_heap", "luajit-reclaim is loaded but no Lua state is alive "
          "(%llu created, all closed)", (unsigned long long)created);
    return 1;
  }
  if (!p->sum.heaps) {
    say(p, "busy", "every heap was being written at each of several reads: "
        "try again");
    return 1;
  }
  return 0;
}

static int trouble_rules(ms_proc *p)
{
  const ms_heapsum *s = &p->sum;
  if (p->cg.version && p->cg.headroom < p->cg.limit / 10) {
    say(p, "cgroup_limit", "only %s left below the memory limit of %s of cgroup %s "
        "(usage %s): the kernel reclaims, then kills, at the limit",
        hb(p->cg.headroom), hb(p->cg.limit), p->cg.limit_path, hb(p->cg.usage));
    return 1;
  }
  if (s->mmap_failed + s->mremap_failed) {
    say(p, "map_failed", "the heap could not map memory %llu time%s (mmap %llu, mremap "
        "%llu): a memory limit, overcommit or the address space stopped it growing",
        (unsigned long long)(s->mmap_failed + s->mremap_failed),
        s->mmap_failed + s->mremap_failed == 1 ? "" : "s",
        (unsigned long long)s->mmap_failed, (unsigned long long)s->mremap_failed);
    return 1;
  }
  if (s->madvise_failed + s->munmap_failed) {
    say(p, "purge_failed", "giving memory back failed %llu time%s (madvise %llu, munmap "
        "%llu): that memory stays resident",
        (unsigned long long)(s->madvise_failed + s->munmap_failed),
        s->madvise_failed + s->munmap_failed == 1 ? "" : "s",
        (unsigned long long)s->madvise_failed, (unsigned long long)s->munmap_failed);
    return 1;
  }
  return 0;
}

/* The heap rules that hold compete; the one explaining most bytes wins. */
enum { CAND_GARBAGE, CAND_FREE, CAND_FRAG, CAND_OUTSIDE, CAND_N };

static int heap_rules(ms_proc *p, const facts *x, uint64_t now_ms)
{
  const ms_heapsum *s = &p->sum;
  uint64_t age = now_ms > x->newest_ms ? now_ms - x->newest_ms : 0;
  uint64_t bytes[CAND_N] = { 0 }, fixed = s->metadata + s->floor;
  int idle = age >= MS_IDLE_MS, best = -1, i;
  if (x->walked_in_use > x->walked_estimate) {
    uint64_t g = x->walked_in_use - x->walked_estimate;
    if (g >= 8 * MIB && g >= x->walked_in_use / 4) bytes[CAND_GARBAGE] = g;
  }
  /* Free pages with no live block: what a purge can give back. */
  if (s->resident > fixed) {
    uint64_t r = s->resident - fixed;
    if (r >= 4 * MIB && r >= s->resident / 4) bytes[CAND_FREE] = r;
  }
  if (s->floor > s->in_use) {
    uint64_t f = s->floor - s->in_use;
    if (f >= 8 * MIB && f >= s->floor / 4) bytes[CAND_FRAG] = f;
  }
  if (p->have_rest && p->rest_rss >= 32 * MIB && p->rest_rss >= p->st.vm_rss / 2)
    bytes[CAND_OUTSIDE] = p->rest_rss;
  for (i = 0; i < CAND_N; i++)
    if (bytes[i] && (best < 0 || bytes[i] > bytes[best])) best = i;
  switch (best) {
  case CAND_GARBAGE:
    if (idle)
      say(p, "garbage", "%s is garbage not yet collected: the worker is idle (nothing "
          "published for %.0f s), and the GC runs only when Lua allocates",
          hb(bytes[best]), (double)age / 1000.0);
    else
      say(p, "garbage", "%s is garbage not yet collected: in use %s, the GC's live "
          "estimate %s; the next GC cycle frees it", hb(bytes[best]),
          hb(x->walked_in_use), hb(x->walked_estimate));
    return 1;
  case CAND_FREE: {
    const char *why;
    char buf[128];
    if (x->any_off) {
      why = "purging is off (mode=off)";
    } else if (!idle && age < x->max_decay_ms) {
      snprintf(buf, sizeof(buf), "it was freed less than the decay time (%llu ms) ago "
               "and goes at a coming purge pass", (unsigned long long)x->max_decay_ms);
      why = buf;
    } else if (idle && !x->any_background) {
      why = "the worker is idle and background purging is off "
            "(LUAJIT_RECLAIM=background=on)";
    } else {
      why = "decay or an idle worker without background purging";
    }
    say(p, "free_dirty", "%d%% of the heap's resident memory (%s) is free and not yet "
        "returned: %s", pct(bytes[best], s->resident), hb(bytes[best]), why);
    return 1;
  }
  case CAND_FRAG:
    say(p, "fragmented", "fragmented: %s, %d%% of the pages that hold live blocks, is "
        "free space between survivors; it comes back only as they die",
        hb(bytes[best]), pct(bytes[best], s->floor));
    return 1;
  case CAND_OUTSIDE:
    if (MS_HAVE_ST(p, rss_shmem) && p->st.rss_shmem >= p->st.vm_rss / 4)
      say(p, "outside_heap", "%d%% of the RSS (%s) is outside the Lua heaps; %s of it "
          "is shared memory (RssShmem: nginx shared dicts count in every worker's RSS, "
          "see PSS)", pct(p->rest_rss, p->st.vm_rss), hb(p->rest_rss), hb(p->st.rss_shmem));
    else
      say(p, "outside_heap", "%d%% of the RSS (%s) is outside the Lua heaps: the host "
          "program, C libraries, JIT code and stacks", pct(p->rest_rss, p->st.vm_rss),
          hb(p->rest_rss));
    return 1;
  }
  return 0;
}

/* The walk figures the heap rules rest on may predate the last publish
** (a cycle end walks at most once a second): say so. */
static void note_walk_lag(ms_proc *p, const facts *x)
{
  size_t n = strlen(p->diagnosis);
  if (x->walk_lag_ms >= 1000 && n < sizeof(p->diagnosis))
    snprintf(p->diagnosis + n, sizeof(p->diagnosis) - n, " (heap walk %.1f s older "
             "than the last publish)", (double)x->walk_lag_ms / 1000.0);
}

void ms_diagnose(ms_proc *p, uint64_t now_ms)
{
  facts x;
  const ms_heapsum *s = &p->sum;
  uint64_t slack;
  if (registry_rules(p) || trouble_rules(p)) return;
  gather(p, &x);
  if (!heap_rules(p, &x, now_ms)) {
    slack = s->resident > s->floor ? s->resident - s->floor : 0;
    if (slack <= MIB || slack <= s->resident / 10)
      say(p, "live_fills", "live data fills the heap: nothing to return (resident %s, "
          "pages holding live blocks %s)", hb(s->resident), hb(s->floor));
    else
      say(p, "steady", "steady: %s in use of %s resident; %s free, below the thresholds "
          "of luajit-memstat(1)", hb(s->in_use), hb(s->resident), hb(s->free_dirty));
  }
  if (strcmp(p->rule, "garbage") != 0) note_walk_lag(p, &x);
}
