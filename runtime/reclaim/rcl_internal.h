/*
** rcl_internal.h: glossary, layout constants, structures and inline fast
** paths of the reclaiming allocator. Private to runtime/reclaim/.
**
** Glossary (the same words are used in code, comments and stats):
**   OS page   the kernel's page, size P read at run time (4 KiB, 16 KiB or
**             64 KiB). Every mmap/munmap/madvise/mremap length and every
**             purge range is a multiple of P; purge ranges are rounded
**             INWARD to P so they never reach a byte outside the free range.
**   unit      64 KiB, a multiple of every supported P. Spans are made of units.
**   segment   a 4 MiB mapping aligned to 4 MiB, 64 units. Unit 0 holds the
**             segment header (rcl_segment): unit map, clean-page bitmap and
**             the span descriptors. Units 1..63 hold spans or are free.
**   span      1..16 contiguous units of one segment. A small span holds blocks
**             of one size class; a single-block span ("medium") holds one
**             block of 32 KiB < n <= 1 MiB. Described by the rcl_span at
**             spans[first unit] of its segment.
**   block     what a caller gets. Free blocks are tracked out of band in the
**             span's bitmap (bit set = free); nothing is ever stored inside a
**             free block, so purging a free page (which then reads as zeros)
**             cannot destroy allocator state. A bitmap of up to
**             RCL_INLINE_WORDS words lives in the span descriptor; a larger
**             one in header pool slots or, for a dense class whose layout
**             reserves bits_bytes, in the first bytes of the span itself,
**             before block 0: that region is metadata, never a block, never
**             purged.
**   pool      RCL_POOL_SLOTS slots of RCL_POOL_SLOT_WORDS words after
**             rcl_segment in unit 0, handed out lowest first (k contiguous
**             slots for a bitmap of up to 16k words), so the header pages
**             touched stay a short prefix: seg->hdr_pages counts them, and
**             only they are metadata (dirty); the pages after are clean.
**             Invariant: free slots >= uncovered units, where a unit is
**             covered while its span holds pool slots (a span of k units
**             holding n slots covers min(k, n) of them: seg->pool_covered).
**             Every unit that is free, or may become free (units of medium
**             spans, of spans with inline or in-span bitmaps), is uncovered,
**             so a page-fit span (one unit, one slot) always finds a slot:
**             taking one keeps the invariant, releasing a span gives back
**             n >= min(k, n) slots for the units it uncovers. A dense span
**             takes slots only while the invariant holds afterwards, else
**             it uses its reserved bits_bytes. A span with pooled
**             bitmap leaves its first bits_bytes untouched, so a sparse
**             span pins no page for metadata. The slots start right after
**             the header fields, so the first slots share the fields' last
**             page.
**   span start    first byte of the span's first unit; block 0 starts
**             bits_bytes later (0 unless the bitmap is in the span).
**   group     a span is ngroups groups of 2^group_shift bytes; blocks never cross
**             a group's end. Block `slot` of group g is at base + (g << group_shift)
**             + slot * size and is bit (g << group_bits_log2) | slot of the bitmap.
**             "Page-fit" classes use one OS page per group (a block then pins
**             one page, never two); the others use one group per span (the
**             classic dense layout). A group has 2^group_bits_log2 bits: a whole
**             number of words, or (group_bits_log2 < 6) a part of one word, so that
**             a page-fit bitmap of 16 groups of 4 blocks is one word.
**   chunk     the bits the owner caches at once: one word (group_bits_log2 >= 6) or
**             one sub-word group (group_bits_log2 < 6). A chunk never spans two
**             groups, so the hot path stays base + ctz * size.
**   large block  a block above RCL_LARGE_MIN bytes with its own mapping,
**             page-rounded, recorded in the heap's large-block table.
**   shrunk large block  a large block that a realloc shrank to RCL_LARGE_MIN
**             bytes or fewer when no span block could be had (the OS refused
**             a mapping): a shrink must not fail, so it stays in its own
**             mapping (tail pages unmapped when the OS allows) and in the
**             large-block table, and the heap's shrunk window covers it. Its
**             later free or realloc comes with a size <= RCL_LARGE_MIN, so
**             those paths check the window before looking for a span.
**   kept mapping  the mapping of a freed large block, left mapped (and
**             dirty) so that a large block of about its size allocated soon
**             after reuses its pages instead of faulting in fresh zeroed
**             ones (a big table rebuilt again and again). A large block takes the smallest kept
**             mapping that holds it, whose tail is unmapped. At most
**             RCL_KEPT_SLOTS of them and RCL_KEPT_MAX_BYTES in all, oldest
**             first; unmapped once older than decay (at the end of a purge
**             pass), by every purge that ignores decay, before a new
**             segment is mapped, when a large block needs a new mapping
**             (they are all smaller: the program outgrows them), on a
**             failed mapping, and once unused for RCL_KEPT_STALE_MS when
**             a new span takes clean (purged) units: the heap is growing
**             back into memory it gave up, and a kept mapping then only
**             adds to the peak. So no new large
**             mapping or segment is made while one is kept (a large block
**             growing by mremap may be).
**             None are kept when decay is 0. Counted in mapped and
**             free_dirty.
**   clean     an OS page that is not resident: purged, or never touched since
**             it was mapped. dirty = possibly resident. Clean pages never hold
**             a byte of a live block (checked by rcl_test_check).
**   color     the page of its first unit at which a fresh small span
**             hands out its first block: 0, 1, 2, ... for successive fresh
**             spans, modulo the pages of a unit. Spans start on 64 KiB
**             boundaries, so without colors the first page of every span
**             (often the only hot one: the few long-lived objects of a
**             class) would have the same low virtual page number bits and
**             compete for one set of the data TLB (indexed by those
**             bits). Blocks
**             below the color follow when the scan wraps around; placement
**             between spans is unchanged.
**   current span  the span a size class allocates from. The owner keeps one
**             chunk of its free bits per lane in the class cache (those bits
**             of the span's bitmap are zeroed while the owner holds them).
**   lane      the class cache holds two chunks of the current span: one for
**             blocks the host marks as objects (rcl_malloc_object: LuaJIT's
**             GC objects, which its sweep visits in allocation order) and
**             one for all other blocks (rcl_malloc). So consecutive objects
**             of a class are adjacent, not interleaved with the vectors
**             allocated between them (a table's hash part), and a walk of
**             them reads every cache line of a run instead of every second
**             or third: the hardware prefetchers follow it. A lane is a
**             placement choice only: a block is freed the same way whatever
**             its lane, and both lanes draw chunks from the one span. The
**             object lane opens once its class has used up a span: before,
**             objects share the data lane, so a class with a few blocks of
**             each kind touches one page, not two (small heaps fit the
**             caches anyway).
**   refill cap  a refill of a lane (rcl_take_word) takes at most held_max
**             blocks of a chunk, the lowest free ones, and leaves the rest
**             in the bitmap; held_max covers RCL_HELD_BYTES (at least one
**             block, at most 64). Freed blocks return to the bitmap, not
**             to the lane, so a lane holding a whole chunk of a large
**             class (4352-byte blocks: 15 to a chunk, the whole unit)
**             hands out every block of it before it reuses one freed
**             meanwhile: a class with three blocks live at a time would
**             touch every page of its span. With the cap it touches the
**             pages of about held_max blocks more than it has live.
**   unit affinity  a released span's units are remembered by its class
**             (h->unit_hint; medium spans by their unit count,
**             h->medium_hint): the class's next span takes that run first
**             while it is still free and has dirty pages, else the lowest
**             free run. Spans of a churning class become all free and are
**             released every GC cycle; without affinity the next span of
**             each class lands on whatever run is lowest, so a unit fully
**             dirtied by a class of large blocks is reused by a class
**             that touches two of its pages while the first class dirties
**             another unit: every unit in the churn ends up dirty until
**             the decay purges it.
**   coarse start  a class's first blocks come from the span of a larger
**             class of its group of four (coarse_cls, the group's largest),
**             up to a page of them (coarse_left); only then does the class
**             get spans of its own. A small heap (an nginx worker at start)
**             uses dozens of classes with a few blocks each, and every class
**             with a span of its own touches at least one page for them; a
**             block is freed the same way wherever it lies (a span block
**             accepts any size up to its block size). Classes of 64 bytes
**             and less, and blocks above half a page, have none.
**   mixed run  a run of free 16-byte blocks ("cells") of class 0's
**             current span, taken from its bitmap at once
**             (h->run[RCL_RUN_MIXED]) and handed out by rcl_malloc_mixed one block
**             after the other whatever their sizes (17..RCL_MIX_MAX
**             bytes, rounded up to 16): a block of k cells is k
**             consecutive class 0 blocks, so every rule of the bitmap,
**             clean pages, purging and meshing holds for it cell by
**             cell. LuaJIT's cdata of many sizes come out in
**             allocation order, as its sweep and FIFO programs read them
**             (with a size class each they lay in dozens of runs read in
**             turn). Class 0 is one group of 16-byte blocks at every
**             page size, so cell i is bit i. A free with n > 16 in a
**             class 0 span frees ceil(n/16) cells (rcl_free_wide): the
**             size passed must be the block's, as lua_Alloc guarantees;
**             a free of a cell already free aborts. A run takes the
**             lowest free run of the span at or above its scan word of at
**             least the request, at most RCL_MIX_RUN_BYTES; what is left
**             goes back to the bitmap when the span is retired or a
**             request does not fit.
**   wide run  the mixed run's rule for blocks above half a page (and
**             above RCL_MIX_MAX: h->wide_min, 2049 at 4 KiB pages) up to
**             RCL_WIDE_MAX bytes, from every caller (rcl_malloc,
**             rcl_malloc_object, rcl_malloc_mixed, rcl_malloc_array), and
**             from RCL_MIX_MAX + 1 on for cdata and new array parts
**             (rcl_malloc_mixed, rcl_malloc_array): cells of 256 bytes,
**             the blocks of class RCL_WIDE_CLASS, whose spans are dense
**             and RCL_WIDE_UNITS units long (h->run[RCL_RUN_WIDE]); a
**             block is rounded up to 256 and a run is at most
**             RCL_WIDE_RUN_BYTES. Programs write such blocks whole as
**             they get them (LuaJIT clears a new array part or cdata
**             array, copies a string in), one after the other; with a
**             size class each, blocks made in turn lay in as many runs
**             as there are sizes, and writes that start in a new place
**             each time run at about half the speed of writes that
**             continue where the last one ended (reclaim README,
**             "Blocks of many sizes above 1 KiB"). Blocks up to
**             RCL_WIDE_MAX (strings and buffers of a response body, big
**             array parts) share the run so that memory one of them frees
**             serves the next whatever its size; a class per size would
**             keep free memory of every size dirty apart (README, "Blocks
**             of 8 to 32 KiB"). Smaller blocks keep
**             their classes, page-fit ones included (a survivor pins one
**             page), except cdata and new array parts
**             (rcl_malloc_mixed, rcl_malloc_array): those of 1-2 KiB are
**             made in turn with larger ones and written whole, and with
**             classes of their own every one of them left the run and
**             came back (README, "Cdata and array parts of 1 to 2 KiB").
**             The wide run exists at pages of RCL_WIDE_PAGE_MAX
**             and below; at pages of 16 KiB and more every class up to a
**             page may be page-fit, and there is none. The classes from
**             wide_min to RCL_WIDE_MAX get no span.
**   long span a span of RCL_LONG_SPAN_UNITS units or more of a dense class of
**             RCL_LONG_SPAN_MIN bytes or more. Programs write such blocks
**             whole (a fresh table's array part, a zero-filled cdata
**             array) and in allocation order, and blocks that lie end to
**             end are written and read as one stream that the hardware
**             prefetchers follow: the longer the span, the rarer the
**             jumps to another one. A long span hands out its blocks from
**             its first one (no color). Longer spans keep more free memory
**             apart for their class in a heap of many such classes, hence
**             two units, not four (README.md, "Design notes: measurements
**             behind the layout").
**   heap clock    milliseconds (CLOCK_MONOTONIC_COARSE) cached in the heap,
**             refreshed on slow paths only.
**   free stamp    the low 32 bits of the heap clock when memory was freed
**             (span->freed_at, unit_stamp, kept->freed_at). A purge that
**             honours decay releases it once its age, now - stamp modulo
**             2^32, reaches decay_ms (rcl_decayed); 32 bits keep a span
**             descriptor at 80 bytes.
**
** Accounting identities (kept exact by construction, verified by tests):
**   mapped   = metadata + in_use + free_dirty + free_clean
**   resident = metadata + in_use + free_dirty        (an estimate of RSS)
**
** Threads and locks: the owner thread uses the hot paths without locks. Each
** heap has a mutex that the owner takes only on slow paths (units, segments,
** span changes, purge passes, large blocks) and only while the heap is served
** by the background thread (h->locking). The background thread takes it for
** its purge pass and never touches current spans or class caches. In a span
** that is not current the owner only turns bits from used to free, so the
** background thread reading bitmap words with relaxed atomic loads sees a
** subset of the free blocks: it may miss a just-freed block, never purge a
** live one. Racing fields use __atomic builtins with RELAXED order.
*/
#ifndef RCL_INTERNAL_H
#define RCL_INTERNAL_H

