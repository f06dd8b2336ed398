-- CPU benchmark: binary trees. Builds and walks many short-lived complete binary trees
-- plus one long-lived tree; stresses small-table allocation and GC sweeping.
-- Usage: luajit bintrees.lua [max_depth]   Prints a checksum that must match across builds.

local max_depth = tonumber(arg and arg[1]) or 16

local function make(depth)
  if depth == 0 then return {} end
  depth = depth - 1
  return { make(depth), make(depth) }
end

local function count(tree)
  if tree[1] then return 1 + count(tree[1]) + count(tree[2]) end
  return 1
end

local long_lived = make(max_depth)
local checksum = 0
for depth = 4, max_depth, 2 do
  local iterations = 2 ^ (max_depth - depth + 4)
  local nodes = 0
  for _ = 1, iterations do nodes = nodes + count(make(depth)) end
  checksum = checksum + nodes
end
checksum = checksum + count(long_lived)
print("bintrees", max_depth, checksum)
