/*
** luajit-reclaim library: require("reclaim") and the luaJIT_reclaim_* C API.
** Preloaded by lib_init.c (patch 0004), so no file on disk is needed; it
** writes no global.
**
**   reclaim.version        our version string
**   reclaim.stats()        allocator statistics (table, bytes; the mesh
**                          fields count OS pages, mesh_max_pause_ns is
**                          ns); built with RCL_FAULT_INJECTION, also
**                          faults_injected =
**                          { mmap=, madvise=, munmap=, mremap= }
**   reclaim.purge()        return all free memory now; the bytes released
**   reclaim.config()       the current options (table: booleans as Lua
**                          booleans, numbers as numbers, mode and
**                          soft_limit = "auto" as strings)
**   reclaim.config{k=v}    set options atomically; returns the new table
**   reclaim.metrics()      the heap's figures now as Prometheus text
**                          (exposition format 0.0.4), the same families
**                          and labels as luajit-memstat --prometheus
**   reclaim.idle([us])     bounded GC work for an idle moment (see
**                          luaJIT_reclaim_idle); true once collected and
**                          purged
**   reclaim.nginx_idle{}   in nginx's init_worker_by_lua*: a timer that runs
**                          reclaim.idle() while the worker is idle
**
** All functions raise an error for a state that does not use our allocator.
*/

#define lib_reclaim_c
#define LUA_LIB

#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include <unistd.h>

#include "lj_obj.h"
#include "lj_gc.h"
#include "lj_alloc.h"
#include "luajit-reclaim.h"
#include "rcl_registry.h"

#if LJ_HASRECLAIM

/* lj_ralloc.c: both stats structs from one heap walk (x may be NULL). */
LJ_FUNC void lj_alloc_stats_all(void *msp, luajit_reclaim_stats *st,
				luajit_reclaim_stats_ext *x);
/* lj_ralloc.c: the heap's figures now, in the registry's slot layout. */
LJ_FUNC void lj_alloc_snapshot(void *msp, size_t total, size_t estimate, void *out);
/* lj_ralloc.c: one slice of a full purge; 1 when the heap has been passed. */
LJ_FUNC int lj_alloc_purge_some(void *msp, size_t budget, int restart, size_t *released);
/* lj_ralloc.c: an option's default as text (NULL: unknown key). */
LJ_FUNC const char *lj_alloc_optdefault(const char *key);
/* lj_ralloc.c: 1 if the option is a boolean. */
LJ_FUNC int lj_alloc_optboolean(const char *key);

#ifdef RCL_FAULT_INJECTION
/* Test builds (lj_ralloc.c): name of fault kind i and the failures injected
** so far in this process; NULL past the last kind. */
LJ_FUNC const char *lj_alloc_faultcount(int i, uint64_t *n);
#endif

/* The allocator data of L, or NULL if L uses some other allocator. */
static void *reclaim_heap(lua_State *L)
{
  void *ud;
  return lua_getallocf(L, &ud) == lj_alloc_f ? ud : NULL;
}

/* -- C API ---------------------------------------------------------------- */

LUA_API int luaJIT_reclaim_stats(lua_State *L, luajit_reclaim_stats *st)
{
  void *h = reclaim_heap(L);
  if (!h) return -1;
  lj_alloc_stats(h, st);
  return 0;
}

/* The size of the first luajit_reclaim_stats_ext: the least a caller may
** pass. Fields are only appended, so it stays what it is. */
#define RECLAIM_STATS_EXT_MIN \
  (offsetof(luajit_reclaim_stats_ext, mesh_max_pause_ns) + sizeof(uint64_t))

LUA_API int luaJIT_reclaim_stats_ext(lua_State *L, luajit_reclaim_stats_ext *st)
{
  luajit_reclaim_stats_ext x;
  luajit_reclaim_stats base;
  void *h = reclaim_heap(L);
  size_t n;
  if (!h || !st || st->size < RECLAIM_STATS_EXT_MIN) return -1;
  lj_alloc_stats_all(h, &base, &x);
  n = st->size < sizeof(x) ? st->size : sizeof(x);
  x.size = n;
  memcpy(st, &x, n);
  return 0;
}

LUA_API size_t luaJIT_reclaim_purge(lua_State *L)
{
  void *h = reclaim_heap(L);
  return h ? lj_alloc_purge(h) : 0;
}

