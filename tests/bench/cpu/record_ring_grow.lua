-- CPU benchmark: record ring with a late field. Like record_ring_100k (100,000 records of
-- four fields, one a two-element table, replaced in FIFO order), but halfway through its
-- life each record gets a fifth field, which grows its hash part: the shape of state that
-- is annotated after creation (a response status, a timestamp), a reallocation of every
-- record in mid-life rather than only at birth and death.
-- Usage: luajit record_ring_grow.lua [iterations]   Prints a checksum that must match.

local iterations = tonumber(arg and arg[1]) or 500000
local N = 100000
local HALF = N / 2
local NAMES = { "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "TRACE" }

local ring = {}
for i = 1, N do ring[i] = { id = i, score = i * 0.5, name = NAMES[i % 8 + 1], pair = { i, i } } end

local checksum, x = 0, 12345
for i = 1, iterations do
  x = (x * 16807) % 2147483647
  local slot = i % N + 1
  local old = ring[slot]
  checksum = (checksum + old.id % 7 + old.pair[2] % 11 + (old.status or 1)) % 1000000007
  ring[slot] = { id = i, score = x * 0.5, name = NAMES[x % 8 + 1], pair = { i, x % 1000 } }
  ring[(i + HALF) % N + 1].status = x % 600
end
print("record_ring_grow", iterations, checksum)
