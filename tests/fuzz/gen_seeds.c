/*
** gen_seeds.c: writes the seed corpora of the fuzz targets (no seed is
** committed as a file). Usage: gen_seeds DIR; writes DIR/heap/<name> (op
** sequences in the encoding of fuzz_ops.h) and DIR/config/<name> (config
** specs). Deterministic: the same source always writes the same bytes.
**
** Heap seeds: the regression cases (regress-*), the stress test's op mix
** (tests/unit/stress.c: decay 0, churn, a cycle-end pass of 50 steps and a
** purge at fixed intervals, the background thread on for the middle third),
** each size range on its own, the config knobs, and fault storms of every
** kind; each written twice, NAME-anon and NAME-file (the header byte picks
** the backing). Then seeds of the memory-file backing only: segments
** unmapped and their punched ranges reused, aliases (made, purged around,
** freed under, refused by the rules, under a backing fault storm), and a
** heap whose memfd_create fails. Then meshing seeds (header FZ_HDR_FILE,
** mostly with FZ_HDR_MESH): blocks of a few classes allocated in bulk and
** all but every 16th freed (scattered survivors, one or a few on a page),
** meshed by the MESH op and by purges, then freed and reallocated through
** meshed pages, purged again, under backing and mmap faults. A regression case is a function below
** named regress_* (or a hex string in fz_hex_cases for a crash file taken
** as is, header byte included); add it to the table in main.
*/
#include "fuzz_ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct seed { unsigned char b[1 << 16]; size_t n; } seed;

static void put(seed *s, unsigned v)
{
  if (s->n == sizeof(s->b)) { fprintf(stderr, "gen_seeds: seed too long\n"); exit(1); }
  s->b[s->n++] = (unsigned char)v;
}

static void put16(seed *s, unsigned v) { put(s, v & 0xff); put(s, (v >> 8) & 0xff); }
static void put24(seed *s, unsigned v) { put16(s, v & 0xffff); put(s, (v >> 16) & 0xff); }

/* Op byte (+ LEB128 repeat when rep != 1). */
static void op(seed *s, unsigned code, unsigned api, int flag, unsigned rep)
{
  put(s, code | FZ_API(api) | (flag ? FZ_FLAG : 0) | (rep != 1 ? FZ_REPEAT : 0));
  if (rep != 1) {
    do {
      put(s, (rep & 0x7f) | (rep > 0x7f ? 0x80 : 0));
      rep >>= 7;
    } while (rep);
  }
}

/* An exact size below 16 MiB. */
static void size_exact(seed *s, unsigned n) { put(s, FZ_SIZE_EXACT); put24(s, n); }

static void alloc(seed *s, unsigned api, unsigned rep, unsigned n) { op(s, FZ_OP_ALLOC, api, 0, rep); size_exact(s, n); }
static void freeb(seed *s, unsigned api, unsigned rep, unsigned sel) { op(s, FZ_OP_FREE, api, 0, rep); put(s, sel); }
static void realloc_to(seed *s, unsigned api, unsigned sel, unsigned n)
{
  op(s, FZ_OP_REALLOC, api, 0, 1);
  put(s, sel);
  size_exact(s, n);
}
static void resize(seed *s, unsigned api, unsigned rep, unsigned sel, int d)
{
  op(s, FZ_OP_RESIZE, api, 0, rep);
  put(s, sel);
  put16(s, (unsigned)(d & 0xffff));
}
static void config(seed *s, unsigned field, unsigned v) { op(s, FZ_OP_CONFIG, 0, 0, 1); put(s, field); put(s, v); }
static void fault(seed *s, unsigned kind, unsigned rate_index, unsigned seed8)
{
  op(s, FZ_OP_FAULT, 0, 0, 1);
  put(s, kind);
  put(s, rate_index);
  put(s, seed8);
}
static void churn(seed *s, unsigned rep, unsigned seed8) { op(s, FZ_OP_CHURN, 0, 0, rep); put(s, seed8); }
static void cycle(seed *s, unsigned steps) { op(s, FZ_OP_CYCLE, 0, 0, 1); put(s, steps); }
static void plain(seed *s, unsigned code) { op(s, code, 0, 0, 1); }
static void sleep_ms(seed *s, unsigned ms) { op(s, FZ_OP_SLEEP, 0, 0, 1); put(s, ms); }
/* Page kp of live block sa onto page kb of live block sb (rep: the next pages too). */
static void alias(seed *s, unsigned api, unsigned rep, unsigned sa, unsigned kp, unsigned sb, unsigned kb)
{
  op(s, FZ_OP_ALIAS, api, 0, rep);
  put(s, sa);
  put(s, kp);
  put(s, sb);
  put(s, kb);
}
static void unalias(seed *s, unsigned api, unsigned rep, unsigned sel)
{
  op(s, FZ_OP_ALIAS, api, 1, rep);
  put(s, sel);
}

