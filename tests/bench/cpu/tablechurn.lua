-- CPU benchmark: table churn. Pushes records with a few fields through a fixed-size ring
-- (so old records die in FIFO order) and grows/shrinks a hash map with string keys.
-- Usage: luajit tablechurn.lua [records]   Prints a checksum that must match across builds.

local records = tonumber(arg and arg[1]) or 3000000
local RING = 100000

local ring = {}
local map = {}
local checksum = 0
for i = 1, records do
  local slot = i % RING + 1
  local old = ring[slot]
  if old then checksum = checksum + old.id % 7 + #old.tags end
  ring[slot] = { id = i, score = i * 0.5, name = "rec", tags = { i % 3, i % 5 } }
  local key = "k" .. (i % 49999)
  if map[key] then map[key] = nil else map[key] = i end
end
local live = 0
for _ in pairs(map) do live = live + 1 end
print("tablechurn", records, checksum, live)
