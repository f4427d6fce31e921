/*
 * intr_sync.c - run a function on the EAL interrupt thread (intr_sync.h).
 *
 * The rule: the interrupt thread runs its callbacks one at a time, and an
 * EAL alarm's callback runs on that thread too (Linux EAL alarms are a
 * timerfd in the thread's epoll set). A function run from an alarm
 * therefore never overlaps a PMD's interrupt handler.
 */
#define ALLOW_EXPERIMENTAL_API /* rte_intr_instance_*: stable in later DPDKs */
#include "io/intr_sync.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <rte_alarm.h>
#include <rte_interrupts.h>

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

static atomic_bool intr_parked;
/* The source the thread parks on; it lives until the process exits. */
static struct rte_intr_handle *intr_park_handle;

/* Never returns: the thread stays here until the process exits. */
static void intr_park_here(void *arg)
{
	(void)arg;
	atomic_store_explicit(&intr_parked, true, memory_order_release);
	for (;;)
		pause();
}

void intr_thread_park(unsigned int timeout_us)
{
	/* private: the handle and the EAL's copy of it live in malloc'd memory,
	 * which rte_eal_cleanup() leaves mapped */
	struct rte_intr_handle *h = rte_intr_instance_alloc(RTE_INTR_INSTANCE_F_PRIVATE);
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t one = 1;

	intr_park_handle = h;
	if (!h || fd < 0 || rte_intr_fd_set(h, fd) != 0 ||
	    rte_intr_type_set(h, RTE_INTR_HANDLE_EXT) != 0 ||
	    rte_intr_callback_register(h, intr_park_here, NULL) != 0 ||
	    write(fd, &one, sizeof(one)) != (ssize_t)sizeof(one)) {
		LOG_WARN("cannot park the EAL interrupt thread before cleanup");
		return; /* the handle and fd stay: the thread may still read them */
	}
	uint64_t until = clock_now_us() + timeout_us;
	while (!atomic_load_explicit(&intr_parked, memory_order_acquire)) {
		if (clock_now_us() >= until) {
			LOG_WARN("the EAL interrupt thread did not park within %u us", timeout_us);
			return;
		}
		usleep(20);
	}
}
