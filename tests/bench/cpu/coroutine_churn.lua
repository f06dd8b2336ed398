-- CPU benchmark: coroutine churn. Every simulated request runs in a fresh coroutine that
-- yields a few times (as on socket reads), is resumed until it finishes and is dropped;
-- up to 1,000 are in flight, resumed round-robin. The shape of OpenResty's per-request
-- coroutines (ngx.thread, cosocket waits): many short-lived Lua stacks. coroutine_ring.lua,
-- by contrast, keeps 503 coroutines alive and passes a token around them.
-- Usage: luajit coroutine_churn.lua [requests]   Prints a checksum that must match.

local requests = tonumber(arg and arg[1]) or 600000
local IN_FLIGHT = 1000

local create, resume, yield, status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status

local function handler(id, reads)
  local parts = {}
  for r = 1, reads do
    local got = yield(r)
    parts[r] = got
  end
  local sum = id % 13
  for r = 1, #parts do sum = sum + parts[r] end
  return sum
end

local slots, started, finished, checksum, x = {}, 0, 0, 0, 31337
local function start(slot)
  started = started + 1
  x = (x * 16807) % 2147483647
  local co = create(handler)
  resume(co, started, x % 6 + 1)
  slots[slot] = co
end

for slot = 1, IN_FLIGHT do start(slot) end
while finished < requests do
  for slot = 1, IN_FLIGHT do
    local co = slots[slot]
    if co then
      local ok, value = resume(co, slot % 17)
      assert(ok, value)
      if status(co) == "dead" then
        finished = finished + 1
        checksum = (checksum + value) % 1000000007
        slots[slot] = nil
        if started < requests then start(slot) end
      end
    end
  end
end
print("coroutine_churn", requests, checksum)
