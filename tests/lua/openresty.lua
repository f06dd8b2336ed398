-- openresty.lua: the OpenResty luajit2 extensions that exist in 2.1-20250117 (checked in its
-- lib_table.c, lib_jit.c and lib_base.c): table.isempty/isarray/nkeys/clone, jit.prngstate,
-- thread.exdata/exdata2; and the absence of the Lua 5.2 compat functions (Debian builds without
-- LUAJIT_ENABLE_LUA52COMPAT).
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

local isempty = require("table.isempty")
local isarray = require("table.isarray")
local nkeys = require("table.nkeys")
local clone = require("table.clone")

t.eq(isempty({}), true, "isempty {}")
t.eq(isempty({ nil }), true, "isempty {nil}")
t.eq(isempty({ 1 }), false, "isempty {1}")
t.eq(isempty({ a = false }), false, "isempty {a=false}")

t.eq(isarray({}), true, "isarray {}")
t.eq(isarray({ 1, 2, 3 }), true, "isarray {1,2,3}")
t.eq(isarray({ 1, nil, 3 }), true, "isarray with hole")
t.eq(isarray({ 1, 2, x = 1 }), false, "isarray with hash key")
t.eq(isarray({ [1.5] = 1 }), false, "isarray with non-integer key")

t.eq(nkeys({}), 0, "nkeys {}")
t.eq(nkeys({ 1, 2, nil, 4, a = 1, b = 2 }), 5, "nkeys mixed")
local big = {}
for i = 1, 5000 do big["k" .. i] = i end
t.eq(nkeys(big), 5000, "nkeys 5000")

local src = { 1, 2, x = { "shared" } }
local dup = clone(src)
t.ok(dup ~= src, "clone is a new table")
t.eq(dup[2], 2, "clone copies array part")
t.ok(dup.x == src.x, "clone is shallow")

-- jit.prngstate: get/set the JIT's PRNG state as 8 32-bit words.
t.eq(type(jit.prngstate), "function", "jit.prngstate exists")
local old = jit.prngstate({ 432, 23, 50 })
t.eq(type(old), "table", "prngstate returns the old state")
t.eq(#old, 8, "old state has 8 words")
local now = jit.prngstate()
t.eq(table.concat(now, ","), "432,23,50,0,0,0,0,0", "prngstate round trip")
jit.prngstate(32)
t.eq(table.concat(jit.prngstate(), ","), "32,0,0,0,0,0,0,0", "prngstate(number)")
t.raises(function() jit.prngstate({ 1, 2, 3, 4, 5, 6, 7, 8, 9 }) end, nil,
         "prngstate rejects more than 8 words")
-- (The old state is not restored: words with bit 31 set come back negative and are rejected.)

-- thread.exdata: a pointer-sized slot per coroutine, read and written through the FFI.
local ffi = require("ffi")
local exdata = require("thread.exdata")
local exdata2 = require("thread.exdata2")
t.ok(exdata() == nil, "exdata initially NULL")
local cell = ffi.new("int[1]")
exdata(ffi.cast("void *", cell))
t.ok(exdata() == ffi.cast("void *", cell), "exdata round trip")
exdata2(ffi.cast("void *", 0x1234))
t.eq(tonumber(ffi.cast("uintptr_t", exdata2())), 0x1234, "exdata2 round trip")
t.ok(exdata() == ffi.cast("void *", cell), "exdata unaffected by exdata2")
exdata(ffi.cast("void *", nil))
exdata2(ffi.cast("void *", nil))
t.ok(exdata() == nil and exdata2() == nil, "exdata slots reset to NULL")

-- Debian builds without LUAJIT_ENABLE_LUA52COMPAT; OpenResty's flags have it.
if t.lua52compat() then
  t.eq(type(table.pack), "function", "table.pack (LUA52COMPAT)")
  t.eq(rawlen({ 1, 2, 3 }), 3, "rawlen (LUA52COMPAT)")
else
  t.eq(table.pack, nil, "no table.pack (LUA52COMPAT off)")
  t.eq(rawlen, nil, "no rawlen (LUA52COMPAT off)")
end

t.done()
