-- CPU benchmark: Markov chain text. Generates a 450,000-word corpus from a skewed
-- vocabulary, builds a table from each two-word prefix ("w1 w2") to the list of words that
-- follow it, then walks the chain to produce as many new words. The shape of text
-- processing jobs: a large table keyed by made-up strings, lists that grow by appending,
-- and lookups of freshly concatenated keys.
-- Usage: luajit markov_text.lua [words]   Prints a checksum that must match.

local words = tonumber(arg and arg[1]) or 450000

local vocab = {}
local x = 161803
for i = 1, 3000 do
  x = (x * 16807) % 2147483647
  local len = 2 + x % 8
  local w = {}
  for k = 1, len do
    x = (x * 16807) % 2147483647
    w[k] = string.char(97 + x % 26)
  end
  vocab[i] = table.concat(w) .. i % 10
end

-- Skewed choice: the square of a uniform draw favours low indexes (frequent words).
local function pick()
  x = (x * 16807) % 2147483647
  local u = (x % 1000000) / 1000000
  return vocab[math.floor(u * u * #vocab) + 1]
end

local corpus = {}
for i = 1, words do corpus[i] = pick() end

local chain, prefixes = {}, 0
local w1, w2 = corpus[1], corpus[2]
for i = 3, words do
  local key = w1 .. " " .. w2
  local list = chain[key]
  if not list then list = {}; chain[key] = list; prefixes = prefixes + 1 end
  list[#list + 1] = corpus[i]
  w1, w2 = w2, corpus[i]
end
corpus = nil

local out, checksum = {}, 0
w1, w2 = vocab[1], vocab[2]
for i = 1, words do
  local list = chain[w1 .. " " .. w2]
  local nxt
  if list then
    x = (x * 16807) % 2147483647
    nxt = list[x % #list + 1]
  else
    nxt = pick()
  end
  out[#out + 1] = nxt
  checksum = (checksum + #nxt * (i % 7 + 1)) % 1000000007
  if #out == 1000 then
    checksum = (checksum + #table.concat(out, " ")) % 1000000007
    out = {}
  end
  w1, w2 = w2, nxt
end
print("markov_text", words, prefixes, checksum)
