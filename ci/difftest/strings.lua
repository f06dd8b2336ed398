-- ci/difftest/strings.lua: JIT differential test, strings and the string library. Its output
-- must be byte-identical on every target and JIT mode.
-- Invariants: deterministic; never prints an address or a hash-order-dependent sequence; loops
-- run long enough to be traced.
local fmt = string.format

-- Building strings in a loop (concat, rep, sub, buffers).
local parts = {}
for i = 1, 2000 do parts[#parts + 1] = fmt("%d:%x:%s;", i, i * 31, string.rep("ab", i % 5)) end
local big = table.concat(parts)
print("len", #big, big:sub(1, 60), big:sub(-40))

local sum = 0
for i = 1, #big, 7 do sum = (sum * 31 + big:byte(i)) % 1000000007 end
print("bytehash", sum)

-- Patterns and captures.
local words, total = 0, 0
for w, n in big:gmatch("(%d+):(%x+)") do words = words + 1; total = total + tonumber(n, 16) - tonumber(w) end
print("gmatch", words, total)
local replaced, count = big:sub(1, 3000):gsub("(%d)(ab)", "%2<%1>")
print("gsub", count, replaced:sub(1, 80))
print("gsubfn", (("hello world from lua"):gsub("%w+", function(w) return w:upper():reverse() end)))
print("find", big:find("1999:", 1, true), big:find("%d%d%d:3e%x"), ("a.b"):find(".", 1, true))
print("match", ("key = value # c"):match("^(%w+)%s*=%s*(%w+)"), ("  trim  "):match("^%s*(.-)%s*$") .. "|")

-- Formatting.
for i = 1, 300 do
  local line = fmt("%5d|%-6s|%08.3f|%+d|%x|%X|%o|%e|%q", i, ("s" .. i):sub(1, 6), i / 7, i - 150,
    i * 1000, i * 77, i, i * 1.25e-7, "q\"\n" .. i)
  if i % 60 == 0 then print(line) end
end
print(fmt("%s %s %s %s", nil, true, 12, 1.5), fmt("%c%c%c", 76, 117, 97), fmt("%%"))
print(fmt("%.3s|%10.4s|%-10s|", "abcdef", "abcdef", "x"))

-- Byte/char round trip over all byte values, upper/lower, rep with separator.
local all = {}
for i = 0, 255 do all[#all + 1] = string.char(i) end
local bytes = table.concat(all)
local back = { bytes:byte(1, -1) }
print("allbytes", #bytes, #back, back[1], back[256], bytes:upper():byte(98), bytes:lower():byte(66))
print("rep", ("ab"):rep(3, ","), ("x"):rep(0), #("xyz"):rep(1000))

-- string.buffer: put/get and encode/decode round trip (compared after sorting keys).
local buffer = require("string.buffer")
local b = buffer.new()
for i = 1, 500 do b:put(i, ",") end
print("buffer", #b, b:get(10), #b:tostring())
local value = { list = { 1, 2.5, "three", true }, n = 42, nested = { a = { b = { c = "deep" } } } }
local decoded = buffer.decode(buffer.encode(value))
local keys = {}
for k in pairs(decoded) do keys[#keys + 1] = k end
table.sort(keys)
print("decode", table.concat(keys, ","), decoded.list[3], decoded.list[2], decoded.nested.a.b.c, decoded.n)
