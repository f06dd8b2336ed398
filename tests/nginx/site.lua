-- site.lua: the Lua side of the check-nginx site (nginx.conf.in), loaded by
-- require("site") in the one worker. Handlers print "key=value" lines the
-- driver (run.sh) asserts on.
--
-- Invariant: the module-level cache is the only state requests leave behind;
-- everything else a request builds is garbage once it has answered.
local M = {}

local PAD = string.rep("x", 100)
local cache, requests = {}, 0

-- /burst: about 300 KB of tables and strings (1000 rows), held across
-- ngx.sleep(0.05); one request in 50 leaves a small entry in the cache.
function M.burst()
  local rows = {}
  for i = 1, 1000 do
    rows[i] = { id = i, name = PAD .. i, score = i * 0.5 }
  end
  ngx.sleep(0.05)
  requests = requests + 1
  if requests % 50 == 0 then
    cache[#cache + 1] = { n = requests, key = "entry-" .. requests }
  end
  ngx.say("rows=", #rows, " name=", #rows[1000].name)
end

-- /gc: the worker's own view of its heap, read before anything else the
-- handler does; /gc?collect=1: after a full collection.
function M.gc()
  local kb = collectgarbage("count")
  if ngx.var.arg_collect then
    collectgarbage("collect")
    kb = collectgarbage("count")
  end
  ngx.say("gc_kb=", string.format("%.3f", kb))
  ngx.say("cache=", #cache)
  ngx.say("requests=", requests)
end

return M
