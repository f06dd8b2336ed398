/*
 * pagesim.c -- LD_PRELOAD page-size simulator.
 *
 * Makes a dynamically linked process on a 4 KiB-page host see an emulated
 * OS page size P (4096, 16384 or 65536) and enforces the Linux kernel's
 * alignment rules for P, so that 16K/64K page bugs show up natively in
 * seconds instead of on a 16K/64K arm64 kernel.
 *
 * Environment (read once, at load time):
 *   PAGESIM_PAGESIZE  emulated page size: 4096, 16384 or 65536 (default
 *                     65536 when unset). Any other value prints an error
 *                     naming the variable and the value and exits with 2.
 *   PAGESIM_LOG       file the report and verbose lines are appended to
 *                     (default: stderr).
 *   PAGESIM_STRICT    "1": if any violation was counted, the exit status
 *                     is forced to 86 at exit. "0" or unset: off.
 *   PAGESIM_VERBOSE   "1": one line per violation (call, arguments,
 *                     reason) and per-call counters in the exit report.
 *   PAGESIM_REPORT_PAGESIZE  any positive number: the page-size queries
 *                     return it, and NO kernel rule is emulated (host page
 *                     size). Only for testing how a program validates an
 *                     impossible page size (e.g. 3000 or 131072) at startup.
 *
 * What the process sees:
 *   getauxval(AT_PAGESZ), sysconf(_SC_PAGESIZE / _SC_PAGE_SIZE),
 *   getpagesize() return P; sysconf(_SC_PHYS_PAGES / _SC_AVPHYS_PAGES) are
 *   rescaled to P so that pages * page size stays the real byte count.
 *   Every other getauxval/sysconf query passes through.
 *
 * Kernel rules emulated for P (as a real 16K/64K kernel applies them):
 *   mmap       the result is P-aligned (over-map on the host and trim),
 *              the length is rounded up to P; with MAP_FIXED or
 *              MAP_FIXED_NOREPLACE an address not a multiple of P, and any
 *              file offset not a multiple of P, give EINVAL. A hint without
 *              MAP_FIXED is rounded up to P, as the kernel does.
 *   munmap, mprotect, madvise, mremap (old and MREMAP_FIXED new address),
 *   mincore, msync, posix_madvise
 *              an address not a multiple of P gives EINVAL and is counted
 *              as violation "unaligned". A length not a multiple of P is
 *              rounded up and the call is applied to the whole rounded
 *              range, so e.g. MADV_DONTNEED zeroes the rest of the page.
 *   mincore    fills one vector byte per emulated page.
 *
 * Violation "spill": the rounded-up part of a length reaches bytes the
 * caller did not name. It is not a spill when those bytes are unmapped or
 * are merely the page-rounding slack at the end of one mapping made through
 * mmap/mremap. For the zeroing advices (MADV_DONTNEED, MADV_FREE,
 * MADV_REMOVE, MADV_DONTNEED_LOCKED) any rounded-up part that touches a
 * mapping is a spill, slack or not: that is exactly the data-zeroing bug of
 * a purge computed with a too-small page size. Mappings are tracked in a
 * static, sorted interval table (start, end, end of the bytes the caller
 * named); bytes outside it are probed with the raw mincore syscall.
 *
 * Report, once per process at exit (from the library destructor), to
 * PAGESIM_LOG or stderr:
 *   pagesim: page_size=P calls=N violations=V unaligned=U spill=S
 * where calls counts the memory calls checked (mmap, mmap64, munmap,
 * mprotect, madvise, mremap, mincore, msync, posix_madvise) and
 * violations = unaligned + spill.
 *
 * Invariants:
 *   - The interposers never call malloc and never call back into an
 *     interposed symbol: host memory calls are raw syscalls, and the
 *     mapping table is a static array.
 *   - One mutex guards the table and the counters; it is held across the
 *     host syscall so table and address space change together. fork()
 *     takes it (pthread_atfork), so the child starts with it free.
 *   - Table ranges are sorted, non-overlapping, host-page aligned, and
 *     start <= named_end <= end.
 *
 * Limits: only calls made through the dynamic symbol table are seen
 * (glibc-internal mmaps of malloc, thread stacks and ld.so are not, nor
 * fully static programs). A process ended by a signal or _exit() (dash
 * exits that way) prints no report, nor does one that closed stderr before
 * exit (GNU coreutils) unless PAGESIM_LOG is set. Every exec'd program
 * reports for itself. /proc (smaps, statm) still shows host pages. File mappings that
 * reach whole host pages past end of file raise SIGBUS where a real
 * kernel would too, but the zero-filled tail of the last emulated page
 * past EOF is only zero-filled up to the host page.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif

#define PAGESIM_EXIT_BAD_CONFIG 2
#define PAGESIM_EXIT_STRICT     86
#define PAGESIM_MAX_RANGES      65536  /* tracked mappings (1.5 MiB of BSS) */
#define PAGESIM_MAX_HOST_PER_PAGE 16   /* 64K emulated / 4K host */

