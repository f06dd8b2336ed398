/*
** meshest.c: the Lua module "meshest" of bench-mesh: rcl_mesh_estimate()
** on the heap of the calling state of an unmodified luajit-reclaim binary.
**
** The binary keeps its allocator static (RCL_EMBED), so this module
** compiles its own copy of the analysis, unembedded (the allocator's other
** functions are declared, never referenced), (runtime/reclaim/rcl_mesh.c, which
** only reads heap structures and calls nothing of the allocator) from the
** same headers as the binary, and is handed the heap through the state's
** allocator userdata (lua_getallocf). Header and binary must come from the
** same tree: bench-mesh builds both from it, and the driver checks the
** walk's floor against the binary's own stats (luaJIT_reclaim_stats, taken
** right after the estimate with no allocation between), which a layout
** mismatch cannot pass.
**
**   meshest.estimate() -> table: every field of rcl_mesh_report, the
**   binary's stats_floor and stats_resident (bytes), and `classes`, an
**   array of the classes holding candidate pages.
*/
#define RCL_MESH_ESTIMATE 1
#include "rcl_mesh.c"

#include "lua.h"
#include "lauxlib.h"
#include "luajit-reclaim.h"

#define setnum(L, name, v) (lua_pushnumber(L, (lua_Number)(v)), lua_setfield(L, -2, name))

static int meshest_estimate(lua_State *L)
{
  void *heap = NULL;
  rcl_mesh_report *r;
  luajit_reclaim_stats st;
  unsigned c, n = 0;
  lua_getallocf(L, &heap);
  if (!heap) return luaL_error(L, "meshest: this state has no allocator heap");
  r = (rcl_mesh_report *)malloc(sizeof(*r));
  if (!r || rcl_mesh_estimate((rcl_heap *)heap, r) != 0) {
    free(r);
    return luaL_error(L, "meshest: out of memory (C library malloc)");
  }
  if (luaJIT_reclaim_stats(L, &st) != 0) {
    free(r);
    return luaL_error(L, "meshest: this state does not use the luajit-reclaim allocator");
  }
  lua_createtable(L, 0, 32);
  setnum(L, "page_size", r->page_size);
  setnum(L, "stats_floor", st.floor);
  setnum(L, "stats_resident", st.resident);
  setnum(L, "rounds", r->rounds);
  setnum(L, "max_share", r->max_share);
  setnum(L, "segments", r->segments);
  setnum(L, "live_blocks", r->live_blocks);
  setnum(L, "floor_pages", r->floor_pages);
  setnum(L, "large_pages", r->large_pages);
  setnum(L, "candidate_pages", r->candidate_pages);
  setnum(L, "excluded_current", r->excluded_current);
  setnum(L, "excluded_layout", r->excluded_layout);
  setnum(L, "excluded_medium", r->excluded_medium);
  setnum(L, "split_released", r->split_released);
  setnum(L, "greedy_released", r->greedy_released);
  setnum(L, "bound_released", r->bound_released);
  setnum(L, "split_vmas", r->split_vmas);
  setnum(L, "greedy_vmas", r->greedy_vmas);
  setnum(L, "split_share", r->split_share);
  setnum(L, "greedy_share", r->greedy_share);
  setnum(L, "split_passes", r->split_passes);
  setnum(L, "lock_ms", (double)r->lock_ns / 1e6);
  setnum(L, "plan_ms", (double)r->plan_ns / 1e6);
  lua_newtable(L);
  for (c = 0; c < RCL_MESH_CLASSES; c++) {
    const rcl_mesh_class_report *cr = &r->cls[c];
    if (!cr->pages) continue;
    lua_createtable(L, 0, 7);
    setnum(L, "block_size", cr->block_size);
    setnum(L, "slots", cr->slots);
    setnum(L, "pages", cr->pages);
    setnum(L, "live_slots", cr->live_slots);
    setnum(L, "split_released", cr->split_released);
    setnum(L, "greedy_released", cr->greedy_released);
    setnum(L, "bound_released", cr->bound_released);
    lua_rawseti(L, -2, (int)++n);
  }
  lua_setfield(L, -2, "classes");
  free(r);
  return 1;
}

int luaopen_meshest(lua_State *L);
int luaopen_meshest(lua_State *L)
{
  static const luaL_Reg funcs[] = { { "estimate", meshest_estimate }, { NULL, NULL } };
  luaL_register(L, "meshest", funcs);
  return 1;
}
