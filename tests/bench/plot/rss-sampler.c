/* rss-sampler: records a process's resident set size over time as CSV, for the charts of
 * tests/bench/plot/ (make bench-series, make plot, make check-plot).
 *
 * Usage: rss-sampler [-i MS] [-o FILE] [-c TEXT]... [-P PHASE,...] -- COMMAND [ARG...]
 *        rss-sampler [-i MS] [-o FILE] [-c TEXT]... [-P PHASE,...] [-t SECONDS] -p PID
 *   The first form runs COMMAND and samples it until it exits; the second samples the
 *   running process PID until it ends, SECONDS have passed, or SIGTERM/SIGINT arrives.
 *   Output (FILE, default stdout): a "# TEXT" line per -c, the header line
 *   "time_ms,rss_kib,phase", then one line per sample: milliseconds since sampling began
 *   (CLOCK_MONOTONIC), VmRSS of /proc/PID/status in KiB, and the current phase name.
 *   The phase starts as the first name of -P (default "run"); each SIGUSR1 moves it to the
 *   next name (it stays on the last), so a driver script can mark "burst" and "idle"; the
 *   header line reaches FILE only once the handlers are installed, so a driver that waits
 *   for it can signal safely.
 * Invariants: samples are taken every MS milliseconds (default 20) on an absolute
 * schedule, so a slow read delays one sample, never the ones after it (slots missed while
 * the machine was busy are skipped, not made up in a rush); the command's first
 * sample is taken after its exec succeeded (a close-on-exec pipe says when), so no sample
 * shows the sampler's own forked copy; the sampler never stops or traces the target (it
 * only reads /proc). Exit status: the command's (128+signal when killed, 127 when it
 * cannot be executed), 0 after sampling PID, 1 when PID cannot be read, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_PHASES 16
#define MAX_COMMENTS 16

static volatile sig_atomic_t phase_index;   /* index into phases[], moved by SIGUSR1 */
static volatile sig_atomic_t stop_signal;   /* SIGTERM/SIGINT received (0 = none) */

static void on_usr1(int sig) { (void)sig; phase_index++; }
static void on_stop(int sig) { stop_signal = sig; }

static void usage(FILE *to, int status)
{
  fputs("usage: rss-sampler [-i MS] [-o FILE] [-c TEXT]... [-P PHASE,...] -- COMMAND [ARG...]\n"
        "       rss-sampler [-i MS] [-o FILE] [-c TEXT]... [-P PHASE,...] [-t SECONDS] -p PID\n"
        "Writes CSV \"time_ms,rss_kib,phase\": VmRSS of COMMAND (until it exits) or of PID\n"
        "(until it ends, SECONDS pass, or SIGTERM) every MS milliseconds (default 20).\n"
        "  -o FILE      write the CSV to FILE (default standard output)\n"
        "  -c TEXT      a \"# TEXT\" comment line before the header (repeatable)\n"
        "  -P A,B,...   phase names; the phase starts as A, each SIGUSR1 moves to the next\n"
        "Exit status: COMMAND's; 0 after sampling PID; 1 if PID cannot be read; 2 usage.\n",
        to);
  exit(status);
}

static long parse_positive(const char *text, const char *what, long max)
{
  char *end;
  long v;
  errno = 0;
  v = strtol(text, &end, 10);
  if (errno || end == text || *end || v <= 0 || v > max) {
    fprintf(stderr, "rss-sampler: %s must be a whole number from 1 to %ld, not '%s'\n",
            what, max, text);
    exit(2);
  }
  return v;
}

static double monotonic_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* VmRSS of pid in KiB, or -1 if the process is gone or has no VmRSS (a zombie). */
static long read_rss_kib(pid_t pid)
{
  char path[64], line[256];
  long kib = -1;
  FILE *f;
  snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
  f = fopen(path, "r");
  if (!f) return -1;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kib = strtol(line + 6, NULL, 10);
      break;
    }
  }
  fclose(f);
  return kib;
}

/* Sleeps until the absolute CLOCK_MONOTONIC time next (a signal may end it early). */
static void sleep_until(const struct timespec *next)
{
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL);
}

/* 1 if t is in the future of CLOCK_MONOTONIC, else 0. */
static int later_than_now(const struct timespec *t)
{
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return t->tv_sec > now.tv_sec || (t->tv_sec == now.tv_sec && t->tv_nsec > now.tv_nsec);
}

static void advance(struct timespec *t, long ms)
{
  t->tv_nsec += (ms % 1000) * 1000000L;
  t->tv_sec += ms / 1000 + t->tv_nsec / 1000000000L;
  t->tv_nsec %= 1000000000L;
}

