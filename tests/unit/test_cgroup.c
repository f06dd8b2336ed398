/*
** test_cgroup.c: soft_limit=auto against a real memory cgroup. As root, a
** child memory cgroup (v2 where the process's v2 group has the memory
** controller, else v1) is made with a 256 MiB limit; a forked child joins
** it and creates a heap with soft_limit=auto, whose limit in force (the
** registry slot's soft_limit) must be RCL_SOFT_LIMIT_AUTO_PERCENT of it.
** The group is removed afterwards. No usable memory cgroup is a failure
** that says so, never a pass. Also: "auto" parses and formats as itself.
*/
#define _GNU_SOURCE
#include "unit_util.h"
#include "rcl_registry.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define LIMIT ((uint64_t)256 << 20)

static char group_dir[512];   /* the child cgroup made for the test */

static int write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  int ok;
  if (!f) return -1;
  ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok ? 0 : -1;
}

/* The process's group directory for v2 (if it has memory files) or v1. */
static int make_group(char *limit_file, size_t len)
{
  FILE *f = fopen("/proc/self/cgroup", "r");
  char line[512], v2[384] = "", v1[384] = "", probe[600];
  if (!f) return -1;
  while (fgets(line, sizeof(line), f)) {
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    if (!c2) continue;
    if (strncmp(line, "0::", 3) == 0) snprintf(v2, sizeof(v2), "%s", c2 + 1);
    else if (strstr(c1, ":memory") == c1 || strstr(c1, ",memory")) snprintf(v1, sizeof(v1), "%s", c2 + 1);
  }
  fclose(f);
  snprintf(probe, sizeof(probe), "/sys/fs/cgroup%s/cgroup.controllers", strcmp(v2, "/") ? v2 : "");
  if (v2[0] && access(probe, R_OK) == 0) {
    snprintf(group_dir, sizeof(group_dir), "/sys/fs/cgroup%s/rcl-unit-%d", strcmp(v2, "/") ? v2 : "", (int)getpid());
    if (mkdir(group_dir, 0755) == 0) {
      snprintf(limit_file, len, "%s/memory.max", group_dir);
      if (access(limit_file, W_OK) == 0) return 2;
      rmdir(group_dir);
    }
  }
  if (v1[0]) {
    snprintf(group_dir, sizeof(group_dir), "/sys/fs/cgroup/memory%s/rcl-unit-%d", strcmp(v1, "/") ? v1 : "", (int)getpid());
    if (mkdir(group_dir, 0755) == 0) {
      snprintf(limit_file, len, "%s/memory.limit_in_bytes", group_dir);
      return 1;
    }
  }
  group_dir[0] = '\0';
  return -1;
}

static int child_in_group(void *arg)
{
  char procs[600], pid[32];
  rcl_config c;
  rcl_heap *h;
  const rcl_registry_header *r = NULL;
  const rcl_registry_slot *s;
  FILE *f;
  char line[512];
  uint32_t i;
  (void)arg;
  snprintf(procs, sizeof(procs), "%s/cgroup.procs", group_dir);
  snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
  if (write_file(procs, pid) != 0) return 2;
  rcl_config_default(&c);
  if (rcl_config_set(&c, "soft_limit", "auto", NULL, 0) != 0) return 3;
  h = rcl_heap_create(&c, 120);
  if (!h) return 4;
  f = fopen("/proc/self/maps", "r");
  while (f && fgets(line, sizeof(line), f))
    if (strstr(line, RCL_REGISTRY_NAME)) { r = (const rcl_registry_header *)(uintptr_t)strtoull(line, NULL, 16); break; }
  if (f) fclose(f);
  if (!r) return 5;
  s = (const rcl_registry_slot *)(const void *)((const char *)r + r->header_size);
  for (i = 0; i < r->nslots && s[i].heap != (uint64_t)(uintptr_t)h; i++) {}
  if (i == r->nslots) return 6;
  if (s[i].soft_limit != LIMIT / 100 * RCL_SOFT_LIMIT_AUTO_PERCENT) {
    fprintf(stderr, "\n  soft limit in force %llu, expected %llu\n", (unsigned long long)s[i].soft_limit,
            (unsigned long long)(LIMIT / 100 * RCL_SOFT_LIMIT_AUTO_PERCENT));
    return 7;
  }
  rcl_heap_destroy(h);
  return 0;
}

static void test_soft_limit_auto(void)
{
  char limit_file[640], text[32];
  int kind, st;
  if (geteuid() != 0) {
    CU_FAIL("soft_limit=auto needs root to make a memory cgroup (make check runs as root)");
    return;
  }
  kind = make_group(limit_file, sizeof(limit_file));
  if (kind < 0) {
    fprintf(stderr, "\n  no usable memory cgroup (v1 or v2) on this machine: %s\n", strerror(errno));
    CU_FAIL("no usable memory cgroup on this machine");
    return;
  }
  snprintf(text, sizeof(text), "%llu\n", (unsigned long long)LIMIT);
  CU_ASSERT_EQUAL_FATAL(write_file(limit_file, text), 0);
  st = tu_child(child_in_group, NULL, 30);
  CU_ASSERT(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
  if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) != 0)
    fprintf(stderr, "\n  child in cgroup %s (v%d) exit %d\n", group_dir, kind, WEXITSTATUS(st));
  CU_ASSERT_EQUAL(rmdir(group_dir), 0);    /* the child has exited: the group is empty */
}

static void test_auto_spelling(void)
{
  rcl_config c;
  char buf[32], err[128];
  rcl_config_default(&c);
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "soft_limit=auto", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.soft_limit, RCL_SOFT_LIMIT_AUTO);
  CU_ASSERT_EQUAL(rcl_config_format(&c, "soft_limit", buf, sizeof(buf)), 0);
  CU_ASSERT_STRING_EQUAL(buf, "auto");
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "soft_limit=64m", err, sizeof(err)), 0);
  CU_ASSERT_EQUAL(c.soft_limit, (size_t)64 << 20);
  /* The byte count that would read as "auto" is refused, naming the key. */
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "soft_limit=18446744073709551615", err, sizeof(err)), -1);
  CU_ASSERT_PTR_NOT_NULL(strstr(err, "soft_limit"));
  CU_ASSERT_EQUAL(rcl_config_parse(&c, "step_budget=auto", err, sizeof(err)), -1);
}

int tu_register_cgroup(void)
{
  CU_pSuite s = CU_add_suite("cgroup", NULL, NULL);
  if (!s) return -1;
  if (!CU_add_test(s, "soft_limit=auto: half of a real 256 MiB memory cgroup (child)", test_soft_limit_auto) ||
      !CU_add_test(s, "soft_limit=auto parses and formats as itself", test_auto_spelling))
    return -1;
  return 0;
}
