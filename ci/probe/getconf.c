/* ci/probe/getconf.c: a tiny `getconf PAGESIZE` for the guests' initramfs
 * (Debian's busybox has no getconf applet). Tests compare the runtime's
 * page_size with what this prints.
 *
 * Usage: getconf PAGESIZE | PAGE_SIZE   prints sysconf(_SC_PAGESIZE).
 * Invariants: only PAGESIZE is supported; any other name exits 1 with a
 * message, as the real getconf does for unknown names.
 */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
  if (argc == 2 && (strcmp(argv[1], "PAGESIZE") == 0 ||
                    strcmp(argv[1], "PAGE_SIZE") == 0)) {
    printf("%ld\n", sysconf(_SC_PAGESIZE));
    return 0;
  }
  fprintf(stderr, "getconf: only PAGESIZE is supported here\n");
  return 1;
}
