/*
** fuzz_os.c: the recording OS shim and the live-page set of the heap fuzzer
** (what it checks: fuzz_os.h).
**
** Mapped ranges: a sorted array of disjoint [lo, hi) ranges, each anonymous
** (ino 0) or mapping a memory file (its inode, and the file offset of lo).
** A range is added for every successful mmap (a MAP_FIXED one replaces what
** it covers), subtracted for every successful munmap (possibly splitting
** it, file offsets following) and moved by mremap (an mremap of old size 0
** maps the same file pages a second time). Each range carries the id of
** the mapping it belongs to: a split keeps it, and a page mapped over part
** of a mapping in place (a file segment over its reservation, an alias)
** joins it, so a block in a segment with aliases is still in one mapping.
** Files: the memory files made
** through the shim, by inode, with their size (dropped once no range maps
** them, at fuzz_os_release/forget). Live pages: an open-address table from
** page number to the number of live blocks with a byte on that page (linear
** probing, deletion by backward shift, no tombstones). One mutex guards
** all three.
*/
#define _GNU_SOURCE
#include "fuzz_os.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>
#include <errno.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define FZ_MAX_RANGES  4096
#define FZ_PAGE_SLOTS  ((size_t)1 << 19)   /* > 3x the live pages an input can pin */
#define FZ_MAX_FILES   64

/* ino 0: anonymous; plain: an anonymous mmap without an address (the
** library's own tables, the heap struct), not a segment or large block. */
typedef struct fz_range {
  uintptr_t lo, hi;
  uint64_t ino, off;
  uint64_t id;         /* the mapping it belongs to: one per mmap; kept by the
                          parts of a split and by pages mapped over it in place */
  int plain;
} fz_range;
typedef struct fz_file { uint64_t ino, size; } fz_file;
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
static fz_file fz_files[FZ_MAX_FILES];
static size_t fz_nfiles;
static uintptr_t fz_allow_lo, fz_allow_hi;   /* fuzz_os_allow_remap */
static uint64_t fz_punches, fz_removes, fz_resident_checks, fz_next_id, fz_mesh_remaps;
static int fz_allow_mesh;                    /* fuzz_os_allow_mesh */

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

/* The range holding a, or NULL. */
static fz_range *fz_range_at(uintptr_t a)
{
  size_t i = fz_range_find(a);
  return i < fz_nranges && fz_ranges[i].lo <= a ? &fz_ranges[i] : NULL;
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

/* 1 if some byte of [lo, hi) maps a memory file (want_file) or anonymous
** memory (!want_file). */
static int fz_range_any(uintptr_t lo, uintptr_t hi, int want_file)
{
  size_t i;
  for (i = fz_range_find(lo); i < fz_nranges && fz_ranges[i].lo < hi; i++)
    if ((fz_ranges[i].ino != 0) == want_file) return 1;
  return 0;
}

/* The id of the mapping holding a, or a new one. */
static uint64_t fz_range_id(uintptr_t a)
{
  const fz_range *r = fz_range_at(a);
  return r ? r->id : ++fz_next_id;
}

static void fz_range_add(uintptr_t lo, uintptr_t hi, uint64_t ino, uint64_t off, uint64_t id,
                         int plain)
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
  fz_ranges[i].ino = ino;
  fz_ranges[i].off = ino ? off : 0;
  fz_ranges[i].id = id;
  fz_ranges[i].plain = plain;
  fz_nranges++;
  fz_mapped_bytes += hi - lo;
}

/* Subtract [lo, hi) from the ranges (parts not mapped are ignored); the
** file offset of a part kept after the hole moves with its start. */
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
      fz_ranges[i + 1] = *r;
      fz_ranges[i + 1].lo = chi;
      if (r->ino) fz_ranges[i + 1].off = r->off + (chi - r->lo);
      r->hi = clo;
      fz_nranges++;
      return;
    }
    if (r->lo < clo) { r->hi = clo; i++; continue; }  /* keep the head */
    if (chi < r->hi) {                                 /* keep the tail */
      if (r->ino) r->off += chi - r->lo;
      r->lo = chi;
      return;
    }
    memmove(r, r + 1, (fz_nranges - i - 1) * sizeof(fz_range));
    fz_nranges--;
  }
}

/* -- Memory files (lock held) ----------------------------------------------------- */

