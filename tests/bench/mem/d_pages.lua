-- Diagnostic for workload (d): which pages do the survivors pin, and why?
--
-- Runs the (d) burst (same generator, seed and 2% survival as d_mixed.lua), collects,
-- then finds every survivor's blocks by address and counts the distinct OS pages they
-- touch, split by kind: table headers (GCtab, 64 bytes), their hash parts (Node arrays)
-- and strings (GCstr header + bytes). Prints those sums next to reclaim.stats().floor.
--
-- Usage: build/x86_64/bin/luajit tests/bench/mem/d_pages.lua
--        BENCH_MALLOC_TRIM=1 build/sysmalloc-x86_64/bin/luajit tests/bench/mem/d_pages.lua
-- The second form measures the peer (LuaJIT on glibc malloc, malloc_trim after the
-- collect): block extents are then glibc chunks (8-byte header, 16-byte steps, at least
-- 32 bytes) on 4 KiB pages, and VmRSS is printed instead of our stats.
-- Invariants / limits: GC64 builds of this LuaJIT (GCtab: node pointer at byte 40, hmask
-- at 52; GCstr header 24 bytes); with our runtime, block sizes are rounded to our size
-- classes (16..256 by 16, then 16 per doubling), as the allocator does.

local ffi = require("ffi")
local bit = require("bit")
local here = arg[0]:match("^(.*)/") or "."
local probe = dofile(here .. "/probe.lua")
local mix = dofile(here .. "/mix.lua")
local reclaim = probe.reclaim
assert(ffi.abi("gc64"), "d_pages.lua reads GC64 object layouts")

local COUNT, SURVIVE_PERCENT = 2000000, 2

local function class_size(n)
  if not reclaim then return math.max(32, math.ceil((n + 8) / 16) * 16) - 8 end  -- glibc
  if n <= 256 then return math.ceil(n / 16) * 16 end
  local m, b = n - 1, 8
  while bit.rshift(m, b + 1) > 0 do b = b + 1 end
  local step = 2 ^ (b - 4)
  return (math.floor(m / step) + 1) * step
end

local objects, survivors = mix.fragmentation_burst(probe.lcg(424242), COUNT, SURVIVE_PERCENT)
objects = nil
probe.full_collect()

local page = reclaim and reclaim.stats().page_size or 4096
local pages = { all = {}, header = {}, hash = {}, string = {} }
local function touch(kind, addr, size)
  for p = math.floor(addr / page), math.floor((addr + size - 1) / page) do
    pages[kind][p] = true
    pages.all[p] = true
  end
end

for _, o in ipairs(survivors) do
  if type(o) == "table" then
    local addr = tonumber(tostring(o):match("0x(%x+)"), 16)
    local t = ffi.cast("uint8_t *", addr)
    touch("header", addr, 64)
    touch("hash", tonumber(ffi.cast("uint64_t *", t + 40)[0]),
          class_size((ffi.cast("uint32_t *", t + 52)[0] + 1) * 24))
  else
    touch("string", tonumber(ffi.cast("uintptr_t", ffi.cast("const char *", o))) - 24,
          class_size(#o + 25))
  end
end

local function mib(set)
  local n = 0
  for _ in pairs(set) do n = n + 1 end
  return n * page / 1048576
end
print(string.format("survivors %d; pages they touch %.1f MiB: table headers %.1f, hash parts %.1f, "
  .. "strings %.1f (kinds may share pages)", #survivors, mib(pages.all), mib(pages.header),
  mib(pages.hash), mib(pages.string)))
if not reclaim then
  local f = assert(io.open("/proc/self/status"))
  print("peer: " .. f:read("*a"):match("VmRSS:%s*%d+ kB"))
  f:close()
  return
end
local st = reclaim.stats()
print(string.format("stats: floor %.1f MiB, metadata %.1f MiB, resident %.1f MiB, segments %d",
  st.floor / 1048576, st.metadata / 1048576, st.resident / 1048576, st.segments))
