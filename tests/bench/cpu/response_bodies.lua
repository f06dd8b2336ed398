-- CPU benchmark: response bodies of 2-64 KiB. Each iteration makes one body the way a
-- handler does and keeps it in a cache of 400 entries (replaced in turn), so each lives a
-- while: a file or upstream body cut into chunks of a fixed size (4, 8 or 16 KiB, with
-- string.sub of a 1 MiB blob), a JSON-like list of 20-400 rendered items joined
-- with table.concat, or a page padded with string.rep. Strings
-- of whole pages made one after the other through LuaJIT's temp buffer: the shape of
-- nginx content handlers, proxies that buffer bodies and response caches.
-- Usage: luajit response_bodies.lua [bodies]   Prints a checksum that must match.

local bodies = tonumber(arg and arg[1]) or 120000
local CACHE = 400

local format, concat, rep, sub, byte = string.format, table.concat, string.rep, string.sub, string.byte

-- A 1 MiB blob of varied bytes (a file being served).
local parts = {}
for i = 1, 4096 do parts[i] = format("%08x%s", i * 2654435761 % 4294967296, rep(string.char(97 + i % 26), 248)) end
local blob = concat(parts)
local CHUNKS = { 4096, 8192, 16384 }

-- Rendered list items of about 70 bytes (a JSON array of records).
local items = {}
for k = 1, 2000 do
  items[k] = format('{"id":%d,"name":"item-%d","price":%.2f,"tags":["a","b"]}', k * 7919, k, (k * 37 % 10000) / 100)
end
local cache, checksum, x = {}, 0, 777
for i = 1, bodies do
  x = (x * 16807) % 2147483647
  local body
  local kind = x % 3
  if kind == 0 then
    local size = CHUNKS[math.floor(x / 7) % 3 + 1]
    local at = x % (#blob - size) + 1
    body = sub(blob, at, at + size - 1)
  elseif kind == 1 then
    local n = 20 + x % 381
    local first = x % (#items - n) + 1
    body = "[" .. concat(items, ",", first, first + n - 1) .. "]"
  else
    local pad = 2048 + x % 30000
    body = format("<html><head><title>%d</title></head><body>", i) .. rep("<p>lorem ipsum</p>", math.floor(pad / 18)) .. "</body></html>"
  end
  local slot = i % CACHE + 1
  local old = cache[slot]
  if old then checksum = (checksum + #old + byte(old, math.floor(#old / 2) + 1)) % 1000000007 end
  cache[slot] = body
end
print("response_bodies", bodies, checksum)
