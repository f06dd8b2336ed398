/*
** many_states.c: many Lua states on many threads, fork() among them, and
** fault storms (tests/threads, issue 14). Linked against a built
** libluajit-5.1.so (build/<variant>/lib), it owns the workload every state
** runs, the values that workload must produce (computed here in C) and the
** fault-accounting checks.
**
** Worker threads (-t, default 8) loop until the deadline (-d seconds):
** luaL_newstate + luaL_openlibs, the workload (strings, tables, FFI,
** string.buffer growth, coroutines, a JIT-hot loop, reclaim.stats/purge/
** config), each result compared with its C value, then lua_close. States
** alternate between the background purge thread on and off (-b mixed), or
** all on / all off. One more thread fork()s again and again while the
** workers wait at safe points (fork_gate) and the allocator's background
** thread runs on, holding its global lock or a heap lock at fork time as it
** happens; each child creates and uses a state (so the allocator's atfork
** handlers must have dealt with those locks), checks it, sends its tally
** through a pipe and _exit()s; the parent checks the status.
**
** Fault storms: with LUAJIT_RECLAIM_FAULT set (library built with
** -DRCL_FAULT_INJECTION), luaL_newstate may return NULL (counted, not a
** failure), and a component may fail only with the Lua error "not enough
** memory" (counted). A component that returns must still return exactly
** the C value: injected failures never corrupt data. Fault accounting,
** with c(k) = a heap's <k>_failed counter and I(k) = faults_injected[k]:
**  - per state: a caught "not enough memory" implies
**    c(mmap) + c(mremap) > 0 in that heap (the allocator returns NULL only
**    after a failed, counted mapping call);
**  - per process: the sum over all states of c(k), read right before
**    lua_close, is <= I(k) read at the end, for every kind (each counted
**    failure was injected first; failures inside lua_close or in a heap that
**    never became a state are injected but unread, so no lower bound holds);
**  - per fork child whose state has the background thread off: between
**    two consistent snapshots c(k) grows by exactly as much as I(k) for
**    madvise, munmap and mremap, and by at most as much for mmap (one
**    injected mmap failure is retried uncounted by design: the aligned
**    re-map after a misaligned mapping). The child is single-threaded and
**    its heap is the only one making OS calls, so nothing else can inject.
**  - the storm is not vacuous: every armed kind injected something, Lua
**    saw "not enough memory", every worker got states, children did the
**    exact check.
** Prints a summary line and ends with "N passed, M failed"; exit status 0
** only when M is 0.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"
#include "luajit-reclaim.h"

#define NRES 8                 /* most values a workload function returns */
#define NKINDS 4               /* fault kinds, in rcl.h order */
#define CHILD_TIMEOUT 60       /* s; a child that hangs (a lock held at fork) dies by SIGALRM */
#define MAX_FAIL_LINES 40      /* failure lines printed; later ones are only counted */

static const char *const kind_names[NKINDS] = { "mmap", "madvise", "munmap", "mremap" };

/* -- The workload (one copy per state) ------------------------------------------- */

