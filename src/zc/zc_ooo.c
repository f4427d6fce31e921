/*
 * zc_ooo.c - the out-of-order queue of the zero-copy stream (thesis 3.1.2,
 * figure 3.5) and the SACK blocks that describe it (RFC 2018).
 *
 * A doubly-linked list of nodes sorted by sequence number, owned by the
 * network thread alone (the consumer never sees it, so plain accesses).
 * Invariant: node.seq + node.len <= node.next.seq, every node after rcv_nxt.
 *  - the head is probed after every in-order append: O(1);
 *  - insertion searches from the tail: after a loss the following segments
 *    arrive in order, each one lands after the current tail, O(1) (3.1.2);
 *  - overlaps are resolved so that one offered segment yields at most one
 *    node: a neighbour that overlaps it partially wins (the new segment is
 *    trimmed to the gap), nodes that it covers entirely are dropped and
 *    replaced by it. TCP data at a given sequence number is the same in
 *    every copy, so which copy survives only matters for memory: this rule
 *    never needs a second node (and a second reference on the same mbuf)
 *    for a segment that spans an existing node on both sides.
 */
#include <errno.h>

#include "common/seq.h"
#include "zc/zc_internal.h"
#include "zc/zc_stream.h"

static inline uint32_t node_end(const struct zc_node *n)
{
	return n->seq + n->len;
}

static void unlink_node(struct zc_stream *s, struct zc_node *n)
{
	if (n->prev)
		n->prev->next = n->next;
	else
		s->ooo_head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		s->ooo_tail = n->prev;
	n->next = n->prev = NULL;
	n->flags &= ~ZC_NODE_F_OOO;
	s->ooo_nodes--;
	s->ooo_bytes -= n->len;
	if (s->ooo_last == n)
		s->ooo_last = NULL;
}

/* Links n after p (p == NULL: at the head). */
static void link_after(struct zc_stream *s, struct zc_node *p,
		       struct zc_node *n)
{
	n->prev = p;
	n->next = p ? p->next : s->ooo_head;
	if (n->next)
		n->next->prev = n;
	else
		s->ooo_tail = n;
	if (p)
		p->next = n;
	else
		s->ooo_head = n;
	n->flags |= ZC_NODE_F_OOO;
	s->ooo_nodes++;
	s->ooo_bytes += n->len;
	s->ooo_inserts++;
	s->ooo_last = n;
}

struct zc_node *zc_ooo_pop_head(struct zc_stream *s)
{
	struct zc_node *n = s->ooo_head;

	if (n)
		unlink_node(s, n);
	return n;
}

struct zc_node *zc_ooo_pop_tail(struct zc_stream *s)
{
	struct zc_node *n = s->ooo_tail;

	if (n)
		unlink_node(s, n);
	return n;
}

/* Last node that starts at or before seq, searching from the tail. */
static struct zc_node *find_pred(const struct zc_stream *s, uint32_t seq)
{
	struct zc_node *p = s->ooo_tail;

	while (p && seq_gt(p->seq, seq))
		p = p->prev;
	return p;
}

/*
 * [seq, seq + len) with seq > rcv_nxt. Returns 0 (kept, or a duplicate),
 * -1 when a node was needed and the pool is empty (nothing changed).
 */
int zc_ooo_insert(struct zc_stream *s, struct rte_mbuf *m, const char *payload,
		  uint32_t seq, uint32_t len)
{
	uint32_t a = seq, b = seq + len;
	struct zc_node *p = find_pred(s, seq), *n, *node;

	/* The predecessor starts at or before us: it keeps its bytes. */
	if (p && seq_gt(node_end(p), a)) {
		if (seq_geq(node_end(p), b)) {
			s->dup_bytes += len; /* nothing new (e.g. a duplicate) */
			return 0;
		}
		a = node_end(p);
	}
	/* Successors starting inside [a, b): dropped if we cover them, else
	 * (the last one, overlapping our end) they keep their bytes. */
	for (n = p ? p->next : s->ooo_head; n && seq_lt(n->seq, b);) {
		if (seq_gt(node_end(n), b)) {
			b = n->seq;
			break;
		}
		n = n->next;
	}
	if (a == b) { /* the gap was already filled */
		s->dup_bytes += len;
		return 0;
	}
	node = zc_pool_get(s->pool);
	if (!node)
		return -ENOMEM;
	/* From here on nothing can fail: drop the covered nodes. */
	while ((n = p ? p->next : s->ooo_head) && seq_lt(n->seq, b)) {
		unlink_node(s, n);
		s->dup_bytes += n->len;
		zc_node_free(s->pool, n);
	}
	s->dup_bytes += len - (b - a);
	zc_mbuf_take_ref(m);
	zc_node_fill(node, m, payload + (a - seq), a, b - a);
	link_after(s, p, node);
	return 0;
}

/* Extends [*l, *r) over contiguous neighbours of n; returns the run's first
 * node. */
static const struct zc_node *run_of(const struct zc_node *n, uint32_t *l,
				    uint32_t *r)
{
	const struct zc_node *first = n, *last = n;

	while (first->prev && node_end(first->prev) == first->seq)
		first = first->prev;
	while (last->next && node_end(last) == last->next->seq)
		last = last->next;
	*l = first->seq;
	*r = node_end(last);
	return first;
}

/*
 * RFC 2018 section 4: the first block must contain the most recently
 * received segment; the others should repeat the most recently reported
 * blocks. Without a history we report the remaining runs from the highest
 * down: after a loss the newest data is usually the highest.
 */
int zc_stream_sack_blocks(const struct zc_stream *s, uint32_t *left,
			  uint32_t *right, int max)
{
	const struct zc_node *first_run = NULL, *n;
	int count = 0;

	if (max <= 0 || !s->ooo_head)
		return 0;
	if (s->ooo_last) {
		first_run = run_of(s->ooo_last, &left[0], &right[0]);
		count = 1;
	}
	for (n = s->ooo_tail; n && count < max;) {
		uint32_t l, r;
		const struct zc_node *first = run_of(n, &l, &r);

		if (first != first_run) {
			left[count] = l;
			right[count] = r;
			count++;
		}
		n = first->prev;
	}
	return count;
}
