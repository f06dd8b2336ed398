-- CPU benchmark: sorting. Sorts arrays of records with a Lua comparator and arrays of
-- strings with the default order; the arrays are rebuilt every round, so allocation of
-- records and strings is part of the work.
-- Usage: luajit sort.lua [rounds]   Prints a checksum that must match across builds.

local rounds = tonumber(arg and arg[1]) or 12
local N = 50000

local function by_score_then_id(a, b)
  if a.score ~= b.score then return a.score < b.score end
  return a.id < b.id
end

local checksum = 0
local x = 12345
for round = 1, rounds do
  local records, names = {}, {}
  for i = 1, N do
    x = (x * 16807) % 2147483647
    records[i] = { id = i, score = x % 1000 }
    names[i] = "name" .. (x % 100000) .. ":" .. round
  end
  table.sort(records, by_score_then_id)
  table.sort(names)
  checksum = (checksum + records[1].id + records[N].id + #names[1] + #names[N]) % 1000000007
end
print("sort", rounds, checksum)
