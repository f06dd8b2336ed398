/* ci/probe/highmap.c: shows where the kernel places anonymous mappings, to
 * prove that the matrix guests really hand out addresses above 2^47 (so the
 * runtime's "every block below 2^47" check is meaningful there).
 *
 * Usage: highmap BITS      exit 0 iff a mapping at or above 2^BITS was seen.
 *   BITS 47: a plain mmap(NULL, ...) must land there (48-bit VA arm64 kernels
 *            place mmap_base just below 2^48).
 *   BITS 48: a plain mmap stays below 2^48 (the kernel's default window) and
 *            an mmap with a hint above 2^48 must land above it (52-bit VA,
 *            FEAT_LVA); both are required.
 * Prints one line per mapping: "highmap plain 0x... (>= 2^47: yes)" etc.
 * Invariants: C99 + POSIX only; static-link friendly (no dlopen, no locale);
 * every mapping it makes is unmapped again.
 */
#define _DEFAULT_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { PROBE_BYTES = 1 << 20 };

static uintptr_t map_probe(const char *label, void *hint, unsigned bits)
{
  void *p = mmap(hint, PROBE_BYTES, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    printf("highmap %s mmap failed: %s\n", label, strerror(errno));
    return 0;
  }
  uintptr_t addr = (uintptr_t)p;
  *(volatile char *)p = 1;  /* the page must really be usable */
  printf("highmap %s 0x%llx (>= 2^%u: %s)\n", label, (unsigned long long)addr,
         bits, addr >> bits ? "yes" : "no");
  munmap(p, PROBE_BYTES);
  return addr;
}

int main(int argc, char **argv)
{
  if (argc != 2 || (strcmp(argv[1], "47") != 0 && strcmp(argv[1], "48") != 0)) {
    fprintf(stderr, "usage: highmap 47|48\n");
    return 2;
  }
  unsigned bits = (unsigned)atoi(argv[1]);
  uintptr_t plain = map_probe("plain", NULL, bits);
  if (bits == 47)
    return plain >> 47 ? 0 : 1;
  /* 52-bit VA: plain mappings stay in the 48-bit window, hinted ones may not. */
  uintptr_t high = map_probe("hint-2^50", (void *)((uintptr_t)1 << 50), bits);
  int plain_low = plain != 0 && (plain >> 48) == 0;
  return plain_low && (high >> 48) ? 0 : 1;
}
