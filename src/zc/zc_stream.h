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
 *
 * Who does what (see zc_stream.c for the memory-ordering argument):
 *   producer (network thread): zc_stream_input, zc_stream_reclaim,
 *     zc_stream_sack_blocks, zc_stream_destroy, zc_stream_check;
 *   consumer (one thread: the application thread, or the network thread when
 *     the application-aware layer consumes on the application's behalf):
 *     zc_stream_peek, zc_stream_consume;
 *   either: zc_stream_pending_bytes.
 *
 * Once a node is linked into the in-order list its seq, len, mbuf and data
 * never change until the network thread reclaims it (the consumer reads them
 * without a lock). `refs` and `flags` are network-thread fields.
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
	uint32_t flags;        /* ZC_NODE_F_* (bits 0-7), bits 8-31 free for aa/fwd */
};

#define ZC_NODE_F_OOO 0x1u /* in the out-of-order queue */

/*
 * refs: a node that the consumer has consumed is reclaimed only once refs is
 * 0 (thesis 4.2.1: a record field keeps the packet it points into alive).
 * zc_stream_reclaim() stops at the first consumed node with refs != 0 and
 * resumes on a later call, so holders should release in stream order to
 * keep memory bounded. Network thread only.
 */
static inline void zc_node_hold(struct zc_node *n) { n->refs++; }
static inline void zc_node_release(struct zc_node *n) { n->refs--; }

/* Fixed-size pool of nodes, owned by one network thread. */
struct zc_pool;
struct zc_pool *zc_pool_create(uint32_t n_nodes);
void zc_pool_destroy(struct zc_pool *p);
/* Every node back in its first order (a core reused for a new run): 0, or
 * -EBUSY when some node is still out. */
int zc_pool_reset(struct zc_pool *p);
uint32_t zc_pool_free_count(const struct zc_pool *p);
uint32_t zc_pool_size(const struct zc_pool *p);
/* O(1). NULL when empty. The node comes back zeroed. */
struct zc_node *zc_pool_get(struct zc_pool *p);
/* O(1). Does not touch n->mbuf. A node that is not from p or already free
 * is refused and counted (zc_pool_errors), never put twice. */
void zc_pool_put(struct zc_pool *p, struct zc_node *n);
/* Refused puts (double free, foreign node); tests require 0. */
uint64_t zc_pool_errors(const struct zc_pool *p);

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
	/* --- additions to the original contract --- */
	struct zc_node *ooo_last; /* node of the latest OOO insert (SACK order) */
	uint64_t in_bytes;        /* net: in-order bytes ever appended (atomic) */
	uint64_t out_bytes;       /* consumer: bytes ever consumed */
	uint64_t nomem_drops;     /* segments dropped: node pool empty */
	uint64_t nomem_bytes;
	uint64_t renege_bytes;    /* OOO bytes given up to let in-order data in */
	/*
	 * Accounting identity (checked by the tests): every byte offered to
	 * zc_stream_input is in exactly one of
	 *   in_bytes + ooo_bytes + dup_bytes + nomem_bytes + renege_bytes.
	 */
};

/* Takes the first sentinel from the pool: 0, or -ENOMEM when the pool is empty. */
int zc_stream_init(struct zc_stream *s, struct zc_pool *pool);

/*
 * Network thread: offers the payload [seq, seq + len) of mbuf m, already
 * trimmed by TCP to the receive window and with seq >= *rcv_nxt (the caller
 * trims old bytes). seq == *rcv_nxt appends to the in-order list and then
 * drains the out-of-order queue; otherwise the segment is inserted into the
 * out-of-order queue (searching from its tail), trimmed against its
 * neighbours. Takes one reference on m when it keeps a node (the caller keeps
 * its own). Advances *rcv_nxt. Returns the number of bytes that became
 * in-order, or -ENOMEM when no node could be allocated (the segment is dropped
 * and counted; TCP will get it again).
 *
 * Details beyond the original contract:
 *  - defensive: bytes before *rcv_nxt are trimmed here too (counted in
 *    dup_bytes), len == 0 returns 0; the window is NOT checked here.
 *  - [payload, payload + len) must lie in one segment of m; a reference is
 *    taken on every segment of a chained m (rte_pktmbuf_free drops one per
 *    segment).
 *  - an out-of-order segment that covers existing OOO nodes entirely
 *    replaces them (one node per segment, never split); one that overlaps a
 *    neighbour partially is trimmed to the gap.
 *  - in-order data never waits for a node: when the pool is empty, the
 *    highest OOO node is given up (RFC 2018 reneging, counted in
 *    renege_bytes) and reused; -ENOMEM only when the OOO queue is empty too.
 *  - deliver is called after the node is linked (the hook may take refs
 *    and may consume; it must not call zc_stream_input).
 */
int64_t zc_stream_input(struct zc_stream *s, struct rte_mbuf *m,
			const char *payload, uint32_t seq, uint32_t len,
			uint32_t *rcv_nxt);

/* Application thread: copies up to n views from the head into frags, does
 * not consume them. Returns the count (0 if empty). */
int zc_stream_peek(const struct zc_stream *s,
		   struct stream_fragment_content *frags, int n);
/* Application thread: consumes n nodes at the head (n <= what is pending).
 * Returns n. Misuse (n < 0, or more nodes than are pending) consumes
 * nothing and returns -EINVAL; n == 0 returns 0. */
int zc_stream_consume(struct zc_stream *s, int n);
/* Bytes in nodes between head and tail (either thread). */
uint64_t zc_stream_pending_bytes(const struct zc_stream *s);

/* Network thread: gives consumed nodes (reclaim .. head) back to the pool and
 * drops their mbuf reference. Returns bytes released. Stops at a consumed
 * node whose refs is not 0 (see zc_node_hold). Call it before computing the
 * advertised window (rcvbuf - held_bytes). */
uint64_t zc_stream_reclaim(struct zc_stream *s);

/* Network thread: SACK blocks (RFC 2018) describing the out-of-order queue,
 * most recent first is not required; returns the number written (<= max). */
int zc_stream_sack_blocks(const struct zc_stream *s, uint32_t *left,
			  uint32_t *right, int max);

/* Network thread, connection teardown: everything back to the pools,
 * including nodes with refs != 0 (their holders must be gone already).
 * Leaves *s zeroed. */
void zc_stream_destroy(struct zc_stream *s);

/* Tests: returns NULL if every invariant holds, else a description. */
const char *zc_stream_check(const struct zc_stream *s, uint32_t rcv_nxt);

#endif /* AATCP_ZC_STREAM_H */
