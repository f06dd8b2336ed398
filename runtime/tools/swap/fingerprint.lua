-- fingerprint.lua: what luajit-reclaim-swap compares between a bundle's
-- LuaJIT and ours, printed as key=value lines (run by luajit-reclaim-probe in
-- a library, or by a luajit CLI). Keys:
--   version, arch, os     jit.version, jit.arch, jit.os
--   bcversion             the bytecode format version (string.dump header)
--   gc64                  1 when the dump header has the FR2 flag (GC64 mode)
--   ffi                   1 when require("ffi") works
--   lua52compat           1 when the 5.2 extensions are on (LUAJIT_ENABLE_LUA52COMPAT)
--   numbers               how numbers behave (dual-number mode, LUAJIT_NUMMODE):
--                         results that differ between integer and double
--                         arithmetic, computed at run time (no constant folding)
--   reclaim               our version, or "none" for a LuaJIT without require("reclaim")
--   path, cpath           the built-in package.path and package.cpath
-- Invariant: writes no file and no global; the output is the same on every
-- run of the same build (no addresses, no times).
local function out(k, v) io.write(k, "=", tostring(v), "\n") end

out("version", jit and jit.version or "none")
out("arch", jit and jit.arch or "none")
out("os", jit and jit.os or "none")

local dump = string.dump(function() return 1 end)
assert(dump:sub(1, 3) == "\27LJ", "string.dump gives no LuaJIT bytecode header")
local flags = dump:byte(5)
out("bcversion", dump:byte(4))
out("gc64", math.floor(flags / 8) % 2)   -- BCDUMP_F_FR2 = 8

out("ffi", pcall(require, "ffi") and 1 or 0)
out("lua52compat", (table.pack ~= nil and rawlen ~= nil) and 1 or 0)

local function numbers(zero, big, three)
  return table.concat({
    tostring(-zero), tostring(big + 1), tostring(big * big), tostring(three / 2),
    tostring(-three % 2), tostring(math.floor(-zero)), string.format("%.17g", 0.1 * three),
  }, " ")
end
out("numbers", numbers(tonumber("0"), tonumber("2147483647"), tonumber("3")))

local ok, r = pcall(require, "reclaim")
out("reclaim", ok and r.version or "none")
out("path", package.path)
out("cpath", package.cpath)
