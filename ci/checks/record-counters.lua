-- ci/checks/record-counters.lua: exit hook loaded into every Lua process of a matrix suite run
-- (ci/suites.sh sets LUA_INIT=@<this file>). When the process ends (normal end, uncaught error or
-- os.exit) it appends one line to the file named by $LJRM_COUNTERS_LOG:
--   "<status> mmap_failed=N munmap_failed=N madvise_failed=N [mremap_failed=N] <script>"
-- status: ok (all zero), bad (a counter is non-zero or missing), unavailable (no "reclaim"
-- module: not our runtime), limited (only mmap/mremap failures, in a process that runs under an
-- address-space limit, i.e. an OOM test that provokes them on purpose).
-- ci/checks/counters.lua turns the log into the "counters" row of the matrix.
--
-- Invariants: prints nothing and leaves the program's behaviour alone (the only change is that
-- os.exit is wrapped); writes at most one record per process; does nothing without the env var.
local log_path = os.getenv("LJRM_COUNTERS_LOG")
if not log_path or log_path == "" then return end

local have_reclaim, reclaim = pcall(require, "reclaim")
local REQUIRED = { "mmap_failed", "munmap_failed", "madvise_failed" }
local OPTIONAL = { "mremap_failed" }
local EXCUSED_UNDER_LIMIT = { mmap_failed = true, mremap_failed = true }

local function address_space_limited()
  local f = io.open("/proc/self/limits", "r")
  if not f then return false end
  local text = f:read("*a")
  f:close()
  local soft = text:match("Max address space%s+(%S+)")
  return soft ~= nil and soft ~= "unlimited"
end

local function summarize()
  if not have_reclaim then return "unavailable", "require(\"reclaim\")-failed" end
  local stats = reclaim.stats()
  local status, parts, only_excused = "ok", {}, true
  local function add(name, required)
    local v = stats[name]
    if v == nil then
      if required then
        status = "bad"
        only_excused = false
        parts[#parts + 1] = name .. "=missing"
      end
      return
    end
    parts[#parts + 1] = name .. "=" .. tostring(v)
    if v ~= 0 then
      status = "bad"
      if not EXCUSED_UNDER_LIMIT[name] then only_excused = false end
    end
  end
  for _, name in ipairs(REQUIRED) do add(name, true) end
  for _, name in ipairs(OPTIONAL) do add(name, false) end
  if status == "bad" and only_excused and address_space_limited() then status = "limited" end
  return status, table.concat(parts, " ")
end

local recorded = false
local function record()
  if recorded then return end
  recorded = true
  local status, detail = summarize()
  local script = (type(arg) == "table" and arg[0]) or "-"
  local f = io.open(log_path, "a")
  if f then
    f:write(status, " ", detail, " ", tostring(script), "\n")
    f:close()
  end
end

-- lua_close() runs every __gc finalizer, so this sentinel covers a normal end and uncaught errors;
-- os.exit() skips lua_close(), so it records first.
local sentinel = newproxy(true)
getmetatable(sentinel).__gc = record
local real_exit = os.exit
os.exit = function(...)
  record()
  local _ = sentinel  -- keeps the sentinel alive as long as os.exit is reachable
  return real_exit(...)
end
