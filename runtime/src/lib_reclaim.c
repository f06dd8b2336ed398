/*
** luajit-reclaim library: require("reclaim") and the luaJIT_reclaim_* C API.
** Preloaded by lib_init.c (patch 0004), so no file on disk is needed; it
** writes no global.
**
**   reclaim.version        our version string
**   reclaim.stats()        allocator statistics (table, bytes); built with
**                          RCL_FAULT_INJECTION, also faults_injected =
**                          { mmap=, madvise=, munmap=, mremap= }
**   reclaim.purge()        return all free memory now; the bytes released
**   reclaim.config()       the current options (table)
**   reclaim.config{k=v}    set options atomically; returns the new table
**   reclaim.metrics()      the heap's figures now as Prometheus text
**                          (exposition format 0.0.4), the same families
**                          and labels as luajit-memstat --prometheus
**
** All functions raise an error for a state that does not use our allocator.
*/

#define lib_reclaim_c
#define LUA_LIB

#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include <unistd.h>

#include "lj_obj.h"
#include "lj_alloc.h"
#include "luajit-reclaim.h"
#include "rcl_registry.h"

#if LJ_HASRECLAIM

/* lj_ralloc.c: the heap's figures now, in the registry's slot layout. */
LJ_FUNC void lj_alloc_snapshot(void *msp, size_t total, size_t estimate, void *out);

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
  lj_alloc_stats(reclaim_checkheap(L), &st);
  lua_createtable(L, 0, 20);
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

/* Push one option value with its natural Lua type. */
static void reclaim_pushopt(lua_State *L, const char *s)
{
  char *end;
  double d;
  if (!strcmp(s, "true")) {  /* Boolean options format as true/false. */
    lua_pushboolean(L, 1);
  } else if (!strcmp(s, "false")) {
    lua_pushboolean(L, 0);
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
      reclaim_pushopt(L, buf);
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

#else

LUA_API int luaJIT_reclaim_stats(lua_State *L, luajit_reclaim_stats *st)
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

static int reclaim_unavailable(lua_State *L)
{
  return luaL_error(L, "reclaim: built without the luajit-reclaim allocator");
}
#define reclaim_stats	reclaim_unavailable
#define reclaim_purge	reclaim_unavailable
#define reclaim_config	reclaim_unavailable
#define reclaim_metrics	reclaim_unavailable

#endif

static const luaL_Reg reclaim_funcs[] = {
  { "stats",	reclaim_stats },
  { "purge",	reclaim_purge },
  { "config",	reclaim_config },
  { "metrics",	reclaim_metrics },
  { NULL,	NULL }
};

/* Like ffi, no global is created: the table is returned and recorded in
** package.loaded, so require("reclaim") gives the same table afterwards. */
LUALIB_API int luaopen_reclaim(lua_State *L)
{
  lua_createtable(L, 0, 5);
  luaL_register(L, NULL, reclaim_funcs);
  lua_pushliteral(L, LUAJIT_RECLAIM_VERSION);
  lua_setfield(L, -2, "version");
  luaL_findtable(L, LUA_REGISTRYINDEX, "_LOADED", 16);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, LUA_RECLAIMLIBNAME);
  lua_pop(L, 1);
  return 1;
}
