-- runner_selftest.lua: runs runner.lua on the fixtures in fixtures/ with the interpreter under test
-- and checks its verdicts, its output format, its summary line and its exit status.  Every way a
-- test can fail (failed check, FAIL line with exit 0, no t.done(), no checks, uncaught error,
-- crash, hang) must be reported as a failure.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

local dir = t.dir()
local luajit = t.interpreter()
local runner = luajit .. " " .. t.shquote(dir .. "runner.lua") .. " --luajit " .. t.shquote(luajit)

local function fixture(name) return t.shquote(dir .. "fixtures/" .. name .. ".lua") end

local function lines_of(text)
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  return lines
end

-- One verdict line per fixture in mode "on".
local verdicts = {
  pass = "ok", env = "ok",
  fail_check = "FAIL", fail_line_exit0 = "FAIL", no_done = "FAIL", no_checks = "FAIL",
  error = "FAIL", crash = "FAIL", hang = "FAIL", flags = "FAIL",
}
local names = {}
for name in pairs(verdicts) do names[#names + 1] = name end
table.sort(names)
local files = {}
for i, name in ipairs(names) do files[i] = fixture(name) end

local out, status = t.run(runner .. " --mode on --timeout 1 " .. table.concat(files, " "))
t.eq(status, 1, "runner exits 1 when a run failed")
for _, name in ipairs(names) do
  local path = (dir .. "fixtures/" .. name .. ".lua"):gsub("%p", "%%%0")
  if verdicts[name] == "ok" then
    t.ok(out:find("\nok " .. path .. " %[on%] %(%d+%.%ds%)\n") or
         out:find("^ok " .. path .. " %[on%] %(%d+%.%ds%)\n"), "fixture " .. name .. " passes")
  else
    t.ok(out:find("FAIL " .. path .. " %[on%]\n"), "fixture " .. name .. " fails")
  end
end
local lines = lines_of(out)
t.eq(lines[#lines], "2 passed, 8 failed", "summary line")
t.ok(out:find("timed out after 1s", 1, true), "hang reported as a timeout")
t.ok(out:find("    FAIL one is two", 1, true), "child output is indented under the FAIL line")
t.ok(out:find("no \"PASS <n> checks\" line", 1, true), "missing t.done() is explained")

-- All three modes, and the default (on + off).
out, status = t.run(runner .. " --mode all " .. fixture("env") .. " " .. fixture("pass"))
t.eq(status, 0, "runner exits 0 when everything passed")
lines = lines_of(out)
t.eq(#lines, 7, "one line per file and mode plus the summary")
t.eq(lines[#lines], "6 passed, 0 failed", "summary for --mode all")
t.ok(out:find("[hotloop]", 1, true) and out:find("[off]", 1, true), "all modes ran")

out, status = t.run(runner .. " " .. fixture("env"))
t.eq(status, 0, "default modes pass")
t.ok(out:find("%[on%]") and out:find("%[off%]") and not out:find("%[hotloop%]"),
     "default modes are on and off")
t.eq(lines_of(out)[3], "2 passed, 0 failed", "summary for default modes")

-- --flags reaches the child.
out, status = t.run(runner .. " --mode on --flags '-e FIXTURE_FLAG=42' " .. fixture("flags"))
t.eq(status, 0, "--flags passes options to the interpreter: " .. out)

-- Usage errors exit 2.
local _, st1 = t.run(luajit .. " " .. t.shquote(dir .. "runner.lua") .. " " .. fixture("pass"))
t.eq(st1, 2, "missing --luajit is a usage error")
local _, st2 = t.run(runner .. " --mode sideways " .. fixture("pass"))
t.eq(st2, 2, "unknown mode is a usage error")
local _, st3 = t.run(runner)
t.eq(st3, 2, "no files is a usage error")

t.done()
