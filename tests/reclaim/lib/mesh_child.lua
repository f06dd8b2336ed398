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
--   stats_FIELD                reclaim.stats().FIELD after the purge, for each mesh field
--                              (absent if not a number: the parent reports it missing)
--   stats_pages_after          reclaim.stats().mesh_pages after the survivors are freed
-- With CAPI=1 (not on fully static builds: ffi.C looks symbols up), the same workload also
-- runs in a second state made with luaL_newstate() through ffi, whose
-- luaJIT_reclaim_stats_ext() figures are printed as capi_FIELD next to what that state's own
-- reclaim.stats() says (capi_lua_FIELD), and capi_size, capi_small (its return with a size
-- below the first version's, and capi_small_untouched 1 if *st was left as it was),
-- capi_big_size (the size it reports when given a larger one) and capi_big_tail (1 if the
-- bytes past its own struct were left as they were).
-- Usage: luajit mesh_child.lua OBJECTS [CAPI]
local r = require("reclaim")
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../../lua/lib/?.lua;" .. package.path
local OBJECTS = assert(tonumber(arg[1]), "usage: mesh_child.lua OBJECTS [CAPI]")
local CAPI = arg[2] == "1"
local MESH_FIELDS = { "mesh_pages", "mesh_mappings", "mesh_released", "mesh_passes",
                      "mesh_max_pause_ns" }

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
local st = r.stats()
for _, f in ipairs(MESH_FIELDS) do
  if type(st[f]) == "number" then print(string.format("stats_%s=%d", f, st[f])) end
end
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
print(string.format("stats_pages_after=%d", r.stats().mesh_pages))

if CAPI then
  local ffi, capi = require("ffi"), require("capi")
  ffi.cdef[[
typedef struct luajit_reclaim_stats_ext {
  size_t size;
  size_t mesh_pages, mesh_mappings;
  uint64_t mesh_released, mesh_passes, mesh_max_pause_ns;
} luajit_reclaim_stats_ext;
int luaJIT_reclaim_stats_ext(lua_State *L, luajit_reclaim_stats_ext *st);
]]
  local C = ffi.C
  -- The workload above in the second state; it returns its reclaim.stats() mesh fields as
  -- "k=v" lines, read after its purge, with the survivors still held (in a global).
  local WORK = string.format([=[
local r = require("reclaim")
local hold = {}
KEEP = {}
for n = 1, %d do
  local o = { n, n * 3, "k" }
  hold[n] = o
  if n %% 24 == 7 then KEEP[#KEEP + 1] = o end
end
hold = nil
collectgarbage("collect")
collectgarbage("collect")
r.purge()
collectgarbage("stop")  -- no GC step (which may mesh) until the C API has read the figures
local st, out = r.stats(), {}
for _, f in ipairs({ "mesh_pages", "mesh_mappings", "mesh_released", "mesh_passes",
                     "mesh_max_pause_ns" }) do
  out[#out + 1] = string.format("capi_lua_%%s=%%d", f, st[f])
end
return table.concat(out, "\n")
]=], OBJECTS)
  local L = capi.newstate()
  print(capi.run_ok(L, WORK))
  local x = ffi.new("luajit_reclaim_stats_ext")
  x.size = ffi.sizeof(x)
  print("capi_ret=" .. C.luaJIT_reclaim_stats_ext(L, x))
  print("capi_size=" .. tonumber(x.size))
  print("capi_struct_size=" .. ffi.sizeof(x))
  for _, f in ipairs(MESH_FIELDS) do print(string.format("capi_%s=%d", f, tonumber(x[f]))) end
  -- A size below the first version's is refused and *st left alone.
  local small = ffi.new("luajit_reclaim_stats_ext")
  ffi.fill(small, ffi.sizeof(small), 0x5a)
  small.size = ffi.sizeof(small) - 1
  local before = ffi.string(small, ffi.sizeof(small))
  print("capi_small=" .. (C.luaJIT_reclaim_stats_ext(L, small) == -1 and 1 or 0))
  print("capi_small_untouched=" .. (ffi.string(small, ffi.sizeof(small)) == before and 1 or 0))
  -- A caller built against a later, larger struct: only the library's bytes are filled.
  local EXTRA = 64
  local big = ffi.new("uint8_t[?]", ffi.sizeof(x) + EXTRA)
  ffi.fill(big, ffi.sizeof(x) + EXTRA, 0xa5)
  local bx = ffi.cast("luajit_reclaim_stats_ext *", big)
  bx.size = ffi.sizeof(x) + EXTRA
  assert(C.luaJIT_reclaim_stats_ext(L, bx) == 0, "larger struct refused")
  print("capi_big_size=" .. tonumber(bx.size))
  print("capi_big_tail=" .. (ffi.string(big + ffi.sizeof(x), EXTRA) == string.rep("\165", EXTRA)
                             and 1 or 0))
  C.lua_close(L)
end
