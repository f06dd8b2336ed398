-- burst.lua: one process of the two-process cgroup test. Builds COUNT mixed objects
-- (tests/bench/mem/mix.lua, fixed seed), keeps 2% of them, drops the rest, runs two full
-- collections, prints "ready VmRSS_KiB VmHWM_KiB", then holds its survivors for HOLD seconds
-- (sleeping, no allocation) and prints "done".
-- Usage: luajit burst.lua COUNT HOLD
local here = arg[0]:match("^(.*)/") or "."
local probe = dofile(here .. "/../bench/mem/probe.lua")
local mix = dofile(here .. "/../bench/mem/mix.lua")

local count, hold = tonumber(arg[1]), tonumber(arg[2])
assert(count and hold, "usage: luajit burst.lua COUNT HOLD")

local objects, survivors = mix.fragmentation_burst(probe.lcg(424242), count, 2)
objects = nil
collectgarbage("collect")
collectgarbage("collect")
local rss, hwm = probe.rss_kb()
io.write("ready ", rss, " ", hwm, " ", #survivors, "\n")
io.flush()
os.execute("sleep " .. hold)
rss, hwm = probe.rss_kb()
io.write("done ", rss, " ", hwm, " ", #survivors, "\n")
io.flush()
