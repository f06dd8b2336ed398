-- errors.lua: error/pcall/xpcall with tracebacks, error objects of any type, error levels,
-- runtime error messages, and stack overflow recovery.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

local ok, err = pcall(error, "plain")
t.ok(not ok and err == "plain", "error with string and level 1 from a C frame")

local function thrower() error("with position") end
ok, err = pcall(thrower)
t.ok(not ok and err:find("errors%.lua:%d+: with position") ~= nil, "error adds position: " .. tostring(err))

local function level2() error("caller's fault", 2) end
local function calls_level2() level2() end   -- the error is reported on this line
ok, err = pcall(calls_level2)
t.ok(not ok and err:find(":%d+: caller's fault") ~= nil, "error level 2")

local obj = { code = 7 }
ok, err = pcall(error, obj)
t.ok(not ok and err == obj, "error with a table value")
ok, err = pcall(error)
t.ok(not ok and err == nil, "error with nil")

ok, err = pcall(function() return 1 + {} end)
t.ok(not ok and err:find("attempt to perform arithmetic") ~= nil, "arithmetic on a table")
ok, err = pcall(function() local s = "x"; return s.y.z end)
t.ok(not ok and err:find("attempt to index") ~= nil, "index nil")
ok, err = pcall(function() undefined_global_function() end)
t.ok(not ok and err:find("undefined_global_function") ~= nil, "call nil names the global")

-- xpcall with a traceback handler.
local function handler(e) return debug.traceback("handled: " .. tostring(e), 2) end
local function inner() error("deep error") end
local function middle() inner() end
ok, err = xpcall(middle, handler)
t.ok(not ok, "xpcall reports failure")
t.ok(err:find("^handled: .-deep error") ~= nil, "handler saw the error")
t.ok(err:find("stack traceback:", 1, true) ~= nil, "traceback present")
t.ok(err:find("in function 'inner'", 1, true) ~= nil or err:find("inner", 1, true) ~= nil,
     "traceback names inner")
t.ok(select("#", xpcall(function() return 1, 2, 3 end, handler)) == 4, "xpcall returns all values")

-- Error in the error handler.
ok, err = xpcall(function() error("first") end, function() error("second") end)
t.ok(not ok, "error in handler still fails")

-- Nested pcall and rethrow.
ok, err = pcall(function()
  local ok2, e2 = pcall(error, "inner")
  error("outer(" .. tostring(ok2) .. "," .. e2 .. ")", 0)
end)
t.eq(err, "outer(false,inner)", "nested pcall and rethrow")

-- Stack overflow is caught and the VM keeps working.
local function recurse(n) return 1 + recurse(n + 1) end
ok, err = pcall(recurse, 1)
t.ok(not ok and err:find("stack overflow") ~= nil, "stack overflow is an error: " .. tostring(err))
local function count(n) if n == 0 then return 0 end return 1 + count(n - 1) end
t.eq(count(10000), 10000, "deep recursion works after overflow")

-- __tostring on error objects and tostring of errors.
local eobj = setmetatable({}, { __tostring = function() return "custom error" end })
ok, err = pcall(error, eobj)
t.eq(tostring(err), "custom error", "__tostring on error object")

-- assert with message and with extra values.
ok, err = pcall(assert, false, "assert message")
t.eq(err, "assert message", "assert message")
ok, err = pcall(assert, nil)
t.ok(err:find("assertion failed") ~= nil, "default assert message")

t.done()
