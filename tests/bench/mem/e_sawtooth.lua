-- Memory workload (e): sawtooth. Ten bursts of ~300 MB of mixed objects (see mix.lua);
-- 1% of each burst survives for two cycles (a two-slot rolling ring), then dies. Between
-- bursts: trickle (or, in the idle variant, pure idleness). At the end the ring is dropped.
--
-- Usage: luajit e_sawtooth.lua [trickle|idle]
-- Phases printed: start, then per cycle k: c<k>.peak, c<k>.collect, c<k>.after100ms,
-- c<k>.after1s (idle variant also c<k>.after3s); finally the same for "final.".
-- Invariant: the burst size is measured with collectgarbage("count") growth, so every
-- build allocates the same objects in the same order for the same number of cycles.

local here = arg[0]:match("^(.*)/") or "."
local probe = dofile(here .. "/probe.lua")
local mix = dofile(here .. "/mix.lua")

local CYCLES = 10
local BURST_KB = 300 * 1024
local SURVIVE_PERCENT = 1
local RING = 2

probe.begin("e")
probe.full_collect()
probe.mark("start")

local next_random = probe.lcg(777)
local make_object = mix.generator(next_random)
local ring = {}
local serial = 0
for cycle = 1, CYCLES do
  local survivors = {}
  local burst = {}
  local target_kb = collectgarbage("count") + BURST_KB
  local n = 0
  while collectgarbage("count") < target_kb do
    serial = serial + 1
    n = n + 1
    local o = make_object(serial)
    burst[n] = o
    if next_random() % 100 < SURVIVE_PERCENT then survivors[#survivors + 1] = o end
  end
  ring[cycle % RING] = survivors
  probe.mark("c" .. cycle .. ".peak")
  burst = nil
  probe.settle("c" .. cycle .. ".")
end

ring = nil
probe.settle("final.")
