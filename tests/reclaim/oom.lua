-- oom.lua: out of memory is an ordinary, recoverable error.  The test starts itself again as a
-- child under `ulimit -v 300000` (about 293 MiB of address space); the child allocates until
-- pcall catches "not enough memory", drops everything, collects, allocates again and prints ok.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")
local mem = require("mem")

local MiB = mem.MiB
local LIMIT_KB = 300000

local function child()
  local r = require("reclaim")
  local hold, n = {}, 0
  local ok, err = pcall(function()
    while true do
      n = n + 1
      if n % 2 == 0 then
        hold[n] = mem.unique_string(n, 512 * 1024 + n % 4096)   -- spans / large blocks
      else
        local tab = {}
        for i = 1, 4096 do tab[i] = mem.unique_string(n * 4096 + i, 64) end  -- small blocks
        hold[n] = tab
      end
    end
  end)
  -- Nothing may allocate before the data is dropped: the heap is at the limit right now.
  local reached = mem.live()
  hold = nil
  local collected, gc_err = pcall(collectgarbage, "collect")
  if not collected then
    print("FAIL the full GC after dropping everything raised: " .. tostring(gc_err))
    os.exit(1)
  end
  collectgarbage("collect")
  local after = mem.live()
  print(string.format("caught after %.0f MB: %s", reached / MiB, tostring(err)))
  if ok or not tostring(err):find("not enough memory", 1, true) then
    print("FAIL expected 'not enough memory'")
    os.exit(1)
  end
  local st = r.stats()
  print(string.format("mmap_failed=%d mmap_failed+mremap_failed=%d", st.mmap_failed,
                      st.mmap_failed + (st.mremap_failed or 0)))

  -- Allocate again: 60% of what fitted before, and verify it.
  local again, m = {}, 0
  local ok2, err2 = pcall(function()
    while mem.live() - after < 0.6 * (reached - after) do
      m = m + 1
      again[m] = mem.unique_string(m, 256 * 1024)
    end
  end)
  if not ok2 then
    print("FAIL allocating again after OOM: " .. tostring(err2))
    os.exit(1)
  end
  for i = 1, m do
    if not mem.string_ok(again[i], i, 256 * 1024) then
      print("FAIL string " .. i .. " corrupted after OOM recovery")
      os.exit(1)
    end
  end
  print(string.format("ok reallocated %.0f MB after OOM at %.0f MB", m * 0.25, reached / MiB))
  os.exit(0)
end

if arg[1] == "child" then child() end

local emulator = mem.emulator()
if emulator then
  -- Under qemu-user, `ulimit -v` limits the emulator's own mappings (its code cache and guest
  -- space), not the guest's heap: the emulator thrashes instead of the guest seeing ENOMEM. The
  -- real arm64 kernels of the QEMU matrix and native x86_64 run this test for real.
  t.skip("out-of-memory child: ulimit -v applies to the emulator " .. emulator)
  t.ok(true, "skipped under an emulator, run on real kernels")
  t.done()
end

-- A hung child must not hang the suite: `timeout` (coreutils or busybox) bounds it.
local guard = os.execute("command -v timeout >/dev/null 2>&1") == 0 and "timeout 300 " or ""
local cmd = "ulimit -v " .. LIMIT_KB .. " && exec " .. guard .. t.interpreter() .. " "
  .. t.mode_flags() .. " " .. t.shquote(arg[0]) .. " child"
local out, status = t.run("sh -c " .. t.shquote(cmd))
for line in out:gmatch("[^\n]+") do t.note("child: " .. line) end
t.eq(status, 0, "child exit status")
t.ok(out:find("not enough memory", 1, true), "child hit 'not enough memory'")
local reached = tonumber(out:match("caught after (%d+) MB"))
t.ok(reached and reached <= LIMIT_KB / 1024,
     "the heap stayed within the limit (" .. tostring(reached) .. " MB)")
t.ok(reached and reached >= 100, "the OOM came from the limit, not from an early failure")
local failed_maps = tonumber(out:match("mmap_failed%+mremap_failed=(%d+)"))
t.ok(failed_maps and failed_maps > 0, "the allocator counted the refused mappings")
t.ok(out:find("\nok reallocated") or out:find("^ok reallocated"), "child allocated again and said ok")
t.ok(not out:find("\nFAIL") and not out:find("^FAIL"), "child reported no failure")

t.done()
