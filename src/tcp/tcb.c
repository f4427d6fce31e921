/*
 * tcb.c - TCB pool, setup and teardown, state changes and the per-iteration
 * work lists (output, events).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/log.h"
#include "io/steer.h"
#include "tcp/bufcache.h"
#include "tcp/cc.h"
#include "tcp/flow.h"
#include "tcp/rcvbuf.h"
#include "tcp/rtt.h"
#include "tcp/secret.h"
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"
#include "tcp/timer.h"
#if AATCP_WITH_ZC /* hook: zero-copy receive (thesis ch. 3) */
#include "zc/zc_stream.h"
#endif
#if AATCP_WITH_FWD /* hook: forwarding and splice (thesis ch. 5) */
#include "fwd/splice.h"
#endif

static const char *const state_names[] = {
	"CLOSED", "LISTEN", "SYN_SENT", "SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1",
	"FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT",
};

const char *tcp_state_name(int s)
{
	return s >= 0 && s <= TCPS_TIME_WAIT ? state_names[s] : "?";
}

struct tcb *tcb_alloc(struct core *c)
{
	struct tcb *t = c->tcb_free ? c->tcb_free : tcp_time_wait_recycle(c);

	if (!t)
		return NULL;
	c->tcb_free = t->pool_next;
	uint32_t id = t->id;
	if (id >= c->tcbs_hw)
		c->tcbs_hw = id + 1;
	/* memset below also clears in_pool and the list flags */
	memset(t, 0, sizeof(*t));
	t->id = id;
	t->core = c;
	atomic_init(&t->sockid, -1);
	atomic_init(&t->state, TCPS_CLOSED);
	c->tcbs_used++;
	return t;
}

static uint8_t wscale_for(uint32_t rcvbuf)
{
	uint8_t s = 0;

	/* RFC 7323 2.3: the smallest shift that lets the 16-bit field span
	 * the whole receive buffer. */
	while (s < 14 && (rcvbuf >> s) > 65535u)
		s++;
	return s;
}

void tcb_params(struct core *c, struct tcb *t, uint32_t rcvbuf, uint32_t sndbuf)
{
	t->rcvbuf_size = rcvbuf;
	t->sndbuf_size = sndbuf;
	t->rcv_wscale = wscale_for(rcvbuf);
	t->our_mss = (uint16_t)(t->port->mtu - 40);
	t->mss = 536; /* RFC 9293 3.7.1 default until the peer says more */
	rtt_init(t);
	t->last_rx_us = c->now_us;
}

int tcb_buffers(struct core *c, struct tcb *t)
{
	if (t->rcv_mode == RCV_ZC) {
#if AATCP_WITH_ZC /* hook */
		if (!t->zc.pool && zc_stream_init(&t->zc, c->zc_pool))
			return -ENOMEM;
#else
		(void)c;
		return -EINVAL;
#endif
	} else if (!t->rb) {
		t->rb = bufcache_rcv_get(c, t->rcvbuf_size);
		if (!t->rb)
			return -ENOMEM;
	}
	if (!t->sb)
		t->sb = bufcache_snd_get(c, t->sndbuf_size);
	return t->sb ? 0 : -ENOMEM;
}

int tcb_setup(struct core *c, struct tcb *t, uint32_t rcvbuf, uint32_t sndbuf)
{
	tcb_params(c, t, rcvbuf, sndbuf);
	return tcb_buffers(c, t);
}

void tcp_set_state(struct core *c, struct tcb *t, int state)
{
	int was = tcb_state(t);

	LOG_DBG("tcb %u: %s -> %s", t->id, tcp_state_name(was), tcp_state_name(state));
	tcp_time_wait_track(c, t, was, state);
	atomic_store_explicit(&t->state, state, memory_order_release);
}

void tcb_raise(struct core *c, struct tcb *t, uint32_t bits)
{
	t->ev_bits |= bits;
	if (!t->on_ev_list) {
		t->on_ev_list = true;
		t->ev_next = c->ev_list;
		c->ev_list = t;
	}
}

