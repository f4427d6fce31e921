/*
 * outlist.h - the outbound zero-copy list of a socket (thesis 5.1.1, figure
 * 5.1): packets that arrived on another connection, waiting to be sent or
 * acknowledged on this one. A node keeps one reference on its mbuf; its
 * headers are rewritten for this connection only when it is sent, and the
 * reference keeps it for retransmission until an ACK covers it.
 *
 * The list is [head .. tail]: head is the oldest unacknowledged node; the
 * node to send next is found by sequence number (TCP's snd_nxt), through a
 * cursor that makes in-order sending O(1) (the thesis' list->snd_nxt).
 * Network thread only.
 */
#ifndef AATCP_OUTLIST_H
#define AATCP_OUTLIST_H

#include <stdbool.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;
struct counters;

struct out_node {
	struct out_node *next;
	uint32_t seq;          /* sequence number on the outgoing connection */
	uint32_t len;
	char *payload;         /* inside mbuf's data area */
	struct rte_mbuf *mbuf; /* one reference, owned by the node */
	bool sent;             /* headers were rewritten in place once */
};

struct out_pool;
struct out_pool *out_pool_create(uint32_t n);
void out_pool_destroy(struct out_pool *p);
/* Every node back in its first order (a core reused for a new run): 0, or
 * -EBUSY when some node is still out. */
int out_pool_reset(struct out_pool *p);
uint32_t out_pool_free_count(const struct out_pool *p);
uint32_t out_pool_size(const struct out_pool *p);

struct outlist {
	struct out_node *head, *tail;
	struct out_node *cursor;  /* last node handed out (send position) */
	uint32_t start_seq;       /* first sequence number the list carries */
	uint32_t end_seq;         /* one past the tail's last byte */
	uint64_t bytes;           /* b: unacknowledged + unsent bytes (thesis 5.1.2) */
	struct out_pool *pool;
	uint64_t appended, copies; /* counters: segments, fallback copies */
};

struct outlist *outlist_create(struct out_pool *pool, uint32_t start_seq);
/* Gives back every node and its mbuf reference. */
void outlist_destroy(struct outlist *o);
/* Appends payload [p, p + len) of m (takes its own reference on m).
 * Returns 0, or -ENOMEM when the node pool is empty. */
int outlist_append(struct outlist *o, struct rte_mbuf *m, char *p, uint32_t len);
/*
 * A frame with the payload [seq, seq + *len), *len <= max, headroom in
 * front for fresh headers. The first transmission of a whole node reuses
 * its mbuf (one more reference, handed to the driver): zero copy. A
 * retransmission, a node that starts before seq (partial ACK) or is longer
 * than max is copied into a new mbuf from `pool`: rewriting those headers in
 * place could overwrite bytes a reader still holds, or a frame still queued
 * for transmission. NULL when nothing is there or no mbuf is left.
 */
struct rte_mbuf *outlist_segment(struct outlist *o, uint32_t seq, uint32_t max,
				 uint32_t *len, struct rte_mempool *pool);
/* The connection got its initial sequence number after segments were
 * queued (splice before connect): renumber them from start_seq. */
void outlist_rebase(struct outlist *o, uint32_t start_seq);
/* Releases nodes that ack covers completely. Returns bytes released. */
uint32_t outlist_ack(struct outlist *o, uint32_t ack);

#endif /* AATCP_OUTLIST_H */
