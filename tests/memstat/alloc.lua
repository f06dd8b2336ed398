-- tests/memstat/alloc.lua: a Lua process that luajit-memstat reads from outside.
--
--   luajit alloc.lua KIND [MB]
--
-- KIND decides what the heap holds when the script waits:
--   fragmented  MB (default 50) of tables and strings, every 50th kept (2%), plus two
--               more Lua states (luaL_newstate through the FFI) holding ~4 MB each
--   live        MB of tables and strings, all kept
--   freed       MB allocated, one object in 4096 kept: each pins a page and keeps its
--               segment mapped, so the pages between stay free (run with mode=off,
--               so no purge returns them)
--   garbage     a full collection, the GC stopped, then MB of garbage (run with the
--               background thread, whose idle pass walks the heap)
-- Every kind but garbage ends with a full collection, whose purge publishes a heap
-- walk next to the GC's figures of that collection. Then it prints
-- "ready GC_BYTES" and blocks reading stdin until EOF: no allocation, no GC, no
-- child process while luajit-memstat reads it.

local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. package.path
local kind, mb = arg[1], tonumber(arg[2] or "50")
assert(kind, "usage: alloc.lua fragmented|live|freed|garbage [MB]")

-- About mb MiB of small tables and short strings, all reachable (the JIT would sink
-- objects nothing refers to); returns every `every`-th of them, or none.
local function fill(every)
  local all, keep, n = {}, {}, math.floor(mb * 1024 * 1024 / 160)
  for i = 1, n do all[i] = { string.rep("x", 24) .. i, i } end
  if every then for i = every, n, every do keep[#keep + 1] = all[i] end end
  return keep
end

local held, states = nil, {}
if kind == "fragmented" then
  held = fill(50)
  local capi = require("capi")
  for i = 1, 2 do
    local L = capi.newstate()
    capi.run_ok(L, [[
      local t = {} for i = 1, 60000 do t[i] = { i, i } end
      keep = t collectgarbage() ]])
    states[i] = L
  end
elseif kind == "live" then
  held = fill(1)
elseif kind == "freed" then
  held = fill(4096)
elseif kind == "garbage" then
  collectgarbage("collect")
  collectgarbage("stop")
  fill(nil)
else
  error("unknown kind " .. kind)
end
if kind ~= "garbage" then collectgarbage("collect") end

io.stdout:write("ready ", math.floor(collectgarbage("count") * 1024), "\n")
io.stdout:flush()
io.read("*a")
assert(held or kind == "garbage")
assert(#states == (kind == "fragmented" and 2 or 0))
