/*
** fuzz_os.c: the recording OS shim and the live-page set of the heap fuzzer
** (what it checks: fuzz_os.h).
**
** Mapped ranges: a sorted array of disjoint [lo, hi) ranges. A range is
** added for every successful mmap, subtracted for every successful munmap
** (possibly splitting it) and moved by mremap. Live pages: an open-address
** table from page number to the number of live blocks with a byte on that
** page (linear probing, deletion by backward shift, no tombstones). One
** mutex guards both.
*/
#define _GNU_SOURCE
#include "fuzz_os.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define FZ_MAX_RANGES  4096
#define FZ_PAGE_SLOTS  ((size_t)1 << 19)   /* > 3x the live pages an input can pin */

typedef struct fz_range { uintptr_t lo, hi; } fz_range;
typedef struct fz_page { uintptr_t page; uint32_t count; } fz_page;  /* count 0 = empty */

static pthread_mutex_t fz_lock = PTHREAD_MUTEX_INITIALIZER;
static fz_range fz_ranges[FZ_MAX_RANGES];
static size_t fz_nranges, fz_mapped_bytes;
static uint64_t fz_seg_misaligned, fz_seg_below_calls, fz_owner_calls, fz_owner_pages;
static pthread_t fz_owner;
static uintptr_t fz_last_below;        /* the aligned address below the last misaligned segment */
static size_t fz_page_size = 4096, fz_segment_size = (size_t)4 << 20;
static unsigned fz_page_shift = 12;
static fz_page fz_pages[FZ_PAGE_SLOTS];
static size_t fz_npages;

void fuzz_fail(const char *fmt, ...)
{
  va_list ap;
  fputs("fuzz_heap: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  abort();
}

void fuzz_os_init(size_t page_size, size_t segment_size)
{
  fz_page_size = page_size;
  fz_page_shift = (unsigned)__builtin_ctzl(page_size);
  fz_segment_size = segment_size;
  fz_owner = pthread_self();
}

/* The owner's OS calls are the harness's work budget (the background
** thread's are not: the budget must not depend on timing). Lock held. */
static void fz_count_call(size_t len)
{
  if (!pthread_equal(pthread_self(), fz_owner)) return;
  fz_owner_calls++;
  fz_owner_pages += len / fz_page_size;
}

/* -- Mapped ranges (lock held) ------------------------------------------------ */

/* Index of the first range with hi > a. */
static size_t fz_range_find(uintptr_t a)
{
  size_t lo = 0, hi = fz_nranges;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (fz_ranges[mid].hi <= a) lo = mid + 1; else hi = mid;
  }
  return lo;
}

static int fz_range_inside(uintptr_t lo, uintptr_t hi)
{
  size_t i = fz_range_find(lo);
  return i < fz_nranges && fz_ranges[i].lo <= lo && hi <= fz_ranges[i].hi;
}

/* Every byte of [lo, hi) mapped, by one or more adjacent ranges. */
static int fz_range_covered(uintptr_t lo, uintptr_t hi)
{
  size_t i = fz_range_find(lo);
  while (lo < hi) {
    if (i >= fz_nranges || fz_ranges[i].lo > lo) return 0;
    lo = fz_ranges[i++].hi;
  }
  return 1;
}

static void fz_range_add(uintptr_t lo, uintptr_t hi)
{
  size_t i = fz_range_find(lo);
  if (i < fz_nranges && fz_ranges[i].lo < hi)
    fuzz_fail("mmap returned [%#lx, %#lx), overlapping the mapped range [%#lx, %#lx)",
              (unsigned long)lo, (unsigned long)hi, (unsigned long)fz_ranges[i].lo,
              (unsigned long)fz_ranges[i].hi);
  if (fz_nranges == FZ_MAX_RANGES) fuzz_fail("more than %d mapped ranges", FZ_MAX_RANGES);
  memmove(&fz_ranges[i + 1], &fz_ranges[i], (fz_nranges - i) * sizeof(fz_range));
  fz_ranges[i].lo = lo;
  fz_ranges[i].hi = hi;
  fz_nranges++;
  fz_mapped_bytes += hi - lo;
}

/* Subtract [lo, hi) from the ranges (parts not mapped are ignored). */
static void fz_range_sub(uintptr_t lo, uintptr_t hi)
{
  size_t i = fz_range_find(lo);
  while (i < fz_nranges && fz_ranges[i].lo < hi) {
    fz_range *r = &fz_ranges[i];
    uintptr_t clo = r->lo > lo ? r->lo : lo, chi = r->hi < hi ? r->hi : hi;
    fz_mapped_bytes -= chi - clo;
    if (r->lo < clo && chi < r->hi) {                 /* split in two */
      if (fz_nranges == FZ_MAX_RANGES) fuzz_fail("more than %d mapped ranges", FZ_MAX_RANGES);
      memmove(&fz_ranges[i + 2], &fz_ranges[i + 1], (fz_nranges - i - 1) * sizeof(fz_range));
      fz_ranges[i + 1].lo = chi;
      fz_ranges[i + 1].hi = r->hi;
      r->hi = clo;
      fz_nranges++;
      return;
    }
    if (r->lo < clo) { r->hi = clo; i++; continue; }  /* keep the head */
    if (chi < r->hi) { r->lo = chi; return; }          /* keep the tail */
    memmove(r, r + 1, (fz_nranges - i - 1) * sizeof(fz_range));
    fz_nranges--;
  }
}