/* ---- Configuration ----------------------------------------------------- */

static size_t emu_page;        /* P: the emulated page size */
static size_t report_page;     /* what the page-size queries answer (= P) */
static size_t host_page;       /* H: the real page size, P % H == 0 */
static int strict_mode;
static int verbose_mode;
static char log_path[4096];    /* empty: stderr */

static pthread_once_t config_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- Counters ---------------------------------------------------------- */

enum pagesim_kind {
  KIND_MMAP, KIND_MUNMAP, KIND_MPROTECT, KIND_MADVISE, KIND_MREMAP,
  KIND_MINCORE, KIND_MSYNC, KIND_POSIX_MADVISE,
  KIND_MEMORY_CALLS,                      /* kinds above count in calls= */
  KIND_GETPAGESIZE = KIND_MEMORY_CALLS, KIND_SYSCONF, KIND_GETAUXVAL,
  KIND_COUNT
};

static const char *const kind_names[KIND_COUNT] = {
  "mmap", "munmap", "mprotect", "madvise", "mremap",
  "mincore", "msync", "posix_madvise",
  "getpagesize", "sysconf(_SC_PAGESIZE)", "getauxval(AT_PAGESZ)"
};

static unsigned long count_calls[KIND_COUNT];
static unsigned long count_unaligned[KIND_COUNT];
static unsigned long count_spill[KIND_COUNT];
static int table_overflowed;

/* ---- Raw host calls (no interposition, no libc wrappers) --------------- */

static void *host_mmap(uintptr_t addr, size_t len, int prot, int flags,
                       int fd, off_t off)
{
  return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}

static int host_munmap(uintptr_t addr, size_t len)
{
  return (int)syscall(SYS_munmap, addr, len);
}

/* Is any host page of [lo, hi) mapped? mincore fails with ENOMEM on a hole. */
static int host_range_mapped(uintptr_t lo, uintptr_t hi)
{
  int saved = errno;
  uintptr_t p;
  for (p = lo & ~(uintptr_t)(host_page - 1); p < hi; p += host_page) {
    unsigned char v;
    if (syscall(SYS_mincore, p, host_page, &v) == 0) {
      errno = saved;
      return 1;
    }
  }
  errno = saved;
  return 0;
}

/* ---- Real libc functions for queries that pass through ----------------- */

typedef unsigned long (*getauxval_fn)(unsigned long);
typedef long (*sysconf_fn)(int);

static void *real_symbol(const char *name)
{
  void *fn = dlsym(RTLD_NEXT, name);
  if (!fn) {
    static const char msg[] = "pagesim: cannot resolve the real libc symbol\n";
    if (write(2, msg, sizeof(msg) - 1) < 0) { /* nothing left to report to */ }
    _exit(PAGESIM_EXIT_BAD_CONFIG);
  }
  return fn;
}

static unsigned long real_getauxval(unsigned long type)
{
  static getauxval_fn fn;
  getauxval_fn f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
  if (!f) {
    f = (getauxval_fn)real_symbol("getauxval");
    __atomic_store_n(&fn, f, __ATOMIC_RELEASE);
  }
  return f(type);
}

static long real_sysconf(int name)
{
  static sysconf_fn fn;
  sysconf_fn f = __atomic_load_n(&fn, __ATOMIC_ACQUIRE);
  if (!f) {
    f = (sysconf_fn)real_symbol("sysconf");
    __atomic_store_n(&fn, f, __ATOMIC_RELEASE);
  }
  return f(name);
}

/* ---- Output ------------------------------------------------------------ */

/* Append one chunk of text to PAGESIM_LOG (opened per write, so no fd is
** kept in the process) or to stderr. Preserves errno. */
static void emit(const char *text, size_t len)
{
  int saved = errno;
  int fd = 2, own = 0;
  if (log_path[0]) {
    fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) fd = 2; else own = 1;
  }
  while (len > 0) {
    ssize_t n = write(fd, text, len);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text += n;
    len -= (size_t)n;
  }
  if (own) close(fd);
  errno = saved;
}

