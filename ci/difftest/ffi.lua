-- ci/difftest/ffi.lua: JIT differential test, pure FFI (ffi.new/cast/typeof/sizeof, structs,
-- unions, arrays, VLAs, pointer arithmetic, 64-bit integers). Its output must be byte-identical
-- on every target and JIT mode.
-- Invariants: no ffi.C and no ffi.load (static builds cannot resolve libc symbols); no type whose
-- layout or signedness differs between x86_64 and arm64 (plain char, long double) and no
-- out-of-range float-to-integer conversion (x86_64 wraps, arm64 saturates); never prints an
-- address.
local ffi = require("ffi")

ffi.cdef [[
typedef struct { int32_t x, y; double w; } difftest_point;
typedef union { uint64_t u; double d; uint32_t half[2]; } difftest_pun;
typedef struct { uint8_t tag; uint16_t small; int64_t big; float f; } difftest_mixed;
]]

print("sizes", ffi.sizeof("difftest_point"), ffi.sizeof("difftest_pun"),
  ffi.sizeof("difftest_mixed"), ffi.offsetof("difftest_mixed", "big"),
  ffi.offsetof("difftest_mixed", "f"), ffi.alignof("difftest_mixed"))

-- Struct arrays in a traced loop.
local n = 3000
local pts = ffi.new("difftest_point[?]", n)
for i = 0, n - 1 do
  pts[i].x = i * 3 - 1000
  pts[i].y = (i * 7919) % 1009
  pts[i].w = i / 8
end
local sx, sy, sw = 0, 0, 0
for i = 0, n - 1 do
  local p = pts[i]
  sx = sx + p.x; sy = sy + p.y * p.x; sw = sw + p.w * p.y
end
print("points", sx, sy, string.format("%.17g", sw))

-- Unions / type punning (little-endian on both targets).
local pun = ffi.new("difftest_pun")
pun.d = 1.5
print("pun", tostring(pun.u), pun.half[0], pun.half[1])
pun.u = 0x400921FB54442D18ULL
print("pi", string.format("%.17g", pun.d))

-- 64-bit integer arithmetic (boxed cdata), formatting with tostring.
local a = 0ULL
for i = 1, 2000 do a = a * 6364136223846793005ULL + 1442695040888963407ULL + i end
print("u64", tostring(a), tostring(a / 1000000007ULL), tostring(a % 97ULL), tostring(bit.rshift(a, 7)))
local b = -1LL
for i = 1, 100 do b = b * 3 - i end
print("i64", tostring(b), tostring(b / 7), tostring(-b % 1000), tonumber(ffi.cast("int32_t", b)))
print("conv", tonumber(ffi.cast("uint16_t", 70000)), tonumber(ffi.cast("int8_t", 200)),
  tonumber(ffi.cast("uint8_t", -1)), tonumber(ffi.cast("int32_t", 2 ^ 31 - 5)),
  tonumber(ffi.cast("double", 7ULL)), tonumber(ffi.cast("float", 0.1)))

-- Byte buffers: VLA, pointer arithmetic, ffi.string, ffi.copy/fill.
local size = 65536
local buf = ffi.new("uint8_t[?]", size)
for i = 0, size - 1 do buf[i] = (i * 131 + 7) % 251 end
local p = buf + 1000
local sum = 0
for i = 0, 9999 do sum = sum + p[i] end
print("bytes", sum, ffi.string(buf + 10, 5):byte(1, -1))
local copy = ffi.new("uint8_t[?]", size)
ffi.copy(copy, buf, size)
ffi.fill(copy + 100, 50, 0xAB)
local diff = 0
for i = 0, size - 1 do if copy[i] ~= buf[i] then diff = diff + 1 end end
print("copyfill", diff, copy[99], copy[100], copy[149], copy[150])
local str = ffi.string(buf, 64)
print("ffistring", #str, str:byte(64))

-- Arrays of doubles and int32 through typeof'd constructors.
local dvec = ffi.typeof("double[?]")
local ivec = ffi.typeof("int32_t[?]")
local dv, iv = dvec(1000), ivec(1000)
for i = 0, 999 do dv[i] = i * 0.25; iv[i] = bit.lshift(i, 20) end
local ds, is = 0, 0
for i = 0, 999 do ds = ds + dv[i] * dv[999 - i]; is = (is + iv[i]) % 1000003 end
print("vectors", string.format("%.17g", ds), is)

-- Mixed-layout struct round trip and comparisons of pointers into the same array.
local mixed = ffi.new("difftest_mixed[4]")
for i = 0, 3 do
  mixed[i].tag = 250 + i
  mixed[i].small = 65530 + i
  mixed[i].big = -(2LL ^ 40) * (i + 1)
  mixed[i].f = i / 3
end
for i = 0, 3 do
  print("mixed", mixed[i].tag, mixed[i].small, tostring(mixed[i].big), string.format("%.9g", mixed[i].f))
end
print("ptrcmp", buf + 5 < buf + 6, (buf + 10) - buf, ffi.cast("uint8_t *", buf) == buf)
print("istype", ffi.istype("difftest_point", pts[0]), ffi.istype("double", 1), type(pts))
