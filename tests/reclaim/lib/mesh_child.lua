-- mesh_child.lua: the workload tests/reclaim/mesh.lua runs in a child interpreter (the mesh
-- option is read from LUAJIT_RECLAIM when the state is created). Scattered survivors of one size
-- class: OBJECTS tables of three fields, one in 24 kept. After a full collection and
-- reclaim.purge() (which meshes with mesh=on) it checks every survivor, turns meshing off (so
-- the full passes that follow make no new secondary of the interpreter's other pages: only
-- unmeshing is left), frees them all and collects again (which unmeshes every page). Prints
-- key=value lines for the parent:
--   memfd     1 if the heap maps the memory file (/proc/self/maps), else 0
--   intact    survivors whose fields are what was written (of kept)
--   pages, released, passes    mesh figures of reclaim.metrics() after the purge
--   pages_after                mesh_pages after the survivors are freed and collected
-- Usage: luajit mesh_child.lua OBJECTS
local r = require("reclaim")
local OBJECTS = assert(tonumber(arg[1]), "usage: mesh_child.lua OBJECTS")

local function metric(name)
  local v = r.metrics():match("\nluajit_reclaim_" .. name .. "{[^}]*} (%d+)")
  return assert(tonumber(v), "reclaim.metrics() lacks luajit_reclaim_" .. name)
end

local function maps_memfd()
  local f = io.open("/proc/self/maps")
  if not f then return 0 end
  local s = f:read("*a")
  f:close()
  -- The heap's file is "luajit-reclaim"; the registry's has a longer name.
  return (s:find("/memfd:luajit-reclaim (deleted)", 1, true)
          or s:find("/memfd:luajit-reclaim\n", 1, true)) and 1 or 0
end

local keep, hold = {}, {}
for n = 1, OBJECTS do
  local o = { n, n * 3, "k" }
  hold[n] = o
  if n % 24 == 7 then keep[#keep + 1] = o end
end
hold = nil
collectgarbage("collect")
collectgarbage("collect")
r.purge()

local intact = 0
for i, o in ipairs(keep) do
  local n = (i - 1) * 24 + 7
  if o[1] == n and o[2] == n * 3 and o[3] == "k" then intact = intact + 1 end
end
print("memfd=" .. maps_memfd())
print("kept=" .. #keep)
print("intact=" .. intact)
print("pages=" .. metric("mesh_pages"))
print("released=" .. metric("mesh_released_pages_total"))
print("passes=" .. metric("mesh_passes_total"))
-- Writes through the survivors after meshing, read back.
local sum = 0
for i, o in ipairs(keep) do o[2] = i; sum = sum + o[2] end
print("written=" .. (sum == #keep * (#keep + 1) / 2 and 1 or 0))
r.config({ mesh = false })
keep = nil
collectgarbage("collect")
collectgarbage("collect")
r.purge()
print("pages_after=" .. metric("mesh_pages"))
