/*
** rcl_test.h: test hooks of the reclaiming allocator.
**
** Compiled only with -DRCL_TEST_HOOKS (the unit, stress, fuzz and
** many-states tests; -DRCL_FAULT_INJECTION implies it): production builds,
** LuaJIT's included, have none of these functions. Like rcl.h, every
** function is static with RCL_EMBED.
*/
#ifndef RCL_TEST_H
#define RCL_TEST_H

#include "rcl.h"

/* System calls whose failure can be injected. */
enum { RCL_FAULT_MMAP, RCL_FAULT_MADVISE, RCL_FAULT_MUNMAP, RCL_FAULT_MREMAP, RCL_FAULT__MAX };

/* Mappings must end below limit (process-wide); 0 restores 2^47. */
RCL_API void rcl_test_set_addr_limit(uint64_t limit);
/* 0: map without address hints (the kernel chooses), 1: with (default). */
RCL_API void rcl_test_set_hints(int enabled);
/* Calls nth .. nth+count-1 of `kind`, counted from now, fail; 0 disarms.
** -1 unless built with RCL_FAULT_INJECTION. */
RCL_API int rcl_test_fault(int kind, uint64_t nth, uint64_t count);
/* Each later call of `kind` fails with probability per_million / 10^6
** (0 disarms); -1 unless RCL_FAULT_INJECTION. */
RCL_API int rcl_test_fault_rate(int kind, uint32_t per_million, uint64_t seed);
/* Failures injected so far, process-wide (0 without RCL_FAULT_INJECTION). */
RCL_API uint64_t rcl_test_fault_injected(int kind);
/* Verify every invariant of h (rcl_check.c); 0 if all hold, else -1 with
** the first broken one described in err. Takes the heap lock. */
RCL_API int rcl_test_check(rcl_heap *h, char *err, size_t errlen);
/* 1 while the background thread exists. */
RCL_API int rcl_test_background_running(void);

#endif
