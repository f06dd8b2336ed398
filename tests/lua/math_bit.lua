-- math_bit.lua: the math library, number semantics (integers in doubles, inf/nan, modulo) and the
-- bit library, in loops long enough to be compiled when the JIT is on.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

t.eq(math.floor(-3.5), -4, "floor")
t.eq(math.ceil(-3.5), -3, "ceil")
t.eq(math.abs(-7), 7, "abs")
t.eq(math.max(3, 9, -1), 9, "max")
t.eq(math.min(3, 9, -1), -1, "min")
t.eq(math.sqrt(144), 12, "sqrt")
t.eq(math.pow and math.pow(2, 10) or 2 ^ 10, 1024, "pow")
t.eq(2 ^ 0.5, math.sqrt(2), "^ 0.5")
t.eq(math.fmod(7, 3), 1, "fmod")
t.eq(math.fmod(-7, 3), -1, "fmod negative")
t.eq(-7 % 3, 2, "% follows floor division")
t.eq(7 % -3, -2, "% negative divisor")
t.eq(5.5 % 2, 1.5, "% on floats")
t.eq(select(2, math.modf(3.25)), 0.25, "modf")
local m, e = math.frexp(48)
t.ok(m == 0.75 and e == 6, "frexp")
t.eq(math.ldexp(0.75, 6), 48, "ldexp")
t.ok(math.abs(math.sin(math.pi / 6) - 0.5) < 1e-15, "sin")
t.ok(math.abs(math.cos(math.pi / 3) - 0.5) < 1e-15, "cos")
t.ok(math.abs(math.atan2(1, 1) - math.pi / 4) < 1e-15, "atan2")
t.ok(math.abs(math.exp(math.log(10)) - 10) < 1e-13, "exp/log")
t.eq(math.log10(1000), 3, "log10")
t.eq(math.huge, 1 / 0, "huge")
t.ok(0 / 0 ~= 0 / 0, "nan is not equal to itself")
t.eq(2 ^ 53 + 1, 2 ^ 53, "doubles lose precision above 2^53")
t.eq(1e15 + 0.5, 1000000000000000.5, "fractional precision below 2^53")

math.randomseed(42)
local first = math.random()
math.randomseed(42)
t.eq(math.random(), first, "randomseed is deterministic")
local in_range = true
for _ = 1, 10000 do
  local r = math.random(3, 7)
  if r < 3 or r > 7 or r ~= math.floor(r) then in_range = false end
end
t.ok(in_range, "random(m, n) stays in range")

-- bit library.
t.eq(bit.band(0xF0F0, 0xFF00), 0xF000, "band")
t.eq(bit.bor(0xF0, 0x0F), 0xFF, "bor")
t.eq(bit.bxor(0xFF, 0x0F), 0xF0, "bxor")
t.eq(bit.bnot(0), -1, "bnot")
t.eq(bit.lshift(1, 31), -2147483648, "lshift into the sign bit")
t.eq(bit.rshift(-1, 28), 15, "rshift logical")
t.eq(bit.arshift(-16, 2), -4, "arshift")
t.eq(bit.rol(0x12345678, 8), 0x34567812, "rol")
t.eq(bit.ror(0x12345678, 8), 0x78123456, "ror")
t.eq(bit.bswap(0x12345678), 0x78563412, "bswap")
t.eq(bit.tohex(255), "000000ff", "tohex")
t.eq(bit.tohex(-1, -4), "FFFF", "tohex upper")
t.eq(bit.tobit(2 ^ 32 + 5), 5, "tobit wraps")

-- The same operations in a hot loop (compiled when the JIT is on) agree with closed forms.
local acc, x = 0, 0x9E3779B9
for i = 1, 100000 do
  x = bit.bxor(x, bit.lshift(x, 13))
  x = bit.bxor(x, bit.rshift(x, 17))
  x = bit.bxor(x, bit.lshift(x, 5))
  acc = acc + bit.band(x, 1)
end
-- Expected values computed independently (Python, unsigned 32-bit arithmetic): the xorshift32
-- state from 0x9E3779B9 after 100000 steps and how many of those states were odd.
t.eq(bit.tohex(x), "2f955e81", "xorshift32 state after 100000 steps")
t.eq(acc, 49975, "odd states in xorshift32 sequence")

local fsum = 0
for i = 1, 100000 do fsum = fsum + (i % 7) * 0.5 end
-- 14285 full cycles of (0+1+...+6)*0.5 = 10.5 each, plus i = 99996..100000 giving 1..5 -> 7.5.
t.eq(fsum, 14285 * 10.5 + 7.5, "float accumulation in a hot loop")
local isum = 0
for i = 1, 100000 do isum = isum + math.floor(i / 3) end
-- sum of floor(i/3) for i = 1..3k is 3*k*(k-1)/2 + k; with k = 33333 and i = 99999 being 3k,
-- i = 100000 adds 33333.
t.eq(isum, 3 * 33333 * 33332 / 2 + 33333 + 33333, "floor division in a hot loop")

t.done()
