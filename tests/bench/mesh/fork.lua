-- fork.lua: what fork() costs the parent for a live heap of MIB MiB (`make bench-mesh-fork`).
-- With mesh=on the heap maps a memory file, and the fork handlers give the child a private
-- copy of it before fork() returns in the parent (docs/mesh.md, "fork()"); on anonymous memory
-- (mesh=off, stock) fork() only copies page tables. FORKS forks, each child _exit()s at once
-- and the parent waits for it; prints the time fork() took to return in the parent, median and
-- range, in ms (CLOCK_MONOTONIC), with the heap's size and whether it maps the memory file.
-- Figures only, never a pass/fail.
--
--   [LUAJIT_RECLAIM=mesh=on] luajit fork.lua MIB [FORKS]
local ffi = require("ffi")
local MIB, FORKS = tonumber(arg[1]), tonumber(arg[2] or 21)
assert(MIB and MIB > 0 and FORKS and FORKS > 0, "usage: luajit fork.lua MIB [FORKS]")
ffi.cdef[[
typedef struct { long tv_sec, tv_nsec; } fork_timespec;
int clock_gettime(int clk, fork_timespec *ts);
int fork(void);
void _exit(int status);
int waitpid(int pid, int *status, int options);
]]
local C = ffi.C
local ts = ffi.new("fork_timespec")
local function now_ms()
  C.clock_gettime(1, ts)                              -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e3 + tonumber(ts.tv_nsec) / 1e6
end

-- The live heap: records of a table and a string, about 200 bytes each.
local live = {}
for i = 1, math.floor(MIB * 1048576 / 200) do live[i] = { i, "record " .. i .. string.rep("x", 64) } end
collectgarbage("collect")
local heap_mib = collectgarbage("count") / 1024

local memfd = 0
do
  local f = io.open("/proc/self/maps")
  if f then
    memfd = f:read("*a"):find("/memfd:luajit-reclaim ", 1, true) and 1 or 0
    f:close()
  end
end

local times, status = {}, ffi.new("int[1]")
for k = 1, FORKS do
  local t0 = now_ms()
  local pid = C.fork()
  if pid == 0 then C._exit(0) end
  local t1 = now_ms()
  assert(pid > 0, "fork() failed")
  assert(C.waitpid(pid, status, 0) == pid, "waitpid() failed")
  times[k] = t1 - t0
end
table.sort(times)
local median = (times[math.floor((FORKS + 1) / 2)] + times[math.floor(FORKS / 2) + 1]) / 2
print(string.format("fork: LUAJIT_RECLAIM=%s, live heap %.1f MiB, memory file %s: fork() in the parent "
                    .. "%.3f ms median [%.3f-%.3f] over %d forks", os.getenv("LUAJIT_RECLAIM") or "(unset)",
                    heap_mib, memfd == 1 and "yes" or "no", median, times[1],
                    times[FORKS], FORKS))
assert(#live > 0)
