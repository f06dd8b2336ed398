-- ffi_core.lua: FFI without libc: structs, arrays, VLAs/VLSs, alignment, 64-bit integers,
-- metatypes, finalizers, and a Lua callback called through a cast function pointer (needs the
-- executable callback page, so it exercises mcode allocation at the OS page size).
-- Large cdata are verified after a full GC, when a reclaiming allocator may have purged pages.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")
local ffi = require("ffi")

ffi.cdef[[
typedef struct { int32_t x, y; double w; const char *name; } point_t;
typedef struct { uint32_t n; uint16_t data[?]; } vls_t;
typedef struct { uint8_t pad; uint8_t blob[24]; } __attribute__((aligned(64))) aligned64_t;
]]

local p = ffi.new("point_t", 3, -4, 0.5)
t.eq(p.x, 3, "struct field x")
t.eq(p.y, -4, "struct field y")
t.eq(p.w, 0.5, "struct field w")
t.ok(p.name == nil, "unset pointer field is NULL")
t.eq(ffi.sizeof("point_t"), 24, "sizeof(point_t)")
t.eq(ffi.offsetof("point_t", "w"), 8, "offsetof(point_t, w)")

local arr = ffi.new("point_t[10]")
for i = 0, 9 do arr[i].x, arr[i].y = i, i * i end
local sum = 0
for i = 0, 9 do sum = sum + arr[i].x + arr[i].y end
t.eq(sum, 45 + 285, "array of structs")

local pp = arr + 3
t.eq(pp.y, 9, "pointer arithmetic")
t.eq(tonumber(ffi.cast("point_t *", pp) - arr), 3, "pointer difference")

local vla = ffi.new("double[?]", 1000)
for i = 0, 999 do vla[i] = i / 4 end
local total = 0
for i = 0, 999 do total = total + vla[i] end
t.eq(total, 999 * 1000 / 8, "VLA of doubles")
t.eq(ffi.sizeof(vla), 8000, "sizeof VLA")

local vls = ffi.new("vls_t", 300)
vls.n = 300
for i = 0, 299 do vls.data[i] = i * 200 end
t.eq(vls.data[299], 59800, "VLS element")
t.eq(ffi.sizeof(vls), 4 + 600, "sizeof VLS")

local al = ffi.new("aligned64_t")
t.eq(tonumber(ffi.cast("uintptr_t", ffi.cast("void *", al))) % 64, 0, "64-byte aligned cdata")

-- 64-bit integer arithmetic and bit ops.
local big = 1LL * 2 ^ 40 + 7
t.eq(tostring(big), "1099511627783LL", "int64 arithmetic")
t.eq(tostring(bit.band(0xFFFFFFFFFFFFULL, 0xF0F0F0F0F0F0ULL)), "264917625139440ULL", "uint64 band")
t.ok(bit.bxor(0xFF00FF00FF00FF00ULL, 0xFFFFFFFFFFFFFFFFULL) == 0x00FF00FF00FF00FFULL, "uint64 bxor")
t.eq(tostring(bit.lshift(1LL, 62)), "4611686018427387904LL", "int64 shift")
t.eq(tonumber(ffi.cast("int32_t", 0xFFFFFFFFULL)), -1, "uint64 to int32 cast truncates")

-- ffi.string, ffi.copy, ffi.fill.
local buf = ffi.new("char[32]")
ffi.copy(buf, "reclaim")
t.eq(ffi.string(buf), "reclaim", "ffi.copy/ffi.string")
ffi.fill(buf, 31, 65)
t.eq(ffi.string(buf), string.rep("A", 31), "ffi.fill")
t.eq(ffi.string(buf, 3), "AAA", "ffi.string with length")

-- Metatype.
local vec = ffi.metatype("struct { double x, y; }", {
  __add = function(a, b) return ffi.new(ffi.typeof(a), a.x + b.x, a.y + b.y) end,
  __index = { len2 = function(v) return v.x * v.x + v.y * v.y end },
})
local v = vec(1, 2) + vec(2, 2)
t.eq(v:len2(), 25, "metatype __add and __index")

-- Finalizers run on collection.
local finalized = 0
do
  for _ = 1, 100 do ffi.gc(ffi.new("int[4]"), function() finalized = finalized + 1 end) end
end
collectgarbage("collect")
collectgarbage("collect")
t.eq(finalized, 100, "ffi.gc finalizers ran")

-- Lua callback through a cast function pointer (no libc needed).  Called from a function kept
-- out of the JIT: calling a callback from compiled code is not allowed in LuaJIT.
local function call_callbacks()
  local cb = ffi.cast("int (*)(int, int)", function(a, b) return a * 10 + b end)
  local r = {}
  for i = 1, 5 do r[i] = cb(i, 2) end
  cb:free()
  local dcb = ffi.cast("double (*)(double)", function(x) return x * 1.5 end)
  r[6] = dcb(4)
  dcb:free()
  return r
end
jit.off(call_callbacks)
local r = call_callbacks()
t.eq(r[1], 12, "callback result 1")
t.eq(r[5], 52, "callback result 5")
t.eq(r[6], 6, "double callback")

-- Large cdata (direct OS mappings in most allocators) keep their contents across a full GC.
local function fill_pattern(ptr, size, salt)
  for i = 0, size - 1, 64 do ptr[i] = (i / 64 + salt) % 251 end
end
local function count_bad(ptr, size, salt)
  local bad = 0
  for i = 0, size - 1, 64 do
    if ptr[i] ~= (i / 64 + salt) % 251 then bad = bad + 1 end
  end
  return bad
end
local sizes = { 100, 4000, 70000, 300000, 4 * 1024 * 1024 + 17 }
local blocks = {}
for i, size in ipairs(sizes) do
  blocks[i] = ffi.new("uint8_t[?]", size)
  fill_pattern(blocks[i], size, i)
  -- Garbage in between so the collector has something to free around the live blocks.
  for _ = 1, 20 do local _ = ffi.new("uint8_t[?]", size) end
end
collectgarbage("collect")
for i, size in ipairs(sizes) do
  t.eq(count_bad(blocks[i], size, i), 0, "cdata of " .. size .. " bytes intact after GC")
end

t.done()
