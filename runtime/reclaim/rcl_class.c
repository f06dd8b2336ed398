/*
** rcl_class.c: size classes and their span layout.
**
** Classes: 16..128 in steps of 16 (8 classes), then 2^RCL_CLASS_SHIFT = 8
** per doubling up to 32 KiB (64 classes): 144, 160, ..., 256, 288, 320, ...,
** 28672, 30720, 32768. The smallest step above 128 is 16, so every size is a
** multiple of 16 and every block is 16-byte aligned (spans start on a unit
** boundary). 8 per doubling bounds the rounding waste at 1/9 (average about
** 1/18): with 4 per doubling a burst of 290-byte strings wasted 10% of its
** peak RSS in the 320 class (measured on the bench string workload).
** rcl_class_of() (rcl_internal.h) maps a request to its class with shifts and
** one clz; rcl_class_size() is its inverse.
**
** Span layout of a class: the smallest k in 1..4 units whose unused tail
** ("slack") is at most 1/8 of the span, with at most RCL_SPAN_MAX_BLOCKS
** blocks; nblocks = floor((k * unit - bits_bytes) / size), so the slack is
** below one block. Classes with more than 512 blocks per span (16..112
** bytes) keep their bitmap in the span's first bits_bytes (16-byte rounded).
*/
#include "rcl_internal.h"

RCL_INTERN size_t rcl_class_size(unsigned cls)
{
  unsigned c = cls - 8, k = 1u << RCL_CLASS_SHIFT;
  if (cls < 8) return (size_t)(cls + 1) * 16;
  return (size_t)(k + 1 + (c & (k - 1))) << ((c >> RCL_CLASS_SHIFT) + 7 - RCL_CLASS_SHIFT);
}

/* Bitmap bytes kept at the span start for nb blocks (0: fits the descriptor). */
static uint32_t rcl_bits_bytes(size_t nb)
{
  if (nb <= (size_t)RCL_INLINE_WORDS * 64) return 0;
  return (uint32_t)rcl_align_up((nb + 63) / 64 * 8, 16);
}

RCL_INTERN void rcl_class_layout(unsigned cls, uint32_t *units, uint32_t *nblocks,
                                 uint32_t *bits_bytes)
{
  size_t size = rcl_class_size(cls), best_k = 1, best_waste = (size_t)-1, k, nb, bb;
  for (k = 1; k <= 4; k++) {
    size_t bytes = k * RCL_UNIT_SIZE, waste;
    nb = bytes / size;
    if (nb > RCL_SPAN_MAX_BLOCKS) break;
    waste = bytes - nb * size;
    if (waste * 8 <= bytes) { best_k = k; break; }
    if (waste * best_k < best_waste * k) { best_k = k; best_waste = waste; }
  }
  /* Tiny classes: the bitmap takes the first bytes of the span; fewer blocks
  ** may then fit, which may shrink the bitmap: iterate to the fixed point. */
  nb = best_k * RCL_UNIT_SIZE / size;
  for (bb = rcl_bits_bytes(nb); (best_k * RCL_UNIT_SIZE - bb) / size != nb; bb = rcl_bits_bytes(nb))
    nb = (best_k * RCL_UNIT_SIZE - bb) / size;
  *units = (uint32_t)best_k;
  *nblocks = (uint32_t)nb;
  *bits_bytes = (uint32_t)bb;
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