static const char workload_lua[] =
  "local ffi = require('ffi')\n"
  "local jutil = require('jit.util')\n"
  "local reclaim = require('reclaim')\n"
  "local buffer = require('string.buffer')\n"
  "ffi.cdef('typedef struct { int32_t id; double w; uint8_t tag[12]; } ms_item;')\n"
  "local W, kept = {}, nil\n"
  "local OOM = 'not enough memory'\n"
  /* A failed resume is passed on; "not enough memory" keeps its exact text. */
  "local function resumed(ok, v)\n"
  "  if not ok then error(v == OOM and OOM or 'resume failed: ' .. tostring(v), 0) end\n"
  "  return v\n"
  "end\n"
  "function W.config(bg, decay)\n"
  "  local on = bg ~= 0\n"
  "  local cfg = reclaim.config{ background = on, background_interval = 1, decay = decay }\n"
  "  local back = reclaim.config()\n"
  "  return (cfg.background == on and back.background == on and back.decay == decay\n"
  "          and back.background_interval == 1) and 1 or 0\n"
  "end\n"
  "function W.keep(s)\n"
  "  local strs, arr = {}, ffi.new('int32_t[?]', 5000)\n"
  "  for i = 1, 2000 do strs[i] = 'keep' .. s .. ':' .. i end\n"
  "  for i = 0, 4999 do arr[i] = (i * 31 + s) % 65521 end\n"
  "  kept = { strs = strs, arr = arr }\n"
  "  return 1\n"
  "end\n"
  "function W.check_kept(s)\n"
  "  local n, sum = 0, 0\n"
  "  for i = 1, 2000 do if kept.strs[i] == 'keep' .. s .. ':' .. i then n = n + 1 end end\n"
  "  for i = 0, 4999 do sum = sum + kept.arr[i] end\n"
  "  return n, sum\n"
  "end\n"
  "function W.strings(s)\n"
  "  local n = 1000 + s % 500\n"
  "  local parts, set, hits = {}, {}, 0\n"
  "  for i = 1, n do parts[i] = 'k' .. i .. ':' .. (s + i) % 97 end\n"
  "  local joined = table.concat(parts, ',')\n"
  "  for i = 1, n do set[parts[i]] = i end\n"
  "  for i = 1, n do\n"       /* interning: an equal string built anew is the same key */
  "    if set[string.format('k%d:%d', i, (s + i) % 97)] == i then hits = hits + 1 end\n"
  "  end\n"
  "  local h = 0\n"
  "  for i = 1, #joined do h = (h * 257 + string.byte(joined, i)) % 1000000007 end\n"
  "  local acc = ''\n"
  "  for i = 1, 300 do acc = acc .. parts[i] end\n"
  "  local big = string.rep(joined, 1 + math.floor(3 * 1048576 / #joined))\n"
  "  local sample = 0\n"
  "  for j = 0, 15 do sample = sample + string.byte(big, 1 + (j * 131071) % #big) end\n"
  "  return hits, h, #big, sample, #acc\n"
  "end\n"
  "function W.tables(s)\n"
  "  local m, t, sa = 300000 + s % 1000, {}, 0\n"
  "  for i = 1, m do t[i] = (i * 7 + s) % 1009 end\n"
  "  for i = 1, #t do sa = sa + t[i] end\n"
  "  local m2, h, cnt, sh = 20000 + s % 100, {}, 0, 0\n"
  "  for i = 1, m2 do h['x' .. i] = i; h[i + 0.5] = -i end\n"
  "  for i = 1, m2, 3 do h['x' .. i] = nil end\n"
  "  for _, v in pairs(h) do cnt = cnt + 1; sh = sh + v end\n"
  "  return sa, #t, cnt, sh\n"
  "end\n"
  "function W.ffi(s)\n"
  "  local n = 20000 + s % 100\n"
  "  local arr, z = ffi.new('ms_item[?]', n), 0\n"
  "  for i = 0, n - 1 do z = z + arr[i].id + arr[i].w + arr[i].tag[i % 12] end\n"
  "  for i = 0, n - 1 do\n"
  "    local e = arr[i]\n"
  "    e.id = i * 3 + s % 11; e.w = i * 0.25; e.tag[i % 12] = i % 251\n"
  "  end\n"
  "  local s1, s2, s3, s4, boxes = 0, 0, 0, 0, {}\n"
  "  for i = 0, n - 1 do local e = arr[i]; s1 = s1 + e.id; s2 = s2 + e.w; s3 = s3 + e.tag[i % 12] end\n"
  "  for i = 1, 5000 do boxes[i] = ffi.new('ms_item', i, i * 0.5) end\n"
  "  for i = 1, 5000 do s4 = s4 + boxes[i].id + boxes[i].w end\n"
  "  local x = 0LL\n"
  "  for i = 1, 1000 do x = x + i * 3LL end\n"
  "  return z, s1, s2, s3, s4, tonumber(x)\n"
  "end\n"
  "function W.grow(s)\n"      /* large blocks growing by doubling: mremap */
  "  local buf, piece = buffer.new(), string.rep(string.char(65 + s % 26), 4096)\n"
  "  for _ = 1, 1500 do buf:put(piece) end\n"
  "  local len = #buf\n"
  "  local str = buf:tostring()\n"
  "  buf:free()\n"
  "  return len, string.byte(str, 1 + s % len), #str\n"
  "end\n"
  "function W.coroutines(s)\n"
  "  local nco, total, dead, resumes = 200 + s % 50, 0, 0, 0\n"
  "  for c = 1, nco do\n"
  "    local co = coroutine.create(function(a)\n"
  "      for i = 1, 50 do a = a + coroutine.yield(a) end\n"
  "      return a\n"
  "    end)\n"
  "    local v = resumed(coroutine.resume(co, c))\n"
  "    resumes = resumes + 1\n"
  "    local i = 0\n"
  "    while coroutine.status(co) == 'suspended' do\n"
  "      i = i + 1\n"
  "      v = resumed(coroutine.resume(co, i))\n"
  "      resumes = resumes + 1\n"
  "    end\n"
  "    total = total + v\n"
  "    if coroutine.status(co) == 'dead' then dead = dead + 1 end\n"
  "  end\n"
  "  local errs = 0\n"
  "  for c = 1, 10 do\n"
  "    local co = coroutine.create(function() error('boom' .. c) end)\n"
  "    local ok, msg = coroutine.resume(co)\n"
  "    if msg == OOM then error(OOM, 0) end\n"
  "    if not ok and string.find(msg, 'boom' .. c, 1, true) and coroutine.status(co) == 'dead' then\n"
  "      errs = errs + 1\n"
  "    end\n"
  "  end\n"
  "  local gen, gsum = coroutine.wrap(function() for i = 1, 100 do coroutine.yield(i) end end), 0\n"
  "  for _ = 1, 100 do gsum = gsum + gen() end\n"
  "  return total, dead, resumes, errs, gsum\n"
  "end\n"
  "function W.jit(s)\n"
  "  local n, acc = 100000 + s % 1000, 0\n"
  "  for i = 1, n do acc = (acc + i * 3) % 1000003 end\n"
  "  return acc, jutil.traceinfo(1) and 1 or 0, jit.status() and 1 or 0\n"
  "end\n"
  "function W.gc()\n"
  "  collectgarbage('collect')\n"
  "  local freed = reclaim.purge()\n"
  "  local st = reclaim.stats()\n"
  "  local ok = type(freed) == 'number' and freed >= 0 and st.in_use > 0\n"
  "    and st.in_use + st.free_dirty <= st.resident and st.resident <= st.mapped\n"
  "    and st.free_clean <= st.mapped and st.high_mappings_rejected == 0\n"
  "  return ok and 1 or 0, st.page_size\n"
  "end\n"
  /* Heap failure counters, then faults_injected when the build has it. */
  "function W.snapshot()\n"
  "  local st = reclaim.stats()\n"
  "  local fi = st.faults_injected\n"
  "  if not fi then\n"
  "    return st.mmap_failed, st.madvise_failed, st.munmap_failed, st.mremap_failed\n"
  "  end\n"
  "  return st.mmap_failed, st.madvise_failed, st.munmap_failed, st.mremap_failed,\n"
  "    fi.mmap, fi.madvise, fi.munmap, fi.mremap\n"
  "end\n"
  "return W\n";

