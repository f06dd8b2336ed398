-- CPU benchmark: Conway's game of life on a 200 x 200 torus stored as a table of row
-- tables. Every generation builds a whole new board (200 new rows of 200 cells, each row
-- grown by appending, so its array part is reallocated as it doubles) and drops the old
-- one: about 0.5 MB of array parts become garbage per generation while the live board
-- stays small: the shape of double-buffered simulation state and of code
-- that rebuilds a table per frame instead of updating it in place.
-- Usage: luajit life.lua [generations]   Prints a checksum that must match.

local generations = tonumber(arg and arg[1]) or 800
local SIZE = 200

local board, x = {}, 1234
for r = 1, SIZE do
  local row = {}
  for c = 1, SIZE do
    x = (x * 16807) % 2147483647
    row[c] = (x % 10 < 3) and 1 or 0
  end
  board[r] = row
end

local function step(old)
  local new = {}
  for r = 1, SIZE do
    local up, row, down = old[(r - 2) % SIZE + 1], old[r], old[r % SIZE + 1]
    local out = {}
    for c = 1, SIZE do
      local left, right = (c - 2) % SIZE + 1, c % SIZE + 1
      local n = up[left] + up[c] + up[right] + row[left] + row[right]
        + down[left] + down[c] + down[right]
      if n == 3 or (n == 2 and row[c] == 1) then out[c] = 1 else out[c] = 0 end
    end
    new[r] = out
  end
  return new
end

local checksum = 0
for g = 1, generations do
  board = step(board)
  if g % 10 == 0 then
    local alive = 0
    for r = 1, SIZE do
      local row = board[r]
      for c = 1, SIZE do alive = alive + row[c] end
    end
    checksum = (checksum * 31 + alive) % 1000000007
  end
end
print("life", generations, checksum)
