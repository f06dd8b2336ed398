/*
** proc.c: what /proc and the cgroup files tell about a process, without
** touching its memory: stat (comm, ppid), status (RSS split), smaps_rollup,
** maps (the heap registry mappings, a mapped libluajit), cmdline, exe, and
** the memory cgroup limit; the process lists of --nginx and --all.
**
** Invariants: nothing here stops or signals a process; a file that cannot
** be read leaves its figures marked absent (have_* bits), except
** /proc/PID/maps, without which the process is an error (its registry
** cannot be looked for). Errors name the PID, the file and the reason.
*/
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "memstat.h"

uint64_t ms_now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Read a whole small file into buf (NUL-terminated); bytes read or -1. */
static ssize_t read_file(const char *path, char *buf, size_t len)
{
  FILE *f = fopen(path, "re");
  size_t n;
  if (!f) return -1;
  n = fread(buf, 1, len - 1, f);
  if (ferror(f)) { fclose(f); return -1; }
  fclose(f);
  buf[n] = '\0';
  return (ssize_t)n;
}

int ms_pid_exists(int pid)
{
  char path[64];
  snprintf(path, sizeof(path), "/proc/%d", pid);
  return access(path, F_OK) == 0;
}

/* What reading another process's memory needs, for error messages. */
void ms_access_hint(char *buf, size_t len)
{
  char scope[16];
  int n = snprintf(buf, len, "luajit-memstat must run as the process's user "
                   "or with CAP_SYS_PTRACE (e.g. as root)");
  if (n > 0 && (size_t)n < len &&
      read_file("/proc/sys/kernel/yama/ptrace_scope", scope, sizeof(scope)) > 0 &&
      atoi(scope) >= 1)
    snprintf(buf + n, len - (size_t)n, "; kernel.yama.ptrace_scope is %d, so the "
             "same user also needs CAP_SYS_PTRACE", atoi(scope));
}

/* /proc/PID/stat: comm (between the first '(' and the last ')') and ppid. */
static int read_stat(int pid, char *comm, size_t commlen, int *ppid)
{
  char path[64], buf[1024], *l, *r;
  size_t n;
  snprintf(path, sizeof(path), "/proc/%d/stat", pid);
  if (read_file(path, buf, sizeof(buf)) <= 0) return -1;
  l = strchr(buf, '(');
  r = strrchr(buf, ')');
  if (!l || !r || r < l || r[1] != ' ') return -1;
  n = (size_t)(r - l - 1);
  if (n >= commlen) n = commlen - 1;
  memcpy(comm, l + 1, n);
  comm[n] = '\0';
  /* After ") ": state, then ppid. */
  if (sscanf(r + 2, "%*c %d", ppid) != 1) return -1;
  return 0;
}

/* Lines "Key:  N kB" of a status-like file: figure i is set from keys[i]. */
static uint32_t read_kb_lines(const char *path, const char *const *keys, int nkeys,
                              uint64_t *vals)
{
  char line[256];
  uint32_t have = 0;
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  while (fgets(line, sizeof(line), f)) {
    char *colon = strchr(line, ':');
    unsigned long long kb;
    int i;
    if (!colon) continue;
    *colon = '\0';
    for (i = 0; i < nkeys; i++) {
      if (strcmp(line, keys[i]) == 0 && sscanf(colon + 1, " %llu kB", &kb) == 1) {
        vals[i] = (uint64_t)kb * 1024;
        have |= 1u << i;
      }
    }
  }
  fclose(f);
  return have;
}

static void read_status(ms_proc *p)
{
#define MS_KEY(name, key, prom, help) key,
  static const char *const skeys[] = { MS_STATUS_FIGURES(MS_KEY) };
  static const char *const rkeys[] = { MS_ROLLUP_FIGURES(MS_KEY) };
#undef MS_KEY
  uint64_t v[MS_ROLLUP_N];
  char path[64];
  int i = 0;
  snprintf(path, sizeof(path), "/proc/%d/status", p->pid);
  p->have_status = read_kb_lines(path, skeys, MS_STATUS_N, v);
#define MS_SET(name, key, prom, help) p->st.name = v[i++];
  MS_STATUS_FIGURES(MS_SET)
  snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", p->pid);
  p->have_rollup = read_kb_lines(path, rkeys, MS_ROLLUP_N, v);
#undef MS_SET
  i = 0;
#define MS_SET(name, key, prom, help) p->ro.name = v[i++];
  MS_ROLLUP_FIGURES(MS_SET)
#undef MS_SET
}