#if defined(RCL_FAULT_INJECTION) && !defined(RCL_TEST_HOOKS)
#define RCL_TEST_HOOKS 1
#endif

#include "rcl.h"
#include "rcl_registry.h"

#include <pthread.h>
#include <stdint.h>
#include <stddef.h>

#ifdef RCL_EMBED
#define RCL_INTERN static __attribute__((unused))
#define RCL_API_DATA static __attribute__((unused))  /* definition of public data */
#else
#define RCL_INTERN __attribute__((visibility("hidden"))) extern
#define RCL_API_DATA
#endif

#ifdef RCL_VALGRIND
#include <valgrind/valgrind.h>
#include <valgrind/memcheck.h>
#define RCL_VG_MALLOC(p, n, zeroed) VALGRIND_MALLOCLIKE_BLOCK((p), (n), 0, (zeroed))
#define RCL_VG_FREE(p)              VALGRIND_FREELIKE_BLOCK((p), 0)
#define RCL_VG_RESIZE(p, o, n)      VALGRIND_RESIZEINPLACE_BLOCK((p), (o), (n), 0)
#define RCL_VG_NOACCESS(p, n)       VALGRIND_MAKE_MEM_NOACCESS((p), (n))
#define RCL_VG_DEFINED(p, n)        VALGRIND_MAKE_MEM_DEFINED((p), (n))
#define RCL_VG_QUIET_BEGIN()        VALGRIND_DISABLE_ERROR_REPORTING
#define RCL_VG_QUIET_END()          VALGRIND_ENABLE_ERROR_REPORTING
#else
#define RCL_VG_MALLOC(p, n, zeroed) ((void)0)
#define RCL_VG_FREE(p)              ((void)0)
#define RCL_VG_RESIZE(p, o, n)      ((void)0)
#define RCL_VG_NOACCESS(p, n)       ((void)0)
#define RCL_VG_DEFINED(p, n)        ((void)0)
#define RCL_VG_QUIET_BEGIN()        ((void)0)
#define RCL_VG_QUIET_END()          ((void)0)
#endif

