/* splice.c - see splice.h. */
#include "fwd/splice.h"

#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#if AATCP_WITH_AA /* records and splice together (thesis 5.2) */
#include "aa/aa_stream.h"
#endif
#include "common/log.h"
#include "common/seq.h"
#include "fwd/outlist.h"
#include "tcp/bufcache.h"
#include "tcp/rcvbuf.h"
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"
#include "zc/zc_stream.h"

struct outlist *fwd_outlist(struct core *c, struct tcb *t)
{
	if (!t->out)
		t->out = outlist_create(c->out_pool, snd_end(t));
	/* No Nagle on forwarded data: the segments are the original sender's,
	 * which made its own Nagle decision. Holding the short last segment
	 * of a response until the previous one is acknowledged waited for the
	 * client's delayed ACK (~40 ms on Linux) on every keep-alive request:
	 * 22 requests/s instead of thousands (experiments/fig5_7.py). */
	t->nodelay = true;
	return t->out;
}

/* A socket that received into its ring buffer becomes zero-copy: the bytes
 * already there go onto the list as copies (only at splice time). */
static int ring_to_zc(struct core *c, struct tcb *from, struct outlist *o)
{
	char buf[1400];
	size_t n;

	while ((n = rcvbuf_read(from->rb, buf, sizeof(buf))) > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(c->pool);
		char *p = m ? rte_pktmbuf_append(m, (uint16_t)n) : NULL;
		if (!p) {
			rte_pktmbuf_free(m);
			return -ENOMEM;
		}
		memcpy(p, buf, n);
		int rc = outlist_append(o, m, p, (uint32_t)n);
		rte_pktmbuf_free(m); /* the list took its own reference */
		if (rc)
			return -ENOMEM;
	}
	bufcache_rcv_put(c, from->rb);
	from->rb = NULL;
	from->rcv_mode = RCV_ZC;
	return zc_stream_init(&from->zc, c->zc_pool) ? -ENOMEM : 0;
}

int splice_link(struct core *c, struct tcb *from, struct tcb *to, bool app_reads)
{
	struct splice *sp;
	struct outlist *o;

	if (from->splice || from == to)
		return -EALREADY;
	o = fwd_outlist(c, to);
	sp = calloc(1, sizeof(*sp));
	if (!o || !sp) {
		free(sp);
		return -ENOMEM;
	}
	if (from->rcv_mode != RCV_ZC && ring_to_zc(c, from, o)) {
		free(sp);
		return -ENOMEM;
	}
	sp->from = from;
	sp->to = to;
	sp->app_reads = app_reads;
	sp->b0 = c->g->conf.splice_b0;
	sp->alpha = 1.0;
	from->splice = sp;
	free(from->splice_mem); /* an earlier, finished splice */
	from->splice_mem = sp;
	to->splice_in = sp;
	/* Segments from `from`'s peer must fit `to`'s peer without a copy:
	 * if `to` has not sent its SYN yet, ask its peer for segments no
	 * larger than what `from`'s peer accepts (reverse direction). */
	if (tcb_state(from) != TCPS_SYN_SENT && tcb_state(to) == TCPS_CLOSED &&
	    from->mss && to->our_mss > from->mss)
		to->our_mss = from->mss;
	/* Data that arrived before the splice goes first, in order. From the
	 * oldest node still kept (zc.reclaim), not from zc.head: with an
	 * application-aware module the parser consumes nodes as it parses them
	 * (aa_stream.c), so a request that arrived between accept and this
	 * splice sits before the head, and starting at the head lost it (the
	 * HTTP-inspecting proxy then never sent the request to the backend:
	 * tests/e2e/test_proxy_e2e.py, test_http_inspection_*). Nothing was
	 * forwarded before, so every byte the stream still has goes. */
	uint64_t walked = 0;
	for (struct zc_node *x = from->zc.reclaim; x && x != from->zc.tail; x = x->next) {
		splice_node(c, from, x);
		walked += x->len;
	}
	/* A node already given back to its pool (consumed and held by nobody)
	 * cannot be forwarded any more: reset rather than forward a stream with
	 * a hole in it. */
	if (from->rcv_mode == RCV_ZC && walked < from->zc.in_bytes) {
		LOG_WARN("splice: %llu bytes received before the splice are gone",
			 (unsigned long long)(from->zc.in_bytes - walked));
		return -EIO;
	}
	rcv_hook_deliver(from);
	splice_after_input(c, from);
	tcp_want_output(c, to);
	return 0;
}

