-- Runs one CPU benchmark script, then prints our runtime's reclaim statistics.
--
-- Usage: luajit with-stats.lua BENCHMARK.lua [args...]
-- Prints the benchmark's own output, then one line
--   RECLAIM purge_calls=N purged_total=BYTES page_size=BYTES mapped=BYTES resident=BYTES
--           madvise_failed=N [mesh_passes=N mesh_pages=N mesh_released=N mesh_mappings=N]
-- or "RECLAIM unavailable" when the runtime has no built-in reclaim module (stock).
-- (the mesh fields when reclaim.stats() has them: mesh_passes and mesh_released count since
-- the start, mesh_pages and mesh_mappings are the state at the end)
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
  local mesh = ""
  if s.mesh_passes ~= nil then
    mesh = string.format(" mesh_passes=%d mesh_pages=%d mesh_released=%d mesh_mappings=%d",
      s.mesh_passes, s.mesh_pages, s.mesh_released, s.mesh_mappings)
  end
  print(string.format("RECLAIM purge_calls=%d purged_total=%d page_size=%d mapped=%d resident=%d madvise_failed=%d%s",
    s.purge_calls, s.purged_total, s.page_size, s.mapped, s.resident, s.madvise_failed, mesh))
else
  print("RECLAIM unavailable")
end
