-- ci/difftest/tables.lua: JIT differential test, tables (array/hash parts, sort, insert/remove,
-- table.new/clear, weak tables after a GC). Its output must be byte-identical on every target
-- and JIT mode.
-- Invariants: deterministic; iteration over hash parts is always sorted before printing (hash
-- order depends on addresses and hash seeds); loops run long enough to be traced.
local new_table = require("table.new")
local clear_table = require("table.clear")

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b)
    if type(a) == type(b) then return a < b end
    return type(a) < type(b)
  end)
  return keys
end

-- Array part growth and traversal.
local arr = {}
for i = 1, 5000 do arr[i] = (i * 7919) % 10007 end
local s = 0
for i = 1, #arr do s = s + arr[i] * (i % 3) end
print("array", #arr, s)

-- Hash part with string and number keys.
local h = {}
for i = 1, 3000 do h["k" .. (i % 1000)] = (h["k" .. (i % 1000)] or 0) + i; h[i + 0.5] = i end
local keys = sorted_keys(h)
local acc = 0
for _, k in ipairs(keys) do acc = acc + h[k] end
print("hash", #keys, acc, keys[1], keys[#keys])

-- sort with and without comparator, stable-insensitive checks.
local data = {}
for i = 1, 2000 do data[i] = (i * 48271) % 2147483647 % 100000 end
table.sort(data)
print("sort", data[1], data[1000], data[2000])
table.sort(data, function(a, b) return a > b end)
print("sortdesc", data[1], data[1000], data[2000])

-- insert/remove/concat/unpack/select.
local q = {}
for i = 1, 1000 do table.insert(q, i); if i % 3 == 0 then table.remove(q, 1) end end
table.insert(q, 1, "first")
print("insrem", #q, q[1], q[2], q[#q], table.concat(q, ",", 2, 6))
print("unpack", unpack({ 1, 2, 3, nil, 5 }, 1, 5))
print("select", select("#", 1, nil, 3), select(2, "a", "b", "c"), select(-1, "x", "y"))
print("maxn", table.maxn({ [1] = 1, [7] = 2, [3.5] = 3 }))

-- table.new / table.clear.
local t = new_table(100, 10)
for i = 1, 100 do t[i] = i end
t.a = 1
clear_table(t)
print("clear", #t, next(t))
for i = 1, 10 do t[i] = i * i end
print("reuse", #t, t[10])

-- Nested structures and a checksum over a tree.
local function build(depth)
  if depth == 0 then return { v = 1 } end
  return { l = build(depth - 1), r = build(depth - 1), v = depth }
end
local function walk(node)
  if not node.l then return node.v end
  return node.v + walk(node.l) + 2 * walk(node.r)
end
local total = 0
for d = 1, 12 do total = total + walk(build(d)) end
print("tree", total)

-- Weak tables: collected entries disappear after a full GC.
local weak = setmetatable({}, { __mode = "k" })
local strong = {}
for i = 1, 100 do
  local key = {}
  weak[key] = i
  if i % 4 == 0 then strong[#strong + 1] = key end
end
collectgarbage("collect")
local left = 0
for _, v in pairs(weak) do left = left + v end
print("weak", left, #strong)

-- Metatables: __index chains, __newindex, __len, __eq, __lt, __concat, __call.
local base = { greet = function(self) return "hi " .. self.name end }
local mt = { __index = base }
local objs = {}
for i = 1, 500 do objs[i] = setmetatable({ name = "n" .. i }, mt) end
local lens = 0
for i = 1, 500 do lens = lens + #objs[i]:greet() end
print("meta", lens, objs[500]:greet())
local vec = setmetatable({}, {
  __len = function() return 99 end,
  __concat = function(a, b) return "cat" end,
  __call = function(self, x) return x * 2 end,
})
print("metaops", #vec, vec .. "x", vec(21))
