/*
** embed_smoke.c: proves the allocator works compiled the way LuaJIT embeds
** it: RCL_EMBED defined and rcl_all.c included into one translation unit,
** so every rcl_ function is static. Exits 0 after a small alloc/free/purge
** round; any failure prints what went wrong and exits 1.
*/
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#define RCL_EMBED
#ifndef RCL_TEST_HOOKS
#define RCL_TEST_HOOKS 1
#endif
#include "rcl_all.c"

int main(void)
{
  rcl_heap *h = rcl_heap_create(NULL, 1);
  void *p[1000];
  char err[200];
  rcl_stats st;
  size_t i;
  if (!h) { printf("embed: heap creation failed\n"); return 1; }
  for (i = 0; i < 1000; i++) { p[i] = rcl_alloc_f(h, NULL, 0, 24 + i * 40); memset(p[i], 1, 24 + i * 40); }
  for (i = 0; i < 1000; i += 2) rcl_alloc_f(h, p[i], 24 + i * 40, 0);
  rcl_cycle_end(h);
  rcl_step(h);
  rcl_purge(h);
  rcl_stats_get(h, &st);
  if (rcl_test_check(h, err, sizeof(err)) != 0) { printf("embed: %s\n", err); return 1; }
  for (i = 1; i < 1000; i += 2) if (((unsigned char *)p[i])[23] != 1) { printf("embed: corrupted\n"); return 1; }
  if (rcl_config_parse(&h->cfg, "decay=5", err, sizeof(err)) != 0) { printf("embed: %s\n", err); return 1; }
  printf("embed: ok (static API in one translation unit; in_use %zu, purged %llu bytes)\n",
         st.in_use, (unsigned long long)st.purged_total);
  rcl_heap_destroy(h);
  return 0;
}