static void fatal_config(const char *var, const char *value, const char *why)
{
  char line[512];
  int n = snprintf(line, sizeof(line), "pagesim: %s='%s' %s\n", var, value, why);
  if (n > 0 && write(2, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0) {
    /* stderr is gone; the exit status still says it */
  }
  _exit(PAGESIM_EXIT_BAD_CONFIG);
}

static int parse_flag(const char *var)
{
  const char *v = getenv(var);
  if (!v || strcmp(v, "0") == 0) return 0;
  if (strcmp(v, "1") == 0) return 1;
  fatal_config(var, v, "is not valid (use 1 or 0)");
  return 0;
}

static void load_config(void)
{
  const char *size = getenv("PAGESIM_PAGESIZE");
  const char *log = getenv("PAGESIM_LOG");

  host_page = (size_t)real_getauxval(AT_PAGESZ);
  if (host_page == 0) host_page = 4096;
  if (!size) emu_page = 65536;
  else if (strcmp(size, "4096") == 0) emu_page = 4096;
  else if (strcmp(size, "16384") == 0) emu_page = 16384;
  else if (strcmp(size, "65536") == 0) emu_page = 65536;
  else fatal_config("PAGESIM_PAGESIZE", size,
                    "is not a supported page size (use 4096, 16384 or 65536)");
  if (emu_page < host_page || emu_page / host_page > PAGESIM_MAX_HOST_PER_PAGE) {
    char why[128];
    snprintf(why, sizeof(why), "cannot be emulated on a host with %zu-byte pages", host_page);
    fatal_config("PAGESIM_PAGESIZE", size ? size : "65536", why);
  }
  report_page = emu_page;
  {
    const char *rep = getenv("PAGESIM_REPORT_PAGESIZE");
    if (rep && rep[0]) {
      char *end;
      unsigned long v = strtoul(rep, &end, 10);
      if (*end || v == 0)
        fatal_config("PAGESIM_REPORT_PAGESIZE", rep, "is not a positive number");
      report_page = v;
      emu_page = host_page;  /* Report only: enforce nothing. */
    }
  }
  strict_mode = parse_flag("PAGESIM_STRICT");
  verbose_mode = parse_flag("PAGESIM_VERBOSE");
  if (log && log[0]) {
    if (strlen(log) >= sizeof(log_path))
      fatal_config("PAGESIM_LOG", log, "is too long");
    strcpy(log_path, log);
  }
}

static void config_ready(void)
{
  pthread_once(&config_once, load_config);
}

/* ---- Page arithmetic --------------------------------------------------- */

static int page_aligned(uintptr_t x)
{
  return (x & (emu_page - 1)) == 0;
}

/* Round len up to P; 0 if it would overflow. */
static size_t page_round(size_t len)
{
  if (len > SIZE_MAX - (emu_page - 1)) return 0;
  return (len + emu_page - 1) & ~(emu_page - 1);
}

/* ---- Mapping table ----------------------------------------------------- */

struct pagesim_range {
  uintptr_t start, end;  /* [start, end) mapped through an interposed call */
  uintptr_t named_end;   /* bytes [start, named_end) were asked for */
};

static struct pagesim_range ranges[PAGESIM_MAX_RANGES];
static size_t range_count;

/* Index of the first range with end > addr. */
static size_t range_first_after(uintptr_t addr)
{
  size_t lo = 0, hi = range_count;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (ranges[mid].end > addr) hi = mid; else lo = mid + 1;
  }
  return lo;
}

static void range_delete_at(size_t i)
{
  memmove(&ranges[i], &ranges[i + 1], (range_count - i - 1) * sizeof(ranges[0]));
  range_count--;
}

static int range_insert_at(size_t i, struct pagesim_range r)
{
  if (range_count == PAGESIM_MAX_RANGES) {
    table_overflowed = 1;
    return 0;
  }
  memmove(&ranges[i + 1], &ranges[i], (range_count - i) * sizeof(ranges[0]));
  ranges[i] = r;
  range_count++;
  return 1;
}

