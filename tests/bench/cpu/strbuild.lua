-- CPU benchmark: string building and formatting. Formats numbers and records with
-- string.format, concatenates with .. and table.concat, and repeats/reverses pieces;
-- stresses string interning and buffer growth.
-- Usage: luajit strbuild.lua [rounds]   Prints a checksum that must match across builds.

local rounds = tonumber(arg and arg[1]) or 10000

local total = 0
for round = 1, rounds do
  local parts = {}
  for i = 1, 400 do
    parts[i] = string.format("%5d:%-8s|%8.3f|%x", i, "k" .. (i % 37), i * 1.25 + round, i * round)
  end
  local joined = table.concat(parts, ";")
  local acc = ""
  for i = 1, 60 do acc = acc .. parts[i]:sub(1, 6) .. "," end
  local rev = acc:reverse():upper()
  total = total + #joined + #acc + rev:byte(3) + #string.rep(parts[round % 400 + 1], 3, "/")
end
print("strbuild", rounds, total)
