/*
** registry.c: reading a process's heap registry (rcl_registry.h) from
** outside: copying it, checking its header, taking stable slot snapshots
** under the sequence lock, and summing the heaps.
**
** Invariants: the target is never stopped or written; a slot's figures are
** used only from a copy whose seq was even and which a later copy of the
** same slot equals byte for byte (so no write overlapped either); a slot that never settles
** within MS_READ_ROUNDS reads is reported busy, without figures. A registry
** whose magic, version or sizes differ from this build's rcl_registry.h is
** an error naming what was found.
*/
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "memstat.h"
#include "rcl.h"

#define MS_READ_ROUNDS 8    /* reads of the registry before a slot is busy */

const char *ms_mode_name(uint64_t mode)
{
  switch (mode) {
  case RCL_MODE_DONTNEED: return "dontneed";
  case RCL_MODE_FREE: return "free";
  case RCL_MODE_OFF: return "off";
  default: return "unknown";
  }
}

/* Copy len bytes at addr of process pid into buf: process_vm_readv, or
** /proc/PID/mem where that system call is missing (same permission). */
static int copy_remote(int pid, uint64_t addr, void *buf, size_t len, int *err)
{
  struct iovec local = { buf, len }, remote = { (void *)(uintptr_t)addr, len };
  ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n < 0 && errno == ENOSYS) {
    char path[64];
    int fd;
    snprintf(path, sizeof(path), "/proc/%d/mem", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) { *err = errno; return -1; }
    n = pread(fd, buf, len, (off_t)addr);
    if (n < 0) *err = errno;
    close(fd);
    if (n < 0) return -1;
  } else if (n < 0) {
    *err = errno;
    return -1;
  }
  if ((size_t)n != len) { *err = EFAULT; return -1; }
  return 0;
}

static void copy_error(ms_registry *r, int pid, int e)
{
  char hint[256];
  if (e == EPERM || e == EACCES) {
    ms_access_hint(hint, sizeof(hint));
    snprintf(r->error, sizeof(r->error), "cannot read the registry at 0x%llx: "
             "process_vm_readv: %s (%s)", (unsigned long long)r->addr, strerror(e), hint);
  } else if (e == ESRCH) {
    snprintf(r->error, sizeof(r->error), "exited while being read");
  } else {
    snprintf(r->error, sizeof(r->error), "cannot read the registry at 0x%llx "
             "(PID %d): process_vm_readv: %s", (unsigned long long)r->addr, pid, strerror(e));
  }
}

/* The header of copy `buf`: 0 if this build can read it, else r->error. */
static int check_header(ms_registry *r, const unsigned char *buf)
{
  const rcl_registry_header *h = (const rcl_registry_header *)buf;
  char want[sizeof(h->magic)] = RCL_REGISTRY_MAGIC, lib[sizeof(h->lib_version)];
  memcpy(&r->hdr, h, sizeof(r->hdr));
  memcpy(lib, h->lib_version, sizeof(lib));
  lib[sizeof(lib) - 1] = '\0';
  r->hdr.lib_version[sizeof(r->hdr.lib_version) - 1] = '\0';
  if (memcmp(h->magic, want, sizeof(want)) != 0) {
    snprintf(r->error, sizeof(r->error), "the mapping at 0x%llx named %s does not "
             "start with the registry magic \"%s\"", (unsigned long long)r->addr,
             RCL_REGISTRY_NAME, RCL_REGISTRY_MAGIC);
    return -1;
  }
  if (h->version != RCL_REGISTRY_VERSION) {
    snprintf(r->error, sizeof(r->error), "registry version %u (allocator %.15s); this "
             "luajit-memstat %s reads version %d: use the luajit-memstat of the "
             "same luajit-reclaim release", h->version, lib,
             MEMSTAT_VERSION, RCL_REGISTRY_VERSION);
    return -1;
  }
  if (h->header_size != sizeof(rcl_registry_header) ||
      h->slot_size != sizeof(rcl_registry_slot) || h->nslots == 0 ||
      (uint64_t)h->header_size + (uint64_t)h->nslots * h->slot_size > RCL_REGISTRY_SIZE) {
    snprintf(r->error, sizeof(r->error), "registry version %u with header_size %u, "
             "slot_size %u, nslots %u; this luajit-memstat expects header_size %zu, "
             "slot_size %zu and at most %zu slots in %d bytes", h->version,
             h->header_size, h->slot_size, h->nslots, sizeof(rcl_registry_header),
             sizeof(rcl_registry_slot), (size_t)RCL_REGISTRY_SLOTS, RCL_REGISTRY_SIZE);
    return -1;
  }
  return 0;
}

static const rcl_registry_slot *slot_at(const unsigned char *buf, uint32_t i)
{
  return (const rcl_registry_slot *)(buf + sizeof(rcl_registry_header) +
                                     (size_t)i * sizeof(rcl_registry_slot));
}

