-- CPU benchmark: message queues with a small live heap and high churn. Sixteen queues of
-- message tables (a header table and a short body string each) are fed and drained
-- through table.insert and table.remove at both ends: producers append with
-- table.insert(q, msg) or push urgent messages to the front with table.insert(q, 1, msg),
-- consumers take from the front with table.remove(q, 1) or drop the newest with
-- table.remove(q). No queue holds more than 48 messages, so the live heap stays under
-- 1 MB while millions of small tables and strings are allocated and die young: the shape
-- of per-connection send queues and of job lists in event loops.
-- Usage: luajit msg_queue.lua [operations]   Prints a checksum that must match.

local operations = tonumber(arg and arg[1]) or 4000000
local QUEUES, LIMIT = 16, 48
local insert, remove = table.insert, table.remove

local queues = {}
for i = 1, QUEUES do queues[i] = {} end

local checksum, produced, consumed, x = 0, 0, 0, 5
for op = 1, operations do
  x = (x * 16807) % 2147483647
  local q = queues[x % QUEUES + 1]
  local action = (x - x % QUEUES) / QUEUES % 8
  if action < 4 and #q < LIMIT then
    produced = produced + 1
    local msg = { header = { seq = op, topic = x % 13, urgent = action == 0 },
                  body = "payload:" .. (x % 100000) }
    if action == 0 then insert(q, 1, msg) else insert(q, msg) end
  elseif #q > 0 then
    local msg
    if action == 7 then msg = remove(q) else msg = remove(q, 1) end
    consumed = consumed + 1
    checksum = (checksum * 31 + msg.header.seq % 65536 + msg.header.topic + #msg.body)
      % 1000000007
  end
end
local left = 0
for i = 1, QUEUES do left = left + #queues[i] end
print("msg_queue", operations, produced, consumed, left, checksum)