static void read_cmdline(ms_proc *p)
{
  char path[64];
  ssize_t n, i;
  snprintf(path, sizeof(path), "/proc/%d/cmdline", p->pid);
  n = read_file(path, p->cmdline, sizeof(p->cmdline));
  if (n <= 0) { p->cmdline[0] = '\0'; return; }
  while (n > 0 && p->cmdline[n - 1] == '\0') n--;
  for (i = 0; i < n; i++)
    if (p->cmdline[i] == '\0' || !isprint((unsigned char)p->cmdline[i]))
      p->cmdline[i] = ' ';
  p->cmdline[n] = '\0';
}

static void read_exe(ms_proc *p)
{
  char path[64];
  ssize_t n;
  snprintf(path, sizeof(path), "/proc/%d/exe", p->pid);
  n = readlink(path, p->exe, sizeof(p->exe) - 1);
  p->exe[n > 0 ? n : 0] = '\0';
}

static int is_registry_path(const char *path)
{
  return strcmp(path, "/memfd:" RCL_REGISTRY_NAME " (deleted)") == 0 ||
         strcmp(path, "[anon:" RCL_REGISTRY_NAME "]") == 0;
}

/* A LuaJIT shared library: a file named libluajit-5.1.so... */
static int is_luajit_lib(const char *path)
{
  const char *base = strrchr(path, '/');
  return base && strncmp(base + 1, "libluajit-5.1.so", 16) == 0;
}

/* /proc/PID/maps: the registry mappings and a mapped libluajit. */
static int read_maps(ms_proc *p, char *err, size_t errlen)
{
  char path[64], line[PATH_MAX + 128];
  FILE *f;
  snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
  f = fopen(path, "re");
  if (!f) {
    int e = errno;
    char hint[256];
    if (e == ENOENT || e == ESRCH) {
      snprintf(err, errlen, "no such process");
    } else if (e == EACCES || e == EPERM) {
      ms_access_hint(hint, sizeof(hint));
      snprintf(err, errlen, "cannot read %s: %s (%s)", path, strerror(e), hint);
    } else {
      snprintf(err, errlen, "cannot read %s: %s", path, strerror(e));
    }
    return -1;
  }
  while (fgets(line, sizeof(line), f)) {
    unsigned long long lo, hi;
    int off = 0;
    char *name;
    size_t n = strlen(line);
    if (n && line[n - 1] == '\n') line[--n] = '\0';
    /* start-end perms offset dev inode, then the path after blanks. */
    if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %n", &lo, &hi, &off) < 2 || !off)
      continue;
    name = line + off;
    if (is_registry_path(name)) {
      if (p->nregs < MS_MAX_REGISTRIES) {
        ms_registry *r = &p->regs[p->nregs++];
        r->addr = lo;
        r->len = hi - lo;
      }
    } else if (!p->luajit_lib[0] && is_luajit_lib(name)) {
      snprintf(p->luajit_lib, sizeof(p->luajit_lib), "%s", name);
    }
  }
  if (ferror(f)) {
    snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
    fclose(f);
    return -1;
  }
  fclose(f);
  return 0;
}

/* -- Memory cgroup ------------------------------------------------------- */

