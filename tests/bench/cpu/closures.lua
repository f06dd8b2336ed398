-- CPU benchmark: closures. Creates counters and adders that capture upvalues, composes
-- them, and runs map/filter/reduce through function arguments.
-- Usage: luajit closures.lua [rounds]   Prints a checksum that must match across builds.

local rounds = tonumber(arg and arg[1]) or 300000

local function map(list, f)
  local out = {}
  for i = 1, #list do out[i] = f(list[i]) end
  return out
end

local function filter(list, keep)
  local out = {}
  for i = 1, #list do if keep(list[i]) then out[#out + 1] = list[i] end end
  return out
end

local function reduce(list, f, acc)
  for i = 1, #list do acc = f(acc, list[i]) end
  return acc
end

local function compose(f, g) return function(x) return f(g(x)) end end

local input = {}
for i = 1, 100 do input[i] = i end

local total = 0
for round = 1, rounds do
  local counter = 0
  local function bump(x) counter = counter + 1; return x + counter end
  local scale = function(x) return x * (round % 5 + 1) end
  local f = compose(scale, bump)
  local mapped = map(input, f)
  local even = filter(mapped, function(x) return x % 2 == 0 end)
  total = total + reduce(even, function(a, b) return a + b end, 0) % 1000003
end
print("closures", rounds, total)
