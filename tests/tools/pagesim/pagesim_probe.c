/*
 * pagesim_probe.c -- test program for the page-size simulator (pagesim.so).
 *
 * Usage: pagesim_probe MODE PAGESIZE   (run under pagesim.so)
 * PAGESIZE is the page size the test driver asked pagesim to emulate; each
 * mode checks that the process sees it and that memory calls obey the
 * kernel's rules for it, probing the real effect on memory (contents,
 * SIGSEGV on write, host mincore) rather than trusting return codes.
 * Prints "ok: ..." / "FAIL: ..." per check and exits 1 if any check
 * failed. The driver (check-pagesim.sh) separately checks the counters in
 * pagesim's exit report.
 *
 * Modes and the violations each one causes (U = unaligned, S = spill), for
 * P = 4096 / P > 4096:
 *   query      page-size queries and pass-through queries     0 / 0
 *   mmap       alignment, hints, MAP_FIXED, file offsets      0 / U=3
 *   unaligned  calls at base+4096                              0 / U=7
 *   spill      4096-byte calls at P-aligned addresses          S=2 / S=5
 *   slack      lengths whose rounding only reaches slack       0 / 0
 *   mremap     shrink, grow, move, MREMAP_FIXED                0 / U=1
 *   mincore    one vector byte per emulated page               0 / 0
 *   threads    two threads mapping and unmapping               0 / 0
 *   random     4000 random calls checked against a model; needs
 *              PAGESIM_LOG and PAGESIM_VERBOSE=1, prints expected-spills=N
 *   violate    one madvise at base+4096, prints "partial"      0 / U=1
 *   exitcode   prints "unflushed" and exits with status N (PAGESIZE = N)
 *
 * Host probes use raw syscalls so they are not seen (or counted) by
 * pagesim. The host page size is assumed to be 4096.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#define HOST_PAGE 4096

static size_t page;      /* the emulated page size under test */
static int failures;

static void check(int ok, const char *fmt, ...)
{
  va_list ap;
  printf("%s: ", ok ? "ok" : "FAIL");
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  printf("\n");
  if (!ok) failures++;
}

static uintptr_t round_up(uintptr_t x, size_t to)
{
  return (x + to - 1) & ~(uintptr_t)(to - 1);
}

/* Is the host page holding p mapped? (raw mincore: ENOMEM on a hole) */
static int host_mapped(const void *p)
{
  unsigned char v;
  uintptr_t a = (uintptr_t)p & ~(uintptr_t)(HOST_PAGE - 1);
  return syscall(SYS_mincore, a, HOST_PAGE, &v) == 0;
}

static sigjmp_buf probe_jump;

static void probe_fault(int sig)
{
  (void)sig;
  siglongjmp(probe_jump, 1);
}

/* Can the byte at p be read and written back? */
static int writable(volatile unsigned char *p)
{
  struct sigaction sa, old_segv, old_bus;
  volatile int ok = 0;
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = probe_fault;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &old_segv);
  sigaction(SIGBUS, &sa, &old_bus);
  if (sigsetjmp(probe_jump, 1) == 0) {
    unsigned char v = *p;
    *p = v;
    ok = 1;
  }
  sigaction(SIGSEGV, &old_segv, NULL);
  sigaction(SIGBUS, &old_bus, NULL);
  return ok;
}

static unsigned char *map_rw(size_t len)
{
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    perror("pagesim_probe: mmap");
    exit(1);
  }
  return p;
}

/* Failed with exactly EINVAL? */
static int einval(int failed)
{
  return failed && errno == EINVAL;
}

/* ---- query --------------------------------------------------------------- */

