/*
 * intr_sync.c - run a function on the EAL interrupt thread (intr_sync.h).
 *
 * The rule: the interrupt thread runs its callbacks one at a time, and an
 * EAL alarm's callback runs on that thread too (Linux EAL alarms are a
 * timerfd in the thread's epoll set). A function run from an alarm
 * therefore never overlaps a PMD's interrupt handler.
 */
#include "io/intr_sync.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <unistd.h>

#include <rte_alarm.h>

#include "common/clock.h"
#include "common/log.h"

struct intr_call {
	void (*fn)(void *);
	void *arg;
	atomic_bool done;
};

static void intr_call_run(void *arg)
{
	struct intr_call *c = arg;

	c->fn(c->arg);
	atomic_store_explicit(&c->done, true, memory_order_release);
}

void intr_thread_run(void (*fn)(void *), void *arg, unsigned int timeout_us)
{
	struct intr_call c = {.fn = fn, .arg = arg, .done = false};

	if (rte_eal_alarm_set(1, intr_call_run, &c) != 0) {
		LOG_WARN("cannot set an EAL alarm: running on the application thread");
		fn(arg);
		return;
	}
	uint64_t until = clock_now_us() + timeout_us;
	while (!atomic_load_explicit(&c.done, memory_order_acquire)) {
		if (clock_now_us() >= until) {
			/* rte_eal_alarm_cancel() waits for a callback that is running:
			 * after it, the call either ran there or never will */
			if (rte_eal_alarm_cancel(intr_call_run, &c) > 0) {
				LOG_WARN("the EAL interrupt thread did not run an alarm within "
					 "%u us: running on the application thread", timeout_us);
				fn(arg);
			}
			return;
		}
		usleep(20); /* the interrupt thread may share this core */
	}
}
