-- CPU benchmark: short-string interning. Cuts 2-12 byte pieces out of a text with
-- string.sub, joins pairs of them and numbers into short keys with .., and counts them in
-- a table that is reset every 200,000 keys. The shape of header/field/route-name handling:
-- almost every string is short, freshly made, looked up in the string table, and most die
-- young while a few thousand stay as table keys.
-- Usage: luajit intern_short.lua [keys]   Prints a checksum that must match across builds.

local keys = tonumber(arg and arg[1]) or 1200000

local WORDS = { "host", "accept", "content", "type", "length", "user", "agent", "cookie",
                "cache", "control", "x", "forwarded", "for", "via", "etag", "range" }
local pieces = {}
local x = 1234
for i = 1, 4000 do
  x = (x * 16807) % 2147483647
  pieces[i] = WORDS[x % #WORDS + 1]
end
local text = table.concat(pieces, "-")
local text_len = #text
local sub = string.sub

local counts, distinct, checksum = {}, 0, 0
for i = 1, keys do
  x = (x * 16807) % 2147483647
  local start = x % (text_len - 12) + 1
  local piece = sub(text, start, start + 1 + x % 11)
  local key
  if i % 3 == 0 then key = piece .. ":" .. (x % 100)
  elseif i % 3 == 1 then key = sub(piece, 1, 3) .. sub(text, start + 20, start + 22)
  else key = piece end
  local n = counts[key]
  if n then counts[key] = n + 1
  else counts[key] = 1; distinct = distinct + 1 end
  checksum = (checksum + #key + (n or 0) % 5) % 1000000007
  if i % 200000 == 0 then counts = {} end
end
print("intern_short", keys, distinct, checksum)