/* -- Live pages (lock held) ----------------------------------------------------- */

static size_t fz_page_home(uintptr_t page)
{
  return (size_t)((page * 0x9e3779b97f4a7c15ull) >> 45) & (FZ_PAGE_SLOTS - 1);
}

static fz_page *fz_page_find(uintptr_t page)
{
  size_t i;
  for (i = fz_page_home(page); fz_pages[i].count; i = (i + 1) & (FZ_PAGE_SLOTS - 1))
    if (fz_pages[i].page == page) return &fz_pages[i];
  return NULL;
}

static void fz_page_inc(uintptr_t page)
{
  size_t i;
  for (i = fz_page_home(page); fz_pages[i].count; i = (i + 1) & (FZ_PAGE_SLOTS - 1))
    if (fz_pages[i].page == page) { fz_pages[i].count++; return; }
  if (fz_npages * 4 >= FZ_PAGE_SLOTS * 3) fuzz_fail("live page table full");
  fz_pages[i].page = page;
  fz_pages[i].count = 1;
  fz_npages++;
}

static void fz_page_dec(uintptr_t page)
{
  size_t mask = FZ_PAGE_SLOTS - 1, i, j;
  fz_page *e = fz_page_find(page);
  if (!e) fuzz_fail("live page %#lx removed twice", (unsigned long)(page << fz_page_shift));
  if (--e->count) return;
  fz_npages--;
  i = (size_t)(e - fz_pages);
  for (j = i;;) {                    /* backward shift: keep every probe chain unbroken */
    size_t k;
    j = (j + 1) & mask;
    if (!fz_pages[j].count) break;
    k = fz_page_home(fz_pages[j].page);
    if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j)) continue;
    fz_pages[i] = fz_pages[j];
    i = j;
  }
  fz_pages[i].count = 0;
  fz_pages[i].page = 0;
}

/* First live page in [lo, hi) (page-aligned bounds), or 0. */
static uintptr_t fz_live_in(uintptr_t lo, uintptr_t hi)
{
  uintptr_t p;
  if (!fz_npages) return 0;
  for (p = lo >> fz_page_shift; p < hi >> fz_page_shift; p++)
    if (fz_page_find(p)) return p << fz_page_shift;
  return 0;
}

void fuzz_live_add(const void *p, size_t n)
{
  uintptr_t a = (uintptr_t)p, pg, last = (a + (n ? n : 1) - 1) >> fz_page_shift;
  pthread_mutex_lock(&fz_lock);
  for (pg = a >> fz_page_shift; pg <= last; pg++) fz_page_inc(pg);
  pthread_mutex_unlock(&fz_lock);
}

void fuzz_live_remove(const void *p, size_t n)
{
  uintptr_t a = (uintptr_t)p, pg, last = (a + (n ? n : 1) - 1) >> fz_page_shift;
  pthread_mutex_lock(&fz_lock);
  for (pg = a >> fz_page_shift; pg <= last; pg++) fz_page_dec(pg);
  pthread_mutex_unlock(&fz_lock);
}

size_t fuzz_live_pages(void)
{
  size_t n;
  pthread_mutex_lock(&fz_lock);
  n = fz_npages;
  pthread_mutex_unlock(&fz_lock);
  return n;
}

/* -- The shim ------------------------------------------------------------------- */

static void fz_check_aligned(const char *call, uintptr_t a, size_t n)
{
  if ((a | n) & (fz_page_size - 1) || n == 0)
    fuzz_fail("%s(%#lx, %zu): not whole OS pages of %zu bytes", call, (unsigned long)a, n,
              fz_page_size);
}

static void fz_check_ours(const char *call, uintptr_t a, size_t n)
{
  uintptr_t live;
  if (!fz_range_covered(a, a + n))
    fuzz_fail("%s(%#lx, %zu): memory the allocator has not mapped", call, (unsigned long)a, n);
  if ((live = fz_live_in(a, a + n)) != 0)
    fuzz_fail("%s(%#lx, %zu): OS page %#lx holds a live block", call, (unsigned long)a, n,
              (unsigned long)live);
}

void *fuzz_os_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int fuzz_os_munmap(void *addr, size_t len);
void *fuzz_os_mremap(void *old, size_t oldlen, size_t newlen, int flags, ...);
int fuzz_os_madvise(void *addr, size_t len, int advice);

