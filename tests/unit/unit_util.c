/*
** unit_util.c: helpers shared by the CUnit suites (see unit_util.h).
*/
#define _GNU_SOURCE
#include "unit_util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned char tu_pattern(uint64_t tag, size_t i)
{
  return (unsigned char)(((tag + i) * 0x9e3779b97f4a7c15ull) >> 56);
}

void tu_fill(void *p, size_t n, uint64_t tag)
{
  unsigned char *b = (unsigned char *)p;
  size_t i;
  for (i = 0; i < n; i++) b[i] = tu_pattern(tag, i);
}

int tu_verify(const void *p, size_t n, uint64_t tag)
{
  const unsigned char *b = (const unsigned char *)p;
  size_t i;
  for (i = 0; i < n; i++)
    if (b[i] != tu_pattern(tag, i)) {
      fprintf(stderr, "\n  pattern mismatch at %p+%zu (size %zu)\n", p, i, n);
      return 0;
    }
  return 1;
}

size_t tu_rss(void)
{
  FILE *f = fopen("/proc/self/statm", "r");
  unsigned long size = 0, resident = 0;
  if (!f) return 0;
  if (fscanf(f, "%lu %lu", &size, &resident) != 2) resident = 0;
  fclose(f);
  return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

void tu_sleep_ms(unsigned ms)
{
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

void tu_cycle_and_pass(rcl_heap *h, unsigned sleep_ms)
{
  int i;
  tu_sleep_ms(sleep_ms);
  rcl_cycle_end(h);
  for (i = 0; i < 1000; i++) rcl_step(h);
}

int tu_child(int (*fn)(void *), void *arg, unsigned timeout_s)
{
  pid_t pid;
  int status = 0;
  unsigned waited_ms = 0;
  fflush(stdout);
  fflush(stderr);
  pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    alarm(timeout_s + 1);
    _exit(fn(arg));
  }
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return -1;
    if (waited_ms >= timeout_s * 1000u) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      fprintf(stderr, "\n  child timed out after %u s\n", timeout_s);
      return -1;
    }
    tu_sleep_ms(10);
    waited_ms += 10;
  }
}

void tu_check_heap(rcl_heap *h, const char *file, int line)
{
  char err[256];
  rcl_stats st;
  const char *backing = getenv("LUAJIT_RECLAIM_TEST_BACKING");
  int r = rcl_test_check(h, err, sizeof(err));
  if (r != 0) fprintf(stderr, "\n  %s:%d: heap invariant broken: %s\n", file, line, err);
  CU_ASSERT_EQUAL_FATAL(r, 0);
  if (backing && strcmp(backing, "file") == 0) {
    /* The suites rerun on the file backing: prove they do. */
    rcl_backing_info bi;
    CU_ASSERT(rcl_test_backing(h, &bi) == 0 && bi.file);
  }
  rcl_stats_get(h, &st);
  CU_ASSERT_EQUAL(st.mapped, st.metadata + st.in_use + st.free_dirty + st.free_clean);
  CU_ASSERT_EQUAL(st.resident, st.metadata + st.in_use + st.free_dirty);
  CU_ASSERT(st.floor <= st.resident);   /* pages with live blocks are dirty (rcl_test_check) */
  CU_ASSERT(st.fragmentation >= 0.0 && st.fragmentation <= 1.0);
}
