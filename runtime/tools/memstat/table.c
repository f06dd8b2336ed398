/*
** table.c: luajit-memstat's human output (one block per process, human
** units with one decimal) and the CSV record (--record: one row per process
** per sample, bytes, the header written once when the file is new).
**
** Invariants: the table prints only figures that were read (an absent
** figure is "-"); CSV columns are fixed by csv_header(), an existing file
** with another header is refused rather than appended to.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "memstat.h"

void ms_fmt_bytes(char *buf, size_t len, uint64_t bytes)
{
  static const char *const unit[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
  double v = (double)bytes;
  int u = -1;
  if (bytes < 1024) {
    snprintf(buf, len, "%" PRIu64 " B", bytes);
    return;
  }
  while (v >= 1024.0 && u < 4) { v /= 1024.0; u++; }
  /* 1023.96 KiB would print as "1024.0 KiB": show the next unit. */
  if (v >= 1023.95 && u < 4) { v /= 1024.0; u++; }
  snprintf(buf, len, "%.1f %s", v, unit[u]);
}

/* Rotating buffers so one printf can format several figures. */
static const char *hb(uint64_t bytes)
{
  static char ring[16][24];
  static int next;
  char *b = ring[next++ & 15];
  ms_fmt_bytes(b, sizeof(ring[0]), bytes);
  return b;
}

static const char *hb_if(int have, uint64_t bytes)
{
  return have ? hb(bytes) : "-";
}

static double frag(uint64_t in_use, uint64_t resident)
{
  return resident ? 1.0 - (double)in_use / (double)resident : 0.0;
}

static void print_ago(FILE *f, uint64_t now_ms, uint64_t t_ms)
{
  if (!t_ms) fprintf(f, "never");
  else if (t_ms > now_ms) fprintf(f, "now");
  else fprintf(f, "%.1f s ago", (double)(now_ms - t_ms) / 1000.0);
}

static void print_registries(FILE *f, const ms_proc *p)
{
  int i;
  for (i = 0; i < p->nregs; i++) {
    const ms_registry *r = &p->regs[i];
    if (r->ok)
      fprintf(f, "  registry     0x%" PRIx64 ": luajit-reclaim %s, version %u, page %s; "
              "heaps created %" PRIu64 ", destroyed %" PRIu64 ", unlisted %" PRIu64 "\n",
              r->addr, r->hdr.lib_version, r->hdr.version, hb(r->hdr.page_size),
              r->hdr.heaps_created, r->hdr.heaps_destroyed, r->hdr.heaps_unlisted);
    else
      fprintf(f, "  registry     0x%" PRIx64 ": unreadable: %s\n", r->addr, r->error);
  }
}

