/*
** fuzz_ops.h: the input encoding of the heap fuzzer (tests/fuzz/fuzz_heap.c),
** shared with the seed generator (gen_seeds.c) so the two cannot drift.
**
** An input is a header byte, then a sequence of ops on one fresh heap
** (default config). Every byte string is a valid input: a missing byte
** reads as 0, so truncating an input truncates its last op.
**
**   header       bit 0 (FZ_HDR_FILE): the heap maps its segments from a
**                memory file (rcl_test_set_backing(RCL_BACKING_FILE)),
**                else anonymous memory; bit 1 (FZ_HDR_NO_MEMFD), with
**                bit 0: memfd_create fails (an injected backing failure),
**                so the heap asked for the file and runs anonymous. On the
**                file backing the heap is created with mesh=on (purges, full
**                GCs and cycle ends mesh). Bit 2 (FZ_HDR_MESH), with bit 0:
**                op 13 is MESH instead of ALLOC, op 14 THIN instead of FREE,
**                and CONFIG with the flag
**                sets mesh = value8 & 1 (without bit 2 both read as before,
**                so older inputs keep their meaning). The other bits are
**                ignored.
**
** One op:
**
**   op byte      low 4 bits: FZ_OP_*; bits 4-5: API variant (FZ_API_*);
**                bit 6: op-specific flag; bit 7: a repeat count follows
**   [repeat]     LEB128 (7 bits a byte, at most 4 bytes), clamped to
**                1..FZ_MAX_REPEAT; absent = 1. The op's arguments are read
**                once and the op is applied `repeat` times.
**   arguments    per op, below
**
**   ALLOC    size                      new live block(s) of that size
**   FREE     sel                       free the selected live block
**   REALLOC  sel size                  realloc it to an absolute size
**   RESIZE   sel d16                   realloc it to old + (int16)d16 (min 1)
**   PURGE    -                         rcl_purge
**   CYCLE    steps8                    rcl_cycle_end, then steps8 x rcl_step
**   STEP     -                         rcl_step
**   FULL_GC  -                         rcl_full_gc
**   CONFIG   field8 value8             rcl_heap_configure (FZ_CFG_*)
**   FAULT    kind8 rate8 seed8         rcl_test_fault_rate; kind8 % 6: RCL_FAULT_*
**                                      (mmap, madvise, munmap, mremap, backing), 5 = all
**   SLEEP    ms8                       sleep ms8 % 4 ms (FZ_MAX_SLEEP_MS a input)
**   FREE_ALL -                         free every live block (flag: oldest first)
**   CHURN    seed8                     repeat x one op of the stress test's mix
**                                      (tests/unit/stress.c) from xorshift(seed8)
**   13, 14   aliases of ALLOC, FREE (random bytes mostly allocate/free)
**   MESH     sel8 sel8                 13 under FZ_HDR_MESH: rcl_test_mesh_page
**                                      of the OS page holding the start of block
**                                      sel8 (B) onto the one holding the start of
**                                      the first live block, from sel8 on (up to
**                                      FZ_MESH_SCAN slots), of the same usable size
**                                      and on another page (A); API variant 1: A is
**                                      the page after that, 2: before it. Refusals
**                                      are counted; repeated: the next B blocks
**   THIN     seed8                     14 under FZ_HDR_MESH: free every live block
**                                      but about 1 in 2 << (seed8 & 3), picked by a
**                                      hash of its tag and seed8 (scattered
**                                      survivors in a few bytes); API variant: FREE's
**   ALIAS    sel8 page8 sel8 page8     rcl_test_page_alias: the page8-th whole OS
**                                      page (mod their number) of the first selected
**                                      block onto that of the second; API variant 3
**                                      passes the page misaligned by 16 bytes
**            flag: sel8                rcl_test_page_unalias of alias sel8 % n;
**                                      variant 3: of a page of live block sel8 that
**                                      is no alias
**            An alias lasts until either block is freed or reallocated: the
**            harness then unaliases it first and writes the page's pattern again.
**
** size: a kind byte k (low 3 bits FZ_SIZE_*, high 5 bits e), then its bytes:
**   TINY    u8        1 + u8                     1..256
**   SMALL   u16       1 + u16 % 32768            all classes (page-fit, dense)
**   EDGE    u16       usable(1 + u16 % 32768) - 1 + e % 3   class boundaries
**   MEDIUM  u24       32769 + u24 % (1 MiB - 32768)          single-block spans
**   LARGE   u16       1 MiB + 1 + 64 * u16       large, up to ~5 MiB
**   HUGE    u16       1 MiB + 1 + (e % 32) MiB + u16         up to ~33 MiB
**   EXACT   u24       u24 (0..16 MiB - 1)
**   SPECIAL u8        fz_special_sizes[u8 % FZ_NSPECIAL] (0, class and page edges)
** Multi-byte numbers are little-endian.
** sel: b < 128 picks live block b % nlive counting from the oldest slot,
**   else (b - 128) % nlive counting from the newest. Freeing moves the
**   newest slot into the hole, so slot 0 is the first block allocated until
**   it is freed. No live block: the op is skipped.
** API variants: ALLOC 0/3 rcl_malloc, 1 rcl_alloc_f(h, NULL, 0, n),
**   2 rcl_realloc(h, NULL, 0, n); FREE 0/3 rcl_free, 1 rcl_alloc_f(.., 0),
**   2 rcl_realloc(.., 0); REALLOC/RESIZE even rcl_realloc, odd rcl_alloc_f.
**   Size 0 always allocates with rcl_malloc (lua_Alloc nsize 0 frees).
** Bounds: live bytes <= FZ_MAX_LIVE and live blocks <= FZ_MAX_SLOTS (an op
**   that would exceed them is skipped); an input's work (FZ_WORK_*: calls,
**   bytes patterned or verified, live-page updates, heap walks, the OS
**   calls of the thread running the input) <=
**   FZ_MAX_WORK: once spent, the rest of the input is ignored. A large
**   block of exactly one segment (4 MiB) is never requested: such a size
**   gets one OS page more (see the mmap accounting in fuzz_heap.c).
*/
#ifndef FUZZ_OPS_H
#define FUZZ_OPS_H

