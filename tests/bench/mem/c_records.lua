-- Memory workload (c): a burst of 2,000,000 record tables (seven fields, one of them a
-- nested two-element table), dropped at once.
--
-- Usage: luajit c_records.lua [trickle|idle]   (see probe.lua for the phases printed)
-- Invariant: records share only constant strings ("open"/"closed"); all of them die together.

local here = arg[0]:match("^(.*)/") or "."
local probe = dofile(here .. "/probe.lua")

local COUNT = 2000000

probe.begin("c")
probe.full_collect()
probe.mark("start")

local records = {}
for i = 1, COUNT do
  records[i] = {
    id = i, x = i * 0.5, y = i * 0.25, weight = i % 97,
    state = (i % 3 == 0) and "closed" or "open", active = (i % 2 == 0),
    range = { i, i + 1 },
  }
end
probe.mark("peak")

records = nil
probe.settle()
