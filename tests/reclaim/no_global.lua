-- no_global.lua: require("reclaim") works with no file on disk and writes no global, in the CLI
-- and in a state an embedder creates with luaL_newstate() + luaL_openlibs(). nginx's lua module
-- warns about (and other hosts forbid) writes to _G from a handler; built-in modules, like ffi,
-- must return their table and record it in package.loaded only.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")

-- Run in a fresh state: no search path, so no file can be found, and a _G that refuses new
-- globals (what nginx's write guard reports, as an error). Prints "ok" or raises.
local CHECK = [[
package.path, package.cpath = "", ""
assert(package.loaded.reclaim == nil, "reclaim loaded before require")
assert(type(package.preload.reclaim) == "function", "reclaim is not in package.preload")
setmetatable(_G, { __newindex = function(_, k) error("global written: " .. tostring(k), 2) end })
local r = require("reclaim")
assert(type(r) == "table" and type(r.stats) == "function", "require returned " .. tostring(r))
assert(rawget(_G, "reclaim") == nil, "reclaim is a global")
assert(package.loaded.reclaim == r, "package.loaded.reclaim is not the module")
assert(require("reclaim") == r, "a second require gives another table")
assert(r.stats().page_size > 0, "stats() does not work")
print("ok")
]]

-- The CLI (luajit.c calls luaL_openlibs). Without LUA_INIT, which may load reclaim first (the
-- matrix's counters hook does).
local out, status = t.run("unset LUA_INIT; " .. t.interpreter() .. " -e " .. t.shquote(CHECK))
t.eq(status, 0, "CLI: the check exits 0")
t.eq(out, "ok\n", "CLI: require works from package.preload and writes no global")

-- Without the guard, in this process too.
t.eq(rawget(_G, "reclaim"), nil, "no global reclaim before require")
local r = require("reclaim")
t.eq(rawget(_G, "reclaim"), nil, "no global reclaim after require")
t.eq(package.loaded.reclaim, r, "package.loaded.reclaim is the module")

-- An embedder's state: luaL_newstate() + luaL_openlibs(), then the same check.
if t.static() then
  t.skip("no_global.lua: embedder state through ffi.C (static build: no symbol lookup)")
else
  local capi = require("capi")
  local L = capi.newstate()
  -- The chunk returns what it would print, so nothing reaches this process's stdout.
  local rc, res = capi.run(L, (CHECK:gsub('print%("ok"%)', 'return "ok"')))
  capi.C.lua_close(L)
  t.eq(rc, 0, "embedder: the check runs without error")
  t.eq(res, "ok", "embedder: require works from package.preload and writes no global")
end

t.done()
