-- handler-rss.lua: how much a handler of shapes.lua grows a fresh state's
-- anonymous RSS, outside nginx (ngx.say and ngx.print stubbed), so the heap
-- of one nginx worker's light traffic can be studied with any LuaJIT build.
--
--   luajit tests/nginx/handler-rss.lua [SHAPE [CALLS]]    (default: json 200)
--
-- Prints RssAnon (/proc/self/status) after a full collection, again after
-- CALLS calls of M[SHAPE] without a collection, and the difference; with
-- luajit-reclaim also the heap's in_use, free_dirty and resident from
-- reclaim.stats(). Used for runtime/reclaim/README.md's "Small heaps" note:
-- run it with each build's LD_LIBRARY_PATH and luajit, a few times each.
--
-- Invariants: reads only /proc/self/status; the handlers' output is
-- discarded; exits with an error naming the shape if it is not a handler.
local dir = arg and arg[0] and arg[0]:match("^(.*)/[^/]*$") or "."
package.path = dir .. "/?.lua;" .. package.path

ngx = { say = function() end, print = function() end }

local shape, calls = arg[1] or "json", tonumber(arg[2] or "200")
if not calls or calls < 1 or calls % 1 ~= 0 then
  error("handler-rss.lua: CALLS must be a whole number >= 1, not '" .. tostring(arg[2]) .. "'", 0)
end

local function rss_anon_kib()
  for line in io.lines("/proc/self/status") do
    local v = line:match("^RssAnon:%s+(%d+)")
    if v then return tonumber(v) end
  end
  error("handler-rss.lua: no RssAnon line in /proc/self/status", 0)
end

local M = require("shapes")
if type(M[shape]) ~= "function" then
  local names = {}
  for k, v in pairs(M) do if type(v) == "function" then names[#names + 1] = k end end
  table.sort(names)
  error("handler-rss.lua: no handler '" .. shape .. "' in shapes.lua (known: " ..
        table.concat(names, ", ") .. ")", 0)
end

collectgarbage()
collectgarbage()
local before = rss_anon_kib()
for _ = 1, calls do M[shape]() end
local after = rss_anon_kib()
print(string.format("%s x%d: RssAnon %d -> %d KiB (%+d), Lua heap %.0f KiB",
                    shape, calls, before, after, after - before, collectgarbage("count")))
local ok, reclaim = pcall(require, "reclaim")
if ok and type(reclaim) == "table" and reclaim.stats then
  local s = reclaim.stats()
  print(string.format("reclaim: in_use %.0f KiB, free_dirty %.0f KiB, resident %.0f KiB",
                      s.in_use / 1024, s.free_dirty / 1024, s.resident / 1024))
end
