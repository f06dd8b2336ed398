/*
** rcl_bitmap.h: inline helpers for the bitmaps of a segment: header pool
** slots, span bitmaps (groups, chunks, valid bits) and the clean-page
** bitmap. Included by rcl_internal.h after the structures; private to
** runtime/reclaim/. Pure functions of the structures (no locks taken, no
** calls out); racing words are read and written with relaxed atomics as
** the glossary in rcl_internal.h says.
*/
#ifndef RCL_BITMAP_H
#define RCL_BITMAP_H

/* Header pool (glossary): slot i of seg, and the header's bytes. */
#define RCL_POOL_START  (((sizeof(rcl_segment) + 63) / 64) * 64)
#define RCL_HEADER_BYTES (RCL_POOL_START + (size_t)RCL_POOL_SLOTS * RCL_POOL_SLOT_WORDS * 8)
/* Byte offset in the header where pool slot i starts (slots [.., i) end). */
static inline size_t rcl_pool_offset(unsigned i)
{
  return RCL_POOL_START + (size_t)i * RCL_POOL_SLOT_WORDS * 8;
}
static inline uint64_t *rcl_pool_slot(rcl_segment *seg, unsigned i)
{
  return (uint64_t *)(void *)((char *)seg + rcl_pool_offset(i));
}
static inline int rcl_pool_is_free(const rcl_segment *seg, unsigned i)
{
  return (int)((seg->pool_free[i >> 6] >> (i & 63)) & 1);
}
static inline unsigned rcl_pool_nfree(const rcl_segment *seg)
{
  unsigned i, n = 0;
  for (i = 0; i < RCL_POOL_SLOTS / 64; i++) n += rcl_popcount64(seg->pool_free[i]);
  return n;
}
static inline uint32_t rcl_span_bitmap_bytes(const rcl_span *s)
{
  return s->pool_slot ? 0 : s->bits_bytes;
}
static inline char *rcl_span_end(const rcl_span *s)
{
  return rcl_span_start(s) + ((size_t)s->units << RCL_UNIT_SHIFT);
}

/* Groups and chunks (glossary): the words of a single-group bitmap; log2
** of the bits in a chunk; chunks and words in all; the mask of chunk i's
** valid bits (shifted down) and the block named by its bit 0. */
static inline uint32_t rcl_span_group_words(const rcl_span *s) { return ((uint32_t)s->group_blocks + 63) >> 6; }
static inline unsigned rcl_span_chunk_log2(const rcl_span *s) { return s->group_bits_log2 < 6 ? s->group_bits_log2 : 6; }
static inline uint32_t rcl_span_nchunks(const rcl_span *s)
{
  return s->ngroups <= 1 ? rcl_span_group_words(s) : ((uint32_t)s->ngroups << s->group_bits_log2) >> rcl_span_chunk_log2(s);
}
static inline uint32_t rcl_span_nwords(const rcl_span *s)
{
  return s->ngroups <= 1 ? rcl_span_group_words(s) : (((uint32_t)s->ngroups << s->group_bits_log2) + 63) >> 6;
}
/* Header pool slots a bitmap of nw words takes, and those span s holds. */
static inline unsigned rcl_pool_need(uint32_t nw)
{
  return (nw + RCL_POOL_SLOT_WORDS - 1) / RCL_POOL_SLOT_WORDS;
}
static inline unsigned rcl_span_pool_n(const rcl_span *s)
{
  return s->pool_slot ? rcl_pool_need(rcl_span_nwords(s)) : 0;
}
static inline char *rcl_group_base(const rcl_span *s, uint32_t g)
{
  return s->base + ((size_t)g << s->group_shift);
}
/* Address of the block named by bitmap index idx. */
static inline char *rcl_idx_addr(const rcl_span *s, uint32_t idx)
{
  return rcl_group_base(s, idx >> s->group_bits_log2) +
         (size_t)(idx & ((1u << s->group_bits_log2) - 1)) * s->block_size;
}
static inline uint64_t rcl_chunk_valid(const rcl_span *s, uint32_t i)
{
  uint32_t lo, n;
  if (s->group_bits_log2 < 6) return ((uint64_t)1 << s->group_blocks) - 1;   /* group_blocks <= 2^group_bits_log2 <= 32 */
  lo = (i & ((1u << (s->group_bits_log2 - 6)) - 1)) * 64;
  if (lo >= s->group_blocks) return 0;
  n = s->group_blocks - lo;
  return n >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << n) - 1);
}
static inline char *rcl_chunk_base(const rcl_span *s, uint32_t i)
{
  return rcl_idx_addr(s, i << rcl_span_chunk_log2(s));
}
/* Bitmap word of chunk i, and the chunk's position in it. */
static inline uint32_t rcl_chunk_word(const rcl_span *s, uint32_t i) { return (i << rcl_span_chunk_log2(s)) >> 6; }
static inline unsigned rcl_chunk_shift(const rcl_span *s, uint32_t i) { return (i << rcl_span_chunk_log2(s)) & 63; }
/* Valid bits of bitmap word w (in place). */
static inline uint64_t rcl_word_valid(const rcl_span *s, uint32_t w)
{
  uint64_t m = 0;
  uint32_t i, per, first;
  if (s->group_bits_log2 >= 6) return rcl_chunk_valid(s, w);
  per = 64u >> s->group_bits_log2;                 /* chunks per word */
  first = w * per;
  for (i = 0; i < per && first + i < rcl_span_nchunks(s); i++)
    m |= rcl_chunk_valid(s, first + i) << (i << s->group_bits_log2);
  return m;
}
/* Of the group whose bits start at bitmap index `from`: the first block
** index >= i whose bit is set (clear if `used`), or nb if none below nb.
** Bits at and above nb read as used. */
static inline uint32_t rcl_bits_next(const uint64_t *bits, uint32_t from, uint32_t i, uint32_t nb, int used)
{
  while (i < nb) {
    uint32_t a = from + i;
    uint64_t w = rcl_load(&bits[a >> 6]);
    if (used) w = ~w;
    w >>= a & 63;
    if (w) {
      uint32_t r = i + rcl_ctz64(w);
      return r < nb ? r : nb;
    }
    i += 64 - (a & 63);
  }
  return nb;
}

