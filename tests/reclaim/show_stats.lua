-- show_stats.lua: with the show_stats option on (LUAJIT_RECLAIM=show_stats=on, or
-- reclaim.config{show_stats = true}), closing a state prints one block of allocator statistics to
-- stderr, every line prefixed "luajit-reclaim:": peak mapped, mapped, resident and in use at close,
-- purged bytes and calls, segments, failures and the options in force (with mesh on, a line of
-- meshing figures after them). Off (the default), nothing is printed. Each child's stdout, stderr
-- and exit status are checked.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")

local MiB = 1024 * 1024
local DEFAULT_OPTIONS = "decay=1000,mode=dontneed,soft_limit=0,background=off,"
  .. "background_interval=250,step_budget=1048576,full_gc_purge=on"

-- A 24 MiB string (a large block of its own mapping) and 8 MiB of small tables, then freed and
-- collected: the peak is well above what is mapped at close, and the full GC purged.
local WORKLOAD = "local s = string.rep('x', 24 * 1024 * 1024) "
  .. "local t = {} for i = 1, 100000 do t[i] = { i, i } end "
  .. "s, t = nil, nil collectgarbage() collectgarbage() print('done')"

-- Runs the interpreter with `env` (shell assignments, "" for none; LUAJIT_RECLAIM is unset first)
-- and `flags` on script; returns stdout, stderr and the exit status.
local function run(env, flags, script)
  local errfile = os.tmpname()
  local out, status = t.run("unset LUAJIT_RECLAIM; " .. env .. " " .. t.interpreter() .. " "
                            .. flags .. " -e " .. t.shquote(script) .. " 2>" .. t.shquote(errfile))
  local f = assert(io.open(errfile, "rb"))
  local err = f:read("*a")
  f:close()
  os.remove(errfile)
  return out, err, status
end

-- Parses one statistics block; returns a table of its figures, or nil and why.
local function parse_block(err)
  local lines = {}
  for line in err:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  if #lines ~= 9 then return nil, #lines .. " lines, want 9" end
  for i, line in ipairs(lines) do
    if line:sub(1, 16) ~= "luajit-reclaim: " then return nil, "line " .. i .. " lacks the prefix" end
  end
  local f = {}
  f.pid = tonumber(lines[1]:match("^luajit%-reclaim: allocator statistics at state close %(pid (%d+), heap 0x%x+%)$"))
  local function bytes(i, name)
    local n, mib = lines[i]:match("^luajit%-reclaim:   " .. name .. " (%d+) bytes %((%d+%.%d) MiB%)$")
    return tonumber(n), tonumber(mib)
  end
  local mib
  f.peak, mib = bytes(2, "peak mapped")
  f.peak_mib = mib
  f.mapped = bytes(3, "mapped")
  f.resident = bytes(4, "resident")
  f.in_use = bytes(5, "in use")
  local purged, calls = lines[6]:match("^luajit%-reclaim:   purged (%d+) bytes %(%d+%.%d MiB%) in (%d+) calls$")
  f.purged, f.calls = tonumber(purged), tonumber(calls)
  local segs, large = lines[7]:match("^luajit%-reclaim:   segments (%d+), large blocks (%d+)$")
  f.segments, f.large = tonumber(segs), tonumber(large)
  local a, b, c, d, e = lines[8]:match("^luajit%-reclaim:   failures: madvise (%d+), mmap (%d+), "
                                       .. "munmap (%d+), mremap (%d+), high mappings rejected (%d+)$")
  f.failures = a and (tonumber(a) + tonumber(b) + tonumber(c) + tonumber(d) + tonumber(e))
  f.options = lines[9]:match("^luajit%-reclaim:   options: (.*)$")
  for _, k in ipairs({ "pid", "peak", "mapped", "resident", "in_use", "purged", "calls", "segments",
                       "large", "failures", "options" }) do
    if f[k] == nil then return nil, "field " .. k .. " not found in: " .. err end
  end
  return f
end

