/*
** test_registry.c: the per-process heap registry (rcl_registry.h) as an
** outside reader finds it: named in /proc/self/maps, a valid header, one
** slot per live heap with the figures of rcl_stats_get after a purge, an
** even sequence number when stable, the slot freed when the heap goes, the
** host's GC figures published at the next cycle end, and a forked child's
** registry private to it.
*/
#define _GNU_SOURCE
#include "unit_util.h"
#include "rcl_registry.h"

#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The registry's address from /proc/self/maps, as luajit-memstat finds it. */
static const rcl_registry_header *find_registry(void)
{
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  const rcl_registry_header *r = NULL;
  if (!f) return NULL;
  while (fgets(line, sizeof(line), f))
    if (strstr(line, "/memfd:" RCL_REGISTRY_NAME) || strstr(line, "[anon:" RCL_REGISTRY_NAME "]")) {
      r = (const rcl_registry_header *)(uintptr_t)strtoull(line, NULL, 16);
      break;
    }
  fclose(f);
  return r;
}

static const rcl_registry_slot *slot_of(const rcl_registry_header *r, const rcl_heap *h)
{
  const rcl_registry_slot *s = (const rcl_registry_slot *)(const void *)((const char *)r + r->header_size);
  uint32_t i;
  for (i = 0; i < r->nslots; i++)
    if (s[i].heap == (uint64_t)(uintptr_t)h) return &s[i];
  return NULL;
}

static void test_registry_slots(void)
{
  rcl_heap *a = rcl_heap_create(NULL, 110), *b = rcl_heap_create(NULL, 111);
  const rcl_registry_header *r = find_registry();
  const rcl_registry_slot *sa, *sb;
  void *p[1000];
  rcl_stats st;
  int i;
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_PTR_NOT_NULL_FATAL(b);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  CU_ASSERT(memcmp(r->magic, RCL_REGISTRY_MAGIC, sizeof(RCL_REGISTRY_MAGIC)) == 0);
  CU_ASSERT_EQUAL(r->version, RCL_REGISTRY_VERSION);
  CU_ASSERT_EQUAL(r->header_size, sizeof(rcl_registry_header));
  CU_ASSERT_EQUAL(r->slot_size, sizeof(rcl_registry_slot));
  CU_ASSERT_EQUAL(r->nslots, RCL_REGISTRY_SLOTS);
  CU_ASSERT_EQUAL(r->page_size, rcl_page_size());
  sa = slot_of(r, a);
  sb = slot_of(r, b);
  CU_ASSERT_PTR_NOT_NULL_FATAL(sa);
  CU_ASSERT_PTR_NOT_NULL_FATAL(sb);
  CU_ASSERT(sa != sb);
  for (i = 0; i < 1000; i++) { p[i] = rcl_malloc(a, 3000); memset(p[i], 1, 3000); }
  for (i = 0; i < 1000; i += 2) rcl_free(a, p[i], 3000);
  rcl_purge(a);
  rcl_stats_get(a, &st);
  CU_ASSERT_EQUAL(sa->seq % 2, 0);
  CU_ASSERT(sa->seq >= 4);                  /* created + purged: two writes */
  CU_ASSERT_EQUAL(sa->mapped, st.mapped);
  CU_ASSERT_EQUAL(sa->in_use, st.in_use);
  CU_ASSERT_EQUAL(sa->resident, st.resident);
  CU_ASSERT_EQUAL(sa->floor, st.floor);
  CU_ASSERT_EQUAL(sa->free_dirty, st.free_dirty);
  CU_ASSERT_EQUAL(sa->purged_bytes, st.purged_total);
  CU_ASSERT_EQUAL(sa->segments, st.segments);
  CU_ASSERT(sa->walked_ms > 0 && sa->walked_ms == sa->published_ms);
  CU_ASSERT(sa->in_use >= 500 * 3000);
  /* The host's GC figures go out at the next cycle end. */
  rcl_heap_note_gc(a, 123456, 65432);
  CU_ASSERT_EQUAL(sa->gc_total, 0);
  rcl_cycle_end(a);
  CU_ASSERT_EQUAL(sa->gc_total, 123456);
  CU_ASSERT_EQUAL(sa->gc_estimate, 65432);
  CU_ASSERT_EQUAL(sa->seq % 2, 0);
  for (i = 1; i < 1000; i += 2) rcl_free(a, p[i], 3000);
  rcl_heap_destroy(b);
  CU_ASSERT_EQUAL(sb->heap, 0);             /* freed for the next heap */
  CU_ASSERT_EQUAL(sb->seq % 2, 0);
  CU_ASSERT(r->heaps_destroyed >= 1 && r->heaps_created >= r->heaps_destroyed + 1);
  rcl_heap_destroy(a);
  CU_ASSERT_EQUAL(sa->heap, 0);
}

/* A child's writes (its heaps are copies of the parent's) stay its own. */
static rcl_heap *fork_heap;

static int child_writes(void *arg)
{
  const rcl_registry_header *r = find_registry();
  (void)arg;
  if (!r || !slot_of(r, fork_heap)) return 2;
  rcl_heap_note_gc(fork_heap, 777, 7);
  rcl_cycle_end(fork_heap);
  return slot_of(r, fork_heap)->gc_total == 777 ? 0 : 3;
}

static void test_registry_fork(void)
{
  const rcl_registry_header *r;
  int st;
  fork_heap = rcl_heap_create(NULL, 112);
  CU_ASSERT_PTR_NOT_NULL_FATAL(fork_heap);
  r = find_registry();
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  rcl_heap_note_gc(fork_heap, 555, 5);
  rcl_cycle_end(fork_heap);
  st = tu_child(child_writes, NULL, 20);
  CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CU_ASSERT_EQUAL(slot_of(r, fork_heap)->gc_total, 555);
  rcl_heap_destroy(fork_heap);
}

int tu_register_registry(void)
{
  CU_pSuite s = CU_add_suite("registry", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "slots: found in maps, figures of a purge, freed on destroy", test_registry_slots) ||
      !CU_add_test(s, "fork: the child's registry is its own", test_registry_fork))
    return -1;
  return 0;
}
