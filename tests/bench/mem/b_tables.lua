-- Memory workload (b): a burst of 5,000,000 small empty tables, dropped at once.
--
-- Usage: luajit b_tables.lua [trickle|idle]   (see probe.lua for the phases printed)
-- Invariant: the only survivor of the burst is nothing; the holder array dies with them.

local here = arg[0]:match("^(.*)/") or "."
local probe = dofile(here .. "/probe.lua")

local COUNT = 5000000

probe.begin("b")
probe.full_collect()
probe.mark("start")

local tables = {}
for i = 1, COUNT do tables[i] = {} end
probe.mark("peak")

tables = nil
probe.settle()
