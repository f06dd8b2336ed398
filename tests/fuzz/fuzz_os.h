/*
** fuzz_os.h: the heap fuzzer's view of the OS: a recording shim between the
** allocator and the kernel, and the set of OS pages that hold a live block
** (tests/fuzz/fuzz_os.c).
**
** fuzz.mk compiles rcl_all.c with -Dmmap=fuzz_os_mmap (and munmap, mremap,
** madvise, and the memory-file backing's memfd_create, ftruncate and
** fallocate likewise), so every such system call of the allocator comes
** here and is passed on unchanged. The shim keeps the address ranges the
** allocator has mapped, anonymous or from a memory file (docs/mesh.md),
** and fails the run (fuzz_fail) when the allocator:
**  - unmaps, remaps or madvises memory it has not mapped, or a range that
**    is not page-aligned;
**  - unmaps, purges (MADV_DONTNEED/FREE/REMOVE) or maps over (MAP_FIXED,
**    mremap to a fixed address) an OS page that holds a byte of a block the
**    harness holds live (fuzz_live_add/remove: added after the allocation
**    returned, removed before the block is handed back, so the live set is
**    always a subset of the allocator's), except the one page the harness
**    names with fuzz_os_allow_remap around its alias calls, and one page of a
**    file mapping while fuzz_os_allow_mesh is on;
**  - frees a file page that a live OS page maps through any mapping (an
**    alias): MADV_REMOVE of one of its mappings, a punch of its range;
**  - purges a file mapping with MADV_DONTNEED or MADV_FREE (the pages stay
**    in the file), or anonymous memory with MADV_REMOVE;
**  - leaves a page resident after its own MADV_DONTNEED or MADV_REMOVE on
**    the thread running the inputs (mincore; a dropped page reads zeros);
**  - punches (fallocate) a file range that any page still maps, or uses
**    another mode than PUNCH_HOLE | KEEP_SIZE;
**  - maps a file range MAP_FIXED that holds data (a range handed out again
**    must have been punched) unless it maps those very pages back, or
**    beyond the file's size; shrinks a file; uses a file not made by
**    memfd_create; duplicates (mremap of old size 0) anything but a file
**    mapping.
** Mapped ranges left after rcl_heap_destroy are leaks; fuzz_os_release()
** reports them and unmaps them. All functions are thread-safe (the
** background purge thread calls madvise, munmap and fallocate).
*/
#ifndef FUZZ_OS_H
#define FUZZ_OS_H

#include <stddef.h>
#include <stdint.h>

typedef struct fuzz_os_counts {
  size_t mapped_bytes;       /* bytes in ranges the allocator has mapped, now */
  size_t ranges;             /* disjoint ranges holding them */
  uint64_t seg_misaligned;   /* segment-size mappings that came back misaligned */
  uint64_t seg_below_calls;  /* real retries at the aligned address below those */
  uint64_t owner_calls;      /* OS calls made by the thread that ran fuzz_os_init */
  uint64_t owner_pages;      /* OS pages those calls mapped, unmapped, moved or advised */
  size_t plain_bytes;        /* anonymous mappings made without an address: tables, the heap */
  size_t plain_ranges;
  size_t file_bytes;         /* bytes mapped from memory files */
  size_t files;              /* memory files made (and still mapped) */
  uint64_t punches;          /* fallocate punches, all threads */
  uint64_t removes;          /* MADV_REMOVE purges, all threads */
  uint64_t resident_checks;  /* purges checked with mincore */
  uint64_t mesh_remaps;      /* one-page file remaps over live pages (fuzz_os_allow_mesh) */
} fuzz_os_counts;

/* Called by the thread that runs the inputs (the owner of every heap). */
void fuzz_os_init(size_t page_size, size_t segment_size);
/* Stop tracking the ranges mapped so far, leaving them mapped: the
** library's process-wide mappings, made once, are not a heap's. */
void fuzz_os_forget(void);
void fuzz_os_get(fuzz_os_counts *c);
/* 1 if [p, p+n) lies inside one mapping the allocator made (the pages
** mapped over parts of it in place, a file segment's, aliases, included). */
int fuzz_os_inside(const void *p, size_t n);
/* Unmap every range still recorded (after rcl_heap_destroy: leaks); returns
** the number of ranges, their total size in *bytes. */
size_t fuzz_os_release(size_t *bytes);

/* While n != 0, MAP_FIXED and mremap may replace [p, p+n) though it holds
** live blocks (the alias hooks remap a live page); n == 0 ends that. */
void fuzz_os_allow_remap(const void *p, size_t n);
/* on != 0: the allocator may map one OS page of a file mapping over a page
** holding live blocks (mremap of old size 0 or MAP_FIXED of the file):
** meshing makes a page with live blocks map another page's physical page,
** and unmeshing maps it back, at any purge or GC step. The harness then
** checks the blocks' contents instead (every byte it samples must survive). */
void fuzz_os_allow_mesh(int on);
/* The punches (MADV_REMOVE) made by the thread running the inputs, since
** the last call, of a file page that another page outside the punched
** range maps too and that fuzz_os_punch_check's function did not allow:
** the punched page in page[i], that other page in mapper[i]; returns their
** number (at most max; *lost: those not returned) and forgets them. */
size_t fuzz_os_shared_punches(uintptr_t *page, uintptr_t *mapper, size_t max, size_t *lost);
/* ok(page, mapper) is asked at the moment of each such punch, on the thread
** making it (inside the allocator, which holds its lock): nonzero if the
** mapper may map the punched page then (a mesh filler: fuzz_heap). The
** allocator's state at that moment is the one that matters: a filler may
** leave later in the same call (a reconciliation in several slices). */
void fuzz_os_punch_check(int (*ok)(uintptr_t page, uintptr_t mapper));
/* Bytes of the anonymous mapping made without an address that starts at
** p (a table of the library's), 0 if p is NULL or no such mapping. */
size_t fuzz_os_plain_bytes_at(const void *p);
/* 1 if the OS page at p maps a memory file (its inode and file offset in
** *ino, *off when not NULL), 0 if anonymous or not mapped. */
int fuzz_os_page_file(const void *p, uint64_t *ino, uint64_t *off);

/* The OS pages of [p, p+n) hold a live block (n == 0 counts one byte). */
void fuzz_live_add(const void *p, size_t n);
void fuzz_live_remove(const void *p, size_t n);
size_t fuzz_live_pages(void);

/* Print "fuzz_heap: " + message to stderr and abort (a libFuzzer crash). */
void fuzz_fail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

#endif
