/*
 * netloop.c - the network thread's main loop (thesis section 2.3, mTCP's
 * design): receive a burst on every port and run TCP on it, run the
 * application's commands and the timers, send what became sendable (one
 * ACK for a whole burst), flush the TX queues, and push events to the
 * application thread.
 */
#include <sched.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_lcore.h>

#include "core/loop/loop.h"
#include "common/clock.h"
#include "common/log.h"
#include "io/io.h"
#include "io/port.h"
#include "io/steer.h"
#include "tcp/placement.h"
#include "net/eth.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"

/* Longest an event waits for its wake-up while the loop is still busy. */
#define WAKE_DELAY_US 100

static int rx_all(struct core *c)
{
	struct rte_mbuf *pkts[RX_BURST];
	int total = 0;

	for (int i = 0; i < c->g->n_ports; i++) {
		struct port *p = &c->g->ports[i];
		uint16_t n = io_rx(c, p, pkts, RX_BURST);
		for (uint16_t k = 0; k < n; k++) {
			if (k + 1 < n)
				rte_prefetch0(rte_pktmbuf_mtod(pkts[k + 1], void *));
			if (!placement_away(c, pkts[k]))
				eth_input(c, p, pkts[k]);
		}
		total += n;
	}
	/* segments of our flows that arrived on another core's queue */
	unsigned n = placement_receive(c, pkts, RX_BURST);
	for (unsigned k = 0; k < n; k++)
		eth_input(c, &c->g->ports[port_index(c->g, pkts[k]->port)], pkts[k]);
	return total + (int)n;
}

static int run_output(struct core *c)
{
	struct tcb *list = c->out_list;
	int n = 0;

	c->out_list = NULL;
	while (list) {
		struct tcb *t = list;
		list = t->out_next;
		t->on_out_list = false;
		if (t->core)
			tcp_output(c, t);
		else
			tcb_release_if_dead(c, t);
		n++;
	}
	return n;
}

static int push_events(struct core *c)
{
	struct tcb *keep = NULL, *list = c->ev_list;
	int pushed = 0;

	c->ev_list = NULL;
	while (list) {
		struct tcb *t = list;
		list = t->ev_next;
		int sockid = atomic_load_explicit(&t->sockid, memory_order_acquire);
		if (!t->core || sockid < 0) {
			/* nobody to tell (not accepted yet, or closed) */
			t->on_ev_list = false;
			t->ev_bits = 0;
			tcb_release_if_dead(c, t);
			continue;
		}
		struct event e = {.sockid = sockid,
				  .gen = atomic_load_explicit(&t->gen, memory_order_relaxed),
				  .bits = t->ev_bits};
		if (!spsc_push(&c->evq, &e)) {
			t->ev_next = keep; /* ring full: next iteration */
			keep = t;
			continue;
		}
		t->on_ev_list = false;
		t->ev_bits = 0;
		pushed++;
	}
	c->ev_list = keep;
	if (c->lst_ev_pending)
		listener_events(c);
	return pushed;
}

static void idle_sleep(struct core *c, uint32_t us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000};

	(void)c;
	nanosleep(&ts, NULL);
}

/* Adds one iteration's cycles to the core's accounting: busy iterations
 * by phase (t[0..5] the phase boundaries), idle polls apart. `app` of
 * the events phase were the application thread's, run on this core
 * inside our wake-up call: counted as app_in_wake_tsc, not as ours. */
static void account(struct core *c, const uint64_t t[6], int work, uint64_t app)
{
	if (app > t[5] - t[4])
		app = t[5] - t[4];
	c->cnt.iterations++;
	c->cnt.app_in_wake_tsc += app;
	if (!work) {
		c->cnt.idle_tsc += t[5] - t[0] - app;
		return;
	}
	c->cnt.busy_iterations++;
	c->cnt.busy_tsc += t[5] - t[0] - app;
	c->cnt.rx_tsc += t[1] - t[0];
	c->cnt.cmd_timer_tsc += t[2] - t[1];
	c->cnt.output_tsc += t[3] - t[2];
	c->cnt.flush_tsc += t[4] - t[3];
	c->cnt.events_tsc += t[5] - t[4] - app;
}

