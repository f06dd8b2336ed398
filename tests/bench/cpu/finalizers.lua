-- CPU benchmark: objects with finalizers. Handle objects wrap a resource (an ffi.new
-- buffer registered with ffi.gc, or a newproxy userdata whose metatable has __gc) and
-- are kept in a ring of 5,000 slots; replacing a slot drops a handle, and the collector
-- queues it for finalization, runs the finalizer (which releases the resource into a
-- free-list counter and touches the handle's table) in a later step and frees it in the
-- cycle after. Every dropped handle thus survives an extra cycle: the shape of bindings
-- that own C resources (sockets, files, lua-resty-* cdata handles) and rely on __gc.
-- Usage: luajit finalizers.lua [handles]   Prints a checksum that must match.

local ffi = require("ffi")
local handles = tonumber(arg and arg[1]) or 400000
local RING = 5000

ffi.cdef[[ typedef struct { int32_t fd; int32_t flags; double opened; } resource_t; ]]

local finalized, released_sum = 0, 0

local function release_cdata(res)
  finalized = finalized + 1
  released_sum = (released_sum + res.fd + res.flags) % 1000000007
end

local proxy_meta           -- the metatable shared by all newproxy handles
local proxy_state = setmetatable({}, { __mode = "k" })  -- proxy -> its Lua-side state
local template = newproxy(true)
proxy_meta = getmetatable(template)
proxy_meta.__gc = function(p)
  local state = proxy_state[p]
  finalized = finalized + 1
  if state then released_sum = (released_sum + state.fd) % 1000000007 end
end

local function open_handle(n)
  if n % 2 == 0 then
    local res = ffi.gc(ffi.new("resource_t", n % 65536, n % 7, n), release_cdata)
    return { kind = "cdata", res = res, name = "h" .. n }
  end
  local p = newproxy(template)
  proxy_state[p] = { fd = n % 65536 }
  return { kind = "proxy", res = p, name = "h" .. n }
end

local ring = {}
local checksum = 0
for n = 1, handles do
  local slot = (n - 1) % RING + 1
  local old = ring[slot]
  if old then checksum = (checksum + #old.name + (old.kind == "cdata" and old.res.fd or 1)) % 1000000007 end
  ring[slot] = open_handle(n)
end
ring = nil
collectgarbage()
collectgarbage()
collectgarbage()
print("finalizers", handles, finalized, released_sum, checksum)
