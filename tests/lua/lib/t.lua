-- t.lua: the assertion helper shared by tests/lua/*.lua and tests/reclaim/*.lua.
--
-- Invariants:
--  * Every failed check prints exactly one line starting with "FAIL " (the runner looks for those),
--    naming the check and the caller's file:line.
--  * t.done() must be the last call of a test.  It prints "PASS <n> checks" and exits 0 only when
--    at least one check ran and none failed; otherwise it prints a FAIL line and exits 1.  The runner
--    requires the PASS line, so a test that dies or exits early never counts as passed.
--  * Pure Lua 5.1 + LuaJIT: no ffi, no C modules, so it works on fully static builds and in an
--    initramfs that has nothing but luajit and /bin/sh.
--
-- Environment contract with runner.lua (all optional when a test is run by hand):
--   LUAJIT_TEST_MODE    on | off | hotloop   (JIT mode the runner started us in; default "on")
--   LUAJIT_TEST_LUAJIT  shell command that starts the interpreter under test (may contain spaces,
--                       e.g. a qemu-user prefix); default: the interpreter path from arg[]
--   LUAJIT_TEST_STATIC  "1" on fully static builds, where ffi.C symbol lookups cannot resolve
--   LUAJIT_TEST_SMALL   "1" on slow emulated targets: tests shrink their workloads

local t = {}

local checks, failures = 0, 0

local function where(level)
  local info = debug.getinfo(level + 1, "Sl")
  if not info then return "?" end
  return (info.short_src or "?") .. ":" .. tostring(info.currentline or "?")
end

local function show(v)
  if type(v) == "string" then
    if #v > 200 then v = v:sub(1, 200) .. "...(" .. #v .. " bytes)" end
    return string.format("%q", v)
  end
  return tostring(v)
end

local function record(passed, msg, detail)
  checks = checks + 1
  if passed then return true end
  failures = failures + 1
  print("FAIL " .. tostring(msg or "check") .. (detail and (": " .. detail) or "")
        .. " (" .. where(3) .. ")")
  return false
end

-- The check functions below call record() and return its result in two statements: a direct
-- `return record(...)` would be a tail call and drop the caller's frame that where() reports.

-- Passes when v is truthy.
function t.ok(v, msg)
  local passed = record(v and true or false, msg, not v and ("got " .. show(v)) or nil)
  return passed
end

-- Passes when a == b (Lua equality, metamethods included).
function t.eq(a, b, msg)
  local detail = a ~= b and ("got " .. show(a) .. ", expected " .. show(b)) or nil
  local passed = record(a == b, msg, detail)
  return passed
end

-- Passes when a <= b (numbers); the message shows both sides.
function t.le(a, b, msg)
  local holds = type(a) == "number" and type(b) == "number" and a <= b
  local passed = record(holds, msg, not holds and (show(a) .. " is not <= " .. show(b)) or nil)
  return passed
end

-- Passes when fn() raises an error whose message matches the Lua pattern (if given).
-- Returns the error message (or nil) so callers can inspect it further.
function t.raises(fn, pattern, msg)
  local okcall, err = pcall(fn)
  if okcall then
    record(false, msg, "no error raised")
    return nil
  end
  local text = tostring(err)
  if pattern and not text:find(pattern) then
    record(false, msg, "error " .. show(text) .. " does not match " .. show(pattern))
  else
    record(true, msg)
  end
  return text
end

-- Informational line; ignored by the runner.
function t.note(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  print("# " .. table.concat(parts, " "))
end

-- Visible skip of one part of a test (never of a whole file): prints "SKIP why".
function t.skip(why)
  print("SKIP " .. why)
end

function t.done()
  io.stdout:flush()
  if failures > 0 then
    print(string.format("FAIL %d of %d checks failed", failures, checks))
    os.exit(1)
  elseif checks == 0 then
    print("FAIL no checks ran")
    os.exit(1)
  end
  print(string.format("PASS %d checks", checks))
  os.exit(0)
end

-- ---------------------------------------------------------------- environment

function t.mode()
  local mode = os.getenv("LUAJIT_TEST_MODE") or "on"
  assert(mode == "on" or mode == "off" or mode == "hotloop",
         "LUAJIT_TEST_MODE must be on, off or hotloop, not " .. mode)
  return mode
end

-- Interpreter flags of the current mode (the same as runner.lua's), for child processes.
function t.mode_flags()
  return ({ on = "", off = "-joff", hotloop = "-Ohotloop=1 -Ohotexit=1" })[t.mode()]
end

function t.static() return os.getenv("LUAJIT_TEST_STATIC") == "1" end
function t.small() return os.getenv("LUAJIT_TEST_SMALL") == "1" end
-- The build under test has LUAJIT_ENABLE_LUA52COMPAT (OpenResty's flags; the
-- Makefile sets it for those variants): tests expect the 5.2 behaviour there.
function t.lua52compat() return os.getenv("LUAJIT_TEST_LUA52COMPAT") == "1" end

-- Single-quotes s for /bin/sh.
function t.shquote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Shell command that starts the interpreter under test, without any flags.
function t.interpreter()
  local cmd = os.getenv("LUAJIT_TEST_LUAJIT")
  if cmd and cmd ~= "" then return cmd end
  local lowest = 0
  while arg and arg[lowest - 1] do lowest = lowest - 1 end
  assert(lowest < 0, "cannot find the interpreter path in arg[]")
  return t.shquote(arg[lowest])
end

-- Directory of the running test file, with a trailing slash.
function t.dir()
  return (arg and arg[0] and arg[0]:match("(.*/)")) or "./"
end

-- Runs a shell command with stderr merged into stdout.  Returns the output and the exit status
-- as a number.  The status comes from a sentinel line the shell prints, because the return values
-- of os.execute/io.popen:close differ between Lua 5.1 and 5.2 semantics.
function t.run(cmd)
  local sentinel = "@@t.run-exit="
  local pipe = assert(io.popen("( " .. cmd .. " ) 2>&1; echo \"" .. sentinel .. "$?\"", "r"))
  local out = pipe:read("*a")
  pipe:close()
  local body, status = out:match("^(.-)" .. sentinel:gsub("%p", "%%%0") .. "(%d+)\n?$")
  assert(body, "command output lacks the exit sentinel: " .. cmd)
  return body, tonumber(status)
end

return t