/* Wakes the application thread; returns the cycles it ran on this core
 * before the wake-up call returned (a wake-up preempts us when the two
 * threads share the core). */
static uint64_t wake_app(struct core *c)
{
	uint64_t ran = atomic_load_explicit(&c->app_ran_tsc, memory_order_relaxed);

	net_wake_app(c);
	return atomic_load_explicit(&c->app_ran_tsc, memory_order_relaxed) - ran;
}

int net_iteration(struct core *c, uint64_t now_us)
{
	uint64_t t[6], app = 0;
	int work, pushed;

	t[0] = rte_rdtsc();
	c->now_us = now_us;
	work = rx_all(c);
	t[1] = rte_rdtsc();
	work += cmd_run(c);
	timer_run(c);
	if (c->arp_wait && c->now_us - c->last_arp_poll_us > 1000) {
		tcp_arp_poll(c);
		c->last_arp_poll_us = c->now_us;
	}
	t[2] = rte_rdtsc();
	work += run_output(c);
	t[3] = rte_rdtsc();
	work += io_flush(c) > 0; /* frames a full TX ring still holds */
	t[4] = rte_rdtsc();
	pushed = push_events(c);
	if (pushed || c->ev_pushed_direct) {
		c->ev_pushed_direct = false;
		if (!c->wake_due_us)
			c->wake_due_us = c->now_us + WAKE_DELAY_US;
	}
	/* The wake-up policy (docs/architecture.md): a sleeping application
	 * thread is woken once this loop has no more input to work on, or
	 * WAKE_DELAY_US after the first event it has not been woken for;
	 * not after every iteration that pushed something. */
	if (c->wake_due_us && (!work || c->now_us >= c->wake_due_us)) {
		c->wake_due_us = 0;
		app = wake_app(c);
	}
	t[5] = rte_rdtsc();
	account(c, t, work + pushed, app);
	if (c->g->any_stat_print && c->now_us - c->last_stat_us >= 1000000) {
		stats_print(c);
		c->last_stat_us = c->now_us;
	}
	return work;
}

/* The loop's clock: CLOCK_MONOTONIC read once a second, the TSC in
 * between (one rdtsc per iteration instead of a clock_gettime); never
 * backwards. */
struct loop_clock {
	uint64_t us, tsc, hz, last;
};

static uint64_t loop_now_us(struct loop_clock *k)
{
	uint64_t tsc = rte_rdtsc(), now;

	if (tsc - k->tsc >= k->hz) {
		k->us = clock_now_us();
		k->tsc = rte_rdtsc();
		now = k->us;
	} else {
		now = k->us + (tsc - k->tsc) * 1000000u / k->hz;
	}
	if (now < k->last)
		now = k->last;
	k->last = now;
	return now;
}

void *net_main(void *arg)
{
	struct core *c = arg;
	uint32_t idle_us = c->g->conf.idle_sleep_us, idle_polls = c->g->conf.idle_polls;
	uint32_t idle = 0;
	struct loop_clock clk = {.us = clock_now_us(), .tsc = rte_rdtsc(), .hz = rte_get_tsc_hz()};

	if (rte_thread_register() < 0)
		LOG_WARN("core %d: rte_thread_register failed: mempool caches off", c->id);
	atomic_store(&c->running, true);
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		if (net_iteration(c, loop_now_us(&clk))) {
			idle = 0;
		} else if (++idle >= idle_polls) {
			idle = 0;
			if (idle_us)
				idle_sleep(c, idle_us);
			else
				sched_yield();
		}
	}
	rte_thread_unregister();
	return NULL;
}
