-- stats.lua: small statistics shared by the benchmark reports (report-cpu.lua, report-mem.lua).
-- Pure functions over arrays of numbers; inputs are never modified.
local stats = {}

-- Median of values (nil for an empty array).
function stats.median(values)
  local v = {}
  for i = 1, #values do v[i] = values[i] end
  table.sort(v)
  local n = #v
  if n == 0 then return nil end
  if n % 2 == 1 then return v[(n + 1) / 2] end
  return (v[n / 2] + v[n / 2 + 1]) / 2
end

-- Smallest and largest of values (nil, nil for an empty array).
function stats.range(values)
  local lo, hi
  for _, x in ipairs(values) do
    if not lo or x < lo then lo = x end
    if not hi or x > hi then hi = x end
  end
  return lo, hi
end

return stats