/* Forget [lo, hi): drop, trim or split the ranges that overlap it. */
static void range_remove(uintptr_t lo, uintptr_t hi)
{
  size_t i = range_first_after(lo);
  while (i < range_count && ranges[i].start < hi) {
    struct pagesim_range *r = &ranges[i];
    if (r->start < lo && r->end > hi) {
      struct pagesim_range right = { hi, r->end, r->named_end > hi ? r->named_end : hi };
      r->end = lo;
      if (r->named_end > lo) r->named_end = lo;
      range_insert_at(i + 1, right);
      return;
    }
    if (r->start < lo) {
      r->end = lo;
      if (r->named_end > lo) r->named_end = lo;
      i++;
    } else if (r->end > hi) {
      r->start = hi;
      if (r->named_end < hi) r->named_end = hi;
      return;
    } else {
      range_delete_at(i);
    }
  }
}

/* Record [start, end) with the caller's bytes ending at named_end. A range
** without slack is merged with an adjacent successor: the slack rule only
** looks at the end of a range, so this loses nothing. */
static void range_add(uintptr_t start, uintptr_t end, uintptr_t named_end)
{
  struct pagesim_range r = { start, end, named_end };
  size_t i;
  range_remove(start, end);
  i = range_first_after(start);
  if (i > 0 && ranges[i - 1].end == start && ranges[i - 1].named_end == start) {
    ranges[i - 1].end = end;
    ranges[i - 1].named_end = named_end;
    i--;
  } else if (!range_insert_at(i, r)) {
    return;
  }
  if (i + 1 < range_count && ranges[i].named_end == ranges[i].end &&
      ranges[i + 1].start == ranges[i].end) {
    ranges[i].end = ranges[i + 1].end;
    ranges[i].named_end = ranges[i + 1].named_end;
    range_delete_at(i + 1);
  }
}

/* Do the caller-named bytes of any tracked range overlap [lo, hi)? */
static int range_named_overlap(uintptr_t lo, uintptr_t hi)
{
  size_t i;
  for (i = range_first_after(lo); i < range_count && ranges[i].start < hi; i++) {
    uintptr_t a = ranges[i].start > lo ? ranges[i].start : lo;
    uintptr_t b = ranges[i].named_end < hi ? ranges[i].named_end : hi;
    if (a < b) return 1;
  }
  return 0;
}

/* Does any tracked range overlap [lo, hi)? */
static int range_any_overlap(uintptr_t lo, uintptr_t hi)
{
  size_t i = range_first_after(lo);
  return i < range_count && ranges[i].start < hi;
}

/* Is a byte of [lo, hi) that no tracked range covers mapped on the host? */
static int untracked_mapped(uintptr_t lo, uintptr_t hi)
{
  size_t i = range_first_after(lo);
  uintptr_t cur = lo;
  while (cur < hi) {
    uintptr_t gap_end;
    if (i < range_count && ranges[i].start <= cur) {
      cur = ranges[i].end;
      i++;
      continue;
    }
    gap_end = (i < range_count && ranges[i].start < hi) ? ranges[i].start : hi;
    if (host_range_mapped(cur, gap_end)) return 1;
    cur = gap_end;
  }
  return 0;
}

/* ---- Per-call bookkeeping ---------------------------------------------- */

struct pagesim_call {
  enum pagesim_kind kind;
  char args[128];      /* "(0x..., 4096, MADV_DONTNEED)" */
  char pending[512];   /* verbose lines, written after the lock is dropped */
  size_t pending_len;
};

static void call_begin(struct pagesim_call *c, enum pagesim_kind kind,
                       const char *fmt, ...)
{
  va_list ap;
  c->kind = kind;
  c->pending_len = 0;
  va_start(ap, fmt);
  vsnprintf(c->args, sizeof(c->args), fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&state_lock);
  count_calls[kind]++;
}

static void call_note(struct pagesim_call *c, const char *what, const char *fmt, ...)
{
  va_list ap;
  size_t room = sizeof(c->pending) - c->pending_len;
  int n;
  if (!verbose_mode || room < 2) return;
  n = snprintf(c->pending + c->pending_len, room, "pagesim: %s: %s%s: ",
               what, kind_names[c->kind], c->args);
  if (n < 0 || (size_t)n >= room) { c->pending_len = sizeof(c->pending) - 1; return; }
  c->pending_len += (size_t)n;
  room -= (size_t)n;
  va_start(ap, fmt);
  n = vsnprintf(c->pending + c->pending_len, room, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= room - 1) { c->pending_len = sizeof(c->pending) - 2; n = 0; }
  c->pending_len += (size_t)n;
  c->pending[c->pending_len++] = '\n';
  c->pending[c->pending_len] = '\0';
}