/* MESH (under FZ_HDR_MESH): page of block sb (+ the next rep - 1 blocks) onto a page of
** a block of the same usable size found from slot sa; api 1/2: the page after/before it. */
static void mesh(seed *s, unsigned api, unsigned rep, unsigned sb, unsigned sa)
{
  op(s, FZ_OP_MESH, api, 0, rep);
  put(s, sb);
  put(s, sa);
}

/* THIN (under FZ_HDR_MESH): free all but about 1 in 2 << (seed8 & 3) live blocks. */
static void thin(seed *s, unsigned api, unsigned seed8) { op(s, FZ_OP_THIN, api, 0, 1); put(s, seed8); }

/* -- A model of the harness's slot array ------------------------------------------ */

/* Seeds that free chosen blocks mirror fz_remove_slot: freeing slot j moves
** the newest block into it. model_id[j] is the allocation number of the
** block in slot j. Only alloc_m and free_m may change the live set of a
** seed that uses them. */
#define MODEL_SLOTS 8192
static unsigned model_id[MODEL_SLOTS], model_n, model_next;

static void model_reset(void) { model_n = model_next = 0; }

static void alloc_m(seed *s, unsigned rep, unsigned n)
{
  unsigned i;
  alloc(s, 0, rep, n);
  for (i = 0; i < rep; i++) model_id[model_n++] = model_next++;
}

/* Free every live block whose allocation number doom() accepts, with FREE
** ops whose sel reaches it (the newest 128 slots first, then the oldest
** 128); runs of one sel become one repeated op. */
static void free_m(seed *s, int (*doom)(unsigned id))
{
  unsigned run_sel = 0, run = 0;
  for (;;) {
    unsigned d, j = 0, sel = 0;
    int found = 0;
    for (d = 0; d < 128 && d < model_n && !found; d++)
      if (doom(model_id[model_n - 1 - d])) { j = model_n - 1 - d; sel = 128 + d; found = 1; }
    for (d = 0; d < 128 && d < model_n && !found; d++)
      if (doom(model_id[d])) { j = d; sel = d; found = 1; }
    if (!found || (run && sel != run_sel)) {
      if (run) freeb(s, 0, run, run_sel);
      run = 0;
    }
    if (!found) break;
    run_sel = sel;
    run++;
    model_id[j] = model_id[--model_n];
  }
}

/* Survivors at offsets that differ from page to page: a hash of the
** allocation number picks them (id % 16 would keep one slot offset on
** every page, and such pages never mesh). */
static unsigned mix_id(unsigned id) { return (id * 2654435761u) >> 20; }
static int not_every_16th(unsigned id) { return mix_id(id) % 16 != 0; }
static int every_32nd(unsigned id) { return mix_id(id) % 32 == 1; }
static int any_block(unsigned id) { (void)id; return 1; }

/* -- Regression cases ------------------------------------------------------------ */

/* Fresh heap at 4 KiB pages: a 40000-byte single-block span, 22 spans of
** 16-byte blocks (4064 a span) taking the header pool, the single-block
** span freed, then a new span of another class finds no bitmap room
** ("internal error: no room for a span bitmap"). */
static void regress_span_bitmap_room(seed *s)
{
  alloc(s, 0, 1, 40000);
  alloc(s, 0, 22 * 4064, 16);
  freeb(s, 0, 1, 0);
  alloc(s, 0, 1, 64);
}

