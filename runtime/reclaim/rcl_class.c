/*
** rcl_class.c: size classes and their span layout.
**
** Classes: 16..256 in steps of 16 (16 classes), then 2^RCL_CLASS_SHIFT = 16
** per doubling up to 32 KiB (112 classes): 272, 288, ..., 512, 544, ...,
** 30720, 31744, 32768. The smallest step is 16, so every size is a
** multiple of 16 and every block is 16-byte aligned (spans start on a unit
** boundary). 16 per doubling bounds the rounding waste at 1/17 (average
** about 1/34).
** rcl_class_of() (rcl_internal.h) maps a request to its class with shifts and
** one clz; rcl_class_size() is its inverse.
**
** Span layout of a class ("dense"): the smallest k in 1..4 units whose
** unused tail ("slack") is at most 1/8 of the span, with at most
** RCL_SPAN_MAX_BLOCKS blocks; nblocks = floor((k * unit - bits_bytes) /
** size), so the slack is below one block. Classes with more blocks per
** span than the descriptor's RCL_INLINE_WORDS words hold reserve the span's
** first bits_bytes (16-byte rounded) for the bitmap, used when the header
** pool has no room (rcl_internal.h, "pool"). Dense classes of
** RCL_LONG_SPAN_MIN bytes and more take at least RCL_LONG_SPAN_UNITS units
** (glossary "long span"), by the same slack rule from there.
**
** "Page-fit" layout, chosen at heap creation for the run-time page size P
** when it wastes little: one unit of P-sized groups, floor(P / size) blocks
** from the start of each page, the page's tail unused. A block then never
** straddles two OS pages, so a survivor pins one page instead of two (in a
** dense span a b-byte block straddles a page boundary with probability
** about b/P). The layout is used when the page tails waste at most 1/5 of
** the unit (RCL_PAGEFIT_WASTE), 1/6 in a heap created with mesh=on
** (RCL_PAGEFIT_WASTE_MESH): the bound trades the RSS of scattered
** survivors against peak memory, and meshing gives back most pages that
** survivors pin in either layout, so with it the tails weigh more. The
** measurements behind both are in README.md ("Design notes:
** measurements behind the layout") and docs/mesh.md ("The eleventh
** pass").
** A class needs at least two blocks a page to be page-fit. With one, every
** page would hold a block and a gap (up to a fifth of the page): programs
** write such blocks whole and one after the other (a fresh table's array
** part, a zero-filled cdata array), and writes that skip a gap in every
** page run at about half the speed of writes over blocks laid end to end
** (README.md, "Design notes: measurements behind the layout").
** At P = 64 KiB a page is a unit and the two layouts coincide.
**
** The class of the wide run's cells (RCL_WIDE_CLASS, 256 bytes; glossary
** "wide run") is dense with RCL_WIDE_UNITS units at every page size: a
** run of cells is one stretch of address space, and its blocks of up to
** RCL_WIDE_MAX bytes follow each other across page boundaries.
*/
#include "rcl_internal.h"

RCL_INTERN size_t rcl_class_size(unsigned cls)
{
  unsigned c = cls - 16, k = 1u << RCL_CLASS_SHIFT;
  if (cls < 16) return (size_t)(cls + 1) * 16;
  return (size_t)(k + 1 + (c & (k - 1))) << ((c >> RCL_CLASS_SHIFT) + 8 - RCL_CLASS_SHIFT);
}

/* Bitmap bytes reserved at the span start for nb blocks of a dense span (0:
** fits the descriptor); used when the header pool has no room for them. */
static uint32_t rcl_bits_bytes(size_t nb)
{
  if (nb <= (size_t)RCL_INLINE_WORDS * 64) return 0;
  return (uint32_t)rcl_align_up((nb + 63) / 64 * 8, 16);
}

static unsigned rcl_ceil_log2(size_t x)
{
  unsigned b = 0;
  while (((size_t)1 << b) < x) b++;
  return b;
}

