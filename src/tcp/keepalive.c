/*
 * keepalive.c - TCP keep-alives (RFC 9293 3.8.4, RFC 1122 4.2.3.6), on a
 * connection whose application set SO_KEEPALIVE: after KEEPALIVE_IDLE of
 * silence from the peer, a probe (an ACK at SND.NXT - 1, which the peer
 * must answer) every KEEPALIVE_INTVL; KEEPALIVE_CNT probes unanswered and
 * the peer is dead: the connection is reset with ETIMEDOUT. Linux's
 * defaults (tcp_keepalive_time, _intvl, _probes); RFC 9293 asks for an
 * idle time of no less than two hours.
 *
 * Such a connection is not ended by tcp_timeout (timeouts.c idle()): the
 * application asked for this test of the peer instead.
 */
#include <errno.h>

#include "tcp/tcp.h"
#include "tcp/timer.h"

#define KEEPALIVE_IDLE_US (7200ull * 1000000u)
#define KEEPALIVE_INTVL_US (75ull * 1000000u)
#define KEEPALIVE_CNT 9

void tcp_set_keepalive(struct core *c, struct tcb *t, bool on)
{
	t->keepalive = on;
	t->ka_probes = 0;
	if (on)
		timer_arm(c, t, TT_KEEPALIVE, t->last_rx_us + KEEPALIVE_IDLE_US);
	else
		timer_cancel(t, TT_KEEPALIVE);
}

void tcp_keepalive_fire(struct core *c, struct tcb *t)
{
	int st = tcb_state(t);
	uint64_t quiet_until = t->last_rx_us + KEEPALIVE_IDLE_US;

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
		timer_arm(c, t, TT_KEEPALIVE, c->now_us + KEEPALIVE_IDLE_US);
		return;
	}
	if (t->ka_probes >= KEEPALIVE_CNT) {
		tcp_send_rst(c, t);
		tcp_done(c, t, ETIMEDOUT);
		return;
	}
	tcp_send_keepalive(c, t);
	t->ka_probes++;
	timer_arm(c, t, TT_KEEPALIVE, c->now_us + KEEPALIVE_INTVL_US);
}
