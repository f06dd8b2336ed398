-- rss_burst.lua: after a ~200 MB burst (40 MB with LUAJIT_TEST_SMALL=1) of strings and tables is
-- dropped and collected, RSS and stats().resident come back to the start plus the live heap.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")
local mem = require("mem")
local r = require("reclaim")

local MiB = mem.MiB
local BURST = (t.small() and 40 or 200) * MiB

-- Purge with MADV_DONTNEED (MADV_FREE pages stay in RSS until the kernel needs them) and let a
-- full collect purge everything, whatever the decay.
r.config({ mode = "dontneed", full_gc_purge = true, background = false })
mem.full_gc()
local rss0, st0 = mem.rss(), r.stats()
local page = st0.page_size

local hold = mem.burst(BURST)
local rss_peak, st_peak = mem.rss(), r.stats()
t.note(string.format("start rss %.1f MB, peak rss %.1f MB, %d objects", rss0 / MiB, rss_peak / MiB, #hold))
t.ok(rss_peak - rss0 >= 0.8 * BURST, "the burst is visible in RSS")
t.ok(st_peak.resident - st0.resident >= 0.8 * BURST, "the burst is visible in stats().resident")

hold = nil
collectgarbage("collect")
local live = mem.live()
local rss1, st1 = mem.rss(), r.stats()
t.note(string.format("after collect: rss %.1f MB, resident %.1f MB, live heap %.1f MB",
                     rss1 / MiB, st1.resident / MiB, live / MiB))

-- Allowed: start + 1.1 * live + 1 MiB, plus SLACK for memory outside what the allocator
-- returns: machine code of traces compiled during the burst (64 KiB mcode areas), file-backed
-- pages of the binary and libc touched for the first time, the allocator's segment headers
-- (one unit of each remaining segment; one emptied segment stays mapped as a reserve), and
-- live blocks scattered over pages, which costs up to a page per survivor.  2 MiB plus 32 OS
-- pages covers these at every page size we run on (4 KiB: 2.1 MiB, 64 KiB: 4 MiB).
local SLACK = 2 * MiB + 32 * page
local limit = rss0 + 1.1 * live + 1 * MiB + SLACK
-- Under a user-mode emulator RSS is the emulator's (see mem.emulator): its code cache grows
-- during the test, so the RSS bounds are checked natively and in system emulation only; the
-- allocator's own resident estimate is checked everywhere.
local emulator = mem.emulator()
if emulator then
  t.skip("RSS bounds: RSS belongs to the emulator " .. emulator .. ", not to the guest")
else
  t.le(rss1, limit, "RSS after collect <= start + 1.1*live + 1 MiB + slack")
end
t.le(st1.resident, st0.resident + 1.1 * live + 1 * MiB + SLACK,
     "stats().resident fell back to start + 1.1*live + 1 MiB + slack")
t.ok(st_peak.resident - st1.resident >= 0.8 * BURST, "stats().resident fell by the burst")
t.ok(st1.purged_total > st0.purged_total, "purged_total grew")
t.eq(st1.madvise_failed, 0, "no failed madvise")
t.eq(st1.munmap_failed, 0, "no failed munmap")

-- The heap is still fully usable: a second burst of the same size works and collects again.
hold = mem.burst(BURST)
local count = #hold
hold = nil
collectgarbage("collect")
t.ok(count > 0, "second burst allocated " .. count .. " objects")
if not emulator then
  t.le(mem.rss(), rss0 + 1.1 * mem.live() + 1 * MiB + SLACK, "RSS falls again after a second burst")
end
t.le(r.stats().resident, st0.resident + 1.1 * mem.live() + 1 * MiB + SLACK,
     "stats().resident falls again after a second burst")

t.done()
