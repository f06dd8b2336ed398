/*
** tsan_mremap.c: tells ThreadSanitizer what mremap() does to the address
** space (linked into the TSan build of many_states only).
**
** TSan intercepts mmap and munmap (the shadow of a range is reset when it is
** mapped or unmapped) but not mremap. A range that one thread's heap vacates
** with mremap (a block moved away, or shrunk in place) keeps that thread's
** accesses in the shadow; when another thread's heap later grows a block in
** place over it, the kernel hands that thread fresh pages, yet TSan reports
** its first writes as racing with the first thread's old ones (seen in
** lj_tab_resize growing a table's array part).
**
** This definition interposes mremap for every caller in the process
** (libluajit's included) and models the hand-over with happens-before on
** the pages involved: before the call the thread releases every page of the
** range it may vacate; after a successful call it acquires every page it
** gained (the grown tail, or all of a range the kernel chose). A page that
** changes hands was released before the kernel vacated it and is acquired
** after the kernel handed it out, so the old accesses happen before the new
** ones. Nothing else is ordered: two threads are synchronized only through
** the very pages that passed from one to the other.
*/
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <sanitizer/tsan_interface.h>

#define TSAN_MREMAP_PAGE 4096   /* any page-size multiple is on this grid */

void *mremap(void *old, size_t oldsize, size_t newsize, int flags, ...)
{
  char *o = (char *)old, *r, *from;
  void *to = NULL;
  size_t i;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    to = va_arg(ap, void *);
    va_end(ap);
  }
  for (i = 0; i < oldsize; i += TSAN_MREMAP_PAGE) __tsan_release(o + i);
  r = (char *)syscall(SYS_mremap, old, oldsize, newsize, flags, to);
  if (r == (char *)MAP_FAILED) return MAP_FAILED;
  from = r == o ? r + oldsize : r;        /* in place: only the tail is new */
  for (; from < r + newsize; from += TSAN_MREMAP_PAGE) __tsan_acquire(from);
  return r;
}
