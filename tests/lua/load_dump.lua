-- load_dump.lua: load/loadstring/loadfile/dofile and string.dump round trips (normal and
-- stripped bytecode), including a function with upvalues, many constants and nested protos.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

local fn = loadstring("local a, b = ...; return a * b")
t.eq(fn(6, 7), 42, "loadstring with varargs")
local bad, err = loadstring("return +", "=chunk")
t.ok(bad == nil and err:find("chunk:1") ~= nil, "syntax error names the chunk")

local parts = { "return ", "1 ", "+ ", "2" }
local i = 0
fn = load(function() i = i + 1; return parts[i] end)
t.eq(fn(), 3, "load with a reader function")

local function sample(x)
  local tbl = { 1.5, "str", true, { nested = x } }
  local function inner(y) return y * 2 end
  return inner(x) + #tbl, tbl[4].nested, tbl[2]
end
for _, strip in ipairs({ false, true }) do
  local bc = string.dump(sample, strip)
  t.eq(bc:sub(1, 3), "\27LJ", "bytecode header (strip=" .. tostring(strip) .. ")")
  local back = loadstring(bc)
  local r1, r2, r3 = back(10)
  t.ok(r1 == 24 and r2 == 10 and r3 == "str", "dump/load round trip (strip=" .. tostring(strip) .. ")")
end
t.ok(#string.dump(sample, true) < #string.dump(sample), "stripped bytecode is smaller")
t.raises(function() string.dump(print) end, "unable to dump", "dumping a C function fails")

-- Many constants and nested functions.
local src = { "local t = {}" }
for k = 1, 3000 do src[#src + 1] = ("t[%d] = function() return %d, 'k%d', %d.5 end"):format(k, k, k, k) end
src[#src + 1] = "return t"
local big = assert(loadstring(table.concat(src, "\n")))
local reloaded = loadstring(string.dump(big))()
local okall = true
for k = 1, 3000 do
  local a, b, c = reloaded[k]()
  if a ~= k or b ~= "k" .. k or c ~= k + 0.5 then okall = false break end
end
t.ok(okall, "3000 nested functions survive dump/load")

-- loadfile/dofile, text and bytecode files.
local path = os.tmpname()
local f = assert(io.open(path, "wb"))
f:write("local n = ... or 5; return n * n")
f:close()
t.eq(loadfile(path)(9), 81, "loadfile")
t.eq(dofile(path), 25, "dofile")
local dumped = string.dump(loadfile(path))
f = assert(io.open(path, "wb"))
f:write(dumped)
f:close()
t.eq(loadfile(path)(4), 16, "loadfile of bytecode")
os.remove(path)

-- Bytecode must be rejected when it is malformed.
local bc = string.dump(sample)
t.ok(loadstring(bc:sub(1, #bc - 10)) == nil, "truncated bytecode is rejected")

t.done()
