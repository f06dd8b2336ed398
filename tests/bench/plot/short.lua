-- short.lua: the two-second workload of make check-plot, run under rss-sampler on stock
-- LuaJIT and on ours: a burst of ~96 MB of tables and strings (the mix of
-- tests/bench/mem/mix.lua), then the burst is dropped, SIGUSR1 goes to the parent (the
-- sampler: its phase moves from "burst" to "settle"), a full collect, and a trickle
-- until two seconds have passed since the start.
-- Invariant: the same objects in the same order on every build (fixed-seed LCG); the
-- burst is sized by collectgarbage("count") growth, so it is ~96 MB on every build.

local here = arg[0]:match("^(.*)/") or "."
local mem = here .. "/../mem/"
local probe = dofile(mem .. "probe.lua")
local mix = dofile(mem .. "mix.lua")
local ffi = require("ffi")
ffi.cdef[[
int kill(int pid, int sig);
int getppid(void);
]]

local BURST_KB = 96 * 1024
local TOTAL_MS = 2000
local SIGUSR1 = 10

local started = probe.now_ms()
local make_object = mix.generator(probe.lcg(4242))
local burst, n = {}, 0
local target_kb = collectgarbage("count") + BURST_KB
while collectgarbage("count") < target_kb do
  n = n + 1
  burst[n] = make_object(n)
end
burst = nil
assert(ffi.C.kill(ffi.C.getppid(), SIGUSR1) == 0, "kill(getppid(), SIGUSR1) failed")
probe.full_collect()
probe.trickle(math.max(0, TOTAL_MS - (probe.now_ms() - started)))
io.write("short.lua: ", n, " objects in the burst\n")