/* -- Expected values ----------------------------------------------------------------- */

typedef struct expect {
  int n;
  double v[NRES];
} expect;

static void expect_keep(uint32_t s, expect *e)
{
  double sum = 0;
  int i;
  for (i = 0; i < 5000; i++) sum += (double)(((uint64_t)i * 31 + s) % 65521);
  e->n = 2;
  e->v[0] = 2000;
  e->v[1] = sum;
}

static void expect_strings(uint32_t s, expect *e)
{
  int n = 1000 + (int)(s % 500), i, j;
  size_t len = 0, acclen = 0, reps, biglen;
  uint64_t h = 0;
  double sample = 0;
  char *joined = malloc((size_t)n * 24);
  if (!joined) abort();
  for (i = 1; i <= n; i++) {
    int k = snprintf(joined + len + (i > 1), 24, "k%d:%u", i, (unsigned)((s + (uint32_t)i) % 97));
    if (i > 1) joined[len] = ',';
    len += (size_t)k + (i > 1);
    if (i <= 300) acclen += (size_t)k;
  }
  for (i = 0; (size_t)i < len; i++) h = (h * 257 + (unsigned char)joined[i]) % 1000000007u;
  reps = 1 + (3 * 1048576) / len;
  biglen = reps * len;
  for (j = 0; j < 16; j++) sample += (unsigned char)joined[(((size_t)j * 131071) % biglen) % len];
  free(joined);
  e->n = 5;
  e->v[0] = n;
  e->v[1] = (double)h;
  e->v[2] = (double)biglen;
  e->v[3] = sample;
  e->v[4] = (double)acclen;
}

static void expect_tables(uint32_t s, expect *e)
{
  uint32_t m = 300000 + s % 1000, m2 = 20000 + s % 100, i;
  double sa = 0, sh = 0;
  for (i = 1; i <= m; i++) sa += (double)(((uint64_t)i * 7 + s) % 1009);
  for (i = 1; i <= m2; i += 3) sh -= i;       /* the deleted string keys' values */
  e->n = 4;
  e->v[0] = sa;
  e->v[1] = m;
  e->v[2] = 2.0 * m2 - (m2 + 2) / 3;
  e->v[3] = sh;
}

static void expect_ffi(uint32_t s, expect *e)
{
  uint32_t n = 20000 + s % 100, i;
  double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
  for (i = 0; i < n; i++) {
    s1 += i * 3 + s % 11;
    s2 += i * 0.25;
    s3 += i % 251;
  }
  for (i = 1; i <= 5000; i++) s4 += i + i * 0.5;
  e->n = 6;
  e->v[0] = 0;                 /* ffi.new zero-fills */
  e->v[1] = s1;
  e->v[2] = s2;
  e->v[3] = s3;
  e->v[4] = s4;
  e->v[5] = 3.0 * 500500;
}

static void expect_grow(uint32_t s, expect *e)
{
  e->n = 3;
  e->v[0] = 1500.0 * 4096;
  e->v[1] = 65 + s % 26;
  e->v[2] = 1500.0 * 4096;
}

static void expect_coroutines(uint32_t s, expect *e)
{
  uint32_t nco = 200 + s % 50, c;
  double total = 0;
  for (c = 1; c <= nco; c++) total += c + 1275;  /* a + 1 + 2 + ... + 50 */
  e->n = 5;
  e->v[0] = total;
  e->v[1] = nco;
  e->v[2] = 51.0 * nco;
  e->v[3] = 10;
  e->v[4] = 5050;
}

static void expect_jit(uint32_t s, expect *e)
{
  uint64_t n = 100000 + s % 1000, i, acc = 0;
  for (i = 1; i <= n; i++) acc = (acc + i * 3) % 1000003;
  e->n = 3;
  e->v[0] = (double)acc;
  e->v[1] = 1;                 /* a trace exists (relaxed under a storm, see run_state) */
  e->v[2] = 1;                 /* JIT on */
}

/* -- Tallies and checks ---------------------------------------------------------------- */

typedef struct tally {
  uint64_t passed, failed;
  uint64_t states, states_bg, newstate_null, ooms, traced;
  uint64_t counted[NKINDS];    /* sum of heap <kind>_failed read right before lua_close */
  uint64_t forks, exact;       /* children checked; children that did the exact fault check */
} tally;

static void tally_add(tally *to, const tally *from)
{
  int k;
  to->passed += from->passed;
  to->failed += from->failed;
  to->states += from->states;
  to->states_bg += from->states_bg;
  to->newstate_null += from->newstate_null;
  to->ooms += from->ooms;
  to->traced += from->traced;
  for (k = 0; k < NKINDS; k++) to->counted[k] += from->counted[k];
  to->forks += from->forks;
  to->exact += from->exact;
}

