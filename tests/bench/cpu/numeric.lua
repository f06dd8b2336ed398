-- CPU benchmark: numeric loop. Counts points of a Mandelbrot-set grid (escape-time loop on
-- doubles); no allocation at all, so the allocator should not matter here.
-- Usage: luajit numeric.lua [size]   Prints the number of points inside (must match).

local size = tonumber(arg and arg[1]) or 3500
local MAX_ITER = 50

local inside = 0
for py = 0, size - 1 do
  local ci = 2 * py / size - 1
  for px = 0, size - 1 do
    local cr = 2 * px / size - 1.5
    local zr, zi = 0.0, 0.0
    local escaped = false
    for _ = 1, MAX_ITER do
      local zr2, zi2 = zr * zr, zi * zi
      if zr2 + zi2 > 4 then escaped = true; break end
      zi = 2 * zr * zi + ci
      zr = zr2 - zi2 + cr
    end
    if not escaped then inside = inside + 1 end
  end
end
print("numeric", size, inside)
