-- mesh_probe.lua: meshing under valgrind memcheck, run by check-valgrind.sh with the
-- RCL_VALGRIND build and LUAJIT_RECLAIM=mesh=on (as root: it reads physical page numbers).
--
--   luajit mesh_probe.lua live|freed OBJECTS
--
-- OBJECTS tables of one size class, one in 24 kept (scattered survivors), two full collections
-- and reclaim.purge() mesh their pages. Then every other survivor is dropped and one more full
-- collection frees them (pages that keep a survivor stay meshed). GC is stopped and no table is
-- made from there on, so no freed block is handed out again before it is read. A survivor's
-- page is meshed when /proc/self/pagemap gives its virtual page the physical page of another
-- survivor's virtual page.
--   live   reads each kept survivor's fields (Lua) and the first word of its block (ffi):
--          memcheck must report no error (meshed copies keep their blocks defined)
--   freed  reads the first word of each dropped survivor whose page is meshed (ffi): memcheck
--          must report one invalid read per read (a free through a meshed page is seen)
-- Prints key=value lines: mesh_pages (reclaim.stats() before the drop), meshed_pages (virtual
-- pages found sharing a physical page after it), intact (live mode: kept survivors whose fields
-- read back), reads (blocks read through ffi), checksum (of the words read: keeps the reads).
-- Exits non-zero, naming the reason, when nothing meshed or the page numbers are unreadable.
local ffi = require("ffi")
local r = require("reclaim")
local MODE, OBJECTS = arg[1], tonumber(arg[2])
assert((MODE == "live" or MODE == "freed") and OBJECTS, "usage: mesh_probe.lua live|freed OBJECTS")
ffi.cdef[[ long sysconf(int name); ]]
local PAGE = tonumber(ffi.C.sysconf(30))  -- _SC_PAGESIZE on Linux
local word = ffi.typeof("const volatile uint32_t *")

local function address(o) return tonumber(tostring(o):match("0x(%x+)"), 16) end

-- Every table the probe fills after the drop is made here, at its final size.
local tnew = require("table.new")
local n_keep = math.floor(OBJECTS / 24) + 1
local keep, addr, drop, page_of = {}, {}, {}, {}
for i = 1, n_keep do addr[i] = 0; drop[i] = false; page_of[i] = 0 end
-- first[p]: the first virtual page seen on physical page p; shared[p]: a second one was seen.
local first, shared, seen = tnew(0, n_keep), tnew(0, n_keep), tnew(0, n_keep)
do
  local hold = {}
  for n = 1, OBJECTS do
    local o = { n, n * 3, "k" }
    hold[n] = o
    if n % 24 == 7 then keep[#keep + 1] = o end
  end
end
collectgarbage("collect")
collectgarbage("collect")
r.purge()
local mesh_pages = r.stats().mesh_pages
print("mesh_pages=" .. mesh_pages)
if mesh_pages == 0 then io.stderr:write("mesh_probe: nothing meshed (is LUAJIT_RECLAIM=mesh=on set?)\n") os.exit(2) end

for i, o in ipairs(keep) do addr[i] = address(o) end
for i = 2, #keep, 2 do keep[i] = false; drop[i] = true end
collectgarbage("collect")
collectgarbage("stop")

-- The physical page number of the page holding a (0 if absent: not resident or not root).
local pagemap = assert(io.open("/proc/self/pagemap", "rb"))
local function pfn(a)
  local vpn = math.floor(a / PAGE)
  pagemap:seek("set", vpn * 8)
  local b1, b2, b3, b4, b5, b6, b7, b8 = pagemap:read(8):byte(1, 8)
  if b8 < 128 then return 0 end                     -- bit 63: present
  return b1 + b2 * 2^8 + b3 * 2^16 + b4 * 2^24 + b5 * 2^32 + b6 * 2^40 + (b7 % 128) * 2^48
end
local frames = 0
for i = 1, #keep do
  local v, p = math.floor(addr[i] / PAGE), pfn(addr[i])
  page_of[i] = p
  if p ~= 0 then
    frames = frames + 1
    if not first[p] then first[p] = v elseif first[p] ~= v then shared[p] = true end
  end
end
pagemap:close()
if frames == 0 then
  io.stderr:write("mesh_probe: /proc/self/pagemap gives no page numbers (needs root)\n")
  os.exit(3)
end
local meshed = 0
for i = 1, #keep do
  local p, v = page_of[i], math.floor(addr[i] / PAGE)
  if shared[p] and not seen[v] then seen[v] = true; meshed = meshed + 1 end
end
print("meshed_pages=" .. meshed)

local reads, sum, intact = 0, 0, 0
for i = 1, #keep do
  if MODE == "live" and not drop[i] then
    local o, n = keep[i], (i - 1) * 24 + 7
    if o[1] == n and o[2] == n * 3 and o[3] == "k" then intact = intact + 1 end
    sum = (sum + ffi.cast(word, addr[i])[0]) % 2^32
    reads = reads + 1
  elseif MODE == "freed" and drop[i] and shared[page_of[i]] then
    sum = (sum + ffi.cast(word, addr[i])[0]) % 2^32
    reads = reads + 1
  end
end
print("intact=" .. intact)
print("reads=" .. reads)
print("checksum=" .. sum)
