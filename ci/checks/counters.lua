-- ci/checks/counters.lua: the "counters" row of the matrix: no mmap/munmap/madvise/mremap call of
-- the runtime may fail.
--
-- Usage: luajit counters.lua LOGFILE
-- 1. Runs its own workload over every allocation path (small/medium/large blocks, growing and
--    shrinking large blocks = mremap, purges in every mode, full GCs) and checks its own counters.
-- 2. Reads LOGFILE, written by ci/checks/record-counters.lua in every Lua process of the suites
--    that ran before, and checks every record.
-- Prints "FAIL ..." per bad item and ends with "N passed, N failed" (one item per record plus one
-- for the workload); exits 1 on any failure, or when the log holds no record at all.
-- Invariants: every item can fail; a record from a process without our runtime ("unavailable")
-- is a failure; "limited" records (OOM tests under ulimit -v) pass and are counted apart.
local log_path = arg[1]
if not log_path then
  io.stderr:write("usage: luajit counters.lua LOGFILE\n")
  os.exit(2)
end

local passed, failed = 0, 0
local function check(ok, what)
  if ok then
    passed = passed + 1
  else
    failed = failed + 1
    print("FAIL " .. what)
  end
end

local small = os.getenv("LUAJIT_TEST_SMALL") == "1"
local have_reclaim, reclaim = pcall(require, "reclaim")
local buffer = require("string.buffer")

local function workload()
  local rounds = small and 3 or 8
  for _, mode in ipairs({ "dontneed", "free", "dontneed" }) do
    reclaim.config({ mode = mode })
    for round = 1, rounds do
      local keep = {}
      for i = 1, 20000 do                       -- small and medium blocks
        keep[i] = { i, tostring(i), string.rep("x", (i * 37) % 3000) }
      end
      local big = {}
      for i = 1, 8 do                           -- large blocks: own mappings
        big[i] = string.rep(string.char(64 + i), (i + round) * 300 * 1024)
      end
      local grow = {}                           -- a large array part grown by realloc
      for i = 1, 400000 do grow[i] = i end
      local buf = buffer.new()                  -- a buffer grown by realloc, then freed
      for i = 1, 64 do buf:put(string.rep("b", 64 * 1024 + i)) end
      buf:free()
      keep, big, grow = nil, nil, nil
      collectgarbage("collect")
      reclaim.purge()
    end
  end
  reclaim.config({ mode = "dontneed" })
  local s = reclaim.stats()
  local detail = {}
  local ok = true
  for _, name in ipairs({ "mmap_failed", "munmap_failed", "madvise_failed", "mremap_failed" }) do
    local v = s[name]
    if v ~= nil then detail[#detail + 1] = name .. "=" .. tostring(v) end
    if v ~= nil and v ~= 0 then ok = false end
    if v == nil and name ~= "mremap_failed" then ok = false; detail[#detail + 1] = name .. "=missing" end
  end
  return ok, table.concat(detail, " ")
end

if have_reclaim then
  local ran, ok, detail = pcall(workload)
  check(ran and ok, "counters workload: " .. tostring(ran and detail or ok))
else
  check(false, "counters workload: require(\"reclaim\") failed: " .. tostring(reclaim))
end

local f = io.open(log_path, "r")
local records, limited = 0, 0
if f then
  for line in f:lines() do
    records = records + 1
    local status = line:match("^(%S+)")
    if status == "limited" then limited = limited + 1 end
    check(status == "ok" or status == "limited", "counters record: " .. line)
  end
  f:close()
end
check(records > 0, "counters: no record in " .. log_path .. " (LUA_INIT hook not run?)")
print(string.format("counters: %d process records (%d under an address-space limit)", records, limited))
print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