/* The mount point of the cgroup v2 hierarchy (version 2) or of the v1
** hierarchy with the memory controller (version 1), from our own
** mountinfo, and the cgroup path at its root. */
static int cgroup_mount(int version, char *mnt, size_t mntlen, char *root, size_t rootlen)
{
  char line[4096];
  int found = 0;
  FILE *f = fopen("/proc/self/mountinfo", "re");
  if (!f) return 0;
  while (!found && fgets(line, sizeof(line), f)) {
    char r[1024], m[1024], fstype[64], super[1024];
    char *sep = strstr(line, " - ");
    if (!sep || sscanf(line, "%*s %*s %*s %1023s %1023s", r, m) != 2 ||
        sscanf(sep + 3, "%63s %*s %1023s", fstype, super) != 2)
      continue;
    if (version == 2 ? strcmp(fstype, "cgroup2") == 0
                     : strcmp(fstype, "cgroup") == 0 && strstr(super, "memory")) {
      snprintf(mnt, mntlen, "%s", m);
      snprintf(root, rootlen, "%s", r);
      found = 1;
    }
  }
  fclose(f);
  return found;
}

/* A number file of a cgroup; "max" and v1's page-counter maximum mean no
** limit (returns 0). */
static int cgroup_number(const char *dir, const char *file, uint64_t *v)
{
  char path[PATH_MAX], buf[64];
  unsigned long long x;
  if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, file) >= sizeof(path) ||
      read_file(path, buf, sizeof(buf)) <= 0 || strncmp(buf, "max", 3) == 0 ||
      sscanf(buf, "%llu", &x) != 1 || x >= (1ull << 62))
    return 0;
  *v = x;
  return 1;
}

/* Walk from the process's cgroup up to the mount root and keep the level
** with a limit and the least headroom. */
static void cgroup_walk(ms_cgroup *cg, int version, const char *cgpath)
{
  const char *maxf = version == 2 ? "memory.max" : "memory.limit_in_bytes";
  const char *curf = version == 2 ? "memory.current" : "memory.usage_in_bytes";
  char mnt[1024], root[1024], rel[PATH_MAX], dir[PATH_MAX];
  size_t rl;
  if (!cgroup_mount(version, mnt, sizeof(mnt), root, sizeof(root))) return;
  /* The path is relative to our cgroup namespace root; the mount shows the
  ** subtree at `root`. */
  rl = strcmp(root, "/") == 0 ? 0 : strlen(root);
  if (rl && (strncmp(cgpath, root, rl) != 0 || (cgpath[rl] && cgpath[rl] != '/')))
    return;
  snprintf(rel, sizeof(rel), "%s", cgpath + rl);
  for (;;) {
    uint64_t limit, usage;
    char *slash;
    if ((size_t)snprintf(dir, sizeof(dir), "%s%s", mnt, rel) < sizeof(dir) &&
        cgroup_number(dir, maxf, &limit) && cgroup_number(dir, curf, &usage)) {
      uint64_t room = limit > usage ? limit - usage : 0;
      if (!cg->version || room < cg->headroom) {
        cg->version = version;
        cg->limit = limit;
        cg->usage = usage;
        cg->headroom = room;
        /* The limit's cgroup is cgpath cut after root and rel. */
        size_t n = rl + strlen(rel);
        if (n >= sizeof(cg->limit_path)) n = sizeof(cg->limit_path) - 1;
        memcpy(cg->limit_path, cgpath, n);
        cg->limit_path[n] = '\0';
        if (!n) strcpy(cg->limit_path, "/");
      }
    }
    slash = strrchr(rel, '/');
    if (!slash || rel[0] == '\0') break;
    *slash = '\0';
  }
  if (cg->version) snprintf(cg->path, sizeof(cg->path), "%s", cgpath);
}

