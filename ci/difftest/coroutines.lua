-- ci/difftest/coroutines.lua: JIT differential test, coroutines (wrap, resume/yield with values,
-- yield across pcall, status, errors inside coroutines, many coroutines alive at once). Its
-- output must be byte-identical on every target and JIT mode.
-- Invariants: deterministic; never prints an address (tostring of a thread); loops run long
-- enough to be traced.

-- Generators with coroutine.wrap.
local function range(n, step)
  return coroutine.wrap(function()
    for i = 1, n, step do coroutine.yield(i, i * i) end
  end)
end
local s1, s2 = 0, 0
for a, b in range(3000, 3) do s1 = s1 + a; s2 = s2 + b % 1000 end
print("wrap", s1, s2)

-- Values passed in both directions through resume/yield.
local co = coroutine.create(function(x)
  local total = x
  for _ = 1, 500 do
    local got = coroutine.yield(total)
    total = total + got
  end
  return "done", total
end)
local ok, v = coroutine.resume(co, 1)
local trace = 0
for i = 1, 500 do
  ok, v = coroutine.resume(co, i)
  if type(v) == "number" then trace = (trace + v) % 1000003 end
end
print("pingpong", ok, v, trace, coroutine.status(co))
print("dead", coroutine.resume(co))

-- Yield across pcall and from inside a metamethod-free nested call chain.
local function inner(i)
  if i % 5 == 0 then error("boom" .. i, 0) end
  coroutine.yield(i)
  return i
end
local caught, yielded = 0, 0
local worker = coroutine.wrap(function()
  for i = 1, 400 do
    local okp, err = pcall(inner, i)
    if not okp then caught = caught + 1; coroutine.yield(err) end
  end
  return "end"
end)
local last
repeat
  last = worker()
  yielded = yielded + 1
until last == "end"
print("yieldpcall", caught, yielded)

-- Errors inside coroutines are returned by resume.
local bad = coroutine.create(function() local t = nil; return t.field end)
local okb, errb = coroutine.resume(bad)
print("error", okb, errb, coroutine.status(bad))
local thrown = coroutine.create(function() error({ code = 7 }) end)
local okt, errt = coroutine.resume(thrown)
print("errtable", okt, type(errt), errt.code)

-- Many coroutines alive at once, resumed round-robin (exercises stack allocation/growth).
local pool = {}
for i = 1, 300 do
  pool[i] = coroutine.create(function()
    local depth = 0
    local function recurse(d) if d == 0 then return 0 end return 1 + recurse(d - 1) end
    while true do depth = depth + 1; coroutine.yield(recurse(depth % 50 + i % 7)) end
  end)
end
local rr = 0
for round = 1, 20 do
  for i = 1, #pool do
    local _, r = coroutine.resume(pool[i])
    rr = rr + r * (round % 3 + 1)
  end
end
print("pool", rr, coroutine.status(pool[1]), coroutine.running() == nil, coroutine.isyieldable())
