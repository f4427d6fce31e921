/* steer.c - see steer.h. */
#include "io/steer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_ring.h>
#include <rte_tcp.h>

#include "io/flow_hash.h"
#include "io/port.h"
#include "io/toeplitz.h"

#define STEER_RING 4096
#define REUSE_SLOTS 8192   /* learned source ports a core keeps (power of 2) */
/* A freed port is opened from again after this long: the peer may hold the
 * 4-tuple in TIME-WAIT and takes a new SYN only with a newer timestamp (RFC
 * 7323 5.5, 1 ms ticks) or a sequence number above the old one (the ISN
 * clock, RFC 6528, moves 4 us per octet sent before). */
#define REUSE_AGE_US 10000
#define LEARN_BITS 16

/* A frame travels the ring as its pointer with the number of hops made in
 * the low bits: mbufs are cache-line aligned. */
#define HOPS_MASK ((uintptr_t)63)
_Static_assert(RTE_CACHE_LINE_MIN_SIZE > HOPS_MASK, "mbuf alignment leaves room for hops");
_Static_assert(MAX_CORES <= HOPS_MASK, "hops fit the low bits");

const uint8_t steer_rss_key[TOEPLITZ_KEY_LEN] = TOEPLITZ_KEY_INIT;

/* A freed source port whose replies land on this core: the tuple is the
 * port plus `rest`, the hash of the other fields tuple_slot() uses. */
struct reuse_entry {
	uint32_t rest;
	uint16_t lport;
	uint64_t freed_us;
};

/* Network thread of the core only. */
struct steer_local {
	struct reuse_entry fifo[REUSE_SLOTS]; /* oldest first */
	uint32_t head, tail;
};

/* Active 4-tuples, one entry per (port, local address, remote address and
 * port) and local port: indexed by the local port mixed with the rest of the
 * tuple, so one destination's ports never collide. An entry holds a 24-bit
 * tag of the rest, CLAIMED while a TCB of some core uses the tuple (two
 * cores never open the same 4-tuple), and the RX queue + 1 its replies
 * arrived on (PLACE_LEARNED; 0: not known). Updated with compare-and-swap
 * by every network thread; the queue is a hint only: a stale or overwritten
 * one costs a steered flow. */
#define TAG_MASK 0xffffff00u
#define CLAIMED 0x80u
#define QUEUE_MASK 0x7fu
static _Atomic uint32_t tuples[1u << LEARN_BITS];

static uint32_t tuple_rest(const struct port *p, uint32_t laddr, uint32_t raddr,
			   uint16_t rport)
{
	return flow_hash(laddr ^ (uint32_t)p->index, 0, raddr, rport);
}

static _Atomic uint32_t *tuple_slot(const struct port *p, uint32_t laddr, uint16_t lport,
				    uint32_t raddr, uint16_t rport, uint32_t *tag)
{
	uint32_t rest = tuple_rest(p, laddr, raddr, rport);

	*tag = rest & TAG_MASK;
	return &tuples[(rest ^ lport) & ((1u << LEARN_BITS) - 1)];
}

bool steer_claim(const struct port *p, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport)
{
	uint32_t tag;
	_Atomic uint32_t *e = tuple_slot(p, laddr, lport, raddr, rport, &tag);
	uint32_t old = atomic_load_explicit(e, memory_order_relaxed), nw;

	do {
		if (old & CLAIMED)
			return false; /* in use (or its slot is, by another destination) */
		nw = tag | CLAIMED | ((old & TAG_MASK) == tag ? old & QUEUE_MASK : 0);
	} while (!atomic_compare_exchange_weak(e, &old, nw));
	return true;
}

static void learn(const struct port *p, uint32_t laddr, uint16_t lport, uint32_t raddr,
		  uint16_t rport, int queue)
{
	uint32_t tag;
	_Atomic uint32_t *e = tuple_slot(p, laddr, lport, raddr, rport, &tag);
	uint32_t old = atomic_load_explicit(e, memory_order_relaxed);

	do {
		if ((old & TAG_MASK) != tag)
			return; /* a bound socket's tuple, never claimed: not kept */
	} while (!atomic_compare_exchange_weak(e, &old,
					       (old & ~QUEUE_MASK) | (uint32_t)(queue + 1)));
}