static void print_heaps(FILE *f, const ms_proc *p, uint64_t now_ms)
{
  const ms_heapsum *s = &p->sum;
  int i;
  uint64_t failed = s->madvise_failed + s->mmap_failed + s->munmap_failed + s->mremap_failed;
  if (!p->nheaps) {
    fprintf(f, "  Lua heaps    none listed\n");
    return;
  }
  fprintf(f, "  Lua heaps    resident %s in %d heap%s%s: in use %s, free dirty %s, "
          "metadata %s\n", hb(s->resident), s->heaps, s->heaps == 1 ? "" : "s",
          s->busy ? " (more busy)" : "", hb(s->in_use), hb(s->free_dirty), hb(s->metadata));
  fprintf(f, "               mapped %s, free clean %s, floor %s, fragmentation %.1f%%\n",
          hb(s->mapped), hb(s->free_clean), hb(s->floor),
          100.0 * frag(s->in_use, s->resident));
  fprintf(f, "               purged %s in %" PRIu64 " calls; failed calls: ",
          hb(s->purged_bytes), s->purge_calls);
  if (!failed)
    fprintf(f, "none\n");
  else
    fprintf(f, "madvise %" PRIu64 ", mmap %" PRIu64 ", munmap %" PRIu64 ", mremap %"
            PRIu64 "\n", s->madvise_failed, s->mmap_failed, s->munmap_failed,
            s->mremap_failed);
  if (p->have_rest)
    fprintf(f, "  rest of RSS  %s (VmRSS - heap resident: C libraries, the host program, "
            "JIT code, stacks)\n", hb(p->rest_rss));
  fprintf(f, "  %-18s %4s %10s %10s %10s %10s %10s %10s %10s %6s  %s\n", "heap", "slot",
          "resident", "in use", "free dirty", "free clean", "floor", "gc total",
          "gc live", "frag", "walked");
  for (i = 0; i < p->nheaps; i++) {
    const ms_heap *h = &p->heaps[i];
    fprintf(f, "  0x%-16" PRIx64 " %4d ", h->s.heap, h->slot);
    if (h->busy) {
      fprintf(f, "busy: being written at every read\n");
      continue;
    }
    fprintf(f, "%10s %10s %10s %10s %10s %10s %10s %5.1f%%  ", hb(h->s.resident),
            hb(h->s.in_use), hb(h->s.free_dirty), hb(h->s.free_clean), hb(h->s.floor),
            hb(h->s.gc_total), hb(h->s.gc_estimate),
            100.0 * frag(h->s.in_use, h->s.resident));
    print_ago(f, now_ms, h->s.walked_ms);   /* the age of the walked figures */
    fprintf(f, "\n");
  }
}

static void print_proc(FILE *f, const ms_proc *p, uint64_t now_ms)
{
  const ms_status *st = &p->st;
  fprintf(f, "PID %d  %s", p->pid, p->comm);
  if (p->cmdline[0]) fprintf(f, "  (%s)", p->cmdline);
  fprintf(f, "\n");
  fprintf(f, "  RSS          %s = anon %s + file %s + shmem %s; peak %s, swap %s\n",
          hb_if(MS_HAVE_ST(p, vm_rss), st->vm_rss), hb_if(MS_HAVE_ST(p, rss_anon), st->rss_anon),
          hb_if(MS_HAVE_ST(p, rss_file), st->rss_file),
          hb_if(MS_HAVE_ST(p, rss_shmem), st->rss_shmem),
          hb_if(MS_HAVE_ST(p, vm_hwm), st->vm_hwm), hb_if(MS_HAVE_ST(p, vm_swap), st->vm_swap));
  if (p->have_rollup)
    fprintf(f, "  smaps_rollup PSS %s (anon %s, file %s, shmem %s), private dirty %s, "
            "lazyfree %s, swap %s\n", hb_if(MS_HAVE_RO(p, pss), p->ro.pss),
            hb_if(MS_HAVE_RO(p, pss_anon), p->ro.pss_anon),
            hb_if(MS_HAVE_RO(p, pss_file), p->ro.pss_file),
            hb_if(MS_HAVE_RO(p, pss_shmem), p->ro.pss_shmem),
            hb_if(MS_HAVE_RO(p, private_dirty), p->ro.private_dirty),
            hb_if(MS_HAVE_RO(p, lazyfree), p->ro.lazyfree), hb_if(MS_HAVE_RO(p, swap), p->ro.swap));
  if (p->nregs) {
    print_registries(f, p);
    print_heaps(f, p, now_ms);
  } else {
    fprintf(f, "  LuaJIT       %s\n", p->luajit_lib[0] ? p->luajit_lib : "no libluajit-5.1.so mapped");
  }
  if (p->cg.version)
    fprintf(f, "  cgroup v%d    limit %s (%s), usage %s, headroom %s\n", p->cg.version,
            hb(p->cg.limit), p->cg.limit_path, hb(p->cg.usage), hb(p->cg.headroom));
  fprintf(f, "  diagnosis    %s\n", p->diagnosis);
}