static void violation_unaligned(struct pagesim_call *c, const char *which, uintptr_t addr)
{
  count_unaligned[c->kind]++;
  call_note(c, "unaligned", "%s %#lx is not a multiple of the page size %zu (EINVAL)",
            which, (unsigned long)addr, emu_page);
}

static void violation_spill(struct pagesim_call *c, uintptr_t lo, uintptr_t hi, const char *why)
{
  count_spill[c->kind]++;
  call_note(c, "spill", "length rounds up to the page size %zu; %#lx..%#lx %s",
            emu_page, (unsigned long)lo, (unsigned long)hi, why);
}

/* Generic spill rule: the rounded-up part [lo, hi) is harmless if it is
** unmapped or slack at the end of a tracked mapping. */
static void check_spill(struct pagesim_call *c, uintptr_t lo, uintptr_t hi)
{
  if (lo >= hi) return;
  if (range_named_overlap(lo, hi))
    violation_spill(c, lo, hi, "holds mapped bytes the caller did not name");
  else if (untracked_mapped(lo, hi))
    violation_spill(c, lo, hi, "holds mapped bytes of no tracked mapping");
}

/* Zeroing-advice rule: any mapped byte in the rounded-up part is a spill. */
static void check_spill_zeroing(struct pagesim_call *c, uintptr_t lo, uintptr_t hi)
{
  if (lo >= hi) return;
  if (range_any_overlap(lo, hi) || untracked_mapped(lo, hi))
    violation_spill(c, lo, hi, "is zeroed although the caller did not name it");
}

/* Drop the lock, write the verbose lines, restore errno for the caller. */
static void call_end(struct pagesim_call *c, int err)
{
  pthread_mutex_unlock(&state_lock);
  if (c->pending_len) emit(c->pending, c->pending_len);
  errno = err;
}

static void count_query(enum pagesim_kind kind)
{
  pthread_mutex_lock(&state_lock);
  count_calls[kind]++;
  pthread_mutex_unlock(&state_lock);
}

/* ---- mmap -------------------------------------------------------------- */

/* Place a mapping of rlen (a multiple of P) at a P-aligned address. With a
** hint, first try exactly the hint rounded up to P (what the kernel does
** when that range is free); otherwise reserve rlen + P - H bytes of
** PROT_NONE, map the real thing over the aligned part, trim the rest. */
static void *mmap_aligned(uintptr_t hint, size_t rlen, int prot, int flags,
                          int fd, off_t off)
{
  uintptr_t want = 0, base, start;
  size_t span;
  void *res;
  int reserve_flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | (flags & MAP_32BIT);

  if (hint && hint <= UINTPTR_MAX - (emu_page - 1))
    want = (hint + emu_page - 1) & ~(uintptr_t)(emu_page - 1);
  if (want) {
    res = host_mmap(want, rlen, prot, flags | MAP_FIXED_NOREPLACE, fd, off);
    if ((uintptr_t)res == want) return res;
    if (res != MAP_FAILED) host_munmap((uintptr_t)res, rlen);  /* old kernel */
  }
  if (rlen > SIZE_MAX - emu_page) { errno = ENOMEM; return MAP_FAILED; }
  span = rlen + emu_page - host_page;
  res = host_mmap(want, span, PROT_NONE, reserve_flags, -1, 0);
  if (res == MAP_FAILED) return MAP_FAILED;
  base = (uintptr_t)res;
  start = (base + emu_page - 1) & ~(uintptr_t)(emu_page - 1);
  res = host_mmap(start, rlen, prot, (flags & ~MAP_FIXED_NOREPLACE) | MAP_FIXED, fd, off);
  if (res == MAP_FAILED) {
    int err = errno;
    host_munmap(base, span);
    errno = err;
    return MAP_FAILED;
  }
  if (start > base) host_munmap(base, start - base);
  if (base + span > start + rlen) host_munmap(start + rlen, base + span - (start + rlen));
  return res;
}