/* /proc/PID/cgroup: "0::/path" (v2) and "N:...memory...:/path" (v1). */
static void read_cgroup(ms_proc *p)
{
  char path[64], line[1024], v2[MS_TEXT] = "", v1[MS_TEXT] = "";
  int has_v2 = 0, has_v1 = 0;
  FILE *f;
  snprintf(path, sizeof(path), "/proc/%d/cgroup", p->pid);
  f = fopen(path, "re");
  if (!f) return;
  while (fgets(line, sizeof(line), f)) {
    char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    size_t n = strlen(line);
    if (!c2) continue;
    if (n && line[n - 1] == '\n') line[n - 1] = '\0';
    *c1 = *c2 = '\0';
    if (strcmp(line, "0") == 0 && c1[1] == '\0') {
      snprintf(v2, sizeof(v2), "%s", c2 + 1);
      has_v2 = 1;
    } else {
      char *tok, *save = NULL;
      for (tok = strtok_r(c1 + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        if (strcmp(tok, "memory") == 0) {
          snprintf(v1, sizeof(v1), "%s", c2 + 1);
          has_v1 = 1;
        }
    }
  }
  fclose(f);
  /* The memory controller is on v1 when a v1 line names it (hybrid). */
  if (has_v1) cgroup_walk(&p->cg, 1, v1);
  else if (has_v2) cgroup_walk(&p->cg, 2, v2);
}

/* -- One process ---------------------------------------------------------- */

int ms_proc_read(ms_proc *p, int pid, char *err, size_t errlen)
{
  memset(p, 0, sizeof(*p));
  p->pid = pid;
  if (read_stat(pid, p->comm, sizeof(p->comm), &p->ppid) != 0) {
    snprintf(err, errlen, "no such process");
    return -1;
  }
  if (read_maps(p, err, errlen) != 0) return -1;
  read_status(p);
  read_cmdline(p);
  read_exe(p);
  read_cgroup(p);
  if (!ms_pid_exists(pid)) {  /* Exited while we read: figures are stale. */
    snprintf(err, errlen, "exited while being read");
    return -1;
  }
  return 0;
}

/* -- Process lists -------------------------------------------------------- */

static int pid_of(const char *name)
{
  char *end;
  long v;
  if (!isdigit((unsigned char)name[0])) return 0;
  v = strtol(name, &end, 10);
  return *end || v <= 0 || v > INT_MAX ? 0 : (int)v;
}

static int push_pid(int **pids, int *n, int *cap, int pid)
{
  if (*n == *cap) {
    int nc = *cap ? *cap * 2 : 64;
    int *np = realloc(*pids, (size_t)nc * sizeof(int));
    if (!np) return -1;
    *pids = np;
    *cap = nc;
  }
  (*pids)[(*n)++] = pid;
  return 0;
}

static int cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

/* The children of ppid (from each /proc/N/stat), sorted. */
int ms_children(int ppid, int **pids)
{
  DIR *d = opendir("/proc");
  struct dirent *e;
  int n = 0, cap = 0;
  *pids = NULL;
  if (!d) return -1;
  while ((e = readdir(d))) {
    char comm[64];
    int pid = pid_of(e->d_name), pp;
    if (pid && read_stat(pid, comm, sizeof(comm), &pp) == 0 && pp == ppid &&
        push_pid(pids, &n, &cap, pid) != 0) {
      closedir(d);
      return -1;
    }
  }
  closedir(d);
  if (n) qsort(*pids, (size_t)n, sizeof(int), cmp_int);
  return n;
}

/* Every process (but us) whose maps show a registry, sorted; processes
** whose maps cannot be read are counted in *uninspected. Kernel threads
** have empty maps and are never listed. */
int ms_registry_pids(int **pids, int *uninspected)
{
  DIR *d = opendir("/proc");
  struct dirent *e;
  int n = 0, cap = 0, self = (int)getpid();
  *pids = NULL;
  *uninspected = 0;
  if (!d) return -1;
  while ((e = readdir(d))) {
    char path[64], line[PATH_MAX + 128];
    int pid = pid_of(e->d_name), found = 0;
    FILE *f;
    if (!pid || pid == self) continue;
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    f = fopen(path, "re");
    if (!f) {
      if (errno == EACCES || errno == EPERM) (*uninspected)++;
      continue;
    }
    while (!found && fgets(line, sizeof(line), f)) {
      int off = 0;
      size_t l = strlen(line);
      if (l && line[l - 1] == '\n') line[l - 1] = '\0';
      if (sscanf(line, "%*x-%*x %*s %*s %*s %*s %n", &off) == 0 && off &&
          is_registry_path(line + off))
        found = 1;
    }
    fclose(f);
    if (found && push_pid(pids, &n, &cap, pid) != 0) {
      closedir(d);
      return -1;
    }
  }
  closedir(d);
  if (n) qsort(*pids, (size_t)n, sizeof(int), cmp_int);
  return n;
}
