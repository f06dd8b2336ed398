-- fragmentation.lua: a mixed-size burst (tables with 1-8 fields, strings of 16-2000 bytes) of
-- which 2% survive, chosen at random.  After a collect the resident heap must be close to
-- stats().floor, the pages that still hold a live block, and every survivor must be intact.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")
local mem = require("mem")
local r = require("reclaim")

local MiB = mem.MiB
local OBJECTS = t.small() and 60000 or 300000   -- about 40 MB / 200 MB of heap

r.config({ mode = "dontneed", full_gc_purge = true, background = false })
mem.full_gc()
local rss0, st0 = mem.rss(), r.stats()
-- What the process holds outside the allocator (binary, libc, stacks, mcode); the bound below is
-- about the heap, so it is taken out of RSS.
local outside = rss0 - st0.resident

local rand = mem.lcg(4242)
local keep, hold = {}, {}
local FIELD = { "a", "bb", "ccc", "dddd", "eeeee", "ffffff", "ggggggg", "hhhhhhhh" }
for n = 1, OBJECTS do
  local x = rand()
  local obj
  if x % 2 == 0 then
    obj = {}
    for f = 1, 1 + x % 8 do obj[FIELD[f]] = n * f end
  else
    obj = mem.unique_string(n, 16 + x % 1985)
  end
  hold[n] = obj
  if rand() % 50 == 0 then keep[n] = obj end   -- 2%
end
local rss_peak = mem.rss()
hold = nil
collectgarbage("collect")

local st, rss1 = r.stats(), mem.rss()
local kept = 0
local intact = 0
for n, obj in pairs(keep) do
  kept = kept + 1
  if type(obj) == "table" then
    local good = true
    local fields = 0
    for k, v in pairs(obj) do
      fields = fields + 1
      if v ~= n * #k then good = false end
    end
    if good and fields >= 1 and fields <= 8 then intact = intact + 1 end
  elseif #obj >= 16 and obj == mem.unique_string(n, #obj) then
    intact = intact + 1
  end
end
t.note(string.format("peak rss %.1f MB; after: rss %.1f MB, floor %.1f MB, in_use %.1f MB, "
  .. "resident %.1f MB, page %d, %d survivors", rss_peak / MiB, rss1 / MiB, st.floor / MiB,
  st.in_use / MiB, st.resident / MiB, st.page_size, kept))

t.ok(kept > OBJECTS * 0.015 and kept < OBJECTS * 0.025, "about 2% survive")
t.eq(intact, kept, "every survivor is intact after the purge")
t.le(st.in_use, st.floor, "in_use <= floor")
local emulator = mem.emulator()
if emulator then   -- RSS is the emulator's, whose code cache grows (see mem.emulator)
  t.skip("RSS bound: RSS belongs to the emulator " .. emulator .. ", not to the guest")
else
  t.le(rss1 - outside, 1.1 * st.floor + 2 * MiB, "heap RSS after collect <= 1.1*floor + 2 MiB")
end
t.le(st.resident, 1.1 * st.floor + 2 * MiB, "stats().resident <= 1.1*floor + 2 MiB")
t.eq(st.madvise_failed, 0, "no failed madvise")

t.done()