/* Crash files kept verbatim: { name, hex bytes }.
** filler-punch (check-fuzz in CI, 2026-12-05): with mesh=on, a cycle whose
** reconciliation runs in several slices punches a primary page that an
** empty filler maps (legal), and a later slice of the same op drops that
** filler; the harness must judge the punch by the heap's state then. */
static const char *const fz_hex_cases[][2] = {
  { "regress-filler-punch",
    "05080000808008064000008080080630000080800406e80300804006204e00810b80811681810d82810883810d848116"
    "85810d86810887810d8b811689810d8a81088b810d8c81168d81168e810d8f811690811691810d92810893810d948116"
    "95810d96810897810d98811699810d9a81089b810d9c81169d810d9e81089f810da08116a1810da28108a3810da48116"
    "a5810da68108a7810da88116a98116aa810dab8116ac8116ad810dae8116af8116b0810db18108b2810db38116b4810d"
    "b58108b6810db78116b8810db98108ba810dbb8116bc810dbd8108be810dbf8116c0810dc18108c2810dc38116c4810d"
    "c58108c6810dc78116c88116c9810dca8116cb8116cc810dcd8116ce8116cf810dd08108d1810dd28116d3810dd48108"
    "d5810dd68116d7810dd88108d9810dda8116db810ddc8108dd810dde8116df810de08108e1810de28116e3810de48108"
    "e5810de68116e78116e8810de98116ea8116eb810dec8108ed810dee8116ef810df08108f1810df28116f3810df48108"
    "f5810df68116f7810df88108f9810dfa8116fb010800058cf40307800206110030090007078cdc0b0812800605007000"
    "06a0bb0d05148102800407090000008cf40309048116ff01098116ff010a810dff010b8116ff010c8116ff010d810dff"
    "010f8108ff0110810dff01118116ff0112810dff01138108ff0114810dff01158116ff0116810dff01178108ff011881"
    "0dff01198116ff011a810dff011b8108ff011c810dff011d8116ff011e810dff011f8108ff0120810dff01218116ff01"
    "22810dff01238108ff0124810dff05008d14001e8d140a258d14142c8d141e318d14283a8d143241bd141e5abd142565"
    "bd142c70bd14337bbd143a86bd144191bd2800c8811405830a8c080004bd1e003cbd1e033dbd1e063e0528074b04" },
  { NULL, NULL }
};

/* -- Coverage seeds ------------------------------------------------------------------- */

static void stress_mix(seed *s, unsigned seed8, unsigned rounds)
{
  unsigned r;
  config(s, FZ_CFG_DECAY, 0);                        /* stress.c runs with decay 0 */
  for (r = 0; r < rounds; r++) {
    if (r == rounds / 3) config(s, FZ_CFG_BG_ON, 0); /* 1 ms interval */
    if (r == 2 * rounds / 3) config(s, FZ_CFG_BG_OFF, 0);
    churn(s, 2000, (seed8 + r) & 0xff);
    if (r % 5 == 4) plain(s, FZ_OP_PURGE);
    else cycle(s, 50);
  }
}

static void size_ranges(seed *s)
{
  static const unsigned sizes[] = { 1, 16, 48, 100, 256, 257, 1000, 1024, 3000, 4096, 10000, 32768 };
  unsigned i;
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
    alloc(s, i & 3, 300, sizes[i]);
    freeb(s, (i + 1) & 3, 150, 0);
  }
  plain(s, FZ_OP_PURGE);
  resize(s, 0, 100, 200, 40);
  resize(s, 1, 100, 10, -40);
  op(s, FZ_OP_FREE_ALL, 1, 1, 1);
  plain(s, FZ_OP_PURGE);
}

