/*
 * rcv.c - the receive side of a TCB: the copying ring buffer (standard mTCP
 * path) or the zero-copy stream (thesis ch. 3), behind one interface so that
 * tcp/input.c does not care which.
 */
#include "tcp/rcvbuf.h"
#include "tcp/tcp.h"
#include "zc/zc_stream.h"

int64_t rcv_data(struct core *c, struct tcb *t, struct rte_mbuf *m,
		 const char *payload, uint32_t seq, uint32_t len)
{
	if (t->rcv_mode == RCV_ZC) {
		int64_t n = zc_stream_input(&t->zc, m, payload, seq, len, &t->rcv_nxt);
		if (n < 0)
			count_drop(&c->cnt, DROP_tcp_no_node);
		return n;
	}
	return rcvbuf_input(t->rb, payload, seq, len, &t->rcv_nxt);
}

uint32_t rcv_space(struct core *c, struct tcb *t)
{
	(void)c;
	if (t->rcv_mode == RCV_ZC) {
		/* DESIGN.md: advertised window = receive buffer minus the bytes
		 * the application still holds (thesis figure 3.3's rcv_wnd). */
		uint64_t held = t->zc.held_bytes;
		return held >= t->rcvbuf_size ? 0 : t->rcvbuf_size - (uint32_t)held;
	}
	return rcvbuf_space(t->rb);
}

int rcv_sack_blocks(const struct tcb *t, uint32_t *l, uint32_t *r, int max)
{
	if (t->rcv_mode == RCV_ZC)
		return zc_stream_sack_blocks(&t->zc, l, r, max);
	return t->rb ? rcvbuf_sack_blocks(t->rb, l, r, max) : 0;
}

void rcv_reclaim(struct core *c, struct tcb *t)
{
	(void)c;
	if (t->rcv_mode == RCV_ZC)
		zc_stream_reclaim(&t->zc);
}

void rcv_fin(struct core *c, struct tcb *t)
{
	(void)c;
	(void)t;
}

void rcv_destroy(struct core *c, struct tcb *t)
{
	(void)c;
	if (t->rcv_mode == RCV_ZC) {
		if (t->zc.pool)
			zc_stream_destroy(&t->zc);
		t->zc.pool = NULL;
	} else {
		rcvbuf_destroy(t->rb);
		t->rb = NULL;
	}
}
