-- io_os.lua: file I/O (write, read back in all read formats, seek, lines, append, binary data)
-- and os basics (time/date/clock/getenv/remove/rename/tmpname).
package.path = (arg[0]:match("(.*/)") or "./") .. "lib/?.lua;" .. package.path
local t = require("t")

local path = os.tmpname()
t.eq(type(path), "string", "os.tmpname")

local f = assert(io.open(path, "wb"))
-- Lua 5.1 semantics: write returns true; with LUA52COMPAT it returns the file.
local wrote = f:write("line one\n", 42, "\n", 3.5, "\nlast")
if t.lua52compat() then t.eq(wrote, f, "write returns the file (LUA52COMPAT)")
else t.eq(wrote, true, "write returns true") end
f:close()

f = assert(io.open(path, "rb"))
t.eq(f:read("*l"), "line one", "read *l")
t.eq(f:read("*n"), 42, "read *n")
t.eq(f:read("*n"), 3.5, "read *n float")
t.eq(f:read("*a"), "\nlast", "read *a")
t.eq(f:read("*l"), nil, "read at EOF")
t.eq(f:seek("set", 5), 5, "seek set")
t.eq(f:read(3), "one", "read n bytes")
t.eq(f:seek("end"), 20, "seek end gives the size")
f:close()

local lines = {}
for l in io.lines(path) do lines[#lines + 1] = l end
t.eq(#lines, 4, "io.lines")
t.eq(lines[4], "last", "io.lines last line")

f = assert(io.open(path, "ab"))
f:write("\nappended")
f:close()
f = assert(io.open(path, "rb"))
local all = f:read("*a")
f:close()
t.eq(all, "line one\n42\n3.5\nlast\nappended", "append mode")

-- Binary data with every byte value, 1 MiB.
local bytes = {}
for i = 0, 255 do bytes[#bytes + 1] = string.char(i) end
local chunk = table.concat(bytes)
local blob = chunk:rep(4096)
f = assert(io.open(path, "wb"))
f:setvbuf("full", 65536)
f:write(blob)
f:close()
f = assert(io.open(path, "rb"))
local back = f:read("*a")
f:close()
t.eq(#back, 1048576, "1 MiB binary size")
t.ok(back == blob, "1 MiB binary round trip")

local renamed = path .. ".renamed"
t.ok(os.rename(path, renamed), "os.rename")
t.eq(io.open(path, "rb"), nil, "old name gone")
t.ok(os.remove(renamed), "os.remove")
local nf, nerr = io.open(renamed, "rb")
t.ok(nf == nil and nerr:find("No such file") ~= nil, "open missing file fails with a message")

if t.lua52compat() then t.eq(io.write(""), io.stdout, "io.write returns io.stdout (LUA52COMPAT)")
else t.eq(io.write(""), true, "io.write returns true") end
t.eq(io.type(io.stdout), "file", "io.type")

-- os.
local now = os.time()
t.ok(now > 1600000000, "os.time is after 2020")
t.eq(os.time({ year = 2000, month = 1, day = 1, hour = 12 }) -
     os.time({ year = 2000, month = 1, day = 2, hour = 12 }), -86400, "os.time with a table")
t.eq(os.date("!%Y-%m-%d %H:%M:%S", 86400 * 365), "1971-01-01 00:00:00", "os.date UTC")
local d = os.date("*t", now)
t.ok(d.year >= 2020 and d.month >= 1 and d.month <= 12, "os.date *t")
t.ok(type(os.clock()) == "number" and os.clock() >= 0, "os.clock")
t.eq(os.getenv("LUAJIT_TEST_NO_SUCH_VARIABLE_XYZ"), nil, "getenv of an unset variable")
t.ok(os.getenv("PATH") ~= nil, "getenv PATH")
t.ok(os.difftime(10, 4) == 6, "difftime")

t.done()