static void medium_and_large(seed *s)
{
  alloc(s, 0, 4, 40000);
  alloc(s, 1, 2, 300000);
  alloc(s, 2, 1, 1 << 20);
  realloc_to(s, 0, 0, 60000);                        /* medium grows */
  realloc_to(s, 1, 1, 35000);                        /* medium shrinks */
  alloc(s, 0, 1, (2 << 20) + 1);                     /* large */
  realloc_to(s, 0, 128, 6 << 20);                    /* mremap grows */
  realloc_to(s, 1, 128, (1 << 20) + 4096);           /* shrinks */
  realloc_to(s, 0, 128, 500000);                     /* large -> medium */
  realloc_to(s, 1, 128, 3 << 20);                    /* medium -> large */
  freeb(s, 0, 1, 128);                               /* kept mapping (decay 1000) */
  alloc(s, 0, 1, (5 << 19));                         /* reuses it */
  config(s, FZ_CFG_DECAY, 0);                        /* drops kept mappings */
  freeb(s, 0, 3, 0);
  cycle(s, 10);
  plain(s, FZ_OP_FULL_GC);
  op(s, FZ_OP_FREE_ALL, 0, 0, 1);
  plain(s, FZ_OP_PURGE);
}

static void knobs(seed *s)
{
  config(s, FZ_CFG_SOFT_LIMIT, 1);                   /* 256 KiB: every mapping purges first */
  churn(s, 3000, 7);
  config(s, FZ_CFG_STEP_BUDGET, 0);                  /* 1 byte */
  cycle(s, 200);
  config(s, FZ_CFG_MODE, 1);                         /* MADV_FREE */
  churn(s, 2000, 8);
  plain(s, FZ_OP_PURGE);
  config(s, FZ_CFG_MODE, 2);                         /* off */
  churn(s, 2000, 9);
  plain(s, FZ_OP_PURGE);
  config(s, FZ_CFG_FULL_GC, 0);
  plain(s, FZ_OP_FULL_GC);
  config(s, FZ_CFG_DECAY, 1);
  config(s, FZ_CFG_BG_ON, 0);
  churn(s, 1000, 10);
  sleep_ms(s, 3);
  op(s, FZ_OP_FREE_ALL, 0, 1, 1);
  sleep_ms(s, 3);
  config(s, FZ_CFG_DECAY, 7);                        /* 2^32 - 1 ms */
  churn(s, 500, 11);
  config(s, FZ_CFG_DEFAULTS, 0);
  plain(s, FZ_OP_PURGE);
}

/* kind: RCL_FAULT_* order (mmap, madvise, munmap, mremap, backing) or FZ_FAULT_ALL. */
static void storm(seed *s, unsigned kind, unsigned rate_index, unsigned seed8)
{
  config(s, FZ_CFG_DECAY, seed8 & 1 ? 5 : 0);
  churn(s, 500, seed8);
  alloc(s, 0, 2, (3 << 20) + 17);
  fault(s, kind, rate_index, seed8);
  churn(s, 1500, seed8 + 1);
  realloc_to(s, 1, 128, (7 << 20) + 5);
  alloc(s, 0, 1, 900000);
  cycle(s, 20);
  freeb(s, 0, 2, 128);
  plain(s, FZ_OP_PURGE);
  plain(s, FZ_OP_FULL_GC);
  fault(s, kind, 0, 0);                              /* disarm */
  churn(s, 500, seed8 + 2);
  plain(s, FZ_OP_PURGE);
}

/* Every mapping fails: allocations of every range return NULL, the heap
** stays usable. */
static void mmap_outage(seed *s)
{
  static const unsigned sizes[] = { 16, 5000, 32768, 40000, 1 << 20, (2 << 20) + 1 };
  unsigned i;
  alloc(s, 0, 10, 48);
  fault(s, 0, 7, 1);
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) alloc(s, i & 3, 3, sizes[i]);
  resize(s, 0, 1, 0, 30000);
  fault(s, 0, 0, 0);
  for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) alloc(s, i & 3, 1, sizes[i]);
}

/* -- Memory-file backing seeds (header FZ_HDR_FILE) --------------------------------- */

/* Segments filled with medium blocks, all freed and purged with decay 0
** (the segments are unmapped and their file ranges punched), then mapped
** again from the punched ranges, which must hold no data. */
static void file_segment_reuse(seed *s)
{
  unsigned r;
  config(s, FZ_CFG_DECAY, 0);
  for (r = 0; r < 3; r++) {
    alloc(s, 0, 200, 60000);                         /* ~12 MiB: several segments */
    alloc(s, 1, 300, 3000);
    freeb(s, 0, 150, 128);
    plain(s, FZ_OP_PURGE);
    op(s, FZ_OP_FREE_ALL, 0, r & 1, 1);
    plain(s, FZ_OP_PURGE);
    cycle(s, 20);
  }
}