static int fail_lines;         /* atomic: failure lines printed so far */

static int check(tally *t, int ok, const char *fmt, ...)
{
  va_list ap;
  char line[512];
  if (ok) {
    t->passed++;
    return 1;
  }
  t->failed++;
  if (__atomic_fetch_add(&fail_lines, 1, __ATOMIC_RELAXED) >= MAX_FAIL_LINES) return 0;
  va_start(ap, fmt);
  vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  fprintf(stderr, "FAIL %s\n", line);
  return 0;
}

/* -- Options and shared run state --------------------------------------------------------- */

static double opt_seconds = 10;
static int opt_threads = 8;
static int opt_fork = 1;
static int opt_bg = -1;        /* -1 mixed, 0 all off, 1 all on */
static uint32_t opt_seed = 1;
static int storm;              /* LUAJIT_RECLAIM_FAULT is set */
static int backing_file;       /* LUAJIT_RECLAIM_TEST_BACKING=file */
static uint32_t storm_rate[NKINDS]; /* per million, from LUAJIT_RECLAIM_FAULT (~PPM items) */
static unsigned long long storm_seed = 1;
static struct timespec deadline;

static int past_deadline(void)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec > deadline.tv_sec ||
         (now.tv_sec == deadline.tv_sec && now.tv_nsec >= deadline.tv_nsec);
}

/* -- Running workload functions in protected mode ------------------------------------------ */

typedef struct call {
  const char *name;
  int nargs;
  double args[3];
  int nres;
  double res[NRES];
  char err[160];               /* error message when the call failed */
} call;

static int setup_cf(lua_State *L)
{
  luaL_openlibs(L);
  if (luaL_loadbuffer(L, workload_lua, sizeof(workload_lua) - 1, "=workload") != 0)
    lua_error(L);
  lua_call(L, 0, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "many_states.W");
  return 0;
}

static int call_cf(lua_State *L)
{
  call *c = (call *)lua_touserdata(L, 1);
  int i, base;
  lua_getfield(L, LUA_REGISTRYINDEX, "many_states.W");
  lua_getfield(L, -1, c->name);
  base = lua_gettop(L) - 1;
  for (i = 0; i < c->nargs; i++) lua_pushnumber(L, c->args[i]);
  lua_call(L, c->nargs, LUA_MULTRET);
  c->nres = lua_gettop(L) - base;
  for (i = 0; i < c->nres && i < NRES; i++) c->res[i] = lua_tonumber(L, base + 1 + i);
  return 0;
}

/* Take the error message off the stack into buf. */
static void pop_error(lua_State *L, char *buf, size_t len)
{
  const char *msg = lua_tostring(L, -1);
  snprintf(buf, len, "%s", msg ? msg : "(error object is not a string)");
  lua_pop(L, 1);
}

/* Run W[name](args...) protected; 0 ok, 1 error (message in c->err). */
static int run_call(lua_State *L, call *c)
{
  c->nres = 0;
  c->err[0] = '\0';
  if (lua_cpcall(L, call_cf, c) == 0) return 0;
  pop_error(L, c->err, sizeof(c->err));
  return 1;
}

typedef struct ctx {
  tally *t;
  const char *who;             /* "thread 3" or "child 12" */
  unsigned long state;         /* state number within the thread or child */
  uint32_t seed;
  int state_ooms;              /* "not enough memory" caught in this state */
  int gated;                   /* holds fork_gate shared (workers, not children) */
} ctx;

/* Fork gate: workers hold it shared and let go only at safe points (between
** states and between workload functions), where they are neither inside
** LuaJIT nor inside malloc; the fork thread takes it exclusively around
** fork(). fork() thus never copies a lock that LuaJIT, libgcc or a
** sanitizer runtime holds in another thread: none of them has fork
** handlers (libgcc's unwinder lock is taken by LuaJIT for every machine-code
** area it registers and by every Lua error once one is registered; a child
** that inherits it held hangs). The allocator's background thread is not
** gated: it may hold the global lock or a heap lock at fork time, which is
** what the allocator's fork handlers are for. Writers are preferred, so a
** waiting fork is not starved by workers coming back. */
static pthread_rwlock_t fork_gate;

static void safe_point(const ctx *x)
{
  if (!x->gated) return;
  pthread_rwlock_unlock(&fork_gate);
  pthread_rwlock_rdlock(&fork_gate);
}

/* An error is acceptable only under a storm and only as "not enough memory". */
static void classify_error(ctx *x, const char *what, const char *err)
{
  if (storm && strcmp(err, "not enough memory") == 0) {
    x->t->ooms++;
    x->state_ooms++;
    return;
  }
  check(x->t, 0, "%s state %lu seed %u: %s raised: %s", x->who, x->state, x->seed, what, err);
}

