-- buffer.lua: string.buffer (put/get/putf/set/skip/reserve/commit, encode/decode serialization,
-- dictionaries) including buffers of several MiB verified after a full GC.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")
local buffer = require("string.buffer")
local ffi = require("ffi")

local b = buffer.new()
b:put("alpha", 1, "-", 2.5):putf("|%05d|%s", 42, "x")
t.eq(b:tostring(), "alpha1-2.5|00042|x", "put/putf")
t.eq(#b, 18, "#buffer")
t.eq(b:get(5), "alpha", "get(n)")
b:skip(1)
t.eq(b:get(), "-2.5|00042|x", "get() rest")
t.eq(#b, 0, "buffer empty after get()")

b:set("borrowed")
t.eq(b:get(3), "bor", "set() then get")
b:reset()
t.eq(b:tostring(), "", "reset()")

-- reserve/commit write directly into the buffer.
local ptr, len = b:reserve(16)
t.ok(len >= 16, "reserve() gives at least the requested space")
ffi.copy(ptr, "0123456789", 10)
b:commit(10)
t.eq(b:tostring(), "0123456789", "reserve/commit")
local rptr, rlen = b:ref()
t.eq(rlen, 10, "ref() length")
t.eq(ffi.string(rptr, rlen), "0123456789", "ref() contents")
b:free()

-- Serialization round trip.
local value = {
  1, 2.5, -3, "str", true, false,
  nested = { deep = { deeper = { "x" } } },
  [10] = "sparse", big = 2 ^ 53, neg = -1e-300,
  i64 = 0x123456789LL, u64 = 0xFFFFFFFFFFFFFFFFULL,
}
local enc = buffer.encode(value)
t.eq(type(enc), "string", "encode returns a string")
local dec = buffer.decode(enc)
t.eq(dec[1], 1, "decode array 1")
t.eq(dec[2], 2.5, "decode array 2")
t.eq(dec[3], -3, "decode array 3")
t.eq(dec[4], "str", "decode string")
t.eq(dec[5], true, "decode true")
t.eq(dec[6], false, "decode false")
t.eq(dec[10], "sparse", "decode sparse")
t.eq(dec.nested.deep.deeper[1], "x", "decode nested")
t.eq(dec.big, 2 ^ 53, "decode 2^53")
t.eq(dec.neg, -1e-300, "decode tiny negative")
t.ok(dec.i64 == 0x123456789LL, "decode int64")
t.ok(dec.u64 == 0xFFFFFFFFFFFFFFFFULL, "decode uint64")
t.raises(function() buffer.decode("\255\255garbage") end, nil, "decode of garbage raises")
t.raises(function() buffer.encode({ f = print }) end, "cannot serialize", "encode of a function raises")

-- Dictionary and metatable options.
local opts = { dict = { "name", "value" } }
local eb = buffer.new(opts)
local small = eb:encode({ name = "n", value = 7 }):tostring()
local plain = buffer.encode({ name = "n", value = 7 })
t.ok(#small < #plain, "dict keys shrink the encoding")
local round = buffer.new(opts):set(small):decode()
t.eq(round.name, "n", "dict decode name")
t.eq(round.value, 7, "dict decode value")

-- Large buffers: 8 MiB of varied bytes, verified after a full GC.
local unit = "The quick brown fox jumps over the lazy dog 0123456789.\n"
local big = buffer.new()
local reps = math.floor(8 * 1024 * 1024 / #unit)
for _ = 1, reps do big:put(unit) end
collectgarbage("collect")
t.eq(#big, reps * #unit, "8 MiB buffer length")
local s = big:tostring()
t.ok(s == string.rep(unit, reps), "8 MiB buffer contents intact after GC")
t.ok(s:find("[^%w %.\n]") == nil, "8 MiB buffer has no foreign bytes")
local chunks = 0
while #big > 0 do
  local piece = big:get(65536)
  if piece ~= s:sub(chunks * 65536 + 1, chunks * 65536 + #piece) then
    chunks = -1
    break
  end
  chunks = chunks + 1
end
t.ok(chunks > 100, "8 MiB buffer read back in 64 KiB pieces")

local many = {}
for i = 1, 20000 do many[i] = { i, tostring(i), { i * 2 } } end
local blob = buffer.encode(many)
many = nil
collectgarbage("collect")
local back = buffer.decode(blob)
local good = #back == 20000
for i = 1, #back do
  local e = back[i]
  if e[1] ~= i or e[2] ~= tostring(i) or e[3][1] ~= i * 2 then good = false break end
end
t.ok(good, "20000-entry encode/decode round trip")

t.done()
