-- capi.lua: the part of the Lua C API a test needs to act as an embedder, through the FFI:
-- make a second state with luaL_newstate() + luaL_openlibs() and run a chunk in it.
--
-- ffi.C looks the symbols up in the running process, so this works on dynamic builds only
-- (t.static() tells a test when not to load it). Declared once per process: every test that
-- needs more of the C API (luaJIT_reclaim_stats_ext, ...) declares only that part itself.
local ffi = require("ffi")

ffi.cdef[[
typedef struct lua_State lua_State;
lua_State *luaL_newstate(void);
void luaL_openlibs(lua_State *L);
int luaL_loadstring(lua_State *L, const char *s);
int lua_pcall(lua_State *L, int nargs, int nresults, int errfunc);
const char *lua_tolstring(lua_State *L, int idx, size_t *len);
void lua_close(lua_State *L);
]]

local C = ffi.C
local M = { C = C }

-- A new state with the standard libraries open. Raises if luaL_newstate() returns NULL.
function M.newstate()
  local L = C.luaL_newstate()
  assert(L ~= nil, "luaL_newstate returned NULL")
  C.luaL_openlibs(L)
  return L
end

-- Loads and runs chunk in L with one result. Returns the status (0 on success, as
-- luaL_loadstring/lua_pcall return it) and the result (or the error message) as a string,
-- "(no message)" when it is not a string or number. The value stays on L's stack.
function M.run(L, chunk)
  local rc = C.luaL_loadstring(L, chunk)
  if rc == 0 then rc = C.lua_pcall(L, 0, 1, 0) end
  local p = C.lua_tolstring(L, -1, nil)
  return rc, p ~= nil and ffi.string(p) or "(no message)"
end

-- M.run, raising with the chunk's error message on failure; returns the result.
function M.run_ok(L, chunk)
  local rc, res = M.run(L, chunk)
  if rc ~= 0 then error("chunk in the second state failed: " .. res, 2) end
  return res
end

return M
