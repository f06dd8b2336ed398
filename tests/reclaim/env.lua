-- env.lua: LUAJIT_RECLAIM="key=value,..." configures the allocator at state creation. As with
-- jemalloc's MALLOC_CONF, a bad item never stops a state: an unknown key or a bad value gives one
-- warning on stderr naming it (and what is accepted), that item is ignored, the other items apply,
-- and the process warns once however many states it creates. stdout, stderr and the exit status
-- of every child are checked exactly.
local here = arg[0]:match("(.*/)") or "./"
package.path = here .. "../lua/lib/?.lua;" .. here .. "lib/?.lua;" .. package.path
local t = require("t")

local PRINT_CONFIG = "local c = require('reclaim').config() "
  .. "print('decay=' .. tostring(c.decay) .. ' background=' .. tostring(c.background) "
  .. ".. ' mode=' .. tostring(c.mode) .. ' soft_limit=' .. tostring(c.soft_limit))"
local DEFAULTS = "decay=1000 background=false mode=dontneed soft_limit=0"
local KEYS = "decay, mode, soft_limit, background, background_interval, step_budget, full_gc_purge, "
  .. "show_stats, mesh"
local PREFIX = "luajit-reclaim: warning: LUAJIT_RECLAIM: "
local MS = "(expected milliseconds, an integer 0..4294967295)"

-- Runs the interpreter (with the flags in cli_flags, e.g. "-E ") with LUAJIT_RECLAIM set to
-- env_value (unset if nil) on script; returns stdout, stderr and the exit status, stderr read from
-- a file of its own.
local function run_with(env_value, script, cli_flags)
  local errfile = os.tmpname()
  local set = env_value and ("LUAJIT_RECLAIM=" .. t.shquote(env_value) .. " ")
    or "unset LUAJIT_RECLAIM; "
  local out, status = t.run(set .. t.interpreter() .. " " .. (cli_flags or "") .. "-e "
                            .. t.shquote(script or PRINT_CONFIG)
                            .. " 2>" .. t.shquote(errfile))
  local f = assert(io.open(errfile, "rb"))
  local err = f:read("*a")
  f:close()
  os.remove(errfile)
  return out, err, status
end

-- One child, every stream exactly.
local function expect(env_value, script, want_out, want_err, what, cli_flags)
  local out, err, status = run_with(env_value, script, cli_flags)
  t.eq(status, 0, what .. ": exit status")
  t.eq(out, want_out, what .. ": stdout")
  t.eq(err, want_err, what .. ": stderr")
end

-- Good values apply, silently.
expect("decay=5,background=1", nil, "decay=5 background=true mode=dontneed soft_limit=0\n", "",
       "decay=5,background=1")
expect(" mode = free , soft_limit=1000000,", nil,
       "decay=1000 background=false mode=free soft_limit=1000000\n", "", "mode=free,soft_limit=1000000")
expect(nil, nil, DEFAULTS .. "\n", "", "LUAJIT_RECLAIM unset: defaults")
expect("", nil, DEFAULTS .. "\n", "", "LUAJIT_RECLAIM empty: defaults")

-- One boolean vocabulary and words in any letter case.
for _, b in ipairs({ "on", "ON", "On", "true", "TRUE", "yes", "Yes", "1" }) do
  expect("background=" .. b, nil, "decay=1000 background=true mode=dontneed soft_limit=0\n", "",
         "background=" .. b)
end
for _, b in ipairs({ "off", "OFF", "false", "False", "no", "NO", "0" }) do
  expect("background=on,background=" .. b, nil, DEFAULTS .. "\n", "", "background=" .. b)
end
expect("mode=FREE,soft_limit=AUTO", nil, "decay=1000 background=false mode=free soft_limit=auto\n",
       "", "mode=FREE,soft_limit=AUTO")
expect("soft_limit=64M,mode=DontNeed", nil,
       "decay=1000 background=false mode=dontneed soft_limit=67108864\n", "", "soft_limit=64M")
expect("background=maybe", nil, DEFAULTS .. "\n",
       PREFIX .. "bad value 'maybe' for key 'background' "
       .. "(expected on, off, true, false, yes, no, 1 or 0); ignored\n", "background=maybe")

-- luajit -E ignores LUAJIT_RECLAIM as it ignores LUA_INIT and LUA_PATH: every option is back at
-- its default (the state read the variable before the arguments were parsed).
expect("decay=5", "print(require('reclaim').config().decay)", "1000\n", "", "-E: decay default",
       "-E ")
