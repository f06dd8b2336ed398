/*
** memstat.h: luajit-memstat's shared types: one sample of one process's
** memory, read from outside (/proc, cgroup files, and the heap registry of
** runtime/reclaim/rcl_registry.h), and the entry points of each file.
**
**   proc.c      /proc and cgroup files: stat, status, smaps_rollup, maps,
**               cmdline, exe; process lists (children, --all)
**   registry.c  the heap registry: copying it (process_vm_readv), checking
**               its header, slot snapshots under the sequence lock, sums
**   diagnose.c  the one-line diagnosis and the rules that choose it
**   table.c     human output (table) and the CSV record
**   export.c    JSON and Prometheus text
**   main.c      options, the sample loop, exit status
**
** Units: every figure is bytes unless its name says otherwise; times are
** CLOCK_MONOTONIC milliseconds like the registry's.
*/
#ifndef MEMSTAT_H
#define MEMSTAT_H

#include <stdint.h>
#include <stdio.h>

#include "rcl_registry.h"

#ifndef MEMSTAT_VERSION
#error "build with -DMEMSTAT_VERSION=\"x.y.z\" (runtime/version.mk)"
#endif

/* /proc/PID/status lines in kB: X(field, key, prometheus name, help). */
#define MS_STATUS_FIGURES(X) \
  X(vm_rss, "VmRSS", "rss", "resident set size (VmRSS in /proc/PID/status)") \
  X(rss_anon, "RssAnon", "rss_anon", "resident anonymous memory (RssAnon)") \
  X(rss_file, "RssFile", "rss_file", "resident file mappings (RssFile)") \
  X(rss_shmem, "RssShmem", "rss_shmem", "resident shared memory: shm, shared anonymous, tmpfs (RssShmem)") \
  X(vm_hwm, "VmHWM", "rss_peak", "peak resident set size (VmHWM)") \
  X(vm_swap, "VmSwap", "swap", "anonymous memory swapped out (VmSwap)")

/* /proc/PID/smaps_rollup lines in kB, same columns. */
#define MS_ROLLUP_FIGURES(X) \
  X(rss, "Rss", "smaps_rss", "resident memory, summed over mappings (smaps_rollup Rss)") \
  X(pss, "Pss", "pss", "proportional set size: shared pages divided among their users (Pss)") \
  X(pss_anon, "Pss_Anon", "pss_anon", "proportional share of anonymous memory (Pss_Anon)") \
  X(pss_file, "Pss_File", "pss_file", "proportional share of file mappings (Pss_File)") \
  X(pss_shmem, "Pss_Shmem", "pss_shmem", "proportional share of shared memory (Pss_Shmem)") \
  X(shared_clean, "Shared_Clean", "shared_clean", "resident clean pages also mapped by others (Shared_Clean)") \
  X(shared_dirty, "Shared_Dirty", "shared_dirty", "resident dirty pages also mapped by others (Shared_Dirty)") \
  X(private_clean, "Private_Clean", "private_clean", "resident clean pages of this process only (Private_Clean)") \
  X(private_dirty, "Private_Dirty", "private_dirty", "resident dirty pages of this process only (Private_Dirty)") \
  X(anonymous, "Anonymous", "anonymous", "resident anonymous pages (Anonymous)") \
  X(lazyfree, "LazyFree", "lazyfree", "pages given up with MADV_FREE, still counted in RSS until reclaimed (LazyFree)") \
  X(anon_huge_pages, "AnonHugePages", "anon_huge_pages", "anonymous transparent huge pages (AnonHugePages)") \
  X(swap, "Swap", "smaps_swap", "swapped-out memory, summed over mappings (smaps_rollup Swap)") \
  X(swap_pss, "SwapPss", "swap_pss", "proportional share of swapped-out memory (SwapPss)")

#define MS_FIELD(name, key, prom, help) uint64_t name;
typedef struct ms_status { MS_STATUS_FIGURES(MS_FIELD) } ms_status;
typedef struct ms_rollup { MS_ROLLUP_FIGURES(MS_FIELD) } ms_rollup;
#undef MS_FIELD

/* Indexes into the X-lists; bit i of a `have` mask: figure i was read. */
#define MS_IDX_ST(name, key, prom, help) MS_ST_##name,
#define MS_IDX_RO(name, key, prom, help) MS_RO_##name,
enum { MS_STATUS_FIGURES(MS_IDX_ST) MS_STATUS_N };
enum { MS_ROLLUP_FIGURES(MS_IDX_RO) MS_ROLLUP_N };
#undef MS_IDX_ST
#undef MS_IDX_RO
#define MS_HAVE_ST(p, name) (((p)->have_status >> MS_ST_##name) & 1)
#define MS_HAVE_RO(p, name) (((p)->have_rollup >> MS_RO_##name) & 1)