static int push_heap(ms_proc *p, int *cap, const ms_heap *h)
{
  if (p->nheaps == *cap) {
    int nc = *cap ? *cap * 2 : 8;
    ms_heap *nh = realloc(p->heaps, (size_t)nc * sizeof(ms_heap));
    if (!nh) return -1;
    p->heaps = nh;
    *cap = nc;
  }
  p->heaps[p->nheaps++] = *h;
  return 0;
}

/* Slot states while reading. */
enum { SLOT_OPEN, SLOT_FREE, SLOT_HEAP };

/* Read one registry: copies a, b, a', ... until every slot settles. A slot
** settles when two consecutive copies of it are equal, seq included, and
** seq is even: no write was in progress in either copy or between them,
** whatever order the kernel copies the bytes of one copy in. */
static int read_one(ms_proc *p, int ri, int *cap)
{
  ms_registry *r = &p->regs[ri];
  unsigned char *cur = malloc(RCL_REGISTRY_SIZE), *prev = malloc(RCL_REGISTRY_SIZE);
  unsigned char *state = NULL;
  rcl_registry_slot *snap = NULL;
  uint32_t i, n, open;
  int round, e = 0, ret = -1;
  if (!cur || !prev) {
    snprintf(r->error, sizeof(r->error), "out of memory");
    goto done;
  }
  if (r->len < RCL_REGISTRY_SIZE) {
    snprintf(r->error, sizeof(r->error), "the registry mapping at 0x%llx is %llu bytes, "
             "less than the %d of registry version %d", (unsigned long long)r->addr,
             (unsigned long long)r->len, RCL_REGISTRY_SIZE, RCL_REGISTRY_VERSION);
    goto done;
  }
  if (copy_remote(p->pid, r->addr, prev, RCL_REGISTRY_SIZE, &e) != 0) {
    copy_error(r, p->pid, e);
    goto done;
  }
  if (check_header(r, prev) != 0) goto done;
  n = r->hdr.nslots;
  state = calloc(n, 1);
  snap = calloc(n, sizeof(*snap));
  if (!state || !snap) {
    snprintf(r->error, sizeof(r->error), "out of memory");
    goto done;
  }
  open = n;
  for (round = 1; round < MS_READ_ROUNDS && open; round++) {
    unsigned char *t;
    if (round > 1) {  /* Let a writer in progress finish. */
      struct timespec ts = { 0, 200000 };
      nanosleep(&ts, NULL);
    }
    if (copy_remote(p->pid, r->addr, cur, RCL_REGISTRY_SIZE, &e) != 0) {
      copy_error(r, p->pid, e);
      goto done;
    }
    for (i = 0; i < n; i++) {
      const rcl_registry_slot *a = slot_at(prev, i), *b = slot_at(cur, i);
      if (state[i] != SLOT_OPEN || a->seq != b->seq || (a->seq & 1) ||
          memcmp(a, b, sizeof(*a)) != 0)
        continue;
      if (a->heap == 0) {
        state[i] = SLOT_FREE;
      } else {
        state[i] = SLOT_HEAP;
        snap[i] = *a;
      }
      open--;
    }
    t = prev; prev = cur; cur = t;
  }
  /* Header counters from the last copy (atomics, no lock). */
  memcpy(&r->hdr, prev, sizeof(r->hdr));
  r->hdr.lib_version[sizeof(r->hdr.lib_version) - 1] = '\0';
  for (i = 0; i < n; i++) {
    ms_heap h;
    memset(&h, 0, sizeof(h));
    h.reg = ri;
    h.slot = (int)i;
    if (state[i] == SLOT_HEAP) {
      h.s = snap[i];
    } else if (state[i] == SLOT_OPEN && (slot_at(prev, i)->heap || slot_at(cur, i)->heap)) {
      h.busy = 1;  /* A heap whose slot was written at every read. */
      h.s.heap = slot_at(prev, i)->heap ? slot_at(prev, i)->heap : slot_at(cur, i)->heap;
    } else {
      continue;
    }
    if (push_heap(p, cap, &h) != 0) {
      snprintf(r->error, sizeof(r->error), "out of memory");
      goto done;
    }
  }
  r->ok = 1;
  ret = 0;
done:
  free(cur);
  free(prev);
  free(state);
  free(snap);
  return ret;
}

int ms_registry_read(ms_proc *p)
{
  int ri, cap = 0, ret = 0;
  for (ri = 0; ri < p->nregs; ri++)
    if (read_one(p, ri, &cap) != 0) ret = -1;
  memset(&p->sum, 0, sizeof(p->sum));
  for (ri = 0; ri < p->nheaps; ri++) {
    const ms_heap *h = &p->heaps[ri];
    if (h->busy) { p->sum.busy++; continue; }
    p->sum.heaps++;
#define MS_ADD(name, metric, type, help) p->sum.name += h->s.name;
    RCL_REGISTRY_FIGURES(MS_ADD)
#undef MS_ADD
  }
  if (MS_HAVE_ST(p, vm_rss) && p->sum.heaps) {
    p->have_rest = 1;
    p->rest_rss = p->st.vm_rss > p->sum.resident ? p->st.vm_rss - p->sum.resident : 0;
  }
  return ret;
}
