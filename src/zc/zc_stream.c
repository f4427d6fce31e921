/*
 * zc_stream.c - the in-order zero-copy list shared by the network thread
 * (producer) and the application thread (consumer), thesis figures 3.2-3.3
 * and section 3.2.1. The out-of-order queue is in zc_ooo.c, the invariant
 * checker in zc_check.c.
 *
 * Why no lock is needed (thesis 3.2.1)
 * ------------------------------------
 * The list always ends with a fresh sentinel node that holds no data:
 *
 *     reclaim -> ... -> head -> ... -> [last data node] -> tail (sentinel)
 *     `-- consumed, not yet --'  `-- pending for the --'
 *         given back                 consumer
 *
 * Each pointer has exactly one writer:
 *   - `head` is written only by the consumer, which moves it forward;
 *   - `tail`, every `next` link and every node's payload fields are written
 *     only by the network thread; `reclaim` too (it frees behind `head`).
 *
 * Appending: the network thread fills the *current sentinel* in place (seq,
 * len, mbuf, data), then publishes a new empty sentinel with a store-release
 * of `sentinel->next`. A node holds data iff its `next` is non-NULL, so the
 * consumer reads a node's fields only after a load-acquire of its `next`
 * returned non-NULL; the release/acquire pair makes the fields written
 * before the link visible. The consumer never reads `tail` at all.
 *
 * The empty list: head == tail == the sentinel, whose `next` is NULL. The
 * consumer sees NULL and reports nothing pending; it can never move `head`
 * past a node whose `next` is NULL, so it never needs to touch `tail`. With
 * the textbook NULL-terminated list the consumer would have to set
 * tail = NULL when it removes the last node, racing with the producer
 * appending to that very node - the sentinel removes that write (and that
 * race) altogether. The producer never writes a node once its `next` is
 * published, except net-thread-only fields (refs, flags).
 *
 * Freeing: the consumer publishes `head` with a store-release after it has
 * finished reading the consumed nodes and their payload; the network thread
 * loads `head` with acquire in zc_stream_reclaim() and only then frees the
 * nodes before it and their mbufs. That orders the application's last read
 * of a packet before the packet's reuse. Only the network thread returns
 * nodes and mbufs to their pools, so the per-lcore mempool cache and the
 * node pool need no synchronisation either.
 *
 * Byte counts: `in_bytes` (producer) is raised with a store-release *before*
 * the link that makes the bytes visible and `out_bytes` (consumer) before
 * `head`, so in_bytes - out_bytes never underflows when the consumer
 * computes pending, and never exceeds held_bytes when the network thread
 * computes it.
 */
#include <errno.h>
#include <string.h>

#include "common/seq.h"
#include "zc/zc_internal.h"
#include "zc/zc_stream.h"

int zc_stream_init(struct zc_stream *s, struct zc_pool *pool)
{
	struct zc_node *sentinel;

	memset(s, 0, sizeof(*s));
	sentinel = zc_pool_get(pool);
	if (!sentinel)
		return -ENOMEM;
	s->pool = pool;
	s->head = s->tail = s->reclaim = sentinel;
	return 0;
}

void zc_stream_destroy(struct zc_stream *s)
{
	struct zc_node *n, *next;

	if (!s->pool)
		return;
	/* In-order list from the oldest unreclaimed node to the sentinel. */
	for (n = s->reclaim; n; n = next) {
		next = n->next;
		zc_node_free(s->pool, n);
	}
	while ((n = zc_ooo_pop_head(s)))
		zc_node_free(s->pool, n);
	memset(s, 0, sizeof(*s));
}

/*
 * Producer: the current sentinel `filled` has received its payload; `fresh`
 * (zeroed, next == NULL) becomes the new sentinel. Publishes in the order
 * the consumer relies on: bytes count, then the link, then tail.
 */
static void publish(struct zc_stream *s, struct zc_node *filled,
		    struct zc_node *fresh)
{
	s->held_bytes += filled->len;
	zc_store_release_u64(&s->in_bytes, s->in_bytes + filled->len);
	zc_store_release(&filled->next, fresh);
	zc_store_release(&s->tail, fresh);
	if (s->deliver)
		s->deliver(s->deliver_arg, filled);
}

/* A node for the next sentinel. In-order data must always get in, or the
 * connection could stall with a full out-of-order queue and a hole nobody
 * can fill: if the pool is dry, give up the highest out-of-order node (the
 * one furthest from being useful; RFC 2018 section 8 allows the receiver to
 * discard SACKed data, the sender keeps it until it is cumulatively ACKed). */
static struct zc_node *sentinel_get(struct zc_stream *s)
{
	struct zc_node *n = zc_pool_get(s->pool);

	if (n)
		return n;
	n = zc_ooo_pop_tail(s);
	if (!n)
		return NULL;
	s->renege_bytes += n->len;
	if (n->mbuf)
		rte_pktmbuf_free(n->mbuf);
	memset(n, 0, sizeof(*n));
	return n;
}

/*
 * Moves the (already trimmed) first out-of-order node into the in-order
 * list. The sentinel cannot be replaced - the consumer may be looking at it
 * as its head - so the node's content is copied into the sentinel and the
 * emptied node becomes the next sentinel: O(1), no allocation, and the
 * mbuf reference simply changes holder.
 */