#include <stddef.h>
#include <stdint.h>

enum {
  FZ_OP_ALLOC, FZ_OP_FREE, FZ_OP_REALLOC, FZ_OP_RESIZE, FZ_OP_PURGE, FZ_OP_CYCLE,
  FZ_OP_STEP, FZ_OP_FULL_GC, FZ_OP_CONFIG, FZ_OP_FAULT, FZ_OP_SLEEP, FZ_OP_FREE_ALL,
  FZ_OP_CHURN, FZ_OP_ALLOC2, FZ_OP_FREE2, FZ_OP_ALIAS
};
#define FZ_HDR_FILE      0x01           /* header: the memory-file backing */
#define FZ_HDR_NO_MEMFD  0x02           /* header: with it, memfd_create fails */
#define FZ_HDR_MESH      0x04           /* header: with FZ_HDR_FILE, ops 13/14 are MESH/THIN, CONFIG+flag sets mesh */
#define FZ_OP_MESH       FZ_OP_ALLOC2   /* under FZ_HDR_MESH */
#define FZ_OP_THIN       FZ_OP_FREE2    /* under FZ_HDR_MESH */
#define FZ_API(v)        ((v) << 4)     /* API variant 0..3 in the op byte */
#define FZ_FLAG          0x40
#define FZ_REPEAT        0x80

enum {
  FZ_SIZE_TINY, FZ_SIZE_SMALL, FZ_SIZE_EDGE, FZ_SIZE_MEDIUM, FZ_SIZE_LARGE, FZ_SIZE_HUGE,
  FZ_SIZE_EXACT, FZ_SIZE_SPECIAL
};

/* CONFIG fields; value8 maps as commented. */
enum {
  FZ_CFG_DECAY,        /* fz_decays[v % 8] ms */
  FZ_CFG_MODE,         /* v % 3: dontneed, free, off */
  FZ_CFG_SOFT_LIMIT,   /* v * 256 KiB (0 = none) */
  FZ_CFG_STEP_BUDGET,  /* v * 16 KiB, 0 -> 1 byte */
  FZ_CFG_BG_ON,        /* background thread, interval 1 + v % 4 ms */
  FZ_CFG_BG_OFF,
  FZ_CFG_FULL_GC,      /* full_gc_purge = v & 1 */
  FZ_CFG_DEFAULTS,     /* rcl_config_default (background off) */
  FZ_CFG__N
};

#define FZ_FAULT_KINDS   5              /* RCL_FAULT__MAX of rcl_test.h */
#define FZ_FAULT_ALL     5              /* FAULT kind8 % 6 == 5: every kind */

/* Tables used by the harness and the generator; unused in some users. */
#define FZ_TABLE static const __attribute__((unused))

FZ_TABLE uint32_t fz_decays[8] = { 0, 1, 2, 5, 25, 1000, 0x80000000u, 0xffffffffu };
FZ_TABLE uint32_t fz_fault_rates[8] = { 0, 1000, 10000, 50000, 200000, 500000, 900000, 1000000 };

/* SPECIAL sizes; FZ_PAGE stands for the run-time OS page size. */
#define FZ_PAGE          ((size_t)-1)
#define FZ_NSPECIAL      16
FZ_TABLE size_t fz_special_sizes[FZ_NSPECIAL] = {
  0, 1, 15, 16, 17, 255, 256, 257, 32767, 32768, 32769,
  (size_t)1 << 20, ((size_t)1 << 20) + 1, FZ_PAGE, ((size_t)2 << 20) + 1, (size_t)8 << 20
};

#define FZ_MAX_REPEAT     ((uint32_t)1 << 17)
#define FZ_MAX_SLOTS      ((size_t)1 << 17)
#define FZ_MAX_LIVE       ((size_t)64 << 20)
/* Work, in units of one byte patterned or verified; the other costs are
** weighed against that. The budget bounds an input's run time. */
#define FZ_MAX_WORK       ((uint64_t)1 << 24)
#define FZ_WORK_CALL      64                   /* one allocator call */
#define FZ_WORK_PAGE      256                  /* one page of a block: live-page update, first touch */
#define FZ_WORK_SYSCALL   4096                 /* one OS call of the allocator's (owner thread) */
#define FZ_WORK_OS_PAGE   64                   /* one OS page such a call maps, purges or unmaps */
#define FZ_MAX_SLEEP_MS   20
#define FZ_MAX_ALIASES    64                   /* aliases live at once; more are skipped */
#define FZ_MESH_SCAN      64                   /* live slots MESH looks at for its page A */

#endif
