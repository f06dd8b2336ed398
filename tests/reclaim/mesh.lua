-- mesh.lua: mesh=on meshes scattered survivors and keeps them intact (docs/mesh.md). A child
-- interpreter (tests/reclaim/lib/mesh_child.lua) keeps one in 24 tables of one class, collects
-- and purges: with LUAJIT_RECLAIM=mesh=on its heap maps a memory file, pages are meshed and
-- released, every survivor reads back and takes writes, and once the survivors are freed their
-- pages unmesh; with mesh=off nothing meshes and no memory file is mapped. The mesh fields
-- of reclaim.stats() agree with reclaim.metrics(), and (except on fully static builds) the C
-- API luaJIT_reclaim_stats_ext() gives a second state's figures, the ones its reclaim.stats()
-- gives, and honours the struct's size field. The QEMU matrix runs this at 4K, 16K and 64K
-- pages.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")

local OBJECTS = t.small() and 120000 or 400000

local CAPI = not t.static()
local MESH_FIELDS = { "mesh_pages", "mesh_mappings", "mesh_released", "mesh_passes",
                      "mesh_max_pause_ns" }

local function child(option)
  local out, status = t.run("LUAJIT_RECLAIM=" .. t.shquote(option) .. " " .. t.interpreter() .. " "
                            .. t.shquote(here .. "lib/mesh_child.lua") .. " " .. OBJECTS
                            .. (CAPI and " 1" or ""))
  t.eq(status, 0, option .. ": child exit status (output: " .. out .. ")")
  local v = {}
  for k, n in out:gmatch("(%w[%w_]*)=(%d+)\n") do v[k] = tonumber(n) end
  return v
end

local on = child("mesh=on")
t.eq(on.memfd, 1, "mesh=on: the heap maps the memory file")
t.ok((on.kept or 0) > 0 and on.intact == on.kept, "mesh=on: every survivor intact after meshing ("
     .. tostring(on.intact) .. " of " .. tostring(on.kept) .. ")")
t.ok((on.passes or 0) > 0, "mesh=on: mesh passes ran (" .. tostring(on.passes) .. ")")
t.ok((on.pages or 0) > 0, "mesh=on: pages are meshed (" .. tostring(on.pages) .. ")")
t.ok((on.released or 0) > 0, "mesh=on: meshing released pages (" .. tostring(on.released) .. ")")
t.eq(on.written, 1, "mesh=on: writes through meshed survivors read back")
-- The split pass also meshes pages of the interpreter's own live objects (strings, tables of
-- the test harness), whatever their offsets; those stay meshed while they live. The survivors'
-- thousands of secondaries must all go (the unit suite "mesh core" proves the exact count on a
-- heap with nothing else live).
t.ok((on.pages_after or 1e9) * 10 < on.pages, "mesh=on: the survivors' pages unmesh once they are freed ("
     .. tostring(on.pages_after) .. " of " .. tostring(on.pages) .. " stay meshed)")

-- reclaim.stats(): every mesh field is a number, and they are memstat's figures.
local function stats_fields(v, option)
  for _, f in ipairs(MESH_FIELDS) do
    t.ok(v["stats_" .. f] ~= nil, option .. ": reclaim.stats()." .. f .. " is a number")
  end
end
stats_fields(on, "mesh=on")
t.ok((on.stats_mesh_pages or 0) > 0, "mesh=on: reclaim.stats().mesh_pages > 0 ("
     .. tostring(on.stats_mesh_pages) .. ")")
t.ok((on.stats_mesh_released or 0) > 0, "mesh=on: reclaim.stats().mesh_released > 0 ("
     .. tostring(on.stats_mesh_released) .. ")")
t.ok((on.stats_mesh_mappings or 0) > 0, "mesh=on: reclaim.stats().mesh_mappings > 0")
t.eq(on.stats_mesh_pages, on.pages, "mesh=on: stats().mesh_pages = metrics' mesh_pages")
t.eq(on.stats_mesh_released, on.released, "mesh=on: stats().mesh_released = metrics' mesh_released")
t.eq(on.stats_mesh_passes, on.passes, "mesh=on: stats().mesh_passes = metrics' mesh_passes")
t.eq(on.stats_pages_after, on.pages_after, "mesh=on: stats().mesh_pages = metrics' mesh_pages once the survivors are freed")

local off = child("mesh=off")
t.eq(off.memfd, 0, "mesh=off: no memory file")
t.eq(off.intact, off.kept, "mesh=off: survivors intact")
t.eq(off.passes, 0, "mesh=off: no mesh pass")
t.eq(off.pages, 0, "mesh=off: no meshed page")
stats_fields(off, "mesh=off")
for _, f in ipairs(MESH_FIELDS) do
  t.eq(off["stats_" .. f], 0, "mesh=off: reclaim.stats()." .. f .. " = 0")
end

-- The C API, on a second state of each child (same option, same workload).
if CAPI then
  for _, c in ipairs({ { on, "mesh=on" }, { off, "mesh=off" } }) do
    local v, option = c[1], c[2]
    t.eq(v.capi_ret, 0, option .. ": luaJIT_reclaim_stats_ext returns 0")
    t.eq(v.capi_size, v.capi_struct_size, option .. ": it fills the whole struct (size)")
    for _, f in ipairs(MESH_FIELDS) do
      if f ~= "mesh_max_pause_ns" then  -- CPU time: the two reads may differ by nothing else
        t.eq(v["capi_" .. f], v["capi_lua_" .. f], option .. ": C " .. f .. " = Lua " .. f)
      end
    end
    t.eq(v.capi_small, 1, option .. ": a size below the first version's is refused")
    t.eq(v.capi_small_untouched, 1, option .. ": ... and the struct is left unchanged")
    t.eq(v.capi_big_size, v.capi_struct_size, option .. ": a larger struct gets the library's size back")
    t.eq(v.capi_big_tail, 1, option .. ": ... and its bytes past that are untouched")
  end
  t.ok((on.capi_mesh_pages or 0) > 0, "mesh=on: C mesh_pages > 0 in the second state")
  t.ok((on.capi_mesh_released or 0) > 0, "mesh=on: C mesh_released > 0 in the second state")
  t.eq(off.capi_mesh_pages, 0, "mesh=off: C mesh_pages = 0")
  t.eq(off.capi_mesh_released, 0, "mesh=off: C mesh_released = 0")
else
  t.note("mesh.lua: the C API part needs ffi.C symbol lookups (not on fully static builds)")
end
t.done()
