/*
 * timeouts.c - what each TCB timer does when it expires.
 */
#include <errno.h>

#include <rte_byteorder.h>

#include "common/log.h"
#include "common/seq.h"
#include "tcp/cc.h"
#include "tcp/rtt.h"
#include "tcp/rack.h"
#include "tcp/recovery.h"
#include "tcp/sacksnd.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"

#define PERSIST_MAX_US 60000000u

static void rto_syn(struct core *c, struct tcb *t)
{
	if (++t->syn_retries > SYN_RETRIES) {
		tcp_done(c, t, ETIMEDOUT);
		return;
	}
	t->rto_backoff++;
	c->cnt.rto_expired++;
	timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t));
	if (tcb_state(t) == TCPS_SYN_SENT)
		tcp_syn_retry(c, t);
	else
		tcp_send_syn(c, t);
}

/* RFC 9293 3.8.3: after R2 retransmissions of the same data without an
 * acknowledgment the peer is gone (it vanished, or the path did): the
 * connection is aborted and the application gets ETIMEDOUT. R2 is the
 * `tcp_retries` key (default 15, Linux's tcp_retries2; with RTO_MIN_US and
 * RTO_MAX_US about 9 minutes, above the 100 s RFC 9293 asks of R2). */
static bool gave_up(struct core *c, struct tcb *t, unsigned tries, const char *why)
{
	if (tries < (unsigned)c->g->conf.tcp_retries)
		return false;
	tcp_abort_timedout(c, t, why);
	return true;
}

/* A core's first ABORTS_LOGGED aborts are logged with what the connection
 * held (a peer that went away looks different from data we failed to
 * send); the rest are only counted (conn_timedout). */
#define ABORTS_LOGGED 8

static void log_abort(const struct core *c, const struct tcb *t, const char *why)
{
	const uint8_t *la = (const uint8_t *)&t->laddr, *ra = (const uint8_t *)&t->raddr;
	uint32_t end = snd_end(t);

	if (c->cnt.conn_timedout > ABORTS_LOGGED)
		return;
	LOG_WARN("tcp: core %d: %u.%u.%u.%u:%u - %u.%u.%u.%u:%u aborted (%s) in %s: peer silent "
		 "%.1f s, %u B in flight, %u B unsent, snd_wnd %u, cwnd %u, rcv_wnd %u%s%s",
		 c->id, la[0], la[1], la[2], la[3], rte_be_to_cpu_16(t->lport), ra[0], ra[1],
		 ra[2], ra[3], rte_be_to_cpu_16(t->rport), why, tcp_state_name(tcb_state(t)),
		 (double)(c->now_us - t->last_rx_us) / 1e6, t->snd_max - t->snd_una,
		 seq_lt(t->snd_nxt, end) ? end - t->snd_nxt : 0, t->snd_wnd, t->cwnd, t->rcv_wnd,
		 t->app_closed ? ", closed by the application"
		 : atomic_load_explicit(&t->sockid, memory_order_relaxed) < 0 ? ", not accepted yet" : "",
		 c->cnt.conn_timedout == ABORTS_LOGGED ? " (further aborts only counted)" : "");
}

void tcp_abort_timedout(struct core *c, struct tcb *t, const char *why)
{
	c->cnt.conn_timedout++;
	log_abort(c, t, why);
	tcp_send_rst(c, t);
	tcp_done(c, t, ETIMEDOUT);
}

/* RFC 6298 5.4-5.6 and RFC 5681 3.1: back off, collapse cwnd, go back to
 * the first unacknowledged byte. */
static void rto_data(struct core *c, struct tcb *t)
{
	if (t->snd_una == t->snd_max)
		return; /* everything acknowledged meanwhile */
	if (gave_up(c, t, t->rto_backoff, "retransmissions unanswered, tcp_retries"))
		return;
	c->cnt.rto_expired++;
	t->rto_backoff++;
	cc_on_rto(t, t->rto_backoff == 1);
	sacksnd_on_rto(t); /* RFC 2018 8: the receiver may have reneged */
	rack_on_rto(c, t);
	rtt_cancel(t);
	t->snd_nxt = t->snd_una;
	tcp_output(c, t);
	if (!t->timer_at[TT_RTO])
		timer_arm(c, t, TT_RTO, c->now_us + rtt_rto(t));
}

