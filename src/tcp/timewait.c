/*
 * timewait.c - TIME-WAIT (RFC 9293 3.3.2, 3.10.7.4): how long, its FIN
 * retransmissions, which new SYN may take over its 4-tuple (RFC 6191), and
 * giving up the oldest one when no TCB is left.
 *
 * The core keeps its TIME-WAIT TCBs on a list in the order their timeouts
 * end (every one is tcp_timewait long, and a restarted one moves to the
 * end), so the oldest is the list's head: a server closing many short
 * connections finds a TCB to give up in O(1), not by a walk of the pool.
 */
#include "common/log.h"
#include "common/seq.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"

/* tcp_timewait seconds; its default (common/config.c) is 2*MSL = 60 s: RFC
 * 9293 3.4.2 calls its MSL of 2 minutes an engineering choice, BSD and
 * Linux use 30 s (Linux's TIME-WAIT lasts 60 s). */
uint64_t tcp_timewait_us(const struct core *c)
{
	int tw = c->g->conf.tcp_timewait;

	return tw > 0 ? (uint64_t)tw * 1000000u : 0;
}

static void tw_unlink(struct core *c, struct tcb *t)
{
	if (t->tw_prev)
		t->tw_prev->tw_next = t->tw_next;
	else
		c->tw_head = t->tw_next;
	if (t->tw_next)
		t->tw_next->tw_prev = t->tw_prev;
	else
		c->tw_tail = t->tw_prev;
	t->tw_prev = t->tw_next = NULL;
}

static void tw_append(struct core *c, struct tcb *t)
{
	t->tw_next = NULL;
	t->tw_prev = c->tw_tail;
	if (c->tw_tail)
		c->tw_tail->tw_next = t;
	else
		c->tw_head = t;
	c->tw_tail = t;
}

void tcp_time_wait_track(struct core *c, struct tcb *t, int was, int state)
{
	if (was == TCPS_TIME_WAIT && state != TCPS_TIME_WAIT)
		tw_unlink(c, t);
	else if (state == TCPS_TIME_WAIT && was != TCPS_TIME_WAIT)
		tw_append(c, t);
}

void tcp_time_wait_fin(struct core *c, struct tcb *t)
{
	uint64_t tw = tcp_timewait_us(c);

	/* a retransmission of the peer's FIN: ACK it again and restart the
	 * 2 MSL timeout (RFC 9293 3.10.7.4, TIME-WAIT) */
	t->ack_now = true;
	tcp_want_output(c, t);
	if (tw) {
		timer_arm(c, t, TT_TIMEWAIT, c->now_us + tw);
		tw_unlink(c, t); /* it ends last now */
		tw_append(c, t);
	}
}

void tcp_enter_time_wait(struct core *c, struct tcb *t)
{
	uint64_t tw = tcp_timewait_us(c);

	tcp_set_state(c, t, TCPS_TIME_WAIT);
	timer_cancel(t, TT_RTO);
	timer_cancel(t, TT_PERSIST);
	timer_cancel(t, TT_IDLE); /* the 2 MSL timeout alone ends it */
	tcp_send_ack(c, t); /* the ACK of the peer's FIN goes out before we go */
	if (!tw) {
		tcp_done(c, t, 0);
		return;
	}
	timer_arm(c, t, TT_TIMEWAIT, c->now_us + tw);
}

bool tcp_time_wait_reusable(const struct tcb *t, uint32_t seq, bool ts_ok, uint32_t tsval)
{
	/* RFC 6191 section 2: with timestamps on both incarnations, a SYN
	 * whose TSval is newer than the last one seen (or equal, with a
	 * higher sequence number); otherwise a higher sequence number. */
	if (t->ts_ok && ts_ok) {
		if (tsval != t->ts_recent)
			return seq_gt(tsval, t->ts_recent);
		return seq_gt(seq, t->rcv_nxt);
	}
	return seq_gt(seq, t->rcv_nxt);
}

struct tcb *tcp_time_wait_recycle(struct core *c)
{
	struct tcb *oldest = c->tw_head;

	/* No TCB left: the TIME-WAIT connection closest to its end gives
	 * way (as Linux past tcp_max_tw_buckets; the RFC 1337 hazards of
	 * a late duplicate are the price of accepting the new one). One the
	 * application still holds, or one on a work list this iteration,
	 * stays. */
	while (oldest && (!oldest->app_closed || oldest->on_out_list || oldest->on_ev_list ||
			  oldest->on_arp_list))
		oldest = oldest->tw_next;
	if (!oldest)
		return NULL;
	c->cnt.timewait_recycled++;
	LOG_DBG("tcb %u: TIME_WAIT given up for a new connection", oldest->id);
	tcb_free(c, oldest); /* the application let go of it: no events */
	return c->tcb_free;
}