/* Aliases between pages of medium blocks; purges around them (their
** neighbours are free), frees of aliased and target blocks (unaliased
** first), reallocs, explicit unaliases. */
static void file_aliases(seed *s)
{
  config(s, FZ_CFG_DECAY, 0);
  alloc(s, 0, 8, 40000);                             /* slots 0..7: 9 whole pages each */
  alloc(s, 0, 50, 5000);
  freeb(s, 0, 25, 130);                              /* free pages near the aliases */
  alias(s, 0, 4, 0, 0, 1, 0);                        /* block 0 pages 0-3 onto block 1 */
  alias(s, 0, 3, 2, 1, 1, 0);                        /* three pages onto one target */
  alias(s, 0, 1, 3, 2, 3, 5);                        /* within one block */
  plain(s, FZ_OP_PURGE);
  cycle(s, 30);
  plain(s, FZ_OP_FULL_GC);
  unalias(s, 0, 2, 0);
  realloc_to(s, 0, 0, 45000);                        /* aliased block reallocated */
  freeb(s, 0, 1, 1);                                 /* target block freed */
  alias(s, 0, 2, 4, 0, 5, 1);
  resize(s, 1, 1, 5, -20000);
  plain(s, FZ_OP_PURGE);
  op(s, FZ_OP_FREE_ALL, 0, 0, 1);
  plain(s, FZ_OP_PURGE);
}

/* Calls rcl_os_page_alias must refuse: misaligned, page == target, an
** alias onto an alias, an alias of an alias, a target made an alias, pages
** of a large (anonymous) block; unaliasing a page that is no alias. */
static void file_alias_rules(seed *s)
{
  alloc(s, 0, 4, 50000);
  alloc(s, 0, 1, (2 << 20) + 1);                     /* slot 4: large, anonymous */
  alias(s, 3, 1, 0, 0, 1, 0);                        /* misaligned */
  alias(s, 0, 1, 0, 0, 0, 0);                        /* page == target */
  alias(s, 0, 1, 0, 0, 1, 0);                        /* ok */
  alias(s, 0, 1, 0, 0, 2, 0);                        /* page already an alias */
  alias(s, 0, 1, 2, 0, 0, 0);                        /* target is an alias */
  alias(s, 0, 1, 1, 0, 2, 0);                        /* page is a target */
  alias(s, 0, 1, 4, 0, 2, 0);                        /* page in a large block */
  alias(s, 0, 1, 2, 0, 4, 3);                        /* target in a large block */
  unalias(s, 3, 1, 2);                               /* no alias there */
  unalias(s, 0, 1, 0);
  unalias(s, 0, 1, 0);                               /* none left */
}

/* Backing failures: segments fall back to anonymous memory, aliases and
** unaliases are refused, frees of aliased blocks retry the unalias. */
static void file_backing_storm(seed *s)
{
  unsigned r;
  config(s, FZ_CFG_DECAY, 0);
  alloc(s, 0, 6, 40000);
  fault(s, 4, 4, 9);                                 /* backing, 20% */
  for (r = 0; r < 4; r++) {
    churn(s, 800, 21 + r);
    alloc(s, 0, 3, 70000);
    alias(s, 0, 3, 128, 0, 129, 0);
    alias(s, 0, 2, 130, 1, 0, 2);
    plain(s, FZ_OP_PURGE);
    unalias(s, 0, 1, r);
    freeb(s, 0, 2, 128);
  }
  fault(s, 4, 7, 1);                                 /* every backing call fails */
  alloc(s, 0, 100, 60000);
  alias(s, 0, 2, 129, 0, 130, 0);
  op(s, FZ_OP_FREE_ALL, 0, 1, 1);
  fault(s, 4, 0, 0);
  churn(s, 500, 33);
  plain(s, FZ_OP_PURGE);
}

/* -- Meshing seeds (FZ_HDR_FILE: mesh=on; FZ_HDR_MESH: the MESH op) ------------- */

