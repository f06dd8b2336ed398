-- render.lua: writes docs/benchmarks.md in full, and the generated blocks of README.md and
-- TUNING.md, from the results of one `make bench-report` run (the TSVs of RESULTS_DIR).
--
-- Usage: luajit render.lua RESULTS_DIR TOP OUT
--   RESULTS_DIR  meta.tsv, mem.tsv, mem-targets.tsv, cpu.tsv, cgroup.tsv, nginx.tsv (each
--                tab separated with one header line; any but meta.tsv may be missing: its
--                section then says it was not measured)
--   TOP          the tree whose README.md and TUNING.md hold the blocks
--   OUT          where docs/benchmarks.md, README.md and TUNING.md are written (TOP itself
--                for `make bench-report-render`; a scratch directory for check-docs)
-- Templates (this script's directory): benchmarks.md.in is the whole document; a block
--   <!-- bench-report:begin NAME --> ... <!-- bench-report:end --> (each marker alone on
--   its line) of README.md or TUNING.md is replaced by blocks/NAME.md.in. In a template
--   {{name arg...}} is replaced by the function `name` of FIELDS below.
-- Invariants: the output depends only on the results and the templates (no clock, no
--   environment), so rendering the committed results reproduces the committed documents
--   byte for byte; an unknown placeholder, block or malformed results file is an error
--   naming it. Sizes in the TSVs are KiB, printed as MiB with one decimal.

local results_dir, top, out_dir = arg[1], arg[2], arg[3]
if not (results_dir and top and out_dir) then
  io.stderr:write("usage: render.lua RESULTS_DIR TOP OUT\n")
  os.exit(2)
end
local here = arg[0]:match("(.*/)") or "./"
local BLOCK_FILES = { "README.md", "TUNING.md" }
local MEDIAN_TARGET = 0.98

local function fail(...)
  io.stderr:write("render.lua: ", table.concat({ ... }), "\n")
  os.exit(1)
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local text = f:read("*a")
  f:close()
  return text
end

local function write_file(path, text)
  local f = io.open(path, "wb") or fail("cannot write ", path)
  f:write(text)
  f:close()
end

-- read_tsv(name): the rows of RESULTS_DIR/name as tables keyed by the header's columns,
-- or nil when the file does not exist.
local function read_tsv(name)
  local path = results_dir .. "/" .. name
  local text = read_file(path)
  if not text then return nil end
  local rows, header = {}, nil
  local n = 0
  for line in text:gmatch("([^\n]*)\n") do
    n = n + 1
    local cells = {}
    for cell in (line .. "\t"):gmatch("([^\t]*)\t") do cells[#cells + 1] = cell end
    if not header then
      header = cells
    elseif line ~= "" then
      if #cells ~= #header then
        fail(path, ":", n, ": ", #cells, " columns, the header has ", #header)
      end
      local row = {}
      for i, key in ipairs(header) do row[key] = cells[i] end
      rows[#rows + 1] = row
    end
  end
  if not header then fail(path, ": empty (no header line)") end
  return rows
end

---------------------------------------------------------------- results

local meta = {}
for _, row in ipairs(read_tsv("meta.tsv") or fail(results_dir, "/meta.tsv: missing")) do
  meta[row.key] = row.value
end

local function meta_value(key)
  return meta[key] or fail(results_dir, "/meta.tsv: no key '", key, "'")
end

local function words(s)
  local list = {}
  for w in (s or ""):gmatch("%S+") do list[#list + 1] = w end
  return list
end

local function part_ok(part) return meta["part_" .. part] == "ok" end

-- mem[set][workload][build][metric] = { median, min, max, runs } (KiB)
local mem_rows, mem = read_tsv("mem.tsv"), {}
for _, r in ipairs(mem_rows or {}) do
  local s = mem[r.set] or {}
  mem[r.set] = s
  s[r.workload] = s[r.workload] or {}
  s[r.workload][r.build] = s[r.workload][r.build] or {}
  s[r.workload][r.build][r.metric] = {
    median = tonumber(r.median), min = tonumber(r.min), max = tonumber(r.max), runs = tonumber(r.runs),
  }
end
local mem_targets = read_tsv("mem-targets.tsv") or {}

local cpu_rows = read_tsv("cpu.tsv")
if cpu_rows then table.sort(cpu_rows, function(a, b) return a.benchmark < b.benchmark end) end
local cgroup_rows = read_tsv("cgroup.tsv")
local nginx_rows = read_tsv("nginx.tsv")

---------------------------------------------------------------- formatting

local function mib(kb) return kb and string.format("%.1f", kb / 1024) or "n/a" end

local function mem_figure(set, workload, build, metric)
  local w = mem[set] and mem[set][workload]
  return w and w[build] and w[build][metric]
end

local function mem_cell(set, workload, build, metric)
  local f = mem_figure(set, workload, build, metric)
  if not f then return "-" end
  if f.runs > 1 and f.min ~= f.max then
    return string.format("%s [%s-%s]", mib(f.median), mib(f.min), mib(f.max))
  end
  return mib(f.median)
end

local function ratio(x) return string.format("%.3f", x) end

local function geomean(list)
  if #list == 0 then return nil end
  local sum = 0
  for _, x in ipairs(list) do sum = sum + math.log(x) end
  return math.exp(sum / #list)
end

local function cpu_medians()
  local list = {}
  for _, r in ipairs(cpu_rows or {}) do
    local m = tonumber(r.ratio_median)
    if m then list[#list + 1] = { name = r.benchmark, median = m } end
  end
  return list
end

local function not_measured(part, what)
  local status = meta["part_" .. part]
  if status == "failed" then
    return "*Not measured: the `" .. part .. "` part of this run failed (" .. what .. ").*"
  end
  return "*Not measured in this run (part `" .. part .. "` was not run; " .. what .. ").*"
end

---------------------------------------------------------------- partial runs

-- partial_reasons(): what this run left out compared with a full `make bench-report`.
local function partial_reasons()
  local reasons = {}
  local asked = " " .. meta_value("parts_asked") .. " "
  for _, part in ipairs(words(meta_value("parts_all"))) do
    if not asked:find(" " .. part .. " ", 1, true) then
      reasons[#reasons + 1] = "part `" .. part .. "` not run"
    elseif not part_ok(part) then
      reasons[#reasons + 1] = "part `" .. part .. "` failed"
    end
  end
  local pairs_run, pairs_default = tonumber(meta_value("bench_pairs")), tonumber(meta_value("bench_pairs_default"))
  if pairs_run < pairs_default then
    reasons[#reasons + 1] = string.format("CPU: %d pair%s per benchmark instead of %d (single ratios carry the noise of a shared machine)",
      pairs_run, pairs_run == 1 and "" or "s", pairs_default)
  end
  if cpu_rows then
    local seen, missing = {}, {}
    for _, r in ipairs(cpu_rows) do seen[r.benchmark] = true end
    for _, name in ipairs(words(meta_value("cpu_all"))) do
      if not seen[name] then missing[#missing + 1] = name end
    end
    if #missing > 0 then
      reasons[#reasons + 1] = string.format("CPU: %d of %d benchmarks not run (%s)", #missing,
        #words(meta_value("cpu_all")), table.concat(missing, ", "))
    end
  end
  if meta_value("mem_workloads") ~= "a b c d e" then
    reasons[#reasons + 1] = "memory: only workloads " .. meta_value("mem_workloads")
  end
  if meta_value("pagesim") == "" then
    reasons[#reasons + 1] = "memory: larger pages not run (PAGESIM empty)"
  end
  local cg, cg_default = tonumber(meta_value("cgroup_pairs")), tonumber(meta_value("cgroup_pairs_default"))
  if cg < cg_default then
    reasons[#reasons + 1] = string.format("cgroup: %d pair%s instead of %d", cg, cg == 1 and "" or "s", cg_default)
  end
  return reasons
end
local PARTIAL = partial_reasons()

---------------------------------------------------------------- fields

local FIELDS = {}

function FIELDS.date() return (meta_value("started"):match("^(%S+)")) end
function FIELDS.commit() return meta_value("commit") end
function FIELDS.pairs() return meta_value("bench_pairs") end
-- pairs_text: "1 interleaved pair", "15 interleaved pairs".
function FIELDS.pairs_text()
  local n = meta_value("bench_pairs")
  return n .. " interleaved pair" .. (n == "1" and "" or "s")
end

-- command: the make command line of this run, with the settings that differ from a
-- full run's defaults.
function FIELDS.command()
  local cmd = { "make bench-report" }
  if meta_value("parts_asked") ~= meta_value("parts_all") then
    cmd[#cmd + 1] = 'BENCH_REPORT_PARTS="' .. meta_value("parts_asked") .. '"'
  end
  if meta_value("bench_pairs") ~= meta_value("bench_pairs_default") then
    cmd[#cmd + 1] = "BENCH_PAIRS=" .. meta_value("bench_pairs")
  end
  if meta_value("cgroup_pairs") ~= meta_value("cgroup_pairs_default") then
    cmd[#cmd + 1] = "BENCH_CGROUP_PAIRS=" .. meta_value("cgroup_pairs")
  end
  if meta.nginx_pairs and meta.nginx_pairs ~= "default" then
    cmd[#cmd + 1] = "NGINX_BENCH_PAIRS=" .. meta.nginx_pairs
  end
  if meta.nginx_builds and meta.nginx_builds ~= "stock ours ours-noidle ours-mesh" then
    cmd[#cmd + 1] = 'NGINX_BENCH_BUILDS="' .. meta.nginx_builds .. '"'
  end
  if meta_value("cpu_asked") ~= "" then cmd[#cmd + 1] = 'BENCH_CPU="' .. meta_value("cpu_asked") .. '"' end
  if meta_value("mem_workloads") ~= "a b c d e" then
    cmd[#cmd + 1] = 'BENCH_MEM_WORKLOADS="' .. meta_value("mem_workloads") .. '"'
  end
  return "`" .. table.concat(cmd, " ") .. "`"
end

-- run: one line naming the run, for the blocks of README.md and TUNING.md.
function FIELDS.run()
  local s = FIELDS.date() .. ", commit " .. FIELDS.commit() .. ", " .. FIELDS.command()
  if #PARTIAL > 0 then s = s .. "; **a partial run**" end
  return s
end

function FIELDS.header()
  local o = {}
  local function line(...) o[#o + 1] = table.concat({ ... }) end
  line("| run | |")
  line("|---|---|")
  line("| date | ", meta_value("started"), " to ", meta_value("finished"), " |")
  line("| commit | ", meta_value("commit"), " (`git describe`) |")
  line("| machine | ", meta_value("machine_arch"), ", ", meta_value("machine_model"), ", ",
       meta_value("machine_nproc"), " CPUs, ", meta_value("machine_ram"), " RAM, ",
       meta_value("machine_kernel"), ", ", meta_value("machine_pagesize"), "-byte pages |")
  line("| load average (1/5/15 min) | ", meta_value("load_start"), " at the start, ",
       meta_value("load_end"), " at the end |")
  line("| command | ", FIELDS.command(), " |")
  line("| settings | BENCH_PAIRS=", meta_value("bench_pairs"), ", BENCH_MEM_WORKLOADS=\"",
       meta_value("mem_workloads"), "\", BENCH_MEM_RUNS=", meta_value("mem_runs"), ", BENCH_PEER_RUNS=",
       meta_value("peer_runs"), ", PAGESIM=\"", meta_value("pagesim"), "\" on workloads \"",
       meta_value("pagesim_workloads"), "\", BENCH_CGROUP_PAIRS=", meta_value("cgroup_pairs"),
       ", NGINX_BENCH_PAIRS=", meta.nginx_pairs or "not recorded",
       ", NGINX_BENCH_BUILDS=\"", meta.nginx_builds or "not recorded", "\" |")
  line("| stock | `", meta_value("stock"), "` |")
  line("| ours | `", meta_value("ours"), "` |")
  line("| the peer | `", meta_value("peer"), "` |")
  local times = {}
  for _, part in ipairs(words(meta_value("parts_asked"))) do
    times[#times + 1] = string.format("%s %s s (%s)", part, meta["seconds_" .. part] or "?",
      meta["part_" .. part] or "?")
  end
  line("| parts | ", table.concat(times, ", "), " |")
  line("")
  if #PARTIAL > 0 then
    line("**This is a partial run.** Its figures are real but incomplete; `make bench-report` ",
         "with the defaults runs everything:")
    line("")
    for _, r in ipairs(PARTIAL) do line("- ", r) end
  else
    line("A complete run: every part ran, with the default settings.")
  end
  return table.concat(o, "\n")
end

---------------------------------------------------------------- memory

local WORKLOADS = {
  { id = "a", label = "(a) 2M strings of ~260 B dropped" },
  { id = "b", label = "(b) 5M small tables" },
  { id = "c", label = "(c) 2M records with a nested table" },
  { id = "d", label = "(d) 2M mixed objects, 2% survive" },
  { id = "e", label = "(e) sawtooth, 10 x 300 MB, worst trough" },
}

function FIELDS.mem_table()
  if not mem.native then return not_measured("mem", "`make bench-mem`") end
  local o = {
    "| workload (MiB) | stock peak | ours peak | stock after collect | ours after collect | ours floor | ours idle 1 s | peer after collect | peer idle 1 s |",
    "|---|---|---|---|---|---|---|---|---|",
  }
  for _, w in ipairs(WORKLOADS) do
    if mem.native[w.id] then
      local function c(build, metric) return mem_cell("native", w.id, build, metric) end
      o[#o + 1] = table.concat({ "| " .. w.label, c("stock", "peak"), c("ours", "peak"),
        c("stock", "collect"), c("ours", "collect"), c("ours", "floor"), c("ours", "idle1s"),
        c("peer", "collect"), c("peer", "idle1s") }, " | ") .. " |"
    end
  end
  return table.concat(o, "\n")
end

-- targets SET: the verdict count and every target missed or run failed.
function FIELDS.mem_targets(set)
  set = set or "native"
  if not mem[set] then return not_measured("mem", "no targets checked") end
  local pass, bad = 0, {}
  for _, t in ipairs(mem_targets) do
    if t.set == set then
      if t.verdict == "PASS" then pass = pass + 1 else bad[#bad + 1] = t end
    end
  end
  -- per workload: "(a) 3 of 3"
  local order, met, total = {}, {}, {}
  for _, t in ipairs(mem_targets) do
    if t.set == set then
      if not total[t.workload] then order[#order + 1] = t.workload end
      total[t.workload] = (total[t.workload] or 0) + 1
      met[t.workload] = (met[t.workload] or 0) + (t.verdict == "PASS" and 1 or 0)
    end
  end
  local per = {}
  for _, w in ipairs(order) do per[#per + 1] = string.format("(%s) %d of %d", w, met[w], total[w]) end
  local by_workload = " Met per workload: " .. table.concat(per, ", ") .. "."
  if #bad == 0 then
    return string.format("All %d targets checked were met in this run.", pass) .. by_workload
  end
  local o = { string.format("%d of %d targets checked were met in this run.", pass, pass + #bad) ..
    by_workload .. " Not met:", "" }
  for _, t in ipairs(bad) do o[#o + 1] = string.format("- %s (%s) %s", t.verdict, t.workload, t.text) end
  return table.concat(o, "\n")
end

-- mem SET WORKLOAD BUILD METRIC: one figure, MiB.
function FIELDS.mem(set, workload, build, metric)
  local f = mem_figure(set, workload, build, metric)
  return f and mib(f.median) or "n/a"
end

function FIELDS.peer_runs()
  local f = mem_figure("native", "d", "peer", "collect") or mem_figure("native", "e", "peer", "collect")
  return f and tostring(f.runs) or "no"
end

-- peak_ratio WORKLOAD: ours peak / stock peak.
local function peak_ratio(workload)
  local o, s = mem_figure("native", workload, "ours", "peak"), mem_figure("native", workload, "stock", "peak")
  return o and s and o.median / s.median
end
function FIELDS.peak_ratio(workload)
  local r = peak_ratio(workload)
  return r and ratio(r) or "n/a"
end

-- peak_ratio_range WORKLOAD...: "LO to HI" of the ratios, two decimals.
function FIELDS.peak_ratio_range(...)
  local lo, hi
  for _, w in ipairs({ ... }) do
    local r = peak_ratio(w)
    if r then
      lo = (not lo or r < lo) and r or lo
      hi = (not hi or r > hi) and r or hi
    end
  end
  if not lo then return "n/a" end
  return string.format("%.2f to %.2f", lo, hi)
end

-- pagesim_workloads: the workloads run under the simulator, "(a), (d)".
function FIELDS.pagesim_workloads()
  local list = {}
  for _, w in ipairs(words(meta_value("pagesim_workloads"))) do list[#list + 1] = "(" .. w .. ")" end
  return #list > 0 and table.concat(list, ", ") or "none"
end

function FIELDS.pagesim_table()
  local sets = {}
  for _, size in ipairs(words(meta_value("pagesim"))) do
    if mem["emulated-page-" .. size] then sets[#sets + 1] = size end
  end
  if #sets == 0 then
    return "*Not measured in this run (PAGESIM was empty or the `mem` part did not run).*"
  end
  local o = { "| workload (MiB) | page | stock after collect | ours after collect | ours floor |", "|---|---|---|---|---|" }
  for _, w in ipairs(WORKLOADS) do
    for _, size in ipairs(sets) do
      local set = "emulated-page-" .. size
      if mem[set][w.id] then
        o[#o + 1] = table.concat({ "| " .. w.label, string.format("%dK", size / 1024),
          mem_cell(set, w.id, "stock", "collect"), mem_cell(set, w.id, "ours", "collect"),
          mem_cell(set, w.id, "ours", "floor") }, " | ") .. " |"
      end
    end
  end
  o[#o + 1] = ""
  o[#o + 1] = FIELDS.mem_targets_pagesim()
  return table.concat(o, "\n")
end

function FIELDS.mem_targets_pagesim()
  local pass, bad, violations = 0, {}, 0
  for _, t in ipairs(mem_targets) do
    if t.set:match("^emulated") then
      if t.verdict == "PASS" then pass = pass + 1 else bad[#bad + 1] = t end
      if t.text:match("pagesim violations") then violations = violations + 1 end
    end
  end
  if #bad == 0 then
    return string.format("All %d targets checked under the simulator were met, %d of them that our runs made no misaligned or spilling memory call.",
      pass, violations)
  end
  local o = { string.format("%d of %d targets checked under the simulator were met; not met:", pass, pass + #bad), "" }
  for _, t in ipairs(bad) do o[#o + 1] = string.format("- %s %s (%s) %s", t.verdict, t.set, t.workload, t.text) end
  return table.concat(o, "\n")
end

---------------------------------------------------------------- meshing

-- mesh_sets(): the sets with an ours-mesh build, native first, as { set, page label }.
local function mesh_sets()
  local list = {}
  local function add(set, label)
    for _, w in ipairs(WORKLOADS) do
      if mem[set] and mem[set][w.id] and mem[set][w.id]["ours-mesh"] then
        list[#list + 1] = { set = set, page = label }
        return
      end
    end
  end
  add("native", string.format("%dK", tonumber(meta_value("machine_pagesize")) / 1024))
  for _, size in ipairs(words(meta_value("pagesim"))) do
    add("emulated-page-" .. size, string.format("%dK emulated", size / 1024))
  end
  return list
end

-- mesh_table: Pss of stock, ours with meshing off and with meshing on, per workload
-- and page size, and the targets issue 17 sets for meshing.
function FIELDS.mesh_table()
  local sets = mesh_sets()
  if #sets == 0 then
    return "*Not measured in this run (no ours-mesh build: the `mem` part did not run).*"
  end
  local o = {
    "| workload (Pss, MiB) | page | stock peak | ours peak | ours-mesh peak | stock after collect | ours after collect | ours-mesh after collect | ours-mesh floor |",
    "|---|---|---|---|---|---|---|---|---|",
  }
  for _, s in ipairs(sets) do
    for _, w in ipairs(WORKLOADS) do
      if mem[s.set][w.id] and mem[s.set][w.id]["ours-mesh"] then
        local function c(build, metric) return mem_cell(s.set, w.id, build, metric) end
        o[#o + 1] = table.concat({ "| " .. w.label, s.page, c("stock", "pss_peak"), c("ours", "pss_peak"),
          c("ours-mesh", "pss_peak"), c("stock", "pss_collect"), c("ours", "pss_collect"),
          c("ours-mesh", "pss_collect"), c("ours-mesh", "floor") }, " | ") .. " |"
      end
    end
  end
  o[#o + 1] = ""
  local pass, bad = 0, {}
  for _, t in ipairs(mem_targets) do
    if t.text:match("^Pss after collect") or t.text:match("^worst trough Pss") or t.text:match("^peak Pss") then
      if t.verdict == "PASS" then pass = pass + 1 else bad[#bad + 1] = t end
    end
  end
  if #bad == 0 then
    o[#o + 1] = string.format("All %d targets of meshing checked were met in this run:", pass)
  else
    o[#o + 1] = string.format("%d of %d targets of meshing checked were met in this run:", pass, pass + #bad)
  end
  o[#o + 1] = ""
  for _, t in ipairs(mem_targets) do
    if t.text:match("^Pss after collect") or t.text:match("^worst trough Pss") or t.text:match("^peak Pss") then
      o[#o + 1] = string.format("- %s %s (%s) %s", t.verdict, t.set, t.workload, t.text)
    end
  end
  return table.concat(o, "\n")
end

-- mesh_summary: one line for README.md: (d) and (e) with meshing off and on.
function FIELDS.mesh_summary()
  local function f(w, build, metric) return FIELDS.mem("native", w, build, metric) end
  if not mem_figure("native", "d", "ours-mesh", "pss_collect") then return "not measured in this run" end
  return string.format("2M mixed objects, 2%% survive: %s MiB after collect against %s with meshing off " ..
    "(stock %s); ten bursts, worst trough: %s MiB against %s (stock %s), peak %s x stock's",
    f("d", "ours-mesh", "pss_collect"), f("d", "ours", "pss_collect"), f("d", "stock", "pss_collect"),
    f("e", "ours-mesh", "pss_collect"), f("e", "ours", "pss_collect"), f("e", "stock", "pss_collect"),
    ratio(mem_figure("native", "e", "ours-mesh", "pss_peak").median /
      mem_figure("native", "e", "stock", "pss_peak").median))
end

---------------------------------------------------------------- CPU

function FIELDS.cpu_table()
  if not cpu_rows then return not_measured("cpu", "`make bench-cpu`") end
  local o = {
    "| benchmark | pairs | stock CPU s | ours CPU s | ratio median (min-max) | purge calls | pages purged |",
    "|---|---|---|---|---|---|---|",
  }
  for _, r in ipairs(cpu_rows) do
    local m, lo, hi = tonumber(r.ratio_median), tonumber(r.ratio_min), tonumber(r.ratio_max)
    local cell = m and string.format("%s (%s-%s)", ratio(m), ratio(lo), ratio(hi)) or "-"
    if m and m < MEDIAN_TARGET then cell = "**" .. cell .. "**" end
    o[#o + 1] = table.concat({ "| " .. r.benchmark, r.pairs, r.stock_cpu_s, r.ours_cpu_s, cell,
      r.purge_calls, r.pages_purged }, " | ") .. " |"
  end
  return table.concat(o, "\n")
end

function FIELDS.cpu_count() return tostring(#cpu_medians()) end

function FIELDS.cpu_geomean()
  local list = {}
  for _, m in ipairs(cpu_medians()) do list[#list + 1] = m.median end
  local g = geomean(list)
  return g and ratio(g) or "n/a"
end

-- cpu_range: the smallest and largest median.
function FIELDS.cpu_range()
  local lo, hi
  for _, m in ipairs(cpu_medians()) do
    lo = (not lo or m.median < lo) and m.median or lo
    hi = (not hi or m.median > hi) and m.median or hi
  end
  return lo and (ratio(lo) .. " to " .. ratio(hi)) or "n/a"
end

local function below_target()
  local list = {}
  for _, m in ipairs(cpu_medians()) do
    if m.median < MEDIAN_TARGET then list[#list + 1] = m end
  end
  table.sort(list, function(a, b) return a.median < b.median end)
  return list
end

-- cpu_below: the benchmarks whose median is below the target, slowest first.
function FIELDS.cpu_below()
  local parts = {}
  for _, m in ipairs(below_target()) do parts[#parts + 1] = string.format("%s %s", m.name, ratio(m.median)) end
  return #parts > 0 and table.concat(parts, ", ") or "none"
end

function FIELDS.cpu_below_count() return tostring(#below_target()) end

-- cpu_pair_below_one_count: benchmarks with at least one pair below 1 (noise
-- or cost: single pairs on a shared machine vary by several per cent).
function FIELDS.cpu_pair_below_one_count()
  local n = 0
  for _, r in ipairs(cpu_rows or {}) do
    local lo = tonumber(r.ratio_min)
    if lo and lo < 1 then n = n + 1 end
  end
  return tostring(n)
end

-- cpu_slowest: the benchmark with the lowest median, with its median.
function FIELDS.cpu_slowest()
  local slowest
  for _, m in ipairs(cpu_medians()) do
    if not slowest or m.median < slowest.median then slowest = m end
  end
  return slowest and string.format("%s %s", slowest.name, ratio(slowest.median)) or "n/a"
end

function FIELDS.cpu_summary()
  if not cpu_rows then return "" end
  local below = below_target()
  local s = string.format("Geometric mean of the %s medians %s (the report's target: 1.05). ",
    FIELDS.cpu_count(), FIELDS.cpu_geomean())
  if #below == 0 then
    return s .. string.format("Every median at or above %.2f (the report's target).", MEDIAN_TARGET)
  end
  return s .. string.format("Below %.2f (in bold above): %s.", MEDIAN_TARGET, FIELDS.cpu_below())
end

---------------------------------------------------------------- nginx

function FIELDS.nginx_tables()
  if not nginx_rows then return not_measured("nginx", "`make bench-nginx` with BENCH_RESULTS_DIR set writes nginx.tsv") end
  -- shapes and metrics in first-seen order; figures[shape][metric][build] = row
  local shapes, figures = {}, {}
  for _, r in ipairs(nginx_rows) do
    if not figures[r.shape] then
      figures[r.shape] = { metrics = {} }
      shapes[#shapes + 1] = r.shape
    end
    local s = figures[r.shape]
    if not s[r.metric] then
      s[r.metric] = {}
      s.metrics[#s.metrics + 1] = r.metric
    end
    s[r.metric][r.build] = r
  end
  local o = {}
  for _, shape in ipairs(shapes) do
    local s = figures[shape]
    -- builds other than stock and ours (e.g. ours-noidle) get a column after ours
    local extra, seen = {}, { stock = true, ours = true }
    for _, metric in ipairs(s.metrics) do
      for b in pairs(s[metric]) do
        if not seen[b] then seen[b] = true; extra[#extra + 1] = b end
      end
    end
    table.sort(extra)
    local head = { "| " .. shape, "unit", "stock median (min-max)", "ours median (min-max)" }
    for _, b in ipairs(extra) do head[#head + 1] = b .. " median (min-max)" end
    head[#head + 1] = "ours / stock"
    o[#o + 1] = table.concat(head, " | ") .. " |"
    o[#o + 1] = string.rep("|---", #head) .. "|"
    for _, metric in ipairs(s.metrics) do
      local st, ou = s[metric].stock, s[metric].ours
      local function cell(r) return r and string.format("%s (%s-%s)", r.median, r.min, r.max) or "-" end
      local q = "-"
      if st and ou and tonumber(st.median) and tonumber(ou.median) and tonumber(st.median) ~= 0 then
        q = ratio(tonumber(ou.median) / tonumber(st.median))
      end
      local row = { "| " .. metric, (st or ou).unit, cell(st), cell(ou) }
      for _, b in ipairs(extra) do row[#row + 1] = cell(s[metric][b]) end
      row[#row + 1] = q
      o[#o + 1] = table.concat(row, " | ") .. " |"
    end
    o[#o + 1] = ""
  end
  o[#o] = nil
  return table.concat(o, "\n")
end

-- nginx_summary: per shape, ours / stock of the medians of the metrics a user
-- weighs first (throughput, tail latency, the idle worker's RSS), for the README;
-- docs/benchmarks.md has every metric.
local NGINX_SUMMARY = { { "rps", "requests/s" }, { "p99_ms", "p99 latency" },
  { "rss_idle_kib", "RSS 10 s after the load" } }
function FIELDS.nginx_summary()
  if not nginx_rows then return "not measured in this run" end
  local shapes, by_shape = {}, {}
  for _, r in ipairs(nginx_rows) do
    if not by_shape[r.shape] then
      by_shape[r.shape] = { order = {}, rows = {} }
      shapes[#shapes + 1] = r.shape
    end
    local s = by_shape[r.shape]
    if not s.rows[r.metric] then
      s.rows[r.metric] = {}
      s.order[#s.order + 1] = r.metric
    end
    s.rows[r.metric][r.build] = tonumber(r.median)
  end
  local parts = {}
  for _, shape in ipairs(shapes) do
    local s, items = by_shape[shape], {}
    for _, m in ipairs(NGINX_SUMMARY) do
      local r = s.rows[m[1]]
      local st, ou = r and r.stock, r and r.ours
      if st and ou and st ~= 0 then items[#items + 1] = m[2] .. " " .. ratio(ou / st) .. " x" end
    end
    if #items > 0 then parts[#parts + 1] = shape .. ": " .. table.concat(items, ", ") end
  end
  return #parts > 0 and table.concat(parts, "; ") or "no figure of both builds"
end

---------------------------------------------------------------- cgroup

local function cgroup_row(workload, setting)
  for _, r in ipairs(cgroup_rows or {}) do
    if r.workload == workload and r.setting == setting then return r end
  end
end

local CGROUP_LIMIT = { service = 1000, phases = 600 }

function FIELDS.cgroup_table()
  if not cgroup_rows then return not_measured("cgroup", "`make bench-cgroup`") end
  local o = {
    "| workload (limit) | setting | CPU s, median [range] | group peak MiB, median [range] | OOM-killed |",
    "|---|---|---|---|---|",
  }
  local last
  for _, r in ipairs(cgroup_rows) do
    local label = ""
    if r.workload ~= last then
      label = r.workload .. (CGROUP_LIMIT[r.workload] and (" (" .. CGROUP_LIMIT[r.workload] .. " MiB)") or "")
      last = r.workload
    end
    local setting = r.setting == "stock" and "stock LuaJIT" or ("`soft_limit=" .. r.setting .. "`")
    o[#o + 1] = table.concat({ "| " .. label, setting,
      string.format("%s [%s-%s]", r.cpu_s_median, r.cpu_s_min, r.cpu_s_max),
      string.format("%s [%s-%s]", r.peak_mib_median, r.peak_mib_min, r.peak_mib_max),
      string.format("%s of %s", r.oom_killed, r.runs) }, " | ") .. " |"
  end
  return table.concat(o, "\n")
end

-- cgroup_peak_change WORKLOAD: auto's median group peak against soft_limit=0's, in %.
function FIELDS.cgroup_peak_change(workload)
  local zero, auto = cgroup_row(workload, "0"), cgroup_row(workload, "auto")
  local z, a = zero and tonumber(zero.peak_mib_median), auto and tonumber(auto.peak_mib_median)
  if not (z and a) or z == 0 then return "n/a" end
  local change = (a - z) / z * 100
  if math.abs(change) < 0.5 then return "unchanged" end
  return string.format("%s by %.0f%%", change < 0 and "lowered" or "raised", math.abs(change))
end

---------------------------------------------------------------- series

function FIELDS.series_note()
  if part_ok("series") then
    return "The charts were redrawn by this run (part `series`; the sawtooth is the first trickle run of (e) of the memory part on each build)."
  end
  return "The charts were **not** redrawn by this run (part `series` " ..
    (meta.part_series == "failed" and "failed" or "not run") ..
    "): they are those of an earlier run, whose date and machine they show."
end

---------------------------------------------------------------- templates

local function expand(template, where)
  return (template:gsub("{{(.-)}}", function(body)
    local list = words(body)
    local fn = FIELDS[list[1] or ""]
    if not fn then fail(where, ": unknown placeholder {{", body, "}}") end
    local value = fn(select(2, unpack(list)))
    if type(value) ~= "string" then fail(where, ": {{", body, "}} gave no text") end
    return value
  end))
end

local function template(path)
  return read_file(here .. path) or fail("missing template ", here, path)
end

local GENERATED = "<!-- Generated by tests/bench/report/render.lua from docs/bench-results/ " ..
  "(make bench-report-render); edit tests/bench/report/benchmarks.md.in, not this file. -->\n"
write_file(out_dir .. "/docs/benchmarks.md",
  GENERATED .. expand(template("benchmarks.md.in"), "benchmarks.md.in"))

-- Blocks: the lines between a begin marker and the next end marker are replaced.
for _, name in ipairs(BLOCK_FILES) do
  local text = read_file(top .. "/" .. name) or fail("cannot read ", top, "/", name)
  local out, block, n = {}, nil, 0
  for line in text:gmatch("([^\n]*)\n") do
    n = n + 1
    local begin = line:match("^<!%-%- bench%-report:begin ([%w_-]+) %-%->$")
    if begin then
      if block then fail(name, ":", n, ": block '", begin, "' begins inside block '", block, "'") end
      block = begin
      out[#out + 1] = line
      local body = expand(template("blocks/" .. begin .. ".md.in"), "blocks/" .. begin .. ".md.in")
      out[#out + 1] = (body:gsub("\n$", ""))
    elseif line == "<!-- bench-report:end -->" then
      if not block then fail(name, ":", n, ": an end marker outside a block") end
      block = nil
      out[#out + 1] = line
    elseif not block then
      out[#out + 1] = line
    end
  end
  if block then fail(name, ": block '", block, "' has no end marker") end
  write_file(out_dir .. "/" .. name, table.concat(out, "\n") .. "\n")
end
