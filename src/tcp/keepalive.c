/*
 * keepalive.c - TCP keep-alives (RFC 9293 3.8.4, RFC 1122 4.2.3.6), on a
 * connection whose application set SO_KEEPALIVE: after tcp_keepalive_time
 * seconds of silence from the peer, a probe (an ACK at SND.NXT - 1, which
 * the peer must answer) every tcp_keepalive_intvl seconds;
 * tcp_keepalive_probes probes unanswered and the peer is dead: the
 * connection is reset with ETIMEDOUT. The keys default to Linux's
 * (7200 s, 75 s, 9); RFC 9293 asks for an idle time of no less than two
 * hours by default and that it be configurable. A socket may set its own
 * three numbers (TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, as in Linux).
 *
 * Such a connection is not ended by tcp_timeout (timeouts.c idle()): the
 * application asked for this test of the peer instead.
 */
#include "tcp/tcp.h"
#include "tcp/timer.h"

/* The socket's number when it set one, else the config's. */
static uint64_t idle_us(const struct core *c, const struct tcb *t)
{
	uint64_t s = t->ka.idle_s ? t->ka.idle_s : (uint64_t)c->g->conf.tcp_keepalive_time;

	return s * 1000000u;
}

static uint64_t intvl_us(const struct core *c, const struct tcb *t)
{
	uint64_t s = t->ka.intvl_s ? t->ka.intvl_s : (uint64_t)c->g->conf.tcp_keepalive_intvl;

	return s * 1000000u;
}

static int probes(const struct core *c, const struct tcb *t)
{
	return t->ka.probes ? t->ka.probes : c->g->conf.tcp_keepalive_probes;
}

void tcp_set_keepalive(struct core *c, struct tcb *t, bool on, struct keepalive_opts ka)
{
	bool arm = on && (!t->keepalive || ka.idle_s != t->ka.idle_s);

	if (on && !t->keepalive)
		t->ka_probes = 0;
	t->keepalive = on;
	t->ka = ka;
	if (arm)
		timer_arm(c, t, TT_KEEPALIVE, t->last_rx_us + idle_us(c, t));
	else if (!on)
		timer_cancel(t, TT_KEEPALIVE);
}

void tcp_keepalive_fire(struct core *c, struct tcb *t)
{
	int st = tcb_state(t);
	uint64_t quiet_until = t->last_rx_us + idle_us(c, t);

	if (!t->keepalive)
		return;
	if (c->now_us < quiet_until) {
		t->ka_probes = 0; /* the peer spoke: wait for the next silence */
		timer_arm(c, t, TT_KEEPALIVE, quiet_until);
		return;
	}
	/* only an idle synchronized connection is probed: with data in
	 * flight the retransmission timer tests the peer */
	if ((st != TCPS_ESTABLISHED && st != TCPS_CLOSE_WAIT) || t->snd_una != t->snd_max) {
		timer_arm(c, t, TT_KEEPALIVE, c->now_us + idle_us(c, t));
		return;
	}
	if (t->ka_probes >= probes(c, t)) {
		tcp_abort_timedout(c, t, "keep-alives unanswered");
		return;
	}
	tcp_send_keepalive(c, t);
	t->ka_probes++;
	timer_arm(c, t, TT_KEEPALIVE, c->now_us + intvl_us(c, t));
}
