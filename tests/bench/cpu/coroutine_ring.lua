-- CPU benchmark: coroutine ring. A token is passed around a ring of coroutines many times;
-- the ring is rebuilt a few times so coroutine creation and collection are exercised too.
-- Usage: luajit coroutine_ring.lua [hops]   Prints a checksum that must match across builds.

local hops = tonumber(arg and arg[1]) or 15000000
local RING_SIZE = 503
local REBUILDS = 10

local function build_ring()
  local ring = {}
  for i = 1, RING_SIZE do
    ring[i] = coroutine.wrap(function(token)
      while true do token = coroutine.yield(token + i) end
    end)
  end
  return ring
end

local checksum = 0
local per_ring = math.floor(hops / REBUILDS)
for _ = 1, REBUILDS do
  local ring = build_ring()
  local token = 0
  for hop = 1, per_ring do
    token = ring[hop % RING_SIZE + 1](token) % 1000003
  end
  checksum = checksum + token
end
print("coroutine_ring", hops, checksum)