void ms_print_table(FILE *f, const ms_sample *s)
{
  int i;
  for (i = 0; i < s->nprocs; i++) {
    if (i) fprintf(f, "\n");
    print_proc(f, &s->procs[i], s->now_ms);
  }
  if (!s->nprocs && !s->nerrors)
    fprintf(f, "no process to show\n");
}

/* -- CSV ------------------------------------------------------------------ */

static void csv_header(FILE *f)
{
  fprintf(f, "time,pid,comm");
#define MS_COL(name, key, prom, help) fprintf(f, ",%s", #name);
  MS_STATUS_FIGURES(MS_COL)
  MS_ROLLUP_FIGURES(MS_COL)
#undef MS_COL
  fprintf(f, ",heaps,heaps_busy");
#define MS_COL(name, metric, type, help) if (strcmp(#name, "soft_limit") != 0) fprintf(f, ",%s", #name);
  RCL_REGISTRY_FIGURES(MS_COL)
#undef MS_COL
  fprintf(f, ",fragmentation,rest_rss,cgroup_limit,cgroup_usage,cgroup_headroom,"
          "diagnosis_rule\n");
}

static void csv_text(FILE *f, const char *t)
{
  fputc('"', f);
  for (; *t; t++) {
    if (*t == '"') fputc('"', f);
    fputc(*t, f);
  }
  fputc('"', f);
}

static void csv_num(FILE *f, int have, uint64_t v)
{
  if (have) fprintf(f, ",%" PRIu64, v);
  else fputc(',', f);
}

static void csv_row(FILE *f, double t, const ms_proc *p)
{
  const int heaps = p->sum.heaps > 0;
  int i = 0;
  fprintf(f, "%.3f,%d,", t, p->pid);
  csv_text(f, p->comm);
#define MS_COL(name, key, prom, help) csv_num(f, (p->have_status >> i++) & 1, p->st.name);
  MS_STATUS_FIGURES(MS_COL)
#undef MS_COL
  i = 0;
#define MS_COL(name, key, prom, help) csv_num(f, (p->have_rollup >> i++) & 1, p->ro.name);
  MS_ROLLUP_FIGURES(MS_COL)
#undef MS_COL
  fprintf(f, ",%d,%d", p->sum.heaps, p->sum.busy);
#define MS_COL(name, metric, type, help) if (strcmp(#name, "soft_limit") != 0) csv_num(f, heaps, p->sum.name);
  RCL_REGISTRY_FIGURES(MS_COL)
#undef MS_COL
  if (heaps) fprintf(f, ",%.4f", frag(p->sum.in_use, p->sum.resident));
  else fputc(',', f);
  csv_num(f, p->have_rest, p->rest_rss);
  csv_num(f, p->cg.version, p->cg.limit);
  csv_num(f, p->cg.version, p->cg.usage);
  csv_num(f, p->cg.version, p->cg.headroom);
  fprintf(f, ",%s\n", p->rule);
}

int ms_record_csv(const char *path, const ms_sample *s, char *err, size_t errlen)
{
  char want[4096], first[4096] = "";
  FILE *f = fopen(path, "a+e"), *mem;
  int i;
  if (!f) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    return -1;
  }
  mem = fmemopen(want, sizeof(want), "w");
  if (!mem) {
    snprintf(err, errlen, "cannot format the CSV header: %s", strerror(errno));
    fclose(f);
    return -1;
  }
  csv_header(mem);
  fclose(mem);
  rewind(f);
  if (fgets(first, sizeof(first), f) && strcmp(first, want) != 0) {
    snprintf(err, errlen, "%s has other columns than this luajit-memstat writes "
             "(its first line is not our header): record into a new file", path);
    fclose(f);
    return -1;
  }
  fseek(f, 0, SEEK_END);  /* Also the switch from reading to writing. */
  if (!first[0]) fputs(want, f);
  for (i = 0; i < s->nprocs; i++) csv_row(f, s->unix_time, &s->procs[i]);
  if (fclose(f) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
    return -1;
  }
  return 0;
}
