-- CPU benchmark: strings of 32-256 KiB. Each iteration makes one body too big for the
-- wide run and keeps it in a ring of 40, so each lives a while: a JSON-like array of
-- 500-4000 rendered records joined with table.concat, an export assembled in a
-- string.buffer and taken with tostring, or a page wrapped with "..". Every one of them
-- is built in a buffer and copied into a new string: the shape of handlers that render
-- reports, API list responses and file exports, and of proxies that buffer big bodies.
-- Usage: luajit big_strings.lua [bodies]   Prints a checksum that must match.

local buffer = require("string.buffer")

local bodies = tonumber(arg and arg[1]) or 12000
local RING = 40

local format, concat, byte = string.format, table.concat, string.byte

-- Rendered records of about 64 bytes (a JSON array of rows).
local rows = {}
for k = 1, 6000 do
  rows[k] = format('{"id":%d,"sku":"p-%06d","qty":%d,"ok":true}', k * 7919, k, k % 97)
end
local header = format("<html><head><title>%s</title></head><body><pre>", ("report "):rep(8))

local ring, checksum, x = {}, 0, 4242
local buf = buffer.new()
for i = 1, bodies do
  x = (x * 16807) % 2147483647
  local n = 500 + x % 3501
  local first = x % (#rows - n) + 1
  local kind = x % 3
  local body
  if kind == 0 then
    body = "[" .. concat(rows, ",", first, first + n - 1) .. "]"
  elseif kind == 1 then
    buf:reset()
    for k = first, first + n - 1, 2 do buf:put(rows[k], "\n", rows[k + 1] or "", "\n") end
    body = buf:tostring()
  else
    body = header .. concat(rows, "\n", first, first + n - 1) .. "</pre></body></html>"
  end
  local slot = i % RING + 1
  local old = ring[slot]
  if old then checksum = (checksum + #old + byte(old, math.floor(#old / 3) + 1)) % 1000000007 end
  ring[slot] = body
end
print("big_strings", bodies, checksum)