/* An invariant the code relies on: a broken one is our bug, reported
** as an internal error (never reached on any valid call sequence). */
#define RCL_ASSERT(cond, what) do { if (RCL_UNLIKELY(!(cond))) rcl_internal_error(what); } while (0)

#define RCL_LIKELY(x)   __builtin_expect(!!(x), 1)
#define RCL_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define RCL_NOINLINE    __attribute__((noinline))

/* -- Layout ---------------------------------------------------------------- */

#define RCL_UNIT_SHIFT      16
#define RCL_UNIT_SIZE       ((size_t)1 << RCL_UNIT_SHIFT)
#define RCL_SEGMENT_SHIFT   22
#define RCL_SEGMENT_SIZE    ((size_t)1 << RCL_SEGMENT_SHIFT)
#define RCL_SEGMENT_UNITS   64
#define RCL_ALL_UNITS       (~(uint64_t)1)         /* units 1..63 */
#define RCL_MIN_PAGE        4096
#define RCL_MAX_PAGE        65536
#define RCL_SEGMENT_PAGES   (RCL_SEGMENT_SIZE / RCL_MIN_PAGE)   /* bitmap bits */

#define RCL_CLASS_SHIFT     4          /* log2 of the classes per doubling above 256 */
#define RCL_NCLASSES        (16 + 7 * (1 << RCL_CLASS_SHIFT)) /* 16..256 step 16, then 7 doublings */
#define RCL_SMALL_MAX       32768      /* largest size-class block */
#define RCL_LARGE_MIN       ((size_t)1 << 20) /* blocks above this get their own mapping */
#define RCL_SPAN_MAX_BLOCKS 4096
#define RCL_SPAN_WORDS      (RCL_SPAN_MAX_BLOCKS / 64)
#define RCL_INLINE_WORDS    2          /* bitmap words kept in the descriptor */
#define RCL_PAGEFIT_WORDS   16         /* largest page-fit bitmap: one pool slot */
#define RCL_CLASS_MEDIUM    255        /* span->cls of a single-block span */
#ifndef RCL_PAGEFIT_WASTE
#define RCL_PAGEFIT_WASTE   5          /* page-fit: page tails waste <= unit/5 */
#endif
#ifndef RCL_PAGEFIT_WASTE_MESH
#define RCL_PAGEFIT_WASTE_MESH 6       /* ... <= unit/6 in a heap created with mesh=on */
#endif
#define RCL_HELD_BYTES      16384      /* refill cap: bytes of blocks a lane takes at once */
#define RCL_LONG_SPAN_MIN   2048       /* dense classes of this size and up take ... */
#define RCL_LONG_SPAN_UNITS 2          /* ... spans of this many units (glossary "long span") */
#ifndef RCL_MIX_MIN
#define RCL_MIX_MIN         17         /* mixed runs: objects of RCL_MIX_MIN.. */
#endif
#ifndef RCL_MIX_MAX
#define RCL_MIX_MAX         1024       /* ... RCL_MIX_MAX bytes (glossary "mixed run") */
#endif
#define RCL_MIX_RUN_BYTES   16384      /* most bytes one mixed run takes at once */
#define RCL_WIDE_MAX        32768      /* wide runs: blocks above half a page up to this ... */
#define RCL_WIDE_CLASS      15         /* ... are cells of this class (256 bytes) ... */
#define RCL_WIDE_UNITS      4          /* ... whose spans have this many units (glossary "wide run") */
#define RCL_WIDE_RUN_BYTES  65536      /* most bytes one wide run takes at once */
#define RCL_WIDE_PAGE_MAX   4096       /* OS pages of up to this size have a wide run */
#define RCL_RUN_MIXED       0          /* h->run[]: the mixed run ... */
#define RCL_RUN_WIDE        1          /* ... and the wide run */
#define RCL_RUNS            2
#define RCL_COARSE_GROUP    4          /* coarse start: classes per group (a power of two) */
#define RCL_COARSE_MIN_CLASS 4         /* ... for blocks above 64 bytes */
#define RCL_MAGIC_SHIFT     40         /* see rcl_class_magic() for exactness */
#define RCL_POOL_SLOT_WORDS 16         /* header pool slot: 1024 bits */
#define RCL_POOL_SLOTS      128        /* slots per segment header */
#define RCL_POOL_MAX_RUN    4          /* slots one bitmap may take (4096 blocks) */

#define RCL_KEPT_SLOTS      8          /* freed large mappings kept for reuse ... */
#define RCL_KEPT_MAX_BYTES  ((size_t)32 << 20)  /* ... holding at most this much */
#define RCL_KEPT_STALE_MS   25         /* ... unmapped when a span refaults purged units */

#define RCL_ADDR_LIMIT_DEFAULT ((uint64_t)1 << 47)
#define RCL_RESERVE_SEGMENTS 1         /* fully free segments kept mapped (purged) */
#define RCL_MAP_TRIES       16         /* random hints tried before a mapping fails */

/* Span states. A span is on its class's partial list iff PARTIAL. */
enum {
  RCL_SPAN_NONE,      /* descriptor unused */
  RCL_SPAN_CURRENT,   /* a class allocates from it (owner only) */
  RCL_SPAN_PARTIAL,   /* some free blocks, on the partial list */
  RCL_SPAN_FULL,      /* no free block in the bitmap, on no list */
  RCL_SPAN_MEDIUM,    /* single-block span, block live */
  RCL_SPAN_MESHED     /* a small span with secondary (meshed) OS pages: on no list,
                         never current, frees leave it in place (rcl_mesh_core.c) */
};

/* A span descriptor: 80 bytes (64 of them fill most of a 2-page segment
** header at 4 KiB pages, leaving room for the pool slots a segment needs),
** hot fields of the free path first. Counts fit 16 bits: a span has at most
** RCL_SPAN_MAX_BLOCKS blocks and 16 units of 16 pages of at least 4 KiB. */
typedef struct rcl_span {
  char *base;             /* address of block 0 (span start + bits_bytes) */
  uint64_t magic;         /* ceil(2^40 / block_size); 0 for single-block spans */
  uint32_t block_size;
  uint32_t bits_off;      /* free bitmap's offset in the segment: inline_bits, pool
                             slots or the span's start (rcl_span_bits) */
  uint16_t nfree;         /* set bits in the bitmap (racy: relaxed) */
  uint16_t nblocks;
  uint16_t group_blocks;  /* blocks per group; 0 for a released span */
  uint16_t nbits;         /* ngroups << group_bits_log2: bitmap indexes in use; 0 if released */
  uint32_t freed_at;      /* free stamp (rcl_decayed) of the last free (racy: relaxed) */
  uint16_t nclean;        /* clean OS pages inside the span */
  uint16_t bits_bytes;    /* bytes of bitmap at the span start (0 = inline) */
  uint8_t state;          /* RCL_SPAN_* */
  uint8_t cls;            /* size class or RCL_CLASS_MEDIUM */
  uint8_t units;
  uint8_t scan;           /* lowest bitmap word the refill looks at first: a free bit
                             below it is a block below the span's color (glossary),
                             never a freed one (each free lowers it) */
  uint8_t group_shift;    /* log2 of the group size in bytes */
  uint8_t group_bits_log2; /* log2 of the bitmap bits reserved per group (< 6: sub-word) */
  uint8_t ngroups;        /* 0 for a released span */
  uint8_t pool_slot;      /* 1 + first header pool slot holding the bitmap; 0: none */
  struct rcl_span *next, *prev;   /* partial list links */
  uint64_t inline_bits[RCL_INLINE_WORDS]; /* bit i set = block i free (racy: relaxed) */
} rcl_span;
typedef char rcl_span_size_check[sizeof(rcl_span) <= 80 ? 1 : -1];

