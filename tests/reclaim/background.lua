-- background.lua: with the background purge thread on, memory freed by ordinary incremental GC
-- steps (no full collect, so full_gc_purge plays no part) goes back to the OS while the process
-- sleeps.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")
local mem = require("mem")
local r = require("reclaim")

local MiB = mem.MiB
local BURST = (t.small() and 40 or 150) * MiB

local cfg = r.config({ mode = "dontneed", background = true, background_interval = 50, decay = 100 })
t.eq(cfg.background, true, "background on")
t.eq(cfg.background_interval, 50, "background_interval set")
t.eq(cfg.decay, 100, "decay set")

mem.full_gc()
local rss0, st0 = mem.rss(), r.stats()
local hold = mem.burst(BURST)
local rss_peak = mem.rss()
t.ok(rss_peak - rss0 >= 0.8 * BURST, "burst visible in RSS")
hold = nil

-- Incremental steps until two cycles have ended: the one running when the references were
-- dropped may still see them; the next one frees the burst.
local cycles, steps = 0, 0
while cycles < 2 and steps < 1000000 do
  steps = steps + 1
  if collectgarbage("step", 64) then cycles = cycles + 1 end
end
t.eq(cycles, 2, "two GC cycles finished by steps (" .. steps .. " steps)")
local live = mem.live()
local rss_mid, st_mid = mem.rss(), r.stats()

mem.sleep(1)
local rss_end, st_end = mem.rss(), r.stats()
t.note(string.format("rss: start %.1f, peak %.1f, after steps %.1f, after 1 s sleep %.1f MB; "
  .. "resident after steps %.1f, after sleep %.1f MB; live %.1f MB", rss0 / MiB, rss_peak / MiB,
  rss_mid / MiB, rss_end / MiB, st_mid.resident / MiB, st_end.resident / MiB, live / MiB))

-- Same bound and slack as rss_burst.lua (see there), plus the background thread's stack.
local SLACK = 2 * MiB + 32 * st_end.page_size + 256 * 1024
local limit = rss0 + 1.1 * live + 1 * MiB + SLACK
local emulator = mem.emulator()
if emulator then   -- RSS is the emulator's, whose code cache grows (see mem.emulator)
  t.skip("RSS bound: RSS belongs to the emulator " .. emulator .. ", not to the guest")
else
  t.le(rss_end, limit, "RSS fell while sleeping")
end
t.le(st_end.resident, st0.resident + 1.1 * live + 1 * MiB + SLACK,
     "stats().resident fell while sleeping")
if st_mid.resident > st0.resident + 1.1 * live + 1 * MiB + SLACK + 8 * MiB then
  -- Memory was still resident after the steps, so the drop during the sleep was the thread's.
  t.ok(st_end.purged_total > st_mid.purged_total, "the background thread purged during the sleep")
else
  t.note("the GC steps themselves already returned the memory (decay had passed)")
  t.ok(st_end.purged_total >= st_mid.purged_total, "purged_total never decreases")
end
t.eq(st_end.madvise_failed, 0, "no failed madvise")

-- Stop the thread again; the heap keeps working.
t.eq(r.config({ background = false }).background, false, "background off")
hold = mem.burst(8 * MiB)
t.ok(#hold > 0, "allocation after stopping the thread")

t.done()