static void *pagesim_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  struct pagesim_call c;
  uintptr_t a = (uintptr_t)addr;
  int fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) != 0;
  size_t rlen;
  void *res;
  int err;

  config_ready();
  call_begin(&c, KIND_MMAP, "(%p, %zu, %#x, %#x, %d, %lld)",
             addr, len, prot, flags, fd, (long long)off);
  if (fixed && !page_aligned(a)) {
    violation_unaligned(&c, "MAP_FIXED address", a);
    call_end(&c, EINVAL);
    return MAP_FAILED;
  }
  if (!page_aligned((uintptr_t)off)) {
    violation_unaligned(&c, "file offset", (uintptr_t)off);
    call_end(&c, EINVAL);
    return MAP_FAILED;
  }
  if (len == 0) { call_end(&c, EINVAL); return MAP_FAILED; }
  rlen = page_round(len);
  if (rlen == 0) { call_end(&c, ENOMEM); return MAP_FAILED; }
  if (fixed || emu_page == host_page || (flags & MAP_HUGETLB))
    res = host_mmap(a, rlen, prot, flags, fd, off);
  else
    res = mmap_aligned(a, rlen, prot, flags, fd, off);
  err = errno;
  if (res != MAP_FAILED)
    range_add((uintptr_t)res, (uintptr_t)res + rlen, (uintptr_t)res + len);
  call_end(&c, err);
  return res;
}

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  return pagesim_mmap(addr, len, prot, flags, fd, off);
}

void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
  return pagesim_mmap(addr, len, prot, flags, fd, (off_t)off);
}

/* ---- munmap, mprotect, madvise, msync ---------------------------------- */

/* Shared prologue: address check and length rounding. Returns the rounded
** length, or 0 with *err set when the call must fail. */
static size_t check_range(struct pagesim_call *c, uintptr_t a, size_t len, int *err)
{
  size_t rlen;
  if (!page_aligned(a)) {
    violation_unaligned(c, "address", a);
    *err = EINVAL;
    return 0;
  }
  rlen = page_round(len);
  if (len != 0 && rlen == 0) { *err = EINVAL; return 0; }
  *err = 0;
  return rlen;
}

int munmap(void *addr, size_t len)
{
  struct pagesim_call c;
  uintptr_t a = (uintptr_t)addr;
  size_t rlen;
  int err, rc;

  config_ready();
  call_begin(&c, KIND_MUNMAP, "(%p, %zu)", addr, len);
  rlen = check_range(&c, a, len, &err);
  if (err || len == 0) { call_end(&c, err ? err : EINVAL); return -1; }
  check_spill(&c, a + len, a + rlen);
  rc = host_munmap(a, rlen);
  err = errno;
  if (rc == 0) range_remove(a, a + rlen);
  call_end(&c, err);
  return rc;
}

int mprotect(void *addr, size_t len, int prot)
{
  struct pagesim_call c;
  uintptr_t a = (uintptr_t)addr;
  size_t rlen;
  int err, rc;

  config_ready();
  call_begin(&c, KIND_MPROTECT, "(%p, %zu, %#x)", addr, len, prot);
  rlen = check_range(&c, a, len, &err);
  if (err) { call_end(&c, err); return -1; }
  check_spill(&c, a + len, a + rlen);
  rc = (int)syscall(SYS_mprotect, a, rlen, prot);
  call_end(&c, errno);
  return rc;
}

static int advice_zeroes(int advice)
{
  return advice == MADV_DONTNEED || advice == MADV_FREE ||
         advice == MADV_REMOVE || advice == MADV_DONTNEED_LOCKED;
}

static const char *advice_name(int advice)
{
  switch (advice) {
  case MADV_NORMAL: return "MADV_NORMAL";
  case MADV_WILLNEED: return "MADV_WILLNEED";
  case MADV_DONTNEED: return "MADV_DONTNEED";
  case MADV_FREE: return "MADV_FREE";
  case MADV_REMOVE: return "MADV_REMOVE";
  case MADV_DONTNEED_LOCKED: return "MADV_DONTNEED_LOCKED";
  case MADV_HUGEPAGE: return "MADV_HUGEPAGE";
  case MADV_NOHUGEPAGE: return "MADV_NOHUGEPAGE";
  default: return "advice";
  }
}

int madvise(void *addr, size_t len, int advice)
{
  struct pagesim_call c;
  uintptr_t a = (uintptr_t)addr;
  size_t rlen;
  int err, rc;

  config_ready();
  call_begin(&c, KIND_MADVISE, "(%p, %zu, %s=%d)", addr, len, advice_name(advice), advice);
  rlen = check_range(&c, a, len, &err);
  if (err) { call_end(&c, err); return -1; }
  if (advice_zeroes(advice))
    check_spill_zeroing(&c, a + len, a + rlen);
  else
    check_spill(&c, a + len, a + rlen);
  rc = (int)syscall(SYS_madvise, a, rlen, advice);
  call_end(&c, errno);
  return rc;
}