/* Scattered survivors of three classes (64 bytes: slots on a page grid;
** 48 and 1000 bytes: phases vary): about 1 block in 16 kept, the rest freed;
** a cycle end without steps flushes the class caches (a current span
** never meshes) and arms a mesh pass that the next steps run. */
static void mesh_scatter(seed *s)
{
  model_reset();
  config(s, FZ_CFG_DECAY, 0);
  alloc_m(s, 1024, 64);
  alloc_m(s, 1024, 48);
  alloc_m(s, 512, 1000);
  alloc_m(s, 64, 20000);
  free_m(s, not_every_16th);
  cycle(s, 0);                                       /* flushes the caches: no span is current */
}

/* MESH ops on the survivors (pairs by slot, then the neighbouring pages),
** frees and reallocs through meshed pages, purges (the mesher), more
** meshes, everything freed. */
static void file_mesh_ops(seed *s)
{
  unsigned k;
  mesh_scatter(s);
  for (k = 0; k < 6; k++) mesh(s, 0, 20, 10 * k, 30 + 7 * k);
  mesh(s, 1, 10, 128, 3);
  mesh(s, 2, 10, 140, 5);
  mesh(s, 0, 1, 0, 0);
  plain(s, FZ_OP_STEP);
  freeb(s, 0, 20, 5);                                /* frees through meshed pages (lazy) */
  resize(s, 0, 10, 140, 8);                          /* reallocs of blocks on meshed pages */
  resize(s, 1, 10, 20, -16);
  plain(s, FZ_OP_PURGE);                             /* reconciles, unmeshes emptied pages, meshes */
  for (k = 0; k < 4; k++) mesh(s, 0, 30, 3 * k, 60 + k);
  cycle(s, 40);                                      /* cycle end + steps: a paced mesh pass */
  freeb(s, 1, 30, 130);
  plain(s, FZ_OP_FULL_GC);
  op(s, FZ_OP_FREE_ALL, 0, 1, 1);
  plain(s, FZ_OP_PURGE);
}

/* Remeshing by the MESH op (variant 3): primaries made by MESH ops, then
** each of them with its secondaries onto another page, frees and reallocs
** through the moved secondaries, a purge (reconciliation, the mesher's own
** remeshing in its full pass), everything freed. */
static void file_remesh(seed *s)
{
  unsigned k;
  mesh_scatter(s);
  for (k = 0; k < 6; k++) mesh(s, 0, 20, 10 * k, 30 + 7 * k);
  for (k = 0; k < 6; k++) mesh(s, 3, 20, 30 + 7 * k, 90 + 11 * k);
  mesh(s, 3, 40, 0, 200);
  freeb(s, 0, 20, 5);                                /* frees through moved secondaries (lazy) */
  resize(s, 0, 10, 140, 8);
  plain(s, FZ_OP_PURGE);
  for (k = 0; k < 3; k++) mesh(s, 3, 30, 3 * k, 60 + k);
  cycle(s, 40);
  plain(s, FZ_OP_FULL_GC);
  op(s, FZ_OP_FREE_ALL, 0, 1, 1);
  plain(s, FZ_OP_PURGE);
}

/* The mesher alone (no MESH op; on the anonymous backing nothing meshes):
** purge after scattering, every 32nd survivor freed, cycle, purge,
** reallocs, purge, mesh=off (defaults) with meshed pages left, all freed. */
static void mesh_purge(seed *s)
{
  mesh_scatter(s);
  plain(s, FZ_OP_PURGE);
  free_m(s, every_32nd);
  cycle(s, 100);
  plain(s, FZ_OP_PURGE);
  resize(s, 0, 40, 200, 24);
  plain(s, FZ_OP_PURGE);
  config(s, FZ_CFG_DEFAULTS, 0);
  free_m(s, any_block);
  plain(s, FZ_OP_PURGE);
}