static void mode_query(void)
{
  struct rlimit rl;
  struct sysinfo si;
  unsigned long long total;

  check(sysconf(_SC_PAGESIZE) == (long)page, "sysconf(_SC_PAGESIZE) = %ld", sysconf(_SC_PAGESIZE));
  check(sysconf(_SC_PAGE_SIZE) == (long)page, "sysconf(_SC_PAGE_SIZE) = %ld", sysconf(_SC_PAGE_SIZE));
  check(getpagesize() == (int)page, "getpagesize() = %d", getpagesize());
  check(getauxval(AT_PAGESZ) == page, "getauxval(AT_PAGESZ) = %lu", getauxval(AT_PAGESZ));
  check(getauxval(AT_UID) == (unsigned long)getuid(), "getauxval(AT_UID) passes through");
  getrlimit(RLIMIT_NOFILE, &rl);
  check(sysconf(_SC_OPEN_MAX) == (long)rl.rlim_cur, "sysconf(_SC_OPEN_MAX) passes through");
  sysinfo(&si);
  total = (unsigned long long)si.totalram * si.mem_unit;
  check(sysconf(_SC_PHYS_PAGES) == (long)(total / page),
        "sysconf(_SC_PHYS_PAGES) = %ld = RAM / page size", sysconf(_SC_PHYS_PAGES));
}

/* ---- mmap ---------------------------------------------------------------- */

