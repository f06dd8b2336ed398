-- mesh.lua: mesh=on meshes scattered survivors and keeps them intact (docs/mesh.md). A child
-- interpreter (tests/reclaim/lib/mesh_child.lua) keeps one in 24 tables of one class, collects
-- and purges: with LUAJIT_RECLAIM=mesh=on its heap maps a memory file, pages are meshed and
-- released, every survivor reads back and takes writes, and once the survivors are freed their
-- pages unmesh; with mesh=off nothing meshes and no memory file is mapped. The QEMU
-- matrix runs this at 4K, 16K and 64K pages.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")

local OBJECTS = t.small() and 120000 or 400000

local function child(option)
  local out, status = t.run("LUAJIT_RECLAIM=" .. t.shquote(option) .. " " .. t.interpreter() .. " "
                            .. t.shquote(here .. "lib/mesh_child.lua") .. " " .. OBJECTS)
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

local off = child("mesh=off")
t.eq(off.memfd, 0, "mesh=off: no memory file")
t.eq(off.intact, off.kept, "mesh=off: survivors intact")
t.eq(off.passes, 0, "mesh=off: no mesh pass")
t.eq(off.pages, 0, "mesh=off: no meshed page")
t.done()