-- On from the environment: one block with consistent figures and the options in force.
local out, err, status = run("LUAJIT_RECLAIM=show_stats=on", "", WORKLOAD)
t.eq(status, 0, "show_stats=on: exit status")
t.eq(out, "done\n", "show_stats=on: stdout untouched")
local f, why = parse_block(err)
t.ok(f, "show_stats=on: one block of 9 prefixed lines (" .. tostring(why) .. ")")
if f then
  t.ok(f.pid > 0, "the block names the pid")
  t.ok(f.peak >= 24 * MiB, "peak mapped covers the 24 MiB string: " .. f.peak)
  t.le(f.mapped, f.peak, "mapped at close <= peak mapped")
  t.ok(f.mapped < f.peak - 16 * MiB, "the string's mapping is gone at close: mapped " .. f.mapped)
  t.le(f.resident, f.mapped, "resident <= mapped")
  t.le(f.in_use, f.resident, "in use <= resident")
  t.ok(f.purged > 0 and f.calls > 0, "the full GCs purged: " .. f.purged .. " bytes in " .. f.calls .. " calls")
  t.ok(f.segments >= 1, "segments counted: " .. f.segments)
  t.eq(f.large, 0, "no large block left at close")
  t.eq(f.failures, 0, "no failed syscalls")
  t.eq(f.options, DEFAULT_OPTIONS .. ",show_stats=on,mesh=off", "the options line lists every option in force")
end

-- Spellings and other options show in the options line (the same syntax as LUAJIT_RECLAIM).
out, err, status = run("LUAJIT_RECLAIM='show_stats=YES,decay=7,mode=free,soft_limit=64m'", "", "print(1)")
t.eq(status, 0, "show_stats=YES: exit status")
f, why = parse_block(err)
t.ok(f, "show_stats=YES: one block (" .. tostring(why) .. ")")
if f then
  t.eq(f.options, "decay=7,mode=free,soft_limit=67108864,background=off,background_interval=250,"
       .. "step_budget=1048576,full_gc_purge=on,show_stats=on,mesh=off", "options line with decay, mode and soft_limit")
end

-- Off, unset, or switched on and then off at run time: nothing on stderr.
for _, env in ipairs({ "", "LUAJIT_RECLAIM=show_stats=off", "LUAJIT_RECLAIM=decay=5" }) do
  out, err, status = run(env, "", WORKLOAD)
  t.eq(status, 0, "'" .. env .. "': exit status")
  t.eq(out, "done\n", "'" .. env .. "': stdout")
  t.eq(err, "", "'" .. env .. "': nothing on stderr")
end
out, err = run("LUAJIT_RECLAIM=show_stats=on", "", "require('reclaim').config{ show_stats = false }")
t.eq(err, "", "config{show_stats = false} at run time: nothing printed")

-- On at run time through reclaim.config{}.
out, err, status = run("", "", "require('reclaim').config{ show_stats = 'on' } print('x')")
t.eq(status, 0, "config{show_stats='on'}: exit status")
t.eq(out, "x\n", "config{show_stats='on'}: stdout")
f, why = parse_block(err)
t.ok(f, "config{show_stats='on'}: one block (" .. tostring(why) .. ")")

-- With mesh on, a tenth line reports the meshing after the options line.
out, err, status = run("LUAJIT_RECLAIM=show_stats=on,mesh=on", "", WORKLOAD)
t.eq(status, 0, "mesh=on: exit status")
do
  local lines = {}
  for line in err:gmatch("([^\n]*)\n") do lines[#lines + 1] = line end
  t.eq(#lines, 10, "mesh=on: ten lines")
  t.ok((lines[9] or ""):match(",mesh=on$"), "mesh=on: the options line says so: " .. tostring(lines[9]))
  t.ok((lines[10] or ""):match("^luajit%-reclaim:   meshing: %d+ secondary pages, %d+ mappings added, "
                               .. "%d+ pages released in all, [1-9]%d* passes, longest step %d+%.%d+ ms$"),
       "mesh=on: the meshing line, with the full GCs' passes: " .. tostring(lines[10]))
end

-- luajit -E ignores LUAJIT_RECLAIM, show_stats included.
out, err, status = run("LUAJIT_RECLAIM=show_stats=on", "-E", "print('e')")
t.eq(status, 0, "-E: exit status")
t.eq(out, "e\n", "-E: stdout")
t.eq(err, "", "-E: show_stats from the environment is ignored")

t.done()
