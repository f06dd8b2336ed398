-- handler.lua: the example's Lua handler (nginx content_by_lua_file): reports
-- the LuaJIT runtime this nginx worker runs on and what its allocator holds.
-- Output: key=value lines (check-images asserts on them).
ngx.say("jit.version=", jit.version)
ngx.say("ngx_lua=", ngx.config.ngx_lua_version)
local ok, reclaim = pcall(require, "reclaim")
if not ok then
  ngx.say("reclaim=absent")
  return
end
local s = reclaim.stats()
ngx.say("reclaim.version=", reclaim.version)
ngx.say("reclaim.page_size=", s.page_size)
ngx.say("reclaim.resident=", s.resident)
ngx.say("reclaim.in_use=", s.in_use)
