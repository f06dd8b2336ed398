-- CPU benchmark: medium array tables of many sizes. Each iteration builds a row buffer
-- with table.new for 128-1,000 slots (1-8 KiB array parts), fills part of it, reads it
-- back and keeps it in a ring of 2,000 rows, so each lives a while before it is dropped.
-- The shape of batch code in services (result rows, pre-sized buffers of a request,
-- decoded arrays): blocks above 1 KiB of many sizes, cleared whole when created and
-- allocated one after the other.
-- Usage: luajit medium_arrays.lua [iterations]   Prints a checksum that must match.

local table_new = require("table.new")

local iterations = tonumber(arg and arg[1]) or 500000
local RING = 2000

local ring = {}
local checksum, x = 0, 4242
for i = 1, iterations do
  x = (x * 16807) % 2147483647
  local slot = i % RING + 1
  local old = ring[slot]
  if old then
    checksum = (checksum + old[1] + old[#old]) % 1000000007
  end
  local n = 128 + x % 873
  local row = table_new(n, 0)
  local fill = 1 + x % 16
  for k = 1, fill do row[k] = (i + k) % 1000 end
  ring[slot] = row
end
print("medium_arrays", iterations, checksum)
