-- coroutines.lua: create/resume/yield/status/wrap, yield across pcall, errors inside coroutines,
-- and many live coroutines (each has its own Lua stack, a separate allocation).
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

local co = coroutine.create(function(a, b)
  local c = coroutine.yield(a + b)
  local d, e = coroutine.yield(c * 2)
  return d + e, "end"
end)
t.eq(coroutine.status(co), "suspended", "status before start")
local ok1, v1 = coroutine.resume(co, 1, 2)
t.ok(ok1 and v1 == 3, "first resume yields a+b")
local ok2, v2 = coroutine.resume(co, 10)
t.ok(ok2 and v2 == 20, "second resume yields c*2")
local ok3, v3, v4 = coroutine.resume(co, 4, 5)
t.ok(ok3 and v3 == 9 and v4 == "end", "final return values")
t.eq(coroutine.status(co), "dead", "status when finished")
local ok4, err4 = coroutine.resume(co)
t.ok(not ok4 and tostring(err4):find("dead") ~= nil, "resuming a dead coroutine fails")

-- status "running" and "normal".
local outer
outer = coroutine.create(function()
  t.eq(coroutine.status(outer), "running", "status running")
  local inner = coroutine.create(function() return coroutine.status(outer) end)
  local _, s = coroutine.resume(inner)
  t.eq(s, "normal", "status normal")
end)
coroutine.resume(outer)

-- wrap as a generator.
local function range(n)
  return coroutine.wrap(function() for i = 1, n do coroutine.yield(i) end end)
end
local sum = 0
for i in range(100) do sum = sum + i end
t.eq(sum, 5050, "wrap generator")
local gen = coroutine.wrap(function() error("wrapped boom") end)
t.raises(gen, "wrapped boom", "error in a wrapped coroutine propagates")

-- Yield across pcall (LuaJIT supports it).
local across = coroutine.wrap(function()
  local ok, v = pcall(function()
    local got = coroutine.yield("from inside pcall")
    error("after yield: " .. got)
  end)
  coroutine.yield(ok, v)
  return "done"
end)
t.eq(across(), "from inside pcall", "yield inside pcall")
local okp, msg = across("resumed")
t.ok(okp == false and tostring(msg):find("after yield: resumed") ~= nil, "pcall catches after resume")
t.eq(across(), "done", "coroutine finishes after pcall")

-- Yield across a metamethod and an iterator.
local mt = { __index = function(_, k) return coroutine.yield(k) end }
local meta = coroutine.wrap(function() return setmetatable({}, mt).field end)
t.eq(meta(), "field", "yield from __index")
t.eq(meta(42), 42, "value returned through __index")

-- Errors inside coroutines do not kill the caller.
local bad = coroutine.create(function() local x = nil; return x.y end)
local okb, errb = coroutine.resume(bad)
t.ok(not okb and tostring(errb):find("attempt to index") ~= nil, "error inside a coroutine")
t.ok(debug.traceback(bad):find("stack traceback") ~= nil, "traceback of a dead coroutine")

-- Many live coroutines with deep stacks.
local function deep(n) if n == 0 then return coroutine.yield(0) end return deep(n - 1) + 1 end
local cos = {}
for i = 1, 2000 do
  cos[i] = coroutine.create(deep)
  coroutine.resume(cos[i], i % 50)
end
collectgarbage("collect")
local allgood = true
for i = 1, #cos do
  local okr, r = coroutine.resume(cos[i], 0)
  if not okr or r ~= i % 50 then allgood = false break end
end
t.ok(allgood, "2000 suspended coroutines resume correctly after GC")

t.done()