/* glibc's posix_madvise: returns the error number, ignores
** POSIX_MADV_DONTNEED (it must not destroy data), leaves errno alone. */
int posix_madvise(void *addr, size_t len, int advice)
{
  struct pagesim_call c;
  uintptr_t a = (uintptr_t)addr;
  int saved = errno, err;
  size_t rlen;

  config_ready();
  call_begin(&c, KIND_POSIX_MADVISE, "(%p, %zu, %d)", addr, len, advice);
  rlen = check_range(&c, a, len, &err);
  if (!err && advice != POSIX_MADV_DONTNEED) {
    check_spill(&c, a + len, a + rlen);
    if (syscall(SYS_madvise, a, rlen, advice) != 0) err = errno;
  }
  call_end(&c, saved);
  return err;
}

int msync(void *addr, size_t len, int flags)
{
  struct pagesim_call c;
  uintptr_t a = (uintptr_t)addr;
  size_t rlen;
  int err, rc;

  config_ready();
  call_begin(&c, KIND_MSYNC, "(%p, %zu, %#x)", addr, len, flags);
  rlen = check_range(&c, a, len, &err);
  if (err) { call_end(&c, err); return -1; }
  rc = (int)syscall(SYS_msync, a, rlen, flags);
  call_end(&c, errno);
  return rc;
}

/* ---- mincore: one vector byte per emulated page ------------------------ */

int mincore(void *addr, size_t len, unsigned char *vec)
{
  struct pagesim_call c;
  uintptr_t a = (uintptr_t)addr;
  size_t rlen, pages, i, per = 0;
  unsigned char host_vec[PAGESIM_MAX_HOST_PER_PAGE];
  int err;

  config_ready();
  call_begin(&c, KIND_MINCORE, "(%p, %zu, %p)", addr, len, (void *)vec);
  rlen = check_range(&c, a, len, &err);
  if (err) { call_end(&c, err); return -1; }
  pages = rlen / emu_page;
  per = emu_page / host_page;
  for (i = 0; i < pages; i++) {
    size_t j;
    unsigned char resident = 0;
    if (syscall(SYS_mincore, a + i * emu_page, emu_page, host_vec) != 0) {
      call_end(&c, errno);
      return -1;
    }
    for (j = 0; j < per; j++) resident |= host_vec[j] & 1;
    vec[i] = resident;
  }
  call_end(&c, 0);
  return 0;
}

/* ---- mremap ------------------------------------------------------------ */

void *mremap(void *old_addr, size_t old_len, size_t new_len, int flags, ...)
{
  struct pagesim_call c;
  uintptr_t old = (uintptr_t)old_addr, target = 0, res;
  size_t old_rlen, new_rlen;
  void *r = MAP_FAILED;
  int err;

  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    target = (uintptr_t)va_arg(ap, void *);
    va_end(ap);
  }
  config_ready();
  call_begin(&c, KIND_MREMAP, "(%p, %zu, %zu, %#x, %#lx)",
             old_addr, old_len, new_len, flags, (unsigned long)target);
  if (!page_aligned(old)) {
    violation_unaligned(&c, "old address", old);
    call_end(&c, EINVAL);
    return MAP_FAILED;
  }
  if ((flags & MREMAP_FIXED) && !page_aligned(target)) {
    violation_unaligned(&c, "new address", target);
    call_end(&c, EINVAL);
    return MAP_FAILED;
  }
  old_rlen = page_round(old_len);
  new_rlen = page_round(new_len);
  if (new_rlen == 0 || (old_len != 0 && old_rlen == 0)) {
    call_end(&c, EINVAL);
    return MAP_FAILED;
  }
  if (old_len) check_spill(&c, old + old_len, old + old_rlen);

  if ((flags & MREMAP_FIXED) || !(flags & MREMAP_MAYMOVE) || emu_page == host_page) {
    r = (void *)syscall(SYS_mremap, old, old_rlen, new_rlen, flags, target);
  } else {
    /* May move: try in place first (the kernel does), else move to a
    ** reserved P-aligned hole with MREMAP_FIXED. */
    if (!(flags & MREMAP_DONTUNMAP))
      r = (void *)syscall(SYS_mremap, old, old_rlen, new_rlen, flags & ~MREMAP_MAYMOVE, 0);
    if (r == MAP_FAILED && ((flags & MREMAP_DONTUNMAP) || errno == ENOMEM)) {
      void *hole = mmap_aligned(0, new_rlen, PROT_NONE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (hole != MAP_FAILED) {
        r = (void *)syscall(SYS_mremap, old, old_rlen, new_rlen,
                            flags | MREMAP_FIXED, hole);
        if (r == MAP_FAILED) {
          int e = errno;
          host_munmap((uintptr_t)hole, new_rlen);
          errno = e;
        }
      }
    }
  }
  err = errno;
  if (r != MAP_FAILED) {
    res = (uintptr_t)r;
    if (!(flags & MREMAP_DONTUNMAP)) range_remove(old, old + old_rlen);
    range_add(res, res + new_rlen, res + new_len);
  }
  call_end(&c, err);
  return r;
}

