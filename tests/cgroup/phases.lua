-- phases.lua: a heap whose shape changes faster than the decay, for bench-cgroup.
-- PHASES times: build PHASE_MIB of one kind of object (even phases: ~200-byte
-- strings; odd phases: tables with four fields), drop them, and finish the GC cycle
-- with incremental steps only (no full collection, so no full-GC purge): the memory
-- is free but was freed less than the decay ago, and the next phase's objects are
-- of other size classes, so they cannot reuse it. 1% of each phase survives to the
-- end. Prints "done cpu_s=S hwm_kib=N rss_kib=N purge_calls=N gc_kib=N".
-- Usage: luajit phases.lua PHASES PHASE_MIB
local here = arg[0]:match("^(.*)/") or "."
local probe = dofile(here .. "/../bench/mem/probe.lua")

local phases, phase_mib = tonumber(arg[1]), tonumber(arg[2])
assert(phases and phase_mib, "usage: luajit phases.lua PHASES PHASE_MIB")

local keep = {}
local serial = 0
for p = 1, phases do
  local objs, n = {}, 0
  local target = collectgarbage("count") + phase_mib * 1024
  while collectgarbage("count") < target do
    serial = serial + 1
    n = n + 1
    if p % 2 == 0 then
      objs[n] = string.rep("x", 180) .. string.format("%012d", serial)
    else
      objs[n] = { serial, serial + 1, a = serial, b = p }
    end
    if serial % 100 == 0 then keep[#keep + 1] = objs[n] end
  end
  objs = nil
  -- Finish the running cycle, then one whole cycle, with steps only.
  repeat until collectgarbage("step", 0)
  repeat until collectgarbage("step", 0)
end

local ok, r = pcall(require, "reclaim")
local rss, hwm = probe.rss_kb()
io.write(string.format("done cpu_s=%.3f hwm_kib=%d rss_kib=%d purge_calls=%d gc_kib=%d\n",
                       os.clock(), hwm, rss,
                       ok and r.stats().purge_calls or 0, collectgarbage("count")))
