-- ci/checks/below47.lua: the "addr47" row of the matrix: every block the runtime hands out lies
-- below 2^47 (LuaJIT's GC64 object layout and its JIT's pointer handling rely on 47-bit
-- addresses; the arm64 guests' kernels place plain mmaps above 2^47, see ci/probe/highmap.c).
--
-- Usage: luajit below47.lua
-- Allocates, and keeps alive at once, objects of every kind and size class the allocator has:
-- tables, closures, coroutines, userdata (address from tostring(obj) = "<type>: 0x..."),
-- strings from 1 byte to 8 MiB (address of the string data via ffi.cast("const char *", s))
-- and FFI arrays from 1 byte to 8 MiB (ffi.cast("uintptr_t", cdata)), and the FFI callback
-- area. One check per object
-- kind and size decade; ends with "N passed, N failed".
-- Invariants: pure FFI (ffi.new/ffi.cast only, no ffi.C), so it runs on static builds; every
-- check can fail; an address that cannot be read is a failure, not a skip.
local ffi = require("ffi")

local LIMIT = 2 ^ 47
local small = os.getenv("LUAJIT_TEST_SMALL") == "1"
local passed, failed = 0, 0
local highest = 0

local function check(ok, what)
  if ok then passed = passed + 1 else failed = failed + 1; print("FAIL " .. what) end
end

-- Returns the address printed by tostring(obj), or nil.
local function object_address(obj)
  local hex = tostring(obj):match(":%s*0x(%x+)")
  return hex and tonumber(hex, 16)
end

local function string_address(s)
  return tonumber(ffi.cast("uintptr_t", ffi.cast("const char *", s)))
end

local function cdata_address(cd)
  return tonumber(ffi.cast("uintptr_t", cd))
end

-- Checks every address of one group; one check per group.
local function check_group(what, addresses)
  local bad, worst = 0, 0
  for _, a in ipairs(addresses) do
    if not a or a <= 0 or a >= LIMIT then bad = bad + 1 end
    if a and a > worst then worst = a end
  end
  if worst > highest then highest = worst end
  check(#addresses > 0 and bad == 0,
    string.format("%s: %d of %d addresses not in (0, 2^47), highest 0x%x", what, bad, #addresses, worst))
end

local keep = {}
local function keep_alive(obj) keep[#keep + 1] = obj; return obj end

-- Sizes 1, 2, 3, 5, 8, ... up to max_size (roughly geometric, hits every size class region).
local function sizes_up_to(max_size)
  local list, n = {}, 1
  while n <= max_size do
    list[#list + 1] = n
    n = math.max(n + 1, math.floor(n * 1.37))
  end
  list[#list + 1] = max_size
  return list
end

local max_bytes = small and 2 * 1024 * 1024 or 8 * 1024 * 1024
local copies = small and 2 or 4

-- Strings and FFI arrays, grouped by size decade (<=100, <=10^4, <=10^6, larger).
local function decade(n)
  if n <= 100 then return "<=100B" elseif n <= 10000 then return "<=10KB"
  elseif n <= 1000000 then return "<=1MB" else return ">1MB" end
end
local string_groups, cdata_groups, group_order = {}, {}, {}
for _, n in ipairs(sizes_up_to(max_bytes)) do
  local d = decade(n)
  if not string_groups[d] then
    string_groups[d], cdata_groups[d] = {}, {}
    group_order[#group_order + 1] = d
  end
  for c = 1, copies do
    -- A distinct string per copy (strings are interned).
    local s = keep_alive(string.rep(string.char(65 + c), n - 1) .. string.char(48 + (n % 10)))
    local sa = string_groups[d]; sa[#sa + 1] = string_address(s)
    local cd = keep_alive(ffi.new("uint8_t[?]", n))
    local ca = cdata_groups[d]; ca[#ca + 1] = cdata_address(cd)
  end
end
for _, d in ipairs(group_order) do
  check_group("strings " .. d, string_groups[d])
  check_group("ffi arrays " .. d, cdata_groups[d])
end

-- Tables with array and hash parts of growing sizes (the header address is what tostring shows;
-- the parts come from the same allocator and are covered by the arrays/strings above).
local tables = {}
for _, n in ipairs(sizes_up_to(small and 20000 or 100000)) do
  local t = keep_alive({})
  for i = 1, n do t[i] = i end
  t.k = n
  tables[#tables + 1] = object_address(t)
end
for i = 1, (small and 20000 or 100000) do
  tables[#tables + 1] = object_address(keep_alive({ i }))
end
check_group("tables", tables)

local closures, threads, udata = {}, {}, {}
for i = 1, (small and 5000 or 20000) do
  local f = keep_alive(function() return i end)
  closures[#closures + 1] = object_address(f)
  local co = keep_alive(coroutine.create(f))
  threads[#threads + 1] = object_address(co)
  local u = keep_alive(newproxy(false))
  udata[#udata + 1] = object_address(u)
end
check_group("closures", closures)
check_group("coroutines", threads)
check_group("userdata", udata)

-- The FFI callback trampoline area (its own mapping, runtime patch 0006).
local cb = keep_alive(ffi.cast("int (*)(int)", function(x) return x + 1 end))
check(cb(41) == 42, "callback works")
check_group("FFI callback area", { cdata_address(cb) })

print(string.format("below47: %d objects, highest address 0x%x", #keep, highest))
print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
