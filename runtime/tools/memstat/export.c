/*
** export.c: luajit-memstat's machine output: JSON (one document per sample
** on one line; schema in luajit-memstat(1) and tests/memstat/schema.json)
** and the Prometheus text format (node_exporter's textfile collector).
**
** Invariants: figures are bytes (or counts, or ms where named), never
** rounded; a figure that was not read is JSON null and has no Prometheus
** sample. Prometheus: every family has one HELP and one TYPE line before
** its samples and appears once per sample; the per-heap families are
** luajit_reclaim_<name> for each row of RCL_REGISTRY_FIGURES, labelled pid
** and heap; the process families are luajit_reclaim_process_*, labelled
** pid.
*/
#define _GNU_SOURCE
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "memstat.h"

/* -- JSON ----------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
    else if (c == '\n') fputs("\\n", f);
    else if (c == '\t') fputs("\\t", f);
    else if (c < 0x20 || c == 0x7f) fprintf(f, "\\u%04x", c);
    else fputc(c, f);
  }
  fputc('"', f);
}

/* Text from /proc may hold bytes that are not UTF-8: keep ASCII only. */
static void json_text(FILE *f, const char *s)
{
  char buf[MS_TEXT * 2];
  size_t i, n = 0;
  for (i = 0; s[i] && n < sizeof(buf) - 1; i++)
    buf[n++] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
  buf[n] = '\0';
  json_str(f, buf);
}

static void json_key(FILE *f, int *first, const char *k)
{
  if (!*first) fputc(',', f);
  *first = 0;
  json_str(f, k);
  fputc(':', f);
}

static void json_u64(FILE *f, int *first, const char *k, int have, uint64_t v)
{
  json_key(f, first, k);
  if (have) fprintf(f, "%" PRIu64, v);
  else fputs("null", f);
}

static void json_strval(FILE *f, int *first, const char *k, const char *v)
{
  json_key(f, first, k);
  if (v) json_text(f, v);
  else fputs("null", f);
}

static void json_ratio(FILE *f, int *first, uint64_t in_use, uint64_t resident)
{
  json_key(f, first, "fragmentation");
  fprintf(f, "%.6f", resident ? 1.0 - (double)in_use / (double)resident : 0.0);
}

static void json_registry(FILE *f, const ms_registry *r)
{
  int first = 1;
  char addr[32];
  snprintf(addr, sizeof(addr), "0x%" PRIx64, r->addr);
  fputc('{', f);
  json_strval(f, &first, "address", addr);
  json_u64(f, &first, "size", 1, r->len);
  json_key(f, &first, "ok");
  fputs(r->ok ? "true" : "false", f);
  json_strval(f, &first, "error", r->ok ? NULL : r->error);
  json_u64(f, &first, "version", r->ok, r->hdr.version);
  json_strval(f, &first, "lib_version", r->ok ? r->hdr.lib_version : NULL);
  json_u64(f, &first, "page_size", r->ok, r->hdr.page_size);
  json_u64(f, &first, "nslots", r->ok, r->hdr.nslots);
  json_u64(f, &first, "heaps_created", r->ok, r->hdr.heaps_created);
  json_u64(f, &first, "heaps_destroyed", r->ok, r->hdr.heaps_destroyed);
  json_u64(f, &first, "heaps_unlisted", r->ok, r->hdr.heaps_unlisted);
  fputc('}', f);
}

static void json_heap(FILE *f, const ms_heap *h)
{
  int first = 1;
  char id[32];
  snprintf(id, sizeof(id), "0x%" PRIx64, h->s.heap);
  fputc('{', f);
  json_u64(f, &first, "registry", 1, (uint64_t)h->reg);
  json_u64(f, &first, "slot", 1, (uint64_t)h->slot);
  json_strval(f, &first, "heap", id);
  json_key(f, &first, "busy");
  fputs(h->busy ? "true" : "false", f);
  if (!h->busy) {
    json_u64(f, &first, "created_ms", 1, h->s.created_ms);
    json_u64(f, &first, "published_ms", 1, h->s.published_ms);
    json_u64(f, &first, "walked_ms", 1, h->s.walked_ms);
    json_u64(f, &first, "publishes", 1, h->s.publishes);
    json_u64(f, &first, "decay_ms", 1, h->s.decay_ms);
    json_strval(f, &first, "mode", ms_mode_name(h->s.mode));
    json_key(f, &first, "background");
    fputs(h->s.background ? "true" : "false", f);
#define MS_J(name, metric, type, help) json_u64(f, &first, #name, 1, h->s.name);
    RCL_REGISTRY_FIGURES(MS_J)
#undef MS_J
    json_ratio(f, &first, h->s.in_use, h->s.resident);
  }
  fputc('}', f);
}

