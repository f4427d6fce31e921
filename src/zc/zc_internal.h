/*
 * zc_internal.h - helpers shared by the zc/ files, not part of the contract.
 */
#ifndef AATCP_ZC_INTERNAL_H
#define AATCP_ZC_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include "zc/zc_stream.h"

/*
 * The shared words of struct zc_stream/zc_node are plain pointers in the
 * contract (other layers read them on the network thread with plain loads).
 * Cross-thread accesses go through these casts to C11 atomics, as rcvbuf.c
 * does: GCC and Clang give _Atomic(T *) and uint64_t the representation of T *
 * and uint64_t on every target DPDK supports (checked below).
 */
_Static_assert(sizeof(_Atomic(struct zc_node *)) == sizeof(struct zc_node *),
	       "atomic pointer must have the plain pointer's layout");
_Static_assert(sizeof(_Atomic(uint64_t)) == sizeof(uint64_t),
	       "atomic uint64_t must have the plain layout");

static inline struct zc_node *zc_load_acquire(struct zc_node *const *p)
{
	return atomic_load_explicit((_Atomic(struct zc_node *) *)(uintptr_t)p,
				    memory_order_acquire);
}

static inline void zc_store_release(struct zc_node **p, struct zc_node *v)
{
	atomic_store_explicit((_Atomic(struct zc_node *) *)p, v,
			      memory_order_release);
}

static inline uint64_t zc_load_acquire_u64(const uint64_t *p)
{
	return atomic_load_explicit((_Atomic(uint64_t) *)(uintptr_t)p,
				    memory_order_acquire);
}

static inline void zc_store_release_u64(uint64_t *p, uint64_t v)
{
	atomic_store_explicit((_Atomic(uint64_t) *)p, v, memory_order_release);
}

/* One reference per segment of the chain: rte_pktmbuf_free() drops one
 * reference on every segment, so holding only the first would let the
 * caller's free recycle the others under us. */
static inline void zc_mbuf_take_ref(struct rte_mbuf *m)
{
	for (; m; m = m->next)
		rte_mbuf_refcnt_update(m, 1);
}

/* Drops the node's one mbuf reference and returns the node to its pool. */
static inline void zc_node_free(struct zc_pool *pool, struct zc_node *n)
{
	if (n->mbuf)
		rte_pktmbuf_free(n->mbuf);
	n->mbuf = NULL;
	zc_pool_put(pool, n);
}

static inline void zc_node_fill(struct zc_node *n, struct rte_mbuf *m,
				const char *payload, uint32_t seq, uint32_t len)
{
	n->seq = seq;
	n->len = len;
	n->mbuf = m;
	/* The views point into the mbuf; the application reads through them
	 * and never writes (mtcp_zc.h hands out char *, as the thesis does). */
	n->data.start = (char *)(uintptr_t)payload;
	n->data.end = (char *)(uintptr_t)payload + len;
}

/* zc_ooo.c: the out-of-order queue (thesis 3.1.2, figure 3.5). */
int zc_ooo_insert(struct zc_stream *s, struct rte_mbuf *m, const char *payload,
		  uint32_t seq, uint32_t len);
struct zc_node *zc_ooo_pop_head(struct zc_stream *s);
struct zc_node *zc_ooo_pop_tail(struct zc_stream *s);

#endif /* AATCP_ZC_INTERNAL_H */
