/*
** rcl_class.c: size classes and their span layout.
**
** Classes: 16..128 in steps of 16 (8 classes), then 4 per doubling up to
** 32 KiB (32 classes): 160, 192, 224, 256, 320, ..., 28672, 32768. Every size
** is a multiple of 16, so every block of a class is 16-byte aligned (spans
** start on a unit boundary). rcl_class_of() (rcl_internal.h) maps a request
** to its class with shifts and one clz; rcl_class_size() is its inverse.
**
** Span layout of a class: the smallest k in 1..4 units whose unused tail
** ("slack") is at most 1/8 of the span, with at most RCL_SPAN_MAX_BLOCKS
** blocks; nblocks = floor(k * unit / size), so the slack is below one block.
*/
#include "rcl_internal.h"

RCL_INTERN size_t rcl_class_size(unsigned cls)
{
  if (cls < 8) return (size_t)(cls + 1) * 16;
  return (size_t)(5 + ((cls - 8) & 3)) << ((cls - 8) / 4 + 5);
}

RCL_INTERN void rcl_class_layout(unsigned cls, uint32_t *units, uint32_t *nblocks)
{
  size_t size = rcl_class_size(cls), best_k = 1, best_waste = (size_t)-1, k;
  for (k = 1; k <= 4; k++) {
    size_t bytes = k * RCL_UNIT_SIZE, nb = bytes / size, waste = bytes - nb * size;
    if (nb > RCL_SPAN_MAX_BLOCKS) break;
    if (waste * 8 <= bytes) { best_k = k; break; }
    if (waste * best_k < best_waste * k) { best_k = k; best_waste = waste; }
  }
  *units = (uint32_t)best_k;
  *nblocks = (uint32_t)(best_k * RCL_UNIT_SIZE / size);
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
