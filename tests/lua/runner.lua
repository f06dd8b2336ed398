-- runner.lua: runs Lua test files against a LuaJIT binary, one child process per (file, JIT mode).
--
-- Usage: luajit runner.lua --luajit CMD [--mode on|off|hotloop|all] [--flags "..."]
--                          [--timeout SECONDS] [--verbose] FILE...
--
-- Invariants:
--  * Pure Lua 5.1/LuaJIT; children are started with io.popen and /bin/sh only, so the runner works
--    inside a busybox initramfs that holds nothing but luajit and a shell.
--  * A run passes only if the child exited 0, printed t.done()'s "PASS <n> checks" line and printed
--    no line starting with "FAIL".  The exit status is taken from a sentinel line printed by the
--    wrapping shell, never from os.execute/io.popen:close (their results differ between Lua 5.1 and
--    5.2 semantics).
--  * Output: one line per run, "ok <file> [mode] (<secs>s)" or "FAIL <file> [mode]" followed by the
--    child's output indented; the last line is exactly "N passed, N failed"; exit status 1 if any
--    run failed (or 2 for a usage error).
--  * CMD may be a command with spaces (e.g. "qemu-aarch64-static -L /usr/aarch64-linux-gnu luajit");
--    it is passed to the children as LUAJIT_TEST_LUAJIT so tests can start the same interpreter.

local MODE_FLAGS = {
  on = "",
  off = "-joff",
  hotloop = "-Ohotloop=1 -Ohotexit=1",
}
local MODE_ORDER = { "on", "off", "hotloop" }
local SENTINEL = "@@runner-exit="

local function usage(msg)
  io.stderr:write("runner.lua: ", msg, "\n",
    "usage: luajit runner.lua --luajit CMD [--mode on|off|hotloop|all] [--flags \"...\"]",
    " [--timeout SECONDS] [--verbose] FILE...\n")
  os.exit(2)
end

local function parse_args(argv)
  local opts = { modes = { "on", "off" }, flags = "", timeout = 300, verbose = false, files = {} }
  local i = 1
  local function value(name)
    i = i + 1
    if argv[i] == nil then usage(name .. " needs a value") end
    return argv[i]
  end
  while i <= #argv do
    local a = argv[i]
    if a == "--luajit" then
      opts.luajit = value(a)
    elseif a == "--mode" then
      local m = value(a)
      if m == "all" then
        opts.modes = MODE_ORDER
      elseif MODE_FLAGS[m] then
        opts.modes = { m }
      else
        usage("unknown mode " .. m)
      end
    elseif a == "--flags" then
      opts.flags = value(a)
    elseif a == "--timeout" then
      opts.timeout = tonumber(value(a))
      if not opts.timeout or opts.timeout < 1 then usage("--timeout needs a number >= 1") end
      opts.timeout = math.floor(opts.timeout)
    elseif a == "--verbose" then
      opts.verbose = true
    elseif a:sub(1, 2) == "--" then
      usage("unknown option " .. a)
    else
      opts.files[#opts.files + 1] = a
    end
    i = i + 1
  end
  if not opts.luajit or opts.luajit == "" then usage("--luajit is required") end
  if #opts.files == 0 then usage("no test files given") end
  return opts
end

-- Wall-clock seconds.  Uses gettimeofday through the FFI when ffi.C can resolve it (dynamic
-- builds); on static builds it falls back to os.time(), which has one-second resolution.
local now = os.time
do
  local okffi, ffi = pcall(require, "ffi")
  if okffi then
    local okdef = pcall(ffi.cdef, [[
      struct luajit_test_timeval { long tv_sec; long tv_usec; };
      int gettimeofday(struct luajit_test_timeval *tv, void *tz);
    ]])
    if okdef and pcall(function() return ffi.C.gettimeofday end) then
      local tv = ffi.new("struct luajit_test_timeval")
      now = function()
        ffi.C.gettimeofday(tv, nil)
        return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) * 1e-6
      end
    end
  end
