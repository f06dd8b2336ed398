-- CPU benchmark: LRU cache. A long-lived cache (hash of string keys plus a doubly linked
-- list in recency order) of 50,000 entries serves lookups over 100,000 keys with a skewed
-- popularity: hits move a node to the front, misses build a value, insert it and evict
-- the oldest. The shape of lua-resty-lrucache and of most per-worker caches in OpenResty:
-- a large old generation with steady turnover at its tail.
-- Usage: luajit lru_cache.lua [lookups]   Prints a checksum that must match across builds.

local lookups = tonumber(arg and arg[1]) or 450000
local CAPACITY = 50000
local KEYS = 100000

local map, size = {}, 0
local head = {}            -- sentinel: head.next is the most recent, head.prev the oldest
head.next, head.prev = head, head

local function unlink(node)
  node.prev.next, node.next.prev = node.next, node.prev
end

local function push_front(node)
  node.prev, node.next = head, head.next
  head.next.prev = node
  head.next = node
end

local hits, misses, checksum, x = 0, 0, 0, 4242
for i = 1, lookups do
  x = (x * 16807) % 2147483647
  -- Skew: half the lookups go to the first eighth of the key space. The low bits of x
  -- choose, the high bits pick the key, so the two draws are independent.
  local high = (x - x % 16) / 16
  local n = (x % 16 < 8) and (high % (KEYS / 8)) or (high % KEYS)
  local key = "user:" .. n
  local node = map[key]
  if node then
    hits = hits + 1
    unlink(node)
    push_front(node)
    checksum = (checksum + node.value.hits + #node.value.name) % 1000000007
    node.value.hits = node.value.hits + 1
  else
    misses = misses + 1
    if size == CAPACITY then
      local oldest = head.prev
      unlink(oldest)
      map[oldest.key] = nil
      size = size - 1
    end
    node = { key = key, value = { name = "name-" .. n, hits = 1, born = i } }
    map[key] = node
    push_front(node)
    size = size + 1
  end
end
print("lru_cache", lookups, hits, misses, checksum)
