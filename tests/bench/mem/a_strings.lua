-- Memory workload (a): a burst of 2,000,000 unique ~260-byte strings, dropped at once.
--
-- Usage: luajit a_strings.lua [trickle|idle]   (see probe.lua for the phases printed)
-- Invariant: every string is distinct (a 252-byte constant prefix plus an 8-digit number),
-- so nothing is shared through string interning; all of them die together.

local here = arg[0]:match("^(.*)/") or "."
local probe = dofile(here .. "/probe.lua")

local COUNT = 2000000

probe.begin("a")
probe.full_collect()
probe.mark("start")

local prefix = string.rep("s", 252)
local strings = {}
for i = 1, COUNT do strings[i] = prefix .. (10000000 + i) end
probe.mark("peak")

strings = nil
probe.settle()
