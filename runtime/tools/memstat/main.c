/*
** main.c: luajit-memstat's command line: options, which processes a sample
** covers (PIDs, --nginx MASTER, --all), the sample loop (--watch, --count),
** where the output goes (stdout, --output, --record) and the exit status.
**
** Invariants: exit 0 when every process asked for was read, 1 when some
** PID could not be (each named on stderr with the reason), 2 for a usage
** error (including an output or record file that cannot be written);
** --nginx and --all resolve their process list again at every sample, and
** a process they listed that exits before it is read is left out.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "memstat.h"

enum { OUT_TABLE, OUT_JSON, OUT_PROM };

typedef struct options {
  int format;
  int *pids, npids;            /* explicit PIDs */
  int nginx;                   /* master PID, 0: none */
  int all;
  double watch;                /* seconds, 0: one sample */
  long count;                  /* samples, 0: unbounded (with --watch) */
  const char *record, *output;
} options;

static void usage(FILE *f)
{
  fprintf(f,
    "usage: luajit-memstat [OPTIONS] PID...\n"
    "       luajit-memstat [OPTIONS] --nginx MASTER_PID\n"
    "       luajit-memstat [OPTIONS] --all\n"
    "Show a running process's memory from outside, without stopping it: the RSS\n"
    "split, the Lua heaps of luajit-reclaim (from the heap registry the allocator\n"
    "maps in each process), the rest of the RSS, the cgroup limit, and a diagnosis.\n"
    "\n"
    "  -n, --nginx PID      an nginx master and its workers (its child processes)\n"
    "  -a, --all            every process that maps a luajit-reclaim registry\n"
    "  -j, --json           JSON, bytes (schema: luajit-memstat(1))\n"
    "  -p, --prometheus     Prometheus text format (node_exporter textfile), bytes\n"
    "  -w, --watch SECONDS  sample again every SECONDS (redraws a terminal)\n"
    "  -c, --count N        stop after N samples (with --watch)\n"
    "  -r, --record FILE    append one CSV row per process per sample to FILE\n"
    "  -o, --output FILE    write each sample to FILE, replacing it atomically\n"
    "  -h, --help           this text\n"
    "  -V, --version        the version\n"
    "Exit status: 0 ok, 1 some PID could not be read, 2 usage error.\n"
    "Reading another user's process needs CAP_SYS_PTRACE (e.g. root).\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
  fprintf(stderr, "luajit-memstat: ");
  fprintf(stderr, fmt, arg);
  fprintf(stderr, "\nTry 'luajit-memstat --help'.\n");
  return 2;
}

static int parse_pid(const char *s, int *pid)
{
  char *end;
  long v;
  errno = 0;
  v = strtol(s, &end, 10);
  if (errno || end == s || *end || v <= 0 || v > INT_MAX) return -1;
  *pid = (int)v;
  return 0;
}

static int parse_options(int argc, char **argv, options *o)
{
  static const struct option longopts[] = {
    { "nginx", required_argument, NULL, 'n' }, { "all", no_argument, NULL, 'a' },
    { "json", no_argument, NULL, 'j' }, { "prometheus", no_argument, NULL, 'p' },
    { "watch", required_argument, NULL, 'w' }, { "count", required_argument, NULL, 'c' },
    { "record", required_argument, NULL, 'r' }, { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 }
  };
  int c, i, formats = 0;
  char *end;
  memset(o, 0, sizeof(*o));
  opterr = 0;
  while ((c = getopt_long(argc, argv, "n:ajpw:c:r:o:hV", longopts, NULL)) != -1) {
    switch (c) {
    case 'n':
      if (o->nginx) return bad_usage("--nginx given twice", "");
      if (parse_pid(optarg, &o->nginx)) return bad_usage("--nginx: bad PID '%s'", optarg);
      break;
    case 'a': o->all = 1; break;
    case 'j': o->format = OUT_JSON; formats++; break;
    case 'p': o->format = OUT_PROM; formats++; break;
    case 'w':
      errno = 0;
      o->watch = strtod(optarg, &end);
      if (errno || end == optarg || *end || !(o->watch > 0) || o->watch > 86400)
        return bad_usage("--watch: bad interval '%s' (seconds, above 0, at most 86400)",
                         optarg);
      break;
    case 'c':
      errno = 0;
      o->count = strtol(optarg, &end, 10);
      if (errno || end == optarg || *end || o->count <= 0)
        return bad_usage("--count: bad number '%s' (a positive integer)", optarg);
      break;
    case 'r': o->record = optarg; break;
    case 'o': o->output = optarg; break;
    case 'h': usage(stdout); exit(0);
    case 'V':
      printf("luajit-memstat (luajit-reclaim) %s; reads heap registry version %d\n",
             MEMSTAT_VERSION, RCL_REGISTRY_VERSION);
      exit(0);
    case '?':
    default:
      if (optopt && strchr("nwcro", optopt))
        return bad_usage("option -%s needs an argument", (char[]){ (char)optopt, 0 });
      return bad_usage("unknown option '%s'", argv[optind - 1]);
    }
  }
  if (formats > 1) return bad_usage("--json and --prometheus exclude each other%s", "");
  if (o->count && !o->watch) return bad_usage("--count needs --watch%s", "");
  o->npids = argc - optind;
  if ((o->npids > 0) + (o->nginx > 0) + o->all != 1)
    return bad_usage("give PIDs, --nginx MASTER_PID or --all (exactly one of them)%s", "");
  o->pids = calloc((size_t)(o->npids ? o->npids : 1), sizeof(int));
  if (!o->pids) return bad_usage("out of memory%s", "");
  for (i = 0; i < o->npids; i++)
    if (parse_pid(argv[optind + i], &o->pids[i]))
      return bad_usage("bad PID '%s' (a positive integer)", argv[optind + i]);
  if (!o->watch) o->count = 1;
  return 0;
}

/* -- One sample ----------------------------------------------------------- */

static void add_error(ms_sample *s, int pid, const char *text)
{
  ms_error *e = &s->errors[s->nerrors++];
  e->pid = pid;
  snprintf(e->text, sizeof(e->text), "%s", text);
}

static void sample_free(ms_sample *s)
{
  int i;
  for (i = 0; i < s->nprocs; i++) free(s->procs[i].heaps);
  free(s->procs);
  free(s->errors);
  memset(s, 0, sizeof(*s));
}

/* The PIDs of this sample; returns their count, or -1 (message printed). */
static int resolve(const options *o, ms_sample *s, int **pids)
{
  int n, *kids;
  if (o->npids) {
    *pids = malloc((size_t)o->npids * sizeof(int));
    if (!*pids) return -1;
    memcpy(*pids, o->pids, (size_t)o->npids * sizeof(int));
    return o->npids;
  }
  if (o->all) {
    n = ms_registry_pids(pids, &s->uninspected);
    if (n < 0) fprintf(stderr, "luajit-memstat: --all: cannot list /proc: %s\n",
                       strerror(errno));
    return n;
  }
  n = ms_children(o->nginx, &kids);
  if (n < 0) {
    fprintf(stderr, "luajit-memstat: --nginx: cannot list /proc: %s\n", strerror(errno));
    return -1;
  }
  *pids = malloc((size_t)(n + 1) * sizeof(int));
  if (!*pids) { free(kids); return -1; }
  (*pids)[0] = o->nginx;
  if (n) memcpy(*pids + 1, kids, (size_t)n * sizeof(int));
  free(kids);
  return n + 1;
}

static int take_sample(const options *o, ms_sample *s)
{
  struct timeval tv;
  int *pids = NULL, n, i;
  memset(s, 0, sizeof(*s));
  n = resolve(o, s, &pids);
  if (n < 0) return -1;
  gettimeofday(&tv, NULL);
  s->unix_time = (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
  s->now_ms = ms_now_ms();
  s->procs = calloc((size_t)(n ? n : 1), sizeof(ms_proc));
  s->errors = calloc((size_t)(n ? n : 1), sizeof(ms_error));
  if (!s->procs || !s->errors) { free(pids); return -1; }
  for (i = 0; i < n; i++) {
    char err[MS_ERRLEN];
    ms_proc *p = &s->procs[s->nprocs];
    /* Listed by --all or as a worker, and gone since: it was not asked for. */
    int j, listed = !o->npids && pids[i] != o->nginx;
    if (ms_proc_read(p, pids[i], err, sizeof(err)) != 0) {
      if (!(listed && !ms_pid_exists(pids[i]))) add_error(s, pids[i], err);
      continue;
    }
    if (ms_registry_read(p) != 0 && listed && !ms_pid_exists(pids[i])) {
      free(p->heaps);
      continue;
    }
    s->nprocs++;
    for (j = 0; j < p->nregs; j++)
      if (!p->regs[j].ok) { add_error(s, p->pid, p->regs[j].error); break; }
    ms_diagnose(p, s->now_ms);
  }
  free(pids);
  return 0;
}

/* -- Output --------------------------------------------------------------- */

static void print_sample(FILE *f, const options *o, const ms_sample *s, long k)
{
  if (o->format == OUT_JSON) {
    ms_print_json(f, s);
  } else if (o->format == OUT_PROM) {
    ms_print_prometheus(f, s);
  } else {
    if (o->watch) {
      time_t t = (time_t)s->unix_time;
      char when[32];
      strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
      if (f == stdout && isatty(STDOUT_FILENO)) fputs("\033[H\033[2J", f);
      else if (k > 1) fputc('\n', f);
      fprintf(f, "luajit-memstat %s, every %g s, sample %ld", when, o->watch, k);
      if (o->count) fprintf(f, " of %ld", o->count);
      fprintf(f, "\n\n");
    }
    ms_print_table(f, s);
    if (s->uninspected)
      fprintf(f, "(%d processes of other users not inspected: see EXIT STATUS in "
              "luajit-memstat(1))\n", s->uninspected);
  }
}

/* --output: the new sample replaces FILE at once (write, then rename). */
static int write_output(const options *o, const ms_sample *s, long k)
{
  char tmp[PATH_MAX];
  FILE *f;
  if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", o->output, (int)getpid()) >= sizeof(tmp)) {
    fprintf(stderr, "luajit-memstat: --output: path too long: %s\n", o->output);
    return -1;
  }
  f = fopen(tmp, "we");
  if (!f) {
    fprintf(stderr, "luajit-memstat: --output: cannot create %s: %s\n", tmp, strerror(errno));
    return -1;
  }
  print_sample(f, o, s, k);
  if (fclose(f) != 0 || rename(tmp, o->output) != 0) {
    fprintf(stderr, "luajit-memstat: --output: cannot write %s: %s\n", o->output,
            strerror(errno));
    unlink(tmp);
    return -1;
  }
  return 0;
}

static void sleep_until(struct timespec *next, double seconds)
{
  long ns = (long)((seconds - (double)(long)seconds) * 1e9);
  next->tv_sec += (time_t)seconds;
  next->tv_nsec += ns;
  if (next->tv_nsec >= 1000000000L) { next->tv_sec++; next->tv_nsec -= 1000000000L; }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, next, NULL) == EINTR) {}
}

int main(int argc, char **argv)
{
  options o;
  struct timespec next;
  long k;
  int status = 0, rc = parse_options(argc, argv, &o);
  if (rc) return rc;
  clock_gettime(CLOCK_MONOTONIC, &next);
  for (k = 1; !o.count || k <= o.count; k++) {
    ms_sample s;
    char err[PATH_MAX + 256];
    int i;
    if (k > 1) sleep_until(&next, o.watch);
    if (take_sample(&o, &s) != 0) {
      sample_free(&s);
      return 1;
    }
    for (i = 0; i < s.nerrors; i++) {
      fprintf(stderr, "luajit-memstat: PID %d: %s\n", s.errors[i].pid, s.errors[i].text);
      status = 1;
    }
    if (o.output) {
      if (write_output(&o, &s, k) != 0) { sample_free(&s); return 2; }
    } else {
      print_sample(stdout, &o, &s, k);
      fflush(stdout);
    }
    if (o.record && ms_record_csv(o.record, &s, err, sizeof(err)) != 0) {
      fprintf(stderr, "luajit-memstat: --record: %s\n", err);
      sample_free(&s);
      return 2;
    }
    sample_free(&s);
  }
  free(o.pids);
  return status;
}
