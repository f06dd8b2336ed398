-- ffi_libc.lua: FFI calls into libc through ffi.C (strlen, getpid, snprintf varargs, errno) and a
-- Lua callback driven by libc's qsort.
-- Skips only when LUAJIT_TEST_STATIC=1 says the build is fully static and ffi.C lookups indeed
-- fail; on every other build an unresolvable ffi.C symbol is a failure.
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")
local ffi = require("ffi")

ffi.cdef[[
size_t strlen(const char *s);
int getpid(void);
int snprintf(char *buf, size_t size, const char *fmt, ...);
int close(int fd);
void qsort(void *base, size_t nmemb, size_t size, int (*compar)(const void *, const void *));
]]

local resolved, err = pcall(function() return ffi.C.strlen end)
if not resolved and t.static() then
  t.skip("ffi.C cannot resolve libc symbols on this fully static build: " .. tostring(err))
  -- A static build must still fail lookups cleanly rather than crash.
  t.raises(function() return ffi.C.getpid end, "getpid", "unresolvable ffi.C symbol raises an error")
  t.done()
end
t.ok(resolved, "ffi.C.strlen resolves (" .. tostring(err) .. ")")

t.eq(tonumber(ffi.C.strlen("hello, world")), 12, "strlen")
t.eq(tonumber(ffi.C.strlen("")), 0, "strlen of empty string")

local stat = io.open("/proc/self/stat", "r")
if stat then
  local pid = tonumber(stat:read("*l"):match("^(%d+)"))
  stat:close()
  t.eq(ffi.C.getpid(), pid, "getpid matches /proc/self/stat")
else
  t.ok(ffi.C.getpid() > 0, "getpid is positive (no /proc)")
end

local buf = ffi.new("char[64]")
local n = ffi.C.snprintf(buf, 64, "%d|%s|%.3f|%lld", ffi.new("int", -7), "ffi", 2.5,
                         ffi.new("long long", 1234567890123))
t.eq(ffi.string(buf), "-7|ffi|2.500|1234567890123", "snprintf with varargs")
t.eq(n, 26, "snprintf return value")

t.eq(ffi.C.close(-1), -1, "close(-1) fails")
t.eq(ffi.errno(), 9, "errno is EBADF after close(-1)")

-- qsort calls back into Lua.  The caller runs with the JIT off for this function: LuaJIT does not
-- allow a C function called from JIT-compiled code to call back into Lua ("bad callback").
local function sort_with_qsort(values)
  local count = #values
  local arr = ffi.new("int[?]", count)
  for i = 1, count do arr[i - 1] = values[i] end
  local calls = 0
  local cmp = ffi.cast("int (*)(const void *, const void *)", function(pa, pb)
    calls = calls + 1
    local a = ffi.cast("const int *", pa)[0]
    local b = ffi.cast("const int *", pb)[0]
    return a < b and -1 or (a > b and 1 or 0)
  end)
  ffi.C.qsort(arr, count, ffi.sizeof("int"), cmp)
  cmp:free()
  local out = {}
  for i = 1, count do out[i] = arr[i - 1] end
  return out, calls
end
jit.off(sort_with_qsort)

local seed, values = 12345, {}
for i = 1, 2000 do
  seed = (seed * 16807) % 2147483647
  values[i] = seed % 100000 - 50000
end
for round = 1, 3 do
  local sorted, calls = sort_with_qsort(values)
  local in_order = #sorted == #values
  for i = 2, #sorted do
    if sorted[i - 1] > sorted[i] then in_order = false break end
  end
  t.ok(in_order, "qsort through a Lua callback sorts (round " .. round .. ")")
  t.ok(calls >= #values - 1, "the callback ran (" .. calls .. " calls)")
end

t.done()
