-- ci/difftest/errors.lua: JIT differential test, error paths (runtime error messages, error with
-- non-string values, pcall/xpcall with handlers and tracebacks, errors raised inside traced
-- loops, load/loadstring failures, string.dump round trip). Its output must be byte-identical
-- on every target and JIT mode.
-- Invariants: deterministic; messages name this file by the relative path the matrix runs it
-- with (ci/difftest/errors.lua), never an address.

local function try(f, ...)
  local results = { pcall(f, ...) }
  local parts = {}
  for i = 1, #results do parts[i] = tostring(results[i]) end
  print(table.concat(parts, " | "))
end

try(function() local t = nil; return t.x end)
try(function() return 1 + {} end)
try(function() return #nil end)
try(function() return ("x") < 1 end)
try(function() return nil .. "a" end)
try(function() error("plain message") end)
try(function() error("no position", 0) end)
try(function() error("level two", 2) end)
try(function() error(42) end)
try(function() error() end)
try(function() return math.floor("z") end)
try(function() return string.rep() end)
try(function() return setmetatable(1, {}) end)
try(function() local a; a() end)
try(function() return ("abc"):bad() end)
try(function() return select(0) end)

-- Errors raised from a hot loop after it has been compiled.
local function hot(limit)
  local s = 0
  for i = 1, 10000 do
    s = s + i
    if i == limit then error("stopped at " .. i .. " sum " .. s) end
  end
  return s
end
for _, limit in ipairs({ 5000, 9999, 20000 }) do try(hot, limit) end

-- A type change inside a traced loop (forces side exits).
local mixed = {}
for i = 1, 2000 do mixed[i] = (i % 97 == 0) and tostring(i) or i end
local okm, errm = pcall(function()
  local s = 0
  for i = 1, #mixed do s = s + mixed[i] end
  return s
end)
print("coerce", okm, errm)
mixed[500] = {}
try(function() local s = 0; for i = 1, #mixed do s = s + mixed[i] end; return s end)

-- xpcall with a message handler and a traceback (first lines only, positions are in this file).
local function handler(msg)
  local tb = debug.traceback(msg, 2)
  local first = {}
  for line in tb:gmatch("[^\n]+") do
    first[#first + 1] = line
    if #first == 3 then break end
  end
  return table.concat(first, " / ")
end
local function level3() error("deep failure") end
local function level2() level3() end
print("xpcall", xpcall(level2, handler))
print("xpcallargs", xpcall(function(a, b) return a + b end, handler, 2, 3))

-- Nested pcall with error objects and rethrow.
local okn, errn = pcall(function()
  local ok2, err2 = pcall(error, { msg = "inner" })
  error({ msg = "outer:" .. err2.msg, ok = ok2 })
end)
print("nested", okn, errn.msg, errn.ok)

-- load / loadstring errors and string.dump round trip.
print("load", loadstring("return +"))
print("load2", load("x ="))
local chunk = loadstring("local a, b = ... return a * b + 1")
local dumped = string.dump(chunk)
print("dump", loadstring(dumped)(6, 7), #dumped > 0)
local env_chunk = setfenv(loadstring("return who"), { who = "sandbox" })
print("setfenv", env_chunk())

-- tostring/tonumber failure modes and assert.
try(assert, false, "assertion text")
try(assert, nil)
try(tonumber, "10", 99)
print("tostringnil", tostring(nil), tostring(false), tonumber("  0x1F  "), tonumber("z", 36))