void tcp_want_output(struct core *c, struct tcb *t)
{
	if (!t->on_out_list) {
		t->on_out_list = true;
		t->out_next = c->out_list;
		c->out_list = t;
	}
}

uint32_t tcp_iss(struct core *c, const struct tcb *t)
{
	/* RFC 6528 section 3: ISN = M + F(localip, localport, remoteip,
	 * remoteport, secretkey), M the 4 us clock of RFC 9293 3.4.1, F
	 * SipHash-2-4 under the per-boot key (secret.c). */
	uint32_t f = (uint32_t)secret_hash(SECRET_ISN, t->laddr, t->lport, t->raddr, t->rport, 0);

	return (uint32_t)(c->now_us / 4) + f;
}

uint32_t tcp_ts_now(const struct core *c)
{
	return (uint32_t)(c->now_us / 1000); /* RFC 7323 5.4: 1 ms ticks */
}

static void release_buffers(struct core *c, struct tcb *t)
{
	rcv_destroy(c, t);
	snd_destroy(c, t);
}

void tcp_done(struct core *c, struct tcb *t, int err)
{
	int was = tcb_state(t);

	if (err)
		atomic_store_explicit(&t->error, err, memory_order_release);
#if AATCP_WITH_AA /* hook */
	if (t->aa && !atomic_load(&t->rd_closed))
		rcv_abort(c, t); /* record readers see the end of their stream (no FIN:
				  * a record cut here is an error, not a record) */
#endif
	if (was != TCPS_CLOSED) {
		flow_remove(c->flows, t);
		c->cnt.conn_closed++;
	}
	timer_unfile(c, t);
	memset(t->timer_at, 0, sizeof(t->timer_at));
	tcp_set_state(c, t, TCPS_CLOSED);
#if AATCP_WITH_FWD /* hook */
	/* thesis ch. 5 proxy: carry a RST across, except one that ends
	 * TIME-WAIT: both directions of this side ended with every byte
	 * acknowledged (RFC 9293 3.6), so the other side closes on its own */
	splice_teardown(c, t, was == TCPS_TIME_WAIT ? 0 : err);
#endif
	tcb_raise(c, t, TEV_IN | TEV_HUP | TEV_RDHUP | (err ? TEV_ERR : 0));
	/* A half-open passive connection was never handed to the application:
	 * nobody else will release it. */
	if (was == TCPS_SYN_RCVD && t->listener) {
		atomic_fetch_sub(&t->listener->syn_count, 1);
		t->listener = NULL;
		t->app_closed = true;
	}
	if (t->app_closed)
		tcb_free(c, t);
}

void tcb_free(struct core *c, struct tcb *t)
{
	if (!t->core)
		return; /* already free */
	if (tcb_state(t) != TCPS_CLOSED) {
		flow_remove(c->flows, t);
		c->cnt.conn_closed++;
		tcp_set_state(c, t, TCPS_CLOSED);
	}
	/* an active open's 4-tuple is free again for every core (io/steer.h) */
	steer_release(c, t->port, t->laddr, t->lport, t->raddr, t->rport);
	timer_unfile(c, t);
#if AATCP_WITH_FWD /* hook */
	splice_teardown(c, t, 0);
	splice_free(t);
#endif
	release_buffers(c, t);
	if (t->orphan) {
		t->orphan = false;
		atomic_fetch_sub(&c->orphans, 1);
	}
	/* Still on a work list: the list walker returns it to the pool. */
	t->core = NULL;
	tcb_release_if_dead(c, t);
}

void tcb_release_if_dead(struct core *c, struct tcb *t)
{
	if (t->core || t->on_out_list || t->on_ev_list || t->on_arp_list || t->in_pool)
		return;
	t->in_pool = true;
	t->pool_next = c->tcb_free;
	c->tcb_free = t;
	c->tcbs_used--;
}
