-- metrics.lua: reclaim.metrics() is Prometheus text (exposition format 0.0.4) with one
-- family per row of RCL_REGISTRY_FIGURES in runtime/reclaim/rcl_registry.h (metric name and
-- type from the table), each with HELP, TYPE and one sample labelled pid and heap; its
-- figures agree with reclaim.stats() and with collectgarbage("count").
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")
local r = require("reclaim")

-- The table the runtime was built from, where the source tree is at hand (the QEMU
-- matrix's guests carry tests/ only: there the families are checked against each other
-- and the figures, and this line says so).
local rows = {}
local hf = io.open(here .. "../../runtime/reclaim/rcl_registry.h")
if hf then
  local hdr = hf:read("*a")
  hf:close()
  for field, metric, mtype in hdr:gmatch('\n%s*X%((%w[%w_]*), "([%w_]+)", "(%a+)",') do
    rows[#rows + 1] = { field = field, metric = "luajit_reclaim_" .. metric, type = mtype }
  end
  t.ok(#rows >= 18, "rcl_registry.h lists the figures (" .. #rows .. ")")
else
  t.note("runtime/reclaim/rcl_registry.h not here: families not compared with the table")
end

-- Some garbage and some live data, so the figures are not trivial.
local keep = {}
for i = 1, 200000 do
  local v = { i, tostring(i) }
  if i % 50 == 0 then keep[#keep + 1] = v end
end

-- No GC step (so no purge or unmap) between the two stats() around the snapshot: the
-- heap only grows there, so the snapshot's mapped and segments lie between them.
collectgarbage("stop")
local st0 = r.stats()
local text = r.metrics()
local count_kb = collectgarbage("count")   -- before the parse below allocates
local st1 = r.stats()
collectgarbage("restart")
t.eq(type(text), "string", "metrics() returns a string")

-- Strict parse: every line is HELP, TYPE or a sample; one HELP and TYPE per family, before
-- its sample; names and labels in the exposition syntax.
local fams, order, bad = {}, {}, {}
local pid
for line in text:gmatch("([^\n]*)\n") do
  local kind, name, rest = line:match("^# (%u+) ([%a_:][%w_:]*) (.*)$")
  if kind == "HELP" or kind == "TYPE" then
    local f = fams[name]
    if not f then f = { samples = {} }; fams[name] = f; order[#order + 1] = name end
    if f[kind] or #f.samples > 0 then bad[#bad + 1] = "repeated or late " .. kind .. " " .. name end
    f[kind] = rest
  else
    local sname, labels, value = line:match('^([%a_:][%w_:]*){(.-)} (%d+)$')
    if not sname then
      bad[#bad + 1] = "not a sample line: " .. line
    else
      local p, h = labels:match('^pid="(%d+)",heap="(0x%x+)"$')
      if not p then bad[#bad + 1] = "labels: " .. labels end
      pid = pid or p
      if not fams[sname] then bad[#bad + 1] = "sample before HELP/TYPE: " .. sname
      else table.insert(fams[sname].samples, tonumber(value)) end
    end
  end
end
t.eq(table.concat(bad, "; "), "", "every line parses")
t.ok(text:sub(-1) == "\n", "text ends with a newline")

local missing = {}
for _, row in ipairs(rows) do
  local f = fams[row.metric]
  if not f or f.TYPE ~= row.type or not f.HELP or f.HELP == "" or #f.samples ~= 1 then
    missing[#missing + 1] = row.metric
  end
end
if #rows > 0 then
  t.eq(table.concat(missing, ", "), "", "one family per figure, with the table's type, HELP and one sample")
  t.eq(#order, #rows, "no other families")
end
local untyped = {}
for _, name in ipairs(order) do
  local f = fams[name]
  if not (f.TYPE == "gauge" or f.TYPE == "counter") or (f.TYPE == "counter") ~= (name:sub(-6) == "_total")
     or #f.samples ~= 1 then
    untyped[#untyped + 1] = name
  end
end
t.eq(table.concat(untyped, ", "), "", "every family a gauge or a counter (counters end in _total), one sample")
t.ok(#order >= 18, "at least the 18 figures of the registry (" .. #order .. ")")

-- The pid label is this process's.
local fh = io.open("/proc/self/stat")
if fh then
  -- /proc/self of the luajit process itself is read through io.open (no child).
  local mypid = fh:read("*a"):match("^(%d+)")
  fh:close()
  t.eq(pid, mypid, "pid label is the process id")
end

local function v(metric) return fams["luajit_reclaim_" .. metric].samples[1] end
t.ok(st0.mapped <= v("mapped_bytes") and v("mapped_bytes") <= st1.mapped,
     "mapped agrees with stats() around it: " .. st0.mapped .. " <= " .. v("mapped_bytes") .. " <= " .. st1.mapped)
t.ok(st0.segments <= v("segments") and v("segments") <= st1.segments, "segments agree with stats() around it")
t.le(v("in_use_bytes"), v("resident_bytes"), "in_use <= resident")
t.le(v("resident_bytes"), v("mapped_bytes"), "resident <= mapped")
t.le(v("floor_bytes"), v("resident_bytes"), "floor <= resident")
t.eq(v("mapped_bytes"), v("metadata_bytes") + v("in_use_bytes") + v("free_dirty_bytes") + v("free_clean_bytes"),
     "mapped = metadata + in_use + free_dirty + free_clean (one walk)")
-- LuaJIT's own count at the moment of the snapshot: within size-class rounding of in_use.
local gc = v("gc_allocated_bytes")
t.ok(gc > 0, "the GC's figure is there")
t.le(gc, v("in_use_bytes"), "gc_allocated <= in_use (blocks are rounded up)")
-- metrics() allocates its text after the snapshot: 64 KiB covers it.
t.le(math.abs(gc - count_kb * 1024), 64 * 1024, "gc_allocated is collectgarbage('count')")
t.le(v("in_use_bytes"), gc * 1.25 + 1024 * 1024, "in_use within the size-class rounding of gc_allocated")
t.ok(#keep == 4000, "kept data alive")
t.done()