static void json_proc(FILE *f, const ms_proc *p)
{
  int first = 1, sub, i;
  fputc('{', f);
  json_u64(f, &first, "pid", 1, (uint64_t)p->pid);
  json_u64(f, &first, "ppid", 1, (uint64_t)p->ppid);
  json_strval(f, &first, "comm", p->comm);
  json_strval(f, &first, "cmdline", p->cmdline);
  json_strval(f, &first, "exe", p->exe[0] ? p->exe : NULL);
  json_key(f, &first, "status");
  sub = 1;
  fputc('{', f);
#define MS_J(name, key, prom, help) json_u64(f, &sub, #name, MS_HAVE_ST(p, name), p->st.name);
  MS_STATUS_FIGURES(MS_J)
  fputc('}', f);
  json_key(f, &first, "smaps_rollup");
  if (!p->have_rollup) {
    fputs("null", f);
  } else {
    sub = 1;
    fputc('{', f);
#undef MS_J
#define MS_J(name, key, prom, help) json_u64(f, &sub, #name, MS_HAVE_RO(p, name), p->ro.name);
    MS_ROLLUP_FIGURES(MS_J)
#undef MS_J
    fputc('}', f);
  }
  json_strval(f, &first, "luajit_library", p->luajit_lib[0] ? p->luajit_lib : NULL);
  json_key(f, &first, "registries");
  fputc('[', f);
  for (i = 0; i < p->nregs; i++) {
    if (i) fputc(',', f);
    json_registry(f, &p->regs[i]);
  }
  fputc(']', f);
  json_key(f, &first, "heaps");
  fputc('[', f);
  for (i = 0; i < p->nheaps; i++) {
    if (i) fputc(',', f);
    json_heap(f, &p->heaps[i]);
  }
  fputc(']', f);
  json_key(f, &first, "heap_total");
  if (!p->nheaps) {
    fputs("null", f);
  } else {
    sub = 1;
    fputc('{', f);
    json_u64(f, &sub, "heaps", 1, (uint64_t)p->sum.heaps);
    json_u64(f, &sub, "busy", 1, (uint64_t)p->sum.busy);
#define MS_J(name, metric, type, help) if (strcmp(#name, "soft_limit") != 0) json_u64(f, &sub, #name, 1, p->sum.name);
    RCL_REGISTRY_FIGURES(MS_J)
#undef MS_J
    json_ratio(f, &sub, p->sum.in_use, p->sum.resident);
    fputc('}', f);
  }
  json_u64(f, &first, "rest_of_rss", p->have_rest, p->rest_rss);
  json_key(f, &first, "cgroup");
  if (!p->cg.version) {
    fputs("null", f);
  } else {
    sub = 1;
    fputc('{', f);
    json_u64(f, &sub, "version", 1, (uint64_t)p->cg.version);
    json_strval(f, &sub, "path", p->cg.path);
    json_strval(f, &sub, "limit_path", p->cg.limit_path);
    json_u64(f, &sub, "limit", 1, p->cg.limit);
    json_u64(f, &sub, "usage", 1, p->cg.usage);
    json_u64(f, &sub, "headroom", 1, p->cg.headroom);
    fputc('}', f);
  }
  json_key(f, &first, "diagnosis");
  sub = 1;
  fputc('{', f);
  json_strval(f, &sub, "rule", p->rule);
  json_strval(f, &sub, "text", p->diagnosis);
  fputs("}}", f);
}

void ms_print_json(FILE *f, const ms_sample *s)
{
  int first = 1, i;
  fputc('{', f);
  json_strval(f, &first, "schema", "luajit-memstat/1");
  json_strval(f, &first, "tool_version", MEMSTAT_VERSION);
  json_u64(f, &first, "registry_version", 1, RCL_REGISTRY_VERSION);
  json_key(f, &first, "time");
  fprintf(f, "%.3f", s->unix_time);
  json_u64(f, &first, "monotonic_ms", 1, s->now_ms);
  json_key(f, &first, "processes");
  fputc('[', f);
  for (i = 0; i < s->nprocs; i++) {
    if (i) fputc(',', f);
    json_proc(f, &s->procs[i]);
  }
  fputc(']', f);
  json_key(f, &first, "errors");
  fputc('[', f);
  for (i = 0; i < s->nerrors; i++) {
    int sub = 1;
    if (i) fputc(',', f);
    fputc('{', f);
    json_u64(f, &sub, "pid", 1, (uint64_t)s->errors[i].pid);
    json_strval(f, &sub, "error", s->errors[i].text);
    fputc('}', f);
  }
  fputc(']', f);
  json_u64(f, &first, "uninspected", 1, (uint64_t)s->uninspected);
  fputs("}\n", f);
}

/* -- Prometheus ----------------------------------------------------------- */

/* Lifetime totals of a heap (reset only when the heap is created). */
static void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
  fprintf(f, "# HELP %s ", name);
  for (; *help; help++) {  /* HELP escapes only backslash and newline. */
    if (*help == '\\') fputs("\\\\", f);
    else if (*help == '\n') fputs("\\n", f);
    else fputc(*help, f);
  }
  fprintf(f, "\n# TYPE %s %s\n", name, type);
}

