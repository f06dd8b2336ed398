-- idle.lua: reclaim.idle() and luaJIT_reclaim_idle() in the CLI, and what
-- reclaim.nginx_idle() says outside nginx (check-nginx runs it before the
-- nginx runs, with the JIT on and off).
--  * after a burst, repeated idle() calls collect and purge: false until
--    done, then true; the heap falls to the live data and RSS with it;
--  * each call stays near its budget (CPU time), the purge included: a
--    burst's purge takes several calls of a small budget;
--  * activity during the purge starts the period again;
--  * once done, idle() does nothing until more than 64 KiB is allocated;
--  * garbage made between the calls of a period is collected too;
--  * a stopped GC does the work and stays stopped;
--  * bad budgets are errors; a state with its own allocator gets -1;
--  * nginx_idle() needs ngx and names bad options; nothing writes a global.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "../reclaim/lib/?.lua;" .. package.path
local t = require("t")
local mem = require("mem")
local r = require("reclaim")

local MiB = mem.MiB
local BURST = (t.small() and 40 or 120) * MiB

local globals = {}
for k in pairs(_G) do globals[k] = true end

r.config({ mode = "dontneed", full_gc_purge = true, background = false })

-- idle_until_done(budget): calls idle(budget) until it returns true; the
-- calls, the largest CPU time (s) of a call, and how many calls purged
-- (purged_total grew).
local function idle_until_done(budget)
  local calls, worst, purging = 0, 0, 0
  while true do
    local p0 = r.stats().purged_total
    local c0 = os.clock()
    local done = r.idle(budget)
    local dt = os.clock() - c0
    calls = calls + 1
    if r.stats().purged_total > p0 then purging = purging + 1 end
    t.eq(type(done), "boolean", "idle() returns a boolean")
    if dt > worst then worst = dt end
    if done or calls > 1e6 then return calls, worst, purging end
  end
end

-- A burst dropped without a collection: only GC steps can take it back.
mem.full_gc()
local rss0, live0 = mem.rss(), mem.live()
local hold = mem.burst(BURST)
local rss_peak = mem.rss()
hold = nil
local purged0 = r.stats().purged_total
local calls, worst, purging = idle_until_done(1000)
local rss1, live1, st1 = mem.rss(), mem.live(), r.stats()
t.note(string.format("burst %.0f MiB: RSS %.1f -> %.1f -> %.1f MiB, heap %.1f -> %.1f MiB;"
                     .. " %d calls of idle(1000), %d of them purged, longest %.2f ms CPU",
                     BURST / MiB, rss0 / MiB, rss_peak / MiB, rss1 / MiB, live0 / MiB, live1 / MiB,
                     calls, purging, worst * 1000))
t.ok(calls >= 3, "a burst needs several calls of 1 ms")
-- A GC step is small; the budget is checked between steps and between purge
-- slices. 5 ms covers a slow step (the string table shrink) on a loaded machine.
t.le(worst, 0.001 + 0.005, "each call keeps near its budget (CPU time), the purge included")
t.le(live1, live0 + 1 * MiB, "the burst is collected (heap back to the live data)")
t.ok(st1.purged_total > purged0, "the heap was purged")
if mem.emulator() then
  t.skip("RSS: belongs to the emulator " .. mem.emulator())
else
  t.le(rss1, rss0 + 1.1 * live1 + 8 * MiB, "RSS fell back to start + 1.1 x live + 8 MiB")
end

-- Done: nothing to do until new allocation beyond 64 KiB.
local purges = r.stats().purge_calls
local count = collectgarbage("count")
t.eq(r.idle(0), true, "done: idle() is true at once")
t.eq(collectgarbage("count"), count, "done: idle() did no GC work")
t.eq(r.stats().purge_calls, purges, "done: idle() did not purge again")
local small = {}
for i = 1, 100 do small[i] = { i } end     -- a few KiB
t.eq(r.idle(0), true, "a few KiB allocated: still done")
local big = {}
for i = 1, 4000 do big[i] = { i, tostring(i) } end   -- several hundred KiB
t.eq(r.idle(0), false, "more than 64 KiB allocated: a new period begins")
calls = idle_until_done(1000)
t.ok(calls >= 1, "the new period ends")
small, big = nil, nil

