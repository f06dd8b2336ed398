-- burst.lua: the reclaim burst test check-images runs inside every image (as
-- the user luajit): about 200 MB of 1 KB strings are allocated, all but one
-- in 100 dropped (one survivor per ~100 KB, so nearly every span of the
-- allocator keeps one and only page-level purging gives memory back), and
-- after a full collection the process's memory must have fallen back.
-- (1 KB strings: 200000 allocations take 6 s under qemu-user, 2 million
-- 80-byte ones 40 s.)
--
--   luajit burst.lua        exit 0 and "ok:" lines, or an error naming the check
--
-- What is checked: VmRSS (/proc/self/status) falls back by at least half of
-- what the burst added, and so does require("reclaim").stats().resident (the
-- allocator's own count). arm64 runs under qemu-user here (binfmt); madvise
-- and munmap reach the kernel there too, and VmRSS falls as natively. Only if
-- the process names itself qemu-* (an emulator started by hand) is VmRSS the
-- emulator's own bookkeeping: then it is printed and stats() alone asserted.
local reclaim = require("reclaim")

local function status()
  local f = assert(io.open("/proc/self/status"), "cannot open /proc/self/status")
  local text = f:read("*a")
  f:close()
  local rss = tonumber(text:match("VmRSS:%s*(%d+) kB"))
  assert(rss, "no VmRSS in /proc/self/status")
  return rss, text:match("^Name:%s*(%S+)")
end

local function resident_kb() return reclaim.stats().resident / 1024 end

collectgarbage("collect")
local rss0, name = status()
local res0 = resident_kb()
local emulated = name:find("^qemu%-") ~= nil

local t, pad = {}, string.rep("x", 1000)
for i = 1, 200000 do t[i] = pad .. i end            -- ~200 MB of strings
local rss1, res1 = status(), resident_kb()
local keep = {}
for i = 100, #t, 100 do keep[#keep + 1] = t[i] end
t = nil
collectgarbage("collect")
local rss2, res2 = status(), resident_kb()

print(string.format("reclaim %s page_size %d: VmRSS %d -> %d -> %d kB, stats().resident %d -> %d -> %d kB, kept %d strings%s",
  reclaim.version, reclaim.stats().page_size, rss0, rss1, rss2, res0, res1, res2, #keep,
  emulated and " (VmRSS is " .. name .. "'s)" or ""))

local function fell(what, before, peak, after)
  assert(peak - before > 100 * 1024, what .. " grew by only " .. (peak - before) .. " kB in the burst")
  assert(after - before < (peak - before) / 2,
    what .. " did not fall back: " .. before .. " -> " .. peak .. " -> " .. after .. " kB")
  print("ok: " .. what .. " fell back after the burst (" .. peak .. " -> " .. after .. " kB)")
end
fell("stats().resident", res0, res1, res2)
if emulated then
  print("note: VmRSS not asserted under " .. name)
else
  fell("VmRSS", rss0, rss1, rss2)
end
