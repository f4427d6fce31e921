/*
 * zc_stream.h - the zero-copy receive stream and its out-of-order queue
 * (thesis ch. 3, figures 3.2, 3.3 and 3.5).
 *
 * A zc_stream belongs to one socket. Two threads touch it:
 *   - the network thread appends in-order nodes at the tail, keeps the
 *     out-of-order queue, and returns freed nodes to the pool (reclaim);
 *   - the application thread reads nodes from the head and frees them by
 *     moving the head forward.
 * No lock: the tail is always a fresh, empty sentinel node (thesis 3.2.1), so
 * the list is empty iff head == tail and the application never writes the
 * tail. The application only publishes `head` (store-release); the network
 * thread only publishes `tail` and the links of nodes before it
 * (store-release). Nodes and mbufs are returned to their pools by the network
 * thread alone (zc_stream_reclaim), which keeps pool caches per-thread.
 *
 * Invariants (checked by zc_stream_check() in tests):
 *   - in-order list: node.seq + node.len == node.next.seq, ending at rcv_nxt;
 *   - out-of-order queue: sorted, node.seq + node.len <= node.next.seq
 *     (thesis 3.1.2), every node strictly after rcv_nxt;
 *   - every node holds exactly one mbuf reference, dropped exactly once.
 */
#ifndef AATCP_ZC_STREAM_H
#define AATCP_ZC_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "mtcp_zc.h"

struct rte_mbuf;

struct zc_node {
	struct zc_node *next;  /* toward the tail (in-order list and OOO queue) */
	struct zc_node *prev;  /* toward the head, out-of-order queue only */
	uint32_t seq;          /* sequence number of data.start */
	uint32_t len;          /* data.end - data.start */
	struct rte_mbuf *mbuf; /* one reference, owned by this node */
	struct stream_fragment_content data;
	uint32_t refs;         /* extra holders (aa fields, parser); net thread only */
	uint32_t flags;
};

/* Fixed-size pool of nodes, owned by one network thread. */
struct zc_pool;
struct zc_pool *zc_pool_create(uint32_t n_nodes);
void zc_pool_destroy(struct zc_pool *p);
uint32_t zc_pool_free_count(const struct zc_pool *p);
uint32_t zc_pool_size(const struct zc_pool *p);

/* Called by the network thread for every node that becomes in-order, in
 * stream order, whether it arrived in order or left the out-of-order queue
 * (the hook of the application-aware layer and of the splice). */
typedef void (*zc_deliver_fn)(void *arg, struct zc_node *n);

struct zc_stream {
	/* written by the application thread, read by the network thread */
	struct zc_node *head;
	/* network thread */
	struct zc_node *tail;     /* fresh sentinel, never holds data */
	struct zc_node *reclaim;  /* oldest node not yet given back to the pool */
	struct zc_node *ooo_head; /* out-of-order queue, lowest seq first */
	struct zc_node *ooo_tail;
	uint32_t ooo_nodes;
	uint32_t ooo_bytes;
	uint64_t held_bytes;      /* in-order bytes from reclaim to tail */
	struct zc_pool *pool;
	zc_deliver_fn deliver;    /* may be NULL */
	void *deliver_arg;
	/* counters (network thread) */
	uint64_t dup_bytes;       /* bytes trimmed as duplicates */
	uint64_t ooo_inserts;
};

int zc_stream_init(struct zc_stream *s, struct zc_pool *pool);

/*
 * Network thread: offers the payload [seq, seq + len) of mbuf m, already
 * trimmed by TCP to the receive window and with seq >= *rcv_nxt (the caller
 * trims old bytes). seq == *rcv_nxt appends to the in-order list and then
 * drains the out-of-order queue; otherwise the segment is inserted into the
 * out-of-order queue (searching from its tail), trimmed against its
 * neighbours. Takes one reference on m when it keeps a node (the caller keeps
 * its own). Advances *rcv_nxt. Returns the number of bytes that became
 * in-order, or -1 when no node could be allocated (the segment is dropped
 * and counted; TCP will get it again).
 */
int64_t zc_stream_input(struct zc_stream *s, struct rte_mbuf *m,
			const char *payload, uint32_t seq, uint32_t len,
			uint32_t *rcv_nxt);

/* Application thread: copies up to n views from the head into frags, does
 * not consume them. Returns the count (0 if empty). */
int zc_stream_peek(const struct zc_stream *s,
		   struct stream_fragment_content *frags, int n);
/* Application thread: consumes n nodes at the head (n <= what is pending). */
void zc_stream_consume(struct zc_stream *s, int n);
/* Bytes in nodes between head and tail (application thread). */
uint64_t zc_stream_pending_bytes(const struct zc_stream *s);

/* Network thread: gives consumed nodes (reclaim .. head) back to the pool and
 * drops their mbuf reference. Returns bytes released. */
uint64_t zc_stream_reclaim(struct zc_stream *s);

/* Network thread: SACK blocks (RFC 2018) describing the out-of-order queue,
 * most recent first is not required; returns the number written (<= max). */
int zc_stream_sack_blocks(const struct zc_stream *s, uint32_t *left,
			  uint32_t *right, int max);

/* Network thread, connection teardown: everything back to the pools. */
void zc_stream_destroy(struct zc_stream *s);

/* Tests: returns NULL if every invariant holds, else a description. */
const char *zc_stream_check(const struct zc_stream *s, uint32_t rcv_nxt);

#endif /* AATCP_ZC_STREAM_H */