static void prom_label(FILE *f, const char *name, const char *v, int first)
{
  fprintf(f, "%s%s=\"", first ? "" : ",", name);
  for (; *v; v++) {
    if (*v == '\\' || *v == '"') fputc('\\', f);
    if (*v == '\n') fputs("\\n", f);
    else fputc(*v, f);
  }
  fputc('"', f);
}

static void prom_heap_family(FILE *f, const ms_sample *s, const char *name,
                             const char *type, const char *help, size_t off)
{
  char full[128];
  int i, j;
  snprintf(full, sizeof(full), "luajit_reclaim_%s", name);
  prom_family(f, full, type, help);
  for (i = 0; i < s->nprocs; i++) {
    const ms_proc *p = &s->procs[i];
    for (j = 0; j < p->nheaps; j++) {
      const ms_heap *h = &p->heaps[j];
      uint64_t v;
      if (h->busy) continue;
      memcpy(&v, (const char *)&h->s + off, sizeof(v));
      fprintf(f, "%s{pid=\"%d\",heap=\"0x%" PRIx64 "\"} %" PRIu64 "\n", full, p->pid,
              h->s.heap, v);
    }
  }
}

/* A process family: one sample per process that has the figure. */
#define MS_PROM_PROC(f, s, name, help, have, value) do { \
    int i_; \
    prom_family(f, name, "gauge", help); \
    for (i_ = 0; i_ < (s)->nprocs; i_++) { \
      const ms_proc *p = &(s)->procs[i_]; \
      if (have) fprintf(f, "%s{pid=\"%d\"} %" PRIu64 "\n", name, p->pid, (uint64_t)(value)); \
    } \
  } while (0)

void ms_print_prometheus(FILE *f, const ms_sample *s)
{
  int i;
#define MS_P(name, metric, type, help) \
  prom_heap_family(f, s, metric, type, help, offsetof(rcl_registry_slot, name));
  RCL_REGISTRY_FIGURES(MS_P)
#undef MS_P
#define MS_P(name, key, prom, help) \
  MS_PROM_PROC(f, s, "luajit_reclaim_process_" prom "_bytes", help, \
               MS_HAVE_ST(p, name), p->st.name);
  MS_STATUS_FIGURES(MS_P)
#undef MS_P
#define MS_P(name, key, prom, help) \
  MS_PROM_PROC(f, s, "luajit_reclaim_process_" prom "_bytes", help, \
               MS_HAVE_RO(p, name), p->ro.name);
  MS_ROLLUP_FIGURES(MS_P)
#undef MS_P
  MS_PROM_PROC(f, s, "luajit_reclaim_process_heaps", "Lua heaps of the process "
               "read from its registry", p->nregs, p->sum.heaps);
  MS_PROM_PROC(f, s, "luajit_reclaim_process_heaps_busy", "Lua heaps being written "
               "at every read (no figures this sample)", p->nregs, p->sum.busy);
  MS_PROM_PROC(f, s, "luajit_reclaim_process_rest_rss_bytes", "VmRSS minus the "
               "resident bytes of the Lua heaps (not below 0)", p->have_rest, p->rest_rss);
  MS_PROM_PROC(f, s, "luajit_reclaim_process_cgroup_limit_bytes", "the binding "
               "memory cgroup limit (memory.max or memory.limit_in_bytes)",
               p->cg.version, p->cg.limit);
  MS_PROM_PROC(f, s, "luajit_reclaim_process_cgroup_usage_bytes", "usage of the "
               "cgroup holding the binding limit", p->cg.version, p->cg.usage);
  MS_PROM_PROC(f, s, "luajit_reclaim_process_cgroup_headroom_bytes", "cgroup limit "
               "minus usage (not below 0)", p->cg.version, p->cg.headroom);
  prom_family(f, "luajit_reclaim_process_info", "gauge", "1 for each process shown; "
              "version is the allocator's (empty without a readable registry)");
  for (i = 0; i < s->nprocs; i++) {
    const ms_proc *p = &s->procs[i];
    char pid[16];
    int j;
    const char *version = "";
    for (j = 0; j < p->nregs; j++)
      if (p->regs[j].ok) { version = p->regs[j].hdr.lib_version; break; }
    snprintf(pid, sizeof(pid), "%d", p->pid);
    fputs("luajit_reclaim_process_info{", f);
    prom_label(f, "pid", pid, 1);
    prom_label(f, "comm", p->comm, 0);
    prom_label(f, "version", version, 0);
    fputs("} 1\n", f);
  }
  prom_family(f, "luajit_reclaim_process_diagnosis", "gauge", "1 for the diagnosis "
              "rule that luajit-memstat chose (luajit-memstat(1), DIAGNOSIS)");
  for (i = 0; i < s->nprocs; i++)
    fprintf(f, "luajit_reclaim_process_diagnosis{pid=\"%d\",rule=\"%s\"} 1\n",
            s->procs[i].pid, s->procs[i].rule);
  prom_family(f, "luajit_reclaim_memstat_read_errors", "gauge", "PIDs that "
              "luajit-memstat could not read in this sample");
  fprintf(f, "luajit_reclaim_memstat_read_errors %d\n", s->nerrors);
}