RCL_INTERN void rcl_class_layout(unsigned cls, size_t page_size, unsigned pagefit_waste, rcl_cache *c)
{
  size_t size = rcl_class_size(cls), best_k = 1, best_waste = (size_t)-1, k, nb, bb;
  k = cls == RCL_WIDE_CLASS ? RCL_WIDE_UNITS : size >= RCL_LONG_SPAN_MIN ? RCL_LONG_SPAN_UNITS : 1;
  for (; k <= 4; k++) {
    size_t bytes = k * RCL_UNIT_SIZE, waste;
    nb = bytes / size;
    if (nb > RCL_SPAN_MAX_BLOCKS) break;
    waste = bytes - nb * size;
    if (waste * 8 <= bytes) { best_k = k; break; }
    if (waste * best_k < best_waste * k) { best_k = k; best_waste = waste; }
  }
  /* Reserved bitmap bytes at the span start: fewer blocks may then fit,
  ** which may shrink the bitmap: iterate to the fixed point. */
  nb = best_k * RCL_UNIT_SIZE / size;
  for (bb = rcl_bits_bytes(nb); (best_k * RCL_UNIT_SIZE - bb) / size != nb; bb = rcl_bits_bytes(nb))
    nb = (best_k * RCL_UNIT_SIZE - bb) / size;
  if (cls == RCL_WIDE_CLASS && bb) {
    /* Whole cells reserved: a cell then never straddles an OS page. */
    bb = (uint32_t)rcl_align_up(bb, size);
    nb = (best_k * RCL_UNIT_SIZE - bb) / size;
  }
  c->units = (uint32_t)best_k;
  c->nblocks = (uint32_t)nb;
  c->bits_bytes = (uint32_t)bb;
  c->group_shift = 18;                      /* one group: off < 4 units = 2^18 */
  c->ngroups = 1;
  c->group_blocks = (uint16_t)nb;
  c->group_bits_log2 = (uint8_t)(6 + rcl_ceil_log2((nb + 63) / 64));
  /* Page-fit: one unit of OS-page groups, if a page holds two blocks or
  ** more, the bitmap fits one pool slot and the page tails waste at most
  ** 1/pagefit_waste of the unit. A
  ** group has the smallest power of two bits that holds its blocks (a part
  ** of a word for 32 blocks or fewer): 16 groups of up to 4 blocks, the
  ** classes of 1 KiB and more at 4 KiB pages, fit the descriptor. */
  if (page_size < RCL_UNIT_SIZE && size <= page_size && cls != RCL_WIDE_CLASS) {
    size_t per_page = page_size / size, groups = RCL_UNIT_SIZE / page_size;
    unsigned group_bits_log2 = rcl_ceil_log2(per_page);
    size_t waste = RCL_UNIT_SIZE - groups * per_page * size;
    if (per_page >= 2 && (groups << group_bits_log2) <= (size_t)RCL_PAGEFIT_WORDS * 64 &&
        waste * pagefit_waste <= RCL_UNIT_SIZE) {
      c->units = 1;
      c->nblocks = (uint32_t)(groups * per_page);
      c->bits_bytes = 0;
      c->group_shift = (uint8_t)rcl_ceil_log2(page_size);
      c->ngroups = (uint8_t)groups;
      c->group_blocks = (uint16_t)per_page;
      c->group_bits_log2 = (uint8_t)group_bits_log2;
    }
  }
}

/*
** Division-free block index: idx = (off * magic) >> 40, magic = ceil(2^40/d).
** Exactness: write magic = (2^40 + e)/d with 0 <= e < d and off = q*d + r,
** 0 <= r < d. Then off*magic/2^40 = q + r/d + off*e/(d*2^40), whose floor is
** q iff r*2^40 + off*e < d*2^40; since r <= d-1 it suffices that
** off*e < 2^40. A pointer inside a small span has off < 4 units = 2^18 and
** e < d <= 2^15, so off*e < 2^33: the index is exact for EVERY offset in the
** span (interior pointers included, which the free path then rejects by
** checking idx*d == off). off*magic < 2^18 * (2^36 + 1) fits in 64 bits.
*/
RCL_INTERN uint64_t rcl_class_magic(uint32_t size)
{
  return (((uint64_t)1 << RCL_MAGIC_SHIFT) + size - 1) / size;
}