#define MS_MAX_REGISTRIES 4     /* registry mappings listed per process */
#define MS_TEXT 256             /* names, paths and command lines */
#define MS_ERRLEN 640           /* error and diagnosis texts */

/* One registry mapping of a process and what was read from it. */
typedef struct ms_registry {
  uint64_t addr, len;           /* the mapping, from /proc/PID/maps */
  int ok;                       /* header valid and slots read */
  char error[MS_ERRLEN];        /* why not, when !ok */
  rcl_registry_header hdr;
} ms_registry;

/* One live heap (slot) of a registry. */
typedef struct ms_heap {
  int reg;                      /* index into ms_proc.regs */
  int slot;
  int busy;                     /* being written at every read: no figures */
  rcl_registry_slot s;          /* a stable copy when !busy */
} ms_heap;

/* Sums over the readable heaps of one process. */
typedef struct ms_heapsum {
#define MS_SUMFIELD(name, metric, type, help) uint64_t name;
  RCL_REGISTRY_FIGURES(MS_SUMFIELD)
#undef MS_SUMFIELD
  int heaps, busy;
} ms_heapsum;

/* The memory cgroup whose limit binds the process (the least headroom
** among its cgroup and their ancestors that have a limit). */
typedef struct ms_cgroup {
  int version;                  /* 1 or 2; 0: no memory cgroup limit found */
  char path[MS_TEXT];           /* the process's cgroup (as in /proc/PID/cgroup) */
  char limit_path[MS_TEXT];     /* the cgroup that holds the binding limit */
  uint64_t limit, usage, headroom;  /* headroom = limit - usage, not below 0 */
} ms_cgroup;

/* One process in one sample. */
typedef struct ms_proc {
  int pid, ppid;
  char comm[64];
  char cmdline[MS_TEXT];
  char exe[MS_TEXT];            /* "" if unreadable */
  uint32_t have_status, have_rollup;  /* bit masks, see MS_*_N */
  ms_status st;
  ms_rollup ro;
  char luajit_lib[MS_TEXT];     /* a mapped libluajit-5.1.so*, "" if none */
  int nregs;
  ms_registry regs[MS_MAX_REGISTRIES];
  int nheaps;
  ms_heap *heaps;               /* malloc'd, nheaps entries */
  ms_heapsum sum;
  int have_rest;
  uint64_t rest_rss;            /* VmRSS - sum of heap resident, not below 0 */
  ms_cgroup cg;
  const char *rule;             /* diagnosis rule name (diagnose.c) */
  char diagnosis[MS_ERRLEN];
} ms_proc;

/* An error about one PID: the process is not shown, or shown in part. */
typedef struct ms_error {
  int pid;
  char text[MS_ERRLEN];
} ms_error;

/* One sample: the processes read and the PIDs that could not be. */
typedef struct ms_sample {
  double unix_time;             /* wall clock, seconds */
  uint64_t now_ms;              /* CLOCK_MONOTONIC ms at the sample */
  int nprocs, nerrors;
  ms_proc *procs;
  ms_error *errors;
  int uninspected;              /* --all: processes whose maps were unreadable */
} ms_sample;

/* proc.c */
int ms_proc_read(ms_proc *p, int pid, char *err, size_t errlen);
int ms_pid_exists(int pid);
int ms_children(int ppid, int **pids);             /* count, or -1 */
int ms_registry_pids(int **pids, int *uninspected); /* --all: count, or -1 */
void ms_access_hint(char *buf, size_t len);        /* what reading needs */
uint64_t ms_now_ms(void);

/* registry.c */
int ms_registry_read(ms_proc *p);   /* 0: all registries read; -1: errors set */
const char *ms_mode_name(uint64_t mode);

/* diagnose.c */
void ms_diagnose(ms_proc *p, uint64_t now_ms);
#define MS_IDLE_MS 5000   /* no GC cycle end published for this long: idle */

/* table.c */
void ms_fmt_bytes(char *buf, size_t len, uint64_t bytes);
void ms_print_table(FILE *f, const ms_sample *s);
int ms_record_csv(const char *path, const ms_sample *s, char *err, size_t errlen);

/* export.c */
void ms_print_json(FILE *f, const ms_sample *s);
void ms_print_prometheus(FILE *f, const ms_sample *s);

#endif