/* Run one workload function and compare its results with e (NULL: only run).
** Returns 1 if the call returned. */
static int run_checked(ctx *x, lua_State *L, call *c, const expect *e)
{
  int i, ok;
  if (run_call(L, c)) {
    classify_error(x, c->name, c->err);
    return 0;
  }
  if (!e) return 1;
  ok = c->nres == e->n;
  for (i = 0; ok && i < e->n; i++) ok = c->res[i] == e->v[i];
  if (!ok) {
    char got[256], want[256];
    int g = 0, w = 0;
    for (i = 0; i < c->nres && i < NRES; i++)
      g += snprintf(got + g, sizeof(got) - (size_t)g, " %.17g", c->res[i]);
    for (i = 0; i < e->n; i++)
      w += snprintf(want + w, sizeof(want) - (size_t)w, " %.17g", e->v[i]);
    got[g] = want[w] = '\0';
    check(x->t, 0, "%s state %lu seed %u: %s returned%s, expected%s",
          x->who, x->state, x->seed, c->name, got, want);
  } else {
    x->t->passed++;
  }
  return 1;
}

static void set_call(call *c, const char *name, int nargs, double a0, double a1)
{
  memset(c, 0, sizeof(*c));
  c->name = name;
  c->nargs = nargs;
  c->args[0] = a0;
  c->args[1] = a1;
}

/* Create a state and run the setup; NULL under a storm when either failed
** (counted), NULL with a failure outside a storm. */
static lua_State *open_state(ctx *x)
{
  char err[160];
  lua_State *L = luaL_newstate();
  if (!L) {
    if (storm) x->t->newstate_null++;
    else check(x->t, 0, "%s: luaL_newstate returned NULL", x->who);
    return NULL;
  }
  if (lua_cpcall(L, setup_cf, NULL) != 0) {
    pop_error(L, err, sizeof(err));
    classify_error(x, "setup", err);
    lua_close(L);
    return NULL;
  }
  return L;
}

/* The workload on one open state, every result checked. bg: background
** thread on for this heap; decay: its decay option (ms). */
static void run_workload(ctx *x, lua_State *L, int bg, int decay)
{
  call c;
  expect e;
  luajit_reclaim_stats st;
  int kept;
  safe_point(x);
  set_call(&c, "config", 2, bg, decay);
  e.n = 1;
  e.v[0] = 1;
  run_checked(x, L, &c, &e);

  safe_point(x);
  set_call(&c, "keep", 1, x->seed, 0);
  kept = run_checked(x, L, &c, NULL);

  safe_point(x);
  set_call(&c, "strings", 1, x->seed, 0);
  expect_strings(x->seed, &e);
  run_checked(x, L, &c, &e);

  safe_point(x);
  set_call(&c, "tables", 1, x->seed, 0);
  expect_tables(x->seed, &e);
  run_checked(x, L, &c, &e);

  safe_point(x);
  set_call(&c, "ffi", 1, x->seed, 0);
  expect_ffi(x->seed, &e);
  run_checked(x, L, &c, &e);

  safe_point(x);
  set_call(&c, "grow", 1, x->seed, 0);
  expect_grow(x->seed, &e);
  run_checked(x, L, &c, &e);

  safe_point(x);
  set_call(&c, "coroutines", 1, x->seed, 0);
  expect_coroutines(x->seed, &e);
  run_checked(x, L, &c, &e);

  safe_point(x);
  set_call(&c, "jit", 1, x->seed, 0);
  expect_jit(x->seed, &e);
  if (run_call(L, &c)) {
    classify_error(x, "jit", c.err);
  } else {
    /* Without a failed allocation nothing stops the JIT from recording
    ** these deterministic loops; a failed one may abort a trace silently. */
    int traced = c.nres == 3 && c.res[1] == 1, may_lack_trace = 0;
    if (!traced && luaJIT_reclaim_stats(L, &st) == 0)
      may_lack_trace = storm && st.mmap_failed + st.mremap_failed > 0;
    x->t->traced += traced;
    check(x->t, c.nres == 3 && c.res[0] == e.v[0] && c.res[2] == 1 && (traced || may_lack_trace),
          "%s state %lu seed %u: jit returned %d values: %.17g trace %g status %g, expected %.17g 1 1",
          x->who, x->state, x->seed, c.nres, c.res[0], c.res[1], c.res[2], e.v[0]);
  }

  safe_point(x);
  set_call(&c, "gc", 0, 0, 0);
  if (run_call(L, &c) == 0)
    check(x->t, c.nres == 2 && c.res[0] == 1 && c.res[1] == (double)sysconf(_SC_PAGESIZE),
          "%s state %lu seed %u: stats after collect+purge: identities %g page_size %g (OS %ld)",
          x->who, x->state, x->seed, c.res[0], c.res[1], sysconf(_SC_PAGESIZE));
  else
    classify_error(x, "gc", c.err);

  if (kept) {
    set_call(&c, "check_kept", 1, x->seed, 0);
    expect_keep(x->seed, &e);
    run_checked(x, L, &c, &e);
  }
}

/* Read this heap's counters right before lua_close; check and add them up. */
static void close_state(ctx *x, lua_State *L)
{
  luajit_reclaim_stats st;
  int r = luaJIT_reclaim_stats(L, &st);
  if (check(x->t, r == 0, "%s state %lu: luaJIT_reclaim_stats failed", x->who, x->state)) {
    x->t->counted[0] += st.mmap_failed;
    x->t->counted[1] += st.madvise_failed;
    x->t->counted[2] += st.munmap_failed;
    x->t->counted[3] += st.mremap_failed;
    check(x->t, st.high_mappings_rejected == 0, "%s state %lu: %llu mappings above 2^47",
          x->who, x->state, (unsigned long long)st.high_mappings_rejected);
    if (x->state_ooms)
      check(x->t, st.mmap_failed + st.mremap_failed > 0,
            "%s state %lu seed %u: %d 'not enough memory' errors but the heap counted no "
            "failed mmap or mremap", x->who, x->state, x->seed, x->state_ooms);
  }
  lua_close(L);
}

