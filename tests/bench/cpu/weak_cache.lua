-- CPU benchmark: weak-keyed caches. Request objects live in a ring of 20,000 slots and are
-- replaced in FIFO order; two caches keyed by those objects with setmetatable(t,
-- {__mode = "k"}) memoize derived data (a parsed header table, a small array of
-- permissions), looked up several times per object while it lives and never cleared by
-- hand: the collector removes an entry in the atomic phase of the first cycle that finds
-- its key dead, so the caches hold far more entries than the ring's 20,000 objects, and
-- their size (and the heap) grows with the length of a cycle. The shape of per-object
-- annotations in frameworks (ngx.ctx-like side tables, memoized parses, proxy maps).
-- Usage: luajit weak_cache.lua [requests]   Prints a checksum that must match.

local requests = tonumber(arg and arg[1]) or 120000
local RING = 20000
local LOOKUPS = 6

local parsed = setmetatable({}, { __mode = "k" })
local perms = setmetatable({}, { __mode = "k" })
local misses = 0

local function parsed_of(req)
  local p = parsed[req]
  if not p then
    misses = misses + 1
    local method, path = req.line:match("^(%u+) (%S+)")
    p = { method = method, path = path, depth = select(2, path:gsub("/", "")) }
    parsed[req] = p
  end
  return p
end

local function perms_of(req)
  local p = perms[req]
  if not p then
    misses = misses + 1
    p = { req.user % 3 == 0, req.user % 5 == 0, req.user % 7 == 0 }
    perms[req] = p
  end
  return p
end

local ring = {}
local checksum, x = 0, 1
for r = 1, requests do
  x = (x * 16807) % 2147483647
  ring[(r - 1) % RING + 1] = { line = "GET /a/" .. (x % 1000) .. "/b/" .. (r % 77) .. " HTTP/1.1",
                               user = x % 100000 }
  for _ = 1, LOOKUPS do
    x = (x * 16807) % 2147483647
    local req = ring[x % (r < RING and r or RING) + 1]
    local p, q = parsed_of(req), perms_of(req)
    checksum = (checksum + p.depth + #p.path + (q[1] and 1 or 0) + (q[3] and 2 or 0)) % 1000000007
  end
end
ring = nil
collectgarbage()
collectgarbage()
local left = 0
for _ in pairs(parsed) do left = left + 1 end
print("weak_cache", requests, misses, left, checksum)