/* Meshing under faults: backing failures refuse aliases and unaliases
** (MESH ops fail), mmap failures refuse the mesh table's growth; mesh
** turned off and on by CONFIG with the flag. Backing faults are off
** during purges: the mesher's gap filling aborts when it cannot undo a
** filler (reported; a regression case once fixed). */
static void file_mesh_faults(seed *s)
{
  unsigned k;
  mesh_scatter(s);
  fault(s, 4, 4, 5);                                 /* backing, 20% */
  for (k = 0; k < 4; k++) mesh(s, 0, 25, 20 * k, 9 + k);
  fault(s, 4, 0, 0);
  plain(s, FZ_OP_PURGE);
  freeb(s, 0, 30, 7);
  fault(s, 4, 3, 6);                                 /* backing, 5%: unmeshes refused, retried */
  plain(s, FZ_OP_STEP);
  freeb(s, 1, 20, 3);
  fault(s, 4, 0, 0);
  plain(s, FZ_OP_PURGE);
  fault(s, 0, 7, 2);                                 /* every mmap fails */
  mesh(s, 0, 30, 0, 50);
  plain(s, FZ_OP_PURGE);
  fault(s, 5, 0, 0);                                 /* disarm all */
  op(s, FZ_OP_CONFIG, 0, 1, 1); put(s, 0); put(s, 0);   /* mesh=off */
  plain(s, FZ_OP_PURGE);
  op(s, FZ_OP_CONFIG, 0, 1, 1); put(s, 0); put(s, 1);   /* mesh=on */
  churn(s, 800, 41);
  plain(s, FZ_OP_PURGE);
  op(s, FZ_OP_FREE_ALL, 0, 0, 1);
  plain(s, FZ_OP_PURGE);
}

/* Short meshing inputs (THIN makes the survivors): libFuzzer mutates short
** inputs most, so these are the ones its mutations keep meshing. */
static unsigned thin_seed;
static void file_mesh_thin(seed *s)
{
  config(s, FZ_CFG_DECAY, thin_seed & 1 ? 0 : 5);
  alloc(s, 0, 700, 64);
  alloc(s, 1, 500, 48);
  alloc(s, 2, 300, 1000);
  alloc(s, 0, 8, 20000);
  thin(s, 0, thin_seed);
  cycle(s, 0);
  mesh(s, 0, 40, 0, 1);
  plain(s, FZ_OP_PURGE);
  freeb(s, 1, 10, 3);
  resize(s, 0, 5, 130, 8);
  cycle(s, 20);
  plain(s, FZ_OP_FULL_GC);
}

/* -- Config seeds ------------------------------------------------------------------- */

static const char *const fz_config_seeds[][2] = {
  { "empty", "" },
  { "defaults", "decay=1000,mode=dontneed,soft_limit=0,background=false,background_interval=250,"
                "step_budget=1048576,full_gc_purge=true" },
  { "all-changed", "decay=0,mode=free,soft_limit=64m,background=true,background_interval=1,"
                   "step_budget=1,full_gc_purge=false" },
  { "blanks", " decay = 5 , mode=off ,, " },
  { "suffixes", "soft_limit=1K,step_budget=3g" },
  { "bools", "background=yes,full_gc_purge=off" },
  { "max", "decay=4294967295,soft_limit=17179869183g" },
  { "over-max", "decay=4294967296" },
  { "negative", "decay=-1" },
  { "bad-mode", "mode=fast" },
  { "no-equals", "decay" },
  { "unknown-key", "key=value" },
  { "zero-min", "background_interval=0" },
  { "set-form", "soft_limit=16m" },
};

/* -- Output ------------------------------------------------------------------------ */

static void mkdir_p(const char *d)
{
  if (mkdir(d, 0777) != 0 && errno != EEXIST) { perror(d); exit(1); }
}

static void write_file(const char *dir, const char *sub, const char *name, const void *p, size_t n)
{
  char path[4096];
  FILE *f;
  snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
  f = fopen(path, "wb");
  if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) { perror(path); exit(1); }
}

static seed cur;

/* Writes NAME-anon and NAME-file: the same ops on either backing. */
static void emit(const char *dir, const char *name, void (*fn)(seed *))
{
  char path[128];
  int file;
  for (file = 0; file <= 1; file++) {
    cur.n = 0;
    put(&cur, file ? FZ_HDR_FILE : 0);
    fn(&cur);
    snprintf(path, sizeof(path), "%s-%s", name, file ? "file" : "anon");
    write_file(dir, "heap", path, cur.b, cur.n);
  }
}

