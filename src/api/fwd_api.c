/*
 * fwd_api.c - zero-copy forwarding (thesis ch. 5): the standard forward
 * API (mtcp_zc_forward, figure 5.2), the splice API (mtcp_zc_splice, figure
 * 5.3) and the splice's statistics. Both calls use the calling thread's
 * context, as in the thesis' signatures.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "api/internal.h"
#include "fwd/forward.h"
#include "fwd/outlist.h"
#include "fwd/splice.h"
#include "mtcp_zc.h"
#include "tcp/tcp.h"

static struct socket *stream(struct core *c, int id)
{
	return api_sock(c, id, MTCP_SOCK_STREAM);
}

int mtcp_zc_splice_flags(int sockid_from, int sockid_to, unsigned flags)
{
	struct core *c = aatcp_tls_core;
	struct socket *from, *to;
	struct tcb *ft, *tt;

	if (!c) {
		errno = EPERM; /* the calling thread has no context */
		return -1;
	}
	from = stream(c, sockid_from);
	to = from ? stream(c, sockid_to) : NULL;
	if (!to)
		return -1;
	if (from == to || (flags & ~MTCP_SPLICE_READ) || from->splice_to || to->splice_from) {
		errno = EINVAL;
		return -1;
	}
	if (from->aa_mod)
		flags |= MTCP_SPLICE_READ; /* thesis 5.2: the app reads records */
	ft = atomic_load_explicit(&from->link->tcb, memory_order_acquire);
	tt = atomic_load_explicit(&to->link->tcb, memory_order_acquire);
	to->fwd_target = true;
	if (ft && tt) {
		struct cmd cmd = {.type = CMD_SPLICE, .tcb = ft, .tcb2 = tt,
				  .sockid = from->id, .gen = from->gen, .arg = (int)flags};
		cmd_push(c, &cmd);
		return 0;
	}
	if (ft && !to->connecting) {
		/* thesis: splice, then connect the backend */
		to->splice_from = from;
		to->splice_flags = flags;
		to->zc = true; /* it will splice back, most likely: no ring */
		return 0;
	}
	if (tt && !from->connecting) {
		from->splice_to = to;
		from->splice_flags = flags;
		from->zc = true;
		return 0;
	}
	errno = ft || tt ? EISCONN : ENOTCONN;
	return -1;
}

int mtcp_zc_splice(int sockid_from, int sockid_to)
{
	return mtcp_zc_splice_flags(sockid_from, sockid_to, 0);
}

/* Bytes still allowed onto `to`'s list: w = w_max - s (thesis 5.1.2). */
static int64_t forward_window(struct core *c, struct tcb *tt)
{
	struct outlist *o = tt->out;

	return (int64_t)c->g->conf.fwd_wmax - (int64_t)(o ? o->bytes : 0);
}

/* States in which `to` will still send what waits on its list: opening
 * (the list goes out once the handshake ends) or open for sending. */
static bool will_send(int st)
{
	return st == TCPS_SYN_SENT || st == TCPS_SYN_RCVD || st == TCPS_ESTABLISHED ||
	       st == TCPS_CLOSE_WAIT;
}

int mtcp_zc_forward(int sockid_from, int sockid_to, int n)
{
	struct core *c = aatcp_tls_core;
	struct socket *from, *to;
	struct tcb *ft, *tt;
	struct fwd_batch *b;

	if (!c) {
		errno = EPERM;
		return -1;
	}
	from = stream(c, sockid_from);
	to = from ? stream(c, sockid_to) : NULL;
	if (!to)
		return -1;
	ft = atomic_load_explicit(&from->link->tcb, memory_order_acquire);
	tt = atomic_load_explicit(&to->link->tcb, memory_order_acquire);
	if (!ft || !tt || ft->rcv_mode != RCV_ZC || tcb_has_records(ft) || n <= 0 || n > from->zc_out) {
		errno = !ft || !tt ? ENOTCONN : EINVAL;
		return -1;
	}
	if (atomic_load(&tt->wr_closed)) {
		errno = EPIPE; /* shut down for writing: as mtcp_write */
		return -1;
	}
	while (forward_window(c, tt) <= 0) {
		if (!will_send(tcb_state(tt))) {
			errno = EPIPE;
			return -1;
		}
		if (from->nonblock) {
			errno = EAGAIN;
			return -1;
		}
		app_drain_events(c);
		app_wait(c, 10);
	}
	b = malloc(sizeof(*b) + (size_t)n * sizeof(b->items[0]));
	if (!b) {
		errno = ENOMEM;
		return -1;
	}
	b->to = tt;
	b->n = n;
	/* Our own references, taken here (atomic refcounts): the stream
	 * frees its nodes' references as usual once they are consumed. */
	struct zc_node *node = ft->zc.head;
	for (int i = 0; i < n; i++, node = node->next) {
		rte_mbuf_refcnt_update(node->mbuf, 1);
		b->items[i] = (struct fwd_item){.mbuf = node->mbuf, .payload = node->data.start,
						.len = node->len};
	}
	zc_stream_consume(&ft->zc, n);
	from->zc_out -= n;
	to->fwd_target = true;
	struct cmd cmd = {.type = CMD_FORWARD, .ptr = b, .tcb = tt,
			  .sockid = to->id, .gen = to->gen};
	cmd_push(c, &cmd);
	api_reclaim(c, from, ft);
	return n;
}

static struct splice *splice_of(mctx_t mctx, int sockid)
{
	struct core *c = api_core(mctx);
	struct socket *s = c ? stream(c, sockid) : NULL;
	struct tcb *t = s ? atomic_load_explicit(&s->link->tcb, memory_order_acquire) : NULL;

	if (!t || !t->splice_mem) {
		if (s)
			errno = ENOENT;
		return NULL;
	}
	return t->splice_mem;
}

int mtcp_zc_splice_stats(mctx_t mctx, int sockid_from, struct mtcp_splice_stats *st)
{
	struct splice *sp = splice_of(mctx, sockid_from);

	if (!sp || !st) {
		if (sp)
			errno = EINVAL;
		return -1;
	}
	/* written by the network thread: a consistent-enough snapshot for
	 * monitoring, read without stopping it */
	st->alpha = sp->alpha;
	st->w_c = sp->wc;
	st->w_s = sp->ws;
	st->b = sp->to && sp->from && sp->from->splice == sp && sp->to->out ? sp->to->out->bytes : 0;
	st->b0 = sp->b0;
	st->forwarded = sp->forwarded;
	st->n_samples = sp->n_samples;
	st->active = sp->from && sp->from->splice == sp;
	return 0;
}

int mtcp_zc_splice_samples(mctx_t mctx, int sockid_from, struct mtcp_alpha_sample *out,
			   int max)
{
	struct splice *sp = splice_of(mctx, sockid_from);

	if (!sp || !out || max <= 0) {
		if (sp)
			errno = EINVAL;
		return -1;
	}
	uint64_t total = sp->n_samples;
	uint64_t have = total < ALPHA_SAMPLES ? total : ALPHA_SAMPLES;
	uint64_t k = have < (uint64_t)max ? have : (uint64_t)max;
	for (uint64_t i = 0; i < k; i++) {
		const struct alpha_sample *s = &sp->samples[(total - k + i) % ALPHA_SAMPLES];
		out[i] = (struct mtcp_alpha_sample){.t_us = s->t_us, .alpha = s->alpha,
						    .w_c = s->wc, .b = s->b};
	}
	return (int)k;
}