/*
 * RFC 9110 9.3.2 / RFC 9112 6.3: a response to HEAD carries GET's headers,
 * Content-Length included, and no body; only the request says so. The
 * response parser on `to` learns of each HEAD from the request parser on
 * `from` before the answer can arrive: the request is parsed on a node
 * before the node is forwarded, so the announcement precedes the answer
 * (thesis 5.2; tests/e2e/test_proxy_e2e.py::
 * test_http_inspection_matches_access_log). A HEAD parsed late, after the
 * parser paused with its record pool full, is announced with `from`'s next
 * packet. Called for each node before it is forwarded, so requests parsed
 * before the splice count too.
 */
static void announce_heads(struct splice *sp)
{
#if AATCP_WITH_AA
	uint32_t seen;

	if (!sp->from->aa || !sp->to->aa)
		return;
	seen = aa_http_heads_seen(sp->from->aa);
	if (seen == sp->heads_announced)
		return;
	/* -EINVAL when `to` parses something else than HTTP responses */
	(void)aa_http_expect_head(sp->to->aa, (int)(seen - sp->heads_announced));
	sp->heads_announced = seen;
#else
	(void)sp;
#endif
}

void splice_node(struct core *c, struct tcb *from, struct zc_node *n)
{
	struct splice *sp = from->splice;

	announce_heads(sp);

	/* the node pool is as large as the mbuf pool: append cannot run out
	 * while the node's mbuf exists (each node holds one) */
	if (outlist_append(sp->to->out, n->mbuf, n->data.start, n->len)) {
		LOG_WARN("splice: outbound node pool empty, %u bytes lost", n->len);
		return;
	}
	sp->forwarded += n->len;
	c->cnt.splice_segs++;
	tcp_want_output(c, sp->to);
}

void splice_after_input(struct core *c, struct tcb *from)
{
	struct splice *sp = from->splice;
	struct zc_stream *z = &from->zc;
	int n = 0;

	(void)c;
	if (!sp || sp->app_reads || !z->pool)
		return;
	/* Nobody reads `from`: the stream's consumer is the splice itself. */
	for (struct zc_node *x = z->head; x && x != z->tail; x = x->next)
		n++;
	if (n) {
		zc_stream_consume(z, n);
		zc_stream_reclaim(z);
	}
}

static void sample(struct core *c, struct splice *sp)
{
	if (c->now_us - sp->last_sample_us < 1000)
		return;
	sp->last_sample_us = c->now_us;
	struct alpha_sample *s = &sp->samples[sp->n_samples % ALPHA_SAMPLES];
	s->t_us = c->now_us - c->g->start_us;
	s->alpha = (float)sp->alpha;
	s->wc = sp->wc;
	s->b = sp->to->out ? sp->to->out->bytes : 0;
	sp->n_samples++;
}

/* Beyond the thesis: every splice of a core holds its packets in the
 * core's one mbuf pool, and the bound above is per connection; many
 * connections could together hold the whole pool, and then the RX queue has
 * no buffer left for the ACKs that would let the lists drain (a deadlock
 * at 100 connections on one core, table5_2). So what is offered is also
 * bounded by an equal share, per spliced pair, of the pool's free buffers
 * above a reserve of an eighth of the pool, kept for receiving ACKs. The
 * free count (a walk of the per-lcore caches) is read at most once per
 * clock tick of the loop, and only by cores that splice. */