LUA_API int luaJIT_reclaim_setopt(lua_State *L, const char *key,
				  const char *value, char *err, size_t errlen)
{
  char spec[256];
  void *h = reclaim_heap(L);
  if (!h) {
    snprintf(err, errlen, "state does not use the luajit-reclaim allocator");
    return -1;
  }
  if (!value && !(value = lj_alloc_optdefault(key)))  /* NULL: the default. */
    value = "";  /* Unknown key: the parser's error names it and lists the keys. */
  if (strpbrk(key, ",=") || strpbrk(value, ",=") ||
      (size_t)snprintf(spec, sizeof(spec), "%s=%s", key, value) >= sizeof(spec)) {
    snprintf(err, errlen, "bad option '%s'", key);
    return -1;
  }
  return lj_alloc_configure(h, spec, err, errlen);
}

LUA_API int luaJIT_reclaim_getopt(lua_State *L, const char *key,
				  char *buf, size_t len)
{
  void *h = reclaim_heap(L);
  return h ? lj_alloc_getopt(h, key, buf, len) : -1;
}

LUA_API const char *const *luaJIT_reclaim_optnames(void)
{
  return lj_alloc_optnames();
}

LUA_API size_t luaJIT_reclaim_pagesize(void)
{
  return lj_alloc_pagesize();
}

/* -- Idle collection ------------------------------------------------------ */

/* Bytes a state may allocate between two observations (calls of
** luaJIT_reclaim_idle() or probes of the nginx timer) and still count as
** idle. After an observation the GC threshold is at least this far above
** the heap, so no GC step runs until that much has been allocated. */
#define RECLAIM_IDLE_SLACK	((GCSize)64 << 10)

/* Bytes of the heap one purge slice examines (rcl_purge_some). A slice
** purges at most that much, or unmaps one free 4 MiB segment; the budget
** is checked between slices. */
#define RECLAIM_PURGE_SLICE	((size_t)256 << 10)

/* Progress of idle collection of one state (a userdata in the registry).
** A period begins at the first call that is not done; it ends when a GC
** cycle that began in one of our steps finished with no GC step outside
** our calls in between, and then a purge passed the whole heap, in slices,
** with no activity in between. */
typedef struct ReclaimIdle {
  GCSize mark_total;		/* gc.total at the last observation. */
  GCSize mark_threshold;	/* gc.threshold left by the last observation. */
  GCSize done_total;		/* gc.total after the purge ending a period. */
  uint8_t mark_state;		/* gc.state at the last observation. */
  uint8_t mark_white;		/* gc.currentwhite at the last observation. */
  uint8_t marked;		/* mark_* are set. */
  uint8_t running;		/* A period is in progress. */
  uint8_t clean;		/* The running cycle began in our step. */
  uint8_t purging;		/* Collected; the purge is in progress. */
  uint8_t done;			/* Collected and purged, idle since. */
  uint8_t nginx;		/* reclaim.nginx_idle() has started its timer. */
  /* Figures of the running or last period (times in microseconds; CPU
  ** time is this thread's, wall time includes time the thread waited). */
  uint32_t calls;		/* Calls that did GC steps or purge slices. */
  uint64_t work_us;		/* Wall time of those calls, purge excluded. */
  uint64_t max_us;		/* Longest call, wall time, purge included. */
  uint64_t max_cpu_us;		/* Longest call, CPU time, purge included. */
  uint64_t purge_us;		/* Wall time of the purge slices. */
  uint64_t purge_cpu_us;	/* CPU time of the purge slices. */
  size_t released;		/* Bytes the purge released. */
} ReclaimIdle;

/* Registry key of the ReclaimIdle userdata (its address). */
static const char reclaim_idle_key;