/* Starts argv as a child; returns its pid once its exec succeeded, exits 127 if it failed. */
static pid_t start_command(char **argv)
{
  int fds[2], err = 0;
  ssize_t n;
  pid_t pid;
  if (pipe2(fds, O_CLOEXEC) != 0) { perror("rss-sampler: pipe2"); exit(1); }
  pid = fork();
  if (pid < 0) { perror("rss-sampler: fork"); exit(1); }
  if (pid == 0) {
    close(fds[0]);
    execvp(argv[0], argv);
    err = errno;
    if (write(fds[1], &err, sizeof err) < 0) _exit(127);
    _exit(127);
  }
  close(fds[1]);
  do n = read(fds[0], &err, sizeof err); while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n == (ssize_t)sizeof err) {
    fprintf(stderr, "rss-sampler: cannot execute %s: %s\n", argv[0], strerror(err));
    waitpid(pid, NULL, 0);
    exit(127);
  }
  return pid;
}

int main(int argc, char **argv)
{
  const char *out_path = NULL, *comments[MAX_COMMENTS];
  char *phases[MAX_PHASES], *phase_list = NULL;
  long interval_ms = 20, limit_s = 0;
  pid_t pid = 0, child = 0;
  int ncomments = 0, nphases = 0, argi = 1, i, status = 0, exit_status = 0;
  struct sigaction sa;
  struct timespec next;
  FILE *out = stdout;
  double t0;

  while (argi < argc) {
    const char *a = argv[argi];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) usage(stdout, 0);
    if (strcmp(a, "--") == 0) { argi++; break; }
    if (a[0] != '-' || argi + 1 >= argc) usage(stderr, 2);
    if (strcmp(a, "-i") == 0) interval_ms = parse_positive(argv[argi + 1], "-i MS", 60000);
    else if (strcmp(a, "-t") == 0) limit_s = parse_positive(argv[argi + 1], "-t SECONDS", 86400);
    else if (strcmp(a, "-p") == 0) pid = (pid_t)parse_positive(argv[argi + 1], "-p PID", 1L << 30);
    else if (strcmp(a, "-o") == 0) out_path = argv[argi + 1];
    else if (strcmp(a, "-P") == 0) phase_list = argv[argi + 1];
    else if (strcmp(a, "-c") == 0) {
      if (ncomments == MAX_COMMENTS) { fputs("rss-sampler: too many -c\n", stderr); return 2; }
      comments[ncomments++] = argv[argi + 1];
    } else usage(stderr, 2);
    argi += 2;
  }
  if ((pid != 0) == (argi < argc)) {
    fputs("rss-sampler: give either -p PID or -- COMMAND (see --help)\n", stderr);
    return 2;
  }
  if (limit_s && !pid) { fputs("rss-sampler: -t goes with -p PID\n", stderr); return 2; }
  if (phase_list) {
    char *save = NULL, *name;
    for (name = strtok_r(phase_list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
      if (nphases == MAX_PHASES) { fputs("rss-sampler: too many phases\n", stderr); return 2; }
      phases[nphases++] = name;
    }
  }
  if (nphases == 0) phases[nphases++] = "run";
  if (pid && read_rss_kib(pid) < 0) {
    fprintf(stderr, "rss-sampler: cannot read VmRSS of process %ld (gone, a zombie or a kernel thread)\n",
            (long)pid);
    return 1;
  }
  if (out_path && !(out = fopen(out_path, "w"))) {
    fprintf(stderr, "rss-sampler: cannot write %s: %s\n", out_path, strerror(errno));
    return 1;
  }

  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sa.sa_handler = on_stop;
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);

  for (i = 0; i < ncomments; i++) fprintf(out, "# %s\n", comments[i]);
  fputs("time_ms,rss_kib,phase\n", out);
  fflush(out);  /* the header on disk says the signal handlers are in place */

  if (!pid) pid = child = start_command(argv + argi);
  t0 = monotonic_ms();
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (;;) {
    long kib;
    int p = phase_index < nphases ? (int)phase_index : nphases - 1;
    if (child && waitpid(child, &status, WNOHANG) == child) { child = -child; break; }
    kib = read_rss_kib(pid);
    if (kib < 0) break;
    fprintf(out, "%.0f,%ld,%s\n", monotonic_ms() - t0, kib, phases[p]);
    if (stop_signal) {
      if (child <= 0) break;
      kill(child, stop_signal);
      stop_signal = 0;
    }
    if (limit_s && monotonic_ms() - t0 >= limit_s * 1e3) break;
    do advance(&next, interval_ms); while (!later_than_now(&next));
    sleep_until(&next);
  }
  if (child > 0) {  /* the loop ended before reaping it (it became a zombie) */
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    child = -child;
  }
  if (child < 0) {
    if (WIFEXITED(status)) exit_status = WEXITSTATUS(status);
    else if (WIFSIGNALED(status)) exit_status = 128 + WTERMSIG(status);
    else exit_status = 1;
  }
  if (fflush(out) != 0 || (out != stdout && fclose(out) != 0)) {
    fprintf(stderr, "rss-sampler: writing %s failed\n", out_path ? out_path : "standard output");
    return 1;
  }
  return exit_status;
}
