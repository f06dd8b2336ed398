-- Memory probe shared by the memory workloads in tests/bench/mem/.
--
-- Reads the process's resident set (VmRSS, VmHWM from /proc/self/status), its proportional
-- set size (Pss from /proc/self/smaps_rollup, or the sum of /proc/self/smaps' Pss lines
-- where the rollup is missing), the Lua heap (collectgarbage("count")) and, when the
-- runtime is ours, require("reclaim").stats(). The rollup is exact; the sum is not where
-- mappings share pages (meshing): each mapping's line is rounded down to a whole KiB, so
-- the sum comes out low by up to 1 KiB a mapping, and meshing makes thousands of them.
-- Each measurement is printed as one line that tests/bench/report-mem.lua parses:
--   MEM workload=<id> variant=<trickle|idle> phase=<name> rss_kb=.. hwm_kb=.. pss_kb=.. heap_kb=..
--       [floor_kb=.. resident_kb=.. purged_kb=.. purge_calls=.. mapped_kb=.. in_use_kb=..
--        [mesh_pages=.. mesh_released=..]] t_ms=..
--   (mesh_pages: OS pages meshed now; mesh_released: pages meshing gave back so far; both
--   when reclaim.stats() has them, so a run shows whether meshing worked)
-- Invariants:
--  * Runs unchanged on stock LuaJIT: the reclaim module is looked up with pcall and only
--    among built-in modules (package paths are emptied for the look-up), so a stray
--    reclaim.lua on disk can never be mistaken for our runtime.
--  * "Trickle" allocates one small object every ~10 ms of wall time and sleeps in between;
--    "idle" only sleeps (poll(2) through the FFI) and allocates nothing between measurements.
--  * Sleeping and clocks use the FFI (poll, clock_gettime(CLOCK_MONOTONIC)), never busy loops,
--    so an idle phase really leaves the CPU to the runtime's background thread.
--  * BENCH_MALLOC_TRIM=1 (the measured peer, a luajit built on glibc malloc) calls glibc's
--    malloc_trim(0) through the FFI after every collection the probe finishes (full or
--    incremental), as the reference peer measurement did after each GC.

local ffi = require("ffi")

ffi.cdef[[
struct bench_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk_id, struct bench_timespec *tp);
int poll(void *fds, unsigned long nfds, int timeout);
]]

local C = ffi.C
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("struct bench_timespec")

local probe = {}

local function load_reclaim()
  local saved_path, saved_cpath = package.path, package.cpath
  package.path, package.cpath = "", ""
  local ok, mod = pcall(require, "reclaim")
  package.path, package.cpath = saved_path, saved_cpath
  if ok and type(mod) == "table" and type(mod.stats) == "function" then return mod end
  return nil
end

probe.reclaim = load_reclaim()

function probe.now_ms()
  C.clock_gettime(CLOCK_MONOTONIC, timespec)
  return tonumber(timespec.tv_sec) * 1000 + tonumber(timespec.tv_nsec) / 1e6
end

function probe.sleep_ms(ms)
  if ms > 0 then C.poll(nil, 0, ms) end
end

-- Returns VmRSS and VmHWM in KiB.
function probe.rss_kb()
  local f = assert(io.open("/proc/self/status", "r"))
  local status = f:read("*a")
  f:close()
  local rss = tonumber(status:match("VmRSS:%s*(%d+)"))
  local hwm = tonumber(status:match("VmHWM:%s*(%d+)"))
  assert(rss and hwm, "VmRSS/VmHWM missing from /proc/self/status")
  return rss, hwm
end

-- Returns Pss in KiB: each physical page counted once, divided among the mappings
-- that share it. VmRSS counts a page once per virtual page mapping it, so a meshed
-- page (two virtual pages, one physical page) counts twice there and once here, as a
-- cgroup charges it.
function probe.pss_kb()
  local f = io.open("/proc/self/smaps_rollup", "r")
  if f then
    local text = f:read("*a")
    f:close()
    local pss = tonumber(text:match("\nPss:%s*(%d+)"))
    assert(pss, "Pss missing from /proc/self/smaps_rollup")
    return pss
  end
  f = assert(io.open("/proc/self/smaps", "r"), "neither /proc/self/smaps_rollup nor /proc/self/smaps")
  local total = 0
  for line in f:lines() do
    local kb = line:match("^Pss:%s*(%d+)")
    if kb then total = total + tonumber(kb) end
  end
  f:close()
  return total
end

local workload_id, variant = "?", "trickle"
local started_ms = probe.now_ms()