static uint64_t reclaim_clock_us(clockid_t id)
{
  struct timespec ts;
  if (clock_gettime(id, &ts) != 0) return 0;
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
#define reclaim_now_us()	reclaim_clock_us(CLOCK_MONOTONIC)
#define reclaim_cpu_us()	reclaim_clock_us(CLOCK_THREAD_CPUTIME_ID)

static ReclaimIdle *reclaim_idle_state(lua_State *L)
{
  ReclaimIdle *st;
  lua_pushlightuserdata(L, (void *)&reclaim_idle_key);
  lua_rawget(L, LUA_REGISTRYINDEX);
  st = (ReclaimIdle *)lua_touserdata(L, -1);
  lua_pop(L, 1);
  if (!st) {
    st = (ReclaimIdle *)lua_newuserdata(L, sizeof(ReclaimIdle));
    memset(st, 0, sizeof(ReclaimIdle));
    lua_pushlightuserdata(L, (void *)&reclaim_idle_key);
    lua_pushvalue(L, -2);
    lua_rawset(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
  }
  return st;
}

/* What ran since the last observation: a GC step outside our calls (it
** changes the state, the white or the threshold left by the mark) or more
** than the slack allocated means the state was busy; the period starts
** again. Returns 1 if the state was idle. */
static int reclaim_idle_observe(global_State *g, ReclaimIdle *st)
{
  int idle = st->marked && g->gc.state == st->mark_state &&
	     g->gc.currentwhite == st->mark_white &&
	     g->gc.threshold == st->mark_threshold &&
	     g->gc.total <= st->mark_total + RECLAIM_IDLE_SLACK;
  if (!idle) st->clean = 0;
  if (st->done && (!idle || g->gc.total > st->done_total + RECLAIM_IDLE_SLACK))
    st->done = 0;
  return idle;
}

/* Remember the GC's state; keep its next step at least the slack away. */
static void reclaim_idle_mark(global_State *g, ReclaimIdle *st)
{
  if (g->gc.threshold < g->gc.total + RECLAIM_IDLE_SLACK)
    g->gc.threshold = g->gc.total + RECLAIM_IDLE_SLACK;
  st->mark_total = g->gc.total;
  st->mark_threshold = g->gc.threshold;
  st->mark_state = g->gc.state;
  st->mark_white = g->gc.currentwhite;
  st->marked = 1;
}

LUA_API int luaJIT_reclaim_idle(lua_State *L, unsigned budget_us)
{
  global_State *g = G(L);
  void *h = reclaim_heap(L);
  ReclaimIdle *st;
  uint64_t t0, t, deadline, c0, c;
  int stopped, stepped = 0, restart = 0;
  if (!h) return -1;
  st = reclaim_idle_state(L);
  if (!reclaim_idle_observe(g, st)) st->purging = 0;  /* New garbage: collect again. */
  if (st->done) {
    reclaim_idle_mark(g, st);
    return 1;
  }
  if (!st->running) {
    st->running = 1;
    st->purging = 0;
    st->calls = 0;
    st->work_us = st->max_us = st->max_cpu_us = 0;
    st->purge_us = st->purge_cpu_us = 0;
    st->released = 0;
  }
  /* A stopped GC (collectgarbage("stop")) does this work and stays stopped. */
  stopped = g->gc.threshold == LJ_MAX_MEM;
  c0 = reclaim_cpu_us();
  t0 = t = reclaim_now_us();
  deadline = t0 + budget_us;
  if (!st->purging) {
    do {  /* At least one step; the budget is checked between steps. */
      if (g->gc.state == GCSpause) st->clean = 1;  /* This step begins a cycle. */
      stepped = 1;
      if (lj_gc_step(L) > 0 && st->clean) {
	st->purging = 1;
	restart = 1;
	st->released = 0;
	break;
      }
      t = reclaim_now_us();
    } while (t < deadline);
    t = reclaim_now_us();
    st->work_us += t - t0;
  }
  if (stopped) g->gc.threshold = LJ_MAX_MEM;
  /* Purge slices while the budget lasts (at least one if no GC step ran). */
  if (st->purging && (!stepped || t < deadline)) {
    uint64_t tp = t, cp = reclaim_cpu_us();
    int finished;
    do {
      finished = lj_alloc_purge_some(h, RECLAIM_PURGE_SLICE, restart, &st->released);
      restart = 0;
      t = reclaim_now_us();
    } while (!finished && t < deadline);
    c = reclaim_cpu_us();
    st->purge_us += t - tp;
    st->purge_cpu_us += c >= cp ? c - cp : 0;
    if (finished) {
      st->purging = 0;
      st->running = 0;
      st->done = 1;
      st->done_total = g->gc.total;
    }
  }
  c = reclaim_cpu_us();
  st->calls++;
  if (t - t0 > st->max_us) st->max_us = t - t0;
  if (c >= c0 && c - c0 > st->max_cpu_us) st->max_cpu_us = c - c0;
  reclaim_idle_mark(g, st);
  return st->done;
}

/* -- Lua library ---------------------------------------------------------- */

static void *reclaim_checkheap(lua_State *L)
{
  void *h = reclaim_heap(L);
  if (!h)
    luaL_error(L, "reclaim: this state does not use the luajit-reclaim allocator");
  return h;
}

#define setnumfield(L, name, v) \
  (lua_pushnumber(L, (lua_Number)(v)), lua_setfield(L, -2, name))

static int reclaim_stats(lua_State *L)
{
  luajit_reclaim_stats st;
  luajit_reclaim_stats_ext x;
  lj_alloc_stats_all(reclaim_checkheap(L), &st, &x);
  lua_createtable(L, 0, 25);
  setnumfield(L, "page_size", st.page_size);
  setnumfield(L, "mapped", st.mapped);
  setnumfield(L, "resident", st.resident);
  setnumfield(L, "in_use", st.in_use);
  setnumfield(L, "free_dirty", st.free_dirty);
  setnumfield(L, "free_clean", st.free_clean);
  setnumfield(L, "floor", st.floor);
  setnumfield(L, "metadata", st.metadata);
  setnumfield(L, "segments", st.segments);
  setnumfield(L, "spans", st.spans);
  setnumfield(L, "large_blocks", st.large_blocks);
  setnumfield(L, "purged_total", st.purged_total);
  setnumfield(L, "purge_calls", st.purge_calls);
  setnumfield(L, "madvise_failed", st.madvise_failed);
  setnumfield(L, "mmap_failed", st.mmap_failed);
  setnumfield(L, "munmap_failed", st.munmap_failed);
  setnumfield(L, "mremap_failed", st.mremap_failed);
  setnumfield(L, "high_mappings_rejected", st.high_mappings_rejected);
  setnumfield(L, "fragmentation", st.fragmentation);
  setnumfield(L, "mesh_pages", x.mesh_pages);
  setnumfield(L, "mesh_mappings", x.mesh_mappings);
  setnumfield(L, "mesh_released", x.mesh_released);
  setnumfield(L, "mesh_passes", x.mesh_passes);
  setnumfield(L, "mesh_max_pause_ns", x.mesh_max_pause_ns);
#ifdef RCL_FAULT_INJECTION
  {
    const char *name;
    uint64_t n;
    int i;
    lua_newtable(L);
    for (i = 0; (name = lj_alloc_faultcount(i, &n)) != NULL; i++)
      setnumfield(L, name, n);
    lua_setfield(L, -2, "faults_injected");
  }
#endif
  return 1;
}

static int reclaim_purge(lua_State *L)
{
  lua_pushnumber(L, (lua_Number)lj_alloc_purge(reclaim_checkheap(L)));
  return 1;
}

/* Push the value s of option key with its natural Lua type: a boolean
** (formatted on/off), a number, or a string (mode, soft_limit = auto). */
static void reclaim_pushopt(lua_State *L, const char *key, const char *s)
{
  char *end;
  double d;
  if (lj_alloc_optboolean(key)) {
    lua_pushboolean(L, !strcmp(s, "on"));
  } else {
    d = strtod(s, &end);
    if (*s && !*end) lua_pushnumber(L, (lua_Number)d);
    else lua_pushstring(L, s);
  }
}

static void reclaim_pushconfig(lua_State *L, void *h)
{
  const char *const *k;
  char buf[64];
  lua_newtable(L);
  for (k = lj_alloc_optnames(); *k; k++) {
    if (lj_alloc_getopt(h, *k, buf, sizeof(buf)) == 0) {
      reclaim_pushopt(L, *k, buf);
      lua_setfield(L, -2, *k);
    }
  }
}

/* Append "key=value" for the key/value pair at stack -2/-1 to spec. */
static void reclaim_addopt(lua_State *L, char *spec, size_t size)
{
  char num[32];
  const char *key, *val;
  size_t len = strlen(spec);
  if (lua_type(L, -2) != LUA_TSTRING)
    luaL_error(L, "reclaim.config: option names must be strings");
  key = lua_tostring(L, -2);
  switch (lua_type(L, -1)) {
  case LUA_TBOOLEAN:
    val = lua_toboolean(L, -1) ? "true" : "false";
    break;
  case LUA_TNUMBER: {
    lua_Number n = lua_tonumber(L, -1);
    if (!(n >= 0 && n <= 9007199254740992.0 && n == (lua_Number)(uint64_t)n))
      luaL_error(L, "reclaim.config: bad value for '%s' (want a whole number >= 0)", key);
    snprintf(num, sizeof(num), "%.0f", (double)n);
    val = num;
    break;
    }
  case LUA_TSTRING:
    val = lua_tostring(L, -1);
    break;
  default:
    luaL_error(L, "reclaim.config: bad value for '%s' (%s)", key,
	       luaL_typename(L, -1));
    return;
  }
  if (strpbrk(key, ",=") || strpbrk(val, ",="))
    luaL_error(L, "reclaim.config: bad option '%s'", key);
  if ((size_t)snprintf(spec + len, size - len, "%s%s=%s",
		       len ? "," : "", key, val) >= size - len)
    luaL_error(L, "reclaim.config: too many options");
}

static int reclaim_config(lua_State *L)
{
  void *h = reclaim_checkheap(L);
  if (!lua_isnoneornil(L, 1)) {
    char spec[1024], err[256];
    spec[0] = '\0';
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
      reclaim_addopt(L, spec, sizeof(spec));
      lua_pop(L, 1);
    }
    /* All or nothing: the heap takes the whole spec or none of it. */
    if (spec[0] && lj_alloc_configure(h, spec, err, sizeof(err)) != 0)
      luaL_error(L, "reclaim.config: %s", err);
  }
  reclaim_pushconfig(L, h);
  return 1;
}

/* Prometheus text of the heap's figures now: one family per row of
** RCL_REGISTRY_FIGURES, labels pid and heap, as luajit-memstat prints them,
** so a scrape of the process and a reading from outside line up. */
static int reclaim_metrics(lua_State *L)
{
  void *h = reclaim_checkheap(L);
  global_State *g = G(L);
  rcl_registry_slot sl;
  luaL_Buffer b;
  char line[160];
  int pid = (int)getpid();
  lj_alloc_snapshot(h, (size_t)g->gc.total, (size_t)g->gc.estimate, &sl);
  luaL_buffinit(L, &b);
#define RECLAIM_METRIC(name, metric, type, help) \
  luaL_addstring(&b, "# HELP luajit_reclaim_" metric " " help "\n" \
		 "# TYPE luajit_reclaim_" metric " " type "\n"); \
  snprintf(line, sizeof(line), "luajit_reclaim_" metric "{pid=\"%d\",heap=\"0x%llx\"} %llu\n", \
	   pid, (unsigned long long)sl.heap, (unsigned long long)sl.name); \
  luaL_addstring(&b, line);
  RCL_REGISTRY_FIGURES(RECLAIM_METRIC)
#undef RECLAIM_METRIC
  luaL_pushresult(&b);
  return 1;
}

/* Default budget of reclaim.idle() in microseconds; a call overshoots it
** by at most one GC step or one purge slice. */
#define RECLAIM_IDLE_BUDGET_US	500

static int reclaim_idle(lua_State *L)
{
  lua_Number n = luaL_optnumber(L, 1, RECLAIM_IDLE_BUDGET_US);
  reclaim_checkheap(L);
  if (!(n >= 0 && n <= 4294967295.0 && n == (lua_Number)(uint32_t)n))
    luaL_argerror(L, 1, "want whole microseconds 0..4294967295");
  lua_pushboolean(L, luaJIT_reclaim_idle(L, (unsigned)n) == 1);
  return 1;
}

/* reclaim.nginx_idle's activity probe: true if the state was idle since the
** last observation (the timer's own allocation fits the slack). */
static int reclaim_idle_probe(lua_State *L)
{
  ReclaimIdle *st = reclaim_idle_state(L);
  int idle = reclaim_idle_observe(G(L), st);
  reclaim_idle_mark(G(L), st);
  lua_pushboolean(L, idle);
  return 1;
}

/* The figures of the running or last idle period, for the timer's log. */
static int reclaim_idle_report(lua_State *L)
{
  ReclaimIdle *st = reclaim_idle_state(L);
  lua_pushnumber(L, (lua_Number)st->calls);
  lua_pushnumber(L, (lua_Number)st->work_us);
  lua_pushnumber(L, (lua_Number)st->max_us);
  lua_pushnumber(L, (lua_Number)st->max_cpu_us);
  lua_pushnumber(L, (lua_Number)st->purge_us);
  lua_pushnumber(L, (lua_Number)st->purge_cpu_us);
  lua_pushnumber(L, (lua_Number)st->released);
  return 7;
}

/* reclaim.nginx_idle{}: Lua run by nginx's timers. Idle means the probe saw
** no GC step outside our calls and at most RECLAIM_IDLE_SLACK allocated
** between two checks (every `interval` s); after `idle_after` s of that, a
** chain of ngx.timer.at(`tick`) calls reclaim.idle(`budget_us`) until it
** returns true, and stops at the first activity. Validates the options
** first, then needs ngx; writes no global. */
static const char reclaim_nginx_idle_lua[] =
  "-- Arguments: the options, ngx, reclaim.idle, the activity probe, the\n"
  "-- figures of the last period, whether this worker started it already.\n"
  "local opts, ngx, idle, probe, report, started = ...\n"
  "local fmt, floor, tostring, type = string.format, math.floor, tostring, type\n"
  "local function fail(msg) error(\"reclaim.nginx_idle: \" .. msg, 0) end\n"
  "-- name = { default, least, most, unit }\n"
  "local spec = {\n"
  "  idle_after = { 1, 0.01, 3600, \"seconds\" },\n"
  "  interval = { 0.5, 0.01, 60, \"seconds\" },\n"
  "  tick = { 0.01, 0, 1, \"seconds\" },\n"
  "  budget_us = { 500, 10, 100000, \"whole microseconds\" },\n"
  "}\n"
  "local o = {}\n"
  "for k, s in pairs(spec) do o[k] = s[1] end\n"
  "if opts ~= nil then\n"
  "  if type(opts) ~= \"table\" then fail(\"options must be a table, not a \" .. type(opts)) end\n"
  "  for k, v in pairs(opts) do\n"
  "    local s = spec[k]\n"
  "    if not s then\n"
  "      fail(\"unknown option '\" .. tostring(k) .. \"' (known: budget_us, idle_after, interval, tick)\")\n"
  "    end\n"
  "    if type(v) ~= \"number\" or not (v >= s[2] and v <= s[3]) or\n"
  "       (k == \"budget_us\" and v ~= floor(v)) then\n"
  "      fail(fmt(\"bad value %s for option '%s' (want %s from %s to %s)\",\n"
  "               type(v) == \"string\" and \"'\" .. v .. \"'\" or tostring(v), k, s[4], s[2], s[3]))\n"
  "    end\n"
  "    o[k] = v\n"
  "  end\n"
  "end\n"
  "if type(ngx) ~= \"table\" or type(ngx.timer) ~= \"table\" or type(ngx.timer.every) ~= \"function\" then\n"
  "  fail(\"needs nginx's lua module (ngx.timer.every): call it in init_worker_by_lua*\")\n"
  "end\n"
  "if started then fail(\"already started in this worker\") end\n"
  "local now, at, every, log = ngx.now, ngx.timer.at, ngx.timer.every, ngx.log\n"
  "local INFO, ERR = ngx.INFO, ngx.ERR\n"
  "local idle_after, tick, budget = o.idle_after, o.tick, o.budget_us\n"
  "-- quiet_since: the last check that saw activity; collected: idle() returned\n"
  "-- true and no activity since; working: a chain of work timers is pending.\n"
  "local quiet_since, collected, working = now(), false, false\n"
  "local work\n"
  "local function schedule(delay)\n"
  "  local ok, err = at(delay, work)\n"
  "  if not ok then\n"
  "    working = false\n"
  "    log(ERR, \"reclaim.nginx_idle: ngx.timer.at: \", err)\n"
  "  end\n"
  "end\n"
  "-- One slice of at most budget_us; nginx serves what arrived before the next.\n"
  "work = function(premature)\n"
  "  if premature then working = false; return end\n"
  "  if not probe() then\n"
  "    working, quiet_since = false, now()\n"
  "    return\n"
  "  end\n"
  "  if idle(budget) then\n"
  "    working, collected = false, true\n"
  "    local calls, work_us, max_us, max_cpu_us, purge_us, purge_cpu_us, released = report()\n"
  "    log(INFO, fmt(\"reclaim.nginx_idle: collected and purged %.1f s after the last activity:\"\n"
  "                  .. \" %d calls, %.1f ms of GC steps (longest call %d us, CPU %d us),\"\n"
  "                  .. \" purge %d us (CPU %d us) released %.1f MiB\",\n"
  "                  now() - quiet_since, calls, work_us / 1000, max_us, max_cpu_us,\n"
  "                  purge_us, purge_cpu_us, released / 1048576))\n"
  "    return\n"
  "  end\n"
  "  schedule(tick)\n"
  "end\n"
  "local ok, err = every(o.interval, function(premature)\n"
  "  if premature or working then return end\n"
  "  if not probe() then\n"
  "    quiet_since, collected = now(), false\n"
  "  elseif not collected and now() - quiet_since >= idle_after then\n"
  "    working = true\n"
  "    schedule(0)\n"
  "  end\n"
  "end)\n"
  "if not ok then fail(\"ngx.timer.every: \" .. tostring(err)) end\n";

static int reclaim_nginx_idle(lua_State *L)
{
  ReclaimIdle *st;
  reclaim_checkheap(L);
  lua_settop(L, 1);
  st = reclaim_idle_state(L);
  if (luaL_loadbuffer(L, reclaim_nginx_idle_lua,
		      sizeof(reclaim_nginx_idle_lua) - 1, "=reclaim.nginx_idle"))
    lua_error(L);
  lua_pushvalue(L, 1);
  lua_getfield(L, LUA_GLOBALSINDEX, "ngx");
  lua_pushcfunction(L, reclaim_idle);
  lua_pushcfunction(L, reclaim_idle_probe);
  lua_pushcfunction(L, reclaim_idle_report);
  lua_pushboolean(L, st->nginx);
  lua_call(L, 6, 0);
  st->nginx = 1;
  return 0;
}

#else

LUA_API int luaJIT_reclaim_stats(lua_State *L, luajit_reclaim_stats *st)
{
  UNUSED(L); UNUSED(st);
  return -1;
}

LUA_API int luaJIT_reclaim_stats_ext(lua_State *L, luajit_reclaim_stats_ext *st)
{
  UNUSED(L); UNUSED(st);
  return -1;
}

LUA_API size_t luaJIT_reclaim_purge(lua_State *L)
{
  UNUSED(L);
  return 0;
}

LUA_API int luaJIT_reclaim_setopt(lua_State *L, const char *key,
				  const char *value, char *err, size_t errlen)
{
  UNUSED(L); UNUSED(key); UNUSED(value);
  snprintf(err, errlen, "built without the luajit-reclaim allocator");
  return -1;
}

LUA_API int luaJIT_reclaim_getopt(lua_State *L, const char *key,
				  char *buf, size_t len)
{
  UNUSED(L); UNUSED(key); UNUSED(buf); UNUSED(len);
  return -1;
}

LUA_API const char *const *luaJIT_reclaim_optnames(void)
{
  static const char *const none[] = { NULL };
  return none;
}

LUA_API size_t luaJIT_reclaim_pagesize(void)
{
  return 0;
}

LUA_API int luaJIT_reclaim_idle(lua_State *L, unsigned budget_us)
{
  UNUSED(L); UNUSED(budget_us);
  return -1;
}

static int reclaim_unavailable(lua_State *L)
{
  return luaL_error(L, "reclaim: built without the luajit-reclaim allocator");
}
#define reclaim_stats	reclaim_unavailable
#define reclaim_purge	reclaim_unavailable
#define reclaim_config	reclaim_unavailable
#define reclaim_metrics	reclaim_unavailable
#define reclaim_idle	reclaim_unavailable
#define reclaim_nginx_idle	reclaim_unavailable

#endif

static const luaL_Reg reclaim_funcs[] = {
  { "stats",	reclaim_stats },
  { "purge",	reclaim_purge },
  { "config",	reclaim_config },
  { "metrics",	reclaim_metrics },
  { "idle",	reclaim_idle },
  { "nginx_idle",	reclaim_nginx_idle },
  { NULL,	NULL }
};

/* Like ffi, no global is created: the table is returned and recorded in
** package.loaded, so require("reclaim") gives the same table afterwards. */
LUALIB_API int luaopen_reclaim(lua_State *L)
{
  lua_createtable(L, 0, 7);
  luaL_register(L, NULL, reclaim_funcs);
  lua_pushliteral(L, LUAJIT_RECLAIM_VERSION);
  lua_setfield(L, -2, "version");
  luaL_findtable(L, LUA_REGISTRYINDEX, "_LOADED", 16);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, LUA_RECLAIMLIBNAME);
  lua_pop(L, 1);
  return 1;
}