/* -- Consistent fault snapshots -------------------------------------------------------------- */

typedef struct snap {
  double c[NKINDS];            /* this heap's <kind>_failed */
  double inj[NKINDS];          /* faults_injected[kind], process-wide */
  int has_inj;
} snap;

static int snap_read(lua_State *L, snap *s)
{
  call c;
  int k;
  set_call(&c, "snapshot", 0, 0, 0);
  if (run_call(L, &c)) return -1;
  if (c.nres != 4 && c.nres != 8) return -1;
  for (k = 0; k < NKINDS; k++) {
    s->c[k] = c.res[k];
    s->inj[k] = c.nres == 8 ? c.res[4 + k] : 0;
  }
  s->has_inj = c.nres == 8;
  return 0;
}

/* A snapshot where the counters include every failure the injected counts
** include: two reads in a row with equal injected counts mean nothing was
** injected between the first read's injected counts and the second's, and
** the second read's counters are read after the first's injected counts,
** so every failure injected by then (and counted: the count follows the
** injection in the same call) is in them. Retried while reads fail (a
** storm) or differ. Single-threaded processes only (fork children). */
static int snap_consistent(lua_State *L, snap *out)
{
  int tries, k, same;
  snap a;
  for (tries = 0; tries < 1000; tries++) {
    if (snap_read(L, &a) != 0 || snap_read(L, out) != 0) continue;
    for (same = 1, k = 0; k < NKINDS; k++) same &= a.inj[k] == out->inj[k];
    if (same) return 0;
  }
  return -1;
}

/* -- Workers ------------------------------------------------------------------------------------ */

typedef struct worker {
  pthread_t tid;
  int index;
  tally t;
} worker;

static uint32_t state_seed(int thread, unsigned long k)
{
  uint64_t z = (uint64_t)opt_seed * 0x9e3779b97f4a7c15ull + (uint64_t)thread * 0x632be59bd9b4e019ull + k;
  z ^= z >> 29;
  z *= 0xbf58476d1ce4e5b9ull;
  z ^= z >> 32;
  return (uint32_t)(z & 0x7fffffff);
}

static int state_bg(int thread, unsigned long k)
{
  return opt_bg >= 0 ? opt_bg : (int)((thread + k) & 1);
}

static void *worker_main(void *arg)
{
  worker *w = (worker *)arg;
  char who[32];
  unsigned long k;
  snprintf(who, sizeof(who), "thread %d", w->index);
  if (opt_fork) pthread_rwlock_rdlock(&fork_gate);
  for (k = 0; !past_deadline(); k++) {
    ctx x = { &w->t, who, k, state_seed(w->index, k), 0, opt_fork };
    int bg = state_bg(w->index, k), decay = (int)(k % 3 == 0 ? 0 : k % 3 == 1 ? 5 : 1000);
    lua_State *L = open_state(&x);
    if (!L) {
      safe_point(&x);
      continue;
    }
    w->t.states++;
    if (bg) w->t.states_bg++;
    run_workload(&x, L, bg, decay);
    close_state(&x, L);
    safe_point(&x);
  }
  if (opt_fork) pthread_rwlock_unlock(&fork_gate);
  return NULL;
}

/* -- Fork children -------------------------------------------------------------------------------- */

/* The child: a state (retried under a storm with a seed of its own per
** attempt, since the fault plans are re-armed at each heap creation), the
** workload, and under a storm the exact fault accounting. Returns its tally
** through fd. */
/* With LUAJIT_RECLAIM_TEST_BACKING=file (the "file" run of run.sh), a live
** heap's segments are file mappings named after the backing's memfd: the
** run must prove the backing was used, not only that nothing broke. */
static int maps_have_backing(void)
{
  char line[512];
  int found = 0;
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return 0;
  while (!found && fgets(line, sizeof(line), f))
    found = strstr(line, "/memfd:luajit-reclaim ") != NULL;
  fclose(f);
  return found;
}