uint32_t steer_toeplitz(uint32_t raddr, uint16_t rport, uint32_t laddr, uint16_t lport,
			bool l4)
{
	return toeplitz_v4(steer_rss_key, raddr, rport, laddr, lport, l4);
}

int steer_predict(const struct port *p, uint32_t laddr, uint16_t lport, uint32_t raddr,
		  uint16_t rport)
{
	if (p->placement == PLACE_RSS) {
		/* the redirection table holds queue i % n at index i (io/port.c) */
		uint32_t h = steer_toeplitz(raddr, rport, laddr, lport, p->rss_l4);
		return (int)(h % p->reta_size % (uint32_t)p->n_queues);
	}
	if (p->placement == PLACE_LEARNED) {
		uint32_t tag;
		uint32_t e = atomic_load_explicit(tuple_slot(p, laddr, lport, raddr, rport, &tag),
						  memory_order_relaxed);
		if ((e & TAG_MASK) == tag && (e & QUEUE_MASK))
			return (int)(e & QUEUE_MASK) - 1;
	}
	return p->placement == PLACE_SINGLE ? 0 : -1;
}

int steer_global_init(struct aatcp_global *g)
{
	char name[32];

	if (g->n_cores < 2)
		return 0;
	for (int i = 0; i < g->n_cores; i++) {
		snprintf(name, sizeof(name), "aatcp_steer_%d", i);
		/* many producers (the other cores), one consumer (core i) */
		g->steer_rings[i] = rte_ring_create(name, STEER_RING, SOCKET_ID_ANY,
						    RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "aatcp_gifts_%d", i);
		g->steer_gifts[i] = rte_ring_create(name, REUSE_SLOTS, SOCKET_ID_ANY,
						    RING_F_SC_DEQ);
		if (!g->steer_rings[i] || !g->steer_gifts[i])
			return -rte_errno;
	}
	return 0;
}

void steer_global_fini(struct aatcp_global *g)
{
	void *e;

	for (int i = 0; i < MAX_CORES; i++) {
		while (g->steer_rings[i] && rte_ring_dequeue(g->steer_rings[i], &e) == 0)
			rte_pktmbuf_free((struct rte_mbuf *)((uintptr_t)e & ~HOPS_MASK));
		rte_ring_free(g->steer_rings[i]);
		rte_ring_free(g->steer_gifts[i]);
		g->steer_rings[i] = g->steer_gifts[i] = NULL;
	}
}

int steer_init(struct core *c)
{
	if (c->g->n_cores < 2)
		return 0;
	c->steer = calloc(1, sizeof(*c->steer));
	return c->steer ? 0 : -ENOMEM;
}

void steer_fini(struct core *c)
{
	free(c->steer);
	c->steer = NULL;
}

static void fifo_push(struct steer_local *s, uint32_t rest, uint16_t lport, uint64_t now)
{
	if (s->tail - s->head == REUSE_SLOTS)
		s->head++; /* full: forget the oldest */
	s->fifo[s->tail++ % REUSE_SLOTS] = (struct reuse_entry){
		.rest = rest, .lport = lport, .freed_us = now};
}

bool steer_key_of(const struct rte_mbuf *m, struct steer_key *k)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ih;
	const struct rte_tcp_hdr *th;
	uint16_t len = rte_pktmbuf_data_len(m), hl;

	if (len < sizeof(*eh) + sizeof(*ih) || eh->ether_type != RTE_BE16(RTE_ETHER_TYPE_IPV4))
		return false;
	ih = (const struct rte_ipv4_hdr *)(eh + 1);
	hl = (uint16_t)((ih->version_ihl & 0xf) * 4);
	if (ih->next_proto_id != IPPROTO_TCP || hl < sizeof(*ih) ||
	    len < sizeof(*eh) + hl + sizeof(*th))
		return false;
	th = (const struct rte_tcp_hdr *)((const char *)ih + hl);
	k->laddr = ih->dst_addr;
	k->raddr = ih->src_addr;
	k->lport = th->dst_port;
	k->rport = th->src_port;
	k->flags = th->tcp_flags;
	return true;
}

void steer_learn_arrival(struct core *c, const struct rte_mbuf *m,
			 const struct steer_key *k, int queue)
{
	const struct port *p;

	if ((k->flags & (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG)) !=
	    (RTE_TCP_SYN_FLAG | RTE_TCP_ACK_FLAG))
		return;
	p = &c->g->ports[port_index(c->g, m->port)];
	if (p->placement != PLACE_LEARNED)
		return;
	learn(p, k->laddr, k->lport, k->raddr, k->rport, queue);
}

