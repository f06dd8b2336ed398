-- api.lua: the require("reclaim") API as specified: stats() fields and their consistency, the
-- run-time page size (against the kernel's auxv, and getconf when one is on PATH), purge(), and
-- config() reading, round trips, and errors that name the bad key or value.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")
local mem = require("mem")
local r = require("reclaim")

local MiB = mem.MiB
local STAT_FIELDS = {
  "page_size", "mapped", "resident", "in_use", "free_dirty", "free_clean", "purged_total",
  "purge_calls", "floor", "fragmentation", "segments", "large_blocks", "madvise_failed",
  "mmap_failed", "munmap_failed", "mesh_pages", "mesh_mappings", "mesh_released", "mesh_passes",
  "mesh_max_pause_ns",
}
local CONFIG_TYPES = {
  decay = "number", mode = "string", soft_limit = "number", background = "boolean",
  background_interval = "number", step_budget = "number", full_gc_purge = "boolean",
  show_stats = "boolean", mesh = "boolean",
}

t.eq(type(r.version), "string", "reclaim.version")
t.eq(type(r.stats), "function", "reclaim.stats")
t.eq(type(r.purge), "function", "reclaim.purge")
t.eq(type(r.config), "function", "reclaim.config")

-- Field presence, types, ranges and the relations the definitions imply.
local function check_stats(st, when)
  local missing = {}
  for _, name in ipairs(STAT_FIELDS) do
    local v = st[name]
    if type(v) ~= "number" or v ~= v or v < 0 or v == math.huge then
      missing[#missing + 1] = name .. "=" .. tostring(v)
    elseif name ~= "fragmentation" and v ~= math.floor(v) then
      missing[#missing + 1] = name .. " not integral: " .. v
    end
  end
  t.eq(table.concat(missing, ", "), "", "every stats field is a number >= 0 " .. when)
  if #missing > 0 then return end
  t.le(st.in_use + st.free_dirty, st.resident, "in_use + free_dirty <= resident " .. when)
  t.le(st.resident, st.mapped, "resident <= mapped " .. when)
  t.le(st.free_clean, st.mapped, "free_clean <= mapped " .. when)
  t.le(st.in_use, st.floor, "in_use <= floor (live blocks lie in counted pages) " .. when)
  t.ok(st.fragmentation >= 0 and st.fragmentation <= 1, "fragmentation in [0,1] " .. when)
  if st.resident > 0 then
    t.ok(math.abs(st.fragmentation - (1 - st.in_use / st.resident)) < 1e-6,
         "fragmentation = 1 - in_use/resident " .. when)
  end
  t.ok(st.segments + st.large_blocks > 0, "something is mapped " .. when)
  t.eq(st.madvise_failed, 0, "no failed madvise " .. when)
  t.eq(st.mmap_failed, 0, "no failed mmap " .. when)
  t.eq(st.munmap_failed, 0, "no failed munmap " .. when)
end

local st0 = r.stats()
check_stats(st0, "at start")

-- Page size: a power of two in [4 KiB, 64 KiB], the kernel's AT_PAGESZ, and getconf's answer.
local ps = st0.page_size
local pow2 = ps >= 1 and math.floor(ps) == ps
local p = ps
while pow2 and p > 1 do
  if p % 2 ~= 0 then pow2 = false end
  p = p / 2
end
t.ok(pow2 and ps >= 4096 and ps <= 65536, "page_size is a power of two in [4096, 65536]: " .. ps)
-- Under the page-size simulator (tests/tools/pagesim) the kernel's auxv still says 4096: the
-- harness then states the emulated size in LUAJIT_TEST_PAGESIZE, which must win.
local want_ps = tonumber(os.getenv("LUAJIT_TEST_PAGESIZE") or "")
if want_ps then
  t.eq(ps, want_ps, "page_size equals LUAJIT_TEST_PAGESIZE (emulated page size)")
else
  t.eq(ps, mem.auxv_page_size(), "page_size equals AT_PAGESZ from /proc/self/auxv")
end
local getconf = mem.getconf_page_size()
if getconf then
  t.eq(ps, getconf, "page_size equals getconf PAGESIZE")
else
  t.note("no getconf on PATH: page_size checked against AT_PAGESZ only")
end

-- Stats follow allocation.
local live = {}
for i = 1, 2000 do live[i] = mem.unique_string(i, 10000) end   -- ~20 MB
local st1 = r.stats()
check_stats(st1, "with 20 MB live")
t.ok(st1.in_use >= st0.in_use + 19 * MiB, "in_use grew by the live data")
t.ok(st1.mapped >= st0.mapped + 19 * MiB, "mapped grew")
live = nil
mem.full_gc()
local st2 = r.stats()
check_stats(st2, "after dropping it")
t.ok(st2.in_use <= st1.in_use - 19 * MiB, "in_use fell after collect")

-- purge(): with full_gc_purge off and a long decay, a collect leaves the freed memory dirty;
-- purge() returns it regardless of decay.  One string in 64 survives, so no 4 MiB segment of
-- the burst becomes entirely free (a free segment may be unmapped at once, whatever the decay),
-- while the runs between survivors (640 KB) still span whole pages at 64 KiB page size too.
local saved = r.config()
r.config({ full_gc_purge = false, decay = 600000, background = false, mode = "dontneed" })
live = {}
for i = 1, 2000 do live[i] = mem.unique_string(i + 5000, 10000) end
local survivors = {}
for i = 64, 2000, 64 do survivors[i] = live[i] end
live = nil
mem.full_gc()
local before = r.stats()
t.ok(before.free_dirty >= 10 * MiB, "freed memory stays dirty without full_gc_purge ("
     .. before.free_dirty .. " bytes)")
local released = r.purge()
local after = r.stats()
t.eq(type(released), "number", "purge() returns a number")
t.ok(released >= 0 and released == math.floor(released), "purge() result is a byte count >= 0")
t.ok(released >= 10 * MiB, "purge() released the freed burst (" .. released .. " bytes)")
t.le(after.free_dirty, before.free_dirty - 10 * MiB, "free_dirty fell by the purge")
t.ok(after.purged_total - before.purged_total >= released, "purged_total counts the purge")
t.ok(after.purge_calls > before.purge_calls, "purge_calls counts the purge")
t.le(after.resident, before.resident - 10 * MiB, "resident fell by the purge")
local again = r.purge()
t.ok(again >= 0 and again < released, "a second purge finds little left (" .. again .. ")")
check_stats(after, "after purge()")
local intact = 0
for i, s in pairs(survivors) do
  if mem.string_ok(s, i + 5000, 10000) then intact = intact + 1 end
end
t.eq(intact, 31, "strings next to the purged memory are intact")

-- config(): every key with its type; round trips; errors.
r.config(saved)
local cfg = r.config()
for key, ty in pairs(CONFIG_TYPES) do
  t.eq(type(cfg[key]), ty, "config()." .. key .. " is a " .. ty)
end
t.ok(cfg.mode == "dontneed" or cfg.mode == "free" or cfg.mode == "off", "config().mode value")

local returned = r.config({ decay = 250 })
t.eq(returned.decay, 250, "config{decay=250} returns the new table")
t.eq(r.config().decay, 250, "decay round trip")
for key, value in pairs(cfg) do
  if key ~= "decay" then t.eq(returned[key], value, "config{decay} leaves " .. key .. " alone") end
end

local trips = {
  { mode = "free" }, { mode = "off" }, { mode = "dontneed" },
  { soft_limit = 123456789 }, { soft_limit = 0 },
  { background = true }, { background_interval = 20 }, { background = false },
  { step_budget = 65536 }, { full_gc_purge = false }, { full_gc_purge = true },
  { decay = 0 }, { decay = 1000, mode = "dontneed" },
  { show_stats = true }, { show_stats = false }, { mesh = true }, { mesh = false },
}
for _, set in ipairs(trips) do
  local okset, res = pcall(r.config, set)
  for key, value in pairs(set) do
    t.ok(okset and res[key] == value and r.config()[key] == value,
         "config round trip " .. key .. "=" .. tostring(value) .. (okset and "" or (": " .. tostring(res))))
  end
end

-- One vocabulary, any letter case: strings set booleans (read back as Lua booleans), mode words
-- and auto in any case, sizes with k/m/g suffixes in either case.
local spellings = {
  { "background", "ON", true }, { "background", "off", false }, { "background", "Yes", true },
  { "background", "0", false }, { "full_gc_purge", "FALSE", false }, { "full_gc_purge", "1", true },
  { "show_stats", "True", true }, { "show_stats", "no", false },
  { "mode", "FREE", "free" }, { "mode", "DontNeed", "dontneed" },
  { "soft_limit", "AUTO", "auto" }, { "soft_limit", "64M", 64 * MiB }, { "soft_limit", "0", 0 },
  { "step_budget", "512k", 512 * 1024 }, { "step_budget", "1G", 1024 * MiB },
  { "step_budget", "1m", MiB },
}
for _, s in ipairs(spellings) do
  local key, text, want = s[1], s[2], s[3]
  local okset, res = pcall(r.config, { [key] = text })
  t.ok(okset and res[key] == want and r.config()[key] == want,
       "config{" .. key .. "='" .. text .. "'} reads back " .. tostring(want)
       .. (okset and (" (got " .. tostring(res[key]) .. ")") or (": " .. tostring(res))))
end
r.config({ background = false, mode = "dontneed", soft_limit = 0, full_gc_purge = true,
           step_budget = MiB, show_stats = false })
t.raises(function() r.config({ show_stats = "maybe" }) end,
         "expected on, off, true, false, yes, no, 1 or 0", "a bad boolean lists the vocabulary")

local snapshot = r.config()
local function unchanged(what)
  local now = r.config()
  for key, value in pairs(snapshot) do
    t.eq(now[key], value, what .. " leaves " .. key .. " unchanged")
  end
end
t.raises(function() r.config({ nosuch = 1 }) end, "nosuch", "unknown key is an error naming it")
unchanged("config{nosuch=1}")
t.raises(function() r.config({ decay = "abc" }) end, "decay", "non-numeric decay names decay")
unchanged("config{decay='abc'}")
t.raises(function() r.config({ decay = -3 }) end, "decay", "negative decay names decay")
local bad_mode = t.raises(function() r.config({ mode = "sideways" }) end, nil, "bad mode raises")
t.ok(bad_mode and (bad_mode:find("mode", 1, true) or bad_mode:find("sideways", 1, true)),
     "bad mode error names the key or the value: " .. tostring(bad_mode))
t.raises(function() r.config({ background = "maybe" }) end, "background", "bad boolean names background")
t.raises(function() r.config({ decay = 5, nosuch = 1 }) end, "nosuch", "mixed good and bad keys")
unchanged("a rejected config call with a good key")

r.config(saved)
check_stats(r.stats(), "at the end")
t.done()
