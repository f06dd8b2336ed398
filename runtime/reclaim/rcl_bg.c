/*
** rcl_bg.c: the background purge thread, heap locking and fork safety.
**
** ONE global thread serves every heap configured with background=1. Heaps
** are registered in a global list under the global lock. The thread sleeps
** until the earliest heap is due (background_interval_ms after its last
** pass), then purges it, taking the heap lock one segment at a time so the
** owner is never blocked for long. A heap whose owner hit no allocator slow
** path and ended no GC cycle since the previous pass is idle: decay exists to
** spare memory that churns, and an idle heap churns nothing, so its pass
** ignores decay and returns everything free. One such pass per idle period
** is enough; further wakes skip the heap until it is active again. So an
** idle heap is back at its floor within two intervals.
**
** Lock order: global lock, then heap locks. The thread never holds both: it
** marks the heap busy (bg_busy) under the global lock, drops it, and takes
** only heap locks during the pass. Owners take the global lock only outside
** their heap lock (register, unregister, restart). Unregistering waits until
** the heap is not busy, so a heap is never destroyed under the thread.
**
** A heap uses its lock (h->locking) exactly while it is registered: set
** before the thread can see the heap, cleared after the thread let go.
**
** Layer: above the reclaim policy (rcl_pass_advance is its pass) and the
** registry (it publishes what its passes gave back), below the
** public API (which registers heaps, rcl_bg_update/rcl_bg_unregister, and
** restarts the thread after fork, rcl_bg_ensure_running).
**
** fork(): prepare takes the global lock and every registered heap lock (so
** no pass is mid-segment), the parent releases them, the child releases them,
** re-initialises the condition variables, clears busy/cursor/waiter state and marks
** the thread as not running. The child never waits on a thread it does not
** have; the thread is restarted lazily (rcl_bg_ensure_running, called at
** cycle end and purge) when a heap still wants it.
**
** Lifetime: the thread runs only while a heap is registered. The owner that
** unregisters the last heap retires the thread (bumps rcl_bg_gen, which the
** thread compares with the generation it was started for) and joins it, so
** when the last background heap is gone no code of this library is running
** on any thread, and a host may dlclose() the library. The fork handlers
** then take no heap lock (the list is empty); glibc drops a library's
** handlers when it is unloaded (__cxa_finalize unregisters them).
*/
#include "rcl_internal.h"

#include <sched.h>
#include <signal.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t rcl_bg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t rcl_bg_wake;     /* registration changed: re-plan */
static pthread_cond_t rcl_bg_idle;     /* a pass finished: bg_busy may be 0 */
static pthread_once_t rcl_bg_once = PTHREAD_ONCE_INIT;
static rcl_heap *rcl_bg_heaps;         /* registered heaps */
static int rcl_bg_running;             /* the thread exists (relaxed reads allowed) */
static pthread_t rcl_bg_thread;        /* valid while rcl_bg_running */
static uintptr_t rcl_bg_gen;           /* generation of the current thread; a thread
                                          whose generation is older exits */

static void rcl_bg_init_conds(void)
{
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  pthread_cond_init(&rcl_bg_wake, &attr);
  pthread_condattr_destroy(&attr);
  pthread_cond_init(&rcl_bg_idle, NULL);
}

static void rcl_bg_prepare(void)
{
  rcl_heap *h;
  pthread_mutex_lock(&rcl_bg_lock);
  for (h = rcl_bg_heaps; h; h = h->bg_next) pthread_mutex_lock(&h->lock);
}

static void rcl_bg_parent(void)
{
  rcl_heap *h;
  for (h = rcl_bg_heaps; h; h = h->bg_next) pthread_mutex_unlock(&h->lock);
  pthread_mutex_unlock(&rcl_bg_lock);
}

static void rcl_bg_child(void)
{
  rcl_heap *h;
  for (h = rcl_bg_heaps; h; h = h->bg_next) {
    h->bg_busy = 0;
    h->bg_seg = NULL;
    h->lock_wanted = 0;     /* its waiter, if any, was another thread: gone */
    pthread_mutex_unlock(&h->lock);
  }
  rcl_bg_init_conds();
  rcl_store(&rcl_bg_running, 0);
  pthread_mutex_unlock(&rcl_bg_lock);
}

static void rcl_bg_init(void)
{
  rcl_bg_init_conds();
  pthread_atfork(rcl_bg_prepare, rcl_bg_parent, rcl_bg_child);
}

