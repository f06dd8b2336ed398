-- strings.lua: the string library: format, patterns (find/match/gmatch/gsub with captures),
-- byte/char/rep/sub/upper/lower/reverse, and string interning.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

t.eq(string.format("%g", 1e20), "1e+20", "%g large")
t.eq(string.format("%g", 0.1), "0.1", "%g 0.1")
t.eq(string.format("%g", 100), "100", "%g integer")
t.eq(string.format("%.3g", 2 / 3), "0.667", "%.3g")
t.eq(string.format("%d", -42), "-42", "%d")
t.eq(string.format("%5d|%-5d|%05d", 42, 42, 42), "   42|42   |00042", "%d widths")
t.eq(string.format("%x %X %o", 255, 255, 8), "ff FF 10", "%x %X %o")
t.eq(string.format("%s %s %s", "a", 1, true), "a 1 true", "%s conversions")
t.eq(string.format("%q", "a\nb\"c\0"), "\"a\\\nb\\\"c\\0\"", "%q")
t.eq(string.format("%5.2f", 3.14159), " 3.14", "%f")
t.eq(string.format("%c%c%c", 76, 117, 97), "Lua", "%c")
t.eq(string.format("%%"), "%", "%%")
t.eq(string.format("%.14g", 2 ^ 53), "9.007199254741e+15", "%.14g 2^53")
t.eq(tostring(1 / 0), "inf", "tostring inf")
t.eq(tostring(-1 / 0), "-inf", "tostring -inf")
t.eq(tostring(0 / 0):find("nan") ~= nil, true, "tostring nan")
t.eq(tostring(2 ^ 63), "9.2233720368548e+18", "tostring 2^63")

t.eq(("hello world"):find("o w"), 5, "find plain")
t.eq(select(2, ("hello world"):find("l+")), 4, "find pattern end")
t.eq(("a.b"):find(".", 1, true), 2, "find plain flag")
t.eq(("key = value"):match("^(%w+)%s*=%s*(%w+)$"), "key", "match captures")
t.eq(select(2, ("key = value"):match("^(%w+)%s*=%s*(%w+)$")), "value", "match second capture")
t.eq(("  trim  "):match("^%s*(.-)%s*$"), "trim", "lazy match")
t.eq(("abc"):match("()b()"), 2, "position capture")
t.eq(("THE (quick) fox"):find("%((%a+)%)"), 5, "escaped parens")
t.eq(("f(a(b)c)d"):match("%b()"), "(a(b)c)", "%b balanced")
t.eq(("THE END"):match("%f[%a]%a+$"), "END", "%f frontier")

local words = {}
for w in ("one two  three"):gmatch("%a+") do words[#words + 1] = w end
t.eq(table.concat(words, ","), "one,two,three", "gmatch")
local pairs_seen = {}
for k, v in ("a=1, b=2, c=3"):gmatch("(%w+)=(%w+)") do pairs_seen[#pairs_seen + 1] = k .. v end
t.eq(table.concat(pairs_seen), "a1b2c3", "gmatch with captures")

local s, n = ("hello world"):gsub("o", "0")
t.ok(s == "hell0 w0rld" and n == 2, "gsub count")
t.eq((("hello world"):gsub("(%w+) (%w+)", "%2 %1")), "world hello", "gsub captures")
t.eq((("abc"):gsub("%w", "%0%0")), "aabbcc", "gsub %0")
t.eq((("$name is $age"):gsub("%$(%w+)", { name = "Bob", age = 42 })), "Bob is 42", "gsub table")
t.eq((("1 2 3"):gsub("%d", function(d) return d * 2 end)), "2 4 6", "gsub function")
t.eq((("abc"):gsub("", "-")), "-a-b-c-", "gsub empty pattern")
t.eq((("aaa"):gsub("a", "b", 2)), "bba", "gsub max n")
t.raises(function() ("x"):gsub("[a", "") end, "malformed pattern", "bad pattern raises")
t.raises(function() ("x"):find("%") end, "malformed pattern", "trailing % raises")

t.eq(string.byte("ABC"), 65, "byte")
t.eq(select("#", string.byte("ABC", 1, -1)), 3, "byte range")
t.eq(string.char(72, 105, 0, 255), "Hi\0\255", "char with 0 and 255")
t.eq(#string.char(0, 0, 0), 3, "embedded zeros count")
t.eq(string.rep("ab", 3), "ababab", "rep")
t.eq(string.rep("ab", 3, ","), "ab,ab,ab", "rep with separator")
t.eq(string.rep("x", 0), "", "rep 0")
t.eq(("hello"):sub(2, -2), "ell", "sub")
t.eq(("hello"):sub(-3), "llo", "sub negative")
t.eq(("hello"):sub(10), "", "sub out of range")
t.eq(("MiXeD"):upper(), "MIXED", "upper")
t.eq(("MiXeD"):lower(), "mixed", "lower")
t.eq(("abc"):reverse(), "cba", "reverse")
t.eq(("abc"):len(), 3, "len")
t.eq(tostring(12):rep(2), "1212", "number to string")
t.eq(tonumber("0x1F"), 31, "tonumber hex")
t.eq(tonumber("  12.5e1  "), 125, "tonumber float")
t.eq(tonumber("z", 36), 35, "tonumber base 36")
t.eq(tonumber("12a"), nil, "tonumber invalid")

-- Equal strings are one object (interning), also for long strings built in different ways.
local a = string.rep("interned", 1000)
local b = ("interned"):rep(500) .. ("interned"):rep(500)
t.ok(a == b, "long strings compare equal")
local set = {}
set[a] = true
t.ok(set[b], "long string as table key")

-- Strings of more than 2 KiB copied from every distance modulo 4 KiB of their source: on x86
-- a new string's data is copied backwards when it lies 1-63 bytes past its source modulo
-- 4 KiB (patch 0013). Every string must hold exactly its source's bytes, and some copies
-- must have been made at such a distance.
do
  local ffi = require("ffi")
  local small = os.getenv("LUAJIT_TEST_SMALL") == "1"
  local span = 4096 + 16384
  local buf = ffi.new("uint8_t[?]", span + 4096)
  for i = 0, span + 4095 do buf[i] = (i * 7 + 13) % 251 end
  local pattern = ffi.string(buf, span + 4096)    -- the same bytes as a Lua string
  local near, bad, made, serial = 0, 0, 0, 0
  for _, len in ipairs(small and { 2049, 6145 } or { 2049, 4096, 6145, 10000 }) do
    for o = 0, 4095, 8 do
      serial = serial + 1
      local src = buf + o
      local tag = string.char(serial % 256, math.floor(serial / 256) % 256, 255)
      ffi.copy(src, tag, 3)                       -- unique content: the string is copied
      local s = ffi.string(src, len)
      local d = tonumber(ffi.cast("uintptr_t", ffi.cast("const char *", s)) - ffi.cast("uintptr_t", src)) % 4096
      if d >= 1 and d <= 63 then near = near + 1 end
      made = made + 1
      -- The same bytes made through the temp buffer: equal strings are one object, so this
      -- is s only if s holds exactly src's bytes (the lookup compares s's data with them).
      local ref = tag .. pattern:sub(o + 4, o + len)
      if #s ~= len or s ~= ref then bad = bad + 1 end
      ffi.copy(src, pattern:sub(o + 1, o + 3), 3)
    end
  end
  t.eq(bad, 0, "strings of 2-10 KiB copied from a buffer at every distance hold its bytes")
  t.ok(made > 0 and near > 0, "some of those copies were 1-63 bytes past their source modulo 4 KiB (" .. near .. " of " .. made .. ")")
end

t.done()
