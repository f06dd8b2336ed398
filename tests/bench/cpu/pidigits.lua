-- CPU benchmark: pidigits. Streams decimal digits of pi with Gibbons' spigot on signed
-- bignums kept as arrays of base-10^7 limbs, written in plain Lua: every add, subtract
-- and multiply by a small number returns a new limb array, so arrays of hundreds of
-- limbs, growing with the digits, are allocated and dropped at a high rate. The shape of
-- arbitrary-precision, crypto and money code done in Lua tables.
-- Usage: luajit pidigits.lua [digits]   Prints a checksum that must match.

local digits = tonumber(arg and arg[1]) or 1000
local BASE = 10000000
local floor = math.floor

-- A bignum is a table: limbs [1..n] little-endian in base BASE, n = #limbs (no leading
-- zero limb except for zero itself, which is { 0 }), field neg for a negative value.
local function big(v) return { v } end

local function mag_cmp(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  for i = #a, 1, -1 do
    if a[i] ~= b[i] then return a[i] < b[i] and -1 or 1 end
  end
  return 0
end

local function mag_add(a, b, neg)
  local out, carry = { neg = neg }, 0
  local n = #a > #b and #a or #b
  for i = 1, n do
    local s = (a[i] or 0) + (b[i] or 0) + carry
    if s >= BASE then out[i], carry = s - BASE, 1 else out[i], carry = s, 0 end
  end
  if carry > 0 then out[n + 1] = carry end
  return out
end

-- mag_sub: |a| - |b| with |a| >= |b|.
local function mag_sub(a, b, neg)
  local out, borrow = { neg = neg }, 0
  for i = 1, #a do
    local s = a[i] - (b[i] or 0) - borrow
    if s < 0 then out[i], borrow = s + BASE, 1 else out[i], borrow = s, 0 end
  end
  local n = #out
  while n > 1 and out[n] == 0 do out[n] = nil; n = n - 1 end
  if n == 1 and out[1] == 0 then out.neg = nil end
  return out
end

-- add: a + b, or a - b when minus is true.
local function add(a, b, minus)
  local bneg = b.neg
  if minus then bneg = not bneg end
  if (a.neg or false) == (bneg or false) then return mag_add(a, b, a.neg) end
  if mag_cmp(a, b) >= 0 then return mag_sub(a, b, a.neg) end
  return mag_sub(b, a, bneg)
end

-- mul: a * m for a small integer m >= 0 (m * BASE stays exact in a double).
local function mul(a, m)
  if m == 0 then return big(0) end
  local out, carry = { neg = a.neg }, 0
  for i = 1, #a do
    local p = a[i] * m + carry
    carry = floor(p / BASE)
    out[i] = p - carry * BASE
  end
  local n = #a
  while carry > 0 do
    n = n + 1
    local c = floor(carry / BASE)
    out[n] = carry - c * BASE
    carry = c
  end
  return out
end

-- extract: floor((q * x + r) / t) for the digit range 0..9, by comparison.
local function extract(q, r, t, x)
  local num = add(mul(q, x), r)
  local d, acc = 0, t
  while not acc.neg and mag_cmp(num, acc) >= 0 do
    d = d + 1
    acc = add(acc, t)
  end
  return d
end

local q, r, t, k = big(1), big(0), big(1), 0
local produced, checksum, line = 0, 0, {}
while produced < digits do
  local d = extract(q, r, t, 3)
  if d == extract(q, r, t, 4) then
    produced = produced + 1
    line[#line + 1] = d
    checksum = (checksum * 10 + d) % 1000000007
    r = mul(add(r, mul(t, d), true), 10)
    q = mul(q, 10)
  else
    k = k + 1
    local k2 = 2 * k + 1
    r = mul(add(mul(q, 2), r), k2)
    q = mul(q, k)
    t = mul(t, k2)
  end
end
print("pidigits", digits, table.concat(line, "", 1, 20), checksum, #q, #t)
