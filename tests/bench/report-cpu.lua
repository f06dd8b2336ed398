-- CPU benchmark report: turns the timings collected by tests/bench/run-cpu.sh into a
-- markdown table (stock vs ours) and checks the throughput targets.
--
-- Usage: luajit report-cpu.lua TIMINGS STATS PROBLEMS HAVE_OURS PAIRS [RESULTS_DIR [OURS_RECLAIM]]
--   TIMINGS lines: name=.. pair=.. build=stock|ours position=first|second user=.. sys=..
--                  cpu=.. wall=.. maxrss_kb=.. status=..
--   STATS lines:   name=.. purge_calls=.. purged_total=.. ... (or "name=.. unavailable")
--   PROBLEMS:      free text, one problem per line (failed runs, output mismatches)
--   RESULTS_DIR:   optional; the per-benchmark figures are also written, tab separated with
--                  one header line, to RESULTS_DIR/cpu.tsv (benchmark pairs stock_cpu_s
--                  ours_cpu_s ratio_median ratio_min ratio_max purge_calls pages_purged;
--                  "-" where unknown), which tests/bench/report/render.lua turns into the docs
--   OURS_RECLAIM:  the LUAJIT_RECLAIM value ours ran with (run-cpu.sh's BENCH_OURS_RECLAIM),
--                  empty for the defaults; a non-empty value is named in the heading and in
--                  every "ours" column header, and RESULTS_DIR is then refused
-- Invariants:
--  * A pair's ratio is stock CPU time / ours CPU time (user+sys from wait4), so > 1 means
--    ours is faster; only pairs where both runs succeeded count. Per benchmark the median
--    ratio is used, and the geometric mean is taken over those medians.
--  * Targets (every median >= 0.98, geomean >= 1.05, issue 16) are printed as PASS/MISS lines only.

local timings_path, stats_path, problems_path, have_ours, pairs_wanted =
  arg[1], arg[2], arg[3], arg[4] == "1", tonumber(arg[5])
local results_dir = arg[6] ~= "" and arg[6] or nil
local ours_reclaim = arg[7] ~= "" and arg[7] or nil
assert(timings_path and stats_path and problems_path and pairs_wanted,
       "usage: report-cpu.lua TIMINGS STATS PROBLEMS HAVE_OURS PAIRS")
assert(not (ours_reclaim and results_dir),
       "report-cpu.lua: figures of ours with LUAJIT_RECLAIM=" .. tostring(ours_reclaim) ..
       " are not the default build's: no RESULTS_DIR")
-- The name of ours in headings: the build plus its non-default configuration, if any.
local OURS = ours_reclaim and ("ours (LUAJIT_RECLAIM=" .. ours_reclaim .. ")") or "ours"

local MEDIAN_TARGET, GEOMEAN_TARGET = 0.98, 1.05

local function fields(line)
  local rec = {}
  for k, v in line:gmatch("([%w_]+)=(%S+)") do rec[k] = tonumber(v) or v end
  return rec
end

package.path = (arg[0]:match("(.*/)") or "./") .. "?.lua;" .. package.path
local stats = require("stats")
local median, range = stats.median, stats.range

-- runs[name][pair][build] = record; names in first-seen order.
local runs, names = {}, {}
for line in io.lines(timings_path) do
  local rec = fields(line)
  if rec.name then
    if not runs[rec.name] then
      runs[rec.name] = {}
      names[#names + 1] = rec.name
    end
    runs[rec.name][rec.pair] = runs[rec.name][rec.pair] or {}
    runs[rec.name][rec.pair][rec.build] = rec
  end
end

local stats = {}
for line in io.lines(stats_path) do
  local rec = fields(line)
  if rec.name then stats[rec.name] = rec end
end

local problems = {}
for line in io.lines(problems_path) do problems[#problems + 1] = line end

local out = {}
local function emit(...) out[#out + 1] = table.concat({ ... }) end

local function fmt(x, pattern) return x and string.format(pattern or "%.3f", x) or "-" end

if ours_reclaim then
  emit("## CPU benchmarks: ours with LUAJIT_RECLAIM=", ours_reclaim)
  emit("")
  emit("**Not the default configuration**: ours ran with `LUAJIT_RECLAIM=", ours_reclaim,
       "` (stock with it unset).")
else
  emit("## CPU benchmarks")
end
emit("")
emit("CPU time = user+sys of the benchmark process from wait4() (tests/bench/cputime.c); ",
     "wall time is shown for information.")
if have_ours then
  emit(pairs_wanted, " interleaved pairs per benchmark (stock first in odd pairs, ours first ",
       "in even pairs; both from same-length paths, a random-length environment pad per pair). ",
       "Ratio = stock / ", OURS, ", so > 1 means ours is faster.")
else
  emit(pairs_wanted, " runs of stock per benchmark.")
end
emit("")

local passes, misses = 0, 0
local function verdict(ok, what)
  if ok then passes = passes + 1; emit("- PASS ", what)
  else misses = misses + 1; emit("- MISS ", what) end
end

if not have_ours then
  emit("**ours is missing**: stock-only timings; targets are not checked.")
  emit("")
  emit("| benchmark | runs | stock CPU s median (min-max) | stock wall s median | stock max RSS MiB |")
  emit("|---|---|---|---|---|")
  for _, name in ipairs(names) do
    local cpu, wall, rss = {}, {}, {}
    for _, pair in pairs(runs[name]) do
      local s = pair.stock
      if s then cpu[#cpu + 1], wall[#wall + 1], rss[#rss + 1] = s.cpu, s.wall, s.maxrss_kb end
    end
    local lo, hi = range(cpu)
    emit("| ", name, " | ", #cpu, " | ", fmt(median(cpu)), " (", fmt(lo), "-", fmt(hi), ") | ",
         fmt(median(wall)), " | ", fmt(median(rss) and median(rss) / 1024, "%.1f"), " |")
  end
else
  emit("| benchmark | pairs | stock CPU s | ", OURS, " CPU s | CPU ratio median (min-max) | ",
       "wall ratio median | stock max RSS MiB | ", OURS, " max RSS MiB | purge calls | pages purged | ",
       "purged MiB | mesh passes | pages meshed | pages released by meshing |")
  emit("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
  local medians = {}
  local rows = {}
  for _, name in ipairs(names) do
    local ratios, wall_ratios, scpu, ocpu, srss, orss = {}, {}, {}, {}, {}, {}
    for _, pair in pairs(runs[name]) do
      local s, o = pair.stock, pair.ours
      if s and o then
        ratios[#ratios + 1] = s.cpu / o.cpu
        wall_ratios[#wall_ratios + 1] = s.wall / o.wall
        scpu[#scpu + 1], ocpu[#ocpu + 1] = s.cpu, o.cpu
        srss[#srss + 1], orss[#orss + 1] = s.maxrss_kb, o.maxrss_kb
      end
    end
    local m = median(ratios)
    local lo, hi = range(ratios)
    local st = stats[name]
    local calls, pages, purged = "-", "-", "-"
    local mpasses, mpages, mreleased = "-", "-", "-"
    if st and st.mesh_passes then
      mpasses = string.format("%d", st.mesh_passes)
      mpages = string.format("%d", st.mesh_pages)
      mreleased = string.format("%d", st.mesh_released)
    end
    if st and st.purge_calls then
      calls = string.format("%d", st.purge_calls)
      pages = st.page_size and string.format("%d", st.purged_total / st.page_size) or "-"
      purged = string.format("%.1f", st.purged_total / 1048576)
    elseif st then
      calls, pages, purged = "n/a", "n/a", "n/a"
    end
    emit("| ", name, " | ", #ratios, " | ", fmt(median(scpu)), " | ", fmt(median(ocpu)), " | ",
         m and (fmt(m) .. " (" .. fmt(lo) .. "-" .. fmt(hi) .. ")") or "-", " | ",
         fmt(median(wall_ratios)), " | ",
         fmt(median(srss) and median(srss) / 1024, "%.1f"), " | ",
         fmt(median(orss) and median(orss) / 1024, "%.1f"), " | ", calls, " | ", pages, " | ",
         purged, " | ", mpasses, " | ", mpages, " | ", mreleased, " |")
    rows[#rows + 1] = { name = name, median = m, pairs = #ratios, lo = lo, hi = hi,
                        scpu = median(scpu), ocpu = median(ocpu), calls = calls, pages = pages }
    if m then medians[#medians + 1] = m end
  end
  emit("")
  emit("Targets:")
  emit("")
  for _, r in ipairs(rows) do
    if not r.median then
      verdict(false, r.name .. ": no complete pair (see problems)")
    else
      verdict(r.median >= MEDIAN_TARGET, string.format("%s: median CPU ratio %.3f >= %.2f (%d pairs)",
        r.name, r.median, MEDIAN_TARGET, r.pairs))
    end
  end
  if #medians > 0 then
    local log_sum = 0
    for _, m in ipairs(medians) do log_sum = log_sum + math.log(m) end
    local geomean = math.exp(log_sum / #medians)
    verdict(geomean >= GEOMEAN_TARGET, string.format(
      "geometric mean of %d medians %.3f >= %.2f", #medians, geomean, GEOMEAN_TARGET))
  end
  if results_dir then
    local f = assert(io.open(results_dir .. "/cpu.tsv", "w"))
    f:write("benchmark\tpairs\tstock_cpu_s\tours_cpu_s\tratio_median\tratio_min\tratio_max\t",
            "purge_calls\tpages_purged\n")
    for _, r in ipairs(rows) do
      f:write(table.concat({ r.name, r.pairs, fmt(r.scpu), fmt(r.ocpu), fmt(r.median, "%.6f"),
        fmt(r.lo, "%.6f"), fmt(r.hi, "%.6f"), r.calls, r.pages }, "\t"), "\n")
    end
    f:close()
  end
end

emit("")
if #problems > 0 then
  emit("Problems (each makes `make bench-cpu` fail):")
  emit("")
  for _, p in ipairs(problems) do emit("- ", p) end
  emit("")
end
if have_ours then
  emit(string.format("CPU targets: %d PASS, %d MISS, %d problems.", passes, misses, #problems))
end
emit("")
io.write(table.concat(out, "\n"), "\n")
