-- banner.lua: `luajit -v` prints LuaJIT's banner, then our "luajit-reclaim <version>" line,
-- and the version string agrees with require("reclaim").version.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

local out, status = t.run(t.interpreter() .. " -v")
t.eq(status, 0, "luajit -v exit status")
local lines = {}
for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
t.ok(lines[1] and lines[1]:find("^LuaJIT 2%.1%.") ~= nil, "first -v line starts with 'LuaJIT 2.1.'")
t.ok(lines[1] and lines[1]:find("Mike Pall", 1, true) ~= nil, "first -v line is LuaJIT's banner")

local okreq, reclaim = pcall(require, "reclaim")
t.ok(okreq, "require('reclaim') works (built-in module)")
if okreq then
  t.eq(type(reclaim.version), "string", "reclaim.version is a string")
  t.ok(tostring(reclaim.version):find("^%d+%.%d+%.%d+$") ~= nil,
       "reclaim.version looks like MAJOR.MINOR.PATCH")
  t.eq(lines[2], "luajit-reclaim " .. tostring(reclaim.version), "second -v line")
end
t.eq(#lines, 2, "luajit -v prints exactly two lines")

-- The banner must also come first when a script follows -v.
local out2, status2 = t.run(t.interpreter() .. " -v -e " .. t.shquote("print('after')"))
t.eq(status2, 0, "luajit -v -e exit status")
t.ok(out2:find("^LuaJIT 2%.1%.[^\n]*\nluajit%-reclaim [^\n]+\nafter\n$") ~= nil,
     "banner lines precede script output")

t.done()
