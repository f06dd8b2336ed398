-- CPU benchmark: upvalue churn. Each simulated request creates a small set of callbacks
-- (on_header, on_body, on_done) that capture the request's locals, some shared between
-- closures and mutated through them; the callbacks wait in a pending queue of 20,000
-- requests and are run and dropped in FIFO order. The shape of callback-style async code:
-- closures and their closed upvalues living for a while. closures.lua, by contrast, makes
-- closures that die within the round (map/filter/compose).
-- Usage: luajit upvalue_churn.lua [requests]   Prints a checksum that must match.

local requests = tonumber(arg and arg[1]) or 200000
local PENDING = 20000

local function start_request(id, method, size)
  local received, status = 0, 0
  local headers = { method = method, id = id }
  local function on_header(name, value) headers[name] = value; return #name end
  local function on_body(chunk) received = received + chunk; return received end
  local function on_done()
    status = (received == size) and 200 or 206
    return status + #headers.method + (headers["x-len"] or 0) % 7
  end
  return { on_header, on_body, on_done }
end

local METHODS = { "GET", "POST", "PUT", "HEAD" }
local queue, checksum, x = {}, 0, 99
for i = 1, requests do
  x = (x * 16807) % 2147483647
  local slot = i % PENDING + 1
  local cbs = queue[slot]
  if cbs then
    local on_header, on_body, on_done = cbs[1], cbs[2], cbs[3]
    local n = on_header("x-len", x % 100)
    on_body(n)
    on_body(x % 3)
    checksum = (checksum + on_done()) % 1000000007
  end
  queue[slot] = start_request(i, METHODS[x % 4 + 1], x % 50)
end
print("upvalue_churn", requests, checksum)