static void append_from_ooo(struct zc_stream *s, struct zc_node *o)
{
	struct zc_node *t = s->tail;

	t->seq = o->seq;
	t->len = o->len;
	t->mbuf = o->mbuf;
	t->data = o->data;
	t->refs = 0;
	t->flags = o->flags & ~ZC_NODE_F_OOO;
	memset(o, 0, sizeof(*o));
	publish(s, t, o);
}

/*
 * After the in-order list grew to *nxt, move every out-of-order node that
 * is now contiguous (thesis figure 3.5: one retransmission releases all the
 * segments queued behind the hole). Old bytes at the front of a node are
 * trimmed; a node wholly before *nxt is a duplicate and is freed.
 */
static uint32_t drain_ooo(struct zc_stream *s, uint32_t *nxt)
{
	uint32_t advanced = 0;
	struct zc_node *o;

	while (s->ooo_head && seq_leq(s->ooo_head->seq, *nxt)) {
		uint32_t cut, len;

		o = zc_ooo_pop_head(s);
		if (seq_leq(o->seq + o->len, *nxt)) {
			s->dup_bytes += o->len;
			zc_node_free(s->pool, o);
			continue;
		}
		cut = *nxt - o->seq;
		s->dup_bytes += cut;
		o->seq += cut;
		o->len -= cut;
		o->data.start += cut;
		len = o->len;
		append_from_ooo(s, o); /* o is the sentinel from here on */
		*nxt += len;
		advanced += len;
	}
	return advanced;
}

/* Defensive trim of bytes before rcv_nxt (TCP should have done it).
 * Returns false when nothing new is left. */
static bool trim_old(struct zc_stream *s, const char **payload, uint32_t *seq,
		     uint32_t *len, uint32_t nxt)
{
	uint32_t cut;

	if (seq_geq(*seq, nxt))
		return true;
	if (seq_leq(*seq + *len, nxt)) {
		s->dup_bytes += *len;
		return false;
	}
	cut = nxt - *seq;
	s->dup_bytes += cut;
	*payload += cut;
	*seq = nxt;
	*len -= cut;
	return true;
}

static int64_t drop_nomem(struct zc_stream *s, uint32_t len)
{
	s->nomem_drops++;
	s->nomem_bytes += len;
	return -ENOMEM;
}

int64_t zc_stream_input(struct zc_stream *s, struct rte_mbuf *m,
			const char *payload, uint32_t seq, uint32_t len,
			uint32_t *rcv_nxt)
{
	uint32_t nxt = *rcv_nxt;
	struct zc_node *t, *fresh;
	int64_t advanced;

	if (len == 0 || !trim_old(s, &payload, &seq, &len, nxt))
		return 0;
	if (seq != nxt) {
		/* A hole before it: keep it for the retransmission (3.1.2). */
		if (zc_ooo_insert(s, m, payload, seq, len) < 0)
			return drop_nomem(s, len);
		return 0;
	}
	/* In order: fill the sentinel, publish a fresh one (figure 3.3). */
	fresh = sentinel_get(s);
	if (!fresh)
		return drop_nomem(s, len);
	t = s->tail;
	zc_mbuf_take_ref(m);
	zc_node_fill(t, m, payload, seq, len);
	publish(s, t, fresh);
	nxt += len;
	advanced = len;
	advanced += drain_ooo(s, &nxt);
	*rcv_nxt = nxt;
	return advanced;
}

/* ---- consumer side ------------------------------------------------------ */

int zc_stream_peek(const struct zc_stream *s,
		   struct stream_fragment_content *frags, int n)
{
	const struct zc_node *node = s->head; /* the consumer's own pointer */
	int count = 0;

	while (count < n) {
		struct zc_node *next = zc_load_acquire(&node->next);

		if (!next) /* the sentinel: nothing more yet */
			break;
		frags[count++] = node->data;
		node = next;
	}
	return count;
}

int zc_stream_consume(struct zc_stream *s, int n)
{
	struct zc_node *node = s->head, *next;
	uint64_t bytes = 0;

	if (n <= 0)
		return n == 0 ? 0 : -EINVAL;
	/* Walk first, publish once: more than pending consumes nothing, so a
	 * wrong count cannot move head onto or past the sentinel. */
	for (int i = 0; i < n; i++) {
		next = zc_load_acquire(&node->next);
		if (!next)
			return -EINVAL;
		bytes += node->len;
		node = next;
	}
	/* out_bytes before head: whoever acquires head sees out_bytes covering
	 * every node before it (zc_stream_check relies on that). */
	zc_store_release_u64(&s->out_bytes, s->out_bytes + bytes);
	zc_store_release(&s->head, node);
	return n;
}

/* Either thread: both counters are loaded atomically. The consumer can only
 * consume bytes it saw published, so out_bytes <= in_bytes whoever reads
 * (out first: a later in can only be larger). */
uint64_t zc_stream_pending_bytes(const struct zc_stream *s)
{
	uint64_t out = zc_load_acquire_u64(&s->out_bytes);

	return zc_load_acquire_u64(&s->in_bytes) - out;
}

/* ---- reclaim (network thread) ------------------------------------------- */

uint64_t zc_stream_reclaim(struct zc_stream *s)
{
	struct zc_node *head = zc_load_acquire(&s->head);
	uint64_t freed = 0;

	while (s->reclaim != head) {
		struct zc_node *n = s->reclaim;

		if (n->refs) /* a record field still points into it (4.2.1) */
			break;
		s->reclaim = n->next;
		freed += n->len;
		zc_node_free(s->pool, n);
	}
	s->held_bytes -= freed;
	return freed;
}