static uint64_t fz_ino_of(int fd)
{
  struct stat st;
  return fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

static fz_file *fz_file_find(uint64_t ino)
{
  size_t i;
  for (i = 0; i < fz_nfiles; i++)
    if (fz_files[i].ino == ino) return &fz_files[i];
  return NULL;
}

/* Drop the files no range maps (their descriptors are closed or will be:
** an inode number may come back for another file). */
static void fz_files_prune(void)
{
  size_t i, j, k;
  for (i = k = 0; i < fz_nfiles; i++) {
    for (j = 0; j < fz_nranges && fz_ranges[j].ino != fz_files[i].ino; j++) {}
    if (j < fz_nranges) fz_files[k++] = fz_files[i];
  }
  fz_nfiles = k;
}

/* The first address mapping a page of file ino's [off, off + len), with
** live != 0 only an address holding a live block; 0 if none. */
static uintptr_t fz_file_mapper(uint64_t ino, uint64_t off, uint64_t len, int live);

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

static uintptr_t fz_file_mapper(uint64_t ino, uint64_t off, uint64_t len, int live)
{
  size_t i;
  for (i = 0; i < fz_nranges; i++) {
    const fz_range *r = &fz_ranges[i];
    uint64_t rlen = r->hi - r->lo, lo, hi;
    uintptr_t hit;
    if (r->ino != ino || r->off >= off + len || r->off + rlen <= off) continue;
    lo = r->off > off ? r->off : off;
    hi = r->off + rlen < off + len ? r->off + rlen : off + len;
    if (!live) return r->lo + (uintptr_t)(lo - r->off);
    hit = fz_live_in(r->lo + (uintptr_t)(lo - r->off), r->lo + (uintptr_t)(hi - r->off));
    if (hit) return hit;
  }
  return 0;
}

/* Owner-thread punches of a file page that a page outside the punched
** range maps too (fuzz_os_shared_punches). Lock held. */
#define FZ_MAX_SHARED_PUNCHES 256
static uintptr_t fz_sp_page[FZ_MAX_SHARED_PUNCHES], fz_sp_mapper[FZ_MAX_SHARED_PUNCHES];
static size_t fz_nsp, fz_sp_lost;
static int (*fz_punch_ok)(uintptr_t page, uintptr_t mapper);

void fuzz_os_punch_check(int (*ok)(uintptr_t page, uintptr_t mapper))
{
  pthread_mutex_lock(&fz_lock);
  fz_punch_ok = ok;
  pthread_mutex_unlock(&fz_lock);
}

static void fz_note_shared_punches(const fz_range *r, uintptr_t lo, uintptr_t hi, uintptr_t plo,
                                   uintptr_t phi)
{
  uintptr_t p;
  size_t i;
  if (!pthread_equal(pthread_self(), fz_owner)) return;
  for (p = lo; p < hi; p += fz_page_size) {
    uint64_t off = r->off + (p - r->lo);
    for (i = 0; i < fz_nranges; i++) {
      const fz_range *q = &fz_ranges[i];
      uintptr_t m;
      if (q->ino != r->ino || q->off > off || q->off + (q->hi - q->lo) <= off) continue;
      m = q->lo + (uintptr_t)(off - q->off);
      if (m >= plo && m < phi) continue;
      if (fz_punch_ok && fz_punch_ok(p, m)) continue;
      if (fz_nsp == FZ_MAX_SHARED_PUNCHES) { fz_sp_lost++; continue; }
      fz_sp_page[fz_nsp] = p;
      fz_sp_mapper[fz_nsp++] = m;
    }
  }
}

size_t fuzz_os_shared_punches(uintptr_t *page, uintptr_t *mapper, size_t max, size_t *lost)
{
  size_t n, i;
  pthread_mutex_lock(&fz_lock);
  n = fz_nsp < max ? fz_nsp : max;
  for (i = 0; i < n; i++) { page[i] = fz_sp_page[i]; mapper[i] = fz_sp_mapper[i]; }
  *lost = fz_sp_lost + (fz_nsp - n);
  fz_nsp = fz_sp_lost = 0;
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

/* [a, a+n) may be unmapped, purged or replaced: the allocator's, and no
** page of it holds a live block (except the page fuzz_os_allow_remap names,
** when replace is set). */
static void fz_check_ours(const char *call, uintptr_t a, size_t n, int replace)
{
  uintptr_t live;
  if (!fz_range_covered(a, a + n))
    fuzz_fail("%s(%#lx, %zu): memory the allocator has not mapped", call, (unsigned long)a, n);
  if (replace && a >= fz_allow_lo && a + n <= fz_allow_hi) return;
  live = fz_live_in(a, a + n);
  if (live && replace && fz_allow_mesh && n == fz_page_size && fz_range_at(a)->ino) {
    fz_mesh_remaps++;                 /* a mesh or unmesh: the harness checks the contents */
    return;
  }
  if (live)
    fuzz_fail("%s(%#lx, %zu): OS page %#lx holds a live block", call, (unsigned long)a, n,
              (unsigned long)live);
}

/* The file pages under [a, a+n) lose their contents (MADV_REMOVE): no
** page mapping one of them, here or through another mapping of the same
** file page (an alias), may hold a live block. */
static void fz_check_file_pages(const char *call, uintptr_t a, size_t n)
{
  size_t i;
  for (i = fz_range_find(a); i < fz_nranges && fz_ranges[i].lo < a + n; i++) {
    const fz_range *r = &fz_ranges[i];
    uintptr_t lo = r->lo > a ? r->lo : a, hi = r->hi < a + n ? r->hi : a + n, live;
    if (!r->ino) continue;
    live = fz_file_mapper(r->ino, r->off + (lo - r->lo), hi - lo, 1);
    if (live)
      fuzz_fail("%s(%#lx, %zu): frees the file page under %#lx, which the live OS page %#lx "
                "maps", call, (unsigned long)a, n, (unsigned long)lo, (unsigned long)live);
    fz_note_shared_punches(r, lo, hi, a, a + n);
  }
}

/* A purge by the thread running the inputs must leave no page resident
** (a page dropped reads back as zeros); MADV_DONTNEED on a shared file
** mapping would keep the file's pages. The background thread's purges are
** not checked: the owner may reuse those pages at once. */
static void fz_check_gone(uintptr_t a, size_t n, int advice)
{
  unsigned char vec[1024];
  size_t done = 0, i, chunk;
  if (!pthread_equal(pthread_self(), fz_owner)) return;
  while (done < n) {
    chunk = n - done < sizeof(vec) * fz_page_size ? n - done : sizeof(vec) * fz_page_size;
    if (mincore((void *)(a + done), chunk, vec) != 0)
      fuzz_fail("mincore(%#lx, %zu) failed after a purge", (unsigned long)(a + done), chunk);
    for (i = 0; i < chunk / fz_page_size; i++)
      if (vec[i] & 1)
        fuzz_fail("madvise(%#lx, %zu, %s) left OS page %#lx resident", (unsigned long)a, n,
                  advice == MADV_REMOVE ? "MADV_REMOVE" : "MADV_DONTNEED",
                  (unsigned long)(a + done + i * fz_page_size));
    done += chunk;
  }
  pthread_mutex_lock(&fz_lock);
  fz_resident_checks++;
  pthread_mutex_unlock(&fz_lock);
}

void *fuzz_os_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int fuzz_os_munmap(void *addr, size_t len);
void *fuzz_os_mremap(void *old, size_t oldlen, size_t newlen, int flags, ...);
int fuzz_os_madvise(void *addr, size_t len, int advice);
int fuzz_os_memfd_create(const char *name, unsigned flags);
int fuzz_os_ftruncate(int fd, off_t size);
int fuzz_os_fallocate(int fd, int mode, off_t off, off_t len);

/* A file mapping MAP_FIXED over [a, a+len) at file offset off: the file is
** one of ours, the range lies within its size, and unless the range maps
** those very file pages already (a restore) or it is one page that another
** of our pages maps (an alias), they are holes (the backing maps only
** punched or new ranges, which read as zeros). Lock held. */
static void fz_check_file_map(uintptr_t a, size_t len, int fd, uint64_t ino, uint64_t off)
{
  const fz_file *f = fz_file_find(ino);
  const fz_range *r = fz_range_at(a);
  off_t data;
  if (!f) fuzz_fail("mmap(%#lx, %zu) of a file not made by memfd_create", (unsigned long)a, len);
  if (off + len > f->size)
    fuzz_fail("mmap(%#lx, %zu) of file range [%#llx, %#llx) beyond the file's size %#llx",
              (unsigned long)a, len, (unsigned long long)off, (unsigned long long)(off + len),
              (unsigned long long)f->size);
  if (r && r->ino == ino && r->off + (a - r->lo) == off && a + len <= r->hi) return;
  /* An alias (rcl_os_page_alias): one OS page mapped onto a file page that
  ** another page of ours maps already. */
  if (len == fz_page_size && fz_file_mapper(ino, off, len, 0)) return;
  data = lseek(fd, (off_t)off, SEEK_DATA);
  if (data >= 0 && (uint64_t)data < off + len)
    fuzz_fail("mmap(%#lx, %zu) of file range [%#llx, %#llx): offset %#llx holds data (a range "
              "handed out again must be punched)", (unsigned long)a, len, (unsigned long long)off,
              (unsigned long long)(off + len), (unsigned long long)data);
}

void *fuzz_os_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
  uintptr_t a, below, want = (uintptr_t)addr;
  size_t rlen = (len + fz_page_size - 1) & ~(fz_page_size - 1);
  uint64_t ino = (flags & MAP_ANONYMOUS) ? 0 : fz_ino_of(fd);
  int fixed = (flags & MAP_FIXED) != 0, noreplace = (flags & MAP_FIXED_NOREPLACE) != 0;
  uint64_t id;
  void *p;
  if (fixed) {
    /* Only over the allocator's own memory: a segment's reservation, an
    ** alias page mapped back. */
    pthread_mutex_lock(&fz_lock);
    fz_check_aligned("mmap(MAP_FIXED)", want, len);
    fz_check_ours("mmap(MAP_FIXED)", want, rlen, 1);
    if (ino) fz_check_file_map(want, rlen, fd, ino, (uint64_t)off);
    pthread_mutex_unlock(&fz_lock);
  }
  p = mmap(addr, len, prot, flags, fd, off);
  a = (uintptr_t)p;
  if (p == MAP_FAILED) return p;
  pthread_mutex_lock(&fz_lock);
  fz_count_call(len);
  id = fixed ? fz_range_id(a) : ++fz_next_id;      /* in place: the same mapping */
  if (fixed || (noreplace && a == want)) fz_range_sub(a, a + rlen);  /* replaced, or gone */
  fz_range_add(a, a + rlen, ino, (uint64_t)off, id, !ino && !want && !fixed);
  /* rcl_os_map: a misaligned segment is followed by one attempt at the
  ** aligned address below it, whose injected failure is not counted. */
  below = fz_last_below;
  fz_last_below = 0;
  if (fixed || ino) {
    /* a file mapping over a reservation: not a new anonymous segment */
  } else if (len == fz_segment_size && below && want == below) {
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
  fz_check_ours("munmap", a, len, 0);
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
  const fz_range *src;
  uint64_t ino = 0, off = 0;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    to = va_arg(ap, void *);
    va_end(ap);
  }
  pthread_mutex_lock(&fz_lock);
  fz_check_aligned("mremap", a, newlen);
  if (oldlen == 0) {
    /* A second mapping of the same shared pages (an alias): only of a file
    ** mapping, onto the allocator's memory. */
    src = fz_range_at(a);
    if (!to || !src || !src->ino || a + newlen > src->hi)
      fuzz_fail("mremap(%#lx, 0, %zu) to %p: not a duplicate of one file mapping onto a fixed "
                "address", (unsigned long)a, newlen, to);
    fz_check_ours("mremap(old size 0) target", (uintptr_t)to, newlen, 1);
    ino = src->ino;
    off = src->off + (a - src->lo);
  } else {
    fz_check_aligned("mremap", a, oldlen);
    if (!fz_range_covered(a, a + oldlen))
      fuzz_fail("mremap(%#lx, %zu): memory the allocator has not mapped", (unsigned long)a, oldlen);
    if (to) fz_check_ours("mremap target", (uintptr_t)to, newlen, 1);
    src = fz_range_at(a);
    if (src->ino) {
      if (a + oldlen > src->hi)
        fuzz_fail("mremap(%#lx, %zu) of more than one file mapping", (unsigned long)a, oldlen);
      ino = src->ino;
      off = src->off + (a - src->lo);
    }
  }
  fz_count_call(oldlen < newlen ? oldlen : newlen);
  r = (flags & MREMAP_FIXED) ? mremap(old, oldlen, newlen, flags, to)
                             : mremap(old, oldlen, newlen, flags);
  if (r != MAP_FAILED) {
    /* A duplicate page joins the mapping it lands in; a move is a new one. */
    uint64_t id = oldlen ? ++fz_next_id : fz_range_id((uintptr_t)r);
    if (oldlen) fz_range_sub(a, a + oldlen);
    fz_range_sub((uintptr_t)r, (uintptr_t)r + newlen);   /* a MREMAP_FIXED target */
    fz_range_add((uintptr_t)r, (uintptr_t)r + newlen, ino, off, id, 0);
  }
  pthread_mutex_unlock(&fz_lock);
  return r;
}

int fuzz_os_madvise(void *addr, size_t len, int advice)
{
  uintptr_t a = (uintptr_t)addr;
  int r;
  pthread_mutex_lock(&fz_lock);
  fz_check_aligned("madvise", a, len);
  if (advice == MADV_DONTNEED || advice == MADV_FREE) {
    fz_check_ours("madvise", a, len, 0);
    if (fz_range_any(a, a + len, 1))
      fuzz_fail("madvise(%#lx, %zu, %s) on a file mapping: the pages stay in the file (a purge "
                "there must punch: MADV_REMOVE)", (unsigned long)a, len,
                advice == MADV_FREE ? "MADV_FREE" : "MADV_DONTNEED");
  } else if (advice == MADV_REMOVE) {
    fz_check_ours("madvise(MADV_REMOVE)", a, len, 0);
    if (fz_range_any(a, a + len, 0))
      fuzz_fail("madvise(%#lx, %zu, MADV_REMOVE) on anonymous memory", (unsigned long)a, len);
    fz_check_file_pages("madvise(MADV_REMOVE)", a, len);
    fz_removes++;
  } else if (!fz_range_covered(a, a + len)) {
    fuzz_fail("madvise(%#lx, %zu, %d): memory the allocator has not mapped", (unsigned long)a,
              len, advice);
  }
  fz_count_call(len);
  pthread_mutex_unlock(&fz_lock);
  /* Outside the lock: the range stays the allocator's (it holds its own
  ** lock), and madvise may take a while. */
  r = madvise(addr, len, advice);
  if (r == 0 && (advice == MADV_DONTNEED || advice == MADV_REMOVE)) fz_check_gone(a, len, advice);
  return r;
}

int fuzz_os_memfd_create(const char *name, unsigned flags)
{
  int fd = memfd_create(name, flags);
  uint64_t ino = fz_ino_of(fd);
  if (fd < 0) return fd;
  pthread_mutex_lock(&fz_lock);
  if (fz_file_find(ino)) fuzz_fail("memfd_create: inode %llu is already a live file of ours",
                                   (unsigned long long)ino);
  if (fz_nfiles == FZ_MAX_FILES) fuzz_fail("more than %d memory files", FZ_MAX_FILES);
  fz_files[fz_nfiles].ino = ino;
  fz_files[fz_nfiles++].size = 0;
  fz_count_call(0);
  pthread_mutex_unlock(&fz_lock);
  return fd;
}

int fuzz_os_ftruncate(int fd, off_t size)
{
  uint64_t ino = fz_ino_of(fd);
  fz_file *f;
  int r;
  pthread_mutex_lock(&fz_lock);
  f = fz_file_find(ino);
  if (!f) fuzz_fail("ftruncate(%d): not a memory file made by memfd_create", fd);
  if ((uint64_t)size < f->size)
    fuzz_fail("ftruncate(%d, %lld) shrinks the file from %llu bytes", fd, (long long)size,
              (unsigned long long)f->size);
  fz_count_call(0);
  r = ftruncate(fd, size);
  if (r == 0) f->size = (uint64_t)size;
  pthread_mutex_unlock(&fz_lock);
  return r;
}

int fuzz_os_fallocate(int fd, int mode, off_t off, off_t len)
{
  uint64_t ino = fz_ino_of(fd);
  uintptr_t mapper;
  int r;
  pthread_mutex_lock(&fz_lock);
  if (mode != (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE))
    fuzz_fail("fallocate(%d, mode %#x): the backing only punches holes", fd, (unsigned)mode);
  if (!fz_file_find(ino)) fuzz_fail("fallocate(%d): not a memory file made by memfd_create", fd);
  fz_check_aligned("fallocate", (uintptr_t)off, (size_t)len);
  /* Only ranges no page maps: an unmapped segment's, an alias's own. */
  if ((mapper = fz_file_mapper(ino, (uint64_t)off, (uint64_t)len, 1)) != 0)
    fuzz_fail("fallocate(punch [%#llx, %#llx)) frees a file page that the live OS page %#lx maps",
              (unsigned long long)off, (unsigned long long)(off + len), (unsigned long)mapper);
  if ((mapper = fz_file_mapper(ino, (uint64_t)off, (uint64_t)len, 0)) != 0)
    fuzz_fail("fallocate(punch [%#llx, %#llx)) of a file page still mapped at %#lx",
              (unsigned long long)off, (unsigned long long)(off + len), (unsigned long)mapper);
  fz_count_call((size_t)len);
  fz_punches++;
  r = fallocate(fd, mode, off, len);
  pthread_mutex_unlock(&fz_lock);
  return r;
}

void fuzz_os_allow_remap(const void *p, size_t n)
{
  pthread_mutex_lock(&fz_lock);
  fz_allow_lo = (uintptr_t)p;
  fz_allow_hi = (uintptr_t)p + n;
  pthread_mutex_unlock(&fz_lock);
}

void fuzz_os_allow_mesh(int on)
{
  pthread_mutex_lock(&fz_lock);
  fz_allow_mesh = on;
  pthread_mutex_unlock(&fz_lock);
}

size_t fuzz_os_plain_bytes_at(const void *p)
{
  const fz_range *r;
  size_t n = 0;
  if (!p) return 0;
  pthread_mutex_lock(&fz_lock);
  r = fz_range_at((uintptr_t)p);
  if (r && r->plain && r->lo == (uintptr_t)p) n = r->hi - r->lo;
  pthread_mutex_unlock(&fz_lock);
  return n;
}

int fuzz_os_page_file(const void *p, uint64_t *ino, uint64_t *off)
{
  const fz_range *r;
  int file = 0;
  pthread_mutex_lock(&fz_lock);
  r = fz_range_at((uintptr_t)p);
  if (r && r->ino) {
    file = 1;
    if (ino) *ino = r->ino;
    if (off) *off = r->off + ((uintptr_t)p - r->lo);
  }
  pthread_mutex_unlock(&fz_lock);
  return file;
}

/* -- Queries --------------------------------------------------------------------- */

void fuzz_os_forget(void)
{
  pthread_mutex_lock(&fz_lock);
  fz_nranges = 0;
  fz_mapped_bytes = 0;
  fz_files_prune();
  pthread_mutex_unlock(&fz_lock);
}

void fuzz_os_get(fuzz_os_counts *c)
{
  size_t i;
  pthread_mutex_lock(&fz_lock);
  c->mapped_bytes = fz_mapped_bytes;
  c->ranges = fz_nranges;
  c->seg_misaligned = fz_seg_misaligned;
  c->seg_below_calls = fz_seg_below_calls;
  c->owner_calls = fz_owner_calls;
  c->owner_pages = fz_owner_pages;
  c->plain_bytes = c->file_bytes = 0;
  c->plain_ranges = 0;
  for (i = 0; i < fz_nranges; i++) {
    if (fz_ranges[i].plain) {
      c->plain_bytes += fz_ranges[i].hi - fz_ranges[i].lo;
      c->plain_ranges++;
    }
    if (fz_ranges[i].ino) c->file_bytes += fz_ranges[i].hi - fz_ranges[i].lo;
  }
  c->files = fz_nfiles;
  c->punches = fz_punches;
  c->removes = fz_removes;
  c->resident_checks = fz_resident_checks;
  c->mesh_remaps = fz_mesh_remaps;
  pthread_mutex_unlock(&fz_lock);
}

int fuzz_os_inside(const void *p, size_t n)
{
  uintptr_t lo = (uintptr_t)p, hi = lo + (n ? n : 1);
  size_t i;
  int r;
  pthread_mutex_lock(&fz_lock);
  r = fz_range_covered(lo, hi);
  for (i = fz_range_find(lo); r && i < fz_nranges && fz_ranges[i].lo < hi; i++)
    r = fz_ranges[i].id == fz_ranges[fz_range_find(lo)].id;
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
  fz_files_prune();
  pthread_mutex_unlock(&fz_lock);
  return n;
}