/* Set (free) or clear (take) bits [i, i + k) of a bitmap that only the
** owner changes (others read it with relaxed loads). */
static inline void rcl_bits_range(uint64_t *bits, uint32_t i, uint32_t k, int set)
{
  while (k) {
    uint32_t sh = i & 63, m = 64 - sh < k ? 64 - sh : k;
    uint64_t mask = (m == 64 ? ~(uint64_t)0 : (((uint64_t)1 << m) - 1)) << sh;
    uint64_t v = rcl_load(&bits[i >> 6]);
    rcl_store(&bits[i >> 6], set ? v | mask : v & ~mask);
    i += m;
    k -= m;
  }
}

/* -- Clean-page bitmap ---------------------------------------------------------- */

static inline int rcl_page_is_clean(const rcl_segment *seg, size_t page)
{
  return (int)((rcl_load(&seg->clean[page >> 6]) >> (page & 63)) & 1);
}

/* Bits of bitmap word `w` that fall in the page range [first, end). */
static inline uint64_t rcl_page_mask(size_t first, size_t end, size_t w)
{
  size_t lo = w * 64, a = first > lo ? first - lo : 0, b = end < lo + 64 ? end - lo : 64;
  uint64_t m;
  if (a >= b) return 0;
  m = b == 64 ? ~(uint64_t)0 : (((uint64_t)1 << b) - 1);
  return m & ~(((uint64_t)1 << a) - 1);
}

/* Number of clean pages in [first, end). */
static inline size_t rcl_clean_count(rcl_segment *seg, size_t first, size_t end)
{
  size_t n = 0, w;
  for (w = first >> 6; w < ((end + 63) >> 6); w++)
    n += rcl_popcount64(rcl_load(&seg->clean[w]) & rcl_page_mask(first, end, w));
  return n;
}

/* Whether a page of [first, end) is clean. */
static inline int rcl_clean_any(rcl_segment *seg, size_t first, size_t end)
{
  size_t w;
  for (w = first >> 6; w < ((end + 63) >> 6); w++)
    if (rcl_load(&seg->clean[w]) & rcl_page_mask(first, end, w)) return 1;
  return 0;
}

/* Mark [first, end) clean; returns how many pages were dirty before. */
static inline size_t rcl_clean_set(rcl_segment *seg, size_t first, size_t end)
{
  size_t n = 0, w;
  for (w = first >> 6; w < ((end + 63) >> 6); w++) {
    uint64_t m = rcl_page_mask(first, end, w);
    if (m) n += rcl_popcount64(~__atomic_fetch_or(&seg->clean[w], m, __ATOMIC_RELAXED) & m);
  }
  return n;
}

/* Mark [first, end) dirty; returns how many pages were clean before. Words
** with no clean page of the range are only read: only the owner clears
** bits, and a page under a block it is handing out cannot turn clean. */
static inline size_t rcl_clean_clear(rcl_segment *seg, size_t first, size_t end)
{
  size_t n = 0, w;
  for (w = first >> 6; w < ((end + 63) >> 6); w++) {
    uint64_t m = rcl_page_mask(first, end, w);
    if (rcl_load(&seg->clean[w]) & m)
      n += rcl_popcount64(__atomic_fetch_and(&seg->clean[w], ~m, __ATOMIC_RELAXED) & m);
  }
  return n;
}

#endif
