/*
 * snd.c - the send side of a TCB: the copying send buffer (mTCP's path),
 * followed, once something was forwarded or spliced onto the socket, by the
 * zero-copy outbound list (thesis ch. 5, fwd/). Sequence numbers below the
 * list's start come from the buffer, the rest from the list.
 */
#include "tcp/bufcache.h"
#include "tcp/sacksnd.h"
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"

#include "common/seq.h"
#if AATCP_WITH_FWD /* hook: forwarding and splice (thesis ch. 5) */
#include "fwd/outlist.h"
#include "fwd/splice.h"
#endif

uint32_t snd_end(const struct tcb *t)
{
#if AATCP_WITH_FWD /* hook */
	if (t->out)
		return t->out->end_seq;
#endif
	return sndbuf_end_seq(t->sb);
}

static struct rte_mbuf *copy_segment(struct core *c, struct tcb *t, uint32_t seq,
				     uint32_t max, uint32_t *len, uint64_t *sum)
{
	uint32_t end = sndbuf_end_seq(t->sb);
	uint32_t avail = end - seq;
	struct rte_mbuf *m;

	*len = avail < max ? avail : max;
	m = rte_pktmbuf_alloc(c->pool);
	if (!m) {
		count_drop(&c->cnt, DROP_mbuf_alloc);
		return NULL;
	}
	char *dst = rte_pktmbuf_append(m, (uint16_t)*len);
	if (!dst) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	/* without checksum offload, the copy is also the checksum pass */
	*sum = sndbuf_copy(t->sb, seq, dst, *len, !t->port->tx_tcp_csum);
	if (t->port->tx_tcp_csum)
		*sum = SND_NO_SUM;
	return m;
}

struct rte_mbuf *snd_segment(struct core *c, struct tcb *t, uint32_t seq,
			     uint32_t max, uint32_t *len, uint64_t *sum)
{
	*sum = SND_NO_SUM;
#if AATCP_WITH_FWD /* hook */
	if (!t->out || seq_lt(seq, t->out->start_seq)) {
		/* a segment never straddles the boundary: stop at it */
		if (t->out && seq_gt(seq + max, t->out->start_seq))
			max = t->out->start_seq - seq;
		return copy_segment(c, t, seq, max, len, sum);
	}
	struct rte_mbuf *m = outlist_segment(t->out, seq, max, len, c->pool);
	if (!m && *len)
		count_drop(&c->cnt, DROP_mbuf_alloc);
	return m;
#else
	return copy_segment(c, t, seq, max, len, sum);
#endif
}

uint32_t snd_acked(struct core *c, struct tcb *t, uint32_t ack)
{
#if AATCP_WITH_FWD /* hook */
	uint32_t n = sndbuf_ack(t->sb, t->out && seq_gt(ack, t->out->start_seq) ?
					     t->out->start_seq : ack);

	if (t->out) {
		uint32_t k = outlist_ack(t->out, ack);
		n += k;
		if (k)
			splice_acked(c, t); /* b shrank: the spliced sender may open */
	}
	return n;
#else
	(void)c;
	return sndbuf_ack(t->sb, ack);
#endif
}

void snd_destroy(struct core *c, struct tcb *t)
{
	bufcache_snd_put(c, t->sb);
	t->sb = NULL;
#if AATCP_WITH_FWD /* hook */
	outlist_destroy(t->out);
	t->out = NULL;
#endif
	sacksnd_free(c, t);
}