typedef struct rcl_segment {
  uint8_t unit_span[RCL_SEGMENT_UNITS]; /* unit -> first unit of its span; 0 = none */
  rcl_span spans[RCL_SEGMENT_UNITS];    /* spans[0]: poison entry, never valid. Right
                                           after unit_span, at offset 64 + 80k: there the
                                           free path's fields of spans[k] straddle two
                                           cache lines least often (README design notes) */
  struct rcl_heap *heap;
  struct rcl_segment *next, *prev;      /* heap list, ascending addresses */
  uint64_t free_units;                  /* bit u set: unit u is free */
  uint64_t pool_free[RCL_POOL_SLOTS / 64]; /* bit i set: header pool slot i is free */
  uint32_t hdr_pages;                   /* header pages touched (a prefix; metadata) */
  uint16_t pool_covered;                /* units whose span holds pool slots, each
                                           span counting min(units, slots) (glossary) */
  uint64_t clean[RCL_SEGMENT_PAGES / 64]; /* bit p set: OS page p is clean (atomic RMW) */
  /* A free unit: its free stamp. The first unit of a span: the span's
  ** freed_at when the GC-step purge pass last examined it whole
  ** (rcl_examined, rcl_purge.c), or a value 2^31 away from the freed_at it
  ** had when it was made or last became current (rcl_span_unexamined).
  ** Other units of a span: unused. */
  uint32_t unit_stamp[RCL_SEGMENT_UNITS];
} rcl_segment;

/* Lanes (glossary): which chunk of a class cache a request draws from. */
enum {
  RCL_LANE_DATA,          /* everything else: vectors, strings, buffers (rcl_malloc) */
  RCL_LANE_OBJECT,        /* blocks a walk visits in allocation order (rcl_malloc_object) */
  RCL_LANES
};

/* A lane's cached chunk: free blocks reserved by the owner, bit i -> base +
** i*size (one chunk, shifted down to bit 0). */
typedef struct rcl_held {
  uint64_t word;
  char *base;
  uint32_t clean;         /* a cached block may lie on a clean page: each allocation
                             makes its pages dirty (rcl_unclean_held) until none does */
} rcl_held;

/* Per-class allocation cache: the hot path only touches held[lane] and size. */
typedef struct rcl_cache {
  rcl_held held[RCL_LANES];
  uint32_t size;          /* block size of the class */
  uint32_t object_lane;   /* lane of rcl_malloc_object: RCL_LANE_DATA until the class
                             has used up a span, then RCL_LANE_OBJECT (glossary "lane") */
  rcl_span *span;         /* current span or NULL */
  uint32_t word_index[RCL_LANES]; /* chunk each lane's cached bits came from */
  uint32_t nblocks;       /* class layout: blocks per span */
  uint32_t units;         /* class layout: units per span */
  uint32_t bits_bytes;    /* class layout: bitmap bytes at the span start */
  uint64_t magic;         /* class layout: ceil(2^40 / size) */
  uint8_t group_shift, group_bits_log2, ngroups;  /* class layout: groups (see glossary) */
  uint16_t group_blocks;
  uint8_t held_max;       /* refill cap (glossary): blocks one refill takes, 1..64 */
  uint8_t coarse_cls;     /* class serving this one's first blocks (glossary "coarse start") */
  uint16_t coarse_left;   /* blocks still to be served by coarse_cls; 0: own spans */
} rcl_cache;

/* Large-block table entry (open addressing, key = block address). */
typedef struct rcl_large {
  uintptr_t addr;         /* 0 = empty slot */
  size_t size;            /* mapping size (page-rounded) */
} rcl_large;

/* A kept mapping (glossary): a freed large block's mapping, free and dirty. */
typedef struct rcl_kept {
  uintptr_t addr;
  size_t size;
  uint32_t freed_at;      /* free stamp of the free */
} rcl_kept;

/* Decay (glossary "free stamp"): what a purge may release now. */
typedef struct rcl_decay {
  uint32_t now;           /* heap clock, low 32 bits */
  uint32_t min_age;       /* ms; 0 = everything free, whatever its age */
} rcl_decay;

/* A run of free cells taken from a span's bitmap: [cur, end) is free to hand out. */
typedef struct rcl_run {
  char *cur, *end;
} rcl_run;

/* The run whose cells are the blocks of class cls (RCL_RUN_*), or -1. */
static inline int rcl_run_of_class(unsigned cls)
{
  return cls == 0 ? RCL_RUN_MIXED : cls == RCL_WIDE_CLASS ? RCL_RUN_WIDE : -1;
}

static inline unsigned rcl_run_class(unsigned r) { return r == RCL_RUN_WIDE ? RCL_WIDE_CLASS : 0; }
static inline unsigned rcl_run_cell_log2(unsigned r) { return r == RCL_RUN_WIDE ? 8 : 4; }
static inline size_t rcl_run_max(unsigned r) { return r == RCL_RUN_WIDE ? RCL_WIDE_MAX : RCL_MIX_MAX; }
static inline size_t rcl_run_bytes(unsigned r) { return r == RCL_RUN_WIDE ? RCL_WIDE_RUN_BYTES : RCL_MIX_RUN_BYTES; }

/* The smallest block of the wide run at OS page size `page`: above half a
** page (no page-fit class holds such blocks, glossary "page-fit") and above
** the mixed run's; above RCL_WIDE_MAX (no wide run) at pages above
** RCL_WIDE_PAGE_MAX. */
static inline size_t rcl_wide_min(size_t page)
{
  if (page > RCL_WIDE_PAGE_MAX) return RCL_WIDE_MAX + 1;
  return (page / 2 > RCL_MIX_MAX ? page / 2 : RCL_MIX_MAX) + 1;
}

/* Whether a request of n bytes takes the wide run of a heap whose
** wide_min is `min` (0 < n - min + 1 <= RCL_WIDE_MAX - min + 1). */
static inline int rcl_is_wide(size_t n, size_t min)
{
  return min <= RCL_WIDE_MAX && n - min <= (size_t)RCL_WIDE_MAX - min;
}

/* Whether a block of n bytes that is written whole as it is made
** (rcl_malloc_mixed's cdata, rcl_malloc_array's array parts) takes the
** wide run of a heap whose wide_min is `min`: above RCL_MIX_MAX up to
** RCL_WIDE_MAX, where there is a wide run (glossary "wide run"). */
static inline int rcl_is_wide_written(size_t n, size_t min)
{
  return min <= RCL_WIDE_MAX && n - (RCL_MIX_MAX + 1) <= (size_t)(RCL_WIDE_MAX - RCL_MIX_MAX - 1);
}

