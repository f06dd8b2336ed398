-- Mixed-object generator shared by workloads (d) fragmentation and (e) sawtooth.
--
-- Half of the objects are tables with 1-8 string-keyed fields, half are unique strings of
-- 16-2000 bytes; the choice, the field count and the string length come from a fixed-seed
-- Park-Miller LCG, so every build sees exactly the same sequence of allocations.
-- Invariant: make_object(i) builds a fresh object whose identity depends only on i and
-- the generator state; nothing is cached between calls except the constant key names.

local mix = {}

local FIELD_KEYS = { "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta" }
local LETTERS = "abcdefghijklmnopqrstuvwxyz"

-- Returns a function make_object(i) driven by the given LCG (see probe.lcg).
function mix.generator(next_random)
  return function(i)
    local r = next_random()
    if r % 2 == 0 then
      local t = {}
      local nfields = 1 + math.floor(r / 2) % 8
      for k = 1, nfields do t[FIELD_KEYS[k]] = i + k end
      return t
    else
      local len = 16 + next_random() % 1985
      local c = (i % 26) + 1
      return string.rep(LETTERS:sub(c, c), len - 10) .. string.format("%010d", i)
    end
  end
end

-- Workload (d)'s burst: count mixed objects driven by the LCG next_random (probe.lcg),
-- of which a random survive_percent are also kept in a second table. Returns objects,
-- survivors; the caller drops `objects` to leave only the survivors live.
function mix.fragmentation_burst(next_random, count, survive_percent)
  local make_object = mix.generator(next_random)
  local objects, survivors = {}, {}
  for i = 1, count do
    local o = make_object(i)
    objects[i] = o
    if next_random() % 100 < survive_percent then survivors[#survivors + 1] = o end
  end
  return objects, survivors
end

return mix