/* ---- Page-size queries ------------------------------------------------- */

int getpagesize(void)
{
  config_ready();
  count_query(KIND_GETPAGESIZE);
  return (int)report_page;
}

int __getpagesize(void);
int __getpagesize(void)
{
  return getpagesize();
}

long sysconf(int name)
{
  long v;
  config_ready();
  if (name == _SC_PAGESIZE) {
    count_query(KIND_SYSCONF);
    return (long)report_page;
  }
  v = real_sysconf(name);
  if ((name == _SC_PHYS_PAGES || name == _SC_AVPHYS_PAGES) && v > 0)
    v = (long)((unsigned long)v / (emu_page / host_page));
  return v;
}

long __sysconf(int name);
long __sysconf(int name)
{
  return sysconf(name);
}

unsigned long getauxval(unsigned long type)
{
  config_ready();
  if (type == AT_PAGESZ) {
    count_query(KIND_GETAUXVAL);
    return (unsigned long)report_page;
  }
  return real_getauxval(type);
}

unsigned long __getauxval(unsigned long type);
unsigned long __getauxval(unsigned long type)
{
  return getauxval(type);
}

/* ---- Load, fork and exit ----------------------------------------------- */

static void lock_for_fork(void) { pthread_mutex_lock(&state_lock); }
static void unlock_after_fork(void) { pthread_mutex_unlock(&state_lock); }

__attribute__((constructor)) static void pagesim_load(void)
{
  config_ready();
  pthread_atfork(lock_for_fork, unlock_after_fork, unlock_after_fork);
}

__attribute__((destructor)) static void pagesim_report(void)
{
  char buf[4096];
  size_t len = 0;
  unsigned long calls = 0, unaligned = 0, spill = 0;
  int k, n;

  config_ready();
  pthread_mutex_lock(&state_lock);
  for (k = 0; k < KIND_MEMORY_CALLS; k++) {
    calls += count_calls[k];
    unaligned += count_unaligned[k];
    spill += count_spill[k];
  }
  n = snprintf(buf, sizeof(buf),
               "pagesim: page_size=%zu calls=%lu violations=%lu unaligned=%lu spill=%lu\n",
               emu_page, calls, unaligned + spill, unaligned, spill);
  if (n > 0) len = (size_t)n;
  if (table_overflowed && len < sizeof(buf)) {
    n = snprintf(buf + len, sizeof(buf) - len,
                 "pagesim: warning: mapping table full (%d ranges); spill checks "
                 "treated later mappings as untracked\n", PAGESIM_MAX_RANGES);
    if (n > 0) len += (size_t)n;
  }
  for (k = 0; verbose_mode && k < KIND_COUNT && len < sizeof(buf); k++) {
    if (k < KIND_MEMORY_CALLS)
      n = snprintf(buf + len, sizeof(buf) - len,
                   "pagesim:   %-22s calls=%lu unaligned=%lu spill=%lu\n",
                   kind_names[k], count_calls[k], count_unaligned[k], count_spill[k]);
    else
      n = snprintf(buf + len, sizeof(buf) - len, "pagesim:   %-22s queries=%lu\n",
                   kind_names[k], count_calls[k]);
    if (n > 0) len += (size_t)n;
  }
  pthread_mutex_unlock(&state_lock);
  if (len > sizeof(buf) - 1) len = sizeof(buf) - 1;
  emit(buf, len);
  if (strict_mode && unaligned + spill > 0) {
    fflush(NULL);
    _exit(PAGESIM_EXIT_STRICT);
  }
}