struct rcl_heap {
  rcl_cache cache[RCL_NCLASSES];       /* hot: first */
  rcl_run run[RCL_RUNS];               /* the mixed and wide runs (glossary): cells of
                                          their class's current span taken from its
                                          bitmap; owner only */
  size_t wide_min;                     /* rcl_wide_min(page_size) */
  uint64_t clock;                      /* heap clock (ms) */
  /* Shrunk large blocks (glossary): all lie in [shrunk_lo, shrunk_lo +
  ** shrunk_len); the window is empty (length 0) while nshrunk is 0, so
  ** the free path's check costs one compare. Owner only. */
  uintptr_t shrunk_lo;
  size_t shrunk_len, nshrunk;
  uint64_t activity;                   /* bumped by the owner's allocator slow paths and
                                          cycle ends; the background thread reads it
                                          (relaxed) to tell an idle heap */
  int locking;                         /* slow paths take `lock` (background on) */
  unsigned page_shift;                 /* log2(page_size) */
  size_t page_size;                    /* granule of purge ranges and clean-page bits: the
                                          OS page, except in the deliberately broken
                                          RCL_TEST_FIXED_GRANULE test build */
  size_t os_page_size;                 /* the kernel's page: mapping sizes, stats */
  rcl_config cfg;
  pthread_mutex_t lock;
  rcl_span *partial_head[RCL_NCLASSES], *partial_tail[RCL_NCLASSES];
  rcl_segment *seg_first, *seg_last;
  rcl_segment *seg_hint;               /* lowest segment that may have a free unit */
  /* Unit affinity (glossary), used on slow paths only: the first unit of
  ** the last released span of each class, and of medium spans by unit
  ** count; checked before use, cleared when their segment is unmapped. */
  char *unit_hint[RCL_NCLASSES];
  char *medium_hint[17];
  /* Incremental purge pass armed by rcl_cycle_end (owner). */
  int pass_armed;
  rcl_segment *pass_seg;               /* cursor: segment, unit */
  unsigned pass_unit;
  /* Sliced full purge (rcl_purge_slice, owner): a pass ignoring decay. */
  int slice_armed;
  rcl_segment *slice_seg;              /* cursor: segment, unit */
  unsigned slice_unit;
  /* Background thread bookkeeping (under the global background lock). */
  struct rcl_heap *bg_next;
  uint64_t bg_due;                     /* clock of the next background pass */
  uint32_t bg_interval;                /* copy of background_interval_ms */
  int bg_busy;                         /* the thread is purging this heap */
  int lock_wanted;                     /* the owner waits for `lock` (racy: relaxed) */
  int bg_registered;                   /* owner-side flag */
  rcl_segment *bg_seg;                 /* background pass cursor (under h->lock) */
  uint64_t bg_seen_activity;           /* `activity` at the previous background pass */
  int bg_idle_done;                    /* an idle full pass ran since the last activity */
  unsigned bg_unit;
  /* Counters (under h->lock when locking). */
  size_t mapped, metadata, nsegments, nspans, nfree_segments;
  size_t peak_mapped;                  /* the most `mapped` has been (rcl_mapped_grew) */
  size_t large_bytes, nlarge;
  uint64_t purged_total, purge_calls;
  uint64_t madvise_failed, mmap_failed, munmap_failed, mremap_failed, high_rejected;
  size_t room_request;                 /* a layer stopped before mapping this many bytes:
                                          the soft limit wants room (rcl_room_needed) */
  int map_failed;                      /* a layer's mapping failed: releasing free
                                          segments may let a retry succeed */
  /* Registry (rcl_registry.c): this heap's slot, written under the heap lock. */
  rcl_registry_slot *reg_slot;         /* NULL: not listed */
  uint64_t reg_walked_ms;              /* when the slot's walked figures were computed */
  size_t reg_walked_mapped;            /* mapped at that walk */
  size_t gc_total, gc_estimate;        /* the host's GC figures (rcl_heap_note_gc) */
  size_t soft_limit;                   /* bytes in force (cfg.soft_limit, "auto" resolved) */
  size_t soft_next;                    /* soft-limit hysteresis: next purge level */
  size_t soft_base;                    /* mapped after the last soft-limit purge */
  uint32_t span_color;                 /* colors handed to fresh spans (glossary) */
  /* Address hints. */
  uint64_t prng;
  uintptr_t hint;
  /* Large blocks. */
  rcl_large *large;
  size_t large_cap, large_count;
  size_t self_size;                    /* bytes of this struct's mapping */
  /* Kept mappings (glossary), oldest first. */
  rcl_kept kept[RCL_KEPT_SLOTS];
  unsigned nkept;
  size_t kept_bytes;
  /* Memory-file backing (rcl_os.c): NULL while segments are anonymous. */
  struct rcl_backing *backing;
  /* Mesh table (rcl_mesh_core.c): open addressing by OS page, entries of
  ** mesh_stride bytes in a plain mapping (not counted in mapped). */
  char *mesh_tab;
  size_t mesh_cap, mesh_used;          /* slots; slots not empty (tombstones included) */
  size_t mesh_live;                    /* entries (both tables) */
  char *mesh_old;                      /* the table being moved into mesh_tab, or NULL */
  size_t mesh_old_cap, mesh_old_pos;   /* its slots; the next slot to move */
  size_t mesh_old_live, mesh_old_rate; /* its entries left; slots moved per insertion */
  size_t mesh_rec_pos;                 /* reconciliation under way: the next slot (walk order) */
  int mesh_rec_armed;                  /* 1 while a reconciliation is under way */
  uint32_t mesh_stride, mesh_words;    /* entry bytes; words of a spilled L(B) bitmap */
  uint64_t *mesh_spill;                /* spill array of L(B) bitmaps, or NULL */
  size_t mesh_spill_cap, mesh_spill_live, mesh_spill_free;  /* bitmaps; in use; free list head (index + 1) */
  size_t mesh_pages;                   /* secondaries now */
  size_t mesh_mappings;                /* mappings the aliases add (upper count) */
  uint64_t mesh_released, mesh_passes, mesh_max_pause_ns;
  uint64_t mesh_remeshed;              /* rcl_mesh_primary calls that moved a secondary (tests read it) */
  uint64_t spans_examined;             /* spans purge passes examined (tests read it) */
  /* The mesher (rcl_mesher.c): a pass armed at cycle end, advanced by GC steps. */
  int mesh_armed;
  rcl_segment *mesh_seg;               /* cursor: segment, unit (rcl_segment_unmap keeps it valid) */
  unsigned mesh_unit;
  struct rcl_mesher *mesher;           /* open primaries per class; plain mapping, first pass */
  /* The mesher's back-off (rcl_mesher.c): GC-step passes are spaced out
  ** while the secondaries they make unmesh about as fast as they are made. */
  uint64_t mesh_unmeshed;              /* secondaries dropped, ever (rcl_mesh_core.c) */
  uint64_t mesh_unmeshed_mark;         /* mesh_unmeshed when the last GC-step pass began */
  size_t mesh_step_made;               /* secondaries GC-step passes made since then */
  unsigned mesh_step_passes;           /* GC-step passes begun since then */
  unsigned mesh_backoff;               /* cycles skipped after each GC-step pass */
  /* Whether the heap allocates (rcl_mesher.c): allocation slow paths
  ** (chunk refills, runs taken, medium blocks), ever (owner), and that
  ** count at the last cycle end. A cycle with at most
  ** RCL_MESHER_QUIET_REFILLS ended a collection the host ran without
  ** allocating (an idle moment): its pass meshes unsettled spans too. */
  uint64_t alloc_refills, mesh_refills_mark;
  int mesh_quiet;                      /* the armed GC-step pass meshes every span */
  int mesh_was_quiet;                  /* the last cycle was quiet */
  unsigned mesh_skip;                  /* cycles left to skip */
};