static void child_main(unsigned long n, int fd)
{
  tally t;
  char who[32];
  ctx x;
  lua_State *L = NULL;
  snap s1, s2;
  int attempt, bg, exact = 0, k;
  alarm(CHILD_TIMEOUT);
  memset(&t, 0, sizeof(t));
  snprintf(who, sizeof(who), "child %lu", n);
  x.t = &t;
  x.who = who;
  x.state = 0;
  x.seed = state_seed(-1, n);
  x.state_ooms = 0;
  x.gated = 0;
#ifdef __SANITIZE_THREAD__
  bg = 0;   /* TSan does not support starting threads in a child of a multi-threaded fork */
#else
  bg = opt_bg >= 0 ? opt_bg : (int)(n & 1);
#endif
  for (attempt = 0; attempt < 100 && !L; attempt++) {
    if (storm) {
      char seed[32];
      snprintf(seed, sizeof(seed), "%llu", storm_seed + 1000003ull * (n + 1) + (unsigned long long)attempt);
      setenv("LUAJIT_RECLAIM_FAULT_SEED", seed, 1);
    }
    L = open_state(&x);
    if (!storm) break;
  }
  if (check(&t, L != NULL, "%s: no usable state in %d attempts", who, attempt)) {
    t.states++;
    if (bg) t.states_bg++;
    if (storm && !bg)
      exact = check(&t, snap_consistent(L, &s1) == 0, "%s: no consistent fault snapshot", who);
    run_workload(&x, L, bg, (int)(n % 2 ? 0 : 1000));
    if (backing_file)
      check(&t, maps_have_backing(), "%s: LUAJIT_RECLAIM_TEST_BACKING=file but no "
            "memfd:luajit-reclaim mapping in /proc/self/maps (a build without "
            "RCL_TEST_HOOKS, or the backing fell back to anonymous memory)", who);
    if (exact && check(&t, snap_consistent(L, &s2) == 0, "%s: no consistent fault snapshot", who)) {
      check(&t, s2.has_inj, "%s: reclaim.stats() has no faults_injected (build without "
            "RCL_FAULT_INJECTION?)", who);
      for (k = 0; k < NKINDS; k++) {
        double dc = s2.c[k] - s1.c[k], di = s2.inj[k] - s1.inj[k];
        if (k == 0)
          check(&t, dc <= di, "%s seed %u: heap counted %.0f failed mmap calls, %.0f injected",
                who, x.seed, dc, di);
        else
          check(&t, dc == di, "%s seed %u: heap counted %.0f failed %s calls, %.0f injected",
                who, x.seed, dc, kind_names[k], di);
      }
      t.exact++;
    }
    close_state(&x, L);
  }
  if (write(fd, &t, sizeof(t)) != (ssize_t)sizeof(t)) _exit(3);
  _exit(t.failed ? 1 : 0);
}

