-- bench-mesh driver: runs a memory workload on luajit-reclaim and, after each double full
-- collect, asks the meshest module (meshest.c) what meshing would give back.
--
-- Usage: luajit mesh.lua d|e|p MESHEST_SO
--   d  workload (d) of bench-mem: 2,000,000 mixed objects, 2% scattered survivors
--   e  workload (e): ten bursts of ~300 MB, 1% of each survives two cycles (trough per cycle)
--   p  phases: 20 phases of 100,000 objects, strings of ~200 B and small tables in turn,
--      1% of each phase survives to the end
-- The workloads reuse tests/bench/mem/mix.lua and probe.lua, so (d) and (e) allocate the same
-- objects in the same order as bench-mem.
-- Output, one line per measurement (run.sh parses them):
--   MESH workload=W phase=P page=.. start_rss_kb=.. rss_kb=.. heap_kb=.. floor_kb=.. <estimate>
--   CLASS workload=W phase=P size=.. slots=.. pages=.. live=.. split=.. greedy=.. bound=..
-- Invariant: the estimate's floor (span pages + large pages) equals the stats' floor taken
-- with it;
-- a mismatch (module and binary built from different trees) is an error, never a figure.

local workload, so_path = arg[1], arg[2]
assert(workload == "d" or workload == "e" or workload == "p",
       "mesh.lua: workload must be d, e or p, got " .. tostring(workload))
assert(so_path, "mesh.lua: the path of meshest.so is missing (usage: mesh.lua d|e|p MESHEST_SO)")

local here = arg[0]:match("^(.*)/") or "."
local mem = here .. "/../mem"
local probe = dofile(mem .. "/probe.lua")
local mix = dofile(mem .. "/mix.lua")
assert(probe.reclaim, "mesh.lua: this luajit has no reclaim module (run it on luajit-reclaim)")
local open_meshest = assert(package.loadlib(so_path, "luaopen_meshest"))
local meshest = open_meshest()

local FIELDS = {
  "floor_pages", "large_pages", "candidate_pages", "excluded_current", "excluded_layout",
  "excluded_medium", "split_released", "greedy_released", "bound_released", "split_vmas",
  "greedy_vmas", "split_share", "greedy_share", "split_passes", "segments", "live_blocks",
}
local CLASS_LINES = 12  -- classes with the most candidate pages, per measurement

probe.full_collect()
local start_rss = probe.rss_kb()

local function measure(phase)
  probe.full_collect()
  local rss = probe.rss_kb()
  local r = meshest.estimate()
  local page = r.page_size
  local walked = (r.floor_pages + r.large_pages) * page
  if walked ~= r.stats_floor then
    error(string.format("mesh.lua: estimate floor %d B != stats floor %d B: meshest.so and the "
                        .. "luajit binary were not built from the same allocator headers",
                        walked, r.stats_floor))
  end
  local out = {
    string.format("MESH workload=%s phase=%s page=%d start_rss_kb=%d rss_kb=%d heap_kb=%.0f "
                  .. "floor_kb=%.0f resident_kb=%.0f", workload, phase, page, start_rss, rss,
                  collectgarbage("count"), r.stats_floor / 1024, r.stats_resident / 1024),
  }
  for _, k in ipairs(FIELDS) do out[#out + 1] = string.format(" %s=%d", k, r[k]) end
  out[#out + 1] = string.format(" lock_ms=%.1f plan_ms=%.1f\n", r.lock_ms, r.plan_ms)
  io.write(table.concat(out))
  table.sort(r.classes, function(a, b) return a.pages > b.pages end)
  for i = 1, math.min(CLASS_LINES, #r.classes) do
    local c = r.classes[i]
    io.write(string.format("CLASS workload=%s phase=%s size=%d slots=%d pages=%d live=%d "
                           .. "split=%d greedy=%d bound=%d\n", workload, phase, c.block_size,
                           c.slots, c.pages, c.live_slots, c.split_released, c.greedy_released,
                           c.bound_released))
  end
  io.flush()
end

if workload == "d" then
  local objects, survivors = mix.fragmentation_burst(probe.lcg(424242), 2000000, 2)
  objects = nil
  measure("collect")
  assert(#survivors > 0)
elseif workload == "e" then
  -- The loop of e_sawtooth.lua, measuring each trough instead of the settle sequence.
  local next_random = probe.lcg(777)
  local make_object = mix.generator(next_random)
  local ring, serial = {}, 0
  for cycle = 1, 10 do
    local survivors, burst, n = {}, {}, 0
    local target_kb = collectgarbage("count") + 300 * 1024
    while collectgarbage("count") < target_kb do
      serial = serial + 1
      n = n + 1
      local o = make_object(serial)
      burst[n] = o
      if next_random() % 100 < 1 then survivors[#survivors + 1] = o end
    end
    ring[cycle % 2] = survivors
    burst = nil
    measure("c" .. cycle)
  end
  ring = nil
  measure("final")
else
  local next_random = probe.lcg(4711)
  local keep = {}
  for phase = 1, 20 do
    local objects = {}
    for i = 1, 100000 do
      local o
      if phase % 2 == 1 then
        o = string.rep("s", 180 + next_random() % 41) .. string.format("%08d%04d", i, phase)
      else
        o = { i, phase, x = i }
      end
      objects[i] = o
      if next_random() % 100 < 1 then keep[#keep + 1] = o end
    end
    objects = nil
  end
  measure("collect")
  assert(#keep > 0)
end