-- Parses the common command line: <script> [trickle|idle]. Returns the variant.
function probe.begin(id)
  workload_id = id
  variant = arg and arg[1] or "trickle"
  assert(variant == "trickle" or variant == "idle",
         "variant must be 'trickle' or 'idle', got " .. tostring(variant))
  if probe.reclaim then
    local cfg = probe.reclaim.config()
    local keys = {}
    for k in pairs(cfg) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = k .. "=" .. tostring(cfg[k]) end
    io.write("CONFIG workload=", id, " variant=", variant, " ", table.concat(parts, ","), "\n")
  end
  return variant
end

function probe.variant() return variant end

-- Prints one measurement line for the named phase.
function probe.mark(phase)
  local rss, hwm = probe.rss_kb()
  local heap = collectgarbage("count")
  local out = {
    "MEM workload=", workload_id, " variant=", variant, " phase=", phase,
    " rss_kb=", rss, " hwm_kb=", hwm, " pss_kb=", probe.pss_kb(), string.format(" heap_kb=%.0f", heap),
  }
  if probe.reclaim then
    local s = probe.reclaim.stats()
    out[#out + 1] = string.format(
      " floor_kb=%.0f resident_kb=%.0f purged_kb=%.0f purge_calls=%d mapped_kb=%.0f in_use_kb=%.0f",
      s.floor / 1024, s.resident / 1024, s.purged_total / 1024, s.purge_calls,
      s.mapped / 1024, s.in_use / 1024)
    if s.mesh_pages ~= nil then
      out[#out + 1] = string.format(" mesh_pages=%d mesh_released=%d", s.mesh_pages, s.mesh_released)
    end
  end
  out[#out + 1] = string.format(" t_ms=%.0f\n", probe.now_ms() - started_ms)
  io.write(table.concat(out))
  io.flush()
end

-- Full collection the way an application asks for it (collect twice so that the
-- string table shrink and finalizer-free objects are done, as the reference measurement did).
local malloc_trim = os.getenv("BENCH_MALLOC_TRIM") == "1"
if malloc_trim then ffi.cdef("int malloc_trim(size_t pad);") end

function probe.full_collect()
  collectgarbage("collect")
  collectgarbage("collect")
  if malloc_trim then C.malloc_trim(0) end
end

-- Finishes garbage collection through the ordinary incremental path only, as an
-- allocating application would: steps until three GC cycles have completed. Used by the
-- idle variant so that no explicit full collection can trigger a purge. Three, because
-- LuaJIT halves an oversized string table once per cycle and full_collect's two calls
-- run three cycles (the first finishes the cycle in progress): with two, the idle
-- variant kept 2 MiB more live heap (the string table) than the trickle variant in
-- every build, and the two variants' figures were not comparable.
function probe.incremental_collect()
  local cycles = 0
  while cycles < 3 do
    if collectgarbage("step", 0) then cycles = cycles + 1 end
  end
  if malloc_trim then C.malloc_trim(0) end
end

local trickle_keep, trickle_n = nil, 0

-- Allocates one small object roughly every 10 ms until duration_ms have passed.
function probe.trickle(duration_ms)
  local deadline = probe.now_ms() + duration_ms
  while true do
    trickle_n = trickle_n + 1
    trickle_keep = { trickle_n, trickle_n + 1, tag = tostring(trickle_n) }
    local left = deadline - probe.now_ms()
    if left <= 0 then break end
    probe.sleep_ms(math.min(10, math.ceil(left)))
  end
  return trickle_keep
end

-- Sleeps until duration_ms have passed without allocating anything.
function probe.idle(duration_ms)
  local deadline = probe.now_ms() + duration_ms
  local left = duration_ms
  while left > 0 do
    probe.sleep_ms(math.ceil(left))
    left = deadline - probe.now_ms()
  end
end

-- The settle sequence that follows a burst whose references were just dropped:
--   trickle variant: full collect, then 100 ms and 1 s of trickle;
--   idle variant:    incremental collect, then 100 ms, 1 s and 3 s of pure idleness
--                    (the 3 s point shows whether memory comes back at all when slower).
-- Phase names carry a prefix (e.g. "c3." for cycle 3 of the sawtooth) when given.
function probe.settle(prefix)
  prefix = prefix or ""
  if variant == "idle" then
    probe.incremental_collect()
    probe.mark(prefix .. "collect")
    probe.idle(100)
    probe.mark(prefix .. "after100ms")
    probe.idle(900)
    probe.mark(prefix .. "after1s")
    probe.idle(2000)
    probe.mark(prefix .. "after3s")
  else
    probe.full_collect()
    probe.mark(prefix .. "collect")
    probe.trickle(100)
    probe.mark(prefix .. "after100ms")
    probe.trickle(900)
    probe.mark(prefix .. "after1s")
  end
end

-- Park-Miller minimal standard LCG with a fixed seed: identical sequences on every build.
function probe.lcg(seed)
  local state = seed or 20250117
  return function()
    state = (state * 16807) % 2147483647
    return state
  end
end

return probe
