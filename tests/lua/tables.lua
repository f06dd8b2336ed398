-- tables.lua: table library and LuaJIT table extensions (table.new, table.clear) plus the table
-- operations every allocator path touches (array part growth, hash part growth, removal).
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

local new = require("table.new")
local clear = require("table.clear")
t.eq(type(new), "function", "require 'table.new'")
t.eq(type(clear), "function", "require 'table.clear'")

local pre = new(100, 20)
t.eq(next(pre), nil, "table.new returns an empty table")
for i = 1, 100 do pre[i] = i end
for i = 1, 20 do pre["k" .. i] = i end
t.eq(#pre, 100, "table.new array part usable")
t.eq(pre.k20, 20, "table.new hash part usable")
clear(pre)
t.eq(next(pre), nil, "table.clear empties")
t.eq(#pre, 0, "table.clear length 0")
pre[1] = "again"
t.eq(pre[1], "again", "table usable after clear")

local list = {}
for i = 1, 10 do table.insert(list, i) end
table.insert(list, 1, 0)
t.eq(#list, 11, "insert")
t.eq(table.remove(list, 1), 0, "remove first")
t.eq(table.remove(list), 10, "remove last")
t.eq(table.concat(list, ","), "1,2,3,4,5,6,7,8,9", "concat")
t.eq(table.concat({}, ","), "", "concat empty")
t.eq(table.maxn({ [1] = 1, [7] = 2, x = 3 }), 7, "maxn")
t.eq(select("#", unpack({ 1, 2, 3 })), 3, "unpack")

local words = { "pear", "apple", "fig", "banana", "cherry" }
table.sort(words)
t.eq(table.concat(words, " "), "apple banana cherry fig pear", "sort strings")
table.sort(words, function(a, b) return #a < #b or (#a == #b and a < b) end)
t.eq(table.concat(words, " "), "fig pear apple banana cherry", "sort with comparator")
t.raises(function() table.sort({ 3, 1, 2 }, function() error("cmp boom") end) end, "cmp boom",
         "error in sort comparator propagates")

-- Many sizes of array and hash parts, checked element by element.
local function check_table(n)
  local arr, hash = {}, {}
  for i = 1, n do arr[i] = i * 3 end
  for i = 1, n do hash[i * 7 + 0.5] = i end
  local okarr, okhash, count = #arr == n, true, 0
  for i = 1, n do if arr[i] ~= i * 3 then okarr = false break end end
  for k, v in pairs(hash) do
    count = count + 1
    if (k - 0.5) / 7 ~= v then okhash = false end
  end
  return okarr, okhash and count == n
end
for _, n in ipairs({ 0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 1000, 4097, 65537 }) do
  local okarr, okhash = check_table(n)
  t.ok(okarr, "array part of " .. n)
  t.ok(okhash, "hash part of " .. n)
end

-- Removing keys during traversal (assigning nil) is allowed.
local h = {}
for i = 1, 1000 do h["key" .. i] = i end
for k in pairs(h) do h[k] = nil end
t.eq(next(h), nil, "clearing via pairs")

-- Weak tables.
local weak = setmetatable({}, { __mode = "k" })
do for i = 1, 100 do weak[{}] = i end end
collectgarbage("collect")
t.eq(next(weak), nil, "weak keys collected")

t.done()
