/*
 * rcv.c - the receive side of a TCB: the copying ring buffer (standard mTCP
 * path), the zero-copy stream (thesis ch. 3), optionally with an
 * application-aware record stream on top (thesis ch. 4), behind one
 * interface so that tcp/input.c does not care which.
 */
#include <errno.h>

#include "tcp/bufcache.h"
#include "tcp/rcvbuf.h"
#include "tcp/tcp.h"
#if AATCP_WITH_ZC /* hook: zero-copy receive (thesis ch. 3) */
#include "zc/zc_stream.h"
#endif
#if AATCP_WITH_AA /* hook: record streams (thesis ch. 4) */
#include "aa/aa_stream.h"
#endif
#if AATCP_WITH_FWD /* hook: forwarding and splice (thesis ch. 5) */
#include "fwd/splice.h"
#endif

#if AATCP_WITH_ZC /* hook */
/* The zero-copy stream calls this for every node that becomes in-order:
 * the application-aware parser sees it first, while the packet is still in
 * the cache (thesis 4.1), then the splice, if any, forwards it. */
static void deliver_node(void *arg, struct zc_node *n)
{
	struct tcb *t = arg;

#if AATCP_WITH_AA /* hook */
	if (t->aa)
		aa_stream_deliver(t->aa, n);
#endif
#if AATCP_WITH_FWD /* hook */
	if (t->splice)
		splice_node(t->core, t, n);
#endif
	(void)t;
	(void)n;
}

void rcv_hook_deliver(struct tcb *t)
{
	t->zc.deliver = deliver_node;
	t->zc.deliver_arg = t;
}

#endif /* AATCP_WITH_ZC */

#if AATCP_WITH_AA /* hook */
int rcv_attach_aa(struct core *c, struct tcb *t, const struct aa_module *mod,
		  const void *params)
{
	struct aa_stream_config cfg = {.rcvbuf = t->rcvbuf_size, .mss = t->our_mss};

	(void)c;
	if (t->rcv_mode != RCV_ZC)
		return -EINVAL; /* records are built on the zero-copy stream */
	t->aa = aa_stream_create(mod, params, &t->zc, &cfg);
	if (!t->aa)
		return -ENOMEM;
	rcv_hook_deliver(t);
	return 0;
}

/* Events for the application after the stream moved: records, or bytes. */
static void raise_aa(struct core *c, struct tcb *t)
{
	if (aa_stream_events(t->aa))
		tcb_raise(c, t, TEV_IN); /* thesis 4.1: woken only for whole records */
}
#endif /* AATCP_WITH_AA */

int64_t rcv_data(struct core *c, struct tcb *t, struct rte_mbuf *m,
		 const char *payload, uint32_t seq, uint32_t len)
{
	int64_t n;

	if (t->rcv_mode != RCV_ZC) {
		n = rcvbuf_input(t->rb, payload, seq, len, &t->rcv_nxt);
		if (n > 0)
			tcb_raise(c, t, TEV_IN);
		return n;
	}
#if AATCP_WITH_ZC /* hook */
	n = zc_stream_input(&t->zc, m, payload, seq, len, &t->rcv_nxt);
	if (n < 0) {
		count_drop(&c->cnt, DROP_tcp_no_node);
		return n;
	}
#if AATCP_WITH_AA /* hook */
	if (t->aa) {
		if (n > 0)
			aa_stream_reclaim(t->aa);
		raise_aa(c, t);
	} else
#endif
#if AATCP_WITH_FWD /* hook */
	if (n > 0 && (!t->splice || t->splice->app_reads))
#else
	if (n > 0)
#endif
		tcb_raise(c, t, TEV_IN);
#if AATCP_WITH_FWD /* hook */
	if (n > 0 && t->splice)
		splice_after_input(c, t);
#endif
#else
	(void)m;
	n = -1; /* no receive mode but the ring without zc/ */
#endif
	return n;
}

uint32_t rcv_buffer_space(const struct tcb *t)
{
	if (t->rcv_mode != RCV_ZC)
		return t->rb ? rcvbuf_space(t->rb) : t->rcvbuf_size; /* SYN_RCVD: none yet */
#if AATCP_WITH_ZC /* hook */
	/* Receive buffer minus the bytes the application still holds (thesis
	 * figure 3.3's rcv_wnd, docs/zero-copy.md); with records, the bytes
	 * of every packet a record or the parser still holds (test_zc_stream,
	 * test_aa_stream). A splice hands its packets on at once (their
	 * outbound list is bounded in fwd/splice.c, splice_window()). */
	uint64_t held = t->zc.held_bytes;

#if AATCP_WITH_AA /* hook */
	if (t->aa)
		held = aa_stream_held_bytes(t->aa);
#endif
	return held >= t->rcvbuf_size ? 0 : t->rcvbuf_size - (uint32_t)held;
#else
	return 0;
#endif
}

uint32_t rcv_space(struct core *c, struct tcb *t)
{
	uint32_t space = rcv_buffer_space(t);

#if AATCP_WITH_FWD /* hook */
	if (t->splice) {
		/* thesis 5.1.2: the spliced sender gets alpha * w_c */
		uint32_t ws = splice_window(c, t);
		if (ws < space)
			space = ws;
	}
#else
	(void)c;
#endif
	return space;
}

int rcv_sack_blocks(const struct tcb *t, uint32_t *l, uint32_t *r, int max)
{
#if AATCP_WITH_ZC /* hook */
	if (t->rcv_mode == RCV_ZC)
		return zc_stream_sack_blocks(&t->zc, l, r, max);
#endif
	return t->rb ? rcvbuf_sack_blocks(t->rb, l, r, max) : 0;
}

void rcv_reclaim(struct core *c, struct tcb *t)
{
	if (t->rcv_mode != RCV_ZC)
		return;
#if AATCP_WITH_AA /* hook */
	if (t->aa) {
		aa_stream_reclaim(t->aa);
		raise_aa(c, t);
		return;
	}
#endif
#if AATCP_WITH_ZC /* hook */
	zc_stream_reclaim(&t->zc);
#endif
	(void)c;
}

void rcv_fin(struct core *c, struct tcb *t)
{
#if AATCP_WITH_AA /* hook */
	if (t->aa) {
		aa_stream_fin(t->aa);
		raise_aa(c, t);
	}
#endif
#if AATCP_WITH_FWD /* hook */
	if (t->splice)
		splice_fin(c, t);
#endif
	(void)c;
	(void)t;
}

void rcv_abort(struct core *c, struct tcb *t)
{
#if AATCP_WITH_AA /* hook */
	if (t->aa) {
		/* not aa_stream_fin(): a record cut by a reset is not complete */
		aa_stream_abort(t->aa);
		raise_aa(c, t);
	}
#endif
#if AATCP_WITH_FWD /* hook */
	if (t->splice) /* as rcv_fin(): the splice's own RST handling follows */
		splice_fin(c, t);
#endif
	(void)c;
	(void)t;
}

void rcv_destroy(struct core *c, struct tcb *t)
{
	(void)c;
	if (t->rcv_mode == RCV_ZC) {
#if AATCP_WITH_AA /* hook */
		if (t->aa)
			aa_stream_destroy(t->aa);
		t->aa = NULL;
#endif
#if AATCP_WITH_ZC /* hook */
		if (t->zc.pool)
			zc_stream_destroy(&t->zc);
		t->zc.pool = NULL;
#endif
	} else {
		bufcache_rcv_put(c, t->rb);
		t->rb = NULL;
	}
}