/* -- Small helpers ---------------------------------------------------------- */

#define rcl_load(p)      __atomic_load_n((p), __ATOMIC_RELAXED)
#define rcl_store(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELAXED)

static inline unsigned rcl_ctz64(uint64_t x) { return (unsigned)__builtin_ctzll(x); }
/* Byte i of the result: the number of set bits in byte i of w (SWAR). */
static inline uint64_t rcl_byte_counts(uint64_t w)
{
  uint64_t x = w - ((w >> 1) & 0x5555555555555555ull);
  x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
  return (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
}
/* Set bits of x. The x86-64 baseline has no popcount instruction, and GCC
** would call libgcc's table-driven __popcountdi2 on the refill path: there
** the byte counts are summed by one multiply (no byte sum exceeds 64, so no
** carry crosses a byte). Elsewhere the builtin is one instruction or an
** inline sequence. */
static inline unsigned rcl_popcount64(uint64_t x)
{
#if defined(__x86_64__) && !defined(__POPCNT__)
  return (unsigned)((rcl_byte_counts(x) * 0x0101010101010101ull) >> 56);
#else
  return (unsigned)__builtin_popcountll(x);
#endif
}
/* The lowest n set bits of w, which has more than n >= 1 set: per-byte
** bit counts and their running sums (see rcl_popcount64) find the byte
** holding the n-th set bit, then at most 8 steps inside it. */
static inline uint64_t rcl_lowest_bits(uint64_t w, unsigned n)
{
  uint64_t x = rcl_byte_counts(w), sums, byte, keep = 0;
  unsigned k = 0, before = 0;
  sums = x * 0x0101010101010101ull;             /* byte i: set bits in bytes 0..i */
  while (((sums >> (8 * k)) & 0xff) < n) before = (unsigned)((sums >> (8 * k++)) & 0xff);
  for (byte = (w >> (8 * k)) & 0xff, n -= before; n; n--) {
    keep |= byte & (~byte + 1);
    byte &= byte - 1;
  }
  return (k ? w & (~(uint64_t)0 >> (64 - 8 * k)) : 0) | (keep << (8 * k));
}
static inline uintptr_t rcl_align_up(uintptr_t x, uintptr_t a) { return (x + a - 1) & ~(a - 1); }
static inline uintptr_t rcl_align_down(uintptr_t x, uintptr_t a) { return x & ~(a - 1); }

static inline rcl_segment *rcl_segment_of(const void *p)
{
  return (rcl_segment *)((uintptr_t)p & ~(uintptr_t)(RCL_SEGMENT_SIZE - 1));
}

/* Span s must be examined by the next GC-step purge pass (rcl_purge.c):
** its stamp is one its freed_at will not hold until the heap clock has
** moved on by 2^31 milliseconds. */
static inline void rcl_span_unexamined(rcl_span *s)
{
  rcl_segment_of(s)->unit_stamp[s - rcl_segment_of(s)->spans] = rcl_load(&s->freed_at) ^ 0x80000000u;
}

/* The descriptor of the span holding address p of segment seg (spans[0],
** the poison entry, for an address in no span). */
static inline rcl_span *rcl_span_at(rcl_segment *seg, const void *p)
{
  return &seg->spans[seg->unit_span[((uintptr_t)p >> RCL_UNIT_SHIFT) & (RCL_SEGMENT_UNITS - 1)]];
}

static inline char *rcl_span_start(const rcl_span *s) { return s->base - s->bits_bytes; }
/* Span s's free bitmap; seg is s's segment (the free path has it at hand). */
static inline uint64_t *rcl_seg_span_bits(rcl_segment *seg, const rcl_span *s)
{
  return (uint64_t *)(void *)((char *)seg + s->bits_off);
}
static inline uint64_t *rcl_span_bits(const rcl_span *s)
{
  return rcl_seg_span_bits(rcl_segment_of(s), s);
}
static inline void rcl_span_set_bits(rcl_span *s, void *bits)
{
  s->bits_off = (uint32_t)((char *)bits - (char *)rcl_segment_of(s));
}
static inline size_t rcl_span_group_mask(const rcl_span *s) { return ((size_t)1 << s->group_shift) - 1; }

/* Free stamps: a stamp is old enough when its age, now - stamp modulo 2^32,
** is at least min_age; a stamp over 49 days old may look young, which
** delays its purge by at most min_age. */
static inline int rcl_decayed(rcl_decay d, uint32_t stamp)
{
  return (uint32_t)(d.now - stamp) >= d.min_age;
}
static inline rcl_decay rcl_decay_of(uint64_t now, uint32_t min_age)
{
  rcl_decay d;
  d.now = (uint32_t)now;
  d.min_age = min_age;
  return d;
}
static inline rcl_decay rcl_decay_all(void) { return rcl_decay_of(0, 0); }

#include "rcl_bitmap.h"

/* Size class of a request n <= RCL_SMALL_MAX: no table, no division. */
static inline unsigned rcl_class_of(size_t n)
{
  size_t m;
  unsigned b;
  if (n <= 256) return n ? (unsigned)((n - 1) >> 4) : 0;
  m = n - 1;
  b = 63u - (unsigned)__builtin_clzll(m);     /* 8..14 */
  return 16 + ((b - 8) << RCL_CLASS_SHIFT) +
         (unsigned)((m >> (b - RCL_CLASS_SHIFT)) & ((1u << RCL_CLASS_SHIFT) - 1));
}

/* The owner's lock: free unless the background thread serves the heap. If
** the thread holds it, lock_wanted asks it to step aside between segments
** (glibc mutexes are not fair: it would otherwise re-take the lock at once). */
static RCL_NOINLINE __attribute__((unused)) void rcl_lock_contended(rcl_heap *h)
{
  rcl_store(&h->lock_wanted, 1);
  pthread_mutex_lock(&h->lock);
  rcl_store(&h->lock_wanted, 0);
}
static inline void rcl_lock(rcl_heap *h)
{
  if (h->locking && pthread_mutex_trylock(&h->lock) != 0) rcl_lock_contended(h);
}
static inline void rcl_unlock(rcl_heap *h) { if (h->locking) pthread_mutex_unlock(&h->lock); }
/* rcl_lock for the owner's allocation slow paths: also marks the heap active. */
static inline void rcl_lock_active(rcl_heap *h)
{
  rcl_store(&h->activity, h->activity + 1);
  rcl_lock(h);
}

/* `mapped` was raised (caller holds the lock): keep its high-water mark. */
static inline void rcl_mapped_grew(rcl_heap *h)
{
  if (h->mapped > h->peak_mapped) h->peak_mapped = h->mapped;
}

/* The soft limit (reclaim policy) wants room made before `request` more
** bytes are mapped. The thresholds are the policy's data (rcl_make_room
** sets them); the layers that map read them here, stop with
** h->room_request set, and the public API asks the policy (rcl_api.c). */
static inline int rcl_room_needed(const rcl_heap *h, size_t request)
{
  size_t limit = h->soft_limit;
  if (limit == 0 || h->mapped + request <= limit) return 0;
  return h->mapped + request > h->soft_next || h->mapped < h->soft_base;
}

/* Layers, lowest first (runtime/reclaim/README.md): each file calls only
** the layers listed before it. */

/* -- OS (rcl_os.c) -------------------------------------------------------------- */
RCL_INTERN size_t rcl_os_page_size(void);        /* validated; aborts if unsupported */
RCL_INTERN size_t rcl_os_purge_granule(void);    /* granule of purge ranges (h->page_size) */
RCL_INTERN uint64_t rcl_os_now_ms(void);
RCL_INTERN uint64_t rcl_os_cpu_ns(void);         /* the thread's CPU time: mesh pauses */
RCL_INTERN uint64_t rcl_os_addr_limit(void);
RCL_INTERN void *rcl_os_map(rcl_heap *h, size_t size, size_t align);
RCL_INTERN void *rcl_os_map_plain(size_t size);  /* heap struct, tables: no hint rules */
RCL_INTERN void *rcl_os_map_segment(rcl_heap *h); /* a segment: on the heap's backing */
RCL_INTERN void rcl_os_backing_init(rcl_heap *h);    /* heap creation, before rcl_bg_update */
RCL_INTERN void rcl_os_backing_destroy(rcl_heap *h); /* after the segments are unmapped */
RCL_INTERN int rcl_os_page_alias(rcl_heap *h, void *page, const void *target); /* meshing */
RCL_INTERN int rcl_os_page_unalias(rcl_heap *h, void *page);
RCL_INTERN int rcl_os_page_realias(rcl_heap *h, void *page, const void *new_target);
RCL_INTERN int rcl_os_on_file(const rcl_heap *h, const void *p); /* p in a file segment */
RCL_INTERN size_t rcl_os_alias_count(const rcl_heap *h);
/* Aliasing or unaliasing calls the OS refused on h's backing so far. */
RCL_INTERN uint64_t rcl_os_alias_refusals(const rcl_heap *h);
RCL_INTERN int rcl_os_file_backed(const rcl_heap *h);
RCL_INTERN int rcl_os_page_aliases(const rcl_heap *h, const void *page, const void *target);
RCL_INTERN int rcl_os_unmap(rcl_heap *h, void *p, size_t size);
RCL_INTERN int rcl_os_purge(rcl_heap *h, void *p, size_t size);
RCL_INTERN void rcl_os_no_hugepages(void *p, size_t size);
RCL_INTERN void *rcl_os_remap(rcl_heap *h, void *p, size_t oldsize, size_t newsize);
RCL_INTERN void rcl_os_fault_from_env(void);
RCL_INTERN uint64_t rcl_os_cgroup_limit(void);  /* bytes; 0 = none */
RCL_INTERN size_t rcl_os_max_map_count(void);   /* vm.max_map_count */
RCL_INTERN RCL_NOINLINE __attribute__((noreturn)) void rcl_bad_free(const void *p, size_t n, const char *why);
RCL_INTERN RCL_NOINLINE __attribute__((noreturn)) void rcl_internal_error(const char *what);

/* -- Configuration (rcl_config.c) ---------------------------------------------- */
RCL_INTERN int rcl_errorf(char *err, size_t errlen, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));

