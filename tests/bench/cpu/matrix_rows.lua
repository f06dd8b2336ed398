-- CPU benchmark: rows of a numeric matrix. A 400 x 400 matrix stored as a table of rows
-- (400 numbers each, a ~3.2 KiB array part); each step computes a new matrix row by row
-- from the old one (a blur of each cell with its neighbours) and drops the old matrix.
-- The shape of numeric and image code written with plain tables: blocks of one size
-- between half a page and a page, allocated row after row and written whole.
-- Usage: luajit matrix_rows.lua [steps]   Prints a checksum that must match.

local table_new = require("table.new")

local steps = tonumber(arg and arg[1]) or 1500
local N = 400

local m = {}
for r = 1, N do
  local row = table_new(N, 0)
  for c = 1, N do row[c] = (r * 31 + c * 17) % 256 end
  m[r] = row
end

for _ = 1, steps do
  local nm = {}
  for r = 1, N do
    local up, row, down = m[r > 1 and r - 1 or r], m[r], m[r < N and r + 1 or r]
    local out = table_new(N, 0)
    out[1] = row[1]
    for c = 2, N - 1 do
      out[c] = (up[c] + down[c] + row[c - 1] + row[c + 1] + 4 * row[c]) * 0.125
    end
    out[N] = row[N]
    nm[r] = out
  end
  m = nm
end

local checksum = 0
for r = 1, N, 7 do
  local row = m[r]
  for c = 1, N, 13 do checksum = checksum + row[c] end
end
print("matrix_rows", steps, string.format("%.6f", checksum))
