-- Runs one CPU benchmark script, then prints our runtime's reclaim statistics.
--
-- Usage: luajit with-stats.lua BENCHMARK.lua [args...]
-- Prints the benchmark's own output, then one line
--   RECLAIM purge_calls=N purged_total=BYTES page_size=BYTES mapped=BYTES resident=BYTES
--           madvise_failed=N
-- or "RECLAIM unavailable" when the runtime has no built-in reclaim module (stock).
-- Invariant: the benchmark sees the same global `arg` as when run directly, and the stats
-- are read after it returns, before the state is closed.

local script = assert(arg[1], "usage: with-stats.lua BENCHMARK.lua [args...]")
local script_args = { [0] = script }
for i = 2, #arg do script_args[i - 1] = arg[i] end
arg = script_args
dofile(script)

local saved_path, saved_cpath = package.path, package.cpath
package.path, package.cpath = "", ""
local ok, reclaim = pcall(require, "reclaim")
package.path, package.cpath = saved_path, saved_cpath
if ok and type(reclaim) == "table" and type(reclaim.stats) == "function" then
  local s = reclaim.stats()
  print(string.format("RECLAIM purge_calls=%d purged_total=%d page_size=%d mapped=%d resident=%d madvise_failed=%d",
    s.purge_calls, s.purged_total, s.page_size, s.mapped, s.resident, s.madvise_failed))
else
  print("RECLAIM unavailable")
end
