/* cputime: runs a command and reports the CPU time it used, for tests/bench/run-cpu.sh.
 *
 * Usage: cputime [-o FILE] [-q] command [args...]
 *   Prints one line "user=S sys=S cpu=S wall=S maxrss_kb=N status=N" (seconds with
 *   microsecond resolution) to FILE, or to stderr without -o. With -q the command's
 *   standard output is discarded (its standard error is kept).
 * Invariants: user and system time come from wait4() on that one child, so they include
 * the child's own (reaped) children and nothing else; wall time is CLOCK_MONOTONIC around
 * fork..wait4. The exit status is the child's (128+signal when killed), 127 when the
 * command cannot be executed, and 2 on a usage error, so a failing benchmark is never
 * mistaken for a timing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double seconds_of_timeval(struct timeval tv)
{
  return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static double monotonic_seconds(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
  fputs("usage: cputime [-o FILE] [-q] command [args...]\n", stderr);
  exit(2);
}

int main(int argc, char **argv)
{
  const char *report_path = NULL;
  int quiet = 0;
  int argi = 1;
  while (argi < argc && argv[argi][0] == '-') {
    if (strcmp(argv[argi], "-o") == 0 && argi + 1 < argc) {
      report_path = argv[argi + 1];
      argi += 2;
    } else if (strcmp(argv[argi], "-q") == 0) {
      quiet = 1;
      argi++;
    } else if (strcmp(argv[argi], "--") == 0) {
      argi++;
      break;
    } else {
      usage();
    }
  }
  if (argi >= argc) usage();

  FILE *report = stderr;
  if (report_path) {
    report = fopen(report_path, "w");
    if (!report) {
      fprintf(stderr, "cputime: cannot open %s: %s\n", report_path, strerror(errno));
      return 2;
    }
  }

  double wall_start = monotonic_seconds();
  pid_t child = fork();
  if (child < 0) {
    fprintf(stderr, "cputime: fork: %s\n", strerror(errno));
    return 2;
  }
  if (child == 0) {
    if (quiet) {
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull < 0 || dup2(devnull, STDOUT_FILENO) < 0) _exit(127);
      close(devnull);
    }
    execvp(argv[argi], argv + argi);
    fprintf(stderr, "cputime: cannot run %s: %s\n", argv[argi], strerror(errno));
    _exit(127);
  }

  int wstatus = 0;
  struct rusage usage_of_child;
  while (wait4(child, &wstatus, 0, &usage_of_child) < 0) {
    if (errno != EINTR) {
      fprintf(stderr, "cputime: wait4: %s\n", strerror(errno));
      return 2;
    }
  }
  double wall = monotonic_seconds() - wall_start;

  int status;
  if (WIFEXITED(wstatus)) status = WEXITSTATUS(wstatus);
  else if (WIFSIGNALED(wstatus)) status = 128 + WTERMSIG(wstatus);
  else status = 2;

  double user = seconds_of_timeval(usage_of_child.ru_utime);
  double sys = seconds_of_timeval(usage_of_child.ru_stime);
  fprintf(report, "user=%.6f sys=%.6f cpu=%.6f wall=%.6f maxrss_kb=%ld status=%d\n",
          user, sys, user + sys, wall, usage_of_child.ru_maxrss, status);
  if (report != stderr && fclose(report) != 0) {
    fprintf(stderr, "cputime: writing %s: %s\n", report_path, strerror(errno));
    return 2;
  }
  return status;
}
