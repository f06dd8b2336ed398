-- Memory workload (d): fragmentation. 2,000,000 mixed objects (see mix.lua) of which a
-- random 2% (fixed-seed LCG) survive; the rest is dropped at once.
--
-- Usage: luajit d_mixed.lua [trickle|idle]   (see probe.lua for the phases printed)
-- Invariant: the survivors are spread over the whole burst, so reclaim can only return
-- OS pages that hold no survivor; reclaim's stats().floor counts exactly those pages.

local here = arg[0]:match("^(.*)/") or "."
local probe = dofile(here .. "/probe.lua")
local mix = dofile(here .. "/mix.lua")

local COUNT = 2000000
local SURVIVE_PERCENT = 2

probe.begin("d")
probe.full_collect()
probe.mark("start")

local objects, survivors = mix.fragmentation_burst(probe.lcg(424242), COUNT, SURVIVE_PERCENT)
probe.mark("peak")

objects = nil
probe.settle()
io.write("INFO workload=d survivors=", #survivors, "\n")