static void mode_mmap(void)
{
  size_t sizes[] = { 1, 4096, 5000, page, page + 1, 3 * page + 1, (size_t)1 << 20 };
  size_t i;
  unsigned char *base, *hole, *p;
  void *r;
  char path[] = "/tmp/pagesim_probe.XXXXXX";
  int fd;

  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    size_t len = sizes[i], rl = round_up(len, page);
    p = map_rw(len);
    check((uintptr_t)p % page == 0, "mmap(%zu) = %p is page-aligned", len, (void *)p);
    check(writable(p + rl - 1), "mmap(%zu): last byte of the rounded length is usable", len);
    check(munmap(p, len) == 0, "munmap(%zu) of the whole mapping", len);
    check(!host_mapped(p) && !host_mapped(p + rl - 1), "munmap(%zu) unmapped the rounded length", len);
  }
  r = mmap64(NULL, 3 * HOST_PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(r != MAP_FAILED && (uintptr_t)r % page == 0, "mmap64 result %p is page-aligned", r);

  /* A hint without MAP_FIXED is rounded up to the page, never refused. */
  hole = mmap(NULL, 4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(hole, 4 * page);
  r = mmap(hole + HOST_PAGE, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check((uintptr_t)r == round_up((uintptr_t)hole + HOST_PAGE, page),
        "mmap hint %p+4096 gives %p (hint rounded up to the page)", (void *)hole, r);

  /* MAP_FIXED / MAP_FIXED_NOREPLACE need a page-aligned address. */
  base = map_rw(4 * page);
  r = mmap(base + HOST_PAGE, HOST_PAGE, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  if (page > HOST_PAGE)
    check(einval(r == MAP_FAILED), "MAP_FIXED at base+4096 fails with EINVAL");
  else
    check(r == base + HOST_PAGE, "MAP_FIXED at base+4096 succeeds");
  r = mmap(base + page, page, PROT_READ | PROT_WRITE,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  check(r == base + page, "MAP_FIXED at base+page succeeds");
  hole = mmap(NULL, 4 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(hole, 4 * page);
  r = mmap(hole + HOST_PAGE, HOST_PAGE, PROT_READ,
           MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  if (page > HOST_PAGE)
    check(einval(r == MAP_FAILED), "MAP_FIXED_NOREPLACE at hole+4096 fails with EINVAL");
  else
    check(r == hole + HOST_PAGE, "MAP_FIXED_NOREPLACE at hole+4096 succeeds");

  /* File offsets must be page multiples; the data lands where it should. */
  fd = mkstemp(path);
  if (fd < 0) { perror("pagesim_probe: mkstemp"); exit(1); }
  unlink(path);
  for (i = 0; i < 2 * page / HOST_PAGE; i++) {
    unsigned char block[HOST_PAGE];
    memset(block, (int)(i + 1), sizeof(block));
    if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block)) { perror("write"); exit(1); }
  }
  r = mmap(NULL, HOST_PAGE, PROT_READ, MAP_PRIVATE, fd, HOST_PAGE);
  if (page > HOST_PAGE)
    check(einval(r == MAP_FAILED), "file mmap at offset 4096 fails with EINVAL");
  else
    check(r != MAP_FAILED && ((unsigned char *)r)[0] == 2, "file mmap at offset 4096 maps block 2");
  p = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, (off_t)page);
  check(p != MAP_FAILED && (uintptr_t)p % page == 0 &&
        p[0] == page / HOST_PAGE + 1 && p[page - 1] == 2 * page / HOST_PAGE,
        "file mmap at offset page is aligned and maps the right blocks");
  close(fd);
}

/* ---- unaligned ----------------------------------------------------------- */

static void mode_unaligned(void)
{
  unsigned char *base = map_rw(4 * page), *off = base + HOST_PAGE;
  unsigned char vec[16];
  int big = page > HOST_PAGE, rc;
  void *r;

  memset(base, 0x5a, 4 * page);
  rc = madvise(off, HOST_PAGE, MADV_DONTNEED);
  if (big)
    check(einval(rc != 0) && off[0] == 0x5a, "madvise(base+4096) fails with EINVAL, data kept");
  else
    check(rc == 0 && off[0] == 0, "madvise(base+4096) succeeds and zeroes");

  rc = mprotect(off, HOST_PAGE, PROT_READ);
  if (big)
    check(einval(rc != 0) && writable(off), "mprotect(base+4096) fails with EINVAL, still writable");
  else
    check(rc == 0 && !writable(off) && mprotect(off, HOST_PAGE, PROT_READ | PROT_WRITE) == 0,
          "mprotect(base+4096) succeeds");

  rc = mincore(off, HOST_PAGE, vec);
  check(big ? einval(rc != 0) : rc == 0, "mincore(base+4096) %s", big ? "fails with EINVAL" : "succeeds");
  rc = msync(off, HOST_PAGE, MS_ASYNC);
  check(big ? einval(rc != 0) : rc == 0, "msync(base+4096) %s", big ? "fails with EINVAL" : "succeeds");
  rc = posix_madvise(off, HOST_PAGE, POSIX_MADV_WILLNEED);
  check(big ? rc == EINVAL : rc == 0, "posix_madvise(base+4096) returns %d", rc);

  r = mremap(off, 2 * HOST_PAGE, HOST_PAGE, 0);
  if (big)
    check(einval(r == MAP_FAILED) && host_mapped(off + HOST_PAGE),
          "mremap(base+4096) fails with EINVAL, nothing unmapped");
  else
    check(r == off && !host_mapped(off + HOST_PAGE), "mremap(base+4096) shrinks");

  rc = munmap(off, HOST_PAGE);
  if (big)
    check(einval(rc != 0) && host_mapped(off) && off[0] == 0x5a,
          "munmap(base+4096) fails with EINVAL, still mapped");
  else
    check(rc == 0 && !host_mapped(off), "munmap(base+4096) unmaps");
}

/* ---- spill --------------------------------------------------------------- */

static void mode_spill(void)
{
  unsigned char *base = map_rw(4 * page), *q, *two;
  int big = page > HOST_PAGE, rc;
  void *r;

  memset(base, 0x5a, 4 * page);
  rc = madvise(base, HOST_PAGE, MADV_DONTNEED);
  check(rc == 0 && base[0] == 0, "madvise(base, 4096, DONTNEED) succeeds and zeroes base");
  if (big)
    check(base[2 * HOST_PAGE] == 0 && base[page - 1] == 0,
          "neighbour data at +8K is lost (the whole page was zeroed)");
  else
    check(base[2 * HOST_PAGE] == 0x5a, "neighbour data at +8K is kept");

  rc = mprotect(base + page, HOST_PAGE, PROT_READ);
  check(rc == 0 && !writable(base + page), "mprotect(base+page, 4096) succeeds");
  check(writable(base + page + 2 * HOST_PAGE) == !big, "neighbour at base+page+8K is %s",
        big ? "read-only too" : "still writable");

  rc = munmap(base + 2 * page, HOST_PAGE);
  check(rc == 0 && !host_mapped(base + 2 * page), "munmap(base+2*page, 4096) succeeds");
  check(host_mapped(base + 2 * page + 2 * HOST_PAGE) == !big, "neighbour at base+2*page+8K is %s",
        big ? "unmapped too" : "still mapped");

  /* Zeroing advice: even rounding into a mapping's own slack is a spill. */
  q = map_rw(5000);
  memset(q, 0x77, 5000);
  rc = madvise(q, 5000, MADV_DONTNEED);
  check(rc == 0 && q[4999] == 0, "madvise(q, 5000, DONTNEED) on a 5000-byte mapping zeroes it");

  /* Two adjacent mappings: 100 bytes at the start of a fully named page
  ** spill into named bytes; the same at the start of the second one only
  ** reaches its slack. */
  two = mmap(NULL, 2 * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  r = mmap(two, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  check(r == two, "MAP_FIXED first half");
  r = mmap(two + page, 100, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  check(r == two + page, "MAP_FIXED second half, 100 bytes");
  check(munmap(two + page, 100) == 0, "munmap of the 100-byte mapping (slack only, no spill)");
  check(munmap(two, 100) == 0 && !host_mapped(two) && (!big || !host_mapped(two + 2 * HOST_PAGE)),
        "munmap of 100 bytes of a %zu-byte mapping unmaps its whole page (spill)", page);
}

/* ---- slack --------------------------------------------------------------- */

static void mode_slack(void)
{
  unsigned char *q = map_rw(5000), *r;
  size_t rl = round_up(5000, page);

  check(madvise(q, 5000, MADV_WILLNEED) == 0, "madvise(q, 5000, WILLNEED)");
  check(mprotect(q, 5000, PROT_READ) == 0 && !writable(q + rl - 1),
        "mprotect(q, 5000) covers the rounded length");
  check(munmap(q, 5000) == 0 && !host_mapped(q + rl - 1), "munmap(q, 5000) covers the rounded length");

  r = map_rw(3 * page + 1);
  check(munmap(r + page, 2 * page + 1) == 0 && host_mapped(r) && !host_mapped(r + page),
        "munmap of the tail (2*page+1 bytes) of a 3*page+1 mapping");
  check(munmap(r, page) == 0, "munmap of the head");
}

/* ---- mremap -------------------------------------------------------------- */

static void mode_mremap(void)
{
  size_t big_len = ((size_t)1 << 20) + 1, rl68 = round_up(68 << 10, page), i;
  unsigned char *m = map_rw(132 << 10), *hole, *blocker;
  unsigned char *r;
  int intact = 1;

  for (i = 0; i < (132 << 10); i++) m[i] = (unsigned char)(i * 7);
  r = mremap(m, 132 << 10, 68 << 10, 0);
  check(r == m, "mremap shrink 132K -> 68K in place");
  check(host_mapped(m + (68 << 10)) == (rl68 > (68 << 10)),
        "after shrink +68K is %s", rl68 > (68 << 10) ? "still mapped (page rounding)" : "unmapped");
  check(!host_mapped(m + rl68), "after shrink +%zuK is unmapped", rl68 >> 10);

  blocker = mmap(m + rl68, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  check(blocker == m + rl68, "blocker mapped right after the shrunk mapping");
  r = mremap(m, 68 << 10, big_len, 0);
  check(r == MAP_FAILED && errno == ENOMEM, "mremap grow without MAYMOVE fails with ENOMEM");
  r = mremap(m, 68 << 10, big_len, MREMAP_MAYMOVE);
  check(r != MAP_FAILED && r != m && (uintptr_t)r % page == 0, "mremap MAYMOVE moved to aligned %p", (void *)r);
  if (r == MAP_FAILED) return;
  for (i = 0; i < (68 << 10); i++) intact &= r[i] == (unsigned char)(i * 7);
  check(intact, "data preserved by the move");
  check(!host_mapped(m), "old address unmapped after the move");
  check(writable(r + round_up(big_len, page) - 1), "moved mapping usable to its rounded end");

  hole = mmap(NULL, (size_t)4 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  m = r;
  r = mremap(m, big_len, big_len, MREMAP_MAYMOVE | MREMAP_FIXED, hole + HOST_PAGE);
  if (page > HOST_PAGE) {
    check(einval(r == MAP_FAILED) && host_mapped(m), "MREMAP_FIXED to hole+4096 fails with EINVAL");
  } else {
    check(r == hole + HOST_PAGE && r[100] == (unsigned char)700, "MREMAP_FIXED to hole+4096 moves");
    m = r;
  }
  r = mremap(m, big_len, big_len, MREMAP_MAYMOVE | MREMAP_FIXED, hole + ((size_t)2 << 20));
  check(r == hole + ((size_t)2 << 20) && r[100] == (unsigned char)700, "MREMAP_FIXED to hole+2M moves");
}

/* ---- mincore ------------------------------------------------------------- */

static void mode_mincore(void)
{
  unsigned char *base = map_rw(4 * page);
  unsigned char vec[12];
  size_t i;
  int guard = 1;

  base[0] = 1;
  base[2 * page] = 1;
  memset(vec, 0xee, sizeof(vec));
  check(mincore(base, 4 * page, vec) == 0, "mincore over 4 pages");
  check((vec[0] & 1) && !(vec[1] & 1) && (vec[2] & 1) && !(vec[3] & 1),
        "resident pattern 1010 (got %d%d%d%d)", vec[0] & 1, vec[1] & 1, vec[2] & 1, vec[3] & 1);
  for (i = 4; i < sizeof(vec); i++) guard &= vec[i] == 0xee;
  check(guard, "mincore wrote exactly one byte per emulated page");
  memset(vec, 0xee, sizeof(vec));
  check(mincore(base, 1, vec) == 0 && vec[0] == 1 && vec[1] == 0xee, "mincore(base, 1) fills one byte");
}

/* ---- threads ------------------------------------------------------------- */

struct thread_result { unsigned seed; int bad; };

static void *thread_churn(void *arg)
{
  struct thread_result *t = arg;
  int i;
  for (i = 0; i < 2000; i++) {
    size_t len = 1 + (size_t)rand_r(&t->seed) % (3 * page);
    unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED || (uintptr_t)p % page != 0) { t->bad++; continue; }
    p[0] = 1;
    p[len - 1] = 2;
    if (i % 3 == 0 && madvise(p, round_up(len, page), MADV_DONTNEED) != 0) t->bad++;
    if (munmap(p, len) != 0) t->bad++;
  }
  return NULL;
}

static void mode_threads(void)
{
  pthread_t th[2];
  struct thread_result res[2] = { { 1, 0 }, { 2, 0 } };
  int i;
  for (i = 0; i < 2; i++) pthread_create(&th[i], NULL, thread_churn, &res[i]);
  for (i = 0; i < 2; i++) pthread_join(th[i], NULL);
  check(res[0].bad == 0 && res[1].bad == 0, "2 threads x 2000 aligned mmap/madvise/munmap (bad: %d, %d)",
        res[0].bad, res[1].bad);
}

/* ---- random: spill decisions against an independent model ---------------- */

/* Random MAP_FIXED mmap / munmap / mprotect / madvise(DONTNEED) calls at
** page-aligned offsets with lengths in 1 KiB units inside one arena. A model
** keeps the state of every 1 KiB unit (unmapped, named, slack) and predicts
** for each call whether pagesim must count a spill; the prediction is
** checked through the growth of the verbose log (PAGESIM_LOG with
** PAGESIM_VERBOSE=1), call by call. */
enum unit_state { UNIT_UNMAPPED, UNIT_NAMED, UNIT_SLACK };
#define UNIT 1024
#define ARENA_PAGES 64

static off_t log_size(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? st.st_size : -1;
}

static void mode_random(void)
{
  const char *log = getenv("PAGESIM_LOG"), *verbose = getenv("PAGESIM_VERBOSE");
  size_t units = ARENA_PAGES * page / UNIT, unit_page = page / UNIT, i, spills = 0, wrong = 0;
  unsigned char *state = malloc(units);
  unsigned char *arena;
  unsigned seed = 12345;
  int op;

  if (!log || !verbose || strcmp(verbose, "1") != 0 || !state) {
    check(0, "random mode needs PAGESIM_LOG and PAGESIM_VERBOSE=1");
    return;
  }
  arena = mmap(NULL, ARENA_PAGES * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check(arena != MAP_FAILED, "arena of %d pages", ARENA_PAGES);
  memset(state, UNIT_NAMED, units);
  for (op = 0; op < 4000; op++) {
    size_t max_len = 4 * unit_page, o = 0, len = 0, rlen = 0;
    int kind = rand_r(&seed) % 10, expect = 0;
    off_t before;
    while (o + rlen == 0 || o + rlen > units) {
      o = (size_t)(rand_r(&seed) % ARENA_PAGES) * unit_page;
      len = 1 + (size_t)rand_r(&seed) % max_len;
      rlen = round_up(len, unit_page);
    }
    for (i = o + len; i < o + rlen; i++)
      expect |= kind < 8 ? state[i] == UNIT_NAMED : state[i] != UNIT_UNMAPPED;
    /* kind 0..2: map (never a spill), 3..5: munmap, 6..7: mprotect, 8..9: madvise */
    if (kind < 3) expect = 0;
    before = log_size(log);
    if (kind < 3) {
      void *r = mmap(arena + o * UNIT, len * UNIT, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
      if (r != arena + o * UNIT) wrong++;
      for (i = o; i < o + rlen; i++) state[i] = i < o + len ? UNIT_NAMED : UNIT_SLACK;
    } else if (kind < 6) {
      if (munmap(arena + o * UNIT, len * UNIT) != 0) wrong++;
      memset(state + o, UNIT_UNMAPPED, rlen);
    } else if (kind < 8) {
      mprotect(arena + o * UNIT, len * UNIT, PROT_READ | PROT_WRITE);
    } else {
      madvise(arena + o * UNIT, len * UNIT, MADV_DONTNEED);
    }
    if ((log_size(log) > before) != expect) {
      if (wrong < 10)
        printf("FAIL: op %d kind %d at page %zu len %zuK: spill expected %d\n",
               op, kind, o / unit_page, len, expect);
      wrong++;
    }
    spills += (size_t)expect;
  }
  check(wrong == 0, "4000 random calls: pagesim's spill decision matched the model (%zu mismatches)", wrong);
  printf("expected-spills=%zu\n", spills);
  free(state);
}

/* ---- strict-mode helpers ------------------------------------------------- */

static void mode_violate(void)
{
  unsigned char *base = map_rw(4 * page);
  int rc = madvise(base + HOST_PAGE, HOST_PAGE, MADV_DONTNEED);
  check(page > HOST_PAGE ? rc != 0 : rc == 0, "madvise(base+4096) returned %d", rc);
  fputs("partial", stdout);  /* no newline: must survive a strict exit */
}

int main(int argc, char **argv)
{
  const char *mode;
  if (argc != 3) {
    fprintf(stderr, "usage: pagesim_probe MODE PAGESIZE\n");
    return 2;
  }
  mode = argv[1];
  page = (size_t)strtoul(argv[2], NULL, 10);
  if (strcmp(mode, "exitcode") == 0) {
    fputs("unflushed", stdout);
    return (int)page;
  }
  if (page < HOST_PAGE || (page & (page - 1)) != 0) {
    fprintf(stderr, "pagesim_probe: bad PAGESIZE '%s'\n", argv[2]);
    return 2;
  }
  if (strcmp(mode, "query") == 0) mode_query();
  else if (strcmp(mode, "mmap") == 0) mode_mmap();
  else if (strcmp(mode, "unaligned") == 0) mode_unaligned();
  else if (strcmp(mode, "spill") == 0) mode_spill();
  else if (strcmp(mode, "slack") == 0) mode_slack();
  else if (strcmp(mode, "mremap") == 0) mode_mremap();
  else if (strcmp(mode, "mincore") == 0) mode_mincore();
  else if (strcmp(mode, "threads") == 0) mode_threads();
  else if (strcmp(mode, "random") == 0) mode_random();
  else if (strcmp(mode, "violate") == 0) mode_violate();
  else {
    fprintf(stderr, "pagesim_probe: unknown mode '%s'\n", mode);
    return 2;
  }
  return failures ? 1 : 0;
}
