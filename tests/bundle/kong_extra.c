/*
** kong_extra.c: a Lua C module that imports a function no luajit-reclaim
** library exports, as a bundle carrying its own LuaJIT patches (Kong's) may
** have. check-bundle puts it under a test prefix's parent: check must name the
** symbol and install must refuse. Never loaded.
*/
#include "lua.h"

int lua_kong_only_function(lua_State *L);

int luaopen_kong_extra(lua_State *L)
{
  lua_pushinteger(L, lua_kong_only_function(L));
  return 1;
}