/* RFC 9293 3.8.6.1: probe a zero window for as long as the peer answers
 * (a window closed for any time is no reason to give up), backing off to
 * one probe a minute; the probes keep their own backoff, so the RTO of the
 * data that follows the window's opening starts fresh. A peer that
 * answers none of `tcp_retries` probes in a row is gone: abort (as Linux
 * counts its probes against tcp_retries2). */
static void persist_again(struct core *c, struct tcb *t)
{
	uint64_t next;

	if (t->persist_backoff < 16)
		t->persist_backoff++;
	next = (uint64_t)t->rto << t->persist_backoff;
	timer_arm(c, t, TT_PERSIST, c->now_us + (next > PERSIST_MAX_US ? PERSIST_MAX_US : next));
}

static void persist(struct core *c, struct tcb *t)
{
	if (!seq_lt(t->snd_una, snd_end(t)) || t->snd_nxt != t->snd_una)
		return;
	if (t->snd_wnd) {
		/* open, but below the SWS threshold: the override (RFC 9293
		 * 3.8.6.2.1). If nothing could go (no packet buffer), this
		 * stays the data's only timer: nothing else would send it,
		 * since no ACK comes back for data that never left. */
		tcp_send_override(c, t);
		if (t->snd_nxt != t->snd_una)
			return;
		/* R2 bounds the retries as it bounds the probes: the wait
		 * ends in a send or in ETIMEDOUT, never in silence */
		if (gave_up(c, t, t->probes_unanswered,
			    "data held back (small window or no packet buffer), tcp_retries"))
			return;
		t->probes_unanswered++;
		persist_again(c, t);
		return;
	}
	if (gave_up(c, t, t->probes_unanswered, "window probes unanswered, tcp_retries"))
		return;
	tcp_send_probe(c, t);
	t->probes_unanswered++;
	persist_again(c, t);
}

static void idle(struct core *c, struct tcb *t)
{
	uint64_t limit = (uint64_t)c->g->conf.tcp_timeout * 1000000u;

	if (c->g->conf.tcp_timeout <= 0)
		return;
	if (t->keepalive && !t->app_closed) {
		/* SO_KEEPALIVE: the probes test the peer (keepalive.c) */
		timer_arm(c, t, TT_IDLE, c->now_us + limit);
		return;
	}
	/* Data outstanding: the retransmission timer and its retry limit
	 * decide (RFC 9293 3.8.3), not the idle timeout; data held by a
	 * zero window: the persist timer does (3.8.6.1), and a peer that
	 * answers probes a minute apart is not idle. */
	bool probing = t->timer_at[TT_PERSIST] && t->snd_wnd == 0;
	if ((t->snd_una != t->snd_max || probing) && tcb_state(t) != TCPS_FIN_WAIT_2) {
		timer_arm(c, t, TT_IDLE, c->now_us + limit);
		return;
	}
	if (c->now_us - t->last_rx_us >= limit) {
		tcp_abort_timedout(c, t, "idle past tcp_timeout");
		return;
	}
	timer_arm(c, t, TT_IDLE, t->last_rx_us + limit);
}

void tcp_timer_fire(struct core *c, struct tcb *t, enum tcb_timer which)
{
	int st = tcb_state(t);

	if (st == TCPS_CLOSED)
		return;
	switch (which) {
	case TT_RTO:
		if (st == TCPS_SYN_SENT || st == TCPS_SYN_RCVD)
			rto_syn(c, t);
		else
			rto_data(c, t);
		break;
	case TT_DELACK:
		if (t->unacked_segs)
			tcp_send_ack(c, t);
		break;
	case TT_PERSIST:
		persist(c, t);
		break;
	case TT_TIMEWAIT:
		tcp_done(c, t, 0);
		break;
	case TT_IDLE:
		idle(c, t);
		break;
	case TT_KEEPALIVE:
		tcp_keepalive_fire(c, t);
		break;
	case TT_REO:
		recovery_reo_fire(c, t);
		break;
	case TT_TLP:
		rack_tlp_fire(c, t);
		break;
	default:
		break;
	}
}
