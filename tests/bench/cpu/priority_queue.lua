-- CPU benchmark: priority queue. A binary min-heap of 100,000 timer records {at, id,
-- payload} churned by pop-then-push: each popped timer is rescheduled as a new record
-- with a later deadline. The shape of timer wheels and schedulers (lua-resty-timer,
-- job queues): a long-lived array of records, each replaced after a varying lifetime.
-- Usage: luajit priority_queue.lua [operations]   Prints a checksum that must match.

local operations = tonumber(arg and arg[1]) or 350000
local SIZE = 100000

local heap, n = {}, 0

local function push(rec)
  n = n + 1
  local i = n
  local at = rec.at
  while i > 1 do
    local parent = (i - i % 2) / 2
    local p = heap[parent]
    if p.at <= at then break end
    heap[i] = p
    i = parent
  end
  heap[i] = rec
end

local function pop()
  local top = heap[1]
  local last = heap[n]
  heap[n] = nil
  n = n - 1
  if n > 0 then
    local i, at = 1, last.at
    while true do
      local child = i * 2
      if child > n then break end
      local c = heap[child]
      if child < n and heap[child + 1].at < c.at then child = child + 1; c = heap[child] end
      if c.at >= at then break end
      heap[i] = c
      i = child
    end
    heap[i] = last
  end
  return top
end

local x = 9001
for i = 1, SIZE do
  x = (x * 16807) % 2147483647
  push({ at = x % 1000000, id = i, payload = { kind = i % 4, retries = 0 } })
end

local checksum, now = 0, 0
for i = 1, operations do
  local t = pop()
  now = t.at
  checksum = (checksum + t.id % 1000 + t.payload.kind + t.payload.retries) % 1000000007
  x = (x * 16807) % 2147483647
  push({ at = now + 1 + x % 100000, id = SIZE + i, payload = { kind = t.payload.kind, retries = t.payload.retries % 3 + 1 } })
end
print("priority_queue", operations, checksum, now)