/* -- Size classes (rcl_class.c) ------------------------------------------------- */
RCL_INTERN size_t rcl_class_size(unsigned cls);
RCL_INTERN void rcl_class_layout(unsigned cls, size_t page_size, unsigned pagefit_waste, rcl_cache *c);
RCL_INTERN uint64_t rcl_class_magic(uint32_t size);

/* -- Large blocks and kept mappings (rcl_large.c) ------------------------------ */
RCL_INTERN void *rcl_alloc_large(rcl_heap *h, size_t n);
RCL_INTERN void rcl_free_large(rcl_heap *h, void *p, size_t n);
RCL_INTERN void *rcl_realloc_large(rcl_heap *h, void *p, size_t oldn, size_t newn);
RCL_INTERN void *rcl_large_keep_shrunk(rcl_heap *h, void *p, size_t oldn, size_t newn);
RCL_INTERN int rcl_large_is_shrunk(rcl_heap *h, const void *p);
RCL_INTERN void rcl_large_free_shrunk(rcl_heap *h, void *p);
/* Whether p is a shrunk large block (glossary). The window's compare is
** inline (the window is empty unless a shrink found no span block); only a
** pointer inside it is looked up in the large-block table. */
static inline int rcl_is_shrunk(rcl_heap *h, const void *p)
{
  return RCL_UNLIKELY((uintptr_t)p - h->shrunk_lo < h->shrunk_len) && rcl_large_is_shrunk(h, p);
}
RCL_INTERN size_t rcl_kept_release(rcl_heap *h, rcl_decay d, size_t want);
RCL_INTERN int rcl_large_check_slot(rcl_heap *h, size_t i);
RCL_INTERN void rcl_large_destroy(rcl_heap *h);

/* -- Heap core: segments, units, spans, small and medium blocks (rcl_span.c) -- */
RCL_INTERN RCL_NOINLINE void *rcl_alloc_refill(rcl_heap *h, unsigned cls, unsigned lane);
RCL_INTERN RCL_NOINLINE void rcl_unclean_block(rcl_heap *h, rcl_span *s, const char *p, size_t size);
RCL_INTERN RCL_NOINLINE void rcl_unclean_held(rcl_heap *h, rcl_cache *c, unsigned lane, const char *p);
RCL_INTERN RCL_NOINLINE void rcl_free_transition(rcl_heap *h, rcl_span *s, uint32_t nfree);
RCL_INTERN RCL_NOINLINE void *rcl_alloc_run(rcl_heap *h, unsigned r, size_t n);
RCL_INTERN int rcl_run_grow(rcl_heap *h, unsigned r, rcl_span *s, char *p, uint32_t ko, uint32_t kn);
RCL_INTERN RCL_NOINLINE void rcl_free_wide(rcl_heap *h, rcl_span *s, void *p, size_t n);
RCL_INTERN rcl_span *rcl_run_span_of(const void *p, size_t n);
RCL_INTERN int rcl_run_block(const rcl_span *s, const void *p, size_t n);
RCL_INTERN void rcl_free_cells(rcl_heap *h, rcl_span *s, char *p, size_t k);
RCL_INTERN void *rcl_alloc_medium(rcl_heap *h, size_t n);
RCL_INTERN void *rcl_realloc_medium(rcl_heap *h, void *p, size_t oldn, size_t newn);
RCL_INTERN void rcl_flush_caches(rcl_heap *h);
RCL_INTERN void rcl_sort_partials(rcl_heap *h);
RCL_INTERN int rcl_segment_unmap(rcl_heap *h, rcl_segment *seg);
RCL_INTERN void rcl_segments_destroy(rcl_heap *h);
RCL_INTERN void rcl_caches_init(rcl_heap *h);
RCL_INTERN void rcl_span_settle(rcl_heap *h, rcl_span *s);
RCL_INTERN void rcl_span_park(rcl_heap *h, rcl_span *s);