void *fuzz_os_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  void *p = mmap(addr, len, prot, flags, fd, off);
  uintptr_t a = (uintptr_t)p, below;
  if (p == MAP_FAILED) return p;
  pthread_mutex_lock(&fz_lock);
  fz_count_call(len);
  fz_range_add(a, a + ((len + fz_page_size - 1) & ~(fz_page_size - 1)));
  /* rcl_os_map: a misaligned segment is followed by one attempt at the
  ** aligned address below it, whose injected failure is not counted. */
  below = fz_last_below;
  fz_last_below = 0;
  if (len == fz_segment_size && below && (uintptr_t)addr == below) {
    fz_seg_below_calls++;
  } else if (len == fz_segment_size && (a & (fz_segment_size - 1)) &&
             (a & ~(fz_segment_size - 1)) != 0) {
    fz_seg_misaligned++;
    fz_last_below = a & ~(fz_segment_size - 1);
  }
  pthread_mutex_unlock(&fz_lock);
  return p;
}

int fuzz_os_munmap(void *addr, size_t len)
{
  uintptr_t a = (uintptr_t)addr;
  int r;
  pthread_mutex_lock(&fz_lock);
  fz_check_aligned("munmap", a, len);
  fz_check_ours("munmap", a, len);
  fz_count_call(len);
  r = munmap(addr, len);
  if (r == 0) fz_range_sub(a, a + len);
  pthread_mutex_unlock(&fz_lock);
  return r;
}

void *fuzz_os_mremap(void *old, size_t oldlen, size_t newlen, int flags, ...)
{
  uintptr_t a = (uintptr_t)old;
  void *to = NULL, *r;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    to = va_arg(ap, void *);
    va_end(ap);
  }
  pthread_mutex_lock(&fz_lock);
  fz_check_aligned("mremap", a, oldlen);
  fz_check_aligned("mremap", a, newlen);
  if (!fz_range_covered(a, a + oldlen))
    fuzz_fail("mremap(%#lx, %zu): memory the allocator has not mapped", (unsigned long)a, oldlen);
  if (to && !fz_range_covered((uintptr_t)to, (uintptr_t)to + newlen))
    fuzz_fail("mremap to %p: the target is not the allocator's reservation", to);
  fz_count_call(oldlen < newlen ? oldlen : newlen);
  r = (flags & MREMAP_FIXED) ? mremap(old, oldlen, newlen, flags, to)
                             : mremap(old, oldlen, newlen, flags);
  if (r != MAP_FAILED) {
    fz_range_sub(a, a + oldlen);
    fz_range_sub((uintptr_t)r, (uintptr_t)r + newlen);   /* a MREMAP_FIXED target */
    fz_range_add((uintptr_t)r, (uintptr_t)r + newlen);
  }
  pthread_mutex_unlock(&fz_lock);
  return r;
}

int fuzz_os_madvise(void *addr, size_t len, int advice)
{
  uintptr_t a = (uintptr_t)addr;
  pthread_mutex_lock(&fz_lock);
  fz_check_aligned("madvise", a, len);
  if (advice == MADV_DONTNEED || advice == MADV_FREE) {
    fz_check_ours("madvise", a, len);
  } else if (!fz_range_covered(a, a + len)) {
    fuzz_fail("madvise(%#lx, %zu, %d): memory the allocator has not mapped", (unsigned long)a,
              len, advice);
  }
  fz_count_call(len);
  pthread_mutex_unlock(&fz_lock);
  /* Outside the lock: the range stays the allocator's (it holds its own
  ** lock), and madvise may take a while. */
  return madvise(addr, len, advice);
}

/* -- Queries --------------------------------------------------------------------- */

void fuzz_os_forget(void)
{
  pthread_mutex_lock(&fz_lock);
  fz_nranges = 0;
  fz_mapped_bytes = 0;
  pthread_mutex_unlock(&fz_lock);
}

void fuzz_os_get(fuzz_os_counts *c)
{
  pthread_mutex_lock(&fz_lock);
  c->mapped_bytes = fz_mapped_bytes;
  c->ranges = fz_nranges;
  c->seg_misaligned = fz_seg_misaligned;
  c->seg_below_calls = fz_seg_below_calls;
  c->owner_calls = fz_owner_calls;
  c->owner_pages = fz_owner_pages;
  pthread_mutex_unlock(&fz_lock);
}

int fuzz_os_inside(const void *p, size_t n)
{
  int r;
  pthread_mutex_lock(&fz_lock);
  r = fz_range_inside((uintptr_t)p, (uintptr_t)p + (n ? n : 1));
  pthread_mutex_unlock(&fz_lock);
  return r;
}

size_t fuzz_os_release(size_t *bytes)
{
  size_t n, i;
  pthread_mutex_lock(&fz_lock);
  n = fz_nranges;
  *bytes = fz_mapped_bytes;
  for (i = 0; i < fz_nranges; i++)
    if (munmap((void *)fz_ranges[i].lo, fz_ranges[i].hi - fz_ranges[i].lo) != 0)
      fuzz_fail("cannot unmap a leaked range [%#lx, %#lx)", (unsigned long)fz_ranges[i].lo,
                (unsigned long)fz_ranges[i].hi);
  fz_nranges = 0;
  fz_mapped_bytes = 0;
  pthread_mutex_unlock(&fz_lock);
  return n;
}
