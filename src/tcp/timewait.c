/*
 * timewait.c - TIME-WAIT (RFC 9293 3.3.2, 3.10.7.4): how long, its FIN
 * retransmissions, which new SYN may take over its 4-tuple (RFC 6191), and
 * giving up the oldest one when no TCB is left.
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

void tcp_time_wait_fin(struct core *c, struct tcb *t)
{
	uint64_t tw = tcp_timewait_us(c);

	/* a retransmission of the peer's FIN: ACK it again and restart the
	 * 2 MSL timeout (RFC 9293 3.10.7.4, TIME-WAIT) */
	t->ack_now = true;
	tcp_want_output(c, t);
	if (tw)
		timer_arm(c, t, TT_TIMEWAIT, c->now_us + tw);
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
	struct tcb *oldest = NULL;

	/* No TCB left: the TIME-WAIT connection closest to its end gives
	 * way (as Linux past tcp_max_tw_buckets; the RFC 1337 hazards of
	 * a late duplicate are the price of accepting the new one). */
	for (uint32_t i = 0; i < c->n_tcbs; i++) {
		struct tcb *t = &c->tcbs[i];
		if (t->in_pool || !t->core || tcb_state(t) != TCPS_TIME_WAIT || !t->app_closed ||
		    t->on_out_list || t->on_ev_list || t->on_arp_list)
			continue;
		if (!oldest || t->timer_at[TT_TIMEWAIT] < oldest->timer_at[TT_TIMEWAIT])
			oldest = t;
	}
	if (!oldest)
		return NULL;
	c->cnt.timewait_recycled++;
	LOG_DBG("tcb %u: TIME_WAIT given up for a new connection", oldest->id);
	tcb_free(c, oldest); /* the application let go of it: no events */
	return c->tcb_free;
}
