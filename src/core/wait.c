/*
 * wait.c - how the application thread sleeps and the network thread wakes
 * it: a futex on a counter the network thread bumps after pushing events.
 *
 * No lost wake-up: the application announces it sleeps (app_sleeping), then
 * re-checks the event ring, then waits only if the counter is unchanged;
 * the network thread pushes events, then reads app_sleeping. The seq_cst
 * fences on both sides order "write mine, read theirs", so at least one of
 * the two sees the other.
 */
#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>

#include "core/core.h"

static void futex_wait(_Atomic uint32_t *addr, uint32_t val, int timeout_ms)
{
	struct timespec ts = {.tv_sec = timeout_ms / 1000,
			      .tv_nsec = (long)(timeout_ms % 1000) * 1000000L};

	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val,
		timeout_ms >= 0 ? &ts : NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/* The application thread's run since app_wait() last returned, counted
 * when it ran on the network thread's CPU (sched_getcpu(): vDSO, no
 * syscall): the two threads then shared that core. */
static void note_run(struct core *c)
{
	if (c->app_woke_tsc && sched_getcpu() == c->cpu)
		atomic_fetch_add_explicit(&c->app_ran_tsc, rte_rdtsc() - c->app_woke_tsc,
					  memory_order_relaxed);
}

void app_wait(struct core *c, int timeout_ms)
{
	uint32_t seen = atomic_load_explicit(&c->wake_word, memory_order_acquire);

	note_run(c);

	atomic_store_explicit(&c->app_sleeping, true, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	/* A signal's mark (app_interrupt) bumps wake_word: one that came after
	 * `seen` was read ends the wait at once, one just before it is seen by
	 * the caller's next app_interrupted() at the end of this slice. */
	if (spsc_empty(&c->evq) && atomic_load(&c->running))
		futex_wait(&c->wake_word, seen, timeout_ms);
	atomic_store_explicit(&c->app_sleeping, false, memory_order_relaxed);
	c->app_woke_tsc = rte_rdtsc();
}

void net_wake_app(struct core *c)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&c->app_sleeping, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&c->wake_word, 1, memory_order_release);
		futex_wake(&c->wake_word);
	}
}

void app_interrupt(struct core *c)
{
	atomic_store(&c->interrupted, true);
	atomic_fetch_add(&c->wake_word, 1);
	futex_wake(&c->wake_word);
}

bool app_interrupted(struct core *c)
{
	if (!atomic_exchange(&c->interrupted, false))
		return false;
	errno = EINTR;
	return true;
}
