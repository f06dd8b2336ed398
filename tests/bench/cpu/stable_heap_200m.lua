-- CPU benchmark: stable large heap. Loads 520,000 records (a ~60-byte string, a nested
-- two-element table and numbers each: ~180 MB live, ~220 MB of heap at the collector's
-- peak) and then updates random records in place, replacing the string or the nested
-- table, so the live size stays constant while garbage flows. The shape of a long-running
-- service with a big in-memory dataset (cache, routing table): every GC cycle walks the
-- whole live heap. The GC pause is lowered to 110 (a cycle starts at 1.1 x live) and the
-- step multiplier raised, as such services do, so RSS stays near the live size.
-- Usage: luajit stable_heap_200m.lua [updates]   Prints a checksum that must match.

local updates = tonumber(arg and arg[1]) or 500000
local N = 520000

local function payload(i, x)
  return string.format("record %d payload %d ................................", i, x)
end

-- Load phase with the collector stopped (as a bulk load would be), then one full cycle.
collectgarbage("stop")
local records, x = {}, 27182
for i = 1, N do
  x = (x * 16807) % 2147483647
  records[i] = { id = i, text = payload(i, x), pos = { x % 1000, x % 777 }, hits = 0 }
end
collectgarbage("restart")
collectgarbage()
collectgarbage("setpause", 110)
collectgarbage("setstepmul", 400)

local checksum = 0
for u = 1, updates do
  x = (x * 16807) % 2147483647
  local r = records[x % N + 1]
  checksum = (checksum + #r.text + r.pos[2] + r.hits) % 1000000007
  if u % 2 == 0 then r.text = payload(u, x) else r.pos = { u % 1000, x % 777 } end
  r.hits = r.hits + 1
end
print("stable_heap_200m", updates, checksum, collectgarbage("count") > 100000)
