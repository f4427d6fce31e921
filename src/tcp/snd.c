/*
 * snd.c - the send side of a TCB: the copying send buffer (mTCP's path), or
 * the zero-copy outbound list of forwarded packets (thesis ch. 5, fwd/).
 */
#include "tcp/sndbuf.h"
#include "tcp/tcp.h"

uint32_t snd_end(const struct tcb *t)
{
	return sndbuf_end_seq(t->sb);
}

struct rte_mbuf *snd_segment(struct core *c, struct tcb *t, uint32_t seq,
			     uint32_t max, uint32_t *len)
{
	uint32_t avail = snd_end(t) - seq;
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
	sndbuf_copy(t->sb, seq, dst, *len);
	return m;
}

uint32_t snd_acked(struct core *c, struct tcb *t, uint32_t ack)
{
	(void)c;
	return sndbuf_ack(t->sb, ack);
}

void snd_destroy(struct core *c, struct tcb *t)
{
	(void)c;
	sndbuf_destroy(t->sb);
	t->sb = NULL;
}
