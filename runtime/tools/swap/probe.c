/*
** luajit-reclaim-probe: runs a Lua file in whichever libluajit-5.1.so.2 the
** dynamic linker finds, so luajit-reclaim-swap can ask a bundle's library and
** ours the same questions (LD_LIBRARY_PATH=DIR luajit-reclaim-probe FILE).
**
**   luajit-reclaim-probe FILE [ARG...]
**
** Prints "library=PATH" (the file lua_newstate came from, by dladdr) first,
** then runs FILE in a new state with the standard libraries open; ARG... are
** the chunk's varargs. Exit status 0 when the chunk ran without error, 1 on a
** Lua error (message on stderr), 2 on bad usage.
**
** Invariants: linked against libluajit-5.1.so.2 by SONAME with no run path,
** so the library is the one LD_LIBRARY_PATH (or the system) names; it calls
** only the Lua 5.1 C API every LuaJIT exports.
*/

#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

static int usage(FILE *out)
{
  fputs("usage: luajit-reclaim-probe FILE [ARG...]\n"
        "Runs the Lua FILE in the libluajit-5.1.so.2 the dynamic linker finds\n"
        "(set LD_LIBRARY_PATH to choose it) and prints library=PATH first.\n", out);
  return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
  Dl_info info;
  lua_State *L;
  int i, status;

  if (argc < 2) return usage(stderr);
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return usage(stdout);
  if (!dladdr((void *)lua_newstate, &info) || !info.dli_fname) {
    fputs("luajit-reclaim-probe: cannot tell which library provides lua_newstate\n", stderr);
    return 1;
  }
  printf("library=%s\n", info.dli_fname);
  fflush(stdout);
  L = luaL_newstate();
  if (!L) {
    fputs("luajit-reclaim-probe: luaL_newstate failed (out of memory)\n", stderr);
    return 1;
  }
  luaL_openlibs(L);
  status = luaL_loadfile(L, argv[1]);
  if (status == 0) {
    for (i = 2; i < argc; i++) lua_pushstring(L, argv[i]);
    status = lua_pcall(L, argc - 2, 0, 0);
  }
  if (status != 0) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "luajit-reclaim-probe: %s: %s\n", argv[1], msg ? msg : "(error object is not a string)");
    lua_close(L);
    return 1;
  }
  fflush(stdout);
  lua_close(L);
  return 0;
}
