-- table_placement.lua: where patch 0008 puts a table's small hash part, read from the table's
-- header with FFI (GC64 layout of GCtab: hcolo at byte 12, hgrow at 13, node at 40, hmask at
-- 52). A hash part of 2-8 nodes lives in the table's block after the 64-byte header; copies of
-- a constructor's template whose copies grow get room for twice the template's part, and a
-- part that grows into that room is rebuilt in place. Contents are checked alongside: a
-- placement bug shows as a lost or wrong field.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")
local ffi = require("ffi")

local HEADER = 64  -- sizeof(GCtab) with GC64

local function header(tab)
  local addr = tonumber(tostring(tab):match("0x%x+"))
  return ffi.cast("const uint8_t *", addr), addr
end

local function hcolo(tab) return header(tab)[12] end
local function hmask(tab) return ffi.cast("const uint32_t *", header(tab) + 52)[0] end
local function node_offset(tab)
  local p, addr = header(tab)
  return tonumber(ffi.cast("const uint64_t *", p + 40)[0]) - addr
end

local function count(tab)
  local n = 0
  for _ in pairs(tab) do n = n + 1 end
  return n
end

-- A constructor with two hash fields whose copies never grow: the 2-node part is in the block,
-- with no room beyond it.
local function point(x, y) return { x = x, y = y } end
local points = {}
for i = 1, 2000 do points[i] = point(i, -i) end
local p = points[2000]
t.eq(hmask(p), 1, "a two-field constructor has a 2-node hash part")
t.eq(node_offset(p), HEADER, "its nodes follow the table header in the block")
t.eq(hcolo(p), 1, "copies of a template that never grow get no room beyond their part")

-- A constructor whose copies all get two more fields (a linked list node): after the first
-- copies grew, new copies get room for 4 nodes, and the grown part stays in the block.
local function node(k, v) return { key = k, value = v } end
local head = { key = "head" }
head.prev, head.next = head, head
local nodes = {}
for i = 1, 2000 do
  local n = node("k" .. i, i)
  n.prev, n.next = head, head.next
  head.next.prev = n
  head.next = n
  nodes[i] = n
end
local n = node("fresh", 0)
t.eq(hmask(n), 1, "a copy keeps its template's hash size (the JIT assumes it)")
t.eq(hcolo(n), 2, "copies of a template that grows get room for twice its part")
t.eq(node_offset(n), HEADER, "the copy's first part is at the start of the room")
n.prev, n.next = false, false
t.eq(hmask(n), 3, "two more fields grow the part to 4 nodes")
t.eq(node_offset(n), HEADER, "the grown part is rebuilt in the block's room")
t.ok(n.key == "fresh" and n.value == 0 and n.prev == false and n.next == false,
     "every field survives the rebuild in place")
n.extra = 1
t.eq(hmask(n), 7, "a fifth field grows the part beyond the room")
t.ok(node_offset(n) < 0 or node_offset(n) >= HEADER + 4 * 24, "a part beyond the room moves out")
t.ok(n.key == "fresh" and n.value == 0 and n.prev == false and n.next == false and n.extra == 1,
     "every field survives the move out")

-- Contents of every list node, walked through the links the growth added.
local seen, sum, keys, cur = 0, 0, 0, head.next
while cur ~= head and seen <= 2000 do
  seen, sum = seen + 1, sum + cur.value
  if cur.key == "k" .. cur.value then keys = keys + 1 end
  cur = cur.next
end
t.eq(seen, 2000, "the list holds every node")
t.eq(keys, 2000, "every node keeps its key")
t.eq(sum, 2000 * 2001 / 2, "the list's values are intact")

-- A rehash that keeps the size (a field removed, another added) stays in the block.
local r = point(1, 2)
r.x = nil
r.z = 3
t.eq(node_offset(r), HEADER, "a same-size rehash keeps the part in the block")
t.ok(r.x == nil and r.y == 2 and r.z == 3 and count(r) == 2, "fields after a same-size rehash")

-- Churn through the GC: collected copies, new copies, all fields checked.
collectgarbage()
local ok = true
for round = 1, 20 do
  local batch = {}
  for i = 1, 500 do
    local c = node(i, round)
    c.prev, c.next = i, -i
    batch[i] = c
  end
  collectgarbage("step", 64)
  for i = 1, 500 do
    local c = batch[i]
    if c.key ~= i or c.value ~= round or c.prev ~= i or c.next ~= -i or count(c) ~= 4 then
      ok = false
    end
  end
end
t.ok(ok, "grown copies keep their fields through GC churn")

t.done()
