-- CPU benchmark: string.buffer serialization. Records of mixed shape (strings, numbers,
-- booleans, a nested array and a nested map) are encoded with LuaJIT's string.buffer
-- module (buffer:encode into a reused buffer, and string.buffer.encode into a new string
-- per message), the messages are batched into a ring of 2,000 slots and later decoded back
-- into fresh tables and checked. Buffers that grow and reset, serialized strings of a few
-- hundred bytes and the decoded trees die young: the shape of IPC between nginx workers
-- (shared dict values, queues) and of caches that store serialized Lua values.
-- Usage: luajit strbuf_codec.lua [messages]   Prints a checksum that must match.

local buffer = require("string.buffer")
local messages = tonumber(arg and arg[1]) or 300000
local RING = 2000

local TAGS = { "alpha", "beta", "gamma", "delta", "epsilon" }

local function make_record(n, x)
  local tags = {}
  for i = 1, 1 + x % 5 do tags[i] = TAGS[(x + i) % #TAGS + 1] end
  return {
    id = n, user = "user-" .. (x % 10000), score = (x % 100000) / 7, active = x % 2 == 0,
    tags = tags, meta = { region = "eu-" .. (x % 4), retries = x % 3, path = "/v1/items/" .. n },
  }
end

local function digest(r)
  local d = r.id % 65536 + #r.user + #r.tags + r.meta.retries + #r.meta.path
  if r.active then d = d + 1 end
  return d + math.floor(r.score)
end

local ring = {}
local scratch = buffer.new(512)
local checksum, bytes, x = 0, 0, 11
for n = 1, messages do
  x = (x * 16807) % 2147483647
  local record = make_record(n, x)
  local encoded
  if n % 2 == 0 then
    encoded = buffer.encode(record)
  else
    scratch:reset()
    scratch:encode(record)
    encoded = scratch:tostring()
  end
  bytes = bytes + #encoded
  local slot = (n - 1) % RING + 1
  local old = ring[slot]
  if old then
    local decoded = buffer.decode(old)
    checksum = (checksum * 31 + digest(decoded)) % 1000000007
  end
  ring[slot] = encoded
end
print("strbuf_codec", messages, bytes, checksum)
