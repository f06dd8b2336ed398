-- jit_stress.lua: exercise every place the JIT maps or protects memory.
--
-- Hundreds of traces (each a separately compiled loop), side exits, trace
-- flushes with jit.flush(), machine-code area growth (run with small and
-- large -Osizemcode), and many FFI callbacks (the callback trampoline page).
-- Run it under tests/tools/pagesim at 4K, 16K and 64K: any mmap, mprotect or
-- munmap computed with the wrong page size is a counted violation there.
-- Prints "jit_stress ok traces=N callbacks=N" and exits 0, or fails an assert.

local ffi = require("ffi")

local traces = 0
if jit.status() then
  jit.attach(function(what) if what == "stop" then traces = traces + 1 end end, "trace")
end

-- Generate N distinct functions with a hot loop and a data-dependent branch
-- (side exit), so each compiles its own root and side traces.
local function make_loop(k)
  local src = string.format([[
    local n = ...
    local acc = 0
    for i = 1, n do
      if i %% %d == 0 then acc = acc + i * %d else acc = acc - 1 end
    end
    return acc
  ]], (k % 7) + 2, k)
  return assert(loadstring(src, "loop" .. k))
end

local function expected(k, n)
  local m, acc = (k % 7) + 2, 0
  for i = 1, n do
    if i % m == 0 then acc = acc + i * k else acc = acc - 1 end
  end
  return acc
end

for round = 1, 3 do
  for k = 1, 150 do
    local f = make_loop(k)
    local got = f(300)
    assert(got == expected(k, 300), "loop " .. k .. " wrong result")
  end
  jit.flush()  -- Drop every trace; the next round recompiles into fresh areas.
  collectgarbage()
end

-- FFI callbacks: many distinct callbacks fill the callback slot page.
ffi.cdef[[ typedef int (*lr_cb_t)(int); ]]
local cbs = {}
local ncb = 400
for i = 1, ncb do
  local cb = ffi.cast("lr_cb_t", function(x) return x + i end)
  cbs[i] = cb
end
for i = 1, ncb do
  assert(cbs[i](1000) == 1000 + i, "callback " .. i .. " wrong result")
end
for i = 1, ncb do cbs[i]:free() end

if jit.status() then
  assert(traces > 100, "expected hundreds of traces, got " .. traces)
end
print(string.format("jit_stress ok traces=%d callbacks=%d", traces, ncb))
