-- env.lua: LUAJIT_RECLAIM="key=value,..." configures the allocator at state creation; an unknown
-- key or a bad value makes state creation fail with a message that names it.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")

local PRINT_CONFIG = "local c = require('reclaim').config() "
  .. "print('decay=' .. tostring(c.decay) .. ' background=' .. tostring(c.background) "
  .. ".. ' mode=' .. tostring(c.mode) .. ' soft_limit=' .. tostring(c.soft_limit))"

local function run_with(env_value, script)
  return t.run("LUAJIT_RECLAIM=" .. t.shquote(env_value) .. " " .. t.interpreter() .. " -e "
               .. t.shquote(script or PRINT_CONFIG))
end

local out, status = run_with("decay=5,background=1")
t.eq(status, 0, "child with decay=5,background=1 runs")
t.ok(out:find("decay=5 background=true", 1, true), "config() shows decay=5, background=true: " .. out)

out, status = run_with("mode=free,soft_limit=1000000")
t.eq(status, 0, "child with mode=free,soft_limit=1000000 runs")
t.ok(out:find("mode=free soft_limit=1000000", 1, true), "config() shows mode and soft_limit: " .. out)

-- Defaults differ from the values set above (so the checks above prove the variable was read).
local defaults
defaults, status = t.run("unset LUAJIT_RECLAIM; " .. t.interpreter() .. " -e " .. t.shquote(PRINT_CONFIG))
t.eq(status, 0, "child without LUAJIT_RECLAIM runs")
t.ok(not defaults:find("decay=5 background=true", 1, true), "defaults are not decay=5,background=true")

out, status = run_with("bogus=1", "print('state created')")
t.ok(status ~= 0, "unknown key: state creation fails (status " .. status .. ")")
t.ok(out:find("luajit-reclaim: LUAJIT_RECLAIM:", 1, true), "message prefix: " .. out)
t.ok(out:find("bogus", 1, true), "message names bogus")
t.ok(not out:find("state created", 1, true), "the script did not run")

out, status = run_with("decay=-3", "print('state created')")
t.ok(status ~= 0, "decay=-3: state creation fails")
t.ok(out:find("luajit-reclaim: LUAJIT_RECLAIM:", 1, true) and out:find("decay", 1, true),
     "message names decay: " .. out)

out, status = run_with("mode=sideways", "print('state created')")
t.ok(status ~= 0, "mode=sideways: state creation fails")
t.ok(out:find("mode", 1, true) or out:find("sideways", 1, true), "message names mode or its value")

t.done()
