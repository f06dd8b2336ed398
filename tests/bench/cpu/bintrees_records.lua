-- CPU benchmark: binary trees of records. One long-lived tree of depth 17 (262,143 nodes,
-- each a record with `left`, `right` and `item` fields in the hash part) stays reachable
-- for the whole run while many short-lived trees of depth 4 to 14 are built, checked and
-- dropped. Unlike bintrees.lua (array nodes, one depth), the nodes are keyed records and
-- the old generation is large, so every GC cycle walks ~34 MB of live nodes while the
-- young trees churn: the shape of a parsed document or a routing trie kept for the life
-- of a process while per-request structures of the same kind come and go.
-- Usage: luajit bintrees_records.lua [rounds]   Prints a checksum that must match.

local rounds = tonumber(arg and arg[1]) or 1
local LONG_DEPTH = 17
local MIN_DEPTH, MAX_DEPTH = 4, 14

local function build(item, depth)
  if depth == 0 then return { item = item } end
  depth = depth - 1
  return { left = build(2 * item - 1, depth), right = build(2 * item, depth), item = item }
end

-- check: the classic item checksum of the tree (item + left - right, recursively).
local function check(node)
  local left = node.left
  if left then return node.item + check(left) - check(node.right) end
  return node.item
end

local function count(node)
  if node.left then return 1 + count(node.left) + count(node.right) end
  return 1
end

local long_lived = build(1, LONG_DEPTH)
local checksum = 0
for _ = 1, rounds do
  for depth = MIN_DEPTH, MAX_DEPTH, 2 do
    local trees = 2 ^ (MAX_DEPTH - depth + MIN_DEPTH)
    local sum = 0
    for i = 1, trees do
      sum = sum + check(build(i, depth)) + check(build(-i, depth))
    end
    checksum = (checksum * 31 + sum + depth) % 1000000007
  end
end
print("bintrees_records", rounds, count(long_lived), checksum)