static uint32_t pool_share(struct core *c, const struct tcb *from, uint32_t ws)
{
	uint32_t reserve = c->pool ? c->pool->size / 8 : 0;
	uint32_t pairs = c->tcbs_used / 2 ? c->tcbs_used / 2 : 1;
	uint64_t share;

	if (!c->pool)
		return ws;
	if (c->pool_avail_us != c->now_us + 1) {
		c->pool_avail = rte_mempool_avail_count(c->pool);
		c->pool_avail_us = c->now_us + 1;
	}
	if (c->pool_avail <= reserve)
		return 0;
	share = (uint64_t)(c->pool_avail - reserve) / pairs * from->our_mss;
	return share < ws ? (uint32_t)share : ws;
}

uint32_t splice_window(struct core *c, struct tcb *from)
{
	struct splice *sp = from->splice;
	struct tcb *to = sp->to;
	uint64_t b = to->out ? to->out->bytes : 0;

	/* thesis equation: alpha = f(b / b0), f(x) = 1 / (1 + 9x) */
	sp->alpha = 1.0 / (1.0 + 9.0 * (double)b / (double)sp->b0);
	sp->wc = to->snd_wnd;
	sp->ws = (uint32_t)(sp->alpha * (double)sp->wc);
	/* Beyond the thesis: alpha only slows the sender down, it bounds b
	 * only at an equilibrium that depends on w_c and the RTT (a slow
	 * client with a large window let b reach ~5 b0 in the first 50 ms,
	 * tests/e2e/test_proxy_e2e.py::test_slow_client_bounded_outlist).
	 * Past SPLICE_BMAX_B0 * b0 nothing new is offered, so the list never
	 * holds more than that plus one window already offered (<= rcvbuf;
	 * the core never shrinks an offered window). */
	if (b >= (uint64_t)SPLICE_BMAX_B0 * sp->b0)
		sp->ws = 0;
	sp->ws = pool_share(c, from, sp->ws);
	sample(c, sp);
	return sp->ws;
}

void splice_acked(struct core *c, struct tcb *to)
{
	struct splice *sp = to->splice_in;

	if (!sp || !sp->from->core)
		return;
	tcp_window_update(c, sp->from);
}

void splice_fin(struct core *c, struct tcb *from)
{
	struct splice *sp = from->splice;
	struct tcb *to = sp ? sp->to : NULL;
	int st;

	if (!to || !to->core)
		return;
	st = tcb_state(to);
	/* the peer's FIN goes on once everything before it was sent */
	if (st == TCPS_ESTABLISHED || st == TCPS_CLOSE_WAIT || st == TCPS_SYN_SENT ||
	    st == TCPS_SYN_RCVD) {
		to->fin_queued = true;
		atomic_store(&to->wr_closed, true);
		if (st == TCPS_ESTABLISHED)
			tcp_set_state(c, to, TCPS_FIN_WAIT_1);
		else if (st == TCPS_CLOSE_WAIT)
			tcp_set_state(c, to, TCPS_LAST_ACK);
		tcp_want_output(c, to);
	}
}

static void reset_peer(struct core *c, struct tcb *peer, int err)
{
	int st;

	if (!peer || !peer->core)
		return;
	st = tcb_state(peer);
	if (st == TCPS_CLOSED)
		return;
	if (st != TCPS_SYN_SENT && st != TCPS_TIME_WAIT)
		tcp_send_rst(c, peer);
	tcp_done(c, peer, err ? err : ECONNRESET);
}

void splice_free(struct tcb *t)
{
	free(t->splice_mem);
	t->splice_mem = NULL;
}

void splice_teardown(struct core *c, struct tcb *t, int err)
{
	struct splice *out = t->splice, *in = t->splice_in;
	struct tcb *peer_out = out ? out->to : NULL, *peer_in = in ? in->from : NULL;

	/* Unlink everything first: resetting a peer tears its splices down
	 * too, and must find nothing of ours left to free. */
	t->splice = t->splice_in = NULL;
	if (out)
		out->to->splice_in = NULL;
	if (in)
		in->from->splice = NULL;
	/* the memory stays with the `from` TCB (splice_mem) until it is freed */
	if (!err)
		return;
	reset_peer(c, peer_out, err);
	if (peer_in != peer_out)
		reset_peer(c, peer_in, err);
}
