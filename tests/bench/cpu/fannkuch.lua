-- CPU benchmark: fannkuch-redux. Counts pancake flips over all permutations of n elements;
-- pure array indexing, no allocation in the loop.
-- Usage: luajit fannkuch.lua [n] [repeats]   Prints checksum and max flips (must match).

local n = tonumber(arg and arg[1]) or 10
local repeats = tonumber(arg and arg[2]) or 2

local function fannkuch(size)
  local perm, perm1, count = {}, {}, {}
  for i = 0, size - 1 do perm1[i] = i end
  local max_flips, checksum, sign = 0, 0, 1
  local r = size
  while true do
    while r ~= 1 do count[r - 1] = r; r = r - 1 end
    for i = 0, size - 1 do perm[i] = perm1[i] end
    local flips = 0
    local k = perm[0]
    while k ~= 0 do
      local i, j = 1, k - 1
      while i < j do perm[i], perm[j] = perm[j], perm[i]; i = i + 1; j = j - 1 end
      local next_k = perm[k]
      perm[k] = k
      k = next_k
      flips = flips + 1
    end
    if flips > max_flips then max_flips = flips end
    checksum = checksum + sign * flips
    sign = -sign
    while true do
      if r == size then return checksum, max_flips end
      local first = perm1[0]
      for i = 0, r - 1 do perm1[i] = perm1[i + 1] end
      perm1[r] = first
      count[r] = count[r] - 1
      if count[r] > 0 then break end
      r = r + 1
    end
  end
end

local checksum, flips
for _ = 1, repeats do checksum, flips = fannkuch(n) end
print("fannkuch", n, checksum, flips)