/* Writes NAME with the given header byte. */
static void emit_one(const char *dir, const char *name, unsigned header, void (*fn)(seed *))
{
  cur.n = 0;
  put(&cur, header);
  fn(&cur);
  write_file(dir, "heap", name, cur.b, cur.n);
}

static unsigned storm_kind, storm_rate, storm_seed;
static void storm_cur(seed *s) { storm(s, storm_kind, storm_rate, storm_seed); }
static unsigned mix_seed, mix_rounds;
static void mix_cur(seed *s) { stress_mix(s, mix_seed, mix_rounds); }

static int unhex(int c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

int main(int argc, char **argv)
{
  static const char *const kinds[] = { "mmap", "madvise", "munmap", "mremap", "backing", "all" };
  char sub[64], name[64];
  size_t i;
  unsigned k, r;
  if (argc != 2) { fprintf(stderr, "usage: gen_seeds DIR\n"); return 2; }
  mkdir_p(argv[1]);
  snprintf(sub, sizeof(sub), "%s/heap", argv[1]);
  mkdir_p(sub);
  snprintf(sub, sizeof(sub), "%s/config", argv[1]);
  mkdir_p(sub);

  emit(argv[1], "regress-span-bitmap-room", regress_span_bitmap_room);
  for (i = 0; fz_hex_cases[i][0]; i++) {
    const char *h = fz_hex_cases[i][1];
    cur.n = 0;
    for (; h[0] && h[1]; h += 2) put(&cur, (unsigned)(unhex(h[0]) << 4 | unhex(h[1])));
    write_file(argv[1], "heap", fz_hex_cases[i][0], cur.b, cur.n);
  }
  for (r = 0; r < 3; r++) {
    mix_seed = 17 + 40 * r;
    mix_rounds = 6 + 3 * r;
    snprintf(name, sizeof(name), "stress-mix-%u", r);
    emit(argv[1], name, mix_cur);
  }
  emit(argv[1], "size-ranges", size_ranges);
  emit(argv[1], "medium-and-large", medium_and_large);
  emit(argv[1], "knobs", knobs);
  emit(argv[1], "mmap-outage", mmap_outage);
  for (k = 0; k <= FZ_FAULT_ALL; k++)
    for (r = 2; r <= 7; r += 5) {      /* 1% and 100% */
      storm_kind = k;
      storm_rate = r;
      storm_seed = 3 * k + r;
      snprintf(name, sizeof(name), "storm-%s-%u", kinds[k], fz_fault_rates[r]);
      emit(argv[1], name, storm_cur);
    }
  emit_one(argv[1], "file-segment-reuse", FZ_HDR_FILE, file_segment_reuse);
  emit_one(argv[1], "file-aliases", FZ_HDR_FILE, file_aliases);
  emit_one(argv[1], "file-alias-rules", FZ_HDR_FILE, file_alias_rules);
  emit_one(argv[1], "file-backing-storm", FZ_HDR_FILE, file_backing_storm);
  emit_one(argv[1], "file-no-memfd", FZ_HDR_FILE | FZ_HDR_NO_MEMFD, file_aliases);
  emit_one(argv[1], "file-mesh-ops", FZ_HDR_FILE | FZ_HDR_MESH, file_mesh_ops);
  emit(argv[1], "mesh-purge", mesh_purge);
  emit_one(argv[1], "file-remesh", FZ_HDR_FILE | FZ_HDR_MESH, file_remesh);
  emit_one(argv[1], "file-mesh-faults", FZ_HDR_FILE | FZ_HDR_MESH, file_mesh_faults);
  for (r = 0; r < 4; r++) {
    thin_seed = 3 + 17 * r;                          /* keep 1 in 16, 2, 4, 8 */
    snprintf(name, sizeof(name), "file-mesh-thin-%u", r);
    emit_one(argv[1], name, FZ_HDR_FILE | FZ_HDR_MESH, file_mesh_thin);
  }
  for (i = 0; i < sizeof(fz_config_seeds) / sizeof(fz_config_seeds[0]); i++)
    write_file(argv[1], "config", fz_config_seeds[i][0], fz_config_seeds[i][1],
               strlen(fz_config_seeds[i][1]));
  return 0;
}
