-- CPU benchmark: large allocations. Grows big arrays and hash tables element by element
-- (repeated reallocation of large blocks), builds long strings, then drops them all, round
-- after round; exercises the allocator's large-block path and its release to the OS.
-- Usage: luajit bigalloc.lua [rounds]   Prints a checksum that must match across builds.

local rounds = tonumber(arg and arg[1]) or 50

local checksum = 0
for round = 1, rounds do
  local array, hash = {}, {}
  for i = 1, 200000 do
    array[i] = i * round
    hash[i * 7 + round] = i
  end
  local pieces = {}
  for i = 1, 64 do pieces[i] = string.rep(string.char(65 + (i + round) % 26), 4096 * (i % 8 + 1)) end
  local blob = table.concat(pieces)
  checksum = (checksum + #array + array[200000] % 1000 + #blob + blob:byte(round)) % 1000000007
  for k in pairs(hash) do checksum = (checksum + k) % 1000000007; break end
end
print("bigalloc", rounds, checksum)
