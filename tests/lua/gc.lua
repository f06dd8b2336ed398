-- gc.lua: the collectgarbage interface (count/step/collect/stop/restart/setpause/setstepmul),
-- finalizers, weak tables and resurrection; memory accounting must follow allocation and release.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

collectgarbage("collect")
local base_kb = collectgarbage("count")
t.eq(type(base_kb), "number", "count is a number")
t.ok(base_kb > 0, "count is positive")
t.ok(math.abs(gcinfo() - base_kb) <= 2, "gcinfo agrees with count")

local hold = {}
for i = 1, 50000 do hold[i] = { i, tostring(i) } end
local grown_kb = collectgarbage("count")
t.ok(grown_kb > base_kb + 2000, "count grows with live data (" .. base_kb .. " -> " .. grown_kb .. " KB)")
hold = nil
t.eq(collectgarbage("collect"), 0, "collect returns 0")
local after_kb = collectgarbage("count")
-- Not all the way to base: the string hash table grew for the 50000 strings and LuaJIT halves it
-- only once per cycle.  90% of the growth must be gone.
t.ok(after_kb < base_kb + (grown_kb - base_kb) * 0.1,
     "count falls back after collect (" .. after_kb .. " KB)")

-- Incremental steps finish a cycle eventually.
for i = 1, 20000 do hold = { i } end
local finished, steps = false, 0
repeat
  steps = steps + 1
  finished = collectgarbage("step", 0)
until finished or steps > 100000
t.ok(finished, "step returns true at the end of a cycle (after " .. steps .. " steps)")

-- stop/restart: no collection while stopped.
collectgarbage("collect")
collectgarbage("stop")
local before_stop = collectgarbage("count")
local ring = {}
for i = 1, 30000 do ring[i % 16] = { i } end   -- escapes, so the JIT cannot sink the allocation
local while_stopped = collectgarbage("count")
t.ok(while_stopped > before_stop + 500, "garbage accumulates while stopped")
collectgarbage("restart")
collectgarbage("collect")
t.ok(collectgarbage("count") < while_stopped - 500, "collect after restart frees it")

local old_pause = collectgarbage("setpause", 150)
t.eq(type(old_pause), "number", "setpause returns the previous value")
t.eq(collectgarbage("setpause", old_pause), 150, "setpause round trip")
local old_mul = collectgarbage("setstepmul", 300)
t.eq(collectgarbage("setstepmul", old_mul), 300, "setstepmul round trip")

-- __gc on userdata (newproxy) and resurrection.
local finalized, resurrected = 0, nil
do
  for _ = 1, 50 do
    local p = newproxy(true)
    getmetatable(p).__gc = function() finalized = finalized + 1 end
  end
  local r = newproxy(true)
  getmetatable(r).__gc = function(self) resurrected = self end
end
collectgarbage("collect")
t.eq(finalized, 50, "__gc ran for 50 proxies")
t.eq(type(resurrected), "userdata", "finalizer resurrected its object")
resurrected = nil
collectgarbage("collect")

-- Weak values and keys.
local wv = setmetatable({}, { __mode = "v" })
local strong = {}
for i = 1, 100 do
  local obj = { i }
  wv[i] = obj
  if i % 10 == 0 then strong[#strong + 1] = obj end
end
collectgarbage("collect")
local left = 0
for _ in pairs(wv) do left = left + 1 end
t.eq(left, 10, "weak values keep only strongly referenced objects")

-- Ephemeron-like weak keys with string values: values of dead keys disappear.
local wk = setmetatable({}, { __mode = "k" })
local keep = {}
for i = 1, 100 do
  local k = {}
  wk[k] = ("value"):rep(i)
  if i <= 5 then keep[i] = k end
end
collectgarbage("collect")
local nk = 0
for _ in pairs(wk) do nk = nk + 1 end
t.eq(nk, 5, "weak keys")

-- Many full collections in a row stay stable.
local settled_kb = collectgarbage("count")
for _ = 1, 20 do collectgarbage("collect") end
t.ok(collectgarbage("count") <= settled_kb, "repeated collections do not grow the heap")

t.done()
