-- CPU benchmark: sorting long-lived records by key. 50,000 records (string name, numeric
-- fields) stay alive; each round rewrites 5% of the names and re-sorts by name then id
-- with a Lua comparator, then by a numeric field descending. The shape of a service that
-- keeps a table of entities and periodically orders it (leaderboards, reports); mostly
-- comparator calls on nearly sorted input. sort.lua, by contrast, sorts fresh arrays.
-- Usage: luajit sort_records.lua [rounds]   Prints a checksum that must match.

local rounds = tonumber(arg and arg[1]) or 4
local N = 50000

local function by_name_then_id(a, b)
  if a.name ~= b.name then return a.name < b.name end
  return a.id < b.id
end
local function by_score_desc(a, b)
  if a.score ~= b.score then return a.score > b.score end
  return a.id < b.id
end

local records, x = {}, 555
for i = 1, N do
  x = (x * 16807) % 2147483647
  records[i] = { id = i, name = "user" .. (x % 50000), score = x % 10007, region = x % 12 }
end

local checksum = 0
for round = 1, rounds do
  for _ = 1, N / 20 do
    x = (x * 16807) % 2147483647
    local r = records[x % N + 1]
    r.name = "user" .. (x % 50000) .. "." .. round
    r.score = x % 10007
  end
  table.sort(records, by_name_then_id)
  checksum = (checksum + records[1].id + records[N].id + #records[N / 2].name) % 1000000007
  table.sort(records, by_score_desc)
  checksum = (checksum + records[1].id + records[N].score) % 1000000007
end
print("sort_records", rounds, checksum)
