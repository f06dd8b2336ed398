-- CPU benchmark: k-nucleotide. A 180,000-base DNA sequence (generated with a fixed-seed
-- LCG from weighted base frequencies) is cut into every substring of length 1, 2, 3, 4,
-- 6, 12 and 18, and each substring is counted in a hash of strings; the most frequent
-- keys of each length are then sorted and summed. Millions of short interned strings,
-- most of them seen before, and hash tables that grow to hundreds of thousands of keys:
-- the shape of log aggregation, n-gram counting and per-key rate counters.
-- Usage: luajit knucleotide.lua [bases]   Prints a checksum that must match.

local bases = tonumber(arg and arg[1]) or 180000
local LENGTHS = { 1, 2, 3, 4, 6, 12, 18 }

-- Weighted alphabet: a, c, g, t in proportion 3:2:2:3.
local ALPHABET = { "a", "a", "a", "c", "c", "g", "g", "t", "t", "t" }
local parts, x = {}, 42
for i = 1, bases do
  x = (x * 16807) % 2147483647
  parts[i] = ALPHABET[x % 10 + 1]
end
local seq = table.concat(parts):upper()
parts = nil

local sub = string.sub
local checksum = 0
for _, len in ipairs(LENGTHS) do
  local counts, distinct = {}, 0
  for i = 1, #seq - len + 1 do
    local key = sub(seq, i, i + len - 1)
    local c = counts[key]
    if c then
      counts[key] = c + 1
    else
      counts[key] = 1
      distinct = distinct + 1
    end
  end
  -- Order by count, then by key, so the result does not depend on hash order.
  local keys = {}
  for key, c in pairs(counts) do keys[#keys + 1] = { key = key, count = c } end
  table.sort(keys, function(a, b)
    if a.count ~= b.count then return a.count > b.count end
    return a.key < b.key
  end)
  local top = 0
  for i = 1, math.min(#keys, 20) do
    top = (top * 131 + keys[i].count + keys[i].key:byte(1) + #keys[i].key) % 1000000007
  end
  checksum = (checksum * 31 + distinct + top) % 1000000007
end
print("knucleotide", bases, checksum)
