/*
** copydist.c: memcpy speed by the distance of destination past source
** modulo 4 KiB: one memcpy call, and the backward copy in 32-byte steps
** that patch 0013's str_copydata makes of a new string's data at distances
** of 1-63.
**
** Owns nothing beyond its two buffers. Figures, not a test: it prints GB/s
** per distance and never fails on a slow one. Both copies stay within L1/L2
** (sources and destinations are reused), so the figures show the copy
** instructions' own speed, not memory bandwidth.
**
** Usage: copydist [bytes [step]]   (default 15000 bytes, distances in steps
** of 8 from 0 to 4088; `make bench-copydist` runs 2048 and 15000)
*/
#define _POSIX_C_SOURCE 200112L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stdint.h>

static double now_s(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void copy_whole(char *d, const char *s, size_t n)
{
  memcpy(d, s, n);
}

/* The same steps as str_copydata's (runtime/patches/0013-*.patch). */
static void copy_backward(char *d, const char *s, size_t n)
{
  size_t i = n;
  while (i >= 32) {
    uint64_t w0, w1, w2, w3;
    i -= 32;
    memcpy(&w0, s + i, 8); memcpy(&w1, s + i + 8, 8);
    memcpy(&w2, s + i + 16, 8); memcpy(&w3, s + i + 24, 8);
    memcpy(d + i, &w0, 8); memcpy(d + i + 8, &w1, 8);
    memcpy(d + i + 16, &w2, 8); memcpy(d + i + 24, &w3, 8);
  }
  while (i) { i--; d[i] = s[i]; }
}

/* GB/s of the best of 3 rounds of about 64 MB copied. */
static double rate(void (*copy)(char *, const char *, size_t), char *d, const char *s, size_t n)
{
  size_t reps = (64u << 20) / n + 1, r, i;
  double best = 1e30;
  for (r = 0; r < 3; r++) {
    double t0 = now_s(), t;
    for (i = 0; i < reps; i++) {
      copy(d, s, n);
      __asm__ volatile("" : : "r"(d) : "memory");
    }
    t = now_s() - t0;
    if (t < best) best = t;
  }
  return (double)n * (double)reps / best / 1e9;
}

int main(int argc, char **argv)
{
  size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 15000;
  size_t step = argc > 2 ? strtoul(argv[2], NULL, 10) : 8, dist;
  size_t room = n + 3 * 4096;
  void *src_mem = NULL, *dst_mem = NULL;
  char *src, *dst;
  if (argc > 3 || n == 0 || n > (64u << 20) || step == 0 || step > 4096) {
    fprintf(stderr, "usage: copydist [bytes (1..67108864) [step (1..4096)]]\n");
    return 2;
  }
  if (posix_memalign(&src_mem, 4096, room) != 0 || posix_memalign(&dst_mem, 4096, room) != 0) {
    fprintf(stderr, "copydist: cannot allocate two buffers of %zu bytes\n", room);
    return 1;
  }
  src = src_mem;
  dst = dst_mem;
  memset(src, 'a', room);
  memset(dst, 0, room);
  printf("copydist: memcpy of %zu bytes, GB/s by destination minus source modulo 4096\n", n);
  printf("%8s %10s %10s\n", "distance", "memcpy", "backward");
  for (dist = 0; dist < 4096; dist += step)
    printf("%8zu %10.1f %10.1f\n", dist, rate(copy_whole, dst + 4096 + dist, src + 4096, n),
           rate(copy_backward, dst + 4096 + dist, src + 4096, n));
  free(src_mem);
  free(dst_mem);
  return 0;
}
