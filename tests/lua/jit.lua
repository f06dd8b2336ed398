-- jit.lua: jit.* identity (version, arch, os, GC64) and that the JIT really compiles traces in the
-- modes the runner uses (on: default, off: -joff, hotloop: -Ohotloop=1 -Ohotexit=1).
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")
local ffi = require("ffi")

local mode = t.mode()

t.ok(jit.version:find("^LuaJIT 2%.1%.") ~= nil, "jit.version is LuaJIT 2.1.x: " .. jit.version)
t.eq(type(jit.version_num), "number", "jit.version_num is a number")
t.ok(jit.version_num >= 20100 and jit.version_num < 20200, "jit.version_num is 2.1.x")
t.ok(jit.arch == "x64" or jit.arch == "arm64", "jit.arch is x64 or arm64: " .. tostring(jit.arch))
t.eq(jit.os, "Linux", "jit.os")
t.ok(ffi.abi("64bit"), "64-bit ABI")
t.ok(ffi.abi("gc64"), "GC64 mode")
t.ok(ffi.abi("le"), "little-endian")

local status = jit.status()
t.eq(status, mode ~= "off", "jit.status() in mode " .. mode)

-- Counts trace "stop" events while fn runs.
local function traces_during(fn)
  local stops, aborts = 0, 0
  local function on_trace(what)
    if what == "stop" then stops = stops + 1 elseif what == "abort" then aborts = aborts + 1 end
  end
  jit.attach(on_trace, "trace")
  fn()
  jit.attach(on_trace)
  return stops, aborts
end

local function hot_loop()
  local acc = 0
  for i = 1, 20000 do acc = acc + bit.band(i, 7) * 3 end
  return acc
end
local result
local stops = traces_during(function() result = hot_loop() end)
t.eq(result, 20000 / 8 * (0 + 1 + 2 + 3 + 4 + 5 + 6 + 7) * 3, "hot loop result")
if mode == "off" then
  t.eq(stops, 0, "no trace compiled with -joff")
else
  t.ok(stops > 0, "a trace was compiled for a hot loop (stops=" .. stops .. ")")
end

-- A 10-iteration loop is hot only under -Ohotloop=1.  jit.off()+jit.on() resets the hot counters.
if mode ~= "off" then
  jit.off(); jit.on()
  local short_stops = traces_during(function()
    local s = 0
    for i = 1, 10 do s = s + i end
    t.eq(s, 55, "short loop result")
  end)
  if mode == "hotloop" then
    t.ok(short_stops > 0, "-Ohotloop=1 compiles a 10-iteration loop")
  else
    t.eq(short_stops, 0, "default hotloop does not compile a 10-iteration loop")
  end
end

-- Side exits: a branchy loop produces correct results whichever way traces exit.
local function branchy(n)
  local a, b = 0, 0
  for i = 1, n do
    if i % 3 == 0 then a = a + i elseif i % 5 == 0 then b = b - i else a = a + 1 end
  end
  return a, b
end
local a, b = branchy(30000)
-- Closed forms for n = 30000: multiples of 3 sum to 3*(10000*10001/2) = 150015000; the 16000
-- numbers divisible by neither 3 nor 5 add 1 each; b = -(multiples of 5 - multiples of 15)
-- = -(5*(6000*6001/2) - 15*(2000*2001/2)) = -60000000.
local ea, eb = 150015000 + 16000, -60000000
t.eq(a, ea, "branchy loop a")
t.eq(b, eb, "branchy loop b")

-- jit.flush() must not break running code.
jit.flush()
t.eq(hot_loop(), result, "hot loop after jit.flush()")

t.done()