/* One pass over heap h, a segment at a time; between segments the owner
** gets the lock first if it asked for it. Decay applies unless h is idle. */
static void rcl_bg_pass(rcl_heap *h)
{
  uint64_t seen = rcl_load(&h->activity);
  rcl_decay d = rcl_decay_all();
  int done, idle = seen == h->bg_seen_activity;
  if (idle) {                          /* Idle since the previous pass. */
    if (h->bg_idle_done) return;
    h->bg_idle_done = 1;
  } else {
    h->bg_seen_activity = seen;
    h->bg_idle_done = 0;
  }
  pthread_mutex_lock(&h->lock);
  if (!idle) d = rcl_decay_at(h, rcl_os_now_ms());
  h->bg_seg = h->seg_first;
  h->bg_unit = 1;
  pthread_mutex_unlock(&h->lock);
  do {
    pthread_mutex_lock(&h->lock);
    done = rcl_pass_advance(h, &h->bg_seg, &h->bg_unit, RCL_SEGMENT_SIZE, d, 0, NULL);
    /* The registry shows what the pass gave back; an idle heap's slot gets
    ** a walk (its owner publishes nothing while idle). */
    if (done) rcl_registry_publish(h, idle, 1);
    pthread_mutex_unlock(&h->lock);
    while (rcl_load(&h->lock_wanted)) sched_yield();
  } while (!done);
}

static void *rcl_bg_main(void *arg)
{
  uintptr_t gen = (uintptr_t)arg;
  pthread_mutex_lock(&rcl_bg_lock);
  while (gen == rcl_bg_gen) {
    uint64_t now = rcl_os_now_ms(), wake = UINT64_MAX;
    rcl_heap *h, *due = NULL;
    for (h = rcl_bg_heaps; h; h = h->bg_next) {
      if (h->bg_due <= now) { due = h; break; }
      if (h->bg_due < wake) wake = h->bg_due;
    }
    if (due) {
      due->bg_busy = 1;
      pthread_mutex_unlock(&rcl_bg_lock);
      rcl_bg_pass(due);
      pthread_mutex_lock(&rcl_bg_lock);
      due->bg_busy = 0;
      due->bg_due = rcl_os_now_ms() + due->bg_interval;
      pthread_cond_broadcast(&rcl_bg_idle);
    } else if (wake == UINT64_MAX) {
      pthread_cond_wait(&rcl_bg_wake, &rcl_bg_lock);
    } else {
      struct timespec ts;
      uint64_t wait_ms = wake - now;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      ts.tv_sec += (time_t)(wait_ms / 1000);
      ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
      if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
      pthread_cond_timedwait(&rcl_bg_wake, &rcl_bg_lock, &ts);
    }
  }
  pthread_mutex_unlock(&rcl_bg_lock);
  return NULL;
}

/* Start the thread if it is not running (global lock held). Signals are
** blocked in the thread so they are delivered to the application's threads. */
static void rcl_bg_start_locked(void)
{
  sigset_t all, old;
  if (rcl_bg_running) return;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  rcl_bg_gen++;
  if (pthread_create(&rcl_bg_thread, NULL, rcl_bg_main, (void *)rcl_bg_gen) == 0)
    rcl_store(&rcl_bg_running, 1);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
}

RCL_INTERN void rcl_bg_unregister(rcl_heap *h)
{
  rcl_heap **pp;
  pthread_t retired;
  int join = 0;
  if (!h->bg_registered) return;
  pthread_mutex_lock(&rcl_bg_lock);
  for (pp = &rcl_bg_heaps; *pp; pp = &(*pp)->bg_next)
    if (*pp == h) { *pp = h->bg_next; break; }
  while (h->bg_busy) pthread_cond_wait(&rcl_bg_idle, &rcl_bg_lock);
  if (!rcl_bg_heaps && rcl_bg_running) {
    /* The last heap is gone: retire the thread (header comment). */
    retired = rcl_bg_thread;
    join = 1;
    rcl_bg_gen++;
    rcl_store(&rcl_bg_running, 0);
    pthread_cond_broadcast(&rcl_bg_wake);
  }
  pthread_mutex_unlock(&rcl_bg_lock);
  if (join) pthread_join(retired, NULL);
  h->bg_registered = 0;
  h->bg_next = NULL;
  h->locking = 0;
}

/* Called by the owner (not holding h->lock) after h->cfg changed. */
RCL_INTERN void rcl_bg_update(rcl_heap *h)
{
  if (!h->cfg.background) {
    rcl_bg_unregister(h);
    return;
  }
  pthread_once(&rcl_bg_once, rcl_bg_init);
  h->locking = 1;
  pthread_mutex_lock(&rcl_bg_lock);
  h->bg_interval = h->cfg.background_interval_ms ? h->cfg.background_interval_ms : 1;
  h->bg_due = rcl_os_now_ms() + h->bg_interval;
  if (!h->bg_registered) {
    h->bg_next = rcl_bg_heaps;
    rcl_bg_heaps = h;
    h->bg_registered = 1;
  }
  rcl_bg_start_locked();
  pthread_cond_signal(&rcl_bg_wake);
  pthread_mutex_unlock(&rcl_bg_lock);
}

RCL_INTERN void rcl_bg_ensure_running(rcl_heap *h)
{
  if (!h->bg_registered || rcl_load(&rcl_bg_running)) return;
  pthread_mutex_lock(&rcl_bg_lock);
  rcl_bg_start_locked();
  pthread_mutex_unlock(&rcl_bg_lock);
}

#ifdef RCL_TEST_HOOKS
RCL_API int rcl_test_background_running(void)
{
  return rcl_load(&rcl_bg_running);
}
#endif