static void *forker_main(void *arg)
{
  tally *t = (tally *)arg;
  unsigned long n;
  for (n = 0; !past_deadline(); n++) {
    int fds[2], status;
    tally ct;
    ssize_t got = 0, r;
    pid_t pid;
    struct timespec pause;
    if (!check(t, pipe(fds) == 0, "pipe: %s", strerror(errno))) break;
    pthread_rwlock_wrlock(&fork_gate);
    pid = fork();
    if (pid == 0) {
      close(fds[0]);
      child_main(n, fds[1]);
    }
    pthread_rwlock_unlock(&fork_gate);
    close(fds[1]);
    if (!check(t, pid > 0, "fork: %s", strerror(errno))) {
      close(fds[0]);
      break;
    }
    while (got < (ssize_t)sizeof(ct)) {
      r = read(fds[0], (char *)&ct + got, sizeof(ct) - (size_t)got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += r;
    }
    close(fds[0]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    t->forks++;
    if (WIFSIGNALED(status))
      check(t, 0, "child %lu killed by signal %d%s", n, WTERMSIG(status),
            WTERMSIG(status) == SIGALRM ? " (hung: a lock held at fork?)" : "");
    else
      check(t, WIFEXITED(status) && WEXITSTATUS(status) == 0,
            "child %lu exited with status %d", n, WEXITSTATUS(status));
    if (check(t, got == (ssize_t)sizeof(ct), "child %lu sent no tally", n)) {
      /* The child's counters match its own injected counts (checked there);
      ** the parent's injected counts do not include them. */
      ct.forks = 0;
      memset(ct.counted, 0, sizeof(ct.counted));
      tally_add(t, &ct);
    }
    pause.tv_sec = 0;
    pause.tv_nsec = 10000000L + (long)(n % 4) * 5000000L;
    nanosleep(&pause, NULL);
  }
  return NULL;
}

/* -- Main ------------------------------------------------------------------------------------------- */

/* The ~PPM items of LUAJIT_RECLAIM_FAULT (the library parses the whole spec). */
static void parse_storm(const char *spec)
{
  const char *p = spec;
  const char *seed = getenv("LUAJIT_RECLAIM_FAULT_SEED");
  if (seed) storm_seed = strtoull(seed, NULL, 10);
  while (*p) {
    int k;
    for (k = 0; k < NKINDS; k++) {
      size_t l = strlen(kind_names[k]);
      if (strncmp(p, kind_names[k], l) == 0 && p[l] == '=' && p[l + 1] == '~')
        storm_rate[k] = (uint32_t)strtoul(p + l + 2, NULL, 10);
    }
    p = strchr(p, ',');
    if (!p) break;
    p++;
  }
}

/* Injected counts at the end, read from a fresh state (retried: the
** storm still blows). */
static int final_injected(tally *t, snap *s)
{
  int attempt;
  for (attempt = 0; attempt < 1000; attempt++) {
    tally scratch;             /* OOMs here are not part of the run's tally */
    ctx x = { &scratch, "main", (unsigned long)attempt, 0, 0, 0 };
    lua_State *L;
    memset(&scratch, 0, sizeof(scratch));
    L = open_state(&x);
    t->failed += scratch.failed;
    if (!L) continue;
    if (snap_read(L, s) == 0) {
      lua_close(L);
      return 0;
    }
    lua_close(L);
  }
  return -1;
}

static void usage(const char *argv0)
{
  fprintf(stderr, "usage: %s [-d SECONDS] [-t THREADS] [-b mixed|on|off] [-s SEED] [-F]\n"
          "  -F  no fork thread\n"
          "  LUAJIT_RECLAIM_FAULT set: fault storm (library built with -DRCL_FAULT_INJECTION)\n",
          argv0);
  exit(2);
}

int main(int argc, char **argv)
{
  worker *workers;
  pthread_t forker;
  tally total, fork_tally;
  const char *spec = getenv("LUAJIT_RECLAIM_FAULT");
  const char *backing = getenv("LUAJIT_RECLAIM_TEST_BACKING");
  int opt, i, k;
  backing_file = backing && strcmp(backing, "file") == 0;
  while ((opt = getopt(argc, argv, "d:t:b:s:F")) != -1) {
    switch (opt) {
    case 'd': opt_seconds = atof(optarg); break;
    case 't': opt_threads = atoi(optarg); break;
    case 'b':
      if (!strcmp(optarg, "mixed")) opt_bg = -1;
      else if (!strcmp(optarg, "on")) opt_bg = 1;
      else if (!strcmp(optarg, "off")) opt_bg = 0;
      else usage(argv[0]);
      break;
    case 's': opt_seed = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'F': opt_fork = 0; break;
    default: usage(argv[0]);
    }
  }
  if (optind != argc || opt_threads < 1 || opt_seconds <= 0) usage(argv[0]);
  if (spec && *spec) {
    storm = 1;
    parse_storm(spec);
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("many_states: %d threads + %s, %.0f s, background %s, seed %u%s%s\n", opt_threads,
         opt_fork ? "a fork thread" : "no fork thread", opt_seconds,
         opt_bg < 0 ? "mixed" : opt_bg ? "on" : "off", opt_seed,
         storm ? ", fault storm " : "", storm ? spec : "");
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  deadline.tv_sec += (time_t)opt_seconds;
  deadline.tv_nsec += (long)((opt_seconds - (double)(time_t)opt_seconds) * 1e9);
  if (deadline.tv_nsec >= 1000000000L) { deadline.tv_sec++; deadline.tv_nsec -= 1000000000L; }

  memset(&total, 0, sizeof(total));
  memset(&fork_tally, 0, sizeof(fork_tally));
  {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&fork_gate, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  workers = calloc((size_t)opt_threads, sizeof(*workers));
  if (!workers) abort();
  for (i = 0; i < opt_threads; i++) {
    workers[i].index = i;
    check(&total, pthread_create(&workers[i].tid, NULL, worker_main, &workers[i]) == 0,
          "pthread_create");
  }
  if (opt_fork)
    check(&total, pthread_create(&forker, NULL, forker_main, &fork_tally) == 0, "pthread_create");
  for (i = 0; i < opt_threads; i++) {
    pthread_join(workers[i].tid, NULL);
    check(&total, workers[i].t.states > 0, "thread %d created no usable state", i);
    tally_add(&total, &workers[i].t);
  }
  if (opt_fork) {
    pthread_join(forker, NULL);
    check(&total, fork_tally.forks > 0, "no fork was checked");
    tally_add(&total, &fork_tally);
  }

  {
    snap fin;
    int have = final_injected(&total, &fin) == 0;
    check(&total, have, "no state for the final faults_injected read");
    if (storm) {
      check(&total, have && fin.has_inj, "reclaim.stats() has no faults_injected "
            "(library built without RCL_FAULT_INJECTION?)");
      for (k = 0; k < NKINDS; k++) {
        check(&total, (double)total.counted[k] <= fin.inj[k],
              "heaps counted %llu failed %s calls, more than the %.0f injected",
              (unsigned long long)total.counted[k], kind_names[k], fin.inj[k]);
        if (storm_rate[k])
          check(&total, fin.inj[k] > 0, "%s armed at %u per million but nothing injected",
                kind_names[k], storm_rate[k]);
      }
      if (storm_rate[0] || storm_rate[3])
        check(&total, total.ooms > 0, "mmap/mremap faults armed but Lua saw no 'not enough memory'");
      if (opt_fork)
        check(&total, total.exact > 0, "no fork child did the exact fault accounting");
    } else if (have && fin.has_inj) {
      for (k = 0; k < NKINDS; k++)
        check(&total, fin.inj[k] == 0, "no storm, yet %.0f %s failures injected", fin.inj[k],
              kind_names[k]);
    }
    printf("many_states: %llu states (%llu with the background thread), %llu traced, "
           "%llu forks checked (%llu exact fault checks), %llu newstate NULL, "
           "%llu 'not enough memory' caught\n",
           (unsigned long long)total.states, (unsigned long long)total.states_bg,
           (unsigned long long)total.traced, (unsigned long long)total.forks,
           (unsigned long long)total.exact, (unsigned long long)total.newstate_null,
           (unsigned long long)total.ooms);
    if (storm || (have && fin.has_inj)) {
      printf("many_states: failures counted by heaps / injected:");
      for (k = 0; k < NKINDS; k++)
        printf(" %s %llu/%.0f", kind_names[k], (unsigned long long)total.counted[k],
               have ? fin.inj[k] : -1.0);
      printf("\n");
    }
  }
  if (fail_lines > MAX_FAIL_LINES)
    printf("many_states: %d failure lines not printed\n", fail_lines - MAX_FAIL_LINES);
  printf("%llu passed, %llu failed\n", (unsigned long long)total.passed,
         (unsigned long long)total.failed);
  free(workers);
  return total.failed ? 1 : 0;
}
