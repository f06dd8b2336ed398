-- ring.lua: the record ring shared by cpu/record_ring_*.lua (a library, not a benchmark:
-- run-cpu.sh runs only cpu/*.lua). Small records (four fields, one a two-element table)
-- are replaced in FIFO order in a ring of n records, so every record lives exactly n
-- replacements; with grow, each record also gets a fifth field halfway through its life,
-- which grows its hash part. Returns run(name, n, iterations, grow), which prints
-- "name iterations checksum"; the checksum must match between builds.
local NAMES = { "GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS", "TRACE" }

local function fill(n)
  local ring = {}
  for i = 1, n do ring[i] = { id = i, score = i * 0.5, name = NAMES[i % 8 + 1], pair = { i, i } } end
  return ring
end

local function plain(ring, n, iterations)
  local checksum, x = 0, 12345
  for i = 1, iterations do
    x = (x * 16807) % 2147483647
    local slot = i % n + 1
    local old = ring[slot]
    checksum = (checksum + old.id % 7 + old.pair[2] % 11 + #old.name) % 1000000007
    ring[slot] = { id = i, score = x * 0.5, name = NAMES[x % 8 + 1], pair = { i, x % 1000 } }
  end
  return checksum
end

local function grow(ring, n, iterations)
  local checksum, x, half = 0, 12345, n / 2
  for i = 1, iterations do
    x = (x * 16807) % 2147483647
    local slot = i % n + 1
    local old = ring[slot]
    checksum = (checksum + old.id % 7 + old.pair[2] % 11 + (old.status or 1)) % 1000000007
    ring[slot] = { id = i, score = x * 0.5, name = NAMES[x % 8 + 1], pair = { i, x % 1000 } }
    ring[(i + half) % n + 1].status = x % 600
  end
  return checksum
end

return function(name, n, iterations, with_growth)
  local ring = fill(n)
  local checksum = (with_growth and grow or plain)(ring, n, iterations)
  print(name, iterations, checksum)
end
