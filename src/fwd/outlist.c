/* outlist.c - see outlist.h. */
#include "fwd/outlist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "common/seq.h"

struct out_pool {
	struct out_node *free;
	uint32_t n_free, size;
	uint32_t used_hw; /* nodes[0..used_hw-1] were handed out at some time: the
			   * LIFO list keeps the others after them, in order */
	struct out_node *nodes;
};

/* Every node free, handed out from nodes[0] on; nodes from n on were never
 * handed out: still listed in order. */
static void free_first(struct out_pool *p, uint32_t n)
{
	struct out_node *rest = n < p->size ? &p->nodes[n] : NULL;

	for (uint32_t i = n; i-- > 0;) {
		p->nodes[i].next = rest;
		rest = &p->nodes[i];
	}
	p->free = rest;
	p->n_free = p->size;
	p->used_hw = 0;
}

struct out_pool *out_pool_create(uint32_t n)
{
	struct out_pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->nodes = calloc(n, sizeof(*p->nodes));
	if (!p->nodes) {
		free(p);
		return NULL;
	}
	p->size = n;
	free_first(p, n);
	return p;
}

int out_pool_reset(struct out_pool *p)
{
	if (p->n_free != p->size)
		return -EBUSY;
	free_first(p, p->used_hw);
	return 0;
}

uint32_t out_pool_size(const struct out_pool *p)
{
	return p->size;
}

void out_pool_destroy(struct out_pool *p)
{
	if (!p)
		return;
	free(p->nodes);
	free(p);
}

uint32_t out_pool_free_count(const struct out_pool *p)
{
	return p->n_free;
}

static struct out_node *node_get(struct out_pool *p)
{
	struct out_node *n = p->free;

	if (!n)
		return NULL;
	p->free = n->next;
	p->n_free--;
	if ((uint32_t)(n - p->nodes) >= p->used_hw)
		p->used_hw = (uint32_t)(n - p->nodes) + 1;
	memset(n, 0, sizeof(*n));
	return n;
}

static void node_put(struct out_pool *p, struct out_node *n)
{
	rte_pktmbuf_free(n->mbuf);
	n->mbuf = NULL;
	n->next = p->free;
	p->free = n;
	p->n_free++;
}

struct outlist *outlist_create(struct out_pool *pool, uint32_t start_seq)
{
	struct outlist *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->pool = pool;
	o->start_seq = o->end_seq = start_seq;
	return o;
}

void outlist_destroy(struct outlist *o)
{
	if (!o)
		return;
	while (o->head) {
		struct out_node *n = o->head;
		o->head = n->next;
		node_put(o->pool, n);
	}
	free(o);
}

int outlist_append(struct outlist *o, struct rte_mbuf *m, char *p, uint32_t len)
{
	struct out_node *n = node_get(o->pool);

	if (!n)
		return -ENOMEM;
	rte_mbuf_refcnt_update(m, 1);
	n->mbuf = m;
	n->payload = p;
	n->len = len;
	n->seq = o->end_seq; /* thesis 5.1.1: tail->seq + tail->len */
	if (o->tail)
		o->tail->next = n;
	else
		o->head = n;
	o->tail = n;
	o->end_seq += len;
	o->bytes += len;
	o->appended++;
	return 0;
}

/* The node holding sequence number seq (cursor first: in-order sending). */
static struct out_node *find(struct outlist *o, uint32_t seq)
{
	struct out_node *n = o->cursor;

	if (n && seq_geq(seq, n->seq) && seq_lt(seq, n->seq + n->len))
		return n;
	if (n && n->next && seq_geq(seq, n->next->seq) && seq_lt(seq, n->next->seq + n->next->len))
		return n->next;
	for (n = o->head; n; n = n->next)
		if (seq_geq(seq, n->seq) && seq_lt(seq, n->seq + n->len))
			return n;
	return NULL;
}

/* Copies [seq, seq + len) starting in node n (may span nodes). */
static struct rte_mbuf *copy_range(struct out_node *n, uint32_t seq, uint32_t len,
				   struct rte_mempool *pool)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	char *dst;

	if (!m)
		return NULL;
	dst = rte_pktmbuf_append(m, (uint16_t)len);
	if (!dst) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	while (len && n) {
		uint32_t off = seq - n->seq;
		uint32_t k = n->len - off < len ? n->len - off : len;
		memcpy(dst, n->payload + off, k);
		dst += k;
		seq += k;
		len -= k;
		n = n->next;
	}
	return m;
}

struct rte_mbuf *outlist_segment(struct outlist *o, uint32_t seq, uint32_t max,
				 uint32_t *len, struct rte_mempool *pool)
{
	struct out_node *n = find(o, seq);
	struct rte_mbuf *m;

	*len = 0;
	if (!n || !max)
		return NULL;
	o->cursor = n;
	if (seq == n->seq && n->len <= max && !n->sent) {
		/* Zero copy (thesis 5.1.1): the payload stays where it
		 * arrived; the view is reset so the headers are prepended
		 * right in front of it, over the old ones. One more
		 * reference goes to the driver (thesis: "increase the
		 * reference count ... before flushing it to the wire"). */
		m = n->mbuf;
		m->data_off = (uint16_t)(n->payload - (char *)m->buf_addr);
		m->data_len = (uint16_t)n->len;
		m->pkt_len = n->len;
		m->nb_segs = 1;
		m->next = NULL;
		m->ol_flags = 0;
		rte_mbuf_refcnt_update(m, 1);
		n->sent = true;
		*len = n->len;
		return m;
	}
	uint32_t avail = o->end_seq - seq;
	*len = avail < max ? avail : max;
	if (seq == n->seq && n->len <= max)
		*len = n->len; /* keep the original segment boundaries */
	o->copies++;
	return copy_range(n, seq, *len, pool);
}

void outlist_rebase(struct outlist *o, uint32_t start_seq)
{
	uint32_t delta = start_seq - o->start_seq;

	for (struct out_node *n = o->head; n; n = n->next)
		n->seq += delta;
	o->start_seq += delta;
	o->end_seq += delta;
}

uint32_t outlist_ack(struct outlist *o, uint32_t ack)
{
	uint32_t released = 0;

	while (o->head && seq_leq(o->head->seq + o->head->len, ack)) {
		struct out_node *n = o->head;
		o->head = n->next;
		if (!o->head)
			o->tail = NULL;
		if (o->cursor == n)
			o->cursor = NULL;
		released += n->len;
		node_put(o->pool, n);
	}
	o->bytes -= released;
	return released;
}
