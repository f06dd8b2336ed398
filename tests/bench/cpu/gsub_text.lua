-- CPU benchmark: gsub-heavy text job. Generates a text corpus, then normalizes it with
-- chained gsub calls (patterns, captures, function and table replacements), counts words
-- with gmatch and renders a frequency summary.
-- Usage: luajit gsub_text.lua [rounds]   Prints a checksum that must match across builds.

local rounds = tonumber(arg and arg[1]) or 80

local WORDS = { "Lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing",
                "elit", "sed", "do", "eiusmod", "tempor", "incididunt", "ut", "labore",
                "et", "dolore", "magna", "aliqua", "Ut", "enim", "ad", "minim", "veniam" }

local function corpus(seed, lines)
  local out = {}
  local x = seed
  for l = 1, lines do
    local line = {}
    for w = 1, 12 do
      x = (x * 1103515245 + 12345) % 2147483648
      line[w] = WORDS[x % #WORDS + 1]
    end
    out[l] = table.concat(line, (l % 3 == 0) and ",  " or " ") .. ". " .. l
  end
  return table.concat(out, "\n")
end

local SHORTHAND = { ut = "UT", et = "&", ad = "AD" }

local checksum = 0
for round = 1, rounds do
  local text = corpus(round, 1500)
  text = text:gsub("%s+", " ")
  text = text:gsub("(%a+)", function(w) return SHORTHAND[w] or w:lower() end)
  text = text:gsub("(%d+)", "<%1>")
  text = text:gsub("(%a)(%a*)", "%1%2")
  local counts, distinct = {}, 0
  for word in text:gmatch("%a+") do
    if not counts[word] then distinct = distinct + 1; counts[word] = 0 end
    counts[word] = counts[word] + 1
  end
  local summary = {}
  for word, n in pairs(counts) do summary[#summary + 1] = word .. "=" .. n end
  table.sort(summary)
  checksum = (checksum + #text + distinct + #table.concat(summary, ",")) % 1000000007
end
print("gsub_text", rounds, checksum)
