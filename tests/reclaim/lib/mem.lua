-- mem.lua: process-memory probes and workload generators for the reclaim tests.
--
-- Invariants:
--  * Pure Lua (no FFI), so it works on fully static builds; reads Linux /proc only.
--  * Missing /proc data is an error, never a silent default: a test that cannot measure fails.
--  * Workloads are deterministic (Park-Miller LCG with a fixed seed) so runs are comparable.
local mem = {}

mem.MiB = 1024 * 1024

-- Resident set size of this process in bytes (VmRSS from /proc/self/status).
function mem.rss()
  local f = assert(io.open("/proc/self/status", "r"), "cannot open /proc/self/status")
  local text = f:read("*a")
  f:close()
  local kb = text:match("VmRSS:%s*(%d+)%s*kB")
  assert(kb, "no VmRSS line in /proc/self/status")
  return tonumber(kb) * 1024
end

-- Name of the user-mode emulator this process runs under, or nil when it runs natively.
-- qemu-user emulates /proc/self/stat, maps and auxv for the guest but passes /proc/self/status
-- through, so its Name line (and VmRSS) describe the emulator process: the guest heap plus
-- qemu's own translation cache and heap, which grow while the test runs.
function mem.emulator()
  local f = assert(io.open("/proc/self/status", "r"), "cannot open /proc/self/status")
  local name = f:read("*l"):match("^Name:%s*(%S+)")
  f:close()
  if name and name:find("^qemu%-") then return name end
  return nil
end

-- The OS page size from the ELF auxiliary vector (AT_PAGESZ = 6): what the kernel told this
-- process, independent of libc and of the allocator.  64-bit little-endian entries (x64, arm64).
function mem.auxv_page_size()
  local f = assert(io.open("/proc/self/auxv", "rb"), "cannot open /proc/self/auxv")
  local data = f:read("*a")
  f:close()
  local function u64(pos)
    local v = 0
    for i = 7, 0, -1 do v = v * 256 + data:byte(pos + i) end
    return v
  end
  for pos = 1, #data - 15, 16 do
    local key = u64(pos)
    if key == 0 then break end
    if key == 6 then return u64(pos + 8) end
  end
  error("no AT_PAGESZ in /proc/self/auxv")
end

-- `getconf PAGESIZE` if a getconf is on PATH, else nil.
function mem.getconf_page_size()
  local pipe = io.popen("command -v getconf >/dev/null 2>&1 && getconf PAGESIZE 2>/dev/null")
  local out = pipe:read("*a")
  pipe:close()
  return tonumber(out:match("^%s*(%d+)%s*$"))
end

-- Sleeps in wall-clock time without burning CPU (os.clock busy-waits would not let an idle
-- process be idle).  `sleep` is a shell builtin or busybox applet everywhere we run.
function mem.sleep(seconds)
  os.execute("sleep " .. seconds)
end

-- Deterministic pseudo-random numbers in [1, 2^31-2].
function mem.lcg(seed)
  local state = seed or 42
  return function()
    state = (state * 16807) % 2147483647
    return state
  end
end

-- Heap bytes as the GC counts them.
function mem.live()
  return collectgarbage("count") * 1024
end

function mem.full_gc()
  collectgarbage("collect")
  collectgarbage("collect")
end

-- A unique string of exactly `size` bytes (size >= 12) whose content depends on `n`.
function mem.unique_string(n, size)
  local tag = string.format("%011d|", n)
  return tag .. string.rep(string.char(97 + n % 26), size - #tag)
end

function mem.string_ok(s, n, size)
  return #s == size and s == mem.unique_string(n, size)
end

-- Allocates about `bytes` of GC heap as a mix of strings (16 B .. 4 KiB, and every 400th a
-- large one of 64 KiB .. 1 MiB) and small tables, all referenced from the returned array.
function mem.burst(bytes)
  local rand = mem.lcg(12345)
  local hold = {}
  local start = mem.live()
  local n = 0
  while mem.live() - start < bytes do
    for _ = 1, 256 do
      n = n + 1
      local r = rand()
      if n % 400 == 0 then
        hold[n] = mem.unique_string(n, 65536 + r % (1024 * 1024 - 65536))
      elseif n % 3 == 0 then
        hold[n] = { n, n + 1, tag = tostring(n), [r % 64 + 10] = true }
      else
        hold[n] = mem.unique_string(n, 16 + r % 4080)
      end
    end
  end
  return hold
end

return mem