end

local function shquote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

-- Shell script that runs one test with a watchdog and prints the sentinel with its exit status.
-- The watchdog polls once a second; after `timeout` seconds it sends SIGUSR2 (which nothing in a
-- test handles, so the exit status 128+12 = 140 says "timed out"), then SIGKILL if that did not
-- work.  Its output goes to /dev/null so a leftover `sleep` never holds our pipe open.  The
-- shell's own stderr (e.g. "Segmentation fault" job reports) is merged into the captured output.
local function child_script(opts, mode, file)
  local cmd = table.concat({
    "exec 2>&1",
    "LUAJIT_TEST_MODE=" .. mode,
    "LUAJIT_TEST_LUAJIT=" .. shquote(opts.luajit),
    "export LUAJIT_TEST_MODE LUAJIT_TEST_LUAJIT",
    opts.luajit .. " " .. MODE_FLAGS[mode] .. " " .. opts.flags .. " " .. shquote(file)
      .. " </dev/null 2>&1 &",
    "child=$!",
    "( n=0; while kill -0 $child 2>/dev/null; do"
      .. " if [ $n -ge " .. opts.timeout .. " ]; then"
      .. " kill -USR2 $child; sleep 2; kill -9 $child; break; fi;"
      .. " sleep 1; n=$((n+1)); done ) >/dev/null 2>&1 &",
    "dog=$!",
    "wait $child; rc=$?",
    "kill $dog 2>/dev/null",
    "echo \"" .. SENTINEL .. "$rc\"",
  }, "\n")
  return cmd
end

local function run_one(opts, mode, file)
  local started = now()
  local pipe = io.popen(child_script(opts, mode, file), "r")
  local out = pipe and pipe:read("*a") or ""
  if pipe then pipe:close() end
  local secs = now() - started

  local body, status = out:match("^(.-)" .. SENTINEL:gsub("%p", "%%%0") .. "(%d+)\n?$")
  local reasons = {}
  if not body then
    body = out
    reasons[#reasons + 1] = "no exit sentinel from the shell"
  else
    status = tonumber(status)
    if status == 140 or (status == 137 and secs >= opts.timeout) then
      reasons[#reasons + 1] = "timed out after " .. opts.timeout .. "s"
    elseif status ~= 0 then
      reasons[#reasons + 1] = "exit status " .. status
    end
  end
  local saw_pass = false
  for line in body:gmatch("[^\n]*") do
    if line:match("^FAIL") then
      reasons[#reasons + 1] = "FAIL line in output"
      break
    end
    if line:match("^PASS %d+ checks$") then saw_pass = true end
  end
  if not saw_pass and #reasons == 0 then
    reasons[#reasons + 1] = "no \"PASS <n> checks\" line (test ended without t.done())"
  end
  return #reasons == 0, secs, body, reasons
end

local function indent(text)
  local lines = {}
  for line in text:gmatch("([^\n]*)\n?") do lines[#lines + 1] = "    " .. line end
  while #lines > 0 and lines[#lines] == "    " do lines[#lines] = nil end
  return table.concat(lines, "\n")
end

local function main(argv)
  local opts = parse_args(argv)
  local passed, failed = 0, 0
  for _, file in ipairs(opts.files) do
    for _, mode in ipairs(opts.modes) do
      local ok, secs, body, reasons = run_one(opts, mode, file)
      if ok then
        passed = passed + 1
        print(string.format("ok %s [%s] (%.1fs)", file, mode, secs))
        if opts.verbose and body ~= "" then print(indent(body)) end
      else
        failed = failed + 1
        print(string.format("FAIL %s [%s]", file, mode))
        print(indent(body .. "runner: " .. table.concat(reasons, "; ") .. "\n"))
      end
      io.stdout:flush()
    end
  end
  print(string.format("%d passed, %d failed", passed, failed))
  os.exit(failed == 0 and 0 or 1)
end

main(arg)