void steer_release(struct core *c, const struct port *p, uint32_t laddr, uint16_t lport,
		   uint32_t raddr, uint16_t rport)
{
	struct steer_local *s = c->steer;
	uint32_t tag;
	_Atomic uint32_t *e;
	uint32_t old;

	if (!s || !p)
		return;
	e = tuple_slot(p, laddr, lport, raddr, rport, &tag);
	old = atomic_load_explicit(e, memory_order_relaxed);
	do {
		if ((old & TAG_MASK) != tag || !(old & CLAIMED))
			return; /* not an active open's */
	} while (!atomic_compare_exchange_weak(e, &old, old & ~CLAIMED));
	if (p->placement != PLACE_LEARNED)
		return; /* exact placement: the scan finds this core's ports */
	int q = (int)(old & QUEUE_MASK) - 1;
	uint32_t rest = tuple_rest(p, laddr, raddr, rport);
	if (q == c->id) {
		fifo_push(s, rest, lport, c->now_us);
		return;
	}
	/* learned for another core: a port it can open from (one word: port and
	 * rest; lost when its ring is full) */
	if (q >= 0 && q < c->g->n_cores)
		rte_ring_enqueue(c->g->steer_gifts[q], (void *)((uintptr_t)rest << 16 | lport));
}

uint16_t steer_reuse_port(struct core *c, const struct port *p, uint32_t laddr,
			  uint32_t raddr, uint16_t rport, steer_in_use_fn in_use)
{
	struct steer_local *s = c->steer;
	void *g[64];
	unsigned n;

	if (!s)
		return 0;
	/* ports the other cores freed for us, from now on */
	while ((n = rte_ring_dequeue_burst(c->g->steer_gifts[c->id], g, 64, NULL)) > 0)
		for (unsigned i = 0; i < n; i++)
			fifo_push(s, (uint32_t)((uintptr_t)g[i] >> 16),
				  (uint16_t)((uintptr_t)g[i] & 0xffff), c->now_us);
	uint32_t rest = tuple_rest(p, laddr, raddr, rport);
	while (s->head != s->tail) {
		struct reuse_entry *e = &s->fifo[s->head % REUSE_SLOTS];
		if (c->now_us - e->freed_us < REUSE_AGE_US)
			return 0; /* the oldest is too young: so are the others */
		s->head++;
		if (e->rest != rest)
			continue; /* another destination's: forgotten */
		if (!in_use(c, laddr, e->lport, raddr, rport) &&
		    steer_claim(p, laddr, e->lport, raddr, rport))
			return e->lport;
	}
	return 0;
}

bool steer_pass_on(struct core *c, struct rte_mbuf *m, unsigned hops)
{
	struct aatcp_global *g = c->g;
	int n = g->n_cores;

	for (int d = c->id + 1;; d++, hops++) {
		int dst = d % n;
		if (hops >= (unsigned)n)
			return false; /* around the ring: nobody owns it */
		/* a context not created yet (or destroyed) owns no flow */
		if (!__atomic_load_n(&g->cores[dst], __ATOMIC_ACQUIRE))
			continue;
		void *e = (void *)((uintptr_t)m | (hops + 1));
		if (rte_ring_enqueue(g->steer_rings[dst], e)) {
			count_drop(&c->cnt, DROP_steer_full);
			rte_pktmbuf_free(m);
		} else {
			c->cnt.steered++;
		}
		return true;
	}
}

unsigned steer_dequeue(struct core *c, struct rte_mbuf **pkts, unsigned *hops,
		       unsigned max)
{
	void *e[RX_BURST];
	unsigned n;

	if (c->g->n_cores < 2 || !c->steer)
		return 0;
	n = rte_ring_dequeue_burst(c->g->steer_rings[c->id], e, max < RX_BURST ? max : RX_BURST,
				   NULL);
	for (unsigned i = 0; i < n; i++) {
		pkts[i] = (struct rte_mbuf *)((uintptr_t)e[i] & ~HOPS_MASK);
		hops[i] = (unsigned)((uintptr_t)e[i] & HOPS_MASK);
	}
	return n;
}
