-- CPU benchmark: fasta generation and reverse complement. Builds a multi-record FASTA
-- text (~2.4 MB: headers plus 60-column lines drawn from weighted base frequencies with
-- a fixed-seed LCG) line by line into a table joined with table.concat, then reverses
-- and complements every record: the record's lines are joined, walked backwards in
-- 60-byte slices through string.reverse and a gsub with a lookup table, and joined again.
-- Big strings made from many small ones and taken apart again: the shape of response
-- bodies, file transforms and text exports.
-- Usage: luajit fasta_revcomp.lua [rounds]   Prints a checksum that must match.

local rounds = tonumber(arg and arg[1]) or 4
local RECORDS, LINES_PER_RECORD, WIDTH = 40, 1000, 60

local ALPHABET = "aaacccggttttacgtACGTNacgtacgtaa"
local COMPLEMENT = {
  a = "T", c = "G", g = "C", t = "A", A = "T", C = "G", G = "C", T = "A", N = "N",
}

local byte, sub = string.byte, string.sub

local x = 7
local function fasta()
  local out = {}
  local line = {}
  for r = 1, RECORDS do
    out[#out + 1] = ">record" .. r .. " generated sequence"
    for _ = 1, LINES_PER_RECORD do
      for i = 1, WIDTH do
        x = (x * 16807) % 2147483647
        local k = x % #ALPHABET + 1
        line[i] = sub(ALPHABET, k, k)
      end
      out[#out + 1] = table.concat(line)
    end
  end
  return table.concat(out, "\n") .. "\n"
end

local function revcomp(text)
  local out = {}
  for header, body in text:gmatch(">([^\n]*)\n([^>]*)") do
    local seq = body:gsub("\n", "")
    out[#out + 1] = ">" .. header
    for stop = #seq, 1, -WIDTH do
      local start = stop - WIDTH + 1
      if start < 1 then start = 1 end
      out[#out + 1] = (sub(seq, start, stop):reverse():gsub(".", COMPLEMENT))
    end
  end
  return table.concat(out, "\n") .. "\n"
end

local checksum = 0
for _ = 1, rounds do
  local text = fasta()
  local rc = revcomp(text)
  local sample = 0
  for i = 1, #rc, 997 do sample = (sample * 33 + byte(rc, i)) % 1000000007 end
  checksum = (checksum * 31 + #text + #rc + sample) % 1000000007
end
print("fasta_revcomp", rounds, checksum)