expect("decay=5,mode=free,soft_limit=1m,background=on,background_interval=20,step_budget=4k,"
       .. "full_gc_purge=off,show_stats=on", nil, DEFAULTS .. "\n", "", "-E: every option default",
       "-E ")
expect("decay=5,show_stats=on", "local c = require('reclaim').config() "
       .. "print(c.background_interval, c.step_budget, c.full_gc_purge, c.show_stats)",
       "250\t1048576\ttrue\tfalse\n", "", "-E: the other options default", "-E ")
-- The environment still applies without -E, and -E leaves later config{} calls working.
expect("decay=5", "print(require('reclaim').config().decay)", "5\n", "", "without -E: decay=5")
expect("decay=5", "print(require('reclaim').config{decay = 7}.decay)", "7\n", "",
       "-E then config{}", "-E ")

-- The acceptance case: a bad decay warns once, names decay and what it accepts, and the script
-- runs (no "cannot create state: not enough memory").
expect("decay=abc,mode=dontneed", "print(1)", "1\n",
       PREFIX .. "bad value 'abc' for key 'decay' " .. MS .. "; ignored\n", "decay=abc,mode=dontneed")

-- The bad key keeps its default; the valid keys around it still apply.
expect("mode=free,decay=abc,background=on", nil,
       "decay=1000 background=true mode=free soft_limit=0\n",
       PREFIX .. "bad value 'abc' for key 'decay' " .. MS .. "; ignored\n", "decay=abc between good keys")
expect("decay=-3,soft_limit=1k", nil, "decay=1000 background=false mode=dontneed soft_limit=1024\n",
       PREFIX .. "bad value '-3' for key 'decay' " .. MS .. "; ignored\n", "decay=-3")
expect("decay=7,decay=x", nil, "decay=7 background=false mode=dontneed soft_limit=0\n",
       PREFIX .. "bad value 'x' for key 'decay' " .. MS .. "; ignored\n",
       "a bad repeat leaves the earlier good value")

-- An unknown key: one warning naming it and the known keys.
expect("bogus=1,decay=5", nil, "decay=5 background=false mode=dontneed soft_limit=0\n",
       PREFIX .. "unknown key 'bogus' (keys: " .. KEYS .. "); ignored\n", "unknown key bogus")

-- Every bad item is named once; an item without '=' too.
expect("mode=sideways,nosuch=2,background", nil, DEFAULTS .. "\n",
       PREFIX .. "bad value 'sideways' for key 'mode' (expected dontneed, free or off); ignored\n"
       .. PREFIX .. "unknown key 'nosuch' (keys: " .. KEYS .. "); ignored\n"
       .. PREFIX .. "expected key=value, got 'background'; ignored\n", "three bad items")

-- A value too long to read is not cut short (130 zeros then 5 used to be read as 0).
expect("decay=" .. string.rep("0", 130) .. "5", nil, DEFAULTS .. "\n",
       PREFIX .. "value of key 'decay' is too long (131 characters, at most 127; expected "
       .. "milliseconds, an integer 0..4294967295); ignored\n", "decay of 131 characters")

-- Once per process: five more states created through the C API see the same variable, take its
-- good item and stay silent. Needs ffi.C symbol lookups (not on fully static builds).
if t.static() then
  t.skip("env.lua: states created through ffi.C (static build: no symbol lookup)")
else
  local MORE_STATES = [[
local ffi = require("ffi")
ffi.cdef[=[
typedef struct lua_State lua_State;
lua_State *luaL_newstate(void);
void lua_close(lua_State *L);
int luaJIT_reclaim_getopt(lua_State *L, const char *key, char *buf, size_t len);
]=]
local buf, got = ffi.new("char[64]"), {}
for i = 1, 5 do
  local L = ffi.C.luaL_newstate()
  assert(L ~= nil, "luaL_newstate failed")
  assert(ffi.C.luaJIT_reclaim_getopt(L, "decay", buf, 64) == 0)
  got[i] = ffi.string(buf)
  ffi.C.lua_close(L)
end
print(table.concat(got, " "))
]]
  expect("decay=abc,bogus=1,decay=5", MORE_STATES, "5 5 5 5 5\n",
         PREFIX .. "bad value 'abc' for key 'decay' " .. MS .. "; ignored\n"
         .. PREFIX .. "unknown key 'bogus' (keys: " .. KEYS .. "); ignored\n",
         "six states, one set of warnings")
end

t.done()
