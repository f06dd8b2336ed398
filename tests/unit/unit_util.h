/*
** unit_util.h: helpers shared by the CUnit suites of the reclaiming
** allocator: content patterns, RSS reading, child processes, invariant
** checks, and the suite registration functions of every test_*.c file.
*/
#ifndef UNIT_UTIL_H
#define UNIT_UTIL_H

#include "rcl_test.h"

#include <CUnit/CUnit.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Fill / verify a block with a pattern derived from tag (all bytes). */
void tu_fill(void *p, size_t n, uint64_t tag);
int tu_verify(const void *p, size_t n, uint64_t tag);   /* 1 if intact */

/* Resident set size of this process in bytes (/proc/self/statm). */
size_t tu_rss(void);

/* Run fn in a forked child with a timeout; returns the wait status
** (exit code in WEXITSTATUS) or -1 if it had to be killed. */
int tu_child(int (*fn)(void *), void *arg, unsigned timeout_s);

/* Sleep for ms milliseconds (nanosleep, restarted on EINTR). */
void tu_sleep_ms(unsigned ms);

/* Sleep for ms milliseconds, end a GC cycle and run GC steps enough to
** finish its reconciliation and purge pass (a test sleeps past its decay,
** or a few milliseconds at decay 0: a free stamped in the pass's own
** millisecond is not recorded as examined). */
void tu_cycle_and_pass(rcl_heap *h, unsigned sleep_ms);

/* Assert the heap invariants (rcl_test_check) and stats identities. */
#define TU_CHECK_HEAP(h) tu_check_heap((h), __FILE__, __LINE__)
void tu_check_heap(rcl_heap *h, const char *file, int line);

/* Suite registration: each returns 0 on success. */
int tu_register_class(void);
int tu_register_alloc(void);
int tu_register_purge(void);
int tu_register_os(void);
int tu_register_config(void);
int tu_register_bg(void);
int tu_register_harden(void);
int tu_register_registry(void);
int tu_register_cgroup(void);
int tu_register_mesh(void);
int tu_register_backing(void);
int tu_register_mesh_core(void);

#endif
