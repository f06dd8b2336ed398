-- CPU benchmark: record ring of 100k (100000 records). Small records (four fields, one a
-- two-element table) are replaced in FIFO order, so every record lives exactly 100000
-- replacements: the shape of per-request or per-session state kept for a while, then
-- dropped. The 10k, 100k and 1m variants differ only in how much live data the GC walks
-- and whether it fits in cache.
-- Usage: luajit record_ring_100k.lua [iterations]   Prints a checksum that must match.

local iterations = tonumber(arg and arg[1]) or 3000000
local N = 100000
local NAMES = { "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "TRACE" }

local ring = {}
for i = 1, N do ring[i] = { id = i, score = i * 0.5, name = NAMES[i % 8 + 1], pair = { i, i } } end

local checksum, x = 0, 12345
for i = 1, iterations do
  x = (x * 16807) % 2147483647
  local slot = i % N + 1
  local old = ring[slot]
  checksum = (checksum + old.id % 7 + old.pair[2] % 11 + #old.name) % 1000000007
  ring[slot] = { id = i, score = x * 0.5, name = NAMES[x % 8 + 1], pair = { i, x % 1000 } }
end
print("record_ring_100k", iterations, checksum)
