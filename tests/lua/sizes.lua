-- sizes.lua: strings of every size class from 1 byte to 8 MiB and tables from 1 to 10^6 entries,
-- allocated interleaved with garbage of similar size and verified byte for byte after full GCs.
-- This is where an allocator that purges (MADV_DONTNEED zeroes pages) or unmaps freed memory
-- would corrupt live neighbours if it rounded a free range the wrong way.
-- With LUAJIT_TEST_SMALL=1 (slow emulated targets) strings stop at 1 MiB and tables at 10^5.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

local ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"  -- 62 chars

-- Deterministic content for a string of `size` bytes: the alphabet rotated by size.
local function make_string(size)
  local shift = size % #ALPHABET
  local unit = ALPHABET:sub(shift + 1) .. ALPHABET:sub(1, shift)
  return unit:rep(math.floor(size / #unit) + 1):sub(1, size)
end

local MAX_STRING = (t.small() and 1 or 8) * 1024 * 1024
local sizes, seen = {}, {}
for p = 0, 23 do
  for _, s in ipairs({ 2 ^ p - 1, 2 ^ p, 2 ^ p + 1, math.floor(2 ^ p * 1.5) }) do
    if s >= 1 and s <= MAX_STRING and not seen[s] then
      seen[s] = true
      sizes[#sizes + 1] = s
    end
  end
end
table.sort(sizes)

-- Checks a live string without trusting its cached hash: the length, the absence of bytes outside
-- the alphabet (a purged page reads back as zeros), a sampled byte comparison, and equality with a
-- freshly built copy (interning compares the bytes when the hashes match, so a corrupted original
-- would make the fresh copy a different, unequal object).
local function string_ok(s, size)
  if #s ~= size then return false, "length " .. #s end
  if s:find("[^%w]") then return false, "foreign byte at " .. s:find("[^%w]") end
  local expect = make_string(size)
  local stride = math.max(1, math.floor(size / 4096))
  for i = 1, size, stride do
    if s:byte(i) ~= expect:byte(i) then return false, "byte " .. i end
  end
  if s ~= expect then return false, "content differs" end
  return true
end

local live = {}
for i, size in ipairs(sizes) do
  live[i] = make_string(size)
  -- Garbage of neighbouring sizes between the live strings.
  for g = 1, (size < 65536 and 8 or 2) do
    local _ = make_string(size + g) .. "!"
  end
end

local function check_strings(when)
  local bad = {}
  for i, size in ipairs(sizes) do
    local ok, why = string_ok(live[i], size)
    if not ok then bad[#bad + 1] = size .. " (" .. why .. ")" end
  end
  t.eq(table.concat(bad, ", "), "", #sizes .. " string sizes intact " .. when)
end

collectgarbage("collect")
check_strings("after the first full GC")

-- Free every other live string, churn, and check again.
for i = 1, #sizes, 2 do live[i] = nil end
for round = 1, 3 do
  local churn = {}
  for k = 1, 2000 do churn[k] = make_string((k * 97 + round) % 20000 + 1) end
end
collectgarbage("collect")
collectgarbage("collect")
for i = 1, #sizes, 2 do live[i] = make_string(sizes[i]) end
collectgarbage("collect")
check_strings("after freeing half, churn and two more GCs")

-- Tables from 1 to 10^6 entries: array part, integer hash part, string-keyed hash part.
local tables = {}
local tsizes = { 1, 10, 100, 1000, 10000, 100000, not t.small() and 1000000 or nil }
for i, n in ipairs(tsizes) do
  local arr, hash = {}, {}
  for k = 1, n do arr[k] = k * 2 + 1 end
  for k = 1, n do hash[-k] = k end
  local strs = {}
  for k = 1, math.min(n, 100000) do strs["s" .. k] = k end
  tables[i] = { arr = arr, hash = hash, strs = strs }
  local _ = {}
  for k = 1, math.min(n, 100000) do _[k] = { k } end   -- garbage
end
collectgarbage("collect")
collectgarbage("collect")

for i, n in ipairs(tsizes) do
  local tb = tables[i]
  local ok = #tb.arr == n
  for k = 1, n do
    if tb.arr[k] ~= k * 2 + 1 or tb.hash[-k] ~= k then ok = false break end
  end
  local count = 0
  for key, v in pairs(tb.strs) do
    count = count + 1
    if key ~= "s" .. v then ok = false end
  end
  t.ok(ok and count == math.min(n, 100000), "table of " .. n .. " entries intact after GC")
end

t.done()
