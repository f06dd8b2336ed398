-- syntax.lua: language-level behaviour that depends on build flags: without LUA52COMPAT (Debian)
-- `goto` is still usable as an identifier, while goto statements and labels work; plus varargs,
-- closures/upvalues, integer-keyed numeric for loops and string escapes from LuaJIT 2.1.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

local function compiles(src)
  local fn, err = loadstring(src, "=src")
  return fn, err
end

local fn, err = compiles("local goto = 1; return goto + 1")
if t.lua52compat() then   -- `goto` is a keyword in Lua 5.2
  t.ok(fn == nil and err:find("goto") ~= nil, "`local goto = 1` is a syntax error (LUA52COMPAT): " .. tostring(err))
  fn = compiles("local t = {goto = 3}; return t.goto")
  t.eq(fn, nil, "goto is not a field name (LUA52COMPAT)")
else
  t.ok(fn ~= nil, "`local goto = 1` compiles: " .. tostring(err))
  t.eq(fn and fn(), 2, "goto as an identifier")
  fn = compiles("local t = {goto = 3}; return t.goto")
  t.eq(fn and fn(), 3, "goto as a field name")
end

fn, err = compiles([[
  local out = {}
  for i = 1, 5 do
    if i % 2 == 0 then goto continue end
    out[#out + 1] = i
    ::continue::
  end
  return table.concat(out, ",")
]])
t.ok(fn ~= nil, "goto statement compiles: " .. tostring(err))
t.eq(fn and fn(), "1,3,5", "goto continue")
fn, err = compiles("goto nowhere")
t.ok(fn == nil and err:find("nowhere") ~= nil, "goto to an undefined label is a compile error")

-- Varargs.
local function va(...) return select("#", ...), ... end
t.eq(va(), 0, "no varargs")
t.eq(va(nil, nil), 2, "nil varargs counted")
t.eq(select(-1, 1, 2, 3), 3, "select negative")

-- Closures and shared upvalues.
local function counter()
  local n = 0
  return function() n = n + 1; return n end, function() return n end
end
local inc, get = counter()
for _ = 1, 100 do inc() end
t.eq(get(), 100, "shared upvalue")
local fns = {}
for i = 1, 3 do fns[i] = function() return i end end
t.eq(fns[1]() + fns[2]() + fns[3](), 6, "fresh loop variable per iteration")

-- LuaJIT 2.1 string escapes and literals.
t.eq("\x41\u{20AC}\z
      B", "A\226\130\172B", "\\x, \\u{} and \\z escapes")
t.eq(0x10p1, 32, "hex float literal")
t.eq(1e2, 100, "exponent literal")
t.eq(tostring(1ULL), "1ULL", "ULL literal")
t.eq(tostring(2i), "0+2i", "imaginary literal")

-- Metamethods.
local mt = {
  __add = function(a, b) return a.v + b.v end,
  __eq = function(a, b) return a.v == b.v end,
  __lt = function(a, b) return a.v < b.v end,
  __le = function(a, b) return a.v <= b.v end,
  __concat = function(a, b) return tostring(a.v) .. tostring(b.v) end,
  __call = function(self, x) return self.v * x end,
  __len = function() return 99 end,
  __index = function(_, k) return k .. "!" end,
}
local A, B = setmetatable({ v = 1 }, mt), setmetatable({ v = 2 }, mt)
t.eq(A + B, 3, "__add")
t.ok(A ~= B and A == setmetatable({ v = 1 }, mt), "__eq")
t.ok(A < B and A <= B and not (B < A), "__lt/__le")
t.eq(A .. B, "12", "__concat")
t.eq(B(21), 42, "__call")
t.eq(A.missing, "missing!", "__index function")

-- Environments.
local sandboxed = loadstring("return x")
setfenv(sandboxed, { x = "from env" })
t.eq(sandboxed(), "from env", "setfenv")

t.done()