-- The purge is sliced: with a small budget a burst's purge takes several
-- calls; activity between them starts the period again (a new collection,
-- then the purge from the start), and the period still ends purged.
mem.full_gc()
hold = mem.burst(BURST / 2)
hold = nil
calls, worst, purging = idle_until_done(50)
t.note(string.format("idle(50) after a %.0f MiB burst: %d calls, %d of them purged, longest %.2f ms CPU",
                     BURST / 2 / MiB, calls, purging, worst * 1000))
t.ok(purging >= 2, "a burst's purge is spread over several calls of idle(50)")
mem.full_gc()
hold = mem.burst(BURST / 2)
hold = nil
local purged_mid
repeat   -- until the first purge slice has run
  local p0 = r.stats().purged_total
  t.eq(r.idle(50), false, "the period is not over at its first purge slice")
  purged_mid = r.stats().purged_total > p0
until purged_mid
local live_mid = mem.live()
hold = mem.burst(BURST / 4)   -- activity in the middle of the purge
hold = nil
t.eq(r.idle(50), false, "activity during the purge: the period goes on")
idle_until_done(1000)
t.le(mem.live(), live_mid + 1 * MiB, "activity during the purge: its garbage is collected too")

-- Garbage made between the calls of a period is collected by its end.
mem.full_gc()
live0 = mem.live()
hold = mem.burst(BURST / 4)
hold = nil
t.eq(r.idle(0), false, "a period begins")
hold = mem.burst(BURST / 4)   -- activity: GC steps outside idle()
hold = nil
idle_until_done(1000)
t.le(mem.live(), live0 + 1 * MiB, "garbage of the activity inside the period is collected too")

-- A stopped GC: idle() works, the GC stays stopped.
mem.full_gc()
collectgarbage("stop")
hold = mem.burst(BURST / 4)
hold = nil
idle_until_done(1000)
t.le(mem.live(), live0 + 1 * MiB, "stopped GC: idle() collected")
local before = mem.live()
hold = mem.burst(BURST / 4)
hold = nil
t.ok(mem.live() >= before + BURST / 4, "stopped GC: still stopped after idle()")
collectgarbage("restart")
mem.full_gc()

-- Budgets.
for _, bad in ipairs({ -1, 1.5, 2 ^ 32 }) do
  t.raises(function() r.idle(bad) end, "want whole microseconds", "idle(" .. tostring(bad) .. ") is an error")
end
t.raises(function() r.idle("x") end, "number expected", "idle('x') is an error")
t.eq(r.idle(), true, "idle() with the default budget")

-- The C call, and a state with an allocator of its own.
if t.static() then
  t.skip("luaJIT_reclaim_idle through ffi.C (static build: no symbol lookup)")
else
  local ffi = require("ffi")
  ffi.cdef[[
typedef struct lua_State lua_State;
typedef void *(*lua_Alloc)(void *ud, void *ptr, size_t osize, size_t nsize);
lua_State *lua_newstate(lua_Alloc f, void *ud);
void lua_close(lua_State *L);
int luaJIT_reclaim_idle(lua_State *L, unsigned budget_us);
void *realloc(void *p, size_t n);
void free(void *p);
]]
  local C = ffi.C
  local alloc = ffi.cast("lua_Alloc", function(_, ptr, _, nsize)
    if nsize == 0 then C.free(ptr); return nil end
    return C.realloc(ptr, nsize)
  end)
  local L2 = C.lua_newstate(alloc, nil)
  t.ok(L2 ~= nil, "lua_newstate with an allocator of its own")
  t.eq(C.luaJIT_reclaim_idle(L2, 1000), -1, "luaJIT_reclaim_idle: -1 for a state on another allocator")
  C.lua_close(L2)
  alloc:free()
end

-- nginx_idle outside nginx: options first, then ngx.
t.raises(function() r.nginx_idle() end, "^reclaim%.nginx_idle: needs nginx's lua module",
         "nginx_idle{} without ngx is an error saying it needs ngx")
t.raises(function() r.nginx_idle({ idle_after = 0 }) end,
         "^reclaim%.nginx_idle: bad value 0 for option 'idle_after' %(want seconds from 0%.01 to 3600%)$",
         "a bad value names the option and the range")
t.raises(function() r.nginx_idle({ tik = 1 }) end, "unknown option 'tik'", "an unknown option is named")
t.raises(function() r.nginx_idle({ budget_us = 999.5 }) end, "option 'budget_us'", "budget_us is whole")

local new = {}
for k in pairs(_G) do if not globals[k] and k ~= "globals" then new[#new + 1] = k end end
t.eq(table.concat(new, ","), "", "no global written")
t.done()