/* -- Heap core: the mesh table (rcl_mesh_core.c) ------------------------------ */
#define RCL_MESH_MAX_SECONDARIES 15     /* so at most 16 virtual pages share a physical page */
#define RCL_MESH_MAX_GAP 4              /* empty pages a run of secondaries may bridge (fillers) */
RCL_INTERN int rcl_mesh_page(rcl_heap *h, char *b_page, char *a_page);
RCL_INTERN int rcl_mesh_page_fits(rcl_heap *h, char *b_page, char *a_page);
RCL_INTERN int rcl_mesh_fill_gap(rcl_heap *h, char *b, char *a, unsigned n);
RCL_INTERN int rcl_mesh_primary(rcl_heap *h, char *b_page, char *a_page, const uintptr_t *secs, unsigned nsecs);
RCL_INTERN void rcl_mesh_reconcile(rcl_heap *h);
RCL_INTERN int rcl_mesh_reconcile_step(rcl_heap *h);
RCL_INTERN void rcl_mesh_reconcile_finish(rcl_heap *h);
RCL_INTERN void rcl_mesh_destroy(rcl_heap *h);
RCL_INTERN int rcl_mesh_span_meshed(const rcl_heap *h, const rcl_span *s);
/* What the mesher needs to know of one OS page (rcl_mesh_page_info_of). */
enum { RCL_MESH_ROLE_NONE, RCL_MESH_ROLE_PRIMARY, RCL_MESH_ROLE_SECONDARY };
typedef struct rcl_mesh_page_info {
  unsigned cls;
  uint32_t phase;         /* bytes from the page's start to its slot 0 */
  uint32_t nslots, nused; /* whole slots; those used in its span's bitmap */
  uint64_t used_fold;     /* bit k % 64 set iff some used slot k (exact while nslots <= 64) */
  int role;               /* RCL_MESH_ROLE_* */
  unsigned secondaries;   /* of a primary */
  uint32_t live;          /* of a secondary: |L(B)| (0: a filler) */
  uintptr_t primary;      /* of a secondary */
} rcl_mesh_page_info;
RCL_INTERN int rcl_mesh_page_info_of(const rcl_heap *h, char *page, rcl_mesh_page_info *pi);
RCL_INTERN int rcl_mesh_budget_left(size_t mappings);
RCL_INTERN unsigned rcl_mesh_budget_quarters(void);
RCL_INTERN void rcl_mesh_mask_span(const rcl_heap *h, const rcl_span *s, uint64_t *bits);
RCL_INTERN uint32_t rcl_mesh_free_crossings(const rcl_heap *h, const rcl_span *s, uint64_t *bits);
#ifdef RCL_TEST_HOOKS
RCL_INTERN int rcl_mesh_check(rcl_heap *h, char *err, size_t errlen);
#endif

/* -- Reclaim policy: the mesher (rcl_mesher.c) --------------------------------- */
RCL_INTERN void rcl_mesher_arm(rcl_heap *h);
RCL_INTERN void rcl_mesher_step(rcl_heap *h);
RCL_INTERN void rcl_mesher_full(rcl_heap *h);
RCL_INTERN void rcl_mesher_destroy(rcl_heap *h);

/* -- Reclaim policy (rcl_purge.c) ---------------------------------------------- */
RCL_INTERN int rcl_pass_advance(rcl_heap *h, rcl_segment **seg, unsigned *unit,
                                size_t budget, rcl_decay d, int remember, size_t *released);
RCL_INTERN rcl_decay rcl_decay_at(const rcl_heap *h, uint64_t now);
RCL_INTERN size_t rcl_purge_all_locked(rcl_heap *h);
RCL_INTERN size_t rcl_release_free_segments(rcl_heap *h);
RCL_INTERN void rcl_make_room(rcl_heap *h, size_t request);
RCL_INTERN void rcl_soft_limit_reset(rcl_heap *h);
RCL_INTERN void rcl_pass_arm(rcl_heap *h);
RCL_INTERN void rcl_pass_step(rcl_heap *h);
RCL_INTERN size_t rcl_purge_now(rcl_heap *h);
RCL_INTERN int rcl_purge_slice(rcl_heap *h, size_t budget, int restart, size_t *released);

/* -- Observation: stats walk and registry (rcl_stats.c, rcl_registry.c) ------- */
RCL_INTERN void rcl_stats_walk(rcl_heap *h, rcl_stats *st, int outsider);
RCL_INTERN void rcl_registry_attach(rcl_heap *h);
RCL_INTERN void rcl_registry_detach(rcl_heap *h);
RCL_INTERN void rcl_registry_publish(rcl_heap *h, int walk, int outsider);
RCL_INTERN void rcl_registry_cycle_end(rcl_heap *h);
RCL_INTERN void rcl_registry_follow(rcl_heap *h);

/* -- Background thread (rcl_bg.c) ---------------------------------------------- */
RCL_INTERN void rcl_bg_update(rcl_heap *h);      /* (un)register after a config change */
RCL_INTERN void rcl_bg_unregister(rcl_heap *h);
RCL_INTERN void rcl_bg_ensure_running(rcl_heap *h); /* restart after fork if wanted */

/* Public API: rcl_api.c (rcl.h, rcl_test.h). */

/* -- Hot paths ----------------------------------------------------------------------- */

/* Allocate a block of size class cls from lane `lane` (a constant at every
** call site, so each inlined copy touches one lane's cached chunk). */
static inline void *rcl_alloc_small(rcl_heap *h, unsigned cls, unsigned lane)
{
  rcl_cache *c = &h->cache[cls];
  rcl_held *hd = &c->held[lane];
  uint64_t w = hd->word;
  if (RCL_LIKELY(w != 0)) {
    char *p = hd->base + (size_t)rcl_ctz64(w) * c->size;
    hd->word = w & (w - 1);
    if (RCL_UNLIKELY(hd->clean)) rcl_unclean_held(h, c, lane, p);
    return p;
  }
  return rcl_alloc_refill(h, cls, lane);
}

/*
** Free a block that lives in a span (n <= RCL_LARGE_MIN). The span is found
** from the address alone; n is only checked against the block size (so a
** block kept in place by a shrinking realloc may be freed with its new size).
** An address outside a live span or an interior pointer aborts, and so does
** a double free unless the block already sits in the owner's cached word.
*/
static inline __attribute__((always_inline)) void rcl_free_span_block(rcl_heap *h, void *p, size_t n)
{
  rcl_segment *seg = rcl_segment_of(p);
  rcl_span *s = rcl_span_at(seg, p);
  size_t off = (size_t)((char *)p - s->base), r = off & rcl_span_group_mask(s);
  size_t slot = (size_t)(((uint64_t)r * s->magic) >> RCL_MAGIC_SHIFT);
  size_t idx = ((off >> s->group_shift) << s->group_bits_log2) | slot;
  uint64_t *wp, w, bit = (uint64_t)1 << (idx & 63);
  uint32_t nf;
  unsigned word = (unsigned)(idx >> 6);
  /* Checked before the bitmap is touched: a stale or foreign pointer lands
  ** on a descriptor with nbits == 0 (poison or released span). idx < nbits
  ** bounds the group (slot < group_blocks <= 2^group_bits_log2); off >> group_shift << group_bits_log2
  ** cannot wrap since group_bits_log2 <= group_shift. */
  if (RCL_UNLIKELY(n > s->block_size)) {
    rcl_free_wide(h, s, p, n);   /* a block of a mixed or wide run, or a bad free */
    return;
  }
  if (RCL_UNLIKELY(idx >= s->nbits || slot >= s->group_blocks || slot * s->block_size != r))
    rcl_bad_free(p, n, "not a live block of this size");
  wp = rcl_seg_span_bits(seg, s) + word;
  w = rcl_load(wp);
  if (RCL_UNLIKELY(w & bit)) rcl_bad_free(p, n, "double free");
  rcl_store(wp, w | bit);
  if (word < s->scan) s->scan = (uint8_t)word;   /* lowest first (rcl_take_word) */
  nf = rcl_load(&s->nfree) + 1;
  rcl_store(&s->nfree, (uint16_t)nf);
  rcl_store(&s->freed_at, (uint32_t)h->clock);
  if (RCL_UNLIKELY(nf == 1 || nf == s->nblocks)) rcl_free_transition(h, s, nf);
}

#endif
